package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

var (
	// approver approves exceptions as a second user.
	approver client.Client
	cfg      *rest.Config
	scheme   *runtime.Scheme
	// webhooks says where the operator's webhook server listens and the CA it serves under.
	webhooks *envtest.WebhookInstallOptions
	// unreadableCalls counts the requests served at unreadablePath.
	unreadableCalls atomic.Int64
	// approval is the verifier of the operator's admission policies the webhook trusts.
	approval = admissionpolicy.NewVerifier()
)

// unreadablePath serves a webhook that cannot read any namespace, so it can judge nothing.
const unreadablePath = "/validate-workloads-unreadable"

// heldPath serves a webhook that judges one request at a time, whose reads of NetworkPolicies
// wait for held.release (TestJudgementsAtOnceAreBoundedThroughTheAPIServer).
const heldPath = "/validate-workloads-held"

// held is the cache of the webhook at heldPath.
var held *holding

// webhookCache is the cache the operator's webhook reads (the manager's).
var webhookCache client.Reader

const adminNamespace = engine.DefaultAdminNamespace

// TestMain starts the API server with the operator's webhook configuration installed (envtest
// points it at a local server with its own certificates) and a manager serving the webhook.
func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(m *testing.M) (int, error) {
	env, c, err := testenv.Start(func(e *envtest.Environment) {
		e.WebhookInstallOptions = envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "webhook", "manifests.yaml")},
		}
	})
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	cfg = c
	scheme = testenv.Scheme()
	webhooks = &env.WebhookInstallOptions
	// The operator's admission policies, so that the webhook trusts approvals.
	ctx := context.Background()
	operator, err := testenv.StartOperator(cfg, testenv.OperatorOptions{
		Scheme:   scheme,
		Cache:    controllers.CacheOptions(),
		Webhooks: &env.WebhookInstallOptions,
		Setup: func(mgr ctrl.Manager) error {
			if err := admissionpolicy.Setup(ctx, mgr, admissionpolicy.Manage, approval); err != nil {
				return err
			}
			if err := webhook.Setup(mgr, adminNamespace, webhook.WithApproval(approval)); err != nil {
				return err
			}
			webhookCache = mgr.GetCache()
			unreadable, err := validator(testenv.Lag{Client: mgr.GetClient(), Unseen: []client.Object{&corev1.Namespace{}}}, nil)
			if err != nil {
				return err
			}
			held = &holding{Client: mgr.GetClient(), entered: make(chan struct{}, 64), release: make(chan struct{}), ignoreDone: true}
			one, err := validator(held, mgr.GetAPIReader())
			if err != nil {
				return err
			}
			one.Judgements = 1
			mgr.GetWebhookServer().Register(heldPath, webhook.Handler(one))
			serve := webhook.Handler(unreadable)
			mgr.GetWebhookServer().Register(unreadablePath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				unreadableCalls.Add(1)
				serve.ServeHTTP(w, r)
			}))
			return nil
		},
	})
	if err != nil {
		return 0, err
	}
	defer func() { _ = operator.Stop() }()
	k, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return 0, err
	}
	if approver, err = testenv.ApproverClient(env, k); err != nil {
		return 0, err
	}
	if err := testenv.WaitAdmissionPolicies(ctx, k, "default", testenv.VerifierTrusts(approval)); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// warnings collects the warnings the API server returns, as kubectl prints them.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.list, "\n")
}

func newClient(t *testing.T) (client.Client, *warnings) {
	t.Helper()
	w := &warnings{}
	c := rest.CopyConfig(cfg)
	c.WarningHandlerWithContext = w
	k, err := client.New(c, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return k, w
}

func deployment(ns, name string, privileged bool) *appsv1.Deployment {
	yes, no := true, false
	uid := int64(10001)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example.com/app:1.0.0",
					SecurityContext: &corev1.SecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, AllowPrivilegeEscalation: &no},
				}}},
			},
		},
	}
	if privileged {
		d.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = &yes
		d.Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	}
	return d
}

// replicaSetOf is the ReplicaSet the Deployment controller makes for d (created d: its UID).
func replicaSetOf(d *appsv1.Deployment, name string) *appsv1.ReplicaSet {
	yes := true
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
}

// podOf is the Pod the ReplicaSet controller makes for rs (created rs: its UID).
func podOf(rs *appsv1.ReplicaSet, name string) *corev1.Pod {
	yes := true
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: rs.Namespace, Labels: rs.Spec.Template.Labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}},
		Spec: *rs.Spec.Template.Spec.DeepCopy()}
}

// setup creates a namespace selected by a profile with the given enforcement.
func setup(t *testing.T, ns string, mode v1alpha1.EnforcementMode) {
	t.Helper()
	k, _ := newClient(t)
	ctx := context.Background()
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"enforce-test": ns}}}); err != nil {
		t.Fatal(err)
	}
	p := &v1alpha1.ComplianceProfile{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: v1alpha1.ComplianceProfileSpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"enforce-test": ns}},
			Enforcement:       &v1alpha1.Enforcement{Mode: mode, Severity: v1alpha1.SeverityCritical},
		},
	}
	if err := k.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(ctx, p) })
	// The webhook reads profiles from the cache: wait until it sees this one by creating a
	// probe object it must judge.
	waitEnforced(t, ns, mode)
}

// updateProfile changes the profile named name.
func updateProfile(t *testing.T, name string, change func(p *v1alpha1.ComplianceProfile)) {
	t.Helper()
	k, _ := newClient(t)
	p := &v1alpha1.ComplianceProfile{}
	if err := k.Get(context.Background(), client.ObjectKey{Name: name}, p); err != nil {
		t.Fatal(err)
	}
	change(p)
	if err := k.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// raiseToCritical raises the check id to Critical in the profile named name, which enforces
// Critical findings.
func raiseToCritical(t *testing.T, name, id string) {
	t.Helper()
	updateProfile(t, name, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Checks = []v1alpha1.CheckOverride{{ID: id, Severity: v1alpha1.SeverityCritical}}
	})
}

