package alert

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// Results, the values of the result label of soc2_operator_alerts_total.
const (
	ResultSent      = "sent"
	ResultFailed    = "failed"
	ResultDropped   = "dropped"
	ResultDuplicate = "duplicate"
)

// Options configure a Dispatcher. The zero value gives the defaults.
type Options struct {
	// Client sends the requests. Default: a client on http.DefaultTransport (which honours
	// HTTPS_PROXY and NO_PROXY).
	Client *http.Client
	// Timeout bounds each attempt, response included. Default 10s.
	Timeout time.Duration
	// Retry is the policy for failed attempts.
	Retry RetryPolicy
	// QueueSize is how many alerts wait per sink before new ones are set aside (parked) to be
	// offered again by Retry; one namespace may hold at most a quarter of them. Default 1024.
	QueueSize int
	// DedupeSize is how many recent keys each sink remembers. Default 10,000.
	DedupeSize int
	// Clock gives the time of alerts without one and reads Retry-After dates. Default: the
	// real clock.
	Clock clock.PassiveClock
	// Sleep waits between attempts, returning early with ctx's error when ctx is done. Tests
	// replace it to run without waiting. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger logs failed deliveries (V(0)), and retries and deliveries (V(1)).
	Logger logr.Logger
	// Store, when set, keeps the alerts not delivered yet for the next process (keep.go):
	// loaded at Start, saved at each SaveInterval when they changed and when the dispatcher
	// stops. Nil: they are lost at a restart, and logged then.
	Store Store
	// SaveInterval is how often the alerts not delivered yet are saved to Store when they
	// changed: what a process killed without a stop (SIGKILL, an OOM kill, a node lost) loses.
	// Default 5s, as the exceptions judged Active: measured at most 12 saves a minute with a
	// sink down and 10 alerts a second (3 with the sink up), each a read and an update of one
	// Lease, below the leader election's own renewals (every 2s); 30s lost 30s of alerts.
	SaveInterval time.Duration
}

