//go:build e2e

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// tool is a krew binary built by hack/tool.sh (SOC2_KREW / SOC2_KREW_VALIDATE when set, as
// make test sets them).
func tool(t *testing.T, name, env string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	out, err := exec.Command(filepath.Join(testenv.RepoRoot(), "hack", "tool.sh"), name).Output()
	if err != nil {
		t.Fatalf("hack/tool.sh %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func validate(t *testing.T, manifest string) (string, error) {
	t.Helper()
	out, err := exec.Command(tool(t, "validate-krew-manifest", "SOC2_KREW_VALIDATE"), "-manifest", manifest, "-skip-install").CombinedOutput()
	return string(out), err
}

// TestTheManifestOfEveryPlatformIsValid: for a release's five archives, the manifest passes
// krew-index's own validator (structure, semantic version, SHA-256 form, selectors that each
// match a platform and do not overlap), and the validator does refuse a broken one.
func TestTheManifestOfEveryPlatformIsValid(t *testing.T) {
	dir := t.TempDir()
	for i, p := range DefaultPlatforms {
		if err := os.WriteFile(filepath.Join(dir, ArchiveName("v1.2.3", p)), []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run([]string{"--version", "v1.2.3", "-o", dir}); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "soc2.yaml")
	if out, err := validate(t, manifest); err != nil {
		t.Fatalf("validate-krew-manifest refused the manifest: %v\n%s", err, out)
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Spec.Platforms) != 5 {
		t.Fatalf("%d platforms, want 5", len(m.Spec.Platforms))
	}
	win := m.Spec.Platforms[4]
	if win.Bin != "kubectl-soc2.exe" || win.URI != "https://github.com/soc2-operator/soc2-operator/releases/download/v1.2.3/kubectl-soc2_v1.2.3_windows_amd64.zip" ||
		win.Sha256 != "e52d9c508c502347344d8c07ad91cbd6068afc75ff6292f062a09ca381c89e71" { // sha256 of the byte 4
		t.Errorf("windows platform: %+v", win)
	}

	// The validator is not a rubber stamp: a placeholder checksum is refused.
	broken := filepath.Join(t.TempDir(), "soc2.yaml")
	if err := os.WriteFile(broken, bytes.Replace(data, []byte(win.Sha256), []byte("TODO"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := validate(t, broken); err == nil || !strings.Contains(out, "sha256") {
		t.Errorf("validate-krew-manifest accepted sha256 TODO: %v\n%s", err, out)
	}

	// A missing archive is named.
	if err := run([]string{"--version", "v1.2.3", "-o", t.TempDir(), "--platforms", "linux/amd64"}); err == nil || !strings.Contains(err.Error(), "archive for linux/amd64") {
		t.Errorf("no archive: %v", err)
	}
	if err := run([]string{"--version", "1.2.3", "-o", dir}); err == nil || !strings.Contains(err.Error(), "leading v") {
		t.Errorf("a version without v: %v", err)
	}
}

// TestKrewInstallsThePlugin is the release as a user receives it: the archive of this
// platform, packed by krewgen from the operator binary, installed by the real krew from the
// generated manifest (krew checks the archive's SHA-256 against it), then run by the real
// kubectl as `kubectl soc2`.
func TestKrewInstallsThePlugin(t *testing.T) {
	bin, err := testenv.BuildOperator()
	if err != nil {
		t.Fatal(err)
	}
	kubectl, err := testenv.Kubectl()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	license := filepath.Join(dir, "LICENSE")
	if err := os.WriteFile(license, []byte("Apache License, Version 2.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "dist")
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if err := run([]string{"--version", "v0.1.0", "--build", "--binary", bin, "--platforms", platform, "--license", license, "-o", out}); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(out, "soc2.yaml")
	if o, err := validate(t, manifest); err != nil {
		t.Fatalf("validate-krew-manifest: %v\n%s", err, o)
	}
	archive := filepath.Join(out, ArchiveName("v0.1.0", Platform{runtime.GOOS, runtime.GOARCH}))
	krew := tool(t, "krew", "SOC2_KREW")
	root := filepath.Join(dir, "krew")
	install := func(archive string) (string, error) {
		cmd := exec.Command(krew, "install", "--manifest="+manifest, "--archive="+archive)
		cmd.Env = append(os.Environ(), "KREW_ROOT="+root)
		o, err := cmd.CombinedOutput()
		return string(o), err
	}

	// An archive that is not the one the manifest describes is refused.
	other := filepath.Join(dir, "other.tar.gz")
	if err := os.WriteFile(other, []byte("not the release"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o, err := install(other); err == nil || !strings.Contains(o, "checksum does not match") {
		t.Errorf("krew installed an archive whose checksum differs: %v\n%s", err, o)
	}

	if o, err := install(archive); err != nil {
		t.Fatalf("krew install: %v\n%s", err, o)
	}
	cmd := exec.Command(kubectl, "soc2", "explain", "wl-hostpath")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG=/nonexistent")
	o, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(o), "wl-hostpath: Pods do not mount host directories") {
		t.Errorf("kubectl soc2 explain wl-hostpath, installed by krew: %v\n%s", err, o)
	}
	if _, err := os.Stat(filepath.Join(root, "store", "soc2", "v0.1.0", "LICENSE")); err != nil {
		t.Errorf("the license was not installed: %v", err)
	}
}
