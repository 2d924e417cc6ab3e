package scan

import (
	"strings"
	"testing"
)

// rbacWant is the result scan must give one check on one object, and text its message must hold.
type rbacWant struct {
	object, check, result, message string
}

// rbacRole renders a ClusterRole (namespace "") or a Role with the given rules (YAML, indented
// as list items under rules:).
func rbacRole(namespace, name, rules string) string {
	if namespace == "" {
		return "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + name + "\nrules:\n" + rules
	}
	return "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: " + name + "\n  namespace: " + namespace + "\nrules:\n" + rules
}

// rbacBinding renders a ClusterRoleBinding (namespace "") or a RoleBinding to roleKind roleName
// with the given subjects (YAML, indented as list items under subjects:).
func rbacBinding(namespace, name, roleKind, roleName, subjects string) string {
	head := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: " + name + "\n"
	if namespace != "" {
		head = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: " + name + "\n  namespace: " + namespace + "\n"
	}
	return head + "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: " + roleKind + "\n  name: " + roleName + "\nsubjects:\n" + subjects
}

// TestRBACConformance scans roles and bindings whose verdicts the Kubernetes RBAC authoriser
// decides (k8s.io/kubernetes v1.37 plugin/pkg/auth/authorizer/rbac, pkg/apis/rbac/v1
// evaluation_helpers.go: VerbMatches, APIGroupMatches, ResourceMatches with "*" and
// "*/subresource" but no "resource/*", ResourceNameMatches) and the API server's own handling
// of what the rules reach, and checks each result a user reads.
func TestRBACConformance(t *testing.T) {
	tests := map[string]struct {
		docs []string
		want []rbacWant
	}{
		"*/exec in any API group is exec; pods/* is no wildcard to the authoriser and grants nothing": {
			docs: []string{
				rbacRole("", "star-exec", "- apiGroups: [\"*\"]\n  resources: [\"*/exec\"]\n  verbs: [create]\n"),
				rbacRole("", "pods-slash-star", "- apiGroups: [\"\"]\n  resources: [\"pods/*\"]\n  verbs: [create, get]\n"),
			},
			want: []rbacWant{
				{"ClusterRole/star-exec", "rbac-exec-attach-portforward", "Fail", "create on */exec"},
				{"ClusterRole/pods-slash-star", "rbac-exec-attach-portforward", "Pass", ""},
				{"ClusterRole/pods-slash-star", "rbac-wildcards", "Pass", ""},
			},
		},
		"get on pods/exec is exec over WebSockets where AuthorizePodWebsocketUpgradeCreatePermission is off (before 1.35)": {
			docs: []string{rbacRole("t1", "exec-get", "- apiGroups: [\"\"]\n  resources: [pods/exec]\n  verbs: [get]\n")},
			want: []rbacWant{{"Role/exec-get", "rbac-exec-attach-portforward", "Fail", "get on pods/exec"}},
		},
		"a resource in another API group, or a verb spelled in capitals, grants nothing": {
			docs: []string{rbacRole("", "other-group", "- apiGroups: [apps]\n  resources: [secrets]\n  verbs: [get, list]\n- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [GET, List]\n")},
			want: []rbacWant{{"ClusterRole/other-group", "rbac-secret-read", "Pass", ""}},
		},
		"secrets list limited by resourceNames reads only the named Secret; list alone reads them all": {
			docs: []string{
				rbacRole("t1", "named-list", "- apiGroups: [\"\"]\n  resources: [secrets]\n  resourceNames: [app]\n  verbs: [get, list, watch]\n"),
				rbacRole("t1", "list", "- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [list]\n"),
			},
			want: []rbacWant{
				{"Role/named-list", "rbac-secret-read", "Pass", ""},
				{"Role/list", "rbac-secret-read", "Fail", "list on secrets"},
			},
		},
		"nodes/proxy get is the kubelet's exec cluster-wide, and nothing through a RoleBinding": {
			docs: []string{
				rbacRole("", "node-proxy", "- apiGroups: [\"\"]\n  resources: [nodes/proxy]\n  verbs: [get]\n"),
				rbacBinding("", "node-proxy", "ClusterRole", "node-proxy", "- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: dave\n"),
				rbacBinding("t1", "node-proxy", "ClusterRole", "node-proxy", "- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: dave\n"),
			},
			want: []rbacWant{
				{"ClusterRole/node-proxy", "rbac-control-plane-takeover", "Fail", "get on nodes/proxy"},
				{"ClusterRoleBinding/node-proxy", "rbac-bound-exec", "Fail", "the kubelet's exec"},
				// Not a failure: nodes are cluster-scoped. Not a pass either: the cluster's
				// node-proxy, which the binding grants, need not be the files' copy.
				{"RoleBinding/node-proxy", "rbac-bound-exec", "NotAssessed", "need not be the cluster's"},
			},
		},
		"serviceaccounts/token, webhooks, PersistentVolumes and Namespace updates take over the control plane": {
			docs: []string{
				rbacRole("", "token", "- apiGroups: [\"\"]\n  resources: [\"*/token\"]\n  verbs: [create]\n"),
				rbacRole("", "webhooks", "- apiGroups: [admissionregistration.k8s.io]\n  resources: [mutatingwebhookconfigurations]\n  resourceNames: [istio-sidecar-injector]\n  verbs: [patch]\n"),
				rbacRole("", "pvs", "- apiGroups: [\"\"]\n  resources: [persistentvolumes]\n  verbs: [create]\n"),
				rbacRole("t1", "ns-labels", "- apiGroups: [\"\"]\n  resources: [namespaces]\n  verbs: [patch]\n"),
			},
			want: []rbacWant{
				{"ClusterRole/token", "rbac-control-plane-takeover", "Fail", "create on */token"},
				{"ClusterRole/webhooks", "rbac-control-plane-takeover", "Fail", "patch on mutatingwebhookconfigurations"},
				{"ClusterRole/pvs", "rbac-control-plane-takeover", "Fail", "create on persistentvolumes"},
				{"Role/ns-labels", "rbac-control-plane-takeover", "Fail", "patch on namespaces"},
			},
		},
		"CSR approval takes update on the approval subresource and approve on a kubernetes.io signer": {
			docs: []string{
				rbacRole("", "approver", "- apiGroups: [certificates.k8s.io]\n  resources: [certificatesigningrequests/approval]\n  verbs: [update]\n"+
					"- apiGroups: [certificates.k8s.io]\n  resources: [signers]\n  resourceNames: [kubernetes.io/kube-apiserver-client]\n  verbs: [approve]\n"),
				rbacRole("", "own-signer", "- apiGroups: [certificates.k8s.io]\n  resources: [certificatesigningrequests/approval]\n  verbs: [update]\n"+
					"- apiGroups: [certificates.k8s.io]\n  resources: [signers]\n  resourceNames: [example.com/*]\n  verbs: [approve]\n"),
			},
			want: []rbacWant{
				{"ClusterRole/approver", "rbac-control-plane-takeover", "Fail", "approve on signers"},
				{"ClusterRole/own-signer", "rbac-control-plane-takeover", "Pass", ""},
			},
		},
		"escalate, bind and impersonate are ways around RBAC; impersonating uids or extras alone is not": {
			docs: []string{
				rbacRole("t1", "binder", "- apiGroups: [rbac.authorization.k8s.io]\n  resources: [clusterroles]\n  resourceNames: [admin]\n  verbs: [bind]\n"),
				rbacRole("", "impersonator", "- apiGroups: [\"\"]\n  resources: [users]\n  verbs: [impersonate]\n"),
				rbacRole("", "uids", "- apiGroups: [authentication.k8s.io]\n  resources: [uids, userextras/scopes]\n  verbs: [impersonate]\n"),
			},
			want: []rbacWant{
				{"Role/binder", "rbac-privilege-escalation", "Fail", "bind on clusterroles"},
				{"ClusterRole/impersonator", "rbac-privilege-escalation", "Fail", "impersonate on users"},
				{"ClusterRole/uids", "rbac-privilege-escalation", "Pass", ""},
			},
		},
		"a ClusterRole labelled aggregate-to-view gives its exec to everyone bound to view": {
			docs: []string{
				"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: to-view\n  labels:\n    rbac.authorization.k8s.io/aggregate-to-view: \"true\"\n" +
					"rules:\n- apiGroups: [\"\"]\n  resources: [pods/exec]\n  verbs: [create]\n",
				rbacBinding("t1", "viewers", "ClusterRole", "view", "- kind: Group\n  apiGroup: rbac.authorization.k8s.io\n  name: auditors\n"),
			},
			want: []rbacWant{
				{"ClusterRole/to-view", "rbac-exec-attach-portforward", "Fail", "create on pods/exec"},
				{"RoleBinding/viewers", "rbac-bound-exec", "Fail", `aggregated from ClusterRole "to-view"`},
			},
		},
		"an aggregationRule that selects every ClusterRole is cluster-admin": {
			docs: []string{
				"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: everything\naggregationRule:\n  clusterRoleSelectors:\n  - {}\n",
				rbacBinding("", "everything", "ClusterRole", "everything", "- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: eve\n"),
			},
			want: []rbacWant{{"ClusterRoleBinding/everything", "rbac-cluster-admin-binding", "Fail", `User "eve"`}},
		},
		"update or patch on pods/status relabels pods: they join another Service's endpoints or take labels a NetworkPolicy admits": {
			docs: []string{
				rbacRole("t1", "pod-status", "- apiGroups: [\"\"]\n  resources: [pods/status]\n  verbs: [patch]\n"),
				rbacRole("t1", "pod-status-reader", "- apiGroups: [\"\"]\n  resources: [pods, pods/status]\n  verbs: [get, list, watch]\n"),
			},
			want: []rbacWant{
				{"Role/pod-status", "rbac-network-control", "Fail", "patch on pods/status"},
				{"Role/pod-status-reader", "rbac-network-control", "Pass", ""},
			},
		},
		"a binding the API server rejects for a subject grants nothing; a User without apiGroup is defaulted and judged": {
			docs: []string{
				rbacBinding("", "sa-no-namespace", "ClusterRole", "edit", "- kind: ServiceAccount\n  name: default\n"),
				rbacBinding("t1", "lowercase-kind", "ClusterRole", "edit", "- kind: serviceaccount\n  name: deployer\n"),
				rbacBinding("t1", "sa-api-group", "ClusterRole", "edit", "- kind: ServiceAccount\n  apiGroup: rbac.authorization.k8s.io\n  name: deployer\n"),
				rbacBinding("t1", "user-no-api-group", "ClusterRole", "edit", "- kind: User\n  name: carol\n"),
			},
			want: []rbacWant{
				{"ClusterRoleBinding/sa-no-namespace", "rbac-bound-secret-read", "NotApplicable", "subjects[0].namespace: Required value"},
				{"ClusterRoleBinding/sa-no-namespace", "rbac-bound-exec", "NotApplicable", "subjects[0].namespace: Required value"},
				{"ClusterRoleBinding/sa-no-namespace", "sa-default-bound", "NotApplicable", "subjects[0].namespace: Required value"},
				{"ClusterRoleBinding/sa-no-namespace", "rbac-dangling-binding", "Fail", "subjects[0].namespace: Required value"},
				{"RoleBinding/lowercase-kind", "rbac-bound-secret-read", "NotApplicable", `subjects[0].kind: Unsupported value: "serviceaccount"`},
				{"RoleBinding/lowercase-kind", "rbac-dangling-binding", "Fail", `subjects[0].kind: Unsupported value: "serviceaccount"`},
				{"RoleBinding/sa-api-group", "rbac-bound-exec", "NotApplicable", `subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io"`},
				{"RoleBinding/user-no-api-group", "rbac-bound-secret-read", "Fail", `User "carol"`},
				{"RoleBinding/user-no-api-group", "rbac-dangling-binding", "Pass", ""},
			},
		},
		"apiGroups \"*\" is a wildcard even with named resources: secrets in every API group, today's and a CRD's tomorrow (CIS 5.1.3)": {
			docs: []string{
				rbacRole("", "any-group-secrets", "- apiGroups: [\"*\"]\n  resources: [secrets]\n  verbs: [get]\n"),
				rbacRole("t1", "any-group-deployments", "- apiGroups: [\"*\"]\n  resources: [deployments]\n  verbs: [list]\n"),
				rbacRole("", "core-secrets", "- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [get]\n"),
			},
			want: []rbacWant{
				{"ClusterRole/any-group-secrets", "rbac-wildcards", "Fail", `get on secrets in every API group (apiGroups "*")`},
				{"Role/any-group-deployments", "rbac-wildcards", "Fail", `list on deployments in every API group (apiGroups "*")`},
				{"ClusterRole/core-secrets", "rbac-wildcards", "Pass", ""},
			},
		},
		"update or patch on pods/ephemeralcontainers adds a debug container to a running pod: exec by another name": {
			docs: []string{
				rbacRole("t1", "debugger", "- apiGroups: [\"\"]\n  resources: [pods/ephemeralcontainers]\n  verbs: [patch]\n"),
				rbacRole("t1", "debug-reader", "- apiGroups: [\"\"]\n  resources: [pods/ephemeralcontainers]\n  verbs: [get, list]\n"),
			},
			want: []rbacWant{
				{"Role/debugger", "rbac-exec-attach-portforward", "Fail", "patch on pods/ephemeralcontainers"},
				{"Role/debug-reader", "rbac-exec-attach-portforward", "Pass", ""},
			},
		},
		"writing kube-system's platform ConfigMaps (EKS aws-auth, CoreDNS) takes over the cluster; a tenant's own ConfigMaps or a named lock do not": {
			docs: []string{
				rbacRole("kube-system", "cm-writer", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [update, patch]\n"),
				rbacRole("kube-system", "aws-auth-editor", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  resourceNames: [aws-auth]\n  verbs: [patch]\n"),
				rbacRole("kube-system", "cm-replacer", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [create, delete]\n"),
				rbacRole("kube-system", "leader-lock", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  resourceNames: [my-controller-lock]\n  verbs: [get, update, patch]\n"),
				rbacRole("kube-system", "cm-reader", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list, watch]\n"),
				rbacRole("t1", "tenant-cm-writer", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [create, update, patch, delete]\n"),
				rbacRole("", "cluster-cm-writer", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [patch]\n"),
				rbacRole("", "cluster-aws-auth", "- apiGroups: [\"\"]\n  resources: [configmaps]\n  resourceNames: [aws-auth]\n  verbs: [update]\n"),
			},
			want: []rbacWant{
				{"Role/cm-writer", "rbac-control-plane-takeover", "Fail", "update, patch on configmaps"},
				{"Role/aws-auth-editor", "rbac-control-plane-takeover", "Fail", `patch on configmaps (resourceNames "aws-auth")`},
				{"Role/cm-replacer", "rbac-control-plane-takeover", "Fail", "create on configmaps, with delete on configmaps"},
				{"Role/leader-lock", "rbac-control-plane-takeover", "Pass", ""},
				{"Role/cm-reader", "rbac-control-plane-takeover", "Pass", ""},
				{"Role/tenant-cm-writer", "rbac-control-plane-takeover", "Pass", ""},
				{"ClusterRole/cluster-cm-writer", "rbac-control-plane-takeover", "Fail", "patch on configmaps"},
				{"ClusterRole/cluster-aws-auth", "rbac-control-plane-takeover", "Fail", `update on configmaps (resourceNames "aws-auth")`},
			},
		},
		"update or patch on nodes or nodes/status relabels nodes (nodes/status keeps only the spec): workloads pinned to a node label land on the subject's node": {
			docs: []string{
				rbacRole("", "node-labeller", "- apiGroups: [\"\"]\n  resources: [nodes]\n  verbs: [patch]\n"),
				rbacRole("", "node-status", "- apiGroups: [\"\"]\n  resources: [nodes/status]\n  resourceNames: [worker-1]\n  verbs: [update]\n"),
				rbacRole("", "node-reader", "- apiGroups: [\"\"]\n  resources: [nodes, nodes/status]\n  verbs: [get, list, watch]\n"),
				rbacRole("t1", "role-nodes", "- apiGroups: [\"\"]\n  resources: [nodes]\n  verbs: [patch]\n"),
			},
			want: []rbacWant{
				{"ClusterRole/node-labeller", "rbac-control-plane-takeover", "Fail", "patch on nodes"},
				{"ClusterRole/node-status", "rbac-control-plane-takeover", "Fail", `update on nodes/status (resourceNames "worker-1")`},
				{"ClusterRole/node-reader", "rbac-control-plane-takeover", "Pass", ""},
				{"Role/role-nodes", "rbac-control-plane-takeover", "Pass", ""},
			},
		},
		"a Role's write on its own namespace's status or finalize subresource relabels it (both keep metadata; pod-security-admission skips subresources)": {
			docs: []string{
				rbacRole("t1", "ns-status", "- apiGroups: [\"\"]\n  resources: [namespaces/status]\n  verbs: [patch]\n"),
				rbacRole("t1", "ns-finalize", "- apiGroups: [\"\"]\n  resources: [namespaces/finalize]\n  verbs: [update]\n"),
				rbacRole("t1", "ns-status-reader", "- apiGroups: [\"\"]\n  resources: [namespaces, namespaces/status]\n  verbs: [get, list, watch]\n"),
			},
			want: []rbacWant{
				{"Role/ns-status", "rbac-control-plane-takeover", "Fail", "patch on namespaces/status"},
				{"Role/ns-finalize", "rbac-control-plane-takeover", "Fail", "update on namespaces/finalize"},
				{"Role/ns-status-reader", "rbac-control-plane-takeover", "Pass", ""},
			},
		},
		"changing or deleting a ValidatingAdmissionPolicy binding switches a control off; creating policies and bindings only adds denials": {
			docs: []string{
				rbacRole("", "vap-binding-editor", "- apiGroups: [admissionregistration.k8s.io]\n  resources: [validatingadmissionpolicybindings]\n  verbs: [patch]\n"),
				rbacRole("", "vap-author", "- apiGroups: [admissionregistration.k8s.io]\n  resources: [validatingadmissionpolicies, validatingadmissionpolicybindings]\n  verbs: [get, list, create]\n"),
			},
			want: []rbacWant{
				{"ClusterRole/vap-binding-editor", "rbac-control-plane-takeover", "Fail", "patch on validatingadmissionpolicybindings"},
				{"ClusterRole/vap-author", "rbac-control-plane-takeover", "Pass", ""},
			},
		},
		"a ServiceAccount subject of a RoleBinding without a namespace is the binding's namespace's": {
			docs: []string{rbacBinding("t1", "sa", "ClusterRole", "edit", "- kind: ServiceAccount\n  name: deployer\n")},
			want: []rbacWant{{"RoleBinding/sa", "rbac-bound-secret-read", "Fail", `ServiceAccount "t1/deployer"`}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := scanSweepFile(t, "rbac.yaml", strings.Join(tc.docs, "---\n"))
			for _, w := range tc.want {
				fs := got[w.object][w.check]
				if len(fs) != 1 {
					t.Errorf("%s %s: %d results, want one %s", w.object, w.check, len(fs), w.result)
					continue
				}
				if string(fs[0].Result) != w.result || !strings.Contains(fs[0].Message, w.message) {
					t.Errorf("%s %s: %s %q, want %s with %q", w.object, w.check, fs[0].Result, fs[0].Message, w.result, w.message)
				}
			}
		})
	}
}
