package journal

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// QueueOptions configure a Queue.
type QueueOptions struct {
	Store   Store
	Cluster string
	Signer  ed25519.PrivateKey
	// Capacity bounds the records waiting to be written (default 50000). Past it, records are
	// dropped and counted, and the gap is recorded once the store is back.
	Capacity int
	// FlushInterval is how often waiting records are written as a segment (default 5s).
	FlushInterval time.Duration
	// Heartbeat is how often an operator.heartbeat record says the operator is observing
	// (default 10m): after a crash, the unobserved interval starts at the last one.
	Heartbeat time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Identity and Version name this operator process in operator.* records, and Catalogue
	// the version of the check catalogue it evaluates with.
	Identity, Version, Catalogue string
	Logger                       logr.Logger
	// Restore, when set, is called with the opened chain before anything is written (to
	// rebuild state from it); the queue retries it with the writer until it succeeds.
	Restore func(ctx context.Context, store Store, w *Writer) error
	// Anchor, when set, reads the heads earlier processes published outside the store
	// (Publish); the queue checks the chain against them when it opens it, before writing,
	// and journals journal.rewound when the chain does not hold one (CheckAnchor).
	Anchor func(ctx context.Context) ([]PublishedHead, error)
	// Publish, when set, publishes the chain's head outside the store: after the first write,
	// then after a write at most once per Heartbeat, and after the last write when the queue
	// stops. A failed publication is logged and tried again after the next write.
	Publish func(ctx context.Context, head Head) error
}

// OperatorHeartbeat says the operator was observing at the time.
const OperatorHeartbeat Type = "operator.heartbeat"

// Queue takes records from the reconcilers without ever blocking them and writes them as
// segments. It runs only on the leader (a manager Runnable that needs leader election).
type Queue struct {
	opts QueueOptions
	ch   chan Record

	mu sync.Mutex
	// enqueued counts records that entered the queue; done those written (or dropped after
	// being queued). A caller of AddAndWait waits until done reaches its records.
	enqueued, done uint64
	flushed        chan struct{} // closed (and replaced) whenever done advances
	flushNow       chan struct{}
	dropped        int
	dropFrom       time.Time
	// droppedWritable counts the dropped records (of dropped) that were dropped while the store
	// was writable: a burst the writer did not take in time, not an outage.
	droppedWritable int
	// droppedBy counts the dropped records (of dropped) by namespace ("" for none): the
	// journal.gap names whose records were lost (Interval.DroppedBy).
	droppedBy map[string]int
	// queuedBy counts the records of each namespace in the channel: one namespace fills at most
	// the capacity less a quarter (admit), so that a tenant's burst leaves room for the others.
	queuedBy    map[string]int
	behindSince time.Time
	lastErr     error
	ready       chan struct{}
	readyOnce   sync.Once
	// rewind is what the anchor check found when the chain was opened (nil: nothing).
	rewind *Rewind
}

