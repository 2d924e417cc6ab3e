// Package charts draws the evidence charts as inline SVG: each criterion's state over a period
// per namespace, deviations opened and closed per week, time to remediate, and a period axis.
// The evidence pack (internal/evidence) and the dashboard's trends (internal/ui) both draw
// with it, so the two show the same pictures. Output is plain text (no script, no external
// resource), deterministic for the same input.
package charts

import (
	"fmt"
	"html"
	"sort"
	"strings"
	"time"
)

// CSS styles the charts and their legend.
const CSS = `svg{display:block;margin:.4rem 0}svg text{font-size:10px;fill:#1b1f24}
.legend span{display:inline-block;margin-right:1rem;font-size:.8rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}`

// StateColor is the fill of each criterion state.
var StateColor = map[string]string{
	"Pass": "#2da44e", "Fail": "#cf222e", "Excepted": "#d4a72c", "NotAssessed": "#8c959f", "Unknown": "#eaeef2",
}

// States are the criterion states in legend order.
var States = []string{"Pass", "Fail", "Excepted", "NotAssessed", "Unknown"}

const (
	// Width of the period charts.
	Width      = 1000
	labelWidth = 220
)

func esc(s string) string { return html.EscapeString(s) }

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// DayStart is the UTC midnight starting t's day.
func DayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Period is the time span a chart covers, From inclusive, To exclusive.
type Period struct{ From, To time.Time }

// X maps a time to the chart's x coordinate.
func (p Period) X(t time.Time) float64 {
	span := p.To.Sub(p.From).Seconds()
	f := t.Sub(p.From).Seconds() / span
	f = max(0, min(1, f))
	return labelWidth + f*float64(Width-labelWidth-10)
}

// Axis writes the period's tick labels at height y: weekly for periods under 60 days, else
// monthly (quarterly past 120 days).
func (p Period) Axis(b *strings.Builder, y float64) {
	from, to := p.From, p.To
	step := 1
	if days := to.Sub(from).Hours() / 24; days > 120 {
		step = 3
	}
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	if m.Before(from) {
		m = m.AddDate(0, 1, 0)
	}
	if to.Sub(from) < 60*24*time.Hour {
		// Short periods: a tick per week.
		for t := DayStart(from); t.Before(to); t = t.AddDate(0, 0, 7) {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`, p.X(t), y, t.Format("Jan 2"))
		}
		return
	}
	for t := m; t.Before(to); t = t.AddDate(0, step, 0) {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`, p.X(t), y, t.Format("Jan 2006"))
	}
}

// Legend writes the criterion states' colours.
func Legend(b *strings.Builder) {
	b.WriteString("<div class=\"legend\">")
	for _, s := range States {
		fmt.Fprintf(b, "<span><i style=\"background:%s\"></i>%s</span>", StateColor[s], s)
	}
	fmt.Fprintf(b, "<span><i style=\"background:%s;opacity:%s\"></i>faded: some of the criterion's checks assessed nothing, or left resources undecided (the state rests on the others)</span>", StateColor["Pass"], UnassessedOpacity)
	b.WriteString("</div>\n")
}

// UnassessedOpacity is the fill opacity of a span whose state does not rest on every check
// supporting the criterion.
const UnassessedOpacity = "0.45"

// Span is a state held over an interval.
type Span struct {
	From, To time.Time
	State    string
	// Unassessed are the checks the state does not rest on, space-separated (see
	// evidence.Span): a span with some is drawn faded (UnassessedOpacity).
	Unassessed string
	// Undecided are the checks that left some resources undecided over the span
	// (evidence.Span): the state rests on the resources decided, and the span is drawn faded too.
	Undecided string
}

// Row is one namespace's line in a criterion chart: its label and, for each span's tooltip,
// the namespace it is about.
type Row struct {
	Label, Namespace string
	Spans            []Span
}

