package kubectlplugin

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"
)

// defaultWidth is the line width when stdout is no terminal and COLUMNS is unset.
const defaultWidth = 100

// terminalWidth is the width tables fit: $COLUMNS when set, else the width of the terminal
// stdout is, else defaultWidth (as `soc2-operator scan` does).
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

// outputFormat validates -o.
func outputFormat(o string, allowed ...string) error {
	for _, a := range allowed {
		if o == a {
			return nil
		}
	}
	return usagef("-o %s: want one of %s", o, strings.Join(allowed, ", "))
}

// printObject prints v as indented JSON or as YAML.
func printObject(w io.Writer, format string, v any) error {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// list is a kubectl-style v1 List of API objects.
func list(items any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items}
}

// table is rows of cells printed in aligned columns two spaces apart, every line at most width
// characters: the flexible column (free text, usually the last) shrinks first, then the widest
// cells are cut with "…". With width 0 nothing is cut (-o wide).
type table struct {
	header []string
	rows   [][]string
	notes  []string // per row: text printed under it, indented and wrapped, never cut
	flex   int
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells); t.notes = append(t.notes, "") }

// addNoted adds a row with text printed under it.
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
	if width > 0 {
		if over := total() - width; over > 0 {
			widths[t.flex] = max(widths[t.flex]-over, min(widths[t.flex], 12))
		}
		for total() > width {
			widest := 0
			for i := range widths {
				if widths[i] > widths[widest] {
					widest = i
				}
			}
			if widths[widest] <= 6 {
				break
			}
			widths[widest]--
		}
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
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
		if ri == 0 || ri > len(t.notes) || t.notes[ri-1] == "" {
			continue
		}
		noteWidth := width - 4
		if width <= 0 {
			noteWidth = 1 << 30
		}
		for _, l := range wrap(t.notes[ri-1], max(noteWidth, 20)) {
			if _, err := fmt.Fprintln(w, "    "+l); err != nil {
				return err
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
	return string([]rune(s)[:n-1]) + "…"
}

// age is kubectl's short human duration ("5m", "3d4h"), or "<unknown>".
func age(now time.Time, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(*t))
}

// wrap breaks s into lines of at most n characters at spaces.
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
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
