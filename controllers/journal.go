package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// journalHook turns what the reconcilers compute into journal records: findings opened, closed
// and excepted, exception life cycles, profile versions, report results and criterion changes,
// and a periodic attestation per profile and namespace. It remembers the state the journal
// describes (restored from the journal when this replica becomes leader), so a restart or a
// failover neither repeats nor loses a transition. A nil hook does nothing (journal off).
//
// It never blocks an evaluation: records go to the journal's bounded queue. Only before the
// state is restored does the first evaluation wait, at most restoreWait.
type journalHook struct {
	queue    *journal.Queue
	clock    clock.PassiveClock
	interval time.Duration

	mu         sync.Mutex
	restored   bool
	profiles   map[string]journal.ProfileSpec
	namespaces map[nsKey]*nsTrack
	exceptions map[string]*exTrack
}

// restoreWait bounds how long the first evaluation after start waits for the journal's state.
const restoreWait = 30 * time.Second

type nsKey struct{ profile, namespace string }

// nsTrack is what the journal says about one namespace under one profile.
type nsTrack struct {
	result   string
	criteria map[string]string
	open     map[string]journal.Finding // by Finding.Key; Exception set when excepted
	// From the latest evaluation since this process started (for attestations).
	observed    bool
	checks      []journal.CheckPopulation
	populations [][]string
	inForce     []journal.Exception
}

type exTrack struct {
	namespace, name string
	approved, ended bool
}

func newJournalHook(q *journal.Queue, c clock.PassiveClock, interval time.Duration) *journalHook {
	if q == nil {
		return nil
	}
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	h := &journalHook{queue: q, clock: c, interval: interval,
		profiles: map[string]journal.ProfileSpec{}, namespaces: map[nsKey]*nsTrack{}, exceptions: map[string]*exTrack{}}
	q.SetRestore(h.Restore)
	return h
}

