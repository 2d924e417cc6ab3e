package engine

// Release points every result about one of objs to what release returns for it (a copy holding
// only what the outputs print, say), so that the objects themselves can be freed while the
// results are still used: a scan that read every object first lets them go this way before it
// builds its report. release is called once per object that results are about; results about
// other objects are left as they are. A Stream does the same at Finish with the objects it kept.
func (ev *Evaluation) Release(objs []*Object, release func(*Object) *Object) {
	rl := newReleaser(objs, release)
	for i := range ev.Results {
		ev.Results[i].Object = rl.of(ev.Results[i].Object)
	}
}

// releaser gives each object of a set what release returns for it, asking once per object.
// Results come in runs of one object, so the last answer is tried before the map.
type releaser struct {
	to           map[*Object]*Object
	release      func(*Object) *Object
	last, lastTo *Object
}

func newReleaser(objs []*Object, release func(*Object) *Object) *releaser {
	to := make(map[*Object]*Object, len(objs))
	for _, o := range objs {
		to[o] = nil
	}
	return &releaser{to: to, release: release}
}

// of returns what o is let go for: release's copy for an object of the set, else o itself.
func (rl *releaser) of(o *Object) *Object {
	if o == nil {
		return nil
	}
	if o != rl.last {
		r, ok := rl.to[o]
		switch {
		case !ok:
			r = o
		case r == nil:
			r = rl.release(o)
			rl.to[o] = r
		}
		rl.last, rl.lastTo = o, r
	}
	return rl.lastTo
}
