package checks

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestRefusedQuota checks which ResourceQuota manifests refusedQuota says the API server refuses,
// rule by rule of ValidateResourceQuota (k8s.io/kubernetes v1.37.2 pkg/apis/core/validation), and
// that the quotas it accepts (extended resources, object counts, huge pages, every scope on the
// resources it applies to) are not refused; and that in the operator's view nothing is.
func TestRefusedQuota(t *testing.T) {
	hard := func(kv ...string) corev1.ResourceList {
		l := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return l
	}
	sel := func(reqs ...corev1.ScopedResourceSelectorRequirement) *corev1.ScopeSelector {
		return &corev1.ScopeSelector{MatchExpressions: reqs}
	}
	req := func(scope corev1.ResourceQuotaScope, op corev1.ScopeSelectorOperator, values ...string) corev1.ScopedResourceSelectorRequirement {
		return corev1.ScopedResourceSelectorRequirement{ScopeName: scope, Operator: op, Values: values}
	}
	tests := map[string]struct {
		name string
		spec corev1.ResourceQuotaSpec
		want string // a part of the reason, or "" for none
	}{
		"compute":                 {"compute", corev1.ResourceQuotaSpec{Hard: hard("requests.cpu", "8", "limits.memory", "16Gi", "cpu", "500m")}, ""},
		"counts and extended":     {"counts", corev1.ResourceQuotaSpec{Hard: hard("pods", "20", "count/deployments.apps", "5", "nvidia.com/gpu", "2", "requests.nvidia.com/gpu", "2", "hugepages-2Mi", "1Gi", "requests.hugepages-1Gi", "2Gi", "services.loadbalancers", "0")}, ""},
		"scopes":                  {"scoped", corev1.ResourceQuotaSpec{Hard: hard("requests.cpu", "2", "pods", "4"), Scopes: []corev1.ResourceQuotaScope{"Terminating", "NotBestEffort"}}, ""},
		"best effort pods":        {"be", corev1.ResourceQuotaSpec{Hard: hard("pods", "4"), Scopes: []corev1.ResourceQuotaScope{"BestEffort"}}, ""},
		"priority class selector": {"pc", corev1.ResourceQuotaSpec{Hard: hard("limits.cpu", "2"), ScopeSelector: sel(req("PriorityClass", "In", "high"), req("CrossNamespacePodAffinity", "Exists"))}, ""},
		"storage by class":        {"vac", corev1.ResourceQuotaSpec{Hard: hard("requests.storage", "1Ti"), ScopeSelector: sel(req("VolumeAttributesClass", "NotIn", "gold"))}, ""},
		"invalid name":            {"Compute", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1")}, "metadata.name: Invalid value"},
		"misspelt resource":       {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1", "pod", "10")}, "spec.hard[pod]: Invalid value: \"pod\": must be a standard resource for quota"},
		"unqualified resource":    {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1", "example.com/a/b", "10")}, "spec.hard[example.com/a/b]"},
		"negative":                {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "-1")}, "must be greater than or equal to 0"},
		"fractional count":        {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1", "count/jobs.batch", "1.5")}, "must be an integer"},
		"fractional extended":     {"c", corev1.ResourceQuotaSpec{Hard: hard("nvidia.com/gpu", "500m")}, "must be an integer"},
		"unknown scope":           {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), Scopes: []corev1.ResourceQuotaScope{"Long"}}, "unsupported scope"},
		"best effort cpu":         {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), Scopes: []corev1.ResourceQuotaScope{"BestEffort"}}, "unsupported scope applied to resource"},
		"conflicting scopes":      {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), Scopes: []corev1.ResourceQuotaScope{"Terminating", "NotTerminating"}}, "conflicting scopes"},
		"terminating In":          {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), ScopeSelector: sel(req("Terminating", "In", "x"))}, "must be 'Exists'"},
		"In without values":       {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), ScopeSelector: sel(req("PriorityClass", "In"))}, "must be at least one value"},
		"Exists with values":      {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), ScopeSelector: sel(req("PriorityClass", "Exists", "high"))}, "must be no value"},
		"unknown operator":        {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), ScopeSelector: sel(req("PriorityClass", "Equals", "high"))}, "not a valid selector operator"},
		"conflicting selector":    {"c", corev1.ResourceQuotaSpec{Hard: hard("cpu", "1"), ScopeSelector: sel(req("BestEffort", "Exists"), req("NotBestEffort", "Exists"))}, "unsupported scope applied to resource"},
		"conflicting on pods":     {"c", corev1.ResourceQuotaSpec{Hard: hard("pods", "1"), ScopeSelector: sel(req("BestEffort", "Exists"), req("NotBestEffort", "Exists"))}, "conflicting scopes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: "shop"}, Spec: tc.spec}
			got := refusedQuota(engine.NewInventory(nil, false), rq)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("refusedQuota = %q, want %q", got, tc.want)
			}
			if got := refusedQuota(engine.NewInventory(nil, true), rq); got != "" {
				t.Errorf("in the operator's view refusedQuota = %q, want none: the quota exists", got)
			}
		})
	}
}
