package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
)

// This file holds what turns a change in the cluster into a request: the watches of both
// controllers, the mapping of a changed object to (profile, namespace), the delayed queueing
// that coalesces a burst of changes, and the predicates that drop changes no check can see.
//
// A change travels: watch event -> predicate (specChanged, exceptionStateChanged,
// ownWrites.notOwnWrite) -> requestMapper -> delayedHandler (AddAfter CoalesceDelay) ->
// ComplianceProfileReconciler.Reconcile (docs/architecture.md).

const (
	// defaultCoalesceDelay is how long a change waits before its namespace is evaluated.
	defaultCoalesceDelay = 250 * time.Millisecond
	// defaultMaxConcurrentReconciles is how many evaluations run at once.
	defaultMaxConcurrentReconciles = 2
	// resyncBuffer bounds the profiles and exceptions queued to be judged again at once; past
	// it a request is dropped and the periodic evaluation heals.
	resyncBuffer = 4096
)

// SetupWithManager registers the profile controller: a request per profile (a full
// evaluation) when its spec changes, and per (profile, namespace) when an object a check reads,
// an exception or a report someone else wrote changes.
func (r *ComplianceProfileReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.CoalesceDelay == 0 {
		r.CoalesceDelay = defaultCoalesceDelay
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = defaultMaxConcurrentReconciles
	}
	if r.Clock != nil {
		r.gone.now = r.Clock.Now
	}
	if r.resync == nil {
		r.resync = make(chan event.TypedGenericEvent[*v1alpha1.ComplianceProfile], resyncBuffer)
	}
	if r.pace == nil && r.MinNamespaceInterval > 0 {
		r.pace = &pace{every: r.MinNamespaceInterval}
	}
	mapper := &requestMapper{client: mgr.GetCache(), adminNamespace: r.AdminNamespace, kinds: r.Gatherer.Kinds}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("complianceprofile").
		For(&v1alpha1.ComplianceProfile{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles, RateLimiter: rateLimiter()}).
		WatchesRawSource(source.Channel(r.resync, &handler.TypedEnqueueRequestForObject[*v1alpha1.ComplianceProfile]{}))
	for _, k := range r.Gatherer.Kinds {
		if k.ByName {
			// A Node decides the OS of the Pods bound to it: its OS label's change (or its
			// coming and going) re-evaluates their namespaces, and nothing else about it does.
			if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, podNodeNameKey, podNodeName); err != nil {
				return fmt.Errorf("indexing pods by node: %w", err)
			}
			b = b.Watches(k.New(), &delayedHandler{mapFn: mapper.forNode, delay: r.CoalesceDelay, watched: r.watched, pace: r.pace},
				builder.WithPredicates(nodeOSChanged()))
			continue
		}
		h := &delayedHandler{mapFn: mapper.forObject(k), delay: r.CoalesceDelay, watched: r.watched, pace: r.pace}
		if k.GVK.Kind == "Namespace" && k.GVK.Group == "" {
			h.deleted = r.gone.remember // its labels decide, once it is gone, whether it was selected
		}
		b = b.Watches(k.New(), h, builder.WithPredicates(specChanged()))
	}
	b = b.Watches(&v1alpha1.ControlException{}, &delayedHandler{mapFn: mapper.forException, delay: r.CoalesceDelay, watched: r.watched, pace: r.pace},
		builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, exceptionStateChanged())))
	// The operator's own report writes do not evaluate the namespace again; everyone else's do.
	b = b.Watches(&v1alpha1.ComplianceReport{}, &delayedHandler{mapFn: mapper.forReport, delay: r.CoalesceDelay, watched: r.watched, pace: r.pace},
		builder.WithPredicates(r.ownWrites.notOwnWrite(r.watched)))
	if err := b.Complete(r); err != nil {
		return fmt.Errorf("setting up the ComplianceProfile controller: %w", err)
	}
	return nil
}

