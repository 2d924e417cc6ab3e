package scaletest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// BenchmarkOperatorBesideTenantConfigMaps measures what a tenant's ConfigMaps cost the operator
// process in memory: it starts the operator on a cluster with one tenant namespace, reads its
// live heap (after a forced GC, through --pprof-bind-address), has the tenant create
// SOC2_SCALE_CONFIGMAPS ConfigMaps (default 200) of SOC2_SCALE_CONFIGMAP_KIB KiB each (default
// 512) and one that holds a credential, waits until the namespace's report fails that one (the
// operator has cached and judged them all), and reads the live heap again. It reports the live
// heap before and after (heap-before-MiB, heap-after-MiB), their difference per ConfigMap
// (heap-per-configmap-KiB) and the manager's peak resident memory (peak-rss-MiB).
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantConfigMaps -benchtime 1x
//
// The measurement is made once per test process, whatever the number of benchmark runs (make
// test-scale runs every benchmark of the package with -benchtime 5x).
func BenchmarkOperatorBesideTenantConfigMaps(b *testing.B) {
	configMapsOnce.Do(func() { configMapsResult = measureTenantConfigMaps(b) })
	r := configMapsResult
	if r == nil {
		b.Fatal("the measurement failed in an earlier run")
	}
	b.ReportMetric(r.before/(1<<20), "heap-before-MiB")
	b.ReportMetric(r.after/(1<<20), "heap-after-MiB")
	b.ReportMetric((r.after-r.before)/float64(r.count+1)/1024, "heap-per-configmap-KiB")
	b.ReportMetric(r.rss/(1<<20), "peak-rss-MiB")
}

// configMapsMeasure is what BenchmarkOperatorBesideTenantConfigMaps measured: the live heap
// before and after, the peak resident memory, in bytes, and the number of ConfigMaps.
type configMapsMeasure struct {
	before, after, rss float64
	count              int
}

var (
	configMapsOnce   sync.Once
	configMapsResult *configMapsMeasure
)

func measureTenantConfigMaps(b *testing.B) *configMapsMeasure {
	count := envInt("SOC2_SCALE_CONFIGMAPS", 200)
	kib := envInt("SOC2_SCALE_CONFIGMAP_KIB", 512)
	random := rand.New(rand.NewPCG(3, 4))
	return measureTenantObjects(b, count, fmt.Sprintf("ConfigMaps of %d KiB", kib), func(ns string, i int) client.Object {
		return testgen.HarmlessConfigMap(ns, fmt.Sprintf("settings-%d", i), kib<<10, random)
	})
}

// measureTenantObjects measures the operator's live heap before and after a tenant creates
// count objects (made by make) and then a ConfigMap that holds a credential, once the
// namespace's report fails that one.
func measureTenantObjects(b *testing.B, count int, what string, make func(ns string, i int) client.Object) *configMapsMeasure {
	return measureTenantCreated(b, count, what, func(ctx context.Context, k8s client.Client, ns string, i int) error {
		return k8s.Create(ctx, make(ns, i))
	})
}

