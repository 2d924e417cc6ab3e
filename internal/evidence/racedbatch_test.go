package evidence

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// racingStore runs before once, before the first Put of a segment whose key holds seq.
type racingStore struct {
	journal.Store
	seq    string
	before func()
}

func (s *racingStore) Put(ctx context.Context, key string, data []byte) error {
	if s.before != nil && strings.Contains(key, "/segments/"+s.seq+"_") {
		before := s.before
		s.before = nil
		before()
	}
	return s.Store.Put(ctx, key, data)
}

// As TestAJournalGapInASegmentAfterThePeriodOfASplitBatchIsAGapOfIt, but a second leader (two
// leaders briefly, around a failover while the store was unreachable) wrote its first segment
// between the first and the second segment of the old leader's split batch: the old leader lost
// the race for that sequence number and wrote the rest of its batch, the journal.gap of the
// records of team-a it dropped from 22:00 included, in the segment after. The scan reads on
// after the period only while the segment read is full; the new leader's is short, so the gap
// was never read: criteria.csv showed CC6.1 Pass over the two hours whose records of team-a were
// lost, and gaps.csv listed no journal.gap.
func TestAJournalGapOfASplitBatchAnotherLeaderInterruptedIsAGapOfThePeriod(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	ctx := context.Background()
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	racing := &racingStore{Store: store}
	a, err := journal.NewWriter(ctx, racing, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx, append(heartbeats(t0, h(22)), changed(h(1), "CC6.1", "Pass"))); err != nil {
		t.Fatal(err)
	}
	// What the old leader's queue kept while the store was unreachable, from 22:00, written
	// when it was back at 02:00: more than a segment holds, and the journal.gap last.
	kept := heartbeats(h(22), h(24))
	kept = append(kept, splitBatchFindings(h)...)
	kept = append(kept, teamAGap(h))
	// The new leader writes its start as the old one is about to write segment 3, the second
	// of its batch.
	racing.seq = "000000000003"
	racing.before = func() {
		b, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
		if err != nil {
			t.Fatal(err)
		}
		op := &journal.Operator{Identity: "pod-b"}
		if err := b.Write(ctx, []journal.Record{{Type: journal.OperatorStarted, Time: h(26).Add(time.Minute), Operator: op}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Write(ctx, kept); err != nil {
		t.Fatal(err)
	}
	if racing.before != nil {
		t.Fatal("the batch was not split: no second leader wrote between its segments")
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
