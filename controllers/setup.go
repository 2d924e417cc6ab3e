package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"golang.org/x/time/rate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// Options configure the reconcilers.
type Options struct {
	// AdminNamespace is the operator's own namespace: only exceptions there may select other
	// namespaces.
	AdminNamespace string
	// CoalesceDelay is how long a change waits before its namespace is re-evaluated, so that a
	// burst of changes is evaluated once. Default 250ms.
	CoalesceDelay time.Duration
	// Interval overrides every profile's evaluationInterval (tests).
	Interval func(*v1alpha1.ComplianceProfile) time.Duration
	// Clock is the clock evaluations use. Default: the real one.
	Clock clock.Clock
	// Resync, when set, evaluates every profile and judges every exception again on each
	// receive. Tests that move a fake Clock send on it (resync.go).
	Resync <-chan struct{}
	// MaxConcurrentReconciles of the profile controller. Default 2.
	MaxConcurrentReconciles int
	// AdmissionPolicies says whether the operator applies the admission policies for exceptions
	// and reports (Manage, the default) or only checks them (VerifyOnly).
	AdmissionPolicies admissionpolicy.Mode
	// Approval is told whether the policies are in force. Default: a new one. Pass the same one
	// to the admission webhook.
	Approval *admissionpolicy.Verifier
	// Journal, when set, receives every transition for the evidence journal (leader only).
	Journal *journal.Queue
	// AttestationInterval is how often the journal attests each namespace's state. Default 24h.
	AttestationInterval time.Duration
	// FirstSeen remembers when each finding of a report was first seen, so that a deleted
	// report comes back with its times. Default: in memory, for the life of the process.
	FirstSeen report.FirstSeenStore
}

