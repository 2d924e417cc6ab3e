package scan

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestServiceAccountsListingTokenSecretsFail: a repository exported from a cluster older than
// Kubernetes 1.24, its ServiceAccounts in one file and their token Secret in a later one. The
// ServiceAccount that lists its token Secret fails sa-legacy-token-secret with the Secret; one
// that lists a Secret the files do not hold is NotAssessed, not passed. Before, only the Secret
// failed and the ServiceAccounts had no result of the check.
func TestServiceAccountsListingTokenSecretsFail(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "1-serviceaccounts.yaml"), `
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
secrets:
- name: deployer-token-x7k2p
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: ci}
secrets:
- name: builder-token-q9w4d
`)
	writeFile(t, filepath.Join(dir, "2-secrets.yaml"), `
apiVersion: v1
kind: Secret
metadata:
  name: deployer-token-x7k2p
  namespace: ci
  annotations: {kubernetes.io/service-account.name: deployer}
type: kubernetes.io/service-account-token
`)
	stdout, stderr, _ := runScan(t, "", "-f", dir, "-o", "json", "--show", "all", "--fail-on", "none")
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr)
	}
	got := map[string]Finding{}
	for _, r := range rep.Results {
		if r.Check == "sa-legacy-token-secret" && r.Resource != nil {
			got[r.Resource.Kind+"/"+r.Resource.Name] = r
		}
	}
	if d := got["ServiceAccount/deployer"]; d.Result != v1alpha1.ResultFail ||
		!strings.Contains(d.Message, `lists Secret "deployer-token-x7k2p", a token of ServiceAccount "deployer" that never expires`) {
		t.Errorf("deployer: %s %q, want Fail naming its token Secret", d.Result, d.Message)
	}
	if b := got["ServiceAccount/builder"]; b.Result != v1alpha1.ResultNotAssessed ||
		!strings.Contains(b.Message, `lists Secret "builder-token-q9w4d", which is not in the scanned input`) {
		t.Errorf("builder: %s %q, want NotAssessed naming the absent Secret", b.Result, b.Message)
	}
	if s := got["Secret/deployer-token-x7k2p"]; s.Result != v1alpha1.ResultFail {
		t.Errorf("the Secret: %s %q, want Fail", s.Result, s.Message)
	}
}
