package engine_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// BenchmarkExplainedPodsUnderAWorkloadCustomCheck evaluates a custom check of every workload
// (kinds [Workload]) over a Deployment, its ReplicaSet and 1,000 Pods the ReplicaSet's template
// explains, each evaluation with the objects made anew, as the operator makes them from its
// cache: each Pod is judged by the check too (evaluateExplained), and listed only where it fails
// where its template's Pod passes (none here).
func BenchmarkExplainedPodsUnderAWorkloadCustomCheck(b *testing.B) {
	plan := engine.Compile(nil, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{{ID: "no-host-aliases", Title: "no hostAliases", Kinds: []string{engine.KindWorkload},
			Criteria: []v1alpha1.Criterion{"CC6.1"}, Expression: "!has(podSpec.hostAliases)"}}}})
	pods := make([]*corev1.Pod, 1000)
	for i := range pods {
		pods[i] = webPod()
		pods[i].Name = fmt.Sprintf("web-abc-%d", i)
	}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var results int
	for b.Loop() {
		objs := []*engine.Object{engine.NewObject(webDeployment(), "apps/v1", "Deployment"), engine.NewObject(webReplicaSet(), "apps/v1", "ReplicaSet")}
		for _, p := range pods {
			objs = append(objs, engine.NewObject(p, "v1", "Pod"))
		}
		ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now})
		results = len(ev.Results)
	}
	if results != 0 {
		b.Fatalf("%d results kept, want none", results)
	}
}
