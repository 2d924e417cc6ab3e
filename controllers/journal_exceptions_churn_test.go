package controllers

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The journal's memory of exceptions (journalHook.exceptions) kept every exception it ever saw,
// ended or not, for the life of the process, and every evaluation of any namespace walked all of
// them under the hook's lock. A namespace admin may request exceptions without anyone's
// approval (a request is journaled whether or not it is ever approved): creating a thousand,
// letting one evaluation see them and deleting them, round after round under new names, grew
// the operator's memory without bound (a few hundred bytes each) and slowed the journaling of
// every namespace's evaluation. An exception that ended and is gone from what an evaluation
// reaching its namespace judged is now forgotten; one that ended and is still there (expired)
// is remembered, so its request and end are not journaled again.
func TestAnExceptionGoneAfterItsEndIsForgotten(t *testing.T) {
	h := &journalHook{exceptions: map[string]*exTrack{}}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	reaches := func(ns string) bool { return ns == "tenant" }
	outcome := func(name string, state v1alpha1.ExceptionState, created time.Time) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: name, Generation: 1,
			CreationTimestamp: metav1.NewTime(created)}}
		ex.Spec.Checks, ex.Spec.Owner, ex.Spec.Reason = []string{"wl-privileged"}, "tenant@example.com", "Requested to be deleted."
		ex.Spec.Expires = metav1.NewTime(created.Add(24 * time.Hour))
		return &engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey("tenant", name), State: state, AppliesTo: true}
	}
	count := map[journal.Type]int{}
	const rounds, each = 10, 100
	for round := range rounds {
		var outcomes []*engine.ExceptionOutcome
		for i := range each {
			outcomes = append(outcomes, outcome(fmt.Sprintf("churn-%d-%d", round, i), v1alpha1.ExceptionPendingApproval, now))
		}
		now = now.Add(time.Minute)
		for _, r := range h.exceptionTransitions(outcomes, now, reaches) {
			count[r.Type]++
		}
		now = now.Add(time.Minute)
		for _, r := range h.exceptionTransitions(nil, now, reaches) { // all deleted
			count[r.Type]++
		}
	}
	if count[journal.ExceptionRequested] != rounds*each || count[journal.ExceptionRevoked] != rounds*each {
		t.Errorf("journaled %v, want %d requested and %d revoked", count, rounds*each, rounds*each)
	}
	if n := len(h.exceptions); n != 0 {
		t.Errorf("the journal remembers %d exceptions after all of them were deleted and journaled as revoked, want none", n)
	}

	// An exception that expired and is still there is remembered: judged again, its request
	// and expiry are not journaled again.
	count = map[journal.Type]int{}
	created := now
	for range 3 {
		now = now.Add(48 * time.Hour)
		for _, r := range h.exceptionTransitions([]*engine.ExceptionOutcome{outcome("expired", v1alpha1.ExceptionExpired, created)}, now, reaches) {
			count[r.Type]++
		}
	}
	if count[journal.ExceptionRequested] != 1 || count[journal.ExceptionExpired] != 1 || len(count) != 2 {
		t.Errorf("an expired exception judged three times journaled %v, want one request and one expiry", count)
	}
	// Another namespace's evaluation (that does not reach it) neither ends nor forgets it.
	for _, r := range h.exceptionTransitions(nil, now, func(ns string) bool { return ns == "other" }) {
		t.Errorf("an evaluation of another namespace journaled %s of %s", r.Type, r.Exception.Name)
	}
	if len(h.exceptions) != 1 {
		t.Errorf("remembers %d exceptions, want the expired one", len(h.exceptions))
	}
}
