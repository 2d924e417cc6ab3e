package controllers

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
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
// state is restored do the first evaluations wait, at most restoreWait in all from the first;
// after that, while the store cannot be read, evaluations go on and journal nothing (the
// profiles say JournalBehind, and the journal, once open, shows that time as unobserved: after
// its observation gap, a state is known again only once a record states it).
//
// This file holds the state and its restore; the records are written by journal_findings.go
// (findings, criteria, report results), journal_exceptions.go, journal_profiles.go and
// journal_attest.go.
type journalHook struct {
	queue    *journal.Queue
	clock    clock.Clock // attestations wait on it: tests step a fake one
	interval time.Duration

	mu       sync.Mutex
	restored bool
	// waitUntil ends the wait for the restore (ready): restoreWait after the first call, by
	// the wall clock (a bound on I/O, not a time the journal records); zero before.
	waitUntil time.Time
	profiles  map[string]journal.ProfileSpec
	// selected are the namespaces each profile selected at its latest full evaluation since
	// this process started (sorted), which its profile.attested records state.
	selected   map[string][]string
	namespaces map[nsKey]*nsTrack
	exceptions map[string]*exTrack
	// left are the namespaces this process journaled as left lately (markLeft), when.
	left map[nsKey]time.Time
}

// restoreWait bounds how long the first evaluation after start waits for the journal's state.
const restoreWait = 30 * time.Second

type nsKey struct{ profile, namespace string }

// nsTrack is what the journal says about one namespace under one profile.
type nsTrack struct {
	result   string
	criteria map[string]journal.CriterionState // by criterion
	open     map[string]journal.Finding        // by Finding.Key; Exception set when excepted
	// closedSeen are the first-seen times of the findings the journal closed (this process, or
	// one before it, read back by Restore), by Finding.Key, while the report may still show them:
	// one failing again must not be opened with the first-seen time of the one that closed, in
	// the same second or from a report not written since (see observe).
	closedSeen map[string]time.Time
	// leftSince are, by Finding.Key, when the findings the journal closed without remediation
	// (not-assessed, out-of-scope, resource-gone, reassessed, moved) were first seen failing
	// (Finding.Since, or FirstSeen): a finding of the check on the resource opening again is
	// journaled failing since then (takeSince).
	leftSince map[string]time.Time
	// known is when the latest evaluation the journal describes (this process's, or the
	// latest attestation read back) found open exactly the findings of open then: a report
	// showing a finding first seen before it that it did not hold open shows an ended episode.
	// Zero when not known.
	known time.Time
	// uid is the Namespace object's UID, as the latest evaluation or attestation the journal
	// describes says ("": not known, as in journals written before attestations said it).
	uid string
	// From the latest evaluation since this process started (for attestations): when it was,
	// and the profile's evaluation interval then.
	observed    bool
	evaluated   time.Time
	every       time.Duration
	checks      []journal.CheckPopulation
	populations [][]string
	inForce     []journal.Exception
	// judged is what the latest evaluation the journal describes judged under (restored from
	// the journal: the profile's version and the catalogue of the operator that wrote it): every
	// open finding was reported by it, so a finding the next evaluation no longer reports under
	// another profile version or catalogue may have closed by that change alone.
	judged judgement
}

// judgement is what an evaluation judged under: the profile's version and the check catalogue.
type judgement struct {
	profile   journal.ProfileSpec
	catalogue string
}

// spec is the profile's version for a record that states what was judged under it (nil when not
// known).
func (j judgement) spec() *journal.ProfileSpec {
	if j.profile.SHA256 == "" {
		return nil
	}
	spec := j.profile
	return &spec
}

// reassessed says what changed from j to next that can change a verdict with nothing changed in
// the cluster: the profile's spec, the check catalogue, or both; "" when neither did, or where
// either side is not known.
func (j judgement) reassessed(next judgement) string {
	return journal.Reassessed(j.profile, next.profile, j.catalogue, next.catalogue)
}

type exTrack struct {
	namespace, name string
	// created is the object's creation time: another object under the same name (deleted
	// and created again) is another exception.
	created time.Time
	// expires is the exception's expiry as last seen (zero: not known): one that is gone once
	// it passed expired, whenever it was deleted.
	expires         time.Time
	approved, ended bool
	// approvedGen is the generation whose approval was recorded (0: not known).
	approvedGen int64
	// spec is the digest of the spec the journal describes ("": not known), of the object's
	// generation specGen (0: not known): a spec that has not changed is not encoded again.
	spec    string
	specGen int64
}

func newJournalHook(q *journal.Queue, c clock.Clock, interval time.Duration) *journalHook {
	if q == nil {
		return nil
	}
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	h := &journalHook{queue: q, clock: c, interval: interval,
		profiles: map[string]journal.ProfileSpec{}, selected: map[string][]string{}, namespaces: map[nsKey]*nsTrack{}, exceptions: map[string]*exTrack{}}
	q.SetRestore(h.Restore)
	return h
}

