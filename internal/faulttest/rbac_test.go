package faulttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// operatorUser is the operator's ServiceAccount as config/default names it; the API server's
// RBAC authorizer matches a ServiceAccount subject by this user name.
const operatorUser = "system:serviceaccount:" + adminNamespace + ":soc2-operator-controller-manager"

var (
	shippedOnce       sync.Once
	shippedKubeconfig string
	shippedErr        error
)

// shippedRoles applies the ClusterRoles, Roles and their bindings of config/default (rendered
// with kustomize, as users install them) and returns a kubeconfig of the operator's
// ServiceAccount user, which those bindings are all it is granted.
func shippedRoles(t *testing.T) string {
	t.Helper()
	shippedOnce.Do(func() { shippedKubeconfig, shippedErr = applyShippedRoles() })
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shippedKubeconfig
}

func applyShippedRoles() (string, error) {
	root := testenv.RepoRoot()
	kustomize, err := exec.Command(filepath.Join(root, "hack", "tool.sh"), "kustomize").Output()
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	build := exec.Command(strings.TrimSpace(string(kustomize)), "build", filepath.Join(root, "config", "default"))
	build.Stderr = &stderr
	rendered, err := build.Output()
	if err != nil {
		return "", errors.New("kustomize build config/default: " + err.Error() + ": " + stderr.String())
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(rendered), 4096)
	applied := 0
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", err
		}
		switch u.GetKind() {
		case "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
		default:
			continue
		}
		if err := k8s.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", errors.New("creating " + u.GetKind() + " " + u.GetName() + ": " + err.Error())
		}
		applied++
	}
	if applied == 0 {
		return "", errors.New("config/default renders no roles")
	}
	user, err := env.AddUser(envtest.User{Name: operatorUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + adminNamespace}}, nil)
	if err != nil {
		return "", err
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(os.TempDir(), "soc2-faulttest-operator-sa.kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// TestShippedLeaseVerbsAreTrimmed: the operator's ServiceAccount may get, create and update the
// Lease (all client-go's LeaseLock does), and nothing else on leases.
func TestShippedLeaseVerbsAreTrimmed(t *testing.T) {
	cfg, err := clientcmd.BuildConfigFromFlags("", shippedRoles(t))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for verb, want := range map[string]bool{"get": true, "create": true, "update": true,
		"list": false, "watch": false, "patch": false, "delete": false, "deletecollection": false} {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: adminNamespace, Verb: verb, Group: "coordination.k8s.io", Resource: "leases", Name: "soc2-operator.compliance.soc2-operator.io"}}},
			metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed != want {
			t.Errorf("the operator's ServiceAccount may %s leases: %v, want %v", verb, r.Status.Allowed, want)
		}
	}
}
