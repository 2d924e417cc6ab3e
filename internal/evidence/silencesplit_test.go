package evidence

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The operator's process froze at 22:00 on the period's last day (a paused VM, a suspended
// node) and ran again at 00:10: no record says so, and the pack's silence (more than 20 minutes
// without a record) is the only evidence. A namespace admin had created exceptions in team-a
// expiring every quarter of an hour (spec.expires is theirs to choose); the operator, running
// again, journaled each exception.expired dated at its expiry, 22:00, 22:15, ... 23:45, as it
// dates them. The pack took every record for the operator being heard from, so no two records
// were more than 20 minutes apart: gaps.csv had no silence and criteria.csv showed CC6.1 Pass
// over the two hours nobody observed. The same with an operator that stopped at 23:30 and an
// exception created at 23:45 while none ran, journaled by the next operator at 00:10: the 30
// minutes from the stop to the period's end were in no row of gaps.csv.
// Only a record the operator dates as it writes it (journal.DatedAsWritten) says it was running.
func TestRecordsDatedByATenantsTimesDoNotFillASilence(t *testing.T) {
	t0 := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	t.Run("a frozen operator", func(t *testing.T) {
		recs := append(heartbeats(t0, h(22)), heartbeats(h(24).Add(10*time.Minute), h(25))...)
		recs = append(recs, changed(h(1), "CC6.1", "Pass"))
		for i, at := 0, h(22); at.Before(h(24)); i, at = i+1, at.Add(15*time.Minute) {
			recs = append(recs, journal.Record{Type: journal.ExceptionExpired, Time: at, Namespace: "team-a",
				Exception: &journal.Exception{Name: fmt.Sprintf("x%d", i), Expires: at}})
		}
		out := buildPack(t, journalOf(t, recs...), t0, h(24))
		last := h(22).Add(-10 * time.Minute) // the last heartbeat before the freeze
		want := []string{
			"CC6.1 " + ts(t0) + " " + ts(h(1)) + " Unknown",
			"CC6.1 " + ts(h(1)) + " " + ts(last) + " Pass",
			"CC6.1 " + ts(last) + " " + ts(h(24)) + " Unknown",
		}
		assertCriteriaRows(t, out, "Unknown from the last heartbeat", want)
		var gaps []string
		for _, r := range readCSV(t, out+"/gaps.csv") {
			gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["to"])
		}
		if want := "silence " + ts(last) + " " + ts(h(24)); strings.Join(gaps, "\n") != want {
			t.Errorf("gaps.csv:\n%s\nwant %s", strings.Join(gaps, "\n"), want)
		}
	})
	t.Run("a stopped operator", func(t *testing.T) {
		recs := append(heartbeats(t0, h(23.5)), changed(h(1), "CC6.1", "Pass"),
			journal.Record{Type: journal.OperatorStopped, Time: h(23.5)},
			journal.Record{Type: journal.ExceptionRequested, Time: h(23.75), Namespace: "team-a", Exception: &journal.Exception{Name: "late"}},
			journal.Record{Type: journal.ObservationGap, Time: h(24).Add(10 * time.Minute), Interval: &journal.Interval{From: h(23.5), To: h(24).Add(10 * time.Minute)}},
			journal.Record{Type: journal.OperatorStarted, Time: h(24).Add(10 * time.Minute)})
		out := buildPack(t, journalOf(t, recs...), t0, h(24))
		var gaps []string
		for _, r := range readCSV(t, out+"/gaps.csv") {
			gaps = append(gaps, r["type"]+" "+r["from"]+" "+r["to"])
		}
		// The next operator's start, in the segment the exception's record brings into the
		// window, ends the stop; the time without an operator is the observation.gap it
		// recorded, dated after the period, from the stop (the exception's creation in it does
		// not shorten it).
		if want := "observation.gap " + ts(h(23.5)) + " " + ts(h(24).Add(10*time.Minute)); strings.Join(gaps, "\n") != want {
			t.Errorf("gaps.csv:\n%s\nwant %s", strings.Join(gaps, "\n"), want)
		}
	})
}
