//go:build e2e

package helmchart

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestChartLintsStrictly: `helm lint --strict` (warnings fail) passes with the defaults and with
// every documented values combination.
func TestChartLintsStrictly(t *testing.T) {
	if out, err := helm(t, "lint", "--strict", chartDir); err != nil {
		t.Errorf("defaults: %v", err)
	} else if !strings.Contains(out, "1 chart(s) linted, 0 chart(s) failed") {
		t.Errorf("defaults: unexpected lint output:\n%s", out)
	}
	for _, c := range combinations(t) {
		t.Run(c.name, func(t *testing.T) {
			if _, err := helm(t, "lint", "--strict", "--values", c.file, chartDir); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestEveryCombinationRenders: `helm template` of each documented values combination succeeds,
// parses into named objects, and shows what the combination turns on.
func TestEveryCombinationRenders(t *testing.T) {
	checks := map[string]func(t *testing.T, objs map[string]*unstructured.Unstructured){
		"default": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			for _, k := range []string{"ValidatingWebhookConfiguration/soc2-operator-validating-webhook-configuration",
				"ServiceMonitor/soc2-operator-controller-manager-metrics-monitor", "PrometheusRule/soc2-operator-alerts",
				"ClusterRole/soc2-operator-policyreport-writer", "Namespace/soc2-operator-system", "Service/soc2-operator-ui"} {
				if objs[k] != nil {
					t.Errorf("the defaults render %s", k)
				}
			}
			if got := image(t, objs); got != "ghcr.io/soc2-operator/soc2-operator:v0.1.0" {
				t.Errorf("image %s, want the tag of the appVersion", got)
			}
		},
		"digest-pinned": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			if got := image(t, objs); got != "ghcr.io/soc2-operator/soc2-operator@"+releaseDigest {
				t.Errorf("image %s, want repository@digest", got)
			}
		},
		"webhook-enforcement": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			wh := must(t, objs, "ValidatingWebhookConfiguration/soc2-operator-validating-webhook-configuration")
			if got := str(t, wh, "webhooks", 0, "failurePolicy"); got != "Fail" {
				t.Errorf("failurePolicy %s, want Fail", got)
			}
			if got := wh.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != "soc2-operator-system/soc2-operator-serving-cert" {
				t.Errorf("inject-ca-from %q", got)
			}
			must(t, objs, "Certificate/soc2-operator-serving-cert")
			must(t, objs, "Issuer/soc2-operator-selfsigned-issuer")
			must(t, objs, "Service/soc2-operator-webhook-service")
			hasArg(t, objs, "--enable-webhook")
			hasArg(t, objs, "--webhook-judgements=4")
			hasArg(t, objs, "--webhook-client-ca=/etc/soc2-operator/webhook-client-ca/ca.crt")
			hasArg(t, objs, "--webhook-client-name=kube-apiserver-webhook-client")
			if got := volumeSecret(t, objs, "webhook-client-ca"); got != "soc2-operator-webhook-client-ca" {
				t.Errorf("webhook-client-ca volume from Secret %q", got)
			}
		},
		"webhook-own-certificate": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			wh := must(t, objs, "ValidatingWebhookConfiguration/soc2-operator-validating-webhook-configuration")
			if str(t, wh, "webhooks", 0, "clientConfig", "caBundle") == "" {
				t.Error("no caBundle")
			}
			if _, ok := wh.GetAnnotations()["cert-manager.io/inject-ca-from"]; ok {
				t.Error("cert-manager's annotation without cert-manager")
			}
			if objs["Certificate/soc2-operator-serving-cert"] != nil || objs["Issuer/soc2-operator-selfsigned-issuer"] != nil {
				t.Error("cert-manager objects without cert-manager")
			}
			if got := volumeSecret(t, objs, "webhook-cert"); got != "soc2-operator-webhook-tls" {
				t.Errorf("webhook-cert volume from Secret %q, want the certSecret", got)
			}
		},
		"monitoring": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			sm := must(t, objs, "ServiceMonitor/soc2-operator-controller-manager-metrics-monitor")
			if sm.GetLabels()["release"] != "prometheus" || str(t, sm, "spec", "endpoints", 0, "interval") != "1m" {
				t.Errorf("the ServiceMonitor ignores its values: %v", sm.Object)
			}
			pr := must(t, objs, "PrometheusRule/soc2-operator-alerts")
			var want struct {
				Spec map[string]any `json:"spec"`
			}
			data, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "prometheusrule.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pr.Object["spec"], want.Spec) {
				var d []string
				diff(pr.Object["spec"], want.Spec, "spec", &d)
				t.Errorf("the PrometheusRule's spec differs from config/prometheus/prometheusrule.yaml (run make chart):\n%s", strings.Join(d, "\n"))
			}
		},
		"policyreports": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			must(t, objs, "ClusterRole/soc2-operator-policyreport-writer")
			b := must(t, objs, "ClusterRoleBinding/soc2-operator-policyreport-writer")
			if got := str(t, b, "subjects", 0, "name"); got != "soc2-operator-controller-manager" {
				t.Errorf("the writer is bound to %s", got)
			}
			must(t, objs, "CustomResourceDefinition/policyreports.wgpolicyk8s.io")
			must(t, objs, "CustomResourceDefinition/clusterpolicyreports.wgpolicyk8s.io")
		},
		"evidence-store": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			hasArg(t, objs, "--journal-store=s3://soc2-evidence/journals?region=eu-west-1&lock-mode=compliance&retain-days=400")
			hasArg(t, objs, "--cluster-name=prod-eu-1")
			hasArg(t, objs, "--journal-signing-key=/etc/soc2-operator/journal/key.pem")
			hasArg(t, objs, "--journal-attestation-interval=24h")
			if got := volumeSecret(t, objs, "journal-signing-key"); got != "soc2-journal-signing-key" {
				t.Errorf("signing key volume from %q", got)
			}
			sa := must(t, objs, "ServiceAccount/soc2-operator-controller-manager")
			if sa.GetAnnotations()["eks.amazonaws.com/role-arn"] == "" {
				t.Error("the ServiceAccount lacks the IRSA annotation")
			}
		},
		"evidence-directory": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			hasArg(t, objs, "--journal-store=/var/lib/soc2-operator/journal")
			hasArg(t, objs, "--journal-attestation-interval=12h")
			d := must(t, objs, "Deployment/soc2-operator-controller-manager")
			vs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
			claim := ""
			for _, v := range vs {
				if c, ok, _ := unstructured.NestedString(v.(map[string]any), "persistentVolumeClaim", "claimName"); ok {
					claim = c
				}
			}
			if claim != "soc2-journal" {
				t.Errorf("the journal's claim: %q", claim)
			}
		},
		"ha": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			d := must(t, objs, "Deployment/soc2-operator-controller-manager")
			if n, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); n != float64(3) {
				t.Errorf("replicas %v", n)
			}
			pdb := must(t, objs, "PodDisruptionBudget/soc2-operator-controller-manager")
			if n, _, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "minAvailable"); n != float64(2) {
				t.Errorf("minAvailable %v", n)
			}
			hasArg(t, objs, "--kube-api-qps=100")
			hasArg(t, objs, "--kube-api-burst=200")
		},
		"dashboard-alerts": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			hasArg(t, objs, "--ui-bind-address=:8082")
			must(t, objs, "Service/soc2-operator-ui")
			must(t, objs, "NetworkPolicy/soc2-operator-allow-ui-traffic")
			if got := volumeSecret(t, objs, "alert-slack"); got != "soc2-slack-webhook" {
				t.Errorf("the alert sink's Secret volume: %q", got)
			}
		},
		"gitops": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			ns := must(t, objs, "Namespace/soc2-operator-system")
			if ns.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
				t.Errorf("the Namespace is not Pod Security restricted: %v", ns.GetLabels())
			}
			hasArg(t, objs, "--manage-admission-policies=false")
			hasArg(t, objs, "--log-format=console")
			hasArg(t, objs, "--log-level=debug")
		},
		"full": func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			for _, k := range []string{"ValidatingWebhookConfiguration/soc2-operator-validating-webhook-configuration",
				"ServiceMonitor/soc2-operator-controller-manager-metrics-monitor", "PrometheusRule/soc2-operator-alerts",
				"ClusterRole/soc2-operator-policyreport-writer", "Service/soc2-operator-ui", "Certificate/soc2-operator-serving-cert"} {
				must(t, objs, k)
			}
		},
	}
	for _, c := range combinations(t) {
		t.Run(c.name, func(t *testing.T) {
			check, ok := checks[c.name]
			if !ok {
				t.Fatalf("%s has no check here: add one saying what it turns on", c.file)
			}
			objs := byKey(t, decode(t, c.file, render(t, []string{c.file})))
			for _, k := range []string{"CustomResourceDefinition/complianceprofiles.compliance.soc2-operator.io",
				"Deployment/soc2-operator-controller-manager", "ClusterRole/soc2-operator-manager-role"} {
				must(t, objs, k)
			}
			check(t, objs)
		})
	}
}

