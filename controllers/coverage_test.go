package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// profileEvents are the Events of a profile with that reason (Events on a cluster-scoped
// object go to namespace default).
func profileEvents(t *testing.T, profile, reason string) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "ComplianceProfile" && e.Regarding.Name == profile && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// A profile whose namespace selector matches no namespace (a typo in a label, a namespace not
// created yet) assessed only the cluster-scoped objects, and said Ready=True, "Evaluated 0
// namespaces", with the result of those objects alone: Compliant, in `kubectl get cprof`, for a
// profile that assessed no workload at all. It must say that it selects no namespace (Ready=False,
// reason NoNamespacesSelected, naming spec.namespaceSelector) and not read Compliant; once a
// namespace is selected it is Ready again.
func TestAProfileThatSelectsNoNamespaceSaysSo(t *testing.T) {
	ctx := context.Background()
	const profile = "cov-none"
	// Only a check that judges cluster-scoped objects and passes on every one, so that the
	// cluster-scoped objects alone make a Compliant result.
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "")
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "cov-cluster-roles", Title: "ClusterRoles exist", Kinds: []string{"ClusterRole"},
			Expression: "true", Criteria: []v1alpha1.Criterion{"CC6.1"}}}
	})
	eventually(t, 20*time.Second, "the profile says it selects no namespace", func() error {
		c, p, err := profileReady(ctx, profile)
		if err != nil {
			return err
		}
		if p.Status.ObservedGeneration != p.Generation {
			return fmt.Errorf("not evaluated yet")
		}
		if c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonNoNamespacesSelected || !strings.Contains(c.Message, "spec.namespaceSelector") {
			return fmt.Errorf("Ready %s %s %q, result %s, %d namespaces: want Ready=False, %s naming spec.namespaceSelector",
				c.Status, c.Reason, c.Message, p.Status.Result, p.Status.NamespacesEvaluated, v1alpha1.ReasonNoNamespacesSelected)
		}
		if p.Status.Result == v1alpha1.Compliant {
			return fmt.Errorf("result %s with %d namespaces evaluated: want not Compliant", p.Status.Result, p.Status.NamespacesEvaluated)
		}
		return nil
	})

	createNamespace(t, "cov-none-a", map[string]string{profile: "true"})
	waitWritten(t, "cov-none-a", profile)
	eventually(t, 20*time.Second, "the profile is Ready once it selects a namespace", func() error {
		c, p, err := profileReady(ctx, profile)
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonEvaluated || p.Status.NamespacesEvaluated != 1 {
			return fmt.Errorf("Ready %s %s %q, %d namespaces", c.Status, c.Reason, c.Message, p.Status.NamespacesEvaluated)
		}
		return nil
	})
}

// Two profiles over one namespace, with other parameters, severities and exception policies,
// each write their own report, judged by their own plan: nothing one profile sets (an allowed
// registry, a check switched off, a severity, an exception limited to it) reaches the other's.
func TestTwoProfilesOverOneNamespaceJudgeEachWithItsOwnSpec(t *testing.T) {
	ctx := context.Background()
	const ns, lenient, strict = "cov-two", "cov-two-lenient", "cov-two-strict"
	createNamespace(t, ns, map[string]string{lenient: "true", strict: "true"})
	if err := k8s.Create(ctx, deployment(ns, "web", true)); err != nil { // registry.example.com, privileged init container
		t.Fatal(err)
	}
	no := false
	createProfile(t, lenient, lenient, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Parameters = &v1alpha1.CheckParameters{AllowedRegistries: []string{"registry.example.com/"}}
		p.Spec.Checks = []v1alpha1.CheckOverride{{ID: "img-digest-pinned", Enabled: &no}, {ID: "wl-privileged", Severity: v1alpha1.SeverityLow}}
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	createProfile(t, strict, strict, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Parameters = &v1alpha1.CheckParameters{AllowedRegistries: []string{"ghcr.io/my-org/"}}
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	// An exception of the tenant's, for the lenient profile only.
	createApproved(t, &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "setup-privileged", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Profiles: []string{lenient},
			Reason: "The setup step loads a kernel module until the node image ships it.", Owner: "team@example.com",
			Expires: metav1.NewTime(clk.Now().Add(24 * time.Hour)),
		},
	})
	eventually(t, 30*time.Second, "each report judged under its own profile", func() error {
		l, err := getReport(ns, lenient)
		if err != nil {
			return err
		}
		s, err := getReport(ns, strict)
		if err != nil {
			return err
		}
		var problems []string
		if f := finding(l, "wl-privileged", "web", "setup"); f == nil || f.Result != v1alpha1.ResultExcepted || f.Severity != v1alpha1.SeverityLow {
			problems = append(problems, fmt.Sprintf("lenient wl-privileged %+v, want Excepted, Low", f))
		}
		if f := finding(s, "wl-privileged", "web", "setup"); f == nil || f.Result != v1alpha1.ResultFail || f.Severity != v1alpha1.SeverityCritical {
			problems = append(problems, fmt.Sprintf("strict wl-privileged %+v, want Fail, Critical", f))
		}
		for _, c := range []string{"app", "setup"} {
			if f := finding(l, "img-registry-allowlist", "web", c); f != nil {
				problems = append(problems, fmt.Sprintf("lenient img-registry-allowlist on %s: %+v, want none", c, f))
			}
			if f := finding(s, "img-registry-allowlist", "web", c); f == nil || f.Result != v1alpha1.ResultFail {
				problems = append(problems, fmt.Sprintf("strict img-registry-allowlist on %s: %+v, want Fail", c, f))
			}
			if f := finding(l, "img-digest-pinned", "web", c); f != nil {
				problems = append(problems, fmt.Sprintf("lenient img-digest-pinned on %s: %+v, want none (off)", c, f))
			}
			if f := finding(s, "img-digest-pinned", "web", c); f == nil || f.Result != v1alpha1.ResultFail {
				problems = append(problems, fmt.Sprintf("strict img-digest-pinned on %s: %+v, want Fail", c, f))
			}
		}
		// The exception is in play in the lenient profile's report only.
		if len(l.Status.Exceptions) != 1 || l.Status.Exceptions[0].Name != ns+"/setup-privileged" || l.Status.Exceptions[0].Findings != 1 {
			problems = append(problems, fmt.Sprintf("lenient exceptions %+v, want %s/setup-privileged covering 1", l.Status.Exceptions, ns))
		}
		if len(s.Status.Exceptions) != 0 {
			problems = append(problems, fmt.Sprintf("strict exceptions %+v, want none: the exception is for %s only", s.Status.Exceptions, lenient))
		}
		if s.Status.Result != v1alpha1.NonCompliant {
			problems = append(problems, "strict result "+string(s.Status.Result))
		}
		for _, rep := range []*v1alpha1.ComplianceReport{l, s} {
			if rep.Spec.Profile != rep.Name || rep.Labels[v1alpha1.LabelProfile] != rep.Name {
				problems = append(problems, fmt.Sprintf("report %s names profile %q (label %q)", rep.Name, rep.Spec.Profile, rep.Labels[v1alpha1.LabelProfile]))
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("%s", strings.Join(problems, "; "))
		}
		return nil
	})
}
