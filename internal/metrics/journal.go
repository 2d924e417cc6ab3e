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
	// JournalOpenedSequence is the sequence number of the last segment of the chain when this
	// process opened it (0 for an empty chain): the head it continues from. Labelled with the
	// journal's cluster name and the time the process opened the chain, so each process (a
	// restarted container too) has a series of its own, absent on replicas that are not the
	// leader. A process that opens the chain below a head an earlier one exported continues a
	// chain whose last segments were deleted: SOC2EvidenceJournalRewound.
	JournalOpenedSequence = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_journal_opened_sequence",
		Help: "Sequence number of the evidence journal's last segment when this process opened the chain (0: empty), by cluster name and when it opened it.",
	}, []string{"cluster_name", "opened"})
	// JournalHeadSequence is the sequence number of the latest segment this process read or
	// wrote in the chain (it never decreases within a process), labelled as
	// JournalOpenedSequence. Prometheus keeps it outside the journal's store: the highest head
	// it saw is what a later process must not open the chain below.
	JournalHeadSequence = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_journal_head_sequence",
		Help: "Sequence number of the evidence journal's latest segment this process read or wrote, by cluster name and when it opened the chain.",
	}, []string{"cluster_name", "opened"})
	// JournalRewound is 1 when the chain this process opened did not hold the head an earlier
	// process published outside the store (a journal.rewound record says which), 0 when it
	// held every published head, by cluster name: SOC2EvidenceJournalAnchorMismatch.
	JournalRewound = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_journal_rewound",
		Help: "1 when the evidence journal's chain, as this process opened it, did not hold the head published before (journal.rewound), 0 otherwise, by cluster name.",
	}, []string{"cluster_name"})

	registerJournalOnce sync.Once
)

// RegisterJournal registers the journal's series (only when the journal is on).
func RegisterJournal() {
	registerJournalOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(JournalBehind, JournalQueued, JournalRecords, JournalLastWrite,
			JournalOpenedSequence, JournalHeadSequence, JournalRewound)
	})
}
