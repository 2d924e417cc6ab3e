//go:build !offline

package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	compliancev1alpha1 "github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/controllers"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/kubeapi"
	"github.com/soc2-operator/soc2-operator/internal/kubeauth"
	"github.com/soc2-operator/soc2-operator/internal/logging"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/ui"
	"github.com/soc2-operator/soc2-operator/internal/version"
	admissionwebhook "github.com/soc2-operator/soc2-operator/internal/webhook"
)

// newScheme registers the built-in kinds and the operator's own.
func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(compliancev1alpha1.AddToScheme(scheme))
	utilruntime.Must(policyreport.AddToScheme(scheme))
	return scheme
}

// managerOptions are the flags of `soc2-operator manager`.
type managerOptions struct {
	kubeconfig              string
	metricsAddr             string
	metricsSecure           bool
	probeAddr               string
	leaderElect             bool
	leaderElectionID        string
	leaderElectionNamespace string
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	adminNamespace          string
	pprofAddr               string
	enableWebhook           bool
	webhookPort             int
	webhookCertDir          string
	webhookJudgements       int
	webhookClientCA         string
	webhookClientName       string
	manageAdmissionPolicies bool
	qps                     float64
	burst                   int
	journalStore            string
	clusterName             string
	journalSigningKey       string
	attestationInterval     time.Duration
	minNamespaceInterval    time.Duration
	uiAddr                  string
	uiCertDir               string
	log                     logging.Options
}

func (o *managerOptions) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to a kubeconfig; default: in-cluster config, then $KUBECONFIG, then ~/.kube/config")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443", "Address of the metrics endpoint; \"0\" turns it off")
	fs.BoolVar(&o.metricsSecure, "metrics-secure", true, "Serve metrics over HTTPS, authenticated and authorised by the API server (TokenReview and SubjectAccessReview)")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader so that only one replica evaluates and writes")
	fs.StringVar(&o.leaderElectionID, "leader-election-id", "soc2-operator.compliance.soc2-operator.io", "Name of the Lease used for leader election")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the Lease; default: the namespace the operator runs in")
	fs.DurationVar(&o.leaseDuration, "leader-election-lease-duration", 15*time.Second, "How long a non-leader waits before it tries to take over")
	fs.DurationVar(&o.renewDeadline, "leader-election-renew-deadline", 10*time.Second, "How long the leader keeps trying to renew before it gives up")
	fs.DurationVar(&o.retryPeriod, "leader-election-retry-period", 2*time.Second, "How often leader election is retried")
	fs.BoolVar(&o.enableWebhook, "enable-webhook", false, "Serve the validating admission webhook that enforces profiles in Warn or Enforce mode (needs serving certificates)")
	fs.IntVar(&o.webhookPort, "webhook-port", 9443, "Port of the admission webhook")
	fs.StringVar(&o.webhookCertDir, "webhook-cert-dir", "", "Directory with the webhook's tls.crt and tls.key (default: /tmp/k8s-webhook-server/serving-certs, where cert-manager and OLM mount them)")
	fs.IntVar(&o.webhookJudgements, "webhook-judgements", 0, "How many admission requests the webhook judges at once (0: GOMAXPROCS, the CPUs the container may use); a request that finds none free within its time is refused under Enforce and admitted with a warning under Warn, as one judged out of time is")
	fs.StringVar(&o.webhookClientCA, "webhook-client-ca", "", "PEM file of the CA whose client certificate the webhook requires of whoever calls it: the API server, given one by its --admission-control-config-file (docs/operations.md); empty: anyone who reaches the port may send reviews")
	fs.StringVar(&o.webhookClientName, "webhook-client-name", "", "With --webhook-client-ca, the common name the client certificate must hold (empty: any the CA signed)")
	fs.BoolVar(&o.manageAdmissionPolicies, "manage-admission-policies", true, "Apply and keep the admission policies that record exception requesters, check approvals and reserve reports to the operator; false: only check them (apply `soc2-operator admission-policies` yourself, e.g. through GitOps)")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "Address of the Go pprof endpoints (/debug/pprof/), for diagnosing memory and CPU use; \"0\" turns them off")
	fs.Float64Var(&o.qps, "kube-api-qps", kubeapi.DefaultQPS, "Requests per second to the API server (client-side limit)")
	fs.IntVar(&o.burst, "kube-api-burst", kubeapi.DefaultBurst, "Burst of requests to the API server above --kube-api-qps")
	fs.StringVar(&o.adminNamespace, "admin-namespace", defaultAdminNamespace(), "The operator's namespace: only ControlExceptions there may select other namespaces (default: $POD_NAMESPACE, else "+engine.DefaultAdminNamespace+")")
	fs.StringVar(&o.journalStore, "journal-store", "", "Evidence journal store: a directory, file:///path or s3://bucket/prefix?region=...&lock-mode=governance|compliance&retain-days=N (off when empty)")
	fs.StringVar(&o.clusterName, "cluster-name", "", "This cluster's name: its journal prefix in the store (required with --journal-store)")
	fs.StringVar(&o.journalSigningKey, "journal-signing-key", "", "PEM ed25519 private key (PKCS #8) mounted from a Secret: every segment digest is signed with it")
	fs.DurationVar(&o.attestationInterval, "journal-attestation-interval", 24*time.Hour, "How often the journal attests each namespace's criteria and check populations")
	fs.DurationVar(&o.minNamespaceInterval, "min-namespace-interval", controllers.DefaultMinNamespaceInterval, "Pace of the evaluations changes trigger: each namespace has 10 in hand and earns one back every this long; a namespace that changes now and then, or a few times in a row, is evaluated 250 ms after each change, one that keeps changing waits until one is earned. It bounds the evidence a tenant's churn writes; an object that exists for less than this in a namespace that keeps changing may be in no evaluation. 0: every change is evaluated 250 ms after it. At most 5m")
	fs.StringVar(&o.uiAddr, "ui-bind-address", "0", "Address of the read-only dashboard, for example :8082 (every replica serves it; users sign in with a bearer token checked by TokenReview and see the namespaces whose reports they may get); \"0\" turns it off")
	fs.StringVar(&o.uiCertDir, "ui-cert-dir", "", "Directory with tls.crt and tls.key to serve the dashboard over HTTPS (plain HTTP when empty: behind kubectl port-forward or a TLS-terminating proxy)")
	o.log.BindFlags(fs)
}