// measureTenantCreated is measureTenantObjects with the tenant's i-th objects created by create.
func measureTenantCreated(b *testing.B, count int, what string, create func(ctx context.Context, k8s client.Client, ns string, i int) error) *configMapsMeasure {
	ctx := context.Background()
	bin, err := testenv.BuildOperator()
	if err != nil {
		b.Fatal(err)
	}
	env, cfg, err := testenv.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = env.Stop() })
	cfg.QPS, cfg.Burst = 2000, 4000
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	k8s, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		b.Fatal(err)
	}
	const ns = "tenant"
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: engine.DefaultAdminNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"team": ns}}},
		&v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "scale"},
			Spec: v1alpha1.ComplianceProfileSpec{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": ns}}}},
	} {
		if err := k8s.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "soc2-configmaps-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	kubeconfig, err := testenv.AdminKubeconfig(env, dir)
	if err != nil {
		b.Fatal(err)
	}
	pprofPort, err := testenv.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	pprofURL := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap?gc=1&debug=1", pprofPort)
	mgr, err := testenv.StartManager(bin, kubeconfig, "--admin-namespace", engine.DefaultAdminNamespace,
		"--pprof-bind-address", fmt.Sprintf("127.0.0.1:%d", pprofPort))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mgr.Stop(10 * time.Second) })
	if err := mgr.WaitReady(2 * time.Minute); err != nil {
		b.Fatal(err)
	}
	report := types.NamespacedName{Namespace: ns, Name: "scale"}
	testenv.Eventually(b, 2*time.Minute, "the tenant's first report", func() error {
		rep := &v1alpha1.ComplianceReport{}
		if err := k8s.Get(ctx, report, rep); err != nil {
			return err
		}
		if rep.Status.Result == "" {
			return fmt.Errorf("no status yet")
		}
		return nil
	})
	before, err := liveHeap(pprofURL)
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	for i := range count {
		if err := create(ctx, k8s, ns, i); err != nil {
			b.Fatal(err)
		}
	}
	leak := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leak"},
		Data: map[string]string{"database.properties": "db.user=orders\ndb.password=Orders-2024-x9Kq\n"}}
	if err := k8s.Create(ctx, leak); err != nil {
		b.Fatal(err)
	}
	b.Logf("created %d %s in %s", count, what, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	testenv.Eventually(b, 5*time.Minute, "the report fails ConfigMap leak", func() error {
		rep := &v1alpha1.ComplianceReport{}
		if err := k8s.Get(ctx, report, rep); err != nil {
			return err
		}
		for _, f := range rep.Status.Findings {
			if f.Check == "sec-configmap-credentials" && f.Resource.Name == "leak" && f.Result == v1alpha1.ResultFail {
				return nil
			}
		}
		return fmt.Errorf("no failing sec-configmap-credentials finding on ConfigMap leak")
	})
	b.StopTimer()
	after, err := liveHeap(pprofURL)
	if err != nil {
		b.Fatal(err)
	}
	rss, err := mgr.PeakRSS()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("live heap %.1f MiB before, %.1f MiB after %d %s; peak RSS %.1f MiB",
		float64(before)/(1<<20), float64(after)/(1<<20), count, what, float64(rss)/(1<<20))
	return &configMapsMeasure{before: float64(before), after: float64(after), rss: float64(rss), count: count}
}

// BenchmarkOperatorBesideTenantAnnotations measures what a tenant's annotations cost the
// operator process in memory, as BenchmarkOperatorBesideTenantConfigMaps does for ConfigMaps:
// the tenant creates SOC2_SCALE_SERVICES Services (default 200), each with 64 annotations of
// 4000 bytes (252 KiB, just under the API server's 256 KiB bound). It reports the live heap
// before and after and their difference per Service (heap-per-service-KiB).
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantAnnotations -benchtime 1x
func BenchmarkOperatorBesideTenantAnnotations(b *testing.B) {
	annotationsOnce.Do(func() {
		count := envInt("SOC2_SCALE_SERVICES", 200)
		annotationsResult = measureTenantObjects(b, count, "Services with 252 KiB of annotations", func(ns string, i int) client.Object {
			a := map[string]string{}
			for j := range 64 {
				a[fmt.Sprintf("tenant.example.com/blob-%02d", j)] = strings.Repeat(strconv.Itoa((i+j)%10), 4000)
			}
			return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("web-%d", i), Annotations: a},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
		})
	})
	r := annotationsResult
	if r == nil {
		b.Fatal("the measurement failed in an earlier run")
	}
	b.ReportMetric(r.before/(1<<20), "heap-before-MiB")
	b.ReportMetric(r.after/(1<<20), "heap-after-MiB")
	b.ReportMetric((r.after-r.before)/float64(r.count+1)/1024, "heap-per-service-KiB")
	b.ReportMetric(r.rss/(1<<20), "peak-rss-MiB")
}

var (
	annotationsOnce   sync.Once
	annotationsResult *configMapsMeasure
)

