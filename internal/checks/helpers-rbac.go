package checks

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	apipath "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Helpers shared by the identity (B) and RBAC (C) checks: the pod's ServiceAccount, rule
// matching with Kubernetes' wildcard semantics, the permission summary of a role (computed once
// per evaluation), built-in roles, and what a binding's roleRef resolves to.

const (
	bootstrappingLabel = "kubernetes.io/bootstrapping"
	bootstrappingValue = "rbac-defaults"
	systemPrefix       = "system:"
)

// API groups, verbs and resources the RBAC checks name. The extensions group is not among
// them: Kubernetes 1.37 serves no resource in it (its last, ingresses, went in 1.22), and a
// CRD's group needs a dot, so a rule naming only extensions grants nothing ("*" still counts).
var (
	coreGroup            = []string{""}
	rbacGroup            = []string{"rbac.authorization.k8s.io"}
	appsGroups           = []string{"apps"}
	batchGroup           = []string{"batch"}
	networkingGroups     = []string{"networking.k8s.io"}
	discoveryGroup       = []string{"discovery.k8s.io"}
	admissionGroup       = []string{"admissionregistration.k8s.io"}
	certificatesGroup    = []string{"certificates.k8s.io"}
	authenticationGroup  = []string{"authentication.k8s.io"}
	apiRegistrationGroup = []string{"apiregistration.k8s.io"}
	apiExtensionsGroup   = []string{"apiextensions.k8s.io"}
	eventsGroups         = []string{"", "events.k8s.io"}
	readVerbs            = []string{"get", "list", "watch"}
	changeVerbs          = []string{"create", "update", "patch"}
	writeVerbs           = []string{"create", "update", "patch", "delete", "deletecollection"}
	deleteVerbs          = []string{"delete", "deletecollection"}
	roleResources        = []string{"roles", "clusterroles"}
	execSubresources     = []string{"pods/exec", "pods/attach", "pods/portforward"}
	proxySubresources    = []string{"pods/proxy", "services/proxy"}
	webhookResources     = []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}
	impersonationUsers   = []string{"users", "groups"}
	// argoGroup holds Argo Workflows', Argo Rollouts' and Argo CD's resources alike: the
	// accesses name the resources, never the group alone.
	argoGroup = "argoproj.io"
)

// podServiceAccount is the name of the ServiceAccount a workload's pods run as:
// serviceAccountName, else the deprecated serviceAccount, else "default".
func podServiceAccount(o *engine.Object) string {
	spec := o.Workload.Pod()
	switch {
	case spec.ServiceAccountName != "":
		return spec.ServiceAccountName
	case spec.DeprecatedServiceAccount != "":
		return spec.DeprecatedServiceAccount
	}
	return "default"
}

// access is one kind of access a check looks for: any of verbs on any of resources ("pods",
// or "pods/exec" for a subresource) in any of groups.
type access struct {
	groups    []string
	resources []string
	verbs     []string
	// cluster is true when the resources are cluster-scoped: a namespaced Role cannot grant
	// them (bind on clusterroles is namespaced: it is checked in the RoleBinding's namespace).
	cluster bool
}

// riskyAccess is what one RBAC check looks for in a role's rules.
type riskyAccess struct {
	accesses []access
	// named is true when a grant limited to resourceNames still counts: it does wherever one
	// named object is enough to do the harm (a webhook, a node's proxy, a role to bind).
	named bool
}

