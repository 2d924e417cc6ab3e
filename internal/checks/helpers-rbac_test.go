package checks

import (
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestRiskyAccessFind pins the RBAC authoriser's matching rules that the role checks rely on.
func TestRiskyAccessFind(t *testing.T) {
	tests := map[string]struct {
		access     riskyAccess
		rule       rbacv1.PolicyRule
		namespaced bool
		want       string
	}{
		"a wildcard verb, group and resource grants everything": {
			access: secretReadAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			want:   "* on *",
		},
		"only the verbs looked for are named, in the rule's order": {
			access: secretReadAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}, Verbs: []string{"watch", "create", "get"}},
			want:   "watch, get on secrets",
		},
		"*/exec covers pods/exec": {
			access: execAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"*/exec"}, Verbs: []string{"create"}},
			want:   "create on */exec",
		},
		"pods/* is no wildcard to the authoriser": {
			access: execAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/*"}, Verbs: []string{"create"}},
		},
		"pods does not cover its subresources": {
			access: execAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create", "get"}},
		},
		"a resource of the same name in another API group is not matched": {
			access: networkControlAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{"serving.knative.dev"}, Resources: []string{"services"}, Verbs: []string{"create"}},
		},
		"secret reads limited by resourceNames do not count": {
			access: secretReadAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"app"}, Verbs: []string{"get"}},
		},
		"other grants limited by resourceNames count and say so": {
			access: workloadCreateAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, ResourceNames: []string{"web"}, Verbs: []string{"patch"}},
			want:   `patch on deployments (resourceNames "web")`,
		},
		"resourceNames cannot restrict create of a whole resource": {
			access: controlPlaneAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"persistentvolumes"}, ResourceNames: []string{"pv-1"}, Verbs: []string{"create"}},
		},
		"resourceNames do restrict create of a subresource": {
			access: execAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec"}, ResourceNames: []string{"db-0"}, Verbs: []string{"create"}},
			want:   `create on pods/exec (resourceNames "db-0")`,
		},
		"the empty resource name matches every list and watch: all Secrets are read": {
			access: secretReadAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{""}, Verbs: []string{"get", "list", "watch"}},
			want:   `list, watch on secrets (resourceNames ""; the empty name matches every list, watch, create and deletecollection)`,
		},
		"the empty resource name matches create of a whole resource": {
			access: controlPlaneAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"persistentvolumes"}, ResourceNames: []string{"pv-1", ""}, Verbs: []string{"create"}},
			want:   `create on persistentvolumes (resourceNames "pv-1", ""; the empty name matches every list, watch, create and deletecollection)`,
		},
		"the empty resource name matches no get: a get always names its object": {
			access: secretReadAccess,
			rule:   rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{""}, Verbs: []string{"get"}},
		},
		"a Role cannot grant cluster-scoped resources": {
			access:     controlPlaneAccess,
			rule:       rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"nodes/proxy"}, Verbs: []string{"get"}},
			namespaced: true,
		},
		"a Role can grant bind on ClusterRoles, checked in its namespace": {
			access:     escalationAccess,
			rule:       rbacv1.PolicyRule{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"bind"}},
			namespaced: true,
			want:       "bind on clusterroles",
		},
		"a nonResourceURLs rule grants no resource": {
			access: escalationAccess,
			rule:   rbacv1.PolicyRule{NonResourceURLs: []string{"*"}, Verbs: []string{"*"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := tc.access.find([]rbacv1.PolicyRule{tc.rule}, tc.namespaced)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("want no grant, got %q", got)
			case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
				t.Errorf("want %q, got %q", tc.want, got)
			}
		})
	}
}

// The RBAC authoriser reads a nonResourceURL ending in "*" as the prefix before its "*"s
// (NonResourceURLMatches): only "*" and the prefixes "" and "/" match every URL.
func TestEveryURL(t *testing.T) {
	for u, want := range map[string]bool{
		"*": true, "**": true, "/*": true, "/**": true,
		"/": false, "": false, "/logs": false, "/logs*": false, "/healthz/*": false,
	} {
		if got := everyURL(u); got != want {
			t.Errorf("everyURL(%q) = %v, want %v", u, got, want)
		}
	}
}

// TestRefusedRoleFollowsValidatePolicyRule holds refusedRole to what ValidateRole,
// ValidateClusterRole and ValidatePolicyRule (k8s.io/kubernetes v1.37.2 pkg/apis/rbac/validation)
// refuse, and to what they take.
func TestRefusedRoleFollowsValidatePolicyRule(t *testing.T) {
	for name, tc := range map[string]struct {
		obj  engine.KubeObject
		want string
	}{
		"a rule without verbs":                     {&rbacv1.Role{Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}}}}, "verbs must contain at least one value"},
		"a Role's rule for nonResourceURLs":        {&rbacv1.Role{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}}}, "namespaced rules cannot apply to non-resource URLs"},
		"a ClusterRole's rule for both":            {&rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}, Resources: []string{"pods"}}}}, "rules cannot apply to both"},
		"a resource rule without apiGroups":        {&rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, Resources: []string{"pods"}}}}, "at least one api group"},
		"a resource rule without resources":        {&rbacv1.Role{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}}}}, "at least one resource"},
		"an aggregationRule without selectors":     {&rbacv1.ClusterRole{AggregationRule: &rbacv1.AggregationRule{}}, "clusterRoleSelectors"},
		"a ClusterRole's rule for nonResourceURLs": {&rbacv1.ClusterRole{Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics"}}}}, ""},
		"an empty apiGroup":                        {&rbacv1.Role{Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}, ""},
		"no rules at all":                          {&rbacv1.Role{}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			kind := "Role"
			if _, ok := tc.obj.(*rbacv1.ClusterRole); ok {
				kind = "ClusterRole"
			}
			got := refusedRole(&engine.Object{Kind: kind, Name: "r", Obj: tc.obj})
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("refusedRole = %q, want %q", got, tc.want)
			}
		})
	}
}
