package inventory

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTrimAnnotations(t *testing.T) {
	blobs := func(n, size int) map[string]string {
		a := map[string]string{}
		for i := range n {
			a[fmt.Sprintf("tenant.example.com/blob-%02d", i)] = strings.Repeat("x", size)
		}
		return a
	}
	with := func(a map[string]string, k, v string) map[string]string { a[k] = v; return a }
	applied := `{"apiVersion":"v1","kind":"Service","metadata":{"annotations":{"big":"` + strings.Repeat("y", 40<<10) + `"}}}`
	tests := map[string]struct {
		in      map[string]string
		read    func(string) bool
		trimmed bool
		kept    []string
		dropped []string
	}{
		"annotations of 16 KiB are kept whole": {
			in: blobs(4, 4<<10-26), kept: []string{"tenant.example.com/blob-03"},
		},
		"the last-applied annotation counts for nothing and stays": {
			in:   with(blobs(1, 100), corev1.LastAppliedConfigAnnotation, applied),
			kept: []string{corev1.LastAppliedConfigAnnotation, "tenant.example.com/blob-00"},
		},
		"past 16 KiB the smallest within 4 KiB stay, and the last-applied annotation": {
			in:      with(with(blobs(8, 3<<10), "small", "1"), corev1.LastAppliedConfigAnnotation, applied),
			trimmed: true,
			kept:    []string{"small", "tenant.example.com/blob-00", corev1.LastAppliedConfigAnnotation, AnnotationsWithheldAnnotation},
			dropped: []string{"tenant.example.com/blob-01", "tenant.example.com/blob-07"},
		},
		"past 16 KiB those the checks read stay whole": {
			in: with(blobs(8, 3<<10), "read", strings.Repeat("z", 8<<10)), read: func(k string) bool { return k == "read" },
			trimmed: true,
			kept:    []string{"read", AnnotationsWithheldAnnotation},
			dropped: []string{"tenant.example.com/blob-07"},
		},
		"an object the cache already trimmed is left as it is": {
			in:      with(blobs(8, 3<<10), AnnotationsWithheldAnnotation, "1 annotations of 10 bytes"),
			trimmed: true,
			kept:    []string{"tenant.example.com/blob-07", AnnotationsWithheldAnnotation},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			obj := &metav1.ObjectMeta{Annotations: tc.in}
			want := len(tc.in)
			if got := TrimAnnotations(obj, tc.read); got != tc.trimmed {
				t.Errorf("TrimAnnotations = %t, want %t", got, tc.trimmed)
			}
			if !tc.trimmed && len(obj.Annotations) != want {
				t.Errorf("kept %d of %d annotations, want all", len(obj.Annotations), want)
			}
			size := 0
			for k, v := range obj.Annotations {
				if k != corev1.LastAppliedConfigAnnotation && (tc.read == nil || !tc.read(k)) {
					size += len(k) + len(v)
				}
			}
			if _, marked := tc.in[AnnotationsWithheldAnnotation]; !marked && size > annotationsKeptWhole {
				t.Errorf("kept %d bytes of the annotations the checks do not read, want at most %d", size, annotationsKeptWhole)
			}
			for _, k := range tc.kept {
				if _, ok := obj.Annotations[k]; !ok {
					t.Errorf("left out %q", k)
				}
			}
			for _, k := range tc.dropped {
				if _, ok := obj.Annotations[k]; ok {
					t.Errorf("kept %q", k)
				}
			}
		})
	}
}
