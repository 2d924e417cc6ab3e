package evidence

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The journal store was unreachable from 22:00 on the period's last day to 02:00 the next; the
// queue dropped records of team-a from 22:00 (CC6.1 turned Fail then), and the journal.gap that
// says so is dated when the store was back, 02:00, after the period, in the segment that also
// holds the records kept in the queue from 22:00 on. The pack read the segment but skipped the
// gap record as outside the period: criteria.csv showed CC6.1 Pass up to the period's end, over
// two hours whose records were lost, and gaps.csv listed no gap. A gap recorded after the period
// whose interval begins in it is a gap of the period.
func TestAJournalGapRecordedAfterThePeriodIsAGapOfIt(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	recs := append(heartbeats(t0, h(26)),
		changed(h(1), "CC6.1", "Pass"),
		teamAGap(h))
	out := buildPack(t, journalOf(t, recs...), t0, h(24))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(22)) + " Pass",
		"CC6.1 " + ts(h(22)) + " " + ts(h(24)) + " Unknown",
	}
	assertCriteriaRows(t, out, "Unknown from the gap's start", want)
	var gaps []string
	for _, r := range readCSV(t, out+"/gaps.csv") {
		gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["hours_in_period"]+" "+r["namespaces"])
	}
	if want := "journal.gap " + ts(h(22)) + " 2.00 team-a"; strings.Join(gaps, "\n") != want {
		t.Errorf("gaps.csv:\n%s\nwant %s", strings.Join(gaps, "\n"), want)
	}
}

// As above, but the store came back with more than journal.MaxSegmentRecords records waiting
// (those kept in the queue from 22:00 on, most dated after the period): the writer splits the
// batch into segments in time order, and the journal.gap, dated when the store was back (the
// latest record of the batch), lands in the last of them, which begins after the period. The
// pack read only the segments overlapping the period and never saw the gap record: criteria.csv
// showed CC6.1 Pass up to the period's end over the two hours whose records of team-a were lost,
// and gaps.csv listed no gap. The segments a split batch continues into are read too.
func TestAJournalGapInASegmentAfterThePeriodOfASplitBatchIsAGapOfIt(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	recs := append(heartbeats(t0, h(24)), changed(h(1), "CC6.1", "Pass"))
	// The records kept in the queue, written when the store was back at 02:00: more than one
	// segment holds, all but a few after the period's end.
	recs = append(recs, splitBatchFindings(h)...)
	recs = append(recs, teamAGap(h))
	out := buildPack(t, journalOf(t, recs...), t0, h(24))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(22)) + " Pass",
		"CC6.1 " + ts(h(22)) + " " + ts(h(24)) + " Unknown",
	}
	assertCriteriaRows(t, out, "Unknown from the gap's start", want)
	gaps := journalGapRows(t, out)
	if want := "journal.gap " + ts(h(22)) + " 2.00 team-a"; strings.Join(gaps, "\n") != want {
		t.Errorf("gaps.csv's journal.gap rows:\n%s\nwant %s", strings.Join(gaps, "\n"), want)
	}
}

// As above, but the batch was written in two attempts: the store failed after the first
// segment of the split (its 20,000 records were written, the rest kept in the queue), and the
// retry, with the whole batch again, also held an exception requested at 23:00 (dated at its
// creation) that arrived meanwhile. The writer split the retry into 20,000-record chunks first
// and left out the records already written afterwards, chunk by chunk: the first chunk, 19,999
// records written before and the exception, became a segment of one record, which the scan does
// not read on from (only a full segment means the batch goes on), so the journal.gap in the
// segments after the period was never read: criteria.csv showed CC6.1 Pass over the two hours
// whose records of team-a were lost, and gaps.csv listed no gap. The writer leaves out what was
// written before it splits, so only a batch's last segment is short.
func TestAJournalGapOfASplitBatchWrittenInTwoAttemptsIsAGapOfThePeriod(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	ctx := context.Background()
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, append(heartbeats(t0, h(22)), changed(h(1), "CC6.1", "Pass"))); err != nil {
		t.Fatal(err)
	}
	// What the queue kept while the store was unreachable, from 22:00: heartbeats, then the
	// findings of team-b that came from 00:00 on, more than one segment holds.
	kept := heartbeats(h(22), h(24))
	kept = append(kept, splitBatchFindings(h)...)
	// The first attempt at 02:00 wrote the first segment of the split and failed on the second.
	if err := w.Write(ctx, kept[:journal.MaxSegmentRecords]); err != nil {
		t.Fatal(err)
	}
	// The retry: the whole batch again, an exception created at 23:00 that arrived meanwhile,
	// and the journal.gap of the records of team-a dropped from 22:00.
	retry := append(kept[:len(kept):len(kept)],
		journal.Record{Type: journal.ExceptionRequested, Time: h(23), Namespace: "team-b", Exception: &journal.Exception{Name: "legacy", Owner: "team-b@example.com"}},
		teamAGap(h))
	if err := w.Write(ctx, retry); err != nil {
		t.Fatal(err)
	}
	out := buildPack(t, store, t0, h(24))
	want := []string{
		"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
		"CC6.1 " + ts(h(1)) + " " + ts(h(22)) + " Pass",
		"CC6.1 " + ts(h(22)) + " " + ts(h(24)) + " Unknown",
	}
	assertCriteriaRows(t, out, "Unknown from the gap's start", want)
	gaps := journalGapRows(t, out)
	if want := "journal.gap " + ts(h(22)) + " 2.00 team-a"; strings.Join(gaps, "\n") != want {
		t.Errorf("gaps.csv's journal.gap rows:\n%s\nwant %s", strings.Join(gaps, "\n"), want)
	}
}

// splitBatchFindings are findings of team-b opened from 00:00 to 02:00 of the day h counts
// from: more than a segment holds (journal.MaxSegmentRecords), so that a batch of them is split.
func splitBatchFindings(h func(float64) time.Time) []journal.Record {
	n := journal.MaxSegmentRecords + 5000
	step := 2 * time.Hour / time.Duration(n)
	recs := make([]journal.Record, 0, n)
	for i := range n {
		recs = append(recs, journal.Record{Type: journal.FindingOpened, Time: h(24).Add(time.Duration(i) * step), Profile: "soc2", Namespace: "team-b",
			Finding: &journal.Finding{Key: fmt.Sprintf("k%d", i), Check: "wl-privileged", Kind: "Deployment", Name: fmt.Sprintf("w%d", i), FirstSeen: h(24)}})
	}
	return recs
}

// teamAGap is the journal.gap, recorded when the store was back at 02:00, of 12 records of
// team-a the queue dropped from 22:00.
func teamAGap(h func(float64) time.Time) journal.Record {
	return journal.Record{Type: journal.JournalGap, Time: h(26), Interval: &journal.Interval{From: h(22), To: h(26), Dropped: 12,
		Reason:    "records dropped: the queue was full while the journal store was not writable",
		DroppedBy: []journal.NamespaceRecords{{Namespace: "team-a", Records: 12}}}}
}
