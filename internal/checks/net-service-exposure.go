package checks

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netServiceExposure = &engine.Check{
	ID:    "net-service-exposure",
	Title: "Services are not exposed outside the cluster",
	Description: "A Service of type LoadBalancer or NodePort, or one with externalIPs, accepts connections " +
		"from outside the cluster, past the Ingress layer where TLS and authentication are usually " +
		"enforced; each such opening in the boundary (CC6.6) should be deliberate. externalIPs on a " +
		"Service that is never proxied (ExternalName, or headless: clusterIP None) open nothing. An approved " +
		"exposure is recorded as a ControlException, which keeps the decision and its owner on " +
		"record." + supporting,
	Remediation: "Use type ClusterIP and publish the Service through an Ingress or Gateway, remove externalIPs, " +
		"or record the approved exposure as a ControlException.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc66},
	Targets:  []string{"Service"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		svc, ok := o.Obj.(*corev1.Service)
		if !ok {
			ctx.NotApplicable("", "not a core/v1 Service")
			return
		}
		var found []string
		switch svc.Spec.Type {
		case corev1.ServiceTypeLoadBalancer:
			found = append(found, "type LoadBalancer")
		case corev1.ServiceTypeNodePort:
			found = append(found, "type NodePort")
		}
		if len(svc.Spec.ExternalIPs) > 0 && proxied(svc) {
			found = append(found, "externalIPs "+few(svc.Spec.ExternalIPs, ", "))
		}
		if len(found) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "service is exposed outside the cluster: %s", few(found, "; "))
	},
}

// proxied reports whether the cluster's service proxy forwards a Service's addresses: not an
// ExternalName Service, nor a headless one (clusterIP None), which kube-proxy skips
// (pkg/proxy/util, ShouldSkipService). The API server copies clusterIPs[0] into clusterIP.
func proxied(svc *corev1.Service) bool {
	clusterIP := svc.Spec.ClusterIP
	if clusterIP == "" && len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	return svc.Spec.Type != corev1.ServiceTypeExternalName && clusterIP != corev1.ClusterIPNone
}
