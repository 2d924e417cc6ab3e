package evidence

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/charts"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The page is self-contained: inline CSS and inline SVG, no script, no fonts or images from
// anywhere, so it opens the same offline, years later, in an auditor's archive.

const css = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{background:#dafbe1;border:1px solid #4ac26b;padding:.6rem 1rem}.bad{background:#ffebe9;border:1px solid #ff8182;padding:.6rem 1rem}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}.muted{color:#57606a;font-size:.85rem}
` + charts.CSS

func esc(s string) string { return html.EscapeString(s) }

func (p *Pack) writeHTML(w io.Writer) error {
	o := p.Options
	var b strings.Builder
	pr := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	pr("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
	pr("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
	pr("<title>SOC 2 evidence %s to %s</title><style>%s</style></head><body>\n", ts(o.From), ts(o.To), css)
	pr("<h1>SOC 2 Type II evidence</h1>\n<p>Period <b>%s</b> to <b>%s</b> (end exclusive). Clusters: %s. Profile: %s. %d records read.</p>\n",
		esc(ts(o.From)), esc(ts(o.To)), esc(strings.Join(o.Clusters, ", ")), esc(orAll(o.Profile)), p.Records)
	if o.Namespace != "" {
		pr("<p><b>Namespace: %s</b>. Only its rows are here: its deviations, criteria, coverage and population, the exceptions that are its own or cover its findings, "+
			"and the gaps of every namespace or that lost its records. The records counted are those read for it; the journal's chain was verified whole.</p>\n", esc(o.Namespace))
	}

	// Chain verification.
	if p.OK() {
		pr("<div class=\"ok\" id=\"verification\"><b>Journal verified.</b> ")
	} else {
		pr("<div class=\"bad\" id=\"verification\"><b>Journal verification FAILED.</b> ")
	}
	pr("Every segment of the period was read, its chain link and digests checked%s%s. ", signedNote(o), lockedNote(o))
	pr("Details: verification.txt and verification.json.<ul>")
	for _, r := range p.Verification {
		pr("<li>%s", esc(r.Summary()))
		if len(r.Problems) > 0 {
			pr("<ul>")
			for _, prob := range r.Problems {
				pr("<li>%s</li>", esc(prob.String()))
			}
			pr("</ul>")
		}
		pr("</li>")
	}
	pr("</ul></div>\n")

	// Summary cards.
	opened, remediated, unremediated, open, reopened, flapping := 0, 0, 0, 0, 0, 0
	var ttr []time.Duration
	for _, d := range p.Deviations {
		if d.Reopened > 0 {
			reopened += d.Reopened
			flapping++
		}
		if !d.BeforeWindow {
			opened++
		}
		switch {
		case d.Closed.IsZero():
			open++
		case d.Remediated():
			remediated++
			ttr = append(ttr, d.RemediationTime())
		default:
			unremediated++
		}
	}
	slices.Sort(ttr)
	median := "-"
	if len(ttr) > 0 {
		median = humanDuration(ttr[len(ttr)/2])
	}
	gapTime := p.NotObserved()
	attested, missing := 0, 0
	var unjudged []*CoverageRow
	for _, c := range p.Coverage {
		attested += c.Attestations
		missing += len(c.MissingDays(o.From, p.Until))
		if c.Unjudged() {
			unjudged = append(unjudged, c)
		}
	}
	pr("<h2>Summary</h2><div class=\"cards\">")
	card := func(label, value string) {
		pr("<div class=\"card\"><b>%s</b><span class=\"muted\">%s</span></div>", esc(value), esc(label))
	}
	card("deviations opened in the period", fmt.Sprint(opened))
	card("deviations remediated", fmt.Sprint(remediated))
	card("closed unremediated (out of scope, resource gone)", fmt.Sprint(unremediated))
	card("still open at the end", fmt.Sprint(open))
	if flapping > 0 {
		card(fmt.Sprintf("reopenings within %s of a remediation, in %d deviations that kept reopening (deviations.csv: reopened, open_hours)", humanDuration(ReopenedWithin), flapping), fmt.Sprint(reopened))
	}
	card("median time to remediate", median)
	card("exceptions", fmt.Sprint(len(p.Exceptions)))
	card("attestations", fmt.Sprint(attested))
	card("namespace-days without attestation", fmt.Sprint(missing))
	if len(unjudged) > 0 {
		card("namespaces selected, never attested", fmt.Sprint(len(unjudged)))
	}
	card("time not observed", humanDuration(gapTime))
	if n := p.NamespaceGaps(); n > 0 {
		card("journal gaps that lost some namespaces' records (gaps.csv names them)", fmt.Sprint(n))
	}
	if len(p.Stale) > 0 {
		card("namespace intervals not evaluated (evaluation.stale in gaps.csv)", fmt.Sprint(len(p.Stale)))
	}
	card("profile versions created, changed or deleted", fmt.Sprint(len(p.Profiles)))
	pr("</div>\n")

	pr("<h2 id=\"profiles\">Profile versions</h2>\n")
	if len(p.Profiles) == 0 {
		pr("<p class=\"muted\">No profile was created, changed or deleted in the period: every namespace was judged against the profile versions in force at its start.</p>\n")
	} else {
		pr("<p>The profiles were created, changed or deleted %d times in the period. Each version may select other namespaces, enable other checks, set other severities or allow other exceptions: the criterion states below hold only for the version in force at the time. The journal records each version's generation and spec digest (profiles.csv); the specs themselves are in Git.</p>\n", len(p.Profiles))
		pr("<table><tr><th>cluster</th><th>profile</th><th>time</th><th>change</th><th>generation</th><th>spec SHA-256</th></tr>")
		for _, v := range p.Profiles {
			gen := ""
			if v.Spec.Generation != 0 {
				gen = fmt.Sprint(v.Spec.Generation)
			}
			pr("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%s</td><td>%s</td></tr>", esc(v.Cluster), esc(v.Profile), ts(v.Time), esc(v.Change), gen, esc(v.Spec.SHA256))
		}
		pr("</table>\n")
	}

	p.writeOperatorsHTML(pr)

	pr("<h2>Each criterion's state over the period</h2>\n")
	charts.Legend(&b)
	p.CriterionCharts(&b, nil)

	pr("<h2>Deviations over time</h2>\n<p class=\"muted\">Deviations opened (red) and closed (green) per week. Every deviation is in deviations.csv with when it opened and closed and any exception.</p>\n")
	p.DeviationChart(&b, nil)

	pr("<h2>Time to remediate</h2>\n<p class=\"muted\">Remediated deviations by how long they took, from when the finding was first opened; those closed because they left the scope or their resource went are left out (see deviations.csv); the last bar counts those still open at the end of the period.</p>\n")
	charts.RemediationChart(&b, ttr, open)

	pr("<h2>Coverage and gaps</h2>\n<p class=\"muted\">Observed time (green) and intervals nobody observed or the journal lost (red) per cluster, then the namespaces without an attestation per day (darker: more). coverage.csv and gaps.csv list them; the table adds the intervals in which the operator ran but did not evaluate a namespace (evaluation.stale), whose criteria are Unknown then. A namespace (or any object) created and deleted within an interval nobody observed appears nowhere in this pack, neither covered nor as a gap of its own: the API server keeps no trace of it, so no operator could record it; read those intervals as unobserved for every namespace, and the API server's audit log for what was created then.</p>\n")
	p.coverageChart(&b)
	if len(unjudged) > 0 {
		pr("<p>Selected by their profile and never attested in the period (no evaluation of them succeeded; coverage.csv lists them with no attestation):</p>\n<table><tr><th>cluster</th><th>profile</th><th>namespace</th><th>selected from</th></tr>")
		for _, c := range unjudged {
			pr("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", esc(c.Cluster), esc(c.Profile), esc(c.Namespace), ts(c.selected))
		}
		pr("</table>\n")
	}
	if len(p.Gaps)+len(p.Stale) > 0 {
		pr("<table><tr><th>cluster</th><th>type</th><th>from</th><th>to</th><th>duration</th><th>namespaces</th><th>reason</th></tr>")
		row := func(cluster string, typ journal.Type, from, to time.Time, namespaces, reason string) {
			pr("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", esc(cluster), esc(string(typ)), ts(from), ts(to), humanDuration(to.Sub(from)),
				esc(namespaces), esc(reason))
		}
		for _, g := range p.Gaps {
			ns := "all"
			if g.Namespaces != nil {
				ns = g.droppedByText()
			}
			row(g.Cluster, g.Type, g.From, g.To, ns, g.Reason)
		}
		for _, s := range p.Stale {
			row(s.Cluster, StaleEvaluation, s.From, s.To, s.Namespace, s.Reason())
		}
		pr("</table>\n")
	}

	pr("<h2>Population per check</h2>\n<p class=\"muted\">What each check evaluated, from the attestations (population.csv has every attestation with the digest of the resource list; the list itself is in the journal).</p>\n")
	pr("<table><tr><th>check</th><th>attestations</th><th>smallest</th><th>largest</th><th>at the end</th></tr>")
	for _, s := range p.CheckSummary {
		pr("<tr><td>%s</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td></tr>", esc(s.Check), s.Attestations, s.Min, s.Max, s.Latest)
	}
	pr("</table>\n")

	const maxExceptionRows = 200
	pr("<h2>Exceptions</h2>\n")
	if len(p.Exceptions) > maxExceptionRows {
		pr("<p class=\"muted\">The first %d of %d exceptions; exceptions.csv lists every one.</p>", maxExceptionRows, len(p.Exceptions))
	}
	pr("<table><tr><th>namespace</th><th>name</th><th>state</th><th>requested by</th><th>approved by</th><th>reason</th><th>ticket</th><th>window</th><th>findings</th></tr>")
	for _, e := range p.Exceptions[:min(len(p.Exceptions), maxExceptionRows)] {
		approver, state := e.approver(), e.State
		if since, ok := e.coveredUnapproved(); ok {
			state += ", covering findings not approved since " + ts(since)
		}
		pr("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s to %s</td><td class=\"n\">%d</td></tr>",
			esc(e.Namespace), esc(e.Name), esc(state), esc(e.RequestedBy), esc(approver), esc(e.Reason), esc(e.Ticket),
			ts(firstTime(e.Approved, e.Requested)), ts(firstTime(e.Ended, e.Expires)), e.FindingsCovered(p.Options.Namespace))
	}
	pr("</table>\n")

	pr("<h2>Files</h2><ul>")
	for _, f := range []struct{ name, what string }{
		{"population.csv", "every attestation: per check, the population count and its digest"},
		{"deviations.csv", "every deviation: opened, closed, duration, exceptions and from when they covered it; a finding that opened again within an hour of a remediation is one row, with how often it reopened and how long it was open in all"},
		{"exceptions.csv", "every exception: requester, approver, reason, ticket, window, findings covered, and when an approved one came to cover findings other than those approved"},
		{"coverage.csv", "attestations per namespace and the days in scope without one"},
		{"gaps.csv", "intervals not observed (restarts) or lost (store unreachable)"},
		{"criteria.csv", "each criterion's state intervals per namespace"},
		{"profiles.csv", "every profile version of the period: created, changed or deleted, with generation and spec digest"},
		{"operators.csv", "every operator of the period: identity, operator and check catalogue versions, start, first and last record"},
		{"controls.csv", "every check of the catalogue of the binary that built this pack: criteria, what it tests and how"},
		{"verification.txt, verification.json", "the journal's chain verification"},
		{"MANIFEST.sha256", "the SHA-256 of every file here (sha256sum -c MANIFEST.sha256)"},
	} {
		pr("<li><b>%s</b>: %s</li>", esc(f.name), esc(f.what))
	}
	pr("</ul>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

func lockedNote(o Options) string {
	if o.LockedUntil.IsZero() {
		return ", its Object Lock retention not checked"
	}
	return ", and its Object Lock retention required in compliance mode until " + o.LockedUntil.UTC().Format(time.RFC3339)
}

func signedNote(o Options) string {
	if o.PublicKey == nil {
		return " (signatures not checked: no public key was given)"
	}
	return " and each segment's signature checked with key " + journal.KeyID(o.PublicKey)
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1fh", d.Hours())
	default:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	}
}

// period is the pack's period for the charts.
func (p *Pack) period() charts.Period { return charts.Period{From: p.Options.From, To: p.Options.To} }

// CriterionCharts writes each criterion's states over the period, a row per namespace (and
// profile, cluster), for the namespaces visible accepts (all when nil).
func (p *Pack) CriterionCharts(b *strings.Builder, visible func(namespace string) bool) {
	var crits []string
	for _, tl := range p.Timelines {
		if visible != nil && !visible(tl.Namespace) {
			continue
		}
		if len(crits) == 0 || crits[len(crits)-1] != tl.Criterion {
			crits = append(crits, tl.Criterion)
		}
	}
	if len(crits) == 0 {
		b.WriteString("<p class=\"muted\">No criterion states were recorded in the period.</p>\n")
		return
	}
	for _, c := range crits {
		var rows []charts.Row
		for _, tl := range p.Timelines {
			if tl.Criterion != c || (visible != nil && !visible(tl.Namespace)) {
				continue
			}
			label := tl.Namespace
			if len(p.Options.Clusters) > 1 {
				label = tl.Cluster + "/" + label
			}
			if p.Options.Profile == "" {
				label += " (" + tl.Profile + ")"
			}
			spans := make([]charts.Span, len(tl.Spans))
			for i, s := range tl.Spans {
				spans[i] = charts.Span{From: s.From, To: s.To, State: s.State, Unassessed: s.Unassessed, Undecided: s.Undecided}
			}
			rows = append(rows, charts.Row{Label: label, Namespace: tl.Namespace, Spans: spans})
		}
		charts.CriterionChart(b, p.period(), c, rows)
	}
}

// DeviationChart writes the deviations opened and closed per week in the namespaces visible
// accepts (all when nil).
func (p *Pack) DeviationChart(b *strings.Builder, visible func(namespace string) bool) {
	var opened, closed []time.Time
	for _, d := range p.Deviations {
		if visible != nil && !visible(d.Namespace) {
			continue
		}
		if !d.BeforeWindow {
			opened = append(opened, d.Opened)
		}
		if !d.Closed.IsZero() {
			closed = append(closed, d.Closed)
		}
	}
	charts.DeviationChart(b, p.period(), opened, closed)
}

// RemediationChart writes how long the deviations of the namespaces visible accepts (all when
// nil) lasted, and how many are still open.
func (p *Pack) RemediationChart(b *strings.Builder, visible func(namespace string) bool) {
	var ttr []time.Duration
	open := 0
	for _, d := range p.Deviations {
		if visible != nil && !visible(d.Namespace) {
			continue
		}
		switch {
		case d.Closed.IsZero():
			open++
		case d.Remediated():
			ttr = append(ttr, d.RemediationTime())
		}
	}
	slices.Sort(ttr)
	charts.RemediationChart(b, ttr, open)
}

func (p *Pack) coverageChart(b *strings.Builder) {
	clusters := p.Options.Clusters
	from := dayStart(p.Options.From)
	days := int(p.Options.To.Sub(from).Hours()/24 + 0.999999)
	missing := make([]int, days)
	for _, c := range p.Coverage {
		for _, d := range c.MissingDays(p.Options.From, p.Until) {
			if i := int(d.Sub(from).Hours() / 24); i >= 0 && i < days {
				missing[i]++
			}
		}
	}
	peak := 0
	for _, n := range missing {
		peak = max(peak, n)
	}
	const rh = 16.0
	h := float64(len(clusters)+1)*rh + 26
	fmt.Fprintf(b, "<svg class=\"chart coverage\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"coverage and gaps\">", charts.Width, h, charts.Width, h)
	for i, c := range clusters {
		y := float64(i) * rh
		fmt.Fprintf(b, `<text x="0" y="%.1f">%s</text>`, y+rh-4, esc(c))
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2da44e"><title>%s observed</title></rect>`, p.period().X(p.Options.From), y+1, p.period().X(p.Until)-p.period().X(p.Options.From), rh-2, esc(c))
		for _, g := range p.Gaps {
			if g.Cluster != c {
				continue
			}
			x0, x1 := p.period().X(g.From), p.period().X(g.To)
			fill, what := "#cf222e", ""
			if g.Namespaces != nil {
				// Records of some namespaces lost: the others' were not.
				fill, what = "#bf8700", " (namespaces "+g.droppedByText()+")"
			}
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s to %s%s: %s</title></rect>`, x0, y+1, max(x1-x0, 1), rh-2, fill, esc(string(g.Type)), ts(g.From), ts(g.To), esc(what), esc(g.Reason))
		}
	}
	y := float64(len(clusters)) * rh
	fmt.Fprintf(b, `<text x="0" y="%.1f">namespaces not attested</text>`, y+rh-4)
	for i, n := range missing {
		if n == 0 {
			continue
		}
		x0, x1 := p.period().X(from.AddDate(0, 0, i)), p.period().X(from.AddDate(0, 0, i+1))
		op := 0.25 + 0.75*float64(n)/float64(max(peak, 1))
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#cf222e" fill-opacity="%.2f"><title>%s: %d namespaces without an attestation</title></rect>`, x0, y+1, max(x1-x0, 1), rh-2, op, from.AddDate(0, 0, i).Format(time.DateOnly), n)
	}
	p.period().Axis(b, h-6)
	b.WriteString("</svg>\n")
}