// CriterionChart writes a heading and one criterion's states over the period, a row per
// namespace.
func CriterionChart(b *strings.Builder, p Period, criterion string, rows []Row) {
	rh := 14.0
	if len(rows) > 40 {
		rh = 7
	}
	h := float64(len(rows))*rh + 22
	fmt.Fprintf(b, "<h3>%s</h3>\n<svg class=\"chart criterion\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"%s state per namespace\">", esc(criterion), Width, h, Width, h, esc(criterion))
	for i, row := range rows {
		y := float64(i) * rh
		if rh >= 10 || i%2 == 0 {
			fmt.Fprintf(b, `<text x="0" y="%.1f" font-size="%.0f">%s</text>`, y+rh-1.5, min(rh+1, 10), esc(row.Label))
		}
		for _, s := range row.Spans {
			x0, x1 := p.X(s.From), p.X(s.To)
			opacity, unassessed := "1", ""
			if s.Unassessed != "" {
				opacity, unassessed = UnassessedOpacity, "; not assessed: "+s.Unassessed
			}
			if s.Undecided != "" {
				// A tenant can push a workload past what the operator reads: its failure is
				// hidden as NotAssessed, and the Pass is not one of every resource.
				opacity, unassessed = UnassessedOpacity, unassessed+"; resources left undecided by: "+s.Undecided
			}
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="%s"><title>%s %s: %s %s to %s%s</title></rect>`,
				x0, y+0.5, max(x1-x0, 0.5), rh-1, StateColor[s.State], opacity, esc(row.Namespace), esc(criterion), esc(s.State), ts(s.From), ts(s.To), esc(unassessed))
		}
	}
	p.Axis(b, h-6)
	b.WriteString("</svg>\n")
}

// DeviationChart writes deviations opened (red) and closed (green) per week of the period.
func DeviationChart(b *strings.Builder, p Period, opened, closed []time.Time) {
	from := DayStart(p.From)
	weeks := int(p.To.Sub(from).Hours()/(24*7)) + 1
	openedW, closedW := make([]int, weeks), make([]int, weeks)
	for _, t := range opened {
		if i := int(t.Sub(from).Hours() / (24 * 7)); i >= 0 && i < weeks {
			openedW[i]++
		}
	}
	for _, t := range closed {
		if i := int(t.Sub(from).Hours() / (24 * 7)); i >= 0 && i < weeks {
			closedW[i]++
		}
	}
	peak := 1
	for i := range weeks {
		peak = max(peak, openedW[i], closedW[i])
	}
	const h, top = 220.0, 10.0
	plot := h - 30
	fmt.Fprintf(b, "<svg class=\"chart deviations\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"deviations per week\">", Width, h, Width, h)
	fmt.Fprintf(b, `<text x="0" y="%.1f">%d per week</text><text x="0" y="%.1f">0</text>`, top+8, peak, top+plot)
	bw := float64(Width-labelWidth-10) / float64(weeks)
	for i := range weeks {
		x := float64(labelWidth) + float64(i)*bw
		week := from.AddDate(0, 0, 7*i).Format(time.DateOnly)
		for j, n := range []int{openedW[i], closedW[i]} {
			bh := float64(n) / float64(peak) * (plot - top)
			color, what := "#cf222e", "opened"
			if j == 1 {
				color, what = "#2da44e", "closed"
			}
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>week of %s: %d %s</title></rect>`,
				x+float64(j)*bw/2, top+plot-top-bh, max(bw/2-0.5, 0.5), max(bh, 0), color, week, n, what)
		}
	}
	p.Axis(b, h-6)
	b.WriteString("</svg>\n")
}

var remediationBuckets = []struct {
	label string
	upTo  time.Duration
}{
	{"< 1h", time.Hour}, {"1-4h", 4 * time.Hour}, {"4-24h", 24 * time.Hour}, {"1-3d", 72 * time.Hour},
	{"3-7d", 7 * 24 * time.Hour}, {"7-30d", 30 * 24 * time.Hour}, {"> 30d", 1 << 62},
}

// RemediationChart writes closed deviations by how long they lasted (sorted ascending), and a
// last bar for those still open.
func RemediationChart(b *strings.Builder, sorted []time.Duration, open int) {
	counts := make([]int, len(remediationBuckets)+1)
	for _, d := range sorted {
		i := sort.Search(len(remediationBuckets), func(i int) bool { return d < remediationBuckets[i].upTo })
		counts[i]++
	}
	counts[len(remediationBuckets)] = open
	peak := 1
	for _, n := range counts {
		peak = max(peak, n)
	}
	const h, w, bar = 200.0, 640, 70.0
	fmt.Fprintf(b, "<svg class=\"chart remediation\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"time to remediate\">", w, h, w, h)
	for i, n := range counts {
		label, color := "still open", "#cf222e"
		if i < len(remediationBuckets) {
			label, color = remediationBuckets[i].label, "#0969da"
		}
		bh := float64(n) / float64(peak) * (h - 50)
		x := 10 + float64(i)*(bar+8)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d</title></rect>`, x, h-25-bh, bar, max(bh, 0), color, label, n)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%d</text><text x="%.1f" y="%.1f">%s</text>`, x+2, h-28-bh, n, x+2, h-10, label)
	}
	b.WriteString("</svg>\n")
}
