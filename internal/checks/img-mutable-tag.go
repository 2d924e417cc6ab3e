package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgMutableTag = &engine.Check{
	ID:    "img-mutable-tag",
	Title: "Images name a specific version",
	Description: "An image without a tag, or tagged latest, runs whatever was pushed last: a node that " +
		"pulls later can run different code than the one reviewed, outside change management " +
		"(CC8.1), and a compromised push reaches the cluster unnoticed (CC6.8). An image pinned by " +
		"digest passes whatever its tag, and so does one named by its whole ID (sha256:<hex>); a prefix of an ID fails: the " +
		"container runtime runs whichever image of the node has an ID starting with it. Every container's image is judged, and the reference of " +
		"every image volume (volumes[].image), which is pulled the same way; a template's image volume that names no reference fails, as a " +
		"container without an image does." + unreferenceable + supporting,
	Remediation: "Reference an explicit version tag (nginx:1.27.3), or better, pin the image by digest (@sha256:...).",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc81, cc68},
	Targets:     workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachImage(ctx, o, mutableTag)
	},
}

// mutableTag says how an image names no specific version, "" when it names one.
func mutableTag(image string) string {
	if imageDigestPinned(image) || validDigest(image) {
		return ""
	}
	if isImageID(image) {
		// A whole ID names one image; a prefix, whichever image of each node its ID starts with.
		return "is a prefix of an image ID, so each node runs whichever image it holds whose ID starts with it"
	}
	switch _, tag, _ := imageParts(image); tag {
	case "":
		return "has no tag, so it runs whatever latest points to"
	case "latest":
		return "uses the mutable tag latest"
	}
	return ""
}
