//go:build e2e

package faulttest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestMetricsAreServedOnlyToScrapersAllowedThem runs the operator as users run it: as its
// ServiceAccount bound only to the roles config/default ships, with the metrics endpoint's
// default, HTTPS with the API server deciding who may read it (--metrics-secure). A request
// without a token or with one the API server refuses is 401, a ServiceAccount without the
// shipped metrics-reader role is 403, and one bound to it reads the operator's series.
func TestMetricsAreServedOnlyToScrapersAllowedThem(t *testing.T) {
	ctx := context.Background()
	mgr := startManagerAs(t, shippedRoles(t), "--metrics-secure=true")
	url := strings.Replace(mgr.MetricsURL, "http://", "https://", 1)

	reader := metricsReaderRole(t)
	scraper := serviceAccountToken(t, "metrics-scraper")
	if err := k8s.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-scraper"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: reader},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "metrics-scraper", Namespace: adminNamespace}},
	}); err != nil {
		t.Fatal(err)
	}
	stranger := serviceAccountToken(t, "metrics-stranger")

	// The endpoint's certificate is the self-signed one controller-runtime makes without a
	// certificate directory; what is checked here is who may read, not the certificate.
	https := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(token string) (int, string, error) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return 0, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := https.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res.StatusCode, string(b), err
	}
	eventually(t, time.Minute, "the scraper bound to "+reader+" to read the metrics", func() error {
		code, body, err := get(scraper)
		if err != nil {
			return err
		}
		if code != http.StatusOK || !strings.Contains(body, "soc2_") {
			return fmt.Errorf("%d: %.200s", code, body)
		}
		return nil
	})
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a token the API server refuses", "not-a-token", http.StatusUnauthorized},
		{"a ServiceAccount without " + reader, stranger, http.StatusForbidden},
	} {
		code, body, err := get(c.token)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if code != c.want || strings.Contains(body, "# TYPE") {
			t.Errorf("%s: %d %.200q, want %d and no metrics", c.name, code, body, c.want)
		}
	}
}

// metricsReaderRole is the name of the ClusterRole config/default ships for scrapers: the one
// that grants get on /metrics and nothing else.
func metricsReaderRole(t *testing.T) string {
	t.Helper()
	var roles rbacv1.ClusterRoleList
	if err := k8s.List(context.Background(), &roles); err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Items {
		if len(r.Rules) == 1 && slices.Equal(r.Rules[0].NonResourceURLs, []string{"/metrics"}) && slices.Equal(r.Rules[0].Verbs, []string{"get"}) &&
			strings.HasSuffix(r.Name, "metrics-reader") {
			return r.Name
		}
	}
	t.Fatal("config/default ships no metrics-reader ClusterRole (get on /metrics)")
	return ""
}

// serviceAccountToken creates ServiceAccount name in the admin namespace and returns a token
// for it.
func serviceAccountToken(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: adminNamespace}}
	if err := k8s.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	expires := int64(3600)
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expires}}
	if err := k8s.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("token for %s: %v", name, err)
	}
	return tr.Status.Token
}
