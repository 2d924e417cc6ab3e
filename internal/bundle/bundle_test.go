package bundle_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/bundle"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// releaseImage stands for a released image: releases pin the manager by digest
// (`make bundle deploy IMG=ghcr.io/soc2-operator/soc2-operator:vX.Y.Z@sha256:...`), which is what
// img-digest-pinned asks for. The repository itself, built before any image exists, names the
// image by tag; the tests below show that this is the only difference.
const releaseImage = "ghcr.io/soc2-operator/soc2-operator:v0.1.0@sha256:" +
	"5f0c9d5d3f1c2b7a0e4d6c8b9a1f2e3d4c5b6a7980f1e2d3c4b5a69788f9e0d1"

var root = testenv.RepoRoot()

// TestCommittedBundleIsValid runs the validators `operator-sdk bundle validate` runs, with the
// OperatorHub, good-practices and deprecated-API suites, over bundle/.
func TestCommittedBundleIsValid(t *testing.T) {
	validate(t, filepath.Join(root, "bundle", "manifests"))
}

func validate(t *testing.T, dir string) {
	t.Helper()
	b, err := manifests.GetBundleFromDir(dir)
	if err != nil {
		t.Fatalf("loading the bundle: %v", err)
	}
	validators := validation.DefaultBundleValidators.WithValidators(
		validation.OperatorHubV2Validator,
		validation.GoodPracticesValidator,
		validation.AlphaDeprecatedAPIsValidator,
	)
	results := validators.Validate(b, map[string]string{"k8s-version": "1.37"})
	checked := 0
	for _, r := range results {
		checked++
		for _, e := range r.Errors {
			t.Errorf("%s: %s", levelName(e), e.Error())
		}
		for _, w := range r.Warnings {
			if noExampleOnPurpose(w) {
				continue
			}
			t.Errorf("warning (OperatorHub publishes bundles without warnings): %s", w.Error())
		}
	}
	if checked == 0 {
		t.Fatal("no validator ran")
	}
}

func levelName(e errors.Error) string { return string(e.Level) }

// noExampleOnPurpose is the one warning the bundle is meant to have: a kind only the operator
// writes (bundle.WrittenByOperator) has no alm-example, so the console offers no form to create
// one, and operator-framework/api v0.45.0 warns that the owned API has no example.
func noExampleOnPurpose(w errors.Error) bool {
	gvk, ok := w.BadValue.(schema.GroupVersionKind)
	return ok && w.Detail == "provided API should have an example annotation" && bundle.WrittenByOperator[gvk.Kind]
}

// TestAlmExamplesOfferNoComplianceReport: the console turns alm-examples into "Create" forms;
// reports are written by the operator, so none is offered, while every kind people create is.
func TestAlmExamplesOfferNoComplianceReport(t *testing.T) {
	for name, dir := range map[string]string{"committed": filepath.Join(root, "bundle", "manifests"), "generated": ""} {
		t.Run(name, func(t *testing.T) {
			if dir == "" {
				dir = t.TempDir()
				generate(t, dir, releaseImage)
				dir = filepath.Join(dir, "manifests")
			}
			b, err := manifests.GetBundleFromDir(dir)
			if err != nil {
				t.Fatalf("loading the bundle: %v", err)
			}
			var examples []struct{ Kind string }
			if err := json.Unmarshal([]byte(b.CSV.GetAnnotations()["alm-examples"]), &examples); err != nil {
				t.Fatalf("alm-examples: %v", err)
			}
			kinds := map[string]int{}
			for _, e := range examples {
				kinds[e.Kind]++
			}
			if kinds["ComplianceReport"] != 0 {
				t.Errorf("alm-examples offers a ComplianceReport to create: %v", kinds)
			}
			for _, want := range []string{"ComplianceProfile", "ControlException"} {
				if kinds[want] == 0 {
					t.Errorf("alm-examples lacks a %s: %v", want, kinds)
				}
			}
		})
	}
}

func kustomize(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(root, "hack", "tool.sh"), "kustomize").Output()
	if err != nil {
		t.Fatalf("building kustomize: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// render builds a config/ overlay, with the manager image replaced when image is set.
func render(t *testing.T, overlay, image string) []byte {
	t.Helper()
	dir := t.TempDir()
	images := ""
	if image != "" {
		name, digest, _ := strings.Cut(image, "@")
		name, tag, _ := strings.Cut(name, ":v")
		images = fmt.Sprintf("images:\n  - name: ghcr.io/soc2-operator/soc2-operator\n    newName: %s\n    newTag: v%s\n    digest: %s\n", name, tag, digest)
	}
	base, err := filepath.Rel(dir, filepath.Join(root, "config", overlay))
	if err != nil {
		t.Fatal(err)
	}
	kust := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\n%s", base, images)
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kust), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kustomize(t), "build", dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build: %v: %s", err, stderr.String())
	}
	return out
}

