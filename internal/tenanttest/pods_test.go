package tenanttest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// These tests model what the controller-manager does (envtest runs none): where a controller
// would create a ReplicaSet or a Pod, the platform admin creates it, with the owner reference
// and the additions the system makes (node name, tolerations, the projected service-account
// token, the pod-template-hash label).

// TestAForgedOwnerReferenceDoesNotHideAPod is attack 2: a Pod that claims a clean workload as
// its controller (its real UID, controller: true) is still judged for what it runs.
func TestAForgedOwnerReferenceDoesNotHideAPod(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "forged-owner", func(p *v1alpha1.ComplianceProfile) { p.Spec.MaxFindings = 200 })

	web := hardenedDeployment(tn.Namespace, "web")
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-7d9f8c6b5")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	job := hardenedJob(tn.Namespace, "nightly")
	if err := tn.Client.Create(ctx, job); err != nil {
		t.Fatal(err)
	}

	cases := map[string]struct {
		pod   string
		owner metav1.OwnerReference
	}{
		"a Deployment (which creates no Pods)": {pod: "forged-deployment", owner: controllerRef(web, "apps/v1", "Deployment")},
		"a ReplicaSet whose template differs":  {pod: "forged-replicaset", owner: controllerRef(rs, "apps/v1", "ReplicaSet")},
		"a Job whose template differs":         {pod: "forged-job", owner: controllerRef(job, "batch/v1", "Job")},
	}
	for _, tc := range cases {
		if err := tn.Client.Create(ctx, attackPod(tn.Namespace, tc.pod, &tc.owner)); err != nil {
			t.Fatalf("creating Pod %s as the tenant: %v", tc.pod, err)
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tn.waitReport(t, "the forged Pod's findings named as the Pod", func(rep *v1alpha1.ComplianceReport) error {
				for _, check := range []string{"wl-privileged", "wl-host-namespaces", "sec-literal-env-credentials"} {
					f := finding(rep, "Pod", tc.pod, check)
					if f == nil {
						return fmt.Errorf("no %s finding on Pod %s (findings: %s)", check, tc.pod, findingList(rep))
					}
					if want := tc.owner.Kind + " " + tc.owner.Name; !strings.Contains(f.Message, want) {
						return fmt.Errorf("%s on Pod %s: message %q does not name the claimed controller %s", check, tc.pod, f.Message, want)
					}
				}
				if rep.Status.Result == v1alpha1.Compliant {
					return errors.New("the report says Compliant")
				}
				return nil
			})
		})
	}
}

// TestAGenuineControllerPodIsJudgedThroughItsController holds the other side: a Pod that is
// what its ReplicaSet's template produces, plus what the system adds, is judged through its
// Deployment and adds no findings of its own.
func TestAGenuineControllerPodIsJudgedThroughItsController(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "genuine", nil)
	web := privilegedDeployment(tn.Namespace, "web")
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-5c6d7f8b9")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web-5c6d7f8b9-abcde", "web-5c6d7f8b9-fghij"} {
		if err := platform.Create(ctx, podOf(rs, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A bare Pod created after them: once its finding is in the report, the evaluation saw
	// the controller's Pods too (one informer delivers Pods in order).
	sentinel := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sentinel", Namespace: tn.Namespace},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/c:1"}}}}
	if err := platform.Create(ctx, sentinel); err != nil {
		t.Fatal(err)
	}
	rep := tn.waitReport(t, "the sentinel Pod judged", func(rep *v1alpha1.ComplianceReport) error {
		if finding(rep, "Pod", "sentinel", "avl-bare-pod") == nil {
			return errors.New("no avl-bare-pod finding on the sentinel Pod yet")
		}
		return nil
	})
	if finding(rep, "Deployment", "web", "wl-privileged") == nil {
		t.Errorf("no wl-privileged finding on Deployment web: %s", findingList(rep))
	}
	for _, f := range rep.Status.Findings {
		if (f.Resource.Kind == "Pod" && f.Resource.Name != "sentinel") || f.Resource.Kind == "ReplicaSet" {
			t.Errorf("a controller-created object has a finding of its own (a duplicate of its Deployment's): %s %s/%s: %s",
				f.Check, f.Resource.Kind, f.Resource.Name, f.Message)
		}
	}
}

