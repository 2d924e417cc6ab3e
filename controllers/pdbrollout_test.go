package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAnOldRevisionsPodsAreProtectedOnlyIfABudgetSelectsThem: Deployment web's template carries
// protect: "yes", which budget web selects; its old ReplicaSet, which the test creates as the
// deployment controller leaves one during a rollout or while the Deployment is paused, still runs
// 2 pods of a template without that label. The eviction API finds no budget for those pods: the
// report lists the ReplicaSet under avl-pdb (it was NotApplicable, and web passed alone). Once
// the budget selects app: web, which both revisions' pods carry, the ReplicaSet's finding goes,
// and web, whose 2 pods the budget's minAvailable 1 leaves 1 up, has none: the old revision's
// pods are web's own, counted once (they were counted again, and web failed with "of the 4 pods
// it selects, lets 3 go").
func TestAnOldRevisionsPodsAreProtectedOnlyIfABudgetSelectsThem(t *testing.T) {
	const ns = "pdb-roll"
	createNamespace(t, ns, map[string]string{"pdbroll": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: `+ns+`}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, protect: "yes"}}
    spec:
      containers:
      - {name: app, image: registry.example.com/app:1.5.0}
`)
	budget := func(selector string) string {
		return `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ` + ns + `}
spec:
  minAvailable: 1
  selector: {matchLabels: {` + selector + `}}
`
	}
	applyYAML(t, budget(`protect: "yes"`))
	createProfile(t, "pdbroll", "pdbroll", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-pdb") })
	if rep := waitWritten(t, ns, "pdbroll"); finding(rep, "avl-pdb", "web", "") != nil {
		t.Fatalf("a finding on web before the old revision: %+v", finding(rep, "avl-pdb", "web", ""))
	}

	web := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "web"}, web); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, fmt.Sprintf(`
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d8f9
  namespace: %s
  labels: {app: web, pod-template-hash: 5d8f9}
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: %s, controller: true}
spec:
  replicas: 2
  selector: {matchLabels: {app: web, pod-template-hash: 5d8f9}}
  template:
    metadata: {labels: {app: web, pod-template-hash: 5d8f9}}
    spec:
      containers:
      - {name: app, image: registry.example.com/app:1.4.2}
