package controllers

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestKindsUnreadableNamesOnlyWhatTheProfileReads: a cluster admin withholds ConfigMaps from
// the operator (they may hold anything) and turns sec-configmap-credentials and
// net-ingress-snippets, the checks that read them (the latter the ConfigMap an Ingress's
// auth-proxy-set-headers names, since 9a40f95c), off in the profile. Nothing the profile judges rests on a ConfigMap, yet its
// Ready condition read False, KindsUnreadable, "the checks that judge or read these kinds are
// NotAssessed in every report: ConfigMap", for as long as the operator ran: an alarm that
// never ends and means nothing, which an auditor learns to ignore. A profile that runs the
// check is still told, with what to grant. A custom check of ConfigMaps is told the same, not
// that its kind is one the operator does not read (InvalidCustomCheck: the check is right, the
// operator's permissions are not).
func TestKindsUnreadableNamesOnlyWhatTheProfileReads(t *testing.T) {
	r := reconcilerOver(t, failing(t, interceptor.Funcs{}), "Namespace", "Deployment")
	r.Gatherer.Unseen = map[string]engine.Unseen{"ConfigMap": {Namespaced: true,
		Reason: "the operator may not list or watch configmaps: grant them in its ClusterRole (config/rbac) and restart it"}}
	off := false
	for name, tc := range map[string]struct {
		profile string
		checks  []v1alpha1.CheckOverride
		custom  []v1alpha1.CustomCheck
		want    bool
	}{
		"a custom check of ConfigMaps": {profile: "configmaps-withheld-custom", checks: []v1alpha1.CheckOverride{{ID: "sec-configmap-credentials", Enabled: &off}},
			custom: []v1alpha1.CustomCheck{{ID: "custom-configmaps-labelled", Title: "ConfigMaps are labelled", Kinds: []string{"ConfigMap"},
				Expression: "has(object.metadata.labels)", Criteria: []v1alpha1.Criterion{"CC8.1"}}}, want: true},
		"sec-configmap-credentials and net-ingress-snippets off": {profile: "configmaps-withheld-check-off", checks: []v1alpha1.CheckOverride{
			{ID: "sec-configmap-credentials", Enabled: &off}, {ID: "net-ingress-snippets", Enabled: &off}}},
		// net-ingress-snippets reads the ConfigMaps that Ingresses' auth-proxy-set-headers name:
		// its results rest on them, and the profile is told.
		"net-ingress-snippets on": {profile: "configmaps-withheld-snippets-on", checks: []v1alpha1.CheckOverride{{ID: "sec-configmap-credentials", Enabled: &off}}, want: true},
		"every check on":          {profile: "configmaps-withheld", want: true},
	} {
		t.Run(name, func(t *testing.T) {
			profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: tc.profile},
				Spec: v1alpha1.ComplianceProfileSpec{Checks: tc.checks, CustomChecks: tc.custom}}
			var got *engine.Problem
			for _, p := range r.watchProblems(context.Background(), profile, r.state.plan(profile, r.Catalogue).plan) {
				switch p.Reason {
				case v1alpha1.ReasonKindsUnreadable:
					got = &p
				case v1alpha1.ReasonInvalidCustomCheck:
					// The operator reads ConfigMaps when it may: the check is not wrong, the
					// operator's permissions are.
					t.Errorf("%s: %s", p.Reason, p.Message)
				}
			}
			switch {
			case !tc.want && got != nil:
				t.Errorf("KindsUnreadable %q, though no check of the profile judges or reads ConfigMaps", got.Message)
			case tc.want && (got == nil || !strings.Contains(got.Message, "ConfigMap: the operator may not list or watch configmaps")):
				t.Errorf("KindsUnreadable %+v; want it to name ConfigMap and what to grant", got)
			}
		})
	}
}
