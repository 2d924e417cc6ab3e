package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestDeletingAnActiveExceptionAlertsItsRevocation: a namespace admin may delete the exceptions
// of their namespace. An Active one deleted (no finalizer holding it) told the sinks nothing of
// the waiver's end: its findings came back as NewFinding, but no alert said which exception went,
// who owned it or what it waived, where an expiry sends ExceptionExpired. The sinks now receive
// ExceptionRevoked, once, and the namespace an ExceptionRevoked Event; an exception deleted
// while not Active (never honoured) sends none.
func TestDeletingAnActiveExceptionAlertsItsRevocation(t *testing.T) {
	const ns, profile = "revoke-a", "revoke"
	ctx := context.Background()
	hook := waiverScenario(t, ns, profile)

	spec := func() v1alpha1.ControlExceptionSpec {
		return v1alpha1.ControlExceptionSpec{Checks: []string{"sec-literal-env-credentials"}, Reason: "Rotating to a Secret this sprint.",
			Owner: "api-team@example.com", Expires: metav1.NewTime(clk.Now().Add(30 * 24 * time.Hour)),
			Match: v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"api"}}}
	}
	// Never approved: PendingApproval, honoured by no profile.
	pending := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "unapproved", Namespace: ns}, Spec: spec()}
	if err := k8s.Create(ctx, pending); err != nil {
		t.Fatal(err)
	}
	ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "api-password", Namespace: ns}, Spec: spec()}
	createApproved(t, ex)
	for _, e := range []*v1alpha1.ControlException{ex, pending} {
		want := v1alpha1.ExceptionActive
		if e == pending {
			want = v1alpha1.ExceptionPendingApproval
		}
		eventually(t, 20*time.Second, e.Name+" "+string(want), func() error {
			got := &v1alpha1.ControlException{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(e), got); err != nil || got.Status.State != want {
				return fmt.Errorf("%v %q", err, got.Status.State)
			}
			return nil
		})
	}
	if err := k8s.Delete(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "an ExceptionRevoked alert and Event", func() error {
		if hook.count("ExceptionRevoked") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return hasEvent(ctx, ns, ex.Name, EventExceptionRevoked)
	})
	var got map[string]any
	for _, b := range hook.received() {
		if b["event"] == "ExceptionRevoked" {
			got = b
		}
	}
	if got["exception"] != ns+"/api-password" || got["namespace"] != ns || got["profile"] != profile ||
		!strings.Contains(fmt.Sprint(got["message"]), "sec-literal-env-credentials") || !strings.Contains(fmt.Sprint(got["message"]), "api-team@example.com") {
		t.Errorf("ExceptionRevoked payload %v, want exception %s/api-password, its owner and the check it waived", got, ns)
	}
	if n := hook.mentions("unapproved"); n != 0 {
		t.Errorf("%d alerts mention the unapproved exception, deleted while PendingApproval: %v", n, hook.received())
	}
	// Later evaluations send it no second time.
	resyncAndWait(t, time.Minute, profile)
	if n := hook.count("ExceptionRevoked"); n != 1 {
		t.Errorf("%d ExceptionRevoked alerts, want 1: %v", n, hook.received())
	}
}

// TestDeletingAnActiveExceptionAFinalizerHoldsAlertsItsRevocation: an exception deleted while a
// finalizer holds it turns Expired (reason Deleted), and the sinks were sent ExceptionExpired,
// whose summary says it "expired at" an expiry still weeks ahead: a false record of why the
// waiver ended. They are sent ExceptionRevoked, once, also when the finalizer goes.
func TestDeletingAnActiveExceptionAFinalizerHoldsAlertsItsRevocation(t *testing.T) {
	const ns, profile = "revoke-b", "revoke-held"
	ctx := context.Background()
	hook := waiverScenario(t, ns, profile)
	ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "api-password", Namespace: ns, Finalizers: []string{"example.com/keep"}},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"sec-literal-env-credentials"}, Reason: "Rotating to a Secret this sprint.",
			Owner: "api-team@example.com", Expires: metav1.NewTime(clk.Now().Add(30 * 24 * time.Hour)),
			Match: v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"api"}}}}
	createApproved(t, ex)
	release := func() {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err == nil {
			got.Finalizers = nil
			_ = k8s.Update(ctx, got)
		}
	}
	t.Cleanup(release)
	eventually(t, 20*time.Second, "the exception Active", func() error {
		got := &v1alpha1.ControlException{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), got); err != nil || got.Status.State != v1alpha1.ExceptionActive {
			return fmt.Errorf("%v %q", err, got.Status.State)
		}
		return nil
	})
	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "an ExceptionRevoked alert", func() error {
		if hook.count("ExceptionRevoked") != 1 {
			return fmt.Errorf("received %v", hook.received())
		}
		return nil
	})
	release()
	eventually(t, 20*time.Second, "the exception gone", func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(ex), &v1alpha1.ControlException{}); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	resyncAndWait(t, time.Minute, profile)
	if hook.count("ExceptionRevoked") != 1 || hook.count("ExceptionExpired") != 0 {
		t.Errorf("%d ExceptionRevoked and %d ExceptionExpired alerts, want 1 and 0: %v",
			hook.count("ExceptionRevoked"), hook.count("ExceptionExpired"), hook.received())
	}
}

// waiverScenario makes namespace ns, selected by a new profile of that name that alerts a
// webhook sink on High findings of C1.1, with Deployment api failing sec-literal-env-credentials
// there, and returns the sink's receiver once the namespace's report is written.
func waiverScenario(t *testing.T, ns, profile string) *receiver {
	t.Helper()
	ctx := context.Background()
	hook := newReceiver(t, 0, false)
	createNamespace(t, ns, map[string]string{profile: "true"})
	api := deployment(ns, "api", false)
	api.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
	if err := k8s.Create(ctx, api); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.Criteria = []v1alpha1.Criterion{"C1.1"}
		p.Spec.Alerts = &v1alpha1.Alerts{MinSeverity: v1alpha1.SeverityHigh,
			Sinks: []v1alpha1.AlertSink{{Name: "ops", Type: v1alpha1.SinkWebhook, URL: hook.server.URL}}}
	})
	waitWritten(t, ns, profile)
	return hook
}