// TestADebugContainerOnAControllerPodIsReported is attack 3: a privileged ephemeral container
// added to a Deployment's Pod (kubectl debug --profile=sysadmin) is a Critical finding naming
// the container. The built-in admin role does not grant pods/ephemeralcontainers, so the
// platform admin adds it.
func TestADebugContainerOnAControllerPodIsReported(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "debug", nil)
	web := hardenedDeployment(tn.Namespace, "web")
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-6b7c8d9f5")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := podOf(rs, "web-6b7c8d9f5-x2k4p")
	if err := platform.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if err := addEphemeral(ctx, platform, pod, "debugger"); err != nil {
		t.Fatalf("adding an ephemeral container: %v", err)
	}
	tn.waitReport(t, "a Critical finding on the debug container", func(rep *v1alpha1.ComplianceReport) error {
		f := finding(rep, "Pod", pod.Name, "wl-privileged")
		switch {
		case f == nil:
			return fmt.Errorf("no wl-privileged finding on Pod %s: %s", pod.Name, findingList(rep))
		case f.Container != "debugger" || f.Severity != v1alpha1.SeverityCritical:
			return fmt.Errorf("wl-privileged on Pod %s: container %q severity %s, want debugger Critical", pod.Name, f.Container, f.Severity)
		case rep.Status.Result == v1alpha1.Compliant:
			return errors.New("the report says Compliant")
		}
		return nil
	})
}

// TestAControllerPodChangedInPlaceIsJudgedItself: a Pod's image is mutable, and the tenant may
// update Pods; a Deployment's Pod whose image the tenant swapped (kubectl set image pod/...) no
// longer is what the template produces, so it is judged itself.
func TestAControllerPodChangedInPlaceIsJudgedItself(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "swapped", nil)
	web := hardenedDeployment(tn.Namespace, "web")
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-9c8b7a6d5")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := podOf(rs, "web-9c8b7a6d5-m3n4b")
	if err := platform.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	cur := &corev1.Pod{}
	if err := tn.Client.Get(ctx, client.ObjectKeyFromObject(pod), cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.Containers[0].Image = "registry.example.com/shop/app:latest"
	if err := tn.Client.Update(ctx, cur); err != nil {
		t.Fatalf("updating the Pod's image as the tenant: %v", err)
	}
	tn.waitReport(t, "the swapped Pod judged itself", func(rep *v1alpha1.ComplianceReport) error {
		f := finding(rep, "Pod", pod.Name, "img-mutable-tag")
		if f == nil {
			return fmt.Errorf("no img-mutable-tag finding on Pod %s: %s", pod.Name, findingList(rep))
		}
		if want := "container app runs image registry.example.com/shop/app:latest"; !strings.Contains(f.Message, want) {
			return fmt.Errorf("message %q does not say %q", f.Message, want)
		}
		return nil
	})
}

