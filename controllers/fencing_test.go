package controllers

import (
	"context"
	"errors"
	"testing"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/internal/alert"
)

// TestAnOldLeaderThatBelievesItLeadsDoesNotReplaceTheNewLeadersRecord: a leader paused past its
// lease (or whose clock runs slow) still believes it leads when a new leader has acquired the
// leader-election Lease and saved its record. Its first periodic save after that was skipped
// (another value on the Lease), but the next, 5 s later, went through while it believed it led
// (so that an administrator's delete does not stop a leader's saves), and replaced the new
// leader's record with the old leader's view. A write is made only while the leader-election
// Lease names this process (or no one: deleted, or released at a stop).
func TestAnOldLeaderThatBelievesItLeadsDoesNotReplaceTheNewLeadersRecord(t *testing.T) {
	ctx := context.Background()
	const ns = "fencing"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	election := types.NamespacedName{Namespace: ns, Name: "soc2-operator.compliance.soc2-operator.io"}
	hold := func(holder string) {
		t.Helper()
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, election, lease); err != nil {
			lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: election.Name},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder)}}
			if err := k8s.Create(ctx, lease); err != nil {
				t.Fatal(err)
			}
			return
		}
		lease.Spec.HolderIdentity = ptr.To(holder)
		if err := k8s.Update(ctx, lease); err != nil {
			t.Fatal(err)
		}
	}
	leader := func() *leadership {
		l := &leadership{reader: k8s, election: election}
		l.lead(ctx) // believes it leads until the test ends
		l.recordHolder(ctx)
		return l
	}
	pending := func(keys ...string) []alert.Pending {
		var out []alert.Pending
		for _, k := range keys {
			out = append(out, alert.Pending{Sink: "ops", Alert: alert.Alert{Event: "NewFinding", Profile: "p", Namespace: "team-a", Key: k}})
		}
		return out
	}
	kept := func() string {
		t.Helper()
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: stateLease}, lease); err != nil {
			t.Fatal(err)
		}
		data, err := decodeAnnotation(lease.Annotations[pendingAlertsAnnotation])
		if err != nil {
			t.Fatal(err)
		}
		var keys string
		for _, p := range data {
			keys += p.Alert.Key + " "
		}
		return keys
	}

	hold("old")
	old := newLeaseAlertStore(k8s, k8s, ns, logr.Discard(), leader())
	if _, err := old.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := old.Save(ctx, pending("a")); err != nil {
		t.Fatal(err)
	}

	hold("new")
	// Between the new leader's acquisition and its first save, the old leader's save is refused.
	if err := old.Save(ctx, pending("a", "x")); !errors.Is(err, alert.ErrSuperseded) {
		t.Errorf("the old leader's save once the new leader holds the election Lease: want alert.ErrSuperseded, got %v", err)
	}
	next := newLeaseAlertStore(k8s, k8s, ns, logr.Discard(), leader())
	if _, err := next.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := next.Save(ctx, pending("b", "c")); err != nil {
		t.Fatal(err)
	}
	// The old leader's periodic saves, 5 s apart: neither replaces the new leader's record.
	for i := range 2 {
		if err := old.Save(ctx, pending("a", "b", "d")); !errors.Is(err, alert.ErrSuperseded) {
			t.Errorf("the old leader's save %d after the new leader's: want alert.ErrSuperseded, got %v", i+1, err)
		}
	}
	if got := kept(); got != "b c " {
		t.Errorf("kept %q after the old leader's saves, want the new leader's b c", got)
	}
	// An administrator deletes the state Lease, then the election Lease: the leader's saves go on.
	if err := k8s.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: stateLease}}); err != nil {
		t.Fatal(err)
	}
	_ = next.Save(ctx, pending("c", "e")) // the one write skipped after a change by someone else
	if err := next.Save(ctx, pending("c", "e")); err != nil {
		t.Fatalf("the leader's save after the state Lease was deleted: %v", err)
	}
	if err := k8s.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: election.Name}}); err != nil {
		t.Fatal(err)
	}
	if err := next.Save(ctx, pending("e")); err != nil {
		t.Fatalf("the leader's save after the election Lease was deleted: %v", err)
	}
	// Released at the new leader's stop (no holder): its save at the stop is made.
	hold("")
	if err := next.Save(ctx, pending("e", "f")); err != nil {
		t.Fatalf("the leader's save at its stop, the election Lease released: %v", err)
	}
	if got := kept(); got != "e f " {
		t.Errorf("kept %q, want e f", got)
	}
}

// TestALeaderWhoseHolderWasUnreadIsFencedByItsHostName: the leader-election Lease could not be
// read when this process started leading (here: not there yet; in a cluster, an API server
// unavailable for that one read), so its identity was never recorded and nothing fenced it for
// its whole leadership: a paused old leader replaced the new leader's record as before the fence.
// Its host name, with which controller-runtime begins the identity (hostname_UUID), tells
// another process's holding apart.
func TestALeaderWhoseHolderWasUnreadIsFencedByItsHostName(t *testing.T) {
	ctx := context.Background()
	const ns = "fencing-host"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	election := types.NamespacedName{Namespace: ns, Name: "soc2-operator.compliance.soc2-operator.io"}
	l := &leadership{reader: k8s, election: election, host: "soc2-operator-7d9f-abcde"}
	l.lead(ctx)
	l.recordHolder(ctx) // the election Lease is not there: nothing recorded
	if l.holder.Load() != nil {
		t.Fatal("a holder was recorded from a Lease that does not exist")
	}
	store := newLeaseAlertStore(k8s, k8s, ns, logr.Discard(), l)
	if _, err := store.Load(ctx); err != nil {
		t.Fatal(err)
	}
	pending := []alert.Pending{{Sink: "ops", Alert: alert.Alert{Event: "NewFinding", Profile: "p", Namespace: "team-a", Key: "a"}}}
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: election.Name},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("soc2-operator-7d9f-abcde_6f1c")}}
	if err := k8s.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, pending); err != nil {
		t.Fatalf("a save while the election Lease names this host: %v", err)
	}
	// Another Pod of the Deployment acquires it (a host name that only begins like this one's
	// is another host).
	for _, other := range []string{"soc2-operator-7d9f-xyz12_0a2b", "soc2-operator-7d9f-abcde2_0a2b"} {
		lease.Spec.HolderIdentity = ptr.To(other)
		if err := k8s.Update(ctx, lease); err != nil {
			t.Fatal(err)
		}
		if err := store.Save(ctx, pending); !errors.Is(err, alert.ErrSuperseded) {
			t.Errorf("a save while the election Lease names %s: want alert.ErrSuperseded, got %v", other, err)
		}
	}
}
