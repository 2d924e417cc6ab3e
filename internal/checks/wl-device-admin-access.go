package checks

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlDeviceAdminAccess = &engine.Check{
	ID:    "wl-device-admin-access",
	Title: "Resource claims, and the workloads that use them, do not ask for administrative access to devices",
	Description: "A Dynamic Resource Allocation claim (resource.k8s.io ResourceClaim, or the " +
		"ResourceClaimTemplate a pod's spec.resourceClaims creates claims from) whose device request " +
		"sets adminAccess: true (exactly.adminAccess from resource.k8s.io/v1beta2 on, the request's " +
		"adminAccess in v1beta1 and v1alpha3) is allocated devices whatever other pods hold them, " +
		"ignoring their access modes and allocations: the pods that use it reach the GPUs, NICs and " +
		"accelerators of other workloads, and what those hold, as a privileged container reaches the " +
		"node's devices. Kubernetes allows it only in namespaces labelled " +
		"resource.kubernetes.io/admin-access: \"true\", for monitoring and management agents; the Pod " +
		"Security Standards do not read claims, so no pod-level check sees it. Logical access (CC6.1) " +
		"and least-privilege authorisation (CC6.3) both want such access granted by exception, " +
		"reviewed. Every claim is judged, the ones Kubernetes generated from a template too: each is a " +
		"grant in force. So is every workload whose pod spec's resourceClaims name such a claim " +
		"(resourceClaimName) or template (resourceClaimTemplateName), both of the pod's namespace: " +
		"the grant is the pods'. A pod keeps the claim made for it from a template as the template was " +
		"when the pod was created (a template deleted and created again under its name without " +
		"adminAccess changes neither the workload nor its pods), so a workload also fails while one of " +
		"its pods holds such a claim (a ResourceClaim the Pod controls). A workload that names a claim or template that is absent (not in a " +
		"scan's input, or not created yet in the cluster, when the pods wait for it) is NotAssessed." + supporting,
	Remediation: "Remove adminAccess from the claim's device requests (a workload: from the claims and " +
		"templates its resourceClaims name); where a device management " +
		"agent needs it, keep it in its own namespace, the only one labelled " +
		"resource.kubernetes.io/admin-access: \"true\", and record a ControlException for it.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc61, cc63},
	Targets:  append(append([]string{}, workload...), "ResourceClaim", "ResourceClaimTemplate"),
	Reads:    []string{"ResourceClaim", "ResourceClaimTemplate", engine.KindWorkload},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Workload != nil {
			judgeDeviceClaimsUsed(ctx, o)
			return
		}
		a := readAdminAccess(o)
		switch {
		case a.notDRA:
			ctx.NotApplicable("", a.unreadable)
		case a.unreadable != "":
			ctx.NotAssessed("", a.unreadable)
		case a.noRequests:
			ctx.NotApplicable("", "the claim requests no devices")
		case len(a.admin) == 0:
			ctx.Pass("")
		default:
			ctx.Fail("", "device request %s sets %s: true, access to devices other pods hold (allowed in namespaces labelled resource.kubernetes.io/admin-access: \"true\")",
				few(a.admin, ", "), a.field)
		}
	},
}

// adminAccess is what readAdminAccess finds in a ResourceClaim or ResourceClaimTemplate.
type adminAccess struct {
	// admin are the device requests, quoted, that ask for administrative access.
	admin []string
	// field is where the object's API version keeps adminAccess in a request.
	field string
	// noRequests is true when the claim requests no devices.
	noRequests bool
	// unreadable says why the requests cannot be read ("" when they can); notDRA is also set
	// when the object is not of resource.k8s.io (a custom resource's kind of the same name).
	unreadable string
	notDRA     bool
}

// readAdminAccess reads the device requests of a resource.k8s.io ResourceClaim or
// ResourceClaimTemplate that ask for administrative access.
func readAdminAccess(o *engine.Object) adminAccess {
	u, ok := o.Obj.(*unstructured.Unstructured)
	if !ok || !strings.HasPrefix(o.APIVersion, resourceGroup+"/") {
		return adminAccess{unreadable: "not a " + resourceGroup + " " + o.Kind, notDRA: true}
	}
	path := []string{"spec", "devices", "requests"}
	if o.Kind == "ResourceClaimTemplate" {
		path = append([]string{"spec"}, path...)
	}
	requests, found, err := unstructured.NestedSlice(u.Object, path...)
	if err != nil {
		return adminAccess{unreadable: "spec." + strings.Join(path[1:], ".") + " is not a list of device requests the check can read"}
	}
	if !found || len(requests) == 0 {
		return adminAccess{noRequests: true}
	}
	// Where the API version keeps adminAccess: beside the request's other fields up to
	// v1beta1, in its exactly (an ExactDeviceRequest) from v1beta2 on.
	field := []string{"exactly", "adminAccess"}
	switch strings.TrimPrefix(o.APIVersion, resourceGroup+"/") {
	case "v1beta1", "v1alpha3":
		field = []string{"adminAccess"}
	}
	a := adminAccess{field: strings.Join(field, ".")}
	for i, r := range requests {
		req, ok := r.(map[string]any)
		if !ok {
			return adminAccess{unreadable: fmt.Sprintf("device request %d is not an object the check can read", i)}
		}
		if on, _, _ := unstructured.NestedBool(req, field...); on {
			name, _ := req["name"].(string)
			a.admin = append(a.admin, fmt.Sprintf("%q", name))
		}
	}
	return a
}