`, ns, web.UID))
	eventuallyFinding(t, 20*time.Second, ns, "pdbroll", "avl-pdb", "ReplicaSet", "web-5d8f9",
		`no PodDisruptionBudget selects its pods, which run a revision of Deployment "web"`)

	applyYAML(t, budget(`app: web`))
	eventually(t, 20*time.Second, "the old revision's finding gone, and none on web", func() error {
		if err := findingSays(ns, "pdbroll", "avl-pdb", "web-5d8f9", "")(); err != nil {
			return err
		}
		return findingSays(ns, "pdbroll", "avl-pdb", "web", "")()
	})
}

// TestAStatefulSetsPodsNotYetUpdatedAreProtectedOnlyIfABudgetSelectsThem: StatefulSet db, updated
// OnDelete, has a template that carries protect: "yes", which budget db-budget selects; its two
// pods, which the test creates as the StatefulSet controller leaves them until someone deletes
// them (the old revision's labels, without protect), are the StatefulSet's own (no ReplicaSet
// between). The eviction API finds no budget for them: the report lists db under avl-pdb, naming
// them (db passed: the Pods, which its template does not explain, were judged themselves, and
// avl-pdb judges no Pod). Once the budget selects app: db, which the pods carry, the finding goes.
func TestAStatefulSetsPodsNotYetUpdatedAreProtectedOnlyIfABudgetSelectsThem(t *testing.T) {
	const ns = "pdb-sts"
	createNamespace(t, ns, map[string]string{"pdbsts": "true"})
	db := applyStatefulSetDB(t, ns, "{type: OnDelete}")
	applyYAML(t, dbBudget(ns, "maxUnavailable: 1", `protect: "yes"`))
	createProfile(t, "pdbsts", "pdbsts", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-pdb") })
	if rep := waitWritten(t, ns, "pdbsts"); finding(rep, "avl-pdb", "db", "") != nil {
		t.Fatalf("a finding on db before its pods: %+v", finding(rep, "avl-pdb", "db", ""))
	}

	for i := range 2 {
		applyYAML(t, dbPod(db, i, `app: db, controller-revision-hash: db-6c9f7b`))
	}
	eventuallyFinding(t, 20*time.Second, ns, "pdbsts", "avl-pdb", "StatefulSet", "db",
		`no PodDisruptionBudget selects Pods db-0, db-1, which it runs and its template does not explain`)

	applyYAML(t, dbBudget(ns, "maxUnavailable: 1", `app: db`))
	eventually(t, 20*time.Second, "db's finding gone", findingSays(ns, "pdbsts", "avl-pdb", "db", ""))
}

// TestABudgetCountsAStatefulSetsPodsByTheLabelsTheyCarry: StatefulSet db, 2 replicas rolled out
// with a partition of 1, runs db-1 updated (its template's labels, protect: "yes") and db-0 still
// on the old revision (app: db only), as the StatefulSet controller leaves them. The disruption
// controller counts a budget by the pods its selector matches, by the labels they carry
// (getPodsForPdb, k8s.io/kubernetes v1.37.2 pkg/controller/disruption):
//   - budget db-budget, minAvailable 2 of app: db, selects db-0 and db-1: 2 pods, 2 to keep,
//     0 disruptions allowed. db-0, which the template does not explain, was counted beside the
//     StatefulSet's 2 replicas (3 pods, 1 allowed), and the budget passed.
//   - maxUnavailable 1 of protect: "yes" selects db-1 alone, and is counted against the scale
//     of its controller, 2: 1 pod healthy, 1 to keep, 0 allowed. The check passed any
//     maxUnavailable above 0.
//
// Once db-0 is updated too, maxUnavailable 1 of protect: "yes" selects both and allows 1.
func TestABudgetCountsAStatefulSetsPodsByTheLabelsTheyCarry(t *testing.T) {
	const ns = "pdb-part"
	createNamespace(t, ns, map[string]string{"pdbpart": "true"})
	db := applyStatefulSetDB(t, ns, "{type: RollingUpdate, rollingUpdate: {partition: 1}}")
	applyYAML(t, dbPod(db, 0, `app: db, controller-revision-hash: db-6c9f7b`))
	applyYAML(t, dbPod(db, 1, `app: db, protect: "yes", controller-revision-hash: db-7d4b8c`))
	applyYAML(t, dbBudget(ns, "minAvailable: 2", "app: db"))
	createProfile(t, "pdbpart", "pdbpart", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-pdb-zero-disruptions") })
	eventuallyFinding(t, 20*time.Second, ns, "pdbpart", "avl-pdb-zero-disruptions", "PodDisruptionBudget", "db-budget",
		`minAvailable 2 leaves no pod of Pod "db-0", StatefulSet "db" (2 pods) free to evict`)

	applyYAML(t, dbBudget(ns, "maxUnavailable: 1", `protect: "yes"`))
	eventuallyFinding(t, 20*time.Second, ns, "pdbpart", "avl-pdb-zero-disruptions", "PodDisruptionBudget", "db-budget",
		`maxUnavailable is 1, but the disruption controller counts it against 2 pods, the scale of the controllers whose pods the budget selects, and the budget selects 1 pod by the labels they carry`)

	applyYAML(t, dbPod(db, 0, `app: db, protect: "yes", controller-revision-hash: db-7d4b8c`))
	eventually(t, 20*time.Second, "db-budget's finding gone", findingSays(ns, "pdbpart", "avl-pdb-zero-disruptions", "db-budget", ""))
}

// applyStatefulSetDB applies StatefulSet db of the StatefulSet tests in namespace ns: 2 replicas
// of a template labelled app: db and protect: "yes", updated as updateStrategy says (YAML flow
// style), and returns it as the API server stored it (with its UID).
func applyStatefulSetDB(t *testing.T, ns, updateStrategy string) *appsv1.StatefulSet {
	t.Helper()
	applyYAML(t, `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: `+ns+`}