// RetryPolicy says how often and how long apart a failed delivery is attempted again.
type RetryPolicy struct {
	// Attempts is the number of attempts, the first included. Default 6.
	Attempts int
	// InitialBackoff is the wait after the first failed attempt; it doubles after each
	// further one. Default 1s.
	InitialBackoff time.Duration
	// MaxBackoff bounds each wait, Retry-After included. Default 2m.
	MaxBackoff time.Duration
	// Jitter is the fraction of each wait that is random, up to 1: a wait d becomes a
	// uniformly random one between d*(1-Jitter) and d. Zero means the default 0.2; negative
	// means none.
	Jitter float64
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Retry.Attempts <= 0 {
		o.Retry.Attempts = 6
	}
	if o.Retry.InitialBackoff <= 0 {
		o.Retry.InitialBackoff = time.Second
	}
	if o.Retry.MaxBackoff <= 0 {
		o.Retry.MaxBackoff = 2 * time.Minute
	}
	switch {
	case o.Retry.Jitter == 0:
		o.Retry.Jitter = 0.2
	case o.Retry.Jitter < 0:
		o.Retry.Jitter = 0
	case o.Retry.Jitter > 1:
		o.Retry.Jitter = 1
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.DedupeSize <= 0 {
		o.DedupeSize = 10000
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.SaveInterval <= 0 {
		o.SaveInterval = 5 * time.Second
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Dispatcher delivers alerts to the sinks of each profile. Create it with NewDispatcher, add
// it to the manager (it delivers only on the leader, from Start until the manager stops),
// keep every profile's sinks current with Configure, and call Send on each transition.
// Its methods are safe for concurrent use.
type Dispatcher struct {
	opts Options
	log  logr.Logger

	mu       sync.Mutex
	profiles map[string]*profileSinks
	ctx      context.Context // set by Start
	workers  sync.WaitGroup
	// restored are the alerts the previous process did not deliver, by profile and sink, for
	// sinks not configured yet (Configure sets them aside for the sink); saved is what was
	// last saved to Store (keep.go).
	restored map[string]map[string][]Pending
	saved    []Pending
	// savedKnown says whether saved is what Store holds.
	savedKnown bool
	// kept is what Store held as this process last read (load) or wrote (save) it: what a
	// process that saved over it since, leading now, read and offers (logSuperseded).
	kept []Pending
	// loaded says whether Store was read: nothing is saved before, which would replace it.
	loaded bool
}

type profileSinks struct {
	minSeverity v1alpha1.Severity
	sinks       map[string]*sink
}

// sink is one destination of one profile, with its queue, its worker and its memory of keys.
type sink struct {
	profile string
	name    string
	cfg     v1alpha1.AlertSink // guarded by Dispatcher.mu
	queue   chan Alert
	keys    *recentKeys
	// queued counts the alerts in queue by namespace ("": the cluster-scoped objects), and
	// parked holds by key those not delivered that Retry offers again: set aside when the
	// queue was full or their namespace had its share of it (shareOf), or failed after the
	// last attempt with an error another may fix. Both guarded by Dispatcher.mu.
	queued map[string]int
	parked map[string]Alert
	// pending are the alerts queued or on their way, by key, until delivered or given up on
	// (Options.Store keeps them and those parked at a stop). Guarded by Dispatcher.mu.
	pending map[string]Alert
	// late are the keys of the alerts set aside (parked), by this process or a previous one that
	// kept them (restore), until delivered or given up on, offered again ones included: soc2_operator_alerts_pending, which
	// SOC2AlertsNotDelivered reads, as soc2_operator_alerts_total starts again from zero in each
	// process. Guarded by Dispatcher.mu.
	late   map[string]bool
	ctx    context.Context // cancelled when the sink is removed or the manager stops
	cancel context.CancelFunc
	// stopAfter unregisters the cancellation of ctx when the manager stops.
	stopAfter func() bool
}

var _ manager.LeaderElectionRunnable = &Dispatcher{}

// NewDispatcher returns a Dispatcher with no sinks.
func NewDispatcher(opts Options) *Dispatcher {
	opts = opts.withDefaults()
	return &Dispatcher{opts: opts, log: opts.Logger.WithName("alert"), profiles: map[string]*profileSinks{}, restored: map[string]map[string][]Pending{}}
}

// NeedLeaderElection is true: only the leader sends alerts, so each is sent once.
func (d *Dispatcher) NeedLeaderElection() bool { return true }

// Start sets aside what the previous process did not deliver (Options.Store) and runs the
// sinks' workers until ctx is done, then waits for them to stop and keeps what they did not
// deliver. Alerts sent before Start wait in their queues.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	if d.ctx != nil {
		d.mu.Unlock()
		return errors.New("alert dispatcher already started")
	}
	d.ctx = ctx
	for _, ps := range d.profiles {
		for _, s := range ps.sinks {
			d.startWorker(s)
		}
	}
	d.mu.Unlock()
	d.load(ctx)
	d.keep(ctx)
	<-ctx.Done()
	d.workers.Wait()
	if d.opts.Store != nil {
		// The manager's context is done; the API server is not.
		saveCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.save(saveCtx); errors.Is(err, ErrSuperseded) {
			d.logSuperseded()
			return nil
		} else if err != nil {
			d.log.Error(err, "Unable to keep the alerts not delivered yet for the next process")
		} else {
			d.mu.Lock()
			d.log.Info("Alerts not delivered yet kept for the next process", "count", len(d.saved))
			d.mu.Unlock()
			return nil
		}
	}
	d.logSetAside()
	return nil
}

// logSetAside logs, when the dispatcher stops (a rollout, a leader change) without a Store
// or unable to save to it, the alerts each sink set aside and never delivered: no later
// process offers them again, and the counter that said they were late
// (soc2_operator_alerts_total) starts again from zero in the next process, so this log is what
// says which were lost. Those still queued or on their way are logged by each worker as it stops
// (drop) without a Store; with one that could not save, here too, and counted dropped.
func (d *Dispatcher) logSetAside() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, profile := range slices.Sorted(maps.Keys(d.profiles)) {
		ps := d.profiles[profile]
		for _, name := range slices.Sorted(maps.Keys(ps.sinks)) {
			s := ps.sinks[name]
			if d.opts.Store != nil {
				var queued []string
				for k, a := range s.pending {
					if _, ok := s.parked[k]; !ok {
						metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), ResultDropped).Inc()
						queued = append(queued, k)
					}
				}
				if len(queued) > 0 {
					slices.Sort(queued)
					d.log.Error(nil, "Alerts lost: queued or on their way when the operator stopped, and not kept; no later process offers them again",
						"profile", profile, "sink", name, "count", len(queued), "keys", queued[:min(len(queued), maxKeysLogged)])
				}
			}
			if len(s.parked) == 0 {
				continue
			}
			byNamespace := map[string]int{}
			keys := make([]string, 0, len(s.parked))
			for k, a := range s.parked {
				byNamespace[a.Namespace]++
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if len(keys) > maxKeysLogged {
				keys = keys[:maxKeysLogged]
			}
			d.log.Error(nil, "Alerts lost: set aside and never delivered when the operator stopped; no later process offers them again",
				"profile", profile, "sink", name, "count", len(s.parked), "byNamespace", byNamespace, "keys", keys)
			s.parked = map[string]Alert{}
		}
	}
}

