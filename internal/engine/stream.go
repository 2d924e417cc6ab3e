package engine

import (
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Stream is Evaluate over objects handed over one at a time (a scan's files as they are read),
// holding only what the rest of the evaluation needs:
//
//   - an object whose checks are all local (Check.Local) and that names no built-in controller
//     is judged as soon as it is added, by itself;
//   - an object is kept (in the inventory the end of the evaluation sees) only when an enabled
//     check reads its kind (Check.Reads), when it is a controller another object may name
//     (every workload kind but Pod), or when it is judged at the end;
//   - every other object is judged at Finish, with every object kept, exactly as Evaluate
//     would judge it;
//   - with Compact, a workload that names no built-in controller is judged in two parts: its
//     local checks as it is added, its other checks at Finish, and what is kept of it until
//     then is the compact form Compact gives.
//
// The evaluation Finish returns is the one Evaluate returns for the same objects in the same
// order, with NewInventory(objects, false): the same results in the same order, summaries,
// exception outcomes and populations. Only the objects the results point to differ: a result
// of an object that was not kept points to what release made of it.
type Stream struct {
	b *builder
	// ctx is the end's context, with every object kept; ends are the contexts the end's
	// workers judge in, over the same inventory; alone are the contexts objects are judged in
	// by themselves, one per worker.
	ctx   *Context
	ends  []*Context
	alone []*Context
	// reads are the kinds enabled checks read; readsWorkloads is true when one reads
	// KindWorkload.
	reads          map[string]bool
	readsWorkloads bool
	release        func(*Object) *Object
	// compact is true when workloads are kept in compact form (Compact); splitKinds are the
	// kinds whose checks can be judged in two parts (no check listed twice for the kind).
	compact    bool
	splitKinds map[string]bool
	// endChecks is, for each kind judged in two parts, how many checks the end runs on it.
	endChecks map[string]int
	// named are the controllers objects added (or expected) so far name: a controller named
	// before it is added is kept whole; fullNeeded is set when an object names a controller the
	// inventory holds in compact form (FullNeeded).
	named      map[objectKey]bool
	fullNeeded bool
	// held are the results of the objects judged as they were added, in the order judged.
	held resultChunks
	// scratch holds one split object's local results, gathered from held.
	scratch []Result
	// slots are the objects in the order added that are judged, or may be: each either
	// judged already (its results are held[lo:hi]), waiting in pending to be judged by
	// itself, skipped (judged by itself and found nothing to judge), or to be judged at Finish
	// (obj).
	slots []slot
	// pending are the objects to be judged by themselves, evaluated in parallel a batch at a
	// time.
	pending []pendingObject
	batch   batch
}

type slot struct {
	obj     *Object
	sum     *Summary
	id      ObjectID
	lo, hi  int
	skipped bool
	// split is true for an object judged in two parts: its local checks' results are
	// held[lo:hi], and obj is its compact form, whose other checks are judged at Finish.
	split bool
}

// endChecks are the checks of sl judged at the end: its cross-object ones when it was split,
// else all of them.
func (sl *slot) endChecks() checkSet {
	if sl.split {
		return crossObjectChecks
	}
	return allChecks
}

type pendingObject struct {
	obj  *Object
	slot int
	// keep is true when the inventory holds obj itself (not a compact form of it).
	keep bool
	// set is the checks judged now: all of them, or the local ones of a split object.
	set checkSet
	// compact is the split object's compact form, which its results are made to point to.
	compact *Object
}

// batchSize is how many objects are evaluated in parallel at a time: enough that every worker
// stays busy, few enough that the objects waiting to be let go take little memory.
const batchSize = 64

// NewStream starts a streamed evaluation of the plan, as Evaluate with an incomplete
// inventory (a set of manifests: NewInventory(objects, false)). release, if not nil, is called
// with each object that is judged when added and not kept, and at Finish with each object
// kept (whole or in compact form) that results are about; its results point to what it
// returns (a copy holding only what the outputs print), so that the object itself can be freed
// (at Finish, before the results are gathered into one slice: see Finish).
// A plan with custom checks, which may read any object, judges every object at Finish.
//
// Checks run on up to GOMAXPROCS goroutines: objects judged by themselves a batch at a time
// as they are added, and those left at Finish. Results, summaries and exception outcomes are
// committed in the order objects were added, as Evaluate would; release is called from the
// goroutine that calls Add and Finish. A plan with custom checks runs the end on one
// goroutine: a custom check that runs out of time is not run again in the same evaluation,
// which depends on the order objects are judged in.
func (p *Plan) NewStream(exceptions []*v1alpha1.ControlException, opts Options, release func(*Object) *Object) *Stream {
	s := &Stream{b: p.newBuilder(exceptions, opts, 0), reads: map[string]bool{}, release: release,
		held: resultChunks{table: newResultTable(p.Checks)}}
	s.b.internMessages = false // the held results keep one copy of each message (resultTable)
	custom := false
	for _, c := range p.Checks {
		for _, k := range c.Reads {
			s.reads[k] = true
		}
		custom = custom || c.Custom
	}
	s.readsWorkloads = s.reads[KindWorkload]
	newContext := func(inv *Inventory) *Context {
		return &Context{Inventory: inv, Params: &p.Params, customTimeout: opts.CustomCheckTimeout, withheld: opts.Withheld, now: opts.Now}
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	s.ctx = newContext(NewInventory(nil, false))
	s.ends = []*Context{s.ctx}
	for range workers {
		if !custom && len(s.ends) < workers {
			s.ends = append(s.ends, newContext(s.ctx.Inventory))
		}
		s.alone = append(s.alone, newContext(NewInventory(nil, false)))
	}
	return s
}

// judgedAlone reports whether o is judged when added: it names no built-in controller, and every
// check that targets it is local. In a scan nothing but a pod's own spec decides its OS (podos.go:
// a scan reads no RuntimeClass or Node), so no workload waits for them.
func (s *Stream) judgedAlone(o *Object) bool {
	if o.controllerRef != nil {
		return false
	}
	byKind, forWorkload := s.b.ev.Plan.checksFor(o)
	for _, list := range [...][]*PlannedCheck{byKind, forWorkload} {
		for _, c := range list {
			if c.Custom || !c.Local() {
				return false
			}
		}
	}
	return true
}

// kept reports whether another object's checks may read o at the end of the evaluation.
func (s *Stream) kept(o *Object) bool {
	if s.reads[o.Kind] {
		return true
	}
	if o.Workload != nil {
		_, controller := controllerKinds[o.Kind]
		return s.readsWorkloads || controller
	}
	return false
}

// Compact makes the stream keep workloads in compact form (CompactWorkload) until Finish,
// instead of as they are. A workload is then judged in two parts: its local checks as it is added, on the
// object itself, which is let go; its other checks at Finish, on the compact form. Objects that
// name a built-in controller are kept whole, and so is a controller an earlier object names:
// whether a controlled object is explained by its controller's template compares nearly all
// of the template (Inventory.Provenance). A plan with custom checks, which may read any field,
// keeps every object whole. Call Compact before the first Add.
func (s *Stream) Compact() {
	for _, c := range s.b.ev.Plan.Checks {
		if c.Custom {
			return
		}
	}
	s.compact = true
	s.named = map[objectKey]bool{}
	p := s.b.ev.Plan
	s.splitKinds, s.endChecks = map[string]bool{}, map[string]int{}
	for kind := range workloadKinds {
		s.splitKinds[kind] = true
		for _, c := range p.byTarget[kind] {
			if slices.Contains(p.forWorkload, c) {
				s.splitKinds[kind] = false
			}
			if !c.Local() {
				s.endChecks[kind]++
			}
		}
		for _, c := range p.forWorkload {
			if !c.Local() {
				s.endChecks[kind]++
			}
		}
	}
}

// Expect tells the stream the objects about to be added (a file's, say): a controller any of
// them names is kept whole wherever it comes among them, so that a file that lists a Deployment
// before its ReplicaSet (a dump of a cluster) does not make FullNeeded true.
func (s *Stream) Expect(objs []*Object) {
	if !s.compact {
		return
	}
	for _, o := range objs {
		if ref := o.controllerRef; ref != nil {
			s.named[controllerKey(o, ref)] = true
		}
	}
}

// controllerKey is the key of the controller ref names: owner references name objects of the
// owner's own namespace.
func controllerKey(o *Object, ref *metav1.OwnerReference) objectKey {
	return objectKey{ref.Kind, o.Namespace, ref.Name}
}

// FullNeeded reports whether an object added named as its controller a workload the stream
// had already kept in compact form (Compact): its evaluation cannot compare the object with
// the controller's template, and must be made again without Compact.
func (s *Stream) FullNeeded() bool { return s.fullNeeded }

// compactable reports whether o may be kept in compact form.
func (s *Stream) compactable(o *Object) bool {
	if !s.compact || o.Workload == nil {
		return false
	}
	k := objectKey{o.Kind, o.Namespace, o.Name}
	if ref := o.controllerRef; ref != nil {
		c := controllerKey(o, ref)
		// The controller Inventory.Provenance would compare o with.
		if owner := s.ctx.Inventory.byKey[c]; owner != nil && owner.compacted {
			s.fullNeeded = true
		}
		s.named[c] = true
		return false
	}
	return s.splitKinds[o.Kind] && !s.named[k]
}

// Add hands over the next object. Objects must not be modified afterwards.
func (s *Stream) Add(o *Object) {
	compactable := s.compactable(o)
	alone := s.judgedAlone(o)
	if !alone && !compactable {
		s.ctx.Inventory.add(o)
		s.slots = append(s.slots, slot{obj: o})
		return
	}
	p := pendingObject{obj: o, slot: len(s.slots), set: allChecks}
	kept := !alone || s.kept(o) // another object's checks, or the end, need it
	switch {
	case compactable && kept:
		// Kept in compact form: whole, it is let go once its local checks are judged.
		p.compact = CompactWorkload(o)
		p.compact.compacted = true
		s.ctx.Inventory.add(p.compact)
		if !alone {
			p.set = localChecks
		}
	case kept:
		p.keep = true
		s.ctx.Inventory.add(o)
	}
	s.slots = append(s.slots, slot{split: p.set == localChecks})
	s.pending = append(s.pending, p)
	if len(s.pending) == batchSize {
		s.judgePending()
	}
}

// judgePending judges the objects waiting to be judged by themselves and lets go of those not
// kept.
func (s *Stream) judgePending() {
	objs, sets := s.batch.objects[:0], s.batch.sets[:0]
	for _, p := range s.pending {
		objs, sets = append(objs, p.obj), append(sets, p.set)
	}
	s.batch.objects, s.batch.sets = objs, sets
	s.batch.evaluate(s.b, s.alone, true)
	for i, p := range s.pending {
		sl := &s.slots[p.slot]
		if !s.batch.judged[i] {
			sl.skipped = true
			continue
		}
		lo := len(s.b.results)
		sl.sum = s.b.commitObject(p.obj, s.batch.results[i], false)
		hi := len(s.b.results)
		sl.lo, sl.hi = s.held.n+lo, s.held.n+hi
		var to *Object // what the results point to once p.obj is let go
		switch {
		case p.set == localChecks:
			to = p.compact
		case !p.keep && s.release != nil:
			to = s.release(p.obj)
		}
		if to != nil {
			for j := lo; j < hi; j++ {
				s.b.results[j].Object = to
			}
		}
		sl.id = objectID(p.obj)
		if sl.split {
			sl.obj = p.compact
		}
	}
	// The batch's results join those held; the builder's room is used again for the next.
	s.held.append(s.b.results)
	clear(s.b.results)
	s.b.results = s.b.results[:0]
	clear(s.pending)
	s.pending = s.pending[:0]
	s.batch.clear()
}

// Finish judges the objects left, runs the cluster checks and returns the evaluation.
func (s *Stream) Finish() *Evaluation {
	s.judgePending()
	// The results, in the order of the objects, are gathered in chunks as the end judges (the
	// chunks of those held are filled again as they are let go) and copied into one slice of
	// their number once all are known. Room set aside for the end's results beforehand was
	// either too little, and the slice grew (copying every result into new memory while
	// holding the old), or too much: at 99,954 objects, 647,240 places for 436,180 results
	// kept, 13.5 MB still live while the end's held workloads were. Peak RSS there went from
	// 287-298 to 247-278 MiB (8 interleaved runs each; wall time within the noise).
	out := resultChunks{table: s.held.table}
	flush := func() {
		out.append(s.b.results)
		clear(s.b.results)
		s.b.results = s.b.results[:0]
	}
	if len(s.ends) > 1 {
		s.judgeEnd(&out, flush)
	} else {
		s.judgeEndInBatches(&out, flush)
	}
	s.b.judgeCluster(s.ctx)
	flush()
	s.slots, s.scratch, s.held = nil, nil, resultChunks{}
	// Nothing is judged any more: the objects kept are let go before the results are copied
	// into one slice, and a collection the copy would bring about is run before it
	// (collectBefore), when they are garbage and the copy is not yet live.
	if s.release != nil {
		out.pointTo(s.ctx.Inventory.objects, s.release)
	}
	s.ctx, s.ends, s.alone = nil, nil, nil
	collectBefore(uint64(out.n) * uint64(unsafe.Sizeof(Result{})))
	s.b.results = out.take()
	s.b.settle()
	return s.b.ev
}

// judgeEndInBatches judges the objects left to the end a batch at a time, on one goroutine (a
// plan with custom checks: see NewStream), and commits their results in order, as they are
// added, with the held results of the objects judged before.
func (s *Stream) judgeEndInBatches(out *resultChunks, flush func()) {
	for start := 0; start < len(s.slots); {
		// The next batch: the slots up to batchSize objects left to judge.
		objs, sets := s.batch.objects[:0], s.batch.sets[:0]
		end := start
		for ; end < len(s.slots) && len(objs) < batchSize; end++ {
			if sl := &s.slots[end]; sl.obj != nil && !sl.skipped {
				objs, sets = append(objs, sl.obj), append(sets, sl.endChecks())
			}
		}
		s.batch.objects, s.batch.sets = objs, sets
		s.batch.evaluate(s.b, s.ends, false)
		k := 0
		for i := start; i < end; i++ {
			sl := &s.slots[i]
			switch {
			case sl.skipped:
			case sl.obj == nil:
				flush()
				s.commitHeld(sl, out)
			case sl.split:
				s.commitSplit(sl, s.batch.results[k], out)
				k++
			default:
				if s.batch.judged[k] {
					s.b.commitObject(sl.obj, s.batch.results[k], true)
				}
				k++
			}
		}
		flush()
		s.batch.clear()
		start = end
	}
}

// commitHeld commits the results held for an object judged whole before the end (no check
// of it waited for the others), in its place in the order.
func (s *Stream) commitHeld(sl *slot, out *resultChunks) {
	out.appendRange(&s.held, sl.lo, sl.hi)
	sl.sum.Objects = append(sl.sum.Objects, sl.id)
	s.held.release(sl.hi, out)
}

// commitSplit commits an object judged in two parts: the results held from before the end and
// those of its cross-object checks, judged at the end.
func (s *Stream) commitSplit(sl *slot, end []Result, out *resultChunks) {
	s.scratch = s.held.appendTo(s.scratch[:0], sl.lo, sl.hi)
	s.b.commitSplit(sl.obj, s.scratch, end, sl.sum)
	sl.sum.Objects = append(sl.sum.Objects, sl.id)
	s.held.release(sl.hi, out)
}

// endWindow is how many objects judgeEnd judges ahead of the oldest whose results it has not
// yet committed: their results wait in memory, as a batch's do.
const endWindow = 4 * batchSize

// judgeEnd judges the objects left to the end on every worker (s.ends) and commits their
// results in the order they were added, with the held results of the objects judged before,
// as each comes in: a worker takes the next object as soon as it is done with one, up to
// endWindow objects ahead of the commits. Judged a batch at a time, the workers waited at the
// end of each batch for the slowest object of it (a ConfigMap of scripts takes milliseconds),
// and for its commits, which ran alone: the end of a 3,000-object scan ran on 1.5 of 2 cores.
// Checks read the inventory and their context, never what commits write (the summaries,
// the exceptions' counts and the results).
func (s *Stream) judgeEnd(out *resultChunks, flush func()) {
	var todo []int // the slots judged at the end, in order
	for i := range s.slots {
		if sl := &s.slots[i]; sl.obj != nil && !sl.skipped {
			todo = append(todo, i)
		}
	}
	type judged struct {
		results []Result
		judged  bool
		done    chan struct{} // a result is ready
	}
	window := min(endWindow, max(1, len(todo)))
	ring := make([]judged, window)
	for i := range ring {
		ring[i].done = make(chan struct{}, 1)
	}
	// ahead holds a token for each object taken and not yet committed: the k-th object uses
	// ring[k%window], free once the object window places before it is committed.
	ahead := make(chan struct{}, window)
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, ctx := range s.ends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ahead <- struct{}{}
				k := int(next.Add(1) - 1)
				if k >= len(todo) {
					<-ahead
					return
				}
				sl := &s.slots[todo[k]]
				j := &ring[k%window]
				j.results, j.judged = s.b.evaluate(ctx, sl.obj, sl.endChecks(), j.results[:0])
				j.done <- struct{}{}
			}
		}()
	}
	k := 0
	for i := range s.slots {
		sl := &s.slots[i]
		switch {
		case sl.skipped:
		case sl.obj == nil:
			flush()
			s.commitHeld(sl, out)
		default:
			j := &ring[k%window]
			<-j.done
			if sl.split {
				s.commitSplit(sl, j.results, out)
			} else if j.judged {
				s.b.commitObject(sl.obj, j.results, true)
			}
			clear(j.results)
			j.results = j.results[:0]
			k++
			<-ahead
			if k%batchSize == 0 {
				flush()
			}
		}
	}
	wg.Wait()
	flush()
}

