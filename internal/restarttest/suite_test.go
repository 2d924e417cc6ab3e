// Package restarttest stops and starts the operator against one API server, as a rollout, a
// crash or a failover does, and asserts what the reports and the evidence journal say about the
// time no operator was observing: a report written before the stop, a change made while no
// operator ran, and the interval between. Each test starts and stops its own operators (the
// reconcilers in process, on one fake clock) and uses its own profile and namespaces.
package restarttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

const adminNamespace = engine.DefaultAdminNamespace

var (
	env    *envtest.Environment
	cfg    *rest.Config
	k8s    client.Client
	scheme *runtime.Scheme
	// approver is a second user who approves the exceptions tests create as the admin.
	approver client.Client
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(m *testing.M) (int, error) {
	e, c, err := testenv.Start()
	if err != nil {
		return 0, err
	}
	defer func() { _ = e.Stop() }()
	env, cfg = e, c
	scheme = testenv.Scheme()
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: adminNamespace}}); err != nil {
		return 0, err
	}
	if approver, err = testenv.ApproverClient(env, k8s); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// operator is one run of the operator: started, then stopped by the test.
type operator struct {
	t    *testing.T
	op   *testenv.Operator
	stop bool
	// approval is the operator's verdict on its admission policies.
	approval *admissionpolicy.Verifier
}

// started counts the operators started, to tell their journal records apart.
var started atomic.Int64

// startOperator starts the operator's reconcilers on clk, journaling to store (nil: off), with
// the options changed by mutate, and stops it at the end of the test unless the test stopped it.
func startOperator(t *testing.T, clk *testingclock.FakeClock, store journal.Store, mutate ...func(*controllers.Options)) *operator {
	t.Helper()
	var queue *journal.Queue
	if store != nil {
		var err error
		queue, err = journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "restart", FlushInterval: 100 * time.Millisecond,
			Identity: fmt.Sprintf("%s#%d", t.Name(), started.Add(1)), Catalogue: checks.Version, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
	}
	approval := admissionpolicy.NewVerifier()
	op, err := testenv.StartOperator(cfg, testenv.OperatorOptions{
		Scheme: scheme, Cache: controllers.CacheOptions(), Restartable: true,
		Setup: func(mgr ctrl.Manager) error {
			opts := controllers.Options{AdminNamespace: adminNamespace, CoalesceDelay: 100 * time.Millisecond,
				Clock: clk, Journal: queue, AttestationInterval: time.Hour, Approval: approval}
			for _, m := range mutate {
				m(&opts)
			}
			return controllers.Setup(mgr, opts)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := &operator{t: t, op: op, approval: approval}
	t.Cleanup(func() {
		if !o.stop {
			_ = o.op.Stop()
		}
	})
	return o
}

// Stop stops the operator as a rollout does (its context cancelled: the journal records the stop).
func (o *operator) Stop() {
	o.t.Helper()
	o.stop = true
	if err := o.op.Stop(); err != nil {
		o.t.Fatal(err)
	}
}

// fullEvaluations is how many full evaluations of the profile completed in this process.
func fullEvaluations(t *testing.T, profile string) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := metrics.Evaluations.WithLabelValues(profile, "cluster", "ok").Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// waitFullEvaluation waits until a full evaluation of the profile completed after before.
func waitFullEvaluation(t *testing.T, profile string, before float64) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "a full evaluation of "+profile, func() error {
		if n := fullEvaluations(t, profile); n <= before {
			return fmt.Errorf("%v full evaluations", n)
		}
		return nil
	})
}

// privilegedProfile is a profile of namespaces labelled name=true that runs only wl-privileged;
// mutate, when given, changes it before it is created.
func privilegedProfile(t *testing.T, name string, mutate ...func(*v1alpha1.ComplianceProfile)) {
	t.Helper()
	p := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ComplianceProfileSpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{name: "true"}}}}
	no := false
	for _, c := range checks.Catalogue() {
		if c.ID != "wl-privileged" {
			p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
		}
	}
	for _, m := range mutate {
		m(p)
	}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
}

func createNamespace(t *testing.T, name, label string) {
	t.Helper()
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{label: "true"}}}); err != nil {
		t.Fatal(err)
	}
}

// deployment is a Deployment whose container runs privileged or not.
func deployment(ns, name string, privileged bool) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0.0",
					SecurityContext: &corev1.SecurityContext{Privileged: &privileged}}}},
			},
		},
	}
}

func setPrivileged(t *testing.T, ns, name string, privileged bool) {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = &privileged
	if err := k8s.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// waitReport waits until the namespace's report satisfies ok, and returns it.
func waitReport(t *testing.T, ns, profile, what string, ok func(*v1alpha1.ComplianceReport) error) *v1alpha1.ComplianceReport {
	t.Helper()
	rep := &v1alpha1.ComplianceReport{}
	testenv.Eventually(t, 30*time.Second, what, func() error {
		if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: profile}, rep); err != nil {
			return err
		}
		return ok(rep)
	})
	return rep
}

func result(want v1alpha1.ComplianceState) func(*v1alpha1.ComplianceReport) error {
	return func(rep *v1alpha1.ComplianceReport) error {
		if rep.Status.Result != want {
			return fmt.Errorf("result %q", rep.Status.Result)
		}
		return nil
	}
}

// records reads every record of the journal.
func records(t *testing.T, store journal.Store) []journal.Record {
	t.Helper()
	var out []journal.Record
	if _, err := journal.Scan(context.Background(), store, journal.ScanOptions{Cluster: "restart", OnRecord: func(line []byte) error {
		var rec journal.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		out = append(out, rec)
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	return out
}

func describe(recs []journal.Record) string {
	var lines []string
	for _, r := range recs {
		line := r.Time.UTC().Format(time.RFC3339) + " " + string(r.Type) + " " + r.Namespace
		if r.Operator != nil {
			line += " by " + r.Operator.Identity
		}
		if a := r.Attestation; a != nil {
			line += " evaluated " + a.Evaluated.UTC().Format(time.RFC3339)
			for _, c := range a.Criteria {
				line += " " + c.Criterion + "=" + c.State
			}
		}
		if r.Criterion != nil {
			line += " " + r.Criterion.Criterion + "->" + r.Criterion.To
		}
		if r.Interval != nil {
			line += " " + r.Interval.From.UTC().Format(time.RFC3339) + ".." + r.Interval.To.UTC().Format(time.RFC3339)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func newStore(t *testing.T) journal.Store {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "journal")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := journal.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func k8sGetReport(ns, profile string, rep *v1alpha1.ComplianceReport) error {
	return k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: profile}, rep)
}
