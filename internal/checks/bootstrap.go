package checks

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// Kubernetes' own roles and bindings, as the API server creates them in every cluster: the
// bootstrap policy of Kubernetes 1.37, rendered by Kubernetes itself in k8s.io/kubernetes
// v1.37.2, plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata (its tests hold the policy
// to those files; cluster-roles-featuregates.yaml is the cluster roles with every feature gate
// on), and older-releases-roles.yaml: the rules releases 1.8 to 1.36 (the first and the last
// patch release of each) gave those roles and 1.37 does not, and the roles they created that
// 1.37 no longer does (a cluster keeps the roles and rules of the release that created it,
// however often it was upgraded since), written by hack/bootstrapskew.
// To take a newer release's:
//
//	cp "$(go mod download -json k8s.io/kubernetes@vX.Y.Z | jq -r .Dir)"/plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/*.yaml internal/checks/bootstrappolicy/
//
// and run hack/bootstrapskew (its comment says how) with every earlier release a cluster still
// running may have been created by, not only those the operator supports.
//
//go:embed bootstrappolicy/*.yaml
var bootstrapPolicy embed.FS

// policyObject is one role or binding of the bootstrap policy: what the checks compare.
type policyObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	RoleRef  rbacv1.RoleRef   `json:"roleRef"`
	Subjects []rbacv1.Subject `json:"subjects"`
	// Rules are a role's rules: those of every file that has it (cluster-roles-featuregates.yaml
	// repeats cluster-roles.yaml's roles, older-releases-roles.yaml adds what earlier releases
	// gave them).
	Rules           []rbacv1.PolicyRule     `json:"rules"`
	AggregationRule *rbacv1.AggregationRule `json:"aggregationRule"`
}

