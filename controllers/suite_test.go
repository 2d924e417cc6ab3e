package controllers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// One control plane and one manager for the whole package: tests use their own profiles and
// namespaces so that they do not see each other.
var (
	env        *envtest.Environment
	cfg        *rest.Config
	k8s        client.Client
	scheme     *runtime.Scheme
	metricsURL string
	// operatorCache is the operator's informer cache, for tests of what it keeps.
	operatorCache client.Reader
	// approver is a second user who approves the exceptions tests create as the admin.
	approver client.Client
	// clk is the operator's clock: it stands still unless a test moves it with advance, so that
	// expiries and first-seen times do not depend on how fast the machine runs the tests.
	clk = testingclock.NewFakeClock(time.Now().Truncate(time.Second))
	// resync is Options.Resync: advance sends on it.
	resync = make(chan struct{})
	// approval is Options.Approval, the operator's verdict on its admission policies.
	approval = admissionpolicy.NewVerifier()
	// watched is told of every watch event the profile controller judged (Options.watched).
	watched = &watchLog{queued: map[string][]reconcile.Request{}}
)

// watchLog remembers, by the resourceVersion of the object in each watch event the profile
// controller judged, the requests that event queued. A resourceVersion names one write.
type watchLog struct {
	mu     sync.Mutex
	queued map[string][]reconcile.Request
}

func (l *watchLog) record(obj client.Object, queued []reconcile.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queued[obj.GetResourceVersion()] = append(l.queued[obj.GetResourceVersion()], queued...)
}

// judged waits until the profile controller's watches judged the event of the write that gave
// an object resourceVersion rv, and returns the requests that event queued: once it returns,
// whatever that write will evaluate is in the controller's queue.
func (l *watchLog) judged(t *testing.T, what, rv string) []reconcile.Request {
	t.Helper()
	var queued []reconcile.Request
	eventually(t, 20*time.Second, "the operator judged the watch event of "+what+" (resourceVersion "+rv+")", func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		q, ok := l.queued[rv]
		if !ok {
			return fmt.Errorf("not yet")
		}
		queued = q
		return nil
	})
	return queued
}

// advance moves the operator's clock by d and has it act on the new time at once: every
// profile is evaluated and every exception judged again, as the requeues due by then would
// (controller-runtime counts RequeueAfter in real time, so moving the clock alone requeues
// nothing). Tests poll for the outcome.
func advance(t *testing.T, d time.Duration) {
	t.Helper()
	clk.Step(d)
	select {
	case resync <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("the operator did not take the resync within 10s")
	}
}

// fullEvaluations is how many full evaluations of a profile completed.
func fullEvaluations(t *testing.T, profile string) float64 {
	t.Helper()
	return scrapeCounter(t, `soc2_operator_evaluations_total{outcome="ok",profile="`+profile+`",scope="cluster"}`)
}

// resyncAndWait advances the clock by d and waits until a full evaluation of the profile has
// completed at the new time.
func resyncAndWait(t *testing.T, d time.Duration, profile string) {
	t.Helper()
	before := fullEvaluations(t, profile)
	advance(t, d)
	eventually(t, 20*time.Second, "a full evaluation of "+profile+" after the clock moved", func() error {
		if n := fullEvaluations(t, profile); n <= before {
			return fmt.Errorf("%v full evaluations, as before", n)
		}
		return nil
	})
}

// createApproved creates an exception as the admin and approves it as a second user, as the
// profiles' default exception policy requires.
func createApproved(t *testing.T, ex *v1alpha1.ControlException) {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Create(ctx, ex); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(ex)); err != nil {
		t.Fatal(err)
	}
}

// attestationInterval is how often, by clk, the journal attests each namespace's state.
const attestationInterval = 2 * time.Second

