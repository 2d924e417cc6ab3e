package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
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
	jh := newJournalHarness(t, "jrecreated")
	// run starts an operator and evaluates the namespace (the Namespace object uid) once.
	run := func(uid string, privileged bool, then func(h *journalHook)) {
		t.Helper()
		jh.run(anHourAhead, func(ctx context.Context, h *journalHook) {
			jh.now = jh.now.Add(time.Minute)
			h.namespaceObserved(ctx, jh.profile.Name, "team-a", uid, jh.now)
			if then != nil {
				then(h)
			}
			h.observe(ctx, jh.profile.Name, time.Hour, "team-a", uid, jh.evaluate(privileged), nil, jh.now)
		})
	}
	run("uid-old", true, nil)
	run("uid-new", false, func(h *journalHook) {
		f := &v1alpha1.Finding{Check: "wl-privileged", Resource: v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"}, Container: "setup"}
		if seen, ok := h.firstSeen(jh.profile.Name, "team-a", nil)(f); ok {
			t.Errorf("the new namespace's finding on Deployment api would be first seen at %s, the old namespace's", seen)
		}
	})
	var closed *journal.Finding
	left := false
	for _, r := range jh.records() {
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
