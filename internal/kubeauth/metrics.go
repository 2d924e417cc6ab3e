package kubeauth

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// MetricsTTLs are controller-runtime's for its metrics filter (v0.25.2): a minute for tokens,
// five for an allowed scrape, 30 s for a refused one.
var MetricsTTLs = TTLs{Token: time.Minute, Allowed: 5 * time.Minute, Refused: 30 * time.Second}

// MetricsFilter is a metrics server's FilterProvider (metricsserver.Options.FilterProvider)
// that lets a request through when its bearer token's user may use the request's verb on its
// path as a non-resource URL: get on /metrics, the rule a Prometheus ClusterRole grants. As
// controller-runtime's filters.WithAuthenticationAndAuthorization does, except that a token
// the API server refused is 401 Unauthorized (there it is 500).
//
// A request without a token or with a refused one gets 401, one that may not 403, and one the
// API server could not be asked about 500; the error is logged.
func MetricsFilter(opts Options) func(*rest.Config, *http.Client) (metricsserver.Filter, error) {
	return func(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
		rv, err := New(cfg, httpClient, opts)
		if err != nil {
			return nil, fmt.Errorf("metrics authentication: %w", err)
		}
		return func(log logr.Logger, next http.Handler) (http.Handler, error) {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, ok, err := rv.Authenticate(r)
				if err != nil {
					log.Error(err, "Authentication failed")
					http.Error(w, "Authentication failed", http.StatusInternalServerError)
					return
				}
				if !ok {
					log.V(4).Info("Unauthorized: no bearer token, or the API server refused it")
					w.Header().Set("WWW-Authenticate", `Bearer realm="soc2-operator metrics"`)
					http.Error(w, "Unauthorized", http.StatusUnauthorized)
					return
				}
				allowed, reason, err := rv.Authorize(r.Context(), u, Attributes{NonResource: &authorizationv1.NonResourceAttributes{
					Path: r.URL.Path, Verb: strings.ToLower(r.Method)}})
				if err != nil {
					msg := fmt.Sprintf("Authorization for user %s failed", u.GetName())
					log.Error(err, msg)
					http.Error(w, msg, http.StatusInternalServerError)
					return
				}
				if !allowed {
					msg := fmt.Sprintf("Authorization denied for user %s", u.GetName())
					log.V(4).Info(msg, "reason", reason)
					http.Error(w, msg, http.StatusForbidden)
					return
				}
				next.ServeHTTP(w, r)
			}), nil
		}, nil
	}
}