// logSuperseded logs, when the dispatcher stops after another process saved over what this one
// last read or wrote (ErrSuperseded: that process leads now, and its record stands), what
// became of the alerts not delivered: those this process had loaded or saved are offered by the
// process leading now, which read them (unless it read before this process's last save); those
// queued or set aside since are in no record, and no process offers them again. Only those are
// lost: logged so, and counted dropped when queued (as logSetAside counts them). Logging them
// all as lost, and counting them dropped, overstated a leader handover: SOC2AlertsNotDelivered
// reads the count.
func (d *Dispatcher) logSuperseded() {
	d.mu.Lock()
	defer d.mu.Unlock()
	type id struct{ profile, sink, key string }
	kept := map[id]bool{}
	for _, p := range d.kept {
		kept[id{p.Alert.Profile, p.Sink, p.Alert.Key}] = true
	}
	offered := 0
	for _, profile := range slices.Sorted(maps.Keys(d.profiles)) {
		ps := d.profiles[profile]
		for _, name := range slices.Sorted(maps.Keys(ps.sinks)) {
			s := ps.sinks[name]
			undelivered := maps.Clone(s.pending)
			maps.Copy(undelivered, s.parked)
			var lost []string
			for k, a := range undelivered {
				if kept[id{profile, name, k}] {
					offered++
					continue
				}
				if _, parked := s.parked[k]; !parked {
					metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), ResultDropped).Inc()
				}
				lost = append(lost, k)
			}
			s.parked = map[string]Alert{}
			if len(lost) == 0 {
				continue
			}
			slices.Sort(lost)
			d.log.Error(nil, "Alerts lost: queued or set aside after this process last saved, and another process saved since and leads now; no process offers them again",
				"profile", profile, "sink", name, "count", len(lost), "keys", lost[:min(len(lost), maxKeysLogged)])
		}
	}
	d.log.Info("Alerts not delivered yet not kept at the stop: another process saved since and leads now; it offers those it read, which this process had loaded or saved",
		"count", offered)
}

// maxKeysLogged bounds the keys a log line of lost alerts names.
const maxKeysLogged = 100

// startWorker starts s's worker, once the dispatcher has started. Called with d.mu held.
func (d *Dispatcher) startWorker(s *sink) {
	if d.ctx == nil {
		return
	}
	s.stopAfter = context.AfterFunc(d.ctx, s.cancel)
	d.workers.Add(1)
	go func() {
		defer d.workers.Done()
		d.work(s)
	}()
}

