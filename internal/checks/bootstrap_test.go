package checks

import (
	"encoding/json"
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestKubernetesBindings: the bootstrap policy read is Kubernetes 1.37's (13 cluster-wide
// bindings, 41 of controllers, 7 in kube-system and kube-public), and a binding is Kubernetes'
// own only as Kubernetes creates it.
func TestKubernetesBindings(t *testing.T) {
	count := map[string]int{}
	for _, o := range bootstrapObjects() {
		count[o.Kind]++
	}
	if got := count["ClusterRoleBinding"] + count["RoleBinding"]; got != 13+41+7 {
		t.Errorf("%d bindings read from bootstrappolicy, want 61", got)
	}
	masters := rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:masters"}
	mallory := rbacv1.Subject{Kind: rbacv1.UserKind, Name: "mallory"}
	crb := func(name, role string, subjects ...rbacv1.Subject) *engine.Object {
		return engine.NewObject(&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   subjects,
		}, "", "")
	}
	rb := func(namespace, name, role string, subjects ...rbacv1.Subject) *engine.Object {
		return engine.NewObject(&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
			Subjects:   subjects,
		}, "", "")
	}
	signer := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "bootstrap-signer", Namespace: "kube-system"}
	for _, c := range []struct {
		what string
		o    *engine.Object
		want bool
	}{
		{"cluster-admin to system:masters", crb("cluster-admin", "cluster-admin", masters), true},
		{"the same without apiGroup", crb("cluster-admin", "cluster-admin", rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:masters"}), true},
		{"cluster-admin with no subject left", crb("cluster-admin", "cluster-admin"), true},
		{"cluster-admin with a user added", crb("cluster-admin", "cluster-admin", masters, mallory), false},
		{"cluster-admin's binding pointed at another role", crb("cluster-admin", "edit", masters), false},
		{"a system: name Kubernetes does not create", crb("system:backup", "cluster-admin", masters), false},
		{"bootstrap-signer's Role binding in kube-public", rb("kube-public", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer", signer), true},
		{"the same name in a tenant's namespace", rb("team-a", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer", signer), false},
		{"the same ServiceAccount name in another namespace", rb("kube-public", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
			rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "bootstrap-signer", Namespace: "team-a"}), false},
	} {
		if got := isBuiltinBinding(c.o); got != c.want {
			t.Errorf("%s: built-in %v, want %v", c.what, got, c.want)
		}
	}
}

// TestBootstrapPolicyReadAsYAML: the block reader, which reads the embedded policy quickly,
// reads every file of it (no fallback) and reads it as sigs.k8s.io/yaml does.
func TestBootstrapPolicyReadAsYAML(t *testing.T) {
	files, err := bootstrapPolicy.ReadDir("bootstrappolicy")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := bootstrapPolicy.ReadFile("bootstrappolicy/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		js, ok := manifest.BlockJSON(data, false, nil)
		if !ok {
			t.Errorf("%s: the block reader left it to sigs.k8s.io/yaml", f.Name())
			continue
		}
		var got, want any
		if err := json.Unmarshal(js, &got); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the block reader reads it otherwise than sigs.k8s.io/yaml", f.Name())
		}
	}
}

// TestKubernetesRoles: a role is Kubernetes' own when its bootstrap policy creates it (73 cluster
// roles and 7 Roles in kube-system and kube-public, and 3 cluster roles releases from 1.9 to 1.16
// created and 1.37 does not), or
// when an older release left it (a system: name with Kubernetes' label); a system: name alone,
// as add-ons give their ClusterRoles, or the label alone, does not make it so.
func TestKubernetesRoles(t *testing.T) {
	count := map[string]int{}
	for _, o := range bootstrapObjects() {
		count[o.Kind]++
	}
	if count["ClusterRole"] != 76 || count["Role"] != 7 {
		t.Errorf("read %d ClusterRoles and %d Roles from bootstrappolicy, want 76 and 7", count["ClusterRole"], count["Role"])
	}
	label := map[string]string{bootstrappingLabel: bootstrappingValue}
	role := func(kind, namespace, name string, labels map[string]string) *engine.Object {
		meta := metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels}
		if kind == "Role" {
			return engine.NewObject(&rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: kind}, ObjectMeta: meta}, "", "")
		}
		return engine.NewObject(&rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: kind}, ObjectMeta: meta}, "", "")
	}
	for _, c := range []struct {
		what string
		o    *engine.Object
		want bool
	}{
		{"admin", role("ClusterRole", "", "admin", nil), true},
		{"a controller's role", role("ClusterRole", "", "system:controller:expand-controller", nil), true},
		{"the SELinux warning controller's role", role("ClusterRole", "", "system:controller:selinux-warning-controller", nil), true},
		{"kubeadm's system:coredns", role("ClusterRole", "", "system:coredns", nil), false},
		{"a system: role an older release left, labelled", role("ClusterRole", "", "system:controller:retired", label), true},
		{"the label without a system: name", role("ClusterRole", "", "backup-agent", label), false},
		{"a Role in kube-system", role("Role", "kube-system", "extension-apiserver-authentication-reader", nil), true},
		{"the same Role in a tenant's namespace, labelled", role("Role", "team-a", "extension-apiserver-authentication-reader", label), false},
	} {
		if got := isBuiltinRole(c.o); got != c.want {
			t.Errorf("%s: built-in %v, want %v", c.what, got, c.want)
		}
	}
}
