package restarttest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// sinkServer is a webhook alert sink that records the payloads it accepts, and answers 503
// while down.
type sinkServer struct {
	down     atomic.Bool
	attempts atomic.Int64
	mu       sync.Mutex
	alerts   []map[string]any
	server   *httptest.Server
}

func newSinkServer(t *testing.T) *sinkServer {
	s := &sinkServer{}
	s.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		s.attempts.Add(1)
		if s.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.alerts = append(s.alerts, m)
	}))
	t.Cleanup(s.server.Close)
	return s
}

// newFindings are the names of the resources of the NewFinding alerts received.
func (s *sinkServer) newFindings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.alerts {
		if a["event"] == string(v1alpha1.AlertNewFinding) {
			res, _ := a["resource"].(map[string]any)
			out = append(out, fmt.Sprint(res["name"]))
		}
	}
	return out
}

// TestACriticalFindingSwappedWhileTheOperatorWasDownIsNew: a namespace had two privileged
// Deployments, of which its report lists one (maxFindings 1). While the operator was down its
// tenant fixed the unlisted one and made another privileged: two Critical findings as before,
// the same one listed. The restarted operator no longer knew which findings it had seen, and
// compared the listed findings alone with the previous report's: the new Critical finding was
// neither alerted on nor recorded in soc2_operator_finding_opened_timestamp_seconds
// (SOC2NewCriticalFinding). The journal, which survives the restart, says which findings were
// open: the first evaluation after a restart takes those as known, and the rest as new.
func TestACriticalFindingSwappedWhileTheOperatorWasDownIsNew(t *testing.T) {
	const name, ns = "restart-swap", "restart-swap-a"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	store := newStore(t)
	sink := newSinkServer(t)
	createNamespace(t, ns, name)
	for _, d := range []string{"a-listed", "b-fixed"} {
		if err := k8s.Create(ctx, deployment(ns, d, true)); err != nil {
			t.Fatal(err)
		}
	}
	privilegedProfile(t, name, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.MaxFindings = 1
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: sink.server.URL}}}
	})
	critical := func(what string) func(*v1alpha1.ComplianceReport) error {
		return func(rep *v1alpha1.ComplianceReport) error {
			if rep.Status.Summary.Critical != 2 || len(rep.Status.Findings) != 1 || rep.Status.Findings[0].Resource.Name != "a-listed" {
				return fmt.Errorf("%s: %d Critical, listed %v", what, rep.Status.Summary.Critical, rep.Status.Findings)
			}
			return nil
		}
	}

	first := startOperator(t, clk, store)
	waitReport(t, ns, name, "the baseline: two Critical findings, a-listed's listed", critical("baseline"))
	n := fullEvaluations(t, name)
	clk.Step(time.Minute)
	// The journal holds the baseline's open findings before the operator stops.
	eventuallyRecord(t, store, "b-fixed's finding opened in the journal", func(r journal.Record) bool {
		return r.Type == journal.FindingOpened && r.Namespace == ns && r.Finding != nil && r.Finding.Name == "b-fixed"
	})
	first.Stop()

	setPrivileged(t, ns, "b-fixed", false)
	if err := k8s.Create(ctx, deployment(ns, "z-new", true)); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Hour)
	restarted := clk.Now()
	startOperator(t, clk, store)
	waitFullEvaluation(t, name, n)
	waitReport(t, ns, name, "z-new's finding in place of b-fixed's", func(rep *v1alpha1.ComplianceReport) error {
		if rep.Status.LastEvaluated == nil || rep.Status.LastEvaluated.Time.Before(restarted) {
			return fmt.Errorf("lastEvaluated %v", rep.Status.LastEvaluated)
		}
		return critical("after the restart")(rep)
	})
	testenv.Eventually(t, 20*time.Second, "a NewFinding alert on z-new, and on nothing else", func() error {
		if got := sink.newFindings(); len(got) != 1 || got[0] != "z-new" {
			return fmt.Errorf("NewFinding alerts on %v", got)
		}
		return nil
	})
	m := &dto.Metric{}
	if err := metrics.FindingOpened.WithLabelValues(name, ns, string(v1alpha1.SeverityCritical)).Write(m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetGauge().GetValue(); got < float64(restarted.Unix()) {
		t.Errorf("soc2_operator_finding_opened_timestamp_seconds %v, want at least %d (the restart: z-new's finding is new)", got, restarted.Unix())
	}
}

