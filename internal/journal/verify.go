package journal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// ProblemKind classifies what verification found.
type ProblemKind string

// Problem kinds.
const (
	// ProblemMissing: a sequence number has no segment (dropped or never written).
	ProblemMissing ProblemKind = "missing"
	// ProblemReordered: a segment object holds another sequence number than its name says.
	ProblemReordered ProblemKind = "reordered"
	// ProblemAltered: a segment's content differs from what its header or the next segment's
	// chain link says.
	ProblemAltered ProblemKind = "altered"
	// ProblemCorrupt: a segment cannot be read (not gzip, truncated, bad header).
	ProblemCorrupt ProblemKind = "corrupt"
	// ProblemUnsigned: a key was given but the segment has no signature.
	ProblemUnsigned ProblemKind = "unsigned"
	// ProblemBadSignature: the segment's signature does not verify.
	ProblemBadSignature ProblemKind = "bad-signature"
	// ProblemForeign: an object in the segments prefix that is not in the chain (an unexpected
	// name, or a second segment with a sequence number already taken).
	ProblemForeign ProblemKind = "foreign"
	// ProblemHidden: a segment or signature is hidden by a delete marker (its versions are kept
	// in a versioned bucket, but no longer listed or read).
	ProblemHidden ProblemKind = "hidden"
	// ProblemReplaced: a segment or signature key holds more than one version (a versioned
	// bucket): something wrote over it after the operator did (the operator never writes a key
	// twice), and reads return the latest version, not the one first written and locked.
	ProblemReplaced ProblemKind = "replaced"
	// ProblemRewritten: a segment was stored (by the store's clock, S3's LastModified) longer
	// after the latest record the operator dated as it wrote it (DatedAsWritten), in it or before
	// it, than the segments before it in the window were after theirs (checkStored): it was
	// written over, with the versions first written removed (a bucket without versioning, or
	// Object Lock in governance mode lifted with s3:BypassGovernanceRetention), after the
	// operator wrote the segments before it (or the writer's clock stepped back).
	ProblemRewritten ProblemKind = "rewritten"
	// ProblemUnlocked: a segment is not under Object Lock in compliance mode until the date
	// verification asks for (ScanOptions.LockedUntil), or the store keeps no lock.
	ProblemUnlocked ProblemKind = "unlocked"
	// ProblemSigned: the journal is read as unsigned (ScanOptions.Unsigned), yet its segments
	// carry signatures that are not checked.
	ProblemSigned ProblemKind = "signed"
	// ProblemFuture: a segment holds records dated after the time of verification (the
	// writer's clock was ahead): they observed nothing at the time they say.
	ProblemFuture ProblemKind = "future"
	// ProblemClock: a record the operator dates when it writes it (a heartbeat, its start or
	// stop, an evaluation's states) is dated more than CoverageSlack before such a record the
	// chain already holds: the writer's clock went back (or ran ahead before), and what it
	// stated after the step reads as older than what it stated before it.
	ProblemClock ProblemKind = "clock"
	// ProblemUncovered: the chain does not reach the start or the end of the period asked for
	// (or now, for a period not over), or has no segment in it: its last segments are missing,
	// or no operator was writing.
	ProblemUncovered ProblemKind = "uncovered"
	// ProblemRewound: a journal.rewound record: the operator that wrote it opened a chain that
	// did not hold the head published before outside the store (its segments were deleted or
	// replaced), and continued it. The chain verifies, but it is not the one first written.
	ProblemRewound ProblemKind = "rewound"
	// ProblemUnended: a segment of a batch the writer split (Header.Batch) says the batch goes on
	// in a later segment (Header.Continues), and no later segment of it is in the chain: the
	// writer stopped before writing the rest (a crash, an OOM kill), or its last segments were
	// deleted (or are still being written). The batch's last segment held the journal.gap of the
	// records the writer had dropped before it (dated when the store was back): which records,
	// of which namespaces, were lost from the batch's first record on, nothing in the chain says.
	ProblemUnended ProblemKind = "unended"
)

// CoverageSlack is how far the chain's first and last records may lie inside the period's
// bounds: twice the heartbeat with which a running operator writes at least one record.
const CoverageSlack = 20 * time.Minute