func waitEnforced(t *testing.T, ns string, mode v1alpha1.EnforcementMode) {
	t.Helper()
	i := 0
	testenv.Eventually(t, 10*time.Second, fmt.Sprintf("the webhook enforcing the %s profile in %s", mode, ns), func() error {
		k, w := newClient(t)
		probe := deployment(ns, fmt.Sprintf("probe-%d", i), true)
		i++
		err := k.Create(context.Background(), probe, client.DryRunAll)
		switch {
		case mode == v1alpha1.EnforcementEnforce && apierrors.IsForbidden(err):
			return nil
		case mode == v1alpha1.EnforcementWarn && err == nil && w.all() != "":
			return nil
		}
		return fmt.Errorf("a privileged Deployment: got %v, warnings %q", err, w.all())
	})
}

func TestEnforceDeniesWithWhatToFix(t *testing.T) {
	setup(t, "enforce-deny", v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	err := k.Create(context.Background(), deployment("enforce-deny", "agent", true))
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a privileged Deployment was admitted under Enforce: %v", err)
	}
	for _, want := range []string{
		"soc2-operator denied Deployment enforce-deny/agent",
		"[enforce-deny] wl-privileged (Critical) container app: violates PodSecurity \"restricted:latest\": privileged (container \"app\" must not set securityContext.privileged=true)",
		"fix: Remove securityContext.privileged, or set it to false",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("denial %q lacks %q", err.Error(), want)
		}
	}
	if err := k.Create(context.Background(), deployment("enforce-deny", "web", false)); err != nil {
		t.Errorf("a Deployment with no Critical failure was denied: %v", err)
	}
}

func TestEnforceHonoursExceptions(t *testing.T) {
	setup(t, "enforce-excepted", v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	// Critical findings may be waived under this profile (by default they may not).
	updateProfile(t, "enforce-excepted", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-privileged", Namespace: "enforce-excepted"},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Names: []string{"agent"}},
			Reason: "The node agent needs the host's devices.", Owner: "platform@example.com",
			Expires: metav1.NewTime(time.Now().Add(24 * time.Hour)),
		},
	}
	if err := k.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	// The cache may not hold the exception yet.
	testenv.Eventually(t, 10*time.Second, "an excepted Deployment admitted", func() error {
		return k.Create(ctx, deployment("enforce-excepted", "agent", true))
	})
	if err := k.Create(ctx, deployment("enforce-excepted", "other", true)); !apierrors.IsForbidden(err) {
		t.Errorf("the exception covers only agent, but other was admitted: %v", err)
	}
	// Its ReplicaSet and Pods are judged as agent is: the exception admits them too.
	agent := &appsv1.Deployment{}
	if err := k.Get(ctx, client.ObjectKey{Namespace: "enforce-excepted", Name: "agent"}, agent); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(agent, "agent-6f4")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatalf("the excepted Deployment's ReplicaSet was denied: %v", err)
	}
	pod := podOf(rs, "agent-6f4-q8w2z")
	if err := k.Create(ctx, pod); err != nil {
		t.Fatalf("a Pod of the excepted Deployment was denied: %v", err)
	}

	// A change to the exception voids its approval: agent is denied again.
	if err := k.Get(ctx, client.ObjectKeyFromObject(ex), ex); err != nil {
		t.Fatal(err)
	}
	ex.Spec.Match.Names = []string{"agent", "agent-2"}
	if err := k.Update(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if ex.Approval != nil {
		t.Errorf("the API server kept the approval of a changed exception: %+v", ex.Approval)
	}
	// The cache may not hold the change yet: admitted until it does, then refused.
	var err error
	testenv.Eventually(t, 10*time.Second, "the Deployment an exception whose approval was voided covered no longer admitted", func() error {
		if err = k.Create(ctx, deployment("enforce-excepted", "agent-2", true), client.DryRunAll); err == nil {
			return errors.New("admitted")
		}
		return nil
	})
	if !apierrors.IsForbidden(err) {
		t.Errorf("an exception whose approval was voided by an edit still admits: %v", err)
	}
}

// TestEnforceHonoursExceptionsOfTheOperatorsNamespace: an exception in the operator's namespace
// that names the workload's namespace admits it too. The webhook reads only the exceptions of
// the workload's namespace and of the operator's: no other can apply.
func TestEnforceHonoursExceptionsOfTheOperatorsNamespace(t *testing.T) {
	const ns = "enforce-admin-excepted"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: adminNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "node-agent-privileged", Namespace: adminNamespace},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Namespaces: []string{ns}, Names: []string{"agent"}},
			Reason: "The node agent needs the host's devices.", Owner: "platform@example.com",
			Expires: metav1.NewTime(time.Now().Add(24 * time.Hour)),
		},
	}
	if err := k.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(ctx, ex) })
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	// The cache may not hold the approved exception yet.
	testenv.Eventually(t, 10*time.Second, "a Deployment an approved exception in "+adminNamespace+" covers admitted", func() error {
		return k.Create(ctx, deployment(ns, "agent", true), client.DryRunAll)
	})
	if err := k.Create(ctx, deployment(ns, "other", true), client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("the exception covers only agent, but other was admitted: %v", err)
	}
}

func TestWarnAdmitsWithWarnings(t *testing.T) {
	setup(t, "enforce-warn", v1alpha1.EnforcementWarn)
	k, w := newClient(t)
	if err := k.Create(context.Background(), deployment("enforce-warn", "agent", true)); err != nil {
		t.Fatalf("Warn mode denied a Deployment: %v", err)
	}
	if got := w.all(); !strings.Contains(got, "[enforce-warn] wl-privileged (Critical) container app: violates PodSecurity \"restricted:latest\": privileged") {
		t.Errorf("warnings %q lack the privileged container", got)
	}
	// The ReplicaSet the Deployment controller makes from that template gets no warnings of
	// its own: they would reach only the controller's log, once per ReplicaSet and Pod.
	d := deployment("enforce-warn", "agent", true)
	if err := k.Get(context.Background(), client.ObjectKeyFromObject(d), d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "agent-5d8")
	k2, w2 := newClient(t)
	if err := k2.Create(context.Background(), rs); err != nil {
		t.Fatalf("Warn mode denied a ReplicaSet: %v", err)
	}
	if got := w2.all(); got != "" {
		t.Errorf("the Deployment's ReplicaSet got warnings: %q", got)
	}
}

