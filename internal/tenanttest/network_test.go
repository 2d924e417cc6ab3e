package tenanttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAnAllowAllNetworkPolicyIsNoBoundary: net-pod-policy-coverage asks that a NetworkPolicy
// bound every pod's ingress. A namespace admin may create NetworkPolicies, and one that selects
// every pod and admits everything (ingress: [{}]) makes every pod "selected" while leaving its
// ingress as open as no policy. The workload must still fail the check; and with a default-deny
// policy beside it, net-namespace-default-deny must not pass either (policies add up).
func TestAnAllowAllNetworkPolicyIsNoBoundary(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "allow-all", func(p *v1alpha1.ComplianceProfile) { p.Spec.MaxFindings = 200 })

	labels := map[string]string{"app": "web"}
	web := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: tn.Namespace},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0"}}},
			},
		},
	}
	allowAll := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "allow-all", Namespace: tn.Namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
	defaultDeny := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: tn.Namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if err := tn.Client.Create(ctx, defaultDeny); err != nil {
		t.Fatalf("creating NetworkPolicy %s as the tenant: %v", defaultDeny.Name, err)
	}
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatalf("creating Deployment as the tenant: %v", err)
	}
	if err := tn.Client.Create(ctx, allowAll); err != nil {
		t.Fatalf("creating NetworkPolicy %s as the tenant: %v", allowAll.Name, err)
	}
	tn.waitReport(t, "the workload behind the allow-all policy reported", func(rep *v1alpha1.ComplianceReport) error {
		f, err := failingFinding(rep, "Deployment", web.Name, "net-pod-policy-coverage")
		if err != nil {
			return err
		}
		if !strings.Contains(f.Message, `NetworkPolicy "allow-all" admits ingress from anywhere`) {
			return fmt.Errorf("net-pod-policy-coverage on Deployment %s says %q, want it to name the allow-all policy", web.Name, f.Message)
		}
		if _, err := failingFinding(rep, "Namespace", tn.Namespace, "net-namespace-default-deny"); err != nil {
			return err
		}
		if rep.Status.Result == v1alpha1.Compliant {
			return errors.New("the report says Compliant")
		}
		return nil
	})
}

