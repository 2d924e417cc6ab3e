// Package scaletest measures the operator, run as its own process the way users run it, against
// a real API server holding thousands of workloads.
//
//	go test ./internal/scaletest -run '^$' -bench . -benchtime 3x
//
// SOC2_SCALE_WORKLOADS, SOC2_SCALE_NAMESPACES and SOC2_SCALE_RBAC size the cluster (default
// 2,000 workloads in 20 namespaces, no extra RBAC objects); `make test-scale` runs 10,000
// workloads in 100 namespaces with 1,000 RBAC objects.
package scaletest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// cluster is set up once per test process, whatever the number of benchmark runs.
type cluster struct {
	env      *envtest.Environment
	k8s      client.Client
	mgr      *testenv.ManagerProcess
	opts     testgen.Options
	objects  int
	converge time.Duration
	writes   float64
	largest  int
	peakRSS  int64
	dir      string // the admin kubeconfig's, removed at the end
	err      error
}

var (
	setupOnce sync.Once
	shared    cluster
)

// TestMain sets controller-runtime's logger (testenv.Main): without one, the first warning the
// API server sends back prints a stack trace.
func TestMain(m *testing.M) {
	testenv.Main(m, func(m *testing.M) (int, error) {
		code := m.Run()
		if shared.mgr != nil {
			_ = shared.mgr.Stop(10 * time.Second)
		}
		if shared.env != nil {
			_ = shared.env.Stop()
		}
		if shared.dir != "" {
			_ = os.RemoveAll(shared.dir)
		}
		return code, nil
	})
}

func setup(b *testing.B) *cluster {
	setupOnce.Do(func() { shared.err = shared.start(b) })
	if shared.err != nil {
		b.Fatal(shared.err)
	}
	return &shared
}

func (c *cluster) start(b *testing.B) error {
	ctx := context.Background()
	c.opts = testgen.Options{
		Workloads:    envInt("SOC2_SCALE_WORKLOADS", 2000),
		Namespaces:   envInt("SOC2_SCALE_NAMESPACES", 20),
		RBACObjects:  envInt("SOC2_SCALE_RBAC", 0),
		FailingEvery: 2,
	}
	bin, err := testenv.BuildOperator()
	if err != nil {
		return err
	}
	env, cfg, err := testenv.Start()
	if err != nil {
		return err
	}
	c.env = env
	cfg.QPS, cfg.Burst = 2000, 4000
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	if c.k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}

	objs := testgen.Generate(c.opts)
	c.objects = len(objs)
	start := time.Now()
	if err := createAll(ctx, c.k8s, objs); err != nil {
		return err
	}
	b.Logf("created %d objects (%d workloads in %d namespaces, %d RBAC objects) in %s",
		len(objs), c.opts.Workloads, c.opts.Namespaces, c.opts.RBACObjects, time.Since(start).Round(time.Millisecond))
	if err := c.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: engine.DefaultAdminNamespace}}); err != nil {
		return err
	}
	profile := &v1alpha1.ComplianceProfile{
		ObjectMeta: metav1.ObjectMeta{Name: "scale"},
		Spec: v1alpha1.ComplianceProfileSpec{NamespaceSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpExists}}}},
	}
	if err := c.k8s.Create(ctx, profile); err != nil {
		return err
	}

	if c.dir, err = os.MkdirTemp("", "soc2-scale-"); err != nil {
		return err
	}
	kubeconfig, err := testenv.AdminKubeconfig(env, c.dir)
	if err != nil {
		return err
	}
	// The operator starts on a cluster that already holds everything: the time until every
	// report is written includes start-up, the cache's initial list and the evaluation.
	start = time.Now()
	if c.mgr, err = testenv.StartManager(bin, kubeconfig, "--admin-namespace", engine.DefaultAdminNamespace); err != nil {
		return err
	}
	if err := c.waitReports(ctx, 10*time.Minute); err != nil {
		return err
	}
	c.converge = time.Since(start)
	if c.writes, err = c.mgr.Metric(ctx, "soc2_operator_report_writes_total"); err != nil {
		return err
	}
	list := &v1alpha1.ComplianceReportList{}
	if err := c.k8s.List(ctx, list); err != nil {
		return err
	}
	for i := range list.Items {
		data, err := json.Marshal(&list.Items[i])
		if err != nil {
			return err
		}
		c.largest = max(c.largest, len(data))
	}
	return nil
}

