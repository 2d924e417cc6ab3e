package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAnExceptionOfTheOperatorsNamespaceIsShownWhereItWaivesAFinding: an exception in the
// operator's namespace may waive findings in other namespaces. A namespace's page marks such a
// finding "Excepted by <operator namespace>/<name>", and must also show what the report holds of
// that exception (its state, owner, requester, approver, expiry, reason), as it does for the
// namespace's own: whoever reads the namespace may not read the operator's namespace, where the
// exception itself lives.
func TestAnExceptionOfTheOperatorsNamespaceIsShownWhereItWaivesAFinding(t *testing.T) {
	legacy := reportFor(t, "legacy")
	var target *v1alpha1.Finding
	for i := range legacy.Status.Findings {
		// The profile waives at most High (spec.exceptionPolicy.maxSeverity).
		if f := &legacy.Status.Findings[i]; f.Result == v1alpha1.ResultFail && f.Severity != v1alpha1.SeverityCritical {
			target = f
			break
		}
	}
	if target == nil {
		t.Fatal("legacy's report lists no failing finding below Critical")
	}
	const reason = "Platform-wide waiver while the gateway is replaced (PLAT-77)."
	const owner = "platform-team@example.com"
	dev, err := testenv.AddUser(env, "platform-dev@example.com", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	devClient, err := client.New(dev, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-test-platform-waiver", Namespace: adminNamespace},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{target.Check},
			Match: v1alpha1.ResourceMatch{Namespaces: []string{"legacy"}, Kinds: []string{target.Resource.Kind},
				Names: []string{target.Resource.Name}},
			Reason: reason, Owner: owner, Expires: metav1.NewTime(time.Now().Add(7 * 24 * time.Hour)),
		},
	}
	name := requestAndApprove(t, devClient, ex)
	t.Cleanup(func() {
		if t.Failed() {
			got := &v1alpha1.ControlException{}
			_ = admin.Get(context.Background(), client.ObjectKeyFromObject(ex), got)
			t.Logf("the exception's status: %+v; legacy's findings: %+v", got.Status, reportFor(t, "legacy").Status.Findings)
		}
	})
	waitFor(t, "legacy's finding excepted by the operator namespace's exception", func() bool {
		for _, f := range reportFor(t, "legacy").Status.Findings {
			if f.Exception == name {
				return true
			}
		}
		return false
	})
	_, body, _ := get(t, auditorToken, "/namespaces/legacy")
	if !contains(rows(body, "data-exception"), name) {
		t.Fatalf("legacy's page lists the exceptions %v, not %s, which waives one of its findings", rows(body, "data-exception"), name)
	}
	rowHas(t, body, name, "Active", owner, "platform-dev@example.com", testenv.ApproverName, templateEscape(reason))
}

// requestAndApprove creates ex as requester, deletes it when the test ends, and approves it as
// the test environment's approver; it returns the name reports give it (namespace/name).
func requestAndApprove(t *testing.T, requester client.Client, ex *v1alpha1.ControlException) string {
	t.Helper()
	ctx := context.Background()
	if err := requester.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), ex) })
	approver, err := testenv.ApproverClient(env, admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
	return ex.Namespace + "/" + ex.Name
}

// rowHas fails the test unless the page's row of exception name holds each of want.
func rowHas(t *testing.T, body, name string, want ...string) {
	t.Helper()
	_, row, _ := strings.Cut(body, `data-exception="`+name+`"`)
	row, _, _ = strings.Cut(row, "</tr>")
	for _, w := range want {
		if !strings.Contains(row, w) {
			t.Errorf("the row of %s lacks %q:\n%s", name, w, row)
		}
	}
}
