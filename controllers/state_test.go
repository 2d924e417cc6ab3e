package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
)

// Two workers can evaluate a namespace at once; the one that started first may fail after the
// other has written the report. The report is current, so it must not count as stale.
func TestAnOlderFailedEvaluationDoesNotMarkAWrittenReportStale(t *testing.T) {
	st := newState()
	ps := st.plan(&v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "state-order", UID: "1"}}, checks.Catalogue())
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	st.markUnwritten(ps, "shop", t0) // the outage
	st.markWritten(ps, "shop", t0.Add(2*time.Second))
	st.markUnwritten(ps, "shop", t0.Add(time.Second)) // an evaluation begun before that write
	if n := len(ps.unwritten); n != 0 {
		t.Fatalf("after an older evaluation failed, %d namespaces count as unwritten; want 0", n)
	}
	st.markUnwritten(ps, "shop", t0.Add(3*time.Second)) // a newer one failing does count
	if n := len(ps.unwritten); n != 1 {
		t.Fatalf("after a newer evaluation failed, %d namespaces count as unwritten; want 1", n)
	}
}
