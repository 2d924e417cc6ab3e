package webhook_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestTheWebhookStopsJudgingAKindItMayNoLongerRead: the operator runs as a user that may read
// every kind, Trivy Operator's VulnerabilityReports by a binding of their own; a report names two
// critical vulnerabilities in the image of StatefulSet cache, in a namespace whose profile
// enforces High (denied, img-critical-cves) and in one whose profile warns (admitted with a
// warning). Then a cluster admin deletes that binding. The informer can no longer relist and the
// cache holds the report as it was; the reports' full evaluations ask again (Recheck) and say
// NotAssessed. The webhook did not:
//
//   - its confirmation of the denial with the API server was refused (forbidden) and it answered
//     "could not judge": the failurePolicy (Ignore by default) admitted the StatefulSet unjudged,
//     a privileged one too. It now reads the kind as unseen, as the reports do;
//   - under Warn it went on warning about the frozen report. It now rechecks at each tick
//     (WithRecheck).
func TestTheWebhookStopsJudgingAKindItMayNoLongerRead(t *testing.T) {
	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := context.Background()
	k, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, vulnerabilityReportCRD(t, "v1alpha1")); err != nil {
		t.Fatal(err)
	}
	waitVulnerabilityReportsServed(t, disco, "aquasecurity.github.io/v1alpha1", true)
	const enforced, warned = "revoked-addon", "revoked-addon-warn"
	imageProfile(t, k, enforced, v1alpha1.EnforcementEnforce)
	imageProfile(t, k, warned, v1alpha1.EnforcementWarn)

	const user = "soc2-webhook-revoked"
	grant := func(name string, groups ...string) *rbacv1.ClusterRoleBinding {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: groups, Resources: []string{"*"}, Verbs: []string{"*"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
		for _, o := range []client.Object{role, binding} {
			if err := k.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		return binding
	}
	grant(user+"-builtin", "", "apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "policy", "autoscaling",
		"storage.k8s.io", "scheduling.k8s.io", "node.k8s.io", "authorization.k8s.io", "resource.k8s.io", v1alpha1.GroupVersion.Group)
	trivy := grant(user+"-trivy", "aquasecurity.github.io")
	operatorCfg, err := testenv.AddUser(env, user)
	if err != nil {
		t.Fatal(err)
	}
	// The user's access as the API server's authorizer answers it, before the operator asks.
	testenv.Eventually(t, 30*time.Second, "the user may list VulnerabilityReports", func() error {
		if _, err := canList(ctx, operatorCfg, "aquasecurity.github.io", "vulnerabilityreports"); err != nil {
			return err
		}
		return nil
	})

	ticks := testingclock.NewFakeClock(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC))
	var v *webhook.WorkloadValidator
	operator, err := testenv.StartOperator(operatorCfg, testenv.OperatorOptions{
		Scheme: scheme,
		Cache:  controllers.CacheOptions(),
		Setup: func(mgr ctrl.Manager) error {
			var err error
			v, err = webhook.New(mgr, adminNamespace, webhook.WithRecheck(ticks, time.Minute))
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = operator.Stop() })
	srv := httptest.NewServer(webhook.Handler(v))
	t.Cleanup(srv.Close)
	image := "registry.example.com/mirror/redis:7.0.4"
	testenv.Eventually(t, 30*time.Second, "the denial of StatefulSet cache on its image's critical vulnerabilities", func() error {
		r := send(t, srv.URL, creatingStatefulSet(t, enforced, "cache", image, false), "")
		if r == nil || r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "img-critical-cves") {
			return fmt.Errorf("answer %+v", r)
		}
		return nil
	})
	if r := send(t, srv.URL, creatingStatefulSet(t, warned, "cache", image, false), ""); r == nil || !r.Allowed ||
		!strings.Contains(strings.Join(r.Warnings, "\n"), "img-critical-cves") {
		t.Fatalf("under Warn: want an admission warning of img-critical-cves, got %+v", r)
	}

	// The revocation.
	if err := k.Delete(ctx, trivy); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the user no longer allowed to list VulnerabilityReports", func() error {
		if allowed, _ := canList(ctx, operatorCfg, "aquasecurity.github.io", "vulnerabilityreports"); allowed {
			return fmt.Errorf("still allowed")
		}
		return nil
	})

	// Before the clock ticks: judged, not left to the failurePolicy; a privileged container
	// is refused still.
	if r := send(t, srv.URL, creatingStatefulSet(t, enforced, "cache", image, false), ""); r == nil || !r.Allowed {
		t.Errorf("StatefulSet cache, its report no longer readable: want it admitted (img-critical-cves NotAssessed), got %+v", r)
	}
	r := send(t, srv.URL, creatingStatefulSet(t, enforced, "cache", image, true), "")
	if r == nil || r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "wl-privileged") || strings.Contains(r.Result.Message, "img-critical-cves") {
		t.Errorf("a privileged StatefulSet cache, its report no longer readable: want a denial on wl-privileged alone, got %+v", r)
	}

	testenv.Eventually(t, 30*time.Second, "no warning of the frozen report under Warn", func() error {
		ticks.Step(time.Minute)
		r := send(t, srv.URL, creatingStatefulSet(t, warned, "cache", image, false), "")
		if r == nil || !r.Allowed || len(r.Warnings) > 0 {
			return fmt.Errorf("answer %+v", r)
		}
		return nil
	})
}