// SetupWithManager registers the exception controller: a request per exception when its spec
// changes, and when the profile controller says its match count may have changed (enqueue).
func (r *ControlExceptionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.changed == nil {
		r.changed = make(chan event.TypedGenericEvent[*v1alpha1.ControlException], resyncBuffer)
	}
	if err := ctrl.NewControllerManagedBy(mgr).
		Named("controlexception").
		For(&v1alpha1.ControlException{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Channel(r.changed, &handler.TypedEnqueueRequestForObject[*v1alpha1.ControlException]{})).
		WithOptions(controller.Options{RateLimiter: rateLimiter()}).
		Complete(r); err != nil {
		return fmt.Errorf("setting up the ControlException controller: %w", err)
	}
	return nil
}

// enqueue asks for the exception to be judged again. It never blocks: when the queue is full
// the request is dropped, and the hourly re-check heals the count.
func (r *ControlExceptionReconciler) enqueue(key types.NamespacedName) {
	ex := &v1alpha1.ControlException{}
	ex.Namespace, ex.Name = key.Namespace, key.Name
	select {
	case r.changed <- event.TypedGenericEvent[*v1alpha1.ControlException]{Object: ex}:
	default:
	}
}

// resyncAll returns what evaluates every profile again and judges every exception again: run
// when the admission policies come or go (approvals became trusted or stopped being so), and
// on each receive of Options.Resync.
func resyncAll(c client.Reader, log logr.Logger, profiles *ComplianceProfileReconciler, exceptions *ControlExceptionReconciler) func() {
	return func() {
		ctx := context.Background()
		list := &v1alpha1.ComplianceProfileList{}
		if err := c.List(ctx, list); err != nil {
			// The periodic evaluations pick the change up within each profile's interval.
			log.Error(err, "Unable to list profiles to evaluate them again")
		}
		for i := range list.Items {
			select {
			case profiles.resync <- event.TypedGenericEvent[*v1alpha1.ComplianceProfile]{Object: &list.Items[i]}:
			default:
			}
		}
		exs := &v1alpha1.ControlExceptionList{}
		if err := c.List(ctx, exs); err != nil {
			// The hourly re-check of each exception picks the change up.
			log.Error(err, "Unable to list exceptions to judge them again")
		}
		for i := range exs.Items {
			exceptions.enqueue(client.ObjectKeyFromObject(&exs.Items[i]))
		}
	}
}

// rateLimiter retries a failed evaluation after 5ms, doubling up to a minute: after an outage of
// the API server, every report is rewritten within a minute of its return (client-go's default
// would wait up to 16 minutes).
func rateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, time.Minute),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(20), 200)},
	)
}

// requestMapper maps a changed object to the profile and namespace to re-evaluate.
type requestMapper struct {
	// client is the cache: the manager's client would read the route kinds, unstructured, from
	// the API server at every Gateway event.
	client         client.Reader
	adminNamespace string
	// kinds are the kinds the operator reads (the route kinds among them name Gateways).
	kinds []inventory.Kind
}

func (m *requestMapper) profiles(ctx context.Context) []string {
	list := &v1alpha1.ComplianceProfileList{}
	// Called for every watch event and only the names are read: no copy of the cache's objects.
	if err := m.client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		logf.FromContext(ctx).Error(err, "Unable to list profiles to map a change")
		return nil
	}
	names := make([]string, 0, len(list.Items))
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	return names
}

// forObject maps a namespaced object to (profile, its namespace), a Namespace to (profile, its
// name), and any other cluster-scoped object to a full evaluation of every profile. A Gateway or
// ListenerSet maps to the namespaces of the routes that name it too, which read it there.
func (m *requestMapper) forObject(k inventory.Kind) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		ns := obj.GetNamespace()
		switch {
		case k.GVK.Kind == "Namespace":
			ns = obj.GetName()
		case !k.Namespaced:
			ns = ""
		}
		namespaces := []string{ns}
		switch {
		case k.Everywhere && k.GVK.Group == istioGroup:
			namespaces = append(namespaces, m.virtualServicesOn(ctx, obj)...)
		case k.Everywhere:
			namespaces = append(namespaces, m.routesTo(ctx, k, obj)...)
		}
		var out []reconcile.Request
		for _, p := range m.profiles(ctx) {
			for _, ns := range namespaces {
				out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: p}})
			}
		}
		return out
	}
}