func TestAuditAndUnselectedNamespacesAreLeftAlone(t *testing.T) {
	setup(t, "enforce-other", v1alpha1.EnforcementEnforce)
	k, w := newClient(t)
	ctx := context.Background()
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "audit-only"}}); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, deployment("audit-only", "agent", true)); err != nil {
		t.Errorf("a namespace no enforcing profile selects was judged: %v", err)
	}
	if got := w.all(); got != "" {
		t.Errorf("warnings in an unselected namespace: %q", got)
	}
}

// TestANamespaceAppliedWithItsWorkloadsIsEnforced: one `kubectl apply` of a namespace and its
// workloads creates the workloads a moment after the namespace, before the webhook's cache
// holds it. The webhook must read the namespace from the API server then, not fail open and
// admit a privileged workload into a namespace an enforcing profile selects.
func TestANamespaceAppliedWithItsWorkloadsIsEnforced(t *testing.T) {
	setup(t, "enforce-applied", v1alpha1.EnforcementEnforce)
	k, w := newClient(t)
	ctx := context.Background()
	selected := map[string]string{"enforce-test": "enforce-applied"}

	// Through the API server: the namespace, then at once the Deployment.
	for i := range 5 {
		ns := fmt.Sprintf("enforce-applied-%d", i)
		if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: selected}}); err != nil {
			t.Fatal(err)
		}
		if err := k.Create(ctx, deployment(ns, "agent", true)); !apierrors.IsForbidden(err) {
			t.Errorf("a privileged Deployment created just after its namespace %s was admitted: %v (warnings %q)", ns, err, w.all())
		}
	}

	// The same, with a cache that certainly lags: it holds everything but the namespace.
	const ns = "enforce-applied-lagging"
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: selected}}); err != nil {
		t.Fatal(err)
	}
	v, err := validator(testenv.Lag{Client: k, Unseen: []client.Object{&corev1.Namespace{}}}, k)
	if err != nil {
		t.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: *creating(t, ns, "agent")}
	if resp := v.Handle(ctx, req); resp.Allowed {
		t.Errorf("with the namespace missing from the cache, a privileged Deployment was admitted (warnings %q)", resp.Warnings)
	}
	// Without an API reader there is nothing to ask: the webhook says it could not judge the
	// object (Handler turns that into an HTTP 500; TestTheFailurePolicyDecidesWhatCouldNotBeJudged).
	v.APIReader = nil
	resp := v.Handle(ctx, req)
	want := "soc2-operator could not judge Deployment " + ns + "/agent: reading namespace " + ns
	if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusServiceUnavailable || !strings.Contains(resp.Result.Message, want) {
		t.Errorf("with no API reader and the namespace missing from the cache: want unavailable, saying %q, got allowed=%v result %+v",
			want, resp.Allowed, resp.Result)
	}
}

// TestAPanicIsADenial: only an error reading what the webhook needs goes to the failurePolicy;
// a panic (which the object may have caused) is answered, as controller-runtime answers it, by
// a denial, so that under Ignore it is not admitted unjudged.
func TestAPanicIsADenial(t *testing.T) {
	v := &webhook.WorkloadValidator{Reader: panicking{}, Catalogue: checks.Catalogue(), AdminNamespace: adminNamespace, Clock: clock.RealClock{}}
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	r := send(t, srv.URL, creating(t, "anywhere", "agent"), "")
	if r == nil || r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "panic") {
		t.Errorf("a panic: want a denial that says so, got %+v", r)
	}
}

// creating is the admission request the API server sends for the creation of a privileged
// Deployment.
func creating(t *testing.T, ns, name string) *admissionv1.AdmissionRequest {
	t.Helper()
	return creatingDeployment(t, deployment(ns, name, true))
}

// creatingDeployment is the admission request for creating d.
func creatingDeployment(t *testing.T, d *appsv1.Deployment) *admissionv1.AdmissionRequest {
	t.Helper()
	ns, name := d.Namespace, d.Name
	d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return &admissionv1.AdmissionRequest{UID: types.UID("create-" + ns + "-" + name), Operation: admissionv1.Create, Namespace: ns, Name: name,
		Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, Object: runtime.RawExtension{Raw: raw}}
}

// panicking panics on every read.
type panicking struct{ client.Reader }

func (panicking) List(context.Context, client.ObjectList, ...client.ListOption) error {
	panic("the reader broke")
}

// TestTheFailurePolicyDecidesWhatCouldNotBeJudged: when the webhook cannot read what it needs to
// judge a workload, the API server applies the webhook configuration's failurePolicy, as when
// the operator is unreachable: under Fail (a hard gate) nothing is admitted unjudged, under
// Ignore the workload is admitted. The webhook served here at unreadablePath cannot read any
// namespace.
func TestTheFailurePolicyDecidesWhatCouldNotBeJudged(t *testing.T) {
	k, _ := newClient(t)
	ctx := context.Background()
	for _, policy := range []admissionregistrationv1.FailurePolicyType{admissionregistrationv1.Ignore, admissionregistrationv1.Fail} {
		ns := "unreadable-" + strings.ToLower(string(policy))
		if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"unreadable": ns}}}); err != nil {
			t.Fatal(err)
		}
		registerDeployments(t, k, ns, unreadablePath, "unreadable", policy, nil)
	}

	// The API server picks a new configuration up within moments: until a Deployment is
	// refused under Fail, it may not call the webhook at all.
	var err error
	testenv.Eventually(t, 20*time.Second, "a Deployment refused under failurePolicy Fail", func() error {
		if err = k.Create(ctx, deployment("unreadable-fail", "web", false), client.DryRunAll); err == nil {
			return errors.New("admitted")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "soc2-operator could not judge Deployment unreadable-fail/web: reading namespace unreadable-fail") {
		t.Fatalf("under failurePolicy Fail, a Deployment the webhook could not judge: want refused with the webhook's reason, got %v", err)
	}

	// Under Ignore it is admitted, after the webhook was asked and could not judge it.
	before := unreadableCalls.Load()
	if err := k.Create(ctx, deployment("unreadable-ignore", "web", true)); err != nil {
		t.Errorf("under failurePolicy Ignore, a Deployment the webhook could not judge was refused: %v", err)
	}
	if unreadableCalls.Load() == before {
		t.Errorf("the webhook was not asked about the Deployment in unreadable-ignore (its configuration is not in force), so the test shows nothing")
	}
	// What the webhook could not judge is counted, for the SOC2AdmissionUnjudged alert.
	for _, ns := range []string{"unreadable-ignore", "unreadable-fail"} {
		if n := unjudged(t, ns); n < 1 {
			t.Errorf("soc2_operator_admission_unjudged_total{namespace=%q} = %v, want at least 1", ns, n)
		}
	}
	// A workload the webhook judged is not counted.
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "readable"}}); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, deployment("readable", "web", true), client.DryRunAll); err != nil {
		t.Fatalf("a Deployment in a namespace no profile selects was refused: %v", err)
	}
	if n := unjudged(t, "readable"); n != 0 {
		t.Errorf("soc2_operator_admission_unjudged_total{namespace=\"readable\"} = %v, where the webhook judged the Deployment", n)
	}
}

