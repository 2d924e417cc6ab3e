package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestTheWebhookStopsJudgingAnAddOnKindNoLongerServed: Trivy Operator's VulnerabilityReports are
// served at v1alpha1 when the operator starts, so its cache watches them there. A report names two
// critical vulnerabilities in the image of StatefulSet cache, in a namespace whose profile
// enforces High (the webhook denies it, img-critical-cves) and in one whose profile warns (it
// admits it with a warning). Then the CRD is upgraded to serve another version only: the
// informer can no longer list or watch v1alpha1 and the cache holds the reports as they were,
// for as long as the process runs. The reports' full evaluations ask discovery (inventory.Gone)
// and say NotAssessed, naming the restart it takes. The webhook did not:
//
//   - its confirmation of the denial with the API server listed VulnerabilityReports at
//     v1alpha1, got not found, and answered "could not judge": the failurePolicy (Ignore by
//     default) admitted the StatefulSet unjudged, whatever else it failed (a privileged
//     container too, wl-privileged refused under Enforce), for as long as the process ran. It
//     now reads the kind as unseen, as the reports do;
//   - under Warn it went on warning about the frozen report at every tick of its clock. It now
//     asks again at each tick (WithRecheck), on every replica (the reports' rechecks run on the
//     leader alone), and judges the kind unseen.
func TestTheWebhookStopsJudgingAnAddOnKindNoLongerServed(t *testing.T) {
	_, cfg, k, disco := addOnEnv(t)
	ctx := context.Background()
	crd := vulnerabilityReportCRD(t, "v1alpha1")
	const enforced, warned = "frozen-addon", "frozen-addon-warn"
	imageProfile(t, k, enforced, v1alpha1.EnforcementEnforce)
	imageProfile(t, k, warned, v1alpha1.EnforcementWarn)
	srv, ticks := recheckingWebhook(t, cfg)
	judgedOnTheReport(t, srv.URL, enforced, warned)

	// The upgrade: v1alpha2 served and stored, v1alpha1 no longer served.
	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(crd.GroupVersionKind())
	if err := k.Get(ctx, client.ObjectKeyFromObject(crd), current); err != nil {
		t.Fatal(err)
	}
	upgraded := vulnerabilityReportCRD(t, "v1alpha2")
	upgraded.SetResourceVersion(current.GetResourceVersion())
	if err := k.Update(ctx, upgraded); err != nil {
		t.Fatal(err)
	}
	waitVulnerabilityReportsServed(t, disco, "aquasecurity.github.io/v1alpha1", false)
	judgedWithoutTheReport(t, srv.URL, ticks, enforced, warned, "no longer served")
}

// addOnEnv starts a control plane of the test's own (it changes what the API server serves or
// allows, which the package's shared one must not see) that serves Trivy Operator's
// VulnerabilityReports at v1alpha1, and returns it, its configuration, a client and a discovery
// client.
func addOnEnv(t *testing.T) (*envtest.Environment, *rest.Config, client.Client, discovery.DiscoveryInterface) {
	t.Helper()
	env, cfg, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	k, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Create(context.Background(), vulnerabilityReportCRD(t, "v1alpha1")); err != nil {
		t.Fatal(err)
	}
	waitVulnerabilityReportsServed(t, disco, "aquasecurity.github.io/v1alpha1", true)
	return env, cfg, k, disco
}

// recheckingWebhook starts the operator as the user of cfg with the workload webhook alone,
// rechecking what it may read at each minute of the returned clock (WithRecheck), and serves
// the webhook.
func recheckingWebhook(t *testing.T, cfg *rest.Config) (*httptest.Server, *testingclock.FakeClock) {
	t.Helper()
	ticks := testingclock.NewFakeClock(time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC))
	var v *webhook.WorkloadValidator
	operator, err := testenv.StartOperator(cfg, testenv.OperatorOptions{
		Scheme: scheme,
		Cache:  controllers.CacheOptions(),
		Setup: func(mgr ctrl.Manager) error {
			var err error
			v, err = webhook.New(mgr, adminNamespace, webhook.WithRecheck(ticks, time.Minute))
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = operator.Stop() })
	srv := httptest.NewServer(webhook.Handler(v))
	t.Cleanup(srv.Close)
	return srv, ticks
}

// reportedImage is the image imageProfile's VulnerabilityReport is of.
const reportedImage = "registry.example.com/mirror/redis:7.0.4"

// judgedOnTheReport waits until the webhook at url denies StatefulSet cache in namespace
// enforced on its image's critical vulnerabilities (img-critical-cves) and warns of them in
// namespace warned.
func judgedOnTheReport(t *testing.T, url, enforced, warned string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "the denial of StatefulSet cache on its image's critical vulnerabilities", func() error {
		r := send(t, url, creatingStatefulSet(t, enforced, "cache", reportedImage, false), "")
		if r == nil || r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "img-critical-cves") {
			return fmt.Errorf("answer %+v", r)
		}
		return nil
	})
	if r := send(t, url, creatingStatefulSet(t, warned, "cache", reportedImage, false), ""); r == nil || !r.Allowed ||
		!strings.Contains(strings.Join(r.Warnings, "\n"), "img-critical-cves") {
		t.Fatalf("under Warn: want an admission warning of img-critical-cves, got %+v", r)
	}
}

