package evidence

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// crashingStore refuses every Put of a segment from sequence number seq on: the writer stopped
// there (a crash, an OOM kill) and writes nothing more.
type crashingStore struct {
	journal.Store
	seq string
}

func (s *crashingStore) Put(ctx context.Context, key string, data []byte) error {
	if i := strings.Index(key, "/segments/"); i >= 0 && key[i+len("/segments/"):] >= s.seq {
		return errors.New("the writer crashed (test)")
	}
	return s.Store.Put(ctx, key, data)
}

// unendedJournal is the journal of TestAJournalGapOfASplitBatchAnotherLeaderInterruptedIsAGapOfThePeriod
// whose old leader crashed mid-batch: the store was unreachable from 22:00 to 02:00, the queue
// dropped 12 records of team-a from 22:00 (CC6.1 turned Fail then), and when the store was back
// the writer split what it kept (more than a segment holds) and wrote only the first segment,
// up to about 01:35, before it died. The journal.gap of team-a's records was in the last
// segment, never written. The next operator started at 03:00 and recorded the observation.gap of
// its own downtime, from the journal's last heartbeat (about 01:30), unless restarted is false:
// then it is a second leader that ran already (two leaders briefly), and records none. It
// states CC6.1 Fail at 04:00.
func unendedJournal(t *testing.T, h func(float64) time.Time, restarted bool) journal.Store {
	t.Helper()
	ctx := context.Background()
	t0 := h(0)
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := journal.NewWriter(ctx, &crashingStore{Store: store, seq: "000000000003"}, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx, append(heartbeats(t0, h(22)), changed(h(1), "CC6.1", "Pass"))); err != nil {
		t.Fatal(err)
	}
	kept := heartbeats(h(22), h(26))
	kept = append(kept, splitBatchFindings(h)...)
	kept = append(kept, teamAGap(h))
	if err := a.Write(ctx, kept); err == nil {
		t.Fatal("the batch's second segment was written")
	}
	// The next operator, as the queue starts: the gap from the journal's last record it dated as
	// it wrote it, then its start and heartbeats.
	b, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Seq() != 2 || !b.Last().Before(h(26)) {
		t.Fatalf("the next operator opened segment %d, last record at %s: not the journal of a crash mid-batch", b.Seq(), b.Last())
	}
	op := &journal.Operator{Identity: "pod-b"}
	// A second leader writes on with no silence: its next heartbeat after the old one's last.
	from := h(27)
	if !restarted {
		from = b.Last().Add(10 * time.Minute)
	}
	next := append(heartbeats(from, h(30)), changed(h(28), "CC6.1", "Fail"))
	if restarted {
		next = append(next,
			journal.Record{Type: journal.ObservationGap, Time: h(27), Operator: op, Interval: &journal.Interval{From: b.Last(), To: h(27),
				Reason: "no operator was observing (stopped, restarted or failing over) since the journal's last record"}},
			journal.Record{Type: journal.OperatorStarted, Time: h(27), Operator: op})
	}
	if err := b.Write(ctx, next); err != nil {
		t.Fatal(err)
	}
	return store
}

// A writer that crashed mid-batch never wrote the batch's last segment, which held the
// journal.gap of the records it dropped before it (dated when the store was back): the pack
// read the first segment, whose heartbeats cover 22:00-24:00, as observed, and showed CC6.1 Pass
// over the two hours whose records of team-a (a Fail) were lost, with no gap row; the next
// operator's observation.gap begins after the period, at the last heartbeat written. A batch
// that never ended is a journal.gap of every namespace from its first record to the next
// writer's first record.
func TestASplitBatchWhoseWriterCrashedIsAGapOfEveryNamespace(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	store := unendedJournal(t, h, true)
	out := t.TempDir()
	p, err := Build(context.Background(), store, Options{From: t0, To: h(24), Clusters: []string{"c"}, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if p.OK() {
		t.Error("the pack's verification found no problem; want the batch named unended")
	}
	if text, err := os.ReadFile(out + "/verification.txt"); err != nil || !strings.Contains(string(text), "unended") {
		t.Errorf("verification.txt does not name the unended batch (%v):\n%s", err, text)
	}
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(22)) + " Pass",
		"CC6.1 " + ts(h(22)) + " " + ts(h(24)) + " Unknown",
	}
	assertCriteriaRows(t, out, "Unknown from the batch's first record", want)
	var gaps []string
	for _, r := range readCSV(t, out+"/gaps.csv") {
		gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["to"]+" "+r["hours_in_period"]+" "+r["namespaces"])
	}
	if want := "journal.gap " + ts(h(22)) + " " + ts(h(27)) + " 2.00 *"; strings.Join(gaps, "\n") != want {
		t.Errorf("gaps.csv (type from to hours_in_period namespaces):\n%s\nwant %s", strings.Join(gaps, "\n"), want)
	}
}

// As above, over a period that goes on after the next writer's first record: every criterion
// is Unknown from the gap's start until a record states it again (the change lost with the
// batch would otherwise read as the state before it), whether the next writer restarted after
// the crash (its observation.gap ends at its start) or was a second leader running already
// (nothing but the batch says anything was lost).
func TestACriterionIsUnknownAfterASplitBatchWhoseWriterCrashedUntilStatedAgain(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	for _, restarted := range []bool{true, false} {
		out := buildPack(t, unendedJournal(t, h, restarted), t0, h(30))
		want := []string{
			"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
			"CC6.1 " + ts(h(1)) + " " + ts(h(22)) + " Pass",
			"CC6.1 " + ts(h(22)) + " " + ts(h(28)) + " Unknown",
			"CC6.1 " + ts(h(28)) + " " + ts(h(30)) + " Fail",
		}
		if got := criteriaRows(t, out); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("restarted %t: criteria.csv (criterion from to state):\n%s\nwant:\n%s", restarted, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
