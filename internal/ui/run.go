package ui

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// ServeOptions place the dashboard in the manager.
type ServeOptions struct {
	// BindAddress is where it listens, for example :8082.
	BindAddress string
	// CertDir holds tls.crt and tls.key to serve HTTPS; plain HTTP when empty.
	CertDir string
	// Trends is nil unless the evidence journal is configured.
	Trends Trends
	// Listener, when set, is used instead of listening on BindAddress (tests).
	Listener net.Listener
	// AccessCache, when set, replaces DefaultAccessCacheTTLs.
	AccessCache *AccessCacheTTLs
	// AccessClock is the clock on which the reuse of SubjectAccessReview answers (which
	// namespaces a user may see) is measured. Default: the real one. Tests step a fake one, so
	// that a revoked binding shows without waiting out the cache.
	AccessClock clock.PassiveClock
}

// Add runs the dashboard in the manager on every replica, leader or not: it reads the
// manager's informer cache and asks the API server who may see what.
func Add(mgr manager.Manager, o ServeOptions) error {
	ttl := DefaultAccessCacheTTLs
	if o.AccessCache != nil {
		ttl = *o.AccessCache
	}
	access, err := NewAPIServerAccess(mgr.GetConfig(), mgr.GetHTTPClient(), ttl, o.AccessClock)
	if err != nil {
		return err
	}
	logger := mgr.GetLogger().WithName("ui")
	s, err := New(Options{Source: CacheSource{Reader: mgr.GetCache()}, Access: access, Trends: o.Trends, Logger: logger})
	if err != nil {
		return err
	}
	r := &runnable{handler: s, opts: o, logger: logger, warm: func(ctx context.Context) error {
		// Followers run no controller, so nothing else starts these informers there.
		for _, obj := range []client.Object{&v1alpha1.ComplianceReport{}, &v1alpha1.ControlException{}, &v1alpha1.ComplianceProfile{}} {
			if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
				return fmt.Errorf("starting the dashboard's informers: %w", err)
			}
		}
		return nil
	}}
	return mgr.Add(r)
}

type runnable struct {
	handler http.Handler
	opts    ServeOptions
	logger  logr.Logger
	warm    func(context.Context) error
}

// NeedLeaderElection is false: every replica serves the dashboard.
func (r *runnable) NeedLeaderElection() bool { return false }

func (r *runnable) Start(ctx context.Context) error {
	if err := r.warm(ctx); err != nil {
		return err
	}
	ln := r.opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", r.opts.BindAddress); err != nil {
			return fmt.Errorf("dashboard listener: %w", err)
		}
	}
	srv := &http.Server{
		Handler:           r.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	scheme := "http"
	if r.opts.CertDir != "" {
		w, err := certwatcher.New(filepath.Join(r.opts.CertDir, "tls.crt"), filepath.Join(r.opts.CertDir, "tls.key"))
		if err != nil {
			ln.Close()
			return fmt.Errorf("dashboard certificate: %w", err)
		}
		go func() {
			if err := w.Start(ctx); err != nil {
				r.logger.Error(err, "Dashboard certificate watcher stopped")
			}
		}()
		ln = tls.NewListener(ln, &tls.Config{GetCertificate: w.GetCertificate, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
		scheme = "https"
	}
	r.logger.Info("Serving the dashboard", "address", scheme+"://"+ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	case err := <-done:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("dashboard server: %w", err)
	}
}
