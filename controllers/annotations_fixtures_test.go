package controllers

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestTrimmedAnnotationsAreJudgedAsWhole: every fixture of the check catalogue, with 20 KiB of
// annotations added to each object whose annotations the cache trims (trimsAnnotations, and
// 900 tiny ones that fill what it keeps of the smallest), is
// judged by every built-in check to the same results (status and message) whole and as the
// cache keeps it (inventory.TrimAnnotations, then inventory.CachedObject): the trim changes no
// built-in verdict. A custom check of a fixture's profile may be NotAssessed where it read the
// annotations.
func TestTrimmedAnnotationsAreJudgedAsWhole(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "internal", "checks", "testdata", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	pad := trimPadded(nil)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) // the fixtures' clock (internal/checks fixtureNow)
	trimmed := 0
	for _, long := range []bool{false, true} {
		for _, file := range files {
			trimmed += judgedTrimmedAndWhole(t, file, pad, now, long)
		}
	}
	if trimmed == 0 {
		t.Fatal("no object was trimmed")
	}
	t.Logf("%d fixtures, %d objects trimmed", len(files), trimmed)
}

// longIngress makes an Ingress's annotations as long as a tenant may: 12 more snippet
// annotations than net-ingress-snippets names (each 2 KiB), 12 auth-urls that carry nginx
// syntax, 12 mirror-hosts that carry none and 12 HAProxy request-set-headers, half of which end
// their quotes, 12 HAProxy set-hosts, path-rewrites, request-redirects, src-ip-headers, request-captures and auth-realms, half of which comment out their
// condition, and 12 cors-allow-headers (cors-allow-origins), half of which end their quotes (close their ACL), 12 auth-secrets, half of which name another
// namespace's Secret, under prefixes of their own, 9 more server aliases than
// net-ingress-host-hygiene names (one of 2 KiB), and each annotation the checks read 2 KiB
// longer (blank space before it; zeros before a number), so that
// the cache keeps stand-ins of them (checks.ReduceIngressAnnotations).
func longIngress(a map[string]string) {
	for k, v := range a {
		if !checks.IngressReadsAnnotation(k) {
			continue
		}
		if _, err := strconv.Atoi(v); err == nil {
			a[k] = strings.Repeat("0", 2<<10) + v
		} else {
			a[k] = strings.Repeat(" ", 2<<10) + v
		}
	}
	for i := range 12 {
		a[fmt.Sprintf("nginx.ingress.kubernetes.io/tenant-%02d-snippet", i)] = strings.Repeat("#", 2<<10)
		// And, under prefixes of their own (an ingress-nginx --annotations-prefix), 12 auth-urls
		// that carry nginx syntax, which the cache keeps after the snippets it names, and 12
		// that carry none, which no check reads.
		a[fmt.Sprintf("tenant-%02d.example.com/auth-url", i)] = "http://auth.example/;" + strings.Repeat("x", 2<<10)
		a[fmt.Sprintf("tenant-%02d.example.com/mirror-host", i)] = strings.Repeat("m", 2<<10) + ".example.com"
		// And 12 permanent-redirects, half of which end their return directive (a ;) and half
		// of which carry a fragment's #, the URL's own.
		redirect := "; return 200"
		if i%2 == 1 {
			redirect = "#top"
		}
		a[fmt.Sprintf("tenant-%02d.example.com/permanent-redirect", i)] = "https://" + strings.Repeat("d", 2<<10) + ".example.com/" + redirect
		// And 12 HAProxy request-set-headers, half of which end their quotes (the cache keeps
		// them as the auth-urls above) and half of which do not, a quote escaped.
		quote := `"`
		if i%2 == 1 {
			quote = `\"`
		}
		a[fmt.Sprintf("tenant-%02d.example.com/request-set-header", i)] = "X-Tenant " + strings.Repeat("h", 2<<10) + quote + " #"
		// And 12 HAProxy set-hosts, path-rewrites, request-redirects and src-ip-headers, half of which comment out the rule's
		// condition (the cache keeps them as the auth-urls above) and half of which escape it.
		comment := "#"
		if i%2 == 1 {
			comment = `\#`
		}
		a[fmt.Sprintf("tenant-%02d.example.com/set-host", i)] = strings.Repeat("s", 2<<10) + ".example.com" + comment
		a[fmt.Sprintf("tenant-%02d.example.com/path-rewrite", i)] = "(.*) /" + strings.Repeat("p", 2<<10) + comment
		a[fmt.Sprintf("tenant-%02d.example.com/request-redirect", i)] = "https://" + strings.Repeat("r", 2<<10) + ".example.com" + comment
		a[fmt.Sprintf("tenant-%02d.example.com/src-ip-header", i)] = "X-" + strings.Repeat("i", 2<<10) + ")" + comment
		a[fmt.Sprintf("tenant-%02d.example.com/request-capture", i)] = "req.hdr(" + strings.Repeat("c", 2<<10) + ") len 64 " + comment
		a[fmt.Sprintf("tenant-%02d.example.com/auth-realm", i)] = strings.Repeat("r", 2<<10) + comment
		// And 12 HAProxy cors-allow-headers, half of which end their quotes, and 12
		// cors-allow-origins, half of which close their ACL and half of which keep the brace in a word.
		a[fmt.Sprintf("tenant-%02d.example.com/cors-allow-headers", i)] = "X-" + strings.Repeat("h", 2<<10) + quote + "#"
		brace := "}"
		if i%2 == 1 {
			brace = `}x`
		}
		a[fmt.Sprintf("tenant-%02d.example.com/cors-allow-origin", i)] = "^https://" + strings.Repeat("o", 2<<10) + "$ " + brace + " || { always_true"
		// And 12 auth-secrets, half of which name another namespace's Secret (the cache keeps
		// them as the auth-urls above) and half of which name the Ingress's own.
		secret := fmt.Sprintf("other-%02d/", i)
		if i%2 == 1 {
			secret = ""
		}
		a[fmt.Sprintf("tenant-%02d.example.com/auth-secret", i)] = secret + strings.Repeat("a", 2<<10)
	}
	if v, ok := a["nginx.ingress.kubernetes.io/server-alias"]; ok {
		// And 8 more wildcards, one of them 2 KiB.
		for i := range 8 {
			v += fmt.Sprintf(", *.tenant-%d.example.com", i)
		}
		a["nginx.ingress.kubernetes.io/server-alias"] = v + ",~^" + strings.Repeat("a", 2<<10) + "$"
	}
}

