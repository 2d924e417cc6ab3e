package engine

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

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
//     would judge it.
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
	// slots are the objects in the order added that are judged, or may be: each either
	// judged already (its results are b.results[lo:hi]), waiting in pending to be judged by
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
}

type pendingObject struct {
	obj  *Object
	slot int
	keep bool
}

// batchSize is how many objects are evaluated in parallel at a time: enough that every worker
// stays busy, few enough that the objects waiting to be let go take little memory.
const batchSize = 64

// NewStream starts a streamed evaluation of the plan, as Evaluate with an incomplete
// inventory (a set of manifests: NewInventory(objects, false)). release, if not nil, is called
// with each object that is judged when added and not kept; its results point to what it
// returns (a copy holding only what the outputs print), so that the object itself can be freed.
// A plan with custom checks, which may read any object, judges every object at Finish.
//
// Checks run on up to GOMAXPROCS goroutines: objects judged by themselves a batch at a time
// as they are added, and those left at Finish. Results, summaries and exception outcomes are
// committed in the order objects were added, as Evaluate would; release is called from the
// goroutine that calls Add and Finish. A plan with custom checks runs the end on one
// goroutine: a custom check that runs out of time is not run again in the same evaluation,
// which depends on the order objects are judged in.
func (p *Plan) NewStream(exceptions []*v1alpha1.ControlException, opts Options, release func(*Object) *Object) *Stream {
	s := &Stream{b: p.newBuilder(exceptions, opts, 0), reads: map[string]bool{}, release: release}
	custom := false
	for _, c := range p.Checks {
		for _, k := range c.Reads {
			s.reads[k] = true
		}
		custom = custom || c.Custom
	}
	s.readsWorkloads = s.reads[KindWorkload]
	newContext := func(inv *Inventory) *Context {
		return &Context{Inventory: inv, Params: &p.Params, customTimeout: opts.CustomCheckTimeout}
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

// judgedAlone reports whether o is judged when added: it names no built-in controller and
// every check that targets it is local.
func (s *Stream) judgedAlone(o *Object) bool {
	if o.controllerRef != nil {
		return false
	}
	p := s.b.ev.Plan
	for _, c := range p.byTarget[o.Kind] {
		if c.Custom || !c.Local() {
			return false
		}
	}
	if o.Workload != nil {
		for _, c := range p.forWorkload {
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

// Add hands over the next object. Objects must not be modified afterwards.
func (s *Stream) Add(o *Object) {
	if !s.judgedAlone(o) {
		s.ctx.Inventory.add(o)
		s.slots = append(s.slots, slot{obj: o})
		return
	}
	keep := s.kept(o)
	if keep {
		s.ctx.Inventory.add(o)
	}
	s.slots = append(s.slots, slot{})
	s.pending = append(s.pending, pendingObject{obj: o, slot: len(s.slots) - 1, keep: keep})
	if len(s.pending) == batchSize {
		s.judgePending()
	}
}

// judgePending judges the objects waiting to be judged by themselves and lets go of those not
// kept.
func (s *Stream) judgePending() {
	objs := s.batch.objects[:0]
	for _, p := range s.pending {
		objs = append(objs, p.obj)
	}
	s.batch.objects = objs
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
		if !p.keep && s.release != nil {
			stub := s.release(p.obj)
			for j := lo; j < hi; j++ {
				s.b.results[j].Object = stub
			}
		}
		sl.id, sl.lo, sl.hi = objectID(p.obj), lo, hi
	}
	clear(s.pending)
	s.pending = s.pending[:0]
	s.batch.clear()
}

// Finish judges the objects left, runs the cluster checks and returns the evaluation.
func (s *Stream) Finish() *Evaluation {
	s.judgePending()
	held := s.b.results
	// Room for the results kept so far and 16 for each object the end may judge (a workload
	// judged here gives about 13 failing or undecided results in the corpus). Room never filled
	// is never touched, while each time the slice grows every result is copied into new memory
	// the kernel must first map: at 20,000 objects, growing from 4 per object cost a tenth of a
	// second.
	s.b.results = make([]Result, 0, len(held)+16*len(s.ctx.Inventory.objects))
	for start := 0; start < len(s.slots); {
		// The next batch: the slots up to batchSize objects left to judge.
		objs := s.batch.objects[:0]
		end := start
		for ; end < len(s.slots) && len(objs) < batchSize; end++ {
			if o := s.slots[end].obj; o != nil {
				objs = append(objs, o)
			}
		}
		s.batch.objects = objs
		s.batch.evaluate(s.b, s.ends, false)
		k := 0
		for i := start; i < end; i++ {
			sl := &s.slots[i]
			switch {
			case sl.skipped:
			case sl.obj == nil:
				s.b.results = append(s.b.results, held[sl.lo:sl.hi]...)
				sl.sum.Objects = append(sl.sum.Objects, sl.id)
			default:
				if s.batch.judged[k] {
					s.b.commitObject(sl.obj, s.batch.results[k], true)
				}
				k++
			}
		}
		s.batch.clear()
		start = end
	}
	s.slots = nil
	s.b.finish(s.ctx)
	return s.b.ev
}

// batch is objects evaluated in parallel: the results evaluate gave for each (before
// commitObject) and whether it was judged. Its slices are reused from batch to batch.
type batch struct {
	objects []*Object
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
		bt.results[i], bt.judged[i] = b.evaluate(ctx, o, bt.results[i][:0])
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
	bt.objects = bt.objects[:0]
	for i := range bt.results {
		clear(bt.results[i])
		bt.results[i] = bt.results[i][:0]
	}
}