// Configure sets the sinks of a profile; nil alerts removes them. Sinks that keep their name
// keep their queue and their memory of keys, and deliver with the new settings from the
// next attempt; removed sinks stop, and the alerts still queued for them are dropped.
func (d *Dispatcher) Configure(profile string, alerts *v1alpha1.Alerts) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ps := d.profiles[profile]
	if ps == nil {
		if alerts == nil {
			return
		}
		ps = &profileSinks{sinks: map[string]*sink{}}
		d.profiles[profile] = ps
	}
	wanted := map[string]v1alpha1.AlertSink{}
	if alerts != nil {
		ps.minSeverity = alerts.MinSeverity
		if ps.minSeverity == "" {
			ps.minSeverity = v1alpha1.SeverityHigh
		}
		for _, c := range alerts.Sinks {
			wanted[c.Name] = *c.DeepCopy()
		}
	}
	for name, s := range ps.sinks {
		if _, ok := wanted[name]; !ok {
			d.removeSink(s)
			delete(ps.sinks, name)
		}
	}
	for name, c := range wanted {
		if s := ps.sinks[name]; s != nil {
			s.cfg = c
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		s := &sink{
			profile: profile, name: name, cfg: c,
			queue: make(chan Alert, d.opts.QueueSize), keys: newRecentKeys(d.opts.DedupeSize),
			queued: map[string]int{}, parked: map[string]Alert{},
			ctx: ctx, cancel: cancel,
		}
		s.pending, s.late = map[string]Alert{}, map[string]bool{}
		ps.sinks[name] = s
		d.setLate(s)
		for _, p := range d.restored[profile][name] {
			d.restore(s, p)
		}
		delete(d.restored[profile], name)
		d.startWorker(s)
		d.offer(s)
		d.log.V(1).Info("Alert sink configured", "profile", profile, "sink", name, "type", c.Type)
	}
	if alerts == nil {
		delete(d.restored, profile) // its sinks are gone
	} else {
		for name := range d.restored[profile] {
			if _, ok := wanted[name]; !ok {
				delete(d.restored[profile], name)
			}
		}
	}
	if len(ps.sinks) == 0 {
		delete(d.profiles, profile)
	}
}

// removeSink stops s and drops what it still had queued. Called with d.mu held, so no Send
// adds to the queue meanwhile.
func (d *Dispatcher) removeSink(s *sink) {
	s.cancel()
	if s.stopAfter != nil {
		s.stopAfter()
	}
	dropped := 0
drain:
	for {
		select {
		case a := <-s.queue:
			dropped++
			metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), ResultDropped).Inc()
		default:
			break drain
		}
	}
	// Those set aside were counted when they were.
	dropped += len(s.parked)
	s.parked = map[string]Alert{}
	s.pending = map[string]Alert{}
	s.late = map[string]bool{}
	metrics.AlertsPending.DeleteLabelValues(s.profile, s.name)
	d.log.Info("Alert sink removed", "profile", s.profile, "sink", s.name, "droppedAlerts", dropped)
}

// Send queues a for each sink of a.Profile whose events include a.Event (and, for
// NewFinding, when a.Severity is at least the profile's minSeverity), and returns at once. A
// sink that already has a.Key, delivered or on its way, does not get it again. A sink whose
// queue is full, or holds its share of alerts of a.Namespace already (a tenant's burst must not
// crowd out other namespaces' alerts), sets it aside for Retry. An empty Time is the current
// time; an empty Key is DefaultKey(a).
func (d *Dispatcher) Send(a Alert) {
	if a.Time.IsZero() {
		a.Time = d.opts.Clock.Now()
	}
	if a.Key == "" {
		a.Key = DefaultKey(a)
	}
	a.Criteria = slices.Clone(a.Criteria) // the caller may reuse its slice
	d.mu.Lock()
	defer d.mu.Unlock()
	ps := d.profiles[a.Profile]
	if ps == nil {
		d.log.V(1).Info("Alert not sent: the profile has no sinks", "profile", a.Profile, "event", a.Event, "key", a.Key)
		return
	}
	if a.Event == v1alpha1.AlertNewFinding && !engine.SeverityAtLeast(a.Severity, ps.minSeverity) {
		return
	}
	for _, s := range ps.sinks {
		if len(s.cfg.Events) > 0 && !slices.Contains(s.cfg.Events, a.Event) {
			continue
		}
		if !s.keys.add(a.Key) {
			metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), ResultDuplicate).Inc()
			d.log.V(1).Info("Alert not sent again", "profile", s.profile, "sink", s.name, "event", a.Event, "key", a.Key)
			continue
		}
		d.enqueue(s, a)
	}
}

