package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// GatewayAPIVersion is the release of the Gateway API (sigs.k8s.io/gateway-api) whose standard
// CRDs the tests install, as a cluster with the Gateway API installed serves them.
const GatewayAPIVersion = "v1.6.0"

// GatewayAPICRDs returns the directory of the Gateway API's standard CRDs at GatewayAPIVersion.
func GatewayAPICRDs() (string, error) {
	mod, err := GatewayAPIModule(GatewayAPIVersion)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(mod, "config", "crd", "standard")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("the Gateway API's CRDs: %w", err)
	}
	return dir, nil
}

// GatewayAPIModule returns the directory of the Gateway API's module (sigs.k8s.io/gateway-api)
// at version, downloaded from the Go module proxy into the module cache as the control plane's
// sources are (go mod download, run outside this module so that go.mod and go.sum stay as
// they are); its CRDs are under config/crd/standard and config/crd/experimental.
func GatewayAPIModule(version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/gateway-api@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=")
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &mod); jsonErr != nil || mod.Error != "" || mod.Dir == "" {
		return "", fmt.Errorf("downloading sigs.k8s.io/gateway-api@%s: %v %s", version, err, mod.Error)
	}
	return mod.Dir, nil
}

// GatewayAPIExperimentalCRDs returns the directory of the Gateway API's experimental CRDs at
// GatewayAPIVersion: the standard ones with the fields still experimental besides (a default
// Gateway's spec.defaultScope and a route's spec.useDefaultGateways, GEP-3793), which the API
// server prunes from objects under the standard ones.
func GatewayAPIExperimentalCRDs() (string, error) {
	standard, err := GatewayAPICRDs()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(standard), "experimental")
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("the Gateway API's experimental CRDs: %w", err)
	}
	return dir, nil
}