// waitReports waits until every namespace has a report with a status.
func (c *cluster) waitReports(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		list := &v1alpha1.ComplianceReportList{}
		if err := c.k8s.List(ctx, list); err == nil {
			done := 0
			for _, r := range list.Items {
				if r.Status.Result != "" {
					done++
				}
			}
			if done == c.opts.Namespaces {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("not every report was written within %s\n%s", timeout, c.mgr.Output())
}

// createAll creates the namespaces and the PriorityClass first, then everything else, each
// batch from 16 workers.
func createAll(ctx context.Context, k8s client.Client, objs []testgen.Object) error {
	var first, rest []client.Object
	for _, o := range objs {
		if o.Kind == "Namespace" || o.Kind == "PriorityClass" {
			first = append(first, o.KubeObject.(client.Object))
		} else {
			rest = append(rest, o.KubeObject.(client.Object))
		}
	}
	if err := createParallel(ctx, k8s, first); err != nil {
		return err
	}
	return createParallel(ctx, k8s, rest)
}

func createParallel(ctx context.Context, k8s client.Client, objs []client.Object) error {
	work := make(chan client.Object)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := k8s.Create(ctx, o); err != nil {
					select {
					case errs <- fmt.Errorf("creating %s/%s: %w", o.GetNamespace(), o.GetName(), err):
					default:
					}
				}
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// BenchmarkOperatorAtScale reports, for the operator process on the real API server: the time
// from start until every namespace's report is written (converge-s), the report writes that
// took (writes), the largest report (largest-report-KiB), the manager's peak resident memory
// (peak-rss-MiB), and, as ns/op, the time from changing one workload until its report shows the
// change.
func BenchmarkOperatorAtScale(b *testing.B) {
	c := setup(b)
	ctx := context.Background()
	// The changed workload: a hardened Deployment in the first namespace.
	ns := c.opts.NamespaceName(1)
	name := fmt.Sprintf("app-%05d", 1)
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := &appsv1.Deployment{}
		if err := c.k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, d); err != nil {
			b.Fatal(err)
		}
		before, err := c.failing(ctx, ns)
		if err != nil {
			b.Fatal(err)
		}
		// Toggle hostNetwork: each run adds or removes a failing finding.
		d.Spec.Template.Spec.HostNetwork = !d.Spec.Template.Spec.HostNetwork
		start := time.Now()
		if err := c.k8s.Update(ctx, d); err != nil {
			b.Fatal(err)
		}
		if err := c.waitFailingChange(ctx, ns, before, 30*time.Second); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.StopTimer()
	rss, err := c.mgr.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "change-ms")
	b.ReportMetric(c.converge.Seconds(), "converge-s")
	b.ReportMetric(c.writes, "writes")
	b.ReportMetric(float64(c.largest)/1024, "largest-report-KiB")
	b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(c.objects), "objects")
}

func (c *cluster) failing(ctx context.Context, ns string) (int32, error) {
	rep := &v1alpha1.ComplianceReport{}
	if err := c.k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "scale"}, rep); err != nil {
		return 0, err
	}
	return rep.Status.Summary.Failing, nil
}

// waitFailingChange waits until the namespace's report counts a different number of failing
// findings (the report lists only the most severe, so the count is what shows any change).
func (c *cluster) waitFailingChange(ctx context.Context, ns string, before int32, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if n, err := c.failing(ctx, ns); err == nil && n != before {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the report of %s did not show the change within %s", ns, timeout)
}