// longService makes a Service's annotations as long as a tenant may: 12 more HAProxy Ingress
// config-backend annotations than net-ingress-snippets names and 12 server-crts, half of which name
// another namespace's Secret, under prefixes of their own (each 2 KiB), and each annotation the checks read 2 KiB longer (blank space before it), so that the
// cache keeps stand-ins of them and counts the others (checks.ReduceServiceAnnotations).
func longService(a map[string]string) {
	for k, v := range a {
		if checks.ServiceReadsAnnotation(k) {
			a[k] = strings.Repeat(" ", 2<<10) + v
		}
	}
	for i := range 12 {
		a[fmt.Sprintf("tenant-%02d.example.com/config-backend", i)] = strings.Repeat("#", 2<<10)
		// And 12 HAProxy server-crts, half of which name another namespace's Secret.
		secret := fmt.Sprintf("other-%02d/", i)
		if i%2 == 1 {
			secret = ""
		}
		a[fmt.Sprintf("tenant-%02d.example.com/server-crt", i)] = secret + strings.Repeat("c", 2<<10)
	}
}

// judgedTrimmedAndWhole judges the fixture file whole and as the cache keeps it (see
// TestTrimmedAnnotationsAreJudgedAsWhole), with its Ingresses' and Services' annotations made
// long when long is set, and returns how many of its objects the cache trimmed.
func judgedTrimmedAndWhole(t *testing.T, file string, pad map[string]string, now time.Time, long bool) int {
	t.Helper()
	trimmed := 0
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	decode := func() []*engine.Object {
		objs, errs := manifest.Decode(file, data)
		if len(errs) > 0 {
			return nil
		}
		manifest.DefaultNamespace(objs, "default")
		return objs
	}
	whole, again := decode(), decode()
	if whole == nil {
		return 0
	}
	var profile *v1alpha1.ComplianceProfile
	var w, k []*engine.Object
	for i, o := range whole {
		switch obj := o.Obj.(type) {
		case *v1alpha1.ComplianceProfile:
			profile = obj
			continue
		case *v1alpha1.ControlException:
			continue
		}
		c := again[i]
		if _, ok := trimsAnnotations(c.Obj); !ok || !cachedKind(c) {
			w, k = append(w, o), append(k, c)
			continue
		}
		for _, obj := range []engine.KubeObject{o.Obj, c.Obj} {
			a := obj.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			if _, ok := obj.(*networkingv1.Ingress); ok && long {
				longIngress(a)
			}
			if _, ok := obj.(*corev1.Service); ok && long {
				longService(a)
			}
			for key, v := range pad {
				a[key] = v
			}
			obj.SetAnnotations(a)
		}
		cached, ok := c.Obj.(client.Object)
		if !ok || !trimAnnotations(cached) {
			t.Fatalf("%s: %s was not trimmed", file, c.Ref())
		}
		trimmed++
		kc := inventory.CachedObject(cached, c.APIVersion, c.Kind)
		kc.Source = c.Source
		// The cache holds the API server's objects, whose namespace is sure (never scan's
		// guess, NamespaceDefaulted): both are judged so, and the trim is what is compared.
		o.NamespaceDefaulted = false
		w, k = append(w, o), append(k, kc)
	}
	plan := engine.Compile(checks.Catalogue(), profile)
	opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	want := plan.Evaluate(engine.NewInventory(w, true), nil, opts)
	got := plan.Evaluate(engine.NewInventory(k, true), nil, opts)
	if len(want.Results) != len(got.Results) {
		t.Errorf("%s: %d results whole, %d trimmed", file, len(want.Results), len(got.Results))
		return trimmed
	}
	for i, wr := range want.Results {
		g := got.Results[i]
		if g.Status == wr.Status && g.Message == wr.Message {
			continue
		}
		if strings.HasPrefix(wr.Check.ID, "custom-") && g.Status == engine.StatusNotAssessed {
			continue
		}
		t.Errorf("%s (long %v): %s %s is %s whole (%s), %s trimmed (%s)", file, long, wr.Check.ID, wr.Object.Ref(), wr.Status, wr.Message, g.Status, g.Message)
	}
	return trimmed
}