// find lists, once each, how rules grant the access: "get, list on secrets", or "* on *".
// namespaced is true for a Role, which cannot grant cluster-scoped resources.
func (k riskyAccess) find(rules []rbacv1.PolicyRule, namespaced bool) []string {
	var out []string
	for i := range rules {
		for _, a := range k.accesses {
			if namespaced && a.cluster {
				continue
			}
			if d := a.grantedBy(rules, &rules[i], k.named); d != "" && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// namelessVerbs are the verbs of requests on a whole resource that name no object: list and
// watch without a metadata.name field selector, create, deletecollection. The authoriser
// compares "" with a rule's resourceNames for them.
var namelessVerbs = []string{"list", "watch", "create", "deletecollection"}

// grantedBy describes how rule r, one of rules, grants some of a, in the rule's own spelling (so
// a wildcard shows as "*"), or returns "" when it does not. A rule limited by resourceNames
// counts only when named is true, and never for deletecollection of a whole resource, nor for
// create but through server-side apply: the authoriser sees no name for a POST or a
// deletecollection, so such a rule does not match them; but an apply is a patch that names its
// object, and when that object does not exist the API server creates it, authorising create on
// that name (k8s.io/apiserver endpoints/handlers/patch.go). So create limited to names counts
// where rules also grant patch on one of those names. A rule whose resourceNames hold the empty
// name, which the API server accepts, is not limited for requests that name no object: "" matches
// every one, so the rule grants those verbs on every object, named or not; and it matches no
// request that names its object (get, exec into a pod), so with no other name it grants those
// nothing.
func (a access) grantedBy(rules []rbacv1.PolicyRule, r *rbacv1.PolicyRule, named bool) string {
	restricted := len(r.ResourceNames) > 0
	anyName := slices.Contains(r.ResourceNames, "")
	if restricted && !named && !anyName {
		return ""
	}
	if !slices.ContainsFunc(a.groups, func(g string) bool { return slices.Contains(r.APIGroups, g) }) &&
		!slices.Contains(r.APIGroups, rbacv1.APIGroupAll) {
		return ""
	}
	var verbs, resources []string
	applied := false
	for _, want := range a.resources {
		ruleRes := matchingResource(r.Resources, want)
		if ruleRes == "" {
			continue
		}
		for _, ruleVerb := range r.Verbs {
			if ruleVerb != rbacv1.VerbAll && !slices.Contains(a.verbs, ruleVerb) {
				continue
			}
			if restricted {
				whole := !strings.Contains(want, "/")
				switch {
				case anyName && whole && (ruleVerb == rbacv1.VerbAll || slices.Contains(namelessVerbs, ruleVerb)):
					// granted on every object through the empty name
				case !named:
					continue
				case !slices.ContainsFunc(r.ResourceNames, func(n string) bool { return n != "" }):
					// the empty name alone: no request that names its object matches it
					continue
				case whole && ruleVerb == "create" && a.patchable(rules, r.ResourceNames, want):
					// created by server-side apply
					applied = true
				case whole && (ruleVerb == "create" || ruleVerb == "deletecollection"):
					continue
				}
			}
			if !slices.Contains(verbs, ruleVerb) {
				verbs = append(verbs, ruleVerb)
			}
			if !slices.Contains(resources, ruleRes) {
				resources = append(resources, ruleRes)
			}
		}
	}
	if len(verbs) == 0 {
		return ""
	}
	d := strings.Join(inRuleOrder(r.Verbs, verbs), ", ") + " on " + strings.Join(inRuleOrder(r.Resources, resources), ", ")
	switch {
	case anyName:
		d += " (resourceNames " + quoteList(r.ResourceNames) + "; the empty name matches every list, watch, create and deletecollection)"
	case applied:
		d += " (resourceNames " + quoteList(r.ResourceNames) + "; with patch on those names, server-side apply creates them)"
	case restricted:
		d += " (resourceNames " + quoteList(r.ResourceNames) + ")"
	}
	return d
}

// patchable reports whether rules grant patch on resource want, in one of a's groups, on one of
// names (or on any name): what server-side apply needs, beside create on the name, to create
// the object.
func (a access) patchable(rules []rbacv1.PolicyRule, names []string, want string) bool {
	return slices.ContainsFunc(rules, func(q rbacv1.PolicyRule) bool {
		return (slices.Contains(q.Verbs, "patch") || slices.Contains(q.Verbs, rbacv1.VerbAll)) &&
			(slices.Contains(q.APIGroups, rbacv1.APIGroupAll) || slices.ContainsFunc(a.groups, func(g string) bool { return slices.Contains(q.APIGroups, g) })) &&
			matchingResource(q.Resources, want) != "" &&
			(len(q.ResourceNames) == 0 || slices.ContainsFunc(q.ResourceNames, func(n string) bool { return n != "" && slices.Contains(names, n) }))
	})
}

// inRuleOrder returns the entries of a rule's list that are in keep, once each, in the order
// the rule's author wrote them.
func inRuleOrder(rule, keep []string) []string {
	var out []string
	for _, v := range rule {
		if slices.Contains(keep, v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// matchingResource returns the entry of a rule's resources that covers want, as the RBAC
// authoriser matches them: "*", the exact resource or resource/subresource, or "*/subresource".
func matchingResource(ruleResources []string, want string) string {
	_, sub, hasSub := strings.Cut(want, "/")
	for _, r := range ruleResources {
		if r == rbacv1.ResourceAll || r == want || (hasSub && r == "*/"+sub) {
			return r
		}
	}
	return ""
}

// The accesses each RBAC check looks for.
var (
	secretReadAccess = riskyAccess{accesses: []access{
		// The response to a patch, even an empty or dry-run one, is the whole stored Secret; the
		// response to a deletecollection is the list of every Secret it deleted; and so is the
		// response to a delete with propagationPolicy Orphan (the orphan finalizer defers the
		// deletion, and the store answers with the object it updated), which with dryRun All
		// deletes nothing.
		{groups: coreGroup, resources: []string{"secrets"}, verbs: []string{"get", "list", "watch", "patch", "delete", "deletecollection"}},
	}}
	execAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: execSubresources, verbs: []string{"create", "get"}},
		// The API server forwards every HTTP method (the request's verb) on pods/proxy and
		// services/proxy to any port of the pod, or of the Service's endpoints, from its own
		// network: a port-forward for HTTP (and WebSocket) that NetworkPolicy does not stop.
		{groups: coreGroup, resources: proxySubresources, verbs: []string{"get", "create", "update", "patch", "delete"}},
		// KubeVirt v1.x's virt-api serves a virtual machine's serial console, VNC display, USB
		// redirection and port-forward as subresources it authorises as get (a WebSocket
		// upgrade; its kubevirt.io:edit ClusterRole grants them so): a console is a shell in the
		// guest, port-forward opens any of its ports. exec and portforward for a VM.
		{groups: []string{"subresources.kubevirt.io"}, resources: []string{"virtualmachineinstances/console",
			"virtualmachineinstances/vnc", "virtualmachineinstances/usbredir", "virtualmachineinstances/portforward",
			"virtualmachines/portforward"}, verbs: []string{"get"}},
	}}
	escalationAccess = riskyAccess{named: true, accesses: []access{
		{groups: rbacGroup, resources: roleResources, verbs: []string{"bind"}},
		{groups: rbacGroup, resources: []string{"roles"}, verbs: []string{"escalate"}},
		{groups: rbacGroup, resources: []string{"clusterroles"}, verbs: []string{"escalate"}, cluster: true},
		{groups: coreGroup, resources: []string{"serviceaccounts"}, verbs: []string{"impersonate"}},
		{groups: coreGroup, resources: impersonationUsers, verbs: []string{"impersonate"}, cluster: true},
		// Constrained impersonation (on by default since 1.36) checks impersonate:<mode> on
		// authentication.k8s.io: the subject acts as the ServiceAccount, user or node for the
		// verbs its impersonate-on:<mode>:<verb> rules allow.
		{groups: authenticationGroup, resources: []string{"serviceaccounts"}, verbs: []string{"impersonate:serviceaccount"}},
		{groups: authenticationGroup, resources: impersonationUsers, verbs: []string{"impersonate:user-info"}, cluster: true},
		{groups: authenticationGroup, resources: []string{"nodes"}, verbs: []string{"impersonate:arbitrary-node", "impersonate:associated-node"}, cluster: true},
		{groups: rbacGroup, resources: []string{"roles", "rolebindings"}, verbs: changeVerbs},
		{groups: rbacGroup, resources: []string{"clusterroles", "clusterrolebindings"}, verbs: changeVerbs, cluster: true},
		// GitOps controllers apply the manifests an object points at with the controller's own
		// identity, cluster-admin in their installs, unless the object names one to act as:
		// whoever writes the object acts as that identity, past their own RBAC, as with
		// impersonate. One named object is enough (its source, path or values can change).
		//
		// Flux v2 (kustomize-controller, Kustomization v1; helm-controller, HelmRelease v2):
		// spec.serviceAccountName is optional, and without it the controller applies with its
		// own ServiceAccount (cluster-admin in Flux's install) unless it runs with
		// --default-service-account; with it (or under that lockdown), the controller
		// impersonates any ServiceAccount of the namespace the author names.
		{groups: []string{"kustomize.toolkit.fluxcd.io"}, resources: []string{"kustomizations"}, verbs: changeVerbs},
		{groups: []string{"helm.toolkit.fluxcd.io"}, resources: []string{"helmreleases"}, verbs: changeVerbs},
		// Argo CD v2.x/v3.x: the application controller syncs an Application with its own
		// ServiceAccount (argocd-application-controller, bound to cluster-admin by the cluster
		// install; sync impersonation is off by default) into any destination its AppProject
		// allows, from the argocd namespace or, with apps-in-any-namespace, from the namespaces
		// the AppProject's sourceNamespaces lists; the ApplicationSet controller creates
		// Applications (Argo CD's docs: only admins should create ApplicationSets); an AppProject
		// sets what its Applications may deploy where (the default one allows everything).
		{groups: []string{argoGroup}, resources: []string{"applications", "applicationsets", "appprojects"}, verbs: changeVerbs},
		// Flux v2 (source-controller): a Kustomization or HelmRelease applies what its source
		// holds at every interval, so repointing an existing source (a GitRepository's url, an
		// OCIRepository's image) changes what is applied with no one creating anything. Creating
		// one does not count: nothing reads a new source yet.
		{groups: []string{"source.toolkit.fluxcd.io"}, resources: []string{"gitrepositories", "ocirepositories",
			"buckets", "helmrepositories", "helmcharts"}, verbs: []string{"update", "patch"}},
		// Argo Events v1.9: a Sensor's pod runs as its spec.template.serviceAccountName, any of
		// the namespace's, and its k8s trigger creates, updates or patches any object that
		// ServiceAccount may (and its argoWorkflow trigger submits Workflows).
		{groups: []string{argoGroup}, resources: []string{"sensors"}, verbs: changeVerbs},
		// Tekton Triggers v0.2x: an EventListener creates what its Triggers' TriggerTemplates
		// hold, on each event it receives, as the serviceAccountName of the EventListener or
		// Trigger, any of the namespace's (the sink impersonates it).
		{groups: []string{"triggers.tekton.dev"}, resources: []string{"eventlisteners", "triggers"}, verbs: changeVerbs},
		// OLM v0 (operators.coreos.com) runs with cluster-admin and grants an operator the
		// permissions and clusterPermissions its ClusterServiceVersion asks for unless the
		// namespace's OperatorGroup names a ServiceAccount to install with (OLM's
		// doc/design/scoped-operator-install.md): a Subscription installs an operator of the
		// author's choosing from a catalog, a CatalogSource adds a catalog of their own, a
		// ClusterServiceVersion is an operator of their own writing, and an OperatorGroup
		// decides that ServiceAccount.
		{groups: []string{"operators.coreos.com"}, resources: []string{"subscriptions", "clusterserviceversions",
			"catalogsources", "operatorgroups"}, verbs: changeVerbs},
		// OLM v1 (operator-controller): a ClusterExtension installs a bundle as the
		// ServiceAccount it names, in any namespace (operator-controller's own where
		// serviceAccount is left out, since it became optional).
		{groups: []string{"olm.operatorframework.io"}, resources: []string{"clusterextensions"}, verbs: changeVerbs, cluster: true},
		// k3s' and RKE2's helm-controller (k3s-io/helm-controller, pkg/controllers/chart): a
		// HelmChart is installed by a Job in its namespace that runs spec.jobImage, whatever
		// the author names, as a ServiceAccount the controller binds (ClusterRoleBinding) to its
		// job ClusterRole, cluster-admin by default. A controller started with a system
		// namespace (k3s and RKE2 keep theirs in kube-system) ignores HelmCharts elsewhere; a
		// Role cannot show which namespaces it watches, so every grant counts.
		{groups: []string{"helm.cattle.io"}, resources: []string{"helmcharts"}, verbs: changeVerbs},
		// Crossplane 1.x/2.x: the package manager runs a Provider's package image as a
		// Deployment whose ServiceAccount the RBAC manager binds to a ClusterRole with get,
		// create and update on Secrets of every namespace (design/design-doc-rbac-manager.md); a
		// Configuration installs the providers it depends on. A DeploymentRuntimeConfig sets the
		// image, command and ServiceAccount of the packages that use it (the "default" one,
		// which Crossplane creates, those that name none), so changing one counts; creating one
		// does not (nothing uses a new name yet).
		{groups: []string{"pkg.crossplane.io"}, resources: []string{"providers", "configurations"}, verbs: changeVerbs, cluster: true},
		{groups: []string{"pkg.crossplane.io"}, resources: []string{"deploymentruntimeconfigs", "controllerconfigs"}, verbs: []string{"update", "patch"}, cluster: true},
	}}
	// The kubelet authorises its /exec, /attach, /portForward and /run as nodes/proxy with the
	// HTTP method's verb (a WebSocket upgrade is a GET; k8s.io/kubernetes v1.37
	// pkg/kubelet/server/auth.go): whoever holds it reaches into every pod of the node, past the
	// API server's pods/exec. Nodes are cluster-scoped: only a ClusterRoleBinding grants it.
	nodeExecAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"nodes/proxy"}, verbs: []string{"get", "create"}, cluster: true},
	}}
	// kubectl debug: an ephemeral container added to a running pod runs its command in the pod's
	// network namespace, may share a container's processes (targetContainerName) and mounts
	// the pod's volumes, its ServiceAccount token among them.
	podDebugAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"pods/ephemeralcontainers"}, verbs: []string{"update", "patch"}},
	}}
	workloadCreateAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"pods", "replicationcontrollers"}, verbs: changeVerbs},
		// kubectl debug: an ephemeral container added to a running pod runs in it, as its
		// ServiceAccount, with its volumes.
		{groups: coreGroup, resources: []string{"pods/ephemeralcontainers"}, verbs: []string{"update", "patch"}},
		{groups: appsGroups, resources: []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, verbs: changeVerbs},
		{groups: batchGroup, resources: []string{"jobs", "cronjobs"}, verbs: changeVerbs},
		// The custom resources of widely used controllers that run pods (or VMs) from a spec
		// their author writes: image, command and serviceAccountName of the author's choosing.
		// Objects that such a spec only refers to (Argo WorkflowTemplates, Tekton Tasks and
		// Pipelines, Argo Rollouts AnalysisTemplates) run nothing until a run that names them
		// is created, and creating that run is what counts.
		//
		// Argo Workflows v3.6: a Workflow's steps run as pods from its templates' container or
		// script, as spec.serviceAccountName; a CronWorkflow creates Workflows from its
		// workflowSpec (argo submit --from workflowtemplate/... creates a Workflow).
		{groups: []string{argoGroup}, resources: []string{"workflows", "cronworkflows"}, verbs: changeVerbs},
		// Argo Rollouts v1.8: a Rollout's spec.template is a pod template the controller makes
		// ReplicaSets from; an Experiment's spec.templates[].template too; an AnalysisRun's job
		// metric provider (metrics[].provider.job.spec) is a Job spec the controller creates.
		{groups: []string{argoGroup}, resources: []string{"rollouts", "experiments", "analysisruns"}, verbs: changeVerbs},
		// Tekton Pipelines v1 (v0.6x): a TaskRun runs its steps (inline in spec.taskSpec or
		// from a Task) as a pod with spec.serviceAccountName; a PipelineRun creates TaskRuns,
		// from an inline spec.pipelineSpec or a Pipeline. Create alone: Tekton's webhook lets an
		// update change only spec.status (cancel, start a pending run) and a TaskRun's
		// statusMessage (pkg/apis/pipeline/v1 TaskRunSpec and PipelineRunSpec ValidateUpdate).
		{groups: []string{"tekton.dev"}, resources: []string{"taskruns", "pipelineruns"}, verbs: []string{"create"}},
		// KubeVirt v1.x: a VirtualMachineInstance boots the disks its author names in a
		// virt-launcher pod of the namespace (a serviceAccount volume hands the guest any
		// ServiceAccount's token); VirtualMachines, VirtualMachineInstanceReplicaSets and
		// (pool.kubevirt.io) VirtualMachinePools create them from a template, which a change
		// rewrites for the next start. virt-api refuses changes to a VMI's spec: create alone.
		{groups: []string{"kubevirt.io"}, resources: []string{"virtualmachines", "virtualmachineinstancereplicasets"}, verbs: changeVerbs},
		{groups: []string{"kubevirt.io"}, resources: []string{"virtualmachineinstances"}, verbs: []string{"create"}},
		{groups: []string{"pool.kubevirt.io"}, resources: []string{"virtualmachinepools"}, verbs: changeVerbs},
		// Knative Serving v1.x: a Service's or Configuration's spec.template.spec, and a
		// Revision's spec, hold containers and serviceAccountName, run as a Deployment. A
		// Revision's spec is immutable (pkg/apis/serving/v1 Revision.Validate): create alone.
		{groups: []string{"serving.knative.dev"}, resources: []string{"services", "configurations"}, verbs: changeVerbs},
		{groups: []string{"serving.knative.dev"}, resources: []string{"revisions"}, verbs: []string{"create"}},
		// Kubeflow Training Operator v1.8: each replica of these jobs runs from the pod template
		// of its replicaSpecs; Kubeflow Notebooks' notebook-controller runs a Notebook's
		// spec.template.spec as a StatefulSet; Kubeflow Trainer v2 runs a TrainJob with the
		// image and command its spec.trainer sets.
		{groups: []string{"kubeflow.org"}, resources: []string{"tfjobs", "pytorchjobs", "mpijobs", "xgboostjobs",
			"paddlejobs", "mxjobs", "jaxjobs", "notebooks"}, verbs: changeVerbs},
		{groups: []string{"trainer.kubeflow.org"}, resources: []string{"trainjobs"}, verbs: changeVerbs},
		// KubeRay v1.x: a RayCluster's head and worker groups are pod templates; a RayJob and a
		// RayService create RayClusters from their rayClusterSpec (a RayJob also runs its
		// entrypoint, and its submitterPodTemplate).
		{groups: []string{"ray.io"}, resources: []string{"rayclusters", "rayjobs", "rayservices"}, verbs: changeVerbs},
		// Kubeflow Spark operator v2.x: a SparkApplication's driver and executors run the image,
		// mainApplicationFile and serviceAccount its spec names; a ScheduledSparkApplication
		// creates SparkApplications from its template.
		{groups: []string{"sparkoperator.k8s.io"}, resources: []string{"sparkapplications", "scheduledsparkapplications"}, verbs: changeVerbs},
		// OpenShift 4.x: a DeploymentConfig carries a pod template its deployer makes
		// ReplicationControllers from, as a Deployment does.
		{groups: []string{"apps.openshift.io"}, resources: []string{"deploymentconfigs"}, verbs: changeVerbs},
		// Kubernetes SIG JobSet v0.x makes Jobs from a JobSet's replicatedJobs[].template;
		// LeaderWorkerSet v0.x makes pods from its leaderTemplate and workerTemplate.
		{groups: []string{"jobset.x-k8s.io"}, resources: []string{"jobsets"}, verbs: changeVerbs},
		{groups: []string{"leaderworkerset.x-k8s.io"}, resources: []string{"leaderworkersets"}, verbs: changeVerbs},
		// OpenKruise v1.x: CloneSets, Advanced StatefulSets and DaemonSets, BroadcastJobs,
		// AdvancedCronJobs and UnitedDeployments carry pod (or workload) templates; an
		// EphemeralJob adds ephemeral containers to the running pods its selector matches; a
		// SidecarSet (cluster-scoped) injects its containers into every new pod its selector
		// matches, in every namespace unless it names one.
		{groups: []string{"apps.kruise.io"}, resources: []string{"clonesets", "statefulsets", "daemonsets", "broadcastjobs",
			"advancedcronjobs", "uniteddeployments", "ephemeraljobs"}, verbs: changeVerbs},
		{groups: []string{"apps.kruise.io"}, resources: []string{"sidecarsets"}, verbs: changeVerbs, cluster: true},
		// Kyverno 1.x: a namespaced Policy's mutate rules rewrite the pods created in its
		// namespace, by anyone (a Deployment's ReplicaSet included), as Kyverno's webhook admits
		// them. (ClusterPolicies reach every namespace: rbac-control-plane-takeover.)
		{groups: []string{"kyverno.io"}, resources: []string{"policies"}, verbs: changeVerbs},
	}}
	controlPlaneAccess = riskyAccess{named: true, accesses: []access{
		{groups: admissionGroup, resources: webhookResources, verbs: writeVerbs, cluster: true},
		// The kubelet maps HTTP methods to these verbs: GET alone reaches exec over WebSockets.
		{groups: coreGroup, resources: []string{"nodes/proxy"}, verbs: []string{"get", "create", "update", "patch", "delete"}, cluster: true},
		{groups: coreGroup, resources: []string{"serviceaccounts/token"}, verbs: []string{"create"}},
		{groups: coreGroup, resources: []string{"persistentvolumes"}, verbs: []string{"create"}, cluster: true},
		// The API server reads /api/v1/namespaces/<name> as namespace <name>, so a Role grants
		// this on its own namespace: relabelling it (pod-security.kubernetes.io/enforce:
		// privileged) is allowed, and its pods may then run privileged on the node.
		// So do writes on its status and finalize subresources: their strategies keep the
		// stored spec or status alone and take the request's metadata, labels included
		// (k8s.io/kubernetes v1.37 pkg/registry/core/namespace/strategy.go), and
		// pod-security-admission's ValidateNamespace lets every subresource through. finalize
		// serves PUT alone (FinalizeREST is no getter, so no patch).
		{groups: coreGroup, resources: []string{"namespaces", "namespaces/status"}, verbs: []string{"update", "patch"}},
		{groups: coreGroup, resources: []string{"namespaces/finalize"}, verbs: []string{"update"}},
		// A Node's labels are what workloads are pinned by (nodeSelector, affinity), and those
		// under node-restriction.kubernetes.io/ are the ones the NodeRestriction admission plugin
		// keeps kubelets from setting, so that an admin can isolate workloads on dedicated
		// nodes: relabelling a node the subject controls draws them, their Secrets and tokens
		// onto it; tainting the others (spec) drives them off theirs. A nodes/status write keeps
		// only the stored node's spec (k8s.io/kubernetes v1.37 pkg/registry/core/node/strategy.go,
		// nodeStatusStrategy): it relabels the node too, and marks others NotReady. One named
		// node is enough.
		{groups: coreGroup, resources: []string{"nodes", "nodes/status"}, verbs: []string{"update", "patch"}, cluster: true},
		// kube-aggregator proxies an APIService's group version (for "v1.", all of /api) to the
		// Service it names; the built-in ones are put back only when kube-apiserver starts.
		{groups: apiRegistrationGroup, resources: []string{"apiservices"}, verbs: []string{"update", "patch"}, cluster: true},
		// Deleting a CRD deletes every object of it (a policy engine's policies); changing one
		// can point its conversion webhook, which sees and rewrites each object it converts, at
		// a Service of one's own.
		{groups: apiExtensionsGroup, resources: []string{"customresourcedefinitions"}, verbs: []string{"update", "patch", "delete", "deletecollection"}, cluster: true},
		// Policy engines whose policies configure their admission webhooks, and need no
		// binding: a Kyverno ClusterPolicy's mutate rules rewrite every object they match as it
		// is admitted (an image, a container added to every pod of the cluster), its validate
		// rules can refuse every change, and deleting it switches its control off (Kyverno
		// 1.x, kyverno.io/v1); Gatekeeper's mutators (mutations.gatekeeper.sh Assign,
		// AssignImage, AssignMetadata, ModifySet) rewrite what their match selects cluster-wide,
		// and a ConstraintTemplate's Rego decides every constraint of its kind (deleting it
		// deletes them). As with webhooks, one named object is enough: its match can be
		// rewritten to select everything.
		{groups: []string{"kyverno.io"}, resources: []string{"clusterpolicies"}, verbs: writeVerbs, cluster: true},
		{groups: []string{"mutations.gatekeeper.sh"}, resources: []string{"assign", "assignimage", "assignmetadata", "modifyset"}, verbs: writeVerbs, cluster: true},
		{groups: []string{"templates.gatekeeper.sh"}, resources: []string{"constrainttemplates"}, verbs: writeVerbs, cluster: true},
	}}
	// kube-controller-manager approves a kubelet client CSR (CN system:node:<any node>, O
	// system:nodes) by itself when a SubjectAccessReview lets its requester create
	// certificatesigningrequests/nodeclient, with no name: a rule limited by resourceNames
	// does not match that review.
	nodeClientAccess = riskyAccess{accesses: []access{
		{groups: certificatesGroup, resources: []string{"certificatesigningrequests/nodeclient"}, verbs: []string{"create"}, cluster: true},
	}}
	// pods/log is not among them: it is served for GET alone (LogREST is no deleter, so the API
	// server installs no DELETE route for it), and delete on it grants nothing.
	logTamperingAccess = riskyAccess{named: true, accesses: []access{
		{groups: eventsGroups, resources: []string{"events"}, verbs: deleteVerbs},
	}}
	networkControlAccess = riskyAccess{named: true, accesses: []access{
		{groups: networkingGroups, resources: []string{"networkpolicies", "ingresses"}, verbs: writeVerbs},
		{groups: coreGroup, resources: []string{"services", "endpoints"}, verbs: writeVerbs},
		// status.loadBalancer.ingress: kube-proxy sends traffic for those IPs, from every pod,
		// to the Service's endpoints (CVE-2020-8554).
		{groups: coreGroup, resources: []string{"services/status"}, verbs: changeVerbs},
		// A pods/status write keeps only the stored pod's spec, deletionTimestamp and
		// ownerReferences (k8s.io/kubernetes v1.37 pkg/registry/core/pod/strategy.go,
		// podStatusStrategy): it relabels the pod, which joins the endpoints of a Service whose
		// selector it takes (and receives its traffic) or passes as a pod a NetworkPolicy admits.
		{groups: coreGroup, resources: []string{"pods/status"}, verbs: []string{"update", "patch"}},
		{groups: discoveryGroup, resources: []string{"endpointslices"}, verbs: writeVerbs},
		// Gateway API (CRDs): Gateways and routes expose Services as Ingresses do; a
		// ReferenceGrant opens a namespace's Services to routes of other namespaces; a
		// ListenerSet adds listeners to a Gateway that admits it (spec.allowedListeners).
		{groups: []string{"gateway.networking.k8s.io"}, resources: []string{"gateways", "httproutes", "grpcroutes",
			"tlsroutes", "tcproutes", "udproutes", "referencegrants", "listenersets"}, verbs: writeVerbs},
		// OpenShift's Route: the cluster's router publishes the Service it names, as an
		// Ingress does.
		{groups: []string{"route.openshift.io"}, resources: []string{"routes"}, verbs: writeVerbs},
		// Istio's Gateway opens ports and hosts on the ingress gateway its selector picks, in any
		// namespace, and a VirtualService bound to it routes what arrives to a Service, as an
		// Ingress does; a VirtualService for another namespace's host (exported to every
		// namespace by default) redirects the mesh's traffic meant for that service.
		{groups: []string{istioGroup}, resources: []string{"gateways", "virtualservices"}, verbs: writeVerbs},
		// The other network policies the network checks count as isolating pods (helpers-cni.go,
		// helpers-anp.go): Cilium's and Calico's namespaced ones, and the cluster-wide ones of
		// the Network Policy API, Cilium and Calico. Deleting one opens what it closed; an
		// AdminNetworkPolicy's Allow (a ClusterNetworkPolicy's Admin-tier Accept) admits what a
		// namespace's NetworkPolicies deny.
		{groups: []string{engine.CiliumGroup}, resources: []string{"ciliumnetworkpolicies"}, verbs: writeVerbs},
		{groups: engine.CalicoGroups, resources: []string{"networkpolicies"}, verbs: writeVerbs},
		{groups: []string{engine.AdminNetworkPolicyGroup}, resources: []string{"adminnetworkpolicies", "baselineadminnetworkpolicies", "clusternetworkpolicies"}, verbs: writeVerbs, cluster: true},
		{groups: []string{engine.CiliumGroup}, resources: []string{"ciliumclusterwidenetworkpolicies"}, verbs: writeVerbs, cluster: true},
		{groups: engine.CalicoGroups, resources: []string{"globalnetworkpolicies"}, verbs: writeVerbs, cluster: true},
	}}
)

