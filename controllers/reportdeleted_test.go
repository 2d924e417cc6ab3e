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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// reportDeletedEvents are the profile's ReportDeleted Events, each counted as often as its
// series says it happened.
func reportDeletedEvents(t *testing.T, profile string) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "ComplianceProfile" && e.Regarding.Name == profile && e.Reason == EventReportDeleted {
			n := 1
			if e.Series != nil {
				n = int(e.Series.Count)
			}
			for range n {
				out = append(out, e)
			}
		}
	}
	return out
}

// A ComplianceReport deleted by someone other than the operator (its namespace not
// terminating, its profile still selecting it) came back within a second, and nothing recorded
// that it went: an auditor reading the recreated report, or the Events, could not tell that the
// report the namespace's tenant or an admin saw had been removed. It must yield exactly one
// Warning Event on the profile naming the report, and one report.deleted journal record; the
// operator's own deletions (a namespace leaving the profile, a report not its own), a report's
// first creation and a report in a terminating namespace yield none.
func TestADeletedReportIsRecorded(t *testing.T) {
	ctx := context.Background()
	const profile = "repdel"
	for _, ns := range []string{"repdel-gone", "repdel-left", "repdel-forged", "repdel-term"} {
		createNamespace(t, ns, map[string]string{profile: "true"})
	}
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	first := map[string]types.UID{}
	for _, ns := range []string{"repdel-gone", "repdel-left", "repdel-forged", "repdel-term"} {
		first[ns] = waitWritten(t, ns, profile).UID
	}
	if evs := reportDeletedEvents(t, profile); len(evs) != 0 {
		t.Fatalf("first creation of the reports: %d %s Events, want none: %v", len(evs), EventReportDeleted, evs[0].Note)
	}

	// recreated waits for the namespace's report to be written again, as another object.
	recreated := func(ns string) {
		t.Helper()
		eventually(t, 20*time.Second, "report "+ns+" recreated", func() error {
			rep, err := getReport(ns, profile)
			switch {
			case err != nil:
				return err
			case rep.UID == first[ns]:
				return fmt.Errorf("still the first report")
			case rep.Status.Result == "":
				return fmt.Errorf("no status yet")
			}
			return nil
		})
	}

	// The operator deletes the report of a namespace the profile no longer selects, and writes
	// a new one when it is selected again: nobody else deleted anything.
	setLabels := func(ns string, labels map[string]string) {
		t.Helper()
		n := &corev1.Namespace{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, n); err != nil {
			t.Fatal(err)
		}
		n.Labels = labels
		if err := k8s.Update(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	setLabels("repdel-left", nil)
	eventually(t, 20*time.Second, "the report of the namespace that left deleted", func() error {
		if _, err := getReport("repdel-left", profile); err == nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	setLabels("repdel-left", map[string]string{profile: "true"})
	recreated("repdel-left")

	// A report whose label names another profile is not the operator's: it deletes it and
	// writes its own.
	rep, err := getReport("repdel-forged", profile)
	if err != nil {
		t.Fatal(err)
	}
	rep.Labels[v1alpha1.LabelProfile] = "another"
	if err := k8s.Update(ctx, rep); err != nil {
		t.Fatal(err)
	}
	recreated("repdel-forged")

	// A namespace being deleted: the namespace controller deletes its report (envtest runs no
	// namespace controller: the test does), and the operator cannot create it again.
	if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "repdel-term"}}); err != nil {
		t.Fatal(err)
	}
	n := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "repdel-term"}, n); err != nil || n.DeletionTimestamp.IsZero() {
		t.Fatalf("namespace repdel-term not terminating: %v", err)
	}
	if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: profile, Namespace: "repdel-term"}}); err != nil {
		t.Fatal(err)
	}

	// And someone else deletes a report, which comes back.
	if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: profile, Namespace: "repdel-gone"}}); err != nil {
		t.Fatal(err)
	}
	recreated("repdel-gone")
	var evs []eventsv1.Event
	eventually(t, 10*time.Second, "a ReportDeleted Event", func() error {
		if evs = reportDeletedEvents(t, profile); len(evs) == 0 {
			return fmt.Errorf("none")
		}
		return nil
	})
	isDeleted := func(r *journal.Record) bool { return r.Type == journal.ReportDeleted && r.Profile == profile }
	recs := waitForRecords(t, "a report.deleted record", isDeleted, string(journal.ReportDeleted))
	// Whatever else was to fire has by now: the evaluations after the other changes are done.
	time.Sleep(2 * time.Second)
	evs = reportDeletedEvents(t, profile)
	recs = journalRecords(t, isDeleted)
	if len(evs) != 1 {
		var notes []string
		for _, e := range evs {
			notes = append(notes, e.Note)
		}
		t.Fatalf("%d %s Events, want 1 (for repdel-gone only): %q", len(evs), EventReportDeleted, notes)
	}
	e := evs[0]
	if e.Type != corev1.EventTypeWarning || !strings.Contains(e.Note, "repdel-gone/"+profile) ||
		!strings.Contains(e.Note, "deleted by someone other than the operator") {
		t.Errorf("Event %s %q: want a Warning naming report repdel-gone/%s, deleted by someone other than the operator", e.Type, e.Note, profile)
	}
	if e.Related == nil || e.Related.Kind != "ComplianceReport" || e.Related.Namespace != "repdel-gone" {
		t.Errorf("Event related to %v, want the recreated report", e.Related)
	}
	if len(recs) != 1 || recs[0].Namespace != "repdel-gone" || recs[0].Interval == nil || recs[0].Interval.To.Before(recs[0].Interval.From) {
		t.Errorf("report.deleted records %+v: want one, of namespace repdel-gone, with the interval it went in", recs)
	}
}

