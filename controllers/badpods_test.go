package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// badPodPodLevel are the owner checks that report the pod as a whole (no container).
var badPodPodLevel = map[string]bool{
	"wl-host-namespaces": true, "wl-host-network": true, "wl-hostpath": true, "wl-unsafe-sysctls": true,
	"wl-volume-types": true, "wl-runtime-socket": true,
}

// TestBadPodsFailTheirOwnersInTheReport is the operator's share of the bad-pods sweep (scan's
// is internal/scan's TestBadPodsFailTheirOwnersWhereverThePodSpecLives): every danger, at every
// level, in each kind the operator reads at its served version, the bad container rotating
// through containers, init containers and native sidecars, and in an ephemeral container added
// to a running Pod through the ephemeralcontainers subresource, created on the real API server.
// Each namespace's ComplianceReport must list a Fail finding of every check that owns the
// danger, on the object and (for a container check) the bad container. Objects the API server
// refuses (a probe on an ephemeral container, a HostProcess container beside a non-HostProcess
// one) cannot run and are not judged.
func TestBadPodsFailTheirOwnersInTheReport(t *testing.T) {
	ctx := context.Background()
	const profile = "badpods"
	owners := map[string]bool{}
	type want struct {
		pod       testgen.BadPod
		ephemeral bool
	}
	byNamespace := map[string][]want{}
	served := map[string]bool{"v1": true, "apps/v1": true, "batch/v1": true}
	// Each kind gets one template slot per danger, rotating with the danger, so that every kind
	// is swept with each slot.
	slots := []string{"containers", "initContainers", "sidecar"}
	kindIndex := map[string]int{}
	for _, c := range testgen.BadPodCarriers {
		if _, ok := kindIndex[c.Kind]; !ok {
			kindIndex[c.Kind] = len(kindIndex)
		}
	}
	dangerIndex := map[string]int{}
	for i, d := range testgen.BadPodDangers() {
		dangerIndex[d] = i
	}
	for _, p := range testgen.BadPods("") {
		for _, o := range p.Owners {
			owners[o] = true
		}
		if !served[p.APIVersion] || p.Kind == "PodTemplate" {
			continue
		}
		ns := "badpods-" + p.Danger + "-" + p.Level
		switch {
		case p.Kind == "Pod" && p.Slot == "ephemeralContainers":
			byNamespace[ns] = append(byNamespace[ns], want{pod: p, ephemeral: true})
		case p.Slot == slots[(kindIndex[p.Kind]+dangerIndex[p.Danger]+len(p.Level))%len(slots)]:
			byNamespace[ns] = append(byNamespace[ns], want{pod: p})
		}
	}
	createProfile(t, profile, "badpods", func(p *v1alpha1.ComplianceProfile) {
		p.Spec.MaxFindings = 500
		no := false
		for _, c := range checks.Catalogue() {
			if !owners[c.ID] {
				p.Spec.Checks = append(p.Spec.Checks, v1alpha1.CheckOverride{ID: c.ID, Enabled: &no})
			}
		}
	})
	var refused []string
	namespaces := make([]string, 0, len(byNamespace))
	for ns := range byNamespace {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	created := map[string][]want{}
	for _, ns := range namespaces {
		createNamespace(t, ns, map[string]string{"badpods": "true"})
		for _, w := range byNamespace[ns] {
			p := w.pod
			if !p.Valid {
				continue
			}
			doc := p.Doc
			var eph []any
			if w.ephemeral {
				spec := doc["spec"].(map[string]any)
				eph = spec["ephemeralContainers"].([]any)
				delete(spec, "ephemeralContainers")
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(mustJSON(t, doc)); err != nil {
				t.Fatal(err)
			}
			u.SetNamespace(ns)
			if err := k8s.Create(ctx, u); err != nil {
				refused = append(refused, fmt.Sprintf("%s %s/%s: %v", p.APIVersion, p.Kind, p.Name, err))
				continue
			}
			if w.ephemeral {
				pod := &corev1.Pod{}
				if err := k8s.Get(ctx, client.ObjectKeyFromObject(u), pod); err != nil {
					t.Fatal(err)
				}
				ec := &corev1.EphemeralContainer{}
				if err := json.Unmarshal(mustJSON(t, eph[0]), ec); err != nil {
					t.Fatal(err)
				}
				pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, *ec)
				if err := k8s.SubResource("ephemeralcontainers").Update(ctx, pod); err != nil {
					refused = append(refused, fmt.Sprintf("ephemeral container of Pod/%s: %v", p.Name, err))
					continue
				}
			}
			created[ns] = append(created[ns], w)
		}
	}
	for _, r := range refused {
		t.Logf("refused by the API server: %s", r)
	}
	judged := 0
	for _, ns := range namespaces {
		ws := created[ns]
		if len(ws) == 0 {
			t.Errorf("%s: the API server refused every object of the danger", ns)
			continue
		}
		judged += len(ws)
		eventually(t, 60*time.Second, "the bad pods of "+ns+" fail their owners", func() error {
			rep, err := getReport(ns, profile)
			if err != nil {
				return err
			}
			var missing []string
			for _, w := range ws {
				p := w.pod
				for _, owner := range p.Owners {
					container := p.Container
					if badPodPodLevel[owner] {
						container = ""
					}
					f := finding(rep, owner, p.Name, container)
					if f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != p.Kind {
						missing = append(missing, fmt.Sprintf("%s/%s (%s) %s[%s]: %s", p.Kind, p.Name, p.Slot, owner, container, describeFinding(rep, owner, p.Name)))
					}
				}
			}
			if len(missing) > 0 {
				slices.Sort(missing)
				return fmt.Errorf("no Fail finding for:\n  %s", strings.Join(missing, "\n  "))
			}
			return nil
		})
	}
	t.Logf("judged %d objects in %d namespaces; %d refused", judged, len(namespaces), len(refused))
}

// describeFinding lists the report's findings of a check on an object, for a failure message.
func describeFinding(rep *v1alpha1.ComplianceReport, check, name string) string {
	var out []string
	for _, f := range rep.Status.Findings {
		if f.Check == check && f.Resource.Name == name {
			out = append(out, fmt.Sprintf("%s[%s] %s", f.Result, f.Container, f.Message))
		}
	}
	if len(out) == 0 {
		return "none listed"
	}
	return strings.Join(out, "; ")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAnEphemeralContainerAddedLaterIsJudged: a privileged ephemeral container added through
// the ephemeralcontainers subresource (kubectl debug) to a Pod the operator has already judged
// hardened fails wl-privileged on that container, in a bare Pod and in a Pod that a ReplicaSet
// controls (judged through the ReplicaSet until then): the write changes no label or owner,
// only the Pod's spec.
func TestAnEphemeralContainerAddedLaterIsJudged(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "badpods-debugged", "badpods-debugged"
	createNamespace(t, ns, map[string]string{profile: "true"})
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	yes, no := true, false
	uid := int64(10001)
	hardened := corev1.PodSpec{
		AutomountServiceAccountToken: &no,
		Containers: []corev1.Container{{
			Name: "app", Image: "registry.example.com/app:1.0.0",
			SecurityContext: &corev1.SecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, AllowPrivilegeEscalation: &no},
		}},
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: *hardened.DeepCopy()},
		},
	}
	if err := k8s.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "tool", Namespace: ns}, Spec: *hardened.DeepCopy()}
	owned := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abcde", Namespace: ns, Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}},
		Spec: *hardened.DeepCopy(),
	}
	for _, p := range []*corev1.Pod{bare, owned} {
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the hardened Pods judged", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if rep.Status.Summary.Passed < 2 || rep.Status.Summary.Failing != 0 {
			return fmt.Errorf("summary %+v", rep.Status.Summary)
		}
		return nil
	})
	for _, p := range []*corev1.Pod{bare, owned} {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			t.Fatal(err)
		}
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox:1.36",
				SecurityContext: &corev1.SecurityContext{Privileged: &yes}},
			TargetContainerName: "app",
		})
		if err := k8s.SubResource("ephemeralcontainers").Update(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the debug containers fail wl-privileged", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		for _, p := range []*corev1.Pod{bare, owned} {
			if f := finding(rep, "wl-privileged", p.Name, "debug"); f == nil || f.Result != v1alpha1.ResultFail || f.Resource.Kind != "Pod" {
				return fmt.Errorf("Pod %s: %s", p.Name, describeFinding(rep, "wl-privileged", p.Name))
			}
		}
		return nil
	})
}
