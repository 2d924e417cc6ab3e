package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgRegistryAllowlist = &engine.Check{
	ID:    "img-registry-allowlist",
	Title: "Images come from allowed registries",
	Description: "Pulling images only from registries the organisation controls or trusts keeps unvetted " +
		"and malicious software out of the cluster (CC6.8). Every container's image is judged, and " +
		"the reference of every image volume (volumes[].image), which is pulled the same way; a template's image volume that names no " +
		"reference fails, as a container without an image does. The " +
		"allowed prefixes are the profile's parameters.allowedRegistries, compared with the image spelled in full (\"nginx\" is " +
		"docker.io/library/nginx, and a prefix is spelled the same way: \"bitnami/\" is docker.io/bitnami/, and \"docker.io/nginx\" " +
		"allows both the official image docker.io/library/nginx, as the image docker.io/nginx is, and the namespace docker.io/nginx/); a prefix without a trailing slash must end at a whole host or " +
		"path segment. An image named by its ID or a prefix of it (sha256:<hex>) fails: the container runtime runs whichever image the node " +
		"holds with that ID, whatever registry it came from. Without allowed registries the check cannot decide." + unreferenceable + supporting,
	Remediation: "Pull the image from an allowed registry (mirror it there), or add its registry or repository " +
		"to the profile's parameters.allowedRegistries after review.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc68},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if len(ctx.Params.AllowedRegistries) == 0 {
			ctx.NotAssessed("", "the profile lists no allowedRegistries")
			return
		}
		// An image volume is pulled as a container's image is: the pod is judged on it.
		eachReference(ctx, o, nil, func(c engine.Container) string {
			if c.Image == "" {
				return "no image is set"
			}
			if isImageID(c.Image) {
				return fmt.Sprintf("image %q %s", c.Image, byImageID)
			}
			if repo, ok := allowedRegistry(ctx.Params, c.Image); !ok {
				return fmt.Sprintf("image %q (%s) is not under an allowed registry", c.Image, repo)
			}
			return ""
		}, func(v *corev1.Volume) string {
			if v.Image.Reference == "" {
				return noReference(v)
			}
			if isImageID(v.Image.Reference) {
				return fmt.Sprintf("image volume %q (%q) %s", v.Name, v.Image.Reference, byImageID)
			}
			if repo, ok := allowedRegistry(ctx.Params, v.Image.Reference); !ok {
				return fmt.Sprintf("image volume %q (%q, %s) is not under an allowed registry", v.Name, v.Image.Reference, repo)
			}
			return ""
		})
	},
}

// byImageID says why an image named by its ID is not under an allowed registry.
const byImageID = "names an image by its ID, not by a registry: the container runtime runs whichever image the node holds " +
	"with that ID, pulled from any registry or preloaded, and is not under an allowed registry"

// allowedRegistry reports whether an image is under one of the profile's allowed registries,
// and its repository spelled in full.
func allowedRegistry(p *engine.Params, image string) (string, bool) {
	repo := canonicalRepository(image)
	for _, prefix := range p.AllowedRegistries {
		for _, canonical := range canonicalPrefixes(prefix) {
			if underPrefix(repo, canonical) {
				return repo, true
			}
		}
	}
	return repo, false
}
