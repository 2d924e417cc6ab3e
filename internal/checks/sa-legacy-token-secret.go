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
		"(Kyverno check-serviceaccount-secrets fails any ServiceAccount whose secrets field is set). So does a " +
		"workload to which such a Secret of the input gives its token (a secret volume, a projected volume's " +
		"secret source, envFrom, or env from the key token), whatever its automountServiceAccountToken says: " +
		"the token reaches its containers and never expires; one that takes the key token of a Secret the " +
		"input does not hold is NotAssessed, and one that takes no Secret of the input NotApplicable. The " +
		"operator never reads Secrets, so only scan runs this check, on manifests." + supporting,
	Remediation: "Delete the Secret, and remove it from the secrets field of the ServiceAccount that lists it. Give pods the ServiceAccount's token through the automatic " +
		"projected volume, and external clients a short-lived one from the TokenRequest API " +
		"(kubectl create token, with --duration), or workload identity federation.",
	Severity:     medium,
	Criteria:     []v1alpha1.Criterion{cc61},
	Targets:      append([]string{"Secret", "ServiceAccount"}, workload...),
	Reads:        []string{"Secret"},
	ManifestOnly: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Kind == "ServiceAccount" {
			judgeListedTokenSecrets(ctx, o)
			return
		}
		if o.Workload != nil {
			judgeTokenSecretUses(ctx, o)
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

// judgeTokenSecretUses judges a workload by the Secrets of its namespace it takes the token key
// of (engine.SecretTokenUses): a ServiceAccount token Secret of the input gives its containers a
// token that never expires, whatever automountServiceAccountToken says (sa-token-automount
// judges automount only); the key token of a Secret the input does not hold may be such a token.
// A workload whose every such Secret is in the input, none a token Secret, passes; one that
// takes none of the input's, NotApplicable.
func judgeTokenSecretUses(ctx *engine.Context, o *engine.Object) {
	type use struct {
		secret string
		where  []string
	}
	var tokens, unknown []*use
	find := func(list *[]*use, secret string) *use {
		for _, u := range *list {
			if u.secret == secret {
				return u
			}
		}
		u := &use{secret: secret}
		*list = append(*list, u)
		return u
	}
	serviceAccount := map[string]string{}
	assessed := false
	for _, u := range o.Workload.Pod().SecretUses {
		secret := ctx.Inventory.Get("Secret", o.Namespace, u.Secret)
		if secret == nil {
			if u.Named {
				x := find(&unknown, u.Secret)
				x.where = append(x.where, u.Where)
			}
			continue
		}
		assessed = true
		if t := readTokenSecret(secret); t.token && t.serviceAccount != "" {
			x := find(&tokens, u.Secret)
			x.where = append(x.where, u.Where)
			serviceAccount[u.Secret] = t.serviceAccount
		}
	}
	switch {
	case len(tokens) > 0:
		var msgs []string
		for _, u := range tokens {
			msgs = append(msgs, fmt.Sprintf("token Secret %q of ServiceAccount %q reaches the pod through %s", u.secret, serviceAccount[u.secret], few(u.where, ", ")))
		}
		ctx.Fail("", "%s: a token that never expires, whatever automountServiceAccountToken says", few(msgs, "; "))
	case len(unknown) > 0:
		var msgs []string
		for _, u := range unknown {
			msgs = append(msgs, fmt.Sprintf("the pod takes key %q of Secret %q (%s), which is not in the scanned input", corev1.ServiceAccountTokenKey, u.secret, few(u.where, ", ")))
		}
		ctx.NotAssessed("", few(msgs, "; ")+": a ServiceAccount token Secret keeps its token there")
	case assessed:
		ctx.Pass("")
	default:
		ctx.NotApplicable("", "the pod takes the token key of no Secret of the scanned input")
	}
}
