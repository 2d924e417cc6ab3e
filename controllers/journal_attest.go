package controllers

import (
	"context"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// attest writes an attestation for every namespace evaluated since this process started, and
// states every profile's version.
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
		if t.observed {
			recs = append(recs, t.attestation(k, now))
		}
	}
	// Each profile's version too: a restart restores only the last two intervals, and would
	// journal a profile changed longer ago as changed again.
	for _, name := range slices.Sorted(maps.Keys(h.profiles)) {
		spec := h.profiles[name]
		rec := journal.Record{Type: journal.ProfileAttested, Time: now, Profile: name, Spec: &spec}
		// And the namespaces it selects: one whose evaluation never succeeds has no record of
		// its own.
		if selected, ok := h.selected[name]; ok {
			rec.Selection = &journal.Selection{Namespaces: slices.Clone(selected)}
		}
		recs = append(recs, rec)
	}
	h.mu.Unlock()
	h.queue.Add(recs...)
}

// attestation states what the latest evaluation of the namespace found (the caller holds the
// hook's lock).
func (t *nsTrack) attestation(k nsKey, now time.Time) journal.Record {
	body := &journal.AttestationBody{Checks: t.checks, Populations: t.populations, Exceptions: append([]journal.Exception(nil), t.inForce...),
		Evaluated: t.evaluated.UTC().Truncate(time.Millisecond), EvaluationInterval: int64(t.every / time.Second),
		NamespaceUID: t.uid}
	for _, c := range slices.Sorted(maps.Keys(t.criteria)) {
		body.Criteria = append(body.Criteria, t.criteria[c])
	}
	for _, fk := range sortedFindingKeys(t.open) {
		body.Open = append(body.Open, t.open[fk])
	}
	return journal.Record{Type: journal.Attestation, Time: now, Profile: k.profile, Namespace: k.namespace, Spec: t.judged.spec(), Attestation: body}
}

// Start attests every interval of the hook's clock, the first time a minute (at most an
// interval) after the state was restored, when the first full evaluations are done.
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
		case <-h.clock.After(next):
			h.attest(h.clock.Now())
			next = h.interval
		}
	}
}

// NeedLeaderElection: only the leader attests.
func (h *journalHook) NeedLeaderElection() bool { return true }