// TestControllerPodsAreJudgedThroughTheirControllerOnlyWhenItExplainsThem: a Pod (or
// ReplicaSet) passes admission on its controller's judgement only when the controller exists
// with the UID its reference names and its template explains the Pod; otherwise the Pod is
// judged itself, and the denial says why.
func TestControllerPodsAreJudgedThroughTheirControllerOnlyWhenItExplainsThem(t *testing.T) {
	const ns = "enforce-owned"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	yes := true
	d := deployment(ns, "agent", false)
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "agent-5d8")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatalf("a ReplicaSet its Deployment's template explains was denied: %v", err)
	}
	// claiming is rs's Pod, claiming owner as its controller.
	claiming := func(name string, owner metav1.OwnerReference) *corev1.Pod {
		pod := podOf(rs, name)
		pod.OwnerReferences = []metav1.OwnerReference{owner}
		return pod
	}
	rsRef := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}
	if err := k.Create(ctx, claiming("agent-5d8-abcde", rsRef)); err != nil {
		t.Errorf("a Pod its ReplicaSet's template explains was denied: %v", err)
	}

	cases := map[string]struct {
		owner metav1.OwnerReference
		why   string
	}{
		"a ReplicaSet whose template is not privileged": {owner: rsRef,
			why: "not explained by ReplicaSet agent-5d8's template: container app's securityContext differs from the template's"},
		"a ReplicaSet that does not exist": {owner: metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "agent-gone",
			UID: "11111111-1111-1111-1111-111111111111", Controller: &yes}, why: "its controller ReplicaSet agent-gone does not exist"},
		// Not a name any object can have: reading it fails otherwise than not found, and the
		// webhook must not fail open on an error a tenant can cause at will.
		"a ReplicaSet with a name no object can have": {owner: metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "agent-5d8/status",
			UID: "11111111-1111-1111-1111-111111111111", Controller: &yes}, why: "its controller ReplicaSet agent-5d8/status does not exist"},
		"the real ReplicaSet's name with another UID": {owner: metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name,
			UID: "11111111-1111-1111-1111-111111111111", Controller: &yes}, why: "its controller reference names ReplicaSet agent-5d8 with UID"},
	}
	i := 0
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			i++
			pod := claiming(fmt.Sprintf("privileged-%d", i), tc.owner)
			pod.Spec.Containers[0].SecurityContext.Privileged = &yes
			pod.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
			err := k.Create(ctx, pod)
			if !apierrors.IsForbidden(err) {
				t.Fatalf("a privileged Pod that claims %s: want denied, got %v", name, err)
			}
			if !strings.Contains(err.Error(), "wl-privileged") || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("the denial does not name wl-privileged and %q: %v", tc.why, err)
			}
		})
	}
}

// TestACustomCheckOfPodsJudgesAControllersPod: a custom check the profile writes for kind Pod
// reads fields a controller's template does not explain (spec.nodeName here), and does not target
// the Deployment a ReplicaSet's Pod is judged through: the Pod is judged by it itself, under
// Enforce denied on a control-plane node, as the reports judge it, while the same Pod elsewhere is
// admitted on its Deployment's judgement.
func TestACustomCheckOfPodsJudgesAControllersPod(t *testing.T) {
	const ns = "enforce-custom-pods"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-off-control-plane", Title: "Pods run off the control plane",
			Kinds: []string{"Pod"}, Criteria: []v1alpha1.Criterion{"CC6.1"}, Severity: v1alpha1.SeverityCritical,
			Expression: "!has(object.spec.nodeName) || !object.spec.nodeName.startsWith('control-plane')"}}
	})
	k, _ := newClient(t)
	ctx := context.Background()
	testenv.Eventually(t, 10*time.Second, "the custom check enforced", func() error {
		bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns},
			Spec: *deployment(ns, "probe", false).Spec.Template.Spec.DeepCopy()}
		bare.Spec.NodeName = "control-plane-0"
		if err := k.Create(ctx, bare, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-off-control-plane") {
			return fmt.Errorf("a bare Pod on control-plane-0: %v", err)
		}
		return nil
	})
	d := deployment(ns, "agent", false)
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "agent-6f4")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	elsewhere := podOf(rs, "agent-6f4-node1")
	elsewhere.Spec.NodeName = "node-1"
	if err := k.Create(ctx, elsewhere, client.DryRunAll); err != nil {
		t.Errorf("the ReplicaSet's Pod on node-1 was denied: %v", err)
	}
	pod := podOf(rs, "agent-6f4-cp1")
	pod.Spec.NodeName = "control-plane-1"
	err := k.Create(ctx, pod, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "custom-off-control-plane") {
		t.Fatalf("the ReplicaSet's Pod on control-plane-1: want denied by custom-off-control-plane, got %v", err)
	}
}

