package checks

import "testing"

// The trivy-checks conformance suite (trivy_conformance_test.go) for the checks in trivy-checks' checks/kubernetes access, network, resources and workloads directories.
//
// Three ids of these directories have no test the suite can read, so they are in none of the
// maps below (the suite holds only ids with cases): KSV01011 (system:authenticated bindings,
// rbac-system-groups), whose tests all give the check GKE data beside its input; KSV112 (all
// resources in a namespace, rbac-wildcards), which has neither examples nor tests; and KSV107
// (deprecated API versions, chg-deprecated-apis), whose two tests replace its table of versions
// with a mock.

// trivyOtherMapping: trivy-checks id -> the catalogue checks that judge the same thing.
var trivyOtherMapping = map[string][]string{
	// access
	"KSV0123": {"rbac-system-groups"},
	"KSV042":  {"rbac-log-tampering"},
	"KSV043":  {"rbac-privilege-escalation"},
	"KSV044":  {"rbac-wildcards"},
	"KSV045":  {"rbac-wildcards"},
	"KSV046":  {"rbac-wildcards"},
	"KSV047":  {"rbac-control-plane-takeover"},
	"KSV048":  {"rbac-workload-create"},
	"KSV050":  {"rbac-privilege-escalation"},
	"KSV051":  {"rbac-privilege-escalation"},
	"KSV052":  {"rbac-privilege-escalation"},
	"KSV053":  {"rbac-exec-attach-portforward"},
	"KSV054":  {"rbac-exec-attach-portforward"},
	"KSV055":  {"rbac-privilege-escalation"},
	"KSV111":  {"rbac-cluster-admin-binding"},
	"KSV122":  {"rbac-system-groups"},
	// network
	"AVD-KSV-0108": {"net-service-exposure"},
	"KSV056":       {"rbac-network-control"},
	"KSV119":       {"wl-dangerous-caps"},
	// resources
	"KSV015": {"avl-resource-requests"},
	"KSV016": {"avl-resource-requests"},
	"KSV018": {"avl-memory-limit"},
	"KSV041": {"rbac-secret-read"},
	"KSV113": {"rbac-secret-read"},
	"KSV114": {"rbac-control-plane-takeover"},
	"KSV115": {"rbac-control-plane-takeover"},
	// workloads
	"KSV013": {"img-mutable-tag"},
	"KSV110": {"chg-system-namespaces"},
}

// apiserverFlag, etcdFlag, controllerManagerFlag and nodeSetting are the reasons for the KCV
// checks, which judge control-plane and node configuration that no Kubernetes object the
// catalogue reads shows (a managed control plane shows none at all).
func apiserverFlag(flag string) string {
	return "judges the kube-apiserver container's " + flag + " in its static pod manifest (command or args): control-plane configuration that no catalogue check reads"
}

func etcdFlag(flag string) string {
	return "judges the etcd container's " + flag + " in its static pod manifest: control-plane configuration that no catalogue check reads"
}

func controllerManagerFlag(flag string) string {
	return "judges the kube-controller-manager container's " + flag + " in its static pod manifest: control-plane configuration that no catalogue check reads"
}

func nodeSetting(what string) string {
	return "judges " + what + " on a node, from trivy's NodeInfo (a node collector's report, not a Kubernetes object): node configuration that no catalogue check reads"
}

