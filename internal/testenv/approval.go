package testenv

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// ApproverName is the user ApproverClient acts as.
const ApproverName = "exception-approver@example.com"

// Trusts says whether the operator under test trusts approvals now, and if not, why.
type Trusts func(ctx context.Context) (bool, string)

// VerifierTrusts reads an in-process operator's verifier (controllers.Options.Approval,
// webhook.WithApproval).
func VerifierTrusts(v interface {
	Trust() (engine.ApprovalTrust, string)
}) Trusts {
	return func(context.Context) (bool, string) {
		trust, why := v.Trust()
		return trust == engine.ApprovalEnforced, why
	}
}

// ProfileTrusts reads what a user sees of an operator in another process: the profile, which
// requires approval, is Ready at its generation. Until the operator trusts approvals its Ready
// condition is False with reason ApprovalNotEnforced.
func ProfileTrusts(c client.Reader, profile string) Trusts {
	return func(ctx context.Context) (bool, string) {
		p := &v1alpha1.ComplianceProfile{}
		if err := c.Get(ctx, types.NamespacedName{Name: profile}, p); err != nil {
			return false, err.Error()
		}
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.ObservedGeneration != p.Generation || ready.Status != metav1.ConditionTrue {
			return false, fmt.Sprintf("profile %s is not Ready at generation %d: %+v", profile, p.Generation, ready)
		}
		return true, ""
	}
}

// WaitAdmissionPolicies waits until the API server applies the exception policies (a dry-run
// exception in namespace comes back with spec.requestedBy filled in: a policy takes effect a
// moment after it is created) and the operator trusts approvals. Both matter to a test that
// approves an exception next: the operator never trusts an approval it first saw before it
// had confirmed its policies were in force (anyone could have written it), even when the API
// server did check it, so approving as soon as the API server enforces races the operator.
// It returns in a later second than the policies' creation (NextSecond).
func WaitAdmissionPolicies(ctx context.Context, c client.Client, namespace string, operator Trusts) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "admission-policy-probe", Namespace: namespace},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "probing the admission policies",
				Owner: "test", Expires: metav1.NewTime(time.Now().Add(time.Hour))},
		}
		err := c.Create(ctx, probe, client.DryRunAll)
		if err == nil && probe.Spec.RequestedBy != "" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the exception admission policies did not take effect within 30s (last: %v, requestedBy %q)", err, probe.Spec.RequestedBy)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		trusted, why := operator(ctx)
		if trusted {
			NextSecond()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the API server applies the exception admission policies, but the operator did not trust approvals within 30s: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ApproverClient returns a client for a second user (a cluster admin, so allowed to approve
// anywhere) who approves exceptions that tests create as another user.
func ApproverClient(env *envtest.Environment, c client.Client) (client.Client, error) {
	cfg, err := AddUser(env, ApproverName, "system:masters")
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: c.Scheme()})
}

// Approve approves the exception as the approver client's user, retrying while the API server
// has not yet recorded the requester (a policy that just appeared) or the write conflicts.
func Approve(ctx context.Context, approver client.Client, user string, key types.NamespacedName) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ex := &v1alpha1.ControlException{}
		err := approver.Get(ctx, key, ex)
		if err == nil {
			patch := client.MergeFrom(ex.DeepCopy())
			ex.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: user}
			if err = approver.Patch(ctx, ex, patch); err == nil {
				return nil
			}
		}
		retry := apierrors.IsConflict(err) || apierrors.IsNotFound(err) || strings.Contains(err.Error(), "spec.requestedBy is empty")
		if !retry || time.Now().After(deadline) {
			return fmt.Errorf("approving exception %s as %s: %w", key, user, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// NextSecond waits until the wall clock reaches the next whole second. The operator takes an
// exception created no later than the second its admission policies were created in as
// predating them (creation times are kept to the second; engine.PredatesPolicies) and never
// trusts its approval; the policies exist by now, so what is created after NextSecond is
// judged with them in force. On a fast machine a test created its exception in the policies'
// own second and waited for an approval that could never count.
func NextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now))
}
