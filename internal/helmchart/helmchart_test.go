//go:build e2e

package helmchart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

var (
	root     = testenv.RepoRoot()
	chartDir = filepath.Join(root, "charts", "soc2-operator")

	// Shared by the tests of the package (TestMain): one API server, a cluster-admin kubeconfig
	// for helm and kubectl, and a client.
	env        *envtest.Environment
	cfg        *rest.Config
	k8s        client.Client
	kubeconfig string
	// helmHome holds helm's cache, config and data, so the tests never touch the user's.
	helmHome string
)

// releaseDigest stands for a released image's digest (internal/bundle's releaseImage).
const releaseDigest = "sha256:5f0c9d5d3f1c2b7a0e4d6c8b9a1f2e3d4c5b6a7980f1e2d3c4b5a69788f9e0d1"

func TestMain(m *testing.M) {
	testenv.Main(m, func(m *testing.M) (int, error) {
		dir, err := os.MkdirTemp("", "soc2-helmchart-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		helmHome = dir
		// The chart installs the operator's CRDs itself (crds/), so the API server starts with
		// none of them: only stand-ins for the kinds of other projects the chart can render.
		env, cfg, err = testenv.Start(func(e *envtest.Environment) {
			e.CRDDirectoryPaths = nil
			e.ErrorIfCRDPathMissing = false
			e.CRDs = foreignCRDs()
		})
		if err != nil {
			return 0, err
		}
		defer func() { _ = env.Stop() }()
		if kubeconfig, err = testenv.AdminKubeconfig(env, dir); err != nil {
			return 0, err
		}
		if k8s, err = client.New(cfg, client.Options{Scheme: testenv.Scheme(apiextensionsv1.AddToScheme)}); err != nil {
			return 0, err
		}
		return m.Run(), nil
	})
}

// foreignCRDs stand in for the CRDs of the Prometheus Operator (ServiceMonitor, PrometheusRule)
// and cert-manager (Issuer, Certificate), which the chart renders by value: the API server then
// accepts their objects as it would in a cluster with those projects (any content: their
// schemas are theirs to check).
func foreignCRDs() []*apiextensionsv1.CustomResourceDefinition {
	open := true
	crd := func(group, kind, plural string) *apiextensionsv1.CustomResourceDefinition {
		c := &apiextensionsv1.CustomResourceDefinition{
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: group,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, Plural: plural, ListKind: kind + "List", Singular: strings.ToLower(kind)},
				Scope: apiextensionsv1.NamespaceScoped,
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
					Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", XPreserveUnknownFields: &open,
					}},
				}},
			},
		}
		c.Name = plural + "." + group
		return c
	}
	return []*apiextensionsv1.CustomResourceDefinition{
		crd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors"),
		crd("monitoring.coreos.com", "PrometheusRule", "prometheusrules"),
		crd("cert-manager.io", "Issuer", "issuers"),
		crd("cert-manager.io", "Certificate", "certificates"),
	}
}

var helmPath string

// helmBin is the helm CLI: $SOC2_HELM (make test sets it), else what hack/tool.sh helm prints
// (it builds helm v4.3.1 once from the Go module proxy into a cache outside the checkout).
func helmBin(t *testing.T) string {
	t.Helper()
	if helmPath != "" {
		return helmPath
	}
	if bin := os.Getenv("SOC2_HELM"); bin != "" {
		helmPath = bin
		return bin
	}
	cmd := exec.Command(filepath.Join(root, "hack", "tool.sh"), "helm")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("SOC2_HELM is not set and hack/tool.sh helm could not build helm: %v (make test sets SOC2_HELM; `make helm` builds it)", err)
	}
	helmPath = strings.TrimSpace(string(out))
	return helmPath
}

// helm runs the helm CLI and returns its standard output, and an error carrying its standard
// error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
		"KUBECONFIG="+kubeconfig,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()+"\n"+stdout.String()))
	}
	return stdout.String(), nil
}

// combination is one documented values file of charts/soc2-operator/ci.
type combination struct{ name, file string }

func combinations(t *testing.T) []combination {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no values files in charts/soc2-operator/ci (%v)", err)
	}
	var out []combination
	for _, p := range paths {
		out = append(out, combination{strings.TrimSuffix(filepath.Base(p), "-values.yaml"), p})
	}
	return out
}

// render is `helm template soc2-operator charts/soc2-operator -n soc2-operator-system
// --include-crds` with the values files and --set flags given.
func render(t *testing.T, files []string, sets ...string) []byte {
	t.Helper()
	args := []string{"template", "soc2-operator", chartDir, "--namespace", "soc2-operator-system", "--include-crds"}
	for _, f := range files {
		args = append(args, "--values", f)
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

// decode parses a multi-document YAML stream into objects, failing on anything that is not a
// named Kubernetes object. Numbers come out as float64 (the decoder goes through JSON).
func decode(t *testing.T, what string, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: the output does not parse: %v", what, err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			t.Fatalf("%s: an object without apiVersion, kind or name: %v", what, m)
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no objects", what)
	}
	return out
}

func key(u *unstructured.Unstructured) string { return u.GetKind() + "/" + u.GetName() }

func byKey(t *testing.T, objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	m := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if _, dup := m[key(o)]; dup {
			t.Fatalf("two objects %s", key(o))
		}
		m[key(o)] = o
	}
	return m
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// diff lists the paths where a and b differ, with both values.
func diff(a, b any, path string, out *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %v != %v", path, a, b))
			return
		}
		for _, k := range keys(union(av, bv)) {
			diff(av[k], bv[k], path+"."+k, out)
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			*out = append(*out, fmt.Sprintf("%s: %v != %v", path, a, b))
			return
		}
		for i := range av {
			diff(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, fmt.Sprintf("%s: %v != %v", path, a, b))
		}
	}
}

func union(a, b map[string]any) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}
