package checks

import (
	"fmt"
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