// trivyOtherUnmapped: trivy-checks id -> why no catalogue check judges it.
var trivyOtherUnmapped = map[string]string{
	// access
	"KCV0001": apiserverFlag("--anonymous-auth"),
	"KCV0002": apiserverFlag("--token-auth-file"),
	"KCV0005": apiserverFlag("--kubelet-client-certificate and --kubelet-client-key"),
	"KCV0006": apiserverFlag("--kubelet-certificate-authority"),
	"KCV0007": apiserverFlag("--authorization-mode (not AlwaysAllow)"),
	"KCV0008": apiserverFlag("--authorization-mode (includes Node)"),
	"KCV0009": apiserverFlag("--authorization-mode (includes RBAC)"),
	"KCV0014": apiserverFlag("--enable-admission-plugins (ServiceAccount)"),
	"KCV0016": apiserverFlag("--enable-admission-plugins (NodeRestriction)"),
	"KCV0024": apiserverFlag("--service-account-lookup"),
	"KCV0026": apiserverFlag("--etcd-certfile and --etcd-keyfile"),
	"KCV0027": apiserverFlag("--tls-cert-file and --tls-private-key-file"),
	"KCV0038": controllerManagerFlag("--feature-gates RotateKubeletServerCertificate"),
	"KCV0042": etcdFlag("--cert-file and --key-file"),
	"KCV0043": etcdFlag("--client-cert-auth"),
	"KCV0045": etcdFlag("--peer-cert-file and --peer-key-file"),
	"KCV0046": etcdFlag("--peer-client-cert-auth"),
	"KCV0068": nodeSetting("the permissions of the Kubernetes PKI certificate files"),
	"KCV0075": nodeSetting("the permissions of the client certificate authorities file"),
	"KCV0076": nodeSetting("the ownership of the client certificate authorities file"),
	"KCV0080": nodeSetting("the kubelet's --authorization-mode"),
	"KCV0088": nodeSetting("the kubelet's --tls-cert-file"),
	"KCV0090": nodeSetting("the kubelet's --rotate-certificates"),
	"KCV0091": nodeSetting("the kubelet's RotateKubeletServerCertificate"),
	"KCV0135": controllerManagerFlag("--use-service-account-credentials"),
	// network
	"KCV0003": apiserverFlag("--enable-admission-plugins (DenyServiceExternalIPs)"),
	"KCV0017": apiserverFlag("--secure-port"),
	"KCV0039": controllerManagerFlag("--bind-address"),
	"KCV0071": nodeSetting("the permissions of kube-proxy's kubeconfig file"),
	"KCV0072": nodeSetting("the ownership of kube-proxy's kubeconfig file"),
	"KCV0082": nodeSetting("the kubelet's --read-only-port"),
	"KCV0084": nodeSetting("the kubelet's --make-iptables-util-chains"),
	"KCV0085": nodeSetting("the kubelet's --streaming-connection-idle-timeout"),
	"KCV0093": "judges ingress-nginx annotations (auth-url, auth-tls-match-cn, mirror-target, mirror-host) for characters that inject nginx configuration (CVE-2025-1097, CVE-2025-1098): a flaw of one ingress controller's versions, which no catalogue check judges (net-ingress-tls and net-ingress-host-hygiene read an Ingress's TLS and hosts, not controller annotations)",
	"KSV038":  "judges whether a NetworkPolicy names a pod or namespace selector; but spec.podSelector of networking.k8s.io/v1 is a struct, not a pointer: omitted, it is {} and selects every pod of the namespace, so a policy without one isolates the whole namespace; no catalogue check grades a policy's selectors (net-pod-policy-coverage and net-namespace-default-deny judge which pods the policies select)",
	// resources
	"KCV0010": apiserverFlag("--enable-admission-plugins (EventRateLimit)"),
	"KCV0011": apiserverFlag("--enable-admission-plugins (not AlwaysAdmit)"),
	"KCV0015": apiserverFlag("--disable-admission-plugins (not NamespaceLifecycle)"),
	"KCV0019": apiserverFlag("--audit-log-path") + "; aud-apiserver-audit-log judges the cluster's audit logging and says NotAssessed, since this version has no source for it",
	"KCV0020": apiserverFlag("--audit-log-maxage") + "; aud-apiserver-audit-log judges the cluster's audit logging and says NotAssessed, since this version has no source for it",
	"KCV0021": apiserverFlag("--audit-log-maxbackup") + "; aud-apiserver-audit-log judges the cluster's audit logging and says NotAssessed, since this version has no source for it",
	"KCV0022": apiserverFlag("--audit-log-maxsize") + "; aud-apiserver-audit-log judges the cluster's audit logging and says NotAssessed, since this version has no source for it",
	"KCV0029": apiserverFlag("--etcd-cafile") + " (TLS to etcd, not encryption at rest, which sec-etcd-encryption judges)",
	"KSV0012": apiserverFlag("--enable-admission-plugins (AlwaysPullImages)") + "; img-pull-policy judges each workload's imagePullPolicy instead",
	"KSV011":  "judges CPU limits; the catalogue requires CPU and memory requests (avl-resource-requests) and memory limits (avl-memory-limit) but deliberately not CPU limits (avl-memory-limit's description says why: CPU is compressible, and a CPU limit throttles a container even when its node has idle CPU)",
	"KSV039":  "judges each LimitRange for setting every one of type, max, min, default and defaultRequest; the catalogue judges the namespace (avl-namespace-quota: some ResourceQuota or LimitRange bounds the cpu or memory of every pod), not each object's completeness",
	"KSV040":  "judges each ResourceQuota for hard requests and limits of both cpu and memory; the catalogue judges the namespace (avl-namespace-quota: some ResourceQuota or LimitRange bounds the cpu or memory of every pod), not each object's completeness",
	"KSV049":  "judges any write to ConfigMaps, which application teams do routinely; the catalogue judges writing the platform's own ConfigMaps (aws-auth and coredns in kube-system: rbac-control-plane-takeover, to which KSV115 maps) and credentials kept in ConfigMaps (sec-configmap-credentials)",
	// workloads
	"KCV0018": apiserverFlag("--profiling"),
	"KCV0033": controllerManagerFlag("--terminated-pod-gc-threshold"),
	"KCV0079": nodeSetting("the kubelet's --anonymous-auth"),
	"KCV0086": nodeSetting("the kubelet's --hostname-override"),
	"KCV0087": nodeSetting("the kubelet's --event-qps"),
	"KSV102":  "judges whether a workload is Helm 2's Tiller (by name, label or image); Helm 3 (2019) removed Tiller and no catalogue check looks for one component by name",
	"KSV118":  "judges only that a pod or container securityContext is not empty ({}); the catalogue judges the settings in it, each in its own check (wl-run-as-root, wl-privilege-escalation, wl-drop-all-caps, wl-seccomp, wl-readonly-rootfs), and an empty securityContext fails those",
}

