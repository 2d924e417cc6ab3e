package ui_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/ui"
)

// rows returns the value of attr on every element of the page that carries it, as the
// templates mark table rows (data-namespace, data-check, data-resource, data-exception).
func rows(body, attr string) []string {
	var out []string
	for _, part := range strings.Split(body, attr+`="`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}

// rowResult is the status badge of a namespace's row in the overview.
func rowResult(body, ns string) string {
	_, row, ok := strings.Cut(body, `<tr data-namespace="`+ns+`">`)
	if !ok {
		return ""
	}
	row, _, _ = strings.Cut(row, "</tr>")
	_, badge, ok := strings.Cut(row, `<span class="badge `)
	if !ok {
		return ""
	}
	_, badge, _ = strings.Cut(badge, ">")
	badge, _, _ = strings.Cut(badge, "<")
	return badge
}

var fixSeq atomic.Int32

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestWithoutAValidTokenNothingIsShown(t *testing.T) {
	for _, path := range []string{"/", "/namespaces/legacy", "/checks", "/checks/wl-privileged"} {
		code, body, h := get(t, "", path)
		if code != http.StatusSeeOther || h.Get("Location") != "/login" {
			t.Errorf("GET %s without a token: %d to %q, want 303 to /login", path, code, h.Get("Location"))
		}
		if strings.Contains(body, "legacy") {
			t.Errorf("GET %s without a token shows a namespace", path)
		}
		code, body, _ = get(t, "not-a-token", path)
		if code != http.StatusUnauthorized || strings.Contains(body, "monolith") {
			t.Errorf("GET %s with a bad bearer token: %d, want 401 and no data", path, code)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/login", strings.NewReader("token="+auditorToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example.com")
	if code, _, h := do(t, req); code != http.StatusForbidden || h.Get("Set-Cookie") != "" {
		t.Errorf("a sign-in posted from another site: %d, cookie %q; want 403 and none", code, h.Get("Set-Cookie"))
	}
	code, body, h := postLogin(t, "not-a-token")
	if code != http.StatusUnauthorized || h.Get("Set-Cookie") != "" || !strings.Contains(body, "did not accept") {
		t.Errorf("login with a bad token: %d, cookie %q", code, h.Get("Set-Cookie"))
	}
}

func TestSigningInSetsAnHttpOnlyCookieThatOpensThePages(t *testing.T) {
	code, _, h := postLogin(t, shopDevToken)
	if code != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Fatalf("login: %d to %q", code, h.Get("Location"))
	}
	resp := &http.Response{Header: h}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "soc2-ui-token" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login cookie %+v: want HttpOnly, SameSite=Strict", cookie)
	}
	req, _ := http.NewRequest(http.MethodGet, baseURL+"/", nil)
	req.AddCookie(cookie)
	code, body, _ := do(t, req)
	if code != http.StatusOK || !strings.Contains(body, "system:serviceaccount:ui-users:shop-dev") {
		t.Errorf("overview with the cookie: %d, signed-in user not shown", code)
	}
	if !contains(rows(body, "data-namespace"), "shop") {
		t.Errorf("overview with the cookie lists %v, want shop", rows(body, "data-namespace"))
	}
}