// A profile's reports go when it is deleted (the garbage collector deletes them), and the
// operator's cache may still hold the profile when it sees them gone: that is no report deleted
// by someone else. reportDeleted asks the API server, not the cache, whether the profile still
// exists, as the same object, not being deleted.
func TestAReportOfAProfileBeingDeletedIsNotCalledDeleted(t *testing.T) {
	ctx := context.Background()
	const ns = "repdel-profilegone"
	createNamespace(t, ns, nil)
	rep := &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Name: "repdel-p", Namespace: ns}}
	alive := createProfile(t, "repdel-alive", "repdel-none", nil)
	dying := createProfile(t, "repdel-dying", "repdel-none", func(p *v1alpha1.ComplianceProfile) {
		p.Finalizers = []string{"test.soc2-operator.io/hold"}
	})
	t.Cleanup(func() {
		p := &v1alpha1.ComplianceProfile{}
		if k8s.Get(ctx, types.NamespacedName{Name: dying.Name}, p) == nil {
			p.Finalizers = nil
			_ = k8s.Update(ctx, p)
		}
	})
	if err := k8s.Delete(ctx, dying); err != nil {
		t.Fatal(err)
	}
	stale := dying.DeepCopy() // as the cache may still hold it: not being deleted
	gone := alive.DeepCopy()
	gone.Name, gone.UID = "repdel-gone-profile", "0f0e0d0c-0000-0000-0000-000000000000"
	recreatedUnderSameName := alive.DeepCopy()
	recreatedUnderSameName.UID = "0f0e0d0c-0000-0000-0000-000000000001"
	for _, c := range []struct {
		name    string
		profile *v1alpha1.ComplianceProfile
		want    int
	}{
		{"a profile that exists", alive, 1},
		{"a profile being deleted", stale, 0},
		{"a profile gone", gone, 0},
		{"an earlier profile of the same name", recreatedUnderSameName, 0},
	} {
		rec := events.NewFakeRecorder(10)
		r := &ComplianceProfileReconciler{Client: k8s, apiReader: k8s, Recorder: rec}
		now := time.Now()
		r.reportDeleted(ctx, c.profile, rep, seenReport{at: now.Add(-time.Minute)}, now)
		if got := len(rec.Events); got != c.want {
			t.Errorf("%s: %d Events, want %d", c.name, got, c.want)
		}
	}
}
