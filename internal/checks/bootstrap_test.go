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
	own := kubernetesBindings()
	if len(own) != 13+41+7 {
		t.Errorf("%d bindings read from bootstrappolicy, want 61", len(own))
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
