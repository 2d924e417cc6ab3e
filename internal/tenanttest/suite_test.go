// Package tenanttest is the hostile-tenant suite: a user bound in their own namespace exactly as
// the shipped roles bind a namespace admin tries to make their report say something untrue or
// to get a workload past Enforce. Every test asserts what the report (or the API server) says
// afterwards, as an auditor would read it.
//
// One control plane and one operator (reconcilers and admission webhook, in process) serve the
// whole package; each test makes its own tenant namespace and profile.
package tenanttest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
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
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// adminNamespace is the operator's namespace in these tests.
const adminNamespace = engine.DefaultAdminNamespace

var (
	env    *envtest.Environment
	scheme *runtime.Scheme
	// operatorCfg is the identity the operator runs as.
	operatorCfg *rest.Config
	// platform is a cluster admin who is not the operator (a platform engineer).
	platform client.Client
	// platformCfg is platform's rest config, for impersonating other users.
	platformCfg *rest.Config
	// operatorUser is the operator's user name, the only one that may write reports.
	operatorUser string
	// clk is the operator's clock: it stands still unless a test moves it.
	clk = testingclock.NewFakeClock(time.Now().Truncate(time.Second))
)

// applyAdmissionPolicies creates (or restores) the admission policies and bindings as the
// platform admin.
func applyAdmissionPolicies(ctx context.Context) error {
	for _, o := range admissionpolicy.Objects(operatorUser) {
		if err := platform.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s: %w", admissionpolicy.Kind(o), o.GetName(), err)
		}
	}
	return nil
}

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(m *testing.M) (int, error) {
	var err error
	env, operatorCfg, err = testenv.Start(func(e *envtest.Environment) {
		e.WebhookInstallOptions = envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "webhook", "manifests.yaml")},
		}
		// Cilium's and Calico's network policies, which the operator reads where they are served.
		e.CRDDirectoryPaths = append(e.CRDDirectoryPaths, filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "cni"))
	})
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()

	scheme = testenv.Scheme()

	if platformCfg, err = testenv.AddUser(env, "platform-admin", "system:masters"); err != nil {
		return 0, err
	}
	if platform, err = client.New(platformCfg, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := platform.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: adminNamespace}}); err != nil {
		return 0, err
	}
	if err := applyShippedClusterRoles(ctx); err != nil {
		return 0, err
	}

	// The admission policies are applied by the platform admin, as a cluster that manages them
	// through GitOps does (`soc2-operator admission-policies`), and the operator only checks
	// them: so that a test can take them away and put them back.
	operatorClient, err := client.New(operatorCfg, client.Options{Scheme: scheme})
	if err != nil {
		return 0, err
	}
	if operatorUser, err = admissionpolicy.WhoAmI(ctx, operatorClient); err != nil {
		return 0, err
	}
	if err := applyAdmissionPolicies(ctx); err != nil {
		return 0, err
	}
	approval := admissionpolicy.NewVerifier()
	operator, err := testenv.StartOperator(operatorCfg, testenv.OperatorOptions{
		Scheme:   scheme,
		Cache:    controllers.CacheOptions(),
		Webhooks: &env.WebhookInstallOptions,
		Setup: func(mgr ctrl.Manager) error {
			if err := controllers.Setup(mgr, controllers.Options{
				AdminNamespace:    adminNamespace,
				CoalesceDelay:     100 * time.Millisecond,
				AdmissionPolicies: admissionpolicy.VerifyOnly,
				Approval:          approval,
				Clock:             clk,
			}); err != nil {
				return err
			}
			return webhook.Setup(mgr, adminNamespace, webhook.WithApproval(approval))
		},
	})
	if err != nil {
		return 0, err
	}
	if err := testenv.WaitAdmissionPolicies(ctx, platform, adminNamespace, testenv.VerifierTrusts(approval)); err != nil {
		return 0, err
	}
	code := m.Run()
	return code, operator.Stop()
}

// shippedClusterRoles are the ClusterRoles of config/rbac, by name.
var shippedClusterRoles = map[string]*rbacv1.ClusterRole{}

