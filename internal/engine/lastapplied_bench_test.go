package engine

import (
	"encoding/json"
	"os"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// BenchmarkStaleApplied is what the operator's informer transform (controllers.stripObject)
// adds to each watch event of a workload applied with kubectl apply: StaleApplied decoding the
// last-applied annotation's containers and comparing them with the live ones. The workload is
// kube-prometheus's prometheus-operator Deployment from ../shared/corpus, annotated with its
// own JSON as kubectl apply writes it (the common case: nothing stale, the annotation goes).
// decode-event is, for scale, decoding the same Deployment's JSON, annotation included, as the
// informer does for each event.
func BenchmarkStaleApplied(b *testing.B) {
	raw, err := os.ReadFile("../../../shared/corpus/kube-prometheus/manifests/prometheusOperator-deployment.yaml")
	if err != nil {
		b.Skipf("the shared corpus is not beside the checkout: %v", err)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(raw, &d); err != nil {
		b.Fatal(err)
	}
	applied, err := json.Marshal(&d)
	if err != nil {
		b.Fatal(err)
	}
	d.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: string(applied)}
	event, err := json.Marshal(&d)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stale-applied", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got := StaleApplied(&d); got != nil {
				b.Fatalf("StaleApplied = %+v, want nothing stale", got)
			}
		}
	})
	b.Run("decode-event", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got appsv1.Deployment
			if err := json.Unmarshal(event, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(len(applied)), "annotation-bytes")
}
