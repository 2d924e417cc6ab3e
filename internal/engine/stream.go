package engine

import (
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
	// ctx judges at the end, with every object kept; alone judges one object by itself.
	ctx, alone *Context
	// reads are the kinds enabled checks read; readsWorkloads is true when one reads
	// KindWorkload.
	reads          map[string]bool
	readsWorkloads bool
	release        func(*Object) *Object
	// slots are the objects in the order added that are judged, or may be: each either
	// judged already (its results are b.results[lo:hi]) or to be judged at Finish (obj).
	slots []slot
}

type slot struct {
	obj    *Object
	sum    *Summary
	id     ObjectID
	lo, hi int
}

// NewStream starts a streamed evaluation of the plan, as Evaluate with an incomplete
// inventory (a set of manifests: NewInventory(objects, false)). release, if not nil, is called
// with each object that is judged when added and not kept; its results point to what it
// returns (a copy holding only what the outputs print), so that the object itself can be freed.
// A plan with custom checks, which may read any object, judges every object at Finish.
func (p *Plan) NewStream(exceptions []*v1alpha1.ControlException, opts Options, release func(*Object) *Object) *Stream {
	s := &Stream{b: p.newBuilder(exceptions, opts, 0), reads: map[string]bool{}, release: release}
	s.ctx = &Context{Inventory: NewInventory(nil, false), Params: &p.Params, customTimeout: opts.CustomCheckTimeout}
	s.alone = &Context{Inventory: NewInventory(nil, false), Params: &p.Params, customTimeout: opts.CustomCheckTimeout}
	for _, c := range p.Checks {
		for _, k := range c.Reads {
			s.reads[k] = true
		}
	}
	s.readsWorkloads = s.reads[KindWorkload]
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
	s.alone.Inventory.judgeAlone(o)
	lo := len(s.b.results)
	sum, judged := s.b.judge(s.alone, o, false)
	s.alone.Inventory.judgeAlone(nil)
	if !judged {
		return
	}
	hi := len(s.b.results)
	if !keep && s.release != nil {
		stub := s.release(o)
		for i := lo; i < hi; i++ {
			s.b.results[i].Object = stub
		}
	}
	s.slots = append(s.slots, slot{sum: sum, id: objectID(o), lo: lo, hi: hi})
}

// Finish judges the objects left, runs the cluster checks and returns the evaluation.
func (s *Stream) Finish() *Evaluation {
	held := s.b.results
	s.b.results = make([]Result, 0, len(held)+4*len(s.ctx.Inventory.objects))
	for i := range s.slots {
		sl := &s.slots[i]
		if sl.obj == nil {
			s.b.results = append(s.b.results, held[sl.lo:sl.hi]...)
			sl.sum.Objects = append(sl.sum.Objects, sl.id)
			continue
		}
		s.b.judge(s.ctx, sl.obj, true)
	}
	s.slots = nil
	s.b.finish(s.ctx)
	return s.b.ev
}
