package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAnEditedExceptionNoLongerWaivesWhereItNoLongerReaches: an exception whose spec is changed
// so that it no longer reaches a namespace (an admin exception that stops listing it) or a
// profile (spec.profiles names another) must stop waiving there as the change happens, not
// at the profile's next full evaluation (evaluationInterval, up to a day): until then the
// namespace's report listed the finding Excepted, and the exception Active and approved, under
// a waiver that no longer covers it and whose approval the edit voided.
func TestAnEditedExceptionNoLongerWaivesWhereItNoLongerReaches(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		namespace string
		spec      v1alpha1.ControlExceptionSpec
		edit      func(*v1alpha1.ControlException)
	}{
		"an admin exception that stops listing the namespace": {
			namespace: adminNamespace,
			spec:      v1alpha1.ControlExceptionSpec{Match: v1alpha1.ResourceMatch{Namespaces: []string{"exedit-a"}}},
			edit:      func(ex *v1alpha1.ControlException) { ex.Spec.Match.Namespaces = []string{"exedit-elsewhere"} },
		},
		"a tenant exception that names another profile": {
			namespace: "exedit-b",
			edit:      func(ex *v1alpha1.ControlException) { ex.Spec.Profiles = []string{"exedit-other"} },
		},
	}
	i := 0
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			i++
			profile, ns := fmt.Sprintf("exedit-%d", i), "exedit-a"
			if tc.namespace != adminNamespace {
				ns = tc.namespace
			}
			privilegedUnderWaivableProfile(t, profile, ns, "web")
			ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "waiver-" + profile, Namespace: tc.namespace}, Spec: tc.spec}
			ex.Spec.Checks = []string{"wl-privileged"}
			ex.Spec.Reason, ex.Spec.Owner = "The setup container needs it until PLAT-7 lands.", "platform@example.com"
			ex.Spec.Expires = metav1.NewTime(clk.Now().Add(7 * 24 * time.Hour))
			createApproved(t, ex)
			t.Cleanup(func() { _ = k8s.Delete(ctx, ex) })
			waitFinding(t, ns, profile, v1alpha1.ResultExcepted)

			// The operator writes the exception's status meanwhile: edit the latest version.
			if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				got := &v1alpha1.ControlException{}
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
					return err
				}
				tc.edit(got)
				return k8s.Update(ctx, got)
			}); err != nil {
				t.Fatal(err)
			}
			// The profile's next full evaluation is evaluationInterval (10m) away: only the edit
			// can bring this about within the wait.
			rep := waitFinding(t, ns, profile, v1alpha1.ResultFail)
			if rep.Status.Result != v1alpha1.NonCompliant {
				t.Errorf("report %s/%s reads %s with the privileged container no longer waived", ns, profile, rep.Status.Result)
			}
			for _, u := range rep.Status.Exceptions {
				if u.Name == tc.namespace+"/"+ex.Name && u.State == v1alpha1.ExceptionActive {
					t.Errorf("report %s/%s lists %s as Active after the edit", ns, profile, u.Name)
				}
			}
			// Nor does the exception go on counting the finding it no longer covers.
			eventually(t, 20*time.Second, "the exception counts no finding", func() error {
				got := &v1alpha1.ControlException{}
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
					return err
				}
				if got.Status.MatchedFindings != 0 {
					return fmt.Errorf("status.matchedFindings is %d", got.Status.MatchedFindings)
				}
				return nil
			})
		})
	}
}

// waitFinding waits until the report of ns under profile lists wl-privileged on Deployment web's
// setup container with the result want, and returns the report.
func waitFinding(t *testing.T, ns, profile string, want v1alpha1.CheckResult) *v1alpha1.ComplianceReport {
	t.Helper()
	var rep *v1alpha1.ComplianceReport
	eventually(t, 20*time.Second, fmt.Sprintf("wl-privileged %s in %s/%s", want, ns, profile), func() error {
		var err error
		if rep, err = getReport(ns, profile); err != nil {
			return err
		}
		f := finding(rep, "wl-privileged", "web", "setup")
		if f == nil || f.Result != want {
			return fmt.Errorf("finding %+v", f)
		}
		return nil
	})
	return rep
}
