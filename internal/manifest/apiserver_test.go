package manifest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// asTheAPIServerDecodes returns the object the API server would store for one YAML document
// that kubectl applies: kubectl converts the YAML to JSON with sigs.k8s.io/yaml, and the server
// decodes that JSON with apimachinery's serializer for the kind (case-sensitive field names;
// unknown fields dropped, as with --validate=warn or ignore). It returns nil when the server
// has no Go type for the document's apiVersion and kind.
func asTheAPIServerDecodes(t testing.TB, body []byte) runtime.Object {
	t.Helper()
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil
	}
	deserializer, err := apiServerDeserializer()
	if err != nil {
		t.Fatal(err)
	}
	obj, gvk, err := deserializer.Decode(js, nil, nil)
	if err != nil {
		return nil
	}
	if m, ok := obj.(metav1.Object); ok && clusterScoped[gvk.Kind] {
		// The server stores a cluster-scoped object without the namespace a manifest gave it
		// (rest.BeforeCreate), as scan reads it.
		m.SetNamespace("")
	}
	return obj
}

// apiServerDeserializer decodes the built-in kinds and the operator's own, as the API server
// with the operator's CRDs installed.
var apiServerDeserializer = sync.OnceValues(func() (runtime.Decoder, error) {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return serializer.NewCodecFactory(s).UniversalDeserializer(), nil
})

// sameAsTheAPIServer decodes body as scan does and compares every typed object with what the
// API server would store. It reports whether the document was compared.
func sameAsTheAPIServer(t testing.TB, name string, body []byte) bool {
	t.Helper()
	objs, errs := Decode(name, body)
	if len(errs) > 0 || len(objs) != 1 {
		return false
	}
	want := asTheAPIServerDecodes(t, body)
	got := objs[0].Obj
	if want == nil || reflect.TypeOf(want) != reflect.TypeOf(got) {
		return false
	}
	// The server's type for an older apiVersion is another Go type; typed decodes those into the
	// current one, so only documents of the current version reach here.
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Errorf("%s: scan reads the document otherwise than the API server stores it:\nscan:   %+v\nserver: %+v\nyaml:\n%s", name, got, want, body)
	}
	return true
}

// TestDecodesAsTheAPIServer: scan judges what the cluster would hold. A manifest whose field
// names differ only in case (privileged and Privileged) is stored by the API server with the
// exact name and the other dropped; encoding/json would match either name, so that the last one
// written decides, and a tenant could have scan pass a privileged container. Held on hostile
// documents and on every document of the shared corpus and of the repository's test data.
func TestDecodesAsTheAPIServer(t *testing.T) {
	const digest = "registry.example.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	pod := func(securityContext string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: team-a\nspec:\n  containers:\n  - name: app\n    image: %s\n    securityContext:\n%s", digest, securityContext)
	}
	hostile := map[string]string{
		"privileged then Privileged":       pod("      privileged: true\n      Privileged: false\n"),
		"Privileged then privileged":       pod("      Privileged: false\n      privileged: true\n"),
		"PRIVILEGED only":                  pod("      PRIVILEGED: true\n"),
		"allowPrivilegeEscalation shadows": pod("      allowPrivilegeEscalation: true\n      AllowPrivilegeEscalation: false\n      runAsNonRoot: false\n      runAsnonroot: true\n"),
		"hostNetwork shadowed": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n  HostNetwork: false\n" +
			"  containers:\n  - name: app\n    image: " + digest + "\n",
		"kind shadowed": "apiVersion: v1\nkind: Pod\nKind: ConfigMap\nmetadata:\n  name: p\nspec:\n  hostPID: true\n  containers:\n  - name: app\n    image: " + digest + "\n",
		"apiVersion shadowed": "apiVersion: v1\nAPIVersion: rbac.authorization.k8s.io/v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostIPC: true\n" +
			"  containers:\n  - name: app\n    image: " + digest + "\n",
		"metadata shadowed": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: team-a\nMetadata:\n  namespace: kube-system\nspec:\n" +
			"  containers:\n  - name: app\n    image: " + digest + "\n",
		"rules shadowed": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\nrules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\nRules: []\n",
		"JSON document": `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "app", "image": "` + digest +
			`", "securityContext": {"privileged": true, "Privileged": false}}]}}`,
	}
	for name, doc := range hostile {
		if !sameAsTheAPIServer(t, name, []byte(doc)) {
			t.Errorf("%s: not compared (scan or the server did not read it as one typed object)", name)
		}
	}

	docs, compared := 0, 0
	eachYAMLDocument([]string{"../../../shared/corpus", "..", "../../config"}, func(path string, body []byte) {
		docs++
		if sameAsTheAPIServer(t, path, body) {
			compared++
		}
	})
	t.Logf("%d documents, %d typed ones compared with the API server's decoding", docs, compared)
	if compared < 500 {
		t.Errorf("only %d of %d documents were compared: the test did not exercise the decoder", compared, docs)
	}
}

// FuzzDecodesAsTheAPIServer: whatever the document, a typed object scan reads is the object the
// API server would store.
func FuzzDecodesAsTheAPIServer(f *testing.F) {
	addManifestSeeds(f)
	for _, seed := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    securityContext: {privileged: true, Privileged: false}\n",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\nRules: []\n",
		`{"apiVersion": "v1", "kind": "Pod", "Kind": "Secret", "spec": {"hostNetwork": true, "HostNetwork": false}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsTheAPIServer(t, "fuzz", body)
	})
}
