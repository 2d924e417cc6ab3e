package checks

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	networkingv1 "k8s.io/api/networking/v1"
)

// TestReducedInjectionsAreBounded: net-ingress-snippets reads auth-url, auth-tls-match-cn,
// mirror-target and mirror-host under any prefix (an ingress-nginx --annotations-prefix), so a
// tenant may write as many of them as 256 KiB holds. The cache keeps of them, after the snippets
// the check names, the first that carry nginx syntax up to maxNamed in all, and counts the others;
// those that carry none it drops.
func TestReducedInjectionsAreBounded(t *testing.T) {
	a := map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "return 200;"}
	for i := range 2000 {
		a[fmt.Sprintf("t%04d.example.com/auth-url", i)] = "http://a/;"
		a[fmt.Sprintf("t%04d.example.com/mirror-host", i)] = "mirror.example.com"
	}
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: a}}
	ReduceIngressAnnotations(ing)
	got := ing.Annotations
	if n := len(got); n != maxNamed+1 {
		t.Errorf("the cache keeps %d annotations, want the snippet, %d auth-urls and the count: %v", n, maxNamed-1, got)
	}
	if c := got[IngressSnippetsOmittedAnnotation]; c != fmt.Sprint(2000-(maxNamed-1)) {
		t.Errorf("omitted count %q, want %d", c, 2000-(maxNamed-1))
	}
	for k := range got {
		if strings.HasSuffix(k, "/mirror-host") {
			t.Errorf("the cache kept %s, which carries no nginx syntax", k)
		}
	}
	if _, ok := got["t0000.example.com/auth-url"]; !ok {
		t.Errorf("the cache left out the first auth-url: %v", got)
	}
	// Reduced again, it stays as it is.
	before := fmt.Sprint(got)
	ReduceIngressAnnotations(ing)
	if after := fmt.Sprint(ing.Annotations); after != before {
		t.Errorf("reduced twice: %s, once: %s", after, before)
	}
}
