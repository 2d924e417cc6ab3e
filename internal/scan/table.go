package scan

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// summaryThreshold is the number of findings above which the table shows a summary per
// criterion and check instead of every finding (--details or -o wide shows them all).
const summaryThreshold = 25

// defaultWidth is the line width when stdout is no terminal and COLUMNS is unset.
const defaultWidth = 100

// worstShown is how many resources the summary names per check.
const worstShown = 3

// terminalWidth is the width the table fits: $COLUMNS when set, else the width of the
// terminal stdout is, else defaultWidth.
func terminalWidth(stdout io.Writer) int {
	if c, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && c > 0 {
		return max(c, 40)
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return max(w, 40)
		}
	}
	return defaultWidth
}

// table is rows of cells, printed in aligned columns two spaces apart, every line at most
// width characters: the flexible column shrinks first, then any cell is cut with "…".
type table struct {
	header []string
	rows   [][]string
	notes  []string // per row: free text printed under it, wrapped and indented ("" for none)
	flex   int      // the column that gives up width first (usually the last, free text)
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells); t.notes = append(t.notes, "") }

// addNoted adds a row with text printed under it, wrapped to the width: nothing is cut.
func (t *table) addNoted(note string, cells ...string) {
	t.rows = append(t.rows, cells)
	t.notes = append(t.notes, note)
}

