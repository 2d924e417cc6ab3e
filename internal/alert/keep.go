package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/gzjson"
)

// Alerts a sink did not deliver (queued, on their way, or set aside for Retry) were held in
// memory only: a restart or a change of leader lost them, the new process, which finds the
// transitions already in the reports, never sent them, and SOC2AlertsNotDelivered resolved with
// the counter's restart. With Options.Store, the dispatcher keeps them: at each SaveInterval when
// they changed, and when it stops; the next process loads them when it starts and sets them
// aside for the sinks of the same profile and name, offering them at once and at each full
// evaluation, so that they are delivered once. An alert delivered but not yet saved as such
// (a process killed within SaveInterval) may be delivered again: delivery stays at least once,
// and receivers dedupe on the key.

// Pending is an alert a sink has not delivered yet.
type Pending struct {
	// Sink is the name of the sink of Alert.Profile that has not delivered it.
	Sink  string
	Alert Alert
	// Queued says it was queued or on its way and never set aside: not late
	// (soc2_operator_alerts_pending). The next process counts it late only if it cannot queue it
	// at once or it fails there: a plain restart must not page, a sink that stays down must.
	Queued bool
}

// Store keeps the alerts not yet delivered for the next process (the operator keeps them in its
// own namespace, which tenants cannot write).
type Store interface {
	// Load returns what the previous process saved, less what no longer has a sink.
	Load(ctx context.Context) ([]Pending, error)
	// Save replaces what is kept with pending (none: nothing is kept). It returns an error
	// wrapping ErrSuperseded, and writes nothing, when another process saved since this one
	// last loaded or saved: that process leads now.
	Save(ctx context.Context, pending []Pending) error
}

// stored is the form of a Pending alert in EncodePending.
type stored struct {
	Sink      string                `json:"sink"`
	Event     v1alpha1.AlertEvent   `json:"event"`
	Profile   string                `json:"profile"`
	Namespace string                `json:"namespace,omitempty"`
	Severity  v1alpha1.Severity     `json:"severity,omitempty"`
	Result    v1alpha1.CheckResult  `json:"result,omitempty"`
	Check     string                `json:"check,omitempty"`
	Criteria  []v1alpha1.Criterion  `json:"criteria,omitempty"`
	Resource  *v1alpha1.ResourceRef `json:"resource,omitempty"`
	Container string                `json:"container,omitempty"`
	Message   string                `json:"message,omitempty"`
	Exception string                `json:"exception,omitempty"`
	Expires   *time.Time            `json:"expires,omitempty"`
	Time      *time.Time            `json:"time,omitempty"`
	Key       string                `json:"key"`
	// Queued: Pending.Queued. Absent (kept by an earlier version, or set aside): late.
	Queued bool `json:"queued,omitempty"`
}

// EncodePending is pending as gzipped JSON of at most max bytes: when all do not fit, the most
// severe (as Retry offers them) are kept, and of those as severe, the oldest of each namespace
// in turn (one tenant's burst must not push out another namespace's alerts); left are the
// others.
func EncodePending(pending []Pending, max int) (data []byte, left []Pending, err error) {
	ordered := fairOrder(pending)
	encode := func(n int) ([]byte, error) {
		out := make([]stored, 0, n)
		for _, p := range ordered[:n] {
			a := p.Alert
			s := stored{Sink: p.Sink, Event: a.Event, Profile: a.Profile, Namespace: a.Namespace, Severity: a.Severity, Result: a.Result,
				Check: a.Check, Criteria: a.Criteria, Container: a.Container, Message: a.Message, Exception: a.Exception, Key: a.Key,
				Queued: p.Queued}
			if a.Resource != (v1alpha1.ResourceRef{}) {
				r := a.Resource
				s.Resource = &r
			}
			if !a.Expires.IsZero() {
				t := a.Expires.UTC()
				s.Expires = &t
			}
			if !a.Time.IsZero() {
				t := a.Time.UTC()
				s.Time = &t
			}
			out = append(out, s)
		}
		return gzjson.Encode(out)
	}
	data, err = encode(len(ordered))
	if err != nil || len(data) <= max {
		return data, nil, err
	}
	lo, err := gzjson.MostThatFit(len(ordered), func(k int) (bool, error) {
		b, err := encode(k)
		return len(b) <= max, err
	})
	if err != nil {
		return nil, nil, err
	}
	if data, err = encode(lo); err != nil {
		return nil, nil, err
	}
	return data, ordered[lo:], nil
}