// podNodeNameKey indexes Pods by the node they are bound to (spec.nodeName).
const podNodeNameKey = "spec.nodeName"

func podNodeName(obj client.Object) []string {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
		return []string{p.Spec.NodeName}
	}
	return nil
}

// forNode maps a Node to (profile, namespace) for each namespace with a Pod bound to it: the
// node's OS label decides the OS of those whose spec does not (engine.Inventory.WindowsPodOf).
func (m *requestMapper) forNode(ctx context.Context, node client.Object) []reconcile.Request {
	pods := &corev1.PodList{}
	if err := m.client.List(ctx, pods, client.MatchingFields{podNodeNameKey: node.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
		logf.FromContext(ctx).Error(err, "Unable to list the pods bound to a node to map its change", "node", node.GetName())
		return nil
	}
	namespaces := map[string]bool{}
	for i := range pods.Items {
		namespaces[pods.Items[i].Namespace] = true
	}
	if len(namespaces) == 0 {
		return nil
	}
	var out []reconcile.Request
	for _, p := range m.profiles(ctx) {
		for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: p}})
		}
	}
	return out
}

// nodeOSChanged passes a Node's create and delete, and an update that changes its OS labels
// (kubernetes.io/os, beta.kubernetes.io/os): a node's status and heartbeats, which change all the
// time on every node, decide nothing.
func nodeOSChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()
			for _, key := range nodeOSLabels {
				if o[key] != n[key] {
					return true
				}
			}
			return false
		},
	}
}

// nodeOSLabels are the node labels in which the kubelet keeps its OS (engine's osNodeLabels).
var nodeOSLabels = []string{corev1.LabelOSStable, "beta.kubernetes.io/os"}

// routesTo lists the namespaces, other than its own, of the routes whose spec.parentRefs name
// gw, a Gateway or ListenerSet (group and kind default to the Gateway API's Gateway, the
// namespace to the route's own); for a Gateway, of the ListenerSets whose spec.parentRef names it
// and of the routes that name those ListenerSets (the Gateway decides whether it serves their
// listeners), and, when it is a default Gateway (spec.defaultScope, GEP-3793), of the routes that
// ask for the default Gateways of its scope (spec.useDefaultGateways), which attach to it without
// naming it.
func (m *requestMapper) routesTo(ctx context.Context, gk inventory.Kind, gw client.Object) []string {
	seen := map[string]bool{gw.GetNamespace(): true}
	var out []string
	scope := ""
	if u, ok := gw.(*unstructured.Unstructured); ok {
		scope, _, _ = unstructured.NestedString(u.Object, "spec", "defaultScope")
	}
	if scope == "None" {
		scope = ""
	}
	type setRef struct {
		kind inventory.Kind
		set  *unstructured.Unstructured
	}
	var sets []setRef
	for _, k := range m.kinds {
		if !k.Route {
			continue
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.GVK.GroupVersion().WithKind(k.GVK.Kind + "List"))
		if err := m.client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
			logf.FromContext(ctx).Error(err, "Unable to list routes to map a Gateway's change", "kind", k.GVK.Kind)
			continue
		}
		for _, r := range list.Items {
			if seen[r.GetNamespace()] && k.GVK.Kind != "ListenerSet" {
				continue
			}
			if asks, _, _ := unstructured.NestedString(r.Object, "spec", "useDefaultGateways"); scope != "" && asks == scope {
				seen[r.GetNamespace()] = true
				out = append(out, r.GetNamespace())
				continue
			}
			refs, _, _ := unstructured.NestedSlice(r.Object, "spec", "parentRefs")
			if ref, ok, _ := unstructured.NestedMap(r.Object, "spec", "parentRef"); ok {
				refs = append(refs, ref) // a ListenerSet's one Gateway
			}
			for _, ref := range refs {
				f, _ := ref.(map[string]any)
				// A parentRef names a Gateway unless it says otherwise, whatever gw's kind.
				group, kind, ns := gk.GVK.Group, "Gateway", r.GetNamespace()
				if g, ok := f["group"].(string); ok {
					group = g
				}
				if k, ok := f["kind"].(string); ok {
					kind = k
				}
				if n, ok := f["namespace"].(string); ok && n != "" {
					ns = n
				}
				if group == gk.GVK.Group && kind == gk.GVK.Kind && ns == gw.GetNamespace() && f["name"] == gw.GetName() {
					if !seen[r.GetNamespace()] {
						seen[r.GetNamespace()] = true
						out = append(out, r.GetNamespace())
					}
					if k.GVK.Kind == "ListenerSet" && gk.GVK.Kind == "Gateway" {
						// The routes on a ListenerSet of the Gateway are served by it too.
						sets = append(sets, setRef{k, r.DeepCopy()})
					}
					break
				}
			}
		}
	}
	for _, ls := range sets {
		for _, ns := range m.routesTo(ctx, ls.kind, ls.set) {
			if !seen[ns] {
				seen[ns] = true
				out = append(out, ns)
			}
		}
	}
	return out
}

