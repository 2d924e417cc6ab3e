// Package webhook is the validating admission webhook: it judges a workload being created or
// updated with the same engine and checks as the reports, under every profile that selects
// its namespace and enforces (Warn or Enforce).
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/discovery"
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

// maxDenials bounds the failures a denial names. The API server returns the denial to the client
// as it is and records it in the audit log with the response status, at every audit level: a
// line per failure let a namespace admin's dry-run Pod of 5,000 privileged containers (300 KB)
// write a denial of 1.2 MB into it, as often as they liked.
const maxDenials = 20

// +kubebuilder:webhook:path=/validate-workloads,mutating=false,failurePolicy=ignore,sideEffects=None,groups="";apps;batch,resources=pods;pods/ephemeralcontainers;pods/resize;replicationcontrollers;deployments;statefulsets;daemonsets;replicasets;jobs;cronjobs,verbs=create;update,versions=v1,name=workloads.compliance.soc2-operator.io,admissionReviewVersions=v1,timeoutSeconds=5

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
	// Judgements is how many requests may be judged at once; 0 is GOMAXPROCS. Each judgement
	// reads and evaluates the namespace's objects; unbounded, anyone who may dry-run a Pod
	// could pile them up on the manager, which runs the reconcilers too. A request that finds
	// none free waits for one until its time is up, then answers as one judged out of time
	// does (outOfTime). One namespace's requests hold at most half of them (at least one), so
	// that a namespace admin who floods the webhook with objects slow to judge cannot leave
	// every other namespace's workloads refused for want of a judgement.
	Judgements int

	plans     engine.PlanCache
	slotsOnce sync.Once
	slots     chan struct{}
	// perNamespace is how many judgements one namespace may hold; byNamespace, under nsMu, the
	// namespaces with requests judged or waiting.
	perNamespace int
	nsMu         sync.Mutex
	byNamespace  map[string]*namespaceSlots

	// recheckClock ticks the rechecks of what the webhook can read (WithRecheck).
	recheckClock    clock.WithTicker
	recheckInterval time.Duration
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
	if req.Namespace == "" || req.Namespace == v.AdminNamespace || selection.SystemNamespaces[req.Namespace] {
		// The operator's namespace and the system namespaces are never judged, whatever the
		// configuration sends: the install's namespaceSelector leaves them out, but OLM writes
		// its own, from the OperatorGroup, and the bundle cannot carry one.
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
	if controllerMaintenance(req, obj) || lifecycleOnly(req) {
		// A controller scaling down or adopting what it created, or a finalizer or
		// owner reference removed as a deletion completes: nothing new runs.
		return admission.Allowed("")
	}

	enforcing, err := v.enforcing(ctx, obj.Namespace)
	if errors.Is(err, errNoNamespace) {
		// The API server never asks about an object in a namespace that does not exist (its
		// NamespaceLifecycle admission refuses it first): whoever sent this reached the
		// webhook's port otherwise. Counted, each such review would add a series of the
		// namespace it names to soc2_operator_admission_unjudged_total and raise
		// SOC2AdmissionUnjudged, admitting nothing.
		log.Info("Denied a workload in a namespace that does not exist")
		return admission.Denied(fmt.Sprintf("soc2-operator denied %s %s/%s: namespace %s does not exist", obj.Kind, obj.Namespace, obj.Name, obj.Namespace))
	}
	if err != nil {
		log.Error(err, "Unable to judge the workload; the webhook's failurePolicy decides")
		metrics.AdmissionUnjudged.WithLabelValues(obj.Namespace).Inc()
		return admission.Errored(http.StatusServiceUnavailable, fmt.Errorf("soc2-operator could not judge %s %s/%s: %w", obj.Kind, obj.Namespace, obj.Name, err))
	}
	if len(enforcing) == 0 {
		return admission.Allowed("")
	}
	type outcome struct {
		judged   *engine.Object
		verdicts []verdict
		err      error
		panicked any
	}
	release, ok := v.acquire(ctx, obj.Namespace)
	if !ok {
		// Every judgement is taken, for the whole of the request's time: answered as a
		// judgement out of time is, never left to the failurePolicy.
		return outOfTime(log, req, obj, enforcing, true)
	}
	done := make(chan outcome, 1)
	go func() {
		// The slot is held until the judgement ends, not until the request is answered: one
		// that runs on after its deadline still counts. It stops at its next check
		// (engine.Options.Context), or within one whose work grows with what the object holds
		// (gitleaks' rules over a long value ask engine.Context.Stopped at each place they try;
		// the index of a namespace's NetworkPolicies asks engine.Inventory.Stopped at each
		// policy, and what it read by then is kept nowhere).
		defer release()
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{panicked: r}
			}
		}()
		judged, verdicts, err := v.judge(ctx, obj, enforcing)
		done <- outcome{judged: judged, verdicts: verdicts, err: err}
	}()
	var judged *engine.Object
	var verdicts []verdict
	select {
	case o := <-done:
		if o.panicked != nil {
			// A panic the object may have caused stays a denial (see Handler).
			panic(o.panicked)
		}
		judged, verdicts, err = o.judged, o.verdicts, o.err
		if err != nil && ctx.Err() != nil {
			// A read cut short by the deadline: out of time too.
			return outOfTime(log, req, obj, enforcing, false)
		}
	case <-ctx.Done():
		// The API server gives up at the webhook's timeout and leaves the request to the
		// failurePolicy, which admits it under Ignore: what the object holds (a value the
		// checks read slowly) must not buy that. Refused under Enforce, as a panic is.
		return outOfTime(log, req, obj, enforcing, false)
	}
	if err != nil {
		// Served by Handler, this is an HTTP 500, so the webhook's failurePolicy decides, as it
		// does when the operator cannot be reached: Ignore admits, Fail denies.
		log.Error(err, "Unable to judge the workload; the webhook's failurePolicy decides")
		metrics.AdmissionUnjudged.WithLabelValues(obj.Namespace).Inc()
		return admission.Errored(http.StatusServiceUnavailable, fmt.Errorf("soc2-operator could not judge %s %s/%s: %w", obj.Kind, obj.Namespace, obj.Name, err))
	}
	var denials, warnings []string
	for _, vd := range verdicts {
		lines := describe(vd, obj, judged)
		switch vd.mode {
		case v1alpha1.EnforcementEnforce:
			denials = append(denials, lines...)
		case v1alpha1.EnforcementWarn:
			// What a controller creates from its template was warned about when the controller
			// was admitted: warnings now would reach only the controller (and its logs).
			if judged == obj {
				warnings = append(warnings, lines...)
			}
		}
	}
	if len(denials) > 0 && mirrorFromNode(req, obj) {
		// The kubelet runs a static pod whatever the answer: refusing its mirror pod stops
		// nothing and hides a running pod from the reports. Admitted, its failures warned of.
		log.Info("Admitted a node's mirror pod that fails enforced checks", "failures", len(denials))
		warnings, denials = append(denials, warnings...), nil
	}
	if len(warnings) > maxWarnings {
		warnings = append(warnings[:maxWarnings-1], fmt.Sprintf("... and %d more; see the namespace's ComplianceReport", len(warnings)-maxWarnings+1))
	}
	if len(denials) > 0 {
		log.Info("Denied a workload that fails enforced checks", "failures", len(denials))
		if len(denials) > maxDenials {
			denials = append(denials[:maxDenials-1], fmt.Sprintf("... and %d more failures", len(denials)-maxDenials+1))
		}
		what := fmt.Sprintf("%s %s/%s", obj.Kind, obj.Namespace, obj.Name)
		if judged != obj {
			what += fmt.Sprintf(", which runs the pod template of %s %s/%s", judged.Kind, judged.Namespace, judged.Name)
		}
		msg := fmt.Sprintf("soc2-operator denied %s: %s", what, strings.Join(denials, "; "))
		return admission.Denied(msg).WithWarnings(warnings...)
	}
	return admission.Allowed("").WithWarnings(warnings...)
}