// fairOrder sorts pending by severity (retryRank), then by turn: the n-th oldest alert of each
// namespace of that severity before the n+1-th of any.
func fairOrder(pending []Pending) []Pending {
	ordered := slices.Clone(pending)
	slices.SortStableFunc(ordered, comparePending)
	type group struct {
		rank      int
		namespace string
	}
	turn := make([]int, len(ordered))
	seen := map[group]int{}
	for i, p := range ordered {
		g := group{retryRank(p.Alert), p.Alert.Namespace}
		turn[i] = seen[g]
		seen[g]++
	}
	index := make([]int, len(ordered))
	for i := range index {
		index[i] = i
	}
	slices.SortStableFunc(index, func(a, b int) int {
		if c := cmp.Compare(retryRank(ordered[a].Alert), retryRank(ordered[b].Alert)); c != 0 {
			return c
		}
		return cmp.Compare(turn[a], turn[b])
	})
	out := make([]Pending, len(ordered))
	for i, j := range index {
		out[i] = ordered[j]
	}
	return out
}

// comparePending orders alerts as Retry offers them: the most severe, then the oldest.
func comparePending(a, b Pending) int {
	if c := cmp.Compare(retryRank(a.Alert), retryRank(b.Alert)); c != 0 {
		return c
	}
	if c := a.Alert.Time.Compare(b.Alert.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.Alert.Key, b.Alert.Key); c != 0 {
		return c
	}
	return strings.Compare(a.Sink, b.Sink)
}

// errNotLoaded: what the previous process kept was not read yet, and is not replaced.
var errNotLoaded = errors.New("the alerts the previous process kept were not read")

// maxDecoded bounds what DecodePending reads, decompressed.
const maxDecoded = 64 << 20

// DecodePending reads what EncodePending wrote.
func DecodePending(data []byte) ([]Pending, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var in []stored
	if err := gzjson.Decode(data, maxDecoded, &in); err != nil {
		return nil, fmt.Errorf("reading the alerts kept: %w", err)
	}
	out := make([]Pending, 0, len(in))
	for _, s := range in {
		if s.Sink == "" || s.Profile == "" || s.Key == "" {
			continue
		}
		a := Alert{Event: s.Event, Profile: s.Profile, Namespace: s.Namespace, Severity: s.Severity, Result: s.Result, Check: s.Check,
			Criteria: s.Criteria, Container: s.Container, Message: s.Message, Exception: s.Exception, Key: s.Key}
		if s.Resource != nil {
			a.Resource = *s.Resource
		}
		if s.Expires != nil {
			a.Expires = *s.Expires
		}
		if s.Time != nil {
			a.Time = *s.Time
		}
		out = append(out, Pending{Sink: s.Sink, Alert: a, Queued: s.Queued})
	}
	return out, nil
}

// undelivered is every alert a sink has not delivered: queued, on its way or set aside, and
// those loaded for sinks not configured yet. Called with d.mu held.
func (d *Dispatcher) undelivered() []Pending {
	var out []Pending
	for _, ps := range d.profiles {
		for _, s := range ps.sinks {
			for k, a := range s.parked {
				out = append(out, Pending{Sink: s.name, Alert: a, Queued: !s.late[k]})
			}
			for k, a := range s.pending {
				if _, ok := s.parked[k]; !ok {
					out = append(out, Pending{Sink: s.name, Alert: a, Queued: !s.late[k]})
				}
			}
		}
	}
	for _, bySink := range d.restored {
		for _, kept := range bySink {
			out = append(out, kept...)
		}
	}
	slices.SortFunc(out, comparePending)
	return out
}

