package inventory

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// AnnotationsWithheldAnnotation marks, on an object in the operator's informer cache, that the
// cache did not keep all of its annotations (TrimAnnotations); its value says how many it left
// out and their bytes. The API server refuses the key (an annotation's name has no blank), so
// no object it serves carries one: a tenant can neither forge the marker nor hand the operator
// an object without it that the cache trimmed. Only the inventory reads it (CachedObject), for
// objects read from the cache; scan and the webhook's request never trust it.
const AnnotationsWithheldAnnotation = "soc2-operator.io/annotations withheld"

const (
	// annotationsKeptWhole bounds the annotations an object keeps whole in the operator's cache:
	// their keys' and values' bytes, but kubectl's last-applied-configuration's, which the cache
	// treats on its own (it keeps its key, and its value where it holds env or a command line
	// the spec does not).
	annotationsKeptWhole = 16 << 10
	// annotationsKeptPart bounds the annotations, smallest first, kept of an object whose
	// annotations take more than annotationsKeptWhole.
	annotationsKeptPart = 4 << 10
)

// TrimAnnotations keeps of obj's annotations, when they take more than annotationsKeptWhole
// bytes (kubectl's last-applied-configuration aside), kubectl's last-applied-configuration,
// those read reports the checks read (read may be nil: none), the smallest others within
// annotationsKeptPart and AnnotationsWithheldAnnotation; it reports
// whether it left any out. A namespace admin decides how many bytes an object's annotations
// take, up to 256 KiB an object: kept whole, 200 Services so annotated held 52 MiB of
// the operator's heap. It is for the kinds of whose annotations the built-in checks read only
// those read reports (the operator's cache, controllers.CacheOptions); a custom check reading
// the annotations of an object it trimmed is NotAssessed (CachedObject).
func TrimAnnotations(obj metav1.Object, read func(key string) bool) bool {
	a := obj.GetAnnotations()
	if _, ok := a[AnnotationsWithheldAnnotation]; ok {
		return true
	}
	size := 0
	for k, v := range a {
		if k != corev1.LastAppliedConfigAnnotation {
			size += len(k) + len(v)
		}
	}
	if size <= annotationsKeptWhole {
		return false
	}
	keys := slices.Collect(maps.Keys(a))
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(len(x)+len(a[x]), len(y)+len(a[y])), cmp.Compare(x, y))
	})
	kept := map[string]string{}
	left, dropped, droppedBytes := annotationsKeptPart, 0, 0
	for _, k := range keys {
		n := len(k) + len(a[k])
		switch {
		case k == corev1.LastAppliedConfigAnnotation, read != nil && read(k):
			kept[k] = a[k]
		case n <= left:
			kept[k] = a[k]
			left -= n
		default:
			dropped++
			droppedBytes += n
		}
	}
	kept[AnnotationsWithheldAnnotation] = fmt.Sprintf("%d annotations of %d bytes", dropped, droppedBytes)
	obj.SetAnnotations(kept)
	return true
}

// CachedObject is the engine object of obj as read from the operator's informer cache: when
// the cache did not keep all of its annotations (TrimAnnotations), a copy without the marker,
// with metadata.annotations withheld from custom checks (engine.Object.Withheld), which are
// NotAssessed if they read them rather than judged on what is left. obj itself is the cache's
// and is not changed.
//
// A workload whose env values the cache replaced by stand-ins (checks.ReduceEnvValues) is
// likewise a copy without EnvStandInsAnnotation, with the digest of what the built-in checks
// read of them and its containers withheld from custom checks.
func CachedObject(obj client.Object, apiVersion, kind string) *engine.Object {
	why, trimmed := obj.GetAnnotations()[AnnotationsWithheldAnnotation]
	_, reduced := obj.GetAnnotations()[checks.EnvStandInsAnnotation]
	if !trimmed && !reduced {
		return engine.NewObject(obj, apiVersion, kind)
	}
	c := obj.DeepCopyObject().(client.Object)
	a := c.GetAnnotations()
	var digest any
	var withheld []engine.WithheldField
	if trimmed {
		delete(a, AnnotationsWithheldAnnotation)
		// An Ingress the cache kept the first snippet annotations of counts the others.
		digest = checks.CachedIngressDigest(a)
		withheld = append(withheld, engine.WithheldField{Kind: kind, Path: []string{"metadata", "annotations"}, Unread: true,
			Why: fmt.Sprintf("the operator does not keep an object's annotations over %d KiB (its informer cache left out %s)", annotationsKeptWhole>>10, why)})
	}
	if reduced {
		var env []engine.WithheldField
		digest, env = checks.CachedEnvValues(a, kind)
		withheld = append(withheld, env...)
	}
	if len(a) == 0 {
		a = nil
	}
	c.SetAnnotations(a)
	o := engine.NewObject(c, apiVersion, kind)
	if digest != nil {
		o.Digest = digest
	}
	o.Withheld = append(o.Withheld, withheld...)
	return o
}