func TestEachUserSeesOnlyTheNamespacesTheyMayRead(t *testing.T) {
	_, body, _ := get(t, auditorToken, "/")
	if got := rows(body, "data-namespace"); !contains(got, "legacy") || !contains(got, "payments") || !contains(got, "shop") {
		t.Errorf("the auditor's overview lists %v, want legacy, payments and shop", got)
	}
	for ns, want := range map[string]string{"legacy": "NonCompliant", "payments": "Compliant", "shop": "Compliant"} {
		if got := rowResult(body, ns); got != want {
			t.Errorf("the auditor's overview says %s is %q, want %q", ns, got, want)
		}
	}

	code, body, _ := get(t, shopDevToken, "/")
	if code != http.StatusOK {
		t.Fatalf("shop-dev overview: %d", code)
	}
	if got := rows(body, "data-namespace"); len(got) != 1 || got[0] != "shop" {
		t.Errorf("shop-dev's overview lists %v, want only shop", got)
	}
	for _, ns := range []string{"legacy", "payments"} {
		if strings.Contains(body, ns) {
			t.Errorf("shop-dev's overview mentions %s", ns)
		}
		code, body, _ := get(t, shopDevToken, "/namespaces/"+ns)
		if code != http.StatusNotFound || strings.Contains(body, "monolith") || strings.Contains(body, "legacy-gateway") {
			t.Errorf("shop-dev GET /namespaces/%s: %d, want 404 with nothing of it", ns, code)
		}
	}
	// A check failing in legacy: the auditor sees the resource, shop-dev does not.
	_, body, _ = get(t, auditorToken, "/checks/wl-privileged")
	if !contains(rows(body, "data-namespace"), "legacy") {
		t.Errorf("the auditor's wl-privileged page does not list legacy: %v", rows(body, "data-namespace"))
	}
	_, body, _ = get(t, shopDevToken, "/checks/wl-privileged")
	if contains(rows(body, "data-namespace"), "legacy") || strings.Contains(body, "monolith") {
		t.Errorf("shop-dev's wl-privileged page shows legacy's resources")
	}

	_, body, _ = get(t, nobodyToken, "/")
	if len(rows(body, "data-namespace")) != 0 || !strings.Contains(body, `id="empty"`) {
		t.Errorf("a user with no access sees %v", rows(body, "data-namespace"))
	}
}

func TestTheNamespacePageShowsFindingsWithRemediationAndExceptions(t *testing.T) {
	code, body, _ := get(t, auditorToken, "/namespaces/legacy")
	if code != http.StatusOK {
		t.Fatalf("GET /namespaces/legacy: %d", code)
	}
	var rep v1alpha1.ComplianceReport
	if err := admin.Get(context.Background(), client.ObjectKey{Namespace: "legacy", Name: profileName}, &rep); err != nil {
		t.Fatal(err)
	}
	shown := rows(body, "data-check")
	if len(shown) != len(rep.Status.Findings) {
		t.Errorf("the page lists %d findings, the report %d", len(shown), len(rep.Status.Findings))
	}
	catalogue := map[string]string{}
	for _, c := range checks.Catalogue() {
		catalogue[c.ID] = c.Remediation
	}
	for _, f := range rep.Status.Findings {
		if !contains(shown, f.Check) {
			t.Errorf("finding %s on %s/%s is not on the page", f.Check, f.Resource.Kind, f.Resource.Name)
		}
		if rem := catalogue[f.Check]; rem != "" && !strings.Contains(body, templateEscape(rem)) {
			t.Errorf("the remediation of %s is not on the page", f.Check)
		}
	}
	if !strings.Contains(body, `id="result-`+profileName+`">NonCompliant<`) {
		t.Errorf("legacy's page does not say NonCompliant")
	}

	_, body, _ = get(t, auditorToken, "/namespaces/payments")
	if !contains(rows(body, "data-exception"), "legacy-gateway-writable-rootfs") {
		t.Fatalf("payments' page does not list its exception")
	}
	for _, want := range []string{"payments-team@example.com", requester, testenv.ApproverName, "Active", "ticket", time.Now().Add(30 * 24 * time.Hour).UTC().Format("2006-01-02")} {
		if !strings.Contains(body, want) {
			t.Errorf("payments' exception row lacks %q", want)
		}
	}
}

// templateEscape escapes text as html/template does in element content.
func templateEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;")
	return r.Replace(s)
}