// BenchmarkOperatorBesideTenantIngressAnnotations measures what a tenant's Ingress annotations
// cost the operator process in memory, as BenchmarkOperatorBesideTenantAnnotations does for
// Services: the tenant creates SOC2_SCALE_INGRESSES Ingresses (default 200), each with 64
// annotations of 4000 bytes (252 KiB), two of them ingress-nginx snippets, which
// net-ingress-snippets reads (blank, so that the Ingresses' findings do not push the ConfigMap
// the measurement waits for out of the report's most severe). It reports the live heap before and after and their difference
// per Ingress (heap-per-ingress-KiB).
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantIngressAnnotations -benchtime 1x
func BenchmarkOperatorBesideTenantIngressAnnotations(b *testing.B) {
	ingressesOnce.Do(func() {
		count := envInt("SOC2_SCALE_INGRESSES", 200)
		ingressesResult = measureTenantObjects(b, count, "Ingresses with 252 KiB of annotations", func(ns string, i int) client.Object {
			a := map[string]string{}
			for j := range 62 {
				a[fmt.Sprintf("tenant.example.com/blob-%02d", j)] = strings.Repeat(strconv.Itoa((i+j)%10), 4000)
			}
			for _, k := range []string{"configuration-snippet", "server-snippet"} {
				a["nginx.ingress.kubernetes.io/"+k] = strings.Repeat(" \n", 2000)
			}
			name := fmt.Sprintf("web-%d", i)
			host := name + ".example.com"
			return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: a},
				Spec: networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: name + "-tls"}},
					Rules: []networkingv1.IngressRule{{Host: host}}}}
		})
	})
	r := ingressesResult
	if r == nil {
		b.Fatal("the measurement failed in an earlier run")
	}
	b.ReportMetric(r.before/(1<<20), "heap-before-MiB")
	b.ReportMetric(r.after/(1<<20), "heap-after-MiB")
	b.ReportMetric((r.after-r.before)/float64(r.count+1)/1024, "heap-per-ingress-KiB")
	b.ReportMetric(r.rss/(1<<20), "peak-rss-MiB")
}

var (
	ingressesOnce   sync.Once
	ingressesResult *configMapsMeasure
)

// BenchmarkOperatorBesideTenantEnv measures what a tenant's env values cost the operator
// process in memory, as BenchmarkOperatorBesideTenantAnnotations does for annotations: the
// tenant creates SOC2_SCALE_DEPLOYMENTS Deployments (default 100) whose container has 64 env
// values of 8000 bytes (500 KiB; harmless text, which sec-literal-env-credentials judges). In
// a cluster each Deployment's ReplicaSet and Pods hold the same env again; envtest runs no
// controllers, so only the Deployments are measured. It reports the live heap before and
// after and their difference per Deployment (heap-per-deployment-KiB).
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantEnv -benchtime 1x
func BenchmarkOperatorBesideTenantEnv(b *testing.B) {
	envOnce.Do(func() {
		envResult = measureTenantEnv(b, "", "Deployments with 500 KiB of env values")
	})
	reportTenantEnv(b, envResult)
}

// BenchmarkOperatorBesideTenantEnvReferencingNothing is BenchmarkOperatorBesideTenantEnv with
// every env value holding a $(VAR) reference to a variable the container does not define,
// which the kubelet leaves as it is: the way a tenant kept every value whole in the operator's
// cache before it told a reference to a defined variable from one to nothing.
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantEnvReferencingNothing -benchtime 1x
func BenchmarkOperatorBesideTenantEnvReferencingNothing(b *testing.B) {
	envNothingOnce.Do(func() {
		envNothingResult = measureTenantEnv(b, "$(UNDEFINED) ", "Deployments with 500 KiB of env values referencing nothing")
	})
	reportTenantEnv(b, envNothingResult)
}

// BenchmarkOperatorBesideTenantEnvStaleApplied is BenchmarkOperatorBesideTenantEnv with each
// Deployment's kubectl last-applied-configuration annotation holding one env entry its spec
// does not (as kubectl set env or a patch leaves it): the way a tenant kept every value whole
// in the operator's cache before it compared the annotation with the spec through stand-ins.
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantEnvStaleApplied -benchtime 1x
func BenchmarkOperatorBesideTenantEnvStaleApplied(b *testing.B) {
	envStaleOnce.Do(func() {
		envStaleResult = measureTenantEnvAnnotated(b, "", map[string]string{corev1.LastAppliedConfigAnnotation: `{"apiVersion":"apps/v1","kind":"Deployment",` +
			`"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"OLD","value":"removed"}]}]}}}}`},
			"Deployments with 500 KiB of env values and a stale last-applied annotation")
	})
	reportTenantEnv(b, envStaleResult)
}

