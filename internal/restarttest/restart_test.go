package restarttest

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/evidence"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestARestartedOperatorDoesNotVouchForTheTimeItWasDown: the operator wrote a Compliant report,
// stopped, and started again three days later; nothing changed in the namespace. The report
// kept lastEvaluated from before the stop with Stale=False, which its API documents as "nothing
// changed since": the report vouched for three days no operator observed (a privileged pod
// could have run and gone). The first evaluation of a process that starts observing is written,
// so that lastEvaluated never reaches back past the time the operator began observing.
func TestARestartedOperatorDoesNotVouchForTheTimeItWasDown(t *testing.T) {
	const name, ns = "restart-idle", "restart-idle-a"
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	createNamespace(t, ns, name)
	if err := k8s.Create(context.Background(), deployment(ns, "app", false)); err != nil {
		t.Fatal(err)
	}
	privilegedProfile(t, name)

	first := startOperator(t, clk, nil)
	before := waitReport(t, ns, name, "the first operator's Compliant report", result(v1alpha1.Compliant))
	if got := before.Status.LastEvaluated; got == nil || !got.Time.Equal(clk.Now()) {
		t.Fatalf("lastEvaluated %v, want the first evaluation's %v", got, clk.Now())
	}
	first.Stop()

	clk.Step(72 * time.Hour) // down for three days
	restarted := clk.Now()
	n := fullEvaluations(t, name)
	startOperator(t, clk, nil)
	waitFullEvaluation(t, name, n)

	rep := waitReport(t, ns, name, "the report after the restart", result(v1alpha1.Compliant))
	if got := rep.Status.LastEvaluated; got == nil || got.Time.Before(restarted) {
		t.Errorf("after a restart at %s the report says lastEvaluated %v with Stale=%s: it vouches for the three days no operator observed",
			restarted.Format(time.RFC3339), got, staleStatus(rep))
	}
	if !meta.IsStatusConditionFalse(rep.Status.Conditions, v1alpha1.ConditionStale) {
		t.Errorf("Stale is not False after the restarted operator's evaluation: %+v", rep.Status.Conditions)
	}
}

func staleStatus(rep *v1alpha1.ComplianceReport) string {
	if c := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale); c != nil {
		return string(c.Status)
	}
	return "(none)"
}