// TestAStatefulSetPodOnAnotherClaimIsJudgedItself: a StatefulSet's claim volumes are the one
// part of its Pods its template does not spell (the controller adds a claim per replica), and
// the StatefulSet is judged by the claims it makes (data-db-0 here, absent). A namespace admin
// creates the Pod db-0 naming the StatefulSet as its controller (its real UID), its template
// but for the claim its data volume names: loot, bound to a volume at the node's root that an
// administrator left Available. The Pod is judged itself and fails wl-hostpath-pv.
func TestAStatefulSetPodOnAnotherClaimIsJudgedItself(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "sts-claim", nil)
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: tn.Namespace + "-node-root"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}},
		}}
	if err := platform.Create(ctx, pv); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = platform.Delete(context.Background(), pv) })

	labels := map[string]string{"app": "db"}
	spec := hardenedPodSpec()
	spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	claimSpec := corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: tn.Namespace, Labels: labels},
		Spec: appsv1.StatefulSetSpec{ServiceName: "db", Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template:             corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: claimSpec}}}}
	if err := tn.Client.Create(ctx, db); err != nil {
		t.Fatal(err)
	}
	loot := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "loot", Namespace: tn.Namespace}, Spec: *claimSpec.DeepCopy()}
	loot.Spec.VolumeName = pv.Name
	if err := tn.Client.Create(ctx, loot); err != nil {
		t.Fatalf("creating claim loot as the tenant: %v", err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: tn.Namespace, Labels: labels,
		OwnerReferences: []metav1.OwnerReference{controllerRef(db, "apps/v1", "StatefulSet")}}, Spec: *spec.DeepCopy()}
	pod.Spec.Hostname, pod.Spec.Subdomain = "db-0", "db"
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "loot"}}}}
	if err := tn.Client.Create(ctx, pod); err != nil {
		t.Fatalf("creating Pod db-0 as the tenant: %v", err)
	}
	tn.waitReport(t, "Pod db-0 judged itself", func(rep *v1alpha1.ComplianceReport) error {
		f := finding(rep, "Pod", "db-0", "wl-hostpath-pv")
		if f == nil {
			return fmt.Errorf("no wl-hostpath-pv finding on Pod db-0: %s", findingList(rep))
		}
		if want := `PersistentVolume "` + pv.Name + `"`; !strings.Contains(f.Message, want) {
			return fmt.Errorf("message %q does not name %s", f.Message, want)
		}
		return nil
	})
}

// TestAControllerPodKeepsTheTokenItsServiceAccountNoLongerGrants: the ServiceAccount admission
// plugin mounted the token into a Deployment's Pod while ServiceAccount default left automount
// on; the namespace admin then sets automountServiceAccountToken: false on it. The Deployment's
// template, judged with the ServiceAccount as it is now, passes sa-token-automount, but the
// running Pod keeps the token until it is replaced (a pod's volumes cannot change): it is judged
// itself, and fails.
func TestAControllerPodKeepsTheTokenItsServiceAccountNoLongerGrants(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "token-kept", nil)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: tn.Namespace}}
	if err := tn.Client.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	web := hardenedDeployment(tn.Namespace, "web")
	web.Spec.Template.Spec.AutomountServiceAccountToken = nil
	if err := tn.Client.Create(ctx, web); err != nil {
		t.Fatal(err)
	}
	rs := replicaSetOf(web, "web-6b7c8d9f0")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	pod := podOf(rs, "web-6b7c8d9f0-q7w8e")
	if err := platform.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	tn.waitReport(t, "the Deployment failing sa-token-automount", func(rep *v1alpha1.ComplianceReport) error {
		if finding(rep, "Deployment", "web", "sa-token-automount") == nil {
			return fmt.Errorf("no sa-token-automount finding on Deployment web: %s", findingList(rep))
		}
		return nil
	})
	if err := tn.Client.Get(ctx, client.ObjectKeyFromObject(sa), sa); err != nil {
		t.Fatal(err)
	}
	sa.AutomountServiceAccountToken = ptr.To(false)
	if err := tn.Client.Update(ctx, sa); err != nil {
		t.Fatalf("turning automount off on the ServiceAccount as the tenant: %v", err)
	}
	tn.waitReport(t, "the Pod that keeps the token judged itself", func(rep *v1alpha1.ComplianceReport) error {
		if f := finding(rep, "Deployment", "web", "sa-token-automount"); f != nil {
			return fmt.Errorf("Deployment web still fails sa-token-automount: %s", f.Message)
		}
		f := finding(rep, "Pod", pod.Name, "sa-token-automount")
		if f == nil {
			return fmt.Errorf("no sa-token-automount finding on Pod %s: %s", pod.Name, findingList(rep))
		}
		if want := "has mounted the token"; !strings.Contains(f.Message, want) {
			return fmt.Errorf("message %q does not say %q", f.Message, want)
		}
		return nil
	})
}