// Problem is one finding of verification, naming the segment.
type Problem struct {
	Cluster string      `json:"cluster"`
	Segment string      `json:"segment"`
	Seq     uint64      `json:"seq,omitempty"`
	Kind    ProblemKind `json:"kind"`
	Detail  string      `json:"detail"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: segment %s: %s: %s", p.Cluster, p.Segment, p.Kind, p.Detail)
}

// ScanOptions select what Scan reads.
type ScanOptions struct {
	// Cluster is the chain to read.
	Cluster string
	// From and To bound the window (zero: unbounded). Only segments whose time range overlaps
	// the window are read, and the one before them is hashed to check the first link.
	From, To time.Time
	// PublicKey, when set, requires every segment read to carry a valid signature.
	PublicKey ed25519.PublicKey
	// Unsigned says the journal is one the operator does not sign (`--unsigned`): segments
	// that carry a signature are then a problem, since none is checked.
	Unsigned bool
	// Now is the clock (default time.Now): a period not over is covered up to now.
	Now func() time.Time
	// LockedUntil, when set, requires every segment read to be under Object Lock in compliance
	// mode (which no one, the bucket's owner included, can lift) until at least this time.
	LockedUntil time.Time
	// OnRecord is called with each record line, in chain order; the line is only valid during
	// the call.
	OnRecord func(line []byte) error
	// Decode, when set, is called with each record line, in chain order, instead of Scan
	// decoding the line itself (and before OnRecord): a reader that decodes every record
	// anyway (the evidence pack) decodes it once, and returns its head, which Scan checks as
	// it checks its own reading (an ID, a time in the header's range and in order). An error
	// says the line is not a record the reader can decode: Scan reports the segment and line
	// as altered and reads on. The line is only valid during the call.
	Decode func(line []byte) (RecordHead, error)
	// Heads, when set, are the heads the operator published outside the store (a copy of the
	// ComplianceProfiles' status.journalHeads): the whole chain, whatever the window, must
	// hold the highest of them (CheckAnchor), or Scan reports it as rewound.
	Heads []PublishedHead
	// Unended, when set, is called with each batch the writer split that never ended (the
	// problem `unended`), in chain order: before the records of the segment after it (another
	// writer's), or after the last record read when none is.
	Unended func(UnendedBatch)
}

// UnendedBatch is a batch the writer split into segments whose last segment is not in the chain
// (ProblemUnended): that segment held the journal.gap of the records the writer dropped before
// it, so records of any namespace from the batch's first record on may be lost without a record
// saying which, until the next writer's first record (which, when it started, records the
// observation.gap from the journal's last record).
type UnendedBatch struct {
	// Batch is the batch's ID (its first record's), Segment the last of its segments read.
	Batch   string
	Segment SegmentRef
	// From is the time of the first record of its first segment read, To that of the first
	// record of the segment after its last (another writer's), or, when the chain read ends
	// with it, the end of the period (or now) when that is later than its last record.
	From, To time.Time
}

// openBatch is a split batch Scan read a segment of that goes on in a later segment.
type openBatch struct {
	id   string
	from time.Time
	// last is the last of its segments read; next the index in the chain of a later one that
	// batchesAhead found (not more than the segment being read: none found yet).
	last SegmentRef
	next int
}

// batchesAhead reads the headers of a chain's segments forward, as far as asked, to say which
// split batch each is of (Header.Batch) before the segments between are read. Asked only while
// a batch is open, and never twice for a segment.
type batchesAhead struct {
	ctx   context.Context
	store Store
	refs  []SegmentRef
	// refs[:read] were looked at (from the first index asked), and batch holds those of a batch.
	read  int
	batch map[int]string
}

// of returns the batch of refs[k] ("" for none, or a segment whose header cannot be read, which
// the scan reports when it reads it). k is never less than an index asked before.
func (a *batchesAhead) of(k int) (string, error) {
	if a.batch == nil {
		a.batch, a.read = map[int]string{}, k
	}
	for ; a.read <= k; a.read++ {
		rc, err := a.store.Get(a.ctx, a.refs[a.read].Key)
		if err != nil {
			return "", fmt.Errorf("journal %s: %w", a.store, err)
		}
		sr, err := newSegmentReader(rc)
		rc.Close()
		if err == nil && sr.header.Batch != "" {
			a.batch[a.read] = sr.header.Batch
		}
	}
	return a.batch[k], nil
}

// find returns the index of the first segment from k on that is of batch id, or -1.
func (a *batchesAhead) find(id string, k int) (int, error) {
	for ; k < len(a.refs); k++ {
		of, err := a.of(k)
		if err != nil {
			return -1, err
		}
		if of == id {
			return k, nil
		}
	}
	return -1, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Result is what Scan found.
type Result struct {
	Cluster  string    `json:"cluster"`
	Segments int       `json:"segments"`
	Records  int       `json:"records"`
	FirstSeq uint64    `json:"firstSeq,omitempty"`
	LastSeq  uint64    `json:"lastSeq,omitempty"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
	// Signed is the number of segments whose signature was checked and verified.
	Signed int `json:"signed"`
	// Superseded counts segments that lost a race for their sequence number and whose
	// records are all in the chain.
	Superseded int       `json:"superseded,omitempty"`
	KeyID      string    `json:"keyID,omitempty"`
	Problems   []Problem `json:"problems"`
	LastDigest string    `json:"lastDigest,omitempty"`
}

