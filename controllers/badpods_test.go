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

	corev1 "k8s.io/api/core/v1"
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
