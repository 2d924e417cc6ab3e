package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestPendingExceptionsPastTheBoundSayWhatIsNotComputed: a namespace admin creates exceptions
// without an approver, and each evaluation matched every PendingApproval one against every
// finding (1,000 of them over 10,000 findings: 1.1 to 1.8 s an evaluation). Each evaluation
// now computes what the engine.MaxPendingJudged oldest of a namespace would cover; a newer one
// shows no wouldCover, and its message says it was not computed, never wouldCover 0 and
// wouldCoverDigest none, which an approver reads as "waives nothing"; in words that name no
// count, so that another request does not rewrite it. Once an older one goes, it is computed.
func TestPendingExceptionsPastTheBoundSayWhatIsNotComputed(t *testing.T) {
	ctx := context.Background()
	const ns, prof = "expendcap-a", "expendcap"
	createNamespace(t, ns, map[string]string{prof: "true"})
	if err := k8s.Create(ctx, deployment(ns, "web", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, prof, prof, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{MaxSeverity: v1alpha1.SeverityCritical}
	})
	waitWritten(t, ns, prof)
	pending := func(name string) *v1alpha1.ControlException {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"},
				Reason: "The workload loads a kernel module.", Owner: "team-a@example.com",
				Expires: metav1.NewTime(clk.Now().Add(time.Hour))},
		}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
		return ex
	}
	var old []*v1alpha1.ControlException
	for i := range engine.MaxPendingJudged {
		old = append(old, pending(fmt.Sprintf("old-%02d", i)))
	}
	// Created last, and last by name: the newest whatever second each was created in.
	newest := pending("zz-newest")
	wait := func(ex *v1alpha1.ControlException, what string, ok func(st *v1alpha1.ControlExceptionStatus) error) {
		t.Helper()
		got := &v1alpha1.ControlException{}
		eventually(t, 30*time.Second, what, func() error {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil {
				return err
			}
			if got.Status.ObservedGeneration != got.Generation {
				return fmt.Errorf("status of generation %d, not %d", got.Status.ObservedGeneration, got.Generation)
			}
			return ok(&got.Status)
		})
	}
	computed := func(st *v1alpha1.ControlExceptionStatus) error {
		if st.State != v1alpha1.ExceptionPendingApproval || st.WouldCover == nil || *st.WouldCover != 1 || st.WouldCoverDigest == noneCovered {
			return fmt.Errorf("state %s, would cover %v findings (%q): %s", st.State, st.WouldCover, st.WouldCoverDigest, st.Message)
		}
		return nil
	}
	wait(old[0], "the oldest pending exception showing it would cover web", computed)
	wait(old[len(old)-1], "the 50th oldest pending exception showing it would cover web", computed)
	wait(newest, "the newest pending exception saying what it would cover is not computed", func(st *v1alpha1.ControlExceptionStatus) error {
		want := fmt.Sprintf("what its approval would cover is not computed: namespace %s has more than %d PendingApproval exceptions", ns, engine.MaxPendingJudged)
		if st.State != v1alpha1.ExceptionPendingApproval || st.WouldCover != nil || st.WouldCoverDigest != "" || !strings.Contains(st.Message, want) {
			return fmt.Errorf("state %s, would cover %v findings (%q), message %q; want no wouldCover and %q", st.State, st.WouldCover, st.WouldCoverDigest, st.Message, want)
		}
		for _, c := range st.Conditions {
			if c.Type == v1alpha1.ConditionReady && !strings.Contains(c.Message, want) {
				return fmt.Errorf("condition Ready says %q", c.Message)
			}
		}
		return nil
	})
	// Another request: the newest's status is not written again (its words name no count, or
	// each exception a tenant adds would rewrite every newer one's status).
	before := &v1alpha1.ControlException{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(newest), before); err != nil {
		t.Fatal(err)
	}
	newer := pending("zzz-newer")
	wait(newer, "another pending exception saying what it would cover is not computed", func(st *v1alpha1.ControlExceptionStatus) error {
		if st.WouldCover != nil || !strings.Contains(st.Message, "is not computed") {
			return fmt.Errorf("would cover %v findings, message %q", st.WouldCover, st.Message)
		}
		return nil
	})
	after := &v1alpha1.ControlException{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(newest), after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("another request rewrote the newest's status: %q, then %q", before.Status.Message, after.Status.Message)
	}
	if err := k8s.Delete(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, old[0]); err != nil {
		t.Fatal(err)
	}
	wait(newest, "the newest pending exception, among the 50 oldest now, showing it would cover web", func(st *v1alpha1.ControlExceptionStatus) error {
		if err := computed(st); err != nil {
			return err
		}
		if strings.Contains(st.Message, "not computed") {
			return fmt.Errorf("message %q", st.Message)
		}
		return nil
	})
}