// OK reports whether the chain verified without problems.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Scan reads a cluster's chain (or the part of it a window selects) in order, verifying as it
// reads: sequence numbers without gaps, each segment's link to the previous one, each header's
// record count and digest and time range, and signatures when a key is given. It returns an
// error only when the store cannot be read; what is wrong with the chain is in Result.Problems.
func Scan(ctx context.Context, store Store, opts ScanOptions) (res Result, err error) {
	res = Result{Cluster: opts.Cluster, Problems: []Problem{}}
	if opts.PublicKey != nil {
		res.KeyID = KeyID(opts.PublicKey)
	}
	problem := func(seg string, seq uint64, kind ProblemKind, format string, args ...any) {
		res.Problems = append(res.Problems, Problem{Cluster: opts.Cluster, Segment: seg, Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	all, other, err := listSegmentsAll(ctx, store, opts.Cluster)
	if err != nil {
		return res, err
	}
	for _, k := range other {
		problem(k, 0, ProblemForeign, "not a segment name")
	}
	if hl, ok := store.(HiddenLister); ok {
		hidden, err := hl.ListHidden(ctx, opts.Cluster+"/")
		if err != nil {
			return res, err
		}
		for _, k := range hidden {
			ref, _ := parseSegmentName(strings.TrimSuffix(path.Base(k), ".sig"))
			problem(path.Base(k), ref.Seq, ProblemHidden, "%s is hidden by a delete marker: its versions are kept but no longer listed or read", k)
		}
	}
	if rl, ok := store.(ReplacedLister); ok {
		replaced, err := rl.ListReplaced(ctx, opts.Cluster+"/")
		if err != nil {
			return res, err
		}
		for _, k := range replaced {
			ref, _ := parseSegmentName(strings.TrimSuffix(path.Base(k), ".sig"))
			problem(path.Base(k), ref.Seq, ProblemReplaced, "%s holds more than one version: it was written over after the operator wrote it (the operator never writes a key twice; Object Lock keeps the versions first written, but reads return the latest)", k)
		}
	}
	refs, raced, err := resolveChain(ctx, store, all, nil)
	if err != nil {
		return res, err
	}
	if len(opts.Heads) > 0 {
		var head Head
		name := "(none)"
		if len(refs) > 0 {
			last := refs[len(refs)-1]
			d, err := hashObject(ctx, store, last.Key)
			if err != nil {
				return res, err
			}
			head, name = Head{Seq: last.Seq, Digest: d, Time: last.Last}, last.Name
		}
		rw, err := CheckAnchor(ctx, store, opts.Cluster, head, opts.Heads)
		if err != nil {
			return res, err
		}
		if rw != nil {
			problem(name, head.Seq, ProblemRewound, "the chain does not hold the head published in %s, %s: %s (the chain ends at %s)",
				rw.Source, rw.Published.fullString(), rw.Detail, head.fullString())
		}
	}
	// The window: segments overlapping [From, To].
	lo, hi := 0, len(refs)
	if !opts.From.IsZero() {
		for lo < len(refs) && refs[lo].Last.Before(opts.From) {
			lo++
		}
	}
	if !opts.To.IsZero() {
		for hi > lo && refs[hi-1].First.After(opts.To) {
			hi--
		}
	}
	window := refs[lo:hi]
	// The segment after the window is left out on its name alone; a copy of the window's last
	// segment under a later name (the next segment links to both) would move that segment out
	// of the window. Its header must say the range its name does.
	if hi < len(refs) {
		if err := checkName(ctx, store, refs[hi], problem); err != nil {
			return res, err
		}
	}
	// The end of the period that can be covered: now, for a period not over (or with a start
	// and no end: from then on).
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	end := opts.To
	if (!end.IsZero() || !opts.From.IsZero()) && (end.IsZero() || now.Before(end)) {
		end = now
	}
	if len(window) == 0 {
		if !opts.From.IsZero() || !opts.To.IsZero() {
			held := "the chain is empty"
			if len(refs) > 0 {
				held = fmt.Sprintf("the chain holds %s..%s", refs[0].First.Format(time.RFC3339), refs[len(refs)-1].Last.Format(time.RFC3339))
			}
			problem("(none)", 0, ProblemUncovered, "no segment covers the period %s..%s (%s)", stamp(opts.From), stamp(opts.To), held)
		}
		return res, nil
	}
	// A segment that lost a race for its sequence number (two writers around a failover) is
	// harmless when the chain holds all of its records; otherwise it is foreign.
	orphans := map[string]string{}
	for _, r := range raced {
		if r.Last.Before(window[0].First) || r.First.After(window[len(window)-1].Last) {
			continue
		}
		_, _, err := readSegment(ctx, store, r, func(line []byte) error {
			id, _, err := peekIDTime(line)
			if err == nil {
				orphans[id] = r.Name
			}
			return nil
		})
		if err != nil {
			problem(r.Name, r.Seq, ProblemForeign, "a second segment with sequence number %d that cannot be read: %v", r.Seq, err)
			continue
		}
		res.Superseded++
	}
	decode := opts.Decode
	if decode == nil {
		decode = peekHead
	}
	// The segment being read, for the problems its records raise.
	var reading SegmentRef
	// clock is the latest time of the records read that the operator dated when it wrote them;
	// wentBack the last segment named for a record dated well before it.
	var clock time.Time
	var wentBack uint64
	// observedTo is the latest time, up to the end of the period, of the records read that the
	// operator dated as it wrote them: the end of the period is covered only if it is near it. A
	// record dated with an event's time (an exception's expiry, a deletion, a finding's first-seen
	// time, times a namespace admin may choose), journaled later, says nothing of whether an
	// operator was observing then: its segment, in the window on its range, would hide a silent
	// end of the period (and the segments between, of the operator that journaled it after the
	// period, are in the window too, with records after the period's end).
	var observedTo time.Time
	// ahead is the first segment holding a record the operator dated as it wrote it after now
	// (beyond the slack), aheadTo the latest such time in it. A record dated with an event's
	// time (an exception's expiry, as operators before 68ac8ba6 journaled it; a creation time
	// from the API server's clock) says nothing of the writer's clock.
	var ahead SegmentRef
	var aheadTo time.Time
	read := func(line []byte) (RecordHead, error) {
		h, err := decode(line)
		if err == nil && DatedAsWritten(h.Type) && h.Time.After(now.Add(CoverageSlack)) && (ahead.Key == "" || ahead.Seq == reading.Seq) {
			ahead = reading
			if h.Time.After(aheadTo) {
				aheadTo = h.Time
			}
		}
		if err == nil && DatedAsWritten(h.Type) && !h.Time.After(end) && h.Time.After(observedTo) {
			observedTo = h.Time
		}
		if err == nil && len(orphans) > 0 {
			delete(orphans, h.ID)
		}
		if err == nil && DatedAsWritten(h.Type) {
			if h.Time.Before(clock.Add(-CoverageSlack)) && wentBack != reading.Seq {
				wentBack = reading.Seq
				problem(reading.Name, reading.Seq, ProblemClock, "%s record %s is dated %s, %s before an earlier record of the chain (%s): the writer's clock went back (or had run ahead), and what it stated after the step reads as older than what it stated before",
					h.Type, h.ID, stamp(h.Time), clock.Sub(h.Time).Round(time.Minute), stamp(clock))
			}
			if h.Time.After(clock) {
				clock = h.Time
			}
		}
		if h.Type == JournalRewound || err != nil && bytes.Contains(line, []byte(`"type":"`+string(JournalRewound)+`"`)) {
			rewound(reading, line, problem)
		}
		return h, err
	}
	defer func() {
		byName := map[string]int{}
		for _, name := range orphans {
			byName[name]++
		}
		for _, r := range raced {
			if n := byName[r.Name]; n > 0 {
				res.Superseded--
				problem(r.Name, r.Seq, ProblemForeign, "a second segment with sequence number %d holds %d records the chain does not", r.Seq, n)
			}
		}
	}()

	// The link into the window: the digest of the segment before it.
	var prevDigest string
	var prevSeq uint64
	prevKnown := false
	first := window[0]
	switch {
	case lo > 0:
		// Left out on its name alone, as the segment after the window is: a copy of the
		// window's first segment named as ending before it would move it out of the window
		// with its link intact.
		before := refs[lo-1]
		d, err := hashNamed(ctx, store, before, problem)
		if err != nil {
			return res, err
		}
		prevDigest, prevSeq, prevKnown = d, before.Seq, true
		if before.Seq != first.Seq-1 {
			problem(fmt.Sprintf("%012d", before.Seq+1), before.Seq+1, ProblemMissing, "segments %d to %d are missing (between %s and %s)", before.Seq+1, first.Seq-1, before.Name, first.Name)
		}
	case first.Seq != 1:
		problem(fmt.Sprintf("%012d", 1), 1, ProblemMissing, "segments 1 to %d are missing (the chain starts at %s)", first.Seq-1, first.Name)
	default:
		prevKnown = true // segment 1 links to ""
	}
	res.FirstSeq = first.Seq

	prevFlagged := false
	// observedFrom is when the operator that wrote the window's first segment started, when
	// that segment says so: records in it dated earlier are events it learned of when it
	// started (creation times, first-seen times a report already showed), not observations.
	var observedFrom time.Time
	// The segments of the period end at inPeriod; a batch the writer split (MaxSegmentRecords)
	// goes on in the segments after it, and its journal.gap record, dated when the store was
	// back (the batch's latest record), is in the last of them: the segments after the period
	// are read too until that batch has ended (batches, below), so that a gap of records lost
	// within the period is read wherever the batch put it. periodLast is the last record time of the
	// segments of the period, which coverage is checked against, and observedTo too.
	inPeriod := len(window)
	// open are the split batches read that go on in a later segment (Header.Continues), in the
	// order read: not always the next, as another writer's segment may come between (two leaders
	// briefly), so the segments after the period are read until each has ended. Segments written
	// before headers said so are read on from while full (readOn: the one before was).
	//
	// A batch whose writer stopped before its last segment (a crash, an OOM kill) never ends,
	// and its last segment held the journal.gap of the records the writer dropped before it: when
	// a segment of no open batch comes (another writer's, as all of a writer's segments after a
	// batch begins are of it until it ends), the headers after it say whether the batch goes on
	// (headers); one that does not is unended, a problem and a loss of every namespace's records
	// from its first record to that segment's (ScanOptions.Unended), and the segments after the
	// period are not read on for it.
	var open []*openBatch
	readOn := false
	headers := batchesAhead{ctx: ctx, store: store, refs: refs}
	unended := func(ob *openBatch, to time.Time, next string) {
		problem(ob.last.Name, ob.last.Seq, ProblemUnended, "the batch of the writer's split write (first record %s, at %s) goes on in a later segment, the header says, and %s: "+
			"the writer stopped before writing the rest (a crash, an OOM kill), or its last segments were deleted (or are still being written); the batch's last segment held the journal.gap of the records the writer dropped before it, "+
			"so records of any namespace from %s to %s may be lost without a record saying which",
			short(ob.id), stamp(ob.from), next, stamp(ob.from), stamp(to))
		if opts.Unended != nil {
			opts.Unended(UnendedBatch{Batch: ob.id, Segment: ob.last, From: ob.from, To: to})
		}
	}
	var periodLast time.Time
	// The segments read whole, with their record counts, for checkStored.
	var stored []storedSegment
	for i := 0; i < len(window); i++ {
		ref := window[i]
		if i > 0 && ref.Seq != window[i-1].Seq+1 {
			problem(fmt.Sprintf("%012d", window[i-1].Seq+1), window[i-1].Seq+1, ProblemMissing, "segments %d to %d are missing (between %s and %s)", window[i-1].Seq+1, ref.Seq-1, window[i-1].Name, ref.Name)
			prevKnown = false
		}
		if len(open) > 0 {
			// The batches this segment is not of either go on after it or never ended.
			k := lo + i
			of, err := headers.of(k)
			if err != nil {
				return res, err
			}
			still := open[:0]
			for _, ob := range open {
				if ob.id == of || ob.next > k {
					still = append(still, ob)
					continue
				}
				if ob.next, err = headers.find(ob.id, k+1); err != nil {
					return res, err
				}
				if ob.next > k {
					still = append(still, ob)
					continue
				}
				unended(ob, ref.First, fmt.Sprintf("no later segment of it is in the chain: segment %d (%s), of another writer, follows it", ref.Seq, ref.Name))
			}
			open = still
			if i >= inPeriod && len(open) == 0 && !readOn {
				// Read after the period only for batches that never ended.
				window, hi = window[:i], lo+i
				break
			}
		}
		flagged := false
		var started *time.Time
		if i == 0 {
			started = &observedFrom
		}
		reading = ref
		digest, h, records, perr := scanSegment(ctx, store, ref, opts, read, started)
		if perr != nil {
			var sp segmentProblem
			if !errors.As(perr, &sp) {
				return res, perr
			}
			problem(ref.Name, ref.Seq, sp.kind, "%s", sp.msg)
			flagged = true
		}
		if digest != "" && h.Format != "" {
			if h.Seq != ref.Seq {
				problem(ref.Name, ref.Seq, ProblemReordered, "the object named as segment %d holds segment %d", ref.Seq, h.Seq)
				flagged = true
			}
			if h.Cluster != opts.Cluster {
				problem(ref.Name, ref.Seq, ProblemAltered, "the header names cluster %q", h.Cluster)
				flagged = true
			}
			if prevKnown && h.Prev != prevDigest && !flagged && !prevFlagged {
				if prevSeq == 0 {
					problem(ref.Name, ref.Seq, ProblemAltered, "the first segment links to a previous segment %s", short(h.Prev))
				} else {
					problem(fmt.Sprintf("%012d", prevSeq), prevSeq, ProblemAltered, "segment %d was altered or replaced: its SHA-256 is %s, segment %d (%s) records %s", prevSeq, short(prevDigest), ref.Seq, ref.Name, short(h.Prev))
				}
			}
			if !h.First.Equal(ref.First) || !h.Last.Equal(ref.Last) {
				problem(ref.Name, ref.Seq, ProblemAltered, "the header's time range %s..%s differs from the name's", h.First.Format(time.RFC3339), h.Last.Format(time.RFC3339))
			}
			res.Records += records
			if h.Seq == ref.Seq && !flagged {
				stored = append(stored, storedSegment{ref: ref, records: h.Records, written: clock})
			}
		}
		if opts.PublicKey != nil && digest != "" {
			checkSig(ctx, store, opts, ref, digest, &res, problem)
		}
		res.Segments++
		res.LastSeq = ref.Seq
		if res.First.IsZero() || ref.First.Before(res.First) {
			res.First = ref.First
		}
		if ref.Last.After(res.Last) {
			res.Last = ref.Last
		}
		if i < inPeriod {
			periodLast = res.Last
		}
		prevDigest, prevSeq, prevKnown, prevFlagged = digest, ref.Seq, digest != "", flagged
		res.LastDigest = digest
		if digest != "" && h.Batch != "" {
			j := slices.IndexFunc(open, func(ob *openBatch) bool { return ob.id == h.Batch })
			switch {
			case h.Continues && j < 0:
				open = append(open, &openBatch{id: h.Batch, from: h.First, last: ref})
			case h.Continues:
				open[j].last = ref
			case j >= 0:
				open = slices.Delete(open, j, j+1)
			}
		}
		readOn = digest != "" && h.Batch == "" && h.Records >= MaxSegmentRecords
		if i == len(window)-1 && hi < len(refs) && refs[hi].Seq == ref.Seq+1 && digest != "" && (len(open) > 0 || readOn) {
			hi++
			window = refs[lo:hi]
		}
	}
	// Batches still open where the reading ends: the chain ends (or its next segment is missing
	// or unreadable) before their last segment.
	for _, ob := range open {
		unended(ob, latest(ob.last.Last, end), "no segment after it in the chain was read (the chain ends there, or the segment after it is missing or unreadable)")
	}
	// A record the operator dated as it wrote it after now was not observed then: the writer's
	// clock was ahead (by more than the slack coverage allows), and its times cover what nobody
	// observed.
	if ahead.Key != "" {
		problem(ahead.Name, ahead.Seq, ProblemFuture, "records dated up to %s, after the time of verification %s: the writer's clock was ahead (or this one's is behind), and the journal's times are not when things were observed",
			stamp(aheadTo), stamp(now))
	}
	if ml, ok := store.(ModTimeLister); ok && len(stored) > 0 {
		mods, err := ml.ListModTimes(ctx, segmentsPrefix(opts.Cluster))
		if err != nil {
			return res, err
		}
		checkStored(stored, mods, problem)
	}
	if opts.Unsigned && opts.PublicKey == nil {
		if err := checkUnsigned(ctx, store, opts.Cluster, window, problem); err != nil {
			return res, err
		}
	}
	if !opts.LockedUntil.IsZero() {
		if err := checkLocks(ctx, store, window, opts.LockedUntil, problem); err != nil {
			return res, err
		}
	}
	if f := window[0]; !opts.From.IsZero() && f.First.After(opts.From.Add(CoverageSlack)) {
		problem(f.Name, f.Seq, ProblemUncovered, "the period starts at %s, the chain's first record in it is at %s: %s not covered", stamp(opts.From), stamp(f.First), f.First.Sub(opts.From).Round(time.Minute))
	} else if !opts.From.IsZero() && observedFrom.After(opts.From.Add(CoverageSlack)) {
		problem(f.Name, f.Seq, ProblemUncovered, "the period starts at %s, the operator whose records begin it started at %s (the records it dated earlier are creation or first-seen times, not observations): %s not covered",
			stamp(opts.From), stamp(observedFrom), observedFrom.Sub(opts.From).Round(time.Minute))
	}
	if l := window[inPeriod-1]; !end.IsZero() && periodLast.Before(end.Add(-CoverageSlack)) {
		problem(l.Name, l.Seq, ProblemUncovered, "the chain's last record in the period is at %s, the period ends at %s: %s not covered (its last segments are missing, or no operator was writing)", stamp(periodLast), stamp(end), end.Sub(periodLast).Round(time.Minute))
	} else if !end.IsZero() && observedTo.Before(end.Add(-CoverageSlack)) {
		last, uncovered := "none", "the period"
		if !observedTo.IsZero() {
			last, uncovered = stamp(observedTo), end.Sub(observedTo).Round(time.Minute).String()
		}
		problem(l.Name, l.Seq, ProblemUncovered, "the chain's last record up to the period's end that the operator dated as it wrote it (a heartbeat, its start or stop, an evaluation's states) is at %s, the period ends at %s: %s not covered (the records dated later in the period are events journaled with their own times, which do not say an operator observed then; its last segments are missing, or no operator was writing)",
			last, stamp(end), uncovered)
	}
	return res, nil
}

// rewound reports a journal.rewound record (read in segment ref) as a problem.
func rewound(ref SegmentRef, line []byte, problem func(string, uint64, ProblemKind, string, ...any)) {
	var r Record
	if json.Unmarshal(line, &r) != nil || r.Type != JournalRewound {
		return
	}
	if r.Rewind == nil {
		problem(ref.Name, ref.Seq, ProblemRewound, "at %s the operator found the chain rewound (record %s)", stamp(r.Time), r.ID)
		return
	}
	rw := r.Rewind
	from := ""
	if rw.Source != "" {
		from = " (" + rw.Source + ")"
	}
	problem(ref.Name, ref.Seq, ProblemRewound, "at %s the operator found the chain rewound: %s was published%s, the chain held %s: %s; what was deleted or replaced is not in this chain, and the time it covered is not an observation gap",
		stamp(r.Time), rw.Published.fullString(), from, rw.Found.fullString(), rw.Detail)
}

// storedSegment is a segment Scan read whole, the number of its records, and the latest time of
// the records the operator dated as it wrote them (DatedAsWritten) that the window holds up to
// and including it: the writer's clock had reached it when it stored the segment.
type storedSegment struct {
	ref     SegmentRef
	records int
	written time.Time
}

// checkStored reports each segment stored (mods: when, by the store's clock) more than
// CoverageSlack longer after the latest record the operator dated as it wrote it, in the window
// up to the segment (storedSegment.written), than the earliest-stored segment before it in the
// window was after its own (its lag). The operator stores each segment as soon as it is written,
// so its lag is the time from that record to the write (a flush, at most a heartbeat: a batch
// without one follows the one that holds it), plus the offset between its clock and the
// store's, which is the same for every segment and cancels out. The segment's own latest record
// is not the measure: a batch of event-dated records only (an exception expired at an expiry a
// namespace admin chose, journaled when the operator notices it) is dated as long before its
// write as its events are, and would be named on a tenant's choice. A segment with no such
// record in the window up to it is not compared. A segment the store says was
// stored later than that was stored again after the operator wrote those before it: written
// over where nothing keeps the versions first written (a bucket without versioning), or whose
// first versions were deleted (Object Lock in governance mode, lifted with
// s3:BypassGovernanceRetention), and the `replaced` check cannot see it. Only the last segment of
// a batch is compared: a batch the writer split (MaxSegmentRecords) stores its earlier segments
// with the batch's last record's lag, not their own. A chain copied into the store at once, or
// written from old records in one go, has lags that shrink along the chain, and is not named;
// nor is a chain the window holds rewritten from its first segment on (only Object Lock in
// compliance mode, --locked-until, rules that out).
func checkStored(segs []storedSegment, mods map[string]time.Time, problem func(string, uint64, ProblemKind, string, ...any)) {
	var least time.Duration
	var leastOf *storedSegment
	for i := range segs {
		s := &segs[i]
		at, ok := mods[s.ref.Key]
		if !ok || s.records >= MaxSegmentRecords || s.written.IsZero() {
			continue
		}
		lag := at.Sub(s.written)
		if leastOf != nil && lag > least+CoverageSlack {
			problem(s.ref.Name, s.ref.Seq, ProblemRewritten, "stored at %s by the store's clock, %s after the latest record the operator dated as it wrote it (%s); segment %d was stored %s after its own: this one was written again after the operator wrote that one, over its first version or with that version deleted (no versioning, or Object Lock in governance mode lifted with s3:BypassGovernanceRetention), or the writer's clock went back by as much",
				stamp(at), lag.Round(time.Second), stamp(s.written), leastOf.ref.Seq, least.Round(time.Second))
			continue
		}
		if leastOf == nil || lag < least {
			least, leastOf = lag, s
		}
	}
}

// checkUnsigned reports, once, the segments of window that carry a signature: a journal read
// as unsigned checks none, so a segment rewritten by someone without the key, beside the signed
// ones, verifies as well as they do.
func checkUnsigned(ctx context.Context, store Store, cluster string, window []SegmentRef, problem func(string, uint64, ProblemKind, string, ...any)) error {
	prefix := signaturesPrefix(cluster)
	keys, err := store.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("journal %s: listing %s: %w", store, prefix, err)
	}
	sigs := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		sigs[strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".sig")] = struct{}{}
	}
	var signed []SegmentRef
	for _, ref := range window {
		if _, ok := sigs[ref.Name]; ok {
			signed = append(signed, ref)
		}
	}
	if len(signed) > 0 {
		problem(signed[0].Name, signed[0].Seq, ProblemSigned, "%d of the %d segments read carry a signature (%s), which --unsigned does not check: "+
			"verify them with --public-key (the operator's journal key); a segment rewritten without the key verifies as well here", len(signed), len(window), prefix+signed[0].Name+".sig")
	}
	return nil
}

