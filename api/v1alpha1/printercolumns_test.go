package v1alpha1_test

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestKubectlGetShowsAReportThatIsNotReady: a report evaluated without some kinds (the operator
// may not list NetworkPolicies) says Ready=False, KindsUnreadable, and its Compliant rests on
// the rest. `kubectl get compliancereports -A` printed its STATUS Compliant and STALE False, as
// a complete report's, with no column for its Ready condition (the profiles' table has one).
// The API server's Table, which kubectl prints, must show it.
func TestKubectlGetShowsAReportThatIsNotReady(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ensureNamespace(t, c, "printed")
	rep := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: "printed", Name: "soc2-baseline"},
		Spec: v1alpha1.ComplianceReportSpec{Profile: "soc2-baseline"}}
	if err := c.Create(ctx, rep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, rep) })
	now := metav1.Now()
	rep.Status.Result = v1alpha1.Compliant
	rep.Status.LastEvaluated = &now
	rep.Status.Conditions = []metav1.Condition{
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonKindsUnreadable, LastTransitionTime: now,
			Message: "Evaluated 3 resources against profile soc2-baseline, not all of it: the operator may not list NetworkPolicy"},
		{Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate, LastTransitionTime: now, Message: "current"},
	}
	if err := c.Status().Update(ctx, rep); err != nil {
		t.Fatal(err)
	}

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table := &metav1.Table{}
	// What kubectl get asks for: the server prints the CRD's additionalPrinterColumns.
	err = cs.CoreV1().RESTClient().Get().AbsPath("/apis", v1alpha1.GroupVersion.Group, v1alpha1.GroupVersion.Version, "namespaces", "printed", "compliancereports").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").Do(ctx).Into(table)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(table.Rows))
	}
	cells := map[string]string{}
	for i, col := range table.ColumnDefinitions {
		if col.Priority == 0 { // shown without -o wide
			cells[col.Name] = fmt.Sprint(table.Rows[0].Cells[i])
		}
	}
	if cells["Status"] != "Compliant" || cells["Ready"] != "False" {
		t.Errorf("kubectl get compliancereports prints %v for a Compliant report that is Ready=False, KindsUnreadable; want Ready False beside Status Compliant", cells)
	}
}
