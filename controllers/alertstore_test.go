package controllers

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/internal/alert"
)

// TestAnOldLeadersSaveDoesNotReplaceTheNewLeaders: a leader that lost its lease (the API server
// slow, a partition) stops, and saves at its stop what its sinks had not delivered; the new
// leader had read the Lease and saved its own since. The old leader's save, landing last,
// replaced the new leader's: the Lease then held alerts the new leader may have delivered
// already (sent again by the process after it) and not those it had set aside, and the new
// leader, whose set had not changed, did not write it again. A save finds the alerts kept as
// this process last read or wrote them, or saves nothing.
func TestAnOldLeadersSaveDoesNotReplaceTheNewLeaders(t *testing.T) {
	ctx := context.Background()
	const ns = "alertstore-superseded"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
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

	old := newLeaseAlertStore(k8s, k8s, ns, logr.Discard(), nil)
	if _, err := old.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := old.Save(ctx, pending("a")); err != nil {
		t.Fatal(err)
	}
	// While it leads, its saves follow one another.
	if err := old.Save(ctx, pending("a", "b")); err != nil {
		t.Fatalf("the leader's second save: %v", err)
	}
	if got := kept(); got != "a b " {
		t.Fatalf("kept %q, want a b", got)
	}

	next := newLeaseAlertStore(k8s, k8s, ns, logr.Discard(), nil)
	if _, err := next.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := next.Save(ctx, pending("b", "c")); err != nil {
		t.Fatal(err)
	}
	// The old leader's save at its stop lands now.
	// It is refused as superseded, which the dispatcher tells from a failure: the new leader
	// offers what it read (alert.Dispatcher.logSuperseded).
	if err := old.Save(ctx, pending("a", "b", "d")); !errors.Is(err, alert.ErrSuperseded) {
		t.Errorf("the old leader's save after the new leader's: want alert.ErrSuperseded, got %v", err)
	}
	if got := kept(); got != "b c " {
		t.Errorf("kept %q after the old leader's save, want the new leader's b c", got)
	}
	// The new leader's saves go on.
	if err := next.Save(ctx, pending("c")); err != nil {
		t.Fatalf("the new leader's next save: %v", err)
	}
	// Someone deletes the Lease: the leader's next save after that is skipped, not every one.
	if err := k8s.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: stateLease}}); err != nil {
		t.Fatal(err)
	}
	_ = next.Save(ctx, pending("c", "e"))
	if err := next.Save(ctx, pending("c", "e")); err != nil {
		t.Fatalf("the leader's save after the Lease was deleted: %v", err)
	}
	if got := kept(); got != "c e " {
		t.Errorf("kept %q, want c e", got)
	}
}

// decodeAnnotation reads the alerts kept in the annotation's value.
func decodeAnnotation(value string) ([]alert.Pending, error) {
	data, err := base64Decode(value)
	if err != nil {
		return nil, err
	}
	return alert.DecodePending(data)
}

func base64Decode(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
