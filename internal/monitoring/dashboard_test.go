package monitoring

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/prometheus/promql/parser"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

const dashboardFile = "config/grafana/soc2-operator-dashboard.json"

// loadDashboard reads the generated dashboard into the Grafana Foundation SDK's dashboard
// model, strictly: a field the model does not know, a missing required field or a value of
// the wrong type fails, as do panel options and queries that do not match their plugin's
// schema (the SDK's default plugins: stat, table, timeseries, the Prometheus query).
func loadDashboard(t *testing.T) dashboard.Dashboard {
	t.Helper()
	plugins.RegisterDefaultPlugins()
	data := read(t, filepath.Join(testenv.RepoRoot(), dashboardFile))
	var strict dashboard.Dashboard
	err := strict.UnmarshalJSONStrict(data)
	// The SDK (v0.0.22) returns its error list as an error even when the list is empty
	// (a nil cog.BuildErrors in an error), and for the same reason its strict decoding drops
	// every panel that decodes without error. So the strict decoding only judges the file,
	// and the ordinary one, which keeps the panels, is what the tests read.
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		err = nil
	}
	if err != nil {
		t.Fatalf("%s does not load as a Grafana dashboard: %v", dashboardFile, err)
	}
	var d dashboard.Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var raw struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, p := range d.Panels {
		if p.Panel != nil || p.RowPanel != nil {
			loaded++
		}
	}
	if len(raw.Panels) == 0 || loaded != len(raw.Panels) {
		t.Fatalf("%s: %d panels, of which the dashboard model holds %d", dashboardFile, len(raw.Panels), loaded)
	}
	return d
}

// dashQuery is one PromQL expression of the dashboard: a panel's query or a template
// variable's label_values(...).
type dashQuery struct {
	where  string // "panel 3 \"Non-compliant namespaces\" query A", "variable namespace"
	expr   string
	legend string
	// fields are the labels the panel's transformations read from the query's result.
	fields []string
}

