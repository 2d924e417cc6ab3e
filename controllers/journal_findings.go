package controllers

import (
	"context"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// observe records the transitions of one namespace's evaluation against what the journal says.
// shown are the findings the report lists (their first-seen times are the report's, and a time
// of an episode the journal saw end is replaced with the one journaled); every is
// the profile's evaluation interval; uid the Namespace object's UID ("": not known).
func (h *journalHook) observe(ctx context.Context, profile string, every time.Duration, ns, uid string, ev *engine.Evaluation, shown []v1alpha1.Finding, now time.Time) {
	if h == nil || !h.ready() {
		return
	}
	sum := ev.Summary(ns)
	reportFirstSeen := make(map[string]time.Time, len(shown))
	shownAt := make(map[string]int, len(shown))
	for i := range shown {
		f := &shown[i]
		if f.FirstSeen != nil {
			reportFirstSeen[journalKey(f)] = f.FirstSeen.Time
			shownAt[journalKey(f)] = i
		}
	}
	current := make(map[string]journal.Finding, len(sum.Findings))
	for _, r := range sum.Findings {
		if r.Object == nil {
			continue
		}
		f := journal.Finding{
			Key:   journal.FindingKey(r.Check.ID, r.Object.IdentityKind(), r.Object.Name, r.Container),
			Check: r.Check.ID, Severity: string(r.Check.Severity), Kind: r.Object.Kind, Group: engine.IdentityGroup(r.Object.APIVersion), Name: r.Object.Name,
			Container: r.Container, Message: engine.TruncateTo(r.Message, 256),
		}
		for _, c := range r.Check.Criteria {
			f.Criteria = append(f.Criteria, string(c))
		}
		if (r.Status == engine.StatusExcepted || r.FailedOnObject()) && r.Exception != nil {
			// A waived failure, or a result its object left undecided that the exception waives
			// as it would its failure (the report counts both excepted).
			f.Exception = r.Exception.Key
		}
		current[f.Key] = f
	}

	checks, lists := populations(ev.Plan, sum)
	h.mu.Lock()
	t := h.track(profile, ns)
	keepUngroupedKeys(current, t.open, !t.observed)
	var recs []journal.Record
	add := func(typ journal.Type, at time.Time, f journal.Finding) {
		recs = append(recs, journal.Record{Type: typ, Time: at, Profile: profile, Namespace: ns, Finding: &f})
	}
	// opened are the check and resource (journal keys without a container) of the findings
	// this evaluation opens.
	opened := map[string]bool{}
	for _, k := range sortedFindingKeys(current) {
		f := current[k]
		prev, open := t.open[k]
		switch {
		case !open:
			opened[journal.FindingKey(f.Check, f.IdentityKind(), f.Name, "")] = true
			// The report's first-seen time (kept across evaluations and by a new leader) makes
			// the record the same whichever replica writes it.
			f.FirstSeen = now.UTC().Truncate(time.Second) // as the report shows it
			if fs, ok := reportFirstSeen[k]; ok {
				f.FirstSeen = fs
			}
			if fs, ok := reportFirstSeen[k]; ok && !t.known.IsZero() && fs.Before(t.known) {
				// The report shows it first seen before the latest evaluation the journal
				// describes, which did not find it failing: the episode the report shows ended
				// (its closing older than what was read back, the report not written since),
				// and this is another, first seen now.
				f.FirstSeen = now.UTC().Truncate(time.Second)
				if !f.FirstSeen.After(fs) {
					f.FirstSeen = fs.Add(time.Millisecond)
				}
			}
			if closed, ok := t.closedSeen[k]; ok && !f.FirstSeen.After(closed) {
				// It closed, and fails again, within the second it was first seen: the report
				// shows the same first-seen time, but this is another deviation. A record the
				// same as the first opening would be dropped as its duplicate (the record IDs
				// are the content's), and the evidence pack reads a finding and first-seen time
				// it saw close as closed: this one is first seen now, to the millisecond.
				f.FirstSeen = now.UTC().Truncate(time.Millisecond)
				if !f.FirstSeen.After(closed) {
					f.FirstSeen = closed.Add(time.Millisecond)
				}
			}
			// Failing since an earlier finding of the check on the resource that closed without
			// remediation (left undecided, renamed): nothing says the failure ended between.
			t.takeSince(&f)
			if i, ok := shownAt[k]; ok {
				// The report shows the first-seen time the journal records, not the ended
				// episode's; or, failing since a finding that ended without remediation, that
				// one's (Since): a namespace admin who leaves the check undecided for one
				// evaluation, or deletes the workload and creates it again, does not make the
				// failure new in the report.
				show := f.FirstSeen
				if !f.Since.IsZero() && f.Since.Before(show) {
					show = f.Since
				}
				if !show.Equal(shown[i].FirstSeen.Time) {
					shown[i].FirstSeen = &metav1.Time{Time: show}
				}
			}
			opened := f
			opened.Exception = ""
			add(journal.FindingOpened, f.FirstSeen, opened)
			if f.Exception != "" {
				add(journal.FindingExcepted, now, f)
			}
		case prev.Exception != f.Exception:
			f.FirstSeen, f.Since = prev.FirstSeen, prev.Since
			if f.Exception != "" {
				add(journal.FindingExcepted, now, f)
			} else {
				add(journal.FindingUnexcepted, now, f)
			}
		default:
			f.FirstSeen, f.Since = prev.FirstSeen, prev.Since
		}
		current[k] = f
	}
	// A finding the evaluation no longer reports on a resource the check still evaluates is
	// resolved, unless the evaluation judged under another profile version or catalogue than
	// the one that last reported it: then that change may alone have closed it.
	judged := judgement{profile: h.profiles[profile], catalogue: h.queue.Catalogue()}
	changed := t.judged.reassessed(judged)
	for k, seen := range t.closedSeen {
		if fs, shows := reportFirstSeen[k]; !shows || fs.After(seen) {
			// The report no longer shows the closed episode's first-seen time: a finding
			// failing again takes another. Kept while it does (its writes failing, or the
			// process that closed it stopped before writing it), however long that is.
			delete(t.closedSeen, k)
		}
	}
	var undecided map[string]bool
	for _, k := range sortedFindingKeys(t.open) {
		if _, still := current[k]; !still {
			f := t.open[k]
			f.CloseReason = journal.CloseReason(f, checks, lists)
			if f.CloseReason == journal.CloseResolved && opened[journal.FindingKey(f.Check, f.IdentityKind(), f.Name, "")] {
				// The same check opens a finding on the same resource, under another container:
				// a renamed container takes its failure with it (a tenant renaming it daily
				// showed a violation that never ended remediated every day).
				f.CloseReason = journal.CloseMoved
			}
			if f.CloseReason == journal.CloseResolved {
				if undecided == nil {
					undecided = notAssessedKeys(ev, ns)
				}
				if undecided[journal.FindingKey(f.Check, f.IdentityKind(), f.Name, "")] {
					// Left undecided (a tenant can push a workload past what the operator reads):
					// the failure may go on, and the evidence pack must not count it remediated.
					// By resource, not container: a container renamed in the same change takes
					// the failure with it.
					f.CloseReason = journal.CloseNotAssessed
				}
			}
			if f.CloseReason == journal.CloseResolved && changed != "" {
				f.CloseReason, f.Reassessed = journal.CloseReassessed, changed
			}
			add(journal.FindingClosed, now, f)
			if f.CloseReason == journal.CloseMoved {
				movedSince(recs, current, f)
			} else {
				t.noteClosed(&f)
			}
			if t.closedSeen == nil {
				t.closedSeen = map[string]time.Time{}
			}
			t.closedSeen[k] = f.FirstSeen
		}
	}
	t.open = current
	t.judged = judged
	t.known = now

	for _, c := range sum.Criteria {
		id, state, unassessed := string(c.ID), string(c.Status), sum.UnassessedChecks(ev.Plan, c.ID)
		undecided := sum.UndecidedChecks(ev.Plan, c.ID)
		if prev := t.criteria[id]; prev.State != state || !slices.Equal(prev.Unassessed, unassessed) || !slices.Equal(prev.Undecided, undecided) {
			recs = append(recs, journal.Record{Type: journal.CriterionChanged, Time: now, Profile: profile, Namespace: ns, Spec: judged.spec(),
				Criterion: &journal.CriterionChange{Criterion: id, From: prev.State, To: state, Unassessed: unassessed, Undecided: undecided}})
			t.criteria[id] = journal.CriterionState{Criterion: id, State: state, Unassessed: unassessed, Undecided: undecided}
		}
	}
	if result := string(sum.State); t.result != result {
		recs = append(recs, journal.Record{Type: journal.ReportResult, Time: now, Profile: profile, Namespace: ns,
			Report: &journal.Report{Result: result, Score: sum.Score, Failing: sum.Failing, Excepted: sum.Excepted}})
		t.result = result
	}

	// What the next attestation states: each check's population and the exceptions in force.
	first := !t.observed
	t.observed, t.evaluated, t.every = true, now, every
	if uid != "" {
		t.uid = uid
	}
	t.checks, t.populations = checks, lists
	transitions := h.exceptionTransitions(ev.Exceptions, now, ev.Options.Reaches) // keeps each exception's spec digest
	t.inForce = t.inForce[:0]
	for _, o := range ev.Exceptions {
		if o.AppliesTo && o.State == v1alpha1.ExceptionActive && o.Selects(ns) {
			e := exceptionRecord(o, o.MatchedByNamespace[ns], h.exceptions[o.Key].spec)
			if o.Exception.Namespace != ns {
				e.Namespace = o.Exception.Namespace // the operator's: not the namespace's own
			}
			t.inForce = append(t.inForce, e)
		}
	}
	recs = append(recs, transitions...)
	if first {
		// The first evaluation since this process started (or since the namespace came back
		// into scope) is attested at once: after a restart the evidence pack reads the
		// namespace's state as Unknown until a record states it, and one that did not change
		// writes no transition.
		recs = append(recs, t.attestation(nsKey{profile, ns}, now))
	}
	h.mu.Unlock()
	// The report is written after its transitions are in the journal (a leader that dies in
	// between leaves nothing for its successor to miss); never longer than journalWait, and
	// not at all while the journal is behind.
	h.queue.AddAndWait(ctx, journalWait, recs...)
}

// movedSince gives the findings of f's check on f's resource that the evaluation opened under
// another container (their opened records in recs, and current) the time f was failing since:
// f moved to them (journal.CloseMoved).
func movedSince(recs []journal.Record, current map[string]journal.Finding, f journal.Finding) {
	since := f.Since
	if since.IsZero() || f.FirstSeen.Before(since) {
		since = f.FirstSeen
	}
	resource := journal.FindingKey(f.Check, f.IdentityKind(), f.Name, "")
	for i := range recs {
		o := recs[i].Finding
		if recs[i].Type != journal.FindingOpened || o == nil || o.Key == f.Key || journal.FindingKey(o.Check, o.IdentityKind(), o.Name, "") != resource {
			continue
		}
		if since.IsZero() || !since.Before(o.FirstSeen) || (!o.Since.IsZero() && !since.Before(o.Since)) {
			continue
		}
		o.Since = since
		if c, ok := current[o.Key]; ok {
			c.Since = since
			current[o.Key] = c
		}
	}
}

// notAssessedKeys are the journal keys, without their container, of the results of ns's objects
// in ev that are NotAssessed.
func notAssessedKeys(ev *engine.Evaluation, ns string) map[string]bool {
	keys := map[string]bool{}
	for i := range ev.Results {
		r := &ev.Results[i]
		if r.Status == engine.StatusNotAssessed && r.Object != nil && r.Object.Namespace == ns {
			keys[journal.FindingKey(r.Check.ID, r.Object.IdentityKind(), r.Object.Name, "")] = true
		}
	}
	return keys
}

// namespaceObserved: the namespace about to be evaluated at now is the Namespace object uid
// ("": not known). One the journal describes under another UID was deleted, and created again
// under its name while no operator watched (one deleted while an operator ran left the profile,
// forgetNamespace): its open findings close as their resources went with it (resource-gone, no
// remediation), it leaves the profile, and the new one is evaluated as a namespace the journal
// does not know, none of its findings first seen at the old one's time. Called before the
// report's first-seen times are looked up (firstSeen).
func (h *journalHook) namespaceObserved(ctx context.Context, profile, ns, uid string, now time.Time) {
	if h == nil || uid == "" || !h.ready() {
		return
	}
	k := nsKey{profile, ns}
	h.mu.Lock()
	t := h.namespaces[k]
	if t == nil || t.uid == "" || t.uid == uid {
		h.mu.Unlock()
		return
	}
	delete(h.namespaces, k)
	h.mu.Unlock()
	var recs []journal.Record
	for _, fk := range sortedFindingKeys(t.open) {
		f := t.open[fk]
		f.CloseReason = journal.CloseResourceGone
		recs = append(recs, journal.Record{Type: journal.FindingClosed, Time: now, Profile: profile, Namespace: ns, Finding: &f})
	}
	recs = append(recs, unknownRecords(t, profile, ns, now)...)
	recs = append(recs, journal.Record{Type: journal.NamespaceLeft, Time: now, Profile: profile, Namespace: ns})
	h.queue.AddAndWait(ctx, journalWait, recs...)
}

// journalWait bounds how long an evaluation waits for its transitions to be journaled.
const journalWait = 5 * time.Second

// keepUngroupedKeys keeps the key a finding on an object of a group other than Kubernetes' own
// is open under in the journal without its group: journals written before keys named the group
// opened Istio's Gateway edge's finding as check|Gateway|edge|, and it stays open under that key
// (its closing record closes what was opened) unless a finding on an object of Kubernetes' own
// group, whose key that is, is current. A key open without a group is taken so only at the first
// evaluation since the journal was read (first), when it can be one written before; later it
// is the key of a Kubernetes group's finding, which a finding of another group never continues.
func keepUngroupedKeys(current, open map[string]journal.Finding, first bool) {
	for _, k := range sortedFindingKeys(current) {
		f := current[k]
		if f.Group == "" {
			continue
		}
		if _, ok := open[k]; ok {
			continue
		}
		legacy := journal.FindingKey(f.Check, f.Kind, f.Name, f.Container)
		prev, ok := open[legacy]
		if _, claimed := current[legacy]; !ok || claimed || (prev.Group != f.Group && (prev.Group != "" || !first)) {
			continue
		}
		delete(current, k)
		f.Key = legacy
		current[legacy] = f
	}
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
		_, fail, excepted, notAssessed := sum.CheckCounts(c)
		checks = append(checks, journal.CheckPopulation{Check: c.ID, Count: len(list), SHA256: digest, Population: i, Failed: fail, Excepted: excepted,
			NotAssessed: notAssessed})
	}
	return checks, lists
}
