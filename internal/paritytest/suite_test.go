//go:build e2e

// Package paritytest holds the README's promise that "the same checks run in CI with
// `soc2-operator scan`": the same manifests are applied to a real API server with kubectl, the
// operator evaluates them there, and `scan` evaluates the files; the test compares what each
// says, result by result, and names every difference it allows with the reason.
//
// One control plane and one operator (the reconcilers, in process) serve the package.
package paritytest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// adminNamespace is the operator's namespace in these tests.
const adminNamespace = engine.DefaultAdminNamespace

var (
	scheme *runtime.Scheme
	// k8s is a cluster admin's client (the test's view of the cluster).
	k8s client.Client
	// kubeconfig is a cluster admin's kubeconfig for kubectl, and kubectlPath the kubectl built
	// with the control plane.
	kubeconfig, kubectlPath string
	// operatorCache is the operator's informer cache: what its evaluations read.
	operatorCache cache.Cache
)

func TestMain(m *testing.M) { testenv.Main(m, run) }

func run(m *testing.M) (int, error) {
	// The PolicyReport CRDs too: the profile writes every result, passes included, as
	// PolicyReports, which is how the test sees the operator's passes. And the Gateway API's,
	// whose Gateways and routes some inputs are, and the stand-in of Kong's KongPlugin
	// (controllers/testdata/kong), which testdata/kong's are, and of Traefik's IngressRoute
	// (controllers/testdata/traefik), which testdata/traefik's are.
	gatewayAPI, err := testenv.GatewayAPICRDs()
	if err != nil {
		return 0, err
	}
	env, cfg, err := testenv.Start(func(e *envtest.Environment) {
		e.CRDDirectoryPaths = append(e.CRDDirectoryPaths, filepath.Join(testenv.RepoRoot(), "config", "policyreport"), gatewayAPI,
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "kong"),
			filepath.Join(testenv.RepoRoot(), "controllers", "testdata", "traefik"))
	})
	if err != nil {
		return 0, err
	}
	defer func() { _ = env.Stop() }()

	scheme = testenv.Scheme(policyreport.AddToScheme)
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return 0, err
	}
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: adminNamespace}}); err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "soc2-parity-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if kubeconfig, err = testenv.AdminKubeconfig(env, dir); err != nil {
		return 0, err
	}
	if kubectlPath, err = testenv.Kubectl(); err != nil {
		return 0, err
	}

	approval := admissionpolicy.NewVerifier()
	operator, err := testenv.StartOperator(cfg, testenv.OperatorOptions{
		Scheme: scheme,
		Cache:  controllers.CacheOptions(),
		Setup: func(mgr ctrl.Manager) error {
			return controllers.Setup(mgr, controllers.Options{
				AdminNamespace: adminNamespace,
				CoalesceDelay:  100 * time.Millisecond,
				Approval:       approval,
			})
		},
	})
	if err != nil {
		return 0, err
	}
	operatorCache = operator.Manager.GetCache()
	// The test applies exceptions with kubectl. Until the API server applies the operator's
	// mutating admission policy to ControlExceptions (a moment after the operator creates it),
	// it refuses them with 503 "Resource kind ... not found", and the exceptions would be
	// missing from the operator's side only.
	if err := testenv.WaitAdmissionPolicies(context.Background(), k8s, adminNamespace, testenv.VerifierTrusts(approval)); err != nil {
		_ = operator.Stop()
		return 0, err
	}
	code := m.Run()
	return code, operator.Stop()
}
