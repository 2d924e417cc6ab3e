package webhook_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
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
	env, _, k, _ := addOnEnv(t)
	const enforced, warned = "revoked-addon", "revoked-addon-warn"
	imageProfile(t, k, enforced, v1alpha1.EnforcementEnforce)
	imageProfile(t, k, warned, v1alpha1.EnforcementWarn)
	operatorCfg, trivy := operatorUser(t, env, k, "soc2-webhook-revoked")
	srv, ticks := recheckingWebhook(t, operatorCfg)
	judgedOnTheReport(t, srv.URL, enforced, warned)

	// The revocation.
	revoke(t, k, operatorCfg, trivy)
	judgedWithoutTheReport(t, srv.URL, ticks, enforced, warned, "no longer readable")
}

// operatorUser makes user, who may do anything with the kinds the operator reads, Trivy
// Operator's by a ClusterRoleBinding of their own (returned), and returns the user's
// configuration once the API server's authorizer lets them list VulnerabilityReports.
func operatorUser(t *testing.T, env *envtest.Environment, k client.Client, user string) (*rest.Config, *rbacv1.ClusterRoleBinding) {
	t.Helper()
	ctx := context.Background()
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
	cfg, err := testenv.AddUser(env, user)
	if err != nil {
		t.Fatal(err)
	}
	// The user's access as the API server's authorizer answers it, before the operator asks.
	testenv.Eventually(t, 30*time.Second, "the user may list VulnerabilityReports", func() error {
		_, err := canList(ctx, cfg, "aquasecurity.github.io", "vulnerabilityreports")
		return err
	})
	return cfg, trivy
}

// revoke deletes the binding that lets the user of cfg read VulnerabilityReports and waits until
// the API server's authorizer no longer lets them list them.
func revoke(t *testing.T, k client.Client, cfg *rest.Config, binding *rbacv1.ClusterRoleBinding) {
	t.Helper()
	ctx := context.Background()
	if err := k.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the user no longer allowed to list VulnerabilityReports", func() error {
		if allowed, _ := canList(ctx, cfg, "aquasecurity.github.io", "vulnerabilityreports"); allowed {
			return fmt.Errorf("still allowed")
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
	env, _, k, _ := addOnEnv(t)
	const enforced = "revoked-first"
	imageProfile(t, k, enforced, v1alpha1.EnforcementEnforce)
	operatorCfg, trivy := operatorUser(t, env, k, "soc2-webhook-revoked-first")
	srv, ticks := recheckingWebhook(t, operatorCfg)

	// Revoked before the first request.
	revoke(t, k, operatorCfg, trivy)
	testenv.Eventually(t, 40*time.Second, "StatefulSet cache judged, admitted", func() error {
		ticks.Step(time.Minute)
		r := send(t, srv.URL, creatingStatefulSet(t, enforced, "cache", reportedImage, false), "2s")
		if r == nil || !r.Allowed {
			return fmt.Errorf("answer %+v", r)
		}
		return nil
	})
}
