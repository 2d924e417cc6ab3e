package controllers

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// rolloutReplicaSet is ReplicaSet web-6d5f7b of namespace ns, controlled by Rollout web of UID
// uid, running Deployment web's template (image) at replicas, as Argo Rollouts makes it
// (github.com/argoproj/argo-rollouts v1.10.2: the template with its rollouts-pod-template-hash).
func rolloutReplicaSet(ns, uid, image string, replicas int) string {
	return `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-6d5f7b
  namespace: ` + ns + `
  ownerReferences:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: web, uid: ` + uid + `, controller: true}
spec:
  replicas: ` + strconv.Itoa(replicas) + `
  selector: {matchLabels: {app: web, rollouts-pod-template-hash: 6d5f7b}}
  template:
    metadata: {labels: {app: web, rollouts-pod-template-hash: 6d5f7b}}
    spec:
      containers:
      - name: app
        image: ` + image + `
`
}

// TestADeploymentAnArgoRolloutScaledDownIsJudgedByTheRolloutsReplicaSets: Argo Rollout web runs
// Deployment web's template (spec.workloadRef) and has scaled the Deployment to 0 (scaleDown:
// onsuccess). The report failed web's avl-replicas at the 0 it runs itself (the operator did not
// read Rollouts), while the Rollout's ReplicaSet ran the template at 3. A Rollout is what the
// namespace's admin writes: created alone, it changes nothing; a ReplicaSet naming it by another
// UID changes nothing either; the one it controls, running the Deployment's template at 3, takes
// the finding away, and scaled to 1 brings it back.
func TestADeploymentAnArgoRolloutScaledDownIsJudgedByTheRolloutsReplicaSets(t *testing.T) {
	const ns = "argo-ref"
	createNamespace(t, ns, map[string]string{"argoref": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: `+ns+`
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
	createProfile(t, "argoref", "argoref", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-replicas") })
	eventually(t, 20*time.Second, "web failing at 0", findingSays(ns, "argoref", "avl-replicas", "web", "runs 0 replicas"))

	applyYAML(t, `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: `+ns+`
spec:
  replicas: 3
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web, scaleDown: onsuccess}
  strategy:
    canary: {}
`)
	ro := &unstructured.Unstructured{}
	ro.SetGroupVersionKind(schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"})
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, ro); err != nil {
		t.Fatal(err)
	}
	// A ReplicaSet naming the Rollout by another UID: not the Rollout's.
	// Once the operator has judged its event, a Deployment created after it (marker, at 1
	// replica) is evaluated with it in view.
	applyYAML(t, rolloutReplicaSet(ns, "0b6f4c52-8c2e-4d3e-9a61-3f0e2d1b7c90", "registry.example.com/app:1.0.0", 3))
	forged := &appsv1.ReplicaSet{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web-6d5f7b"}, forged); err != nil {
		t.Fatal(err)
	}
	watched.judged(t, "the forged ReplicaSet's creation", forged.ResourceVersion)
	applyYAML(t, strings.ReplaceAll(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: marker
  namespace: NS
spec:
  replicas: 1
  selector: {matchLabels: {app: marker}}
  template:
    metadata: {labels: {app: marker}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`, "NS", ns))
	eventually(t, 20*time.Second, "marker's finding", findingSays(ns, "argoref", "avl-replicas", "marker", "runs 1 replica"))
	if err := findingSays(ns, "argoref", "avl-replicas", "web", "runs 0 replicas")(); err != nil {
		t.Fatalf("a ReplicaSet naming the Rollout by another UID changed web's result: %v", err)
	}
	deleteUnstructured(t, "apps", "v1", "ReplicaSet", ns, "web-6d5f7b")

	applyYAML(t, rolloutReplicaSet(ns, string(ro.GetUID()), "registry.example.com/app:1.0.0", 3))
	eventually(t, 20*time.Second, "web's finding gone", findingSays(ns, "argoref", "avl-replicas", "web", ""))

	applyYAML(t, rolloutReplicaSet(ns, string(ro.GetUID()), "registry.example.com/app:1.0.0", 1))
	eventually(t, 20*time.Second, "web failing at the ReplicaSet's 1", findingSays(ns, "argoref", "avl-replicas", "web",
		`it runs no replica itself; Argo Rollout "web" runs its template (workloadRef) in ReplicaSet "web-6d5f7b": runs 1 replica; want at least 2`))
}

// TestADeploymentAnArgoRolloutRunsFailsTheRolloutsCanaryThatStopsEveryPod: Deployment web, at 0
// replicas with a safe rolling update, passed avl-rolling-update while Argo Rollout web's
// ReplicaSet ran its template at 3 under a basic canary of maxUnavailable 100%, which scales the
// old pods to 0 before any new one is ready (argo-rollouts v1.10.2 rollout/canary.go). The
// Rollout is a claim the namespace's admin writes: alone, or with a ReplicaSet naming it by
// another UID, it changes nothing; with the ReplicaSet it controls running the template, web
// fails naming the canary; a canary of maxUnavailable 1 passes again.
func TestADeploymentAnArgoRolloutRunsFailsTheRolloutsCanaryThatStopsEveryPod(t *testing.T) {
	const ns = "argo-canary"
	createNamespace(t, ns, map[string]string{"argocanary": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: `+ns+`
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`)
	createProfile(t, "argocanary", "argocanary", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-rolling-update") })
	rollout := func(maxUnavailable string) string {
		return `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: ` + ns + `
spec:
  replicas: 3
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web, scaleDown: onsuccess}
  strategy:
    canary: {maxUnavailable: ` + maxUnavailable + `}
`
	}
	applyYAML(t, rollout("100%"))
	ro := &unstructured.Unstructured{}
	ro.SetGroupVersionKind(schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"})
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, ro); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, rolloutReplicaSet(ns, "0b6f4c52-8c2e-4d3e-9a61-3f0e2d1b7c90", "registry.example.com/app:1.0.0", 3))
	forged := &appsv1.ReplicaSet{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web-6d5f7b"}, forged); err != nil {
		t.Fatal(err)
	}
	watched.judged(t, "the forged ReplicaSet's creation", forged.ResourceVersion)
	// A Deployment created after it (marker, Recreate) is evaluated with the Rollout and the
	// forged ReplicaSet in view.
	applyYAML(t, strings.ReplaceAll(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: marker
  namespace: NS
spec:
  replicas: 2
  selector: {matchLabels: {app: marker}}
  strategy: {type: Recreate}
  template:
    metadata: {labels: {app: marker}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`, "NS", ns))
	eventually(t, 20*time.Second, "marker's finding", findingSays(ns, "argocanary", "avl-rolling-update", "marker", "strategy Recreate"))
	if err := findingSays(ns, "argocanary", "avl-rolling-update", "web", "")(); err != nil {
		t.Fatalf("a Rollout without a ReplicaSet of its own running the template changed web's result: %v", err)
	}
	deleteUnstructured(t, "apps", "v1", "ReplicaSet", ns, "web-6d5f7b")

	applyYAML(t, rolloutReplicaSet(ns, string(ro.GetUID()), "registry.example.com/app:1.0.0", 3))
	eventually(t, 20*time.Second, "web failing on the Rollout's canary", findingSays(ns, "argocanary", "avl-rolling-update", "web",
		`Argo Rollout "web" runs its template (workloadRef) in ReplicaSet "web-6d5f7b": its canary maxUnavailable 100% stops all 3 pods`))

	applyYAML(t, rollout("1"))
	eventually(t, 20*time.Second, "web's finding gone", findingSays(ns, "argocanary", "avl-rolling-update", "web", ""))
}

// TestADeploymentAPausedArgoRolloutRunsFails: Deployment web, at 0 replicas with a safe rolling
// update, passed avl-rolling-update while Argo Rollout web, whose ReplicaSet ran its template at
// 3, was paused (spec.paused, as kubectl argo rollouts pause sets it): Argo Rollouts v1.10.2
// rolls out nothing of a paused Rollout ("user paused", rollout/context.go haltProgress), as the
// deployment controller does nothing of a paused Deployment, which fails. The paused Rollout
// alone (no ReplicaSet of its own running the template) changes nothing; with the ReplicaSet it
// controls, web fails naming the pause; resumed, it passes again.
func TestADeploymentAPausedArgoRolloutRunsFails(t *testing.T) {
	const ns = "argo-paused"
	createNamespace(t, ns, map[string]string{"argopaused": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: `+ns+`
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`)
	createProfile(t, "argopaused", "argopaused", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-rolling-update") })
	rollout := func(paused bool) string {
		return `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: ` + ns + `
spec:
  replicas: 3
  paused: ` + strconv.FormatBool(paused) + `
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web, scaleDown: onsuccess}
  strategy:
    canary: {maxUnavailable: 1, maxSurge: 0}
`
	}
	applyYAML(t, rollout(true))
	ro := &unstructured.Unstructured{}
	ro.SetGroupVersionKind(schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"})
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, ro); err != nil {
		t.Fatal(err)
	}
	if paused, _, _ := unstructured.NestedBool(ro.Object, "spec", "paused"); !paused {
		t.Fatalf("the API server did not keep the Rollout's spec.paused: %v", ro.Object["spec"])
	}
	// A Deployment created after the paused Rollout (marker, Recreate) is evaluated with it in view.
	applyYAML(t, strings.ReplaceAll(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: marker
  namespace: NS
spec:
  replicas: 2
  selector: {matchLabels: {app: marker}}
  strategy: {type: Recreate}
  template:
    metadata: {labels: {app: marker}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`, "NS", ns))
	eventually(t, 20*time.Second, "marker's finding", findingSays(ns, "argopaused", "avl-rolling-update", "marker", "strategy Recreate"))
	if err := findingSays(ns, "argopaused", "avl-rolling-update", "web", "")(); err != nil {
		t.Fatalf("a paused Rollout without a ReplicaSet of its own running the template changed web's result: %v", err)
	}

	applyYAML(t, rolloutReplicaSet(ns, string(ro.GetUID()), "registry.example.com/app:1.0.0", 3))
	eventually(t, 20*time.Second, "web failing on the paused Rollout", findingSays(ns, "argopaused", "avl-rolling-update", "web",
		`Argo Rollout "web" runs its template (workloadRef) in ReplicaSet "web-6d5f7b", and that Rollout is paused (spec.paused)`))

	applyYAML(t, rollout(false))
	eventually(t, 20*time.Second, "web's finding gone once resumed", findingSays(ns, "argopaused", "avl-rolling-update", "web", ""))
}

// TestADeploymentTwoArgoRolloutsRunIsJudgedByTheirReplicaSetsTogether: Argo Rollouts web-a and
// web-b both run Deployment web's template (spec.workloadRef), each in ReplicaSets of its own
// (argo-rollouts v1.10.2 rollout/sync.go createDesiredReplicaSet: named after the Rollout and
// controlled by it), so their pods add up. With web-a's ReplicaSet at 1 the template runs as 1
// pod and web fails; with web-b's at 1 beside it, 2 pods run and the finding goes (before, each
// Rollout's ReplicaSets had to reach 2 on their own and web kept failing at 1).
func TestADeploymentTwoArgoRolloutsRunIsJudgedByTheirReplicaSetsTogether(t *testing.T) {
	const ns = "argo-two"
	createNamespace(t, ns, map[string]string{"argotwo": "true"})
	applyYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: `+ns+`
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
	createProfile(t, "argotwo", "argotwo", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "avl-replicas") })
	uids := map[string]string{}
	for _, name := range []string{"web-a", "web-b"} {
		applyYAML(t, `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: `+name+`
  namespace: `+ns+`
spec:
  replicas: 1
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web, scaleDown: onsuccess}
  strategy:
    canary: {}
`)
		ro := &unstructured.Unstructured{}
		ro.SetGroupVersionKind(schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"})
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ro); err != nil {
			t.Fatal(err)
		}
		uids[name] = string(ro.GetUID())
	}
	replicaSet := func(rollout string) string {
		return `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ` + rollout + `-6d5f7b
  namespace: ` + ns + `
  ownerReferences:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: ` + rollout + `, uid: ` + uids[rollout] + `, controller: true}
spec:
  replicas: 1
  selector: {matchLabels: {app: web, rollouts-pod-template-hash: 6d5f7b}}
  template:
    metadata: {labels: {app: web, rollouts-pod-template-hash: 6d5f7b}}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
`
	}
	applyYAML(t, replicaSet("web-a"))
	eventually(t, 20*time.Second, "web failing at web-a's 1", findingSays(ns, "argotwo", "avl-replicas", "web",
		`it runs no replica itself; Argo Rollout "web-a" runs its template (workloadRef) in ReplicaSet "web-a-6d5f7b": runs 1 replica; want at least 2`))
	applyYAML(t, replicaSet("web-b"))
	eventually(t, 20*time.Second, "web's finding gone with web-a's and web-b's pods together", findingSays(ns, "argotwo", "avl-replicas", "web", ""))
}
