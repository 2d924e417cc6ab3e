package checks

import (
	"fmt"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestCustomResourcesOfAKubernetesKindsNameAreNotJudgedAsIt: a custom resource of another API
// group may reuse the name of a kind Kubernetes serves (OpenKruise's apps.kruise.io StatefulSet,
// Crossplane's Role, a tenant's tenancy.example.com Namespace), and the engine hands it to every
// check that targets that kind name. Read as unstructured, it is none of the objects the check
// judges: shaped as one (labels and fields the check reads), it must neither pass nor fail.
// A foreign Namespace labelled to enforce restricted passed ns-pss-enforced, and a foreign
// StatefulSet failed avl-replicas as running one replica. chg-deprecated-apis passes a custom
// resource by design (its version is not Kubernetes' to judge: TestUnservedVersionsFail).
func TestCustomResourcesOfAKubernetesKindsNameAreNotJudgedAsIt(t *testing.T) {
	byDesign := map[string]bool{chgDeprecatedApis.ID: true}
	for _, c := range Catalogue() {
		if byDesign[c.ID] {
			continue
		}
		for _, kind := range c.Targets {
			if !manifest.ServedKind(kind) {
				continue // a kind of an add-on's group, which the check reads deliberately
			}
			doc := fmt.Sprintf(`apiVersion: tenancy.evil.example.com/v1
kind: %s
metadata:
  name: payments
  namespace: shop
  labels:
    app: web
    pod-security.kubernetes.io/enforce: restricted
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
spec:
  replicas: 3
  minReplicas: 3
  maxReplicas: 5
  minAvailable: 1
  podSelector: {}
  policyTypes: [Ingress, Egress]
  selector:
    matchLabels: {app: web}
  hard: {requests.cpu: "4", requests.memory: 4Gi, limits.cpu: "4", limits.memory: 4Gi}
  type: ClusterIP
`, kind)
			for _, complete := range []bool{false, true} {
				judge := judgeInScan
				if complete {
					judge = judgeInCluster
				}
				for _, r := range judge(t, c, doc).Results {
					if r.Check.ID == c.ID && r.Object != nil && r.Object.APIVersion == "tenancy.evil.example.com/v1" &&
						(r.Status == engine.StatusPass || r.Status == engine.StatusFail) {
						t.Errorf("%s (complete view %v) judged tenancy.evil.example.com/v1 %s: %s %q", c.ID, complete, kind, r.Status, r.Message)
					}
				}
			}
		}
	}
}