// adminNamespace is the operator's namespace in these tests.
const adminNamespace = engine.DefaultAdminNamespace

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(m *testing.M) (int, error) {
	var err error
	// The PolicyReport CRDs too, as Policy Reporter or Kyverno would have installed them, and
	// Trivy Operator's VulnerabilityReport, OpenShift's Route (a minimal CRD: OpenShift serves
	// Routes from its own API server), a stand-in for Istio's Gateway, stand-ins for Cilium's and
	// Calico's network policies and the Network Policy API's AdminNetworkPolicy and
	// BaselineAdminNetworkPolicy (controllers/testdata/cni), the real CRD of the
	// ClusterNetworkPolicy that replaces them (testenv.ClusterNetworkPolicyCRD), a stand-in for KEDA's ScaledObject
	// (controllers/testdata/keda), one for Argo Rollouts' Rollout
	// (controllers/testdata/argo-rollouts), and the Gateway API's: its
	// experimental channel, a
	// superset of the standard one, so that the fields of default Gateways are kept (a CRD
	// updated while the operator runs would not do: its informers may go on reading objects
	// pruned by the schema their watch began with).
	gatewayAPI, err := testenv.GatewayAPIExperimentalCRDs()
	if err != nil {
		return 0, err
	}
	// The Network Policy API's real ClusterNetworkPolicy CRD (v0.2.0: v1alpha2 only).
	clusterNetworkPolicyCRD, err := testenv.ClusterNetworkPolicyCRD()
	if err != nil {
		return 0, err
	}
	env, cfg, err = testenv.Start(func(e *envtest.Environment) {
		e.CRDDirectoryPaths = append(e.CRDDirectoryPaths, filepath.Join(testenv.RepoRoot(), "config", "policyreport"),
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "trivy"), gatewayAPI,
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "openshift-route"),
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "istio"),
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "cni"),
			clusterNetworkPolicyCRD,
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "keda"),
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "argo-rollouts"),
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "kong"),
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "traefik"))
	})
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()

	scheme = testenv.Scheme(policyreport.AddToScheme)
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return 0, err
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: objectMeta(adminNamespace)}); err != nil {
		return 0, err
	}

	// The evidence journal, on a directory, behind a switch that makes the store fail.
	journalDir, err = os.MkdirTemp("", "soc2-journal-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(journalDir)
	fs, err := journal.NewFileStore(journalDir)
	if err != nil {
		return 0, err
	}
	journalStore = &switchableStore{Store: fs}
	// Dated by the operator's clock, which tests move ahead of the real one: a heartbeat dated
	// by the real clock, ten minutes into a run the machine's load made long, was hours before
	// the records of the tests that had moved it, and every journal read after it failed to
	// verify (ProblemClock).
	queue, err := journal.NewQueue(journal.QueueOptions{Store: journalStore, Cluster: "test", FlushInterval: 100 * time.Millisecond, Identity: "suite",
		Now: clk.Now})
	if err != nil {
		return 0, err
	}
	operator, err := testenv.StartOperator(cfg, testenv.OperatorOptions{
		Scheme:  scheme,
		Cache:   CacheOptions(),
		Metrics: true,
		Setup: func(mgr ctrl.Manager) error {
			return Setup(mgr, Options{
				AdminNamespace:      adminNamespace,
				CoalesceDelay:       100 * time.Millisecond,
				Clock:               clk,
				Resync:              resync,
				Journal:             queue,
				Approval:            approval,
				AttestationInterval: attestationInterval,
				watched:             watched.record,
				// Retries of alerts follow at once: the backoff is internal/alert's to test.
				AlertSleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
			})
		},
	})
	if err != nil {
		return 0, err
	}
	metricsURL = operator.MetricsURL
	operatorCache = operator.Manager.GetCache()
	ctx := context.Background()
	if approver, err = testenv.ApproverClient(env, k8s); err != nil {
		return 0, err
	}
	if err := testenv.WaitAdmissionPolicies(ctx, k8s, adminNamespace, testenv.VerifierTrusts(approval)); err != nil {
		return 0, err
	}
	code := m.Run()
	return code, operator.Stop()
}