// TestAChangeWhileTheOperatorWasDownIsAGapNotAPass: the operator saw a Compliant namespace and
// stopped; while it was down a Deployment turned privileged; a new process started against the
// same API server and journal. The report shows the privileged container, first seen when the
// new process saw it (no one saw it earlier), and the journal and the evidence pack built from it
// say CC6.1 was Unknown while no operator observed, not Pass.
func TestAChangeWhileTheOperatorWasDownIsAGapNotAPass(t *testing.T) {
	const name, ns = "restart-change", "restart-change-a"
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	start := clk.Now()
	store := newStore(t)
	createNamespace(t, ns, name)
	if err := k8s.Create(context.Background(), deployment(ns, "app", false)); err != nil {
		t.Fatal(err)
	}
	privilegedProfile(t, name)

	first := startOperator(t, clk, store)
	waitReport(t, ns, name, "the first operator's Compliant report", result(v1alpha1.Compliant))
	clk.Step(2 * time.Minute) // the first attestation, a minute after the journal opened
	eventuallyRecord(t, store, "the first operator's attestation", func(r journal.Record) bool {
		return r.Type == journal.Attestation && r.Namespace == ns
	})
	first.Stop()
	stopped := clk.Now()

	setPrivileged(t, ns, "app", true) // while no operator runs
	clk.Step(3 * time.Hour)
	restarted := clk.Now()
	second := startOperator(t, clk, store)
	rep := waitReport(t, ns, name, "the change made while the operator was down", result(v1alpha1.NonCompliant))
	var f *v1alpha1.Finding
	for i := range rep.Status.Findings {
		if rep.Status.Findings[i].Check == "wl-privileged" && rep.Status.Findings[i].Resource.Name == "app" {
			f = &rep.Status.Findings[i]
		}
	}
	if f == nil || f.Result != v1alpha1.ResultFail {
		t.Fatalf("no failing wl-privileged finding on app: %+v", rep.Status.Findings)
	}
	if f.FirstSeen == nil || f.FirstSeen.Time.Before(restarted) {
		t.Errorf("the finding is first seen %v, before the restart at %s: no operator saw it then", f.FirstSeen, restarted.Format(time.RFC3339))
	}
	if got := rep.Status.LastEvaluated; got == nil || got.Time.Before(restarted) {
		t.Errorf("lastEvaluated %v, before the restart at %s", got, restarted.Format(time.RFC3339))
	}
	clk.Step(2 * time.Minute) // the second process's attestation
	eventuallyRecord(t, store, "the second operator's attestation", func(r journal.Record) bool {
		return r.Type == journal.Attestation && r.Namespace == ns && !r.Time.Before(restarted)
	})
	second.Stop()
	end := clk.Now()

	recs := records(t, store)
	var gap *journal.Record
	for i, r := range recs {
		switch {
		case r.Type == journal.ObservationGap:
			gap = &recs[i]
		case r.Namespace == ns && r.Time.After(stopped) && r.Time.Before(restarted):
			t.Errorf("a record of the namespace inside the time no operator ran (%s..%s): %s %s", stopped.Format(time.RFC3339),
				restarted.Format(time.RFC3339), r.Time.Format(time.RFC3339), r.Type)
		}
	}
	if gap == nil || gap.Interval == nil || gap.Interval.From.After(stopped) || gap.Interval.To.Before(restarted) {
		t.Errorf("no observation gap covering %s..%s:\n%s", stopped.Format(time.RFC3339), restarted.Format(time.RFC3339), describe(recs))
	}

	out := filepath.Join(t.TempDir(), "pack")
	if _, err := evidence.Build(context.Background(), store, evidence.Options{From: start.Add(-time.Minute), To: end.Add(time.Minute),
		Clusters: []string{"restart"}, Dir: out, Unsigned: true, Now: func() time.Time { return end.Add(time.Minute) }}); err != nil {
		t.Fatal(err)
	}
	rows := criteriaRows(t, filepath.Join(out, "criteria.csv"), ns, "CC6.1")
	t.Logf("criteria.csv, CC6.1 of %s:\n%s", ns, rowsText(rows))
	for _, r := range rows {
		if r.state == "Pass" && r.to.After(stopped) {
			t.Errorf("criteria.csv says CC6.1 Pass from %s to %s, past the stop at %s:\n%s", r.from.Format(time.RFC3339), r.to.Format(time.RFC3339),
				stopped.Format(time.RFC3339), rowsText(rows))
		}
		if r.state == "Fail" && r.from.Before(restarted) {
			t.Errorf("criteria.csv says CC6.1 Fail from %s, before any operator saw it at %s:\n%s", r.from.Format(time.RFC3339),
				restarted.Format(time.RFC3339), rowsText(rows))
		}
	}
	if !covers(rows, "Unknown", stopped, restarted) {
		t.Errorf("criteria.csv does not say CC6.1 Unknown over %s..%s:\n%s", stopped.Format(time.RFC3339), restarted.Format(time.RFC3339), rowsText(rows))
	}
	if !covers(rows, "Fail", restarted.Add(2*time.Minute), end) {
		t.Errorf("criteria.csv does not say CC6.1 Fail after the second operator's attestation:\n%s", rowsText(rows))
	}
}

// eventuallyRecord waits until the journal holds a record that ok accepts.
func eventuallyRecord(t *testing.T, store journal.Store, what string, ok func(journal.Record) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range records(t, store) {
			if ok(r) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not in the journal after 30s:\n%s", what, describe(records(t, store)))
}

type row struct {
	from, to time.Time
	state    string
}

func rowsText(rows []row) string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %s", r.from.Format(time.RFC3339), r.to.Format(time.RFC3339), r.state))
	}
	return strings.Join(out, "\n")
}

// covers says whether rows of state cover from..to without a break.
func covers(rows []row, state string, from, to time.Time) bool {
	at := from
	for _, r := range rows {
		if r.state == state && !r.from.After(at) && r.to.After(at) {
			at = r.to
		}
	}
	return !at.Before(to)
}

// criteriaRows reads the rows of criteria.csv of one namespace and criterion.
func criteriaRows(t *testing.T, path, ns, criterion string) []row {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []row
	for _, rec := range all[1:] {
		get := func(col string) string {
			for i, h := range all[0] {
				if h == col && i < len(rec) {
					return rec[i]
				}
			}
			return ""
		}
		if get("namespace") != ns || get("criterion") != criterion {
			continue
		}
		from, err1 := time.Parse(time.RFC3339, get("from"))
		to, err2 := time.Parse(time.RFC3339, get("to"))
		if err1 != nil || err2 != nil {
			t.Fatalf("criteria.csv row %v: %v %v", rec, err1, err2)
		}
		out = append(out, row{from: from, to: to, state: get("state")})
	}
	return out
}