// TestEnforceDeniesForgedOwnersAndDebugContainers: under Enforce, neither a forged owner
// reference nor the ephemeral-containers subresource gets a privileged container past
// admission, while a Pod its controller's template explains is admitted.
func TestEnforceDeniesForgedOwnersAndDebugContainers(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "enforce-pods", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Enforcement = &v1alpha1.Enforcement{Mode: v1alpha1.EnforcementEnforce}
	})
	web := hardenedDeployment(tn.Namespace, "web")
	testenv.Eventually(t, 30*time.Second, "the hardened Deployment admitted", func() error {
		return tn.Client.Create(ctx, web)
	})
	// The profile is in the webhook's cache: a privileged Deployment is denied.
	testenv.Eventually(t, 30*time.Second, "Enforce in effect", func() error {
		err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "probe"))
		if err == nil {
			_ = tn.Client.Delete(ctx, privilegedDeployment(tn.Namespace, "probe"))
			return errors.New("a privileged Deployment was admitted")
		}
		return nil
	})
	rs := replicaSetOf(web, "web-8f9d7c6b5")
	if err := platform.Create(ctx, rs); err != nil {
		t.Fatalf("a ReplicaSet its Deployment's template explains was denied: %v", err)
	}
	pod := podOf(rs, "web-8f9d7c6b5-q7w8e")
	if err := platform.Create(ctx, pod); err != nil {
		t.Fatalf("a Pod its ReplicaSet's template explains was denied: %v", err)
	}

	t.Run("a forged owner reference", func(t *testing.T) {
		owner := controllerRef(web, "apps/v1", "Deployment")
		err := tn.Client.Create(ctx, attackPod(tn.Namespace, "forged", &owner))
		if err == nil {
			t.Fatal("a privileged hostPID Pod with a forged owner reference was admitted")
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
			t.Errorf("want a denial naming wl-privileged, got %v", err)
		}
	})
	t.Run("a forged owner reference to the ReplicaSet", func(t *testing.T) {
		owner := controllerRef(rs, "apps/v1", "ReplicaSet")
		err := tn.Client.Create(ctx, attackPod(tn.Namespace, "forged-rs", &owner))
		if err == nil {
			t.Fatal("a privileged hostPID Pod with a forged owner reference was admitted")
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
			t.Errorf("want a denial naming wl-privileged, got %v", err)
		}
	})
	t.Run("an owner reference to a name no controller can have", func(t *testing.T) {
		// The API server does not check the names owner references give; reading this one
		// fails otherwise than not found, which the webhook once took for an error of its own
		// and admitted the Pod with a warning.
		owner := controllerRef(rs, "apps/v1", "ReplicaSet")
		owner.Name = rs.Name + "/status"
		err := tn.Client.Create(ctx, attackPod(tn.Namespace, "forged-name", &owner))
		if err == nil {
			t.Fatal("a privileged hostPID Pod whose owner reference names no possible controller was admitted")
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
			t.Errorf("want a denial naming wl-privileged, got %v", err)
		}
	})
	t.Run("a privileged ephemeral container", func(t *testing.T) {
		err := addEphemeral(ctx, platform, pod, "debugger")
		if err == nil {
			t.Fatal("a privileged ephemeral container was admitted")
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "debugger") {
			t.Errorf("want a denial naming container debugger, got %v", err)
		}
	})
}