// forException maps an exception to its namespace, or to the namespaces an admin exception
// lists (every namespace for "*").
func (m *requestMapper) forException(ctx context.Context, obj client.Object) []reconcile.Request {
	ex, ok := obj.(*v1alpha1.ControlException)
	if !ok {
		return nil
	}
	namespaces := []string{ex.Namespace}
	if ex.Namespace == m.adminNamespace && len(ex.Spec.Match.Namespaces) > 0 {
		namespaces = ex.Spec.Match.Namespaces
		for _, ns := range namespaces {
			if ns == "*" {
				namespaces = []string{""}
				break
			}
		}
	}
	profiles := ex.Spec.Profiles
	if len(profiles) == 0 {
		profiles = m.profiles(ctx)
	}
	var out []reconcile.Request
	for _, p := range profiles {
		for _, ns := range namespaces {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: p}})
		}
	}
	return out
}

// forReport maps a report (edited, created or deleted by hand, or just written) to the profile
// it is named after and its namespace: reports are always named after their profile, so its
// labels, which anyone may have written, are not asked. A report naming no profile is deleted
// by that request.
func (m *requestMapper) forReport(_ context.Context, obj client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}}}
}

// delayedHandler enqueues mapped requests after a delay: a burst of changes in a namespace
// collapses into one evaluation, because the queue holds each request once.
type delayedHandler struct {
	mapFn func(context.Context, client.Object) []reconcile.Request
	delay time.Duration
	// watched is Options.watched (tests; nil: nobody is told).
	watched func(obj client.Object, queued []reconcile.Request)
	// deleted is told of each object deleted, before its requests are queued (nil: nobody).
	deleted func(obj client.Object)
	// pace spaces the evaluations of a namespace that keeps changing (nil: not paced).
	pace *pace
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// add queues what obj maps to, and what its previous version mapped to (an update), so that a
// change that moves an object's reach (an exception that stops listing a namespace or names
// another profile) evaluates where it reached before as well as where it reaches now.
func (h *delayedHandler) add(ctx context.Context, obj, previous client.Object, q queue) {
	reqs := h.mapFn(ctx, obj)
	if previous != nil {
		for _, req := range h.mapFn(ctx, previous) {
			if !slices.Contains(reqs, req) {
				reqs = append(reqs, req)
			}
		}
	}
	for _, req := range reqs {
		q.AddAfter(req, h.pace.delay(req, h.delay))
	}
	if h.watched != nil {
		h.watched(obj, reqs)
	}
}

func (h *delayedHandler) Create(ctx context.Context, e event.CreateEvent, q queue) {
	if e.IsInInitialList {
		// The cache is filling at start-up: each profile's own initial event evaluates
		// everything once, so per-namespace evaluations now would only repeat it.
		if h.watched != nil {
			h.watched(e.Object, nil)
		}
		return
	}
	h.add(ctx, e.Object, nil, q)
}

func (h *delayedHandler) Update(ctx context.Context, e event.UpdateEvent, q queue) {
	h.add(ctx, e.ObjectNew, e.ObjectOld, q)
}

func (h *delayedHandler) Delete(ctx context.Context, e event.DeleteEvent, q queue) {
	if h.deleted != nil {
		h.deleted(e.Object)
	}
	h.add(ctx, e.Object, nil, q)
}

func (h *delayedHandler) Generic(ctx context.Context, e event.GenericEvent, q queue) {
	h.add(ctx, e.Object, nil, q)
}

// specChanged passes every create and delete, and updates that change more than status: for
// kinds with a generation, the generation, labels, annotations or owner references (whether a
// Pod is judged through its controller depends on which controller it names), a Pod's node,
// which the scheduler's binding sets without a new generation (a custom check may read it), a
// Pod's end (status.phase turning Succeeded or Failed: the availability checks count no Pod that
// has ended, engine.Workload.Terminal; not every Pending to Running), and
// the number of nodes a DaemonSet should run on (status.desiredNumberScheduled), against which
// avl-rolling-update resolves its maxUnavailable;
// kinds without one (ConfigMaps, RBAC, ...) always.
func specChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld, e.ObjectNew
			if n.GetGeneration() == 0 {
				return true
			}
			if op, ok := o.(*corev1.Pod); ok {
				if np, ok := n.(*corev1.Pod); ok && (op.Spec.NodeName != np.Spec.NodeName || podEnded(op) != podEnded(np)) {
					return true
				}
			}
			if od, ok := o.(*appsv1.DaemonSet); ok {
				if nd, ok := n.(*appsv1.DaemonSet); ok && od.Status.DesiredNumberScheduled != nd.Status.DesiredNumberScheduled {
					return true
				}
			}
			return o.GetGeneration() != n.GetGeneration() ||
				!maps.Equal(o.GetLabels(), n.GetLabels()) ||
				!maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
				!slices.EqualFunc(o.GetOwnerReferences(), n.GetOwnerReferences(), sameOwner)
		},
	}
}

