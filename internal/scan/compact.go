package scan

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// readOptions says what of the objects read the plan's checks can use: of a kind read as
// unstructured that no enabled check targets or reads, only apiVersion, kind and metadata
// (its labels and annotations, which exceptions select by) are kept.
//
// Custom resources, CustomResourceDefinitions (their OpenAPI schemas are half the bytes of a
// typical repository), Secrets and the like are most of a scan's memory when decoded whole; the
// built-in checks judge none of them beyond apiVersion and kind (chg-deprecated-apis, which
// therefore does not count as reading its targets). A custom check may read any field of any
// kind, so with one in the profile everything is kept.
func readOptions(plan *engine.Plan) manifest.Options {
	const apiVersionOnly = "chg-deprecated-apis"
	read := map[string]bool{}
	for _, c := range plan.Checks {
		if c.Custom {
			return manifest.Options{}
		}
		if c.ID == apiVersionOnly {
			continue
		}
		for _, k := range c.Targets {
			read[k] = true
		}
		for _, k := range c.Reads {
			read[k] = true
		}
	}
	return manifest.Options{MetadataOnly: func(kind string) bool { return !read[kind] }}
}

// outputStub is what the outputs print of an object (apiVersion, kind, namespace, name,
// source, and the UID policyreport names): what a result points to once its object is let go,
// by engine.Stream as it reads or at Finish, or by Evaluation.Release after a read-whole scan.
func outputStub(o *engine.Object) *engine.Object {
	return &engine.Object{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name,
		Source: o.Source, NamespaceDefaulted: o.NamespaceDefaulted,
		Obj: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name, UID: o.Obj.GetUID()}}}
}
