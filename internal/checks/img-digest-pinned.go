package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgDigestPinned = &engine.Check{
	ID:    "img-digest-pinned",
	Title: "Images are pinned by digest",
	Description: "A tag can be moved to other content at any time; a digest (@sha256:...) names exactly " +
		"the image that was built, scanned and approved, so what runs is what went through change " +
		"management (CC8.1) and cannot be swapped in the registry (CC6.8). Every container's image " +
		"is judged, and the reference of every image volume (volumes[].image), which is pulled the " +
		"same way; a template's image volume that names no reference fails, as a container without an image does." + unreferenceable + supporting,
	Remediation: "Reference the image by digest (registry.example.com/app:1.4.2@sha256:<digest>); let the CI " +
		"pipeline or a tool such as Renovate resolve and update digests.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{cc81, cc68},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachImage(ctx, o, notPinned)
	},
}

// notPinned says why an image reference is not pinned by digest, "" when it is. (A reference
// with a malformed digest is not a reference: eachImage does not judge it.)
func notPinned(image string) string {
	if !imageDigestPinned(image) {
		return "is not pinned by digest"
	}
	return ""
}