// podEnded reports whether a Pod has Succeeded or Failed.
func podEnded(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// exceptionStateChanged passes exception updates whose state changed (an expiry), so that the
// findings it covered are re-evaluated at once.
func exceptionStateChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*v1alpha1.ControlException)
			n, ok2 := e.ObjectNew.(*v1alpha1.ControlException)
			return ok1 && ok2 && o.Status.State != n.Status.State
		},
	}
}

func sameOwner(a, b metav1.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		ptr.Equal(a.Controller, b.Controller)
}

// istioGroup is Istio's networking group, whose Gateways VirtualServices name in spec.gateways.
const istioGroup = "networking.istio.io"

// virtualServicesOn lists the namespaces, other than its own, of the VirtualServices whose
// spec.gateways name gw, an Istio Gateway ("<namespace>/<name>", or "<name>" in the
// VirtualService's own namespace): they are judged by its servers.
func (m *requestMapper) virtualServicesOn(ctx context.Context, gw client.Object) []string {
	seen := map[string]bool{gw.GetNamespace(): true}
	var out []string
	for _, k := range m.kinds {
		if k.GVK.Group != istioGroup || k.GVK.Kind != "VirtualService" {
			continue
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.GVK.GroupVersion().WithKind("VirtualServiceList"))
		if err := m.client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
			logf.FromContext(ctx).Error(err, "Unable to list VirtualServices to map a Gateway's change")
			continue
		}
		for _, vs := range list.Items {
			if seen[vs.GetNamespace()] {
				continue
			}
			refs, _, _ := unstructured.NestedStringSlice(vs.Object, "spec", "gateways")
			for _, ref := range refs {
				ns, name := vs.GetNamespace(), ref
				if i := strings.Index(ref, "/"); i >= 0 {
					ns, name = ref[:i], ref[i+1:]
				}
				if ns == gw.GetNamespace() && name == gw.GetName() {
					seen[vs.GetNamespace()] = true
					out = append(out, vs.GetNamespace())
					break
				}
			}
		}
	}
	return out
}
