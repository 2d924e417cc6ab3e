package checks

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

func TestCanonicalRepository(t *testing.T) {
	tests := map[string]struct{ image, want string }{
		"an official image gets Docker Hub and library/": {"nginx:1.27", "docker.io/library/nginx"},
		"docker.io without library/ gets it":             {"docker.io/redis:7", "docker.io/library/redis"},
		"Docker Hub aliases read docker.io":              {"index.docker.io/library/postgres:16", "docker.io/library/postgres"},
		"a Docker Hub user image keeps its user":         {"bitnami/redis:7.2", "docker.io/bitnami/redis"},
		"a registry port is not a tag":                   {"localhost:5000/shop/web", "localhost:5000/shop/web"},
		"the digest is dropped":                          {"ghcr.io/acme/web:1.0@sha256:abc", "ghcr.io/acme/web"},
		"the registry host is lower-cased":               {"Registry.Example.com/shop/web:1", "registry.example.com/shop/web"},
		"an upper-case first part is a registry host":    {"LOCALHOST/shop/web:1", "localhost/shop/web"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := canonicalRepository(tc.image); got != tc.want {
				t.Errorf("canonicalRepository(%q) = %q, want %q", tc.image, got, tc.want)
			}
		})
	}
}

func TestUnderPrefix(t *testing.T) {
	tests := map[string]struct {
		repo, prefix string
		want         bool
	}{
		"a trailing slash matches below it":                  {"ghcr.io/acme/web", "ghcr.io/acme/", true},
		"a host prefix matches the whole host":               {"registry.example.com/web", "registry.example.com", true},
		"a host prefix is not a string prefix":               {"registry.example.com.evil.io/web", "registry.example.com", false},
		"a path prefix ends at a segment":                    {"ghcr.io/acme-forks/web", "ghcr.io/acme", false},
		"a whole repository matches itself":                  {"docker.io/library/nginx", "docker.io/library/nginx", true},
		"a repository does not match a longer name":          {"docker.io/library/nginx-unprivileged", "docker.io/library/nginx", false},
		"an empty prefix matches nothing":                    {"docker.io/library/nginx", "", false},
		"a Docker Hub namespace as images name it":           {"docker.io/bitnami/redis", "bitnami/", true},
		"a Docker Hub short name is its repository":          {"docker.io/library/nginx", "nginx", true},
		"a short name is not a string prefix":                {"docker.io/library/nginx-unprivileged", "nginx", false},
		"a short namespace is not another's":                 {"docker.io/bitnamilegacy/redis", "bitnami", false},
		"a host with a port stays a host":                    {"registry:5000/web", "registry:5000", true},
		"docker.io and one part is the official repository":  {"docker.io/library/nginx", "docker.io/nginx", true},
		"any Docker Hub spelling with one part too":          {"docker.io/library/redis", "index.docker.io/redis", true},
		"docker.io and one part is its namespace as written": {"docker.io/bitnami/redis", "docker.io/bitnami", true},
		"the official repository is not a string prefix":     {"docker.io/library/nginx-unprivileged", "docker.io/nginx", false},
		"docker.io and a slash is all of Docker Hub":         {"docker.io/library/nginx", "docker.io/", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := slices.ContainsFunc(canonicalPrefixes(tc.prefix), func(p string) bool { return underPrefix(tc.repo, p) })
			if got != tc.want {
				t.Errorf("underPrefix(%q, %q) = %v, want %v", tc.repo, tc.prefix, got, tc.want)
			}
		})
	}
}

// TestTrivySubjectsAreTheDeploymentsOwnReplicaSets: a Deployment's scan reports are those of
// the ReplicaSets it really controls (the UID their reference names); a ReplicaSet that names
// the Deployment with another UID lends it nothing.
func TestTrivySubjectsAreTheDeploymentsOwnReplicaSets(t *testing.T) {
	yes := true
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web"}}
	rs := func(name string, uid types.UID) *engine.Object {
		return engine.NewObject(&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: uid, Controller: &yes}}}},
			"apps/v1", "ReplicaSet")
	}
	dep := engine.NewObject(d, "apps/v1", "Deployment")
	inv := engine.NewInventory([]*engine.Object{dep, rs("web-own", "uid-web"), rs("web-forged", "uid-other")}, true)
	got := trivySubjects(inv, dep)
	want := []trivyKey{{kind: "Deployment", name: "web"}, {kind: "ReplicaSet", name: "web-own"}}
	if len(got) != len(want) {
		t.Fatalf("subjects %v, want %v", got, want)
	}
	for i := range want {
		if got[i].key.kind != want[i].kind || got[i].key.name != want[i].name {
			t.Errorf("subject %d is %v, want %v", i, got[i].key, want[i])
		}
	}
}

func TestOwnedByNamespace(t *testing.T) {
	crb := &engine.Object{Kind: "ClusterRoleBinding", Name: "writers"}
	tests := map[string]struct {
		subject rbacv1.Subject
		want    bool
	}{
		"a ServiceAccount of the namespace":             {rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "scanner", Namespace: "shop"}, true},
		"a ServiceAccount of another namespace":         {rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "trivy-operator", Namespace: "trivy-system"}, false},
		"the user a ServiceAccount of the namespace is": {rbacv1.Subject{Kind: rbacv1.UserKind, Name: "system:serviceaccount:shop:scanner"}, true},
		"the user a ServiceAccount of a longer name is": {rbacv1.Subject{Kind: rbacv1.UserKind, Name: "system:serviceaccount:shop-2:scanner"}, false},
		"a named user":                              {rbacv1.Subject{Kind: rbacv1.UserKind, Name: "alice"}, false},
		"every authenticated user":                  {rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:authenticated"}, true},
		"every ServiceAccount of the namespace":     {rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:shop"}, true},
		"every ServiceAccount of another namespace": {rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:trivy-system"}, false},
		"a named group":                             {rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "platform-team"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ownedByNamespace(crb, tc.subject, "shop"); got != tc.want {
				t.Errorf("ownedByNamespace(%+v, shop) = %v, want %v", tc.subject, got, tc.want)
			}
		})
	}
}
