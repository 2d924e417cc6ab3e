package metrics

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// scrape gathers the named series of collectors as `name{label="value",...} value` lines,
// sorted: what a Prometheus scrape of them shows.
func scrape(t *testing.T, name string, c prometheus.Collector) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out = append(out, fmt.Sprintf("%s{%s} %g", name, strings.Join(labels, ","), m.GetGauge().GetValue()))
		}
	}
	sort.Strings(out)
	return out
}

// TestNamespaceSeriesSayTheReportsResult sets a namespace's series from a NonCompliant report
// and then from each result, and checks what a scrape shows: soc2_operator_namespace_compliant
// is 1 only for Compliant and 0 only for NonCompliant (the SOC2NamespaceNonCompliant alert is
// `== 0`), and absent for NotAssessed and Unknown, which are neither;
// soc2_operator_namespace_result names the one result.
func TestNamespaceSeriesSayTheReportsResult(t *testing.T) {
	for result, want := range map[v1alpha1.ComplianceState][]string{
		v1alpha1.Compliant:    {`soc2_operator_namespace_compliant{namespace="ns",profile="p"} 1`},
		v1alpha1.NonCompliant: {`soc2_operator_namespace_compliant{namespace="ns",profile="p"} 0`},
		v1alpha1.NotAssessed:  nil,
		v1alpha1.Unknown:      nil,
	} {
		t.Run(string(result), func(t *testing.T) {
			t.Cleanup(func() { ForgetProfile("p") })
			SetNamespace("p", "ns", &v1alpha1.ComplianceReportStatus{Result: v1alpha1.NonCompliant}, nil)
			SetNamespace("p", "ns", &v1alpha1.ComplianceReportStatus{Result: result}, nil)
			if got := scrape(t, "soc2_operator_namespace_compliant", NamespaceCompliant); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("report %s: scraped %q, want %q", result, got, want)
			}
			wantResult := `soc2_operator_namespace_result{namespace="ns",profile="p",result="` + string(result) + `"} 1`
			if got := scrape(t, "soc2_operator_namespace_result", NamespaceResult); strings.Join(got, "\n") != wantResult {
				t.Errorf("report %s: scraped %q, want %q", result, got, wantResult)
			}
		})
	}
}

// TestCriteriaOutOfScopeAreDropped narrows the criteria of a namespace's report and of the
// cluster-scoped objects (the profile's spec.criteria was edited): the criteria no longer
// reported are no longer served, so no criterion keeps a status the report no longer shows.
func TestCriteriaOutOfScopeAreDropped(t *testing.T) {
	t.Cleanup(func() { ForgetProfile("p") })
	before := []v1alpha1.CriterionStatus{{ID: "CC6.1", Status: v1alpha1.CriterionFail}, {ID: "CC8.1", Status: v1alpha1.CriterionFail}}
	after := []v1alpha1.CriterionStatus{{ID: "CC8.1", Status: v1alpha1.CriterionPass}}
	SetNamespace("p", "ns", &v1alpha1.ComplianceReportStatus{Result: v1alpha1.NonCompliant, Criteria: before}, nil)
	SetCluster("p", before, nil, nil, 0)
	SetNamespace("p", "ns", &v1alpha1.ComplianceReportStatus{Result: v1alpha1.Compliant, Criteria: after}, nil)
	SetCluster("p", after, nil, nil, 0)
	want := []string{
		`soc2_operator_criterion_status{criterion="CC8.1",namespace="",profile="p",status="Pass"} 1`,
		`soc2_operator_criterion_status{criterion="CC8.1",namespace="ns",profile="p",status="Pass"} 1`,
	}
	if got := scrape(t, "soc2_operator_criterion_status", CriterionStatus); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scraped\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Forgetting the namespace and the profile forgets what was recorded, so that setting
	// them again starts afresh.
	ForgetNamespace("p", "ns")
	SetNamespace("p", "ns", &v1alpha1.ComplianceReportStatus{Result: v1alpha1.NonCompliant, Criteria: before}, nil)
	ForgetProfile("p")
	if got := scrape(t, "soc2_operator_criterion_status", CriterionStatus); len(got) != 0 {
		t.Errorf("served after the profile was forgotten: %q", got)
	}
}

