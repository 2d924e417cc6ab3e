package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// profileSeen records a profile the journal does not know, or whose spec changed. A profile
// under a name the journal knows with another UID is another object: the one the journal knows
// was deleted, and the operator did not see it go (its deletion and the new one's creation
// reached it as one request, or it was not running then). The journal records that deletion
// first, as profileDeleted would have, dated when the new profile was created at the latest: the
// old profile's findings do not run on into the new one's, nor does its version.
//
// The records of the deletion wait for the writer, as an evaluation's transitions do
// (AddAndWait): tenants decide how many findings are open, and closings past the queue's room
// would otherwise be dropped with the store writable.
func (h *journalHook) profileSeen(ctx context.Context, p *v1alpha1.ComplianceProfile) {
	if h == nil || !h.ready() {
		return
	}
	b, err := json.Marshal(p.Spec)
	if err != nil {
		return
	}
	sum := sha256.Sum256(b)
	spec := journal.ProfileSpec{Generation: p.Generation, SHA256: hex.EncodeToString(sum[:]), UID: string(p.UID)}
	h.mu.Lock()
	prev, known := h.profiles[p.Name]
	var deleted []journal.Record
	if known && prev.UID != "" && prev.UID != spec.UID {
		at := h.clock.Now()
		if created := p.CreationTimestamp.Time; !created.IsZero() && created.Before(at) {
			at = created
		}
		deleted, known = h.dropProfile(p.Name, at), false
	}
	if known && prev.SHA256 == spec.SHA256 {
		// The same version; its UID, where the journal did not say it, is stated from the next
		// profile.attested on.
		h.profiles[p.Name] = spec
		h.mu.Unlock()
		return
	}
	h.profiles[p.Name] = spec
	h.mu.Unlock()
	if len(deleted) > 0 {
		h.queue.AddAndWait(ctx, journalWait, deleted...)
	}
	// When the operator saw the change: not a time from managedFields, which a client that
	// updates the profile may write itself (the API server keeps the times of the entries a
	// request sends; k8s.io/apimachinery pkg/util/managedfields/internal, decodeLiveOrNew).
	// Two leaders around a failover may each write the change; the pack shows it once.
	typ, at := journal.ProfileChanged, h.clock.Now()
	if !known && p.Generation <= 1 {
		typ, at = journal.ProfileCreated, p.CreationTimestamp.Time
	}
	h.queue.Add(journal.Record{Type: typ, Time: at, Profile: p.Name, Spec: &spec})
}

