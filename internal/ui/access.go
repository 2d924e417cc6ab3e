package ui

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/kubeauth"
)

// Access decides who a request comes from and which namespaces' reports they may read.
type Access interface {
	// Authenticate returns the user a request's bearer token belongs to (ok false: no valid
	// token).
	Authenticate(r *http.Request) (u user.Info, ok bool, err error)
	// Authorize says whether u may get ComplianceReports in namespace ns ("" for every
	// namespace).
	Authorize(ctx context.Context, u user.Info, ns string) (bool, error)
	// AuthorizeProfiles says whether u may get ComplianceProfiles, whose status holds the
	// findings on cluster-scoped objects (ClusterRoles, ClusterRoleBindings, ...).
	AuthorizeProfiles(ctx context.Context, u user.Info) (bool, error)
}

// AccessCacheTTLs say how long the API server's answers are reused: a revoked binding or token
// stops working within these times.
type AccessCacheTTLs = kubeauth.TTLs

// DefaultAccessCacheTTLs are the dashboard's: 30 s for tokens and allowed namespaces, 10 s for
// refused ones (docs/dashboard.md).
var DefaultAccessCacheTTLs = AccessCacheTTLs{Token: 30 * time.Second, Allowed: 30 * time.Second, Refused: 10 * time.Second}

// apiServerAccess asks the API server, as the metrics endpoint does: TokenReview and
// SubjectAccessReview through internal/kubeauth, whose answers are reused on the access's
// clock.
type apiServerAccess struct {
	reviewer *kubeauth.Reviewer
}

// NewAPIServerAccess builds the TokenReview/SubjectAccessReview access of the operator's
// identity (it needs create on tokenreviews and subjectaccessreviews), which reuses answers for
// the given times, measured on clk (nil: the real clock).
func NewAPIServerAccess(cfg *rest.Config, httpClient *http.Client, ttl AccessCacheTTLs, clk clock.PassiveClock) (Access, error) {
	rv, err := kubeauth.New(cfg, httpClient, kubeauth.Options{TTLs: ttl, Clock: clk})
	if err != nil {
		return nil, err
	}
	return &apiServerAccess{reviewer: rv}, nil
}

func (a *apiServerAccess) Authenticate(r *http.Request) (user.Info, bool, error) {
	return a.reviewer.Authenticate(r)
}

// Authorize asks whether u may get ComplianceReports in ns; an error is not remembered.
func (a *apiServerAccess) Authorize(ctx context.Context, u user.Info, ns string) (bool, error) {
	allowed, _, err := a.reviewer.Authorize(ctx, u, kubeauth.Attributes{Resource: &authorizationv1.ResourceAttributes{
		Verb: "get", Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version,
		Resource: "compliancereports", Namespace: ns,
	}})
	if err != nil {
		return false, fmt.Errorf("namespace %q: %w", ns, err)
	}
	return allowed, nil
}

// AuthorizeProfiles asks whether u may get ComplianceProfiles (cluster-scoped); an error is not
// remembered.
func (a *apiServerAccess) AuthorizeProfiles(ctx context.Context, u user.Info) (bool, error) {
	allowed, _, err := a.reviewer.Authorize(ctx, u, kubeauth.Attributes{Resource: &authorizationv1.ResourceAttributes{
		Verb: "get", Group: v1alpha1.GroupVersion.Group, Version: v1alpha1.GroupVersion.Version,
		Resource: "complianceprofiles",
	}})
	if err != nil {
		return false, fmt.Errorf("complianceprofiles: %w", err)
	}
	return allowed, nil
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