// judgeDeviceClaimsUsed judges a workload by the claims its pod spec's resourceClaims name: a
// ResourceClaim of its namespace, which the pods share, or a ResourceClaimTemplate the
// resourceclaim controller makes each pod's own claim from (the claim is the template's spec,
// adminAccess included). Either way the pods are allocated the devices whatever other pods hold
// them: the workload fails with the claim. A claim or template that is absent (not created yet,
// or not in a scan's input) leaves the workload NotAssessed: the pods wait for it, and what it
// grants is not known. Only the pod's namespace is looked in, as Kubernetes does (the fields
// name objects of the pod's namespace).
func judgeDeviceClaimsUsed(ctx *engine.Context, o *engine.Object) {
	claims := o.Workload.Pod().ResourceClaims
	if len(claims) == 0 {
		ctx.NotApplicable("", "the pod spec names no resource claims")
		return
	}
	var failed, unknown []string
	for _, c := range claims {
		kind, name := "ResourceClaim", c.Claim
		switch {
		case c.Claim != "" && c.Template != "":
			unknown = append(unknown, fmt.Sprintf("claim %q names both a ResourceClaim and a ResourceClaimTemplate, which the API server refuses", c.Name))
			continue
		case c.Template != "":
			kind, name = "ResourceClaimTemplate", c.Template
		case c.Claim == "":
			unknown = append(unknown, fmt.Sprintf("claim %q names neither a ResourceClaim nor a ResourceClaimTemplate", c.Name))
			continue
		}
		what := fmt.Sprintf("claim %q uses %s %q", c.Name, kind, name)
		obj := ctx.Inventory.Get(kind, o.Namespace, name)
		if obj == nil {
			if ctx.Inventory.Complete {
				unknown = append(unknown, what+", which does not exist: the pods wait for it, and what it grants is not known")
			} else {
				unknown = append(unknown, what+", which is not in the scanned input")
			}
			continue
		}
		switch a := readAdminAccess(obj); {
		case a.unreadable != "":
			unknown = append(unknown, what+": "+a.unreadable)
		case len(a.admin) > 0:
			failed = append(failed, fmt.Sprintf("%s, whose device request %s sets %s: true", what, few(a.admin, ", "), a.field))
		}
	}
	held, unreadable := generatedAdminClaims(ctx, o)
	failed = append(failed, held...)
	unknown = append(unknown, unreadable...)
	switch {
	case len(failed) > 0:
		ctx.Fail("", "%s: the pods get access to devices other pods hold", few(failed, "; "))
	case len(unknown) > 0:
		ctx.NotAssessed("", few(unknown, "; "))
	default:
		ctx.Pass("")
	}
}

// podClaimAnnotation names, on a ResourceClaim the resourceclaim controller made for a pod from
// a ResourceClaimTemplate, the pod's claim it was made for (k8s.io/kubernetes v1.37
// pkg/controller/resourceclaim: podResourceClaimAnnotation).
const podClaimAnnotation = "resource.kubernetes.io/pod-claim-name"

// generatedAdminClaims returns, for workload o, the ResourceClaims of its namespace that the
// resourceclaim controller made for its pods and that ask for administrative access, each
// described (held), and those whose requests cannot be read (unreadable). Such a claim is the
// template's spec as it was when the pod was created, and the pod keeps it for as long as it runs:
// a template deleted and created again under its name without adminAccess (its spec cannot be
// changed) changes neither the workload nor its pods, which hold the devices still. A claim is
// the pod's when its controller reference names a Pod of the inventory with that UID (the
// controller makes it so; the Pod's status.resourceClaimStatuses, which also names it, is not in
// the operator's cache), and the pod is the workload's when it is judged as the workload
// (Inventory.JudgedAs: itself, or the controller whose template explains it).
func generatedAdminClaims(ctx *engine.Context, o *engine.Object) (held, unreadable []string) {
	inv := ctx.Inventory
	byWorkload := inv.Memo(nil, "dra.generatedClaims/"+o.Namespace, func() any {
		m := map[*engine.Object][]generatedClaim{}
		for _, claim := range inv.List(o.Namespace, "ResourceClaim") {
			ref := metav1.GetControllerOfNoCopy(claim.Obj)
			if ref == nil || ref.Kind != "Pod" || ref.APIVersion != "v1" {
				continue
			}
			pod := inv.Get("Pod", o.Namespace, ref.Name)
			if pod == nil || pod.Obj.GetUID() != ref.UID {
				continue
			}
			w := inv.JudgedAs(pod)
			m[w] = append(m[w], generatedClaim{claim: claim, pod: pod})
		}
		return m
	}).(map[*engine.Object][]generatedClaim)
	for _, g := range byWorkload[o] {
		what := fmt.Sprintf("Pod %s holds ResourceClaim %q", g.pod.Name, g.claim.Name)
		if podClaim := g.claim.Annotations()[podClaimAnnotation]; podClaim != "" {
			what += fmt.Sprintf(", made for its claim %q", podClaim)
		}
		switch a := readAdminAccess(g.claim); {
		case a.unreadable != "":
			unreadable = append(unreadable, what+": "+a.unreadable)
		case len(a.admin) > 0:
			held = append(held, fmt.Sprintf("%s, whose device request %s sets %s: true", what, few(a.admin, ", "), a.field))
		}
	}
	return held, unreadable
}

// generatedClaim is a ResourceClaim made for a pod, and the pod.
type generatedClaim struct{ claim, pod *engine.Object }

// resourceGroup is Dynamic Resource Allocation's API group.
const resourceGroup = "resource.k8s.io"
