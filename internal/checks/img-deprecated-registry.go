package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgDeprecatedRegistry = &engine.Check{
	ID:    "img-deprecated-registry",
	Title: "Images do not come from frozen registries",
	Description: "k8s.gcr.io (gcr.io/k8s-artifacts-prod by another name) and gcr.io/google_containers are frozen: they receive no new images and no " +
		"security fixes, so an image from them stays vulnerable and may stop being served at all " +
		"(CC7.1). The Kubernetes project publishes to registry.k8s.io instead. Docker Hub's bitnamilegacy " +
		"namespace is frozen too: Bitnami moved its versioned images there in August 2025 and updates none of " +
		"them. Every container's image " +
		"is judged, and the reference of every image volume (volumes[].image). An image named by its ID or a prefix of it (sha256:<hex>) is " +
		"not assessed: the node runs whichever image it holds with that ID, from whatever registry." + unreferenceable + supporting,
	Remediation: "Pull the same image from registry.k8s.io (registry.k8s.io/pause:3.10 for k8s.gcr.io/pause), " +
		"upgrading to a maintained version; replace an image from docker.io/bitnamilegacy with a maintained build " +
		"of the same software.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{cc71},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		// An image named by its ID may have come from any registry.
		eachReference(ctx, o, func(image string) string {
			if isImageID(image) {
				return "names an image by its ID, not by a registry: the container runtime runs whichever image the node holds with that ID, and which registry it came from cannot be told"
			}
			return ""
		}, func(c engine.Container) string {
			if c.Image == "" {
				return ""
			}
			if frozen, instead := frozenRegistry(canonicalRepository(c.Image)); frozen != "" {
				return fmt.Sprintf("image %q comes from %s, a frozen registry that receives no security fixes; %s", c.Image, frozen, instead)
			}
			return ""
		}, func(v *corev1.Volume) string {
			if v.Image.Reference == "" {
				return "" // as a container without an image: no registry named, none frozen
			}
			if frozen, instead := frozenRegistry(canonicalRepository(v.Image.Reference)); frozen != "" {
				return fmt.Sprintf("image volume %q (%q) comes from %s, a frozen registry that receives no security fixes; %s", v.Name, v.Image.Reference, frozen, instead)
			}
			return ""
		})
	},
}

// frozenRegistry names the frozen registry a canonical repository is in, or "", and what to use
// instead: k8s.gcr.io and its regional mirrors, the Container Registry project k8s.gcr.io named
// (k8s-artifacts-prod on gcr.io and its regional hosts, frozen with it: KEP 3720 removed them
// from the image promoter; the project's Artifact Registry repositories, which registry.k8s.io
// serves, are not), Google's old google_containers project on gcr.io, and Docker Hub's
// bitnamilegacy namespace. A port does not make another registry of the host
// ("k8s.gcr.io:443" is pulled from k8s.gcr.io).
func frozenRegistry(repo string) (frozen, instead string) {
	const k8s = "use registry.k8s.io"
	host, path, _ := strings.Cut(repo, "/")
	name, _, _ := strings.Cut(host, ":")
	project, _, _ := strings.Cut(path, "/")
	switch {
	case name == "k8s.gcr.io" || strings.HasSuffix(name, ".k8s.gcr.io"):
		return host, k8s
	case (name == "gcr.io" || strings.HasSuffix(name, ".gcr.io")) && (project == "google_containers" || project == "google-containers" || project == "k8s-artifacts-prod"):
		return host + "/" + project, k8s
	case host == "docker.io" && project == "bitnamilegacy":
		// Bitnami moved its versioned images there on 28 August 2025 and updates none of them.
		return host + "/" + project, "use a maintained build of the same software"
	}
	return "", ""
}