// TestPodsOfAFailingControllerAreDeniedUnderEnforce: a Deployment admitted before its profile
// enforced (or, under failurePolicy Ignore, while the operator could not be reached) fails
// still. The Pods its ReplicaSet creates afterwards (scaled up through the scale subresource,
// which the webhook is not asked about, or rescheduled off a drained node) are judged as the
// Deployment is, as Pod Security admission would judge them: nothing new that fails starts.
func TestPodsOfAFailingControllerAreDeniedUnderEnforce(t *testing.T) {
	const ns = "enforce-existing"
	setup(t, ns, v1alpha1.EnforcementWarn)
	k, _ := newClient(t)
	ctx := context.Background()
	d := deployment(ns, "agent", true)
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "agent-7c9")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) { p.Spec.Enforcement.Mode = v1alpha1.EnforcementEnforce })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)

	pod := podOf(rs, "agent-7c9-x2k4p")
	err := k.Create(ctx, pod)
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a privileged Pod of a Deployment admitted before Enforce was admitted: %v", err)
	}
	const want = "soc2-operator denied Pod enforce-existing/agent-7c9-x2k4p, which runs the pod template of Deployment enforce-existing/agent: " +
		"[enforce-existing] wl-privileged (Critical) container app"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("denial %q lacks %q", err.Error(), want)
	}

	// The same Pod, judged with a cache that has seen neither the ReplicaSet nor the Deployment
	// (both created a moment before): the webhook reads the chain from the API server.
	v, err := validator(testenv.Lag{Client: k, Unseen: []client.Object{&appsv1.ReplicaSet{}, &appsv1.Deployment{}}}, k)
	if err != nil {
		t.Fatal(err)
	}
	pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	resp := v.Handle(ctx, admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: "create-pod", Operation: admissionv1.Create,
		Namespace: ns, Name: pod.Name, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Object: runtime.RawExtension{Raw: raw}}})
	if resp.Allowed || resp.Result == nil || !strings.Contains(resp.Result.Message, want) {
		t.Errorf("with the ReplicaSet and Deployment missing from the cache: want denied, saying %q, got allowed=%v result %+v", want, resp.Allowed, resp.Result)
	}
}

// TestADenialOnAnotherObjectIsConfirmedWithTheAPIServer: one apply creates a workload a moment
// after the objects a cross-object check reads (Helm installs NetworkPolicies,
// PodDisruptionBudgets and ServiceAccounts just before Deployments), before the webhook's cache
// may hold them. A denial by such a check is confirmed with what the API server holds, so a
// workload is not refused for lack of a NetworkPolicy that exists; one that none covers is
// still denied.
func TestADenialOnAnotherObjectIsConfirmedWithTheAPIServer(t *testing.T) {
	const ns = "enforce-coverage"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	raiseToCritical(t, ns, "net-pod-policy-coverage")
	waitDenied(t, k, deployment(ns, "uncovered", false))
	web := deployment(ns, "web", false)
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: web.Spec.Selector.MatchLabels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	if err := k.Create(ctx, np); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, web); err != nil {
		t.Errorf("a Deployment created just after the NetworkPolicy that covers it was denied: %v", err)
	}

	// The same, with a cache that certainly has not seen the NetworkPolicy.
	v, err := validator(testenv.Lag{Client: k, Unseen: []client.Object{&networkingv1.NetworkPolicy{}}}, k)
	if err != nil {
		t.Fatal(err)
	}
	req := func(name string) admission.Request {
		return admission.Request{AdmissionRequest: *creatingDeployment(t, deployment(ns, name, false))}
	}
	if resp := v.Handle(ctx, req("web")); !resp.Allowed {
		t.Errorf("with the NetworkPolicy missing from the cache, a Deployment it covers was denied: %+v", resp.Result)
	}
	if resp := v.Handle(ctx, req("uncovered")); resp.Allowed || !strings.Contains(resp.Result.Message, "net-pod-policy-coverage") {
		t.Errorf("a Deployment no NetworkPolicy covers: want denied naming net-pod-policy-coverage, got allowed=%v %+v", resp.Allowed, resp.Result)
	}
}

// TestADenialOnAPriorityClassIsConfirmedWithTheAPIServer: Helm installs a chart's PriorityClass
// just before its Deployments, before the webhook's cache may hold it. A denial by
// avl-priority-class is confirmed with what the API server holds, as for the namespaced objects
// other checks read: a workload is not refused for a class that exists; one that names a class
// that does not is still denied.
func TestADenialOnAPriorityClassIsConfirmedWithTheAPIServer(t *testing.T) {
	const ns = "enforce-priority"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	raiseToCritical(t, ns, "avl-priority-class")
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "enforce-priority-standard"}, Value: 1000}
	if err := k.Create(ctx, pc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(context.Background(), pc) })

	// A cache that certainly has not seen the PriorityClass.
	v, err := validator(testenv.Lag{Client: k, Unseen: []client.Object{&schedulingv1.PriorityClass{}}}, k)
	if err != nil {
		t.Fatal(err)
	}
	req := func(name, class string) admission.Request {
		d := deployment(ns, name, false)
		d.Spec.Template.Spec.PriorityClassName = class
		return admission.Request{AdmissionRequest: *creatingDeployment(t, d)}
	}
	if resp := v.Handle(ctx, req("web", pc.Name)); !resp.Allowed {
		t.Errorf("with the PriorityClass missing from the cache, a Deployment that names it was denied: %+v", resp.Result)
	}
	if resp := v.Handle(ctx, req("lost", "enforce-priority-missing")); resp.Allowed || !strings.Contains(resp.Result.Message, "avl-priority-class") {
		t.Errorf("a Deployment naming a PriorityClass that does not exist: want denied naming avl-priority-class, got allowed=%v %+v", resp.Allowed, resp.Result)
	}
}

// TestARolloutCanScaleDownAnOldRevisionUnderEnforce: the Deployment controller scales down the
// ReplicaSet of the revision it replaces. That ReplicaSet's template is no longer the
// Deployment's (it may be the very privileged container the rollout removes), and judging it
// would stop the rollout; scaling it up again is judged.
func TestARolloutCanScaleDownAnOldRevisionUnderEnforce(t *testing.T) {
	const ns = "enforce-rollout"
	setup(t, ns, v1alpha1.EnforcementWarn)
	k, _ := newClient(t)
	ctx := context.Background()
	yes := true
	// Revision 1 ran privileged, admitted with warnings before the profile enforced.
	old := deployment(ns, "agent", true)
	if err := k.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	three := int32(3)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-rev1", Namespace: ns,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: old.Name, UID: old.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &three, Selector: old.Spec.Selector, Template: old.Spec.Template},
	}
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) { p.Spec.Enforcement.Mode = v1alpha1.EnforcementEnforce })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)
	// Revision 2 drops the privileged container; the Deployment controller scales revision 1 down.
	cur := &appsv1.Deployment{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(old), cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Template = deployment(ns, "agent", false).Spec.Template
	if err := k.Update(ctx, cur); err != nil {
		t.Fatalf("the fixed Deployment was denied: %v", err)
	}
	scale := func(n int32) error {
		r := &appsv1.ReplicaSet{}
		if err := k.Get(ctx, client.ObjectKeyFromObject(rs), r); err != nil {
			return err
		}
		r.Spec.Replicas = &n
		return k.Update(ctx, r)
	}
	if err := scale(1); err != nil {
		t.Fatalf("scaling the old revision down was denied: %v", err)
	}
	if err := scale(2); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
		t.Errorf("scaling the privileged old revision up: want denied naming wl-privileged, got %v", err)
	}
	if err := scale(0); err != nil {
		t.Fatalf("scaling the old revision to zero was denied: %v", err)
	}
}

