package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// ComplianceProfileReconciler keeps one ComplianceReport per namespace a profile selects.
//
// A request with an empty namespace evaluates the whole profile (every selected namespace and
// the cluster-scoped objects); a request that names a namespace re-evaluates only that one,
// after a change in it. Both run the same phases (evaluate.go); the concerns they call live in
// status.go, reports.go, notifications.go and metrics.go, the watches in watches.go.
type ComplianceProfileReconciler struct {
	client.Client
	// Gatherer reads the objects the checks judge from the cache.
	Gatherer *inventory.Gatherer
	// Catalogue is the built-in checks; CatalogVersion is recorded in reports.
	Catalogue      []*engine.Check
	CatalogVersion string
	// AdminNamespace is the operator's namespace.
	AdminNamespace string
	// Clock is the time evaluations and first-seen times use.
	Clock clock.PassiveClock
	// Recorder records Events on profiles.
	Recorder events.EventRecorder
	// Interval is the period of full evaluations: the profile's evaluationInterval by default.
	Interval func(*v1alpha1.ComplianceProfile) time.Duration
	// Approval says whether approvals on exceptions can be trusted.
	Approval *admissionpolicy.Verifier
	// CoalesceDelay is how long a change waits before its namespace is evaluated (watches.go).
	CoalesceDelay time.Duration
	// MaxConcurrentReconciles is how many evaluations run at once.
	MaxConcurrentReconciles int
	// MinNamespaceInterval spaces the evaluations changes trigger in one namespace once it keeps
	// changing (pace: paceBurst in hand, one earned back every MinNamespaceInterval). Zero: not
	// paced.
	MinNamespaceInterval time.Duration

	// exceptionChanged is told about the exceptions whose match counts may have changed.
	exceptionChanged func(types.NamespacedName)
	// resync receives profiles to evaluate in full (the admission policies came or went).
	resync chan event.TypedGenericEvent[*v1alpha1.ComplianceProfile]
	// policyReports writes per-resource PolicyReports for profiles that ask for them.
	policyReports *policyReportWriter
	// alerts delivers alerts on state transitions.
	alerts *alert.Dispatcher
	// journal records transitions in the evidence journal (nil: off).
	journal *journalHook
	// firstSeen remembers when each listed finding was first seen, beyond the reports.
	firstSeen report.FirstSeenStore
	// apiReader reads past the cache, to confirm that a profile is gone before deleting the
	// reports that name it.
	apiReader client.Reader
	// ownWrites remembers the report versions the operator wrote, so that their watch events
	// do not evaluate the namespace again (nil: remember nothing).
	ownWrites *ownWrites
	// watched is Options.watched (tests; nil: nobody is told).
	watched func(obj client.Object, queued []ctrl.Request)
	// pace spaces the change-triggered evaluations of each namespace (MinNamespaceInterval).
	pace *pace
	// vouched is when this process last recorded each profile's full evaluation (vouch.go).
	vouched vouchers
	// evaluations are the annotations of evaluationsLease this process read or wrote (vouch.go).
	evaluations evaluationsAnnotations
	// leadership says whether this process leads, for the writes of evaluations (nil: it does).
	leadership *leadership
	// gone are the namespaces deleted lately, as their delete events showed them
	// (unevaluated.go).
	gone goneNamespaces

	state *state
	// namespaceLocks serialise the evaluations of a namespace (namespacelocks.go).
	namespaceLocks namespaceLocks
}

// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=complianceprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=complianceprofiles/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=complianceprofiles/finalizers,verbs=update
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=compliancereports,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=compliance.soc2-operator.io,resources=compliancereports/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces;pods;replicationcontrollers;services;serviceaccounts;configmaps;resourcequotas;limitranges;persistentvolumeclaims;persistentvolumes,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets;replicasets,verbs=get;list;watch
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings;clusterroles;clusterrolebindings,verbs=get;list;watch
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=scheduling.k8s.io,resources=priorityclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=node.k8s.io,resources=runtimeclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups=aquasecurity.github.io,resources=vulnerabilityreports;exposedsecretreports,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways;httproutes;grpcroutes;tlsroutes;tcproutes;udproutes;listenersets,verbs=get;list;watch
// +kubebuilder:rbac:groups=route.openshift.io,resources=routes,verbs=get;list;watch
// +kubebuilder:rbac:groups=networking.istio.io,resources=gateways;virtualservices,verbs=get;list;watch
// +kubebuilder:rbac:groups=cilium.io,resources=ciliumnetworkpolicies;ciliumclusterwidenetworkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects,verbs=get;list;watch
// +kubebuilder:rbac:groups=configuration.konghq.com,resources=kongplugins,verbs=get;list;watch
// +kubebuilder:rbac:groups=traefik.io,resources=ingressroutes,verbs=get;list;watch
// +kubebuilder:rbac:groups=argoproj.io,resources=rollouts,verbs=get;list;watch
// +kubebuilder:rbac:groups=projectcalico.org,resources=networkpolicies;globalnetworkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=crd.projectcalico.org,resources=networkpolicies;globalnetworkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=policy.networking.k8s.io,resources=adminnetworkpolicies;baselineadminnetworkpolicies;clusternetworkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=resource.k8s.io,resources=resourceclaims;resourceclaimtemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch

// Reconcile gets the profile and runs the phases of an evaluation: of the whole profile
// (req.Namespace empty) or of the one namespace a change touched.
func (r *ComplianceProfileReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	profile := &v1alpha1.ComplianceProfile{}
	if err := r.Get(ctx, types.NamespacedName{Name: req.Name}, profile); err != nil {
		if apierrors.IsNotFound(err) {
			return r.reconcileDelete(ctx, req)
		}
		return ctrl.Result{}, err
	}
	if !profile.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if r.state.awaitApprovalCheck(r.Approval) {
		// Just started: evaluated now, every approved exception would be lifted until the
		// admission policies are checked. The check queues every profile again.
		return ctrl.Result{RequeueAfter: approvalCheckRetry}, nil
	}
	r.pace.evaluated(req) // a change from now on is seen by the next evaluation of the namespace
	res, err := r.reconcileNormal(ctx, profile, req.Namespace)
	if err != nil && isOnlyConflicts(err) {
		// Someone else wrote first (a person editing a report, or a write racing the cache):
		// evaluate again shortly instead of logging an error and backing off.
		logf.FromContext(ctx).V(1).Info("Write conflict, evaluating again", "error", err.Error())
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	return res, err
}

// reconcileNormal runs the phases in order. The full evaluation and the single-namespace one
// differ only in how they choose the namespaces; every later phase is shared.
func (r *ComplianceProfileReconciler) reconcileNormal(ctx context.Context, profile *v1alpha1.ComplianceProfile, namespace string) (ctrl.Result, error) {
	if r.state.replaced(profile) {
		// Deleted and created again under the same name, and the operator saw only the new
		// object: what it remembers is the old one's, as if it had seen it deleted. Else the
		// reports the garbage collector removed with the old profile read as deleted by someone
		// else, and the new one's findings as first seen by the old one. (The journal sees the
		// new UID itself: profileSeen.)
		r.forgetProfile(profile.Name)
	}
	r.alerts.Configure(profile.Name, profile.Spec.Alerts)
	if namespace == "" {
		// What a burst or a sink's outage kept from a sink is offered again at each full
		// evaluation (the new findings it told of are counted alerted, and not sent again).
		r.alerts.Retry(profile.Name)
	}
	r.journal.profileSeen(ctx, profile)
	p := r.newPass(profile, namespace)
	choose := r.selectNamespaces
	if namespace != "" {
		choose = r.selectNamespace
	}
	return r.runPhases(ctx, p,
		r.checkReadable,         // which kinds the operator may still read (a full evaluation)
		choose,                  // which namespaces (a namespace no longer selected: delete its report, stop)
		r.listExceptions,        // every exception, with the approval trust of now
		r.evaluateClusterScoped, // the cluster-scoped objects, gathered once for every namespace
		r.evaluateNamespaces,    // gather -> evaluate -> write, one namespace at a time
		r.pruneReports,          // reports of namespaces and resources no longer evaluated
		r.updateStatus,          // the profile's roll-up and Ready condition
		r.notifyExceptions,      // the exceptions whose match counts may have changed
		r.scheduleNext,          // the next full evaluation, or the next exception expiry
	)
}

// reconcileDelete forgets a deleted profile. The operator's reports go with the profile
// through their owner references; its PolicyReports, owned by the resources they judge, are
// deleted. A report in the namespace asked about that names this profile is not the
// operator's, and is deleted. Every exception is judged again, so that none still says it is
// Active under the profile, covering its findings.
func (r *ComplianceProfileReconciler) reconcileDelete(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.forgetProfile(req.Name)
	r.journal.profileDeleted(ctx, req.Name)
	if req.Namespace != "" {
		return ctrl.Result{}, r.deleteOrphan(ctx, types.NamespacedName{Namespace: req.Namespace, Name: req.Name})
	}
	return ctrl.Result{}, errors.Join(r.forgetPolicyReports(ctx, req.Name), r.rejudgeExceptionsIn(ctx, metav1.NamespaceAll))
}

// forgetProfile forgets what the operator remembers of a profile that is gone: its state,
// first-seen times, alerts and metrics.
func (r *ComplianceProfileReconciler) forgetProfile(name string) {
	r.state.forget(name)
	r.firstSeen.Forget(name, "")
	r.alerts.Configure(name, nil)
	metrics.ForgetProfile(name)
}

// forgetPolicyReports deletes the PolicyReports of a deleted profile once the API server
// confirms that no profile of its name exists (the cache may lag behind one just created).
func (r *ComplianceProfileReconciler) forgetPolicyReports(ctx context.Context, name string) error {
	err := r.apiReader.Get(ctx, types.NamespacedName{Name: name}, &v1alpha1.ComplianceProfile{})
	switch {
	case err == nil:
		return nil // it exists: its evaluations keep its PolicyReports
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("reading profile %s before removing its PolicyReports: %w", name, err)
	}
	return r.policyReports.forget(ctx, name)
}

// A phase is one step of an evaluation. It returns an error only when the phases after it
// cannot run (nothing could be gathered); an error that leaves the rest meaningful (one
// report's write failed) goes to pass.errs and every later phase still runs.
type phase func(context.Context, *pass) (ctrl.Result, error)

// runPhases runs the phases until one fails or ends the pass, records the evaluation's
// metrics, and returns the errors joined, or the earliest requeue the phases asked for.
func (r *ComplianceProfileReconciler) runPhases(ctx context.Context, p *pass, phases ...phase) (ctrl.Result, error) {
	var res ctrl.Result
	for _, run := range phases {
		next, err := run(ctx, p)
		if err != nil {
			p.errs = append(p.errs, err)
			break
		}
		res = lowestNonZero(res, next)
		if p.done {
			return res, errors.Join(p.errs...)
		}
	}
	err := errors.Join(p.errs...)
	if err != nil && stopping(ctx) {
		// Not a failure: the operator stopped looking, and the journal's operator.stopped and
		// the next process's observation gap say so.
		logf.FromContext(ctx).Info("Evaluation interrupted: the operator is stopping", "error", err.Error())
		return ctrl.Result{}, nil
	}
	r.recordEvaluation(ctx, p, err)
	if err != nil {
		return ctrl.Result{}, err
	}
	if p.full() {
		r.vouch(ctx, p.profile, p.now)
	}
	return res, nil
}

// stopping says whether ctx was cancelled: the operator is stopping (a rollout, a drain, a lost
// lease), and the evaluation in flight stops with it, its reads and writes failing with "context
// canceled". That is no evaluation failure: nothing is marked stale, journaled Unknown or counted
// as an error (a reconciliation that ran out of time, context.DeadlineExceeded, still is).
func stopping(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }

// conflictRetry is how soon an evaluation whose write conflicted runs again.
const conflictRetry = 200 * time.Millisecond

// isOnlyConflicts reports whether err is a conflict, or joins only conflicts.
func isOnlyConflicts(err error) bool {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !isOnlyConflicts(e) {
				return false
			}
		}
		return true
	}
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}

func lowestNonZero(a, b ctrl.Result) ctrl.Result {
	if a.RequeueAfter == 0 || (b.RequeueAfter > 0 && b.RequeueAfter < a.RequeueAfter) {
		return b
	}
	return a
}