// collectBefore runs a collection now if allocating size bytes would pass the heap's goal (the
// collector's trigger under GOGC or a memory limit): one is due during the allocation anyway,
// and run before it, the heap it frees is not added to the new memory. At the end of a stream
// the objects kept to the end are garbage by then and the results' copy is about to be made:
// at 99,954 objects (scan) the copy is 27 MB, and the collection it brought about started at a
// heap of 144 MB with the copy live; run first, it finds 45 MB live of 107 (peak RSS 205 -> 180
// MiB). A small stream, whose heap is far from its goal (or a scan with the collector off under
// its limit: 3,000 and 20,000 objects), runs none.
func collectBefore(size uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 || sample[1].Value.Kind() != metrics.KindUint64 {
		return
	}
	if goal, heap := sample[0].Value.Uint64(), sample[1].Value.Uint64(); heap+size > goal {
		runtime.GC()
	}
}

// resultChunks is a list of results kept in chunks of chunkSize: it grows without copying what
// it holds and without room to spare (a slice doubles its room, and while it grows holds the
// old array and the new one), and release lets go of the chunks already read. At 99,954
// objects the results of the objects judged as they were added are about half a million. They
// are held packed (packedResult, half a Result's size); lists that exchange results
// (appendRange, release's to) share one resultTable.
type resultChunks struct {
	table  *resultTable
	chunks [][]packedResult
	// n is how many results it holds; freed how many chunks release let go of.
	n, freed int
	// spare are emptied chunks append fills before it makes new ones (release's to).
	spare [][]packedResult
}

