// Package kubeauth asks the API server who a bearer token belongs to (TokenReview) and whether
// they may do something (SubjectAccessReview), for the dashboard and the metrics endpoint. The
// API server decides both; this package only asks, and reuses its answers for a while.
//
// It does what k8s.io/apiserver's delegating authenticator and authorizer do for a client of
// the API server (and controller-runtime's metrics filter, which uses them): the same requests,
// the same retries of transient errors, answers cached by the whole review. It exists because
// those bring the API server's webhook machinery into the binary (gRPC, OpenTelemetry, the
// konnectivity client: the binary linked 1,226 packages with them and 1,027 without), whose
// initialisers every `soc2-operator scan` ran before reading a file: `scan --help` took 90-93
// ms with them and 72-74 ms without (perf stat, three alternated sets of 20 runs), and
// GODEBUG=inittrace=1 counts 487 initialisers in 69 ms against 393 in 57 ms.
package kubeauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
)

// TTLs say how long the API server's answers are reused: a revoked token or binding stops
// working within these times.
type TTLs struct {
	// Token is how long a TokenReview's answer, accepted or refused, is reused.
	Token time.Duration
	// Allowed is how long a SubjectAccessReview that allowed is reused.
	Allowed time.Duration
	// Refused is how long a SubjectAccessReview that refused is reused.
	Refused time.Duration
}

// Options say how a Reviewer asks.
type Options struct {
	TTLs TTLs
	// Clock measures the TTLs (nil: the real clock).
	Clock clock.PassiveClock
	// Timeout bounds each review, its retries included (0: 10 s, as the API server's
	// authentication webhook's).
	Timeout time.Duration
	// Retry spaces the retries of a review that failed in a way worth retrying (the zero
	// value: DefaultRetry).
	Retry wait.Backoff
}

// DefaultRetry is the API server's own for its authentication and authorization webhooks
// (k8s.io/apiserver v0.37.2, options.DefaultAuthWebhookRetryBackoff): five tries, from half a
// second apart.
var DefaultRetry = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}

// maxCached bounds each cache of answers (tokens; users x attributes), as k8s.io/apiserver's
// webhook authorizer bounds its own.
const maxCached = 8192

// Reviewer asks the API server with the identity of its rest.Config, which needs create on
// tokenreviews (authentication.k8s.io) and subjectaccessreviews (authorization.k8s.io).
type Reviewer struct {
	tokens    authenticationv1client.TokenReviewInterface
	reviews   authorizationv1client.SubjectAccessReviewInterface
	users     *cache.LRUExpireCache // sha256 of a token -> user.Info, nil when refused
	decisions *cache.LRUExpireCache // the review's spec as JSON -> decision
	opts      Options
}

type decision struct {
	allowed bool
	reason  string
}

// New returns a Reviewer that asks the API server of cfg through httpClient.
func New(cfg *rest.Config, httpClient *http.Client, opts Options) (*Reviewer, error) {
	tokens, err := authenticationv1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("tokenreview client: %w", err)
	}
	reviews, err := authorizationv1client.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("subjectaccessreview client: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Retry.Steps == 0 {
		opts.Retry = DefaultRetry
	}
	return &Reviewer{
		tokens:    tokens.TokenReviews(),
		reviews:   reviews.SubjectAccessReviews(),
		users:     cache.NewLRUExpireCacheWithClock(maxCached, opts.Clock),
		decisions: cache.NewLRUExpireCacheWithClock(maxCached, opts.Clock),
		opts:      opts,
	}, nil
}

// BearerToken returns the token of a request's "Authorization: Bearer <token>" header (the
// scheme in any case), or "" when it has none; as k8s.io/apiserver's bearertoken reads it.
func BearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	token, _, _ = strings.Cut(token, " ")
	return token
}

// Authenticate returns who the bearer token of r belongs to. ok is false, with no error, when
// r has no bearer token or the API server refused it; an error means it could not be asked.
func (rv *Reviewer) Authenticate(r *http.Request) (u user.Info, ok bool, err error) {
	token := BearerToken(r)
	if token == "" {
		return nil, false, nil
	}
	return rv.AuthenticateToken(r.Context(), token)
}