// TestACriticalClusterFindingSwappedWhileTheOperatorWasDownIsNew: as
// TestACriticalFindingSwappedWhileTheOperatorWasDownIsNew, for the cluster-scoped objects. Two
// ClusterRoleBindings granted cluster-admin, of which the profile's clusterFindings list one
// (maxFindings 1). While the operator was down one was deleted and another made: two Critical
// findings as before, the same one listed. The journal records namespaces' findings only, and
// the restarted operator compared the listed findings alone with those the status listed
// before: the new cluster-admin binding was neither alerted on nor recorded in
// soc2_operator_finding_opened_timestamp_seconds{namespace=""}.
func TestACriticalClusterFindingSwappedWhileTheOperatorWasDownIsNew(t *testing.T) {
	const name = "restart-cluster-swap"
	ctx := context.Background()
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	store := newStore(t)
	sink := newSinkServer(t)
	binding := func(n string) *rbacv1.ClusterRoleBinding { return userBinding(n, "cluster-admin", nil) }
	create := func(n string) { t.Helper(); createClusterAdminBinding(t, n) }
	create(name + "-a-listed")
	create(name + "-b-fixed")
	privilegedProfile(t, name, func(p *v1alpha1.ComplianceProfile) {
		for i := range p.Spec.Checks {
			if p.Spec.Checks[i].ID == "rbac-cluster-admin-binding" {
				p.Spec.Checks = append(p.Spec.Checks[:i], p.Spec.Checks[i+1:]...)
				break
			}
		}
		no := false
		p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: "wl-privileged", Enabled: &no})
		p.Spec.MaxFindings = 1
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: sink.server.URL}}}
	})
	critical := func(what string) {
		t.Helper()
		testenv.Eventually(t, 30*time.Second, what, func() error {
			p := &v1alpha1.ComplianceProfile{}
			if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
				return err
			}
			s := &p.Status
			if s.ClusterFindingsFailing != 2 || len(s.ClusterFindings) != 1 || s.ClusterFindings[0].Resource.Name != name+"-a-listed" {
				return fmt.Errorf("%d failing, listed %v", s.ClusterFindingsFailing, s.ClusterFindings)
			}
			return nil
		})
	}

	first := startOperator(t, clk, store)
	critical("the baseline: two cluster-admin bindings, a-listed's listed")
	// The Lease holds the baseline's two findings before the operator stops (it is written
	// after the status: a process that stops in between leaves the next one the old comparison).
	testenv.Eventually(t, 30*time.Second, "the baseline's two findings kept on the Lease", func() error {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: adminNamespace, Name: "soc2-operator-evaluations"}, lease); err != nil {
			return err
		}
		_, keys, _ := strings.Cut(lease.Annotations["cluster-failing.compliance.soc2-operator.io/"+name], " ")
		if len(keys) != 2*16 {
			return fmt.Errorf("annotations %v", lease.Annotations)
		}
		return nil
	})
	clk.Step(time.Minute)
	first.Stop()
	n := fullEvaluations(t, name)

	if err := k8s.Delete(ctx, binding(name+"-b-fixed")); err != nil {
		t.Fatal(err)
	}
	create(name + "-z-new")
	clk.Step(time.Hour)
	restarted := clk.Now()
	startOperator(t, clk, store)
	waitFullEvaluation(t, name, n) // one that began after the restart
	critical("z-new's finding in place of b-fixed's")
	testenv.Eventually(t, 20*time.Second, "a NewFinding alert on z-new, and on nothing else", func() error {
		if got := sink.newFindings(); len(got) != 1 || got[0] != name+"-z-new" {
			return fmt.Errorf("NewFinding alerts on %v", got)
		}
		return nil
	})
	m := &dto.Metric{}
	if err := metrics.FindingOpened.WithLabelValues(name, "", string(v1alpha1.SeverityCritical)).Write(m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetGauge().GetValue(); got < float64(restarted.Unix()) {
		t.Errorf("soc2_operator_finding_opened_timestamp_seconds{namespace=\"\"} %v, want at least %d (the restart: z-new's finding is new)", got, restarted.Unix())
	}
}
