package webhook

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// RequireClientCertificate returns the webhook server's TLS option that accepts a connection only
// from a client presenting a certificate signed by a CA in caFile (PEM) and, when name is not
// empty, whose subject common name is name: the API server, given that certificate by its
// admission configuration (--admission-control-config-file: a WebhookAdmission kubeConfigFile
// whose user, named after the webhook's service, holds the client certificate; see
// docs/operations.md). Without it anyone who reaches the webhook's port can send it reviews:
// they admit nothing, but take judgements (WorkloadValidator.Judgements) the API server's
// requests then wait for. The CA is read once, at start.
func RequireClientCertificate(caFile, name string) (func(*tls.Config), error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading the webhook's client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("reading the webhook's client CA %s: no PEM certificate in it", caFile)
	}
	return func(c *tls.Config) {
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
		if name == "" {
			return
		}
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			// Called after the chain was verified against ClientCAs.
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no client certificate")
			}
			if cn := cs.PeerCertificates[0].Subject.CommonName; cn != name {
				return fmt.Errorf("client certificate of %q, not %q", cn, name)
			}
			return nil
		}
	}, nil
}