// checkLocks reports each segment of window that is not under Object Lock in compliance mode
// until at least until: in governance mode a user with s3:BypassGovernanceRetention can delete
// it, and without a lock anyone who may write to the bucket can.
func checkLocks(ctx context.Context, store Store, window []SegmentRef, until time.Time, problem func(string, uint64, ProblemKind, string, ...any)) error {
	rr, ok := store.(RetentionReader)
	if !ok {
		problem(window[0].Name, window[0].Seq, ProblemUnlocked, "the store %s keeps no Object Lock retention: nothing stops its segments from being deleted or replaced", store)
		return nil
	}
	for _, ref := range window {
		mode, retained, err := rr.Retention(ctx, ref.Key)
		if err != nil {
			return err
		}
		switch {
		case mode == "":
			problem(ref.Name, ref.Seq, ProblemUnlocked, "not under Object Lock; want compliance mode until %s", stamp(until))
		case !strings.EqualFold(mode, "COMPLIANCE"):
			problem(ref.Name, ref.Seq, ProblemUnlocked, "under Object Lock in %s mode, which a user with s3:BypassGovernanceRetention can lift; want compliance mode until %s", mode, stamp(until))
		case retained.Before(until):
			problem(ref.Name, ref.Seq, ProblemUnlocked, "retained until %s; want at least %s", stamp(retained), stamp(until))
		}
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "(unbounded)"
	}
	return t.UTC().Format(time.RFC3339)
}