const chunkSize = 4096

// packedResult is a Result as resultChunks holds it: 32 bytes instead of 64, with the check as
// its place in the plan and the message and container as places in the resultTable.
type packedResult struct {
	object    *Object
	exception *ExceptionOutcome
	check     uint32
	message   uint32
	container uint32
	status    Status
}

// resultTable is what packed results refer to: the plan's checks, and each message and
// container name of the results a stream holds, once (so a stream's builder does not intern
// messages: see builder.internMessages).
type resultTable struct {
	checks []*PlannedCheck
	list   []string
	index  map[string]uint32
}

func newResultTable(checks []*PlannedCheck) *resultTable {
	return &resultTable{checks: checks, list: []string{""}, index: map[string]uint32{"": 0}}
}

func (rs *resultTable) id(s string) uint32 {
	if i, ok := rs.index[s]; ok {
		return i
	}
	i := uint32(len(rs.list))
	rs.list = append(rs.list, s)
	rs.index[s] = i
	return i
}

func (rs *resultTable) pack(r *Result) packedResult {
	return packedResult{object: r.Object, exception: r.Exception, check: uint32(r.Check.index),
		message: rs.id(r.Message), container: rs.id(r.Container), status: r.Status}
}

func (rs *resultTable) unpack(p *packedResult) Result {
	return Result{Check: rs.checks[p.check], Object: p.object, Container: rs.list[p.container], Status: p.status,
		Message: rs.list[p.message], Exception: p.exception}
}

