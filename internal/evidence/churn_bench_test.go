package evidence

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/journal/journalsim"
)

// flap appends, to the simulated journal, a day in which one tenant namespace flips failing
// findings open and closed (2 s open, 2 s closed) for hours (what a namespace admin does by adding and
// removing a privileged init container: 12 findings a cycle, measured by
// controllers.TestATenantsChurnCostsTheJournal, and CC6.1 failing and passing with them), with the
// operator's heartbeats. It returns the
// records written.
func flap(tb testing.TB, store journal.Store, cfg journalsim.Config, day time.Time, hours, findings int, cycle time.Duration) int {
	tb.Helper()
	ctx := context.Background()
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: cfg.Cluster})
	if err != nil {
		tb.Fatal(err)
	}
	op := &journal.Operator{Identity: "soc2-operator-1", Version: "sim"}
	var batch []journal.Record
	flush := func() {
		if err := w.Write(ctx, batch); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	written := w.Written()
	for at := day; at.Before(day.AddDate(0, 0, 1)); at = at.Add(journalsim.Heartbeat) {
		batch = append(batch, journal.Record{Type: journal.OperatorHeartbeat, Time: at, Operator: op})
	}
	for at := day.Add(time.Second); at.Before(day.Add(time.Duration(hours) * time.Hour)); at = at.Add(cycle) {
		for i := range findings {
			f := journal.Finding{Key: journal.FindingKey(fmt.Sprintf("check-%02d", i), "Deployment", "api", "setup"), Check: fmt.Sprintf("check-%02d", i),
				Criteria: []string{"CC6.1"}, Severity: "High", Kind: "Deployment", Name: "api", Container: "setup", Message: "the init container fails the check", FirstSeen: at}
			batch = append(batch, journal.Record{Type: journal.FindingOpened, Time: at, Profile: cfg.Profile, Namespace: "tenant", Finding: &f})
			closed := f
			closed.CloseReason = journal.CloseResolved
			batch = append(batch, journal.Record{Type: journal.FindingClosed, Time: at.Add(cycle / 2), Profile: cfg.Profile, Namespace: "tenant", Finding: &closed})
		}
		// CC6.1, which the findings support, fails and passes with them, as the operator's does.
		batch = append(batch,
			journal.Record{Type: journal.CriterionChanged, Time: at, Profile: cfg.Profile, Namespace: "tenant", Criterion: &journal.CriterionChange{Criterion: "CC6.1", From: "Pass", To: "Fail"}},
			journal.Record{Type: journal.CriterionChanged, Time: at.Add(cycle / 2), Profile: cfg.Profile, Namespace: "tenant", Criterion: &journal.CriterionChange{Criterion: "CC6.1", From: "Fail", To: "Pass"}})
		if len(batch) >= journal.MaxSegmentRecords {
			flush()
		}
	}
	flush()
	return w.Written() - written
}

// BenchmarkPackWithAFlappingTenant builds the evidence pack of a month of 20 quiet namespaces
// and one more day in which a tenant's namespace flips 12 findings open and closed every 4 s for
// 0, 1 or 6 hours, or every 20 s (the most the operator's 10 s pace lets through) all day: what
// one namespace admin's churn costs every tenant's evidence pack (the pack reads the whole
// cluster's chain). It reports the records, the bytes stored, the deviations the pack lists and
// the heap live with the pack once built.
func BenchmarkPackWithAFlappingTenant(b *testing.B) {
	for _, c := range []struct {
		hours int
		cycle time.Duration
	}{{0, 4 * time.Second}, {1, 4 * time.Second}, {6, 4 * time.Second}, {24, 20 * time.Second}} {
		hours := c.hours
		b.Run(fmt.Sprintf("flapping-%dh-every-%s", hours, c.cycle), func(b *testing.B) {
			cfg := journalsim.Year()
			cfg.Days, cfg.Namespaces = 30, 20
			dir, store, tally := simulate(b, cfg)
			end := cfg.Start.AddDate(0, 0, cfg.Days)
			extra := flap(b, store, cfg, end, hours, 12, c.cycle)
			var stored int64
			filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					if info, err := e.Info(); err == nil {
						stored += info.Size()
					}
				}
				return nil
			})
			var p *Pack
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var err error
				p, err = Collect(context.Background(), store, Options{From: cfg.Start, To: end.AddDate(0, 0, 1), Clusters: []string{cfg.Cluster}, Now: func() time.Time { return end.AddDate(0, 0, 1) }})
				if err != nil || p.Records != tally.Records+extra {
					b.Fatalf("%v: %d records read, %d written", err, p.Records, tally.Records+extra)
				}
			}
			b.StopTimer()
			// What the pack holds once built (the heap live with it): what grows with the
			// period's records rather than with what it lists.
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "live-MiB")
			runtime.KeepAlive(p)
			b.ReportMetric(float64(tally.Records+extra), "records")
			b.ReportMetric(float64(stored)/(1<<20), "stored-MiB")
			b.ReportMetric(float64(len(p.Deviations)), "deviations")
			spans := 0
			for _, tl := range p.Timelines {
				spans += len(tl.Spans)
			}
			b.ReportMetric(float64(spans), "criterion-spans")
		})
	}
}
