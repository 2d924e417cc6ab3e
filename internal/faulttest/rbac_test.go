//go:build e2e

package faulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// operatorUser is the operator's ServiceAccount as config/default names it; the API server's
// RBAC authorizer matches a ServiceAccount subject by this user name. The roles of config/default
// granting it all the tests here need holds admissionpolicy.DefaultOperatorUser to the install.
var operatorUser = admissionpolicy.DefaultOperatorUser()

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
	path := filepath.Join(workDir, "operator-sa.kubeconfig")
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

// applyFile creates every object of a YAML file of the repository (as the admin).
func applyFile(t *testing.T, rel string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), rel))
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			t.Fatal(err)
		}
		if err := k8s.Create(context.Background(), u); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s: creating %s %s: %v", rel, u.GetKind(), u.GetName(), err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), u) })
	}
}

// TestPolicyReportsNeedTheWriterRole: the operator's own role cannot write PolicyReports. A
// profile that asks for them, on an install with only the shipped roles, is not Ready and says
// what to apply, while its ComplianceReports are still written; once
// config/policyreport/writer is applied, its PolicyReports are written.
func TestPolicyReportsNeedTheWriterRole(t *testing.T) {
	ctx := context.Background()
	const name = "fault-policyreport-rbac"
	asOperator := shippedRoles(t)
	crds, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(testenv.RepoRoot(), "config", "policyreport")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = envtest.UninstallCRDs(env.Config, envtest.CRDInstallOptions{CRDs: crds})
	})
	scenario(t, name)
	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.PolicyReports = true
	if err := k8s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	startManagerAs(t, asOperator)

	readyReason := func() (string, string, error) {
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return "", "", err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil {
			return "", "", errors.New("no Ready condition yet")
		}
		return c.Reason, c.Message, nil
	}
	eventually(t, 60*time.Second, "the profile says the operator may not write PolicyReports", func() error {
		reason, message, err := readyReason()
		if err != nil {
			return err
		}
		if reason != v1alpha1.ReasonPolicyReportsUnavailable || !strings.Contains(message, "kubectl apply -k config/policyreport/writer") {
			return errors.New(reason + ": " + message)
		}
		return nil
	})
	eventually(t, 60*time.Second, "the ComplianceReport is written without the writer role", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		if got := privilegedFinding(rep); got != v1alpha1.ResultFail {
			return fmt.Errorf("wl-privileged: %q", got)
		}
		return nil
	})
	policyReports := func() (int, error) {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("wgpolicyk8s.io/v1alpha2")
		list.SetKind("PolicyReportList")
		err := k8s.List(ctx, list, client.InNamespace(name))
		return len(list.Items), err
	}
	if n, err := policyReports(); err != nil || n != 0 {
		t.Fatalf("PolicyReports in %s without the writer role: %d, %v", name, n, err)
	}

	applyFile(t, "config/policyreport/writer/policyreport_writer_role.yaml")
	// A spec change makes the operator evaluate the profile again now.
	if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
		t.Fatal(err)
	}
	p.Spec.EvaluationInterval = &metav1.Duration{Duration: time.Minute}
	if err := k8s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "PolicyReports are written with the writer role", func() error {
		n, err := policyReports()
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("none yet")
		}
		if reason, message, err := readyReason(); err != nil || reason == v1alpha1.ReasonPolicyReportsUnavailable {
			return fmt.Errorf("Ready: %s: %s (%v)", reason, message, err)
		}
		return nil
	})
}

// TestAnAddOnInstalledAfterTheOperatorStartedIsNotAssessed: the operator watches the kinds the
// API server serves when it starts. With the Gateway API installed after it, no HTTPRoute was
// read and net-ingress-tls judged none: a workload published over plain HTTP through one left
// CC6.7 reading Pass, with nothing saying the operator could not see routes. Each full
// evaluation now finds such kinds: the checks that judge them are NotAssessed and the profile
// says KindsUnreadable, naming the restart it takes. (The Gateway API's CRDs stay installed for
// the rest of the package, whose tests start their own operators: this test comes last.)
func TestAnAddOnInstalledAfterTheOperatorStartedIsNotAssessed(t *testing.T) {
	ctx := context.Background()
	const name = "fault-addon"
	asOperator := shippedRoles(t)
	scenario(t, name)
	startManagerAs(t, asOperator)
	eventually(t, 60*time.Second, "the namespace's report", func() error {
		_, err := report(name)
		return err
	})
	dir, err := testenv.GatewayAPICRDs()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	evaluateNow(t, name)
	p := &v1alpha1.ComplianceProfile{}
	eventually(t, 60*time.Second, "the profile says the routes installed since are not read", func() error {
		if err := k8s.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return err
		}
		ready := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if ready == nil || ready.Reason != v1alpha1.ReasonKindsUnreadable ||
			!strings.Contains(ready.Message, "httproutes.gateway.networking.k8s.io since the operator started") || !strings.Contains(ready.Message, "restart") {
			return fmt.Errorf("Ready %+v", ready)
		}
		return nil
	})
	eventually(t, 30*time.Second, "CC6.7 counts the routes' check as unassessed", func() error {
		rep, err := report(name)
		if err != nil {
			return err
		}
		for _, c := range rep.Status.Criteria {
			if c.ID == "CC6.7" && c.UnassessedChecks == 0 {
				return fmt.Errorf("CC6.7 %+v: assessed in full though the operator reads no route", c)
			}
		}
		return nil
	})
}