// validator is the webhook's validator reading through reader (and apiReader, if not nil), as
// Setup makes it from the manager's cache and API reader.
func validator(reader client.Client, apiReader client.Reader) (*webhook.WorkloadValidator, error) {
	kinds, err := inventory.AvailableKinds(reader.RESTMapper())
	if err != nil {
		return nil, err
	}
	return &webhook.WorkloadValidator{Reader: reader, APIReader: apiReader, Gatherer: &inventory.Gatherer{Reader: reader, Kinds: kinds},
		Catalogue: checks.Catalogue(), AdminNamespace: adminNamespace, Clock: clock.RealClock{}}, nil
}

// unjudged reads soc2_operator_admission_unjudged_total for the namespace.
func unjudged(t *testing.T, namespace string) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := metrics.AdmissionUnjudged.WithLabelValues(namespace).Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// requireOwnershipLabels raises chg-ownership-labels to Critical in ns's profile and waits until
// the webhook denies a Deployment without the labels.
func requireOwnershipLabels(t *testing.T, ns string, k client.Client) {
	t.Helper()
	raiseToCritical(t, ns, "chg-ownership-labels")
	waitDenied(t, k, deployment(ns, "unlabelled", false))
}

// waitDenied waits until the webhook denies a dry run of d: the severity a test raised is in
// force.
func waitDenied(t *testing.T, k client.Client, d *appsv1.Deployment) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "the webhook enforcing the raised severity", func() error {
		if err := k.Create(context.Background(), d.DeepCopy(), client.DryRunAll); !apierrors.IsForbidden(err) {
			return fmt.Errorf("%s/%s: want denied, got %v", d.Namespace, d.Name, err)
		}
		return nil
	})
}

// TestAControllerReferenceExemptsOnlyWhatItsControllerCreates: an update that keeps the pod
// template passes unjudged only on an object a built-in controller creates and maintains (a
// ReplicaSet its Deployment scales down). The API server checks no owner reference's target
// (validateOwnerReference in k8s.io/apimachinery v0.37 pkg/api/validation/objectmeta.go), so a
// Deployment can name itself, or any Job or ReplicaSet, as its controller: no built-in
// controller creates Deployments, and such an update is judged like any other.
func TestAControllerReferenceExemptsOnlyWhatItsControllerCreates(t *testing.T) {
	const ns = "enforce-selfowned"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	requireOwnershipLabels(t, ns, k)
	d := deployment(ns, "web", false)
	d.Labels = map[string]string{"app.kubernetes.io/name": "web"}
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	unlabel := func(selfOwned bool) error {
		cur := &appsv1.Deployment{}
		if err := k.Get(ctx, client.ObjectKeyFromObject(d), cur); err != nil {
			return err
		}
		cur.Labels = nil
		if selfOwned {
			yes := true
			cur.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: cur.Name, UID: cur.UID, Controller: &yes}}
		}
		return k.Update(ctx, cur, client.DryRunAll)
	}
	if err := unlabel(false); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "chg-ownership-labels") {
		t.Fatalf("removing the required label: want denied naming chg-ownership-labels, got %v", err)
	}
	if err := unlabel(true); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "chg-ownership-labels") {
		t.Errorf("removing the required label while naming the Deployment its own controller: want denied naming chg-ownership-labels, got %v", err)
	}
}

// TestAFailingWorkloadCanStillBeDeletedUnderEnforce: removing a finalizer or an owner reference
// changes nothing that runs, and is how deletion completes: the garbage collector removes
// foregroundDeletion or orphan from the object it deletes (and owner references from the
// dependents it orphans), other controllers their own finalizers. A workload admitted before its
// profile enforced fails still; denying those updates would leave it terminating forever. Pod
// Security admission lets such updates through the same way (isSignificantPodUpdate in
// k8s.io/pod-security-admission v0.37 admission/admission.go).
func TestAFailingWorkloadCanStillBeDeletedUnderEnforce(t *testing.T) {
	const ns = "enforce-deleting"
	setup(t, ns, v1alpha1.EnforcementWarn)
	k, _ := newClient(t)
	ctx := context.Background()
	const finalizer = "example.com/hold"
	d := deployment(ns, "agent", true)
	d.Finalizers = []string{finalizer}
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(d, "agent-7c9")
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	bare := podOf(rs, "agent-bare")
	bare.OwnerReferences, bare.Finalizers = nil, []string{finalizer}
	if err := k.Create(ctx, bare); err != nil {
		t.Fatal(err)
	}
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) { p.Spec.Enforcement.Mode = v1alpha1.EnforcementEnforce })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)

	// Anything else is judged still: a label added to the failing Deployment, along with a
	// finalizer.
	relabelled := &appsv1.Deployment{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(d), relabelled); err != nil {
		t.Fatal(err)
	}
	relabelled.Labels = map[string]string{"changed": "yes"}
	relabelled.Finalizers = append(relabelled.Finalizers, "example.com/other")
	if err := k.Update(ctx, relabelled, client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Errorf("relabelling a failing Deployment: want denied, got %v", err)
	}

	// The garbage collector orphans the ReplicaSet: it removes the owner reference.
	cur := &appsv1.ReplicaSet{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(rs), cur); err != nil {
		t.Fatal(err)
	}
	cur.OwnerReferences = nil
	if err := k.Update(ctx, cur); err != nil {
		t.Errorf("removing the owner reference of a failing ReplicaSet (orphaning it) was denied: %v", err)
	}
	for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Pod{}} {
		key := client.ObjectKeyFromObject(d)
		if _, ok := o.(*corev1.Pod); ok {
			key = client.ObjectKeyFromObject(bare)
		}
		if err := k.Get(ctx, key, o); err != nil {
			t.Fatal(err)
		}
		if err := k.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
		if err := k.Get(ctx, key, o); err != nil {
			t.Fatal(err)
		}
		o.SetFinalizers(nil)
		if err := k.Update(ctx, o); err != nil {
			t.Errorf("removing the last finalizer of a failing %T being deleted was denied: %v", o, err)
		}
	}
}

