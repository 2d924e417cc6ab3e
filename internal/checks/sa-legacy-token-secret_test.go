package checks

import (
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestWorkloadsTakingNoTokenOfATokenSecretPass: a workload that takes of a ServiceAccount token
// Secret only other keys (an item or a secretKeyRef of ca.crt), and ordinary Secrets of the input
// whole, gets no token: it passes, while the token Secret itself still fails; one that takes no
// Secret of the input is NotApplicable.
func TestWorkloadsTakingNoTokenOfATokenSecretPass(t *testing.T) {
	const secrets = `
apiVersion: v1
kind: Secret
metadata:
  name: deployer-token
  namespace: shop
  annotations:
    kubernetes.io/service-account.name: deployer
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: Secret
metadata: {name: tls, namespace: shop}
type: kubernetes.io/tls
---
`
	tests := map[string]struct {
		spec string
		want engine.Status
	}{
		"the CA certificate of a token Secret, and an ordinary Secret whole": {spec: `
      containers:
      - name: app
        image: registry.example.com/shop/web:1.4.2
        env:
        - name: CA
          valueFrom:
            secretKeyRef: {name: deployer-token, key: ca.crt}
      volumes:
      - name: ca
        secret:
          secretName: deployer-token
          items:
          - {key: ca.crt, path: ca.crt}
      - name: tls
        projected:
          sources:
          - secret: {name: tls}`, want: engine.StatusPass},
		"no Secret of the input": {spec: `
      containers:
      - name: app
        image: registry.example.com/shop/web:1.4.2
      volumes:
      - name: other
        secret:
          secretName: made-elsewhere`, want: engine.StatusNotApplicable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev := judgeInScan(t, saLegacyTokenSecret, secrets+`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      automountServiceAccountToken: false`+tc.spec+"\n")
			seen := 0
			for _, r := range ev.Results {
				switch r.Object.Kind {
				case "Deployment":
					seen++
					if r.Status != tc.want {
						t.Errorf("Deployment: %s (%s), want %s", r.Status, r.Message, tc.want)
					}
				case "Secret":
					if want := map[string]engine.Status{"deployer-token": engine.StatusFail, "tls": engine.StatusPass}[r.Object.Name]; r.Status != want {
						t.Errorf("Secret %s: %s, want %s", r.Object.Name, r.Status, want)
					}
				}
			}
			if seen != 1 {
				t.Fatalf("%d results for the Deployment", seen)
			}
		})
	}
}