// checkName reads a segment's header and reports it when the header does not say the
// sequence number and time range its name does.
func checkName(ctx context.Context, store Store, ref SegmentRef, problem func(string, uint64, ProblemKind, string, ...any)) error {
	rc, err := store.Get(ctx, ref.Key)
	if err != nil {
		return fmt.Errorf("journal %s: %w", store, err)
	}
	defer rc.Close()
	sr, err := newSegmentReader(rc)
	if err != nil {
		problem(ref.Name, ref.Seq, ProblemCorrupt, "%v", err)
		return nil
	}
	checkHeaderName(sr.header, ref, problem)
	return nil
}

func checkHeaderName(h Header, ref SegmentRef, problem func(string, uint64, ProblemKind, string, ...any)) {
	if h.Seq != ref.Seq || !h.First.Equal(ref.First) || !h.Last.Equal(ref.Last) {
		problem(ref.Name, ref.Seq, ProblemAltered, "the header says segment %d, %s..%s, the name otherwise (a copy under another name, moving a segment out of the period)", h.Seq, h.First.Format(time.RFC3339), h.Last.Format(time.RFC3339))
	}
}

// hashNamed returns a segment's digest, and reports it, as checkName does, when its header
// does not say the sequence number and time range its name does (one read of the object).
func hashNamed(ctx context.Context, store Store, ref SegmentRef, problem func(string, uint64, ProblemKind, string, ...any)) (string, error) {
	rc, err := store.Get(ctx, ref.Key)
	if err != nil {
		return "", fmt.Errorf("journal %s: %w", store, err)
	}
	defer rc.Close()
	h := newHash()
	src := io.TeeReader(rc, h)
	if sr, err := newSegmentReader(src); err != nil {
		problem(ref.Name, ref.Seq, ProblemCorrupt, "%v", err)
	} else {
		checkHeaderName(sr.header, ref, problem)
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return "", fmt.Errorf("journal %s: reading %s: %w", store, ref.Key, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

func checkSig(ctx context.Context, store Store, opts ScanOptions, ref SegmentRef, digest string, res *Result, problem func(string, uint64, ProblemKind, string, ...any)) {
	rc, err := store.Get(ctx, signaturesPrefix(opts.Cluster)+ref.Name+".sig")
	if errors.Is(err, ErrNotFound) {
		problem(ref.Name, ref.Seq, ProblemUnsigned, "no signature (%s)", signaturesPrefix(opts.Cluster)+ref.Name+".sig")
		return
	}
	if err != nil {
		problem(ref.Name, ref.Seq, ProblemBadSignature, "reading the signature: %v", err)
		return
	}
	b, err := io.ReadAll(io.LimitReader(rc, 1<<16))
	rc.Close()
	if err != nil {
		problem(ref.Name, ref.Seq, ProblemBadSignature, "reading the signature: %v", err)
		return
	}
	if err := checkSignature(opts.PublicKey, ref.Name, digest, b); err != nil {
		problem(ref.Name, ref.Seq, ProblemBadSignature, "%v", err)
		return
	}
	res.Signed++
}

type segmentProblem struct {
	kind ProblemKind
	msg  string
}

func (p segmentProblem) Error() string { return p.msg }

// scanSegment reads one segment, checking its header against its records. A problem with the
// segment comes back as a segmentProblem (with the digest, when the bytes could be hashed);
// other errors are the store's.
// read decodes each record line (its error: the line is not a record). started, when not nil, is
// set to the time of the segment's first operator.started record.
func scanSegment(ctx context.Context, store Store, ref SegmentRef, opts ScanOptions, read func([]byte) (RecordHead, error), started *time.Time) (string, Header, int, error) {
	rc, err := store.Get(ctx, ref.Key)
	if err != nil {
		return "", Header{}, 0, fmt.Errorf("journal %s: %w", store, err)
	}
	defer rc.Close()
	sr, err := newSegmentReader(rc)
	if err != nil {
		d, _ := drainHash(rc, sr)
		return d, Header{}, 0, segmentProblem{ProblemCorrupt, err.Error()}
	}
	h := sr.header
	var last time.Time
	var bad string
	for {
		line, err := sr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			d, _ := drainHash(rc, sr)
			return d, h, sr.records, segmentProblem{ProblemCorrupt, err.Error()}
		}
		rh, perr := read(line)
		id, t := rh.ID, rh.Time
		switch {
		case perr != nil:
			perr = fmt.Errorf("not a JSON record: %w", perr)
		case id == "":
			perr = errors.New("record without an id")
		case started != nil && started.IsZero() && rh.Type == OperatorStarted:
			*started = t
		}
		if perr != nil && bad == "" {
			bad = fmt.Sprintf("line %d: %v", sr.line, perr)
		}
		if perr == nil && bad == "" {
			switch {
			case t.Before(h.First) || t.After(h.Last):
				bad = fmt.Sprintf("line %d: record %s at %s is outside the header's time range", sr.line, id, t.Format(time.RFC3339Nano))
			case t.Before(last):
				bad = fmt.Sprintf("line %d: record %s is out of time order", sr.line, id)
			}
			last = t
		}
		if opts.OnRecord != nil {
			if err := opts.OnRecord(line); err != nil {
				return "", h, sr.records, fmt.Errorf("segment %s line %d: %w", ref.Name, sr.line, err)
			}
		}
	}
	digest, body, err := sr.finish()
	if err != nil {
		return "", h, sr.records, segmentProblem{ProblemCorrupt, err.Error()}
	}
	if body != h.RecordsSHA256 {
		return digest, h, sr.records, segmentProblem{ProblemAltered, fmt.Sprintf("the records' SHA-256 is %s, the header says %s (a record was changed, added, removed or reordered)", short(body), short(h.RecordsSHA256))}
	}
	if sr.records != h.Records {
		return digest, h, sr.records, segmentProblem{ProblemAltered, fmt.Sprintf("%d records, the header says %d", sr.records, h.Records)}
	}
	if bad != "" {
		return digest, h, sr.records, segmentProblem{ProblemAltered, bad}
	}
	return digest, h, sr.records, nil
}

func drainHash(rc io.Reader, sr *segmentReader) (string, error) {
	if sr == nil {
		return "", nil
	}
	d, _, err := sr.finish()
	return d, err
}

func hashObject(ctx context.Context, store Store, key string) (string, error) {
	rc, err := store.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("journal %s: %w", store, err)
	}
	defer rc.Close()
	h := newHash()
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("journal %s: reading %s: %w", store, key, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// DatedAsWritten reports whether records of the type are dated by the operator's clock when it
// writes them (not with the time of an event it learned of, as an exception's creation).
func DatedAsWritten(t Type) bool {
	switch t {
	case OperatorHeartbeat, OperatorStarted, OperatorStopped, Attestation, CriterionChanged, ReportResult:
		return true
	}
	return false
}

// RecordHead is what Scan checks of each record: its ID, type and time.
type RecordHead struct {
	ID   string    `json:"id"`
	Type Type      `json:"type"`
	Time time.Time `json:"time"`
}

// peekHead reads a record's ID, type and time without decoding the rest: what json.Unmarshal
// into a RecordHead reads (FuzzPeekHeadReadsWhatUnmarshalReads), at about half its cost for a
// line as the writer writes it. The line is still checked to be JSON whole (validJSON).
func peekHead(line []byte) (RecordHead, error) {
	if h, ok := peekHeadAsWritten(line); ok {
		return h, nil
	}
	var h RecordHead
	err := json.Unmarshal(line, &h)
	return h, err
}

// peekHeadAsWritten reads the head of a valid JSON line that begins as json.Marshal writes a
// Record: {"id":"…","type":"…","time":"…", with plain ASCII strings, and whose other top-level
// keys are plain ASCII names none of which json.Unmarshal would also take for id, type or time
// (it takes the last of duplicate keys, and matches them case-insensitively). Any other line is
// not read (ok false), and json.Unmarshal reads it.
func peekHeadAsWritten(line []byte) (h RecordHead, ok bool) {
	if !validJSON(line) {
		return h, false
	}
	rest, ok := bytes.CutPrefix(line, []byte(`{"id":`))
	var id, typ, at []byte
	if ok {
		id, rest, ok = plainString(rest)
	}
	if ok {
		if rest, ok = bytes.CutPrefix(rest, []byte(`,"type":`)); ok {
			typ, rest, ok = plainString(rest)
		}
	}
	if ok {
		if rest, ok = bytes.CutPrefix(rest, []byte(`,"time":`)); ok {
			at, rest, ok = plainString(rest)
		}
	}
	if !ok || !plainKeys(rest) {
		return h, false
	}
	if err := h.Time.UnmarshalJSON(line[len(line)-len(rest)-len(at)-2 : len(line)-len(rest)]); err != nil {
		return RecordHead{}, false
	}
	h.ID, h.Type = string(id), Type(typ)
	return h, true
}

// validJSON reports whether line is one valid JSON value, as json.Valid does, at about a fifth
// of its cost: encoding/json's own Valid under GOEXPERIMENT=jsonv2 is this jsontext read, with
// duplicate names and invalid UTF-8 allowed as encoding/json allows them (and the same nesting
// limit, 10,000). FuzzPeekHeadReadsWhatUnmarshalReads checks it against json.Unmarshal.
func validJSON(line []byte) bool {
	return jsontext.Value(line).IsValid(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
}

// plainString reads a JSON string of printable ASCII without escapes at the start of b: its
// content and what follows it.
func plainString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, b, false
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[1:i], b[i+1:], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, b, false
		}
	}
	return nil, b, false
}

// plainKeys reports whether the rest of a valid JSON object (after a member) has no key at its
// top level that is not plain ASCII or that json.Unmarshal would take for id, type or time.
func plainKeys(rest []byte) bool {
	depth, key := 1, false
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '"':
			j := i + 1 + bytes.IndexByte(rest[i+1:], '"') // the line is valid JSON: the string ends
			if bytes.IndexByte(rest[i+1:j], '\\') >= 0 {
				if key && depth == 1 {
					return false
				}
				for j = i + 1; rest[j] != '"'; j++ {
					if rest[j] == '\\' {
						j++
					}
				}
			}
			if key && depth == 1 {
				k := rest[i+1 : j]
				for _, c := range k {
					if c >= 0x80 {
						return false
					}
				}
				for _, name := range []string{"id", "type", "time"} {
					if strings.EqualFold(string(k), name) {
						return false
					}
				}
			}
			key, i = false, j
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			key = depth == 1
		}
	}
	return true
}

