package report

import (
	"strings"
	"sync"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// FirstSeenStore remembers when each finding of a report was first seen, by profile, namespace
// and FindingKey, outside the report: a report that is deleted comes back with its times. The
// report's previous status is asked only when the store does not know a finding (after a
// restart, with MemoryFirstSeen).
type FirstSeenStore interface {
	// Lookup says when the finding with key was first seen in the report of profile in namespace.
	Lookup(profile, namespace, key string) (time.Time, bool)
	// Record replaces what is remembered of the report of profile in namespace with the
	// findings it lists, keeping the time of a finding remembered before that it no longer lists
	// but that persists (persists says so of a FindingKey; nil: none does): crowded out of the
	// list by more severe findings for a while, it has been failing all along, and its time is
	// the one it had when it is listed again. A finding that no longer persists is kept as left
	// at now, for Reopened, for ReopenedWithin.
	Record(profile, namespace string, findings []v1alpha1.Finding, persists func(key string) bool, now time.Time)
	// Reopened says when a finding of the check on the resource of key that left the report
	// less than ReopenedWithin before now was first seen: its own key's, else the earliest of
	// another container's (renamed), among those that left and those remembered that do not
	// persist (persists; nil: none does) now, renamed in this evaluation.
	Reopened(profile, namespace, key string, now time.Time, persists func(key string) bool) (time.Time, bool)
	// Forget drops the report of profile in namespace; namespace "" drops every report of the
	// profile.
	Forget(profile, namespace string)
}

// MemoryFirstSeen is a FirstSeenStore for the life of the process. It holds the findings the
// reports list (at most maxFindings per report) and those they listed before that still fail,
// so it grows with the findings the reports have listed, not with the number of workloads.
type MemoryFirstSeen struct {
	mu sync.Mutex
	// reports[profile][namespace][finding key] is the first-seen time.
	reports map[string]map[string]map[string]time.Time
	// left[profile][namespace][finding key] are the findings that left the report (no longer
	// failing: remediated, deleted, left undecided or not applicable, renamed) less than
	// ReopenedWithin ago.
	left map[string]map[string]map[string]leftFinding
}

type leftFinding struct{ firstSeen, at time.Time }

// ReopenedWithin is how soon after it left the report a finding of the check on the resource
// that fails again keeps the time it was first seen, the evidence pack's
// evidence.ReopenedWithin (one deviation row): a namespace admin who deletes and creates again a
// failing workload, renames its failing container, or makes the check unable to decide for one
// evaluation, does not make a months-old failure new. Bounded, so that a failure that comes
// back after a real remediation is first seen when it does.
const ReopenedWithin = time.Hour

// NewMemoryFirstSeen returns an empty MemoryFirstSeen.
func NewMemoryFirstSeen() *MemoryFirstSeen {
	return &MemoryFirstSeen{reports: map[string]map[string]map[string]time.Time{}, left: map[string]map[string]map[string]leftFinding{}}
}

// Lookup implements FirstSeenStore.
func (m *MemoryFirstSeen) Lookup(profile, namespace, key string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.reports[profile][namespace][key]
	return t, ok
}

// Reopened implements FirstSeenStore.
func (m *MemoryFirstSeen) Reopened(profile, namespace, key string, now time.Time, persists func(key string) bool) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	left := m.left[profile][namespace]
	if l, ok := left[key]; ok && now.Sub(l.at) < ReopenedWithin {
		return l.firstSeen, true
	}
	resource := resourceOf(key)
	var since time.Time
	for k, l := range left {
		if resourceOf(k) == resource && now.Sub(l.at) < ReopenedWithin && (since.IsZero() || l.firstSeen.Before(since)) {
			since = l.firstSeen
		}
	}
	for k, t := range m.reports[profile][namespace] {
		if k != key && resourceOf(k) == resource && (persists == nil || !persists(k)) && (since.IsZero() || t.Before(since)) {
			since = t
		}
	}
	return since, !since.IsZero()
}

// resourceOf is the check and resource of a FindingKey, without its container.
func resourceOf(key string) string {
	return key[:strings.LastIndexByte(key, 0)+1]
}

// Record implements FirstSeenStore.
func (m *MemoryFirstSeen) Record(profile, namespace string, findings []v1alpha1.Finding, persists func(key string) bool, now time.Time) {
	seen := make(map[string]time.Time, len(findings))
	for i := range findings {
		if t := findings[i].FirstSeen; t != nil {
			seen[FindingKey(&findings[i])] = t.Time
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reports[profile] == nil {
		m.reports[profile] = map[string]map[string]time.Time{}
	}
	if m.left[profile] == nil {
		m.left[profile] = map[string]map[string]leftFinding{}
	}
	left := m.left[profile][namespace]
	for key, l := range left {
		if _, back := seen[key]; back || now.Sub(l.at) >= ReopenedWithin {
			delete(left, key)
		}
	}
	for key, t := range m.reports[profile][namespace] {
		if _, listed := seen[key]; listed {
			continue
		}
		if persists != nil && persists(key) {
			seen[key] = t
			continue
		}
		if left == nil {
			left = map[string]leftFinding{}
			m.left[profile][namespace] = left
		}
		left[key] = leftFinding{firstSeen: t, at: now}
	}
	for key := range seen {
		// Failing again under another container takes the time of the one that left
		// (Reopened): it is not left any more.
		if r := resourceOf(key); len(left) > 0 {
			for k, l := range left {
				if resourceOf(k) == r && !l.firstSeen.Before(seen[key]) {
					delete(left, k)
				}
			}
		}
	}
	m.reports[profile][namespace] = seen
}

// Persisting says which FindingKeys are among results (an evaluation's findings): the index is
// built on the first question, so that an evaluation whose report lists every finding it
// remembers builds none.
func Persisting(results []*engine.Result) func(key string) bool {
	var keys map[string]bool
	return func(key string) bool {
		if keys == nil {
			keys = make(map[string]bool, len(results))
			for _, r := range results {
				if o := r.Object; o != nil {
					keys[findingKey(r.Check.ID, o.IdentityKind(), o.Namespace, o.Name, r.Container)] = true
				}
			}
		}
		return keys[key]
	}
}

// Forget implements FirstSeenStore.
func (m *MemoryFirstSeen) Forget(profile, namespace string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if namespace == "" {
		delete(m.reports, profile)
		delete(m.left, profile)
		return
	}
	delete(m.reports[profile], namespace)
	delete(m.left[profile], namespace)
}

// Lookup returns the FirstSeenLookup of one report evaluated at now, whose failing findings
// persists says (see Reopened): what the store remembers of the finding, else when a finding of
// its check on its resource that left the report less than ReopenedWithin ago was first seen.
func Lookup(store FirstSeenStore, profile, namespace string, now time.Time, persists func(key string) bool) FirstSeenLookup {
	if store == nil {
		return nil
	}
	return func(f *v1alpha1.Finding) (time.Time, bool) {
		key := FindingKey(f)
		if t, ok := store.Lookup(profile, namespace, key); ok {
			return t, true
		}
		return store.Reopened(profile, namespace, key, now, persists)
	}
}