// enqueue queues a, whose key s holds, or sets it aside (park) when s's queue is full or a's
// namespace has its share of it. Called with d.mu held.
func (d *Dispatcher) enqueue(s *sink, a Alert) bool {
	if s.queued[a.Namespace] < shareOf(cap(s.queue)) {
		select {
		case s.queue <- a:
			s.queued[a.Namespace]++
			s.pending[a.Key] = a
			return true
		default:
		}
	}
	s.keys.forget(a.Key)
	metrics.AlertsTotal.WithLabelValues(s.profile, s.name, string(a.Event), ResultDropped).Inc()
	d.park(s, a, "Alert set aside: the sink's queue is full or holds its namespace's share")
	return false
}

// shareOf is how many alerts of one namespace a queue of size n holds at most: a quarter.
func shareOf(n int) int { return max(1, n/4) }

// park sets a aside for Retry. When DedupeSize alerts are set aside already, one of them, or a,
// is dropped for good (evictable). Called with d.mu held; the caller counted a (dropped or
// failed).
func (d *Dispatcher) park(s *sink, a Alert, why string) {
	if _, ok := s.parked[a.Key]; !ok && len(s.parked) >= d.opts.DedupeSize {
		victim, ok := evictable(s.parked, a)
		if !ok {
			d.log.Info("Alert dropped: too many alerts set aside", "profile", s.profile, "sink", s.name,
				"event", a.Event, "key", a.Key, "setAside", len(s.parked))
			d.notLate(s, a.Key)
			return
		}
		delete(s.parked, victim.Key)
		d.notLate(s, victim.Key)
		d.log.Info("Alert dropped: too many alerts set aside, and another namespace's or a more severe one came", "profile", s.profile, "sink", s.name,
			"event", victim.Event, "key", victim.Key, "namespace", victim.Namespace, "setAside", len(s.parked))
	}
	s.parked[a.Key] = a
	s.late[a.Key] = true
	d.setLate(s)
	d.log.Info(why, "profile", s.profile, "sink", s.name, "event", a.Event, "namespace", a.Namespace, "key", a.Key,
		"queueSize", cap(s.queue), "setAside", len(s.parked))
}

// Retry offers again to each sink of the profile the alerts it set aside (Send, and deliveries
// that failed after the last attempt with an error another attempt may fix), as far as its
// queue has room and each namespace its share: the most severe first (alerts other than
// NewFinding with the Critical ones), then the oldest. The reconcilers call it at each full
// evaluation of the profile, so that an alert a burst or a sink's outage kept from a sink
// reaches it later rather than never.
func (d *Dispatcher) Retry(profile string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ps := d.profiles[profile]
	if ps == nil {
		return
	}
	for _, s := range ps.sinks {
		d.offer(s)
	}
}