// room returns the last chunk with room for another result, adding one (a spare one first).
func (rc *resultChunks) room() *[]packedResult {
	if len(rc.chunks) == 0 || len(rc.chunks[len(rc.chunks)-1]) == chunkSize {
		if k := len(rc.spare); k > 0 {
			rc.chunks = append(rc.chunks, rc.spare[k-1])
			rc.spare[k-1] = nil
			rc.spare = rc.spare[:k-1]
		} else {
			rc.chunks = append(rc.chunks, make([]packedResult, 0, chunkSize))
		}
	}
	return &rc.chunks[len(rc.chunks)-1]
}

// append appends rs.
func (rc *resultChunks) append(rs []Result) {
	for i := range rs {
		last := rc.room()
		*last = append(*last, rc.table.pack(&rs[i]))
		rc.n++
	}
}

// appendTo appends the results from index lo up to hi to out.
func (rc *resultChunks) appendTo(out []Result, lo, hi int) []Result {
	for ; lo < hi; lo++ {
		out = append(out, rc.table.unpack(&rc.chunks[lo/chunkSize][lo%chunkSize]))
	}
	return out
}

// appendRange appends the results of src from index lo up to hi (src shares rc's strings).
func (rc *resultChunks) appendRange(src *resultChunks, lo, hi int) {
	for lo < hi {
		c := src.chunks[lo/chunkSize]
		i := lo % chunkSize
		last := rc.room()
		k := min(hi-lo, len(c)-i, chunkSize-len(*last))
		*last = append(*last, c[i:i+k]...)
		lo += k
		rc.n += k
	}
}

