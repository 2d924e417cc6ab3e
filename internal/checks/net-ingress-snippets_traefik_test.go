package checks

import "testing"

// TestTraefikForeignNamespace: which namespace a Traefik Ingress provider reference names, as the
// CRD provider builds its IDs (<namespace>-<name>, or <namespace>_<name> under safeNaming).
func TestTraefikForeignNamespace(t *testing.T) {
	cases := map[string]struct {
		namespace, value, want string
	}{
		"a Middleware of the object's own namespace passes":            {"shop", "shop-auth@kubernetescrd", ""},
		"another namespace's Middleware names it":                      {"shop", "payments-basic-auth@kubernetescrd", "payments"},
		"the first foreign item of a list is reported":                 {"shop", " shop-a@kubernetescrd , bank-b@kubernetescrd", "bank"},
		"a namespace that begins like the object's is another's":       {"shop", "shopping-auth@kubernetescrd", "shopping"},
		"a safe name's namespace is what comes before the first _":     {"shop", "payments-auth_basic@kubernetescrd", "payments-auth"},
		"a safe name of the object's own namespace passes":             {"shop-a", "shop-a_auth@kubernetescrd", ""},
		"a safe name of a namespace beginning with the object's fails": {"shop", "shop-a_auth@kubernetescrd", "shop-a"},
		"kube-system's shared Middlewares pass":                        {"shop", "kube-system-ratelimit@kubernetescrd", ""},
		"traefik's shared Middlewares pass":                            {"shop", "traefik-redirect@kubernetescrd,traefik_x@kubernetescrd", ""},
		"kube alone is no system namespace":                            {"shop", "kube-auth@kubernetescrd", "kube"},
		"other providers' are their administrators'":                   {"shop", "auth@file,payments-auth@kubernetes", ""},
		"an ID without a namespace names no CRD object":                {"shop", "auth@kubernetescrd", ""},
		"a manifest without a namespace names the reference's":         {"", "shop-auth@kubernetescrd", "shop"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := traefikForeignNamespace(c.namespace, c.value); got != c.want {
				t.Errorf("traefikForeignNamespace(%q, %q) = %q, want %q", c.namespace, c.value, got, c.want)
			}
		})
	}
}
