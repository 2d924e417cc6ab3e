package manifest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// servedVersions are the apiVersions Kubernetes has ever served each built-in kind under, from
// the first release to 1.37 (removed versions included: deprecated APIs are still read and
// reported by chg-deprecated-apis). The first entry is the current one.
var servedVersions = map[string][]string{
	"Pod":                     {"v1"},
	"Service":                 {"v1"},
	"ServiceAccount":          {"v1"},
	"ConfigMap":               {"v1"},
	"Secret":                  {"v1"},
	"Namespace":               {"v1"},
	"Node":                    {"v1"},
	"Endpoints":               {"v1"},
	"ReplicationController":   {"v1"},
	"ResourceQuota":           {"v1"},
	"LimitRange":              {"v1"},
	"PersistentVolume":        {"v1"},
	"PersistentVolumeClaim":   {"v1"},
	"Deployment":              {"apps/v1", "apps/v1beta1", "apps/v1beta2", "extensions/v1beta1"},
	"StatefulSet":             {"apps/v1", "apps/v1beta1", "apps/v1beta2"},
	"DaemonSet":               {"apps/v1", "apps/v1beta2", "extensions/v1beta1"},
	"ReplicaSet":              {"apps/v1", "apps/v1beta2", "extensions/v1beta1"},
	"ControllerRevision":      {"apps/v1", "apps/v1beta1", "apps/v1beta2"},
	"Job":                     {"batch/v1"},
	"CronJob":                 {"batch/v1", "batch/v1beta1", "batch/v2alpha1"},
	"Ingress":                 {"networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1"},
	"IngressClass":            {"networking.k8s.io/v1", "networking.k8s.io/v1beta1"},
	"NetworkPolicy":           {"networking.k8s.io/v1", "extensions/v1beta1"},
	"Role":                    {"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1"},
	"ClusterRole":             {"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1"},
	"RoleBinding":             {"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1"},
	"ClusterRoleBinding":      {"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1"},
	"PodDisruptionBudget":     {"policy/v1", "policy/v1beta1"},
	"HorizontalPodAutoscaler": {"autoscaling/v2", "autoscaling/v1", "autoscaling/v2beta1", "autoscaling/v2beta2"},
	"StorageClass":            {"storage.k8s.io/v1", "storage.k8s.io/v1beta1"},
	"PriorityClass":           {"scheduling.k8s.io/v1", "scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1alpha1"},
	"ComplianceProfile":       {v1alpha1.GroupVersion.String()},
	"ControlException":        {v1alpha1.GroupVersion.String()},
}

// ServedKind reports whether Kubernetes serves or served kind (or it is this operator's).
func ServedKind(kind string) bool {
	_, ok := servedVersions[kind]
	return ok
}

// KnownKind reports whether kind is one scan knows: a kind Kubernetes serves or served, or one
// of an add-on's it reads by name (Trivy Operator's reports, the Gateway API's routes).
func KnownKind(kind string) bool {
	if _, ok := servedVersions[kind]; ok || clusterScoped[kind] || namespacedUnstructured[kind] {
		return true
	}
	for k := range typed {
		if strings.HasSuffix(k, "/"+kind) {
			return true
		}
	}
	return false
}

// KnownKindFold is the kind KnownKind knows that kind spells in another case (deployment,
// DEPLOYMENT: Deployment); ok is false when there is none.
func KnownKindFold(kind string) (string, bool) {
	candidates := slices.Concat(slices.Collect(maps.Keys(servedVersions)), slices.Collect(maps.Keys(clusterScoped)),
		slices.Collect(maps.Keys(namespacedUnstructured)))
	for k := range typed {
		candidates = append(candidates, k[strings.LastIndex(k, "/")+1:])
	}
	slices.Sort(candidates)
	for _, c := range candidates {
		if strings.EqualFold(c, kind) {
			return c, true
		}
	}
	return "", false
}

// kubernetesGroup reports whether an API group belongs to Kubernetes itself (or to this
// operator): the core group, a group without a dot (apps, batch, policy, ...), a *.k8s.io group
// (reserved by the API server), or the operator's own. Custom resources live in other groups and
// may reuse a built-in kind's name.
func kubernetesGroup(group string) bool {
	return !strings.Contains(group, ".") || strings.HasSuffix(group, ".k8s.io") || group == v1alpha1.GroupVersion.Group
}

// checkServed returns an error when apiVersion and kind name a built-in kind under an
// apiVersion Kubernetes never served it under (apiVersion: v1, kind: Deployment): kubectl apply
// would reject the object, and the checks could not read it.
func checkServed(apiVersion, kind string) error {
	served, ok := servedVersions[kind]
	if !ok || slices.Contains(served, apiVersion) {
		return nil
	}
	group := ""
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		group = apiVersion[:i]
	}
	if !kubernetesGroup(group) {
		return nil
	}
	return fmt.Errorf("%s: Kubernetes never served %s as apiVersion %q: use %s", kind, kind, apiVersion, served[0])
}