// TestALabelAddedToARunningPodIsJudged: a namespace admin may label Pods. Beside a default-deny
// policy, the tenant writes a NetworkPolicy that admits everything to pods labelled open=true,
// which the Deployment's template does not carry, so the Deployment passes; then they label one
// of its running Pods open=true (kubectl label pod). That Pod's ingress is open to all, but it
// was judged through its ReplicaSet's template, whose labels the policy does not select, and
// the report said every pod was behind a boundary. The Pod must be judged itself and fail.
func TestALabelAddedToARunningPodIsJudged(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "pod-label", func(p *v1alpha1.ComplianceProfile) { p.Spec.MaxFindings = 200 })

	defaultDeny := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: tn.Namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	open := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "open", Namespace: tn.Namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"open": "true"}},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
	for _, np := range []*networkingv1.NetworkPolicy{defaultDeny, open} {
		if err := tn.Client.Create(ctx, np); err != nil {
			t.Fatalf("creating NetworkPolicy %s as the tenant: %v", np.Name, err)
		}
	}
	web := hardenedDeployment(tn.Namespace, "web")
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-4f5a6b7c8")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := podOf(rs, "web-4f5a6b7c8-z9y8x")
	if err := platform.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	tn.waitReport(t, "the Deployment behind the default deny", func(rep *v1alpha1.ComplianceReport) error {
		if finding(rep, "Pod", pod.Name, "avl-pdb") != nil {
			t.Fatalf("the Pod is judged itself before it is labelled: %s", findingList(rep))
		}
		if f := finding(rep, "Deployment", web.Name, "net-pod-policy-coverage"); f != nil {
			t.Fatalf("net-pod-policy-coverage on Deployment %s: %s: %s", web.Name, f.Result, f.Message)
		}
		if finding(rep, "Deployment", web.Name, "avl-pdb") == nil {
			return fmt.Errorf("no avl-pdb finding on Deployment %s yet: %s", web.Name, findingList(rep))
		}
		return nil
	})

	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"open":"true"}}}`))
	if err := tn.Client.Patch(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: tn.Namespace}}, patch); err != nil {
		t.Fatalf("labelling the Pod as the tenant: %v", err)
	}
	tn.waitReport(t, "the labelled Pod judged itself", func(rep *v1alpha1.ComplianceReport) error {
		f, err := failingFinding(rep, "Pod", pod.Name, "net-pod-policy-coverage")
		if err != nil {
			return err
		}
		if !strings.Contains(f.Message, `NetworkPolicy "open" admits ingress from anywhere`) {
			return fmt.Errorf("net-pod-policy-coverage on Pod %s says %q, want it to name the open policy", pod.Name, f.Message)
		}
		if !strings.Contains(f.Message, "label open") {
			return fmt.Errorf("net-pod-policy-coverage on Pod %s says %q, want it to say the label open is why it is judged itself", pod.Name, f.Message)
		}
		return nil
	})
}

// TestManyCostlyNetworkPoliciesCannotTimeTheWebhookOut: judging whether a NetworkPolicy admits
// every source is bounded per policy (ingressWork), but not per namespace. A namespace admin's
// 200 small policies, each with twenty peers that require twenty different labels (judged to
// the bound, about 50 ms each here), made judging one Deployment take about 10 s, past the
// webhook's 5 s timeout: its failurePolicy (Ignore) admitted a privileged Deployment under
// Enforce. It must be denied.
func TestManyCostlyNetworkPoliciesCannotTimeTheWebhookOut(t *testing.T) {
	ctx := context.Background()
	tn, deny := enforcingTenant(t, "costly-policies")
	for i := range 200 {
		var peers []networkingv1.NetworkPolicyPeer
		for k := range 20 {
			peers = append(peers, networkingv1.NetworkPolicyPeer{
				PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{fmt.Sprintf("k%d-%d", i, k): "x"}}})
		}
		np := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("costly-%03d", i), Namespace: tn.Namespace},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
			},
		}
		if err := tn.Client.Create(ctx, np); err != nil {
			t.Fatalf("creating NetworkPolicy %s as the tenant: %v", np.Name, err)
		}
	}
	// The webhook reads the namespace from the operator's cache. One informer delivers
	// NetworkPolicies in order: once the report shows the policy created last, the cache holds
	// them all.
	sentinel := hardenedDeployment(tn.Namespace, "sentinel")
	if err := tn.Client.Create(ctx, sentinel); err != nil {
		t.Fatal(err)
	}
	last := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "aaa-open", Namespace: tn.Namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "sentinel"}},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}},
		},
	}
	if err := tn.Client.Create(ctx, last); err != nil {
		t.Fatal(err)
	}
	tn.waitReport(t, "the policy created last in the report", func(rep *v1alpha1.ComplianceReport) error {
		f, err := failingFinding(rep, "Deployment", sentinel.Name, "net-pod-policy-coverage")
		if err != nil {
			return err
		}
		if !strings.Contains(f.Message, `"aaa-open"`) {
			return fmt.Errorf("net-pod-policy-coverage on Deployment sentinel says %q", f.Message)
		}
		return nil
	})
	start := time.Now()
	err := deny()
	t.Logf("the webhook's answer beside 200 costly NetworkPolicies came after %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Error(err)
	}
}

// TestALabelAddedToARunningPodUnderACNIPolicyIsJudged is TestALabelAddedToARunningPodIsJudged
// where the policy that admits everything is Cilium's or Calico's: beside the tenant's default
// deny, the platform's CiliumNetworkPolicy public admits every entity to pods labelled
// public=true, and its Calico NetworkPolicy exposed admits everything to pods labelled
// exposed == 'yes' (meant for the ingress pods). The tenant labels two running Pods of a hardened
// Deployment whose template carries neither label (kubectl label pod): their ingress is open to
// all, and each must be judged itself and fail net-pod-policy-coverage, naming the policy.
func TestALabelAddedToARunningPodUnderACNIPolicyIsJudged(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "cni-pod-label", func(p *v1alpha1.ComplianceProfile) { p.Spec.MaxFindings = 200 })

	defaultDeny := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: tn.Namespace},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if err := tn.Client.Create(ctx, defaultDeny); err != nil {
		t.Fatalf("creating NetworkPolicy default-deny as the tenant: %v", err)
	}
	cilium := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
		"metadata": map[string]any{"name": "public", "namespace": tn.Namespace},
		"spec": map[string]any{
			"endpointSelector": map[string]any{"matchLabels": map[string]any{"public": "true"}},
			"ingress":          []any{map[string]any{"fromEntities": []any{"all"}}},
		},
	}}
	calico := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "exposed", "namespace": tn.Namespace},
		"spec": map[string]any{
			"order":    int64(100),
			"selector": "exposed == 'yes'",
			"ingress":  []any{map[string]any{"action": "Allow"}},
		},
	}}
	for _, p := range []*unstructured.Unstructured{cilium, calico} {
		if err := platform.Create(ctx, p); err != nil {
			t.Fatalf("creating %s %s: %v", p.GetKind(), p.GetName(), err)
		}
	}
	web := hardenedDeployment(tn.Namespace, "web")
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-4f5a6b7c8")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pods := map[string]string{"public": "true", "exposed": "yes"} // label -> value
	names := map[string]string{"public": "web-4f5a6b7c8-c1l1m", "exposed": "web-4f5a6b7c8-c4l1c"}
	for _, name := range names {
		if err := platform.Create(ctx, podOf(rs, name)); err != nil {
			t.Fatal(err)
		}
	}
	tn.waitReport(t, "the Deployment behind the default deny", func(rep *v1alpha1.ComplianceReport) error {
		for _, name := range names {
			if finding(rep, "Pod", name, "avl-pdb") != nil {
				t.Fatalf("Pod %s is judged itself before it is labelled: %s", name, findingList(rep))
			}
		}
		if f := finding(rep, "Deployment", web.Name, "net-pod-policy-coverage"); f != nil {
			t.Fatalf("net-pod-policy-coverage on Deployment %s: %s: %s", web.Name, f.Result, f.Message)
		}
		if finding(rep, "Deployment", web.Name, "avl-pdb") == nil {
			return fmt.Errorf("no avl-pdb finding on Deployment %s yet: %s", web.Name, findingList(rep))
		}
		return nil
	})

	for label, value := range pods {
		patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, label, value)))
		if err := tn.Client.Patch(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: names[label], Namespace: tn.Namespace}}, patch); err != nil {
			t.Fatalf("labelling Pod %s as the tenant: %v", names[label], err)
		}
	}
	want := map[string]string{
		"public":  `CiliumNetworkPolicy "public" admits ingress from anywhere`,
		"exposed": `Calico NetworkPolicy "exposed" admits ingress from anywhere`,
	}
	tn.waitReport(t, "the labelled Pods judged themselves", func(rep *v1alpha1.ComplianceReport) error {
		for label, name := range names {
			f, err := failingFinding(rep, "Pod", name, "net-pod-policy-coverage")
			if err != nil {
				return err
			}
			if !strings.Contains(f.Message, want[label]) {
				return fmt.Errorf("net-pod-policy-coverage on Pod %s says %q, want it to name the open policy", name, f.Message)
			}
			if !strings.Contains(f.Message, "label "+label) {
				return fmt.Errorf("net-pod-policy-coverage on Pod %s says %q, want it to say the label %s is why it is judged itself", name, f.Message, label)
			}
		}
		return nil
	})
}