// AuthenticateToken returns who token belongs to, as Authenticate does. Answers are reused for
// TTLs.Token, keyed by the token's SHA-256 (the token itself is not kept); errors are not.
func (rv *Reviewer) AuthenticateToken(ctx context.Context, token string) (user.Info, bool, error) {
	key := sha256.Sum256([]byte(token))
	if v, ok := rv.users.Get(key); ok {
		u, _ := v.(user.Info)
		return u, u != nil, nil
	}
	var status authenticationv1.TokenReviewStatus
	err := rv.ask(ctx, func(ctx context.Context) error {
		res, err := rv.tokens.Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
		if err == nil {
			status = res.Status
		}
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("tokenreview: %w", err)
	}
	var u user.Info
	if status.Authenticated {
		u = &user.DefaultInfo{Name: status.User.Username, UID: status.User.UID, Groups: status.User.Groups, Extra: extra(status.User.Extra)}
	}
	if rv.opts.TTLs.Token > 0 {
		rv.users.Add(key, u, rv.opts.TTLs.Token)
	}
	return u, u != nil, nil
}

// Attributes are what a SubjectAccessReview asks about: a resource or a non-resource URL.
type Attributes struct {
	Resource    *authorizationv1.ResourceAttributes
	NonResource *authorizationv1.NonResourceAttributes
}

// Authorize asks whether u may do what attrs say; reason is the API server's, for a log.
// Answers are reused for TTLs.Allowed or TTLs.Refused, keyed by the whole review; errors are
// not.
func (rv *Reviewer) Authorize(ctx context.Context, u user.Info, attrs Attributes) (allowed bool, reason string, err error) {
	if (attrs.Resource == nil) == (attrs.NonResource == nil) {
		return false, "", errors.New("subjectaccessreview: want either resource or non-resource attributes")
	}
	spec := authorizationv1.SubjectAccessReviewSpec{
		ResourceAttributes: attrs.Resource, NonResourceAttributes: attrs.NonResource,
		User: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups(),
	}
	if e := u.GetExtra(); e != nil {
		spec.Extra = make(map[string]authorizationv1.ExtraValue, len(e))
		for k, v := range e {
			spec.Extra[k] = v
		}
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return false, "", fmt.Errorf("subjectaccessreview for %s: %w", u.GetName(), err)
	}
	key := string(js)
	if v, ok := rv.decisions.Get(key); ok {
		d := v.(decision)
		return d.allowed, d.reason, nil
	}
	var status authorizationv1.SubjectAccessReviewStatus
	err = rv.ask(ctx, func(ctx context.Context) error {
		res, err := rv.reviews.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		if err == nil {
			status = res.Status
		}
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("subjectaccessreview for %s: %w", u.GetName(), err)
	}
	// Denied wins over Allowed, which the API server never sets together.
	d := decision{allowed: status.Allowed && !status.Denied, reason: status.Reason}
	if status.EvaluationError != "" {
		d.reason = strings.TrimSpace(d.reason + " " + status.EvaluationError)
	}
	ttl := rv.opts.TTLs.Refused
	if d.allowed {
		ttl = rv.opts.TTLs.Allowed
	}
	if ttl > 0 {
		rv.decisions.Add(key, d, ttl)
	}
	return d.allowed, d.reason, nil
}

// ask runs one review within the timeout, retrying what transient says may pass.
func (rv *Reviewer) ask(ctx context.Context, review func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, rv.opts.Timeout)
	defer cancel()
	backoff := rv.opts.Retry
	for {
		err := review(ctx)
		if err == nil || !transient(err) || backoff.Steps <= 1 {
			return err
		}
		t := time.NewTimer(backoff.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// transient says whether a review that failed with err may succeed if asked again: the API
// server's own rule for its webhooks (k8s.io/apiserver v0.37.2 webhook.DefaultShouldRetry).
func transient(err error) bool {
	if utilnet.IsConnectionReset(err) || utilnet.IsHTTP2ConnectionLost(err) || apierrors.IsInternalError(err) ||
		apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) {
		return true
	}
	_, retry := apierrors.SuggestsClientDelay(err)
	return retry
}

func extra(in map[string]authenticationv1.ExtraValue) map[string][]string {
	if in == nil {
		return nil
	}
	out := make(map[string][]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