// offer queues what s set aside, as far as its queue has room (Retry). Called with d.mu held.
func (d *Dispatcher) offer(s *sink) {
	if len(s.parked) == 0 {
		return
	}
	pending := slices.Collect(maps.Values(s.parked))
	slices.SortFunc(pending, func(a, b Alert) int {
		if c := cmp.Compare(retryRank(a), retryRank(b)); c != 0 {
			return c
		}
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	for _, a := range pending {
		if len(s.queue) == cap(s.queue) {
			break
		}
		if s.queued[a.Namespace] >= shareOf(cap(s.queue)) {
			continue
		}
		delete(s.parked, a.Key)
		if !s.keys.add(a.Key) {
			if _, ok := s.pending[a.Key]; !ok {
				d.notLate(s, a.Key) // delivered since
			}
			continue // sent again since, delivered or on its way
		}
		s.queue <- a // room checked above, under d.mu: nothing else adds to the queue
		s.queued[a.Namespace]++
		s.pending[a.Key] = a
	}
	// Those still set aside are late, those kept as queued by a previous process (restore)
	// included: they wait for another Retry.
	late := len(s.late)
	for k := range s.parked {
		s.late[k] = true
	}
	if len(s.late) != late {
		d.setLate(s)
	}
}

// evictable is the alert set aside that a, to be set aside when there is no room, takes the
// place of: the least severe, then the newest, of the namespace with the most alerts set aside
// (a tenant's burst during an outage must not keep another namespace's alerts out), if that is
// another namespace than a's and no more severe than a, or a's and less severe.
func evictable(parked map[string]Alert, a Alert) (Alert, bool) {
	counts := map[string]int{}
	for _, p := range parked {
		counts[p.Namespace]++
	}
	most := ""
	for ns, n := range counts {
		if n > counts[most] || (n == counts[most] && ns < most) {
			most = ns
		}
	}
	var victim Alert
	found := false
	for _, p := range parked {
		if p.Namespace != most {
			continue
		}
		if !found || retryRank(p) > retryRank(victim) || (retryRank(p) == retryRank(victim) &&
			(p.Time.After(victim.Time) || (p.Time.Equal(victim.Time) && p.Key > victim.Key))) {
			victim, found = p, true
		}
	}
	if !found {
		return Alert{}, false
	}
	if most == a.Namespace {
		return victim, retryRank(victim) > retryRank(a)
	}
	return victim, retryRank(victim) >= retryRank(a)
}

// retryRank orders the alerts Retry offers: NewFinding by severity, every other event with
// the Critical findings.
func retryRank(a Alert) int {
	if a.Event != v1alpha1.AlertNewFinding {
		return engine.SeverityRank(v1alpha1.SeverityCritical)
	}
	return engine.SeverityRank(a.Severity)
}

// dequeued records that s's worker took a from the queue.
func (d *Dispatcher) dequeued(s *sink, a Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.queued[a.Namespace]--; s.queued[a.Namespace] <= 0 {
		delete(s.queued, a.Namespace)
	}
}

// failed sets a, which s failed to deliver with an error another attempt may fix, aside for
// Retry.
func (d *Dispatcher) failed(s *sink, a Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.ctx.Err() != nil {
		return // removed (its alerts go with it), or stopping (pending keeps it)
	}
	delete(s.pending, a.Key)
	d.park(s, a, "Alert set aside: not delivered after the last attempt")
}

// settled records that s delivered a, or gave it up for good.
func (d *Dispatcher) settled(s *sink, a Alert) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(s.pending, a.Key)
	d.notLate(s, a.Key)
}

// notLate records that s delivered the alert of key, or no longer holds it. Called with d.mu
// held.
func (d *Dispatcher) notLate(s *sink, key string) {
	if s.late[key] {
		delete(s.late, key)
		d.setLate(s)
	}
}

// setLate exports how many alerts s set aside, or was kept, and has not delivered (late),
// unless s was removed (removeSink deleted its series). Called with d.mu held.
func (d *Dispatcher) setLate(s *sink) {
	if d.sinkOf(s.profile, s.name) != s {
		return
	}
	metrics.AlertsPending.WithLabelValues(s.profile, s.name).Set(float64(len(s.late)))
}

// config is s's current configuration.
func (d *Dispatcher) config(s *sink) v1alpha1.AlertSink {
	d.mu.Lock()
	defer d.mu.Unlock()
	return s.cfg
}
