// Package webhook is the validating admission webhook: it judges a workload being created or
// updated with the same engine and checks as the reports, under every profile that selects
// its namespace and enforces (Warn or Enforce).
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

// Path is where the webhook is served.
const Path = "/validate-workloads"

// maxWarnings bounds the warnings returned for one object; kubectl prints each on its own line.
const maxWarnings = 10

// +kubebuilder:webhook:path=/validate-workloads,mutating=false,failurePolicy=ignore,sideEffects=None,groups="";apps;batch,resources=pods;pods/ephemeralcontainers;replicationcontrollers;deployments;statefulsets;daemonsets;replicasets;jobs;cronjobs,verbs=create;update,versions=v1,name=workloads.compliance.soc2-operator.io,admissionReviewVersions=v1,timeoutSeconds=5

// WorkloadValidator admits or denies workloads by the profiles' enforcement.
type WorkloadValidator struct {
	// Reader reads profiles, namespaces, exceptions and the namespace's objects (the cache).
	Reader client.Reader
	// APIReader reads a namespace or a controller the cache does not hold yet (a namespace
	// applied together with its workloads, a ReplicaSet created a moment before its first Pod)
	// straight from the API server; nil reads only the cache.
	APIReader client.Reader
	// Gatherer reads the objects around the workload, for cross-object checks.
	Gatherer *inventory.Gatherer
	// Catalogue is the built-in checks.
	Catalogue []*engine.Check
	// AdminNamespace is the operator's namespace.
	AdminNamespace string
	// Clock judges exception expiry.
	Clock clock.PassiveClock
	// Approval says whether approvals on exceptions can be trusted; nil trusts none, so that an
	// exception that needs an approval admits nothing.
	Approval *admissionpolicy.Verifier

	plans engine.PlanCache
}

// verdict is one profile's judgement of the object.
type verdict struct {
	profile  string
	mode     v1alpha1.EnforcementMode
	failures []*engine.Result
}

// Handle judges one admission request.
func (v *WorkloadValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	log := logf.FromContext(ctx).WithValues("kind", req.Kind.Kind, "namespace", req.Namespace, "name", req.Name)
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	if req.Namespace == "" || req.Namespace == v.AdminNamespace {
		return admission.Allowed("")
	}
	objs, err := manifest.DecodeObject(req.Object.Raw)
	if err != nil || len(objs) == 0 {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding the %s: %w", req.Kind.Kind, err))
	}
	obj := objs[0]
	obj.Namespace = req.Namespace
	if obj.Name == "" {
		obj.Name = req.Name
	}
	if obj.Workload == nil {
		return admission.Allowed("")
	}
	if controllerMaintenance(req, obj) {
		// A controller scaling down, adopting or relabelling what it created: nothing new runs.
		return admission.Allowed("")
	}

	verdicts, err := v.judge(ctx, obj)
	if err != nil {
		// Served by Handler, this is an HTTP 500, so the webhook's failurePolicy decides, as it
		// does when the operator cannot be reached: Ignore admits, Fail denies.
		log.Error(err, "Unable to judge the workload; the webhook's failurePolicy decides")
		metrics.AdmissionUnjudged.WithLabelValues(obj.Namespace).Inc()
		return admission.Errored(http.StatusServiceUnavailable, fmt.Errorf("soc2-operator could not judge %s %s/%s: %w", obj.Kind, obj.Namespace, obj.Name, err))
	}
	var denials, warnings []string
	for _, vd := range verdicts {
		lines := describe(vd, obj)
		switch vd.mode {
		case v1alpha1.EnforcementEnforce:
			denials = append(denials, lines...)
		case v1alpha1.EnforcementWarn:
			warnings = append(warnings, lines...)
		}
	}
	if len(warnings) > maxWarnings {
		warnings = append(warnings[:maxWarnings-1], fmt.Sprintf("... and %d more; see the namespace's ComplianceReport", len(warnings)-maxWarnings+1))
	}
	if len(denials) > 0 {
		log.Info("Denied a workload that fails enforced checks", "failures", len(denials))
		msg := fmt.Sprintf("soc2-operator denied %s %s/%s: %s", obj.Kind, obj.Namespace, obj.Name, strings.Join(denials, "; "))
		return admission.Denied(msg).WithWarnings(warnings...)
	}
	return admission.Allowed("").WithWarnings(warnings...)
}