// TestAControllerMadeObjectKeepsItsLabelsUnderEnforce: the Deployment controller scales an old
// ReplicaSet down by changing its replicas and annotations, and adopts it through its owner
// references; it never changes a ReplicaSet's labels (scaleReplicaSet and getNewReplicaSet in
// k8s.io/kubernetes v1.37 pkg/controller/deployment/sync.go). A ReplicaSet its Deployment's
// template does not explain is judged itself, so removing a label a check requires from it is
// judged like any other update.
func TestAControllerMadeObjectKeepsItsLabelsUnderEnforce(t *testing.T) {
	const ns = "enforce-rslabels"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	requireOwnershipLabels(t, ns, k)
	d := deployment(ns, "web", false)
	d.Labels = map[string]string{"app.kubernetes.io/name": "web"}
	if err := k.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	// A ReplicaSet that names the Deployment as its controller but runs another image: judged itself.
	rs := replicaSetOf(d, "web-other")
	rs.Labels = map[string]string{"app.kubernetes.io/name": "web"}
	rs.Spec.Template.Spec.Containers[0].Image = "registry.example.com/app:2.0.0"
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	cur := &appsv1.ReplicaSet{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(rs), cur); err != nil {
		t.Fatal(err)
	}
	cur.Labels = nil
	if err := k.Update(ctx, cur, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "chg-ownership-labels") {
		t.Errorf("removing the required label from a ReplicaSet judged itself: want denied naming chg-ownership-labels, got %v", err)
	}
	// The Deployment controller's scale-down (replicas and annotations) is still admitted.
	zero := int32(0)
	cur = &appsv1.ReplicaSet{}
	if err := k.Get(ctx, client.ObjectKeyFromObject(rs), cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Replicas = &zero
	cur.Annotations = map[string]string{"deployment.kubernetes.io/desired-replicas": "1"}
	if err := k.Update(ctx, cur, client.DryRunAll); err != nil {
		t.Errorf("scaling the ReplicaSet down was denied: %v", err)
	}
}

// TestAThirdPartyControllerCanScaleDownAnOldRevisionUnderEnforce: controllers outside
// Kubernetes make workloads too. The Argo Rollouts controller creates a ReplicaSet per revision
// of a Rollout (argoproj.io/v1alpha1), its controller, and scales the old one down by changing
// only its replicas and annotations (scaleReplicaSet in argo-rollouts rollout/sync.go), as the
// Deployment controller does. Judging that scale-down would stall the rollout that replaces a
// failing revision. The API server checks no owner reference, so the reference proves nothing:
// only an update that changes nothing but the replicas (not more), annotations, finalizers and
// owner references passes unjudged; a scale-up, any other change, a create and the Pods the
// ReplicaSet creates are judged.
func TestAThirdPartyControllerCanScaleDownAnOldRevisionUnderEnforce(t *testing.T) {
	const ns = "enforce-argo"
	setup(t, ns, v1alpha1.EnforcementWarn)
	k, _ := newClient(t)
	ctx := context.Background()
	yes := true
	rollout := metav1.OwnerReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "agent",
		UID: "22222222-2222-2222-2222-222222222222", Controller: &yes, BlockOwnerDeletion: &yes}
	three := int32(3)
	// Revision 1 ran privileged, admitted with warnings before the profile enforced.
	tmpl := deployment(ns, "agent", true).Spec.Template
	tmpl.Labels = map[string]string{"app": "agent", "rollouts-pod-template-hash": "6b7f"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent-6b7f", Namespace: ns, Labels: tmpl.Labels,
			Annotations:     map[string]string{"rollout.argoproj.io/desired-replicas": "3"},
			OwnerReferences: []metav1.OwnerReference{rollout}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &three, Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl},
	}
	if err := k.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) { p.Spec.Enforcement.Mode = v1alpha1.EnforcementEnforce })
	waitEnforced(t, ns, v1alpha1.EnforcementEnforce)

	update := func(change func(r *appsv1.ReplicaSet)) error {
		r := &appsv1.ReplicaSet{}
		if err := k.Get(ctx, client.ObjectKeyFromObject(rs), r); err != nil {
			return err
		}
		change(r)
		return k.Update(ctx, r, client.DryRunAll)
	}
	scale := func(n int32) func(r *appsv1.ReplicaSet) {
		return func(r *appsv1.ReplicaSet) {
			r.Spec.Replicas = &n
			r.Annotations["rollout.argoproj.io/desired-replicas"] = "2"
			r.Annotations["scale-down-deadline"] = "2026-12-04T18:00:00Z"
		}
	}
	if err := update(scale(1)); err != nil {
		t.Errorf("the Rollout controller scaling the old revision down was denied: %v", err)
	}
	if err := update(scale(0)); err != nil {
		t.Errorf("the Rollout controller scaling the old revision to zero was denied: %v", err)
	}
	denied := map[string]func(r *appsv1.ReplicaSet){
		"scaling it up": scale(4),
		"scaling it down while changing minReadySeconds": func(r *appsv1.ReplicaSet) {
			scale(1)(r)
			r.Spec.MinReadySeconds = 30
		},
		"scaling it down while changing its labels": func(r *appsv1.ReplicaSet) {
			scale(1)(r)
			r.Labels = map[string]string{"app": "agent", "rollouts-pod-template-hash": "6b7f", "more": "x"}
		},
		"scaling it down while changing its pod template's annotations": func(r *appsv1.ReplicaSet) {
			scale(1)(r)
			r.Spec.Template.Annotations = map[string]string{"x": "y"}
		},
		"scaling it down under another controller": func(r *appsv1.ReplicaSet) {
			scale(1)(r)
			other := rollout
			other.UID = "33333333-3333-3333-3333-333333333333"
			r.OwnerReferences = []metav1.OwnerReference{other}
		},
	}
	for name, change := range denied {
		if err := update(change); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
			t.Errorf("%s: want denied naming wl-privileged, got %v", name, err)
		}
	}
	// A new ReplicaSet naming the Rollout, and a Pod of the old one, are judged.
	created := rs.DeepCopy()
	created.ResourceVersion, created.UID, created.Name = "", "", "agent-9c4d"
	if err := k.Create(ctx, created, client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
		t.Errorf("creating a privileged ReplicaSet that names a Rollout: want denied naming wl-privileged, got %v", err)
	}
	if err := k.Create(ctx, podOf(rs, "agent-6b7f-x2k4p"), client.DryRunAll); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
		t.Errorf("a Pod of the privileged ReplicaSet: want denied naming wl-privileged, got %v", err)
	}
}