// panels is every panel, rows' nested panels included, rows excluded.
func panels(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, *p.Panel)
		}
		if p.RowPanel != nil {
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

func title(p dashboard.Panel) string {
	id := uint32(0)
	if p.Id != nil {
		id = *p.Id
	}
	t := ""
	if p.Title != nil {
		t = *p.Title
	}
	return fmt.Sprintf("panel %d %q", id, t)
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// queries lists every PromQL expression of the dashboard.
func queries(t *testing.T, d dashboard.Dashboard) []dashQuery {
	t.Helper()
	var out []dashQuery
	for _, p := range panels(d) {
		var fields []string
		for _, tr := range p.Transformations {
			if opts, ok := tr.Options.(map[string]any); ok && tr.Id == "groupingToMatrix" {
				for _, k := range []string{"rowField", "columnField"} {
					if s, ok := opts[k].(string); ok {
						fields = append(fields, s)
					}
				}
			}
		}
		for _, target := range p.Targets {
			q, ok := target.(*prometheus.Dataquery)
			if !ok {
				t.Errorf("%s: query %#v is not a Prometheus query", title(p), target)
				continue
			}
			legend := ""
			if q.LegendFormat != nil {
				legend = *q.LegendFormat
			}
			ref := ""
			if q.RefId != nil {
				ref = *q.RefId
			}
			out = append(out, dashQuery{where: title(p) + " query " + ref, expr: q.Expr, legend: legend, fields: fields})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.Query == nil || v.Query.String == nil {
			t.Errorf("variable %s has no query", v.Name)
			continue
		}
		m := labelValues.FindStringSubmatch(*v.Query.String)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(series, label)", v.Name, *v.Query.String)
			continue
		}
		out = append(out, dashQuery{where: "variable " + v.Name, expr: m[1], fields: []string{m[2]}})
	}
	return out
}

// TestDashboardLoads checks config/grafana's dashboard against Grafana's dashboard model
// (through the SDK's strict decoding) and what Grafana needs to draw it: a current schema
// version, unique panel ids, panels inside the 24-column grid and not overlapping, every
// panel and query on the Prometheus data source the user picks, every variable a query
// names defined, and every runbook link pointing at a section of docs/runbooks.md.
func TestDashboardLoads(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion != dashboard.NewDashboard().SchemaVersion {
		t.Errorf("schemaVersion %d, want the SDK's %d", d.SchemaVersion, dashboard.NewDashboard().SchemaVersion)
	}
	if d.Uid == nil || *d.Uid == "" || len(*d.Uid) > 40 {
		t.Errorf("uid %v: want a fixed uid of at most 40 characters, so that re-importing replaces the dashboard", d.Uid)
	}

	// Ids and the grid.
	type box struct {
		what       string
		x, y, w, h uint32
	}
	ids := map[uint32]string{}
	var boxes []box
	place := func(what string, id *uint32, g *dashboard.GridPos) {
		if id == nil {
			t.Errorf("%s has no id", what)
		} else if other, dup := ids[*id]; dup {
			t.Errorf("%s and %s share id %d", what, other, *id)
		} else {
			ids[*id] = what
		}
		if g == nil {
			t.Errorf("%s has no gridPos", what)
			return
		}
		if g.W == 0 || g.H == 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v is not inside the 24-column grid", what, *g)
		}
		for _, b := range boxes {
			if g.X < b.x+b.w && b.x < g.X+g.W && g.Y < b.y+b.h && b.y < g.Y+g.H {
				t.Errorf("%s (gridPos %+v) overlaps %s", what, *g, b.what)
			}
		}
		boxes = append(boxes, box{what, g.X, g.Y, g.W, g.H})
	}
	for _, p := range d.Panels {
		if p.RowPanel != nil {
			id := p.RowPanel.Id
			place(fmt.Sprintf("row %q", *p.RowPanel.Title), &id, p.RowPanel.GridPos)
			for _, c := range p.RowPanel.Panels {
				place(title(c), c.Id, c.GridPos)
			}
		}
		if p.Panel != nil {
			place(title(*p.Panel), p.Panel.Id, p.Panel.GridPos)
		}
	}

	// The data source and the variables.
	defined := map[string]bool{}
	for _, v := range d.Templating.List {
		defined[v.Name] = true
		if v.Type == "datasource" && (v.Name != "datasource" || v.Query == nil || v.Query.String == nil || *v.Query.String != "prometheus") {
			t.Errorf("variable %s: want the Prometheus data source variable \"datasource\"", v.Name)
		}
		if v.Type == "query" && !isPromDS(v.Datasource) {
			t.Errorf("variable %s: data source %v, want the prometheus ${datasource}", v.Name, v.Datasource)
		}
	}
	if !defined["datasource"] {
		t.Fatal("no datasource variable: panels could not follow the user's choice of Prometheus")
	}
	for _, p := range panels(d) {
		if p.Title == nil || *p.Title == "" || p.Description == nil || *p.Description == "" {
			t.Errorf("%s has no title or description", title(p))
		}
		if !isPromDS(p.Datasource) {
			t.Errorf("%s: data source %v, want the prometheus ${datasource}", title(p), p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s has no query", title(p))
		}
		for _, target := range p.Targets {
			if q, ok := target.(*prometheus.Dataquery); ok && !isPromDS(q.Datasource) {
				t.Errorf("%s: a query's data source is %v, want the prometheus ${datasource}", title(p), q.Datasource)
			}
		}
	}
	used := map[string]bool{"datasource": true}
	for _, q := range queries(t, d) {
		for _, name := range variableRefs(q.expr) {
			used[name] = true
			if !defined[name] {
				t.Errorf("%s uses $%s, which is not a variable of the dashboard", q.where, name)
			}
		}
		if _, err := parsePromQL(q.expr); err != nil {
			t.Errorf("%s: %q is not PromQL: %v", q.where, q.expr, err)
		}
	}
	for name := range defined {
		if !used[name] {
			t.Errorf("variable %s is used by no query", name)
		}
	}

	// Runbook links.
	anchors := runbookAnchors(t)
	links := 0
	for _, p := range panels(d) {
		for _, l := range p.Links {
			if l.Url == nil {
				t.Errorf("%s: link %q has no url", title(p), l.Title)
				continue
			}
			if anchor, ok := strings.CutPrefix(*l.Url, runbookPrefix); ok {
				links++
				if !anchors[anchor] {
					t.Errorf("%s links to %s, which is not a section of docs/runbooks.md", title(p), *l.Url)
				}
			}
		}
	}
	if links == 0 {
		t.Error("no panel links to a runbook")
	}
}

func isPromDS(r *dashboard.DataSourceRef) bool {
	return r != nil && r.Type != nil && *r.Type == "prometheus" && r.Uid != nil && *r.Uid == "${datasource}"
}

// Grafana's built-in variables, which the dashboard need not define.
var builtins = map[string]bool{"__rate_interval": true, "__interval": true, "__range": true, "__range_s": true}

var varRef = regexp.MustCompile(`\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]`)

// variableRefs are the dashboard variables an expression names, Grafana's built-ins excluded.
func variableRefs(expr string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(expr, -1) {
		name := m[1] + m[2] + m[3]
		if !builtins[name] {
			out = append(out, name)
		}
	}
	return out
}

// interpolate replaces Grafana's interval variables, which stand where PromQL wants a
// duration, so that the expression parses; the other variables stand inside label values.
func interpolate(expr string) string {
	return regexp.MustCompile(`\$\{?(__rate_interval|__interval|__range)\}?`).ReplaceAllString(expr, "5m")
}

// parsePromQL parses a dashboard expression with Prometheus's parser, as a Prometheus server
// with default options would (no experimental functions).
func parsePromQL(expr string) (parser.Expr, error) {
	return parser.NewParser(parser.Options{}).ParseExpr(interpolate(expr))
}

// exported is what a scrape of the operator holds: each series name with every label name
// its samples carry.
type exported map[string]map[string]bool

// Prometheus adds these to what it scrapes: the series up per target, and the target labels
// job and instance on every series (the ServiceMonitor sets honorLabels, so the operator's
// own namespace label is kept).
var (
	scrapeSeries = map[string][]string{"up": nil}
	targetLabels = map[string]bool{"job": true, "instance": true}
)

// checkQuery returns what is wrong with q against a scrape of the operator: a series it does
// not export, a label its series do not carry used in a matcher, a grouping, a vector
// matching, a legend or a transformation.
func checkQuery(exp exported, q dashQuery) []string {
	e, err := parsePromQL(q.expr)
	if err != nil {
		return []string{fmt.Sprintf("%s: %q is not PromQL: %v", q.where, q.expr, err)}
	}
	var problems []string
	selectors := selectorsIn(e)
	if len(selectors) == 0 {
		problems = append(problems, fmt.Sprintf("%s: %q reads no series", q.where, q.expr))
	}
	for _, vs := range selectors {
		if vs.Name == "" {
			problems = append(problems, fmt.Sprintf("%s: selector %s names no series", q.where, vs))
			continue
		}
		labels, ok := seriesLabels(exp, vs.Name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s reads %s, which the operator does not export%s", q.where, vs.Name, similar(exp, vs.Name)))
			continue
		}
		for _, m := range vs.LabelMatchers {
			if m.Name != "__name__" && !labels[m.Name] {
				problems = append(problems, fmt.Sprintf("%s filters %s on label %s, which it does not have (it has %s)", q.where, vs.Name, m.Name, keys(labels)))
			}
		}
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.AggregateExpr:
			if !known(exp, selectorsIn(n.Expr)) {
				return nil // the unknown series is reported above
			}
			in := labelsOf(exp, selectorsIn(n.Expr))
			for _, l := range n.Grouping {
				if !in[l] {
					problems = append(problems, fmt.Sprintf("%s groups %s by %s, which the series it reads do not have (they have %s)", q.where, n.Op, l, keys(in)))
				}
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil && known(exp, selectorsIn(n)) {
				for _, side := range []parser.Expr{n.LHS, n.RHS} {
					in := labelsOf(exp, selectorsIn(side))
					for _, l := range n.VectorMatching.MatchingLabels {
						if !in[l] {
							problems = append(problems, fmt.Sprintf("%s matches on %s, which %s does not have", q.where, l, side))
						}
					}
				}
			}
		}
		return nil
	})
	if !known(exp, selectors) {
		return problems
	}
	out := outputLabels(exp, e)
	for _, m := range regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`).FindAllStringSubmatch(q.legend, -1) {
		if !out[m[1]] {
			problems = append(problems, fmt.Sprintf("%s: legend {{%s}} is not a label of the result (it has %s)", q.where, m[1], keys(out)))
		}
	}
	for _, f := range q.fields {
		if !out[f] {
			problems = append(problems, fmt.Sprintf("%s: %s is not a label of the result (it has %s)", q.where, f, keys(out)))
		}
	}
	return problems
}

func seriesLabels(exp exported, name string) (map[string]bool, bool) {
	if labels, ok := exp[name]; ok {
		out := map[string]bool{}
		for l := range labels {
			out[l] = true
		}
		for l := range targetLabels {
			out[l] = true
		}
		return out, true
	}
	if labels, ok := scrapeSeries[name]; ok {
		out := map[string]bool{}
		for _, l := range labels {
			out[l] = true
		}
		for l := range targetLabels {
			out[l] = true
		}
		return out, true
	}
	return nil, false
}

// similar suggests exported names that share the longest prefix with name.
func similar(exp exported, name string) string {
	best, bestLen := []string(nil), 0
	for n := range exp {
		i := 0
		for i < len(n) && i < len(name) && n[i] == name[i] {
			i++
		}
		if i > bestLen {
			best, bestLen = []string{n}, i
		} else if i == bestLen {
			best = append(best, n)
		}
	}
	if bestLen < len("soc2_operator_")+2 || len(best) > 3 {
		return ""
	}
	sort.Strings(best)
	return " (did you mean " + strings.Join(best, " or ") + "?)"
}

func selectorsIn(e parser.Node) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// known says whether the scrape (or Prometheus) has every series the selectors read.
func known(exp exported, selectors []*parser.VectorSelector) bool {
	for _, vs := range selectors {
		if _, ok := seriesLabels(exp, vs.Name); !ok {
			return false
		}
	}
	return true
}

// labelsOf is every label name the series the selectors read carry.
func labelsOf(exp exported, selectors []*parser.VectorSelector) map[string]bool {
	out := map[string]bool{}
	for _, vs := range selectors {
		labels, _ := seriesLabels(exp, vs.Name)
		for l := range labels {
			out[l] = true
		}
	}
	return out
}

// outputLabels are the labels of an expression's result, as far as the functions the
// dashboard uses go.
func outputLabels(exp exported, e parser.Expr) map[string]bool {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return outputLabels(exp, e.Expr)
	case *parser.StepInvariantExpr:
		return outputLabels(exp, e.Expr)
	case *parser.VectorSelector:
		out := labelsOf(exp, []*parser.VectorSelector{e})
		delete(out, "__name__")
		return out
	case *parser.MatrixSelector:
		return outputLabels(exp, e.VectorSelector)
	case *parser.SubqueryExpr:
		return outputLabels(exp, e.Expr)
	case *parser.AggregateExpr:
		in := outputLabels(exp, e.Expr)
		if e.Without {
			for _, l := range e.Grouping {
				delete(in, l)
			}
			return in
		}
		out := map[string]bool{}
		for _, l := range e.Grouping {
			out[l] = true
		}
		return out
	case *parser.Call:
		switch e.Func.Name {
		case "vector", "time", "scalar":
			return map[string]bool{}
		case "histogram_quantile":
			out := outputLabels(exp, e.Args[1])
			delete(out, "le")
			return out
		}
		for _, a := range e.Args {
			if a.Type() == parser.ValueTypeVector || a.Type() == parser.ValueTypeMatrix {
				return outputLabels(exp, a)
			}
		}
		return map[string]bool{}
	case *parser.BinaryExpr:
		l, r := outputLabels(exp, e.LHS), outputLabels(exp, e.RHS)
		switch {
		case e.LHS.Type() != parser.ValueTypeVector:
			return r
		case e.RHS.Type() != parser.ValueTypeVector:
			return l
		case e.Op == parser.LOR:
			for k := range r {
				l[k] = true
			}
		}
		return l
	}
	return map[string]bool{}
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return "[" + strings.Join(out, " ") + "]"
}

// TestDashboardChecksCatchMistakes: the checks TestDashboardQueriesReadExportedSeries makes
// on each query find a misspelled series, a label its series lack in a matcher, a grouping, a
// legend and a transformation, and a variable the dashboard does not define.
func TestDashboardChecksCatchMistakes(t *testing.T) {
	exp := exported{
		"soc2_operator_findings":                           {"profile": true, "namespace": true, "severity": true, "result": true},
		"soc2_operator_evaluation_duration_seconds_bucket": {"profile": true, "scope": true, "le": true},
	}
	for name, tc := range map[string]struct {
		q    dashQuery
		want string
	}{
		"a correct query passes": {
			q: dashQuery{expr: `sum by (severity) (soc2_operator_findings{profile="$profile",result="Fail"}) or vector(0)`, legend: "{{severity}}"},
		},
		"a histogram quantile keeps the grouping but le": {
			q: dashQuery{expr: `histogram_quantile(0.95, sum by (le, scope) (rate(soc2_operator_evaluation_duration_seconds_bucket[$__rate_interval])))`, legend: "{{scope}}"},
		},
		"a misspelled series": {
			q:    dashQuery{expr: `sum(soc2_operator_finding{profile="$profile"})`},
			want: "reads soc2_operator_finding, which the operator does not export (did you mean soc2_operator_findings?)",
		},
		"a label the series lacks": {
			q:    dashQuery{expr: `sum(soc2_operator_findings{check="wl-privileged"})`},
			want: "filters soc2_operator_findings on label check",
		},
		"a grouping by a label the series lacks": {
			q:    dashQuery{expr: `sum by (criterion) (soc2_operator_findings)`},
			want: "groups sum by criterion",
		},
		"a legend naming a label the result lacks": {
			q:    dashQuery{expr: `sum by (severity) (soc2_operator_findings)`, legend: "{{namespace}}"},
			want: "legend {{namespace}} is not a label of the result",
		},
		"a matrix on a label the result lacks": {
			q:    dashQuery{expr: `sum by (severity) (soc2_operator_findings)`, fields: []string{"namespace"}},
			want: "namespace is not a label of the result",
		},
		"up and job come from Prometheus": {
			q: dashQuery{expr: `sum(up{job=~"$job"})`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := strings.Join(checkQuery(exp, tc.q), "\n")
			if tc.want == "" && got != "" {
				t.Fatalf("problems reported in a correct query: %s", got)
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q, want one containing %q", got, tc.want)
			}
		})
	}
	if got := variableRefs(`rate(x{a=~"$namespace",b="${profile:regex}"}[$__rate_interval]) [[criterion]]`); strings.Join(got, " ") != "namespace profile criterion" {
		t.Errorf("variable references %v", got)
	}
}

// TestDashboardConfigMap: `kustomize build config/grafana` is one ConfigMap labelled
// grafana_dashboard: "1", which Grafana's dashboard sidecar loads, holding the dashboard as
// generated.
func TestDashboardConfigMap(t *testing.T) {
	cmd := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "tool.sh"), "kustomize")
	bin, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/tool.sh kustomize: %v", err)
	}
	out, err := exec.Command(strings.TrimSpace(string(bin)), "build", filepath.Join(testenv.RepoRoot(), "config", "grafana")).CombinedOutput()
	if err != nil {
		t.Fatalf("kustomize build config/grafana: %v\n%s", err, out)
	}
	var cm struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if strings.Contains(string(out), "\n---") {
		t.Fatalf("kustomize build config/grafana is more than one object:\n%s", out)
	}
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatalf("kustomize build config/grafana: %v\n%s", err, out)
	}
	if cm.Kind != "ConfigMap" || cm.Metadata.Labels["grafana_dashboard"] != "1" {
		t.Errorf("got a %s %s labelled %v, want a ConfigMap labelled grafana_dashboard: \"1\"", cm.Kind, cm.Metadata.Name, cm.Metadata.Labels)
	}
	want := string(read(t, filepath.Join(testenv.RepoRoot(), dashboardFile)))
	if got := cm.Data[filepath.Base(dashboardFile)]; got != want {
		t.Errorf("the ConfigMap's %s differs from %s (keys: %v)", filepath.Base(dashboardFile), dashboardFile, cm.Data)
	}
}

// TestTheNamespaceVariableListsEveryResult: the dashboard's namespace variable lists the
// namespaces of a series that has one for every result a report can have. NotAssessed and
// Unknown (stale) namespaces have no soc2_operator_namespace_compliant series; a variable built
// from it dropped them from every panel.
func TestTheNamespaceVariableListsEveryResult(t *testing.T) {
	var series string
	for _, q := range queries(t, loadDashboard(t)) {
		if q.where == "variable namespace" {
			series = q.expr
		}
	}
	name, _, _ := strings.Cut(series, "{")
	metrics.Register()
	for _, result := range []v1alpha1.ComplianceState{v1alpha1.Compliant, v1alpha1.NonCompliant, v1alpha1.NotAssessed, v1alpha1.Unknown} {
		ns := "var-" + strings.ToLower(string(result))
		metrics.SetNamespaceResult("var-profile", ns, result)
		families, err := ctrlmetrics.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		listed := false
		for _, f := range families {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					listed = listed || l.GetName() == "namespace" && l.GetValue() == ns
				}
			}
		}
		if !listed {
			t.Errorf("a %s namespace has no %s series: the dashboard's namespace variable (%s) leaves it out", result, name, series)
		}
	}
}

// TestCriterionTableShowsEveryStatus sets, through internal/metrics, one namespace per status a
// criterion can have in soc2_operator_criterion_status (a stale report's criteria are Unknown),
// runs the query of the panel "Criterion status (namespace × criterion)" on what the registry
// exports with `promtool test rules`, and checks that each namespace is in the table with the
// value the panel's value mappings show as that status. A status the query leaves out drops the
// namespace from the table: a stale report's NonCompliant namespace simply vanished from it.
func TestCriterionTableShowsEveryStatus(t *testing.T) {
	var raw struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(read(t, filepath.Join(testenv.RepoRoot(), dashboardFile)), &raw); err != nil {
		t.Fatal(err)
	}
	type panelJSON struct {
		Title   string            `json:"title"`
		Panels  []json.RawMessage `json:"panels"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		FieldConfig struct {
			Defaults struct {
				Mappings []struct {
					Options map[string]struct {
						Text string `json:"text"`
					} `json:"options"`
				} `json:"mappings"`
			} `json:"defaults"`
		} `json:"fieldConfig"`
	}
	var table *panelJSON
	var walk func([]json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, r := range ps {
			var p panelJSON
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(p.Title, "Criterion status") {
				table = &p
			}
			walk(p.Panels)
		}
	}
	walk(raw.Panels)
	if table == nil || len(table.Targets) != 1 {
		t.Fatalf("%s: no panel \"Criterion status ...\" with one query", dashboardFile)
	}
	shownAs := map[string]string{} // mapping text -> value
	for _, m := range table.FieldConfig.Defaults.Mappings {
		for v, o := range m.Options {
			shownAs[o.Text] = v
		}
	}
	expr := strings.NewReplacer(`"$profile"`, `"table-profile"`, `"$namespace"`, `".*"`, `"$criterion"`, `".*"`).Replace(table.Targets[0].Expr)

	// What each status reads as in the table.
	statuses := map[string]string{
		string(v1alpha1.CriterionPass): "Pass", string(v1alpha1.CriterionFail): "Fail", string(v1alpha1.CriterionExcepted): "Excepted",
		string(v1alpha1.CriterionNotAssessed): "Not assessed", string(v1alpha1.Unknown): "Unknown (stale)",
	}
	metrics.Register()
	t.Cleanup(func() { metrics.ForgetProfile("table-profile") })
	for status := range statuses {
		ns := "table-" + strings.ToLower(status)
		if status == string(v1alpha1.Unknown) {
			// A report that was NonCompliant, then marked stale.
			crit := []v1alpha1.CriterionStatus{{ID: "CC6.1", Status: v1alpha1.CriterionFail}}
			metrics.SetNamespace("table-profile", ns, &v1alpha1.ComplianceReportStatus{Result: v1alpha1.NonCompliant, Criteria: crit}, nil)
			metrics.SetNamespaceStale("table-profile", ns, crit)
			continue
		}
		metrics.SetNamespace("table-profile", ns, &v1alpha1.ComplianceReportStatus{Result: v1alpha1.Compliant,
			Criteria: []v1alpha1.CriterionStatus{{ID: "CC6.1", Status: v1alpha1.CriterionState(status)}}}, nil)
	}
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []map[string]any
	for _, f := range families {
		if f.GetName() != "soc2_operator_criterion_status" {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			profile := ""
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				if l.GetName() == "profile" {
					profile = l.GetValue()
				}
			}
			if profile == "table-profile" {
				series = append(series, map[string]any{"series": f.GetName() + "{" + strings.Join(labels, ",") + "}", "values": fmt.Sprintf("%gx10", m.GetGauge().GetValue())})
			}
		}
	}
	var samples []map[string]any
	var missing []string
	for status, text := range statuses {
		v, ok := shownAs[text]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (no value mapping shows %q)", status, text))
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("value mapping %q: %v", v, err)
		}
		samples = append(samples, map[string]any{
			"labels": fmt.Sprintf(`{criterion="CC6.1",namespace=%q}`, "table-"+strings.ToLower(status)), "value": f,
		})
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the criterion table cannot show status %s", strings.Join(missing, ", "))
	}
	test := map[string]any{
		"evaluation_interval": "1m",
		"tests": []any{map[string]any{
			"interval": "1m", "input_series": series,
			"promql_expr_test": []any{
				map[string]any{"expr": expr, "eval_time": "5m", "exp_samples": samples},
				// Every namespace has its row, whatever the mappings.
				map[string]any{"expr": "count(" + expr + ")", "eval_time": "5m", "exp_samples": []any{map[string]any{"labels": "{}", "value": len(statuses)}}},
			},
		}},
	}
	data, err := yaml.Marshal(test)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "table_test.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "test", "rules", "table_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the criterion table's query does not show each namespace with its status: promtool %v\n%s\n%s", err, out, data)
	}
}

