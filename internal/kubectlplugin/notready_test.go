package kubectlplugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// A report evaluated without some kinds (the operator may not list NetworkPolicies) says
// Ready=False, KindsUnreadable: what those kinds decide is NotAssessed, and its Compliant rests
// on the rest. `kubectl soc2 status` showed it as "Compliant" beside a current report and
// `kubectl soc2 findings` as "No findings in namespace shop (report soc2-baseline: Compliant, 0
// failing, 0 excepted)", with nothing saying the evaluation was incomplete.
func TestAReportThatIsNotReadySaysSo(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	evaluated := metav1.NewTime(now.Add(-time.Minute))
	report := func(complete bool) v1alpha1.ComplianceReport {
		r := v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "soc2-baseline"},
			Spec: v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"}}
		r.Status.Result = v1alpha1.Compliant
		r.Status.LastEvaluated = &evaluated
		r.Status.Criteria = []v1alpha1.CriterionStatus{{ID: "CC6.6", Status: v1alpha1.CriterionPass, Checks: 2, UnassessedChecks: 1}}
		ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluated,
			Message: "Evaluated 3 resources against profile soc2-baseline"}
		if !complete {
			ready.Status, ready.Reason = metav1.ConditionFalse, v1alpha1.ReasonKindsUnreadable
			ready.Message = "Evaluated 3 resources against profile soc2-baseline, not all of it: the operator may not list NetworkPolicy\x1b[2J"
		}
		r.Status.Conditions = []metav1.Condition{ready,
			{Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate}}
		return r
	}
	env := func() (*Env, *bytes.Buffer, *bytes.Buffer) {
		var out, errOut bytes.Buffer
		return &Env{Stdout: &out, Stderr: &errOut, Now: func() time.Time { return now }}, &out, &errOut
	}

	e, out, _ := env()
	if err := statusTable(e.Stdout, e, []v1alpha1.ComplianceReport{report(false)}, 0); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Compliant*", "* shop/soc2-baseline is not Ready (KindsUnreadable): Evaluated 3 resources against profile soc2-baseline, not all of it: the operator may not list NetworkPolicy"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out.String(), "\x1b") {
		t.Errorf("status writes the message's control characters for the terminal to obey:\n%q", out)
	}

	e, _, errOut := env()
	if err := printFindings(e, "shop", []v1alpha1.ComplianceReport{report(false)}, &findingsOptions{output: "table"}, "", len(severities)-1); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"(report soc2-baseline: Compliant (not Ready), 0 failing",
		"note: report shop/soc2-baseline is not Ready (KindsUnreadable): Evaluated 3 resources"} {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("findings lacks %q:\n%s", w, errOut)
		}
	}

	e, out, errOut = env()
	if err := statusTable(e.Stdout, e, []v1alpha1.ComplianceReport{report(true)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := printFindings(e, "shop", []v1alpha1.ComplianceReport{report(true)}, &findingsOptions{output: "table"}, "", len(severities)-1); err != nil {
		t.Fatal(err)
	}
	if s := out.String() + errOut.String(); strings.Contains(s, "*") || strings.Contains(s, "not Ready") {
		t.Errorf("a Ready report is said not to be:\n%s", s)
	}
}
