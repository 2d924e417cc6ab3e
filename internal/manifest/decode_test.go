package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// pod is a good neighbour of a bad document: four lines.
func pod(name string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: shop}\n" +
		"spec: {hostPID: true, containers: [{name: c, image: busybox:1.36}]}\n"
}

// podJSON is pod as one line of JSON.
func podJSON(name string) string {
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","namespace":"shop"},` +
		`"spec":{"hostPID":true,"containers":[{"name":"c","image":"busybox:1.36"}]}}`
}

// afterPod puts a bad document second in a file, after a good Pod: it is document 2 and starts
// on line 6.
func afterPod(bad string) string { return pod("before") + "---\n" + bad }

func widget(name, spec string) string {
	return "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: " + name + ", namespace: shop}\nspec: " + spec + "\n"
}

func utf16LE(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

// TestDecode reads hostile and malformed documents next to good ones. For each it pins the
// objects read (kind, name, and the document and line they came from) and every error, which
// names the file, the document, the line where one is known and the field: a person fixes the
// input from the message alone. A broken document never costs its neighbours.
func TestDecode(t *testing.T) {
	huge := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge, namespace: shop}\ndata:\n  blob: " + strings.Repeat("x", MaxDocumentBytes) + "\n"
	laughs := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol, namespace: shop}\ndata:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for i, c := range "bcdefghi" {
		prev := string("abcdefghi"[i])
		laughs += fmt.Sprintf("  %c: &%c [%s]\n", c, c, strings.TrimSuffix(strings.Repeat("*"+prev+", ", 9), ", "))
	}
	const before = "Pod/before@1:1"

	cases := map[string]struct {
		file string // the file name Decode is given; "in.yaml" when empty
		data string
		// objects are the objects read, in order, as Kind/name@document:line.
		objects []string
		// errs are the errors, in order, each as phrases its message holds.
		errs [][]string
	}{
		// Several documents.
		"documents are numbered from 1 with the line each starts on, empty ones too": {
			data:    "# a comment\n" + pod("a") + "---\n---\n" + pod("b") + "---\n" + pod("c"),
			objects: []string{"Pod/a@1:1", "Pod/b@3:8", "Pod/c@4:13"},
		},
		"an empty document at the start is numbered as one in the middle is": {
			// The first --- of a stream only opens its first document; the next one ends it.
			data:    "---\n---\n" + pod("b") + "---\n# only a comment\n---\n" + pod("c"),
			objects: []string{"Pod/b@2:3", "Pod/c@4:10"},
		},
		"a stream that begins with --- numbers its first document 1": {
			data:    "---\n" + pod("a") + "---\n" + pod("b"),
			objects: []string{"Pod/a@1:2", "Pod/b@2:7"},
		},
		"a List yields its items, from the List's document": {
			data: pod("first") + "---\napiVersion: v1\nkind: List\nitems:\n" +
				"- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed, namespace: shop}}\n" +
				"- " + podJSON("listed-pod") + "\n",
			objects: []string{"Pod/first@1:1", "ConfigMap/listed@2:6", "Pod/listed-pod@2:6"},
		},
		"a List of kind PodList (kubectl get -o yaml) yields its items": {
			data:    "apiVersion: v1\nkind: PodList\nitems:\n- " + podJSON("p1") + "\n- " + podJSON("p2") + "\n",
			objects: []string{"Pod/p1@1:1", "Pod/p2@1:1"},
		},
		"an object of any kind with a list of items is a List, as kubectl reads it: its items are read, not the object": {
			// kubectl's decoder (unstructured) takes any object with an items key for a List and
			// applies its items alone: the hostPID Pods here, never the ConfigMap or the Pod.
			data: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cover, namespace: shop}\nitems:\n- " + podJSON("hidden") + "\n---\n" +
				podJSON("outer")[:len(podJSON("outer"))-1] + `,"items":[` + podJSON("hidden-json") + "]}\n",
			objects: []string{"Pod/hidden@1:1", "Pod/hidden-json@2:7"},
		},
		"a List with a broken item reports the item, and its other items are read": {
			data: "apiVersion: v1\nkind: List\nitems:\n" +
				"- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed, namespace: shop}}\n" +
				"- {apiVersion: apps/v1, kind: Deployment, metadata: {name: broken, namespace: shop}, spec: {replicas: three}}\n" +
				"- " + podJSON("listed-pod") + "\n" +
				"- {apiVersion: v1, kind: ConfigMap}\n",
			objects: []string{"ConfigMap/listed@1:1", "Pod/listed-pod@1:1"},
			errs: [][]string{
				{"in.yaml: document 1 (line 1): items[1]: Deployment: spec.replicas: cannot use a JSON string as int32"},
				{"in.yaml: document 1 (line 1): items[3]: ConfigMap: metadata.name is missing"},
			},
		},
		"a document in YAML's flow style is read as YAML, as kubectl reads it": {
			// It begins with { but is no JSON: taken for JSON, it was an error and the Pod,
			// which kubectl applies, went unjudged.
			data: afterPod("{apiVersion: v1, kind: Pod, metadata: {name: flow, namespace: shop},\n" +
				"  spec: {hostPID: true, containers: [{name: c, image: busybox:1.36}]}}\n"),
			objects: []string{before, "Pod/flow@2:6"},
		},
		"JSON objects one after another are all read, as kubectl reads them": {
			file:    "stream.json",
			data:    podJSON("json-1") + "\n" + podJSON("json-2") + "\n",
			objects: []string{"Pod/json-1@1:1", "Pod/json-2@2:2"},
		},
		"a stream that begins with { but is YAML in flow style is read as YAML, as kubectl reads it": {
			// kubectl's reader tries JSON and reads on as YAML when the first value is none.
			data: "{apiVersion: v1, kind: Pod, metadata: {name: flow, namespace: shop},\n" +
				"  spec: {hostPID: true, containers: [{name: c, image: busybox:1.36}]}}\n",
			objects: []string{"Pod/flow@1:1"},
		},
		"a JSON object followed by --- and YAML documents is read on as YAML, as kubectl reads it": {
			data:    podJSON("json") + "\n---\n" + pod("yaml") + "---\n" + pod("yaml-2"),
			objects: []string{"Pod/json@1:1", "Pod/yaml@2:3", "Pod/yaml-2@3:8"},
		},
		"what is not JSON after two JSON values ends the stream, as kubectl reads no YAML after two": {
			data:    podJSON("json-1") + "\n" + podJSON("json-2") + "\n---\n" + pod("yaml"),
			objects: []string{"Pod/json-1@1:1", "Pod/json-2@2:2"},
			errs:    [][]string{{"in.yaml: document 3 (line 3): invalid JSON at line 3: invalid character '-' in numeric literal"}},
		},
		"a UTF-8 byte-order mark before JSON values is let go, as kubectl lets it go, and every value is read": {
			// Left in, it made the stream YAML, whose one document read only the first value:
			// the Pod after it went unjudged, and no error said so.
			file:    "bom.json",
			data:    "\xef\xbb\xbf" + podJSON("bom-1") + "\n" + podJSON("bom-2") + "\n",
			objects: []string{"Pod/bom-1@1:1", "Pod/bom-2@2:2"},
		},
		"JSON with trailing garbage is reported at the garbage, and the object before it is read": {
			file:    "garbage.json",
			data:    podJSON("json-before") + "\ngarbage\n",
			objects: []string{"Pod/json-before@1:1"},
			errs:    [][]string{{"garbage.json: document 2 (line 2): invalid JSON at line 2: invalid character 'g' looking for beginning of value"}},
		},
		"a document that starts on its --- line is reported, as kubectl refuses it, and the documents around it are read": {
			data: pod("before") +
				"--- {apiVersion: v1, kind: Pod, metadata: {name: inline, namespace: shop}, spec: {hostNetwork: true}}\n---\n" + pod("after"),
			objects: []string{before, "Pod/after@3:7"},
			errs: [][]string{{"in.yaml: document 2 (line 5): a document separator (---) may be followed only by a comment, " +
				`as kubectl requires; this one is followed by "{apiVersion: v1, kind: Pod, metadata:..."`}},
		},
		"an empty file is no error":                          {data: ""},
		"a file of only comments and separators is no error": {data: "# Nothing here yet.\n---\n# Still nothing.\n---\n---\n"},
		"a UTF-16 file, as Windows PowerShell writes, is read in full": {
			data:    utf16LE(pod("first") + "---\n" + pod("second")),
			objects: []string{"Pod/first@1:1", "Pod/second@2:6"},
		},

		// Hostile input.
		"YAML nested 10,000 lists deep is reported with its document, and the file's other documents are read": {
			data:    afterPod(widget("deep", strings.Repeat("[", 10000)+strings.Repeat("]", 10000))),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): exceeded max depth of 10000"}},
		},
		"YAML nested 10,000 maps deep is reported with its document": {
			data:    afterPod(widget("deep", strings.Repeat("{a: ", 10000)+"x"+strings.Repeat("}", 10000))),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): exceeded max depth of 10000"}},
		},
		"YAML block lists nested 20,000 deep are reported with the line": {
			data:    afterPod(widget("deep", "\n"+strings.Repeat("- ", 20000)+"x")),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): yaml: line 10: exceeded max depth of 10000"}},
		},
		"JSON nested 10,000 deep is reported with the line, and the JSON before it is read": {
			file: "deep.json",
			data: podJSON("before") + "\n" +
				`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"deep"},"spec":` +
				strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}\n",
			objects: []string{before},
			errs:    [][]string{{"deep.json: document 2 (line 2): invalid JSON at line 2: exceeded max depth of 10000"}},
		},
		"an unknown kind nested 5,000 deep is read": {
			data:    widget("deep", strings.Repeat("[", 5000)+strings.Repeat("]", 5000)),
			objects: []string{"Widget/deep@1:1"},
		},
		"a document bigger than MaxDocumentBytes is reported with its size, and the documents around it are read": {
			data:    afterPod(huge) + "---\n" + pod("after"),
			objects: []string{before, fmt.Sprintf("Pod/after@3:%d", 7+strings.Count(huge, "\n"))},
			errs:    [][]string{{fmt.Sprintf("in.yaml: document 2 (line 6): document is %d bytes; the limit is %d", len(huge), MaxDocumentBytes)}},
		},
		"a billion-laughs alias bomb is refused": {
			data:    afterPod(laughs),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): yaml: document contains excessive aliasing"}},
		},
		"many aliases of one long string, which would expand past the limit, are refused": {
			data: afterPod(widget("wide",
				"\n  s: &s "+strings.Repeat("x", 100_000)+"\n  copies: ["+strings.TrimSuffix(strings.Repeat("*s, ", 40), ", ")+"]")),
			objects: []string{before},
			errs: [][]string{{fmt.Sprintf("in.yaml: document 2 (line 6): document expands to more than %d bytes through its aliases (*name); the limit is %d",
				MaxDocumentBytes, MaxDocumentBytes)}},
		},
		"anchors, aliases and a key overriding a merged one are read": {
			data:    widget("merged", "\n  base: &base {size: 1, colour: red}\n  custom:\n    <<: *base\n    size: 2"),
			objects: []string{"Widget/merged@1:1"},
		},
		"NUL bytes are reported with their line": {
			data:    afterPod("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nul, namespace: shop}\ndata: {x: \"a\x00b\"}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): yaml: line 9: control characters are not allowed"}},
		},
		"invalid UTF-8 is reported with its line": {
			data:    afterPod("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9, namespace: shop}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): yaml: line 8: invalid", "UTF-8"}},
		},
		"a binary file named .yaml is reported with its first line": {
			file: "logo.yaml",
			data: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
			errs: [][]string{{"logo.yaml: document 1 (line 1): yaml: line 1: invalid", "UTF-8"}},
		},
		"a shell script named .yaml is not a Kubernetes object": {
			data: "#!/bin/sh\nset -e\nkubectl apply -f k8s/\n",
			errs: [][]string{{"in.yaml: document 1 (line 1): not a Kubernetes object: the document is a string, not a map with apiVersion and kind"}},
		},
		"a TOML file named .json is invalid JSON at its line": {
			file: "config.json",
			data: "[server]\nport = 8080\n",
			errs: [][]string{{"config.json: document 1 (line 1): invalid JSON at line 1: invalid character 's' looking for beginning of value"}},
		},
		"a key written twice is reported with its line": {
			data: afterPod("apiVersion: v1\nkind: Pod\nmetadata: {name: dup, namespace: shop}\nspec:\n" +
				"  hostPID: true\n  containers: [{name: c, image: busybox:1.36}]\n  hostPID: false\n"),
			objects: []string{before},
			errs:    [][]string{{`in.yaml: document 2 (line 6): yaml: line 12: key "hostPID" already set in map`}},
		},
		"a tab that indents a line is named as the problem": {
			data:    afterPod("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n"),
			objects: []string{before},
			errs: [][]string{{"in.yaml: document 2 (line 6): yaml: line 9: found character that cannot start any token",
				"(a tab indents this line; YAML indents with spaces only)"}},
		},

		// Fields of the wrong type: the message names the kind, the field and the type.
		"replicas: three names the field and the type": {
			data:    afterPod("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typo, namespace: shop}\nspec: {replicas: three}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Deployment: spec.replicas: cannot use a JSON string as int32"}},
		},
		"containers written as a map names the field": {
			data:    afterPod("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: {name: c, image: busybox}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Pod: spec.containers: cannot use a JSON object as []v1.Container"}},
		},
		"securityContext written as a list names the field": {
			data:    afterPod("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  securityContext: [runAsNonRoot]\n  containers: [{name: c, image: busybox}]\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Pod: spec.securityContext: cannot use a JSON array as v1.PodSecurityContext"}},
		},
		"ports written as strings name the field": {
			data:    afterPod("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: c, image: busybox, ports: [\"80\"]}]\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Pod: spec.containers.ports: cannot use a JSON string as v1.ContainerPort"}},
		},
		"a port number written as a string names the field": {
			data:    afterPod("apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec:\n  ports: [{port: \"80\"}]\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Service: spec.ports.port: cannot use a JSON string as int32"}},
		},
		"a quantity that does not parse names the field with its index": {
			data:    afterPod("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: c, image: busybox, resources: {limits: {memory: lots}}}]\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Pod: spec.containers[0].resources.limits.memory: quantities must match the regular expression"}},
		},

		// Type metadata.
		"a document without kind is not a Kubernetes object": {
			data:    afterPod("apiVersion: v1\nmetadata: {name: nokind}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): not a Kubernetes object: kind is missing"}},
		},
		"a document without apiVersion names its kind": {
			data:    afterPod("kind: Deployment\nmetadata: {name: noapi}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Deployment: apiVersion is missing"}},
		},
		"kind and apiVersion of the wrong type are named": {
			data:    afterPod("apiVersion: [v1]\nkind: Pod\nmetadata: {name: p}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): not a Kubernetes object: apiVersion must be a string, not a list"}},
		},
		"a document without metadata.name names its kind": {
			data:    afterPod("apiVersion: apps/v1\nkind: Deployment\nmetadata: {namespace: shop}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Deployment: metadata.name is missing"}},
		},
		"an unknown kind is read, without an error": {
			data:    widget("w", "{size: 3}"),
			objects: []string{"Widget/w@1:1"},
		},

		// The served-apiVersion check.
		"a built-in kind under an apiVersion Kubernetes never served is an error": {
			data: afterPod("apiVersion: v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 3\n" +
				"  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: nginx:1.27}]}\n"),
			objects: []string{before},
			errs:    [][]string{{"in.yaml: document 2 (line 6): Deployment: Kubernetes never served Deployment as apiVersion \"v1\": use apps/v1"}},
		},
		"a built-in kind under a version its group never served is an error": {
			data:    afterPod("apiVersion: rbac.authorization.k8s.io/v2\nkind: ClusterRole\nmetadata: {name: reader}\nrules: []\n"),
			objects: []string{before},
			errs: [][]string{{"in.yaml: document 2 (line 6): ClusterRole: Kubernetes never served ClusterRole as apiVersion " +
				"\"rbac.authorization.k8s.io/v2\": use rbac.authorization.k8s.io/v1"}},
		},
		"a built-in kind under an older version Kubernetes once served is read": {
			data:    "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: pdb, namespace: shop}\nspec: {minAvailable: 1}\n",
			objects: []string{"PodDisruptionBudget/pdb@1:1"},
		},
		"a custom resource that reuses a built-in kind's name in its own group is read": {
			data:    "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: w, namespace: shop}\nspec: {size: 3}\n",
			objects: []string{"Deployment/w@1:1"},
		},
		"the operator's own kinds under a version it never served are an error": {
			data: "apiVersion: compliance.soc2-operator.io/v1\nkind: ComplianceProfile\nmetadata: {name: p}\nspec: {}\n",
			errs: [][]string{{"in.yaml: document 1 (line 1): ComplianceProfile: Kubernetes never served ComplianceProfile as apiVersion " +
				"\"compliance.soc2-operator.io/v1\": use compliance.soc2-operator.io/v1alpha1"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				file = "in.yaml"
			}
			objs, errs := Decode(file, []byte(tc.data))
			var got []string
			for _, o := range objs {
				if o.Source.File != file {
					t.Errorf("%s/%s comes from %q, want %q", o.Kind, o.Name, o.Source.File, file)
				}
				got = append(got, fmt.Sprintf("%s/%s@%d:%d", o.Kind, o.Name, o.Source.Document, o.Source.Line))
			}
			if strings.Join(got, " ") != strings.Join(tc.objects, " ") {
				t.Errorf("objects:\n  %v\nwant:\n  %v", got, tc.objects)
			}
			if len(errs) != len(tc.errs) {
				t.Errorf("%d errors, want %d: %v", len(errs), len(tc.errs), errs)
			}
			for i, err := range errs {
				var de *DecodeError
				if !errors.As(err, &de) || de.Source != file || de.Document < 1 {
					t.Errorf("error %d does not say where it happened: %#v", i, err)
				}
				if i < len(tc.errs) && !holdsAll(err.Error(), tc.errs[i]) {
					t.Errorf("error %d:\n  %.300s\nwant it to hold %q", i, err, tc.errs[i])
				}
			}
		})
	}
}

