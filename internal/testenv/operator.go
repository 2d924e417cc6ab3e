package testenv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/soc2-operator/soc2-operator/internal/kubeapi"
)

// OperatorOptions say how StartOperator runs the operator's manager in the test process. The
// suites differ in what they register (Setup) and in which endpoints they serve.
type OperatorOptions struct {
	// Scheme is the manager's scheme (Scheme()).
	Scheme *runtime.Scheme
	// Cache is the manager's cache: controllers.CacheOptions(), as the operator's. It is passed
	// in because testenv cannot import controllers, whose own tests import testenv.
	Cache cache.Options
	// Metrics serves the metrics endpoint over plain HTTP on a free local port
	// (Operator.MetricsURL). Off when false.
	Metrics bool
	// Webhooks serves the admission webhooks that envtest installed and points the API server
	// at (Environment.WebhookInstallOptions).
	Webhooks *envtest.WebhookInstallOptions
	// Setup registers what the suite runs with the manager: the reconcilers, the admission
	// webhook, the dashboard.
	Setup func(ctrl.Manager) error
	// Restartable lets the test process start the operator again once it stopped (a restart
	// against the same API server): controller-runtime otherwise refuses a second controller of
	// a name it has seen in the process.
	Restartable bool
}

// Operator is the operator's manager running in the test process. Health probes and leader
// election are off.
type Operator struct {
	Manager ctrl.Manager
	// MetricsURL is the metrics endpoint ("" unless OperatorOptions.Metrics).
	MetricsURL string
	cancel     context.CancelFunc
	done       chan error
}

// StartOperator builds a manager on cfg (the identity the operator runs as), registers what
// opts.Setup registers, starts it and waits until its cache has synced (and its metrics endpoint
// listens, when it serves one).
func StartOperator(cfg *rest.Config, opts OperatorOptions) (*Operator, error) {
	o := &Operator{done: make(chan error, 1)}
	mo := ctrl.Options{
		Scheme:                 opts.Scheme,
		Cache:                  opts.Cache,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	}
	if opts.Restartable {
		skip := true
		mo.Controller.SkipNameValidation = &skip
	}
	if opts.Metrics {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		mo.Metrics.BindAddress = fmt.Sprintf("127.0.0.1:%d", port)
		o.MetricsURL = "http://" + mo.Metrics.BindAddress + "/metrics"
	}
	if w := opts.Webhooks; w != nil {
		mo.WebhookServer = ctrlwebhook.NewServer(ctrlwebhook.Options{
			Host: w.LocalServingHost, Port: w.LocalServingPort, CertDir: w.LocalServingCertDir,
		})
	}
	// The operator binary's client-side limits, not client-go's default of 5 a second: the
	// dashboard asks one SubjectAccessReview per namespace.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = kubeapi.DefaultQPS, kubeapi.DefaultBurst
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, err
	}
	o.Manager = mgr
	if opts.Setup != nil {
		if err := opts.Setup(mgr); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	go func() { o.done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		cancel()
		return nil, errors.Join(errors.New("the operator's cache did not sync"), <-o.done)
	}
	// The metrics server listens once its own runnable starts, beside the caches: wait for it,
	// so that a test's first scrape is not refused.
	if opts.Metrics {
		if err := WaitListening(mo.Metrics.BindAddress, 30*time.Second); err != nil {
			cancel()
			return nil, errors.Join(fmt.Errorf("the operator's metrics endpoint: %w", err), <-o.done)
		}
	}
	return o, nil
}

// Stop stops the manager and returns the error it stopped with.
func (o *Operator) Stop() error {
	o.cancel()
	if err := <-o.done; err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	return nil
}