// Setup registers both reconcilers, their watches and the staleness watchdog with the manager.
func Setup(mgr ctrl.Manager, opts Options) error {
	if opts.CoalesceDelay == 0 {
		opts.CoalesceDelay = 250 * time.Millisecond
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.MaxConcurrentReconciles == 0 {
		opts.MaxConcurrentReconciles = 2
	}
	if opts.FirstSeen == nil {
		opts.FirstSeen = report.NewMemoryFirstSeen()
	}
	metrics.Register()
	kinds, err := inventory.AvailableKinds(mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	if opts.Approval == nil {
		opts.Approval = admissionpolicy.NewVerifier()
	}
	if err := admissionpolicy.Setup(context.Background(), mgr, opts.AdmissionPolicies, opts.Approval); err != nil {
		return fmt.Errorf("setting up the admission policies: %w", err)
	}
	st := newState()
	catalogue := checks.Catalogue()
	recorder := mgr.GetEventRecorder("soc2-operator")
	dispatcher := alert.NewDispatcher(alert.Options{Logger: mgr.GetLogger().WithName("alerts")})
	if err := mgr.Add(dispatcher); err != nil {
		return err
	}

	exceptionEvents := make(chan event.TypedGenericEvent[*v1alpha1.ControlException], 4096)
	exceptions := &ControlExceptionReconciler{
		Client: mgr.GetClient(), Catalogue: catalogue, AdminNamespace: opts.AdminNamespace,
		Clock: opts.Clock, Recorder: recorder, state: st, alerts: dispatcher, Approval: opts.Approval,
	}
	profiles := &ComplianceProfileReconciler{
		Client:         mgr.GetClient(),
		Gatherer:       &inventory.Gatherer{Reader: mgr.GetClient(), Kinds: kinds},
		Catalogue:      catalogue,
		CatalogVersion: checks.Version,
		AdminNamespace: opts.AdminNamespace,
		Clock:          opts.Clock,
		Recorder:       recorder,
		Interval:       opts.Interval,
		Approval:       opts.Approval,
		state:          st,
		policyReports:  newPolicyReportWriter(mgr.GetClient(), mgr.GetAPIReader(), mgr.GetRESTMapper()),
		alerts:         dispatcher,
		journal:        newJournalHook(opts.Journal, opts.Clock, opts.AttestationInterval),
		firstSeen:      opts.FirstSeen,
		apiReader:      mgr.GetAPIReader(),
		ownWrites:      newOwnWrites(),
		exceptionChanged: func(key types.NamespacedName) {
			ex := &v1alpha1.ControlException{}
			ex.Namespace, ex.Name = key.Namespace, key.Name
			select {
			case exceptionEvents <- event.TypedGenericEvent[*v1alpha1.ControlException]{Object: ex}:
			default:
				// The queue is full; the hourly re-check heals the count.
			}
		},
	}

	// When the admission policies come or go, every profile is evaluated again and every
	// exception judged again: approvals became trusted or stopped being so.
	profileEvents := make(chan event.TypedGenericEvent[*v1alpha1.ComplianceProfile], 1024)
	resyncAll := func() {
		ctx := context.Background()
		list := &v1alpha1.ComplianceProfileList{}
		if err := mgr.GetClient().List(ctx, list); err == nil {
			for i := range list.Items {
				select {
				case profileEvents <- event.TypedGenericEvent[*v1alpha1.ComplianceProfile]{Object: &list.Items[i]}:
				default:
				}
			}
		}
		exs := &v1alpha1.ControlExceptionList{}
		if err := mgr.GetClient().List(ctx, exs); err == nil {
			for i := range exs.Items {
				profiles.exceptionChanged(client.ObjectKeyFromObject(&exs.Items[i]))
			}
		}
	}
	opts.Approval.OnChange(resyncAll)
	if opts.Resync != nil {
		if err := mgr.Add(resyncOn(opts.Resync, resyncAll)); err != nil {
			return err
		}
	}

	mapper := &requestMapper{client: mgr.GetClient(), adminNamespace: opts.AdminNamespace}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("complianceprofile").
		For(&v1alpha1.ComplianceProfile{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles, RateLimiter: rateLimiter()}).
		WatchesRawSource(source.Channel(profileEvents, &handler.TypedEnqueueRequestForObject[*v1alpha1.ComplianceProfile]{}))
	for _, k := range kinds {
		b = b.Watches(k.New(), &delayedHandler{mapFn: mapper.forObject(k), delay: opts.CoalesceDelay},
			builder.WithPredicates(specChanged()))
	}
	b = b.Watches(&v1alpha1.ControlException{}, &delayedHandler{mapFn: mapper.forException, delay: opts.CoalesceDelay},
		builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, exceptionStateChanged())))
	// The operator's own report writes do not evaluate the namespace again; everyone else's do.
	b = b.Watches(&v1alpha1.ComplianceReport{}, &delayedHandler{mapFn: mapper.forReport, delay: opts.CoalesceDelay},
		builder.WithPredicates(profiles.ownWrites.notOwnWrite()))
	if err := b.Complete(profiles); err != nil {
		return fmt.Errorf("setting up the ComplianceProfile controller: %w", err)
	}

	if err := ctrl.NewControllerManagedBy(mgr).
		Named("controlexception").
		For(&v1alpha1.ControlException{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Channel(exceptionEvents, &handler.TypedEnqueueRequestForObject[*v1alpha1.ControlException]{})).
		WithOptions(controller.Options{RateLimiter: rateLimiter()}).
		Complete(exceptions); err != nil {
		return fmt.Errorf("setting up the ControlException controller: %w", err)
	}

	if profiles.journal != nil {
		if err := mgr.Add(opts.Journal); err != nil {
			return err
		}
		if err := mgr.Add(profiles.journal); err != nil {
			return err
		}
	}
	return mgr.Add(&watchdog{client: mgr.GetClient(), profiles: profiles, period: time.Minute})
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
	client         client.Client
	adminNamespace string
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
// name), and any other cluster-scoped object to a full evaluation of every profile.
func (m *requestMapper) forObject(k inventory.Kind) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		ns := obj.GetNamespace()
		switch {
		case k.GVK.Kind == "Namespace":
			ns = obj.GetName()
		case !k.Namespaced:
			ns = ""
		}
		var out []reconcile.Request
		for _, p := range m.profiles(ctx) {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: p}})
		}
		return out
	}
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
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

