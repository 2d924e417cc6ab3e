package checks

import (
	"slices"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var rbacControlPlaneTakeover = &engine.Check{
	ID:    "rbac-control-plane-takeover",
	Title: "Roles do not grant control over the control plane",
	Description: "Writing admission webhook configurations intercepts or disables every change " +
		"(and so does changing or deleting admission policies or their bindings, or creating a " +
		"MutatingAdmissionPolicy with a binding to it, or writing the policies that configure a policy engine's " +
		"webhooks and need no binding: Kyverno's clusterpolicies, Gatekeeper's mutators and constrainttemplates), " +
		"nodes/proxy reaches the kubelet API (and so every container on the node), approving " +
		"certificate signing requests of a kubernetes.io signer, which the cluster CA signs (update on " +
		"certificatesigningrequests/approval with approve on the signer: each alone approves nothing, " +
		"and another signer's requests get no certificate the cluster trusts), or having kubelet client " +
		"requests approved automatically (through create on certificatesigningrequests/nodeclient), mints credentials, " +
		"serviceaccounts/token creates tokens for other identities (and so does creating Secrets " +
		"with get, list, watch, patch or delete on them: the token controller fills a " +
		"kubernetes.io/service-account-token Secret with the token of the ServiceAccount it names), " +
		"creating PersistentVolumes mounts node paths, updating a Namespace or its status or finalize subresource (a Role can, its own) " +
		"relaxes its Pod Security labels so its pods may run privileged, updating or patching Nodes or nodes/status " +
		"relabels a node (a status write keeps only the spec) so that workloads pinned to node labels, the " +
		"node-restriction.kubernetes.io/ ones kubelets may not set among them, land on a node the subject controls, " +
		"writing kube-system's platform ConfigMaps (update or patch, or create with delete: a Role in kube-system, " +
		"a ClusterRole bound cluster-wide) maps one's IAM identity to group system:masters through EKS's aws-auth or " +
		"answers every pod's DNS through coredns, updating an APIService (or deleting and " +
		"creating one again) sends its API group version, all of /api for \"v1.\", to a Service of " +
		"one's choosing, and updating or deleting a CustomResourceDefinition repoints the conversion " +
		"webhook that sees and rewrites its objects, or deletes them all (a policy engine's " +
		"policies). Each hands over the cluster or switches off controls, defeating " +
		"logical access security (CC6.1) and change control (CC8.1). Rules limited by resourceNames " +
		"still count where one named object is enough (a node, aws-auth); they do not for nodeclient, the Secret " +
		"route (but for delete: the subject deletes the named Secret and creates it again as a token Secret) " +
		"and creating APIServices, whose requests name no existing object, nor for Kubernetes' admission " +
		"policies, where the names limit the grant to the subject's own policies. Create limited by " +
		"resourceNames counts where the role grants patch on those names too: a server-side apply " +
		"names its object and creates it when it does not exist (a PersistentVolume, a token Secret)." + supporting,
	Remediation: "Remove these permissions from the role; only the platform's own components need them.",
	Severity:    critical,
	Criteria:    []v1alpha1.Criterion{cc61, cc81},
	Targets:     []string{"Role", "ClusterRole"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		judgeRole(ctx, o, "can take over the control plane", func(p *rolePerms) []string {
			return slices.Concat(p.controlPlane, p.kubeSystemWrite)
		})
	},
}
