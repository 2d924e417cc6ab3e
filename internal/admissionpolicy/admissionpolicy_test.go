package admissionpolicy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

var (
	k8s client.Client
	// k8sConfig is k8s's rest config (the envtest admin), for impersonating other users.
	k8sConfig *rest.Config
)

func TestMain(m *testing.M) {
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	k8sConfig = cfg
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

// TestSpecChangedCoversEverySpecField holds that a field added to ControlExceptionSpec is part
// of "the spec changed" (which voids an approval) without anyone editing the policy.
func TestSpecChangedCoversEverySpecField(t *testing.T) {
	expr := admissionpolicy.SpecChangedExpression()
	typ := reflect.TypeFor[v1alpha1.ControlExceptionSpec]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		in := strings.Contains(expr, "object.spec."+name+" ")
		if name == "requestedBy" && in {
			t.Errorf("spec.requestedBy is maintained by the policy itself and must not count as a change")
		}
		if name != "requestedBy" && !in {
			t.Errorf("spec.%s is not compared: a change to it would keep the approval", name)
		}
	}
}

// TestManagedAndVerified drives the reconciler by hand: in Manage mode it creates what is
// missing and puts back what was changed; in VerifyOnly mode it only says what is wrong, and
// approvals are trusted only while nothing is.
func TestManagedAndVerified(t *testing.T) {
	ctx := context.Background()
	user, err := admissionpolicy.WhoAmI(ctx, k8s)
	if err != nil {
		t.Fatal(err)
	}
	manage := &admissionpolicy.Reconciler{Client: k8s, Mode: admissionpolicy.Manage, OperatorUser: user, Verifier: admissionpolicy.NewVerifier()}
	verify := &admissionpolicy.Reconciler{Client: k8s, Mode: admissionpolicy.VerifyOnly, OperatorUser: user, Verifier: admissionpolicy.NewVerifier()}
	var last reconcile.Result // the latest reconcileBy's
	reconcileBy := func(r *admissionpolicy.Reconciler) (engine.ApprovalTrust, string) {
		t.Helper()
		var err error
		if last, err = r.Reconcile(ctx, reconcile.Request{}); err != nil {
			t.Fatal(err)
		}
		return r.Verifier.Trust()
	}
	expectProblem := func(want string) {
		t.Helper()
		trust, why := reconcileBy(verify)
		if trust != engine.ApprovalUnverified || !strings.Contains(why, want) {
			t.Errorf("verify-only: trust %v (%q), want unverified saying %q", trust, why, want)
		}
	}
	expectEnforced := func(what string) {
		t.Helper()
		if trust, why := reconcileBy(verify); trust != engine.ApprovalEnforced {
			t.Errorf("%s: verify-only says approvals are not trusted: %s", what, why)
		}
	}

	if trust, _ := admissionpolicy.NewVerifier().Trust(); trust != engine.ApprovalUnverified {
		t.Errorf("a verifier that checked nothing trusts approvals")
	}
	expectProblem("MutatingAdmissionPolicy soc2-operator-exception-requester is missing")
	if trust, why := reconcileBy(manage); trust == engine.ApprovalEnforced || !strings.Contains(why, "was just written") {
		t.Errorf("right after creating the policies: trust %v (%q), want them checked once more first", trust, why)
	}
	// Their own watch event may not come: the reconciler looks again soon by itself.
	if last.RequeueAfter <= 0 || last.RequeueAfter > time.Minute {
		t.Errorf("right after creating the policies: requeued after %v, want a second look within a minute", last.RequeueAfter)
	}
	if trust, why := reconcileBy(manage); trust != engine.ApprovalEnforced {
		t.Fatalf("after applying: not enforced: %s", why)
	}
	expectEnforced("as applied")

	// (The type-checking warnings in a policy's status come from kube-controller-manager, which
	// envtest does not run; the tenant suite exercises every expression on a real API server.)

	// A binding deleted by hand.
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{}
	binding.Name = admissionpolicy.ExceptionApproval
	if err := k8s.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	expectProblem("ValidatingAdmissionPolicyBinding soc2-operator-exception-approval is missing")
	if since := verify.Verifier.InForceSince(); !since.IsZero() {
		t.Errorf("with a binding missing, the policies are in force since %s", since)
	}
	reconcileBy(manage)
	expectEnforced("after the binding was restored")
	// Exceptions created before the binding was back may carry approvals nobody checked: the
	// policies are in force since the restored binding's creation, not since they first were.
	if err := k8s.Get(ctx, client.ObjectKey{Name: admissionpolicy.ExceptionApproval}, binding); err != nil {
		t.Fatal(err)
	}
	if since := verify.Verifier.InForceSince(); !since.Equal(binding.CreationTimestamp.Time) {
		t.Errorf("in force since %s, want the restored binding's creation %s", since, binding.CreationTimestamp.Time)
	}

	// A policy weakened by hand: a validation replaced, and a match condition that exempts a user
	// added (a server-side apply would keep it; the operator replaces the spec).
	vap := &admissionv1.ValidatingAdmissionPolicy{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: admissionpolicy.ReportWriter}, vap); err != nil {
		t.Fatal(err)
	}
	vap.Spec.Validations[0].Expression = "true"
	vap.Spec.MatchConditions = append(vap.Spec.MatchConditions, admissionv1.MatchCondition{Name: "not-mallory", Expression: `request.userInfo.username != "mallory"`})
	if err := k8s.Update(ctx, vap); err != nil {
		t.Fatal(err)
	}
	expectProblem("ValidatingAdmissionPolicy soc2-operator-report-writer is not as expected")
	reconcileBy(manage)
	expectEnforced("after the policy was restored")
	if err := k8s.Get(ctx, client.ObjectKey{Name: admissionpolicy.ReportWriter}, vap); err != nil {
		t.Fatal(err)
	}
	if len(vap.Spec.MatchConditions) != 0 || vap.Spec.Validations[0].Expression == "true" {
		t.Errorf("the weakened policy was not restored: %+v", vap.Spec)
	}

	// A binding switched to audit only.
	if err := k8s.Get(ctx, client.ObjectKey{Name: admissionpolicy.ExceptionApproval}, binding); err != nil {
		t.Fatal(err)
	}
	binding.Spec.ValidationActions = []admissionv1.ValidationAction{admissionv1.Audit}
	if err := k8s.Update(ctx, binding); err != nil {
		t.Fatal(err)
	}
	expectProblem("ValidatingAdmissionPolicyBinding soc2-operator-exception-approval is not as expected")
	reconcileBy(manage)
	expectEnforced("after the binding was restored to Deny")
}

