package manifest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestTheItemsOfAListAsTheAPIServerWritesItTakeTheirKindFromIt: the API server writes no
// apiVersion or kind in the items of a PodList, a DeploymentList, ... (kubectl get --raw, a
// client's dump of a list call), and kubectl apply takes them from the List (unstructured's
// decodeToList: the List's apiVersion, its kind less List, when an item names neither), so a
// privileged Pod in such a List is applied. Read whole, as YAML or JSON, or item by item from a
// stream (a List over MaxDocumentBytes) whose kind comes before its items, as the API server
// writes it, each item is the object kubectl applies. A v1 List's items, and an item that names
// only one of apiVersion and kind, stay errors, as they are to kubectl.
func TestTheItemsOfAListAsTheAPIServerWritesItTakeTheirKindFromIt(t *testing.T) {
	const podItem = `{"metadata":{"name":"%s","namespace":"shop"},"spec":{"hostPID":true,"containers":[{"name":"c","image":"busybox:1.36","securityContext":{"privileged":true}}]}}`
	items := func(n int) string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf(podItem, fmt.Sprintf("p%d", i)))
		}
		return strings.Join(out, ",")
	}
	cases := map[string]struct {
		data    string
		objects []string // kind/namespace/name apiVersion
		errs    []string
	}{
		"a PodList in JSON": {
			data:    `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[` + items(2) + `]}`,
			objects: []string{"Pod/shop/p0 v1", "Pod/shop/p1 v1"},
		},
		"a DeploymentList in YAML": {
			data: "apiVersion: apps/v1\nkind: DeploymentList\nmetadata: {resourceVersion: '7'}\nitems:\n" +
				"- metadata: {name: web, namespace: shop}\n  spec:\n    selector: {matchLabels: {app: web}}\n" +
				"    template:\n      metadata: {labels: {app: web}}\n      spec:\n        containers: [{name: c, image: busybox:1.36}]\n",
			objects: []string{"Deployment/shop/web apps/v1"},
		},
		"an item that names its own kind keeps it": {
			data:    `{"kind":"PodList","apiVersion":"v1","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"shop"}}]}`,
			objects: []string{"ConfigMap/shop/c v1"},
		},
		"an empty item takes the List's kind too, and then has no name": {
			data: `{"kind":"PodList","apiVersion":"v1","items":[{}]}`,
			errs: []string{"items[0]: Pod: metadata.name is missing"},
		},
		"a v1 List's items must name their kind": {
			data: `{"kind":"List","apiVersion":"v1","items":[` + items(1) + `]}`,
			errs: []string{"items[0]: not a Kubernetes object: kind is missing"},
		},
		"an item that names its kind but no apiVersion is not completed": {
			data: `{"kind":"PodList","apiVersion":"v1","items":[{"kind":"Pod","metadata":{"name":"p","namespace":"shop"}}]}`,
			errs: []string{"items[0]: Pod: apiVersion is missing"},
		},
	}
	describe := func(data []byte) ([]string, []string) {
		objs, errs := Decode("list.json", data)
		var got, gotErrs []string
		for _, o := range objs {
			got = append(got, fmt.Sprintf("%s/%s/%s %s", o.Kind, o.Namespace, o.Name, o.APIVersion))
			if o.Workload == nil && (o.Kind == "Pod" || o.Kind == "Deployment") {
				t.Errorf("%s/%s: not read as a workload", o.Kind, o.Name)
			}
		}
		for _, e := range errs {
			gotErrs = append(gotErrs, strings.TrimPrefix(e.Error(), "list.json: document 1 (line 1): "))
		}
		return got, gotErrs
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, errs := describe([]byte(tc.data))
			if !slices.Equal(got, tc.objects) || !slices.Equal(errs, tc.errs) {
				t.Errorf("objects %q, errors %q; want %q and %q", got, errs, tc.objects, tc.errs)
			}
		})
	}

	yamlItems := func(n int) string {
		var out string
		for i := range n {
			out += fmt.Sprintf("- metadata: {name: p%d, namespace: shop}\n  spec:\n    hostPID: true\n    containers:\n    - name: c\n      image: busybox:1.36\n", i)
		}
		return out
	}
	streamed := map[string]string{
		"json": `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[` + items(5) + "]}\n",
		"yaml": "kind: PodList\napiVersion: v1\nmetadata: {resourceVersion: '7'}\nitems:\n" + yamlItems(5),
	}
	for format, text := range streamed {
		t.Run("a PodList in "+format+" read item by item from a stream", func(t *testing.T) {
			defer func(l int) { listFrom = l }(listFrom)
			listFrom = 256
			data := []byte(text)
			docs, err := streamDocuments(t, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(docs, func(d document) bool { return d.item != 0 }) {
				t.Fatal("the List was not read item by item")
			}
			objs, errs := Load([]string{"-"}, bytes.NewReader(data))
			var got []string
			for _, o := range objs {
				got = append(got, fmt.Sprintf("%s/%s/%s %s", o.Kind, o.Namespace, o.Name, o.APIVersion))
			}
			want := []string{"Pod/shop/p0 v1", "Pod/shop/p1 v1", "Pod/shop/p2 v1", "Pod/shop/p3 v1", "Pod/shop/p4 v1"}
			if !slices.Equal(got, want) || len(errs) != 0 {
				t.Errorf("objects %q, errors %v; want %q", got, errs, want)
			}
		})
	}
}
