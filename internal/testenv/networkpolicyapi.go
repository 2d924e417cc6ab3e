package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// NetworkPolicyAPIVersion is the release of the Network Policy API
// (sigs.k8s.io/network-policy-api) whose ClusterNetworkPolicy CRD the tests install: v0.2.0, the
// first to ship the kind, serves it at v1alpha2 only (v0.3.0 on serve v1beta1 too), so the
// operator reads it at the older version it falls back to (inventory.Kind.Older).
const NetworkPolicyAPIVersion = "v0.2.0"

// ClusterNetworkPolicyCRD returns the file of the Network Policy API's standard
// ClusterNetworkPolicy CRD at NetworkPolicyAPIVersion, downloaded from the Go module proxy into
// the module cache as the Gateway API's CRDs are (GatewayAPIModule).
func ClusterNetworkPolicyCRD() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/network-policy-api@"+NetworkPolicyAPIVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=")
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &mod); jsonErr != nil || mod.Error != "" || mod.Dir == "" {
		return "", fmt.Errorf("downloading sigs.k8s.io/network-policy-api@%s: %v %s", NetworkPolicyAPIVersion, err, mod.Error)
	}
	file := filepath.Join(mod.Dir, "config", "crd", "standard", "policy.networking.k8s.io_clusternetworkpolicies.yaml")
	if _, err := os.Stat(file); err != nil {
		return "", fmt.Errorf("the Network Policy API's ClusterNetworkPolicy CRD: %w", err)
	}
	return file, nil
}