// journalQueue opens the evidence journal's queue from the flags (nil when off).
func (o *managerOptions) journalQueue(logger logr.Logger) (*journal.Queue, error) {
	if o.journalStore == "" {
		if o.clusterName != "" || o.journalSigningKey != "" {
			return nil, fmt.Errorf("--cluster-name and --journal-signing-key need --journal-store")
		}
		return nil, nil
	}
	if o.clusterName == "" {
		return nil, fmt.Errorf("--journal-store needs --cluster-name (the journal's prefix in the store)")
	}
	if err := journal.ValidateClusterName(o.clusterName); err != nil {
		return nil, fmt.Errorf("--cluster-name: %w", err)
	}
	if o.attestationInterval < time.Minute {
		return nil, fmt.Errorf("--journal-attestation-interval %s: at least 1m", o.attestationInterval)
	}
	key, err := o.signingKey()
	if err != nil {
		return nil, err
	}
	store, err := journal.OpenStore(context.Background(), o.journalStore)
	if err != nil {
		return nil, fmt.Errorf("--journal-store: %w", err)
	}
	identity, _ := os.Hostname()
	if pod := os.Getenv("POD_NAME"); pod != "" {
		identity = pod
	}
	return journal.NewQueue(journal.QueueOptions{Store: store, Cluster: o.clusterName, Signer: key,
		Identity: identity, Version: version.Get().Version, Catalogue: checks.Version, Logger: logger.WithName("journal")})
}

// signingKey loads --journal-signing-key (nil when unset).
func (o *managerOptions) signingKey() (ed25519.PrivateKey, error) {
	if o.journalSigningKey == "" {
		return nil, nil
	}
	k, err := journal.LoadSigningKey(o.journalSigningKey)
	if err != nil {
		return nil, fmt.Errorf("--journal-signing-key: %w", err)
	}
	return k, nil
}

func defaultAdminNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return engine.DefaultAdminNamespace
}

// maxMinNamespaceInterval bounds --min-namespace-interval: a change waits for it.
const maxMinNamespaceInterval = 5 * time.Minute

func runManager(args []string, _ io.Reader, _, stderr io.Writer) int {
	var opts managerOptions
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts.bindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if opts.minNamespaceInterval < 0 || opts.minNamespaceInterval > maxMinNamespaceInterval {
		fmt.Fprintf(stderr, "soc2-operator manager: --min-namespace-interval %s: between 0 and %s\n", opts.minNamespaceInterval, maxMinNamespaceInterval)
		return 2
	}
	logger, err := logging.New(opts.log, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "soc2-operator manager: %v\n", err)
		return 2
	}
	ctrl.SetLogger(logger)
	setupLog := logger.WithName("setup")

	cfg, err := loadConfig(opts.kubeconfig)
	if err != nil {
		setupLog.Error(err, "Unable to load a kubeconfig")
		return 1
	}
	cfg.QPS, cfg.Burst = float32(opts.qps), opts.burst
	queue, err := opts.journalQueue(logger)
	if err != nil {
		fmt.Fprintf(stderr, "soc2-operator manager: %v\n", err)
		return 2
	}
	mgr, err := newManager(cfg, opts, queue)
	if err != nil {
		setupLog.Error(err, "Unable to set up the manager")
		return 1
	}
	setupLog.Info("Starting manager", "version", version.Get().Version)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Manager stopped")
		return 1
	}
	return 0
}