// BenchmarkOperatorBesideTenantEnvPaths is BenchmarkOperatorBesideTenantEnv with every env value
// beginning with /, which the cache kept whole as a path that might name a file of a ConfigMap
// volume, though the container mounts none.
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantEnvPaths -benchtime 1x
func BenchmarkOperatorBesideTenantEnvPaths(b *testing.B) {
	envPathsOnce.Do(func() {
		envPathsResult = measureTenantEnv(b, "/", "Deployments with 500 KiB of env values beginning with /")
	})
	reportTenantEnv(b, envPathsResult)
}

var (
	envPathsOnce   sync.Once
	envPathsResult *configMapsMeasure
)

// measureTenantEnv is BenchmarkOperatorBesideTenantEnv's measurement, each env value beginning
// with prefix.
func measureTenantEnv(b *testing.B, prefix, what string) *configMapsMeasure {
	return measureTenantEnvAnnotated(b, prefix, nil, what)
}

// measureTenantEnvAnnotated is measureTenantEnv with each Deployment annotated so.
func measureTenantEnvAnnotated(b *testing.B, prefix string, annotations map[string]string, what string) *configMapsMeasure {
	count := envInt("SOC2_SCALE_DEPLOYMENTS", 100)
	return measureTenantObjects(b, count, what, func(ns string, i int) client.Object {
		var env []corev1.EnvVar
		for j := range 64 {
			env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", j), Value: prefix + strings.Repeat(strconv.Itoa((i+j)%10)+" ", 4000-len(prefix)/2)})
		}
		labels := map[string]string{"app": fmt.Sprintf("web-%d", i)}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("web-%d", i), Annotations: annotations},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1.0", Env: env}}}}}}
	})
}

// reportTenantEnv reports the measurement r of BenchmarkOperatorBesideTenantEnv or its variant.
func reportTenantEnv(b *testing.B, r *configMapsMeasure) {
	if r == nil {
		b.Fatal("the measurement failed in an earlier run")
	}
	b.ReportMetric(r.before/(1<<20), "heap-before-MiB")
	b.ReportMetric(r.after/(1<<20), "heap-after-MiB")
	b.ReportMetric((r.after-r.before)/float64(r.count+1)/1024, "heap-per-deployment-KiB")
	b.ReportMetric(r.rss/(1<<20), "peak-rss-MiB")
}

var (
	envOnce          sync.Once
	envResult        *configMapsMeasure
	envNothingOnce   sync.Once
	envNothingResult *configMapsMeasure
	envStaleOnce     sync.Once
	envStaleResult   *configMapsMeasure
)

// liveHeap is the operator's live heap: HeapAlloc of the runtime's statistics right after the
// garbage collection that /debug/pprof/heap?gc=1 runs.
func liveHeap(url string) (int64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no HeapAlloc in %s", url)
}

// BenchmarkOperatorBesideTenantArgs is BenchmarkOperatorBesideTenantEnv with the tenant's text
// in the container's args instead of its env: 64 arguments of 8000 bytes (500 KiB; harmless
// text), which the operator's cache keeps whole (sec-literal-env-credentials, the comparison of
// a Pod with its template and the $(VAR) and ConfigMap file references read them). Its 6,400
// arguments are 10 distinct texts, which the cache keeps once each (checks.ShareCommandLines):
// BenchmarkOperatorBesideTenantArgsDistinct measures text written anew in each Deployment.
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantArgs -benchtime 1x
func BenchmarkOperatorBesideTenantArgs(b *testing.B) {
	argsOnce.Do(func() {
		count := envInt("SOC2_SCALE_DEPLOYMENTS", 100)
		argsResult = measureTenantObjects(b, count, "Deployments with 500 KiB of args", func(ns string, i int) client.Object {
			return argsDeployment(ns, i, func(j int) string { return strings.Repeat(strconv.Itoa((i+j)%10)+" ", 4000) })
		})
	})
	reportTenantEnv(b, argsResult)
}

