package kubeauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/soc2-operator/soc2-operator/internal/kubeauth"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// One control plane for the package. The reviewers ask as the operator does: as a
// ServiceAccount bound to the shipped metrics-auth-role (config/rbac/metrics_auth_role.yaml),
// which is all the operator's identity may do for them.
var (
	adminCfg  *rest.Config
	clientset *kubernetes.Clientset
	// operatorCfg is the operator's identity: a ServiceAccount token bound to metrics-auth-role.
	operatorCfg *rest.Config
	// operatorClient is the HTTP client of operatorCfg, as the manager's (mgr.GetHTTPClient).
	operatorClient *http.Client
)

const namespace = "kubeauth"

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(m *testing.M) (int, error) {
	env, cfg, err := testenv.Start()
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()
	adminCfg = cfg
	if clientset, err = kubernetes.NewForConfig(cfg); err != nil {
		return 0, err
	}
	ctx := context.Background()
	if _, err := clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return 0, err
	}
	// The shipped roles: metrics-auth-role for the operator, metrics-reader for scrapers.
	if err := applyClusterRoles(ctx, filepath.Join(testenv.RepoRoot(), "config", "rbac", "metrics_auth_role.yaml")); err != nil {
		return 0, err
	}
	token, err := serviceAccountToken(ctx, "controller-manager")
	if err != nil {
		return 0, err
	}
	if err := bindCluster(ctx, "operator-metrics-auth", "metrics-auth-role", "controller-manager"); err != nil {
		return 0, err
	}
	operatorCfg = rest.AnonymousClientConfig(cfg)
	operatorCfg.BearerToken = token
	if operatorClient, err = rest.HTTPClientFor(operatorCfg); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// applyClusterRoles creates the ClusterRoles of a manifest file (its other objects are left).
func applyClusterRoles(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var cr rbacv1.ClusterRole
		if err := dec.Decode(&cr); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if cr.Kind != "ClusterRole" {
			continue
		}
		if _, err := clientset.RbacV1().ClusterRoles().Create(ctx, &cr, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("%s: ClusterRole %s: %w", path, cr.Name, err)
		}
	}
}

// serviceAccountToken creates ServiceAccount name in namespace and returns a token for it.
func serviceAccountToken(ctx context.Context, name string) (string, error) {
	if _, err := clientset.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		return "", err
	}
	expires := int64(3600)
	tr, err := clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expires}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", name, err)
	}
	return tr.Status.Token, nil
}

func bindCluster(ctx context.Context, name, role, serviceAccount string) error {
	_, err := clientset.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: namespace}},
	}, metav1.CreateOptions{})
	return err
}

