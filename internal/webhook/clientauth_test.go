package webhook_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrlwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestTheWebhookCanRequireTheAPIServersClientCertificate: anyone who reaches the webhook's port
// could send it reviews, each taking a judgement the API server's requests then waited for. With
// RequireClientCertificate (--webhook-client-ca, --webhook-client-name) the webhook answers only
// a client holding a certificate of that CA and name, which the API server presents when its
// admission configuration (--admission-control-config-file) names a kubeconfig holding it: a
// real kube-apiserver so configured reaches the webhook and its workloads are judged, a review
// sent without a certificate, with one of another CA or of another name is refused in the TLS
// handshake, and the readiness check (StartedChecker) still passes.
func TestTheWebhookCanRequireTheAPIServersClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t, "soc2-operator webhook clients")
	caFile := filepath.Join(dir, "client-ca.crt")
	writePEM(t, caFile, "CERTIFICATE", ca.Raw)
	apiServer := issueClient(t, ca, caKey, "kube-apiserver")
	other, otherKey := newCA(t, "another CA")
	forged := issueClient(t, other, otherKey, "kube-apiserver")
	misnamed := issueClient(t, ca, caKey, "tenant")

	// The API server's admission configuration: its webhook client presents apiServer to every
	// webhook ("*"; a cluster names the webhook's service, <service>.<namespace>.svc).
	certPEM, keyPEM := pemOf(t, apiServer)
	kubeconfig := filepath.Join(dir, "webhook-kubeconfig.yaml")
	writeFile(t, kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate-data: %s
    client-key-data: %s
`, b64(certPEM), b64(keyPEM)))
	admission := filepath.Join(dir, "admission.yaml")
	writeFile(t, admission, fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %s
`, kubeconfig))
	env, cfg2, err := testenv.Start(func(e *envtest.Environment) {
		e.WebhookInstallOptions = envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "webhook", "manifests.yaml")},
		}
		e.ControlPlane.GetAPIServer().Configure().Set("admission-control-config-file", admission)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	k, err := client.New(cfg2, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	v, err := validator(k, k)
	if err != nil {
		t.Fatal(err)
	}
	requireCert, err := webhook.RequireClientCertificate(caFile, "kube-apiserver")
	if err != nil {
		t.Fatal(err)
	}
	w := env.WebhookInstallOptions
	srv := ctrlwebhook.NewServer(ctrlwebhook.Options{Host: w.LocalServingHost, Port: w.LocalServingPort, CertDir: w.LocalServingCertDir,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }, requireCert}})
	srv.Register(webhook.Path, webhook.Handler(v))
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Start(ctx) }()
	defer func() {
		cancel()
		<-served
	}()
	ready := srv.StartedChecker()
	testenv.Eventually(t, 10*time.Second, "the webhook server ready", func() error { return ready(nil) })

	const ns = "client-certificate"
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"enforce-test": ns}}}); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: ns},
		Spec: v1alpha1.ComplianceProfileSpec{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"enforce-test": ns}},
			Enforcement:       &v1alpha1.Enforcement{Mode: v1alpha1.EnforcementEnforce, Severity: v1alpha1.SeverityCritical},
		}}); err != nil {
		t.Fatal(err)
	}
	// Through the API server, which presents its certificate: judged.
	testenv.Eventually(t, 10*time.Second, "a privileged Deployment denied through the API server", func() error {
		err := k.Create(ctx, deployment(ns, "agent", true), client.DryRunAll)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
			return fmt.Errorf("want denied naming wl-privileged, got %v", err)
		}
		return nil
	})

	review, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  creating(t, ns, "forged"),
	})
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + net.JoinHostPort(w.LocalServingHost, strconv.Itoa(w.LocalServingPort)) + webhook.Path
	post := func(cert *tls.Certificate) error {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(w.LocalServingCAData)
		c := &tls.Config{RootCAs: roots, ServerName: w.LocalServingHost}
		if cert != nil {
			c.Certificates = []tls.Certificate{*cert}
		}
		resp, err := (&http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: c}}).
			Post(url, "application/json", bytes.NewReader(review))
		if err != nil {
			return err
		}
		defer func() { _ = resp.Body.Close() }()
		var answer admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Response == nil {
			return fmt.Errorf("HTTP %d, no review (%v)", resp.StatusCode, err)
		}
		return nil
	}
	for what, cert := range map[string]*tls.Certificate{"without a certificate": nil, "with another CA's": &forged, "with another name's": &misnamed} {
		if err := post(cert); err == nil {
			t.Errorf("a review sent straight to the webhook %s was answered", what)
		}
	}
	if err := post(&apiServer); err != nil {
		t.Errorf("a review sent with the API server's certificate: %v", err)
	}
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func issueClient(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func pemOf(t *testing.T, c tls.Certificate) (cert, key []byte) {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func b64(b []byte) string {
	return base64.StdEncoding.EncodeToString(b)
}

// TestAClientCAThatCannotBeReadIsNamed: --webhook-client-ca naming a file that is missing or
// holds no PEM certificate stops the manager with an error naming the file, rather than serving
// a webhook that trusts no one (every API server call refused, and admitted under Ignore).
func TestAClientCAThatCannotBeReadIsNamed(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	writeFile(t, notPEM, "not a certificate\n")
	for what, path := range map[string]string{"missing": filepath.Join(dir, "missing.crt"), "not PEM": notPEM} {
		if _, err := webhook.RequireClientCertificate(path, ""); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: want an error naming %s, got %v", what, path, err)
		}
	}
}
