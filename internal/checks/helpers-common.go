package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	apipath "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Shorthands for the criteria, so that check definitions read like the reference table.
const (
	cc61 = v1alpha1.Criterion("CC6.1")
	cc63 = v1alpha1.Criterion("CC6.3")
	cc66 = v1alpha1.Criterion("CC6.6")
	cc67 = v1alpha1.Criterion("CC6.7")
	cc68 = v1alpha1.Criterion("CC6.8")
	cc71 = v1alpha1.Criterion("CC7.1")
	cc72 = v1alpha1.Criterion("CC7.2")
	cc81 = v1alpha1.Criterion("CC8.1")
	a11  = v1alpha1.Criterion("A1.1")
	a12  = v1alpha1.Criterion("A1.2")
	c11  = v1alpha1.Criterion("C1.1")
)

const (
	critical = v1alpha1.SeverityCritical
	high     = v1alpha1.SeverityHigh
	medium   = v1alpha1.SeverityMedium
	low      = v1alpha1.SeverityLow
)

// workload is the target list of checks that judge every workload kind.
var workload = []string{engine.KindWorkload}

// supporting is appended to every description: configuration is evidence, not the control.
const supporting = " Kubernetes configuration is supporting evidence for the criterion, not the whole control."

// eachContainer judges every container (init and ephemeral included): judge returns "" when
// the container passes, or the failure message.
func eachContainer(ctx *engine.Context, o *engine.Object, judge func(c engine.Container) string) {
	eachContainerExcept(ctx, o, nil, judge)
}

// eachContainerExcept is eachContainer for checks that apply to some containers only: skip
// (when not nil) returns why a container is NotApplicable, or "" to judge it.
func eachContainerExcept(ctx *engine.Context, o *engine.Object, skip, judge func(c engine.Container) string) {
	eachContainerJudged(ctx, o, skip, func(c engine.Container) (string, string) { return judge(c), "" })
}

// eachContainerJudged is eachContainerExcept for checks that cannot always tell: judge returns
// why the container fails, or why it cannot be told (NotAssessed), or neither (Pass).
func eachContainerJudged(ctx *engine.Context, o *engine.Object, skip func(c engine.Container) string, judge func(c engine.Container) (fail, undecided string)) {
	eachContainerRead(ctx, o, skip, func(c engine.Container) (string, string, bool) {
		fail, undecided := judge(c)
		return fail, undecided, false
	})
}

// eachContainerRead is eachContainerJudged for a check that may not read all of a container:
// unread says that undecided names what the operator did not read of it, a bound its author
// can reach (engine.Context.Unread), rather than data it lacks.
func eachContainerRead(ctx *engine.Context, o *engine.Object, skip func(c engine.Container) string, judge func(c engine.Container) (fail, undecided string, unread bool)) {
	for _, c := range o.Workload.Containers() {
		if skip != nil {
			if reason := skip(c); reason != "" {
				ctx.NotApplicable(c.Name, reason)
				continue
			}
		}
		switch fail, undecided, unread := judge(c); {
		case fail != "":
			ctx.Fail(c.Name, "%s", fail)
		case undecided != "" && unread:
			ctx.Unread(c.Name, undecided)
		case undecided != "":
			ctx.NotAssessed(c.Name, undecided)
		default:
			ctx.Pass(c.Name)
		}
	}
	if len(o.Workload.Containers()) == 0 {
		ctx.NotApplicable("", "the pod spec has no containers")
	}
}

// notNamespace records NotApplicable and returns true when o, the target of a check that judges
// Namespaces, is not a core/v1 Namespace: a custom resource whose kind reuses the name
// (tenancy.example.com/v1 Namespace, which a scan reads as unstructured) is no namespace. Pod
// Security admission reads the labels of the Namespace object alone, and neither quotas nor
// network policies bound or close anything for it, so it neither passes nor fails.
func notNamespace(ctx *engine.Context, o *engine.Object) bool {
	if _, ok := o.Obj.(*corev1.Namespace); ok {
		return false
	}
	ctx.NotApplicable("", "not a core/v1 Namespace")
	return true
}