// failing scans manifest files with every built-in check, as `soc2-operator scan` does, and
// returns the failing findings.
func failing(t *testing.T, files map[string][]byte) []string {
	t.Helper()
	var objs []*engine.Object
	for name, data := range files {
		got, errs := manifest.Decode(name, data)
		for _, e := range errs {
			t.Fatalf("decoding: %v", e)
		}
		objs = append(objs, got...)
	}
	manifest.DefaultNamespace(objs, engine.DefaultAdminNamespace)
	ev := engine.Compile(checks.Catalogue(), nil).Evaluate(engine.NewInventory(objs, false), nil, engine.Options{Now: time.Now()})
	var out []string
	for _, r := range ev.Results {
		if r.Status == engine.StatusFail {
			out = append(out, fmt.Sprintf("%s %s %s: %s", r.Check.ID, r.Object.Ref(), r.Container, r.Message))
		}
	}
	if len(ev.Results) == 0 {
		t.Fatal("nothing was evaluated")
	}
	return out
}

func bundleFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = data
	}
	if len(files) == 0 {
		t.Fatalf("no manifests in %s", dir)
	}
	return files
}

// TestOperatorPassesItsOwnChecks scans what users install, config/default and the OLM bundle
// (whose ClusterServiceVersion scan expands into the Deployment, ServiceAccount and roles OLM
// creates), with every built-in check and no exception: nothing fails.
func TestOperatorPassesItsOwnChecks(t *testing.T) {
	t.Run("config/default as released", func(t *testing.T) {
		if f := failing(t, map[string][]byte{"config/default": render(t, "default", releaseImage)}); len(f) > 0 {
			t.Errorf("the operator's own install fails its checks:\n%s", strings.Join(f, "\n"))
		}
	})
	t.Run("config/enforcement as released", func(t *testing.T) {
		if f := failing(t, map[string][]byte{"config/enforcement": render(t, "enforcement", releaseImage)}); len(f) > 0 {
			t.Errorf("the install with the webhook fails its checks:\n%s", strings.Join(f, "\n"))
		}
	})
	t.Run("the bundle as released", func(t *testing.T) {
		dir := t.TempDir()
		generate(t, dir, releaseImage)
		validate(t, filepath.Join(dir, "manifests"))
		if f := failing(t, bundleFiles(t, filepath.Join(dir, "manifests"))); len(f) > 0 {
			t.Errorf("the bundle fails its checks:\n%s", strings.Join(f, "\n"))
		}
	})
	t.Run("as committed, only the digest is missing", func(t *testing.T) {
		for name, files := range map[string]map[string][]byte{
			"config/default":     {"config/default": render(t, "default", "")},
			"config/enforcement": {"config/enforcement": render(t, "enforcement", "")},
			"bundle":             bundleFiles(t, filepath.Join(root, "bundle", "manifests")),
		} {
			f := failing(t, files)
			if len(f) != 1 || !strings.HasPrefix(f[0], "img-digest-pinned ") {
				t.Errorf("%s: want only img-digest-pinned to fail before release, got:\n%s", name, strings.Join(f, "\n"))
			}
		}
	})
}

// TestDefaultInstallNames holds the names the code assumes for the default install to
// config/default: its namespace (engine.DefaultAdminNamespace, the bundle's suggested namespace)
// and the manager's ServiceAccount (admissionpolicy.DefaultOperatorUser, the user the
// `admission-policies` command names by default).
func TestDefaultInstallNames(t *testing.T) {
	objs, errs := manifest.Decode("config/default", render(t, "default", ""))
	for _, e := range errs {
		t.Fatalf("decoding: %v", e)
	}
	var managers []*appsv1.Deployment
	for _, o := range objs {
		if d, ok := o.Obj.(*appsv1.Deployment); ok {
			managers = append(managers, d)
		}
	}
	if len(managers) != 1 {
		t.Fatalf("config/default has %d Deployments, want the manager's", len(managers))
	}
	d := managers[0]
	if d.Namespace != engine.DefaultAdminNamespace {
		t.Errorf("config/default installs into %s; engine.DefaultAdminNamespace is %s", d.Namespace, engine.DefaultAdminNamespace)
	}
	if user := "system:serviceaccount:" + d.Namespace + ":" + d.Spec.Template.Spec.ServiceAccountName; user != admissionpolicy.DefaultOperatorUser() {
		t.Errorf("config/default runs the manager as %s; admissionpolicy.DefaultOperatorUser() is %s", user, admissionpolicy.DefaultOperatorUser())
	}
	dir := t.TempDir()
	generate(t, dir, "")
	csv, err := os.ReadFile(filepath.Join(dir, "manifests", bundle.Package+".clusterserviceversion.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "operatorframework.io/suggested-namespace: " + engine.DefaultAdminNamespace + "\n"; !strings.Contains(string(csv), want) {
		t.Errorf("the bundle's CSV lacks %q", want)
	}
}

func generate(t *testing.T, dir, image string) {
	t.Helper()
	var samples [][]byte
	paths, _ := filepath.Glob(filepath.Join(root, "config", "samples", "compliance_*.yaml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, data)
	}
	desc, _ := os.ReadFile(filepath.Join(root, "config", "manifests", "description.md"))
	icon, _ := os.ReadFile(filepath.Join(root, "config", "manifests", "icon.svg"))
	files, err := bundle.Generate(bundle.Options{Version: "0.1.0", Image: image, Rendered: render(t, "enforcement", image),
		Samples: samples, Description: string(desc), Icon: icon})
	if err != nil {
		t.Fatal(err)
	}
	if err := bundle.Write(dir, files); err != nil {
		t.Fatal(err)
	}
}
