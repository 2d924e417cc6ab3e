package admissionpolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Mode says whether the operator writes the policies or only checks them.
type Mode int

const (
	// Manage: the operator applies the policies and bindings at start and puts them back when
	// they are deleted or changed (the default).
	Manage Mode = iota
	// VerifyOnly: someone else applies them (GitOps, from `soc2-operator admission-policies`);
	// the operator only checks that they are present and as expected.
	VerifyOnly
)

// recheck is how often the policies are checked with nothing changing, and recheckWritten how
// soon after writing one: its own watch event usually brings the controller back first, but an
// event that does not come (the CI run of 37a6c56 waited a minute in TestPolicyReportsNeedTheWriterRole
// with the policies "just written" and no second look) would leave them read as not in force, and
// approvals untrusted, until the next recheck. Ten seconds bound the writes if a policy never
// settles.
const (
	recheck        = 5 * time.Minute
	recheckWritten = 10 * time.Second
)

// Verifier knows whether the policies are in force, and tells listeners when that changes.
type Verifier struct {
	mu       sync.RWMutex
	known    bool
	enforced bool
	problem  string
	// since is when the policies came into force: the newest creation time among them (set by
	// the API server, so no tenant can move it).
	since     time.Time
	listeners []func()
}

// NewVerifier returns a verifier that trusts no approval until the policies are checked.
func NewVerifier() *Verifier {
	return &Verifier{problem: "the operator has not yet checked its admission policies"}
}

// Trust says whether approvals can be trusted, and if not why.
func (v *Verifier) Trust() (engine.ApprovalTrust, string) {
	if v == nil {
		return engine.ApprovalUnverified, "the operator does not check its admission policies"
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.enforced {
		return engine.ApprovalEnforced, ""
	}
	return engine.ApprovalUnverified, v.problem
}

// Checked reports whether the policies have been checked at least once (until then approvals
// are not trusted, but nothing is known to be missing either).
func (v *Verifier) Checked() bool {
	if v == nil {
		return false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.known
}

// OnChange registers f to be called (without locks held) whenever enforcement changes.
func (v *Verifier) OnChange(f func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.listeners = append(v.listeners, f)
}

// InForceSince returns when the policies came into force (the newest creation time among them),
// or zero while they are not in force. An approval on an exception created before then may have
// been written with nothing to check it (engine.PredatesPolicies).
func (v *Verifier) InForceSince() time.Time {
	if v == nil {
		return time.Time{}
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if !v.enforced {
		return time.Time{}
	}
	return v.since
}

func (v *Verifier) set(enforced bool, problem string, since time.Time) bool {
	v.mu.Lock()
	changed := !v.known || v.enforced != enforced || v.problem != problem || !v.since.Equal(since)
	v.known, v.enforced, v.problem, v.since = true, enforced, problem, since
	listeners := slices.Clone(v.listeners)
	v.mu.Unlock()
	if changed {
		for _, f := range listeners {
			f()
		}
	}
	return changed
}

// Reconciler keeps the policies and bindings as Objects describes them (Manage) or checks them
// (VerifyOnly), and records the verdict in the Verifier.
type Reconciler struct {
	Client       client.Client
	Mode         Mode
	OperatorUser string
	Verifier     *Verifier
}

// The operator may create and change only its own policies and bindings (by name). It creates a
// missing one with server-side apply, a patch that names it, which the API server authorises as
// create on that name: a POST names nothing, so create on any name would be needed for it, and
// with create on any MutatingAdmissionPolicy and binding the operator's ServiceAccount could
// rewrite every object of the cluster.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings;mutatingadmissionpolicies;mutatingadmissionpolicybindings,verbs=list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings;mutatingadmissionpolicies;mutatingadmissionpolicybindings,verbs=create;get;update;patch,resourceNames=soc2-operator-exception-requester;soc2-operator-exception-approval;soc2-operator-report-writer;soc2-operator-policyreport-writer
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=selfsubjectreviews,verbs=create

// Reconcile checks every object, repairs it in Manage mode, and records whether all are in force.
func (r *Reconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	log := logf.FromContext(ctx)
	var problems []string
	written := false
	var errs []error
	var since time.Time
	for _, desired := range Objects(r.OperatorUser) {
		what := Kind(desired) + " " + desired.GetName()
		problem, created, err := r.check(ctx, desired)
		if created.After(since) {
			since = created
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("checking %s: %w", what, err))
			problems = append(problems, fmt.Sprintf("%s could not be checked: %v", what, err))
			continue
		}
		if problem == "" {
			continue
		}
		if r.Mode == VerifyOnly {
			problems = append(problems, what+" "+problem)
			continue
		}
		if err := r.repair(ctx, desired, problem == problemMissing); err != nil {
			errs = append(errs, fmt.Errorf("writing %s: %w", what, err))
			problems = append(problems, fmt.Sprintf("%s %s and could not be written: %v", what, problem, err))
			continue
		}
		log.Info("Wrote admission policy", "kind", Kind(desired), "name", desired.GetName(), "was", problem)
		// Check again once the API server has it (see recheckWritten).
		problems = append(problems, what+" was just written")
		written = true
	}
	problem := strings.Join(problems, "; ")
	if changed := r.Verifier.set(len(problems) == 0, problem, since); changed {
		if problem == "" {
			log.Info("Admission policies for exceptions and reports are in force")
		} else {
			log.Info("Admission policies are not in force; approvals are not trusted", "problem", problem)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	if written {
		return reconcile.Result{RequeueAfter: recheckWritten}, nil
	}
	return reconcile.Result{RequeueAfter: recheck}, nil
}

const problemMissing = "is missing"

// check compares the live object with what the API server would store for desired (a dry-run
// update, so that defaults the server fills in are no difference), says what is wrong, and
// returns the live object's creation time.
func (r *Reconciler) check(ctx context.Context, desired client.Object) (string, time.Time, error) {
	live := desired.DeepCopyObject().(client.Object)
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), live); err != nil {
		if apierrors.IsNotFound(err) {
			return problemMissing, time.Time{}, nil
		}
		return "", time.Time{}, err
	}
	created := live.GetCreationTimestamp().Time
	expected := desired.DeepCopyObject().(client.Object)
	expected.SetResourceVersion(live.GetResourceVersion())
	if err := r.Client.Update(ctx, expected, client.DryRunAll, client.FieldOwner(FieldManager)); err != nil {
		return "", created, fmt.Errorf("dry-run update: %w", err)
	}
	if !equality.Semantic.DeepEqual(specOf(expected), specOf(live)) {
		return "is not as expected (its spec was changed)", created, nil
	}
	return "", created, nil
}

// repair creates a missing object with server-side apply, or replaces a changed one (an apply
// would keep list entries someone else added, such as a match condition that exempts a user).
func (r *Reconciler) repair(ctx context.Context, desired client.Object, missing bool) error {
	obj := desired.DeepCopyObject().(client.Object)
	if missing {
		u, err := r.toUnstructured(obj)
		if err != nil {
			return err
		}
		return r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.ForceOwnership, client.FieldOwner(FieldManager))
	}
	live := desired.DeepCopyObject().(client.Object)
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(desired), live); err != nil {
		return err
	}
	obj.SetResourceVersion(live.GetResourceVersion())
	return r.Client.Update(ctx, obj, client.FieldOwner(FieldManager))
}

