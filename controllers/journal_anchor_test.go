package controllers

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An insider with write access to the journal's store deletes its last segments and restarts
// the operator. The operator had published the chain's head in the profiles' status (in the
// real API server, where only it may write that status): the restarted operator reads it back,
// finds the chain shorter, journals journal.rewound and says so on the profile, where before
// it continued the chain as after any restart.
func TestTheJournalHeadPublishedInTheProfilesStatusShowsARewind(t *testing.T) {
	ctx := context.Background()
	const cluster = "anchor-env"
	createProfile(t, "janchor", "janchor", nil)
	dir := t.TempDir()
	store, err := journal.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	anchor := &headAnchor{client: k8s, reader: k8s, cluster: cluster}
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	run := func(identity string, at time.Time, records ...journal.Record) *journal.Queue {
		t.Helper()
		q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: cluster, FlushInterval: time.Hour, Identity: identity,
			Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		q.SetAnchor(anchor.read, anchor.publish)
		qctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { _ = q.Start(qctx); close(stopped) }()
		<-q.Ready()
		for _, r := range records {
			if !q.AddAndWait(ctx, 10*time.Second, r) {
				t.Fatal("the journal was not written")
			}
		}
		cancel()
		<-stopped
		return q
	}
	// Heartbeats after the operator's start (it dates them by its clock as it writes them).
	var day []journal.Record
	for i := range 3 {
		day = append(day, journal.Record{Type: journal.OperatorHeartbeat, Time: now.Add(time.Hour + time.Duration(i+1)*time.Minute)})
	}
	run("pod-a", now.Add(time.Hour), day...)
	res, err := journal.Verify(ctx, store, cluster, time.Time{}, time.Time{}, nil)
	if err != nil || !res.OK() {
		t.Fatalf("the first chain: %v %v", res.Problems, err)
	}
	p := &v1alpha1.ComplianceProfile{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: "janchor"}, p); err != nil {
		t.Fatal(err)
	}
	var published *v1alpha1.JournalHead
	for i, h := range p.Status.JournalHeads {
		if h.Cluster == cluster {
			published = &p.Status.JournalHeads[i]
		}
	}
	if published == nil || uint64(published.Sequence) != res.LastSeq || published.Digest != res.LastDigest {
		t.Fatalf("status.journalHeads %+v, want %s at segment %d, %s (the stop's)", p.Status.JournalHeads, cluster, res.LastSeq, res.LastDigest)
	}

	// The insider deletes the last two segments; what remains verifies.
	files, err := filepath.Glob(filepath.Join(dir, cluster, "segments", "*.jsonl.gz"))
	if err != nil || len(files) < 3 {
		t.Fatalf("segments %v %v", files, err)
	}
	for _, f := range files[len(files)-2:] {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := journal.Verify(ctx, store, cluster, time.Time{}, time.Time{}, nil); err != nil || !res.OK() {
		t.Fatalf("the truncated chain: %v %v", res.Problems, err)
	}

	restart := now.Add(24 * time.Hour)
	q := run("pod-b", restart)
	rw := q.Rewind()
	if rw == nil || rw.Published.Seq != uint64(published.Sequence) || rw.Found.Seq != uint64(published.Sequence)-2 || !strings.Contains(rw.Source, "janchor") {
		t.Fatalf("the restarted queue found %+v; want the head published in janchor's status, 2 segments beyond the chain", rw)
	}
	var rewound []journal.Record
	res, err = journal.Scan(ctx, store, journal.ScanOptions{Cluster: cluster, OnRecord: func(line []byte) error {
		var r journal.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Type == journal.JournalRewound {
			rewound = append(rewound, r)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rewound) != 1 || rewound[0].Rewind.Published.Digest != published.Digest {
		t.Errorf("journal.rewound records %+v, want one with the published head", rewound)
	}
	if len(res.Problems) != 1 || res.Problems[0].Kind != journal.ProblemRewound {
		t.Errorf("verification problems %v, want one %s", res.Problems, journal.ProblemRewound)
	}
	h := &journalHook{queue: q}
	var conds []metav1.Condition
	h.setRewoundCondition(&conds, 1)
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionJournalRewound); c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonPublishedHeadNotInChain {
		t.Errorf("condition %+v, want %s True", c, v1alpha1.ConditionJournalRewound)
	}
	// The restarted operator published the continued chain's head.
	if err := k8s.Get(ctx, types.NamespacedName{Name: "janchor"}, p); err != nil {
		t.Fatal(err)
	}
	for _, h := range p.Status.JournalHeads {
		if h.Cluster == cluster && (uint64(h.Sequence) != res.LastSeq || h.Digest != res.LastDigest) {
			t.Errorf("after the restart status.journalHeads has %+v, want segment %d", h, res.LastSeq)
		}
	}
}
