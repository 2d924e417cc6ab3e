package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacNetworkControl = &engine.Check{
	ID:    "rbac-network-control",
	Title: "Roles do not grant changing network boundaries",
	Description: "Writing NetworkPolicies (and the policies of Cilium, Calico and the Network Policy API that the " +
		"network checks count beside them: CiliumNetworkPolicies, Calico NetworkPolicies, and the cluster-wide " +
		"AdminNetworkPolicies, BaselineAdminNetworkPolicies, ClusterNetworkPolicies, CiliumClusterwideNetworkPolicies and Calico " +
		"GlobalNetworkPolicies), Services (their status too: a load balancer IP written there " +
		"captures the traffic every pod sends to it), Ingresses, Gateway API Gateways, routes and " +
		"ReferenceGrants, ListenerSets, OpenShift Routes, Istio Gateways and VirtualServices, Endpoints or EndpointSlices opens " +
		"the network to the outside, removes isolation between workloads, or redirects traffic " +
		"meant for another service; so does writing pods/status, which relabels the pod (a status write " +
		"keeps only its spec, deletionTimestamp and ownerReferences): it joins the endpoints of the Service " +
		"whose selector it takes, or passes as a pod a NetworkPolicy admits. Controlling who may change the boundary supports boundary " +
		"protection (CC6.6)." + supporting,
	Remediation: "Grant create, update, patch and delete on these resources (and update and patch on services/status and pods/status) only to the deployment pipeline's ServiceAccount.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc66},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "can change network boundaries", func(p *rolePerms) []string { return p.networkControl })
	},
}
