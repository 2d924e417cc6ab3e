package engine

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// typedTemplate is the pod template of a typed controller of Pods, or nil (another kind, or an
// object read as unstructured, whose typed form may lack fields its map holds).
func typedTemplate(obj runtime.Object) *corev1.PodTemplateSpec {
	switch w := obj.(type) {
	case *appsv1.ReplicaSet:
		return &w.Spec.Template
	case *appsv1.StatefulSet:
		return &w.Spec.Template
	case *appsv1.DaemonSet:
		return &w.Spec.Template
	case *batchv1.Job:
		return &w.Spec.Template
	case *corev1.ReplicationController:
		return w.Spec.Template
	}
	return nil
}

// samePodAtReads reports whether pod and the Pod owner's template tpl makes of it
// (podOfTemplate: apiVersion v1, kind Pod, the template's labels, annotations and finalizers,
// owner's name and namespace, the template's spec) hold the same at every path under `object`
// and `podSpec` (the pod's spec) that a custom check's expression reads (programs.reads,
// podSpecReads). Both are converted for CEL by the same function (ToUnstructured) from values of
// the same Go types, so values equal here (reflect.DeepEqual) are equal there: the expression
// reads the same in both. An expression that reads the object whole, or a field of it the
// template does not decide (its owner references, its status, its other metadata), is never
// the same.
func samePodAtReads(pod *corev1.Pod, owner *Object, tpl *corev1.PodTemplateSpec, programs *customPrograms) bool {
	for _, path := range programs.reads {
		if len(path) == 0 {
			return false
		}
		switch path[0] {
		case "apiVersion", "kind":
			// v1 and Pod in both (the caller checked the Pod's).
		case "metadata":
			if len(path) < 2 {
				return false
			}
			var same bool
			switch path[1] {
			case "labels":
				same = reflect.DeepEqual(pod.Labels, tpl.Labels)
			case "annotations":
				same = reflect.DeepEqual(pod.Annotations, tpl.Annotations)
			case "finalizers":
				same = reflect.DeepEqual(pod.Finalizers, tpl.Finalizers)
			case "name":
				same = pod.Name == owner.Name
			case "namespace":
				same = pod.Namespace == owner.Namespace
			}
			if !same {
				return false
			}
		case "spec":
			if !sameAt(reflect.ValueOf(&pod.Spec), reflect.ValueOf(&tpl.Spec), path[1:]) {
				return false
			}
		default:
			return false
		}
	}
	for _, path := range programs.podSpecReads {
		if !sameAt(reflect.ValueOf(&pod.Spec), reflect.ValueOf(&tpl.Spec), path) {
			return false
		}
	}
	return true
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// sameAt reports whether a and b, values of the same type, hold the same at path (JSON field
// names): it follows path through plain structs by their fields' JSON names, and compares the
// values where it stops (at a slice, a map, a type that marshals itself, or the path's end)
// whole, so that it never says the same where the JSON forms could differ. A name no field has
// is absent from both.
func sameAt(a, b reflect.Value, path []string) bool {
	for _, name := range path {
		for a.Kind() == reflect.Pointer {
			if a.IsNil() || b.IsNil() {
				return a.IsNil() && b.IsNil()
			}
			if a.Type().Implements(jsonMarshaler) || a.Type().Implements(textMarshaler) {
				return reflect.DeepEqual(a.Interface(), b.Interface())
			}
			a, b = a.Elem(), b.Elem()
		}
		if a.Kind() != reflect.Struct || reflect.PointerTo(a.Type()).Implements(jsonMarshaler) || reflect.PointerTo(a.Type()).Implements(textMarshaler) {
			break
		}
		i, ok := jsonField(a.Type(), name)
		if !ok {
			return true
		}
		if i == nil {
			// An embedded struct or a field hidden from JSON: compared whole.
			break
		}
		a, b = a.FieldByIndex(i), b.FieldByIndex(i)
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// jsonField is the index of t's field whose JSON name is name; nil, true when t has an embedded
// or inlined field (whose fields the name may be one of); nil, false when no field has it.
func jsonField(t reflect.Type, name string) ([]int, bool) {
	var embedded bool
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous:
			embedded = true
		case !f.IsExported() || tag == "-":
		case tag == name || tag == "" && f.Name == name:
			return []int{i}, true
		}
	}
	return nil, embedded
}
