package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/distribution/reference"
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

// TestCanonicalRepositoryIsTheLibrarys: canonicalRepository splits an image into registry host
// and path as github.com/distribution/reference v0.6.0 does (reference.Domain and
// reference.Path of ParseNormalizedNamed, which the API server, the kubelet and containerd
// use), but for spelling the host in lower case (DNS is not case-sensitive) and Docker Hub's
// other host names as docker.io. Every image the checks judge parses (eachReference leaves the
// others NotAssessed), so these are the spellings a tenant can choose among.
func TestCanonicalRepositoryIsTheLibrarys(t *testing.T) {
	const dig = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, image := range []string{
		"nginx", "nginx:1.27", "library/nginx", "docker.io/nginx", "docker.io/library/nginx:1", "index.docker.io/nginx",
		"registry-1.docker.io/bitnami/redis", "Docker.io/nginx", "bitnami/redis:7", "Foo/bar", "foo/bar/baz",
		"allowed.io/x", "allowed.io.evil.com/x", "allowed.io:443/x:1", "evil.com/allowed.io/x", "ALLOWED.IO/x",
		"localhost/x", "localhost:5000/x", "LOCALHOST/x", "[::1]:5000/x", "127.0.0.1:5000/a/b:c",
		"allowed.io/x:1@" + dig, "allowed.io/x@" + dig, "allowed.io/x:sha256", "sha256:0123", "a_b/c", "a-b.c:1/d",
	} {
		named, err := reference.ParseNormalizedNamed(image)
		if err != nil {
			t.Fatalf("%q does not parse: %v", image, err)
		}
		host, path := strings.ToLower(reference.Domain(named)), reference.Path(named)
		if dockerHubAliases[host] || host == "docker.io" {
			host = "docker.io"
			if !strings.Contains(path, "/") {
				path = "library/" + path
			}
		}
		if got := canonicalRepository(image); got != host+"/"+path {
			t.Errorf("canonicalRepository(%q) = %q, the library reads %q", image, got, host+"/"+path)
		}
	}
}

// TestAllowedRegistryMatchesHostAndPath: an allowed registry allows the images of that registry
// host (and path, where the entry names one), never those whose name merely starts with the
// same characters.
func TestAllowedRegistryMatchesHostAndPath(t *testing.T) {
	p := &engine.Params{AllowedRegistries: []string{"allowed.io/", "ghcr.io/acme", "docker.io/library/"}}
	tests := map[string]struct {
		image string
		want  bool
	}{
		"the allowed host":                        {"allowed.io/x:1", true},
		"a host that starts with it":              {"allowed.io.evil.com/x:1", false},
		"the allowed host with a port":            {"allowed.io:443/x:1", false},
		"the allowed host as another's path":      {"evil.com/allowed.io/x:1", false},
		"the allowed host in upper case":          {"ALLOWED.IO/x:1", true},
		"localhost":                               {"localhost/x:1", false},
		"an official image, short":                {"x:1", true},
		"an official image, spelled in full":      {"docker.io/library/x:1", true},
		"a Docker Hub user's image":               {"evil/x:1", false},
		"a Docker Hub user's image, with host":    {"index.docker.io/evil/x:1", false},
		"the allowed path":                        {"ghcr.io/acme/x:1", true},
		"a path that starts with it":              {"ghcr.io/acme-evil/x:1", false},
		"the allowed path, pinned and tagged":     {"ghcr.io/acme/x:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true},
		"another host, the allowed path below it": {"evil.com/ghcr.io/acme/x:1", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if repo, got := allowedRegistry(p, tc.image); got != tc.want {
				t.Errorf("allowedRegistry(%q) = %v (%s), want %v", tc.image, got, repo, tc.want)
			}
		})
	}
}