// cachedKind reports whether the operator's cache holds objects of o's kind: a fixture's
// Secret, or another kind scan reads unstructured that the operator does not watch, never goes
// through the cache's trim.
func cachedKind(o *engine.Object) bool {
	if _, ok := o.Obj.(*unstructured.Unstructured); !ok {
		return true
	}
	k, ok := inventory.ByKind(o.Kind)
	return ok && k.GVK.Group == schema.FromAPIVersionAndKind(o.APIVersion, o.Kind).Group
}

// trimPadded is annotations plus what makes the cache trim an object's annotations
// (inventory.TrimAnnotations): 20 KiB in five values, and 900 of 5 bytes, which fill the 4 KiB
// the cache keeps of the smallest others, so the given ones stay only if a check reads them.
func trimPadded(annotations map[string]string) map[string]string {
	pad := maps.Clone(annotations)
	if pad == nil {
		pad = map[string]string{}
	}
	for i := range 5 {
		pad[fmt.Sprintf("tenant.example.com/blob-%d", i)] = strings.Repeat("x", 4<<10)
	}
	for i := range 900 {
		pad[fmt.Sprintf("t/%03d", i)] = ""
	}
	return pad
}

// createServices creates a Service of each name with those annotations in namespace ns.
func createServices(t *testing.T, ns string, services map[string]map[string]string) {
	t.Helper()
	for name, a := range services {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: a},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80}}}}
		if err := k8s.Create(context.Background(), svc); err != nil {
			t.Fatal(err)
		}
	}
}
