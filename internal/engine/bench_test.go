package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// BenchmarkEvaluate10000Workloads evaluates every built-in check over 10,000 generated
// workloads of mixed kinds in 100 namespaces, half of them failing many checks, with 1,000
// RBAC objects, network policies, disruption budgets, services and 100 exceptions. Run it with
// -cpu 1 for the one-core figure; the target is under one second per evaluation.
// keep-passing=false is the operator's mode (passes are counted, not kept); true is scan's.
func BenchmarkEvaluate10000Workloads(b *testing.B) {
	const workloads = 10000
	gen := testgen.Generate(testgen.Options{Namespaces: 100, Workloads: workloads, FailingEvery: 2, RBACObjects: 1000})
	objs := testgen.EngineObjects(gen)
	plan := engine.Compile(checks.Catalogue(), nil)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var exceptions []*v1alpha1.ControlException
	for i := 0; i < 100; i++ {
		exceptions = append(exceptions, &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ex-%d", i), Namespace: fmt.Sprintf("team-%03d", i)},
			Spec: v1alpha1.ControlExceptionSpec{
				Checks: []string{"wl-host-network"}, Reason: "benchmark exception", Owner: "bench",
				Expires: metav1.NewTime(now.Add(24 * time.Hour)),
				Match:   v1alpha1.ResourceMatch{Names: []string{"app-0*"}},
			},
		})
	}
	for _, keep := range []bool{false, true} {
		b.Run(fmt.Sprintf("keep-passing=%v", keep), func(b *testing.B) {
			benchEvaluate(b, plan, objs, exceptions, engine.Options{Now: now, KeepPassing: keep}, workloads)
		})
	}
}

func benchEvaluate(b *testing.B, plan *engine.Plan, objs []*engine.Object, exceptions []*v1alpha1.ControlException, opts engine.Options, workloads int) {
	var results, failing int
	for b.Loop() {
		ev := plan.Evaluate(engine.NewInventory(objs, true), exceptions, opts)
		results = len(ev.Results)
		failing = 0
		for _, s := range ev.Summaries {
			failing += s.Failing
		}
	}
	b.ReportMetric(float64(workloads)*float64(b.N)/b.Elapsed().Seconds(), "workloads/s")
	b.ReportMetric(float64(len(objs)), "objects")
	b.ReportMetric(float64(results), "results")
	b.ReportMetric(float64(failing), "failing")
}

// BenchmarkEvaluate10000WorkloadsWithControllerPods is BenchmarkEvaluate10000Workloads with
// what a cluster also holds: every Deployment's ReplicaSet and two Pods of it, as the API server
// stores them (the template plus the node, tolerations and service-account token the system
// adds). Each ReplicaSet and Pod is compared with its controller's template and judged through
// it; the difference from the plain benchmark is the cost of that comparison.
func BenchmarkEvaluate10000WorkloadsWithControllerPods(b *testing.B) {
	const workloads = 10000
	gen := testgen.Generate(testgen.Options{Namespaces: 100, Workloads: workloads, FailingEvery: 2, RBACObjects: 1000})
	objs, made := withControllerPods(testgen.EngineObjects(gen))
	plan := engine.Compile(checks.Catalogue(), nil)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var results, judged int
	for b.Loop() {
		inv := engine.NewInventory(objs, true)
		ev := plan.Evaluate(inv, nil, engine.Options{Now: now})
		results = len(ev.Results)
		judged = 0
		for _, s := range ev.Summaries {
			judged += s.Resources
		}
	}
	b.ReportMetric(float64(workloads)*float64(b.N)/b.Elapsed().Seconds(), "workloads/s")
	b.ReportMetric(float64(len(objs)), "objects")
	b.ReportMetric(float64(made), "controller-made")
	b.ReportMetric(float64(results), "results")
	b.ReportMetric(float64(judged), "judged")
}

// withControllerPods adds a ReplicaSet and two Pods for every Deployment (copied, with UIDs).
func withControllerPods(objs []*engine.Object) ([]*engine.Object, int) {
	out := make([]*engine.Object, 0, len(objs)*2)
	made := 0
	yes := true
	for i, o := range objs {
		d, ok := o.Obj.(*appsv1.Deployment)
		if !ok {
			out = append(out, o)
			continue
		}
		d = d.DeepCopy()
		d.UID = types.UID(fmt.Sprintf("deployment-%d", i))
		out = append(out, engine.NewObject(d, "apps/v1", "Deployment"))
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-5d8f9", Namespace: d.Namespace,
			UID:             types.UID(fmt.Sprintf("replicaset-%d", i)),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes}}}}
		rs.Spec.Template = *d.Spec.Template.DeepCopy()
		rs.Spec.Template.Labels["pod-template-hash"] = "5d8f9"
		out = append(out, engine.NewObject(rs, "apps/v1", "ReplicaSet"))
		for _, suffix := range []string{"a1b2c", "d3e4f"} {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: rs.Name + "-" + suffix, Namespace: d.Namespace,
				Labels:          rs.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}},
				Spec: *rs.Spec.Template.Spec.DeepCopy()}
			pod.Spec.NodeName = "node-1"
			if pod.Spec.ServiceAccountName == "" {
				pod.Spec.ServiceAccountName = "default"
			}
			token := tokenVolume("kube-api-access-" + suffix)
			pod.Spec.Volumes = append(pod.Spec.Volumes, token)
			for c := range pod.Spec.Containers {
				pod.Spec.Containers[c].VolumeMounts = append(pod.Spec.Containers[c].VolumeMounts,
					corev1.VolumeMount{Name: token.Name, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
			}
			out = append(out, engine.NewObject(pod, "v1", "Pod"))
		}
		made += 3
	}
	return out, made
}

// BenchmarkAdmissionBesideLargeConfigMaps is the admission webhook's evaluation of one
// privileged Deployment in a namespace that also holds 50 ConfigMaps of about 1 MiB each (the
// credential rules scan ConfigMaps): "every-object" judges the whole namespace, as the webhook
// did, "only" judges the Deployment (Options.Only), as it does. A request that outlasts the
// webhook's 5 s timeout is left to its failurePolicy, so a tenant must not be able to make one
// cost seconds.
func BenchmarkAdmissionBesideLargeConfigMaps(b *testing.B) {
	random := rand.New(rand.NewPCG(1, 2))
	var objs []*engine.Object
	for i := range 50 {
		objs = append(objs, engine.NewObject(testgen.LargeConfigMap("shop", fmt.Sprintf("settings-%d", i), random), "v1", "ConfigMap"))
	}
	yes := true
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "shop"}}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "app:1", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}
	agent := engine.NewObject(d, "apps/v1", "Deployment")
	objs = append(objs, agent)
	plan := engine.Compile(checks.Catalogue(), nil)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		only *engine.Object
	}{{"every-object", nil}, {"only", agent}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				inv := engine.NewInventory(objs, true)
				ev := plan.Evaluate(inv, nil, engine.Options{Now: now, SkipClusterScoped: true, Only: bc.only})
				failed := false
				for i := range ev.Results {
					failed = failed || ev.Results[i].Object == agent && ev.Results[i].Check.ID == "wl-privileged" && ev.Results[i].Status == engine.StatusFail
				}
				if !failed {
					b.Fatal("the privileged Deployment did not fail wl-privileged")
				}
			}
		})
	}
}