// toUnstructured turns a typed object into what server-side apply sends: apiVersion, kind,
// name, labels and spec.
func (r *Reconciler) toUnstructured(obj client.Object) (*unstructured.Unstructured, error) {
	gvk, err := apiutil.GVKForObject(obj, r.Client.Scheme())
	if err != nil {
		return nil, err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": m["spec"]}}
	u.SetGroupVersionKind(gvk)
	u.SetName(obj.GetName())
	u.SetLabels(obj.GetLabels())
	return u, nil
}

func specOf(o client.Object) any {
	switch o := o.(type) {
	case *admissionv1.MutatingAdmissionPolicy:
		return o.Spec
	case *admissionv1.MutatingAdmissionPolicyBinding:
		return o.Spec
	case *admissionv1.ValidatingAdmissionPolicy:
		return o.Spec
	case *admissionv1.ValidatingAdmissionPolicyBinding:
		return o.Spec
	}
	return nil
}

// Setup learns the operator's own user name (SelfSubjectReview), and registers the controller
// that keeps the policies. The verifier tells the reconcilers whether approvals can be trusted.
func Setup(ctx context.Context, mgr ctrl.Manager, mode Mode, v *Verifier) error {
	user, err := WhoAmI(ctx, mgr.GetClient())
	if err != nil {
		return err
	}
	r := &Reconciler{Client: mgr.GetClient(), Mode: mode, OperatorUser: user, Verifier: v}
	// Every policy and binding Objects returns, so that one added there is watched too.
	names := map[string]bool{}
	for _, o := range Objects(user) {
		names[o.GetName()] = true
	}
	ours := builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return names[o.GetName()] }))
	one := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: "admission-policies"}}}
	})
	start := make(chan event.GenericEvent, 1)
	start <- event.GenericEvent{Object: &admissionv1.ValidatingAdmissionPolicy{}}
	logf.FromContext(ctx).Info("Admission policies name the operator's user", "user", user, "manage", mode == Manage)
	// Every replica checks the policies, not only the leader: the admission webhook runs on
	// every replica and trusts approvals only while its own verifier says they are enforced.
	// Two replicas applying the same objects converge (same field manager, same content).
	leaderOnly := false
	return ctrl.NewControllerManagedBy(mgr).
		Named("admissionpolicies").
		WithOptions(controller.Options{NeedLeaderElection: &leaderOnly}).
		WatchesRawSource(source.Channel(start, one)).
		Watches(&admissionv1.MutatingAdmissionPolicy{}, one, ours).
		Watches(&admissionv1.MutatingAdmissionPolicyBinding{}, one, ours).
		Watches(&admissionv1.ValidatingAdmissionPolicy{}, one, ours).
		Watches(&admissionv1.ValidatingAdmissionPolicyBinding{}, one, ours).
		Complete(r)
}

// WhoAmI returns the user name the client authenticates as (authentication.k8s.io/v1
// SelfSubjectReview, which every authenticated user may create).
func WhoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authnv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who the operator is (SelfSubjectReview): %w", err)
	}
	if review.Status.UserInfo.Username == "" {
		return "", errors.New("the API server's SelfSubjectReview named no user")
	}
	return review.Status.UserInfo.Username, nil
}
