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