// TestDecodeObject reads one object as the API server sends it to the admission webhook: JSON,
// never a List, with the same messages as a file's document.
func TestDecodeObject(t *testing.T) {
	objs, err := DecodeObject([]byte(podJSON("p")))
	if err != nil || len(objs) != 1 || objs[0].Kind != "Pod" || objs[0].Name != "p" || objs[0].Namespace != "shop" {
		t.Fatalf("DecodeObject(pod) = %+v, %v", objs, err)
	}
	if objs[0].Source != (engine.Source{}) {
		t.Errorf("an object from the API server has a file source: %+v", objs[0].Source)
	}
	_, err = DecodeObject([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":"three"}}`))
	if err == nil || !strings.Contains(err.Error(), "Deployment: spec.replicas: cannot use a JSON string as int32") {
		t.Errorf("a bad field: %v", err)
	}
	_, err = DecodeObject([]byte(`{"apiVersion":"v1","kind":"List","items":[` + podJSON("p") + `]}`))
	if err == nil {
		t.Error("a List was read as an admission request's object")
	}
	// A custom resource's containers are a scan's error only: the webhook judges the Pods its
	// controller makes.
	rollout := `{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":"r"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`
	if objs, err := DecodeObject([]byte(rollout)); err != nil || len(objs) != 1 {
		t.Errorf("DecodeObject(rollout) = %+v, %v; want the Rollout, no error", objs, err)
	}
	if _, errs := Decode("rollout.json", []byte(rollout)); len(errs) != 1 || !errors.Is(errs[0], ErrContainersNotJudged) {
		t.Errorf("Decode(rollout) errors %v; want ErrContainersNotJudged", errs)
	}
}

func holdsAll(s string, phrases []string) bool {
	for _, p := range phrases {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// The API server drops the namespace written on a cluster-scoped object, and so does Decode; but
// a kind is cluster-scoped in its own API group only: Cluster API's IPAddress, unlike the
// networking.k8s.io one, lives in a namespace, where that namespace's exceptions cover it.
func TestANamespaceIsDroppedOnlyFromClusterScopedKinds(t *testing.T) {
	objs, errs := Decode("ips.yaml", []byte(`apiVersion: networking.k8s.io/v1
kind: IPAddress
metadata: {name: 10.96.0.10, namespace: shop}
spec: {parentRef: {resource: services, namespace: kube-system, name: kube-dns}}
---
apiVersion: ipam.cluster.x-k8s.io/v1beta1
kind: IPAddress
metadata: {name: node-1, namespace: shop}
spec: {address: 10.0.0.5, prefix: 24, claimRef: {name: node-1}, poolRef: {apiGroup: ipam.cluster.x-k8s.io, kind: InClusterIPPool, name: pool}}
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := map[string]string{"networking.k8s.io/v1": "", "ipam.cluster.x-k8s.io/v1beta1": "shop"}
	if len(objs) != len(want) {
		t.Fatalf("got %d objects, want %d", len(objs), len(want))
	}
	for _, o := range objs {
		if w := want[o.APIVersion]; o.Namespace != w || o.Obj.GetNamespace() != w {
			t.Errorf("%s %s: namespace %q (object %q), want %q", o.APIVersion, o.Name, o.Namespace, o.Obj.GetNamespace(), w)
		}
	}
	DefaultNamespace(objs, "payments")
	for _, o := range objs {
		if w := want[o.APIVersion]; o.Namespace != w {
			t.Errorf("after DefaultNamespace, %s %s: namespace %q, want %q", o.APIVersion, o.Name, o.Namespace, w)
		}
	}
}

// A custom resource (or a policy engine's object) read for its metadata alone is searched for
// containers (customContainers) only when its text may hold one; one whose text holds neither
// a list of containers, an image nor an escape is converted to the JSON of its metadata alone,
// as any other kind read for its metadata is, rather than whole and then read twice (its
// metadata, then everything for containers). The others are converted whole.
func TestACustomResourceWithoutContainersIsConvertedToItsMetadataAlone(t *testing.T) {
	opts := Options{MetadataOnly: func(string) bool { return true }}
	for name, tc := range map[string]struct {
		doc   string
		whole bool
	}{
		"a PrometheusRule":                  {"apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec:\n  groups:\n  - name: g\n    rules: [{alert: A, expr: up == 0}]\n", false},
		"a Kyverno policy that validates":   {"apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules: [{name: r, validate: {message: m}}]\n", false},
		"a custom resource with containers": {"apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: r}\nspec:\n  headGroupSpec:\n    template:\n      spec:\n        containers: [{name: c, image: i}]\n", true},
		"an image alone":                    {"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {image: i}\n", true},
		"an escape that may spell a key":    {"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {\"\\x69mage\": i}\n", true},
		"an escape in a value":              {"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {a: \"\\t\"}\n", true},
		// A tenant's containers key spelled in base64: the block reader leaves a tag to the
		// slow paths, which convert the whole document.
		"a key of !!binary":                   {"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      !!binary Y29udGFpbmVycw==: [{name: c}]\n", true},
		"an Argo Rollout (a PodTemplate ref)": {"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {workloadRef: {apiVersion: v1, kind: PodTemplate, name: t}}\n", true},
	} {
		t.Run(name, func(t *testing.T) {
			js, tm, err := toJSON([]byte(tc.doc), opts)
			if err != nil {
				t.Fatalf("toJSON: %v", err)
			}
			// No type meta: a slow path converted it, whole.
			onlyMetadata := tm != nil && tm.onlyMetadata
			if whole := bytes.Contains(js, []byte(`"spec"`)); whole != tc.whole || onlyMetadata == tc.whole {
				t.Errorf("converted to %s (only metadata: %v); whole: want %v", js, onlyMetadata, tc.whole)
			}
		})
	}
}

// Every file of the shared corpus and of this repository's manifests and fixtures, read for
// every kind's metadata alone, decodes to the same objects and errors whether the custom
// resources without containers are converted to their metadata alone (dropper) or whole, as
// before; and some are (the test ran the new path).
func TestCustomResourcesReadForMetadataDecodeAsBefore(t *testing.T) {
	defer func() { customMetadataOnly = true }()
	opts := Options{MetadataOnly: func(string) bool { return true }}
	files, dropped := 0, 0
	for _, root := range decodingRoots {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !IsManifestFile(d.Name()) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			files++
			customMetadataOnly = false
			before, beforeErrs := DecodeWith(path, data, opts)
			customMetadataOnly = true
			after, afterErrs := DecodeWith(path, data, opts)
			if fmt.Sprint(afterErrs) != fmt.Sprint(beforeErrs) || len(after) != len(before) {
				t.Fatalf("%s: %d objects, errors %v; converted whole: %d objects, errors %v", path, len(after), afterErrs, len(before), beforeErrs)
			}
			for i := range before {
				b, a := before[i], after[i]
				if a.APIVersion != b.APIVersion || a.Kind != b.Kind || a.Namespace != b.Namespace || a.Name != b.Name || !reflect.DeepEqual(a.Obj, b.Obj) {
					t.Errorf("%s: object %d is %+v; converted whole, %+v", path, i, a.Obj, b.Obj)
				}
			}
			for _, doc := range splitDocuments(utf8Text(data)) {
				if _, tm, err := toJSON(doc.body, opts); err == nil && tm != nil && tm.onlyMetadata &&
					(customResource(tm.APIVersion, tm.Kind) || policyResource(tm.APIVersion)) && bytes.Contains(doc.body, []byte("\nspec:")) {
					dropped++
				}
			}
			return nil
		})
	}
	if files < 100 || dropped == 0 {
		t.Fatalf("%d files, %d custom resources converted to their metadata alone: the corpus is missing", files, dropped)
	}
	t.Logf("%d files, %d custom resources converted to their metadata alone", files, dropped)
}

// TestCustomResourcesDecodedWholeOnceAsBefore: a custom resource kept for its metadata alone
// whose JSON customContainers searches is decoded whole once (decodeWholeOnce) and gives the
// same objects and errors (ContainersError among them) as when it was read for its metadata and
// then decoded whole again, on every file of the corpus and the test data.
func TestCustomResourcesDecodedWholeOnceAsBefore(t *testing.T) {
	defer func() { decodeWholeOnce = true }()
	opts := Options{MetadataOnly: func(string) bool { return true }}
	files, once, containers := 0, 0, 0
	for _, root := range decodingRoots {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !IsManifestFile(d.Name()) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			files++
			decodeWholeOnce = false
			before, beforeErrs := DecodeWith(path, data, opts)
			decodeWholeOnce = true
			after, afterErrs := DecodeWith(path, data, opts)
			if fmt.Sprint(afterErrs) != fmt.Sprint(beforeErrs) || len(after) != len(before) {
				t.Fatalf("%s: %d objects, errors %v; read twice: %d objects, errors %v", path, len(after), afterErrs, len(before), beforeErrs)
			}
			for i := range before {
				b, a := before[i], after[i]
				if a.APIVersion != b.APIVersion || a.Kind != b.Kind || a.Namespace != b.Namespace || a.Name != b.Name || !reflect.DeepEqual(a.Obj, b.Obj) {
					t.Errorf("%s: object %d is %+v; read twice, %+v", path, i, a.Obj, b.Obj)
				}
			}
			for _, err := range afterErrs {
				if errors.Is(err, ErrContainersNotJudged) {
					containers++
				}
			}
			for _, doc := range splitDocuments(utf8Text(data)) {
				if js, tm, err := toJSON(doc.body, opts); err == nil && tm != nil && !tm.onlyMetadata && searchesWhole(tm.APIVersion, tm.Kind, js) {
					once++
				}
			}
			return nil
		})
	}
	if files < 100 || once < 50 || containers < 10 {
		t.Fatalf("%d files, %d custom resources decoded whole once, %d running containers: the corpus is missing", files, once, containers)
	}
	t.Logf("%d files, %d custom resources decoded whole once, %d running containers", files, once, containers)
}
