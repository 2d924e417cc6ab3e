package scan

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// compactor returns what drops, from an object just read, the parts no enabled check reads.
//
// CustomResourceDefinitions are half the bytes of a typical repository (their OpenAPI schemas)
// and, decoded, most of a scan's memory; among the built-in checks only chg-deprecated-apis
// judges them, by apiVersion and kind alone. So unless a custom check (which may read any field)
// or another check targets or reads them, a CRD keeps only apiVersion, kind and metadata (its
// labels and annotations, which exceptions select by).
func compactor(plan *engine.Plan) func(*engine.Object) {
	const crd = "CustomResourceDefinition"
	for _, c := range plan.Checks {
		if c.Custom {
			return func(*engine.Object) {}
		}
		if (slices.Contains(c.Targets, crd) || slices.Contains(c.Reads, crd)) && c.ID != "chg-deprecated-apis" {
			return func(*engine.Object) {}
		}
	}
	return func(o *engine.Object) {
		if o.Kind != crd {
			return
		}
		if u, ok := o.Obj.(*unstructured.Unstructured); ok {
			u.Object = map[string]any{"apiVersion": u.Object["apiVersion"], "kind": u.Object["kind"], "metadata": u.Object["metadata"]}
		}
	}
}
