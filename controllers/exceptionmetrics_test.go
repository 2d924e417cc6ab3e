package controllers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestExceptionMetricsKeepEverySeriesWhileRecounting: the exception reconciler recounts the
// exceptions at every reconcile. It emptied soc2_operator_exceptions and
// soc2_operator_exception_expiry_timestamp_seconds (Reset) and then set them again one series at
// a time, so a scrape in between saw an exception that had not changed as gone: an Active one
// about to expire resolved SOC2ExceptionExpiringSoon (no `for`: it fires again at the next
// scrape, a resolved and a firing notification for nothing), and the counts dipped. With many
// exceptions (a tenant may request thousands) the gap is the whole recount. A scrape during a
// recount must see every series that is there before and after it.
func TestExceptionMetricsKeepEverySeriesWhileRecounting(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "exrecount", nil)
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "steady", Namespace: "exrecount"},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
			Reason: "Counted while the others are recounted.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(clk.Now().Add(24 * time.Hour))},
	}
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	var state v1alpha1.ExceptionState
	eventually(t, 10*time.Second, "the exception judged", func() error {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
			return err
		}
		if got.Status.State == "" {
			return fmt.Errorf("no state yet")
		}
		state = got.Status.State
		return nil
	})
	// The API server's exceptions and, before them, 5,000 more in namespaces of their own.
	const many = 5000
	t.Cleanup(func() {
		for i := range many {
			metrics.Exceptions.DeletePartialMatch(prometheus.Labels{"namespace": fmt.Sprintf("exrecount-%d", i)})
		}
	})
	c := failing(t, interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, list, opts...); err != nil {
			return err
		}
		if l, ok := list.(*v1alpha1.ControlExceptionList); ok {
			more := make([]v1alpha1.ControlException, many)
			for i := range more {
				more[i].Namespace, more[i].Name = fmt.Sprintf("exrecount-%d", i), "other"
				more[i].Status.State = v1alpha1.ExceptionInvalid
			}
			l.Items = append(more, l.Items...)
		}
		return nil
	}})
	r := &ControlExceptionReconciler{Client: c}
	present := func() bool {
		ch := make(chan prometheus.Metric, many+100)
		go func() { metrics.Exceptions.Collect(ch); close(ch) }()
		found := false
		for m := range ch {
			var d dto.Metric
			if err := m.Write(&d); err != nil {
				t.Error(err)
				continue
			}
			labels := map[string]string{}
			for _, l := range d.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			found = found || labels["namespace"] == "exrecount" && labels["state"] == string(state) && d.GetGauge().GetValue() == 1
		}
		return found
	}
	if err := r.updateMetrics(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if !present() {
		t.Fatalf("soc2_operator_exceptions{namespace=exrecount,state=%s} is not 1 after a recount", state)
	}
	var scrapes, missed atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			scrapes.Add(1)
			if !present() {
				missed.Add(1)
			}
		}
	}()
	for range 20 {
		if err := r.updateMetrics(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if n := missed.Load(); n > 0 {
		t.Errorf("%d of %d scrapes during 20 recounts did not see soc2_operator_exceptions{namespace=exrecount,state=%s}, which every recount counts", n, scrapes.Load(), state)
	}
}
