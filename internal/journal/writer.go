package journal

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// Object layout under a store: each cluster has its own prefix.
//
//	<cluster>/segments/<seq>_<first>_<last>.jsonl.gz
//	<cluster>/signatures/<seq>_<first>_<last>.jsonl.gz.sig
func segmentsPrefix(cluster string) string   { return cluster + "/segments/" }
func signaturesPrefix(cluster string) string { return cluster + "/signatures/" }

// MaxSegmentRecords bounds one segment; a larger batch is split.
const MaxSegmentRecords = 20000

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Cluster is the store prefix this writer owns (--cluster-name).
	Cluster string
	// Signer signs each segment's digest when set.
	Signer ed25519.PrivateKey
	// RecentSegments is how many of the latest segments' record IDs are kept to drop duplicates
	// (default 32).
	RecentSegments int
}

// Writer appends segments to one cluster's chain. It is not safe for concurrent use; the
// operator's journal queue owns one. Two writers on the same chain (two leaders around a
// failover) never fork it: a segment is created only if its name is new, and the loser reloads
// the tail, drops the records already written and retries.
type Writer struct {
	store Store
	opts  WriterOptions
	seq   uint64
	prev  string
	// last is the time of the latest record the operator dated as it wrote it (DatedAsWritten)
	// in what the writer read or wrote, lastAny of any record (Last: when there is none such).
	last, lastAny time.Time
	recent        [][]string
	seen          map[string]struct{}
	// written counts the records this writer appended.
	written int
	// open is the batch (Header.Batch) a Write left unfinished (set before each segment that
	// says it goes on, so that one stored though its write seemed to fail is ended too): the
	// next Writes go on with it, and the last segment of the first that writes one ends it (a
	// Write whose records were all written before writes none). A batch no segment ends reads
	// as one whose writer stopped mid-batch (ProblemUnended).
	open string
	// lost are this writer's segments that lost a race for their sequence number.
	lost map[string]struct{}
}

