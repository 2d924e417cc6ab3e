package tenanttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAnExpiryTheOperatorCannotReadIsRefused: a namespace admin writes spec.expires in a form
// the CRD's date-time format accepts and the operator's decoder does not (a lower-case "t" and
// "z", any character before the fraction). Stored, one such exception made every list of
// ControlExceptions fail to decode: the operator's informer stopped seeing exceptions in every
// namespace (an admin's revocation, an approver's removal of an approval, another tenant's
// request), and after a restart its cache never synced. The API server must refuse it, and the
// operator must go on judging the exceptions written afterwards.
func TestAnExpiryTheOperatorCannotReadIsRefused(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "expiry-format", nil)
	expiry := time.Now().Add(24 * time.Hour).UTC()
	for i, expires := range []string{
		expiry.Format("2006-01-02t15:04:05z"),
		expiry.Format("2006-01-02T15:04:05") + "x5Z",
	} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(v1alpha1.GroupVersion.String())
		u.SetKind("ControlException")
		u.SetNamespace(tn.Namespace)
		u.SetName(fmt.Sprintf("unreadable-%d", i))
		u.Object["spec"] = map[string]any{
			"checks": []any{"wl-privileged"}, "reason": "We accept this risk for a day.",
			"owner": "tenant@example.com", "expires": expires,
		}
		err := tn.Client.Create(ctx, u)
		if err == nil {
			t.Cleanup(func() { _ = platform.Delete(context.Background(), u) })
		}
		refusedBy(t, "an exception expiring at "+expires, err, "spec.expires")
	}

	later := selfExemption(tn.Namespace, "later")
	if err := tn.Client.Create(ctx, later); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the exception written afterwards judged", func() error {
		ex := &v1alpha1.ControlException{}
		if err := platform.Get(ctx, types.NamespacedName{Namespace: tn.Namespace, Name: later.Name}, ex); err != nil {
			return err
		}
		if ex.Status.State != v1alpha1.ExceptionPendingApproval || ex.Status.ObservedGeneration != ex.Generation {
			return fmt.Errorf("state %q (%s) at generation %d of %d", ex.Status.State, ex.Status.Message, ex.Status.ObservedGeneration, ex.Generation)
		}
		return nil
	})
}