// pointTo makes the results about any of objs point to what release returns for it (once per
// object: see releaser).
func (rc *resultChunks) pointTo(objs []*Object, release func(*Object) *Object) {
	rl := newReleaser(objs, release)
	for _, c := range rc.chunks {
		for i := range c {
			c[i].object = rl.of(c[i].object)
		}
	}
}

// take returns the results in one slice of their number and empties rc.
func (rc *resultChunks) take() []Result {
	out := make([]Result, 0, rc.n)
	for _, c := range rc.chunks {
		for i := range c {
			out = append(out, rc.table.unpack(&c[i]))
		}
	}
	*rc = resultChunks{}
	return out
}

// release lets go of the chunks that hold only results before index lo, and gives them emptied
// to to, which fills them before it makes new ones: at the end of a scan the results held
// are gathered into to as they are let go, and memory already touched is faster to fill than
// new memory (see Finish).
func (rc *resultChunks) release(lo int, to *resultChunks) {
	for ; rc.freed < lo/chunkSize; rc.freed++ {
		c := rc.chunks[rc.freed]
		clear(c)
		to.spare = append(to.spare, c[:0])
		rc.chunks[rc.freed] = nil
	}
}

// batch is objects evaluated in parallel: the results evaluate gave for each (before
// commitObject) and whether it was judged. Its slices are reused from batch to batch.
type batch struct {
	objects []*Object
	sets    []checkSet
	results [][]Result
	judged  []bool
}

