package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Access decides who a request comes from and which namespaces' reports they may read.
type Access interface {
	// Authenticate returns the user a request's bearer token belongs to (ok false: no valid
	// token).
	Authenticate(r *http.Request) (u user.Info, ok bool, err error)
	// Authorize says whether u may get ComplianceReports in namespace ns ("" for every
	// namespace).
	Authorize(ctx context.Context, u user.Info, ns string) (bool, error)
}

// AccessCacheTTLs say how long the API server's answers are reused: a revoked binding or token
// stops working within these times.
type AccessCacheTTLs struct {
	// Token is how long a TokenReview's answer is reused.
	Token time.Duration
	// Allowed is how long a SubjectAccessReview that allowed is reused.
	Allowed time.Duration
	// Refused is how long a SubjectAccessReview that refused is reused.
	Refused time.Duration
}

// DefaultAccessCacheTTLs are the dashboard's: 30 s for tokens and allowed namespaces, 10 s for
// refused ones (docs/dashboard.md).
var DefaultAccessCacheTTLs = AccessCacheTTLs{Token: 30 * time.Second, Allowed: 30 * time.Second, Refused: 10 * time.Second}

// apiServerAccess asks the API server, as the metrics endpoint does (controller-runtime
// v0.25.2 pkg/metrics/filters): TokenReview through k8s.io/apiserver's delegating
// authenticator, which caches its answers, and SubjectAccessReview through its delegating
// authorizer (v0.37.2), whose answers are cached here, on the access's clock (the
// authorizer's own cache follows the real clock only).
type apiServerAccess struct {
	authn     authenticator.Request
	authz     authorizer.Authorizer
	decisions *cache.LRUExpireCache // decisionKey -> bool (allowed)
	ttl       AccessCacheTTLs
}

// maxCachedDecisions bounds the cached SubjectAccessReview answers (users x namespaces), as
// k8s.io/apiserver's webhook authorizer bounds its own.
const maxCachedDecisions = 8192

// NewAPIServerAccess builds the TokenReview/SubjectAccessReview access of the operator's
// identity (it needs create on tokenreviews and subjectaccessreviews), which reuses answers for
// the given times. Those of SubjectAccessReviews are measured on clk (nil: the real clock).
func NewAPIServerAccess(cfg *rest.Config, httpClient *http.Client, ttl AccessCacheTTLs, clk clock.PassiveClock) (Access, error) {
	if clk == nil {
		clk = clock.RealClock{}
	}
	authnClient, err := authenticationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("tokenreview client: %w", err)
	}
	authzClient, err := authorizationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("subjectaccessreview client: %w", err)
	}
	backoff := &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	authn, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		Anonymous:                &apiserver.AnonymousAuthConfig{Enabled: false},
		CacheTTL:                 ttl.Token,
		TokenAccessReviewClient:  authnClient,
		TokenAccessReviewTimeout: 10 * time.Second,
		WebhookRetryBackoff:      backoff,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("authenticator: %w", err)
	}
	authz, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: authzClient,
		// Answers are reused by Authorize, on clk: none here.
		AllowCacheTTL:       0,
		DenyCacheTTL:        0,
		WebhookRetryBackoff: backoff,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	return &apiServerAccess{authn: authn, authz: authz, decisions: cache.NewLRUExpireCacheWithClock(maxCachedDecisions, clk), ttl: ttl}, nil
}

func (a *apiServerAccess) Authenticate(r *http.Request) (user.Info, bool, error) {
	res, ok, err := a.authn.AuthenticateRequest(r)
	// k8s.io/apiserver v0.37.2's bearer-token authenticator reports a token the TokenReview
	// rejected as this error (unexported there); anything else is a failure to ask.
	if err != nil && strings.Contains(err.Error(), "invalid bearer token") {
		return nil, false, nil
	}
	if err != nil || !ok {
		return nil, false, err
	}
	return res.User, true, nil
}

// Authorize reuses an allowed answer for ttl.Allowed and a refused one for ttl.Refused; an
// error is not remembered.
func (a *apiServerAccess) Authorize(ctx context.Context, u user.Info, ns string) (bool, error) {
	key, err := decisionKey(u, ns)
	if err != nil {
		return false, err
	}
	if allowed, ok := a.decisions.Get(key); ok {
		return allowed.(bool), nil
	}
	d, _, err := a.authz.Authorize(ctx, authorizer.AttributesRecord{
		User: u, Verb: "get", APIGroup: v1alpha1.GroupVersion.Group, APIVersion: v1alpha1.GroupVersion.Version,
		Resource: "compliancereports", Namespace: ns, ResourceRequest: true,
	})
	if err != nil {
		return false, fmt.Errorf("subjectaccessreview for %s in namespace %q: %w", u.GetName(), ns, err)
	}
	allowed := d == authorizer.DecisionAllow
	ttl := a.ttl.Refused
	if allowed {
		ttl = a.ttl.Allowed
	}
	if ttl > 0 {
		a.decisions.Add(key, allowed, ttl)
	}
	return allowed, nil
}

// decisionKey is everything of the user that a SubjectAccessReview sends, and the namespace
// (k8s.io/apiserver's webhook authorizer keys its cache on the whole review's spec).
func decisionKey(u user.Info, ns string) (string, error) {
	key, err := json.Marshal(struct {
		Name, UID, Namespace string
		Groups               []string
		Extra                map[string][]string
	}{u.GetName(), u.GetUID(), ns, u.GetGroups(), u.GetExtra()})
	if err != nil {
		return "", fmt.Errorf("access cache key for %s: %w", u.GetName(), err)
	}
	return string(key), nil
}

// visibleNamespaces returns those of namespaces whose reports u may get: all of them when u
// may get reports in every namespace, else each one asked (a few at a time; the authorizer
// caches the answers).
func visibleNamespaces(ctx context.Context, a Access, u user.Info, namespaces []string) (map[string]bool, error) {
	out := make(map[string]bool, len(namespaces))
	all, err := a.Authorize(ctx, u, "")
	if err != nil {
		return nil, err
	}
	if all {
		for _, ns := range namespaces {
			out[ns] = true
		}
		return out, nil
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, 8)
	)
	for _, ns := range namespaces {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ok, err := a.Authorize(ctx, u, ns)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if ok {
				out[ns] = true
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}