// TestLargeConfigMapsCannotTimeTheWebhookOut: the webhook judged every object in the namespace
// of the workload it was asked about, so a tenant's large ConfigMaps (which the credential rules
// scan) made every request slow. Past the webhook's 5 s timeout the API server applies the
// failurePolicy, Ignore by default: with 150 ConfigMaps of about 1 MiB, a privileged
// Deployment was admitted under Enforce after 5.0 s. It must be denied (in 14 ms here: the
// test asserts the denial, which the timeout alone decides, not a time).
//
// A scale test (150 MiB through the API server): make test-scale runs it, make test skips it
// (-short).
func TestLargeConfigMapsCannotTimeTheWebhookOut(t *testing.T) {
	if testing.Short() {
		t.Skip("a scale test (150 ConfigMaps of about 1 MiB): make test-scale runs it, make test skips it (-short)")
	}
	ctx := context.Background()
	tn, deny := enforcingTenant(t, "enforce-large-configmaps")
	random := rand.New(rand.NewPCG(1, 2))
	for i := range 150 {
		cm := testgen.LargeConfigMap(tn.Namespace, fmt.Sprintf("settings-%d", i), random)
		if err := tn.Client.Create(ctx, cm); err != nil {
			t.Fatalf("creating ConfigMap %s as the tenant: %v", cm.Name, err)
		}
	}
	start := time.Now()
	err := deny()
	t.Logf("the webhook's answer beside 150 ConfigMaps of about 1 MiB came after %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Error(err)
	}
}

// enforcingTenant makes a tenant whose profile enforces, and returns with it deny, which
// dry-runs the creation of a privileged Deployment as the tenant and says why unless the
// webhook denies it naming wl-privileged; it returns once Enforce is in effect (deny holds).
func enforcingTenant(t *testing.T, name string) (*tenant, func() error) {
	t.Helper()
	ctx := context.Background()
	tn := newTenant(t, name, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Enforcement = &v1alpha1.Enforcement{Mode: v1alpha1.EnforcementEnforce}
	})
	deny := func() error {
		err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "agent"), client.DryRunAll)
		if err == nil {
			return errors.New("a privileged Deployment was admitted")
		}
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "wl-privileged") {
			return fmt.Errorf("want a denial naming wl-privileged, got %w", err)
		}
		return nil
	}
	testenv.Eventually(t, 30*time.Second, "Enforce in effect", deny)
	return tn, deny
}

// hardenedDeployment passes every check of severity High and above.
func hardenedDeployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: hardenedPodSpec()},
		},
	}
}

func hardenedJob(ns, name string) *batchv1.Job {
	spec := hardenedPodSpec()
	spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
	}
}

func hardenedPodSpec() corev1.PodSpec {
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
	return corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](10001), RunAsGroup: ptr.To[int64](10001),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:      "app",
			Image:     "registry.example.com/shop/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Resources: corev1.ResourceRequirements{Requests: res, Limits: res},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
	}
}

// attackPod runs a privileged container in the host's PID namespace with a literal password:
// a Critical and two High findings wherever it is judged.
func attackPod(ns, name string, owner *metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			HostPID: true,
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example.com/shop/app:1.0",
				Env:             []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}},
				SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
			}},
		},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

func controllerRef(obj client.Object, apiVersion, kind string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: obj.GetName(), UID: obj.GetUID(), Controller: ptr.To(true)}
}

// replicaSetOf is the ReplicaSet the Deployment controller would create: the template with the
// pod-template-hash label.
func replicaSetOf(d *appsv1.Deployment, name string) *appsv1.ReplicaSet {
	hash := name[strings.LastIndexByte(name, '-')+1:]
	tmpl := *d.Spec.Template.DeepCopy()
	tmpl.Labels = withLabel(tmpl.Labels, "pod-template-hash", hash)
	sel := d.Spec.Selector.DeepCopy()
	sel.MatchLabels = withLabel(sel.MatchLabels, "pod-template-hash", hash)
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace, Labels: tmpl.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: sel, Template: tmpl},
	}
}