// TestYAMLIsWhatTheOperatorApplies shows that `soc2-operator admission-policies` prints the
// objects the operator checks for, so that GitOps users apply exactly those.
func TestYAMLIsWhatTheOperatorApplies(t *testing.T) {
	out, err := admissionpolicy.YAML("system:serviceaccount:ops:soc2")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(out), "\n---\n")
	objs := admissionpolicy.Objects("system:serviceaccount:ops:soc2")
	if len(docs) != len(objs) {
		t.Fatalf("%d documents for %d objects", len(docs), len(objs))
	}
	for i, o := range objs {
		if !strings.Contains(docs[i], "kind: "+admissionpolicy.Kind(o)+"\n") || !strings.Contains(docs[i], "name: "+o.GetName()+"\n") {
			t.Errorf("document %d is not %s %s:\n%s", i+1, admissionpolicy.Kind(o), o.GetName(), docs[i])
		}
	}
	if !strings.Contains(string(out), `"system:serviceaccount:ops:soc2"`) {
		t.Errorf("the report-writer policy does not name the operator's user")
	}
}

// TestObjectsCarryManagedBy: the policies and bindings carry the label the operator's
// PolicyReports carry (v1alpha1.LabelManagedBy), so one selector lists what it writes outside its
// own API: -l app.kubernetes.io/managed-by=soc2-operator.
func TestObjectsCarryManagedBy(t *testing.T) {
	for _, o := range admissionpolicy.Objects(admissionpolicy.DefaultOperatorUser()) {
		if got := o.GetLabels()["app.kubernetes.io/managed-by"]; got != "soc2-operator" || got != o.GetLabels()[v1alpha1.LabelManagedBy] {
			t.Errorf("%s %s: app.kubernetes.io/managed-by=%q, want soc2-operator", admissionpolicy.Kind(o), o.GetName(), got)
		}
	}
}

// TestTheShippedRoleCreatesOnlyTheOperatorsOwnPolicies runs the reconciler in Manage mode as a
// user bound to config/rbac's manager role alone: it creates every missing policy and binding
// (server-side apply, authorised as create on the name the role lists), and the same user
// cannot create a MutatingAdmissionPolicy of another name, which with a binding would rewrite
// every object of the cluster.
func TestTheShippedRoleCreatesOnlyTheOperatorsOwnPolicies(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, role); err != nil {
		t.Fatal(err)
	}
	const user = "shipped-manager-role-only"
	role.ObjectMeta = metav1.ObjectMeta{Name: user}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	for _, o := range []client.Object{role, binding} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	deletePolicies := func() {
		for _, o := range admissionpolicy.Objects(user) {
			if err := k8s.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				t.Fatal(err)
			}
		}
	}
	deletePolicies()
	t.Cleanup(func() {
		deletePolicies()
		_ = k8s.Delete(ctx, binding)
		_ = k8s.Delete(ctx, role)
	})

	cfg := rest.CopyConfig(k8sConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	operator, err := client.New(cfg, client.Options{Scheme: k8s.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	manage := &admissionpolicy.Reconciler{Client: operator, Mode: admissionpolicy.Manage, OperatorUser: user, Verifier: admissionpolicy.NewVerifier()}
	testenv.Eventually(t, 10*time.Second, "the policies created as the shipped role and in force", func() error {
		if _, err := manage.Reconcile(ctx, reconcile.Request{}); err != nil {
			return err
		}
		if trust, why := manage.Verifier.Trust(); trust != engine.ApprovalEnforced {
			return errors.New(why)
		}
		return nil
	})

	other := &admissionv1.MutatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "not-the-operators"},
		Spec: admissionv1.MutatingAdmissionPolicySpec{
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule: admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}},
			}}},
			ReinvocationPolicy: admissionv1.NeverReinvocationPolicy,
			Mutations: []admissionv1.Mutation{{PatchType: admissionv1.PatchTypeJSONPatch,
				JSONPatch: &admissionv1.JSONPatch{Expression: `[JSONPatch{op: "add", path: "/metadata/labels", value: {"x": "y"}}]`}}},
		},
	}
	if err := operator.Create(ctx, other, client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("creating a MutatingAdmissionPolicy of another name as the shipped role: want Forbidden, got %v", err)
	}
}
