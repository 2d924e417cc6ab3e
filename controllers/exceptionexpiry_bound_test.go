package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// expirySeries are the soc2_operator_exception_expiry_timestamp_seconds series of a namespace,
// by exception.
func expirySeries(t *testing.T, ns string) map[string]float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1024)
	go func() { metrics.ExceptionExpiry.Collect(ch); close(ch) }()
	out := map[string]float64{}
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{}
		for _, l := range d.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["namespace"] == ns {
			out[labels["exception"]] = d.GetGauge().GetValue()
		}
	}
	return out
}

// soc2_operator_exception_expiry_timestamp_seconds had a series per Active exception, and under
// a profile that needs no approval a namespace admin decides how many are Active: 3,000
// exceptions were 3,000 series on the operator's /metrics and in Prometheus, from one tenant. A
// namespace now exports the expiries of its maxExpirySeries soonest-expiring Active exceptions:
// every exception SOC2ExceptionExpiringSoon would fire for keeps its series unless that many of
// the namespace's expire sooner (and fire). As the soonest go, the next come in.
func TestATenantsExceptionsExportABoundedNumberOfExpirySeries(t *testing.T) {
	ctx := context.Background()
	const flood, quiet, many = "exflood", "exquiet", 3000
	base := clk.Now().Add(24 * time.Hour).Truncate(time.Second)
	exception := func(ns, name string, expires time.Time) v1alpha1.ControlException {
		var ex v1alpha1.ControlException
		ex.Namespace, ex.Name = ns, name
		ex.Spec.Expires = metav1.NewTime(expires)
		ex.Status.State = v1alpha1.ExceptionActive
		return ex
	}
	t.Cleanup(func() {
		for _, ns := range []string{flood, quiet} {
			metrics.ExceptionExpiry.DeletePartialMatch(prometheus.Labels{"namespace": ns})
			metrics.Exceptions.DeletePartialMatch(prometheus.Labels{"namespace": ns})
		}
	})
	c := failing(t, interceptor.Funcs{List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, list, opts...); err != nil {
			return err
		}
		if l, ok := list.(*v1alpha1.ControlExceptionList); ok {
			// Listed latest first: the tally must find the soonest, not the first.
			for i := many - 1; i >= 0; i-- {
				l.Items = append(l.Items, exception(flood, fmt.Sprintf("waiver-%04d", i), base.Add(time.Duration(i)*time.Minute)))
			}
			for i := range 3 {
				l.Items = append(l.Items, exception(quiet, fmt.Sprintf("waiver-%d", i), base.Add(time.Duration(i)*time.Hour)))
			}
		}
		return nil
	}})
	r := &ControlExceptionReconciler{Client: c}
	if err := r.updateMetrics(ctx, types.NamespacedName{}, nil); err != nil {
		t.Fatal(err)
	}
	check := func(when string, first, last int) {
		t.Helper()
		got := expirySeries(t, flood)
		if len(got) != maxExpirySeries {
			t.Errorf("%s: %s exports %d expiry series, want %d", when, flood, len(got), maxExpirySeries)
		}
		for i := first; i <= last; i++ {
			name := fmt.Sprintf("waiver-%04d", i)
			if want := float64(base.Add(time.Duration(i) * time.Minute).Unix()); got[name] != want {
				t.Errorf("%s: %s/%s, among the %d soonest to expire, exports %v, want %v", when, flood, name, maxExpirySeries, got[name], want)
				return
			}
		}
		if n := len(expirySeries(t, quiet)); n != 3 {
			t.Errorf("%s: %s exports %d expiry series, want its 3", when, quiet, n)
		}
	}
	check("listed", 0, maxExpirySeries-1)

	// The soonest expires (or is deleted): the next comes in.
	gone := exception(flood, "waiver-0000", base)
	gone.Status.State = v1alpha1.ExceptionExpired
	if err := r.updateMetrics(ctx, client.ObjectKeyFromObject(&gone), &gone); err != nil {
		t.Fatal(err)
	}
	check("the soonest expired", 1, maxExpirySeries)
	if err := r.updateMetrics(ctx, types.NamespacedName{Namespace: flood, Name: "waiver-0001"}, nil); err != nil {
		t.Fatal(err)
	}
	check("the next deleted", 2, maxExpirySeries+1)

	// One changed to expire later than the others leaves; the next comes in.
	later := exception(flood, "waiver-0002", base.Add(365*24*time.Hour))
	if err := r.updateMetrics(ctx, client.ObjectKeyFromObject(&later), &later); err != nil {
		t.Fatal(err)
	}
	check("one extended", 3, maxExpirySeries+2)
	if _, ok := expirySeries(t, flood)["waiver-0002"]; ok {
		t.Errorf("%s/waiver-0002, extended past %d others, still exports its expiry", flood, maxExpirySeries)
	}
}