func (h *delayedHandler) add(ctx context.Context, obj client.Object, q queue) {
	for _, req := range h.mapFn(ctx, obj) {
		q.AddAfter(req, h.delay)
	}
}

func (h *delayedHandler) Create(ctx context.Context, e event.CreateEvent, q queue) {
	if e.IsInInitialList {
		// The cache is filling at start-up: each profile's own initial event evaluates
		// everything once, so per-namespace evaluations now would only repeat it.
		return
	}
	h.add(ctx, e.Object, q)
}

func (h *delayedHandler) Update(ctx context.Context, e event.UpdateEvent, q queue) {
	h.add(ctx, e.ObjectNew, q)
}

func (h *delayedHandler) Delete(ctx context.Context, e event.DeleteEvent, q queue) {
	h.add(ctx, e.Object, q)
}

func (h *delayedHandler) Generic(ctx context.Context, e event.GenericEvent, q queue) {
	h.add(ctx, e.Object, q)
}

// specChanged passes every create and delete, and updates that change more than status: for
// kinds with a generation, the generation, labels, annotations or owner references (whether a
// Pod is judged through its controller depends on which controller it names); kinds without
// one (ConfigMaps, RBAC, ...) always.
func specChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, n := e.ObjectOld, e.ObjectNew
			if n.GetGeneration() == 0 {
				return true
			}
			return o.GetGeneration() != n.GetGeneration() ||
				!maps.Equal(o.GetLabels(), n.GetLabels()) ||
				!maps.Equal(o.GetAnnotations(), n.GetAnnotations()) ||
				!slices.EqualFunc(o.GetOwnerReferences(), n.GetOwnerReferences(), sameOwner)
		},
	}
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

// watchdog marks reports Stale when their namespace has not been evaluated successfully for
// twice the profile's interval: evaluations keep failing, or the queue is stuck. It writes
// nothing while evaluations succeed.
type watchdog struct {
	client   client.Client
	profiles *ComplianceProfileReconciler
	period   time.Duration
}

// NeedLeaderElection: only the leader evaluates, so only the leader judges staleness.
func (w *watchdog) NeedLeaderElection() bool { return true }

func (w *watchdog) Start(ctx context.Context) error {
	ticker := time.NewTicker(w.period)
	defer ticker.Stop()
	w.sweep(ctx) // reports left while the operator was down
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			w.check(ctx)
			w.sweep(ctx)
		}
	}
}

// sweep deletes the reports that name no existing profile. Watch events delete such a report
// as soon as it is written; the sweep catches those written while the operator was not
// watching.
func (w *watchdog) sweep(ctx context.Context) {
	if err := w.profiles.sweepOrphans(ctx); err != nil {
		logf.FromContext(ctx).Error(err, "Unable to delete reports that name no profile")
	}
}

func (w *watchdog) check(ctx context.Context) {
	now := w.profiles.Clock.Now()
	list := &v1alpha1.ComplianceProfileList{}
	if err := w.client.List(ctx, list); err != nil {
		return
	}
	for i := range list.Items {
		p := &list.Items[i]
		limit := 2 * w.profiles.interval(p)
		st := w.profiles.state
		st.mu.Lock()
		ps := st.profiles[p.Name]
		overdue := map[string]time.Time{}
		if ps != nil && ps.fullDone {
			for ns, t := range ps.lastSuccess {
				if ns != "" && now.Sub(t) > limit {
					overdue[ns] = t
				}
			}
		}
		st.mu.Unlock()
		for ns, t := range overdue {
			w.profiles.markStale(ctx, types.NamespacedName{Namespace: ns, Name: p.Name}, v1alpha1.ReasonEvaluationOverdue,
				fmt.Sprintf("No successful evaluation since %s (over twice the evaluation interval)", t.UTC().Format(time.RFC3339)))
		}
	}
}

var _ manager.LeaderElectionRunnable = &watchdog{}
