package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var saLegacyTokenSecret = &engine.Check{
	ID:    "sa-legacy-token-secret",
	Title: "No long-lived ServiceAccount token Secrets",
	Description: "A Secret of type kubernetes.io/service-account-token that names a ServiceAccount " +
		"(annotation kubernetes.io/service-account.name) is filled by the token controller with a " +
		"token of that ServiceAccount that never expires, is bound to no pod, and stays valid until " +
		"the Secret is deleted: whoever reads it once (anyone who may read Secrets in the namespace, " +
		"a backup, a log) acts as the ServiceAccount for good. Kubernetes stopped creating them in " +
		"1.24 and the legacy token cleaner removes only those a ServiceAccount's secrets field lists; " +
		"one a manifest creates stays. Pods get short-lived, rotated tokens through projected volumes " +
		"and clients through the TokenRequest API (kubectl create token). Logical access security " +
		"(CC6.1) wants credentials that expire and can be withdrawn. A manifest " +
		"that also carries the token's value (data.token or stringData.token) puts the credential in " +
		"the repository. A ServiceAccount whose secrets field lists such a Secret fails too: clusters " +
		"older than Kubernetes 1.24 listed there the token Secret they made for it, and a ServiceAccount " +
		"exported from one lists it still; one that lists a Secret the input does not hold is NotAssessed " +
		"(Kyverno check-serviceaccount-secrets fails any ServiceAccount whose secrets field is set). The " +
		"operator never reads Secrets, so only scan runs this check, on manifests." + supporting,
	Remediation: "Delete the Secret, and remove it from the secrets field of the ServiceAccount that lists it. Give pods the ServiceAccount's token through the automatic " +
		"projected volume, and external clients a short-lived one from the TokenRequest API " +
		"(kubectl create token, with --duration), or workload identity federation.",
	Severity:     medium,
	Criteria:     []v1alpha1.Criterion{cc61},
	Targets:      []string{"Secret", "ServiceAccount"},
	Reads:        []string{"Secret"},
	ManifestOnly: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Kind == "ServiceAccount" {
			judgeListedTokenSecrets(ctx, o)
			return
		}
		t := readTokenSecret(o)
		switch {
		case t.notSecret:
			ctx.NotApplicable("", "not a v1 Secret")
		case !t.token:
			ctx.Pass("") // no token controller fills it
		case t.serviceAccount == "":
			ctx.NotApplicable("", "the API server refuses a "+string(corev1.SecretTypeServiceAccountToken)+" Secret without the "+corev1.ServiceAccountNameKey+" annotation: no token is made")
		default:
			msg := "a token of ServiceAccount \"" + t.serviceAccount + "\" that never expires: the token controller fills the Secret, and the token is valid until it is deleted"
			if len(t.carried) > 0 {
				msg += "; the manifest carries a token itself (" + strings.Join(t.carried, ", ") + ")"
			}
			ctx.Fail("", "%s", msg)
		}
	},
}

// tokenSecret is what readTokenSecret finds in a Secret.
type tokenSecret struct {
	// notSecret is true for an object that is not a v1 Secret.
	notSecret bool
	// token is true for a Secret of type kubernetes.io/service-account-token; serviceAccount is
	// the ServiceAccount its annotation names ("" when none: the API server refuses it).
	token          bool
	serviceAccount string
	// carried are the fields of the manifest that hold a token value itself.
	carried []string
}

// readTokenSecret reads whether a Secret is a ServiceAccount token Secret the token controller
// fills, and whose.
func readTokenSecret(o *engine.Object) tokenSecret {
	u, ok := o.Obj.(*unstructured.Unstructured)
	if !ok || o.APIVersion != "v1" {
		return tokenSecret{notSecret: true}
	}
	typ, _, _ := unstructured.NestedString(u.Object, "type")
	if typ != string(corev1.SecretTypeServiceAccountToken) {
		return tokenSecret{}
	}
	t := tokenSecret{token: true, serviceAccount: strings.TrimSpace(o.Annotations()[corev1.ServiceAccountNameKey])}
	for _, f := range []string{"data", "stringData"} {
		if v, found, _ := unstructured.NestedFieldNoCopy(u.Object, f, corev1.ServiceAccountTokenKey); found && v != nil && v != "" {
			t.carried = append(t.carried, f+"."+corev1.ServiceAccountTokenKey)
		}
	}
	return t
}

// judgeListedTokenSecrets judges a ServiceAccount by the Secrets its secrets field lists: where
// a cluster older than Kubernetes 1.24 put the long-lived token Secret its token controller made
// for it, and what such a cluster's ServiceAccounts still list after an upgrade (Kyverno
// check-serviceaccount-secrets fails any ServiceAccount whose secrets field is set). One that
// lists a token Secret of the input fails; one that lists a Secret the input does not hold is
// NotAssessed (it most likely is such a token); one whose listed Secrets are all of the input,
// and none a token, passes. Secrets are of the ServiceAccount's namespace whatever an entry's
// namespace says (the field's documentation).
func judgeListedTokenSecrets(ctx *engine.Context, o *engine.Object) {
	sa, ok := o.Obj.(*corev1.ServiceAccount)
	if !ok {
		ctx.NotApplicable("", "not a v1 ServiceAccount")
		return
	}
	var tokens, absent []string
	listed := false
	for _, ref := range sa.Secrets {
		if ref.Name == "" {
			continue
		}
		listed = true
		secret := ctx.Inventory.Get("Secret", o.Namespace, ref.Name)
		if secret == nil {
			absent = append(absent, fmt.Sprintf("%q", ref.Name))
			continue
		}
		if t := readTokenSecret(secret); t.token && t.serviceAccount != "" {
			tokens = append(tokens, fmt.Sprintf("lists Secret %q, a token of ServiceAccount %q that never expires", ref.Name, t.serviceAccount))
		}
	}
	switch {
	case len(tokens) > 0:
		ctx.Fail("", "%s: valid until the Secret is deleted", few(tokens, "; "))
	case len(absent) == 1:
		ctx.NotAssessed("", fmt.Sprintf("the ServiceAccount lists Secret %s, which is not in the scanned input: a token Secret listed there is a long-lived token (as clusters older than Kubernetes 1.24 made them)", absent[0]))
	case len(absent) > 1:
		ctx.NotAssessed("", fmt.Sprintf("the ServiceAccount lists Secrets %s, which are not in the scanned input: a token Secret listed there is a long-lived token (as clusters older than Kubernetes 1.24 made them)", few(absent, ", ")))
	case !listed:
		ctx.NotApplicable("", "the ServiceAccount's secrets field lists no Secret")
	default:
		ctx.Pass("")
	}
}
