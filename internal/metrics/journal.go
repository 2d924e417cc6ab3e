package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// JournalBehind is 1 while records wait for a journal store that cannot be written.
	JournalBehind = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "soc2_operator_journal_behind",
		Help: "1 while the evidence journal cannot be written (the store is unreachable or refuses writes), 0 otherwise.",
	})
	// JournalQueued is how many records wait to be written.
	JournalQueued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "soc2_operator_journal_queued_records",
		Help: "Records of the evidence journal waiting to be written.",
	})
	// JournalRecords counts records by outcome: written, or dropped (the bounded queue was full;
	// the gap is recorded when the store is back).
	JournalRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soc2_operator_journal_records_total",
		Help: "Evidence journal records by outcome (written, dropped).",
	}, []string{"outcome"})
	// JournalLastWrite is when a segment was last written.
	JournalLastWrite = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "soc2_operator_journal_last_write_timestamp_seconds",
		Help: "Unix time of the last segment written to the evidence journal.",
	})

	registerJournalOnce sync.Once
)

// RegisterJournal registers the journal's series (only when the journal is on).
func RegisterJournal() {
	registerJournalOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(JournalBehind, JournalQueued, JournalRecords, JournalLastWrite)
	})
}