// TestSchemaRefusesBadValues: values.schema.json stops a mistake at `helm install` with a message
// naming the value.
func TestSchemaRefusesBadValues(t *testing.T) {
	for name, tc := range map[string]struct {
		sets []string
		want []string
	}{
		"replicas given as a word": {
			sets: []string{"replicaCount=two"},
			want: []string{"replicaCount", "got string, want integer"},
		},
		"a digest without sha256:": {
			sets: []string{"image.digest=5f0c9d5d3f1c2b7a0e4d6c8b9a1f2e3d4c5b6a7980f1e2d3c4b5a69788f9e0d1"},
			want: []string{"image/digest", "does not match pattern"},
		},
		"a misspelt value": {
			sets: []string{"replicas=3"},
			want: []string{"additional properties 'replicas' not allowed"},
		},
		"a failure policy the API server does not know": {
			sets: []string{"webhook.failurePolicy=Sometimes"},
			want: []string{"webhook/failurePolicy", "Ignore", "Fail"},
		},
		"the webhook without cert-manager or a certificate": {
			sets: []string{"webhook.enabled=true", "webhook.certManager.enabled=false"},
			want: []string{"webhook/certSecret", "webhook/caBundle"},
		},
		"a journal store without a cluster name": {
			sets: []string{"journal.store=s3://bucket/journals?region=eu-west-1"},
			want: []string{"journal/clusterName"},
		},
		"an unknown log format": {
			sets: []string{"logging.format=xml"},
			want: []string{"logging/format", "json", "console"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"template", "soc2-operator", chartDir}
			for _, s := range tc.sets {
				args = append(args, "--set", s)
			}
			_, err := helm(t, args...)
			if err == nil {
				t.Fatalf("helm template accepted %v", tc.sets)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func must(t *testing.T, objs map[string]*unstructured.Unstructured, k string) *unstructured.Unstructured {
	t.Helper()
	o := objs[k]
	if o == nil {
		t.Fatalf("no %s among %v", k, keys(objs))
	}
	return o
}

// str reads a string at a path of map keys and list indexes.
func str(t *testing.T, o *unstructured.Unstructured, path ...any) string {
	t.Helper()
	var cur any = o.Object
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[p]
		case int:
			l, _ := cur.([]any)
			if p >= len(l) {
				return ""
			}
			cur = l[p]
		}
	}
	s, _ := cur.(string)
	return s
}

func manager(t *testing.T, objs map[string]*unstructured.Unstructured) map[string]any {
	t.Helper()
	d := must(t, objs, "Deployment/soc2-operator-controller-manager")
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("%d containers", len(cs))
	}
	return cs[0].(map[string]any)
}

func image(t *testing.T, objs map[string]*unstructured.Unstructured) string {
	t.Helper()
	s, _ := manager(t, objs)["image"].(string)
	return s
}

func hasArg(t *testing.T, objs map[string]*unstructured.Unstructured, arg string) {
	t.Helper()
	args, _, _ := unstructured.NestedStringSlice(manager(t, objs), "args")
	for _, a := range args {
		if a == arg {
			return
		}
	}
	t.Errorf("the manager's args lack %s: %v", arg, args)
}

func volumeSecret(t *testing.T, objs map[string]*unstructured.Unstructured, volume string) string {
	t.Helper()
	d := must(t, objs, "Deployment/soc2-operator-controller-manager")
	vs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	for _, v := range vs {
		v := v.(map[string]any)
		if v["name"] == volume {
			s, _, _ := unstructured.NestedString(v, "secret", "secretName")
			return s
		}
	}
	t.Errorf("no volume %s", volume)
	return ""
}
