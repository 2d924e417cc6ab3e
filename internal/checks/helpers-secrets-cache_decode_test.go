package checks

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// digestedConfigMaps are n ConfigMaps of a namespace as the operator's informer cache keeps
// them (DigestConfigMap): each over configMapKeptWhole, with a few keys a workload may take as
// a credential and settings that hold one.
func digestedConfigMaps(tb testing.TB, n int) []*corev1.ConfigMap {
	tb.Helper()
	var out []*corev1.ConfigMap
	for i := range n {
		data := map[string]string{"app.conf": strings.Repeat("log_level = info\n", 2_000)}
		for j := range 8 {
			data[fmt.Sprintf("DB_PASSWORD_%d_%d", i, j)] = fmt.Sprintf("Orders-%d-%d", i, j)
			data[fmt.Sprintf("settings-%d.ini", j)] = fmt.Sprintf("[db]\npassword = Sup3r-%d-%d\n", i, j)
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i), Namespace: "shop", ResourceVersion: fmt.Sprint(i + 1)}, Data: data}
		if !DigestConfigMap(cm) {
			tb.Fatalf("ConfigMap %s was not digested", cm.Name)
		}
		out = append(out, cm)
	}
	return out
}

// BenchmarkCachedConfigMaps is what the admission webhook's Gather does with a namespace's
// 1,000 digested ConfigMaps at each request: the engine object of each (CachedConfigMap), its
// digest decoded.
func BenchmarkCachedConfigMaps(b *testing.B) {
	cms := digestedConfigMaps(b, 1_000)
	b.Logf("digest of %s: %d bytes", cms[0].Name, len(cms[0].Annotations[ConfigMapDigestAnnotation]))
	for b.Loop() {
		for _, cm := range cms {
			CachedConfigMap(cm, "v1")
		}
	}
}

// TestADigestIsDecodedOnceForItsContent: the webhook's Gather makes the engine object of every
// digested ConfigMap of the namespace at each request (CachedConfigMap); the digest of a
// ConfigMap read again unchanged is the one decoded before, not decoded again. A ConfigMap
// whose digest changed gets its new one, and one that does not decode is still unreadable (its
// annotations withheld), whatever was decoded before.
func TestADigestIsDecodedOnceForItsContent(t *testing.T) {
	cms := digestedConfigMaps(t, 2)
	first, again := CachedConfigMap(cms[0], "v1"), CachedConfigMap(cms[0], "v1")
	if first.Digest == nil || first.Digest != again.Digest {
		t.Errorf("ConfigMap %s read twice unchanged: digests %p and %p, want the one decoded first", cms[0].Name, first.Digest, again.Digest)
	}
	other := CachedConfigMap(cms[1], "v1")
	if other.Digest == first.Digest || slices.Equal(other.Digest.(*configMapDigest).Keys, first.Digest.(*configMapDigest).Keys) {
		t.Errorf("ConfigMaps %s and %s of other content share a digest: %+v", cms[0].Name, cms[1].Name, other.Digest)
	}

	changed := cms[0].DeepCopy()
	changed.Annotations[ConfigMapDigestAnnotation] = cms[1].Annotations[ConfigMapDigestAnnotation]
	if got := CachedConfigMap(changed, "v1").Digest; got != other.Digest {
		t.Errorf("ConfigMap %s whose digest changed to %s's: got %+v, want %s's", changed.Name, cms[1].Name, got, cms[1].Name)
	}
	changed.Annotations[ConfigMapDigestAnnotation] = "{not json"
	o := CachedConfigMap(changed, "v1")
	if d := o.Digest.(*configMapDigest); !d.unreadable || !slices.ContainsFunc(o.Withheld, func(w engine.WithheldField) bool { return slices.Equal(w.Path, []string{"metadata", "annotations"}) }) {
		t.Errorf("a digest that does not decode: got %+v withheld %+v, want unreadable with the annotations withheld", d, o.Withheld)
	}
}