// podOf is the Pod the ReplicaSet controller would create, after the API server's admission
// added what it adds: the service account, the projected token volume and its mounts, the
// default tolerations, and (later) the node it is scheduled to.
func podOf(rs *appsv1.ReplicaSet, name string) *corev1.Pod {
	spec := *rs.Spec.Template.Spec.DeepCopy()
	token := "kube-api-access-" + name[len(name)-5:]
	spec.ServiceAccountName = "default"
	spec.NodeName = "node-1"
	spec.Tolerations = append(spec.Tolerations,
		corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		corev1.Toleration{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)})
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: token, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](420),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}})
	for i := range spec.Containers {
		spec.Containers[i].VolumeMounts = append(spec.Containers[i].VolumeMounts,
			corev1.VolumeMount{Name: token, ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: rs.Namespace, Labels: rs.Spec.Template.Labels,
			Annotations: rs.Spec.Template.Annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: spec,
	}
}

// addEphemeral adds a privileged ephemeral container through the pods/ephemeralcontainers
// subresource, as kubectl debug --profile=sysadmin does.
func addEphemeral(ctx context.Context, c client.Client, pod *corev1.Pod, name string) error {
	cur := &corev1.Pod{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}, cur); err != nil {
		return err
	}
	cur.Spec.EphemeralContainers = append(cur.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: name, Image: "registry.example.com/tools/debug:1.0", Stdin: true, TTY: true,
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		},
		TargetContainerName: pod.Spec.Containers[0].Name,
	})
	return c.SubResource("ephemeralcontainers").Update(ctx, cur)
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// finding returns the report's finding of check on kind/name, or nil.
func finding(rep *v1alpha1.ComplianceReport, kind, name, check string) *v1alpha1.Finding {
	for i := range rep.Status.Findings {
		f := &rep.Status.Findings[i]
		if f.Check == check && f.Resource.Kind == kind && f.Resource.Name == name {
			return f
		}
	}
	return nil
}

// failingFinding returns the report's finding of check on the object of that kind and name,
// and an error unless there is one and it fails.
func failingFinding(rep *v1alpha1.ComplianceReport, kind, name, check string) (*v1alpha1.Finding, error) {
	f := finding(rep, kind, name, check)
	switch {
	case f == nil:
		return nil, fmt.Errorf("no %s finding on %s %s (findings: %s)", check, kind, name, findingList(rep))
	case f.Result != v1alpha1.ResultFail:
		return f, fmt.Errorf("%s on %s %s: %s, want Fail", check, kind, name, f.Result)
	}
	return f, nil
}

func findingList(rep *v1alpha1.ComplianceReport) string {
	var parts []string
	for _, f := range rep.Status.Findings {
		parts = append(parts, fmt.Sprintf("%s %s/%s[%s]", f.Check, f.Resource.Kind, f.Resource.Name, f.Container))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// TestAPodClaimingANodeAsItsControllerIsABarePod: the tenant writes a Node, with its real UID,
// as their bare Pod's controller and binds the Pod to that node. The API server accepts it from
// a namespace admin (a namespaced object may have a cluster-scoped owner), but only a kubelet's
// mirror pod of a static pod has a Node as controller, and NodeRestriction lets a kubelet create
// only mirror pods, annotated kubernetes.io/config.mirror (admitPodCreate, k8s.io/kubernetes
// v1.37.2). Nothing recreates this Pod when its node fails: avl-bare-pod fails it, where it
// passed it before on the claim alone.
func TestAPodClaimingANodeAsItsControllerIsABarePod(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "node-owner", nil)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-" + tn.Namespace}}
	if err := platform.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = platform.Delete(context.Background(), node) })
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pinned", Namespace: tn.Namespace,
			OwnerReferences: []metav1.OwnerReference{controllerRef(node, "v1", "Node")}},
		Spec: hardenedPodSpec(),
	}
	pod.Spec.NodeName = node.Name
	if err := tn.Client.Create(ctx, pod); err != nil {
		t.Fatalf("creating a Pod owned by a Node as the tenant: %v", err)
	}
	tn.waitReport(t, "avl-bare-pod fails the Pod that claims a Node", func(rep *v1alpha1.ComplianceReport) error {
		f, err := failingFinding(rep, "Pod", pod.Name, "avl-bare-pod")
		if err != nil {
			return err
		}
		if want := "creates only its kubelet's mirror pods"; !strings.Contains(f.Message, want) {
			return fmt.Errorf("message %q does not say %q", f.Message, want)
		}
		return nil
	})
}
