package checks

import (
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
		"the repository. The operator never reads Secrets, so only scan runs this check, on manifests " +
		"(Kyverno check-serviceaccount-secrets)." + supporting,
	Remediation: "Delete the Secret. Give pods the ServiceAccount's token through the automatic " +
		"projected volume, and external clients a short-lived one from the TokenRequest API " +
		"(kubectl create token, with --duration), or workload identity federation.",
	Severity:     medium,
	Criteria:     []v1alpha1.Criterion{cc61},
	Targets:      []string{"Secret"},
	ManifestOnly: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		u, ok := o.Obj.(*unstructured.Unstructured)
		if !ok || o.APIVersion != "v1" {
			ctx.NotApplicable("", "not a v1 Secret")
			return
		}
		typ, _, _ := unstructured.NestedString(u.Object, "type")
		if typ != string(corev1.SecretTypeServiceAccountToken) {
			ctx.Pass("") // no token controller fills it
			return
		}
		sa := strings.TrimSpace(o.Annotations()[corev1.ServiceAccountNameKey])
		if sa == "" {
			ctx.NotApplicable("", "the API server refuses a "+typ+" Secret without the "+corev1.ServiceAccountNameKey+" annotation: no token is made")
			return
		}
		var carried []string
		for _, f := range []string{"data", "stringData"} {
			if v, found, _ := unstructured.NestedFieldNoCopy(u.Object, f, corev1.ServiceAccountTokenKey); found && v != nil && v != "" {
				carried = append(carried, f+"."+corev1.ServiceAccountTokenKey)
			}
		}
		msg := "a token of ServiceAccount \"" + sa + "\" that never expires: the token controller fills the Secret, and the token is valid until it is deleted"
		if len(carried) > 0 {
			msg += "; the manifest carries a token itself (" + strings.Join(carried, ", ") + ")"
		}
		ctx.Fail("", "%s", msg)
	},
}