// load sets aside what the previous process kept, for the sinks configured now or later
// (Configure), and offers it at once.
func (d *Dispatcher) load(ctx context.Context) {
	if d.opts.Store == nil {
		return
	}
	pending, err := d.opts.Store.Load(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error(err, "Unable to read the alerts the previous process did not deliver; will retry, and keep nothing until then")
		}
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loaded = true
	for _, p := range pending {
		a := p.Alert
		if s := d.sinkOf(a.Profile, p.Sink); s != nil {
			d.restore(s, p)
			continue
		}
		if d.restored[a.Profile] == nil {
			d.restored[a.Profile] = map[string][]Pending{}
		}
		d.restored[a.Profile][p.Sink] = append(d.restored[a.Profile][p.Sink], p)
	}
	if len(pending) > 0 {
		d.log.Info("Alerts the previous process did not deliver are offered again", "count", len(pending))
	}
	for _, profile := range slices.Sorted(maps.Keys(d.profiles)) {
		for _, s := range d.profiles[profile].sinks {
			d.offer(s)
		}
	}
	// Store may hold more than was loaded (those of a sink or profile gone): the first save
	// writes whatever it is.
	d.saved, d.savedKnown, d.kept = nil, false, pending
}

func (d *Dispatcher) sinkOf(profile, name string) *sink {
	if ps := d.profiles[profile]; ps != nil {
		return ps.sinks[name]
	}
	return nil
}

// restore sets p, which the previous process did not deliver, aside for s, unless s no longer
// takes its event, or has it already: late if it was late there (set aside), otherwise only if
// s cannot queue it at once (offer) or it fails. Called with d.mu held.
func (d *Dispatcher) restore(s *sink, p Pending) {
	a := p.Alert
	if len(s.cfg.Events) > 0 && !slices.Contains(s.cfg.Events, a.Event) {
		return
	}
	if _, ok := s.parked[a.Key]; ok {
		return
	}
	if _, ok := s.pending[a.Key]; ok {
		return
	}
	if !s.keys.add(a.Key) {
		return // sent by this process already
	}
	s.keys.forget(a.Key)
	s.parked[a.Key] = a
	if !p.Queued {
		s.late[a.Key] = true
		d.setLate(s)
	}
}

// save keeps what the sinks have not delivered when it changed since the last save; never
// before what the previous process kept was read (load), which it would replace.
func (d *Dispatcher) save(ctx context.Context) error {
	if d.opts.Store == nil {
		return nil
	}
	d.mu.Lock()
	if !d.loaded {
		d.mu.Unlock()
		return errNotLoaded
	}
	pending := d.undelivered()
	same := d.savedKnown && slices.EqualFunc(pending, d.saved, func(a, b Pending) bool {
		return a.Sink == b.Sink && a.Alert.Key == b.Alert.Key && a.Queued == b.Queued
	})
	d.mu.Unlock()
	if same {
		return nil
	}
	if err := d.opts.Store.Save(ctx, pending); err != nil {
		return err
	}
	d.mu.Lock()
	d.saved, d.savedKnown, d.kept = pending, true, pending
	d.mu.Unlock()
	return nil
}

// keep saves what is not delivered at each SaveInterval until ctx is done.
func (d *Dispatcher) keep(ctx context.Context) {
	if d.opts.Store == nil {
		return
	}
	t := time.NewTicker(d.opts.SaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.mu.Lock()
			loaded := d.loaded
			d.mu.Unlock()
			if !loaded {
				d.load(ctx)
			}
			switch err := d.save(ctx); {
			case err == nil, err == errNotLoaded, ctx.Err() != nil:
			case errors.Is(err, ErrSuperseded):
				// A leader handover: the other process's record stands (logSuperseded).
				d.log.Info("Alerts not delivered yet not saved: another process saved since and leads now", "reason", err.Error())
			default:
				d.log.Error(err, "Unable to keep the alerts not delivered yet for the next process")
			}
		}
	}
}

// ErrSuperseded is what a Store's Save returns (wrapped) when another process saved since this
// one last read or wrote what is kept: that process leads now, it offers what it read, and this
// process's save is refused so that an old leader's view does not replace the new leader's.
var ErrSuperseded = errors.New("superseded")