// writeOperatorsHTML lists the operators that judged in the period, with their versions, and
// says when the catalogue that judged is not the one controls.csv describes.
func (p *Pack) writeOperatorsHTML(pr func(string, ...any)) {
	pr("<h2 id=\"operators\">Operators and check catalogues</h2>\n")
	if len(p.Operators) == 0 {
		pr("<p class=\"muted\">No record of the period names the operator that wrote it (a journal written before operators were named): the versions that judged are not known.</p>\n")
		return
	}
	var other []string
	for _, o := range p.Operators {
		if o.Catalogue != "" && o.Catalogue != checks.Version && !slices.Contains(other, o.Catalogue) {
			other = append(other, o.Catalogue)
		}
	}
	pr("<p>Each criterion state was stated by the operator whose version and check catalogue criteria.csv names; a verdict that changes with them may come from the upgrade, not the cluster (operators.csv).")
	if len(other) > 0 {
		pr(" <b>controls.csv describes catalogue %s (the binary that built this pack); the period was judged with %s.</b>", esc(checks.Version), esc(strings.Join(other, ", ")))
	}
	pr("</p>\n<table><tr><th>cluster</th><th>identity</th><th>operator version</th><th>catalogue version</th><th>started</th><th>first record</th><th>last record</th></tr>")
	for _, o := range p.Operators {
		pr("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", esc(o.Cluster), esc(o.Identity), esc(o.Version), esc(o.Catalogue), ts(o.Started), ts(o.First), ts(o.Last))
	}
	pr("</table>\n")
}