// mirrorFromNode reports whether req is a node creating a mirror pod, the API server's copy of
// a static pod its kubelet runs from a file on the node (a Pod annotated MirrorPodAnnotation,
// created by system:node:<name> in the group system:nodes, as the Node authorizer and the
// NodeRestriction admission plugin allow only kubelets). Anyone else's pod that carries the
// annotation is judged as any pod is.
func mirrorFromNode(req admission.Request, obj *engine.Object) bool {
	if req.Operation != admissionv1.Create || req.SubResource != "" || obj.Kind != "Pod" {
		return false
	}
	if _, ok := obj.Obj.GetAnnotations()[engine.MirrorPodAnnotation]; !ok {
		return false
	}
	return strings.HasPrefix(req.UserInfo.Username, "system:node:") && slices.Contains(req.UserInfo.Groups, "system:nodes")
}

// outOfTime answers for an object whose judgement outlasted the time the API server gives the
// webhook, or (busy) that found every judgement taken (WorkloadValidator.Judgements) for all of
// that time: refused when a profile enforces, admitted with a warning when they only warn (or
// the object is a node's mirror pod, which is never refused). An admission is counted in
// soc2_operator_admission_unjudged_total unless the request is a dry run, which admits nothing:
// anyone who may write the object may send as many as they like, and counted they would raise
// SOC2AdmissionUnjudged at will.
func outOfTime(log logr.Logger, req admission.Request, obj *engine.Object, enforcing []*v1alpha1.ComplianceProfile, busy bool) admission.Response {
	mirror := mirrorFromNode(req, obj)
	what := fmt.Sprintf("soc2-operator could not judge %s %s/%s within the webhook's timeout", obj.Kind, obj.Namespace, obj.Name)
	fix := "make what its checks read smaller (environment values, arguments) and apply it again"
	if busy {
		what += ": it was judging other requests all that time"
		fix = "apply it again"
	}
	var names []string
	for _, p := range enforcing {
		if p.Spec.Enforcement.Mode == v1alpha1.EnforcementEnforce {
			names = append(names, p.Name)
		}
	}
	if len(names) > 0 && !mirror {
		log.Info("Denied a workload that could not be judged in time", "busy", busy)
		return admission.Denied(fmt.Sprintf("%s, which [%s] enforce; %s", what, strings.Join(names, ", "), fix))
	}
	log.Info("Admitted a workload that could not be judged in time", "busy", busy)
	if req.DryRun == nil || !*req.DryRun {
		metrics.AdmissionUnjudged.WithLabelValues(obj.Namespace).Inc()
	}
	return admission.Allowed("").WithWarnings(what + "; see the namespace's ComplianceReport")
}