// judge evaluates the object under every profile that selects its namespace and enforces.
func (v *WorkloadValidator) judge(ctx context.Context, obj *engine.Object) ([]verdict, error) {
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := v.Reader.List(ctx, profiles); err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	ns, err := inventory.Namespace(ctx, v.Reader, v.APIReader, obj.Namespace)
	if err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", obj.Namespace, err)
	}
	var enforcing []*v1alpha1.ComplianceProfile
	for i := range profiles.Items {
		p := &profiles.Items[i]
		e := p.Spec.Enforcement
		if e == nil || (e.Mode != v1alpha1.EnforcementWarn && e.Mode != v1alpha1.EnforcementEnforce) {
			continue
		}
		sel, problem := selection.NamespaceSelector(p)
		if problem != nil || !selection.Selects(p, sel, ns) {
			continue
		}
		enforcing = append(enforcing, p)
	}
	if len(enforcing) == 0 {
		return nil, nil
	}

	around, err := v.Gatherer.Gather(ctx, inventory.Scope{Namespaces: map[string]bool{obj.Namespace: true}, ClusterScoped: true})
	if err != nil {
		return nil, err
	}
	// The incoming object replaces the stored one (an update), or joins the others (a create).
	objs := make([]*engine.Object, 0, len(around)+1)
	for _, o := range around {
		if o.Kind == obj.Kind && o.Namespace == obj.Namespace && o.Name == obj.Name {
			continue
		}
		objs = append(objs, o)
	}
	objs = append(objs, obj)
	if owner, err := v.missingController(ctx, obj, around); err != nil {
		return nil, err
	} else if owner != nil {
		objs = append(objs, owner)
	}
	inv := engine.NewInventory(objs, true)
	if inv.JudgedThroughController(obj) {
		// A Pod, ReplicaSet or Job that its controller's template explains: the controller was
		// judged when it was admitted. Anything the template does not explain (a forged owner
		// reference, an added or changed container, an ephemeral container) is judged here.
		return nil, nil
	}
	exs, err := inventory.Exceptions(ctx, v.Reader, obj.Namespace, v.AdminNamespace)
	if err != nil {
		return nil, err
	}

	trust, why := v.Approval.Trust()
	var out []verdict
	for _, p := range enforcing {
		plan := v.plans.Plan(v.Catalogue, p)
		min := p.Spec.Enforcement.Severity
		if min == "" {
			min = v1alpha1.SeverityHigh
		}
		ev := plan.Evaluate(inv, exs, engine.Options{Now: v.Clock.Now(), AdminNamespace: v.AdminNamespace, SkipClusterScoped: true,
			Approval: trust, ApprovalProblem: why, Only: obj})
		vd := verdict{profile: p.Name, mode: p.Spec.Enforcement.Mode}
		for i := range ev.Results {
			r := &ev.Results[i]
			if r.Object == obj && r.Status == engine.StatusFail && engine.SeverityAtLeast(r.Check.Severity, min) {
				vd.failures = append(vd.failures, r)
			}
		}
		if len(vd.failures) > 0 {
			engine.SortFindings(vd.failures)
			out = append(out, vd)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].profile < out[j].profile })
	return out, nil
}

// controllerMaintenance reports whether req updates an object that names a built-in controller
// without changing what it runs: the same pod spec, pod labels and annotations, and (for a
// ReplicaSet or ReplicationController) no more replicas. The Deployment controller scales an old
// ReplicaSet down this way during a rollout; judging the old template then would stop the
// rollout that replaces it. The object was judged when it was created, and the reports judge it
// still (an old revision that runs Pods is judged itself).
func controllerMaintenance(req admission.Request, obj *engine.Object) bool {
	if req.Operation != admissionv1.Update || req.SubResource != "" || len(req.OldObject.Raw) == 0 ||
		engine.ControllerRef(obj.Obj) == nil {
		return false
	}
	olds, err := manifest.DecodeObject(req.OldObject.Raw)
	if err != nil || len(olds) == 0 || olds[0].Workload == nil || olds[0].Kind != obj.Kind {
		return false
	}
	old, cur := olds[0].Workload, obj.Workload
	if !equality.Semantic.DeepEqual(old.PodSpec, cur.PodSpec) ||
		!equality.Semantic.DeepEqual(old.PodMeta.Labels, cur.PodMeta.Labels) ||
		!equality.Semantic.DeepEqual(old.PodMeta.Annotations, cur.PodMeta.Annotations) {
		return false
	}
	if old.Replicas != nil && cur.Replicas != nil && *cur.Replicas > *old.Replicas {
		return false
	}
	return true
}

