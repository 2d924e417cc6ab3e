//go:build e2e

package helmchart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

const namespace = "soc2-operator-system"

// TestHelmInstallOnAnAPIServer installs the chart with `helm install` on a real API server, as
// docs/helm.md says (namespace created and labelled first): with the defaults, and with every
// option on (ci/full-values.yaml) as a second release beside it. Every object the chart renders
// is then on the server, the CRDs from crds/ included. Every documented combination is
// applied with a server-side dry run (`kubectl apply --server-side --dry-run=server`), so the API
// server validates each of its objects too. The Prometheus Operator's and cert-manager's kinds
// are accepted through stand-in CRDs (foreignCRDs): their schemas are not the chart's to test.
// Then `helm upgrade` turns the webhook on and off again, and `helm uninstall` removes a release.
func TestHelmInstallOnAnAPIServer(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{}
	ns.Name = namespace
	ns.Labels = map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}
	if err := k8s.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	t.Run("defaults", func(t *testing.T) {
		if _, err := helm(t, "install", "soc2-operator", chartDir, "--namespace", namespace); err != nil {
			t.Fatal(err)
		}
		onServer(t, render(t, nil))
		for _, crd := range []string{"complianceprofiles", "controlexceptions", "compliancereports"} {
			established(t, crd+".compliance.soc2-operator.io")
		}
	})
	t.Run("every option, as a second release", func(t *testing.T) {
		full := chartDir + "/ci/full-values.yaml"
		if _, err := helm(t, "install", "full", chartDir, "--namespace", namespace, "--values", full); err != nil {
			t.Fatal(err)
		}
		out, err := helm(t, "template", "full", chartDir, "--namespace", namespace, "--values", full)
		if err != nil {
			t.Fatal(err)
		}
		onServer(t, []byte(out))
		established(t, "policyreports.wgpolicyk8s.io")
		list, err := helm(t, "list", "--namespace", namespace, "--deployed", "--short")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(list); len(got) != 2 {
			t.Errorf("helm list shows %v, want both releases deployed", got)
		}
	})
	t.Run("every combination, server-side dry run", func(t *testing.T) {
		kubectl, err := testenv.Kubectl()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range combinations(t) {
			t.Run(c.name, func(t *testing.T) {
				// No --include-crds: the CRDs are on the server since the install above.
				out, err := helm(t, "template", "soc2-operator", chartDir, "--namespace", namespace, "--values", c.file)
				if err != nil {
					t.Fatal(err)
				}
				// --force-conflicts: the objects of the release installed above are Helm's; the
				// dry run changes nothing.
				cmd := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "--force-conflicts",
					"--dry-run=server", "--field-manager", "helmchart-test", "-f", "-")
				cmd.Stdin = strings.NewReader(out)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				stdout, err := cmd.Output()
				if err != nil {
					t.Fatalf("kubectl apply --dry-run=server: %v\n%s", err, stderr.String())
				}
				if n, want := strings.Count(string(stdout), "(server dry run)"), len(decode(t, c.file, []byte(out))); n != want {
					t.Errorf("%d of %d objects applied:\n%s", n, want, stdout)
				}
			})
		}
	})
	t.Run("helm upgrade turns the webhook on and off", func(t *testing.T) {
		wh := &unstructured.Unstructured{}
		wh.SetAPIVersion("admissionregistration.k8s.io/v1")
		wh.SetKind("ValidatingWebhookConfiguration")
		whKey := client.ObjectKey{Name: "soc2-operator-validating-webhook-configuration"}
		if _, err := helm(t, "upgrade", "soc2-operator", chartDir, "--namespace", namespace, "--set", "webhook.enabled=true"); err != nil {
			t.Fatal(err)
		}
		onServer(t, render(t, nil, "webhook.enabled=true"))
		if err := k8s.Get(ctx, whKey, wh); err != nil {
			t.Fatalf("after the upgrade: %v", err)
		}
		// An upgrade with no values at all reuses the release's (Helm's rule), so turning the
		// webhook off takes saying so.
		if _, err := helm(t, "upgrade", "soc2-operator", chartDir, "--namespace", namespace, "--set", "webhook.enabled=false"); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 30*time.Second, "the webhook configuration is removed", func() error {
			if err := k8s.Get(ctx, whKey, wh); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
		onServer(t, render(t, nil))
	})
	t.Run("helm uninstall removes the release and keeps the CRDs", func(t *testing.T) {
		if _, err := helm(t, "uninstall", "full", "--namespace", namespace); err != nil {
			t.Fatal(err)
		}
		d := &unstructured.Unstructured{}
		d.SetAPIVersion("apps/v1")
		d.SetKind("Deployment")
		testenv.Eventually(t, 30*time.Second, "the full release's Deployment is deleted", func() error {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "full-soc2-operator-controller-manager"}, d)
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err == nil {
				return errStill
			}
			return err
		})
		established(t, "complianceprofiles.compliance.soc2-operator.io")
	})
}

var errStill = errors.New("not yet")

// onServer fails for each rendered object the API server does not have.
func onServer(t *testing.T, rendered []byte) {
	t.Helper()
	ctx := context.Background()
	objs := decode(t, "rendered", rendered)
	for _, o := range objs {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(o.GroupVersionKind())
		ns := o.GetNamespace()
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.GetName()}, got); err != nil {
			t.Errorf("%s %s/%s is not on the server: %v", o.GetKind(), ns, o.GetName(), err)
		}
	}
	if len(objs) < 15 {
		t.Errorf("only %d objects rendered", len(objs))
	}
}

func established(t *testing.T, name string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "CRD "+name+" established", func() error {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, crd); err != nil {
			return err
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return nil
			}
		}
		return errStill
	})
}
