package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// rollingWeb is Deployment web of namespace ns: 5 replicas, rolled out 2 pods at a time
// (maxUnavailable 2).
func rollingWeb(ns string) string {
	return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ` + ns + `
spec:
  replicas: 5
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 2}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
        resources:
          requests: {cpu: 100m, memory: 64Mi}
`
}

// webAutoscaler is HorizontalPodAutoscaler web of namespace ns, scaling Deployment web between
// min and 10 replicas.
func webAutoscaler(ns string, min int) string {
	return fmt.Sprintf(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: %s
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: %d
  maxReplicas: 10
`, ns, min)
}

// TestARolloutIsJudgedAtTheAutoscalersMinReplicas: Deployment web runs 5 replicas and rolls out
// 2 at a time, which keeps 3 serving; a HorizontalPodAutoscaler created for it with minReplicas 2
// may scale it down to 2, and a rollout then stops both pods before a new one is ready. The
// report listed no avl-rolling-update finding on web whatever the autoscaler said (the check
// judged spec.replicas 5, which the autoscaler overrides); the autoscaler's creation alone now
// brings the finding, and raising its minReplicas to 3 takes it away.
func TestARolloutIsJudgedAtTheAutoscalersMinReplicas(t *testing.T) {
	createNamespace(t, "hpa-roll", map[string]string{"hparoll": "true"})
	applyYAML(t, rollingWeb("hpa-roll"))
	createProfile(t, "hparoll", "hparoll", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-rolling-update") })
	if rep := waitWritten(t, "hpa-roll", "hparoll"); finding(rep, "avl-rolling-update", "web", "") != nil {
		t.Fatalf("a finding on web at 5 replicas: %+v", finding(rep, "avl-rolling-update", "web", ""))
	}
	applyYAML(t, webAutoscaler("hpa-roll", 2))
	eventuallyFinding(t, 20*time.Second, "hpa-roll", "hparoll", "avl-rolling-update", "Deployment", "web",
		`maxUnavailable 2 stops all 2 pods before any replacement is ready when HorizontalPodAutoscaler "web" scales it to its minReplicas 2`)
	applyYAML(t, webAutoscaler("hpa-roll", 3))
	eventually(t, 20*time.Second, "web's finding gone at minReplicas 3", func() error {
		rep, err := getReport("hpa-roll", "hparoll")
		if err != nil {
			return err
		}
		if f := finding(rep, "avl-rolling-update", "web", ""); f != nil {
			return fmt.Errorf("still listed: %s", f.Message)
		}
		return nil
	})
}

// TestAnAutoscalerOfPodLevelMemoryRequestsFollowingCPUIsListed: Deployment web sets pod-level
// requests (spec.resources) of memory only and its container requests nothing, and
// HorizontalPodAutoscaler web follows the default cpu utilization. The HPA controller reads the
// pod's cpu request from the pod-level requests, completed by the containers', finds none
// ("missing pod-level request for cpu") and never scales; the report listed nothing (any
// pod-level request counted as one of cpu). It now lists the autoscaler.
func TestAnAutoscalerOfPodLevelMemoryRequestsFollowingCPUIsListed(t *testing.T) {
	createNamespace(t, "hpa-podlevel", map[string]string{"hpapodlevel": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: hpa-podlevel
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      resources:
        requests: {memory: 256Mi}
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`)
	applyYAML(t, webAutoscaler("hpa-podlevel", 2))
	createProfile(t, "hpapodlevel", "hpapodlevel", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-hpa-sanity") })
	eventuallyFinding(t, 20*time.Second, "hpa-podlevel", "hpapodlevel", "avl-hpa-sanity", "HorizontalPodAutoscaler", "web",
		"cpu: the pod-level requests name no cpu, and no container requests it")
}

// TestAWorkloadKEDAScalesToZeroWhenIdleFailsAvlReplicas: Deployment web runs 3 replicas, and the
// HorizontalPodAutoscaler KEDA creates for ScaledObject web (keda-hpa-web, minReplicas 3) keeps
// at least 3 while its triggers are active: avl-replicas passes. The ScaledObject's
// idleReplicaCount 0 makes KEDA scale web to zero once they are idle (github.com/kedacore/keda/v2
// v2.20.2 pkg/scaling/executor). The report listed no finding (the operator did not read
// ScaledObjects, and judged the autoscaler's minReplicas alone); the ScaledObject's creation
// alone now brings one, and its deletion takes it away.
func TestAWorkloadKEDAScalesToZeroWhenIdleFailsAvlReplicas(t *testing.T) {
	createNamespace(t, "keda-idle", map[string]string{"kedaidle": "true"})
	applyYAML(t, rollingWeb("keda-idle"))
	applyYAML(t, `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: keda-hpa-web
  namespace: keda-idle
  labels: {app.kubernetes.io/managed-by: keda-operator}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 10
  metrics:
  - type: External
    external:
      metric: {name: s0-prometheus}
      target: {type: AverageValue, averageValue: "100"}
`)
	createProfile(t, "kedaidle", "kedaidle", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-replicas") })
	if rep := waitWritten(t, "keda-idle", "kedaidle"); finding(rep, "avl-replicas", "web", "") != nil {
		t.Fatalf("a finding on web at the autoscaler's minReplicas 3: %+v", finding(rep, "avl-replicas", "web", ""))
	}
	applyYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
  namespace: keda-idle
spec:
  scaleTargetRef: {name: web}
  idleReplicaCount: 0
  minReplicaCount: 3
  maxReplicaCount: 10
  triggers:
  - type: prometheus
    metadata: {serverAddress: "http://prometheus.monitoring:9090", query: "sum(rate(http_requests_total[1m]))", threshold: "100"}
`)
	eventually(t, 20*time.Second, "web's avl-replicas finding", findingSays("keda-idle", "kedaidle", "avl-replicas", "web",
		`KEDA ScaledObject "web" scales it to 0 replicas when its triggers are idle (idleReplicaCount 0)`))
	deleteUnstructured(t, "keda.sh", "v1alpha1", "ScaledObject", "keda-idle", "web")
	eventually(t, 20*time.Second, "web's finding gone with the ScaledObject", findingSays("keda-idle", "kedaidle", "avl-replicas", "web", ""))
}

// TestAWorkloadKEDAIdledAtZeroIsJudgedByItsAutoscaler: KEDA has scaled Deployment web to zero
// while ScaledObject web's triggers are idle; the HorizontalPodAutoscaler KEDA created for it
// (keda-hpa-web, controlled by the ScaledObject) then reports ScalingDisabled, but KEDA raises web
// into its range (up to 10) as soon as a trigger is active (github.com/kedacore/keda/v2 v2.20.2
// pkg/scaling/executor). avl-topology-spread said NotApplicable ("a single replica has nothing
// to spread") for as long as web idled, and judged it only while traffic kept it up; an idle
// web that nothing spreads now fails as a busy one does.
func TestAWorkloadKEDAIdledAtZeroIsJudgedByItsAutoscaler(t *testing.T) {
	createNamespace(t, "keda-zero", map[string]string{"kedazero": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: keda-zero
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`)
	applyYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: web
  namespace: keda-zero
spec:
  scaleTargetRef: {name: web}
  maxReplicaCount: 10
  triggers:
  - type: prometheus
    metadata: {serverAddress: "http://prometheus.monitoring:9090", query: "sum(rate(http_requests_total[1m]))", threshold: "100"}
`)
	so := &unstructured.Unstructured{}
	so.SetGroupVersionKind(schema.GroupVersionKind{Group: "keda.sh", Version: "v1alpha1", Kind: "ScaledObject"})
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: "keda-zero", Name: "web"}, so); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, fmt.Sprintf(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: keda-hpa-web
  namespace: keda-zero
  ownerReferences:
  - {apiVersion: keda.sh/v1alpha1, kind: ScaledObject, name: web, uid: %s, controller: true, blockOwnerDeletion: true}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: External
    external:
      metric: {name: s0-prometheus}
      target: {type: AverageValue, averageValue: "100"}
`, so.GetUID()))
	createProfile(t, "kedazero", "kedazero", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-topology-spread") })
	eventually(t, 20*time.Second, "idle web's avl-topology-spread finding", findingSays("keda-zero", "kedazero", "avl-topology-spread", "web",
		"neither topologySpreadConstraints nor a podAntiAffinity spreads its replicas"))
}
