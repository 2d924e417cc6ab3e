package scan

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

// summaryThreshold is the number of findings above which the table shows a summary per
// criterion and check instead of every finding (--details or -o wide shows them all).
const summaryThreshold = 25

// worstShown is how many resources the summary names per check.
const worstShown = 3

// writeTable prints, for people: the findings (every one with --details, up to
// summaryThreshold, or else a summary per check), the criteria, the exceptions and the totals.
func writeTable(w io.Writer, rep *Report) error {
	width := rep.width
	if width <= 0 {
		width = termtable.DefaultWidth
	}
	details := rep.details || len(rep.found) <= summaryThreshold
	var err error
	switch {
	case len(rep.found) == 0 && rep.Summary.UndecidedByObject > 0:
		_, err = fmt.Fprintln(w, "No failing or excepted findings to list; the objects left some results undecided (below).")
	case len(rep.found) == 0:
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
	if err := writeWrapped(w, width, "By criterion: CHECKS counts the enabled checks that assessed a resource, UNASSESSED those that had resources but could assess none (a Pass rests on the others); FAILING and EXCEPTED count findings, UNDECIDED the results of the other checks left NotAssessed (a Pass rests on the resources decided)."); err != nil {
		return err
	}
	ct := termtable.Table{Header: []string{"CRITERION", "STATUS", "CHECKS", "UNASSESSED", "FAILING", "EXCEPTED", "UNDECIDED", "TITLE"}, Flex: 7}
	for _, c := range rep.Criteria {
		ct.Add(string(c.ID), string(c.Status), strconv.Itoa(int(c.Checks)), strconv.Itoa(int(c.UnassessedChecks)), strconv.Itoa(int(c.Failed)), strconv.Itoa(int(c.Excepted)), strconv.Itoa(int(c.NotAssessed)), c.Title)
	}
	if err := ct.Write(w, width); err != nil {
		return err
	}
	if len(rep.Exceptions) > 0 {
		fmt.Fprintln(w)
		et := termtable.Table{Header: []string{"EXCEPTION", "STATE", "FINDINGS"}, Flex: 0}
		for _, e := range rep.Exceptions {
			state := string(e.State)
			if e.State == v1alpha1.ExceptionActive && e.Findings == 0 && e.Undecided == 0 {
				state += " (unused)"
			}
			if e.Undecided > 0 {
				// What lets the gate pass an object that broke a check: not unused.
				state += fmt.Sprintf(" (waives %s its objects left undecided)", counted(e.Undecided, "result"))
			}
			et.AddNoted([]string{e.Message}, e.Name, state, strconv.Itoa(e.Findings))
		}
		if err := et.Write(w, width); err != nil {
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
	lines = append(lines, fmt.Sprintf("%s (%s): %s read, %s evaluated, %d of %d criteria failed.",
		s.Result, score, counted(s.Objects, "object"), counted(s.Resources, "resource"), s.FailedCriteria, s.Criteria))
	lines = append(lines, fmt.Sprintf("Findings: %d failing (%d Critical, %d High, %d Medium, %d Low), %d excepted; %d passed, %d not assessed.",
		s.Failing, s.Critical, s.High, s.Medium, s.Low, s.Excepted, s.Passed, s.NotAssessed))
	if n := s.UndecidedByObject; n > 0 {
		lines = append(lines, fmt.Sprintf("Undecided by their objects: %s (a custom check the object stopped or broke, or a check that crashed on it): "+
			"not assessed, but counted as failing, above and for --fail-on at or above the check's severity (named on standard error).", counted(n, "result")))
	}
	if !details {
		lines = append(lines, fmt.Sprintf("This is a summary of %s: --details (or -o wide) lists every one; -o json, sarif or junit for machines.", counted(len(rep.found), "finding")))
	}
	if len(rep.Problems) > 0 {
		lines = append(lines, fmt.Sprintf("Configuration problems: %d (the profile's or the exceptions', named on standard error).", len(rep.Problems)))
	}
	if s.Errors > 0 {
		lines = append(lines, fmt.Sprintf("Inputs that could not be read: %d (listed on standard error).", s.Errors))
	}
	if s.NotObjects > 0 {
		lines = append(lines, fmt.Sprintf("Not judged: %s that %s no Kubernetes objects (named on standard error).",
			counted(s.NotObjects, "document"), oneOrMany(s.NotObjects, "is", "are")))
	}
	if s.Skipped > 0 {
		lines = append(lines, fmt.Sprintf("Not judged: %s that %s containers, of kinds --skip-kinds names (counted on standard error).",
			counted(s.Skipped, "custom resource"), oneOrMany(s.Skipped, "runs", "run")))
	}
	for _, l := range lines {
		if err := writeWrapped(w, width, l); err != nil {
			return err
		}
	}
	return nil
}

// counted is n and noun, in the plural unless n is 1: "1 object read", not "1 objects read".
func counted(n int, noun string) string {
	return strconv.Itoa(n) + " " + oneOrMany(n, noun, noun+"s")
}

// oneOrMany is one when n is 1, else many: the word that agrees with a count ("is", "are").
func oneOrMany(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeWrapped prints text wrapped to the width.
func writeWrapped(w io.Writer, width int, text string) error {
	for _, l := range termtable.Wrap(text, width) {
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
	ft := termtable.Table{Header: []string{"SEVERITY", "CHECK", "RESOURCE"}, Flex: 2}
	fixed := 0
	for _, fd := range rep.found {
		f := fd.finding()
		sev := string(f.Severity)
		if f.Result == v1alpha1.ResultExcepted {
			sev += " (excepted)"
		}
		fixed = max(fixed, utf8.RuneCountInString(sev)+2+utf8.RuneCountInString(f.Check)+2)
	}
	for _, fd := range rep.found {
		f := fd.finding()
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
		notes := []string{oneLine(msg)}
		if len(where) > 0 {
			notes = []string{strings.Join(where, ", "), oneLine(msg)}
		}
		ft.AddNoted(notes, sev, f.Check, res)
	}
	return ft.Write(w, width)
}

// checkSummary is what the summary says about one check.
type checkSummary struct {
	severity, check, title string
	failing, excepted      int
	resources              []resourceCount // the failing resources, in the order first found
	exceptions             []string        // the exceptions that cover its excepted findings
}

type resourceCount struct {
	name    string
	failing int // failing findings
}

// worst returns the n resources with the most failing findings, the first found first among
// equals: what a stable sort by count would put first, in one pass.
func (s *checkSummary) worst(n int) []resourceCount {
	top := make([]resourceCount, 0, n+1)
	for _, rc := range s.resources {
		i := len(top)
		for i > 0 && rc.failing > top[i-1].failing {
			i--
		}
		if i < n {
			top = slices.Insert(top, i, rc)[:min(len(top)+1, n)]
		}
	}
	return top
}

// writeCheckSummary prints, per check with findings, most severe first: how many findings
// fail and are excepted, on how many resources, and the resources with the most findings.
func writeCheckSummary(w io.Writer, rep *Report, width int) error {
	var sums []*checkSummary
	byCheck := map[string]*checkSummary{}
	names := map[*sharedRefs]string{} // each object's resource name, made once
	// The findings are sorted by check and then by object (engine.SortFindings: kind,
	// namespace, name), so a check's failing findings come in one run and, within it, those
	// of one resource name next to each other: a name not the last one's is a resource not yet
	// counted. A map of the names counted per check took 0.7 MB at 2,998 objects, 4 MB at 19,991.
	// TestCheckSummaryCountsAsTheFindings holds the counts to the findings.
	var (
		s          *checkSummary
		lastCheck  *engine.PlannedCheck
		lastShared *sharedRefs // nil: none yet, or a finding without an object
	)
	for _, fd := range rep.found {
		r := fd.r
		if r.Check != lastCheck {
			lastCheck, lastShared = r.Check, nil
			if s = byCheck[r.Check.ID]; s == nil {
				s = &checkSummary{severity: string(r.Check.Severity), check: r.Check.ID, title: r.Check.Title}
				byCheck[r.Check.ID] = s
				sums = append(sums, s)
			}
		}
		if r.Status == engine.StatusExcepted {
			s.excepted++
			if exception := fd.exception(); !slices.Contains(s.exceptions, exception) {
				s.exceptions = append(s.exceptions, exception)
			}
			continue
		}
		s.failing++
		if fd.shared == nil || fd.shared != lastShared {
			name, ok := names[fd.shared]
			if !ok {
				name = resourceName(fd.resource())
				names[fd.shared] = name
			}
			if n := len(s.resources); n == 0 || s.resources[n-1].name != name {
				s.resources = append(s.resources, resourceCount{name: name})
			}
			lastShared = fd.shared
		}
		s.resources[len(s.resources)-1].failing++ // the resource being counted is the last one
	}
	if err := writeWrapped(w, width, "Findings by check: FAILING and EXCEPTED count findings (one per resource, or per container); "+
		"RESOURCES counts the resources that fail; under each check, the resources that fail (the worst, with the most failing findings, when there are more than 3)."); err != nil {
		return err
	}
	t := termtable.Table{Header: []string{"SEVERITY", "CHECK", "FAILING", "EXCEPTED", "RESOURCES"}, Flex: 1}
	for _, s := range sums {
		var named []string
		for _, rc := range s.worst(worstShown) {
			r := rc.name
			if rc.failing > 1 {
				r += fmt.Sprintf(" (%d)", rc.failing)
			}
			named = append(named, r)
		}
		label := "on: "
		if len(s.resources) > worstShown {
			named = append(named, fmt.Sprintf("+%d more", len(s.resources)-worstShown))
			label = "worst: "
		}
		worstText := label + strings.Join(named, ", ")
		if s.failing == 0 {
			worstText = "all excepted, by " + strings.Join(s.exceptions, ", ")
		}
		t.AddNoted([]string{worstText}, s.severity, s.check, strconv.Itoa(s.failing), strconv.Itoa(s.excepted), strconv.Itoa(len(s.resources)))
	}
	return t.Write(w, width)
}