// NewQueue makes a queue; Start runs it.
func NewQueue(opts QueueOptions) (*Queue, error) {
	if opts.Store == nil {
		return nil, fmt.Errorf("journal: no store")
	}
	if err := ValidateClusterName(opts.Cluster); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if opts.Capacity <= 0 {
		opts.Capacity = 50000
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	metrics.RegisterJournal()
	return &Queue{opts: opts, ch: make(chan Record, opts.Capacity), ready: make(chan struct{}),
		flushed: make(chan struct{}), flushNow: make(chan struct{}, 1), queuedBy: map[string]int{}, droppedBy: map[string]int{}}, nil
}

// SetRestore sets the function that rebuilds state from the chain before anything is written
// (call it before Start).
func (q *Queue) SetRestore(fn func(ctx context.Context, store Store, w *Writer) error) {
	q.opts.Restore = fn
}

// SetAnchor sets where the queue reads the heads published before and publishes the chain's
// head (QueueOptions.Anchor and Publish; call it before Start).
func (q *Queue) SetAnchor(read func(ctx context.Context) ([]PublishedHead, error), publish func(ctx context.Context, head Head) error) {
	q.opts.Anchor, q.opts.Publish = read, publish
}

// Cluster is the chain the queue writes.
func (q *Queue) Cluster() string { return q.opts.Cluster }

// Catalogue is the version of the check catalogue this operator evaluates with ("" when not
// said).
func (q *Queue) Catalogue() string { return q.opts.Catalogue }

// NeedLeaderElection: only the leader evaluates, so only the leader writes the journal.
func (q *Queue) NeedLeaderElection() bool { return true }

// Ready is closed once the chain was opened and restored: records added before then are
// kept in the queue, but state-dependent callers wait for it.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Add queues records; it never blocks. When the queue is full, or the records' namespace fills
// all of it but the quarter kept for the others (reserveOf), the records are dropped and counted,
// and a journal.gap record says so once the store is writable.
func (q *Queue) Add(records ...Record) {
	q.add(context.Background(), records, false)
}

// reserveOf is how much of a queue of capacity n one namespace leaves to the others: a quarter.
// A namespace under that many queued records is always let in while there is room.
func reserveOf(n int) int { return max(1, n/4) }

// admit says whether r may enter the channel now: there is room, and r is not of a namespace
// that already holds a quarter of the capacity while only the reserve is left. Called with q.mu
// held.
func (q *Queue) admit(r Record) bool {
	room := cap(q.ch) - len(q.ch)
	if room <= 0 {
		return false
	}
	reserve := reserveOf(cap(q.ch))
	return r.Namespace == "" || q.queuedBy[r.Namespace] < reserve || room > reserve
}

// add queues records in order. Those that cannot enter are waited for when wait is set and the
// store is writable (the writer is asked to take what waits; the evaluation that made the burst
// waits, not the others), until ctx ends; otherwise they are dropped and counted. It returns the
// ticket AddAndWait waits for and whether every record entered.
func (q *Queue) add(ctx context.Context, records []Record, wait bool) (uint64, bool) {
	all := true
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := 0; i < len(records); {
		r := records[i]
		if q.admit(r) {
			q.ch <- r // room checked under q.mu: only add sends
			q.enqueued++
			if r.Namespace != "" {
				q.queuedBy[r.Namespace]++
			}
			i++
			continue
		}
		if wait && q.behindSince.IsZero() {
			flushed := q.flushed
			q.mu.Unlock()
			select {
			case q.flushNow <- struct{}{}:
			default:
			}
			select {
			case <-flushed: // the writer took records (or the store failed): look again
			case <-ctx.Done():
				wait = false
			}
			q.mu.Lock()
			continue
		}
		all = false
		if q.dropped == 0 {
			q.dropFrom = r.Time
		}
		q.dropped++
		q.droppedBy[r.Namespace]++
		if q.behindSince.IsZero() {
			q.droppedWritable++
		}
		metrics.JournalRecords.WithLabelValues("dropped").Inc()
		i++
	}
	metrics.JournalQueued.Set(float64(len(q.ch)))
	return q.enqueued, all
}

// AddAndWait queues records and waits until they are written, at most timeout, so that what a
// report shows is in the journal first (a leader that dies after writing a report has
// journaled its transitions). Records that do not fit in the queue wait for the writer to take
// others (within the same timeout) rather than being dropped. It does not wait while the
// journal is behind (the store is unreachable): evaluation goes on, and the gap is recorded. It
// reports whether the records were written.
func (q *Queue) AddAndWait(ctx context.Context, timeout time.Duration, records ...Record) bool {
	if len(records) == 0 {
		return true
	}
	// One deadline for the wait for room and the wait for the write.
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticket, all := q.add(ctx, records, true)
	select {
	case q.flushNow <- struct{}{}:
	default:
	}
	for {
		q.mu.Lock()
		done, behind, flushed := q.done >= ticket, !q.behindSince.IsZero(), q.flushed
		q.mu.Unlock()
		if done {
			return all
		}
		if behind {
			return false
		}
		select {
		case <-flushed:
		case <-ctx.Done():
			return false
		}
	}
}

// advance marks n queued records as done and wakes the waiters.
func (q *Queue) advance(n int) {
	if n <= 0 {
		return
	}
	q.mu.Lock()
	q.done += uint64(n)
	close(q.flushed)
	q.flushed = make(chan struct{})
	q.mu.Unlock()
}

// Rewound reports whether the chain, when this queue opened it, did not hold a head published
// before (a journal.rewound record says which).
func (q *Queue) Rewound() bool { return q.Rewind() != nil }

// Rewind is what the anchor check found when the chain was opened (nil: the chain holds every
// published head, or there was none, or no Anchor).
func (q *Queue) Rewind() *Rewind {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rewind
}

// Status says whether the journal is behind (records wait for an unwritable store), since when,
// how many records were dropped, and the last error.
func (q *Queue) Status() (behind bool, since time.Time, dropped int, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.behindSince.IsZero(), q.behindSince, q.dropped, q.lastErr
}

func (q *Queue) setBehind(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	defer func() {
		// Waiters stop waiting for a store that is not there.
		close(q.flushed)
		q.flushed = make(chan struct{})
	}()
	if q.behindSince.IsZero() {
		q.behindSince = q.opts.Now()
		q.opts.Logger.Info("Journal store not writable, records wait in the queue", "store", q.opts.Store.String(), "error", err.Error())
	}
	q.lastErr = err
	metrics.JournalBehind.Set(1)
}

// maxClockWait bounds how long a process whose clock is behind the journal's last record waits
// for it to pass (awaitClock).
const maxClockWait = CoverageSlack

// awaitClock waits, at most maxClockWait by its clock, until this process's clock passes the journal's last
// record: a leader whose clock is behind the one before it (clock skew across a failover) would
// otherwise date its start and its first evaluations before records already written, and the
// evidence pack, which keeps the later time when two records state a criterion, would read its
// later verdicts as older ones. It waits before the state is restored, so no evaluation is
// journaled meanwhile. False when ctx ended.
func (q *Queue) awaitClock(ctx context.Context, w *Writer) bool {
	last := w.Last()
	if !last.After(q.opts.Now()) {
		return true
	}
	q.opts.Logger.Info("Journal's last record is later than this operator's clock, waiting for the clock to pass it",
		"store", q.opts.Store.String(), "cluster", q.opts.Cluster, "last", last, "now", q.opts.Now())
	poll := min(q.opts.FlushInterval, time.Second)
	// The bound is of this process's clock (the one its records are dated by), and of the
	// wall clock too, should that clock not move.
	began, deadline := q.opts.Now(), time.Now().Add(maxClockWait)
	for now := began; last.After(now); now = q.opts.Now() {
		if now.Sub(began) >= maxClockWait || time.Now().After(deadline) {
			q.opts.Logger.Error(nil, "This operator's clock is behind the journal's last record; journaling the time until it passes as not observed",
				"store", q.opts.Store.String(), "cluster", q.opts.Cluster, "last", last, "now", q.opts.Now())
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(poll):
		}
	}
	return true
}

// checkAnchor checks the opened chain against the published heads (CheckAnchor) and, when it
// does not hold one, remembers the rewind for the first segment, exports it and logs it.
func (q *Queue) checkAnchor(ctx context.Context, w *Writer) error {
	heads, err := q.opts.Anchor(ctx)
	if err != nil {
		return fmt.Errorf("journal: reading the published heads: %w", err)
	}
	rw, err := CheckAnchor(ctx, q.opts.Store, q.opts.Cluster, w.Head(), heads)
	if err != nil {
		return fmt.Errorf("journal: checking the published heads: %w", err)
	}
	q.mu.Lock()
	q.rewind = rw
	q.mu.Unlock()
	if rw != nil {
		metrics.JournalRewound.WithLabelValues(q.opts.Cluster).Set(1)
		q.opts.Logger.Error(nil, "Evidence journal rewound: the chain does not hold the head published before; journaling journal.rewound",
			"store", q.opts.Store.String(), "cluster", q.opts.Cluster, "published", rw.Published.String(), "source", rw.Source,
			"found", rw.Found.String(), "detail", rw.Detail)
	} else {
		metrics.JournalRewound.WithLabelValues(q.opts.Cluster).Set(0)
	}
	return nil
}

// Start opens the chain (retrying while the store is unreachable), records the start and the
// interval nobody observed, then writes queued records every FlushInterval until ctx ends, when
// it records the stop and writes what is left.
func (q *Queue) Start(ctx context.Context) error {
	log := q.opts.Logger
	start := q.opts.Now()
	var w *Writer
	backoff := time.Second
	for {
		var err error
		w, err = NewWriter(ctx, q.opts.Store, WriterOptions{Cluster: q.opts.Cluster, Signer: q.opts.Signer})
		if err == nil && q.opts.Anchor != nil {
			err = q.checkAnchor(ctx, w)
		}
		if err == nil && !q.awaitClock(ctx, w) {
			return nil
		}
		if err == nil && q.opts.Restore != nil {
			err = q.opts.Restore(ctx, q.opts.Store, w)
		}
		if err == nil {
			break
		}
		q.setBehind(err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
	op := &Operator{Identity: q.opts.Identity, Version: q.opts.Version, Catalogue: q.opts.Catalogue}
	var batch []Record
	rewind := q.Rewind()
	if now := q.opts.Now(); now.After(start) && start.Before(w.Last()) {
		start = now // it waited for its clock to pass the journal's last record
	}
	if last := w.Last(); last.After(start) {
		// Still behind after maxClockWait: what it writes until its clock passes last cannot be
		// ordered against what was written before, which the evidence pack shows as not observed.
		batch = append(batch, Record{Type: ObservationGap, Time: start, Operator: op,
			Interval: &Interval{From: start, To: last, Reason: "this operator's clock was " + last.Sub(start).String() +
				" behind the journal's last record: its records until then cannot be ordered against those written before"}})
	}
	if last := w.Last(); !last.IsZero() && last.Before(start) {
		reason := "no operator was observing (stopped, restarted or failing over) since the journal's last record"
		if rewind != nil {
			reason = "the chain was rewound (" + string(JournalRewound) + "): its records after " + last.UTC().Format(time.RFC3339) +
				" up to at least the published head's " + rewind.Published.Time.UTC().Format(time.RFC3339) + " were deleted or replaced, not unobserved"
		}
		batch = append(batch, Record{Type: ObservationGap, Time: start, Operator: op,
			Interval: &Interval{From: last, To: start, Reason: reason}})
	}
	if rewind != nil {
		batch = append(batch, Record{Type: JournalRewound, Time: start, Operator: op, Rewind: rewind})
	}
	batch = append(batch, Record{Type: OperatorStarted, Time: start, Operator: op})
	// The head this process continues from, and the one it reaches, published outside the
	// store: the store cannot show that its last segments were deleted before a restart (what
	// remains verifies, and the restart reads as an observation gap), but a process that opens
	// the chain below a head an earlier one published can (SOC2EvidenceJournalRewound).
	opened := start.UTC().Format(time.RFC3339Nano)
	metrics.JournalOpenedSequence.WithLabelValues(q.opts.Cluster, opened).Set(float64(w.Seq()))
	head := metrics.JournalHeadSequence.WithLabelValues(q.opts.Cluster, opened)
	head.Set(float64(w.Seq()))
	q.readyOnce.Do(func() { close(q.ready) })
	log.Info("Journal open", "store", q.opts.Store.String(), "cluster", q.opts.Cluster, "segment", w.Seq())

	flush := time.NewTicker(q.opts.FlushInterval)
	defer flush.Stop()
	heartbeat := time.NewTicker(q.opts.Heartbeat)
	defer heartbeat.Stop()
	queued := 0 // records of batch that came through the queue
	var published time.Time
	var publishedSeq uint64
	publish := func(ctx context.Context, force bool) {
		if q.opts.Publish == nil || w.Seq() == 0 || w.Seq() == publishedSeq ||
			(!force && !published.IsZero() && q.opts.Now().Sub(published) < q.opts.Heartbeat) {
			return
		}
		if err := q.opts.Publish(ctx, w.Head()); err != nil {
			log.Error(err, "Could not publish the journal's head", "segment", w.Seq())
			return
		}
		published, publishedSeq = q.opts.Now(), w.Seq()
	}
	write := func(ctx context.Context) {
		q.mu.Lock()
		dropped, writable, from, by := q.dropped, q.droppedWritable, q.dropFrom, droppedBy(q.droppedBy)
		for drained := false; !drained; {
			select {
			case r := <-q.ch:
				batch = append(batch, r)
				queued++
				if r.Namespace != "" {
					if q.queuedBy[r.Namespace]--; q.queuedBy[r.Namespace] <= 0 {
						delete(q.queuedBy, r.Namespace)
					}
				}
			default:
				drained = true
			}
		}
		q.mu.Unlock()
		metrics.JournalQueued.Set(float64(len(q.ch) + len(batch)))
		if len(batch) == 0 && dropped == 0 {
			return
		}
		out := batch
		if dropped > 0 {
			now := q.opts.Now()
			out = append(out[:len(out):len(out)], Record{Type: JournalGap, Time: now, Operator: op,
				Interval: &Interval{From: from, To: now, Reason: dropReason(dropped, writable), Dropped: dropped, DroppedBy: by}})
		}
		var err error
		for _, run := range clockRuns(out) {
			if err = w.Write(ctx, run); err != nil {
				break
			}
		}
		head.Set(float64(w.Seq())) // a large batch may have been written in part
		if err != nil {
			q.setBehind(err)
			// Keep what waits, within the capacity; the rest is counted as dropped.
			if over := len(batch) - q.opts.Capacity; over > 0 {
				var from time.Time
				var by map[string]int
				batch, from, by = trim(batch, over)
				q.mu.Lock()
				if q.dropped == 0 || from.Before(q.dropFrom) {
					q.dropFrom = from
				}
				q.dropped += over
				for ns, n := range by {
					q.droppedBy[ns] += n
				}
				q.mu.Unlock()
				metrics.JournalRecords.WithLabelValues("dropped").Add(float64(over))
				lost := min(over, queued)
				queued -= lost
				q.advance(lost)
			}
			return
		}
		metrics.JournalRecords.WithLabelValues("written").Add(float64(len(out)))
		metrics.JournalLastWrite.Set(float64(q.opts.Now().Unix()))
		metrics.JournalQueued.Set(float64(len(q.ch)))
		batch = batch[:0]
		q.advance(queued)
		queued = 0
		q.mu.Lock()
		q.dropped -= dropped
		q.droppedWritable -= writable
		for _, d := range by {
			if q.droppedBy[d.Namespace] -= d.Records; q.droppedBy[d.Namespace] <= 0 {
				delete(q.droppedBy, d.Namespace)
			}
		}
		if !q.behindSince.IsZero() {
			log.Info("Journal store writable again", "store", q.opts.Store.String(), "behindSince", q.behindSince)
		}
		q.behindSince, q.lastErr = time.Time{}, nil
		q.mu.Unlock()
		metrics.JournalBehind.Set(0)
		publish(ctx, false)
	}
	write(ctx)
	for {
		select {
		case <-ctx.Done():
			batch = append(batch, Record{Type: OperatorStopped, Time: q.opts.Now(), Operator: op})
			final, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			write(final)
			if len(batch) == 0 {
				publish(final, true)
			}
			cancel()
			return nil
		case <-flush.C:
			write(ctx)
		case <-q.flushNow:
			// Someone waits: gather what else arrives within a moment, then write.
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			write(ctx)
		case <-heartbeat.C:
			batch = append(batch, Record{Type: OperatorHeartbeat, Time: q.opts.Now(), Operator: op})
		}
	}
}

// clockRuns splits a batch, in the order its records arrived, where the clock went back: before
// each record the operator dated as it wrote it (DatedAsWritten) that is dated more than
// CoverageSlack before such a record that arrived before it in the same run. The writer sorts
// what it writes by time, so a step back within one batch (which holds what arrived over a
// flush interval, or over a whole outage of the store) would otherwise be written in time order
// and hidden from verification; written as runs, each its own segment, the step is where
// verification looks for one (ProblemClock), as if the batch had been flushed just before it.
func clockRuns(batch []Record) [][]Record {
	var runs [][]Record
	var latest time.Time
	begin := 0
	for i, r := range batch {
		if !DatedAsWritten(r.Type) {
			continue
		}
		if i > begin && r.Time.Before(latest.Add(-CoverageSlack)) {
			runs = append(runs, batch[begin:i])
			begin, latest = i, time.Time{}
		}
		if r.Time.After(latest) {
			latest = r.Time
		}
	}
	return append(runs, batch[begin:])
}

// dropReason is the reason of the journal.gap that counts dropped records, writable of which
// were dropped while the store was writable (a burst the writer did not take in time).
func dropReason(dropped, writable int) string {
	switch writable {
	case 0:
		return "records dropped: the queue was full while the journal store was not writable"
	case dropped:
		return "records dropped: the queue was full (records came faster than they were written)"
	}
	return "records dropped: the queue was full while the journal store was not writable, and as records came faster than they were written"
}

// trim drops n records of batch, those of the namespaces with the most records waiting first
// (each one's oldest), so that one namespace's burst while the store is not writable costs its
// own records rather than the others' that came before it: the namespaces are levelled down to
// as many records each as the room allows. Records of no namespace (the operator's, the
// profiles') go last, the oldest first. It returns what is kept (in order) and the time of the
// earliest record dropped, and how many records of each namespace were dropped ("" for none).
func trim(batch []Record, n int) ([]Record, time.Time, map[string]int) {
	count := map[string]int{}
	for _, r := range batch {
		if r.Namespace != "" {
			count[r.Namespace]++
		}
	}
	// The level: the largest number of records each namespace may keep so that at least n
	// namespaced records are dropped (levelled down one record at a time, from the largest).
	sizes := make([]int, 0, len(count))
	for _, c := range count {
		sizes = append(sizes, c)
	}
	slices.Sort(sizes)
	drop := map[string]int{}
	left := n
	if len(sizes) > 0 {
		level := sizes[len(sizes)-1]
		for left > 0 && level > 0 {
			// Namespaces above level-1 lose one record each.
			above := len(sizes) - sort.SearchInts(sizes, level)
			if above > left {
				break
			}
			left -= above
			level--
		}
		for ns, c := range count {
			if c > level {
				drop[ns] = c - level
			}
		}
		// What the level could not take evenly: one more from the largest namespaces.
		for _, ns := range slices.SortedFunc(maps.Keys(count), func(a, b string) int {
			if c := count[b] - count[a]; c != 0 {
				return c
			}
			return strings.Compare(a, b)
		}) {
			if left == 0 {
				break
			}
			if count[ns]-drop[ns] > 0 {
				drop[ns]++
				left--
			}
		}
	}
	var from time.Time
	lost := map[string]int{}
	kept := batch[:0]
	for _, r := range batch {
		switch {
		case r.Namespace != "" && drop[r.Namespace] > 0:
			drop[r.Namespace]--
		case r.Namespace == "" && left > 0:
			left--
		default:
			kept = append(kept, r)
			continue
		}
		lost[r.Namespace]++
		if from.IsZero() || r.Time.Before(from) {
			from = r.Time
		}
	}
	return kept, from, lost
}