// TestStaleNamespaceIsUnknownUntilWrittenAgain: while a namespace's report is stale its
// criteria are Unknown and its findings counts absent; the next evaluation written serves its
// own verdict again, with no Unknown left behind.
func TestStaleNamespaceIsUnknownUntilWrittenAgain(t *testing.T) {
	t.Cleanup(func() { ForgetProfile("p") })
	criteria := []v1alpha1.CriterionStatus{{ID: "CC6.1", Status: v1alpha1.CriterionPass}}
	current := &v1alpha1.ComplianceReportStatus{Result: v1alpha1.Compliant, Criteria: criteria}
	SetNamespace("p", "ns", current, nil)
	SetNamespaceStale("p", "ns", criteria)
	want := `soc2_operator_criterion_status{criterion="CC6.1",namespace="ns",profile="p",status="Unknown"} 1`
	if got := scrape(t, "soc2_operator_criterion_status", CriterionStatus); strings.Join(got, "\n") != want {
		t.Errorf("stale: scraped %q, want %q", got, want)
	}
	if got := scrape(t, "soc2_operator_findings", Findings); len(got) != 0 {
		t.Errorf("stale: findings counts served: %q", got)
	}
	SetNamespace("p", "ns", current, nil)
	want = `soc2_operator_criterion_status{criterion="CC6.1",namespace="ns",profile="p",status="Pass"} 1`
	if got := scrape(t, "soc2_operator_criterion_status", CriterionStatus); strings.Join(got, "\n") != want {
		t.Errorf("written again: scraped %q, want %q", got, want)
	}
	if got := scrape(t, "soc2_operator_findings", Findings); len(got) != 9 {
		t.Errorf("written again: findings counts %q, want the failing and the unread per severity and the excepted count", got)
	}
}

// TestUnreadFindingsAreCountedBySeverity: a namespace whose only problem is a Critical
// resource the operator did not read all of (its criterion fails closed; the report's failing
// and critical are 0) served soc2_operator_findings with result="Fail" 0 for every severity and
// nothing else: a panel or alert on findings saw none. Its unread findings are served by
// severity as result="Unread", for the namespace and for the cluster-scoped objects, and go as
// the failing ones do: while the report is stale, when the cluster-scoped objects could not be
// evaluated, and with the report.
func TestUnreadFindingsAreCountedBySeverity(t *testing.T) {
	const profile = "unread-unit"
	t.Cleanup(func() { ForgetProfile(profile) })
	criteria := []v1alpha1.CriterionStatus{{ID: "CC6.1", Status: v1alpha1.CriterionFail, Unread: 2}}
	st := &v1alpha1.ComplianceReportStatus{Result: v1alpha1.NonCompliant, Criteria: criteria,
		Summary: v1alpha1.ReportSummary{FailedCriteria: 1, Unread: 2, NotAssessed: 2}}
	SetNamespace(profile, "shop", st, map[v1alpha1.Severity]int{v1alpha1.SeverityCritical: 1, v1alpha1.SeverityLow: 1})
	SetCluster(profile, criteria, nil, map[v1alpha1.Severity]int{v1alpha1.SeverityHigh: 3}, 0)
	unread := func() []string {
		var out []string
		for _, s := range scrape(t, "soc2_operator_findings", Findings) {
			if strings.Contains(s, `result="Unread"`) && !strings.HasSuffix(s, " 0") {
				out = append(out, s)
			}
		}
		return out
	}
	want := []string{
		`soc2_operator_findings{namespace="",profile="unread-unit",result="Unread",severity="High"} 3`,
		`soc2_operator_findings{namespace="shop",profile="unread-unit",result="Unread",severity="Critical"} 1`,
		`soc2_operator_findings{namespace="shop",profile="unread-unit",result="Unread",severity="Low"} 1`,
	}
	if got := unread(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("unread findings served:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	served := 0
	for _, s := range scrape(t, "soc2_operator_findings", Findings) {
		if strings.Contains(s, `namespace="shop"`) && strings.Contains(s, `result="Unread"`) {
			served++
		}
	}
	if served != len(v1alpha1.Severities) {
		t.Errorf("%d unread series for the namespace, want one per severity (0 where none), as the failing ones", served)
	}

	// Fixed: the namespace's unread series say 0, as the failing ones do when fixed.
	SetNamespace(profile, "shop", &v1alpha1.ComplianceReportStatus{Result: v1alpha1.Compliant}, nil)
	want = want[:1]
	if got := unread(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after the resource was fixed, unread findings served:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	SetNamespace(profile, "shop", st, map[v1alpha1.Severity]int{v1alpha1.SeverityCritical: 1})
	SetNamespaceStale(profile, "shop", criteria)
	SetClusterUnknown(profile)
	if got := scrape(t, "soc2_operator_findings", Findings); len(got) != 0 {
		t.Errorf("stale report and cluster-scoped objects not evaluated: findings counts served: %q", got)
	}
	SetNamespace(profile, "shop", st, map[v1alpha1.Severity]int{v1alpha1.SeverityCritical: 1})
	ForgetNamespace(profile, "shop")
	if got := scrape(t, "soc2_operator_findings", Findings); len(got) != 0 {
		t.Errorf("after the report went, findings counts served: %q", got)
	}
}

// TestSetExceptionsReplacesWhatItRecorded: a recount serves the exceptions counted now, and
// the series of those that went (an exception deleted, or no longer Active) are gone.
func TestSetExceptionsReplacesWhatItRecorded(t *testing.T) {
	t.Cleanup(func() { SetExceptions(nil, nil, nil) })
	SetExceptions(map[[2]string]int{{"a", "Active"}: 2, {"b", "Expired"}: 1},
		map[[2]string]float64{{"a", "x"}: 100, {"a", "y"}: 200}, map[[2]string]bool{{"a", "x"}: true, {"a", "y"}: true})
	SetExceptions(map[[2]string]int{{"a", "Active"}: 1, {"a", "Expired"}: 1}, map[[2]string]float64{{"a", "y"}: 200}, map[[2]string]bool{{"a", "y"}: true, {"a", "z"}: false})
	if got, want := scrape(t, "soc2_operator_exception_covered_changed", ExceptionCoveredChanged), []string{
		`soc2_operator_exception_covered_changed{exception="y",namespace="a"} 1`,
	}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scraped %q, want %q", got, want)
	}
	if got, want := scrape(t, "soc2_operator_exceptions", Exceptions), []string{
		`soc2_operator_exceptions{namespace="a",state="Active"} 1`, `soc2_operator_exceptions{namespace="a",state="Expired"} 1`,
	}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scraped %q, want %q", got, want)
	}
	if got, want := scrape(t, "soc2_operator_exception_expiry_timestamp_seconds", ExceptionExpiry), []string{
		`soc2_operator_exception_expiry_timestamp_seconds{exception="y",namespace="a"} 200`,
	}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scraped %q, want %q", got, want)
	}
}