// peekIDTime reads a record's ID and time without decoding the rest.
func peekIDTime(line []byte) (string, time.Time, error) {
	var r struct {
		ID   string    `json:"id"`
		Time time.Time `json:"time"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return "", time.Time{}, fmt.Errorf("not a JSON record: %w", err)
	}
	if r.ID == "" {
		return "", time.Time{}, errors.New("record without an id")
	}
	return r.ID, r.Time, nil
}

func short(d string) string {
	if len(d) > 16 {
		return d[:16] + "…"
	}
	if d == "" {
		return `""`
	}
	return d
}

// ChainStart is the time of a cluster's first record, when the chain's first segment is in the
// store (zero otherwise, or for an empty chain).
func ChainStart(ctx context.Context, store Store, cluster string) (time.Time, error) {
	refs, _, err := listSegmentsAll(ctx, store, cluster)
	if err != nil || len(refs) == 0 || refs[0].Seq != 1 {
		return time.Time{}, err
	}
	return refs[0].First, nil
}

// Verify checks a cluster's chain (or a window of it) without returning its records.
func Verify(ctx context.Context, store Store, cluster string, from, to time.Time, pub ed25519.PublicKey) (Result, error) {
	return Scan(ctx, store, ScanOptions{Cluster: cluster, From: from, To: to, PublicKey: pub})
}

// Summary is a one-line description of a result.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d segments (%d..%d), %d records", r.Cluster, r.Segments, r.FirstSeq, r.LastSeq, r.Records)
	if !r.First.IsZero() {
		fmt.Fprintf(&b, " from %s to %s", stamp(r.First), stamp(r.Last))
	}
	if r.KeyID != "" {
		fmt.Fprintf(&b, ", %d signed by key %s", r.Signed, r.KeyID)
	} else {
		b.WriteString(", signatures not checked (no public key)")
	}
	if r.OK() {
		b.WriteString(": chain verified")
	} else {
		fmt.Fprintf(&b, ": %d problems", len(r.Problems))
	}
	return b.String()
}

func newHash() hash.Hash { return sha256.New() }