// argsDeployment is the i-th Deployment of BenchmarkOperatorBesideTenantArgs, its j-th argument
// arg(j).
func argsDeployment(ns string, i int, arg func(j int) string) *appsv1.Deployment {
	var args []string
	for j := range 64 {
		args = append(args, arg(j))
	}
	labels := map[string]string{"app": fmt.Sprintf("web-%d", i)}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("web-%d", i)},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example/web:1.0", Command: []string{"/web"}, Args: args}}}}}}
}

// distinctArg is an argument of 8000 bytes no other Deployment i or argument j holds.
func distinctArg(i, j int) string {
	return fmt.Sprintf("%04d-%02d ", i, j) + strings.Repeat(strconv.Itoa((i+j)%10)+" ", 3996)
}

// BenchmarkOperatorBesideTenantArgsDistinct is BenchmarkOperatorBesideTenantArgs with every
// argument of every Deployment a text of its own: the operator's cache shares the bytes of
// equal command lines among the objects that hold them (checks.ShareCommandLines), which the
// repeated text of BenchmarkOperatorBesideTenantArgs (10 distinct arguments in all) measures,
// not a tenant's text written anew for each Deployment.
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantArgsDistinct -benchtime 1x
func BenchmarkOperatorBesideTenantArgsDistinct(b *testing.B) {
	argsDistinctOnce.Do(func() {
		count := envInt("SOC2_SCALE_DEPLOYMENTS", 100)
		argsDistinctResult = measureTenantObjects(b, count, "Deployments with 500 KiB of args of their own", func(ns string, i int) client.Object {
			return argsDeployment(ns, i, func(j int) string { return distinctArg(i, j) })
		})
	})
	reportTenantEnv(b, argsDistinctResult)
}

// BenchmarkOperatorBesideTenantArgsReplicated is BenchmarkOperatorBesideTenantArgsDistinct
// with each Deployment's ReplicaSet and its SOC2_SCALE_REPLICAS Pods (default 3) beside it, as
// a cluster's controllers make them (envtest runs none: the benchmark creates them, owned as
// the controllers own them), for SOC2_SCALE_DEPLOYMENTS Deployments (default 20): each holds
// the Deployment's 500 KiB of args again. heap-per-deployment-KiB is per Deployment with its
// ReplicaSet and Pods.
//
//	go test ./internal/scaletest -run '^$' -bench OperatorBesideTenantArgsReplicated -benchtime 1x
func BenchmarkOperatorBesideTenantArgsReplicated(b *testing.B) {
	argsReplicatedOnce.Do(func() {
		count := envInt("SOC2_SCALE_DEPLOYMENTS", 20)
		replicas := envInt("SOC2_SCALE_REPLICAS", 3)
		what := fmt.Sprintf("Deployments with 500 KiB of args of their own, each with a ReplicaSet and %d Pods", replicas)
		argsReplicatedResult = measureTenantCreated(b, count, what, func(ctx context.Context, k8s client.Client, ns string, i int) error {
			d := argsDeployment(ns, i, func(j int) string { return distinctArg(i, j) })
			if err := k8s.Create(ctx, d); err != nil {
				return err
			}
			owner := func(kind, name string, uid types.UID) []metav1.OwnerReference {
				yes := true
				return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: &yes}}
			}
			rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: d.Name + "-5d8f9c", Labels: d.Spec.Template.Labels,
				OwnerReferences: owner("Deployment", d.Name, d.UID)},
				Spec: appsv1.ReplicaSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template}}
			if err := k8s.Create(ctx, rs); err != nil {
				return err
			}
			for r := range replicas {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", rs.Name, r), Labels: d.Spec.Template.Labels,
					OwnerReferences: owner("ReplicaSet", rs.Name, rs.UID)}, Spec: d.Spec.Template.Spec}
				if err := k8s.Create(ctx, pod); err != nil {
					return err
				}
			}
			return nil
		})
	})
	reportTenantEnv(b, argsReplicatedResult)
}

var (
	argsOnce             sync.Once
	argsResult           *configMapsMeasure
	argsDistinctOnce     sync.Once
	argsDistinctResult   *configMapsMeasure
	argsReplicatedOnce   sync.Once
	argsReplicatedResult *configMapsMeasure
)
