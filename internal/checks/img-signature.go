package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgSignature = &engine.Check{
	ID:    "img-signature",
	Title: "Image signatures are verified",
	Description: "A verified signature or attestation (Sigstore cosign, Notation) shows the image was " +
		"built by the organisation's pipeline and not altered since, which detects malicious " +
		"software (CC6.8) and unreviewed changes (CC8.1). Verifying it needs the registry: the " +
		"check reports NotAssessed until that data is available; admission policies (Kyverno " +
		"verifyImages, Sigstore policy-controller) enforce it at deploy time." + supporting,
	Remediation: "Sign images in CI (cosign sign) and enforce verification at admission with Kyverno verifyImages " +
		"or the Sigstore policy-controller.",
	Severity:     high,
	Criteria:     []v1alpha1.Criterion{cc68, cc81},
	Targets:      workload,
	Requires:     "registry access to verify image signatures",
	Unassessable: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		ctx.NotAssessed("", "needs registry access to verify image signatures")
	},
}
