package manifest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// csvInstall is the part of an OLM ClusterServiceVersion that OLM turns into objects.
type csvInstall struct {
	Spec struct {
		Install struct {
			Spec struct {
				Deployments []struct {
					Name  string                `json:"name"`
					Label map[string]string     `json:"label"`
					Spec  appsv1.DeploymentSpec `json:"spec"`
				} `json:"deployments"`
				Permissions        []csvPermission `json:"permissions"`
				ClusterPermissions []csvPermission `json:"clusterPermissions"`
			} `json:"spec"`
		} `json:"install"`
	} `json:"spec"`
}

type csvPermission struct {
	ServiceAccountName string              `json:"serviceAccountName"`
	Rules              []rbacv1.PolicyRule `json:"rules"`
}

// isCSV reports whether an object is an OLM ClusterServiceVersion.
func isCSV(apiVersion, kind string) bool {
	return kind == "ClusterServiceVersion" && (apiVersion == "operators.coreos.com/v1alpha1")
}

// expandCSV returns the objects OLM creates from a ClusterServiceVersion (its Deployments,
// ServiceAccounts, Roles and ClusterRoles), so that the checks judge what the bundle installs.
// Each is named as OLM names it and carries the CSV's namespace.
func expandCSV(js []byte, csv *unstructured.Unstructured) ([]*engine.Object, error) {
	var in csvInstall
	if err := unmarshal(js, &in); err != nil {
		return nil, fmt.Errorf("ClusterServiceVersion: spec.install: %w", describeJSONError(err))
	}
	ns := csv.GetNamespace()
	owner := fmt.Sprintf("ClusterServiceVersion %s", csv.GetName())
	annotate := func(m *metav1.ObjectMeta) {
		m.Annotations = map[string]string{"soc2-operator.io/installed-by": owner}
	}
	var out []*engine.Object
	spec := &in.Spec.Install.Spec
	for i, d := range spec.Deployments {
		if d.Name == "" {
			return nil, fmt.Errorf("ClusterServiceVersion: spec.install.spec.deployments[%d].name is missing", i)
		}
		obj := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: ns, Labels: d.Label}, Spec: d.Spec}
		annotate(&obj.ObjectMeta)
		out = append(out, engine.NewObject(obj, "apps/v1", "Deployment"))
	}
	accounts := map[string]bool{}
	addAccount := func(name string) {
		if name == "" || accounts[name] {
			return
		}
		accounts[name] = true
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		annotate(&sa.ObjectMeta)
		out = append(out, engine.NewObject(sa, "v1", "ServiceAccount"))
	}
	for i, p := range spec.Permissions {
		addAccount(p.ServiceAccountName)
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", csv.GetName(), i), Namespace: ns}, Rules: p.Rules}
		annotate(&role.ObjectMeta)
		out = append(out, engine.NewObject(role, "rbac.authorization.k8s.io/v1", "Role"))
	}
	for i, p := range spec.ClusterPermissions {
		addAccount(p.ServiceAccountName)
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-cluster-%d", csv.GetName(), i)}, Rules: p.Rules}
		annotate(&role.ObjectMeta)
		out = append(out, engine.NewObject(role, "rbac.authorization.k8s.io/v1", "ClusterRole"))
	}
	return out, nil
}
