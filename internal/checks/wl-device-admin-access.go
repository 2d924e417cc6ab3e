package checks

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var wlDeviceAdminAccess = &engine.Check{
	ID:    "wl-device-admin-access",
	Title: "Resource claims do not ask for administrative access to devices",
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
		"grant in force." + supporting,
	Remediation: "Remove adminAccess from the claim's device requests; where a device management " +
		"agent needs it, keep it in its own namespace, the only one labelled " +
		"resource.kubernetes.io/admin-access: \"true\", and record a ControlException for it.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc61, cc63},
	Targets:  []string{"ResourceClaim", "ResourceClaimTemplate"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		u, ok := o.Obj.(*unstructured.Unstructured)
		if !ok || !strings.HasPrefix(o.APIVersion, resourceGroup+"/") {
			ctx.NotApplicable("", "not a "+resourceGroup+" "+o.Kind)
			return
		}
		path := []string{"spec", "devices", "requests"}
		if o.Kind == "ResourceClaimTemplate" {
			path = append([]string{"spec"}, path...)
		}
		requests, found, err := unstructured.NestedSlice(u.Object, path...)
		if err != nil {
			ctx.NotAssessed("", "spec."+strings.Join(path[1:], ".")+" is not a list of device requests the check can read")
			return
		}
		if !found || len(requests) == 0 {
			ctx.NotApplicable("", "the claim requests no devices")
			return
		}
		// Where the API version keeps adminAccess: beside the request's other fields up to
		// v1beta1, in its exactly (an ExactDeviceRequest) from v1beta2 on.
		field := []string{"exactly", "adminAccess"}
		switch strings.TrimPrefix(o.APIVersion, resourceGroup+"/") {
		case "v1beta1", "v1alpha3":
			field = []string{"adminAccess"}
		}
		var admin []string
		for i, r := range requests {
			req, ok := r.(map[string]any)
			if !ok {
				ctx.NotAssessed("", fmt.Sprintf("device request %d is not an object the check can read", i))
				return
			}
			if on, _, _ := unstructured.NestedBool(req, field...); on {
				name, _ := req["name"].(string)
				admin = append(admin, fmt.Sprintf("%q", name))
			}
		}
		if len(admin) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "device request %s sets %s: true, access to devices other pods hold (allowed in namespaces labelled resource.kubernetes.io/admin-access: \"true\")",
			few(admin, ", "), strings.Join(field, "."))
	},
}

// resourceGroup is Dynamic Resource Allocation's API group.
const resourceGroup = "resource.k8s.io"
