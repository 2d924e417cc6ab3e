package checks

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var imgPullPolicy = &engine.Check{
	ID:    "img-pull-policy",
	Title: "Images are pulled on every start",
	Description: "With imagePullPolicy Always the kubelet checks with the registry, using the pod's pull " +
		"credentials, each time a container starts, so a revoked credential or a withdrawn image stops " +
		"the next start; with IfNotPresent an image on the node runs without asking the registry (CC6.1). " +
		"Before Kubernetes 1.35, or with the kubelet's KubeletEnsureSecretPulledImages feature off or " +
		"imagePullCredentialsVerificationPolicy NeverVerify, any pod on the node can then run an image " +
		"another pod pulled with credentials it does not have itself; from 1.35 the kubelet by default " +
		"checks that the pod's own credentials pulled the image once, not that the registry still " +
		"accepts them. The kubelet's settings are not in the pod spec: the check judges the policy. Unset, the " +
		"policy is Always only for an image tagged latest or not tagged at all (and IfNotPresent for an " +
		"image that is not a valid reference). Every container is judged, and every image volume " +
		"(volumes[].image), whose pullPolicy is defaulted the same way (IfNotPresent for a template's that names no reference)." + supporting,
	Remediation: "Set imagePullPolicy: Always on every container and pullPolicy: Always on every image volume " +
		"(or enable the AlwaysPullImages admission plugin).",
	Severity: low,
	Criteria: []v1alpha1.Criterion{cc61},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachContainer(ctx, o, func(c engine.Container) string {
			if why := notAlwaysPulled(c.ImagePullPolicy, c.Image); why != "" {
				return "imagePullPolicy " + why
			}
			return ""
		})
		eachImageVolume(ctx, o, func(v *corev1.Volume) string {
			if why := notAlwaysPulled(v.Image.PullPolicy, v.Image.Reference); why != "" {
				return fmt.Sprintf("pullPolicy of image volume %q %s", v.Name, why)
			}
			return ""
		})
	},
}

// notAlwaysPulled says why an image with a pull policy (unset: the API server's default) is
// not pulled on every start, "" when it is.
func notAlwaysPulled(policy corev1.PullPolicy, image string) string {
	switch policy {
	case corev1.PullAlways:
		return ""
	case "":
		d := defaultPullPolicy(image)
		switch {
		case d.policy == corev1.PullAlways:
			return ""
		case image == "":
			return "is unset, which is IfNotPresent when no image is named (whatever image is filled in later)"
		case d.invalid != "":
			return "is unset, which is IfNotPresent for an image that is not a valid reference (" + d.invalid + ")"
		}
		return "is unset, which is IfNotPresent for an image with a tag or digest"
	}
	return "is " + string(policy)
}

// apiServerPullPolicy is the imagePullPolicy the API server gives a container that sets none
// (k8s.io/kubernetes pkg/apis/core/v1 SetDefaults_Container): Always when the image's tag is
// latest, which parsers.ParseImageName also says of an image with neither tag nor digest, and
// IfNotPresent otherwise, an image that does not parse as a reference included (upper case in
// the repository, as in a template's PROJECT_ID). The parsing is the API server's own library.
func apiServerPullPolicy(image string) pullDefault {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return pullDefault{policy: corev1.PullIfNotPresent, invalid: err.Error()}
	}
	tag := ""
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	_, digested := named.(reference.Digested)
	if tag == "latest" || (tag == "" && !digested) {
		return pullDefault{policy: corev1.PullAlways}
	}
	return pullDefault{policy: corev1.PullIfNotPresent}
}

// pullDefault is the pull policy the API server gives one image; invalid, when not empty, is
// why the image is not a reference.
type pullDefault struct {
	policy  corev1.PullPolicy
	invalid string
}

// pullDefaults remembers apiServerPullPolicy's answers, image by image, for at most
// maxPullDefaults images: the same images recur across a repository's workloads and
// environments (in ../shared/corpus, 501 containers without a pull policy name 258 images),
// and parsing a reference runs the library's regular expressions. Checks run on several
// goroutines. The images first met are the ones kept: a long-running operator keeps at most
// maxPullDefaults answers and parses the images it meets after that each time.
var (
	pullDefaults     sync.Map // image -> pullDefault
	pullDefaultsKept atomic.Int32
)

const maxPullDefaults = 4096

func defaultPullPolicy(image string) pullDefault {
	if d, ok := pullDefaults.Load(image); ok {
		return d.(pullDefault)
	}
	d := apiServerPullPolicy(image)
	// Once full, the count is not raised again: the operator checks for as long as it runs.
	if pullDefaultsKept.Load() < maxPullDefaults && pullDefaultsKept.Add(1) <= maxPullDefaults {
		pullDefaults.Store(image, d)
	}
	return d
}