// Reasons that several cases share.
const (
	refusedSubjects    = "subjects is an object, not a list: the API server refuses the binding (rbac.authorization.k8s.io/v1 subjects is []Subject), so it never exists"
	misspeltKind       = "kind ClusterRolebinding is no kind of rbac.authorization.k8s.io/v1 (kinds are case-sensitive: the API server answers no matches for kind), so the binding never exists and no check judges it"
	podsLog            = "the API server serves pods/log for get alone (k8s v1.37.2 pkg/registry/core/pod/rest/log.go: LogREST is a getter), so delete or deletecollection on it deletes nothing and \"*\" only reads logs; rbac-log-tampering judges deleting Events, the record the API can delete"
	wildcard           = "rbac-wildcards fails a \"*\" in verbs, resources or apiGroups alike (each grants what a CRD or the API server adds later: CC6.3), where trivy's KSV044, KSV045 and KSV046 each want particular ones together; here: "
	nodeProxyRole      = "nodes are cluster-scoped and a Role's rules match only requests in its namespace, so a Role grants no nodes/proxy; rbac-control-plane-takeover fails the same rule in a ClusterRole"
	bindAlone          = "rbac-privilege-escalation judges bind by itself, since create on bindings may come from another role (a namespace admin holds it), where KSV051 and KSV052 want both in one role (here create1 is no verb and rolebindings1 no resource); resourceNames match literally and \"*\" is a valid role name, so the role grants bind on the role named \"*\": "
	crbToRole          = "a ClusterRoleBinding must refer to a ClusterRole: the API server refuses roleRef.kind Role in one (k8s v1.37.2 pkg/apis/rbac/validation), so the binding never exists; and its subject is a User named system:masters, not the group"
	impersonateNothing = "impersonate is a verb only on users, groups, serviceaccounts, uids and userextras (the impersonation filter), so the rule grants nothing on "
	oneRequest         = "avl-resource-requests wants both CPU and memory requests and fails the container for the one it lacks, which is the other trivy check's (KSV015 CPU, KSV016 memory); the container requests "
	secretUpdate       = "update does not read a Secret: its response is the object the client sent, and the API server does not create a Secret on update; rbac-secret-read judges reading (get, list, watch, and patch, delete and deletecollection, whose responses carry the stored Secret), KSV041 and KSV113 any write"
	webhookRole        = "webhook configurations are cluster-scoped and a Role's rules match only requests in its namespace, so this Role grants nothing on them; rbac-control-plane-takeover fails the same rules in a ClusterRole"
	awsAuthDefault     = "the Role is in namespace default, and EKS reads aws-auth in kube-system alone, so it reaches no identity mapping; rbac-control-plane-takeover fails writing aws-auth in a Role in kube-system or a ClusterRole"
)