// acquire waits for a judgement to be free (WorkloadValidator.Judgements), and for namespace
// to hold fewer than its share, until ctx is done: ok with the function that frees it again,
// false when none was free in time.
func (v *WorkloadValidator) acquire(ctx context.Context, namespace string) (release func(), ok bool) {
	v.slotsOnce.Do(func() {
		n := v.Judgements
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		v.slots = make(chan struct{}, n)
		v.perNamespace = max(1, n/2)
		v.byNamespace = map[string]*namespaceSlots{}
	})
	v.nsMu.Lock()
	ns := v.byNamespace[namespace]
	if ns == nil {
		ns = &namespaceSlots{held: make(chan struct{}, v.perNamespace)}
		v.byNamespace[namespace] = ns
	}
	ns.users++
	v.nsMu.Unlock()
	leave := func() {
		v.nsMu.Lock()
		defer v.nsMu.Unlock()
		if ns.users--; ns.users == 0 {
			delete(v.byNamespace, namespace)
		}
	}
	select {
	case ns.held <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, false
	}
	select {
	case v.slots <- struct{}{}:
		return func() {
			<-v.slots
			<-ns.held
			leave()
		}, true
	case <-ctx.Done():
		<-ns.held
		leave()
		return nil, false
	}
}

// namespaceSlots are the judgements one namespace holds (held), and how many of its requests
// hold or wait for one (users): the entry goes with the last.
type namespaceSlots struct {
	held  chan struct{}
	users int
}

// errNoNamespace is the error of enforcing when the API server holds no namespace of the name.
var errNoNamespace = errors.New("no such namespace")