// loadConfig reads an explicit kubeconfig path, or falls back to controller-runtime's rules.
func loadConfig(path string) (*rest.Config, error) {
	if path == "" {
		return ctrl.GetConfig()
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{}).ClientConfig()
}

// newManager builds the controller-runtime manager with metrics, probes and leader election.
func newManager(cfg *rest.Config, opts managerOptions, queue *journal.Queue) (ctrl.Manager, error) {
	metricsOpts := metricsserver.Options{
		BindAddress:   opts.metricsAddr,
		SecureServing: opts.metricsSecure,
		// HTTP/2 is off: it is exposed to the HTTP/2 Rapid Reset and Stream Cancellation attacks.
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if opts.metricsSecure {
		metricsOpts.FilterProvider = kubeauth.MetricsFilter(kubeauth.Options{TTLs: kubeauth.MetricsTTLs})
	}
	webhookTLS := []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	if opts.webhookClientCA != "" {
		requireCert, err := admissionwebhook.RequireClientCertificate(opts.webhookClientCA, opts.webhookClientName)
		if err != nil {
			return nil, err
		}
		webhookTLS = append(webhookTLS, requireCert)
	} else if opts.webhookClientName != "" {
		return nil, errors.New("--webhook-client-name needs --webhook-client-ca")
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 newScheme(),
		Cache:                  controllers.CacheOptions(),
		Metrics:                metricsOpts,
		HealthProbeBindAddress: opts.probeAddr,
		PprofBindAddress:       opts.pprofAddr,
		WebhookServer: webhook.NewServer(webhook.Options{
			Port:    opts.webhookPort,
			CertDir: opts.webhookCertDir,
			TLSOpts: webhookTLS,
		}),
		LeaderElection:                opts.leaderElect,
		LeaderElectionID:              opts.leaderElectionID,
		LeaderElectionNamespace:       opts.leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &opts.leaseDuration,
		RenewDeadline:                 &opts.renewDeadline,
		RetryPeriod:                   &opts.retryPeriod,
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	approval := admissionpolicy.NewVerifier()
	mode := admissionpolicy.Manage
	if !opts.manageAdmissionPolicies {
		mode = admissionpolicy.VerifyOnly
	}
	var election types.NamespacedName
	if opts.leaderElect {
		// controller-runtime's default namespace is the one the operator runs in, as the
		// admin namespace's ($POD_NAMESPACE); another, the Lease is not found and nothing is fenced.
		election = types.NamespacedName{Namespace: cmp.Or(opts.leaderElectionNamespace, opts.adminNamespace), Name: opts.leaderElectionID}
	}
	if err := controllers.Setup(mgr, controllers.Options{AdminNamespace: opts.adminNamespace, LeaderElection: election, Journal: queue, AttestationInterval: opts.attestationInterval,
		MinNamespaceInterval: opts.minNamespaceInterval,
		AdmissionPolicies:    mode, Approval: approval}); err != nil {
		return nil, err
	}
	if opts.enableWebhook {
		if err := admissionwebhook.Setup(mgr, opts.adminNamespace, admissionwebhook.WithApproval(approval),
			admissionwebhook.WithJudgements(opts.webhookJudgements)); err != nil {
			return nil, fmt.Errorf("setting up the admission webhook: %w", err)
		}
	}
	if opts.uiAddr != "0" && opts.uiAddr != "" {
		var trends ui.Trends
		if opts.journalStore != "" {
			// The dashboard reads the journal on every replica: a store of its own.
			store, err := journal.OpenStore(context.Background(), opts.journalStore)
			if err != nil {
				return nil, fmt.Errorf("--journal-store: %w", err)
			}
			// The dashboard checks the signatures of the operator's own key: a segment someone
			// wrote to the store without it does not verify.
			key, err := opts.signingKey()
			if err != nil {
				return nil, err
			}
			var pub ed25519.PublicKey
			if key != nil {
				pub = key.Public().(ed25519.PublicKey)
			}
			trends = ui.NewJournalTrends(store, opts.clusterName, pub)
		}
		if err := ui.Add(mgr, ui.ServeOptions{BindAddress: opts.uiAddr, CertDir: opts.uiCertDir, Trends: trends}); err != nil {
			return nil, fmt.Errorf("setting up the dashboard: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding readiness check: %w", err)
	}
	return mgr, nil
}