// TestFindingsOpenedAreTimedBySeverityAndForgotten: each severity of the new failing findings
// takes the time they were identified (an excepted one is not failing, and sets nothing), a
// later identification moves it, and the namespace's series go with its report.
func TestFindingsOpenedAreTimedBySeverityAndForgotten(t *testing.T) {
	const profile, ns = "opened-unit", "shop"
	t.Cleanup(func() { ForgetProfile(profile) })
	at := time.Unix(1800, 0)
	SetFindingsOpened(profile, ns, []v1alpha1.Finding{
		{Check: "wl-privileged", Severity: v1alpha1.SeverityCritical, Result: v1alpha1.ResultFail},
		{Check: "wl-host-network", Severity: v1alpha1.SeverityHigh, Result: v1alpha1.ResultExcepted},
	}, at)
	SetFindingsOpened(profile, ns, []v1alpha1.Finding{
		{Check: "wl-run-as-root", Severity: v1alpha1.SeverityHigh, Result: v1alpha1.ResultFail},
	}, at.Add(time.Minute))
	SetFindingsOpened(profile, ns, nil, at.Add(2*time.Minute))
	got := strings.Join(scrape(t, "soc2_operator_finding_opened_timestamp_seconds", FindingOpened), "\n")
	want := strings.Join([]string{
		`soc2_operator_finding_opened_timestamp_seconds{namespace="shop",profile="opened-unit",severity="Critical"} 1800`,
		`soc2_operator_finding_opened_timestamp_seconds{namespace="shop",profile="opened-unit",severity="High"} 1860`,
	}, "\n")
	if got != want {
		t.Fatalf("series:\n%s\nwant:\n%s", got, want)
	}
	ForgetNamespace(profile, ns)
	if got := scrape(t, "soc2_operator_finding_opened_timestamp_seconds", FindingOpened); len(got) != 0 {
		t.Fatalf("after the namespace's report went, series %v remain", got)
	}
}
