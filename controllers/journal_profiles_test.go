package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A client that updates a ComplianceProfile may send managedFields of its own: the API server
// keeps them, times included, and only stamps the time of the manager of the current request
// (k8s.io/apimachinery v0.37.2 pkg/util/managedfields/internal, decodeLiveOrNew and
// managedFieldsUpdater.Update). A spec change must be journaled when the operator saw it, not at
// a time the client wrote: dated in 2099 it would fall outside every evidence period.
func TestTheJournalDatesAProfileChangeWhenItSawIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	profile := createProfile(t, "jforged", "jforged", nil)
	store, q, h, stop := ownJournal(t, ctx, cancel)
	defer stop()

	h.profileSeen(ctx, profile)
	// The update changes the spec and carries a forged managedFields entry dated 2099.
	forged := metav1.NewTime(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &v1alpha1.ComplianceProfile{}
	before := time.Now()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, types.NamespacedName{Name: profile.Name}, p); err != nil {
			return err
		}
		p.ManagedFields = append(p.ManagedFields, metav1.ManagedFieldsEntry{
			Manager: "forger", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: v1alpha1.GroupVersion.String(), Time: &forged,
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:maxFindings":{}}}`)},
		})
		p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"jforged": "yes"}}
		return k8s.Update(ctx, p)
	}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Get(ctx, types.NamespacedName{Name: profile.Name}, p); err != nil {
		t.Fatal(err)
	}
	kept := false
	for _, m := range p.ManagedFields {
		kept = kept || (m.Manager == "forger" && m.Time != nil && m.Time.Equal(&forged))
	}
	if !kept {
		t.Fatalf("the API server did not keep the client's managedFields time: %+v", p.ManagedFields)
	}
	h.profileSeen(ctx, p)
	after := time.Now()
	if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
		t.Fatal("the journal was not written")
	}
	var changed []journal.Record
	for _, rec := range namespaceRecords(t, store, profile.Name, "") {
		if rec.Type == journal.ProfileChanged && rec.Profile == profile.Name {
			changed = append(changed, rec)
		}
	}
	if len(changed) != 1 {
		t.Fatalf("%d profile.changed records, want 1", len(changed))
	}
	if at := changed[0].Time; at.Before(before.Add(-time.Second)) || at.After(after.Add(time.Second)) {
		t.Errorf("profile.changed dated %s; want when the operator saw the change (%s..%s)", at, before, after)
	}
}

// ownJournal is a journal hook writing to a store of its own (cluster "own"); stop ends it
// (before the store's directory goes).
func ownJournal(t *testing.T, ctx context.Context, cancel func()) (journal.Store, *journal.Queue, *journalHook, func()) {
	t.Helper()
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test"})
	if err != nil {
		t.Fatal(err)
	}
	h := newJournalHook(q, clock.RealClock{}, time.Hour)
	stopped := make(chan struct{})
	go func() { _ = q.Start(ctx); close(stopped) }()
	<-q.Ready()
	return store, q, h, func() { cancel(); <-stopped }
}

// A deleted profile judges nothing any more: its namespaces' open findings close then, and not
// as remediated (the evidence pack leaves them out of the time to remediate).
func TestTheJournalClosesADeletedProfilesFindingsAsOutOfScope(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	store, q, h, stop := ownJournal(t, ctx, cancel)
	defer stop()
	h.profileSeen(ctx, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "gone", Generation: 1}})
	f := journal.Finding{Key: journal.FindingKey("wl-privileged", "Deployment", "api", "setup"), Check: "wl-privileged", Kind: "Deployment", Name: "api", Container: "setup", FirstSeen: time.Now()}
	h.mu.Lock()
	h.track("gone", "team-a").open[f.Key] = f
	h.mu.Unlock()
	h.profileDeleted(ctx, "gone")
	if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
		t.Fatal("the journal was not written")
	}
	var reasons []string
	for _, rec := range namespaceRecords(t, store, "gone", "team-a") {
		if rec.Type == journal.FindingClosed {
			reasons = append(reasons, rec.Finding.CloseReason)
		}
	}
	if len(reasons) != 1 || reasons[0] != journal.CloseOutOfScope {
		t.Errorf("closings of the deleted profile's finding: %q, want one %q", reasons, journal.CloseOutOfScope)
	}
}

// The operator restores what the journal knows from its last two attestation intervals only. A
// profile last changed before them was not known after a restart, so every restart journaled
// it again: profile.changed at the restart with the same spec (or, for a profile never edited,
// profile.created again), and the evidence pack listed a version of the profile, a change of
// scope an auditor must ask about, at every upgrade and node drain. Each attestation round now
// states the profiles' versions (profile.attested), and a restart restores them.
func TestARestartDoesNotJournalAnUnchangedProfileAgain(t *testing.T) {
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "jrestart", Generation: 3},
		Spec: v1alpha1.ComplianceProfileSpec{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"jrestart": "true"}}}}
	run := func(attest ...time.Time) {
		ctx, cancel := context.WithCancel(context.Background())
		// The queue's clock is ahead of the attestations, as the operator's is of the records it
		// wrote before it stopped: a queue whose clock is behind the journal waits for it.
		q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: 50 * time.Millisecond, Identity: "test",
			Now: func() time.Time { return time.Now().Add(5 * time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		h := newJournalHook(q, clock.RealClock{}, time.Hour)
		stopped := make(chan struct{})
		go func() { _ = q.Start(ctx); close(stopped) }()
		<-q.Ready()
		h.profileSeen(ctx, p)
		if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
			t.Fatal("the journal was not written")
		}
		for _, at := range attest {
			h.attest(at)
			if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: at}) {
				t.Fatal("the journal was not written")
			}
		}
		cancel()
		<-stopped
	}
	// The first operator sees the profile, then attests hourly for four hours: its change is
	// older than the two intervals (and an hour) a restart restores.
	now := time.Now()
	run(now.Add(time.Hour), now.Add(2*time.Hour), now.Add(3*time.Hour), now.Add(4*time.Hour))
	run()
	var changes []time.Time
	for _, rec := range namespaceRecords(t, store, p.Name, "") {
		if rec.Type == journal.ProfileChanged || rec.Type == journal.ProfileCreated {
			changes = append(changes, rec.Time)
		}
	}
	if len(changes) != 1 {
		t.Errorf("the unchanged profile was journaled as created or changed at %v; want once, when first seen", changes)
	}
}