// missingController reads the controller obj's reference names from the API server when the
// cache does not hold it with that UID (the cache lags the controller that just created it). It
// returns nil when the cache has it, obj names no built-in controller, or it does not exist.
func (v *WorkloadValidator) missingController(ctx context.Context, obj *engine.Object, around []*engine.Object) (*engine.Object, error) {
	ref := engine.ControllerRef(obj.Obj)
	if ref == nil || v.APIReader == nil {
		return nil, nil
	}
	for _, o := range around {
		if o.Kind == ref.Kind && o.Name == ref.Name && o.Obj.GetUID() == ref.UID {
			return nil, nil
		}
	}
	k, ok := inventory.ByKind(ref.Kind)
	if !ok {
		return nil, nil
	}
	if len(validation.IsDNS1123Subdomain(ref.Name)) > 0 {
		// No controller can have this name (the API server does not check the names owner
		// references give). Asked for it, the API reader fails otherwise than not found, and
		// the webhook would fail open on an error the object's author chose.
		return nil, nil
	}
	owner := k.New()
	if err := v.APIReader.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, owner); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading %s %s/%s, the controller %s %s names: %w", ref.Kind, obj.Namespace, ref.Name, obj.Kind, obj.Name, err)
	}
	return engine.NewObject(owner, k.APIVersion(), ref.Kind), nil
}

// describe writes one line per failure: the check, its severity, where, what and how to fix.
func describe(vd verdict, obj *engine.Object) []string {
	lines := make([]string, 0, len(vd.failures))
	for _, r := range vd.failures {
		where := ""
		if r.Container != "" {
			where = " container " + r.Container
		}
		fix := firstSentence(r.Check.Remediation)
		lines = append(lines, fmt.Sprintf("[%s] %s (%s)%s: %s; fix: %s", vd.profile, r.Check.ID, r.Check.Severity, where, r.Message, fix))
	}
	return lines
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

// Option configures the webhook.
type Option func(*WorkloadValidator)

// WithApproval makes the webhook trust approvals while approval says the admission policies are
// in force (pass the verifier the reconcilers use). Without it no approval is trusted.
func WithApproval(approval *admissionpolicy.Verifier) Option {
	return func(v *WorkloadValidator) { v.Approval = approval }
}

// Setup serves the webhook from the manager's webhook server and adds a readiness check that
// passes once the server is serving.
func Setup(mgr ctrl.Manager, adminNamespace string, opts ...Option) error {
	kinds, err := inventory.AvailableKinds(mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	v := &WorkloadValidator{
		Reader:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		Gatherer:       &inventory.Gatherer{Reader: mgr.GetClient(), Kinds: kinds},
		Catalogue:      checks.Catalogue(),
		AdminNamespace: adminNamespace,
		Clock:          clock.RealClock{},
	}
	for _, o := range opts {
		o(v)
	}
	metrics.Register()
	mgr.GetWebhookServer().Register(Path, Handler(v))
	return mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker())
}

// Handler serves v's answers to the API server. An answer that says the webhook could not read
// what it needs to judge the object (code 503) goes back as an HTTP 500, not as a denial or an
// admission, so that the webhook configuration's failurePolicy decides, as when the operator is
// unreachable: Ignore admits (the API server records the failure in the request's audit
// annotations), Fail denies. Any other error (a panic, an object that cannot be decoded:
// something the object's author may have chosen) stays a denial.
func Handler(v *WorkloadValidator) http.Handler {
	return failurePolicyDecides{webhook: &admission.Webhook{Handler: v}}
}

type failurePolicyDecides struct{ webhook http.Handler }

func (h failurePolicyDecides) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out := &bufferedResponse{header: w.Header()}
	h.webhook.ServeHTTP(out, r)
	var review admissionv1.AdmissionReview
	if out.code == 0 || out.code == http.StatusOK {
		if err := json.Unmarshal(out.body.Bytes(), &review); err == nil && review.Response != nil && !review.Response.Allowed &&
			review.Response.Result != nil && review.Response.Result.Code == http.StatusServiceUnavailable {
			// 500, not 503: the API server quotes a 500's body in its refusal, not a 503's.
			http.Error(w, review.Response.Result.Message, http.StatusInternalServerError)
			return
		}
	}
	if out.code != 0 {
		w.WriteHeader(out.code)
	}
	_, _ = w.Write(out.body.Bytes())
}

// bufferedResponse keeps what a handler writes until it is known what to send.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
