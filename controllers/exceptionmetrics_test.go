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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// TestExceptionMetricsKeepEverySeriesWhileRecounting: the exception reconciler recounts the
// exceptions at its first reconcile (it recounted them at every reconcile until
// exceptionTally). It emptied soc2_operator_exceptions and
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
	if err := r.updateMetrics(ctx, types.NamespacedName{}, nil); err != nil {
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
		// A reconciler recounts every exception at its first reconcile (a start, a failover).
		r := &ControlExceptionReconciler{Client: c}
		if err := r.updateMetrics(ctx, types.NamespacedName{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if n := missed.Load(); n > 0 {
		t.Errorf("%d of %d scrapes during 20 recounts did not see soc2_operator_exceptions{namespace=exrecount,state=%s}, which every recount counts", n, scrapes.Load(), state)
	}
}

// TestJudgingAnExceptionDoesNotRecountEveryException: every reconcile of an exception listed
// every exception of the cluster to recount the metrics, so n exceptions cost n² (38 ms a
// reconcile at 10,000): a tenant's thousands of requested exceptions delayed, by minutes, the
// judging of every other tenant's exceptions on the reconciler's one worker. Judging an exception
// now changes its own series; the counts stay right through a change of state and a deletion.
func TestJudgingAnExceptionDoesNotRecountEveryException(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "extally", nil)
	const n = 20
	var keys []types.NamespacedName
	for i := range n {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("waiver-%02d", i), Namespace: "extally"},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
				Reason: "One of many, on purpose.", Owner: "team-a@example.com",
				Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
		}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, client.ObjectKeyFromObject(ex))
	}
	var read, lists atomic.Int64
	c := failing(t, interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, list, opts...); err != nil {
			return err
		}
		if l, ok := list.(*v1alpha1.ControlExceptionList); ok {
			read.Add(int64(len(l.Items)))
			lists.Add(1)
		}
		return nil
	}})
	// Later in the test the clock is past every expiry: Expired.
	fake := testingclock.NewFakeClock(clk.Now())
	r := &ControlExceptionReconciler{Client: c, Catalogue: checks.Catalogue(), AdminNamespace: adminNamespace,
		Clock: fake, Recorder: &events.FakeRecorder{}, Approval: approval, state: newState(), alerts: alert.NewDispatcher(alert.Options{})}
	count := func(state v1alpha1.ExceptionState) float64 {
		return gaugeValue(t, metrics.Exceptions.WithLabelValues("extally", string(state)))
	}
	judged := func() int64 {
		read.Store(0)
		for _, k := range keys {
			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: k}); err != nil {
				t.Fatal(err)
			}
		}
		return read.Load()
	}
	all := int64(len(keys)) + otherExceptions(t, "extally")
	if got := judged(); got > all {
		t.Errorf("judging %d exceptions read %d exceptions (%d lists), want one listing of the cluster's %d", n, got, lists.Load(), all)
	}
	states := 0.0
	for _, s := range []v1alpha1.ExceptionState{v1alpha1.ExceptionActive, v1alpha1.ExceptionPendingApproval, v1alpha1.ExceptionInvalid} {
		states += count(s)
	}
	if states != n || count(v1alpha1.ExceptionExpired) != 0 {
		t.Fatalf("soc2_operator_exceptions{namespace=extally} counts %v exceptions not expired and %v expired, want %d and 0", states, count(v1alpha1.ExceptionExpired), n)
	}

	fake.SetTime(clk.Now().Add(2 * time.Hour))
	if got := judged(); got != 0 {
		t.Errorf("judging them again read %d exceptions, want none", got)
	}
	if got := count(v1alpha1.ExceptionExpired); got != n {
		t.Errorf("soc2_operator_exceptions{namespace=extally,state=Expired} = %v once every exception expired, want %d", got, n)
	}
	if err := k8s.Delete(ctx, &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Namespace: keys[0].Namespace, Name: keys[0].Name}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the exception gone from the cache", func() error {
		if err := c.Get(ctx, keys[0], &v1alpha1.ControlException{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: keys[0]}); err != nil {
		t.Fatal(err)
	}
	if got := count(v1alpha1.ExceptionExpired); got != n-1 {
		t.Errorf("soc2_operator_exceptions{namespace=extally,state=Expired} = %v after one was deleted, want %d", got, n-1)
	}
}

// otherExceptions counts the exceptions outside namespace ns now.
func otherExceptions(t *testing.T, ns string) int64 {
	t.Helper()
	list := &v1alpha1.ControlExceptionList{}
	if err := k8s.List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, ex := range list.Items {
		if ex.Namespace != ns {
			n++
		}
	}
	return n
}