// ready says whether the state was restored from the journal, waiting for it until restoreWait
// after the first call: every later call while the store is unreadable returns at once, so that
// an unreachable store cannot hold up each evaluation of each namespace by restoreWait.
func (h *journalHook) ready() bool {
	h.mu.Lock()
	if h.restored {
		h.mu.Unlock()
		return true
	}
	if h.waitUntil.IsZero() {
		h.waitUntil = time.Now().Add(restoreWait)
	}
	wait := time.Until(h.waitUntil)
	h.mu.Unlock()
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-h.queue.Ready():
		case <-timer.C:
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.restored
}

func (h *journalHook) track(profile, ns string) *nsTrack {
	k := nsKey{profile, ns}
	t := h.namespaces[k]
	if t == nil {
		t = &nsTrack{criteria: map[string]journal.CriterionState{}, open: map[string]journal.Finding{}}
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
	catalogue := "" // of the operator whose records these are, as its operator.* records say
	_, err := journal.Scan(ctx, store, journal.ScanOptions{Cluster: w.Cluster(), From: from, OnRecord: func(line []byte) error {
		var r journal.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if r.Operator != nil {
			catalogue = r.Operator.Catalogue
		}
		h.apply(&r)
		if r.Namespace != "" && r.Profile != "" {
			if t := h.namespaces[nsKey{r.Profile, r.Namespace}]; t != nil {
				t.judged = judgement{profile: h.profiles[r.Profile], catalogue: catalogue}
			}
		}
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
	case journal.ProfileCreated, journal.ProfileChanged, journal.ProfileAttested:
		if r.Spec != nil {
			h.profiles[r.Profile] = *r.Spec
		}
	case journal.ProfileDeleted:
		delete(h.profiles, r.Profile)
	case journal.NamespaceLeft:
		delete(h.namespaces, nsKey{r.Profile, r.Namespace})
	case journal.FindingOpened, journal.FindingExcepted, journal.FindingUnexcepted:
		if r.Finding != nil {
			f := *r.Finding
			if r.Type != journal.FindingExcepted {
				f.Exception = ""
			}
			if prev, ok := h.track(r.Profile, r.Namespace).open[f.Key]; ok && !prev.FirstSeen.IsZero() {
				f.FirstSeen, f.Since = prev.FirstSeen, prev.Since
			} else if r.Type == journal.FindingOpened && !f.Since.IsZero() {
				h.track(r.Profile, r.Namespace).takeSince(&f) // taken by this opening
			}
			h.track(r.Profile, r.Namespace).open[f.Key] = f
		}
	case journal.FindingClosed:
		if r.Finding != nil {
			t := h.track(r.Profile, r.Namespace)
			delete(t.open, r.Finding.Key)
			t.noteClosed(r.Finding)
			// The report may still show the episode (its process stopped before writing it):
			// a finding failing again is not first seen then (observe).
			if !r.Finding.FirstSeen.IsZero() {
				if t.closedSeen == nil {
					t.closedSeen = map[string]time.Time{}
				}
				t.closedSeen[r.Finding.Key] = r.Finding.FirstSeen
			}
		}
	case journal.CriterionChanged:
		if r.Criterion != nil {
			c := r.Criterion
			h.track(r.Profile, r.Namespace).criteria[c.Criterion] = journal.CriterionState{Criterion: c.Criterion, State: c.To, Unassessed: c.Unassessed,
				Undecided: c.Undecided}
		}
	case journal.ReportResult:
		if r.Report != nil {
			h.track(r.Profile, r.Namespace).result = r.Report.Result
		}
	case journal.Attestation:
		if a := r.Attestation; a != nil {
			t := h.track(r.Profile, r.Namespace)
			for _, c := range a.Criteria {
				t.criteria[c.Criterion] = c
			}
			if a.NamespaceUID != "" {
				t.uid = a.NamespaceUID
			}
			t.known = r.Time
			if !a.Evaluated.IsZero() && a.Evaluated.Before(r.Time) {
				t.known = a.Evaluated
			}
			t.open = map[string]journal.Finding{}
			for _, f := range a.Open {
				t.open[f.Key] = f
			}
			h.applyInForce(r.Namespace, a.Exceptions)
		}
	case journal.ExceptionRequested, journal.ExceptionApproved, journal.ExceptionExpired, journal.ExceptionRevoked, journal.ExceptionChanged:
		if r.Exception != nil {
			k := engine.ExceptionKey(r.Namespace, r.Exception.Name)
			e := h.exceptions[k]
			created := r.Exception.Created
			if e != nil && !created.IsZero() && !e.created.IsZero() && !created.Equal(e.created) {
				if r.Type == journal.ExceptionRevoked {
					break // the end of an earlier object under the same name
				}
				e = nil // another object under the same name
			}
			if e == nil {
				e = &exTrack{namespace: r.Namespace, name: r.Exception.Name, created: created}
				h.exceptions[k] = e
			}
			if e.created.IsZero() {
				e.created = created
			}
			if r.Exception.SpecSHA256 != "" {
				e.spec = r.Exception.SpecSHA256
			}
			if !r.Exception.Expires.IsZero() {
				e.expires = r.Exception.Expires
			}
			switch r.Type {
			case journal.ExceptionApproved:
				e.approved, e.approvedGen = true, r.Exception.Generation
				e.ended = false
			case journal.ExceptionExpired, journal.ExceptionRevoked:
				e.ended = true
			case journal.ExceptionChanged:
				if e.ended && r.Exception.Expires.After(r.Time) {
					e.ended = false // extended after it expired
				}
			}
		}
	}
}

// noteClosed notes a finding the journal closed: one closed without remediation was failing since
// its Since (or FirstSeen), which a finding of its check on its resource opening again takes.
func (t *nsTrack) noteClosed(f *journal.Finding) {
	if f.CloseReason == "" || f.CloseReason == journal.CloseResolved || f.CloseReason == journal.CloseMoved {
		delete(t.leftSince, f.Key) // remediated; or moved, its time given to where it moved (movedSince)
		return
	}
	since := f.Since
	if since.IsZero() || (!f.FirstSeen.IsZero() && f.FirstSeen.Before(since)) {
		since = f.FirstSeen
	}
	if since.IsZero() {
		return
	}
	if t.leftSince == nil {
		t.leftSince = map[string]time.Time{}
	}
	t.leftSince[f.Key] = since
}

// takeSince sets f.Since from the findings of its check on its resource that closed without
// remediation (leftSince): its own key's, or else the earliest of another container's (renamed
// meanwhile), which it takes. f.Since stays as it is when it is earlier, or none is known.
func (t *nsTrack) takeSince(f *journal.Finding) {
	prefix := journal.FindingKey(f.Check, f.IdentityKind(), f.Name, "")
	taken, since, ok := f.Key, time.Time{}, false
	if s, own := t.leftSince[f.Key]; own {
		since, ok = s, true
	} else {
		for k, s := range t.leftSince {
			if strings.HasPrefix(k, prefix) && (!ok || s.Before(since) || (s.Equal(since) && k < taken)) {
				taken, since, ok = k, s, true
			}
		}
	}
	if !ok {
		return
	}
	delete(t.leftSince, taken)
	if since.Before(f.FirstSeen) && (f.Since.IsZero() || since.Before(f.Since)) {
		f.Since = since
	}
}

// applyInForce restores the exceptions an attestation of namespace ns states in force, where the
// records read do not describe them (requested longer ago than what Restore reads): unknown, the
// next evaluation journaled each again as requested, dated when it was created, with the spec it
// has now, in a segment whose time range reached back to then, so that the evidence pack of that
// past period, built after the restart, showed today's spec as the one requested then.
func (h *journalHook) applyInForce(ns string, inForce []journal.Exception) {
	for i := range inForce {
		x := &inForce[i]
		exNS := ns
		if x.Namespace != "" {
			exNS = x.Namespace // the operator's, in force in ns
		}
		k := engine.ExceptionKey(exNS, x.Name)
		if e := h.exceptions[k]; e != nil && (x.Created.IsZero() || e.created.IsZero() || e.created.Equal(x.Created)) {
			continue // described by its records
		}
		e := &exTrack{namespace: exNS, name: x.Name, created: x.Created, expires: x.Expires, spec: x.SpecSHA256}
		if x.ApprovedBy != "" {
			e.approved, e.approvedGen = true, x.Generation
		}
		h.exceptions[k] = e
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
		if group := engine.IdentityGroup(f.Resource.APIVersion); !ok && group != "" {
			// Open under the key without its group (see keepUngroupedKeys).
			open, ok = t.open[journal.FindingKey(f.Check, f.Resource.Kind, f.Resource.Name, f.Container)]
			ok = ok && open.Group == group
		}
		if ok && !open.Since.IsZero() && open.Since.Before(open.FirstSeen) {
			return open.Since, true // failing since one that ended without remediation
		}
		return open.FirstSeen, ok && !open.FirstSeen.IsZero()
	}
}

// failing are the keys (journal.FindingKey) of the namespace's findings that the journal holds
// open and not excepted: those failing at the latest evaluation it describes, before a restart
// as after. ok is false when it cannot say (journal off or not restored, or no record of the
// namespace under the profile).
func (h *journalHook) failing(profile, ns string) (keys map[string]bool, ok bool) {
	if h == nil || !h.ready() {
		return nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.namespaces[nsKey{profile, ns}]
	if t == nil {
		return nil, false
	}
	keys = make(map[string]bool, len(t.open))
	for k, f := range t.open {
		if f.Exception == "" {
			keys[k] = true
		}
	}
	return keys, true
}

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
	h.setRewoundCondition(conds, generation)
}

// journalKey is the journal's key of a report's finding (a namespace's journal records
// need no namespace), its kind with its group where that is not one of Kubernetes' own.
func journalKey(f *v1alpha1.Finding) string {
	return journal.FindingKey(f.Check, engine.IdentityKind(f.Resource.APIVersion, f.Resource.Kind), f.Resource.Name, f.Container)
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
