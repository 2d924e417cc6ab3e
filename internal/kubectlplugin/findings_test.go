package kubectlplugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// A stale report (its namespace not evaluated for two of its profile's intervals) still holds
// the findings of its last evaluation. `kubectl soc2 status` marks it with * and says why;
// `kubectl soc2 findings` printed its findings, or "No findings in namespace legacy (report
// soc2-baseline: Compliant, 0 failing, 0 excepted)", with nothing saying they may no longer hold,
// so a privileged Deployment added since read as no finding at all.
func TestFindingsOfAStaleReportSayTheyMayNoLongerHold(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	evaluated := metav1.NewTime(now.Add(-3 * time.Hour))
	report := func(stale bool, findings ...v1alpha1.Finding) v1alpha1.ComplianceReport {
		r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "legacy", Name: "soc2-baseline"},
			Spec: v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"}}
		r.Status.Result = v1alpha1.Compliant
		r.Status.LastEvaluated = &evaluated
		r.Status.Findings = findings
		if stale {
			r.Status.Result = v1alpha1.NonCompliant
			r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionTrue,
				Reason: "EvaluationOverdue", Message: "not evaluated for 3h, twice the profile's interval"}}
		}
		return r
	}
	finding := v1alpha1.Finding{Check: "wl-privileged", Severity: v1alpha1.SeverityCritical, Result: v1alpha1.ResultFail,
		Resource: v1alpha1.ResourceRef{Kind: "Deployment", Name: "web"}, Message: "privileged"}
	run := func(r v1alpha1.ComplianceReport) (string, string) {
		var out, errOut bytes.Buffer
		e := &Env{Stdout: &out, Stderr: &errOut, Now: func() time.Time { return now }}
		if err := printFindings(e, "legacy", []v1alpha1.ComplianceReport{r}, &findingsOptions{output: "table"}, "", len(severities)-1); err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String()
	}

	for _, tc := range []struct {
		name   string
		report v1alpha1.ComplianceReport
		want   []string
	}{
		{"with findings", report(true, finding), []string{"note: report legacy/soc2-baseline is stale (EvaluationOverdue): not evaluated for 3h",
			"its findings are those of its last evaluation (3h ago)"}},
		{"without findings", report(true), []string{"No findings in namespace legacy (report soc2-baseline: NonCompliant (stale), 0 failing",
			"note: report legacy/soc2-baseline is stale"}},
	} {
		out, errOut := run(tc.report)
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, errOut)
			}
		}
		if tc.name == "with findings" && !strings.Contains(out, "wl-privileged") {
			t.Errorf("%s: the finding is not listed:\n%s", tc.name, out)
		}
	}
	if _, errOut := run(report(false, finding)); strings.Contains(errOut, "stale") {
		t.Errorf("a current report is said to be stale:\n%s", errOut)
	}
}

// TestFindingsOfOneKindNameInTwoGroupsReadApart: the Gateway API's Gateway edge and Istio's
// Gateway edge both fail net-service-exposure; `kubectl soc2 findings` listed both as
// Gateway/edge, two rows nobody could tell apart. Istio's reads Gateway.networking.istio.io/edge
// (kubectl's resource.group form); Kubernetes' own groups keep the bare kind.
func TestFindingsOfOneKindNameInTwoGroupsReadApart(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "soc2-baseline"},
		Spec: v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"}}
	r.Status.Result = v1alpha1.NonCompliant
	for _, apiVersion := range []string{"gateway.networking.k8s.io/v1", "networking.istio.io/v1"} {
		r.Status.Findings = append(r.Status.Findings, v1alpha1.Finding{Check: "net-service-exposure", Severity: v1alpha1.SeverityMedium,
			Result: v1alpha1.ResultFail, Resource: v1alpha1.ResourceRef{APIVersion: apiVersion, Kind: "Gateway", Namespace: "shop", Name: "edge"},
			Message: "publishes a port"})
	}
	var out, errOut bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &errOut, Now: func() time.Time { return now }}
	if err := printFindings(e, "shop", []v1alpha1.ComplianceReport{r}, &findingsOptions{output: "table"}, "", len(severities)-1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{" Gateway/edge ", " Gateway.networking.istio.io/edge "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

// TestFindingsAsJSONSayWhatTheyLeaveOut: a report lists its most severe findings only
// (spec.maxFindings, the size budget) and counts them all; one may be stale. The table notes both
// on standard error, but `kubectl soc2 findings -o json` (or yaml) returned early with the listed
// findings alone: a script counting `.findings` read 50 where the report counts 400 failing, and
// a stale report's findings as current, with nothing on either stream saying so. The notes go to
// standard error for every output, and the document names each report with what it lists, what it
// counts and whether it is stale.
func TestFindingsAsJSONSayWhatTheyLeaveOut(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	evaluated := metav1.NewTime(now.Add(-3 * time.Hour))
	r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "legacy", Name: "soc2-baseline"},
		Spec: v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"}}
	r.Status.Result = v1alpha1.Unknown
	r.Status.LastEvaluated = &evaluated
	r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionStale, Status: metav1.ConditionTrue,
		Reason: "EvaluationOverdue", Message: "not evaluated for 3h, twice the profile's interval"}}
	r.Status.Findings = []v1alpha1.Finding{{Check: "wl-privileged", Severity: v1alpha1.SeverityCritical, Result: v1alpha1.ResultFail,
		Resource: v1alpha1.ResourceRef{Kind: "Deployment", Name: "web"}, Message: "privileged"}}
	r.Status.TotalFindings, r.Status.FindingsTruncated = 400, true
	r.Status.Summary.Failing = 400
	for _, output := range []string{"json", "yaml"} {
		var out, errOut bytes.Buffer
		e := &Env{Stdout: &out, Stderr: &errOut, Now: func() time.Time { return now }}
		if err := printFindings(e, "legacy", []v1alpha1.ComplianceReport{r}, &findingsOptions{output: output}, "", len(severities)-1); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"note: report legacy/soc2-baseline lists 1 of its 400 findings", "note: report legacy/soc2-baseline is stale (EvaluationOverdue)"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("-o %s: stderr lacks %q:\n%s", output, want, errOut.String())
			}
		}
		var doc struct {
			Findings []FindingItem `json:"findings"`
			Reports  []struct {
				Namespace         string `json:"namespace"`
				Profile           string `json:"profile"`
				Result            string `json:"result"`
				ListedFindings    int    `json:"listedFindings"`
				TotalFindings     int    `json:"totalFindings"`
				FindingsTruncated bool   `json:"findingsTruncated"`
				Stale             bool   `json:"stale"`
			} `json:"reports"`
		}
		if err := yaml.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("-o %s: %v\n%s", output, err, out.String())
		}
		if len(doc.Findings) != 1 || len(doc.Reports) != 1 {
			t.Fatalf("-o %s: %d findings and %d reports, want 1 and 1:\n%s", output, len(doc.Findings), len(doc.Reports), out.String())
		}
		got := doc.Reports[0]
		if got.Namespace != "legacy" || got.Profile != "soc2-baseline" || got.Result != "Unknown" || got.ListedFindings != 1 ||
			got.TotalFindings != 400 || !got.FindingsTruncated || !got.Stale {
			t.Errorf("-o %s: report %+v, want legacy, soc2-baseline, Unknown, 1 of 400 listed, truncated, stale", output, got)
		}
	}
}