// evaluate evaluates the batch's objects on one goroutine per context (contexts that are not
// used concurrently: alone gives each object a context of its own, judging it by itself).
func (bt *batch) evaluate(b *builder, ctxs []*Context, alone bool) {
	n := len(bt.objects)
	for len(bt.results) < n {
		bt.results = append(bt.results, nil)
	}
	bt.judged = slices.Grow(bt.judged[:0], n)[:n]
	one := func(ctx *Context, i int) {
		o := bt.objects[i]
		if alone {
			ctx.Inventory.judgeAlone(o)
		}
		bt.results[i], bt.judged[i] = b.evaluate(ctx, o, bt.sets[i], bt.results[i][:0])
		if alone {
			ctx.Inventory.judgeAlone(nil)
		}
	}
	workers := min(len(ctxs), n)
	if workers <= 1 {
		for i := range n {
			one(ctxs[0], i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, ctx := range ctxs[:workers] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				one(ctx, i)
			}
		}()
	}
	wg.Wait()
}

// clear drops the batch's references to objects and results, keeping the room.
func (bt *batch) clear() {
	clear(bt.objects)
	bt.objects, bt.sets = bt.objects[:0], bt.sets[:0]
	for i := range bt.results {
		clear(bt.results[i])
		bt.results[i] = bt.results[i][:0]
	}
}
