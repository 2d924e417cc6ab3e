package alert

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// supersededStore is a memStore that another process (the new leader) saved over once
// supersede is called: this process's saves are refused from then on, as the Lease refuses
// them (controllers/leaseannotation.go).
type supersededStore struct {
	memStore
	mu         sync.Mutex
	superseded bool
}

func (s *supersededStore) supersede() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.superseded = true
}

func (s *supersededStore) Save(ctx context.Context, p []Pending) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.superseded {
		return fmt.Errorf("annotation of Lease: %w", ErrSuperseded)
	}
	return s.memStore.Save(ctx, p)
}

// TestAStopAfterAnotherProcessSavedCountsLostOnlyWhatItNeverSaved: this process loaded alert a
// from the previous one and saved b with it at a periodic save; then another process took the
// lead, read a and b from the store and saved, and this one, still sending, queued c before it
// stopped. Its save at the stop is refused (the new leader's record stands), and it logged all
// three at error level as "lost … no later process offers them again" and counted them dropped
// in soc2_operator_alerts_total, which SOC2AlertsNotDelivered reads, though the new leader
// offers a and b. Only c, queued after this process's last save, can be lost: it alone is
// counted and logged as such.
func TestAStopAfterAnotherProcessSavedCountsLostOnlyWhatItNeverSaved(t *testing.T) {
	profile := profileName(t)
	hold := make(chan struct{})
	slow := newReceiver(t, func(http.ResponseWriter, *http.Request, []byte) { <-hold })
	t.Cleanup(func() { close(hold) }) // before the receiver's Close, which waits for its handlers
	store := &supersededStore{}
	store.pending = []Pending{{Sink: "hook", Alert: finding(profile, "a", v1alpha1.SeverityCritical), Queued: true}}
	logs := &logBuffer{}
	opts := testOptions(&sleeper{}, logs)
	opts.Store, opts.SaveInterval = store, 10*time.Millisecond
	d := NewDispatcher(opts)
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", slow.URL)}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Start(ctx) }()
	slow.next(t) // a loaded, offered, and on its way
	d.Send(finding(profile, "b", v1alpha1.SeverityCritical))
	eventually(t, "a periodic save keeps a and b", func() bool {
		return slices.Equal(store.keys(), []string{"hook:a", "hook:b"})
	})
	store.supersede() // the new leader read a and b, and saved
	d.Send(finding(profile, "c", v1alpha1.SeverityCritical))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := count(profile, "hook", v1alpha1.AlertNewFinding, ResultDropped); got != 1 {
		t.Errorf("counted %d alerts dropped, want 1 (c; a and b are offered by the new leader)", got)
	}
	var lost []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"msg"="Alerts lost`) {
			lost = append(lost, line)
		}
	}
	if len(lost) != 1 || !strings.Contains(lost[0], `"c"`) || strings.Contains(lost[0], `"a"`) || strings.Contains(lost[0], `"b"`) {
		t.Errorf("want one line saying c (alone) may be lost, got:\n%s", strings.Join(lost, "\n"))
	}
	if !strings.Contains(logs.String(), "another process") {
		t.Errorf("the log does not say another process saved since:\n%s", logs)
	}
}
