package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// removedAPI is an API version of a kind that Kubernetes stopped serving.
type removedAPI struct {
	// removedIn is the Kubernetes release that stopped serving the version.
	removedIn string
	// replacement is the version to use instead, or what replaces the kind.
	replacement string
}

type apiKind struct{ apiVersion, kind string }

// removedAPIs are the removed API versions of every kind a manifest can create, from the
// Kubernetes deprecated API migration guide and the APILifecycleRemoved release k8s.io/api
// gives each version (the API server stops serving a kind from that release:
// k8s.io/apiserver/pkg/server/deleted_kinds.go); TestRemovedAPIsFollowKubernetes holds the table
// to k8s.io/api. Kinds that controllers mostly write (Event, Lease, EndpointSlice, IPAddress,
// ControllerRevision, CSINode, VolumeAttachment, CSIStorageCapacity) and the review kinds
// `kubectl create -f` sends are in it too: a manifest that carries one fails to apply all the
// same, and the check runs only in scan, so the operator watches none of them.
var removedAPIs = map[apiKind]removedAPI{
	{"extensions/v1beta1", "Deployment"}:                                          {"1.16", "apps/v1"},
	{"extensions/v1beta1", "DaemonSet"}:                                           {"1.16", "apps/v1"},
	{"extensions/v1beta1", "ReplicaSet"}:                                          {"1.16", "apps/v1"},
	{"extensions/v1beta1", "NetworkPolicy"}:                                       {"1.16", "networking.k8s.io/v1"},
	{"extensions/v1beta1", "PodSecurityPolicy"}:                                   {"1.16", "Pod Security Admission (PodSecurityPolicy was removed altogether in 1.25)"},
	{"extensions/v1beta1", "Ingress"}:                                             {"1.22", "networking.k8s.io/v1"},
	{"apps/v1beta1", "Deployment"}:                                                {"1.16", "apps/v1"},
	{"apps/v1beta1", "StatefulSet"}:                                               {"1.16", "apps/v1"},
	{"apps/v1beta2", "Deployment"}:                                                {"1.16", "apps/v1"},
	{"apps/v1beta2", "StatefulSet"}:                                               {"1.16", "apps/v1"},
	{"apps/v1beta2", "DaemonSet"}:                                                 {"1.16", "apps/v1"},
	{"apps/v1beta2", "ReplicaSet"}:                                                {"1.16", "apps/v1"},
	{"batch/v1beta1", "CronJob"}:                                                  {"1.25", "batch/v1"},
	{"policy/v1beta1", "PodDisruptionBudget"}:                                     {"1.25", "policy/v1"},
	{"policy/v1beta1", "PodSecurityPolicy"}:                                       {"1.25", "Pod Security Admission"},
	{"networking.k8s.io/v1beta1", "Ingress"}:                                      {"1.22", "networking.k8s.io/v1"},
	{"networking.k8s.io/v1beta1", "IngressClass"}:                                 {"1.22", "networking.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "Role"}:                                 {"1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRole"}:                          {"1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "RoleBinding"}:                          {"1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"}:                   {"1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1alpha1", "Role"}:                                {"1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1alpha1", "ClusterRole"}:                         {"1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1alpha1", "RoleBinding"}:                         {"1.22", "rbac.authorization.k8s.io/v1"},
	{"rbac.authorization.k8s.io/v1alpha1", "ClusterRoleBinding"}:                  {"1.22", "rbac.authorization.k8s.io/v1"},
	{"autoscaling/v2beta1", "HorizontalPodAutoscaler"}:                            {"1.25", "autoscaling/v2"},
	{"autoscaling/v2beta2", "HorizontalPodAutoscaler"}:                            {"1.26", "autoscaling/v2"},
	{"storage.k8s.io/v1beta1", "StorageClass"}:                                    {"1.22", "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "CSIDriver"}:                                       {"1.22", "storage.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"}:      {"1.22", "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"}:    {"1.22", "admissionregistration.k8s.io/v1"},
	{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"}:                  {"1.22", "apiextensions.k8s.io/v1"},
	{"apiregistration.k8s.io/v1beta1", "APIService"}:                              {"1.22", "apiregistration.k8s.io/v1"},
	{"scheduling.k8s.io/v1beta1", "PriorityClass"}:                                {"1.22", "scheduling.k8s.io/v1"},
	{"certificates.k8s.io/v1beta1", "CertificateSigningRequest"}:                  {"1.22", "certificates.k8s.io/v1"},
	{"node.k8s.io/v1beta1", "RuntimeClass"}:                                       {"1.25", "node.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"}:                        {"1.26", "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"}:        {"1.26", "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema"}:                        {"1.29", "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration"}:        {"1.29", "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema"}:                        {"1.32", "flowcontrol.apiserver.k8s.io/v1"},
	{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration"}:        {"1.32", "flowcontrol.apiserver.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicy"}:        {"1.32", "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1alpha1", "ValidatingAdmissionPolicyBinding"}: {"1.32", "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicy"}:         {"1.34", "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "ValidatingAdmissionPolicyBinding"}:  {"1.34", "admissionregistration.k8s.io/v1"},
	{"storage.k8s.io/v1alpha1", "VolumeAttributesClass"}:                          {"1.35", "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "VolumeAttributesClass"}:                           {"1.37", "storage.k8s.io/v1"},
	{"networking.k8s.io/v1beta1", "ServiceCIDR"}:                                  {"1.37", "networking.k8s.io/v1"},
	{"certificates.k8s.io/v1alpha1", "ClusterTrustBundle"}:                        {"1.37", "certificates.k8s.io/v1"},
	{"networking.k8s.io/v1beta1", "IPAddress"}:                                    {"1.37", "networking.k8s.io/v1"},
	{"discovery.k8s.io/v1beta1", "EndpointSlice"}:                                 {"1.25", "discovery.k8s.io/v1"},
	{"events.k8s.io/v1beta1", "Event"}:                                            {"1.25", "events.k8s.io/v1"},
	{"coordination.k8s.io/v1beta1", "Lease"}:                                      {"1.22", "coordination.k8s.io/v1"},
	{"apps/v1beta1", "ControllerRevision"}:                                        {"1.16", "apps/v1"},
	{"apps/v1beta2", "ControllerRevision"}:                                        {"1.16", "apps/v1"},
	{"storage.k8s.io/v1beta1", "CSINode"}:                                         {"1.22", "storage.k8s.io/v1"},
	{"storage.k8s.io/v1alpha1", "VolumeAttachment"}:                               {"1.24", "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "VolumeAttachment"}:                                {"1.22", "storage.k8s.io/v1"},
	{"storage.k8s.io/v1alpha1", "CSIStorageCapacity"}:                             {"1.24", "storage.k8s.io/v1"},
	{"storage.k8s.io/v1beta1", "CSIStorageCapacity"}:                              {"1.27", "storage.k8s.io/v1"},
	{"authentication.k8s.io/v1beta1", "TokenReview"}:                              {"1.22", "authentication.k8s.io/v1"},
	{"authentication.k8s.io/v1alpha1", "SelfSubjectReview"}:                       {"1.32", "authentication.k8s.io/v1"},
	{"authentication.k8s.io/v1beta1", "SelfSubjectReview"}:                        {"1.33", "authentication.k8s.io/v1"},
	{"authorization.k8s.io/v1beta1", "SubjectAccessReview"}:                       {"1.22", "authorization.k8s.io/v1"},
	{"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview"}:                  {"1.22", "authorization.k8s.io/v1"},
	{"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview"}:                   {"1.22", "authorization.k8s.io/v1"},
	{"authorization.k8s.io/v1beta1", "SelfSubjectRulesReview"}:                    {"1.22", "authorization.k8s.io/v1"},
}

// deprecatedAPI is an API version of a kind that Kubernetes servingRelease still serves but has
// deprecated: the API server answers every request for it with a warning ("... is deprecated in
// v1.35+, unavailable in v1.38+", k8s.io/apiserver/pkg/endpoints/deprecation) and stops serving
// it from removedIn.
type deprecatedAPI struct {
	// deprecatedIn is the release that deprecated the version.
	deprecatedIn string
	// removedIn is the release that stops serving it.
	removedIn string
	// replacement is the version to use instead, or why there is none yet.
	replacement string
}

// deprecatedAPIs are the versions k8s.io/api deprecates by servingRelease and removes after it
// (APILifecycleDeprecated, APILifecycleRemoved), of every kind a manifest can create;
// TestDeprecatedAPIsFollowKubernetes holds the table to k8s.io/api.
var deprecatedAPIs = map[apiKind]deprecatedAPI{
	{"admissionregistration.k8s.io/v1alpha1", "MutatingAdmissionPolicy"}:        {"1.35", "1.38", "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1alpha1", "MutatingAdmissionPolicyBinding"}: {"1.35", "1.38", "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicy"}:         {"1.37", "1.40", "admissionregistration.k8s.io/v1"},
	{"admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicyBinding"}:  {"1.37", "1.40", "admissionregistration.k8s.io/v1"},
	{"certificates.k8s.io/v1beta1", "ClusterTrustBundle"}:                       {"1.37", "1.40", "certificates.k8s.io/v1"},
	{"certificates.k8s.io/v1beta1", "PodCertificateRequest"}:                    {"1.37", "1.40", "certificates.k8s.io/v1"},
	{"resource.k8s.io/v1beta1", "DeviceClass"}:                                  {"1.35", "1.38", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1beta1", "ResourceClaim"}:                                {"1.35", "1.38", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1beta1", "ResourceClaimTemplate"}:                        {"1.35", "1.38", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1beta1", "ResourceSlice"}:                                {"1.35", "1.38", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1beta2", "DeviceClass"}:                                  {"1.36", "1.39", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1beta2", "ResourceClaim"}:                                {"1.36", "1.39", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1beta2", "ResourceClaimTemplate"}:                        {"1.36", "1.39", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1beta2", "ResourceSlice"}:                                {"1.36", "1.39", "resource.k8s.io/v1"},
	{"resource.k8s.io/v1alpha3", "DeviceTaintRule"}:                             {"1.36", "1.39", "resource.k8s.io/v1"},
	{"storagemigration.k8s.io/v1beta1", "StorageVersionMigration"}:              {"1.37", "1.40", "storagemigration.k8s.io/v1"},
	// No version of LeaseCandidate is undeprecated in 1.37; the API server writes them itself
	// for coordinated leader election.
	{"coordination.k8s.io/v1alpha2", "LeaseCandidate"}: {"1.35", "1.38", "coordination.k8s.io/v1beta1 (itself deprecated: Kubernetes " + servingRelease + " serves no version of LeaseCandidate that is not)"},
	{"coordination.k8s.io/v1beta1", "LeaseCandidate"}:  {"1.36", "1.39", "the version that replaces it once Kubernetes serves one (" + servingRelease + " serves no version of LeaseCandidate that is not deprecated)"},
}

// servingRelease is the Kubernetes release whose served API versions chg-deprecated-apis knows.
const servingRelease = "1.37"

// removedKind is a kind Kubernetes once served and servingRelease serves under no version.
type removedKind struct {
	// versions are API versions it was served in; a kind of the same name in another group is a
	// custom resource.
	versions []string
	// replacement is what replaces the kind.
	replacement string
}

// removedKinds are the kinds Kubernetes once served that servingRelease serves under no version:
// a manifest of one fails to apply ("no matches for kind"), whatever version it names. Those that
// k8s.io/api dropped altogether are in none of its lifecycle data, so no test of removedAPIs
// finds them; TestRemovedKindsAreGone holds that k8s.io/api v0.37.2 has no version of them.
// Their removal: ScheduledJob (renamed CronJob) and ThirdPartyResource 1.8, InitializerConfiguration 1.14, AuditSink (dynamic audit) 1.19, PodPreset 1.20,
// ClusterCIDR (multi-CIDR node IPAM) 1.29, PodScheduling (renamed PodSchedulingContext) 1.27,
// ResourceClass, ResourceClaimParameters and ResourceClassParameters (resource.k8s.io/v1alpha2,
// replaced by structured parameters) 1.31, PodSchedulingContext (classic DRA) 1.32,
// PodSecurityPolicy 1.25.
var removedKinds = map[string]removedKind{
	"PodSecurityPolicy":        {[]string{"policy/v1beta1", "extensions/v1beta1"}, "Pod Security Admission"},
	"PodPreset":                {[]string{"settings.k8s.io/v1alpha1"}, "a mutating admission policy (admissionregistration.k8s.io/v1 MutatingAdmissionPolicy) or webhook"},
	"AuditSink":                {[]string{"auditregistration.k8s.io/v1alpha1"}, "the API server's audit webhook (--audit-webhook-config-file)"},
	"InitializerConfiguration": {[]string{"admissionregistration.k8s.io/v1alpha1"}, "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration"},
	"ClusterCIDR":              {[]string{"networking.k8s.io/v1alpha1"}, "the controller manager's --cluster-cidr (multi-CIDR node IPAM was withdrawn)"},
	"ResourceClass":            {[]string{"resource.k8s.io/v1alpha1", "resource.k8s.io/v1alpha2"}, "resource.k8s.io/v1 DeviceClass"},
	"ResourceClaimParameters":  {[]string{"resource.k8s.io/v1alpha2"}, "the device requests of a resource.k8s.io/v1 ResourceClaim"},
	"ResourceClassParameters":  {[]string{"resource.k8s.io/v1alpha2"}, "resource.k8s.io/v1 DeviceClass"},
	"PodSchedulingContext":     {[]string{"resource.k8s.io/v1alpha2", "resource.k8s.io/v1alpha3"}, "nothing: the scheduler allocates resource.k8s.io/v1 ResourceClaims itself"},
	"ScheduledJob":             {[]string{"batch/v2alpha1"}, "batch/v1 CronJob"},
	"ThirdPartyResource":       {[]string{"extensions/v1beta1"}, "apiextensions.k8s.io/v1 CustomResourceDefinition"},
	"PodScheduling":            {[]string{"resource.k8s.io/v1alpha1"}, "nothing: the scheduler allocates resource.k8s.io/v1 ResourceClaims itself"},
}

// servedAPIs are the API versions Kubernetes 1.37 serves each kind the check targets under,
// the one to use first (beta versions served only when enabled included). A version of one of
// the kind's own groups that is neither here nor in removedAPIs is not served either: alpha
// versions carry no removal release in k8s.io/api (node.k8s.io/v1alpha1 RuntimeClass is still
// in it, and no API server serves it), and versions k8s.io/api dropped altogether
// (batch/v2alpha1) are in no table of it. The kinds of removedKinds are served under no version.
var servedAPIs = map[string][]string{
	"Deployment":                       {"apps/v1"},
	"DaemonSet":                        {"apps/v1"},
	"ReplicaSet":                       {"apps/v1"},
	"StatefulSet":                      {"apps/v1"},
	"CronJob":                          {"batch/v1"},
	"NetworkPolicy":                    {"networking.k8s.io/v1"},
	"PodSecurityPolicy":                nil,
	"Ingress":                          {"networking.k8s.io/v1"},
	"IngressClass":                     {"networking.k8s.io/v1"},
	"PodDisruptionBudget":              {"policy/v1"},
	"Role":                             {"rbac.authorization.k8s.io/v1"},
	"ClusterRole":                      {"rbac.authorization.k8s.io/v1"},
	"RoleBinding":                      {"rbac.authorization.k8s.io/v1"},
	"ClusterRoleBinding":               {"rbac.authorization.k8s.io/v1"},
	"HorizontalPodAutoscaler":          {"autoscaling/v2", "autoscaling/v1"},
	"StorageClass":                     {"storage.k8s.io/v1"},
	"CSIDriver":                        {"storage.k8s.io/v1"},
	"MutatingWebhookConfiguration":     {"admissionregistration.k8s.io/v1"},
	"ValidatingWebhookConfiguration":   {"admissionregistration.k8s.io/v1"},
	"CustomResourceDefinition":         {"apiextensions.k8s.io/v1"},
	"APIService":                       {"apiregistration.k8s.io/v1"},
	"PriorityClass":                    {"scheduling.k8s.io/v1"},
	"CertificateSigningRequest":        {"certificates.k8s.io/v1"},
	"RuntimeClass":                     {"node.k8s.io/v1"},
	"FlowSchema":                       {"flowcontrol.apiserver.k8s.io/v1"},
	"PriorityLevelConfiguration":       {"flowcontrol.apiserver.k8s.io/v1"},
	"ValidatingAdmissionPolicy":        {"admissionregistration.k8s.io/v1"},
	"ValidatingAdmissionPolicyBinding": {"admissionregistration.k8s.io/v1"},
	"VolumeAttributesClass":            {"storage.k8s.io/v1"},
	"ServiceCIDR":                      {"networking.k8s.io/v1"},
	"ClusterTrustBundle":               {"certificates.k8s.io/v1", "certificates.k8s.io/v1beta1"},
	"IPAddress":                        {"networking.k8s.io/v1"},
	"EndpointSlice":                    {"discovery.k8s.io/v1"},
	"Event":                            {"events.k8s.io/v1", "v1"},
	"Lease":                            {"coordination.k8s.io/v1"},
	"ControllerRevision":               {"apps/v1"},
	"CSINode":                          {"storage.k8s.io/v1"},
	"VolumeAttachment":                 {"storage.k8s.io/v1"},
	"CSIStorageCapacity":               {"storage.k8s.io/v1"},
	"TokenReview":                      {"authentication.k8s.io/v1"},
	"SelfSubjectReview":                {"authentication.k8s.io/v1"},
	"SubjectAccessReview":              {"authorization.k8s.io/v1"},
	"LocalSubjectAccessReview":         {"authorization.k8s.io/v1"},
	"SelfSubjectAccessReview":          {"authorization.k8s.io/v1"},
	"SelfSubjectRulesReview":           {"authorization.k8s.io/v1"},
	"MutatingAdmissionPolicy":          {"admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1beta1", "admissionregistration.k8s.io/v1alpha1"},
	"MutatingAdmissionPolicyBinding":   {"admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1beta1", "admissionregistration.k8s.io/v1alpha1"},
	"PodCertificateRequest":            {"certificates.k8s.io/v1", "certificates.k8s.io/v1beta1"},
	"DeviceClass":                      {"resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1"},
	"ResourceClaim":                    {"resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1"},
	"ResourceClaimTemplate":            {"resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1"},
	"ResourceSlice":                    {"resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1"},
	"DeviceTaintRule":                  {"resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1alpha3"},
	"StorageVersionMigration":          {"storagemigration.k8s.io/v1", "storagemigration.k8s.io/v1beta1"},
	"LeaseCandidate":                   {"coordination.k8s.io/v1beta1", "coordination.k8s.io/v1alpha2"},
	"PodPreset":                        nil,
	"AuditSink":                        nil,
	"InitializerConfiguration":         nil,
	"ClusterCIDR":                      nil,
	"ResourceClass":                    nil,
	"ResourceClaimParameters":          nil,
	"ResourceClassParameters":          nil,
	"PodSchedulingContext":             nil,
	"PodScheduling":                    nil,
	"ScheduledJob":                     nil,
	"ThirdPartyResource":               nil,
}

// kindsGroup reports whether group is one Kubernetes has served kind under (a served or a
// removed version's), or a group without a dot, which only Kubernetes serves (the API server
// refuses a CustomResourceDefinition whose group has no dot, so v1 Deployment or apps/v1 CronJob
// is no custom resource): a kind of the same name in another group is a custom resource.
func kindsGroup(kind, group string) bool {
	if !strings.Contains(group, ".") {
		return true
	}
	for _, v := range servedAPIs[kind] {
		if apiGroup(v) == group {
			return true
		}
	}
	for k := range removedAPIs {
		if k.kind == kind && apiGroup(k.apiVersion) == group {
			return true
		}
	}
	for _, v := range removedKinds[kind].versions {
		if apiGroup(v) == group {
			return true
		}
	}
	return false
}

var chgDeprecatedApis = &engine.Check{
	ID:    "chg-deprecated-apis",
	Title: "Manifests use API versions that Kubernetes serves and has not deprecated",
	Description: "A manifest written against a removed API version fails to apply after an upgrade, or is " +
		"quietly rewritten by a conversion tool with different defaults: the change that reaches the " +
		"cluster is not the change that was reviewed (CC8.1), and upgrades that fix vulnerabilities are " +
		"held back (CC7.1). A version Kubernetes " + servingRelease + " does not serve fails too, removed or never " +
		"served (an alpha version such as batch/v2alpha1), as does a kind it serves under no version any more (PodSecurityPolicy, " +
		"PodPreset, AuditSink, the resource.k8s.io/v1alpha2 ResourceClass, ...), and so does one it still serves but has deprecated " +
		"(resource.k8s.io/v1beta1, which the API server answers with a deprecation warning and stops serving in " +
		"a later release; the finding names it). So does a version of a Gateway API kind (Gateway, GatewayClass, HTTPRoute, " +
		"GRPCRoute, TLSRoute, TCPRoute, UDPRoute, ListenerSet) or of Istio's Gateway and VirtualService that no release " +
		"of the add-on serves (a gateway.networking.k8s.io/v1alpha2 Gateway, not served since Gateway API v0.8.0), nor does a " +
		"version of Cilium's or Calico's network policies, KEDA's ScaledObject, Argo Rollouts' Rollout or the Network Policy API's " +
		"AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy other than those each serves (cilium.io/v2, projectcalico.org/v3 and " +
		"crd.projectcalico.org/v1, keda.sh/v1alpha1, argoproj.io/v1alpha1, policy.networking.k8s.io/v1alpha1, and v1beta1 and v1alpha2 " +
		"for ClusterNetworkPolicy): the API " +
		"server refuses it, and a scan lets no other object's check read it. A version the Gateway API still serves but has " +
		"deprecated fails too (TLSRoute v1alpha2 and v1alpha3 since v1.5.0, TCPRoute and UDPRoute v1alpha2 since v1.6.0, which " +
		"serve them at v1: only the experimental channel still serves them, with a deprecation warning); other objects' checks " +
		"still read it. So do the Network Policy API's AdminNetworkPolicy and BaselineAdminNetworkPolicy, which its v0.2.0 replaces " +
		"with ClusterNetworkPolicy (tier Admin or Baseline) and whose CRDs no later release ships (v0.1.7 is their last): a cluster " +
		"given only a later release's CRDs does not serve them, and the project asks their users to migrate; the finding " +
		"names the replacement, and other objects' checks still read them. The check judges the apiVersion written in manifests; the API server " +
		"converts stored objects to whatever version a client asks for, so the check runs in scan and " +
		"not in the operator." + supporting,
	Remediation: "Change apiVersion to the replacement named in the finding (kubectl convert helps) and review " +
		"the changed defaults listed in the Kubernetes deprecated API migration guide.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc81, cc71},
	Targets: []string{"Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "CronJob", "NetworkPolicy",
		"PodSecurityPolicy", "Ingress", "IngressClass", "PodDisruptionBudget", "Role", "ClusterRole",
		"RoleBinding", "ClusterRoleBinding", "HorizontalPodAutoscaler", "StorageClass", "CSIDriver",
		"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "CustomResourceDefinition",
		"APIService", "PriorityClass", "CertificateSigningRequest", "RuntimeClass", "FlowSchema",
		"PriorityLevelConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"VolumeAttributesClass", "ServiceCIDR", "ClusterTrustBundle", "IPAddress", "EndpointSlice", "Event",
		"Lease", "ControllerRevision", "CSINode", "VolumeAttachment", "CSIStorageCapacity", "TokenReview",
		"SelfSubjectReview", "SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview",
		"SelfSubjectRulesReview", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
		"PodCertificateRequest", "DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice",
		"DeviceTaintRule", "StorageVersionMigration", "LeaseCandidate", "PodPreset", "AuditSink",
		"InitializerConfiguration", "ClusterCIDR", "ResourceClass", "ResourceClaimParameters",
		"ResourceClassParameters", "PodSchedulingContext", "PodScheduling", "ScheduledJob", "ThirdPartyResource",
		// Add-on kinds whose versions addOnServed knows: the Gateway API's, Istio's, the CNI
		// policies', KEDA's, Argo Rollouts' and the Network Policy API's (NetworkPolicy is
		// Calico's too).
		"GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "ListenerSet",
		"VirtualService", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy",
		"ScaledObject", "Rollout", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"},
	ManifestOnly: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		why, use := notServed(o)
		if why == "" {
			why, use = addOnNotServed(o)
		}
		switch {
		case why != "" && use == "":
			// An add-on kind's name in one of Kubernetes' own groups (v1 Gateway): Kubernetes
			// serves no version of it, and nothing replaces it.
			ctx.Fail("", "%s", why)
			return
		case why != "":
			ctx.Fail("", "%s; use %s", why, use)
			return
		}
		if d, ok := deprecatedAPIs[apiKind{o.APIVersion, o.Kind}]; ok {
			ctx.Fail("", "%s %s is deprecated since Kubernetes %s and no longer served from %s; use %s",
				o.APIVersion, o.Kind, d.deprecatedIn, d.removedIn, d.replacement)
			return
		}
		if why, use := addOnDeprecated(o); why != "" {
			ctx.Fail("", "%s; use %s", why, use)
			return
		}
		ctx.Pass("")
	},
}

// notServed says why Kubernetes servingRelease does not serve a manifest's API version of its
// kind (removedAPIs, servedAPIs, removedKinds), with what to use instead, or "" when it serves
// it or the kind is none of Kubernetes' own groups': the API server refuses to create such an
// object. chg-deprecated-apis fails it, and the availability checks leave such a budget,
// autoscaler or LimitRange out (unservedVersion).
func notServed(o *engine.Object) (why, use string) {
	if r, ok := removedAPIs[apiKind{o.APIVersion, o.Kind}]; ok {
		return fmt.Sprintf("%s %s is no longer served since Kubernetes %s", o.APIVersion, o.Kind, r.removedIn), r.replacement
	}
	served := servedAPIs[o.Kind]
	if slices.Contains(served, o.APIVersion) || !kindsGroup(o.Kind, apiGroup(o.APIVersion)) {
		return "", ""
	}
	if len(served) == 0 {
		return fmt.Sprintf("%s %s is not served by Kubernetes %s, which serves no version of %s",
			o.APIVersion, o.Kind, servingRelease, o.Kind), removedKinds[o.Kind].replacement
	}
	return fmt.Sprintf("%s %s is not served by Kubernetes %s", o.APIVersion, o.Kind, servingRelease), served[0]
}