func TestAFixInANamespaceShowsUpOnReload(t *testing.T) {
	ns := fmt.Sprintf("ui-fix-%d", fixSeq.Add(1))
	dep := createPrivileged(t, ns)
	hasPrivileged := func() bool {
		_, body, _ := get(t, auditorToken, "/namespaces/"+ns)
		return contains(rows(body, "data-check"), "wl-privileged")
	}
	waitFor(t, "the privileged container to show on the namespace page", hasPrivileged)
	fix(t, dep)
	waitFor(t, "the fix to show on the namespace page", func() bool { return !hasPrivileged() })
}

// fix makes the privileged Deployment unprivileged.
// createPrivileged creates namespace ns with a privileged Deployment in it.
func createPrivileged(t *testing.T, ns string) client.Object {
	t.Helper()
	ctx := context.Background()
	if err := admin.Create(ctx, namespace(ns)); err != nil {
		t.Fatal(err)
	}
	dep := privilegedDeployment(ns)
	if err := admin.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	return dep
}

func fix(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	dep := &appsv1.Deployment{}
	if err := admin.Get(ctx, client.ObjectKeyFromObject(obj), dep); err != nil {
		t.Fatal(err)
	}
	dep.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = ptr(false)
	if err := admin.Update(ctx, dep); err != nil {
		t.Fatal(err)
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func reportFor(t *testing.T, ns string) *v1alpha1.ComplianceReport {
	t.Helper()
	var rep v1alpha1.ComplianceReport
	if err := admin.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: profileName}, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

func privilegedDeployment(ns string) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.k8s.io/pause:3.10",
					SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
				}}},
			},
		},
	}
}

// waitFor polls until cond holds (the operator evaluates asynchronously); it fails after a
// minute, which is not a performance assertion but a hang guard.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestThePagesAreSelfContainedAndAccessible(t *testing.T) {
	for _, path := range []string{"/", "/namespaces/legacy", "/checks", "/checks/wl-privileged", "/login"} {
		code, body, h := get(t, auditorToken, path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
			continue
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: CSP %q, want default-src 'none' and no script", path, csp)
		}
		for _, want := range []string{`<html lang="en">`, `href="#main"`, `<main id="main"`} {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s lacks %s", path, want)
			}
		}
		if strings.Contains(body, "<th>") {
			t.Errorf("GET %s has a table header without scope", path)
		}
		for _, bad := range []string{"http://", "https://cdn", "<script"} {
			if strings.Contains(strings.ReplaceAll(body, "https://tracker.example.com", ""), bad) {
				t.Errorf("GET %s refers to %q", path, bad)
			}
		}
	}
}

// TestTrendsDrawTheJournalForTheNamespacesAUserMayRead: the trends page draws the evidence
// pack's charts from the journal, with rows only for the namespaces the user may read.
func TestTrendsDrawTheJournalForTheNamespacesAUserMayRead(t *testing.T) {
	label := func(ns string) string { return ">" + ns + " (" + profileName + ")</text>" }
	// The journal is written asynchronously and the page caches a window for a minute: wait
	// for the auditor's page to draw all three namespaces.
	waitFor(t, "the journal's criterion states on the trends page", func() bool {
		code, body, _ := get(t, auditorToken, "/trends?days=7")
		return code == http.StatusOK && strings.Contains(body, label("legacy")) && strings.Contains(body, label("shop")) && strings.Contains(body, label("payments"))
	})
	_, body, _ := get(t, auditorToken, "/trends?days=7")
	for _, want := range []string{`class="chart criterion"`, `class="chart deviations"`, `class="chart remediation"`, `id="verification"`, "verified"} {
		if !strings.Contains(body, want) {
			t.Errorf("the trends page lacks %s", want)
		}
	}
	code, body, _ := get(t, shopDevToken, "/trends?days=7")
	if code != http.StatusOK || !strings.Contains(body, label("shop")) {
		t.Fatalf("shop-dev's trends page: %d, shop not drawn", code)
	}
	for _, ns := range []string{"legacy", "payments"} {
		if strings.Contains(body, ns) {
			t.Errorf("shop-dev's trends page mentions %s", ns)
		}
	}
}

