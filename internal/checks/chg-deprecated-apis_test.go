package checks

import (
	"fmt"
	"slices"
	"testing"

	"k8s.io/client-go/kubernetes/scheme"
)

// servingRelease is the Kubernetes release chg-deprecated-apis judges manifests against.
const servingRelease = 37

// TestRemovedAPIsFollowKubernetes compares removedAPIs with the APILifecycleRemoved release that
// k8s.io/api gives each API version, from which the API server stops serving it
// (k8s.io/apiserver/pkg/server/deleted_kinds.go): every entry whose version k8s.io/api still
// holds must name that release, and every version of a kind the check targets that is removed
// by servingRelease must be an entry.
func TestRemovedAPIsFollowKubernetes(t *testing.T) {
	type lifecycle interface{ APILifecycleRemoved() (int, int) }
	for gvk := range scheme.Scheme.AllKnownTypes() {
		obj, err := scheme.Scheme.New(gvk)
		if err != nil {
			t.Fatal(err)
		}
		l, ok := obj.(lifecycle)
		if !ok {
			continue
		}
		major, minor := l.APILifecycleRemoved()
		release := fmt.Sprintf("%d.%d", major, minor)
		key := apiKind{gvk.GroupVersion().String(), gvk.Kind}
		r, listed := removedAPIs[key]
		switch {
		case listed && r.removedIn != release:
			t.Errorf("%s %s: removedAPIs says removed in %s, k8s.io/api says %s", key.apiVersion, key.kind, r.removedIn, release)
		case !listed && major == 1 && minor <= servingRelease && slices.Contains(chgDeprecatedApis.Targets, gvk.Kind):
			t.Errorf("%s %s is removed in %s but missing from removedAPIs", key.apiVersion, key.kind, release)
		}
	}
}