// judgedWithoutTheReport checks that the webhook at url, the report being why (no longer served,
// no longer readable), judges StatefulSet cache in namespace enforced before its clock ticks
// (admitted, img-critical-cves NotAssessed: not left to the failurePolicy) and refuses a
// privileged one on wl-privileged alone, and that once the clock ticks it no longer warns of the
// frozen report in namespace warned.
func judgedWithoutTheReport(t *testing.T, url string, ticks *testingclock.FakeClock, enforced, warned, why string) {
	t.Helper()
	if r := send(t, url, creatingStatefulSet(t, enforced, "cache", reportedImage, false), ""); r == nil || !r.Allowed {
		t.Errorf("StatefulSet cache, its report %s: want it admitted (img-critical-cves NotAssessed), got %+v", why, r)
	}
	r := send(t, url, creatingStatefulSet(t, enforced, "cache", reportedImage, true), "")
	if r == nil || r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "wl-privileged") || strings.Contains(r.Result.Message, "img-critical-cves") {
		t.Errorf("a privileged StatefulSet cache, its report %s: want a denial on wl-privileged alone, got %+v", why, r)
	}
	testenv.Eventually(t, 30*time.Second, "no warning of the frozen report under Warn", func() error {
		ticks.Step(time.Minute)
		r := send(t, url, creatingStatefulSet(t, warned, "cache", reportedImage, false), "")
		if r == nil || !r.Allowed || len(r.Warnings) > 0 {
			return fmt.Errorf("answer %+v", r)
		}
		return nil
	})
}

// imageProfile creates namespace ns, a profile of its name that selects it and runs
// img-critical-cves and wl-privileged alone, at mode and High, and a VulnerabilityReport of two
// critical vulnerabilities in the image of container redis of StatefulSet cache.
func imageProfile(t *testing.T, k client.Client, ns string, mode v1alpha1.EnforcementMode) {
	t.Helper()
	ctx := context.Background()
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"enforce-test": ns}}}); err != nil {
		t.Fatal(err)
	}
	p := &v1alpha1.ComplianceProfile{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: v1alpha1.ComplianceProfileSpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"enforce-test": ns}},
			Enforcement:       &v1alpha1.Enforcement{Mode: mode, Severity: v1alpha1.SeverityHigh},
		},
	}
	no := false
	for _, c := range checks.Catalogue() {
		if c.ID != "img-critical-cves" && c.ID != "wl-privileged" {
			p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
		}
	}
	if err := k.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	report := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(fmt.Sprintf(`
apiVersion: aquasecurity.github.io/v1alpha1
kind: VulnerabilityReport
metadata:
  name: statefulset-cache-redis
  namespace: %[1]s
  labels:
    trivy-operator.container.name: redis
    trivy-operator.resource.kind: StatefulSet
    trivy-operator.resource.name: cache
    trivy-operator.resource.namespace: %[1]s
report:
  updateTimestamp: "2026-06-01T06:00:00Z"
  artifact: {repository: mirror/redis, tag: 7.0.4}
  registry: {server: registry.example.com}
  scanner: {name: Trivy, vendor: Aqua Security, version: 0.57.1}
  summary: {criticalCount: 2, highCount: 5, mediumCount: 11, lowCount: 30, unknownCount: 0}
`, ns)), &report.Object); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, report); err != nil {
		t.Fatal(err)
	}
}

// creatingStatefulSet is the admission request for creating a StatefulSet of one container,
// redis, running image, privileged or not.
func creatingStatefulSet(t *testing.T, ns, name, image string, privileged bool) *admissionv1.AdmissionRequest {
	t.Helper()
	labels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "redis", Image: image}}},
			},
		},
	}
	if privileged {
		s.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &privileged}
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return &admissionv1.AdmissionRequest{UID: types.UID("create-statefulset-" + ns + "-" + name), Operation: admissionv1.Create, Namespace: ns, Name: name,
		Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, Object: runtime.RawExtension{Raw: raw}}
}

// vulnerabilityReportCRD is Trivy Operator's VulnerabilityReport CRD (schema left open) serving
// only version served; v1alpha1 stays listed, unserved, as an upgrade must keep it.
func vulnerabilityReportCRD(t *testing.T, served string) *unstructured.Unstructured {
	t.Helper()
	version := func(name string) string {
		return fmt.Sprintf(`
  - name: %s
    served: %t
    storage: %t
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true`, name, name == served, name == served)
	}
	versions := version("v1alpha1")
	if served != "v1alpha1" {
		versions += version(served)
	}
	crd := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: vulnerabilityreports.aquasecurity.github.io
spec:
  group: aquasecurity.github.io
  scope: Namespaced
  names:
    kind: VulnerabilityReport
    listKind: VulnerabilityReportList
    plural: vulnerabilityreports
    singular: vulnerabilityreport
  versions:`+versions+"\n"), &crd.Object); err != nil {
		t.Fatal(err)
	}
	return crd
}

// waitVulnerabilityReportsServed waits until discovery says whether gv serves VulnerabilityReport.
func waitVulnerabilityReportsServed(t *testing.T, d discovery.ServerResourcesInterface, gv string, want bool) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("discovery of %s serving VulnerabilityReport: %t", gv, want), func() error {
		list, err := d.ServerResourcesForGroupVersion(gv)
		served := false
		if err == nil {
			for _, r := range list.APIResources {
				served = served || r.Kind == "VulnerabilityReport"
			}
		} else if !apierrors.IsNotFound(err) {
			return err
		}
		if served != want {
			return fmt.Errorf("VulnerabilityReport served %t", served)
		}
		return nil
	})
}
