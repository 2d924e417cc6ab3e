package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// The API server refuses an Event whose note is over 1,024 bytes, and the Event is lost: an
// approval by a user with a long name ("Approved by %s (requested by %s)") or a report write
// refused with a long error left no Event, only a log line. Every note goes out bounded and
// printable, through the real broadcaster to a real API server.
func TestEventNotesFitWhatTheAPIServerAccepts(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "ev-a", nil)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "regarding", Namespace: "ev-a"}}
	if err := k8s.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	stop := make(chan struct{})
	defer close(stop)
	b.StartRecordingToSink(stop)
	defer b.Shutdown()
	r := boundedRecorder{b.NewRecorder(scheme, "soc2-operator-test")}

	long := strings.Repeat("a-very-long-oidc-user-name.", 30) // 810 bytes
	r.Eventf(cm, nil, corev1.EventTypeNormal, "Approved", "Approve", "Approved by %s (requested by %s)", long, "dev\x1b[2K\r"+long)
	var got *eventsv1.Event
	eventually(t, 20*time.Second, "the Event is stored", func() error {
		list := &eventsv1.EventList{}
		if err := k8s.List(ctx, list, client.InNamespace("ev-a")); err != nil {
			return err
		}
		for i := range list.Items {
			if list.Items[i].Regarding.Name == "regarding" && list.Items[i].Reason == "Approved" {
				got = &list.Items[i]
				return nil
			}
		}
		return fmt.Errorf("no Approved event among %d", len(list.Items))
	})
	if len(got.Note) > engine.MaxMessageLength || !strings.HasPrefix(got.Note, "Approved by a-very-long") || !strings.HasSuffix(got.Note, "...") || strings.ContainsAny(got.Note, "\x1b\r") || !strings.Contains(got.Note, `(requested by dev\x1b[2K\r`) {
		t.Errorf("note (%d bytes) %q: want the start of the message, cut to %d bytes, with no control character", len(got.Note), got.Note, engine.MaxMessageLength)
	}
}

// A namespace that stops being NonCompliant without becoming Compliant (its one failing
// workload deleted, nothing left that a check of the profile assesses: its report reads
// NotAssessed) got a Normal Event with reason NamespaceCompliant, "Namespace ev-na is
// NotAssessed again": who watches Events (kubectl get events, an event exporter routing on the
// reason) read Compliant for a namespace nothing was assessed in.
func TestANamespaceNoLongerNonCompliantIsNotCalledCompliant(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "ev-notassessed", "ev-na"
	createNamespace(t, ns, map[string]string{profile: "true"})
	d := deployment(ns, "web", true)
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	eventually(t, 20*time.Second, "NonCompliant, with its Event", func() error {
		if rep, err := getReport(ns, profile); err != nil || rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("report: %v, %v", rep.Status.Result, err)
		}
		return hasEvent(ctx, "default", profile, EventNamespaceNonCompliant)
	})
	if err := k8s.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "NotAssessed, with its Event", func() error {
		if rep, err := getReport(ns, profile); err != nil || rep.Status.Result != v1alpha1.NotAssessed {
			return fmt.Errorf("report: %v, %v", rep.Status.Result, err)
		}
		return hasEvent(ctx, "default", profile, EventNamespaceNotAssessed)
	})
	if err := hasEvent(ctx, "default", profile, EventNamespaceCompliant); err == nil {
		t.Errorf("a namespace gone from NonCompliant to NotAssessed has a %s Event", EventNamespaceCompliant)
	}
}