func newReviewer(t *testing.T, clk *testingclock.FakePassiveClock) *kubeauth.Reviewer {
	t.Helper()
	rv, err := kubeauth.New(operatorCfg, operatorClient, kubeauth.Options{
		TTLs: kubeauth.TTLs{Token: time.Minute, Allowed: time.Minute, Refused: time.Minute}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

func request(header string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if header != "" {
		r.Header.Set("Authorization", header)
	}
	return r
}

func TestBearerToken(t *testing.T) {
	for header, want := range map[string]string{
		"":                    "",
		"Bearer abc":          "abc",
		"bearer abc":          "abc",
		"BEARER abc":          "abc",
		"  Bearer abc  ":      "abc",
		"Bearer abc def":      "abc",
		"Bearer":              "",
		"Bearer ":             "",
		"Bearer  abc":         "", // the space before the token: not a token, as the API server reads it
		"Basic dXNlcjpwYXNz":  "",
		"Bearerabc":           "",
		"Token abc":           "",
		"Bearer\tabc":         "",
		"Bearer abc\tdef ghi": "abc\tdef",
	} {
		if got := kubeauth.BearerToken(request(header)); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", header, got, want)
		}
	}
}

// A token is who the API server says it is; a missing, malformed or unknown one is nobody,
// and not an error.
func TestAuthenticateAsksTheAPIServer(t *testing.T) {
	ctx := context.Background()
	token, err := serviceAccountToken(ctx, "reader")
	if err != nil {
		t.Fatal(err)
	}
	rv := newReviewer(t, testingclock.NewFakePassiveClock(time.Now()))
	u, ok, err := rv.Authenticate(request("Bearer " + token))
	if err != nil || !ok {
		t.Fatalf("a ServiceAccount's token: ok %v, err %v; want its user", ok, err)
	}
	if want := "system:serviceaccount:" + namespace + ":reader"; u.GetName() != want {
		t.Errorf("user %q, want %q", u.GetName(), want)
	}
	if u.GetUID() == "" {
		t.Error("the user has no UID; the TokenReview gives the ServiceAccount's")
	}
	for _, g := range []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"} {
		if !slices.Contains(u.GetGroups(), g) {
			t.Errorf("groups %v lack %s", u.GetGroups(), g)
		}
	}
	if len(u.GetExtra()["authentication.kubernetes.io/credential-id"]) == 0 {
		t.Errorf("extra %v lacks the token's credential-id the TokenReview gives", u.GetExtra())
	}
	for _, header := range []string{"", "Basic " + token, "Bearer not-a-token", "Bearer " + token[:len(token)-4] + "AAAA"} {
		u, ok, err := rv.Authenticate(request(header))
		if err != nil || ok || u != nil {
			t.Errorf("Authorization %.20q...: user %v, ok %v, err %v; want nobody and no error", header, u, ok, err)
		}
	}
}

// An answer, accepted or refused, is reused for TTLs.Token of the clock and asked again after
// it; the API server sees no TokenReview in between.
func TestATokenIsReusedForItsTTL(t *testing.T) {
	ctx := context.Background()
	token, err := serviceAccountToken(ctx, "often-seen")
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingTransport{base: operatorClient.Transport}
	clk := testingclock.NewFakePassiveClock(time.Now())
	rv, err := kubeauth.New(operatorCfg, &http.Client{Transport: counting}, kubeauth.Options{
		TTLs: kubeauth.TTLs{Token: time.Minute}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantReviews int32) {
		t.Helper()
		for _, c := range []struct {
			token string
			ok    bool
		}{{token, true}, {"not-a-token", false}} {
			if _, ok, err := rv.AuthenticateToken(ctx, c.token); ok != c.ok || err != nil {
				t.Fatalf("%s: ok %v, err %v; want ok %v", when, ok, err, c.ok)
			}
		}
		if n := counting.n.Swap(0); n != wantReviews {
			t.Errorf("%s: %d TokenReviews, want %d", when, n, wantReviews)
		}
	}
	check("first", 2)
	clk.SetTime(clk.Now().Add(59 * time.Second))
	check("within the TTL", 0)
	clk.SetTime(clk.Now().Add(2 * time.Second))
	check("after the TTL", 2)
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// A SubjectAccessReview answers for exactly what was asked: the namespace a Role is bound in,
// not another, not every namespace. An allowed answer is reused for TTLs.Allowed, so a removed
// binding takes effect after it.
func TestAuthorizeAsksTheAPIServer(t *testing.T) {
	ctx := context.Background()
	token, err := serviceAccountToken(ctx, "shop-reader")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientset.RbacV1().Roles(namespace).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "read-reports"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"compliance.soc2-operator.io"}, Resources: []string{"compliancereports"}, Verbs: []string{"get"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "read-reports"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "shop-reader", Namespace: namespace}},
	}
	if _, err := clientset.RbacV1().RoleBindings(namespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clk := testingclock.NewFakePassiveClock(time.Now())
	rv := newReviewer(t, clk)
	u, ok, err := rv.AuthenticateToken(ctx, token)
	if !ok || err != nil {
		t.Fatalf("ok %v, err %v", ok, err)
	}
	reports := func(ns string) kubeauth.Attributes {
		return kubeauth.Attributes{Resource: &authorizationv1.ResourceAttributes{
			Verb: "get", Group: "compliance.soc2-operator.io", Version: "v1alpha1", Resource: "compliancereports", Namespace: ns}}
	}
	allowed := func(attrs kubeauth.Attributes) bool {
		t.Helper()
		ok, _, err := rv.Authorize(ctx, u, attrs)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// The binding reaches the API server's authorizer a moment after it is created; each poll
	// moves the clock past a refusal given before.
	testenv.Eventually(t, 30*time.Second, "the RoleBinding to allow", func() error {
		clk.SetTime(clk.Now().Add(2 * time.Minute))
		if !allowed(reports(namespace)) {
			return errors.New("refused")
		}
		return nil
	})
	if allowed(reports("other")) {
		t.Error("allowed in a namespace the Role is not bound in")
	}
	if allowed(reports("")) {
		t.Error("allowed in every namespace with a Role bound in one")
	}
	del := reports(namespace)
	del.Resource.Verb = "delete"
	if allowed(del) {
		t.Error("allowed to delete with a Role that grants get")
	}
	if allowed(kubeauth.Attributes{NonResource: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}}) {
		t.Error("allowed to get /metrics without metrics-reader")
	}

	if err := clientset.RbacV1().RoleBindings(namespace).Delete(ctx, rb.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Once the API server refuses (a refusal asked for with the clock standing still is not
	// reused), the answer that allowed is still reused until its TTL has passed.
	probe := newReviewer(t, testingclock.NewFakePassiveClock(time.Now()))
	testenv.Eventually(t, 30*time.Second, "the API server to refuse after the RoleBinding's removal", func() error {
		ok, _, err := probe.Authorize(ctx, u, reports(namespace))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			probe = newReviewer(t, testingclock.NewFakePassiveClock(time.Now()))
			return errors.New("still allowed")
		}
		return nil
	})
	clk.SetTime(clk.Now().Add(59 * time.Second))
	if !allowed(reports(namespace)) {
		t.Error("within the TTL the allowed answer is not reused")
	}
	clk.SetTime(clk.Now().Add(2 * time.Second))
	if allowed(reports(namespace)) {
		t.Error("after the TTL the removed binding still allows")
	}
}

// Attributes of neither kind or of both are a mistake of the caller, not a question for the
// API server.
func TestAuthorizeWantsOneKindOfAttributes(t *testing.T) {
	rv := newReviewer(t, testingclock.NewFakePassiveClock(time.Now()))
	u := &user.DefaultInfo{Name: "someone"}
	for _, attrs := range []kubeauth.Attributes{{}, {Resource: &authorizationv1.ResourceAttributes{}, NonResource: &authorizationv1.NonResourceAttributes{}}} {
		if _, _, err := rv.Authorize(context.Background(), u, attrs); err == nil {
			t.Errorf("%+v: no error", attrs)
		}
	}
}

// The metrics endpoint behind the filter, with the shipped roles: no token or a refused one is
// 401, a user without metrics-reader 403, a scraper bound to metrics-reader gets /metrics and
// may only get it.
func TestMetricsFilter(t *testing.T) {
	ctx := context.Background()
	scraper, err := serviceAccountToken(ctx, "prometheus")
	if err != nil {
		t.Fatal(err)
	}
	if err := bindCluster(ctx, "prometheus-metrics-reader", "metrics-reader", "prometheus"); err != nil {
		t.Fatal(err)
	}
	stranger, err := serviceAccountToken(ctx, "stranger")
	if err != nil {
		t.Fatal(err)
	}
	srv := metricsServer(t, kubeauth.Options{TTLs: kubeauth.TTLs{}}) // nothing reused: each request asks
	get := func(method, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	testenv.Eventually(t, 30*time.Second, "metrics-reader to let the scraper in", func() error {
		if code, body := get(http.MethodGet, scraper); code != http.StatusOK {
			return fmt.Errorf("%d %q", code, body)
		}
		return nil
	})
	if code, body := get(http.MethodGet, scraper); code != http.StatusOK || body != "soc2_metrics 1\n" {
		t.Errorf("scraper: %d %q, want 200 and the metrics", code, body)
	}
	for _, c := range []struct {
		name, method, token string
		want                int
	}{
		{"no token", http.MethodGet, "", http.StatusUnauthorized},
		{"a token the API server refuses", http.MethodGet, "not-a-token", http.StatusUnauthorized},
		{"a user without metrics-reader", http.MethodGet, stranger, http.StatusForbidden},
		{"the scraper posting", http.MethodPost, scraper, http.StatusForbidden},
	} {
		if code, body := get(c.method, c.token); code != c.want || strings.Contains(body, "soc2_metrics") {
			t.Errorf("%s: %d %q, want %d without the metrics", c.name, code, body, c.want)
		}
	}
}

// metricsServer serves a stand-in for /metrics behind the filter, built on the operator's
// identity.
func metricsServer(t *testing.T, opts kubeauth.Options) *httptest.Server {
	t.Helper()
	filter, err := kubeauth.MetricsFilter(opts)(operatorCfg, operatorClient)
	if err != nil {
		t.Fatal(err)
	}
	h, err := filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "soc2_metrics 1\n")
	}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// An API server that fails in a way that may pass (500, 429, a reset connection) is asked
// again; one that refuses the operator (403: its RBAC is missing) is not, and the error is
// neither reused nor taken for a refused token.
func TestTransientFailuresAreAskedAgain(t *testing.T) {
	var asked atomic.Int32
	var failWith atomic.Int32 // the status of the next failures
	failures := atomic.Int32{}
	apiserver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if failures.Add(-1) >= 0 {
			code := int(failWith.Load())
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
				Status: metav1.StatusFailure, Code: int32(code), Reason: map[int]metav1.StatusReason{
					500: metav1.StatusReasonInternalError, 403: metav1.StatusReasonForbidden}[code]})
			return
		}
		var tr authenticationv1.TokenReview
		if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		tr.Status = authenticationv1.TokenReviewStatus{Authenticated: tr.Spec.Token == "good", User: authenticationv1.UserInfo{Username: "someone"}}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(tr)
	}))
	defer apiserver.Close()
	// JSON: the fake decodes and answers only that.
	cfg := &rest.Config{Host: apiserver.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}
	rv, err := kubeauth.New(cfg, http.DefaultClient, kubeauth.Options{
		TTLs:  kubeauth.TTLs{Token: time.Minute},
		Clock: testingclock.NewFakePassiveClock(time.Now()),
		Retry: wait.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	failWith.Store(500)
	failures.Store(2)
	u, ok, err := rv.AuthenticateToken(ctx, "good")
	if err != nil || !ok || u.GetName() != "someone" {
		t.Fatalf("after two 500s: user %v, ok %v, err %v; want someone", u, ok, err)
	}
	if n := asked.Swap(0); n != 3 {
		t.Errorf("asked %d times, want 3 (two failures, then the answer)", n)
	}

	failWith.Store(500)
	failures.Store(10)
	if _, ok, err := rv.AuthenticateToken(ctx, "other"); err == nil || ok {
		t.Errorf("500 every time: ok %v, err %v; want an error", ok, err)
	}
	if n := asked.Swap(0); n != 5 {
		t.Errorf("500 every time: asked %d times, want the 5 tries of the backoff", n)
	}

	failWith.Store(403)
	failures.Store(1)
	if _, ok, err := rv.AuthenticateToken(ctx, "other"); err == nil || ok || !strings.Contains(err.Error(), "tokenreview") {
		t.Errorf("403: ok %v, err %v; want an error that names the review", ok, err)
	}
	if n := asked.Swap(0); n != 1 {
		t.Errorf("403: asked %d times, want once", n)
	}
	failures.Store(0)
	if _, ok, err := rv.AuthenticateToken(ctx, "other"); err != nil || ok {
		t.Errorf("after the 403, answered: ok %v, err %v; want refused, asked again", ok, err)
	}
	if n := asked.Swap(0); n != 1 {
		t.Errorf("after the 403: asked %d times, want once (the error was not reused)", n)
	}
}