spec:
  replicas: 2
  serviceName: db
  updateStrategy: `+updateStrategy+`
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db, protect: "yes"}}
    spec:
      containers:
      - {name: db, image: registry.example.com/db:15.4}
`)
	db := &appsv1.StatefulSet{}
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "db"}, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// dbPod is Pod db-<i> of StatefulSet db as the StatefulSet controller makes it, with the labels
// given (YAML flow-style pairs) besides its pod name and index.
func dbPod(db *appsv1.StatefulSet, i int, labels string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: db-%[3]d
  namespace: %[1]s
  labels: {%[4]s, statefulset.kubernetes.io/pod-name: db-%[3]d, apps.kubernetes.io/pod-index: "%[3]d"}
  ownerReferences:
  - {apiVersion: apps/v1, kind: StatefulSet, name: db, uid: %[2]s, controller: true}
spec:
  hostname: db-%[3]d
  subdomain: db
  containers:
  - {name: db, image: registry.example.com/db:15.4}
`, db.Namespace, db.UID, i, labels)
}

// dbBudget is PodDisruptionBudget db-budget in namespace ns with field (minAvailable: 2, say) and
// a selector of the labels given (YAML flow-style pairs).
func dbBudget(ns, field, selector string) string {
	return `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: db-budget, namespace: ` + ns + `}
spec:
  ` + field + `
  selector: {matchLabels: {` + selector + `}}
`
}

// TestAPodThatEndedIsNoPodABudgetCounts: a bare Pod with Deployment web's label (a one-off
// migration) is one more pod budget web selects, and while it runs it counts: of the 3 pods,
// minAvailable 2 lets 1 go. Once it has Succeeded it runs nothing, and Kubernetes v1.37.2's
// disruption controller never counts it healthy (countHealthyPods): the budget lets none of web's
// 2 pods go. The operator kept no Pod status (its cache dropped all of it), and went on counting
// the Pod, so budget web passed avl-pdb-zero-disruptions for as long as the finished Pod was
// left; it now keeps status.phase, is told when a Pod ends, and counts no Pod that has ended.
func TestAPodThatEndedIsNoPodABudgetCounts(t *testing.T) {
	const ns = "pdb-ended"
	createNamespace(t, ns, map[string]string{"pdbended": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: `+ns+`}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: registry.example.com/app:1.5.0}
`)
	applyYAML(t, `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: `+ns+`}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
`)
	applyYAML(t, `
apiVersion: v1
kind: Pod
metadata: {name: web-migrate, namespace: `+ns+`, labels: {app: web}}
spec:
  restartPolicy: Never
  containers:
  - {name: app, image: registry.example.com/app:1.5.0, command: [/app/migrate]}
`)
	createProfile(t, "pdbended", "pdbended", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-pdb-zero-disruptions") })
	if rep := waitWritten(t, ns, "pdbended"); finding(rep, "avl-pdb-zero-disruptions", "web", "") != nil {
		t.Fatalf("a finding on budget web while web-migrate runs: %+v", finding(rep, "avl-pdb-zero-disruptions", "web", ""))
	}

	ctx := context.Background()
	pod := &corev1.Pod{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "web-migrate"}, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodSucceeded // as the kubelet reports it
	if err := k8s.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	eventuallyFinding(t, 20*time.Second, ns, "pdbended", "avl-pdb-zero-disruptions", "PodDisruptionBudget", "web",
		`minAvailable 2 leaves no pod of Deployment "web" (2 pods) free to evict`)
}
