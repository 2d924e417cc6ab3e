package journal

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// memAnchor stands in for the place outside the store where the operator publishes the
// journal's head (a ComplianceProfile's status in the cluster).
type memAnchor struct {
	mu    sync.Mutex
	heads []PublishedHead
}

func (m *memAnchor) read(context.Context) ([]PublishedHead, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]PublishedHead(nil), m.heads...), nil
}

func (m *memAnchor) publish(_ context.Context, h Head) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.heads = []PublishedHead{{Head: h, Source: "test"}}
	return nil
}

func (m *memAnchor) head() Head {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.heads[0].Head
}

// scanRecords verifies the chain and returns its records by type.
func scanRecords(t *testing.T, store Store, cluster string, pub ed25519.PublicKey) (Result, map[Type][]Record) {
	t.Helper()
	byType := map[Type][]Record{}
	res, err := Scan(context.Background(), store, ScanOptions{Cluster: cluster, PublicKey: pub, OnRecord: func(line []byte) error {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		byType[r.Type] = append(byType[r.Type], r)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return res, byType
}

// writeThreeDays runs an operator (opts: with or without an anchor) for three days and stops it;
// it returns the segment files.
func writeThreeDays(t *testing.T, opts QueueOptions, clock *fakeNow, dir string) []string {
	t.Helper()
	q, _ := NewQueue(opts)
	stop := runQueue(t, q)
	for d := range 3 {
		clock.Set(t0.Add(time.Duration(d)*24*time.Hour + time.Hour))
		if !q.AddAndWait(context.Background(), 10*time.Second, day(d)...) {
			t.Fatalf("day %d not written", d)
		}
	}
	clock.Set(t0.Add(2*24*time.Hour + 6*time.Hour))
	stop()
	files, err := filepath.Glob(filepath.Join(dir, opts.Cluster, "segments", "*.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func removeSegments(t *testing.T, dir, cluster string, files []string) {
	t.Helper()
	for _, f := range files {
		for _, p := range []string{f, filepath.Join(dir, cluster, "signatures", filepath.Base(f)+".sig")} {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The insider of TestATruncatedTailFollowedByARestartShowsInThePublishedHead, or one who also
// writes the deleted segments again with other content (signed with the key), restarts the
// operator. The head the operator published outside the store is beyond the shortened chain, or
// names a segment whose digest is not the chain's: the restarted operator journals
// journal.rewound with both heads before it continues, says so in the observation.gap it
// records, exports soc2_operator_journal_rewound, and verification reports the rewind.
func TestARestartOnARewoundChainIsJournaledAsRewound(t *testing.T) {
	for name, tc := range map[string]struct {
		rewrite bool
	}{
		"the last segments deleted":               {},
		"the last segments deleted and rewritten": {rewrite: true},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			key := newKey(t)
			pub := key.Public().(ed25519.PublicKey)
			dir, store := newFileStore(t)
			cluster := "anchor-" + map[bool]string{false: "deleted", true: "rewritten"}[tc.rewrite]
			clock := &fakeNow{t: t0}
			anchor := &memAnchor{}
			opts := QueueOptions{Store: store, Cluster: cluster, Signer: key, Now: clock.Now, FlushInterval: time.Hour, Identity: "pod-a",
				Anchor: anchor.read, Publish: anchor.publish}
			files := writeThreeDays(t, opts, clock, dir)
			published := anchor.head()
			if published.Seq != uint64(len(files)) || published.Digest == "" || !published.Time.Equal(t0.Add(2*24*time.Hour+6*time.Hour)) {
				t.Fatalf("published head %+v, want segment %d (the stop) at its time", published, len(files))
			}

			removeSegments(t, dir, cluster, files[len(files)-2:])
			if tc.rewrite {
				// Rewritten as long as before, re-signed: only the digest differs.
				w, err := NewWriter(ctx, store, WriterOptions{Cluster: cluster, Signer: key})
				if err != nil {
					t.Fatal(err)
				}
				for i := range 2 {
					r := Record{Type: OperatorHeartbeat, Time: t0.Add(2*24*time.Hour + time.Duration(i+1)*time.Hour), Operator: &Operator{Identity: "pod-a"}}
					if err := w.Write(ctx, []Record{r}); err != nil {
						t.Fatal(err)
					}
				}
				if w.Seq() != published.Seq {
					t.Fatalf("rewritten to segment %d, want %d", w.Seq(), published.Seq)
				}
			}
			if res, _ := scanRecords(t, store, cluster, pub); !res.OK() {
				t.Fatalf("the tampered chain: %v", res.Problems)
			}
			// Given a copy of the published heads, verification sees the rewind without a restart.
			res, err := Scan(ctx, store, ScanOptions{Cluster: cluster, PublicKey: pub, Heads: []PublishedHead{{Head: published, Source: "a copy"}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) != 1 || res.Problems[0].Kind != ProblemRewound || !strings.Contains(res.Problems[0].Detail, published.Digest) {
				t.Errorf("verification given the published head: %v, want one %s", res.Problems, ProblemRewound)
			}

			restart := t0.Add(3 * 24 * time.Hour)
			clock.Set(restart)
			opts.Identity = "pod-b"
			q2, _ := NewQueue(opts)
			runQueue(t, q2)()
			if !q2.Rewound() {
				t.Error("the restarted queue does not say the chain was rewound")
			}
			if v, ok := rewoundGauge(t, cluster); !ok || v != 1 {
				t.Errorf("soc2_operator_journal_rewound{cluster_name=%q} = %v (%v), want 1", cluster, v, ok)
			}
			res, byType := scanRecords(t, store, cluster, pub)
			rw := byType[JournalRewound]
			if len(rw) != 1 || rw[0].Rewind == nil {
				t.Fatalf("journal.rewound records %+v, want one", rw)
			}
			got := rw[0].Rewind
			if got.Published.Seq != published.Seq || got.Published.Digest != published.Digest || !got.Published.Time.Equal(published.Time) || got.Source != "test" {
				t.Errorf("journal.rewound says published %+v from %q, want %+v from test", got.Published, got.Source, published)
			}
			wantFound := published.Seq - 2
			if tc.rewrite {
				wantFound = published.Seq
			}
			if got.Found.Seq != wantFound || got.Found.Digest == "" || got.Found.Digest == published.Digest {
				t.Errorf("journal.rewound says found %+v, want segment %d with another digest", got.Found, wantFound)
			}
			if !rw[0].Time.Equal(restart) {
				t.Errorf("journal.rewound at %s, want the restart %s", rw[0].Time, restart)
			}
			gaps := byType[ObservationGap]
			if len(gaps) != 1 || !strings.Contains(gaps[0].Interval.Reason, string(JournalRewound)) {
				t.Errorf("observation gaps %+v, want one whose reason names %s", gaps, JournalRewound)
			}
			var rewound []Problem
			for _, p := range res.Problems {
				if p.Kind == ProblemRewound {
					rewound = append(rewound, p)
				} else {
					t.Errorf("unexpected problem %s", p)
				}
			}
			if len(rewound) != 1 || !strings.Contains(rewound[0].Detail, published.Digest[:16]) {
				t.Errorf("problems %v, want one %s naming the published digest", res.Problems, ProblemRewound)
			}
			if after := anchor.head(); after.Seq <= wantFound || after.Time.Before(restart) {
				t.Errorf("after the restart the published head is %+v, want the continued chain's", after)
			}
		})
	}
}

// An ordinary restart (the head published at the stop), a restart after the stop segment was
// written but not published (a crash before publication), and a chain the published head is
// inside, are not rewinds.
func TestAnOrdinaryRestartIsNotARewind(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	dir, store := newFileStore(t)
	const cluster = "anchor-ordinary"
	clock := &fakeNow{t: t0}
	anchor := &memAnchor{}
	opts := QueueOptions{Store: store, Cluster: cluster, Signer: key, Now: clock.Now, FlushInterval: time.Hour, Identity: "pod-a",
		Anchor: anchor.read, Publish: anchor.publish}
	files := writeThreeDays(t, opts, clock, dir)
	// An earlier publication, a segment behind the chain's end.
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	older := anchor.head()
	older.Seq--
	older.Digest, err = hashObject(ctx, store, segmentsPrefix(cluster)+filepath.Base(files[len(files)-2]))
	if err != nil {
		t.Fatal(err)
	}
	for name, heads := range map[string][]PublishedHead{
		"published at the stop":       {{Head: anchor.head(), Source: "a"}},
		"published a segment earlier": {{Head: older, Source: "b"}},
		"both":                        {{Head: older, Source: "b"}, {Head: anchor.head(), Source: "a"}},
		"none":                        nil,
	} {
		if rw, err := CheckAnchor(ctx, store, cluster, w.Head(), heads); err != nil || rw != nil {
			t.Errorf("%s: CheckAnchor = %+v, %v; want no rewind", name, rw, err)
		}
	}
	clock.Set(t0.Add(3 * 24 * time.Hour))
	q, _ := NewQueue(opts)
	runQueue(t, q)()
	if q.Rewound() {
		t.Error("an ordinary restart is taken for a rewind")
	}
	res, byType := scanRecords(t, store, cluster, key.Public().(ed25519.PublicKey))
	if !res.OK() || len(byType[JournalRewound]) != 0 {
		t.Errorf("after an ordinary restart: problems %v, journal.rewound %+v", res.Problems, byType[JournalRewound])
	}
	res, err = Scan(ctx, store, ScanOptions{Cluster: cluster, Heads: []PublishedHead{{Head: older, Source: "b"}}})
	if err != nil || !res.OK() {
		t.Errorf("verification given a head the chain grew past: %v %v", res.Problems, err)
	}
}

func rewoundGauge(t *testing.T, cluster string) (float64, bool) {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "soc2_operator_journal_rewound" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster_name" && l.GetValue() == cluster {
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