func (t *table) write(w io.Writer, width int) error {
	n := len(t.header)
	widths := make([]int, n)
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := func() int {
		s := 2 * (n - 1)
		for _, x := range widths {
			s += x
		}
		return s
	}
	if over := total() - width; over > 0 {
		widths[t.flex] = max(widths[t.flex]-over, min(widths[t.flex], 12))
	}
	// Still too wide for a narrow terminal: take from the widest column, down to 4.
	for total() > width {
		widest := 0
		for i := range widths {
			if widths[i] > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= 4 {
			break
		}
		widths[widest]--
	}
	var b strings.Builder
	for ri, r := range append([][]string{t.header}, t.rows...) {
		b.Reset()
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			c = cut(c, widths[i])
			b.WriteString(c)
			if i < n-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
			}
		}
		line := cut(strings.TrimRight(b.String(), " "), width)
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
		if ri > 0 {
			for _, para := range strings.Split(t.notes[ri-1], "\n") {
				for _, l := range wrap(para, width-4) {
					if _, err := fmt.Fprintln(w, "    "+l); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// cut shortens s to n characters, the last one "…" when anything was cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return strings.Repeat("…", max(n, 0))
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// wrap breaks s into lines of at most n characters at spaces (a longer word is cut).
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= n:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
		for utf8.RuneCountInString(line) > n {
			r := []rune(line)
			lines = append(lines, string(r[:n]))
			line = string(r[n:])
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// writeTable prints, for people: the findings (every one with --details, up to
// summaryThreshold, or else a summary per check), the criteria, the exceptions and the totals.
func writeTable(w io.Writer, rep *Report) error {
	width := rep.width
	if width <= 0 {
		width = defaultWidth
	}
	details := rep.details || len(rep.Findings) <= summaryThreshold
	var err error
	switch {
	case len(rep.Findings) == 0:
		_, err = fmt.Fprintln(w, "No failing or excepted findings.")
	case details:
		err = writeFindings(w, rep, width)
	default:
		err = writeCheckSummary(w, rep, width)
	}
	if err != nil {
		return err
	}

	fmt.Fprintln(w)
	if err := writeWrapped(w, width, "By criterion: CHECKS counts the enabled checks that assessed a resource; FAILING and EXCEPTED count findings."); err != nil {
		return err
	}
	ct := table{header: []string{"CRITERION", "STATUS", "CHECKS", "FAILING", "EXCEPTED", "TITLE"}, flex: 5}
	for _, c := range rep.Criteria {
		ct.add(string(c.ID), string(c.Status), strconv.Itoa(int(c.Checks)), strconv.Itoa(int(c.Failed)), strconv.Itoa(int(c.Excepted)), c.Title)
	}
	if err := ct.write(w, width); err != nil {
		return err
	}
	if len(rep.Exceptions) > 0 {
		fmt.Fprintln(w)
		et := table{header: []string{"EXCEPTION", "STATE", "FINDINGS"}, flex: 0}
		for _, e := range rep.Exceptions {
			state := string(e.State)
			if e.State == v1alpha1.ExceptionActive && e.Findings == 0 {
				state += " (unused)"
			}
			et.addNoted(e.Message, e.Name, state, strconv.Itoa(e.Findings))
		}
		if err := et.write(w, width); err != nil {
			return err
		}
	}
	s := rep.Summary
	fmt.Fprintln(w)
	score := "no score"
	if s.Score != nil {
		score = fmt.Sprintf("score %d", *s.Score)
	}
	var lines []string
	lines = append(lines, fmt.Sprintf("%s (%s): %d objects read, %d resources evaluated, %d of %d criteria failed.",
		s.Result, score, s.Objects, s.Resources, s.FailedCriteria, s.Criteria))
	lines = append(lines, fmt.Sprintf("Findings: %d failing (%d Critical, %d High, %d Medium, %d Low), %d excepted; %d passed, %d not assessed.",
		s.Failing, s.Critical, s.High, s.Medium, s.Low, s.Excepted, s.Passed, s.NotAssessed))
	if !details {
		lines = append(lines, fmt.Sprintf("This is a summary of %d findings: --details (or -o wide) lists every one; -o json, sarif or junit for machines.", len(rep.Findings)))
	}
	if len(rep.Problems) > 0 {
		lines = append(lines, fmt.Sprintf("Profile problems: %d (see above).", len(rep.Problems)))
	}
	if s.Errors > 0 {
		lines = append(lines, fmt.Sprintf("Inputs that could not be read: %d (listed on standard error).", s.Errors))
	}
	for _, l := range lines {
		if err := writeWrapped(w, width, l); err != nil {
			return err
		}
	}
	return nil
}

// writeWrapped prints text wrapped to the width.
func writeWrapped(w io.Writer, width int, text string) error {
	for _, l := range wrap(text, width) {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// writeFindings lists every finding: a row with its severity, check and resource, then under
// it, wrapped to the width, its container and location and its message. A resource name too
// long for the row is written whole under it: details lose nothing.
func writeFindings(w io.Writer, rep *Report, width int) error {
	ft := table{header: []string{"SEVERITY", "CHECK", "RESOURCE"}, flex: 2}
	fixed := 0
	for _, f := range rep.Findings {
		sev := string(f.Severity)
		if f.Result == v1alpha1.ResultExcepted {
			sev += " (excepted)"
		}
		fixed = max(fixed, utf8.RuneCountInString(sev)+2+utf8.RuneCountInString(f.Check)+2)
	}
	for _, f := range rep.Findings {
		sev, msg := string(f.Severity), f.Message
		if f.Result == v1alpha1.ResultExcepted {
			sev += " (excepted)"
			msg += " [excepted by " + f.Exception + "]"
		}
		var where []string
		res := resourceName(f.Resource)
		if fixed+utf8.RuneCountInString(res) > width {
			where = append(where, res)
		}
		if f.Container != "" {
			where = append(where, "container "+f.Container)
		}
		if f.Source != nil {
			where = append(where, "at "+location(f.Source))
		}
		note := oneLine(msg)
		if len(where) > 0 {
			note = strings.Join(where, ", ") + "\n" + note
		}
		ft.addNoted(note, sev, f.Check, res)
	}
	return ft.write(w, width)
}

// checkSummary is what the summary says about one check.
type checkSummary struct {
	severity, check, title string
	failing, excepted      int
	resources              map[string]int // failing findings per resource
	order                  []string       // resources in the order first found
	exceptions             []string       // the exceptions that cover its excepted findings
}

// writeCheckSummary prints, per check with findings, most severe first: how many findings
// fail and are excepted, on how many resources, and the resources with the most findings.
func writeCheckSummary(w io.Writer, rep *Report, width int) error {
	var sums []*checkSummary
	byCheck := map[string]*checkSummary{}
	for _, f := range rep.Findings {
		s := byCheck[f.Check]
		if s == nil {
			s = &checkSummary{severity: string(f.Severity), check: f.Check, title: f.Title, resources: map[string]int{}}
			byCheck[f.Check] = s
			sums = append(sums, s)
		}
		if f.Result == v1alpha1.ResultExcepted {
			s.excepted++
			if !slices.Contains(s.exceptions, f.Exception) {
				s.exceptions = append(s.exceptions, f.Exception)
			}
			continue
		}
		s.failing++
		r := resourceName(f.Resource)
		if _, ok := s.resources[r]; !ok {
			s.order = append(s.order, r)
		}
		s.resources[r]++
	}
	if err := writeWrapped(w, width, "Findings by check: FAILING and EXCEPTED count findings (one per resource, or per container); "+
		"RESOURCES counts the resources that fail; under each check, the resources that fail (the worst, with the most failing findings, when there are more than 3)."); err != nil {
		return err
	}
	t := table{header: []string{"SEVERITY", "CHECK", "FAILING", "EXCEPTED", "RESOURCES"}, flex: 1}
	for _, s := range sums {
		worst := append([]string(nil), s.order...)
		sort.SliceStable(worst, func(i, j int) bool { return s.resources[worst[i]] > s.resources[worst[j]] })
		var named []string
		for i, r := range worst {
			if i == worstShown {
				named = append(named, fmt.Sprintf("+%d more", len(worst)-worstShown))
				break
			}
			if s.resources[r] > 1 {
				r += fmt.Sprintf(" (%d)", s.resources[r])
			}
			named = append(named, r)
		}
		label := "on: "
		if len(worst) > worstShown {
			label = "worst: "
		}
		worstText := label + strings.Join(named, ", ")
		if s.failing == 0 {
			worstText = "all excepted, by " + strings.Join(s.exceptions, ", ")
		}
		t.addNoted(worstText, s.severity, s.check, strconv.Itoa(s.failing), strconv.Itoa(s.excepted), strconv.Itoa(len(s.resources)))
	}
	return t.write(w, width)
}
