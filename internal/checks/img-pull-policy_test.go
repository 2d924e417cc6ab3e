package checks

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestDefaultPullPolicyAsTheAPIServer: the remembered answer is the library's, for an image
// seen before and after the memory is full, and the memory holds at most maxPullDefaults
// images however many a scan meets.
func TestDefaultPullPolicyAsTheAPIServer(t *testing.T) {
	pullDefaults.Clear()
	pullDefaultsKept.Store(0)
	images := []string{"nginx", "nginx:latest", "nginx:1.27", "registry.example.com/a/b@sha256:" + fmt.Sprintf("%064d", 0),
		"us-central1-docker.pkg.dev/PROJECT_ID/x", ""}
	for i := range maxPullDefaults + 100 {
		images = append(images, fmt.Sprintf("registry.example.com/team/app-%d:1.%d", i, i%3))
	}
	images = append(images, "busybox", "Invalid/Upper", "busybox:latest")
	for round := range 2 {
		for _, image := range images {
			if got, want := defaultPullPolicy(image), apiServerPullPolicy(image); got != want {
				t.Fatalf("round %d, %q: remembered %+v, the library says %+v", round, image, got, want)
			}
		}
	}
	kept := 0
	pullDefaults.Range(func(any, any) bool { kept++; return true })
	if kept != maxPullDefaults {
		t.Errorf("%d images remembered of %d seen; want %d, the bound", kept, len(images), maxPullDefaults)
	}
	if n := pullDefaultsKept.Load(); n != maxPullDefaults {
		t.Errorf("the count of images kept reads %d after two passes over %d images; want it to stop at %d", n, len(images), maxPullDefaults)
	}
	if d := defaultPullPolicy("nginx"); d.policy != corev1.PullAlways {
		t.Errorf("nginx (no tag): %+v, want Always", d)
	}
}

// The API server takes any image string without leading or trailing space (escapes, carriage
// returns, bidirectional overrides included), and the reference library's error for one with
// upper case repeats it as written. Every other message quotes what a manifest's author wrote
// (%q): this one must too, or the escape reaches whatever shows the finding's message as text
// (kubectl printing the webhook's denial, a PolicyReport viewer) and rewrites what it shows.
func TestAnImageThatIsNotAReferenceIsQuotedInTheMessages(t *testing.T) {
	image := "Web\x1b[1A\x1b[2K\rall checks passed\u202e"
	for name, msg := range map[string]string{
		"img-pull-policy":  notAlwaysPulled("", image),
		"not a reference":  notAReference(image),
		"a normal mistake": notAReference("us-central1-docker.pkg.dev/PROJECT_ID/x:1"),
	} {
		if strings.ContainsFunc(msg, func(r rune) bool { return !strconv.IsPrint(r) }) {
			t.Errorf("%s: the message holds the image's characters unquoted: %q", name, msg)
		}
		if !strings.Contains(msg, "must be lowercase") {
			t.Errorf("%s: the message no longer says why the image is not a reference: %q", name, msg)
		}
	}
	if msg := notAReference(image); !strings.Contains(msg, `library/Web\x1b[1A\x1b[2K\rall checks passed\u202e`) {
		t.Errorf("the image is not shown escaped: %q", msg)
	}
	if msg := notAReference("us-central1-docker.pkg.dev/PROJECT_ID/x:1"); msg != "invalid reference format: repository name (PROJECT_ID/x) must be lowercase" {
		t.Errorf("an image of printable characters is named as written: %q", msg)
	}
}
