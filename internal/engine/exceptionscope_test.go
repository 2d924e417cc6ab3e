package engine_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// clusterAdmin fails every ClusterRoleBinding (High): a cluster-scoped finding.
var clusterAdmin = &engine.Check{
	ID: "test-cluster-binding", Title: "no cluster bindings", Severity: v1alpha1.SeverityHigh,
	Criteria: []v1alpha1.Criterion{"CC6.3"}, Targets: []string{"ClusterRoleBinding"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) { ctx.Fail("", "binds a ClusterRole cluster-wide") },
}

// An exception the API server could never hold, with no namespace (scan reads one so from a
// file when --namespace is ""), selects no namespace: it must not waive the findings on
// cluster-scoped objects, whose namespace is "" too. Only an exception in the operator's
// namespace that lists "*" may.
func TestAnExceptionWithoutANamespaceWaivesNothing(t *testing.T) {
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ci-admin"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"}}
	objs := []*engine.Object{engine.NewObject(crb, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding")}
	plan := engine.Compile([]*engine.Check{clusterAdmin}, nil)
	for name, tc := range map[string]struct {
		ns, matchNS string
		excepted    bool
		state       v1alpha1.ExceptionState
	}{
		"no namespace":                            {state: v1alpha1.ExceptionInvalid},
		"a tenant's namespace":                    {ns: "shop", state: v1alpha1.ExceptionActive},
		"the operator's namespace, without \"*\"": {ns: engine.DefaultAdminNamespace, state: v1alpha1.ExceptionActive},
		"the operator's namespace, with \"*\"":    {ns: engine.DefaultAdminNamespace, matchNS: "*", excepted: true, state: v1alpha1.ExceptionActive},
	} {
		t.Run(name, func(t *testing.T) {
			ex := exception(tc.ns, "everything", func(s *v1alpha1.ControlExceptionSpec) {
				s.Checks, s.Criteria = nil, []v1alpha1.Criterion{"CC6.3"}
				if tc.matchNS != "" {
					s.Match.Namespaces = []string{tc.matchNS}
				}
			})
			ev := plan.Evaluate(engine.NewInventory(objs, true), []*v1alpha1.ControlException{ex},
				engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
			if len(ev.Results) != 1 {
				t.Fatalf("results %+v, want the binding's one finding", ev.Results)
			}
			if got := ev.Results[0].Status == engine.StatusExcepted; got != tc.excepted {
				t.Errorf("excepted = %v, want %v", got, tc.excepted)
			}
			if out := ev.Exceptions[0]; out.State != tc.state {
				t.Errorf("state %s (%s), want %s", out.State, out.Message, tc.state)
			}
		})
	}
}