// selection keeps the namespaces a full evaluation of the profile selected, for its next
// profile.attested record.
func (h *journalHook) selection(profile string, selected map[string]bool) {
	if h == nil {
		return
	}
	names := slices.Sorted(maps.Keys(selected))
	if names == nil {
		names = []string{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.selected[profile] = names
}

// profileDeleted: the profile is gone; its namespaces' open findings close. The records wait for
// the writer (AddAndWait), as forgetNamespace's do: one tenant's many open findings would
// otherwise take the queue's room and the others' closings, and profile.deleted, be dropped.
func (h *journalHook) profileDeleted(ctx context.Context, name string) {
	if h == nil || !h.ready() {
		return
	}
	now := h.clock.Now()
	h.mu.Lock()
	recs := h.dropProfile(name, now)
	h.mu.Unlock()
	h.queue.AddAndWait(ctx, journalWait, recs...)
}

// dropProfile forgets a profile deleted at the latest at t, and returns the records that say
// so: its namespaces' open findings close (nothing judges them any more, which is no
// remediation), then profile.deleted if the journal knew the profile. h.mu is held.
func (h *journalHook) dropProfile(name string, t time.Time) []journal.Record {
	_, known := h.profiles[name]
	delete(h.profiles, name)
	delete(h.selected, name)
	var recs []journal.Record
	keys := make([]nsKey, 0, len(h.namespaces))
	for k := range h.namespaces {
		if k.profile == name {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].namespace < keys[j].namespace })
	for _, k := range keys {
		recs = append(recs, closedOutOfScope(h.namespaces[k], name, k.namespace, t)...)
		delete(h.namespaces, k)
	}
	if known {
		recs = append(recs, journal.Record{Type: journal.ProfileDeleted, Time: t, Profile: name})
	}
	return recs
}

// forgetNamespace: the profile no longer selects the namespace; its open findings close.
func (h *journalHook) forgetNamespace(ctx context.Context, profile, ns string) {
	if h == nil || !h.ready() {
		return
	}
	now := h.clock.Now()
	h.mu.Lock()
	t := h.namespaces[nsKey{profile, ns}]
	delete(h.namespaces, nsKey{profile, ns})
	if t != nil {
		h.markLeft(nsKey{profile, ns}, now)
	}
	h.mu.Unlock()
	if t == nil {
		return
	}
	recs := closedOutOfScope(t, profile, ns, now)
	// Nothing judges it under the profile from now on: its criteria are not still Pass or Fail,
	// and no attestation is due (the evidence pack counts none missing) until it is back.
	recs = append(recs, unknownRecords(t, profile, ns, now)...)
	recs = append(recs, journal.Record{Type: journal.NamespaceLeft, Time: now, Profile: profile, Namespace: ns})
	// As an evaluation's transitions: a namespace admin decides how many findings are open, and
	// closings that do not fit in the queue wait for the writer rather than being dropped (a
	// journal.gap makes every namespace's state unknown in the evidence pack).
	h.queue.AddAndWait(ctx, journalWait, recs...)
}

// unevaluated: the profile selected the namespace (created at from), deleted at to before any
// evaluation of it ran, so that no evaluation journaled it. A namespace.left whose interval says
// when it was in scope tells the evidence pack that it was, and was never judged. A namespace
// the journal describes left as any other (forgetNamespace).
func (h *journalHook) unevaluated(profile, ns string, from, to time.Time) {
	if h == nil || !h.ready() {
		return
	}
	k := nsKey{profile, ns}
	h.mu.Lock()
	_, known := h.namespaces[k]
	at, left := h.left[k]
	left = left && !at.Before(from) // not an earlier namespace of the name
	if !known && !left {
		h.markLeft(k, h.clock.Now()) // journaled once, however many requests find it gone
	}
	h.mu.Unlock()
	if known || left {
		return // judged, and journaled as it left (forgetNamespace), or journaled here already
	}
	if from.After(to) {
		from = to
	}
	h.queue.Add(journal.Record{Type: journal.NamespaceLeft, Time: to, Profile: profile, Namespace: ns,
		Interval: &journal.Interval{From: from.UTC(), To: to.UTC(), Reason: journal.ReasonNeverEvaluated}})
}

// markLeft notes that the namespace left the profile at now, in the journal's words, so that
// a later request that finds it gone journals nothing more (unevaluated). What is older than
// goneNamespaceTTL is forgotten. Called with h.mu held.
func (h *journalHook) markLeft(k nsKey, now time.Time) {
	if h.left == nil {
		h.left = map[nsKey]time.Time{}
	}
	for old, at := range h.left {
		if now.Sub(at) > goneNamespaceTTL {
			delete(h.left, old)
		}
	}
	h.left[k] = now
}

// reportDeleted: the namespace's report, last found or written at from, was deleted by someone
// other than the operator and written again at to. The evidence pack does not read the record.
func (h *journalHook) reportDeleted(profile, ns string, from, to time.Time) {
	if h == nil || !h.ready() {
		return
	}
	h.queue.Add(journal.Record{Type: journal.ReportDeleted, Time: to, Profile: profile, Namespace: ns,
		Interval: &journal.Interval{From: from, To: to, Reason: "deleted by someone other than the operator"}})
}

// closedOutOfScope returns the records that close the namespace's open findings because the
// profile no longer judges it (not remediated: journal.CloseOutOfScope).
func closedOutOfScope(t *nsTrack, profile, ns string, now time.Time) []journal.Record {
	var recs []journal.Record
	for _, k := range sortedFindingKeys(t.open) {
		f := t.open[k]
		f.CloseReason = journal.CloseOutOfScope
		recs = append(recs, journal.Record{Type: journal.FindingClosed, Time: now, Profile: profile, Namespace: ns, Finding: &f})
	}
	return recs
}

// unknown: the namespace's report no longer holds a current verdict (its evaluation failed or
// is overdue, or the profile's selector does not parse). The journal says its result and each
// criterion are Unknown from now, and attestations stop stating the last verdict as the
// namespace's state until an evaluation succeeds again.
func (h *journalHook) unknown(profile, ns string) {
	if h == nil || !h.ready() {
		return
	}
	now := h.clock.Now()
	h.mu.Lock()
	t := h.namespaces[nsKey{profile, ns}]
	if t == nil {
		h.mu.Unlock()
		return
	}
	recs := unknownRecords(t, profile, ns, now)
	t.observed = false
	h.mu.Unlock()
	h.queue.Add(recs...)
}

// unknownRecords sets the namespace's result and criteria Unknown and returns the records that
// say so.
func unknownRecords(t *nsTrack, profile, ns string, now time.Time) []journal.Record {
	var recs []journal.Record
	for _, c := range slices.Sorted(maps.Keys(t.criteria)) {
		if from := t.criteria[c].State; from != string(v1alpha1.Unknown) {
			recs = append(recs, journal.Record{Type: journal.CriterionChanged, Time: now, Profile: profile, Namespace: ns,
				Criterion: &journal.CriterionChange{Criterion: c, From: from, To: string(v1alpha1.Unknown)}})
			t.criteria[c] = journal.CriterionState{Criterion: c, State: string(v1alpha1.Unknown)}
		}
	}
	if t.result != string(v1alpha1.Unknown) {
		recs = append(recs, journal.Record{Type: journal.ReportResult, Time: now, Profile: profile, Namespace: ns,
			Report: &journal.Report{Result: string(v1alpha1.Unknown)}})
		t.result = string(v1alpha1.Unknown)
	}
	return recs
}