// TestAFollowerServesTheDashboard: a replica that is not the leader (another holds the Lease)
// runs no controller, yet serves the same pages from its own cache.
func TestAFollowerServesTheDashboard(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-follower-test", Namespace: adminNamespace},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("the-leader"), LeaseDurationSeconds: ptr(int32(3600)),
			AcquireTime: &metav1.MicroTime{Time: time.Now()}, RenewTime: &metav1.MicroTime{Time: time.Now()}},
	}
	if err := admin.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Delete(context.Background(), lease) })
	follower, err := ctrl.NewManager(operatorCfg, ctrl.Options{
		Scheme: scheme, Cache: controllers.CacheOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		LeaderElection: true, LeaderElectionID: lease.Name, LeaderElectionNamespace: adminNamespace,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ui.Add(follower, ui.ServeOptions{Listener: ln}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follower.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("follower: %v", err)
		}
	}()
	url := "http://" + ln.Addr().String()
	waitFor(t, "the follower's dashboard", func() bool {
		req, _ := http.NewRequest(http.MethodGet, url+"/", nil)
		req.Header.Set("Authorization", "Bearer "+auditorToken)
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	req, _ := http.NewRequest(http.MethodGet, url+"/", nil)
	req.Header.Set("Authorization", "Bearer "+auditorToken)
	code, body, _ := do(t, req)
	if got := rows(body, "data-namespace"); code != http.StatusOK || !contains(got, "legacy") || !contains(got, "shop") {
		t.Errorf("the follower's overview: %d, lists %v", code, got)
	}
	select {
	case <-follower.Elected():
		t.Errorf("the follower became the leader: the test did not test a follower")
	default:
	}
}

// stepAccessClock moves the dashboard's access cache's clock past every answer it holds.
func stepAccessClock() {
	accessClock.SetTime(accessClock.Now().Add(max(accessCache.Allowed, accessCache.Refused) + time.Second))
}

// TestARevokedBindingStopsShowingTheNamespace: access decisions are cached only for a while (an
// allowed namespace for 30 s by default, an hour of a fake clock in this suite): once the
// RoleBinding is gone and that time has passed, the namespace leaves the user's pages without
// the operator restarting.
func TestARevokedBindingStopsShowingTheNamespace(t *testing.T) {
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "revoked", Namespace: usersNamespace}}
	if err := admin.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-test-revoked", Namespace: "shop"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ui-test-report-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: usersNamespace}},
	}
	if err := admin.Create(ctx, rb); err != nil {
		t.Fatal(err)
	}
	tr, err := clientset.CoreV1().ServiceAccounts(usersNamespace).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	token := tr.Status.Token
	// Each poll moves the clock past a refusal the API server gave before its authorizer saw
	// the new binding.
	waitFor(t, "shop on the new user's overview", func() bool {
		stepAccessClock()
		_, body, _ := get(t, token, "/")
		return contains(rows(body, "data-namespace"), "shop")
	})
	if err := admin.Delete(ctx, rb); err != nil {
		t.Fatal(err)
	}
	// The answer is reused while the clock stands still...
	if _, body, _ := get(t, token, "/"); !contains(rows(body, "data-namespace"), "shop") {
		t.Errorf("shop left the overview before the cached answer expired: the access cache did not reuse it")
	}
	// ...and asked again once it expired (again on each poll: the API server's authorizer may
	// still allow for a moment after the deletion).
	waitFor(t, "shop to leave the overview once the binding is deleted", func() bool {
		stepAccessClock()
		_, body, _ := get(t, token, "/")
		return !contains(rows(body, "data-namespace"), "shop")
	})
	if code, _, _ := get(t, token, "/namespaces/shop"); code != http.StatusNotFound {
		t.Errorf("GET /namespaces/shop after the binding is gone: %d, want 404", code)
	}
}