// A Secret of type kubernetes.io/service-account-token annotated with the name of any
// ServiceAccount of its namespace is filled in with that ServiceAccount's token by
// kube-controller-manager's token controller. Whoever may create Secrets, and get, list, watch,
// patch, delete or deletecollection them (the response to a patch, even an empty one, is the
// whole stored Secret, and so is the response to a dry-run delete with propagationPolicy Orphan),
// mints such tokens. An update's response is what the caller sent: it reveals nothing.
var (
	secretCreateAccess = riskyAccess{accesses: []access{
		{groups: coreGroup, resources: []string{"secrets"}, verbs: []string{"create"}},
	}}
	secretReadBackAccess = riskyAccess{accesses: []access{
		{groups: coreGroup, resources: []string{"secrets"}, verbs: []string{"get", "list", "watch", "patch", "delete", "deletecollection"}},
	}}
	// Delete limited by resourceNames reads back too: the subject deletes the named Secret,
	// creates it again as a token Secret, and reads it with a dry-run delete.
	secretNamedDeleteAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"secrets"}, verbs: []string{"delete"}},
	}}
	// Create limited by resourceNames counts where server-side apply creates the named Secret
	// (with patch on the name, see grantedBy); the patch reads it back.
	secretNamedCreateAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"secrets"}, verbs: []string{"create"}},
	}}
	secretNamedPatchAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"secrets"}, verbs: []string{"patch"}},
	}}
)

