package journal

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// journalGauge is the value of a journal gauge for the process that opened cluster's chain at
// opened, as a scrape of the operator shows it (false when it has no such series).
func journalGauge(t *testing.T, name, cluster string, opened time.Time) (float64, bool) {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["cluster_name"] == cluster && labels["opened"] == opened.UTC().Format(time.RFC3339Nano) {
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

// An insider who can write to a directory store (or a bucket without compliance-mode Object
// Lock), and holds the signing key, deletes the journal's last segments (the day a critical
// finding was opened) and restarts the operator. The chain that remains verifies, and the
// restarted operator continues it: the deleted time reads as an observation.gap, "no operator
// was observing". Nothing in the store can show otherwise; what can is the head the operator
// published before, outside the store: each process exports the sequence number at which it
// opened the chain and the head it wrote since, which Prometheus keeps, so the rewound start
// (opened below a head already seen) is what SOC2EvidenceJournalRewound alerts on.
func TestATruncatedTailFollowedByARestartShowsInThePublishedHead(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	dir, store := newFileStore(t)
	const cluster = "rewind"
	clock := &fakeNow{t: t0}
	opts := QueueOptions{Store: store, Cluster: cluster, Signer: key, Now: clock.Now, FlushInterval: time.Hour, Identity: "pod-a"}
	files := writeThreeDays(t, opts, clock, dir)
	head, ok := journalGauge(t, "soc2_operator_journal_head_sequence", cluster, t0)
	if !ok || head != float64(len(files)) {
		t.Fatalf("the first process exported head %v (%v), want %d, the sequence number of the chain's last segment", head, ok, len(files))
	}
	if opened, ok := journalGauge(t, "soc2_operator_journal_opened_sequence", cluster, t0); !ok || opened != 0 {
		t.Errorf("the first process exported opened %v (%v), want 0 (an empty chain)", opened, ok)
	}

	// The insider deletes day 2 (its finding and the stop) and restarts the operator.
	const deleted = 2
	removeSegments(t, dir, cluster, files[len(files)-deleted:])
	res, err := Verify(ctx, store, cluster, time.Time{}, time.Time{}, pub)
	if err != nil || !res.OK() {
		t.Fatalf("the truncated chain: %v %v", res.Problems, err)
	}
	restart := t0.Add(3 * 24 * time.Hour)
	clock.Set(restart)
	opts.Identity = "pod-b"
	q2, _ := NewQueue(opts)
	runQueue(t, q2)()
	// The store alone shows an ordinary restart: the chain verifies, and the deleted day is a
	// gap nobody observed, from day 1's last record to the restart.
	var gaps []Interval
	res, err = Scan(ctx, store, ScanOptions{Cluster: cluster, PublicKey: pub, OnRecord: func(line []byte) error {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Type == ObservationGap {
			gaps = append(gaps, *r.Interval)
		}
		return nil
	}})
	if err != nil || !res.OK() {
		t.Fatalf("the continued chain: %v %v", res.Problems, err)
	}
	if len(gaps) != 1 || !gaps[0].From.Equal(day(1)[1].Time) || !gaps[0].To.Equal(restart) {
		t.Fatalf("gaps %+v, want one from %s to %s", gaps, day(1)[1].Time, restart)
	}
	// The restarted process says where it opened the chain: below the head the first one
	// exported.
	opened, ok := journalGauge(t, "soc2_operator_journal_opened_sequence", cluster, restart)
	if !ok || opened != head-deleted {
		t.Fatalf("the restarted process exported opened %v (%v), want %v: the head it continued from, %d below the %v the first process exported", opened, ok, head-deleted, deleted, head)
	}
	if h, ok := journalGauge(t, "soc2_operator_journal_head_sequence", cluster, restart); !ok || h != float64(res.LastSeq) {
		t.Errorf("the restarted process exported head %v (%v), want %d", h, ok, res.LastSeq)
	}
}
