//go:build e2e

package paritytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/internal/scan"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestALaterCopyTheAPIServerRefusesLeavesTheEarlier holds scan's reading of a manifest that
// names one object twice, the later copy one the API server refuses, to the real API server's:
// kubectl apply of internal/checks' fixture fails on the later copy, the cluster holds the
// object as its first copy, and scan judges the route (or ListenerSet) on that copy, failing it
// as the fixture says. It runs on a control plane of its own (with the Gateway API's CRDs and no
// operator): objects it left in the suite's would be results only the operator has, and envtest
// runs no namespace controller, so a namespace deleted there stays Terminating and refuses the
// operator's reports (TestScanAgreesWithTheOperator then fails).
func TestALaterCopyTheAPIServerRefusesLeavesTheEarlier(t *testing.T) {
	gatewayAPI, err := testenv.GatewayAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	env, cfg, err := testenv.Start(func(e *envtest.Environment) {
		e.CRDDirectoryPaths = append(e.CRDDirectoryPaths, gatewayAPI)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	k8s, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := testenv.AdminKubeconfig(env, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	kubectl := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, kubectlPath, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for i, tc := range []struct {
		name string
		// fixture is a file of internal/checks/testdata.
		fixture string
		// create are the namespaces to create first (the fixture's, renamed).
		create []string
		// gvk, ns and obj name the object written twice; held says whether it is the
		// first copy ("" if so).
		gvk     schema.GroupVersionKind
		ns, obj string
		held    func(u *unstructured.Unstructured) string
		// refusal is in kubectl's error; check, kind and name the result scan fails.
		refusal, check, kind, resource string
	}{{
		name:    "a Gateway with two listeners of one name",
		fixture: "net-ingress-tls/fail-httproute-gateway-a-later-copy-the-api-server-refuses-leaves-the-earlier.yaml",
		create:  []string{"shop"},
		gvk:     schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}, ns: "shop", obj: "web",
		held:    firstListener("http"),
		refusal: "Duplicate value", check: "net-ingress-tls", kind: "HTTPRoute", resource: "web",
	}, {
		name:    "a ListenerSet with two listeners of one name",
		fixture: "net-ingress-tls/fail-httproute-on-listenerset-a-later-copy-the-api-server-refuses-leaves-the-earlier.yaml",
		create:  []string{"shop", "infra"},
		gvk:     schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "ListenerSet"}, ns: "shop", obj: "tenant-listeners",
		held:    firstListener("http"),
		refusal: "Duplicate value", check: "net-ingress-tls", kind: "HTTPRoute", resource: "web",
	}, {
		name:    "a ListenerSet's Gateway with two listeners of one name",
		fixture: "net-ingress-tls/fail-httproute-on-listenerset-whose-gateway-a-later-copy-the-api-server-refuses-leaves-the-earlier.yaml",
		create:  []string{"shop", "infra"},
		gvk:     schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}, ns: "infra", obj: "shared",
		held: func(u *unstructured.Unstructured) string {
			if from, _, _ := unstructured.NestedString(u.Object, "spec", "allowedListeners", "namespaces", "from"); from != "All" {
				return "allowedListeners.namespaces.from is " + from + ", want All"
			}
			return ""
		},
		refusal: "Duplicate value", check: "net-ingress-tls", kind: "HTTPRoute", resource: "web",
	}, {
		name:    "a ListenerSet's Gateway with two listeners of one name, in net-service-exposure",
		fixture: "net-service-exposure/fail-listenerset-on-gateway-a-later-copy-the-api-server-refuses-leaves-the-earlier.yaml",
		create:  []string{"shop", "infra"},
		gvk:     schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"}, ns: "infra", obj: "shared",
		held:    firstListener("https"),
		refusal: "Duplicate value", check: "net-service-exposure", kind: "ListenerSet", resource: "db",
	}, {
		name:    "a Namespace with an invalid label key",
		fixture: "net-ingress-tls/fail-httproute-namespace-a-later-copy-the-api-server-refuses-leaves-the-earlier.yaml",
		create:  []string{"infra"},
		gvk:     schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, obj: "shop",
		held: func(u *unstructured.Unstructured) string {
			if u.GetLabels()["gateway-tenant"] != "true" {
				return "no label gateway-tenant=true"
			}
			return ""
		},
		refusal: "metadata.labels", check: "net-ingress-tls", kind: "HTTPRoute", resource: "web",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			// Namespaces of its own for each case.
			prefix := fmt.Sprintf("ecopy%d-", i)
			data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "internal", "checks", "testdata", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			// Every namespace of the fixture, and only they (shop.example.com goes with them).
			doc := strings.NewReplacer("shop", prefix+"shop", "infra", prefix+"infra").Replace(string(data))
			file := filepath.Join(t.TempDir(), "copies.yaml")
			if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, ns := range tc.create {
				if out, err := kubectl(ctx, "create", "namespace", prefix+ns); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
			}
			out, err := kubectl(ctx, "apply", "-f", file)
			if err == nil || !strings.Contains(out, tc.refusal) {
				t.Fatalf("kubectl apply: want the later copy refused (%q), got %v\n%s", tc.refusal, err, out)
			}
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(tc.gvk)
			ns := ""
			if tc.ns != "" {
				ns = prefix + tc.ns
			}
			name := tc.obj
			if tc.gvk.Kind == "Namespace" {
				name = prefix + name
			}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
				t.Fatal(err)
			}
			if why := tc.held(u); why != "" {
				t.Fatalf("%s %s/%s is not its first copy: %s", tc.gvk.Kind, ns, u.GetName(), why)
			}

			var stdout, stderr bytes.Buffer
			if code := scan.Run([]string{"-f", file, "-o", "json", "--show", "all", "--fail-on", "none"}, nil, &stdout, &stderr, time.Now); code != 0 {
				t.Fatalf("scan: exit %d\n%s", code, stderr.String())
			}
			var res struct {
				Results []struct {
					Check, Result, Message string
					Resource               struct{ Kind, Name string }
				}
			}
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range res.Results {
				if r.Check == tc.check && r.Resource.Kind == tc.kind && r.Resource.Name == tc.resource {
					found = true
					if r.Result != "Fail" {
						t.Errorf("scan: %s on %s %s is %s (%s), want Fail: the cluster holds the first copy", tc.check, tc.kind, tc.resource, r.Result, r.Message)
					}
				}
			}
			if !found {
				t.Errorf("scan: no %s result on %s %s\n%s", tc.check, tc.kind, tc.resource, stdout.String())
			}
		})
	}
}

// firstListener says whether a Gateway or ListenerSet's first listener is named name ("" if so).
func firstListener(name string) func(u *unstructured.Unstructured) string {
	return func(u *unstructured.Unstructured) string {
		ls, _, _ := unstructured.NestedSlice(u.Object, "spec", "listeners")
		if len(ls) == 0 {
			return "no listener"
		}
		if l, _ := ls[0].(map[string]any); l["name"] != name {
			return "its first listener is " + l["name"].(string) + ", want " + name
		}
		return ""
	}
}