// tokenSecretMinting describes how rules let a subject mint ServiceAccount tokens through
// Secrets, or returns nil. Reading back through get, list, watch or patch limited by
// resourceNames does not count after a create of any name: the names are those of Secrets that
// already exist, whose type cannot change; deleting them does, as the subject may then create
// them again. Create limited by resourceNames counts with patch on those names: server-side
// apply creates the Secret, and the next apply's response holds its token.
func tokenSecretMinting(rules []rbacv1.PolicyRule, namespaced bool) []string {
	why := "a kubernetes.io/service-account-token Secret gets a token of any ServiceAccount of the namespace"
	if found := together(rules, namespaced, secretCreateAccess, secretReadBackAccess, why); found != nil {
		return found
	}
	if found := together(rules, namespaced, secretCreateAccess, secretNamedDeleteAccess, why); found != nil {
		return found
	}
	var applied []rbacv1.PolicyRule
	for _, r := range rules {
		if len(r.ResourceNames) > 0 && !slices.Contains(r.ResourceNames, "") {
			applied = append(applied, r)
		}
	}
	var created []string
	for i := range applied {
		// Only through server-side apply: the rule is limited by resourceNames.
		if d := secretNamedCreateAccess.accesses[0].grantedBy(rules, &applied[i], true); d != "" && !slices.Contains(created, d) {
			created = append(created, d)
		}
	}
	if len(created) == 0 {
		return nil
	}
	return []string{few(created, "; ") + ", with " + few(secretNamedPatchAccess.find(rules, namespaced), "; ") + " (" + why + ")"}
}

// platformConfigMaps are ConfigMaps of kube-system whose writer takes over the cluster: EKS's
// aws-auth maps IAM roles and users to Kubernetes users and groups, system:masters among them
// (cluster-admin past RBAC), and coredns (kube-dns on GKE) is the DNS configuration every pod's
// lookups are answered by.
var platformConfigMaps = []string{"aws-auth", "coredns", "kube-dns"}

var (
	configMapWriteAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"configmaps"}, verbs: []string{"update", "patch"}},
	}}
	configMapCreateAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"configmaps"}, verbs: []string{"create"}},
	}}
	configMapDeleteAccess = riskyAccess{named: true, accesses: []access{
		{groups: coreGroup, resources: []string{"configmaps"}, verbs: deleteVerbs},
	}}
)

// platformConfigMapWrite describes how rules let a subject rewrite kube-system's platform
// ConfigMaps (platformConfigMaps), or returns nil: update or patch on them (a rule limited by
// resourceNames counts when it names one of them), or create with delete (delete one, create it
// again). A Role grants it in kube-system alone, a ClusterRole wherever it is bound cluster-wide
// or in kube-system. namespace is a Role's.
func platformConfigMapWrite(rules []rbacv1.PolicyRule, namespaced bool, namespace string) []string {
	if namespaced && namespace != "kube-system" {
		return nil
	}
	var platform []rbacv1.PolicyRule
	for _, r := range rules {
		if len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, "") ||
			slices.ContainsFunc(r.ResourceNames, func(n string) bool { return slices.Contains(platformConfigMaps, n) }) {
			platform = append(platform, r)
		}
	}
	why := "kube-system's aws-auth maps IAM identities to users and groups, system:masters among them, on EKS; its coredns answers every pod's DNS"
	if !namespaced {
		why = "bound cluster-wide or in kube-system: " + why
	}
	var out []string
	for _, d := range configMapWriteAccess.find(platform, namespaced) {
		out = append(out, d+" ("+why+")")
	}
	if out != nil {
		return out // replacing them says nothing more
	}
	return together(platform, namespaced, configMapCreateAccess, configMapDeleteAccess, "deleted and created again: "+why)
}

// together describes how rules grant both a and b, which together give what why says, or
// returns nil when they grant either one alone.
func together(rules []rbacv1.PolicyRule, namespaced bool, a, b riskyAccess, why string) []string {
	first := a.find(rules, namespaced)
	second := b.find(rules, namespaced)
	if len(first) == 0 || len(second) == 0 {
		return nil
	}
	return []string{few(first, "; ") + ", with " + few(second, "; ") + " (" + why + ")"}
}

// Changing or deleting admission policies or their bindings switches off, or (mutating)
// rewrites, what they enforce: the operator's own keep ComplianceReports to the operator. A
// rule limited by resourceNames does not count here: it reaches only the policies it names,
// which is how a component keeps its own (the operator's role does so). Creating a
// ValidatingAdmissionPolicy only adds denials.
var admissionPolicyAccess = riskyAccess{accesses: []access{
	{groups: admissionGroup, resources: []string{"validatingadmissionpolicies", "validatingadmissionpolicybindings",
		"mutatingadmissionpolicies", "mutatingadmissionpolicybindings"}, verbs: []string{"update", "patch", "delete", "deletecollection"}, cluster: true},
}}

// Approving a CSR takes update on certificatesigningrequests/approval (the CSR's name) and, for
// the CertificateApproval admission plugin, approve on signers named as the CSR's signerName or
// its domain with /* (k8s.io/kubernetes pkg/certauthorization). kube-controller-manager signs
// with the cluster CA the CSRs of clusterSigners alone: approving another signer's CSRs (one's
// own, example.com/...) mints no credential for the cluster, and kubernetes.io/legacy-unknown
// cannot be requested through certificates.k8s.io/v1.
var (
	csrApprovalAccess = riskyAccess{named: true, accesses: []access{
		{groups: certificatesGroup, resources: []string{"certificatesigningrequests/approval"}, verbs: []string{"update", "patch"}, cluster: true},
	}}
	signerApproveAccess = riskyAccess{named: true, accesses: []access{
		{groups: certificatesGroup, resources: []string{"signers"}, verbs: []string{"approve"}, cluster: true},
	}}
	clusterSigners = []string{"kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet",
		"kubernetes.io/kubelet-serving", "kubernetes.io/*"}
)

// csrApproval describes how rules let a subject approve CSRs that kube-controller-manager signs
// with the cluster CA (a client certificate for any user, group or node), or returns nil.
func csrApproval(rules []rbacv1.PolicyRule, namespaced bool) []string {
	var clusterSigned []rbacv1.PolicyRule
	for _, r := range rules {
		if len(r.ResourceNames) == 0 || slices.ContainsFunc(r.ResourceNames, func(n string) bool { return slices.Contains(clusterSigners, n) }) {
			clusterSigned = append(clusterSigned, r)
		}
	}
	approve := signerApproveAccess.find(clusterSigned, namespaced)
	if len(approve) == 0 {
		return nil
	}
	approval := csrApprovalAccess.find(rules, namespaced)
	if len(approval) == 0 {
		return nil
	}
	return []string{few(approval, "; ") + ", with " + few(approve, "; ") +
		" (an approved CSR of a kubernetes.io signer is signed by the cluster CA: a certificate for any user or node)"}
}

// A MutatingAdmissionPolicy (on by default since 1.36) and a binding that names it rewrite every
// object they match, as a mutating webhook does: whoever may create both adds a subject to every
// RoleBinding an admin creates (the RBAC escalation check judges the rewritten binding against
// the admin), or a container to every pod. A policy without a binding acts on nothing.
var (
	mutatingPolicyCreateAccess = riskyAccess{accesses: []access{
		{groups: admissionGroup, resources: []string{"mutatingadmissionpolicies"}, verbs: []string{"create"}, cluster: true},
	}}
	mutatingBindingCreateAccess = riskyAccess{accesses: []access{
		{groups: admissionGroup, resources: []string{"mutatingadmissionpolicybindings"}, verbs: []string{"create"}, cluster: true},
	}}
)

// mutatingPolicyCreation describes how rules let a subject put a MutatingAdmissionPolicy of its
// own in force, or returns nil.
func mutatingPolicyCreation(rules []rbacv1.PolicyRule, namespaced bool) []string {
	return together(rules, namespaced, mutatingPolicyCreateAccess, mutatingBindingCreateAccess,
		"a MutatingAdmissionPolicy of one's own, bound, rewrites every object it matches")
}

// An APIService is named version.group, so create alone cannot take an existing group version;
// with delete it can: delete it, then create it again naming a Service of one's own.
var (
	apiServiceCreateAccess = riskyAccess{named: true, accesses: []access{
		{groups: apiRegistrationGroup, resources: []string{"apiservices"}, verbs: []string{"create"}, cluster: true},
	}}
	apiServiceDeleteAccess = riskyAccess{named: true, accesses: []access{
		{groups: apiRegistrationGroup, resources: []string{"apiservices"}, verbs: deleteVerbs, cluster: true},
	}}
)

// apiServiceReplacement describes how rules let a subject replace an existing APIService, or
// returns nil.
func apiServiceReplacement(rules []rbacv1.PolicyRule, namespaced bool) []string {
	return together(rules, namespaced, apiServiceCreateAccess, apiServiceDeleteAccess,
		"an APIService deleted and created again proxies its group version to a Service of one's own")
}

// rolePerms is the permission summary of one role: what each RBAC check looks for, described.
type rolePerms struct {
	// aggregated is true for a ClusterRole with an aggregationRule: the aggregation controller
	// fills in its rules, so manifests do not show them.
	aggregated bool
	// clusterAdmin is true when a rule grants every verb on every resource of every group,
	// with no resourceNames.
	clusterAdmin bool

	wildcards  []string
	secretRead []string
	exec       []string
	// nodeExec is how the rules reach pods through the kubelet's API (nodeExecAccess): only
	// where a ClusterRoleBinding grants them.
	nodeExec []string
	// podDebug is how the rules add ephemeral containers to running pods (podDebugAccess).
	podDebug       []string
	escalation     []string
	workloadCreate []string
	controlPlane   []string
	// kubeSystemWrite is how the rules write kube-system's platform ConfigMaps
	// (platformConfigMapWrite): control-plane takeover, but granted only in kube-system, so a
	// RoleBinding elsewhere gives none of it.
	kubeSystemWrite []string
	logTampering    []string
	networkControl  []string
	// reportWrite is how the rules let a subject create or change Trivy Operator's reports of
	// a namespace, by report kind, or grant itself that (helpers-supply-chain.go:
	// reportWriteAccess, selfGrantAccess).
	reportWrite map[string][]string
	// bindNamed are the roles the rules let a subject bind by name.
	bindNamed []namedBind
}

func summarise(rules []rbacv1.PolicyRule, namespaced bool) *rolePerms {
	return summariseIn(rules, namespaced, "")
}

