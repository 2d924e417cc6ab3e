package testenv

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// ApproverName is the user ApproverClient acts as.
const ApproverName = "exception-approver@example.com"

// WaitAdmissionPolicies waits until the API server applies the exception policies: a dry-run
// exception in namespace comes back with spec.requestedBy filled in. A policy takes effect a
// moment after it is created.
func WaitAdmissionPolicies(ctx context.Context, c client.Client, namespace string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "admission-policy-probe", Namespace: namespace},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "probing the admission policies",
				Owner: "test", Expires: metav1.NewTime(time.Now().Add(time.Hour))},
		}
		err := c.Create(ctx, probe, client.DryRunAll)
		if err == nil && probe.Spec.RequestedBy != "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the exception admission policies did not take effect within 30s (last: %v, requestedBy %q)", err, probe.Spec.RequestedBy)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ApproverClient returns a client for a second user (a cluster admin, so allowed to approve
// anywhere) who approves exceptions that tests create as another user.
func ApproverClient(env *envtest.Environment, c client.Client) (client.Client, error) {
	user, err := env.AddUser(envtest.User{Name: ApproverName, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding the approver user: %w", err)
	}
	return client.New(user.Config(), client.Options{Scheme: c.Scheme()})
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