// trivyOtherDisagreements: "ID key" of a case (as the test names it) -> why the catalogue's verdict
// differs from trivy-checks' by design.
var trivyOtherDisagreements = map[string]string{
	"KSV0123 access/masters_group_bind_test.rego test_cluster_role_binding_with_non_system_masters_group_binding":                                                                                               refusedSubjects,
	"KSV0123 access/masters_group_bind_test.rego test_role_binding_with_non_system_masters_binding":                                                                                                             refusedSubjects,
	"KSV122 access/anonymous_user_bind_test.rego test_cluster_role_binding_with_non_anonymous_user_binding":                                                                                                     refusedSubjects,
	"KSV122 access/anonymous_user_bind_test.rego test_role_binding_with_non_anonymous_user_binding":                                                                                                             refusedSubjects,
	"KSV0123 access/masters_group_bind_test.rego test_cluster_role_binding_with_system_masters_binding":                                                                                                         misspeltKind,
	"KSV122 access/anonymous_user_bind_test.rego test_cluster_role_binding_with_anonymous_user_binding":                                                                                                         misspeltKind,
	"KSV0123 access/masters_group_bind_test.rego test_role_binding_with_system_masters_group_binding (2)":                                                                                                       "the RoleBinding grants its Role to User system:anonymous, every unauthenticated request, so rbac-system-groups fails it; KSV0123 looks only for Group system:masters (here the Group is system:masters2, an ordinary group), and the anonymous user is KSV122's",
	"KSV042 access/delete_pod_logs_test.rego test_delete_podsLog_restricted_verb_all":                                                                                                                           podsLog,
	"KSV042 access/delete_pod_logs_test.rego test_delete_podsLog_restricted_verb_delete":                                                                                                                        podsLog,
	"KSV042 access/delete_pod_logs_test.rego test_delete_podsLog_restricted_verb_delete_collection":                                                                                                             podsLog,
	"KSV043 access/impersonate_privileged_groups_test.rego test_impersonate_privileged_groups":                                                                                                                  "a Role's rules match only requests in its namespace, and the impersonation filter authorises impersonate on users and groups with no namespace (k8s.io/apiserver v0.37 pkg/endpoints/filters/impersonation.go), so this Role grants nothing; rbac-privilege-escalation fails the same rule in a ClusterRole",
	"KSV044 access/any_any_test.rego test_any_any_role_no_resource":                                                                                                                                             wildcard + "verbs \"*\" on resource aaa in apiGroups \"*\"",
	"KSV044 access/any_any_test.rego test_any_any_role_no_resource_no_verbs":                                                                                                                                    wildcard + "update on resources \"*\" in apiGroups \"*\"",
	"KSV044 access/any_any_test.rego test_any_any_role_not_api_group":                                                                                                                                           wildcard + "verbs \"*\" on resources \"*\" of API group aaa",
	"KSV045 access/any_verb_test.rego test_any_verb_role_no_any_verb":                                                                                                                                           wildcard + "verb aaa on resources \"*\" in apiGroups \"*\"",
	"KSV045 access/any_verb_test.rego test_any_verb_role_no_specific_resource":                                                                                                                                  wildcard + "verbs \"*\" on resource aaa in apiGroups \"*\"",
	"KSV046 access/manage_all_resources_test.rego test_resource_resource_role_no_specific_verb":                                                                                                                 wildcard + "verb aaa on resource impersonate in apiGroups \"*\" (a CRD or aggregated API of any group may serve it)",
	"KSV047 access/privilege_escalation_from_node_proxy_test.rego test_privilege_escalation_from_node_proxy_create":                                                                                             nodeProxyRole,
	"KSV047 access/privilege_escalation_from_node_proxy_test.rego test_privilege_escalation_from_node_proxy_get":                                                                                                nodeProxyRole,
	"KSV048 access/allowing_to_update_a_malicious_pod_test.rego test_update_malicious_pod_deletecollection":                                                                                                     "deletecollection on cronjobs runs no code: rbac-workload-create judges creating or changing workloads, which runs code of one's choosing under the workload's identity (CC6.1, CC8.1); KSV048 counts deleting them too",
	"KSV050 access/manage_kubernetes_rbac_resources_test.rego test_manage_K8s_RBAC_resources_deletecollection (2)":                                                                                              impersonateNothing + "rolebindings",
	"KSV050 access/manage_kubernetes_rbac_resources_test.rego test_manage_K8s_RBAC_resources_deletecollection":                                                                                                  "deleting role bindings grants nobody anything (RBAC has no deny rules to remove): rbac-privilege-escalation judges ways around RBAC, bind, escalate, impersonate and creating or changing RBAC objects; KSV050 counts deleting them too",
	"KSV051 access/allowing_create_role_binding_and_associate_privileged_clusterrole_test.rego test_allowing_create_role_binding_and_associate_clusterrole_resource_not_role_binding":                           bindAlone + "bind on clusterroles",
	"KSV051 access/allowing_create_role_binding_and_associate_privileged_clusterrole_test.rego test_allowing_create_role_binding_and_associate_clusterrole_verb_not_create":                                     bindAlone + "bind on clusterroles",
	"KSV051 access/allowing_create_role_binding_and_associate_privileged_clusterrole_test.rego test_allowing_create_role_binding_and_associate_role_resource_not_role_binding":                                  bindAlone + "bind on roles",
	"KSV051 access/allowing_create_role_binding_and_associate_privileged_clusterrole_test.rego test_allowing_create_role_binding_and_associate_role_verb_not_create":                                            bindAlone + "bind on roles",
	"KSV052 access/allowing_create_role_clusterrolebinding_and_associate_privileged_clusterrole_test.rego test_allowing_create_clusterrolebindings_binding_and_associate_clusterrole_resource_not_role_binding": bindAlone + "bind on clusterroles",
	"KSV052 access/allowing_create_role_clusterrolebinding_and_associate_privileged_clusterrole_test.rego test_allowing_create_clusterrolebindings_binding_and_associate_clusterrole_verb_not_create":           bindAlone + "bind on clusterroles",
	"KSV055 access/allowing_users_rolebinding_add_other_users_rolebindings_test.rego test_allowing_users_rolebinding_add_other_users_their_rolebindings_no_verb_get":                                            "patch on rolebindings adds subjects to the namespace's bindings (of roles the subject holds or may bind: the API server's escalation check) without get, since a JSON patch or server-side apply needs no read; rbac-privilege-escalation judges changing RBAC objects by itself; KSV055 needs get beside patch, and get1 is no verb",
	"KSV111 access/cluster_admin_role_is_only_used_where_required_test.rego test_admin_used_with_system_role_binding":                                                                                           crbToRole,
	"KSV111 access/cluster_admin_role_is_only_used_where_required_test.rego test_cluster_role_admin__used_with_system_role_binding":                                                                             crbToRole,
	"KSV111 access/cluster_admin_role_is_only_used_where_required_test.rego test_cluster_role_admin__used_with_non_system_role_binding":                                                                         "the RoleBinding refers to a namespaced Role that happens to be named cluster-admin, not to the ClusterRole; that Role is not among the case's objects, so rbac-cluster-admin-binding cannot know what it grants and says NotAssessed (not Pass); KSV111 goes by the name alone",
	"KSV056 network/manage_kubernetes_networking_test.rego test_manage_manage_kubernetes_networking_impersonate":                                                                                                impersonateNothing + "ingresses",
	"KSV119 network/net_raw_capability_test.rego test_pod_without_container_net_raw_capability":                                                                                                                 "the pod adds NET_ADMIN and SYS_ADMIN, which wl-dangerous-caps fails; KSV119 judges NET_RAW alone (trivy's KSV005 and KSV022 judge the others)",
	"KSV015 resources/CPU_requests_not_specified.yaml good[0]":                                                                                                                                                  oneRequest + "CPU but no memory",
	"KSV015 resources/CPU_requests_not_specified_test.rego test_CPU_requests_specified_allowed":                                                                                                                 oneRequest + "CPU but no memory",
	"KSV016 resources/memory_requests_not_specified.yaml good[0]":                                                                                                                                               oneRequest + "memory but no CPU",
	"KSV016 resources/memory_requests_not_specified_test.rego test_memory_requests_specified_allowed":                                                                                                           oneRequest + "memory but no CPU",
	"KSV041 resources/manage_secrets_test.rego test_manage_secret_verb_update":                                                                                                                                  secretUpdate,
	"KSV041 resources/manage_secrets_test.rego test_manage_verb_update":                                                                                                                                         secretUpdate,
	"KSV113 resources/manage_namespace_secrets_test.rego test_manage_secret_verb_update":                                                                                                                        secretUpdate,
	"KSV113 resources/manage_namespace_secrets_test.rego test_manage_verb_update":                                                                                                                               secretUpdate,
	"KSV041 resources/manage_secrets_test.rego test_manage_secret_verb_impersonate":                                                                                                                             impersonateNothing + "secrets",
	"KSV113 resources/manage_namespace_secrets_test.rego test_manage_secret_verb_impersonate":                                                                                                                   impersonateNothing + "secrets",
	"KSV114 resources/manage_webhook_configurations_test.rego test_manageWebhookConfig_verb_create":                                                                                                             webhookRole,
	"KSV114 resources/manage_webhook_configurations_test.rego test_manageWebhookConfig_verb_delete":                                                                                                             webhookRole,
	"KSV114 resources/manage_webhook_configurations_test.rego test_manageWebhookConfig_verb_deletecollection":                                                                                                   webhookRole,
	"KSV114 resources/manage_webhook_configurations_test.rego test_manageWebhookConfig_verb_impersonate":                                                                                                        webhookRole,
	"KSV114 resources/manage_webhook_configurations_test.rego test_manageWebhookConfig_verb_patch":                                                                                                              webhookRole,
	"KSV114 resources/manage_webhook_configurations_test.rego test_manageWebhookConfig_verb_update":                                                                                                             webhookRole,
	"KSV115 resources/manage_eks_iam_auth_configmap_test.rego test_manageEKSIAMAuthConfigmap_verb_all":                                                                                                          awsAuthDefault,
	"KSV115 resources/manage_eks_iam_auth_configmap_test.rego test_manageEKSIAMAuthConfigmap_verb_create":                                                                                                       awsAuthDefault,
	"KSV115 resources/manage_eks_iam_auth_configmap_test.rego test_manageEKSIAMAuthConfigmap_verb_delete":                                                                                                       awsAuthDefault,
	"KSV115 resources/manage_eks_iam_auth_configmap_test.rego test_manageEKSIAMAuthConfigmap_verb_deletecollection":                                                                                             awsAuthDefault,
	"KSV115 resources/manage_eks_iam_auth_configmap_test.rego test_manageEKSIAMAuthConfigmap_verb_impersonate":                                                                                                  awsAuthDefault,
	"KSV115 resources/manage_eks_iam_auth_configmap_test.rego test_manageEKSIAMAuthConfigmap_verb_patch":                                                                                                        awsAuthDefault,
	"KSV115 resources/manage_eks_iam_auth_configmap_test.rego test_manageEKSIAMAuthConfigmap_verb_update":                                                                                                       awsAuthDefault,
	"KSV110 workloads/default_namespace_should_not_be_used_test.rego test_pod_without_namespace":                                                                                                                "the pod names no namespace, so kubectl apply puts it in the namespace of whoever applies it; a scan of the file cannot know which, and chg-system-namespaces says NotAssessed (not Pass) where KSV110 assumes default",
}

// TestReadRegoTestRefusesMocks: a Rego test that replaces part of the check with a mock of its
// own (KSV107's table of API versions) holds a verdict for that mock only, so readRegoTest
// must not read it as trivy's verdict on the object; giving the input alone is read.
func TestReadRegoTestRefusesMocks(t *testing.T) {
	const object = `{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"}}`
	for body, wantErr := range map[string]bool{
		"\tr := deny with input as " + object + "\n\tcount(r) > 0\n}\n":                                                                false,
		"\tr := deny with input as " + object + "\n\t\twith recommendedVersions as recommendedVersions_mock_data\n\tcount(r) > 0\n}\n": true,
		"\tr := deny with input as " + object + "\n\t\twith data.k8s.version as \"v1.25.0\"\n\tcount(r) > 0\n}\n":                      true,
	} {
		_, denied, err := readRegoTest([]byte(body))
		switch {
		case wantErr && err == nil:
			t.Errorf("read a test that mocks part of the check (denied=%v):\n%s", denied, body)
		case !wantErr && err != nil:
			t.Errorf("did not read a plain test: %v\n%s", err, body)
		case !wantErr && !denied:
			t.Errorf("read count(r) > 0 as allowed:\n%s", body)
		}
	}
}