// applyShippedClusterRoles creates every ClusterRole that config/rbac ships, as an install does.
func applyShippedClusterRoles(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "rbac", "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			var meta metav1.TypeMeta
			if err := sigsyaml.Unmarshal(doc, &meta); err != nil || meta.Kind != "ClusterRole" {
				continue
			}
			role := &rbacv1.ClusterRole{}
			if err := sigsyaml.UnmarshalStrict(doc, role); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			shippedClusterRoles[role.Name] = role.DeepCopy()
			if err := platform.Create(ctx, role); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("%s: creating ClusterRole %s: %w", f, role.Name, err)
			}
		}
	}
	return nil
}

// tenantRoles are the ClusterRoles a namespace admin holds through the built-in `admin` role:
// envtest runs no aggregation controller, so the rules aggregated into `admin` are bound one
// by one (the built-in system:aggregate-to-* roles and every shipped role labelled to
// aggregate into admin).
func tenantRoles() []string {
	roles := []string{"system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view"}
	for name, role := range shippedClusterRoles {
		if role.Labels["rbac.authorization.k8s.io/aggregate-to-admin"] == "true" {
			roles = append(roles, name)
		}
	}
	return roles
}

// tenant is a namespace, the profile that selects it, and its namespace admin.
type tenant struct {
	Namespace string
	Profile   string
	// User is the tenant's user name, as the API server sees it.
	User string
	// Client acts as the tenant.
	Client client.Client
	// Warnings collects the warnings the API server returned to the tenant (as kubectl
	// prints them).
	Warnings *warnings
}

var tenantSeq atomic.Int32

// newTenant makes a namespace selected by its own profile (changed by mutate before it is
// created), binds a namespace admin there exactly as the shipped roles would, and returns it.
func newTenant(t *testing.T, name string, mutate func(*v1alpha1.ComplianceProfile)) *tenant {
	t.Helper()
	ctx := context.Background()
	ns := fmt.Sprintf("%s-%d", name, tenantSeq.Add(1))
	label := "tenant-" + ns
	if err := platform.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{label: "true"}}}); err != nil {
		t.Fatal(err)
	}
	user := "tenant-admin@" + ns
	for _, role := range tenantRoles() {
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "tenant-" + strings.ReplaceAll(role, ":", "-"), Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		if err := platform.Create(ctx, rb); err != nil {
			t.Fatal(err)
		}
	}
	p := &v1alpha1.ComplianceProfile{
		ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: v1alpha1.ComplianceProfileSpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{label: "true"}},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	if err := platform.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = platform.Delete(context.Background(), p) })
	c, w := impersonate(t, user)
	return &tenant{Namespace: ns, Profile: p.Name, User: user, Client: c, Warnings: w}
}

// impersonate returns a client that acts as user (with the system:authenticated group, as
// every real user has), and the warnings the API server sends it.
func impersonate(t *testing.T, user string, groups ...string) (client.Client, *warnings) {
	t.Helper()
	c := rest.CopyConfig(platformCfg)
	c.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append([]string{"system:authenticated"}, groups...)}
	w := &warnings{}
	c.WarningHandlerWithContext = w
	k, err := client.New(c, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return k, w
}

// report reads the tenant's report as the platform admin (an auditor's view).
func (tn *tenant) report() (*v1alpha1.ComplianceReport, error) {
	rep := &v1alpha1.ComplianceReport{}
	err := platform.Get(context.Background(), types.NamespacedName{Namespace: tn.Namespace, Name: tn.Profile}, rep)
	return rep, err
}

// waitReport waits until the tenant's report satisfies ok, and returns it.
func (tn *tenant) waitReport(t *testing.T, what string, ok func(*v1alpha1.ComplianceReport) error) *v1alpha1.ComplianceReport {
	t.Helper()
	var rep *v1alpha1.ComplianceReport
	testenv.Eventually(t, 30*time.Second, "report "+tn.Namespace+"/"+tn.Profile+": "+what, func() error {
		var err error
		if rep, err = tn.report(); err != nil {
			return err
		}
		if rep.Status.Result == "" {
			return errors.New("no status yet")
		}
		return ok(rep)
	})
	return rep
}

// warnings collects the warnings the API server returns.
type warnings struct {
	list atomic.Pointer[[]string]
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	for {
		old := w.list.Load()
		var next []string
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, text)
		if w.list.CompareAndSwap(old, &next) {
			return
		}
	}
}