// judgeObject records Pass when msg is "", else Fail with msg, for the object as a whole.
func judgeObject(ctx *engine.Context, msg string) {
	if msg == "" {
		ctx.Pass("")
		return
	}
	ctx.Fail("", "%s", msg)
}

// podSC and containerSC never return nil, so callers can read fields directly.
func podSC(o *engine.Object) *corev1.PodSecurityContext {
	if sc := o.Workload.PodSpec.SecurityContext; sc != nil {
		return sc
	}
	return &corev1.PodSecurityContext{}
}

func containerSC(c engine.Container) *corev1.SecurityContext {
	if c.SecurityContext != nil {
		return c.SecurityContext
	}
	return &corev1.SecurityContext{}
}

// effectiveRunAsGroup resolves a container's runAsGroup: the container's own, else the pod's.
func effectiveRunAsGroup(o *engine.Object, c engine.Container) *int64 {
	if v := containerSC(c).RunAsGroup; v != nil {
		return v
	}
	return podSC(o).RunAsGroup
}

// effectiveRunAsUser resolves a container's runAsUser: the container's own, else the pod's.
func effectiveRunAsUser(o *engine.Object, c engine.Container) *int64 {
	if v := containerSC(c).RunAsUser; v != nil {
		return v
	}
	return podSC(o).RunAsUser
}

func isZero(n *int64) bool { return n != nil && *n == 0 }

// isWindows reports whether the pod runs on Windows, where Linux settings do not apply
// (engine.Inventory.WindowsPodOf): it declares so (spec.os.name), or only Windows nodes may run
// it, by its own spec, its RuntimeClass or, for a bound Pod, its node's OS label. The Windows
// kubelet hands the runtime none of the Linux settings (readOnlyRootFilesystem, runAsGroup,
// ...), whether or not spec.os.name lets the API server refuse them.
func isWindows(ctx *engine.Context, o *engine.Object) bool { return ctx.Inventory.WindowsPodOf(o) }

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }

// podLabels are the labels of the pods a workload runs: the template's, or a Pod's own.
func podLabels(o *engine.Object) labels.Set {
	if o.Workload != nil {
		return labels.Set(o.Workload.PodLabels())
	}
	return labels.Set(o.Labels())
}

// selectorOf parses a label selector once per evaluation. An invalid selector selects nothing.
func selectorOf(inv *engine.Inventory, o *engine.Object, name string, sel *metav1.LabelSelector) labels.Selector {
	return inv.Memo(o, name, func() any {
		if sel == nil {
			return labels.Nothing()
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return labels.Nothing()
		}
		return s
	}).(labels.Selector)
}

// imageParts splits an image reference into registry-qualified repository, tag and digest.
func imageParts(image string) (repo, tag, digest string) {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image, digest = image[:i], image[i+1:]
	}
	// A tag follows the last colon after the last slash (a colon before it is a registry port).
	slash := strings.LastIndexByte(image, '/')
	if i := strings.LastIndexByte(image, ':'); i > slash {
		image, tag = image[:i], image[i+1:]
	}
	return image, tag, digest
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "\"" + s + "\""
	}
	return few(q, ", ")
}

// maxNamed bounds how many keys, names, paths or rules one finding's message names: the rest
// are counted, so that no object can make a message (and so a report) grow with its size.
const maxNamed = 5

// few joins at most maxNamed items with sep and counts the rest: `"a", "b", ... and 3 more`.
func few(items []string, sep string) string {
	if len(items) <= maxNamed {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:maxNamed], sep) + fmt.Sprintf(" and %d more", len(items)-maxNamed)
}