// ready waits (bounded) until the state was restored from the journal.
func (h *journalHook) ready() bool {
	h.mu.Lock()
	ok := h.restored
	h.mu.Unlock()
	if ok {
		return true
	}
	select {
	case <-h.queue.Ready():
	case <-time.After(restoreWait):
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.restored
}

func (h *journalHook) track(profile, ns string) *nsTrack {
	k := nsKey{profile, ns}
	t := h.namespaces[k]
	if t == nil {
		t = &nsTrack{criteria: map[string]string{}, open: map[string]journal.Finding{}}
		h.namespaces[k] = t
	}
	return t
}

// Restore rebuilds the state from the journal's recent records: everything since the latest
// attestations (two intervals back from the last record), in order.
func (h *journalHook) Restore(ctx context.Context, store journal.Store, w *journal.Writer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.profiles = map[string]journal.ProfileSpec{}
	h.namespaces = map[nsKey]*nsTrack{}
	h.exceptions = map[string]*exTrack{}
	var from time.Time
	if last := w.Last(); !last.IsZero() {
		from = last.Add(-2*h.interval - time.Hour)
	}
	_, err := journal.Scan(ctx, store, journal.ScanOptions{Cluster: w.Cluster(), From: from, OnRecord: func(line []byte) error {
		var r journal.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		h.apply(&r)
		return nil
	}})
	if err != nil {
		return err
	}
	h.restored = true
	return nil
}

// apply updates the state with a record read back from the journal.
func (h *journalHook) apply(r *journal.Record) {
	switch r.Type {
	case journal.ProfileCreated, journal.ProfileChanged:
		if r.Spec != nil {
			h.profiles[r.Profile] = *r.Spec
		}
	case journal.ProfileDeleted:
		delete(h.profiles, r.Profile)
	case journal.FindingOpened, journal.FindingExcepted, journal.FindingUnexcepted:
		if r.Finding != nil {
			f := *r.Finding
			if r.Type != journal.FindingExcepted {
				f.Exception = ""
			}
			if prev, ok := h.track(r.Profile, r.Namespace).open[f.Key]; ok && !prev.FirstSeen.IsZero() {
				f.FirstSeen = prev.FirstSeen
			}
			h.track(r.Profile, r.Namespace).open[f.Key] = f
		}
	case journal.FindingClosed:
		if r.Finding != nil {
			delete(h.track(r.Profile, r.Namespace).open, r.Finding.Key)
		}
	case journal.CriterionChanged:
		if r.Criterion != nil {
			h.track(r.Profile, r.Namespace).criteria[r.Criterion.Criterion] = r.Criterion.To
		}
	case journal.ReportResult:
		if r.Report != nil {
			h.track(r.Profile, r.Namespace).result = r.Report.Result
		}
	case journal.Attestation:
		if a := r.Attestation; a != nil {
			t := h.track(r.Profile, r.Namespace)
			for _, c := range a.Criteria {
				t.criteria[c.Criterion] = c.State
			}
			t.open = map[string]journal.Finding{}
			for _, f := range a.Open {
				t.open[f.Key] = f
			}
		}
	case journal.ExceptionRequested, journal.ExceptionApproved, journal.ExceptionExpired, journal.ExceptionRevoked:
		if r.Exception != nil {
			k := engine.ExceptionKey(r.Namespace, r.Exception.Name)
			e := h.exceptions[k]
			if e == nil {
				e = &exTrack{namespace: r.Namespace, name: r.Exception.Name}
				h.exceptions[k] = e
			}
			switch r.Type {
			case journal.ExceptionApproved:
				e.approved = true
			case journal.ExceptionExpired, journal.ExceptionRevoked:
				e.ended = true
			}
		}
	}
}

// firstSeen asks next (the process's memory) first, then the journal: a finding still open in
// the journal keeps its first-seen time across a deleted report and an operator restart.
func (h *journalHook) firstSeen(profile, ns string, next report.FirstSeenLookup) report.FirstSeenLookup {
	if h == nil {
		return next
	}
	return func(f *v1alpha1.Finding) (time.Time, bool) {
		if next != nil {
			if t, ok := next(f); ok {
				return t, true
			}
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		t := h.namespaces[nsKey{profile, ns}]
		if t == nil {
			return time.Time{}, false
		}
		open, ok := t.open[journalKey(f)]
		return open.FirstSeen, ok && !open.FirstSeen.IsZero()
	}
}

// profileSeen records a profile the journal does not know, or whose spec changed.
func (h *journalHook) profileSeen(p *v1alpha1.ComplianceProfile) {
	if h == nil || !h.ready() {
		return
	}
	b, err := json.Marshal(p.Spec)
	if err != nil {
		return
	}
	sum := sha256.Sum256(b)
	spec := journal.ProfileSpec{Generation: p.Generation, SHA256: hex.EncodeToString(sum[:])}
	h.mu.Lock()
	prev, known := h.profiles[p.Name]
	if known && prev.SHA256 == spec.SHA256 {
		h.mu.Unlock()
		return
	}
	h.profiles[p.Name] = spec
	h.mu.Unlock()
	typ, at := journal.ProfileChanged, specChangeTime(p, h.clock.Now())
	if !known && p.Generation <= 1 {
		typ, at = journal.ProfileCreated, p.CreationTimestamp.Time
	}
	h.queue.Add(journal.Record{Type: typ, Time: at, Profile: p.Name, Spec: &spec})
}

// specChangeTime is when the spec was last written, from managedFields (the same for every
// replica, so two leaders write the same record), else now.
func specChangeTime(p *v1alpha1.ComplianceProfile, now time.Time) time.Time {
	var t time.Time
	for _, m := range p.ManagedFields {
		if m.Subresource == "" && m.Time != nil && m.Time.After(t) {
			t = m.Time.Time
		}
	}
	if t.IsZero() {
		return now
	}
	return t
}

func (h *journalHook) profileDeleted(name string) {
	if h == nil || !h.ready() {
		return
	}
	h.mu.Lock()
	_, known := h.profiles[name]
	delete(h.profiles, name)
	for k := range h.namespaces {
		if k.profile == name {
			delete(h.namespaces, k)
		}
	}
	h.mu.Unlock()
	if known {
		h.queue.Add(journal.Record{Type: journal.ProfileDeleted, Time: h.clock.Now(), Profile: name})
	}
}

// forgetNamespace: the profile no longer selects the namespace; its open findings close.
func (h *journalHook) forgetNamespace(profile, ns string) {
	if h == nil || !h.ready() {
		return
	}
	now := h.clock.Now()
	h.mu.Lock()
	t := h.namespaces[nsKey{profile, ns}]
	delete(h.namespaces, nsKey{profile, ns})
	h.mu.Unlock()
	if t == nil {
		return
	}
	for _, k := range sortedFindingKeys(t.open) {
		f := t.open[k]
		h.queue.Add(journal.Record{Type: journal.FindingClosed, Time: now, Profile: profile, Namespace: ns, Finding: &f})
	}
}

// observe records the transitions of one namespace's evaluation against what the journal says.
// shown are the findings the report lists (their first-seen times are the report's).
func (h *journalHook) observe(ctx context.Context, profile string, ns string, ev *engine.Evaluation, shown []v1alpha1.Finding, now time.Time) {
	if h == nil || !h.ready() {
		return
	}
	sum := ev.Summary(ns)
	reportFirstSeen := make(map[string]time.Time, len(shown))
	for i := range shown {
		f := &shown[i]
		if f.FirstSeen != nil {
			reportFirstSeen[journalKey(f)] = f.FirstSeen.Time
		}
	}
	current := make(map[string]journal.Finding, len(sum.Findings))
	for _, r := range sum.Findings {
		if r.Object == nil {
			continue
		}
		f := journal.Finding{
			Key:   journal.FindingKey(r.Check.ID, r.Object.Kind, r.Object.Name, r.Container),
			Check: r.Check.ID, Severity: string(r.Check.Severity), Kind: r.Object.Kind, Name: r.Object.Name,
			Container: r.Container, Message: engine.TruncateTo(r.Message, 256),
		}
		for _, c := range r.Check.Criteria {
			f.Criteria = append(f.Criteria, string(c))
		}
		if r.Status == engine.StatusExcepted && r.Exception != nil {
			f.Exception = r.Exception.Key
		}
		current[f.Key] = f
	}

	h.mu.Lock()
	t := h.track(profile, ns)
	var recs []journal.Record
	add := func(typ journal.Type, at time.Time, f journal.Finding) {
		recs = append(recs, journal.Record{Type: typ, Time: at, Profile: profile, Namespace: ns, Finding: &f})
	}
	for _, k := range sortedFindingKeys(current) {
		f := current[k]
		prev, open := t.open[k]
		switch {
		case !open:
			// The report's first-seen time (kept across evaluations and by a new leader) makes
			// the record the same whichever replica writes it.
			f.FirstSeen = now.UTC().Truncate(time.Second) // as the report shows it
			if fs, ok := reportFirstSeen[k]; ok {
				f.FirstSeen = fs
			}
			opened := f
			opened.Exception = ""
			add(journal.FindingOpened, f.FirstSeen, opened)
			if f.Exception != "" {
				add(journal.FindingExcepted, now, f)
			}
		case prev.Exception != f.Exception:
			f.FirstSeen = prev.FirstSeen
			if f.Exception != "" {
				add(journal.FindingExcepted, now, f)
			} else {
				add(journal.FindingUnexcepted, now, f)
			}
		default:
			f.FirstSeen = prev.FirstSeen
		}
		current[k] = f
	}
	for _, k := range sortedFindingKeys(t.open) {
		if _, still := current[k]; !still {
			add(journal.FindingClosed, now, t.open[k])
		}
	}
	t.open = current

	for _, c := range sum.Criteria {
		id, state := string(c.ID), string(c.Status)
		if t.criteria[id] != state {
			recs = append(recs, journal.Record{Type: journal.CriterionChanged, Time: now, Profile: profile, Namespace: ns,
				Criterion: &journal.CriterionChange{Criterion: id, From: t.criteria[id], To: state}})
			t.criteria[id] = state
		}
	}
	if result := string(sum.State); t.result != result {
		recs = append(recs, journal.Record{Type: journal.ReportResult, Time: now, Profile: profile, Namespace: ns,
			Report: &journal.Report{Result: result, Score: sum.Score, Failing: sum.Failing, Excepted: sum.Excepted}})
		t.result = result
	}

	// What the next attestation states: each check's population and the exceptions in force.
	t.observed = true
	t.checks, t.populations = populations(ev.Plan, sum)
	t.inForce = t.inForce[:0]
	for _, o := range ev.Exceptions {
		if o.AppliesTo && o.State == v1alpha1.ExceptionActive && o.Selects(ns) {
			t.inForce = append(t.inForce, exceptionRecord(o, o.MatchedByNamespace[ns]))
		}
	}
	recs = append(recs, h.exceptionTransitions(ev.Exceptions, now)...)
	h.mu.Unlock()
	// The report is written after its transitions are in the journal (a leader that dies in
	// between leaves nothing for its successor to miss); never longer than journalWait, and
	// not at all while the journal is behind.
	h.queue.AddAndWait(ctx, journalWait, recs...)
}

// journalWait bounds how long an evaluation waits for its transitions to be journaled.
const journalWait = 5 * time.Second

// exceptionTransitions records exceptions requested, approved, expired and revoked (deleted
// before they expired). Times come from the object where it has them (creation, expiry), so a
// new leader writes the same records.
func (h *journalHook) exceptionTransitions(outcomes []*engine.ExceptionOutcome, now time.Time) []journal.Record {
	var recs []journal.Record
	seen := make(map[string]bool, len(outcomes))
	for _, o := range outcomes {
		ex := o.Exception
		if ex == nil || seen[o.Key] {
			continue
		}
		seen[o.Key] = true
		e := h.exceptions[o.Key]
		rec := func(typ journal.Type, at time.Time) {
			body := exceptionRecord(o, o.Matched)
			recs = append(recs, journal.Record{Type: typ, Time: at, Namespace: ex.Namespace, Exception: &body})
		}
		if e == nil {
			e = &exTrack{namespace: ex.Namespace, name: ex.Name}
			h.exceptions[o.Key] = e
			rec(journal.ExceptionRequested, ex.CreationTimestamp.Time)
		}
		// Approved: an approval the operator trusts (checked by the API server's admission
		// policies), at the time the operator first observed it (status.approvedAt).
		if !e.approved && o.ApprovedBy != "" {
			e.approved = true
			at := now
			if ex.Status.ApprovedBy == o.ApprovedBy && ex.Status.ApprovedAt != nil {
				at = ex.Status.ApprovedAt.Time
			}
			rec(journal.ExceptionApproved, at)
		}
		if !e.ended && o.State == v1alpha1.ExceptionExpired {
			e.ended = true
			rec(journal.ExceptionExpired, ex.Spec.Expires.Time)
		}
	}
	for k, e := range h.exceptions {
		if !seen[k] && !e.ended {
			e.ended = true
			recs = append(recs, journal.Record{Type: journal.ExceptionRevoked, Time: now, Namespace: e.namespace, Exception: &journal.Exception{Name: e.name}})
		}
	}
	return recs
}

// exceptionRecord is the exception as the API server recorded it: requestedBy set by the
// admission policy, approvedBy only where the operator trusts the approval.
func exceptionRecord(o *engine.ExceptionOutcome, findings int) journal.Exception {
	ex := o.Exception
	e := journal.Exception{
		Name: ex.Name, RequestedBy: ex.Spec.RequestedBy, ApprovedBy: o.ApprovedBy, Owner: ex.Spec.Owner,
		Reason: ex.Spec.Reason, Ticket: ex.Spec.Ticket, Checks: ex.Spec.Checks,
		Created: ex.CreationTimestamp.Time, Expires: ex.Spec.Expires.Time, Findings: findings,
	}
	for _, c := range ex.Spec.Criteria {
		e.Criteria = append(e.Criteria, string(c))
	}
	return e
}

// populations are what each check judged in the namespace: count, digest and the list (each
// distinct list once).
func populations(plan *engine.Plan, sum *engine.Summary) ([]journal.CheckPopulation, [][]string) {
	var checks []journal.CheckPopulation
	var lists [][]string
	index := map[string]int{}
	for _, c := range plan.Checks {
		if c.ManifestOnly {
			continue
		}
		list := sum.Population(c)
		digest := journal.PopulationDigest(list)
		i, ok := index[digest]
		if !ok {
			i = len(lists)
			index[digest] = i
			lists = append(lists, list)
		}
		_, fail, excepted := sum.CheckCounts(c)
		checks = append(checks, journal.CheckPopulation{Check: c.ID, Count: len(list), SHA256: digest, Population: i, Failed: fail, Excepted: excepted})
	}
	return checks, lists
}

// attest writes an attestation for every namespace evaluated since this process started.
func (h *journalHook) attest(now time.Time) {
	h.mu.Lock()
	var recs []journal.Record
	keys := make([]nsKey, 0, len(h.namespaces))
	for k := range h.namespaces {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].profile != keys[j].profile {
			return keys[i].profile < keys[j].profile
		}
		return keys[i].namespace < keys[j].namespace
	})
	for _, k := range keys {
		t := h.namespaces[k]
		if !t.observed {
			continue
		}
		body := &journal.AttestationBody{Checks: t.checks, Populations: t.populations, Exceptions: append([]journal.Exception(nil), t.inForce...)}
		crit := make([]string, 0, len(t.criteria))
		for c := range t.criteria {
			crit = append(crit, c)
		}
		sort.Strings(crit)
		for _, c := range crit {
			body.Criteria = append(body.Criteria, journal.CriterionState{Criterion: c, State: t.criteria[c]})
		}
		for _, fk := range sortedFindingKeys(t.open) {
			body.Open = append(body.Open, t.open[fk])
		}
		recs = append(recs, journal.Record{Type: journal.Attestation, Time: now, Profile: k.profile, Namespace: k.namespace, Attestation: body})
	}
	h.mu.Unlock()
	h.queue.Add(recs...)
}