// policyKey keys the bootstrap policy: kind, namespace and name.
func policyKey(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// bootstrapObjects are the roles and bindings of the bootstrap policy by kind, namespace and
// name, read when a role or binding is first judged.
var bootstrapObjects = sync.OnceValue(func() map[string]policyObject {
	files, err := bootstrapPolicy.ReadDir("bootstrappolicy")
	if err != nil {
		panic(err)
	}
	out := map[string]policyObject{}
	for _, f := range files {
		data, err := bootstrapPolicy.ReadFile("bootstrappolicy/" + f.Name())
		if err != nil {
			panic(err)
		}
		var list struct {
			Items []policyObject `json:"items"`
		}
		// The block reader scan decodes manifests with first: sigs.k8s.io/yaml took 11 ms
		// for the bindings' 30 KB alone, a good part of a small scan.
		js, ok := manifest.BlockJSON(data, false, nil)
		if !ok {
			js, err = yaml.YAMLToJSON(data)
		}
		if err == nil {
			err = json.Unmarshal(js, &list)
		}
		if err != nil {
			panic(fmt.Sprintf("bootstrappolicy/%s: %v", f.Name(), err))
		}
		for _, o := range list.Items {
			k := policyKey(o.Kind, o.Metadata.Namespace, o.Metadata.Name)
			if have, ok := out[k]; ok {
				// older-releases-roles.yaml gives a role its rules alone: the labels
				// (aggregate-to-edit on system:aggregate-to-edit) are the policy's.
				o.Rules = append(have.Rules, o.Rules...)
				o.AggregationRule = cmp.Or(o.AggregationRule, have.AggregationRule)
				if o.Metadata.Labels == nil {
					o.Metadata.Labels = have.Metadata.Labels
				}
			}
			out[k] = o
		}
	}
	return out
})

// bootstrapClusterRoles are the ClusterRoles of the bootstrap policy, by name.
var bootstrapClusterRoles = sync.OnceValue(func() []policyObject {
	var out []policyObject
	for _, o := range bootstrapObjects() {
		if o.Kind == "ClusterRole" {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b policyObject) int { return cmp.Compare(a.Metadata.Name, b.Metadata.Name) })
	return out
})

// addedPerms summarises the rules a role object has beyond those Kubernetes' bootstrap policy
// gives the role of its kind, namespace and name (in 1.37 or an earlier release from 1.8),
// compared with k8s.io/component-helpers' Covers, as the API server's escalation check
// compares rules; nil when it has none. An aggregated role has none: its rules are filled in
// from other roles, which are judged themselves.
func addedPerms(inv *engine.Inventory, o *engine.Object) *rolePerms {
	return inv.Memo(o, "rbac-added-permissions", func() any {
		if added := addedRules(inv, o); len(added) > 0 {
			return summariseIn(added, o.Kind == "Role", o.Namespace)
		}
		return (*rolePerms)(nil)
	}).(*rolePerms)
}

// addedRules are the rules a role object has beyond those Kubernetes' bootstrap policy gives the
// role of its kind, namespace and name (addedPerms), one verb and resource or URL each, as
// k8s.io/component-helpers' Covers returns them; nil when it has none.
func addedRules(inv *engine.Inventory, o *engine.Object) []rbacv1.PolicyRule {
	return inv.Memo(o, "rbac-added-rules", func() any {
		own, ok := bootstrapObjects()[policyKey(o.Kind, o.Namespace, o.Name)]
		if !ok || own.AggregationRule != nil {
			return []rbacv1.PolicyRule(nil)
		}
		var rules []rbacv1.PolicyRule
		switch r := o.Obj.(type) {
		case *rbacv1.Role:
			rules = r.Rules
		case *rbacv1.ClusterRole:
			if r.AggregationRule != nil {
				return []rbacv1.PolicyRule(nil)
			}
			rules = r.Rules
		}
		if covered, added := validation.Covers(own.Rules, rules); !covered {
			return added
		}
		return []rbacv1.PolicyRule(nil)
	}).([]rbacv1.PolicyRule)
}

// publicInfoURLs are the discovery and health endpoints Kubernetes' releases have let everybody
// read through system:discovery and system:public-info-viewer: a cluster created by a release
// before 1.14 still has the Swagger ones in system:discovery (the API server keeps rules it no
// longer writes). Reading them is no grant worth naming.
var publicInfoURLs = []string{"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/version", "/version/",
	"/openapi", "/openapi/*", "/swaggerapi", "/swaggerapi/*", "/swagger.json", "/swagger-2.0.0.pb-v1"}

// publicInfoOnly reports whether a rule grants only get on publicInfoURLs.
func publicInfoOnly(r rbacv1.PolicyRule) bool {
	return len(r.Resources) == 0 && len(r.NonResourceURLs) > 0 &&
		!slices.ContainsFunc(r.Verbs, func(v string) bool { return v != "get" }) &&
		!slices.ContainsFunc(r.NonResourceURLs, func(u string) bool { return !slices.Contains(publicInfoURLs, u) })
}

// bootstrapRolePerms memoises bootstrapPerms by policyKey.
var bootstrapRolePerms sync.Map

// bootstrapPerms is the permission summary of a role of Kubernetes' bootstrap policy, from its
// rules in 1.37 with every feature gate on and in the earlier releases from 1.8 (what any
// cluster's copy holds, unless someone changed it), or nil for one that is not in the policy or
// is aggregated (admin, edit and view: builtinPerms has them).
func bootstrapPerms(kind, namespace, name string) *rolePerms {
	k := policyKey(kind, namespace, name)
	if p, ok := bootstrapRolePerms.Load(k); ok {
		return p.(*rolePerms)
	}
	var p *rolePerms
	if own, ok := bootstrapObjects()[k]; ok && (kind == "Role" || kind == "ClusterRole") && own.AggregationRule == nil {
		p = summariseIn(own.Rules, kind == "Role", namespace)
	}
	bootstrapRolePerms.Store(k, p)
	return p
}

// isKubernetesRole reports whether Kubernetes' bootstrap policy creates a role of that kind,
// namespace and name.
func isKubernetesRole(kind, namespace, name string) bool {
	_, ok := bootstrapObjects()[policyKey(kind, namespace, name)]
	return ok && (kind == "Role" || kind == "ClusterRole")
}

// isBuiltinBinding reports whether a binding is one of Kubernetes' own as Kubernetes creates
// it: a binding of that kind, namespace and name in the bootstrap policy, to the same role,
// with no subject the policy does not give it. Neither the name (system:...) nor the
// kubernetes.io/bootstrapping label decides: anyone who may create a binding may name and label
// it so, and a namespace admin may create RoleBindings in their namespace. A subject added to
// one of Kubernetes' own bindings (a user on cluster-admin's binding to system:masters) makes
// it judged as any other.
func isBuiltinBinding(o *engine.Object) bool {
	ref, subjects, ok := bindingOf(o)
	if !ok {
		return false
	}
	own, known := bootstrapObjects()[policyKey(o.Kind, o.Namespace, o.Name)]
	if !known || ref.Kind != own.RoleRef.Kind || ref.Name != own.RoleRef.Name {
		return false
	}
	for _, s := range subjects {
		if !slices.ContainsFunc(own.Subjects, func(b rbacv1.Subject) bool { return sameSubject(s, b) }) {
			return false
		}
	}
	return true
}

// addedSubjects returns the subjects of a binding that Kubernetes' bootstrap policy has (that
// kind, namespace and name, to the same role) which the policy does not give it: the ones
// someone added. The policy's own subjects (system:serviceaccounts on
// system:service-account-issuer-discovery, system:authenticated on system:basic-user) are
// Kubernetes' grant, which the API server puts back at every start, not the addition's. Any other
// binding's subjects are returned as they are.
func addedSubjects(o *engine.Object, ref rbacv1.RoleRef, subjects []rbacv1.Subject) []rbacv1.Subject {
	own, known := bootstrapObjects()[policyKey(o.Kind, o.Namespace, o.Name)]
	if !known || ref.Kind != own.RoleRef.Kind || ref.Name != own.RoleRef.Name {
		return subjects
	}
	var out []rbacv1.Subject
	for _, s := range subjects {
		if !slices.ContainsFunc(own.Subjects, func(b rbacv1.Subject) bool { return sameSubject(s, b) }) {
			out = append(out, s)
		}
	}
	return out
}

// policyGrantees returns, for a binding Kubernetes' bootstrap policy has (that kind, namespace
// and name, to the same role), those of its subjects the policy gives it, with the permissions of
// the rules someone added to the Kubernetes role it binds (addedPerms, the role as the input holds
// it): those subjects hold them as much as anyone bound there, the API server's reconciliation
// keeping rules it did not write. A rule added to system:public-info-viewer is every anonymous
// request's. nil, nil when the binding is not the policy's, or its role has no rule added but
// get on public discovery and health endpoints (publicInfoURLs).
func policyGrantees(inv *engine.Inventory, o *engine.Object, ref rbacv1.RoleRef, subjects []rbacv1.Subject) ([]rbacv1.Subject, *rolePerms) {
	own, known := bootstrapObjects()[policyKey(o.Kind, o.Namespace, o.Name)]
	if !known || ref.Kind != own.RoleRef.Kind || ref.Name != own.RoleRef.Name {
		return nil, nil
	}
	var role *engine.Object
	switch ref.Kind {
	case "ClusterRole":
		role = clusterRolesByName(inv)[ref.Name]
	case "Role":
		role = acceptedRoleCopy(inv, inv.Get("Role", o.Namespace, ref.Name))
	}
	if role == nil {
		return nil, nil
	}
	if !slices.ContainsFunc(addedRules(inv, role), func(r rbacv1.PolicyRule) bool { return !publicInfoOnly(r) }) {
		return nil, nil
	}
	added := addedPerms(inv, role)
	var out []rbacv1.Subject
	for _, s := range subjects {
		if slices.ContainsFunc(own.Subjects, func(b rbacv1.Subject) bool { return sameSubject(s, b) }) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, added
}

// sameSubject reports whether two subjects name the same user, group or ServiceAccount
// (apiGroup, which the API server defaults, aside).
func sameSubject(a, b rbacv1.Subject) bool {
	return a.Kind == b.Kind && a.Name == b.Name && (a.Kind != rbacv1.ServiceAccountKind || a.Namespace == b.Namespace)
}