// TestDashboardIsNotMisledByForgedSeries: series someone else exports under the operator's
// names (docs/monitoring.md: a tenant scraped with its labels honoured) may make the dashboard
// look worse, never better, and are shown. The operator's pod is soc2-operator-a, scraped by job
// soc2-operator-metrics and down now; the tenant's exporter, metrics-exporter, scraped by job
// kubernetes-pods with two other pods, exports a Compliant verdict and result for NonCompliant
// legacy and a Compliant verdict for billing, whose report is stale, a Pass and an Unknown status
// and a second Fail for legacy's failing criterion, negative counts, NaN, a high steady Critical
// count for payments, a fresh heartbeat, a Ready of -1, a journal written just now, a later
// expiry of legacy's exception, no exception left unkept (the leader could not keep 3) and a
// process that restarted.
func TestDashboardIsNotMisledByForgedSeries(t *testing.T) {
	const (
		op     = `job="soc2-operator-metrics",instance="10.0.0.1:8443",pod="soc2-operator-a"`
		tenant = `job="kubernetes-pods",instance="10.244.3.7:9100",pod="metrics-exporter"`
	)
	series := []map[string]any{
		{"series": `soc2_operator_namespace_compliant{profile="p",namespace="legacy",` + op + `}`, "values": "0x20"},
		{"series": `soc2_operator_namespace_compliant{profile="p",namespace="legacy",` + tenant + `}`, "values": "1x20"},
		{"series": `soc2_operator_namespace_compliant{profile="p",namespace="shop",` + op + `}`, "values": "1x20"},
		{"series": `soc2_operator_namespace_result{profile="p",namespace="legacy",result="NonCompliant",` + op + `}`, "values": "1x20"},
		{"series": `soc2_operator_namespace_result{profile="p",namespace="legacy",result="Compliant",` + tenant + `}`, "values": "1x20"},
		{"series": `soc2_operator_namespace_result{profile="p",namespace="legacy",result="Unknown",` + tenant + `}`, "values": "1x20"},
		{"series": `soc2_operator_namespace_result{profile="p",namespace="shop",result="Compliant",` + op + `}`, "values": "1x20"},
		// billing's report is stale: the operator exports no verdict for it, the tenant a Compliant one.
		{"series": `soc2_operator_namespace_result{profile="p",namespace="billing",result="Unknown",` + op + `}`, "values": "1x20"},
		{"series": `soc2_operator_namespace_compliant{profile="p",namespace="billing",` + tenant + `}`, "values": "1x20"},
		{"series": `soc2_operator_criterion_status{profile="p",namespace="legacy",criterion="CC6.1",status="Fail",` + op + `}`, "values": "1x20"},
		{"series": `soc2_operator_criterion_status{profile="p",namespace="legacy",criterion="CC6.1",status="Fail",` + tenant + `}`, "values": "1x20"},
		{"series": `soc2_operator_criterion_status{profile="p",namespace="legacy",criterion="CC6.1",status="Pass",` + tenant + `}`, "values": "9x20"},
		{"series": `soc2_operator_criterion_status{profile="p",namespace="legacy",criterion="CC6.1",status="Unknown",` + tenant + `}`, "values": "1x20"},
		{"series": `soc2_operator_findings{profile="p",namespace="legacy",severity="Critical",result="Fail",` + op + `}`, "values": "3x20"},
		{"series": `soc2_operator_findings{profile="p",namespace="legacy",severity="Critical",result="Fail",` + tenant + `}`, "values": "-5x20"},
		{"series": `soc2_operator_findings{profile="p",namespace="payments",severity="Critical",result="Fail",` + op + `}`, "values": "2x10 3x10"},
		{"series": `soc2_operator_findings{profile="p",namespace="payments",severity="Critical",result="Fail",` + tenant + `}`, "values": "9x20"},
		{"series": `soc2_operator_reports_stale{profile="p",` + op + `}`, "values": "2x20"},
		{"series": `soc2_operator_reports_stale{profile="p",` + tenant + `}`, "values": "-3x20"},
		{"series": `soc2_operator_findings{profile="p",namespace="legacy",severity="High",result="Excepted",` + op + `}`, "values": "1x20"},
		// Two unread findings in legacy (fail their criteria closed, counted apart from failing),
		// which a tenant's negative count may not lower.
		{"series": `soc2_operator_findings{profile="p",namespace="legacy",severity="Critical",result="Unread",` + op + `}`, "values": "1x20"},
		{"series": `soc2_operator_findings{profile="p",namespace="legacy",severity="Low",result="Unread",` + op + `}`, "values": "1x20"},
		{"series": `soc2_operator_findings{profile="p",namespace="legacy",severity="Low",result="Unread",` + tenant + `}`, "values": "-4x20"},
		// padded gained a Critical finding unread 15 minutes ago: new, as a failing one is.
		{"series": `soc2_operator_findings{profile="p",namespace="padded",severity="Critical",result="Unread",` + op + `}`, "values": "0x10 1x10"},
		// NaN, alone in a namespace (or profile series) of its own, made every sum NaN, which the
		// stat panels show on their base (green) colour.
		{"series": `soc2_operator_findings{profile="p",namespace="ghost",severity="Critical",result="Fail",` + tenant + `}`, "values": "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN"},
		{"series": `soc2_operator_findings{profile="p",namespace="ghost",severity="Critical",result="Excepted",` + tenant + `}`, "values": "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN"},
		{"series": `soc2_operator_reports_stale{profile="p",job="kubernetes-pods",instance="10.244.3.8:8080",pod="web-1"}`, "values": "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN"},
		{"series": `soc2_operator_exceptions{namespace="ghost",state="Expired",` + tenant + `}`, "values": "NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN NaN"},
		{"series": `soc2_operator_exceptions{namespace="legacy",state="Expired",` + op + `}`, "values": "2x20"},
		{"series": `soc2_operator_exceptions{namespace="legacy",state="Expired",` + tenant + `}`, "values": "-2x20"},
		{"series": `soc2_operator_exception_expiry_timestamp_seconds{namespace="legacy",exception="legacy-hostpath",` + op + `}`, "values": "87600x20"},
		{"series": `soc2_operator_exception_expiry_timestamp_seconds{namespace="legacy",exception="legacy-hostpath",` + tenant + `}`, "values": "31536000x20"},
		// The leader could not keep 3 Active exceptions; the tenant says none.
		{"series": `soc2_operator_exceptions_not_kept{` + op + `}`, "values": "3x20"},
		{"series": `soc2_operator_exceptions_not_kept{` + tenant + `}`, "values": "0x20"},
		{"series": `soc2_operator_profile_ready{profile="p",` + op + `}`, "values": "0x20"},
		{"series": `soc2_operator_profile_ready{profile="p",` + tenant + `}`, "values": "-1x20"},
		// The operator's heartbeat stopped at minute 0, and its journal's last write too.
		{"series": `soc2_operator_last_evaluation_timestamp_seconds{profile="p",` + op + `}`, "values": "0x20"},
		{"series": `soc2_operator_last_evaluation_timestamp_seconds{profile="p",` + tenant + `}`, "values": "0+60x20"},
		{"series": `soc2_operator_journal_last_write_timestamp_seconds{` + op + `}`, "values": "1x20"},
		{"series": `soc2_operator_journal_last_write_timestamp_seconds{` + tenant + `}`, "values": "0+60x20"},
		// Prometheus's own: the operator's target is down, the tenant's job has three up, one of
		// which restarted.
		{"series": `up{` + op + `}`, "values": "0x20"},
		{"series": `up{` + tenant + `}`, "values": "1x20"},
		{"series": `up{job="kubernetes-pods",instance="10.244.3.8:8080",pod="web-1"}`, "values": "1x20"},
		{"series": `up{job="kubernetes-pods",instance="10.244.3.9:8080",pod="web-2"}`, "values": "1x20"},
		{"series": `process_start_time_seconds{` + op + `}`, "values": "100x20"},
		{"series": `process_start_time_seconds{` + tenant + `}`, "values": "100x10 700x10"},
	}
	d := loadDashboard(t)
	byTitle := map[string]string{}
	for _, q := range queries(t, d) {
		byTitle[q.where] = q.expr
	}
	// shown is the value a panel's value mappings show as text.
	shown := func(panel, text string) float64 {
		for _, p := range panels(d) {
			if !strings.HasPrefix(panel, strings.TrimPrefix(title(p), fmt.Sprintf("panel %d ", *p.Id))) || p.FieldConfig == nil {
				continue
			}
			for _, m := range p.FieldConfig.Defaults.Mappings {
				if m.ValueMap == nil {
					continue
				}
				for v, r := range m.ValueMap.Options {
					if r.Text != nil && *r.Text == text {
						f, err := strconv.ParseFloat(v, 64)
						if err != nil {
							t.Fatal(err)
						}
						return f
					}
				}
			}
		}
		t.Fatalf("%s: no value mapping shows %q", panel, text)
		return 0
	}
	// what each panel must show at minute 20, the namespaces selected, and the value (or, for
	// a query of several series, the samples).
	cases := []struct {
		panel, namespace, wrap string
		value                  float64
		samples                []any
	}{
		{panel: `"Compliant namespaces" query A`, namespace: ".*", value: 1},
		{panel: `"Non-compliant namespaces" query A`, namespace: ".*", value: 1},
		{panel: `"Failing Critical findings" query A`, namespace: "legacy", value: 3},
		// Each namespace's count once, the largest: legacy 3 and payments 9, not 3 + 3 + 9.
		{panel: `"Failing Critical findings" query A`, namespace: ".*", value: 12},
		// payments has one Critical finding more than 15 minutes ago: at least one is new.
		{panel: `"New Critical findings (15 min)" query A`, namespace: "payments", wrap: "count((%s) >= 1)", value: 1},
		{panel: `"Stale reports" query A`, namespace: ".*", value: 2},
		{panel: `"Since the last evaluation" query A`, namespace: ".*", value: 1200},
		// Each namespace is counted once, by its worst result: legacy NonCompliant, shop Compliant,
		// billing Unknown.
		{panel: `"Namespaces by result" query A`, namespace: ".*", value: 1},
		{panel: `"Namespaces by result" query B`, namespace: ".*", value: 1},
		{panel: `"Namespaces by result" query D`, namespace: ".*", value: 1},
		{panel: `"Namespaces failing each criterion" query A`, namespace: ".*", samples: []any{map[string]any{"labels": `{criterion="CC6.1"}`, "value": 1}}},
		{panel: `"Criterion status (namespace × criterion)" query A`, namespace: ".*", wrap: "max(%s)", value: shown(`"Criterion status (namespace × criterion)"`, "Fail")},
		{panel: `"Failing findings by severity" query A`, namespace: "legacy", samples: []any{map[string]any{"labels": `{severity="Critical"}`, "value": 3}}},
		{panel: `"Failing findings by severity" query A`, namespace: ".*", samples: []any{map[string]any{"labels": `{severity="Critical"}`, "value": 12}}},
		{panel: `"Failing findings by severity" query B`, namespace: ".*", samples: []any{map[string]any{"labels": `{}`, "value": 1}}},
		{panel: `"New Critical findings (15 min)" query A`, namespace: ".*", wrap: "count((%s) >= 1)", value: 1},
		{panel: `"New Critical findings (15 min)" query A`, namespace: "padded", value: 1},
		// legacy's two and padded's one.
		{panel: `"Failing findings by severity" query C`, namespace: ".*", samples: []any{map[string]any{"labels": `{}`, "value": 3}}},
		{panel: `"Failing findings by namespace and severity" query A`, namespace: "legacy", samples: []any{
			map[string]any{"labels": `{namespace="legacy",severity="Critical"}`, "value": 3}, map[string]any{"labels": `{namespace="legacy",severity="Unread"}`, "value": 2}}},
		{panel: `"ControlExceptions by state" query A`, namespace: ".*", samples: []any{map[string]any{"labels": `{state="Expired"}`, "value": 2}}},
		// The exception expires at 87600 s, the soonest any series gives, in one row.
		{panel: `"Active exceptions and their expiry" query A`, namespace: ".*", samples: []any{map[string]any{"labels": `{namespace="legacy",exception="legacy-hostpath"}`, "value": 87600 - 1200}}},
		{panel: `"Since the last journal write" query A`, namespace: ".*", value: 1199},
		{panel: `"Exceptions not kept" query A`, namespace: ".*", value: 3},
		{panel: `"Profile ready" query A`, namespace: ".*", value: shown(`"Profile ready"`, "Not ready")},
		{panel: `"Heartbeat" query A`, namespace: ".*", samples: []any{map[string]any{"labels": `{profile="p"}`, "value": 1200}}},
		// The replicas up and the restarts are per job: the tenant's job is not the operator's.
		{panel: `"Operator replicas up" query A`, namespace: ".*", samples: []any{
			map[string]any{"labels": `{job="soc2-operator-metrics"}`, "value": 0}, map[string]any{"labels": `{job="kubernetes-pods"}`, "value": 3}}},
		{panel: `"Restarts (24 h)" query A`, namespace: ".*", samples: []any{
			map[string]any{"labels": `{job="soc2-operator-metrics"}`, "value": 0}, map[string]any{"labels": `{job="kubernetes-pods"}`, "value": 1}}},
		// Two targets export heartbeats, legacy has two results and CC6.1 there three statuses.
		{panel: `"Series exported more than once" query A`, namespace: ".*", value: 3},
	}
	var exprTests []any
	for _, c := range cases {
		var expr string
		for where, e := range byTitle {
			if strings.HasSuffix(where, c.panel) {
				expr = e
			}
		}
		if expr == "" {
			t.Errorf("no panel %s in %s", c.panel, dashboardFile)
			continue
		}
		// Grafana's All of the Job variable: every job that exports soc2_operator_profile_ready.
		expr = strings.NewReplacer(`"$profile"`, `"p"`, `"$namespace"`, strconv.Quote(c.namespace), `"$criterion"`, `".*"`,
			`"$job"`, `"soc2-operator-metrics|kubernetes-pods"`).Replace(expr)
		expr = regexp.MustCompile(`\$\{?__rate_interval\}?`).ReplaceAllString(expr, "5m")
		if c.wrap != "" {
			expr = fmt.Sprintf(c.wrap, expr)
		}
		samples := c.samples
		if samples == nil {
			samples = []any{map[string]any{"labels": "{}", "value": c.value}}
		}
		exprTests = append(exprTests, map[string]any{"expr": expr, "eval_time": "20m", "exp_samples": samples})
	}
	data, err := yaml.Marshal(map[string]any{
		"evaluation_interval": "1m",
		"tests":               []any{map[string]any{"interval": "1m", "input_series": series, "promql_expr_test": exprTests}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "forged_test.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "test", "rules", "forged_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("a forged series misleads the dashboard: promtool %v\n%s", err, out)
	}
}