// canList asks the API server's authorizer whether the user of cfg may list resource of group in
// every namespace.
func canList(ctx context.Context, cfg *rest.Config, group, resource string) (bool, error) {
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return false, err
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Group: group, Resource: resource}}}
	if err := c.Create(ctx, review); err != nil {
		return false, err
	}
	if !review.Status.Allowed {
		return false, fmt.Errorf("not allowed to list %s.%s", resource, group)
	}
	return true, nil
}

// TestAKindRevokedBeforeTheWebhookFirstReadItIsNotWaitedFor: a replica that has judged nothing
// yet (the standby, or one just rolled) starts its informers at its first request. The list
// permission on Trivy's VulnerabilityReports was taken away after the operator started (its
// start-up check found it readable) and before that request: the informer could never sync, and
// every read from the cache waited for it until the API server's deadline, so every workload of
// every enforced namespace was refused on that replica ("could not judge ... within the
// webhook's timeout"), until a restart. Once the recheck (WithRecheck) finds the kind unreadable,
// it is no longer read: the StatefulSet is judged (img-critical-cves NotAssessed, admitted).
func TestAKindRevokedBeforeTheWebhookFirstReadItIsNotWaitedFor(t *testing.T) {
	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := context.Background()
	k, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, vulnerabilityReportCRD(t, "v1alpha1")); err != nil {
		t.Fatal(err)
	}
	waitVulnerabilityReportsServed(t, disco, "aquasecurity.github.io/v1alpha1", true)
	const enforced = "revoked-first"
	imageProfile(t, k, enforced, v1alpha1.EnforcementEnforce)
	const user = "soc2-webhook-revoked-first"
	grant := func(name string, groups ...string) *rbacv1.ClusterRoleBinding {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: groups, Resources: []string{"*"}, Verbs: []string{"*"}}}}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
		for _, o := range []client.Object{role, binding} {
			if err := k.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		return binding
	}
	grant(user+"-builtin", "", "apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io", "policy", "autoscaling",
		"storage.k8s.io", "scheduling.k8s.io", "node.k8s.io", "authorization.k8s.io", "resource.k8s.io", v1alpha1.GroupVersion.Group)
	trivy := grant(user+"-trivy", "aquasecurity.github.io")
	operatorCfg, err := testenv.AddUser(env, user)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the user may list VulnerabilityReports", func() error {
		_, err := canList(ctx, operatorCfg, "aquasecurity.github.io", "vulnerabilityreports")
		return err
	})
	ticks := testingclock.NewFakeClock(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC))
	var v *webhook.WorkloadValidator
	operator, err := testenv.StartOperator(operatorCfg, testenv.OperatorOptions{
		Scheme: scheme,
		Cache:  controllers.CacheOptions(),
		Setup: func(mgr ctrl.Manager) error {
			var err error
			v, err = webhook.New(mgr, adminNamespace, webhook.WithRecheck(ticks, time.Minute))
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = operator.Stop() })
	srv := httptest.NewServer(webhook.Handler(v))
	t.Cleanup(srv.Close)

	// Revoked before the first request.
	if err := k.Delete(ctx, trivy); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the user no longer allowed to list VulnerabilityReports", func() error {
		if allowed, _ := canList(ctx, operatorCfg, "aquasecurity.github.io", "vulnerabilityreports"); allowed {
			return fmt.Errorf("still allowed")
		}
		return nil
	})
	image := "registry.example.com/mirror/redis:7.0.4"
	testenv.Eventually(t, 40*time.Second, "StatefulSet cache judged, admitted", func() error {
		ticks.Step(time.Minute)
		r := send(t, srv.URL, creatingStatefulSet(t, enforced, "cache", image, false), "2s")
		if r == nil || !r.Allowed {
			return fmt.Errorf("answer %+v", r)
		}
		return nil
	})
}
