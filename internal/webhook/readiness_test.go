package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestAReplicaIsNotReadyBeforeItCheckedTheAdmissionPolicies: a replica that has just started
// (a rollout, a restart) trusts no approval until it has checked its admission policies once.
// It said Ready as soon as its webhook server listened, so the Service sent it admission
// requests it judged with every approved exception lifted: under Enforce, a Deployment an
// approved exception covers was refused for that moment. It is Ready only once it has checked.
func TestAReplicaIsNotReadyBeforeItCheckedTheAdmissionPolicies(t *testing.T) {
	probePort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	servePort, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	probe := fmt.Sprintf("127.0.0.1:%d", probePort)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: probe,
		WebhookServer: ctrlwebhook.NewServer(ctrlwebhook.Options{Host: "127.0.0.1", Port: servePort, CertDir: webhooks.LocalServingCertDir}),
	})
	if err != nil {
		t.Fatal(err)
	}
	unchecked := admissionpolicy.NewVerifier() // nothing checks the policies for this replica
	if err := webhook.Setup(mgr, adminNamespace, webhook.WithApproval(unchecked)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	get := func(path string) (int, string, error) {
		resp, err := http.Get("http://" + probe + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	testenv.Eventually(t, 30*time.Second, "the replica's webhook server serving", func() error {
		code, body, err := get("/readyz/webhook")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("/readyz/webhook: %d %s", code, body)
		}
		return nil
	})
	code, body, err := get("/readyz?verbose")
	if err != nil {
		t.Fatal(err)
	}
	if code == http.StatusOK {
		t.Errorf("/readyz is %d before the replica checked its admission policies, want it not ready:\n%s", code, body)
	}
}