// summariseIn is summarise for the rules of a Role of namespace (a ClusterRole's: "").
func summariseIn(rules []rbacv1.PolicyRule, namespaced bool, namespace string) *rolePerms {
	p := &rolePerms{
		secretRead:     secretReadAccess.find(rules, namespaced),
		exec:           execAccess.find(rules, namespaced),
		nodeExec:       nodeExecAccess.find(rules, namespaced),
		podDebug:       podDebugAccess.find(rules, namespaced),
		escalation:     escalationAccess.find(rules, namespaced),
		workloadCreate: workloadCreateAccess.find(rules, namespaced),
		controlPlane: slices.Concat(controlPlaneAccess.find(rules, namespaced), nodeClientAccess.find(rules, namespaced),
			tokenSecretMinting(rules, namespaced), apiServiceReplacement(rules, namespaced),
			admissionPolicyAccess.find(rules, namespaced), mutatingPolicyCreation(rules, namespaced), csrApproval(rules, namespaced)),
		kubeSystemWrite: platformConfigMapWrite(rules, namespaced, namespace),
		logTampering:    logTamperingAccess.find(rules, namespaced),
		networkControl:  networkControlAccess.find(rules, namespaced),
	}
	p.bindNamed = namedBinds(rules)
	var selfGrant []string
	for _, d := range slices.Concat(selfGrantAccess.find(rules, namespaced), selfEscalateAccess.find(rules, namespaced)) {
		selfGrant = append(selfGrant, d+", with which they may grant themselves the access")
	}
	for kind, a := range reportWriteAccess {
		if found := append(a.find(rules, namespaced), selfGrant...); len(found) > 0 {
			if p.reportWrite == nil {
				p.reportWrite = map[string][]string{}
			}
			p.reportWrite[kind] = found
		}
	}
	for _, r := range rules {
		if slices.Contains(r.Verbs, rbacv1.VerbAll) && slices.Contains(r.Resources, rbacv1.ResourceAll) &&
			slices.Contains(r.APIGroups, rbacv1.APIGroupAll) && len(r.ResourceNames) == 0 {
			p.clusterAdmin = true
		}
		if len(r.Resources) == 0 {
			// A nonResourceURLs rule: "*" is every URL outside the API (/logs, /debug/pprof,
			// ...), and so is a prefix every path starts with ("/*"); another path ending in
			// "*" names a prefix and is not reported.
			if len(r.NonResourceURLs) > 0 && (slices.Contains(r.Verbs, rbacv1.VerbAll) || slices.ContainsFunc(r.NonResourceURLs, everyURL)) {
				d := strings.Join(r.Verbs, ", ") + " on nonResourceURLs " + strings.Join(r.NonResourceURLs, ", ")
				if !slices.Contains(p.wildcards, d) {
					p.wildcards = append(p.wildcards, d)
				}
			}
			continue
		}
		wildResource := slices.ContainsFunc(r.Resources, func(s string) bool {
			return s == rbacv1.ResourceAll || strings.HasPrefix(s, "*/")
		})
		// apiGroups "*" with named resources grants them in every API group, those a CRD adds
		// tomorrow too (CIS 5.1.3 counts a "*" in apiGroups, resources or verbs).
		wildGroup := slices.Contains(r.APIGroups, rbacv1.APIGroupAll)
		if slices.Contains(r.Verbs, rbacv1.VerbAll) || wildResource || wildGroup {
			d := strings.Join(r.Verbs, ", ") + " on " + strings.Join(r.Resources, ", ")
			if wildGroup && !wildResource && !slices.Contains(r.Verbs, rbacv1.VerbAll) {
				d += ` in every API group (apiGroups "*")`
			}
			if !slices.Contains(p.wildcards, d) {
				p.wildcards = append(p.wildcards, d)
			}
		}
	}
	return p
}

// everyURL reports whether a rule's nonResourceURL matches every URL: "*", or a prefix (a URL
// ending in "*", matched without its trailing "*"s by NonResourceURLMatches in k8s.io/kubernetes
// pkg/apis/rbac/v1) that is empty or "/".
func everyURL(u string) bool {
	prefix := strings.TrimRight(u, "*")
	return u == rbacv1.NonResourceAll || (prefix != u && (prefix == "" || prefix == "/"))
}

// rolePermsOf is the permission summary of a Role or ClusterRole object, computed once per
// evaluation; nil for any other object.
func rolePermsOf(inv *engine.Inventory, o *engine.Object) *rolePerms {
	return inv.Memo(o, "rbac-permissions", func() any {
		switch r := o.Obj.(type) {
		case *rbacv1.Role:
			return summariseIn(r.Rules, true, o.Namespace)
		case *rbacv1.ClusterRole:
			p := summarise(r.Rules, false)
			p.aggregated = r.AggregationRule != nil
			return p
		}
		return (*rolePerms)(nil)
	}).(*rolePerms)
}

// isBuiltinRoleName reports whether Kubernetes creates a role of that kind, namespace and name
// in every cluster: one its bootstrap policy has. A system: name alone does not say so (add-ons
// and tenants name roles so too).
func isBuiltinRoleName(kind, namespace, name string) bool {
	if kind == "ClusterRole" {
		namespace = ""
	}
	return isKubernetesRole(kind, namespace, name)
}

// isBuiltinRole reports whether a Role or ClusterRole object is one of Kubernetes' own: one
// Kubernetes 1.37's bootstrap policy creates (that kind, namespace and name), or one with a
// system: name and Kubernetes' kubernetes.io/bootstrapping label (a role an older release
// created stays in the cluster, labelled so; but so may anyone who creates a role name and label
// it, and judgeRole says NotAssessed rather than NotApplicable for what such a role's rules
// would fail). A system: name alone does not make a role
// Kubernetes' own: kubeadm and add-ons name their ClusterRoles so (system:coredns,
// system:metrics-server), and those are judged. A Role outside kube-system and kube-public never
// is, whatever its name or labels: a namespace admin may create Roles in their namespace and
// label them as they like.
func isBuiltinRole(o *engine.Object) bool {
	if o.Kind == "Role" && o.Namespace != "kube-system" && o.Namespace != "kube-public" {
		return false
	}
	if isKubernetesRole(o.Kind, o.Namespace, o.Name) {
		return true
	}
	return strings.HasPrefix(o.Name, systemPrefix) && o.Labels()[bootstrappingLabel] == bootstrappingValue
}

// judgeRole reports a role-level RBAC check: for built-in roles NotApplicable, or a verdict on
// the rules added to them (addedPerms), NotAssessed for
// aggregated ClusterRoles whose rules the input does not show, else Fail with what find
// returns (prefixed by what) or Pass.
//
// A role that is Kubernetes' own by its system: name and kubernetes.io/bootstrapping label alone
// (no supported release's bootstrap policy has it) is judged on its rules, and what would fail is
// NotAssessed: it may be a role an older release left, or one whose author labelled it so.
func judgeRole(ctx *engine.Context, o *engine.Object, what string, find func(p *rolePerms) []string) {
	p := rolePermsOf(ctx.Inventory, o)
	builtin := isBuiltinRole(o)
	labelledOnly := builtin && !isKubernetesRole(o.Kind, o.Namespace, o.Name)
	switch {
	case p == nil:
		ctx.NotApplicable("", "not a Role or ClusterRole")
		return
	case builtin && !labelledOnly:
		// Kubernetes' own rules are not judged; rules someone added to its role are (a rule
		// on system:basic-user, which every authenticated user holds, reaches everyone), and so
		// are all its rules once a label the bootstrap policy does not give it aggregates them
		// into another role.
		if into := aggregatedByAddedLabel(o); into != "" {
			if known := cmp.Or(builtinPerms()[o.Kind+"/"+o.Name], bootstrapPerms(o.Kind, "", o.Name)); known != nil {
				p = unionPerms(known, p)
			}
			what = fmt.Sprintf("%s, %s", what, into)
			break
		}
		if p = addedPerms(ctx.Inventory, o); p == nil {
			ctx.NotApplicable("", "built-in Kubernetes role")
			return
		}
		what = fmt.Sprintf("%s, in rules added to Kubernetes' own %s %q", what, o.Kind, o.Name)
	case p.aggregated && !ctx.Inventory.Complete:
		// What Kubernetes' own ClusterRoles its selectors match grant is granted in every
		// cluster; the input's sources are judged themselves; the cluster may add more.
		if cr := aggregatedClusterRole(o); cr != nil {
			if found := find(withBootstrapAggregated(&rolePerms{}, aggregationSelectors(cr.AggregationRule))); len(found) > 0 {
				ctx.Fail("", "%s: %s", what, few(found, "; "))
				return
			}
		}
		ctx.NotAssessed("", "aggregated ClusterRole: its rules are filled in by the aggregation controller")
		return
	}
	found := find(p)
	switch {
	case len(found) > 0 && labelledOnly:
		ctx.NotAssessed("", fmt.Sprintf("%s: %s, unless Kubernetes wrote these rules: %s %q has a system: name and the kubernetes.io/bootstrapping label, "+
			"which anyone who may create it can give it, and no release from 1.8 to 1.37 creates it (an older release may have left it)",
			what, few(found, "; "), o.Kind, o.Name))
	case len(found) > 0:
		ctx.Fail("", "%s: %s", what, few(found, "; "))
	default:
		ctx.Pass("")
	}
}

// aggregatedByAddedLabel says into which of the built-in admin, edit and view a ClusterRole of
// Kubernetes' bootstrap policy is aggregated by a label the policy does not give it (the API
// server's reconciliation keeps labels it did not set): `aggregated into ClusterRole "view" by
// label rbac.authorization.k8s.io/aggregate-to-view`; "" when none. The aggregation controller
// copies all its rules, the policy's among them, into that role. (A role of the input's own that
// selects it by another label is not looked for here: the role checks read no other role.)
func aggregatedByAddedLabel(o *engine.Object) string {
	if o.Kind != "ClusterRole" {
		return ""
	}
	own := bootstrapObjects()[policyKey("ClusterRole", "", o.Name)]
	if own.AggregationRule != nil || aggregatedClusterRole(o) != nil {
		return ""
	}
	for _, into := range []struct{ role, label string }{{"view", aggregateToView}, {"edit", aggregateToEdit}, {"admin", aggregateToAdmin}} {
		if o.Labels()[into.label] == "true" && own.Metadata.Labels[into.label] != "true" {
			return fmt.Sprintf("aggregated into ClusterRole %q by label %s", into.role, into.label)
		}
	}
	return ""
}