// TestPodsOfAHostNetworkControllerAreJudgedThroughIt: the API server gives each container port
// of a Pod on the host network a hostPort equal to its containerPort (SetDefaults_Pod), which a
// controller's pod template does not get. A Pod of an excepted host-network DaemonSet (a node
// exporter) is the template as created, and is admitted as the DaemonSet is, not judged by
// itself, outside the exception, and denied.
func TestPodsOfAHostNetworkControllerAreJudgedThroughIt(t *testing.T) {
	const ns = "enforce-host-network"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	updateProfile(t, ns, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Checks = []v1alpha1.CheckOverride{{ID: "wl-host-network", Severity: v1alpha1.SeverityCritical}}
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "node-exporter-host-network", Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-host-network"}, Match: v1alpha1.ResourceMatch{Kinds: []string{"DaemonSet"}, Names: []string{"node-exporter"}},
			Reason: "The node exporter reads the node's network statistics.", Owner: "platform@example.com",
			Expires: metav1.NewTime(time.Now().Add(24 * time.Hour)),
		},
	}
	if err := k.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	uid := int64(65534)
	labels := map[string]string{"app": "node-exporter"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "node-exporter", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{
					Name: "exporter", Image: "registry.example.com/node-exporter:1.8.2",
					Ports:           []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}},
					SecurityContext: &corev1.SecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, AllowPrivilegeEscalation: &no},
				}}},
			},
		},
	}
	// The cache may not hold the exception yet.
	testenv.Eventually(t, 10*time.Second, "the excepted DaemonSet admitted", func() error { return k.Create(ctx, ds) })
	if got := ds.Spec.Template.Spec.Containers[0].Ports[0].HostPort; got != 0 {
		t.Fatalf("the API server gave the template's port hostPort %d; the test expects templates left alone", got)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "node-exporter-7xq2p", Namespace: ns, Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: &yes}}},
		Spec: *ds.Spec.Template.Spec.DeepCopy()}
	if err := k.Create(ctx, pod); err != nil {
		t.Fatalf("a Pod of the excepted host-network DaemonSet was denied: %v", err)
	}
	if got := pod.Spec.Containers[0].Ports[0].HostPort; got != 9100 {
		t.Errorf("the API server gave the Pod's port hostPort %d, want 9100 (its containerPort)", got)
	}

	// A Pod that binds another host port than the template's is not the template: judged by
	// itself, outside the exception.
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "node-exporter-ssh", Namespace: ns, Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: &yes}}},
		Spec: *ds.Spec.Template.Spec.DeepCopy()}
	other.Spec.Containers[0].Ports = append(other.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "ssh", ContainerPort: 22})
	err := k.Create(ctx, other)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "container exporter's ports differs from the template's") {
		t.Errorf("a Pod with a port its DaemonSet's template lacks: want denied as not the template's, got %v", err)
	}
}

// registerDeployments registers the webhook served here at path for the creation of
// Deployments in the namespaces labelled label=ns, under failurePolicy policy and timeout
// seconds (nil: the API server's default), until the test ends.
func registerDeployments(t *testing.T, k client.Client, ns, path, label string, policy admissionregistrationv1.FailurePolicyType, timeout *int32) {
	t.Helper()
	url := fmt.Sprintf("https://%s%s", net.JoinHostPort(webhooks.LocalServingHost, strconv.Itoa(webhooks.LocalServingPort)), path)
	none, equivalent := admissionregistrationv1.SideEffectClassNone, admissionregistrationv1.Equivalent
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         ns + ".compliance.soc2-operator.io",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: webhooks.LocalServingCAData},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{label: ns}},
			FailurePolicy:           &policy,
			MatchPolicy:             &equivalent,
			SideEffects:             &none,
			TimeoutSeconds:          timeout,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if err := k.Create(context.Background(), vwc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(context.Background(), vwc) })
}

// send posts req to the webhook served at url as the API server does, with timeout in the URL
// ("" for none), and returns its answer. It returns nil, the test marked failed, when there is
// no answer or it is not an HTTP 200 holding a response; it may run on a goroutine of its own.
func send(t *testing.T, url string, req *admissionv1.AdmissionRequest, timeout string) *admissionv1.AdmissionResponse {
	t.Helper()
	review, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
	if err != nil {
		t.Error(err)
		return nil
	}
	// The answer is awaited for twice the request's time, and at least 20 s.
	wait := 20 * time.Second
	if timeout != "" {
		url += "?timeout=" + timeout
		if d, err := time.ParseDuration(timeout); err == nil {
			wait = max(wait, 2*d)
		}
	}
	resp, err := (&http.Client{Timeout: wait}).Post(url, "application/json", bytes.NewReader(review))
	if err != nil {
		t.Errorf("%s/%s: no answer: %v", req.Namespace, req.Name, err)
		return nil
	}
	defer func() { _ = resp.Body.Close() }()
	var answer admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK || answer.Response == nil {
		t.Errorf("%s/%s: want an answer (HTTP 200), got HTTP %d (%v)", req.Namespace, req.Name, resp.StatusCode, err)
		return nil
	}
	return answer.Response
}
