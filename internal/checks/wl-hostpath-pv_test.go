package checks

import (
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// ephemeralClaimsBeside is a Deployment in shop whose ephemeral volume claims are made per pod,
// beside a PersistentVolume at the node's root reserved (spec.claimRef) for a claim in the
// namespace given.
func ephemeralClaimsBeside(reservedFor string) string {
	return `
apiVersion: v1
kind: PersistentVolume
metadata: {name: node-root}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /}
  claimRef: {namespace: ` + reservedFor + `, name: backup}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/web:1.4.2
        volumeMounts: [{name: cache, mountPath: /cache}]
      volumes:
      - name: cache
        ephemeral:
          volumeClaimTemplate:
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
`
}

// TestAVolumeReservedForAnotherNamespaceIsNoRiskToThisOne: a PersistentVolume whose claimRef
// names a claim binds to that claim only, so a volume at a sensitive host path reserved for a
// claim in another namespace cannot reach shop's pods (the Deployment passes; the volume
// itself still fails), while one reserved for a claim in shop leaves the Deployment's per-pod
// ephemeral claims undecided (NotAssessed: a tenant names their own pods).
func TestAVolumeReservedForAnotherNamespaceIsNoRiskToThisOne(t *testing.T) {
	for _, tc := range []struct {
		reservedFor string
		want        engine.Status
	}{{"backups", engine.StatusPass}, {"shop", engine.StatusNotAssessed}} {
		t.Run(tc.reservedFor, func(t *testing.T) {
			got := map[string]engine.Status{}
			for _, r := range judgeInCluster(t, wlHostPathPV, ephemeralClaimsBeside(tc.reservedFor)).Results {
				got[r.Object.Kind] = r.Status
			}
			if got["Deployment"] != tc.want {
				t.Errorf("Deployment: %v, want %v", got["Deployment"], tc.want)
			}
			if got["PersistentVolume"] != engine.StatusFail {
				t.Errorf("PersistentVolume: %v, want Fail (it is at the node's root whoever it is for)", got["PersistentVolume"])
			}
		})
	}
}

// TestAStatefulSetPodOnAnotherClaimIsJudged: a namespace admin may create a Pod that names their
// StatefulSet as its controller (its real UID) and is its template but for the claim its claim
// template's volume names: loot, bound to a volume at the node's root, not data-db-0, which the
// StatefulSet controller would make and the StatefulSet's own judgement reads. The Pod is not
// what the StatefulSet makes, so it is judged itself, and fails.
func TestAStatefulSetPodOnAnotherClaimIsJudged(t *testing.T) {
	const objects = `
apiVersion: v1
kind: PersistentVolume
metadata: {name: node-root}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /}
  claimRef: {namespace: shop, name: loot}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: loot, namespace: shop}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  volumeName: node-root
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop, uid: uid-db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: registry.example.com/shop/db:2.0.1
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  namespace: shop
  labels: {app: db}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: uid-db, controller: true}]
spec:
  hostname: db-0
  subdomain: db
  containers:
  - name: db
    image: registry.example.com/shop/db:2.0.1
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: loot}
`
	got := map[string]engine.Status{}
	for _, r := range judgeInCluster(t, wlHostPathPV, objects).Results {
		got[r.Object.Kind+" "+r.Object.Name] = r.Status
	}
	if got["Pod db-0"] != engine.StatusFail {
		t.Errorf("Pod db-0: %v, want Fail: it mounts the node's root through claim loot (results: %v)", got["Pod db-0"], got)
	}
}
