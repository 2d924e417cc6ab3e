package checks

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// corpusConfigMaps are the ConfigMaps of ../shared/corpus as scan loads them, and of the
// fixtures too when fixtures is true or the corpus is not there.
func corpusConfigMaps(tb testing.TB, fixtures bool) []*corev1.ConfigMap {
	tb.Helper()
	var dirs []string
	if _, err := os.Stat("../../../shared/corpus"); err == nil {
		dirs = append(dirs, "../../../shared/corpus")
	} else {
		tb.Log("../shared/corpus is not available: only the fixtures are read")
		fixtures = true
	}
	if fixtures {
		dirs = append(dirs, "testdata")
	}
	objs, _ := manifest.Load(dirs, nil)
	var cms []*corev1.ConfigMap
	for _, o := range objs {
		if cm, ok := o.Obj.(*corev1.ConfigMap); ok {
			cms = append(cms, cm)
		}
	}
	return cms
}

// BenchmarkCorpusConfigMapCredentials is what sec-configmap-credentials spends reading the
// text of every ConfigMap of the corpus (its data, kubectl's last-applied-configuration and the
// other annotations), as scan reads them: 15% of a scan's CPU before its pre-filters.
func BenchmarkCorpusConfigMapCredentials(b *testing.B) {
	cms := corpusConfigMaps(b, false)
	size := 0
	for _, cm := range cms {
		for k, v := range cm.Data {
			size += len(k) + len(v)
		}
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, cm := range cms {
			configMapCredentials(cm)
			lastAppliedCredentials(cm)
			annotationCredentials(cm)
		}
	}
}
