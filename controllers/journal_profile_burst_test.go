package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A profile deleted, or deleted and created again under its name (the operator seeing only the
// new object), closes every open finding of every namespace it judged (out of scope), then says
// profile.deleted. Those records went to the queue without waiting, as a namespace leaving the
// profile's did before 4092cf9c: past the queue's room they were dropped with the store
// writable, and the journal.gap that says so casts doubt on every namespace's records. Tenants
// decide how many findings are open (Deployments with replicas 0 and many containers cost
// nothing), so a profile's deletion or replacement, an administrator's routine change, lost the
// closings and the profile.deleted. They now wait for the writer as an evaluation's do.
func TestAProfileDeletedOrReplacedWithManyOpenFindingsDropsNothing(t *testing.T) {
	for name, drop := range map[string]func(ctx context.Context, h *journalHook){
		"deleted": func(ctx context.Context, h *journalHook) { h.profileDeleted(ctx, "p") },
		"deleted and created again under its name": func(ctx context.Context, h *journalHook) {
			h.profileSeen(ctx, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: 1, UID: types.UID("new"),
				CreationTimestamp: metav1.Now()}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			store, err := journal.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "own", FlushInterval: time.Hour, Capacity: 8, Identity: "test"})
			if err != nil {
				t.Fatal(err)
			}
			h := newJournalHook(q, clock.RealClock{}, time.Hour)
			stopped := make(chan struct{})
			go func() { _ = q.Start(ctx); close(stopped) }()
			defer func() { cancel(); <-stopped }()
			<-q.Ready()
			if !h.ready() {
				t.Fatal("the journal's state was not restored")
			}
			h.profileSeen(ctx, &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: 1, UID: types.UID("old")}})
			const open = 20
			namespaces := []string{"tenant-a", "tenant-b"}
			h.mu.Lock()
			for _, ns := range namespaces {
				tr := h.track("p", ns)
				tr.observed = true
				for i := range open {
					f := journal.Finding{Key: journal.FindingKey("wl-privileged", "Deployment", fmt.Sprint("api-", i), "setup"), Check: "wl-privileged",
						Kind: "Deployment", Name: fmt.Sprint("api-", i), Container: "setup", FirstSeen: time.Now().Add(-time.Hour)}
					tr.open[f.Key] = f
				}
			}
			h.mu.Unlock()
			drop(ctx, h)
			if !q.AddAndWait(ctx, 10*time.Second, journal.Record{Type: journal.OperatorHeartbeat, Time: time.Now()}) {
				t.Fatal("the journal was not written")
			}
			for _, ns := range namespaces {
				closed := 0
				for _, r := range namespaceRecords(t, store, "p", ns) {
					if r.Type == journal.FindingClosed {
						closed++
					}
				}
				if closed != open {
					t.Errorf("namespace %s: journaled %d of %d findings closed, want all", ns, closed, open)
				}
			}
			deleted := 0
			if _, err := journal.Scan(ctx, store, journal.ScanOptions{Cluster: "own", OnRecord: func(line []byte) error {
				var r journal.Record
				if err := json.Unmarshal(line, &r); err != nil {
					return err
				}
				switch r.Type {
				case journal.JournalGap:
					t.Errorf("a journal.gap with the store writable: %+v", r.Interval)
				case journal.ProfileDeleted:
					deleted++
				}
				return nil
			}}); err != nil {
				t.Fatal(err)
			}
			if deleted != 1 {
				t.Errorf("%d profile.deleted records, want 1", deleted)
			}
		})
	}
}