// enforcing are the profiles that select the namespace and enforce (Warn or Enforce).
func (v *WorkloadValidator) enforcing(ctx context.Context, namespace string) ([]*v1alpha1.ComplianceProfile, error) {
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := v.Reader.List(ctx, profiles); err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	ns, err := inventory.Namespace(ctx, v.Reader, v.APIReader, namespace)
	if apierrors.IsNotFound(err) && v.APIReader != nil {
		// The API server itself says so, not a cache that lags.
		return nil, fmt.Errorf("%w: %s", errNoNamespace, namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", namespace, err)
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
	return enforcing, nil
}

// reading is the gatherer of what the webhook reads: the Gatherer without the kinds a recheck
// found it may no longer read or the API server no longer serves (inventory.Gatherer.AllUnseen),
// but for the workload kinds, which decide through which controller an object is judged. What
// those kinds decide is NotAssessed; read from the cache, one whose informer had not started
// (a replica's first request after the permission was taken away) could never sync, and every
// read waited for it until the API server's deadline: every workload of an enforced namespace
// was refused as out of time on that replica until it restarted.
func (v *WorkloadValidator) reading() *inventory.Gatherer {
	unseen := v.Gatherer.AllUnseen()
	kinds := make([]inventory.Kind, 0, len(v.Gatherer.Kinds))
	for _, k := range v.Gatherer.Kinds {
		if _, ok := unseen[k.GVK.Kind]; ok && !engine.IsWorkloadKind(k.GVK.Kind) {
			continue
		}
		kinds = append(kinds, k)
	}
	if len(kinds) == len(v.Gatherer.Kinds) {
		return v.Gatherer
	}
	return &inventory.Gatherer{Reader: v.Gatherer.Reader, Kinds: kinds}
}

// judge evaluates the object under the enforcing profiles. An object its controller's template
// explains (a Deployment's ReplicaSet, its Pods) is judged as that controller is, the
// controller at the top of the chain: that object is returned with the verdicts (nil with an
// error).
func (v *WorkloadValidator) judge(ctx context.Context, obj *engine.Object, enforcing []*v1alpha1.ComplianceProfile) (*engine.Object, []verdict, error) {
	around, err := v.reading().Gather(ctx, inventory.Scope{Namespaces: map[string]bool{obj.Namespace: true}, ClusterScoped: true})
	if err != nil {
		return nil, nil, err
	}
	// The incoming object replaces the stored one (an update), or joins the others (a create).
	objs := make([]*engine.Object, 0, len(around)+1)
	for _, o := range around {
		if sameObject(o, obj) {
			continue
		}
		objs = append(objs, o)
	}
	objs = append(objs, obj)
	owners, err := v.missingControllers(ctx, obj, around)
	if err != nil {
		return nil, nil, err
	}
	objs = append(objs, owners...)
	// The Nodes its bound Pods (the incoming one among them) run on, which decide their OS
	// where their spec does not, as in the reports.
	nodes, err := v.Gatherer.NodesOf(ctx, objs)
	if err != nil {
		return nil, nil, err
	}
	objs = append(objs, nodes...)
	inv := v.Gatherer.Inventory(objs)
	judged, idle := throughControllers(inv, obj)
	if idle {
		return obj, nil, nil
	}
	exs, err := inventory.Exceptions(ctx, v.Reader, obj.Namespace, v.AdminNamespace)
	if err != nil {
		return nil, nil, err
	}

	out, err := v.evaluate(ctx, inv, exs, enforcing, judged, obj)
	if err != nil {
		return nil, nil, err
	}
	if kinds := v.readsOfDenials(out, judged); len(kinds) > 0 && v.APIReader != nil {
		// A denial by a check that reads other objects (the NetworkPolicies that cover the
		// workload, its PodDisruptionBudget, its ServiceAccount, its PriorityClass) may rest on
		// a cache that has not caught up with one created a moment before, in the same apply:
		// confirm it with what the API server holds.
		fresh, gone, err := v.confirm(ctx, kinds, obj.Namespace)
		if err != nil {
			return nil, nil, err
		}
		read := map[string]bool{}
		for _, k := range kinds {
			read[k.GVK.Kind] = true
		}
		// The object is judged as submitted, and through the controllers it was judged
		// through, whatever the checks read: the API server holds no version of it (a create)
		// or the one it replaces (an update). Were its kind read again, the confirmation would
		// judge no object, or the stored one, and admit what it denied.
		kept := chain(inv, obj, judged)
		confirmed := make([]*engine.Object, 0, len(objs)+len(fresh))
		for _, o := range objs {
			if !read[o.Kind] || slices.Contains(kept, o) {
				confirmed = append(confirmed, o)
			}
		}
		for _, o := range fresh {
			if !slices.ContainsFunc(kept, func(k *engine.Object) bool { return sameObject(k, o) }) {
				confirmed = append(confirmed, o)
			}
		}
		inv = v.Gatherer.Inventory(confirmed)
		if len(gone) > 0 {
			inv.Unseen = maps.Clone(inv.Unseen)
			if inv.Unseen == nil {
				inv.Unseen = map[string]engine.Unseen{}
			}
			maps.Copy(inv.Unseen, gone)
		}
		if out, err = v.evaluate(ctx, inv, exs, enforcing, judged, obj); err != nil {
			return nil, nil, err
		}
	}
	return judged, out, nil
}

// confirm reads kinds in namespace (and the cluster-scoped ones) from the API server, to confirm
// a denial. A kind the API server refuses to list to the operator (a cluster admin took the
// permission away since it started) or, for an add-on kind, no longer serves at the version
// read (its CRD removed, or upgraded to serve other versions) is returned in unseen, with why,
// rather than as an error: until the next recheck (WithRecheck) finds it, the cache holds its
// objects as they were, and an error would leave the whole request to the failurePolicy, which
// under Ignore admits it unjudged, whatever else it fails.
func (v *WorkloadValidator) confirm(ctx context.Context, kinds []inventory.Kind, namespace string) (fresh []*engine.Object, unseen map[string]engine.Unseen, err error) {
	scope := inventory.Scope{Namespaces: map[string]bool{namespace: true}, ClusterScoped: true}
	for _, k := range kinds {
		objs, err := (&inventory.Gatherer{Reader: v.APIReader, Kinds: []inventory.Kind{k}}).Gather(ctx, scope)
		var u engine.Unseen
		switch {
		case err == nil:
			fresh = append(fresh, objs...)
			continue
		case apierrors.IsForbidden(err):
			u = engine.Unseen{Namespaced: k.Namespaced, Reason: fmt.Sprintf(
				"the operator may no longer list %s %s, and its cache holds them as they were when it last could: grant them in its ClusterRole (config/rbac) and restart it",
				k.GVK.Kind, k.GVK.GroupVersion())}
		case k.Optional && (apierrors.IsNotFound(err) || meta.IsNoMatchError(err)):
			u = inventory.GoneUnseen(k)
		default:
			return nil, nil, err
		}
		if unseen == nil {
			unseen = map[string]engine.Unseen{}
		}
		unseen[k.GVK.Kind] = u
	}
	return fresh, unseen, nil
}

// evaluate judges one object (the incoming one, or the controller it is judged as) under each
// enforcing profile: the failures at or above each profile's enforced severity. When obj is
// judged as its controller, the custom checks that target obj judge obj itself too, and each
// controller between obj and the one it is judged as, as the reports judge them: those that do
// not target the controller's kind on every such object, and those that do wherever the object
// fails them and what its controller makes of its template does not (the engine's
// evaluateExplained). An evaluation stopped because ctx is done (its request
// answered at the deadline) is no verdict: ctx's error is returned.
func (v *WorkloadValidator) evaluate(ctx context.Context, inv *engine.Inventory, exs []*v1alpha1.ControlException, enforcing []*v1alpha1.ComplianceProfile, judged, obj *engine.Object) ([]verdict, error) {
	trust, why := v.Approval.Trust()
	customTimeout := customCheckTimeout(ctx)
	var out []verdict
	for _, p := range enforcing {
		plan := v.plans.Plan(v.Catalogue, p)
		min := p.Spec.Enforcement.Severity
		if min == "" {
			min = v1alpha1.SeverityHigh
		}
		vd := verdict{profile: p.Name, mode: p.Spec.Enforcement.Mode}
		subjects := []*engine.Object{judged}
		if obj != judged && slices.ContainsFunc(plan.Checks, func(c *engine.PlannedCheck) bool { return c.Custom }) {
			// obj and the controllers between it and judged: a custom check judges each where
			// it fails and what its own controller makes does not, so a ReplicaSet whose
			// template sets a field its Deployment's does not (admitted before the profile
			// enforced) answers for its Pods.
			for _, o := range chain(inv, obj, judged) {
				if o != judged {
					subjects = append(subjects, o)
				}
			}
		}
		for _, subject := range subjects {
			ev := plan.Evaluate(inv, exs, engine.Options{Now: v.Clock.Now(), AdminNamespace: v.AdminNamespace, SkipClusterScoped: true,
				Approval: trust, ApprovalProblem: why, ApprovalsSince: v.Approval.InForceSince(), Only: subject, Context: ctx,
				CustomCheckTimeout: customTimeout})
			if ev.Stopped {
				return nil, fmt.Errorf("judging %s %s/%s: %w", subject.Kind, subject.Namespace, subject.Name, context.Cause(ctx))
			}
			for i := range ev.Results {
				r := &ev.Results[i]
				// A check stopped on or failed by the object is refused as a failure is, and waived
				// as one is: by an Active exception that would cover its failure.
				if r.Object == subject && (r.Status == engine.StatusFail || r.FailedOnObject() && ev.Waiver(r) == nil) && engine.SeverityAtLeast(r.Check.Severity, min) {
					vd.failures = append(vd.failures, r)
				}
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

// customCheckTimeout is how long one custom check's expression may run in a judgement that must
// be done by ctx's deadline: a quarter of the time left, so that the built-in checks, a second
// slow expression and the answer still fit, and at least minCustomCheckTimeout and at most the
// engine's default (engine.DefaultCustomCheckTimeout, what the reports give it). An expression
// that runs over is stopped and the object refused naming the check (engine.Result.FailedOnObject,
// which also refuses an object an expression fails on at run time); with the
// engine's two seconds it outran a budget of one (a call of two seconds: judgingBudget), and the
// refusal named only the webhook's timeout. With less than minCustomCheckTimeout's share left
// (a request that waited for a judgement), the deadline answers first, as out of time, rather
// than blaming the object for an expression stopped after a few milliseconds.
func customCheckTimeout(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return engine.DefaultCustomCheckTimeout
	}
	return min(max(time.Until(deadline)/4, minCustomCheckTimeout), engine.DefaultCustomCheckTimeout)
}

// minCustomCheckTimeout is the least time customCheckTimeout gives an expression: far more than
// any expression within the cost limit (engine.CustomCheckCostLimit) takes on a normal object.
const minCustomCheckTimeout = 100 * time.Millisecond

// chain is obj and the controllers from it up to judged, which it is judged as.
func chain(inv *engine.Inventory, obj, judged *engine.Object) []*engine.Object {
	out := []*engine.Object{obj}
	for cur := obj; cur != judged && len(out) < 4; {
		p := inv.Provenance(cur)
		if p == nil || p.Owner == nil {
			break
		}
		cur = p.Owner
		out = append(out, cur)
	}
	if !slices.Contains(out, judged) {
		out = append(out, judged)
	}
	return out
}

// sameObject reports whether a and b are versions of the same object.
func sameObject(a, b *engine.Object) bool {
	return a.Kind == b.Kind && a.Namespace == b.Namespace && a.Name == b.Name
}

// readsOfDenials are the kinds (of those the webhook reads) that the checks behind the
// denials in out read besides the workload: none when nothing is denied, or only by checks
// that read the workload alone. A check that reads other workloads declares
// engine.KindWorkload (avl-pdb counts the pods of every workload a budget selects), which
// stands for every workload kind: all of them are read again, or a denial resting on a cache
// that still holds a workload the API server no longer does (deleted, or scaled down, a moment
// before) would stand. A denial of judged, whose template names a RuntimeClass where its own spec
// says nothing of its OS (engine.OSDependsOnOthers), reads the RuntimeClasses again too: the
// class decides which checks apply (a Linux-only one is NotApplicable to a template only Windows
// nodes run), and one created in the same apply as the template may not be in the cache yet.
func (v *WorkloadValidator) readsOfDenials(out []verdict, judged *engine.Object) []inventory.Kind {
	reads := map[string]bool{}
	for _, vd := range out {
		if vd.mode != v1alpha1.EnforcementEnforce {
			continue
		}
		for _, r := range vd.failures {
			for _, k := range r.Check.Reads {
				reads[k] = true
			}
			reads["RuntimeClass"] = reads["RuntimeClass"] || engine.OSDependsOnOthers(judged, false)
		}
	}
	var kinds []inventory.Kind
	unseen := v.Gatherer.AllUnseen()
	for _, k := range v.Gatherer.Kinds {
		if _, ok := unseen[k.GVK.Kind]; ok {
			// What it decides is NotAssessed already; the API server may not serve it.
			continue
		}
		if reads[k.GVK.Kind] || reads[engine.KindWorkload] && engine.IsWorkloadKind(k.GVK.Kind) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// throughControllers is the object obj is judged as: obj itself, or, when its controller's
// template explains it, that controller, followed up the chain (a Pod's ReplicaSet's
// Deployment). A controller admitted before its profile enforced, or while the webhook could
// not be reached, fails still, and what it creates is judged as it is, as Pod Security
// admission judges a Deployment's Pods; anything a template does not explain (a forged owner
// reference, an added or changed container, an ephemeral container) is judged itself. idle is
// true for an old ReplicaSet revision scaled to zero, which runs nothing.
func throughControllers(inv *engine.Inventory, obj *engine.Object) (judged *engine.Object, idle bool) {
	judged = obj
	// Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob: no chain of built-in controllers
	// is longer, and a controller's template cannot explain the kind that created it.
	for range 3 {
		p := inv.Provenance(judged)
		switch {
		case p == nil:
			return judged, false
		case p.Idle && judged == obj:
			return obj, true
		case !p.Explained:
			return judged, false
		}
		judged = p.Owner
	}
	return judged, false
}

// controllerMaintenance reports whether req updates an object that names as its controller a
// built-in controller that creates objects of its kind, without changing what it runs or is
// judged by: nothing but its replicas (to no more than before), the annotations of a scale path
// (scaleAnnotations) and lifecycleMetadata. The Deployment controller scales an old ReplicaSet
// down this way during a rollout, changing its replicas and replica annotations only
// (scaleReplicaSet in k8s.io/kubernetes v1.37 pkg/controller/deployment/sync.go); judging the
// old template then would stop the rollout that replaces it. The object was judged when it was
// created, and the reports judge it still (an old revision that runs Pods is judged itself). A
// reference to a built-in controller that does not create the kind (a Deployment naming itself
// or a Job: the API server does not check what an owner reference names) exempts nothing. A
// reference to any other controller (an Argo Rollout controlling its ReplicaSets) exempts only a
// scale-down: see scaledDownOnly.
func controllerMaintenance(req admission.Request, obj *engine.Object) bool {
	if req.Operation != admissionv1.Update || req.SubResource != "" || len(req.OldObject.Raw) == 0 {
		return false
	}
	other := engine.OtherControllerRef(obj.Obj)
	if ref := engine.ControllerRef(obj.Obj); other == nil && (ref == nil || !engine.Creates(ref.Kind, obj.Kind)) {
		return false
	}
	olds, err := manifest.DecodeObject(req.OldObject.Raw)
	if err != nil || len(olds) == 0 || olds[0].Workload == nil || olds[0].Kind != obj.Kind {
		return false
	}
	if !onlyScaleAnnotationsChanged(olds[0].Obj.GetAnnotations(), obj.Obj.GetAnnotations()) {
		// The checks read the object's annotations: kubectl's copy of the applied manifest
		// (sec-literal-env-credentials: env values or a command line it holds that the spec
		// does not), and any a custom check names. A scale-down that also wrote a literal
		// password into the one, or marked a ReplicaSet "public" under a custom check requiring
		// a data classification, was admitted unjudged, and the reports, judging the object
		// itself, failed it.
		return false
	}
	if other != nil {
		return scaledDownOnly(req, olds[0], obj, other)
	}
	old, cur := olds[0].Workload, obj.Workload
	if old.Replicas != nil && cur.Replicas != nil && *cur.Replicas > *old.Replicas {
		return false
	}
	// Everything else as it was, not only the pod template and the labels: a custom check may
	// read any field. A Job's activeDeadlineSeconds, backoffLimit, parallelism or suspend, or a
	// ReplicaSet's minReadySeconds, changed under a CronJob's or a Deployment's reference (which
	// anyone may write) was admitted unjudged, and the reports failed it. No built-in controller
	// writes such a field on what it scales down: the CronJob controller never updates a Job, and
	// the Deployment controller writes minReadySeconds only with the annotations it copies, on
	// the ReplicaSet its template explains (getNewReplicaSet), which is judged as the Deployment.
	return sameBut(req, "metadata.annotations", "spec.replicas")
}

// scaledDownOnly reports whether req, an update of an object whose controller reference names
// a controller other than the built-in ones (ref), changes nothing but its replicas, to no more
// than before, the annotations of its scale path (scaleAnnotations: controllerMaintenance) and
// lifecycleMetadata, under the same controller. The Argo
// Rollouts controller scales the ReplicaSet of a revision it replaces down this way, changing
// its replicas and scale annotations only (scaleReplicaSet in argo-rollouts rollout/sync.go); judging
// the old template then would stall the rollout that replaces it. The webhook cannot know what
// such a controller creates, and anyone may write the reference, so nothing else passes: a
// create, a scale-up and any other change are judged, and the object is judged itself by the
// reports. What passes is what the scale subresource, which the webhook is not asked about,
// allows anyone who may scale the object.
func scaledDownOnly(req admission.Request, old, cur *engine.Object, ref *metav1.OwnerReference) bool {
	prev := metav1.GetControllerOfNoCopy(old.Obj)
	if prev == nil || prev.UID != ref.UID || prev.Kind != ref.Kind || prev.Name != ref.Name || prev.APIVersion != ref.APIVersion {
		return false
	}
	if old.Workload.Replicas == nil || cur.Workload.Replicas == nil || *cur.Workload.Replicas > *old.Workload.Replicas {
		return false
	}
	return sameBut(req, "metadata.annotations", "spec.replicas")
}

// scaleAnnotations are the annotations a controller's scale path writes on the object it scales:
// the Deployment controller's desired and maximum replicas (SetReplicasAnnotations in
// k8s.io/kubernetes v1.37 pkg/controller/deployment/util), and the Argo Rollouts controller's
// desired replicas and the deadline of a delayed scale-down, which it adds (addScaleDownDelay)
// and removes on scaling to zero (scaleReplicaSet; argo-rollouts utils/annotations). No check
// reads them.
var scaleAnnotations = map[string]bool{
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	"rollout.argoproj.io/desired-replicas":      true,
	"scale-down-deadline":                       true,
}

// onlyScaleAnnotationsChanged reports whether the annotations old and cur differ, if at all,
// only in scaleAnnotations: added, removed or changed.
func onlyScaleAnnotationsChanged(old, cur map[string]string) bool {
	for k, v := range cur {
		if w, ok := old[k]; (!ok || w != v) && !scaleAnnotations[k] {
			return false
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok && !scaleAnnotations[k] {
			return false
		}
	}
	return true
}

// lifecycleMetadata are the fields an update may change without being judged: the finalizers and
// owner references through which deletion completes (the garbage collector removes
// foregroundDeletion and orphan from the object it deletes and owner references from the
// dependents it orphans; other controllers remove their own finalizers), and what the API server
// maintains.
var lifecycleMetadata = []string{"finalizers", "ownerReferences", "managedFields", "resourceVersion", "generation"}

// lifecycleOnly reports whether req is an update that changes nothing but lifecycleMetadata (and
// status, which an update of the object itself does not change). Nothing new runs, and denying
// it would leave a workload admitted before its profile enforced terminating forever, or keep
// it from being orphaned. Pod Security admission admits such updates of Pods unjudged
// (isSignificantPodUpdate in k8s.io/pod-security-admission v0.37 admission/admission.go). The
// object is judged as it is by the reports.
func lifecycleOnly(req admission.Request) bool {
	if req.Operation != admissionv1.Update || req.SubResource != "" || len(req.OldObject.Raw) == 0 {
		return false
	}
	return sameBut(req)
}

// sameBut reports whether req's old and new object are the same but for status,
// lifecycleMetadata, and the fields ignored names ("metadata.annotations", "spec.replicas").
func sameBut(req admission.Request, ignored ...string) bool {
	var old, cur map[string]any
	if json.Unmarshal(req.OldObject.Raw, &old) != nil || json.Unmarshal(req.Object.Raw, &cur) != nil {
		return false
	}
	for _, o := range []map[string]any{old, cur} {
		delete(o, "status")
		if md, ok := o["metadata"].(map[string]any); ok {
			for _, k := range lifecycleMetadata {
				delete(md, k)
			}
		}
		for _, path := range ignored {
			parent, field, _ := strings.Cut(path, ".")
			if m, ok := o[parent].(map[string]any); ok {
				delete(m, field)
			}
		}
	}
	return reflect.DeepEqual(old, cur)
}

// missingControllers reads from the API server the controllers up obj's chain of controller
// references (its ReplicaSet, that ReplicaSet's Deployment) that the cache does not hold with the
// UID the reference names: the cache lags the controller that just created obj. It stops at a
// reference that names no built-in controller, a name no object can have, or one that does not
// exist.
func (v *WorkloadValidator) missingControllers(ctx context.Context, obj *engine.Object, around []*engine.Object) ([]*engine.Object, error) {
	if v.APIReader == nil {
		return nil, nil
	}
	var read []*engine.Object
	cur := obj
	for range 2 {
		ref := engine.ControllerRef(cur.Obj)
		if ref == nil {
			return read, nil
		}
		var owner *engine.Object
		for _, o := range around {
			if o.Kind == ref.Kind && o.Name == ref.Name && o.Obj.GetUID() == ref.UID {
				owner = o
				break
			}
		}
		if owner == nil {
			k, ok := inventory.ByKind(ref.Kind)
			if !ok || len(validation.IsDNS1123Subdomain(ref.Name)) > 0 {
				// No controller can have an invalid name (the API server does not check the
				// names owner references give). Asked for it, the API reader fails otherwise
				// than not found, and the webhook would fail open on an error the object's
				// author chose.
				return read, nil
			}
			o := k.New()
			if err := v.APIReader.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: ref.Name}, o); err != nil {
				if apierrors.IsNotFound(err) {
					return read, nil
				}
				return nil, fmt.Errorf("reading %s %s/%s, the controller %s %s names: %w", ref.Kind, obj.Namespace, ref.Name, cur.Kind, cur.Name, err)
			}
			owner = engine.NewObject(o, k.APIVersion(), ref.Kind)
			read = append(read, owner)
		}
		cur = owner
	}
	return read, nil
}

// describe writes one line per failure: the check, its severity, where, what and how to fix.
// A failure of a controller between obj and judged (a ReplicaSet between a Pod and its
// Deployment) names it.
func describe(vd verdict, obj, judged *engine.Object) []string {
	lines := make([]string, 0, len(vd.failures))
	for _, r := range vd.failures {
		where := ""
		if r.Object != nil && r.Object != obj && r.Object != judged {
			where = fmt.Sprintf(" %s %s/%s", r.Object.Kind, r.Object.Namespace, r.Object.Name)
		}
		if r.Container != "" {
			where += " container " + r.Container
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

// WithJudgements bounds how many requests the webhook judges at once (WorkloadValidator.Judgements;
// 0 or less: GOMAXPROCS).
func WithJudgements(n int) Option {
	return func(v *WorkloadValidator) { v.Judgements = n }
}

// WithRecheck makes the webhook ask, at every tick of c every interval, whether the operator may
// still read each kind it reads and whether the API server still serves the add-on kinds it
// watches (inventory.Gatherer.Recheck), as the reports' full evaluations do; tests tick a fake
// clock. Default: the real clock, every recheckInterval.
func WithRecheck(c clock.WithTicker, interval time.Duration) Option {
	return func(v *WorkloadValidator) { v.recheckClock, v.recheckInterval = c, interval }
}

// recheckInterval is how often every replica's webhook asks again whether it can still read each
// kind (WithRecheck): the shortest evaluationInterval a profile may have, so that the webhook
// stops judging on a cache that stopped no later than the reports stop trusting it. A recheck
// is two SelfSubjectAccessReviews per kind and one discovery request per add-on group version,
// none of them a read of etcd.
const recheckInterval = time.Minute

// New builds the webhook's validator from the manager's cache and API reader, and adds to the
// manager what keeps its view of the readable kinds current on every replica (WithRecheck).
func New(mgr ctrl.Manager, adminNamespace string, opts ...Option) (*WorkloadValidator, error) {
	kinds, err := inventory.AvailableKinds(mgr.GetRESTMapper())
	if err != nil {
		return nil, err
	}
	// A kind the operator may not list is not read: a read from the cache would wait for an
	// informer that never syncs, past the webhook's timeout; what it decides is NotAssessed.
	kinds, unseen, err := inventory.Readable(context.Background(), mgr.GetClient(), mgr.GetRESTMapper(), kinds)
	if err != nil {
		return nil, err
	}
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, err
	}
	v := &WorkloadValidator{
		Reader:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		// The cache itself: the manager's client reads the optional kinds, unstructured, from
		// the API server, a LIST per kind per request. Client, Mapper and Discovery let
		// Recheck find the kinds the cache stopped following, as the reports' gatherer does.
		Gatherer: &inventory.Gatherer{Reader: mgr.GetCache(), Kinds: kinds, Unseen: unseen,
			Client: mgr.GetClient(), Mapper: mgr.GetRESTMapper(), Discovery: disco},
		Catalogue:       checks.Catalogue(),
		AdminNamespace:  adminNamespace,
		Clock:           clock.RealClock{},
		recheckClock:    clock.RealClock{},
		recheckInterval: recheckInterval,
	}
	for _, o := range opts {
		o(v)
	}
	if err := mgr.Add(&rechecker{gatherer: v.Gatherer, clock: v.recheckClock, interval: v.recheckInterval,
		log: mgr.GetLogger().WithName("webhook")}); err != nil {
		return nil, err
	}
	return v, nil
}

// rechecker asks the gatherer's Recheck at every tick, on every replica: the webhook is served
// by all of them, the reports' evaluations (which recheck too) run on the leader alone.
type rechecker struct {
	gatherer *inventory.Gatherer
	clock    clock.WithTicker
	interval time.Duration
	log      logr.Logger
}

// NeedLeaderElection is false: every replica serves the webhook.
func (r *rechecker) NeedLeaderElection() bool { return false }

// Start rechecks at every tick until ctx is done. When the API server cannot answer, the last
// answer stands, as in the reports.
func (r *rechecker) Start(ctx context.Context) error {
	ticker := r.clock.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
			if err := r.gatherer.Recheck(ctx); err != nil && ctx.Err() == nil {
				r.log.Error(err, "Unable to ask whether the webhook may still read every kind")
			}
		}
	}
}

// Setup serves the webhook (New) from the manager's webhook server and adds readiness checks
// that pass once the server is serving and, with WithApproval, once the admission policies
// were checked.
func Setup(mgr ctrl.Manager, adminNamespace string, opts ...Option) error {
	v, err := New(mgr, adminNamespace, opts...)
	if err != nil {
		return err
	}
	metrics.Register()
	mgr.GetWebhookServer().Register(Path, Handler(v))
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	if v.Approval == nil {
		return nil
	}
	// Until it has checked the admission policies once, the replica trusts no approval: it
	// would refuse what approved exceptions cover. It is not Ready (no Service sends it a
	// request) until then. The check runs on every replica and ends with a verdict either way.
	approval := v.Approval
	return mgr.AddReadyzCheck("admission-policies", func(*http.Request) error {
		if !approval.Checked() {
			return errors.New("the admission policies have not been checked yet: approvals cannot be judged")
		}
		return nil
	})
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
	ctx, cancel := context.WithTimeout(r.Context(), judgingBudget(r.URL.Query().Get("timeout")))
	defer cancel()
	r = r.WithContext(ctx)
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

// judgingBudget is how long the webhook may judge a request whose timeout parameter is
// timeout: the API server sends its time left for the call, rounded up to a whole second
// (callHook in k8s.io/apiserver v0.37 pkg/admission/plugin/webhook/validating/dispatcher.go),
// so a second less, and a fifth of it for reading the request and writing the answer. A
// timeout longer than the longest call the API server makes (a webhook's timeoutSeconds is at
// most 30), or none, or one that is not a duration, is taken as that longest call: only a
// review sent by someone else can carry one, and it must not hold a judgement
// (WorkloadValidator.Judgements) longer than the API server's own requests can.
func judgingBudget(timeout string) time.Duration {
	d, err := time.ParseDuration(timeout)
	if err != nil || d <= 0 || d > longestCall {
		d = longestCall
	}
	if d <= 2*time.Second {
		return d / 2
	}
	return (d - time.Second) * 4 / 5
}

// longestCall is the longest time the API server gives a webhook call: the most
// timeoutSeconds admits (ValidatingWebhook.TimeoutSeconds, k8s.io/api/admissionregistration/v1).
const longestCall = 30 * time.Second

// bufferedResponse keeps what a handler writes until it is known what to send.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