// Built-in roles, with their rules as of Kubernetes 1.37 (plugin/pkg/auth/authorizer/rbac/
// bootstrappolicy). Bindings to them are judged with these rules when the role itself is not
// in the input. view, edit and admin are abridged to the resources the checks look at.
var (
	viewRules = []rbacv1.PolicyRule{
		{APIGroups: coreGroup, Resources: []string{"configmaps", "endpoints", "persistentvolumeclaims", "pods", "pods/log",
			"replicationcontrollers", "serviceaccounts", "services", "namespaces", "events", "limitranges", "resourcequotas"}, Verbs: readVerbs},
		{APIGroups: []string{"apps"}, Resources: []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, Verbs: readVerbs},
		{APIGroups: batchGroup, Resources: []string{"cronjobs", "jobs"}, Verbs: readVerbs},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "networkpolicies"}, Verbs: readVerbs},
	}
	editRules = append(slices.Clone(viewRules),
		rbacv1.PolicyRule{APIGroups: coreGroup, Resources: []string{"pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"}, Verbs: readVerbs},
		rbacv1.PolicyRule{APIGroups: coreGroup, Resources: []string{"serviceaccounts"}, Verbs: []string{"impersonate"}},
		rbacv1.PolicyRule{APIGroups: coreGroup, Resources: []string{"pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"}, Verbs: writeVerbs},
		rbacv1.PolicyRule{APIGroups: coreGroup, Resources: []string{"configmaps", "persistentvolumeclaims", "replicationcontrollers", "secrets", "serviceaccounts", "services"}, Verbs: writeVerbs},
		rbacv1.PolicyRule{APIGroups: coreGroup, Resources: []string{"serviceaccounts/token"}, Verbs: []string{"create"}},
		rbacv1.PolicyRule{APIGroups: eventsGroups, Resources: []string{"events"}, Verbs: writeVerbs},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, Verbs: writeVerbs},
		rbacv1.PolicyRule{APIGroups: batchGroup, Resources: []string{"cronjobs", "jobs"}, Verbs: writeVerbs},
		rbacv1.PolicyRule{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "networkpolicies"}, Verbs: writeVerbs},
	)
	adminRules = append(slices.Clone(editRules),
		rbacv1.PolicyRule{APIGroups: rbacGroup, Resources: []string{"rolebindings", "roles"}, Verbs: append(slices.Clone(writeVerbs), readVerbs...)},
	)
)