// NewWriter opens a cluster's chain for appending, reading the tail to continue it.
func NewWriter(ctx context.Context, store Store, opts WriterOptions) (*Writer, error) {
	if err := ValidateClusterName(opts.Cluster); err != nil {
		return nil, err
	}
	if opts.RecentSegments <= 0 {
		opts.RecentSegments = 32
	}
	w := &Writer{store: store, opts: opts, seen: map[string]struct{}{}, lost: map[string]struct{}{}}
	if err := w.catchUp(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

// ValidateClusterName checks a cluster name is usable as a store prefix.
func ValidateClusterName(name string) error {
	if name == "" {
		return errors.New("cluster name is empty")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') || name == "." || name == ".." {
			return fmt.Errorf("cluster name %q: use letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// Last is the time of the latest record in the chain the operator dated as it wrote it
// (DatedAsWritten: a heartbeat, its start or stop, an evaluation's states; and datedByWriter:
// an evaluation's finding records and an exception's change), or, where the
// segments read hold none, of the latest record (zero for an empty chain): after a restart it is
// the start of the interval nobody observed, and a new leader's clock must pass it. A record
// dated with an event's time (an exception's expiry, which operators built before 68ac8ba6
// journaled as the namespace admin chose it, years ahead; a creation time from the API
// server's clock) says nothing of when the journal was written.
func (w *Writer) Last() time.Time {
	if w.last.IsZero() {
		return w.lastAny
	}
	return w.last
}

// note notes a record's time as read or written (Last).
func (w *Writer) note(typ Type, t time.Time) {
	if datedByWriter(typ) && t.After(w.last) {
		w.last = t
	}
	if t.After(w.lastAny) {
		w.lastAny = t
	}
}

// Written is the number of records this writer appended (duplicates left out).
func (w *Writer) Written() int { return w.written }

// Seq is the sequence number of the latest segment.
func (w *Writer) Seq() uint64 { return w.seq }

// Seen reports whether a record ID was written in one of the recent segments.
func (w *Writer) Seen(id string) bool {
	_, ok := w.seen[id]
	return ok
}

// catchUp reads the segments written after w.seq (all of the recent ones on first use).
func (w *Writer) catchUp(ctx context.Context) error {
	refs, err := chainSegments(ctx, w.store, w.opts.Cluster, w.lost)
	if err != nil {
		return err
	}
	start := 0
	for start < len(refs) && refs[start].Seq <= w.seq {
		start++
	}
	if w.seq == 0 && len(refs)-start > w.opts.RecentSegments {
		start = len(refs) - w.opts.RecentSegments
	}
	for _, ref := range refs[start:] {
		if ref.Seq != w.seq+1 && w.seq != 0 {
			return fmt.Errorf("journal %s: segment %d follows %d (a segment is missing): run `soc2-operator evidence verify`", w.store, ref.Seq, w.seq)
		}
		var ids []string
		digest, h, err := readSegment(ctx, w.store, ref, func(rec []byte) error {
			rh, err := peekHead(rec)
			if err != nil {
				return fmt.Errorf("not a JSON record: %w", err)
			}
			if rh.ID == "" {
				return errors.New("record without an id")
			}
			ids = append(ids, rh.ID)
			w.note(rh.Type, rh.Time)
			return nil
		})
		if err != nil {
			return fmt.Errorf("journal %s: reading the tail: %w", w.store, err)
		}
		if h.Seq != ref.Seq {
			return fmt.Errorf("journal %s: segment %s holds segment %d: run `soc2-operator evidence verify`", w.store, ref.Name, h.Seq)
		}
		w.seq, w.prev = ref.Seq, digest
		w.remember(ids)
	}
	return nil
}

func (w *Writer) remember(ids []string) {
	w.recent = append(w.recent, ids)
	for _, id := range ids {
		w.seen[id] = struct{}{}
	}
	for len(w.recent) > w.opts.RecentSegments {
		for _, id := range w.recent[0] {
			delete(w.seen, id)
		}
		w.recent = w.recent[1:]
	}
}

// Write seals the records and appends them as one segment (or more, for a large batch), in
// time order, leaving out any record whose ID a recent segment already holds.
func (w *Writer) Write(ctx context.Context, records []Record) error {
	batch := make([]Record, 0, len(records))
	for i := range records {
		r := records[i]
		if err := r.Seal(); err != nil {
			return err
		}
		batch = append(batch, r)
	}
	slices.SortStableFunc(batch, func(a, b Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	// Leave out what a recent segment holds before splitting, not after: a chunk shortened
	// afterwards (a retry of a batch whose first segments were written, with a record dated
	// before them) would be a segment short of MaxSegmentRecords before the batch's end, and
	// verification reads on after a period only from a full one (the batch's journal.gap is in
	// its last segment).
	batch = w.unseen(batch)
	// A batch split into segments says so in their headers (Header.Batch, Continues): its last
	// segment, where its journal.gap is, may come after another writer's. One a failed Write
	// left unfinished goes on in this one.
	id := w.open
	if id == "" && len(batch) > MaxSegmentRecords {
		id = batch[0].ID
	}
	for len(batch) > 0 {
		n := min(len(batch), MaxSegmentRecords)
		more := len(batch) > n
		if more {
			// Before the write: a segment stored though its write seemed to fail (a timeout)
			// goes on in the retry's.
			w.open = id
		}
		wrote, err := w.writeSegment(ctx, batch[:n], id, more)
		if err != nil {
			return err
		}
		if wrote && !more {
			// A last chunk none of whose records is new writes no segment: the batch stays
			// open until a segment ends it.
			w.open = ""
		}
		batch = batch[n:]
	}
	return nil
}

// unseen returns the records of batch (in order) whose ID no recent segment holds, each ID once.
func (w *Writer) unseen(batch []Record) []Record {
	fresh := batch[:0:0]
	inBatch := map[string]struct{}{}
	for _, r := range batch {
		if _, dup := w.seen[r.ID]; dup {
			continue
		}
		if _, dup := inBatch[r.ID]; dup {
			continue
		}
		inBatch[r.ID] = struct{}{}
		fresh = append(fresh, r)
	}
	return fresh
}

// writeSegment writes the records of batch no recent segment holds as a segment, and reports
// whether it wrote one (none when all were written before).
func (w *Writer) writeSegment(ctx context.Context, batch []Record, id string, more bool) (bool, error) {
	for attempt := 0; ; attempt++ {
		// Again on each attempt: a writer that lost a race wrote some of them.
		fresh := w.unseen(batch)
		if len(fresh) == 0 {
			return false, nil
		}
		seq := w.seq + 1
		data, h, err := encodeBatchSegment(w.opts.Cluster, seq, w.prev, fresh, id, more)
		if err != nil {
			return false, err
		}
		name := SegmentName(seq, h.First, h.Last)
		digest := Digest(data)
		err = w.store.Put(ctx, segmentsPrefix(w.opts.Cluster)+name, data)
		if err == nil {
			// Another writer may have taken this seq under another name (other times). Only
			// this sequence number's names are listed, so a write costs the same in a year.
			keys, lerr := w.store.List(ctx, segmentsPrefix(w.opts.Cluster)+fmt.Sprintf("%012d_", seq))
			if lerr != nil {
				return false, fmt.Errorf("journal %s: listing segment %d: %w", w.store, seq, lerr)
			}
			for _, k := range keys {
				if r, ok := parseSegmentName(path.Base(k)); ok && r.Seq == seq && r.Name != name {
					// Whoever lists last sees both and steps aside, so at most one writer
					// goes on from this sequence number; its successor's link says which.
					// (The first name in order continues the chain when both step aside.)
					w.lost[name] = struct{}{}
					err = ErrExists
					break
				}
			}
		}
		if errors.Is(err, ErrExists) {
			if attempt >= 5 {
				return false, fmt.Errorf("journal %s: segment %d: another writer keeps appending: %w", w.store, seq, err)
			}
			if err := w.catchUp(ctx); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, fmt.Errorf("journal %s: writing segment %d: %w", w.store, seq, err)
		}
		if w.opts.Signer != nil {
			sig, err := sign(w.opts.Signer, name, digest)
			if err != nil {
				return false, fmt.Errorf("journal: signing segment %d: %w", seq, err)
			}
			if err := w.store.Put(ctx, signaturesPrefix(w.opts.Cluster)+name+".sig", sig); err != nil {
				return false, fmt.Errorf("journal %s: writing the signature of segment %d: %w", w.store, seq, err)
			}
		}
		ids := make([]string, len(fresh))
		for i, r := range fresh {
			ids[i] = r.ID
		}
		w.seq, w.prev = seq, digest
		w.written += len(fresh)
		for _, r := range fresh {
			w.note(r.Type, r.Time)
		}
		w.remember(ids)
		return true, nil
	}
}

// Clusters lists the clusters that have a journal in the store, those whose every segment is
// hidden (HiddenLister: a delete marker over each) included, so that verification names them.
func Clusters(ctx context.Context, store Store) ([]string, error) {
	keys, err := store.List(ctx, "")
	if err != nil {
		return nil, err
	}
	if hl, ok := store.(HiddenLister); ok {
		hidden, err := hl.ListHidden(ctx, "")
		if err != nil {
			return nil, err
		}
		keys = append(keys, hidden...)
	}
	var out []string
	for _, k := range keys {
		c, rest, ok := strings.Cut(k, "/")
		if !ok || !strings.HasPrefix(rest, "segments/") {
			continue
		}
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// chainSegments lists a cluster's chain in sequence order. Where two writers raced for a
// sequence number, the segment the next one links to is the chain's (and, for the latest, the
// first by name that is not in skip: a writer skips its own lost segments).
func chainSegments(ctx context.Context, store Store, cluster string, skip map[string]struct{}) ([]SegmentRef, error) {
	refs, _, err := listSegmentsAll(ctx, store, cluster)
	if err != nil {
		return nil, err
	}
	chain, _, err := resolveChain(ctx, store, refs, skip)
	return chain, err
}

// resolveChain picks one segment per sequence number (refs sorted by seq) and returns the
// chain and the segments left out.
func resolveChain(ctx context.Context, store Store, refs []SegmentRef, skip map[string]struct{}) (chain, left []SegmentRef, err error) {
	for i := 0; i < len(refs); {
		j := i
		for j < len(refs) && refs[j].Seq == refs[i].Seq {
			j++
		}
		cands := refs[i:j]
		pick := -1
		if len(cands) > 1 {
			// The next sequence number's segments say which one they continue.
			k := j
			for k < len(refs) && refs[k].Seq == refs[j-1].Seq+1 {
				h, err := readHeader(ctx, store, refs[k])
				if err == nil {
					for c := range cands {
						if d, derr := hashObject(ctx, store, cands[c].Key); derr == nil && d == h.Prev {
							pick = c
						}
					}
				}
				if pick >= 0 {
					break
				}
				k++
			}
		}
		if pick < 0 {
			for c := range cands {
				if _, s := skip[cands[c].Name]; !s {
					pick = c
					break
				}
			}
		}
		if pick < 0 {
			pick = 0
		}
		for c := range cands {
			if c == pick {
				chain = append(chain, cands[c])
			} else {
				left = append(left, cands[c])
			}
		}
		i = j
	}
	return chain, left, nil
}

// readHeader reads only a segment's header line.
func readHeader(ctx context.Context, store Store, ref SegmentRef) (Header, error) {
	rc, err := store.Get(ctx, ref.Key)
	if err != nil {
		return Header{}, err
	}
	defer rc.Close()
	sr, err := newSegmentReader(rc)
	if err != nil {
		return Header{}, err
	}
	return sr.header, nil
}

func listSegmentsAll(ctx context.Context, store Store, cluster string) ([]SegmentRef, []string, error) {
	prefix := segmentsPrefix(cluster)
	keys, err := store.List(ctx, prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: listing %s: %w", store, prefix, err)
	}
	var refs []SegmentRef
	var other []string
	for _, k := range keys {
		name := path.Base(k)
		ref, ok := parseSegmentName(name)
		if !ok || k != prefix+name {
			other = append(other, k)
			continue
		}
		ref.Key = k
		refs = append(refs, ref)
	}
	slices.SortStableFunc(refs, func(a, b SegmentRef) int {
		if a.Seq != b.Seq {
			if a.Seq < b.Seq {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return refs, other, nil
}

// readSegment streams one segment, calling fn for each record line, and returns its digest
// and header. It fails on a segment it cannot parse; Scan reports such problems instead.
func readSegment(ctx context.Context, store Store, ref SegmentRef, fn func([]byte) error) (string, Header, error) {
	rc, err := store.Get(ctx, ref.Key)
	if err != nil {
		return "", Header{}, err
	}
	defer rc.Close()
	sr, err := newSegmentReader(rc)
	if err != nil {
		return "", Header{}, fmt.Errorf("segment %s: %w", ref.Name, err)
	}
	for {
		line, err := sr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", Header{}, fmt.Errorf("segment %s: %w", ref.Name, err)
		}
		if fn != nil {
			if err := fn(line); err != nil {
				return "", Header{}, fmt.Errorf("segment %s line %d: %w", ref.Name, sr.line, err)
			}
		}
	}
	digest, _, err := sr.finish()
	if err != nil {
		return "", Header{}, fmt.Errorf("segment %s: %w", ref.Name, err)
	}
	return digest, sr.header, nil
}

// Cluster is the chain this writer appends to.
func (w *Writer) Cluster() string { return w.opts.Cluster }

// datedByWriter reports whether records of the type are dated by the writing operator's clock:
// those DatedAsWritten, and an evaluation's finding records and an exception's change, which the
// operator dates when it writes them (a finding's opening at its first-seen time, the report's,
// which is at most then). An evaluation that changes no criterion writes only these: a leader
// whose clock is behind them must wait for them as for the others (Queue.awaitClock), or what it
// writes sorts before them (a finding it closes would read as closed before it opened). They do
// not count for verification's coverage and clock checks (DatedAsWritten): a namespace admin
// decides how many there are, not whether the operator ran.
func datedByWriter(t Type) bool {
	switch t {
	case FindingOpened, FindingClosed, FindingExcepted, FindingUnexcepted, ExceptionChanged:
		return true
	}
	return DatedAsWritten(t)
}
