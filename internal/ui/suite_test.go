package ui_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/ui"
)

// One control plane, one operator (reconcilers and dashboard, in process) and the demo's
// namespaces (config/demo, the baseline profile and the sample exception) for the package.
const (
	adminNamespace = engine.DefaultAdminNamespace
	profileName    = "soc2-baseline"
	usersNamespace = "ui-users"
)

var (
	env       *envtest.Environment
	scheme    *runtime.Scheme
	admin     client.Client
	clientset *kubernetes.Clientset
	// operatorCfg is the operator's identity.
	operatorCfg *rest.Config
	// baseURL is the dashboard's address.
	baseURL string
	// tokens of the test users: auditor may get reports in every namespace, shopDev in shop
	// only, nobody in none.
	auditorToken, shopDevToken, nobodyToken string
	// accessCache is how long the dashboard reuses the API server's answers in these tests:
	// which namespaces a user may see for an hour of accessClock, so that only stepping that
	// clock (stepAccessClock) lets an answer expire within a test.
	accessCache = ui.AccessCacheTTLs{Token: ui.DefaultAccessCacheTTLs.Token, Allowed: time.Hour, Refused: time.Hour}
	// accessClock is the dashboard's access cache's clock (ui.ServeOptions.AccessClock).
	accessClock = testingclock.NewFakePassiveClock(time.Now())
	// approval is the operator's verdict on its admission policies.
	approval = admissionpolicy.NewVerifier()
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(m *testing.M) (int, error) {
	var err error
	env, _, err = testenv.Start()
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()

	scheme = testenv.Scheme()

	// The operator runs as a user of its own (system:masters: it needs create on tokenreviews
	// and subjectaccessreviews, which config/rbac grants it).
	if operatorCfg, err = testenv.AddUser(env, "soc2-operator", "system:masters"); err != nil {
		return 0, err
	}
	if admin, err = client.New(operatorCfg, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	if clientset, err = kubernetes.NewForConfig(operatorCfg); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := setUpWorld(ctx); err != nil {
		return 0, err
	}

	// The evidence journal, on a directory: the trends page reads it.
	journalDir, err := os.MkdirTemp("", "soc2-ui-journal-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(journalDir)
	store, err := journal.NewFileStore(journalDir)
	if err != nil {
		return 0, err
	}
	queue, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "test", FlushInterval: 100 * time.Millisecond, Identity: "ui-suite"})
	if err != nil {
		return 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	baseURL = "http://" + ln.Addr().String()
	op, err := testenv.StartOperator(operatorCfg, testenv.OperatorOptions{
		Scheme: scheme,
		Cache:  controllers.CacheOptions(),
		Setup: func(mgr ctrl.Manager) error {
			if err := controllers.Setup(mgr, controllers.Options{AdminNamespace: adminNamespace, CoalesceDelay: 100 * time.Millisecond, Journal: queue, Approval: approval}); err != nil {
				return err
			}
			return ui.Add(mgr, ui.ServeOptions{Listener: ln, Trends: ui.NewJournalTrends(store, "test", nil),
				AccessCache: &accessCache, AccessClock: accessClock})
		},
	})
	if err != nil {
		return 0, err
	}
	if err := requestAndApproveTheSampleException(ctx); err != nil {
		return 0, err
	}
	if err := waitForDemoReports(ctx); err != nil {
		return 0, err
	}
	code := m.Run()
	return code, op.Stop()
}

var expiresLine = regexp.MustCompile(`(?m)^  expires: .*$`)

// setUpWorld creates what `make demo` creates (config/demo, the baseline profile, the sample
// exception expiring in 30 days) and the dashboard's users with their tokens.
func setUpWorld(ctx context.Context) error {
	root := testenv.RepoRoot()
	for _, ns := range []string{usersNamespace} {
		if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"compliance.soc2-operator.io/exclude": "true"}}}); err != nil {
			return err
		}
	}
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}); err != nil && !strings.Contains(err.Error(), "exists") {
		return err
	}
	ns := &corev1.Namespace{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "default"}, ns); err != nil {
		return err
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels["compliance.soc2-operator.io/exclude"] = "true"
	if err := admin.Update(ctx, ns); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(root, "config", "demo", "*.yaml"))
	files = append(files, filepath.Join(root, "config", "samples", "compliance_v1alpha1_complianceprofile_baseline.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := apply(ctx, f, data); err != nil {
			return err
		}
	}

	// Who may read what: a ClusterRole to read what compliance-viewer-role reads, bound
	// cluster-wide for the auditor (who may so get the profiles, cluster-scoped, too) and in shop
	// only for the shop developer; nobody has a token and no binding.
	reader := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "ui-test-report-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group},
			Resources: []string{"compliancereports", "controlexceptions", "complianceprofiles"}, Verbs: []string{"get", "list", "watch"}}},
	}
	if err := admin.Create(ctx, reader); err != nil {
		return err
	}
	subject := func(sa string) []rbacv1.Subject {
		return []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: usersNamespace}}
	}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader.Name}
	if err := admin.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ui-test-auditor"}, RoleRef: ref, Subjects: subject("auditor")}); err != nil {
		return err
	}
	if err := admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ui-test-shop-dev", Namespace: "shop"}, RoleRef: ref, Subjects: subject("shop-dev")}); err != nil {
		return err
	}
	for _, sa := range []struct {
		name  string
		token *string
	}{{"auditor", &auditorToken}, {"shop-dev", &shopDevToken}, {"nobody", &nobodyToken}} {
		if err := admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa.name, Namespace: usersNamespace}}); err != nil {
			return err
		}
		tr, err := clientset.CoreV1().ServiceAccounts(usersNamespace).CreateToken(ctx, sa.name, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("token for %s: %w", sa.name, err)
		}
		*sa.token = tr.Status.Token
	}
	return nil
}