// builtinPerms are the permission summaries of the built-in roles bindings commonly refer to,
// keyed by kind/name: admin, edit and view, which the bootstrap policy aggregates, among them.
// Bindings to the other built-in roles are judged with the bootstrap policy's rules
// (bootstrapPerms). Made when first read, not at start-up: summarising the rules took about
// 0.15 ms of each process's package initialisation, scans with no binding included.
var builtinPerms = sync.OnceValue(func() map[string]*rolePerms {
	return map[string]*rolePerms{
		"ClusterRole/cluster-admin": summarise([]rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
		}, false),
		"ClusterRole/admin": summarise(adminRules, false),
		"ClusterRole/edit":  summarise(editRules, false),
		"ClusterRole/view":  summarise(viewRules, false),
		"ClusterRole/system:auth-delegator": summarise([]rbacv1.PolicyRule{
			{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
			{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
		}, false),
		"Role/extension-apiserver-authentication-reader": summarise([]rbacv1.PolicyRule{
			{APIGroups: coreGroup, Resources: []string{"configmaps"}, ResourceNames: []string{"extension-apiserver-authentication"}, Verbs: readVerbs},
		}, true),
	}
})

// bindingOf returns a RoleBinding's or ClusterRoleBinding's roleRef and subjects.
func bindingOf(o *engine.Object) (rbacv1.RoleRef, []rbacv1.Subject, bool) {
	switch b := o.Obj.(type) {
	case *rbacv1.RoleBinding:
		return b.RoleRef, b.Subjects, true
	case *rbacv1.ClusterRoleBinding:
		return b.RoleRef, b.Subjects, true
	}
	return rbacv1.RoleRef{}, nil, false
}

// clusterRolesByName indexes ClusterRoles by name alone, once per evaluation, so that a
// ClusterRole whose manifest carries a stray metadata.namespace is still found.
func clusterRolesByName(inv *engine.Inventory) map[string]*engine.Object {
	return inv.Memo(nil, "rbac-clusterroles-by-name", func() any {
		m := map[string]*engine.Object{}
		for _, o := range inv.ListKind("ClusterRole") {
			if engine.IdentityGroup(o.APIVersion) != "" {
				continue // a custom resource's kind of the same name (see Inventory.Get)
			}
			if _, dup := m[o.Name]; !dup || o.Namespace == "" {
				m[o.Name] = acceptedRoleCopy(inv, o)
			}
		}
		return m
	}).(map[string]*engine.Object)
}

// acceptedRoleCopy is the copy of Role or ClusterRole o that the cluster holds: o, unless, in a
// scan, the API server rejects o (refusedRole) and takes an earlier copy of it (Inventory.Earlier),
// the last of which then stays: kubectl apply created the role from it and failed to update it
// with o. Until December 2026 a later copy with a rule the API server rejects (no verbs) decided
// what a binding to the role granted, and a binding to a role that reads Secrets passed. A
// rejected copy with no earlier one is read as before.
func acceptedRoleCopy(inv *engine.Inventory, o *engine.Object) *engine.Object {
	if o == nil || inv.Complete || refusedRole(o) == "" {
		return o
	}
	earlier := inv.Earlier(o)
	for i := len(earlier) - 1; i >= 0; i-- {
		if refusedRole(earlier[i]) == "" {
			return earlier[i]
		}
	}
	return o
}

// refusedRole says why the API server rejects a Role or ClusterRole manifest, or "": a name that
// is no path segment (ValidateRBACName), a rule without verbs, a namespaced rule for
// nonResourceURLs, a rule for both nonResourceURLs and resources, a resource rule without
// apiGroups or resources (ValidateRole, ValidateClusterRole and ValidatePolicyRule, k8s.io/kubernetes
// v1.37.2 pkg/apis/rbac/validation), or an aggregationRule without clusterRoleSelectors.
func refusedRole(o *engine.Object) string {
	var rules []rbacv1.PolicyRule
	namespaced := true
	switch r := o.Obj.(type) {
	case *rbacv1.Role:
		rules = r.Rules
	case *rbacv1.ClusterRole:
		rules, namespaced = r.Rules, false
		if r.AggregationRule != nil && len(r.AggregationRule.ClusterRoleSelectors) == 0 {
			return "aggregationRule.clusterRoleSelectors: Required value"
		}
	default:
		return ""
	}
	if msgs := apipath.IsValidPathSegmentName(o.Name); len(msgs) > 0 {
		return "metadata.name: " + msgs[0]
	}
	for i, r := range rules {
		at := field.NewPath("rules").Index(i)
		switch {
		case len(r.Verbs) == 0:
			return field.Required(at.Child("verbs"), "verbs must contain at least one value").Error()
		case len(r.NonResourceURLs) > 0 && namespaced:
			return field.Invalid(at.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs").Error()
		case len(r.NonResourceURLs) > 0 && (len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0):
			return field.Invalid(at.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs").Error()
		case len(r.NonResourceURLs) > 0:
		case len(r.APIGroups) == 0:
			return field.Required(at.Child("apiGroups"), "resource rules must supply at least one api group").Error()
		case len(r.Resources) == 0:
			return field.Required(at.Child("resources"), "resource rules must supply at least one resource").Error()
		}
	}
	return ""
}

// boundRole is what a binding's roleRef resolves to.
type boundRole struct {
	// ref names the role: `ClusterRole "edit"`.
	ref string
	// obj is the role object, when it is in the input.
	obj *engine.Object
	// perms are its permissions, nil when they are not known.
	perms *rolePerms
	// builtin is true when Kubernetes creates a role of that name in every cluster.
	builtin bool
	// invalid says why the roleRef cannot refer to any role ("" when it can).
	invalid string
}

// invalidRoleRef says why a binding's roleRef cannot refer to any role (boundRole.invalid), or
// "" when it can, as ValidateRoleBinding and ValidateClusterRoleBinding (k8s.io/kubernetes
// v1.37.2 pkg/apis/rbac/validation) refuse the binding: a ClusterRoleBinding refers to
// ClusterRoles alone, any binding to a Role or a ClusterRole, in apiGroup
// rbac.authorization.k8s.io (which the v1 defaults fill in when it is left out), by a name that is
// a path segment (ValidateRBACName).
func invalidRoleRef(o *engine.Object, ref rbacv1.RoleRef) string {
	switch {
	case ref.Kind == "ClusterRole", ref.Kind == "Role" && o.Kind == "RoleBinding":
	case ref.Kind == "Role":
		return "a ClusterRoleBinding cannot refer to a Role"
	default:
		return fmt.Sprintf("roleRef kind %q is neither Role nor ClusterRole", ref.Kind)
	}
	at := field.NewPath("roleRef")
	switch {
	case ref.APIGroup != "" && ref.APIGroup != rbacv1.GroupName:
		return field.NotSupported(at.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}).Error()
	case ref.Name == "":
		return field.Required(at.Child("name"), "").Error()
	}
	if msgs := apipath.IsValidPathSegmentName(ref.Name); len(msgs) > 0 {
		return field.Invalid(at.Child("name"), ref.Name, msgs[0]).Error()
	}
	return ""
}

func resolveRoleRef(inv *engine.Inventory, o *engine.Object, ref rbacv1.RoleRef) boundRole {
	b := boundRole{ref: fmt.Sprintf("%s %q", ref.Kind, ref.Name)}
	if b.invalid = invalidRoleRef(o, ref); b.invalid != "" {
		return b
	}
	if ref.Kind == "ClusterRole" {
		b.obj = clusterRolesByName(inv)[ref.Name]
	} else {
		b.obj = acceptedRoleCopy(inv, inv.Get("Role", o.Namespace, ref.Name))
	}
	b.builtin = isBuiltinRoleName(ref.Kind, o.Namespace, ref.Name)
	var known *rolePerms
	if b.builtin {
		if known = builtinPerms()[ref.Kind+"/"+ref.Name]; known == nil {
			namespace := o.Namespace
			if ref.Kind == "ClusterRole" {
				namespace = ""
			}
			known = bootstrapPerms(ref.Kind, namespace, ref.Name)
		}
	}
	switch {
	case inv.Complete && b.obj != nil && known != nil && b.obj.Annotations()[rbacv1.AutoUpdateAnnotationKey] == "false" && aggregatedClusterRole(b.obj) == nil:
		// Annotated rbac.authorization.kubernetes.io/autoupdate "false", the role opted out of
		// reconciliation (k8s.io/component-helpers reconcile_role.go: Protected): the API server
		// puts back none of the rules someone took out, and the role grants what it holds. Only
		// the cluster's role says so: every cluster has its bootstrap roles, and a copy in a
		// scan's files is whatever their author wrote, which a team that may not update
		// ClusterRoles cannot apply while its bindings to the real role are applied. In a scan
		// the copy grants no less than Kubernetes' role (the case below).
		b.perms = rolePermsOf(inv, b.obj)
	case b.obj != nil && known != nil:
		// The API server reconciles its bootstrap roles at every start: it puts back every
		// rule they are missing and keeps the extra ones. A manifest that redefines cluster-admin
		// with harmless rules therefore grants nothing less than the real cluster-admin.
		b.perms = inv.Memo(b.obj, "rbac-permissions-bootstrap", func() any {
			return unionPerms(known, rolePermsOf(inv, b.obj))
		}).(*rolePerms)
	case b.obj != nil:
		b.perms = rolePermsOf(inv, b.obj)
	default:
		b.perms = known
	}
	if labels := aggregatedInto[ref.Name]; ref.Kind == "ClusterRole" && labels != nil && b.perms != nil && !inv.Complete {
		// In the cluster the aggregation controller has already filled these rules in.
		perms := b.perms
		b.perms = inv.Memo(b.obj, "rbac-aggregated-into-"+ref.Name, func() any {
			return withAggregated(inv, perms, func(o *engine.Object, roleLabels map[string]string) bool {
				_, self := aggregatedInto[o.Name]
				return !self && slices.ContainsFunc(labels, func(l string) bool { return roleLabels[l] == "true" })
			})
		}).(*rolePerms)
	}
	if cr := aggregatedClusterRole(b.obj); cr != nil && !b.builtin && !inv.Complete {
		// The aggregation controller replaces its rules with those of the ClusterRoles its
		// selectors match: the input's among them, others of the cluster maybe.
		b.perms = inv.Memo(b.obj, "rbac-aggregated-sources", func() any {
			selectors := aggregationSelectors(cr.AggregationRule)
			p := withAggregated(inv, &rolePerms{}, func(o *engine.Object, roleLabels map[string]string) bool {
				return o != b.obj && slices.ContainsFunc(selectors, func(sel labels.Selector) bool { return sel.Matches(labels.Set(roleLabels)) })
			})
			p = withBootstrapAggregated(p, selectors)
			p.aggregated = true
			return p
		}).(*rolePerms)
	}
	return b
}

// aggregatedClusterRole returns o as a ClusterRole with an aggregationRule, or nil.
func aggregatedClusterRole(o *engine.Object) *rbacv1.ClusterRole {
	if o == nil {
		return nil
	}
	if cr, ok := o.Obj.(*rbacv1.ClusterRole); ok && cr.AggregationRule != nil {
		return cr
	}
	return nil
}

// aggregationSelectors are an aggregationRule's ClusterRole selectors, as the aggregation
// controller reads them (one it cannot read matches nothing).
func aggregationSelectors(rule *rbacv1.AggregationRule) []labels.Selector {
	var out []labels.Selector
	for i := range rule.ClusterRoleSelectors {
		if sel, err := metav1.LabelSelectorAsSelector(&rule.ClusterRoleSelectors[i]); err == nil {
			out = append(out, sel)
		}
	}
	return out
}

// Labels (value "true") that have the aggregation controller add a ClusterRole's rules to the
// built-in admin, edit and view.
const (
	aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	aggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	aggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

// aggregatedInto are, for each built-in ClusterRole that Kubernetes aggregates, the labels of
// the ClusterRoles whose rules it holds: view is itself labelled aggregate-to-edit, and edit
// aggregate-to-admin, so a role aggregated into view reaches edit and admin too.
var aggregatedInto = map[string][]string{
	"admin": {aggregateToAdmin, aggregateToEdit, aggregateToView},
	"edit":  {aggregateToEdit, aggregateToView},
	"view":  {aggregateToView},
}

// withAggregated adds to the permissions of an aggregated ClusterRole those of the input's
// ClusterRoles aggregated into it (those match takes, by the role and the labels it has: a
// chart's aggregate-to-view role reaches everyone bound to view), each described with the role it
// comes from. Of a role of Kubernetes' bootstrap policy that match takes by the labels the policy
// gives it (system:aggregate-to-edit) only rules added to it count: the others are in
// builtinPerms, or withBootstrapAggregated adds them. One that matches only by a label the input
// gives it (cluster-admin labelled aggregate-to-view) counts whole, the policy's rules and the
// input's: the API server's reconciliation keeps the labels it did not set and puts back the
// policy's rules, and the aggregation controller copies them all. A role the policy does not have
// counts whole, whatever its name and labels: the aggregation controller copies its rules all the
// same, and a system: name with the kubernetes.io/bootstrapping label is what anyone who may
// create a ClusterRole can give it. A matching role that is aggregated itself leaves the result's
// rules unknown.
func withAggregated(inv *engine.Inventory, perms *rolePerms, match func(o *engine.Object, labels map[string]string) bool) *rolePerms {
	for _, o := range inv.ListKind("ClusterRole") {
		o = acceptedRoleCopy(inv, o)
		if !match(o, o.Labels()) {
			continue
		}
		src := rolePermsOf(inv, o)
		if isBuiltinRoleName(o.Kind, o.Namespace, o.Name) {
			if match(o, bootstrapObjects()[policyKey(o.Kind, "", o.Name)].Metadata.Labels) {
				src = addedPerms(inv, o)
			} else if known := cmp.Or(builtinPerms()[o.Kind+"/"+o.Name], bootstrapPerms(o.Kind, "", o.Name)); known != nil {
				src = unionPerms(known, src)
			}
		}
		if src == nil {
			continue
		}
		aggregated := perms.aggregated || src.aggregated
		perms = unionPerms(perms, aggregatedFrom(src, o.Name))
		perms.aggregated = aggregated
	}
	return perms
}

// aggregatedFrom is src with each grant described as aggregated from ClusterRole name.
func aggregatedFrom(src *rolePerms, name string) *rolePerms {
	from := func(ds []string) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = fmt.Sprintf("%s, aggregated from ClusterRole %q", d, name)
		}
		return out
	}
	var reportWrite map[string][]string
	for kind, ds := range src.reportWrite {
		if reportWrite == nil {
			reportWrite = map[string][]string{}
		}
		reportWrite[kind] = from(ds)
	}
	return &rolePerms{
		reportWrite:     reportWrite,
		bindNamed:       src.bindNamed,
		clusterAdmin:    src.clusterAdmin,
		wildcards:       from(src.wildcards),
		secretRead:      from(src.secretRead),
		exec:            from(src.exec),
		nodeExec:        from(src.nodeExec),
		podDebug:        from(src.podDebug),
		escalation:      from(src.escalation),
		workloadCreate:  from(src.workloadCreate),
		controlPlane:    from(src.controlPlane),
		kubeSystemWrite: from(src.kubeSystemWrite),
		logTampering:    from(src.logTampering),
		networkControl:  from(src.networkControl),
	}
}

// withBootstrapAggregated adds to the permissions of an aggregated ClusterRole those of the
// ClusterRoles of Kubernetes' bootstrap policy its selectors match, which every cluster has
// (system:aggregate-to-edit for aggregate-to-edit): the aggregation controller copies their
// rules whether or not the input holds them. A matched role that is aggregated itself (admin,
// edit, view) brings the rules of the bootstrap roles its own selectors match.
func withBootstrapAggregated(perms *rolePerms, selectors []labels.Selector) *rolePerms {
	seen := map[string]bool{}
	var visit func(selectors []labels.Selector)
	visit = func(selectors []labels.Selector) {
		for _, o := range bootstrapClusterRoles() {
			if seen[o.Metadata.Name] || !slices.ContainsFunc(selectors, func(sel labels.Selector) bool { return sel.Matches(labels.Set(o.Metadata.Labels)) }) {
				continue
			}
			seen[o.Metadata.Name] = true
			if o.AggregationRule != nil {
				visit(aggregationSelectors(o.AggregationRule))
				continue
			}
			if src := bootstrapPerms("ClusterRole", "", o.Metadata.Name); src != nil {
				aggregated := perms.aggregated
				perms = unionPerms(perms, aggregatedFrom(src, o.Metadata.Name))
				perms.aggregated = aggregated
			}
		}
	}
	visit(selectors)
	return perms
}

// unionPerms is the permission summary of a built-in role whose input object adds rules to the
// bootstrap ones: what either grants. Its rules are known, so it is not treated as aggregated.
func unionPerms(builtin, input *rolePerms) *rolePerms {
	if input == nil {
		return builtin
	}
	merge := func(a, b []string) []string {
		out := slices.Clone(a)
		for _, s := range b {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	var reportWrite map[string][]string
	for _, kind := range slices.Sorted(maps.Keys(reportWriteAccess)) {
		if ds := merge(builtin.reportWrite[kind], input.reportWrite[kind]); ds != nil {
			if reportWrite == nil {
				reportWrite = map[string][]string{}
			}
			reportWrite[kind] = ds
		}
	}
	return &rolePerms{
		reportWrite:     reportWrite,
		bindNamed:       slices.Concat(builtin.bindNamed, input.bindNamed),
		clusterAdmin:    builtin.clusterAdmin || input.clusterAdmin,
		wildcards:       merge(builtin.wildcards, input.wildcards),
		secretRead:      merge(builtin.secretRead, input.secretRead),
		exec:            merge(builtin.exec, input.exec),
		nodeExec:        merge(builtin.nodeExec, input.nodeExec),
		podDebug:        merge(builtin.podDebug, input.podDebug),
		escalation:      merge(builtin.escalation, input.escalation),
		workloadCreate:  merge(builtin.workloadCreate, input.workloadCreate),
		controlPlane:    merge(builtin.controlPlane, input.controlPlane),
		kubeSystemWrite: merge(builtin.kubeSystemWrite, input.kubeSystemWrite),
		logTampering:    merge(builtin.logTampering, input.logTampering),
		networkControl:  merge(builtin.networkControl, input.networkControl),
	}
}

// userBinding returns a binding's roleRef and the subjects binding checks judge; otherwise it
// records why they judge none (not a binding, or one of Kubernetes' own whose role has no rule
// added) and returns false. Of one of Kubernetes' own bindings with subjects added, only those
// added are judged with all the role grants; the policy's own subjects with the rules added to
// its role alone (policyGrantees).
func userBinding(ctx *engine.Context, o *engine.Object) (rbacv1.RoleRef, []rbacv1.Subject, bool) {
	ref, subjects, ok := bindingOf(o)
	if !ok {
		ctx.NotApplicable("", "not a RoleBinding or ClusterRoleBinding")
		return ref, nil, false
	}
	if why := refusedBinding(ctx.Inventory, o); why != "" {
		ctx.NotApplicable("", why+": the API server rejects the binding, which grants nothing (see rbac-dangling-binding)")
		return ref, nil, false
	}
	if isBuiltinBinding(o) {
		if granted, _ := policyGrantees(ctx.Inventory, o, ref, subjects); len(granted) == 0 {
			ctx.NotApplicable("", "built-in Kubernetes binding")
			return ref, nil, false
		}
	}
	return ref, addedSubjects(o, ref, subjects), true
}

// refusedBinding says why the API server rejects a binding, or "" when it does not: one of its
// subjects (rejectedSubject), its roleRef (invalidRoleRef) or, in a scan, its metadata
// (refusedMeta, with ValidateRBACName, a path segment: ValidateRoleBinding and
// ValidateClusterRoleBinding, k8s.io/kubernetes v1.37.2 pkg/apis/rbac/validation). A binding
// the operator reads exists.
func refusedBinding(inv *engine.Inventory, o *engine.Object) string {
	if why := rejectedSubject(o); why != "" {
		return why
	}
	if ref, _, ok := bindingOf(o); ok {
		if why := invalidRoleRef(o, ref); why != "" {
			return why
		}
	}
	if inv.Complete {
		return ""
	}
	return inv.Memo(o, "rbac-refused-binding-meta", func() any {
		switch b := o.Obj.(type) {
		case *rbacv1.RoleBinding:
			return refusedMeta(&b.ObjectMeta, true, apipath.ValidatePathSegmentName)
		case *rbacv1.ClusterRoleBinding:
			return refusedMeta(&b.ObjectMeta, false, apipath.ValidatePathSegmentName)
		}
		return ""
	}).(string)
}

// subjectKinds are the subject kinds the API server accepts in a binding.
var subjectKinds = []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}

// rejectedSubject says why the API server rejects a binding for one of its subjects, as its
// validation words it (k8s.io/kubernetes v1.37 pkg/apis/rbac/validation ValidateRoleBindingSubject,
// after the v1 defaults give a User or Group without apiGroup rbac.authorization.k8s.io), or ""
// when it accepts them all. A ServiceAccount name the API server would refuse is not looked for:
// a manifest written for envsubst names ${SA_NAME:-default}, which the checks judge as written.
// Such a binding is never created and grants nothing: whatever its role,
// nobody it names holds it (the authoriser matches a ServiceAccount subject of a
// ClusterRoleBinding without namespace to no request).
func rejectedSubject(o *engine.Object) string {
	_, subjects, _ := bindingOf(o)
	for i, s := range subjects {
		at := field.NewPath("subjects").Index(i)
		switch {
		case s.Name == "":
			return field.Required(at.Child("name"), "").Error()
		case !slices.Contains(subjectKinds, s.Kind):
			return field.NotSupported(at.Child("kind"), s.Kind, subjectKinds).Error()
		case s.Kind != rbacv1.ServiceAccountKind:
			if s.APIGroup != "" && s.APIGroup != rbacv1.GroupName {
				return field.NotSupported(at.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}).Error()
			}
		case s.APIGroup != "":
			return field.NotSupported(at.Child("apiGroup"), s.APIGroup, []string{""}).Error()
		case s.Namespace == "" && o.Kind == "ClusterRoleBinding":
			return field.Required(at.Child("namespace"), "").Error()
		}
	}
	return ""
}

// judgeSubjects judges a binding (userBinding's) by the subjects that pick describes, for
// people ("" for none): those it binds, its role as it is, and the subjects Kubernetes' bootstrap
// policy gives it, which hold the rules someone added to its role (policyGrantees). what ends
// each finding (", which reaches default ServiceAccounts").
func judgeSubjects(ctx *engine.Context, o *engine.Object, ref rbacv1.RoleRef, subjects []rbacv1.Subject, pick func(o *engine.Object, s rbacv1.Subject) string, what string) {
	found := func(subjects []rbacv1.Subject) string {
		var out []string
		for _, s := range subjects {
			if d := pick(o, s); d != "" {
				out = append(out, d)
			}
		}
		return few(out, ", ")
	}
	var msgs []string
	if f := found(subjects); f != "" {
		msgs = append(msgs, fmt.Sprintf("grants %s %q %s to %s%s", ref.Kind, ref.Name, bindingScope(o), f, what))
	}
	_, all, _ := bindingOf(o)
	granted, _ := policyGrantees(ctx.Inventory, o, ref, all)
	if f := found(granted); f != "" {
		msgs = append(msgs, fmt.Sprintf("grants %s %s to %s%s", addedRulesRef(ref), bindingScope(o), f, what))
	}
	judgeObject(ctx, strings.Join(msgs, "; "))
}

// addedRulesRef names the rules added to Kubernetes' own role: `rules added to Kubernetes' own
// ClusterRole "system:basic-user"`.
func addedRulesRef(ref rbacv1.RoleRef) string {
	return fmt.Sprintf("rules added to Kubernetes' own %s %q", ref.Kind, ref.Name)
}

// judgeBinding reports a binding-level RBAC check: it resolves the roleRef and asks decide
// for the message of a failure ("" to pass) when the role's permissions are known.
func judgeBinding(ctx *engine.Context, o *engine.Object, decide func(role boundRole, subjects []rbacv1.Subject) string) {
	ref, subjects, ok := userBinding(ctx, o)
	if !ok {
		return
	}
	_, all, _ := bindingOf(o)
	granted, added := policyGrantees(ctx.Inventory, o, ref, all)
	if len(subjects) == 0 && len(granted) == 0 {
		ctx.Pass("")
		return
	}
	role := resolveRoleRef(ctx.Inventory, o, ref)
	// The added subjects are judged with all the role grants, the policy's own with the rules
	// added to it.
	decideAll := func(role boundRole) string {
		var msgs []string
		if len(subjects) > 0 {
			if msg := decide(role, subjects); msg != "" {
				msgs = append(msgs, msg)
			}
		}
		if len(granted) > 0 {
			own := role
			own.ref, own.perms = addedRulesRef(ref), added
			if msg := decide(own, granted); msg != "" {
				msgs = append(msgs, msg)
			}
		}
		return strings.Join(msgs, "; ")
	}
	switch {
	case role.perms == nil && role.obj != nil:
		ctx.NotApplicable("", "roleRef does not refer to a Role or ClusterRole")
	case role.perms == nil && role.builtin && !ctx.Inventory.Complete:
		ctx.NotAssessed("", fmt.Sprintf("built-in %s is not in the scanned input: its permissions are not known", role.ref))
	case role.perms == nil && ctx.Inventory.Complete:
		ctx.NotApplicable("", fmt.Sprintf("%s does not exist: the binding grants nothing (see rbac-dangling-binding)", role.ref))
	case role.perms == nil:
		ctx.NotAssessed("", roleNotInInput(ctx.Inventory, o, ref, role.ref))
	case role.perms.aggregated && !ctx.Inventory.Complete:
		// What the input shows it aggregates is granted; the cluster may add more.
		if msg := decideAll(role); msg != "" {
			ctx.Fail("", "%s", msg)
			return
		}
		ctx.NotAssessed("", fmt.Sprintf("%s is aggregated: its rules are filled in by the aggregation controller", role.ref))
	case !ctx.Inventory.Complete && o.Kind == "RoleBinding" && ref.Kind == "ClusterRole" && role.obj != nil && !role.builtin:
		// What the files' ClusterRole grants is granted if it is applied; what it leaves out
		// may be granted all the same (clusterRoleInFiles).
		if msg := decideAll(role); msg != "" {
			ctx.Fail("", "%s", msg)
			return
		}
		ctx.NotAssessed("", fmt.Sprintf("%s %s", role.ref, clusterRoleInFiles))
	default:
		judgeObject(ctx, decideAll(role))
	}
}

// clusterRoleInFiles says why a scan does not pass a RoleBinding on a ClusterRole of its files
// that is not Kubernetes' own. Only cluster administrators create and update ClusterRoles
// (Kubernetes' admin and edit roles cannot, k8s.io/kubernetes v1.37.2
// plugin/pkg/auth/authorizer/rbac/bootstrappolicy), but a namespace admin may create a
// RoleBinding on any ClusterRole whose permissions it holds in its namespace (the API server's
// escalation check): a team that ships a trimmed copy of a cluster's ClusterRole beside its
// binding cannot apply the copy, and the binding grants the cluster's role. Until December 2026
// the copy decided the binding's verdict (a RoleBinding on the cluster's secret-reader passed
// rbac-bound-secret-read beside a copy that read ConfigMaps). A ClusterRoleBinding is written by
// those who may write the ClusterRole, and is judged on the files' role as before; Kubernetes'
// own roles are judged on at least Kubernetes' rules (resolveRoleRef).
// bindingInFilesNote is what the binding checks' descriptions say of clusterRoleInFiles.
const bindingInFilesNote = " In a scan, a RoleBinding on a ClusterRole of the files that is not Kubernetes' own fails what that role grants " +
	"and is otherwise NotAssessed: only cluster administrators create ClusterRoles, and the binding grants the cluster's role of that name."

const clusterRoleInFiles = "in the scanned input need not be the cluster's: only cluster administrators create ClusterRoles, and a namespace's RoleBinding grants the cluster's role of that name"

// bindingScope says where a binding grants its role: "cluster-wide" or `in namespace "x"`.
func bindingScope(o *engine.Object) string {
	if o.Kind == "ClusterRoleBinding" {
		return "cluster-wide"
	}
	return fmt.Sprintf("in namespace %q", o.Namespace)
}

// subjectNamespace is a subject's namespace; a ServiceAccount subject of a RoleBinding that
// leaves it out is read in the binding's namespace.
func subjectNamespace(o *engine.Object, s rbacv1.Subject) string {
	if s.Namespace == "" && s.Kind == rbacv1.ServiceAccountKind && o.Kind == "RoleBinding" {
		return o.Namespace
	}
	return s.Namespace
}

// describeSubject renders a subject: `User "alice"`, `ServiceAccount "ci/deployer"`.
func describeSubject(o *engine.Object, s rbacv1.Subject) string {
	if s.Kind == rbacv1.ServiceAccountKind {
		if ns := subjectNamespace(o, s); ns != "" {
			return fmt.Sprintf("%s %q", s.Kind, ns+"/"+s.Name)
		}
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name)
}

func describeSubjects(o *engine.Object, subjects []rbacv1.Subject) string {
	out := make([]string, len(subjects))
	for i, s := range subjects {
		out[i] = describeSubject(o, s)
	}
	return few(out, ", ")
}

// holdsEveryPermission reports whether a subject holds every permission whatever it is bound
// to: Group system:masters, which the API server's authoriser lets through before RBAC is asked
// (k8s.io/apiserver pkg/authorization/authorizerfactory privilegedGroupAuthorizer). Kubernetes
// binds cluster-admin to it and to nothing else; another system: user or group (system:nodes,
// system:bootstrappers, system:kube-proxy) gains what its binding grants.
func holdsEveryPermission(s rbacv1.Subject) bool {
	return s.Kind == rbacv1.GroupKind && s.Name == "system:masters"
}

// isSystemSubject reports whether a subject is the platform's own: a user or group whose name
// starts with "system:". ServiceAccounts are never system subjects: someone chose to bind them,
// as a ServiceAccount subject or as the user it authenticates as
// (system:serviceaccount:<namespace>:<name>). Neither are the groups that stand for everyone
// (every user, every anonymous request, every ServiceAccount of the cluster or of a
// namespace): granting to them grants to anyone.
func isSystemSubject(s rbacv1.Subject) bool {
	if s.Kind == rbacv1.ServiceAccountKind || !strings.HasPrefix(s.Name, systemPrefix) {
		return false
	}
	switch {
	case s.Name == "system:authenticated", s.Name == "system:unauthenticated", s.Name == "system:anonymous",
		s.Name == "system:serviceaccounts", strings.HasPrefix(s.Name, "system:serviceaccounts:"),
		strings.HasPrefix(s.Name, "system:serviceaccount:"):
		return false
	}
	return true
}

// roleNotInInput says, in a scan, that the role a binding refers to (what names it) is not in the
// input, or is there only in an API version the API server refuses (Object.Unserved, as the
// rbac.authorization.k8s.io/v1beta1 roles of older manifests are), which is none of the cluster's.
func roleNotInInput(inv *engine.Inventory, o *engine.Object, ref rbacv1.RoleRef, what string) string {
	ns := o.Namespace
	if ref.Kind == "ClusterRole" {
		ns = ""
	}
	for _, u := range inv.Unserved(ref.Kind) {
		if u.Name == ref.Name && u.Namespace == ns {
			return fmt.Sprintf("%s is in the scanned input only as %s, which the API server refuses (%s): the cluster's is not known", what, u.APIVersion, u.Unserved)
		}
	}
	return what + " is not in the scanned input"
}