// Start attests every interval, the first time a minute (at most an interval) after the state
// was restored, when the first full evaluations are done.
func (h *journalHook) Start(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-h.queue.Ready():
	}
	next := min(time.Minute, h.interval)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next):
			h.attest(h.clock.Now())
			next = h.interval
		}
	}
}

// NeedLeaderElection: only the leader attests.
func (h *journalHook) NeedLeaderElection() bool { return true }

// setCondition sets the profile's JournalBehind condition from the queue's status.
func (h *journalHook) setCondition(conds *[]metav1.Condition, generation int64) {
	if h == nil {
		return
	}
	behind, since, dropped, err := h.queue.Status()
	c := metav1.Condition{Type: v1alpha1.ConditionJournalBehind, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonJournalUpToDate,
		ObservedGeneration: generation, Message: "Every transition is written to the evidence journal"}
	if behind {
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonJournalStoreUnwritable
		c.Message = "The evidence journal's store cannot be written since " + since.UTC().Format(time.RFC3339) + "; records wait in a bounded queue"
		if dropped > 0 {
			c.Message += " (" + itoa(dropped) + " dropped; the gap will be recorded)"
		}
		if err != nil {
			c.Message += ": " + engine.TruncateTo(err.Error(), 512)
		}
	}
	meta.SetStatusCondition(conds, c)
}

// journalKey is the journal's key of a report's finding (a namespace's journal records
// need no namespace).
func journalKey(f *v1alpha1.Finding) string {
	return journal.FindingKey(f.Check, f.Resource.Kind, f.Resource.Name, f.Container)
}

func sortedFindingKeys(m map[string]journal.Finding) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
