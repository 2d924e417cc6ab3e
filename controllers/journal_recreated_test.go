package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// Namespace team-a, with a privileged Deployment (a finding open in the journal), was deleted
// and created again under the same name while no operator ran; the new namespace's Deployment
// of the same name is not privileged. The next operator restored the old namespace's open
// finding from the journal and closed it against the new namespace as `resolved`: deviations.csv
// showed it remediated (and counted it in the time to remediate), when its namespace was deleted
// with it. And a finding of the new namespace on a resource of the old one's name would have
// taken the old finding's first-seen time. The journal now records which Namespace object
// (UID) an attestation is of; a namespace found under another UID is another namespace: the old
// one's findings close `resource-gone` and it leaves (namespace.left), and nothing of it is
// first seen in the new one.
func TestANamespaceCreatedAgainWhileNoOperatorRanDoesNotResolveTheOldOnesFindings(t *testing.T) {
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "jrecreated", Generation: 1}}
	onlyCheck(profile, "wl-privileged")
	plan := engine.Compile(checks.Catalogue(), profile)
	evaluate := func(privileged bool) *engine.Evaluation {
		d := deployment("team-a", "api", privileged)
		return plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
			engine.Options{Now: time.Now(), AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalEnforced})
	}
	now := time.Now().Truncate(time.Second)
	// run starts an operator and evaluates the namespace (the Namespace object uid) once.
	run := func(uid string, privileged bool, then func(h *journalHook)) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test",
			Now: func() time.Time { return time.Now().Add(time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		h := newJournalHook(q, clock.RealClock{}, time.Hour)
		stopped := make(chan struct{})
		go func() { _ = q.Start(ctx); close(stopped) }()
		<-q.Ready()
		h.profileSeen(ctx, profile)
		now = now.Add(time.Minute)
		h.namespaceObserved(ctx, profile.Name, "team-a", uid, now)
		if then != nil {
			then(h)
		}
		h.observe(ctx, profile.Name, time.Hour, "team-a", uid, evaluate(privileged), nil, now)
		if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: now}) {
			t.Fatal("the journal was not written")
		}
		cancel()
		<-stopped
	}
	run("uid-old", true, nil)
	run("uid-new", false, func(h *journalHook) {
		f := &v1alpha1.Finding{Check: "wl-privileged", Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"}, Container: "setup"}
		if seen, ok := h.firstSeen(profile.Name, "team-a", nil)(f); ok {
			t.Errorf("the new namespace's finding on Deployment api would be first seen at %s, the old namespace's", seen)
		}
	})
	var closed *journal.Finding
	left := false
	for _, r := range namespaceRecords(t, store, profile.Name, "team-a") {
		switch r.Type {
		case journal.FindingClosed:
			closed = r.Finding
		case journal.NamespaceLeft:
			left = true // dated as the closings, in either order (the writer sorts by time, then ID)
		case journal.Attestation:
			if r.Attestation.NamespaceUID == "" {
				t.Errorf("attestation at %s names no namespace UID", r.Time)
			}
		}
	}
	if closed == nil {
		t.Fatal("the old namespace's finding was not closed")
	}
	if closed.CloseReason != journal.CloseResourceGone || !left {
		t.Errorf("the old namespace's finding closed %q (namespace.left: %v); want %q, and namespace.left", closed.CloseReason, left, journal.CloseResourceGone)
	}
}