// requester asks for the sample exception; testenv's approver approves it.
const requester = "payments-dev@example.com"

// requestAndApproveTheSampleException creates config/samples' exception (expiring in 30 days)
// as a payments developer, once the operator's admission policies are in force, and has a
// second person approve it, as the demo does.
func requestAndApproveTheSampleException(ctx context.Context) error {
	if err := testenv.WaitAdmissionPolicies(ctx, admin, adminNamespace, testenv.VerifierTrusts(approval)); err != nil {
		return err
	}
	dev, err := testenv.AddUser(env, requester, "system:masters")
	if err != nil {
		return err
	}
	devClient, err := client.New(dev, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ex, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "compliance_v1alpha1_controlexception.yaml"))
	if err != nil {
		return err
	}
	ex = expiresLine.ReplaceAll(ex, []byte(`  expires: "`+time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339)+`"`))
	obj := &v1alpha1.ControlException{}
	if err := sigsyaml.UnmarshalStrict(ex, obj); err != nil {
		return err
	}
	if err := devClient.Create(ctx, obj); err != nil {
		return fmt.Errorf("requesting the sample exception: %w", err)
	}
	approver, err := testenv.ApproverClient(env, admin)
	if err != nil {
		return err
	}
	return testenv.Approve(ctx, approver, testenv.ApproverName, client.ObjectKeyFromObject(obj))
}

func ptr[T any](v T) *T { return &v }

// apply creates every object of a multi-document YAML file.
func apply(ctx context.Context, name string, data []byte) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		obj := &unstructured.Unstructured{}
		if err := sigsyaml.Unmarshal(doc, &obj.Object); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if err := admin.Create(ctx, obj); err != nil {
			return fmt.Errorf("%s: creating %s %s: %w", name, obj.GetKind(), obj.GetName(), err)
		}
	}
}

// waitForDemoReports waits until the three demo namespaces' reports say what the demo shows:
// legacy NonCompliant, payments (its finding waived once the exception is approved) and shop
// Compliant.
func waitForDemoReports(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		var off []string
		for _, ns := range []string{"legacy", "payments", "shop"} {
			want := v1alpha1.Compliant
			if ns == "legacy" {
				want = v1alpha1.NonCompliant
			}
			var r v1alpha1.ComplianceReport
			if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: profileName}, &r); err != nil {
				off = append(off, fmt.Sprintf("%s: %v", ns, err))
			} else if r.Status.Result != want {
				b, _ := sigsyaml.Marshal(r.Status)
				off = append(off, fmt.Sprintf("%s reads %q, want %q; its status:\n%s", ns, r.Status.Result, want, b))
			}
		}
		if len(off) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var exceptions v1alpha1.ControlExceptionList
			if err := admin.List(ctx, &exceptions); err == nil {
				for _, ex := range exceptions.Items {
					b, _ := sigsyaml.Marshal(ex.Status)
					off = append(off, fmt.Sprintf("exception %s/%s (annotations %v); its status:\n%s", ex.Namespace, ex.Name, ex.Annotations, b))
				}
			}
			return fmt.Errorf("the demo namespaces' reports did not reach the demo's results in 90s:\n%s", strings.Join(off, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// get fetches a page as a browser with the given token would (through the login cookie
// when viaCookie, else with an Authorization header), without following redirects.
func get(t *testing.T, token, path string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header
}

func postLogin(t *testing.T, token string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}