// refusedMeta says why the API server refuses to create an object with this metadata, or ""
// when it does not: what ValidateObjectMeta (k8s.io/apimachinery v0.37.2 pkg/api/validation,
// which every kind's Validate<Kind> of k8s.io/kubernetes v1.37.2 calls first) rejects, with the
// kind's name rule: a name nameFn rejects, an invalid label key or value, an invalid annotation
// key or annotations over 256 KiB, an invalid ownerReference or finalizer. A manifest with only a
// generateName is judged with a name generated from it; a namespaced one that names no namespace
// gets the one it is applied to, and a cluster-scoped one loses the namespace it names
// (rest.BeforeCreate clears it).
func refusedMeta(m *metav1.ObjectMeta, namespaced bool, nameFn apimachineryvalidation.ValidateNameFunc) string {
	c := m.DeepCopy()
	if c.Name == "" && c.GenerateName != "" {
		c.Name = c.GenerateName + "a"
	}
	switch {
	case !namespaced:
		c.Namespace = ""
	case c.Namespace == "":
		c.Namespace = metav1.NamespaceDefault
	}
	if errs := apimachineryvalidation.ValidateObjectMeta(c, namespaced, nameFn, field.NewPath("metadata")); len(errs) > 0 {
		return errs[0].Error()
	}
	return ""
}

// refusedManifestMeta is refusedMeta for a namespaced manifest, with its kind's name rule (a DNS
// subdomain for an autoscaler, a LimitRange or a ServiceAccount:
// ValidateHorizontalPodAutoscalerName, ValidateLimitRangeName,
// ValidateServiceAccountName, k8s.io/kubernetes v1.37.2; a path segment for a budget); "" in the
// operator's view, where the object exists.
func refusedManifestMeta(inv *engine.Inventory, m *metav1.ObjectMeta, nameFn apimachineryvalidation.ValidateNameFunc) string {
	if inv.Complete {
		return ""
	}
	return refusedMeta(m, true, nameFn)
}

// acceptedCustomResource is the copy of custom resource o that the cluster holds, or nil: o,
// unless, in a scan, the API server refuses it for its metadata (refusedCustomResource), when it
// is the last earlier copy of o it takes (Inventory.Earlier: kubectl apply created the object from
// it and failed to update it with o), or nil when there is none (o is never created). Until
// December 2026 a refused later copy of a Cilium or Calico policy hid an earlier one that admits
// every source.
func acceptedCustomResource(inv *engine.Inventory, o *engine.Object, namespaced bool) *engine.Object {
	if refusedCustomResource(inv, o, namespaced) == "" {
		return o
	}
	earlier := inv.Earlier(o)
	for i := len(earlier) - 1; i >= 0; i-- {
		if refusedCustomResource(inv, earlier[i], namespaced) == "" {
			return earlier[i]
		}
	}
	return nil
}

// refusedCustomResource says why, in a scan, the API server refuses to create a custom resource's
// manifest for its metadata, or "" (and "" in the operator's view, where the object exists).
// Whatever its CRD's schema says, the API server validates every custom resource's metadata as
// ValidateObjectMeta does, with a DNS subdomain for a name (k8s.io/apiextensions-apiserver v0.37.2
// pkg/registry/customresource/validator.go). An API server of its own built on k8s.io/apiserver's
// generic registry, as Calico's serving projectcalico.org/v3 is, checks the same metadata with a
// path segment for a name (rest.ValidateCreate, k8s.io/apiserver v0.37.2): its own, possibly
// stricter, name rule is not judged.
func refusedCustomResource(inv *engine.Inventory, o *engine.Object, namespaced bool) string {
	if inv.Complete {
		return ""
	}
	nameFn := apimachineryvalidation.NameIsDNSSubdomain
	if apiGroup(o.APIVersion) == calicoAPIServerGroup {
		nameFn = apipath.ValidatePathSegmentName
	}
	m := metav1.ObjectMeta{
		Name:            o.Obj.GetName(),
		GenerateName:    o.Obj.GetGenerateName(),
		Namespace:       o.Obj.GetNamespace(),
		Labels:          o.Obj.GetLabels(),
		Annotations:     o.Obj.GetAnnotations(),
		Finalizers:      o.Obj.GetFinalizers(),
		OwnerReferences: o.Obj.GetOwnerReferences(),
	}
	return refusedMeta(&m, namespaced, nameFn)
}
