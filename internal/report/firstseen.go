package report

import (
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
	// the one it had when it is listed again.
	Record(profile, namespace string, findings []v1alpha1.Finding, persists func(key string) bool)
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
}

// NewMemoryFirstSeen returns an empty MemoryFirstSeen.
func NewMemoryFirstSeen() *MemoryFirstSeen {
	return &MemoryFirstSeen{reports: map[string]map[string]map[string]time.Time{}}
}

// Lookup implements FirstSeenStore.
func (m *MemoryFirstSeen) Lookup(profile, namespace, key string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.reports[profile][namespace][key]
	return t, ok
}

// Record implements FirstSeenStore.
func (m *MemoryFirstSeen) Record(profile, namespace string, findings []v1alpha1.Finding, persists func(key string) bool) {
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
	for key, t := range m.reports[profile][namespace] {
		if _, listed := seen[key]; !listed && persists != nil && persists(key) {
			seen[key] = t
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
		return
	}
	delete(m.reports[profile], namespace)
}

// Lookup returns the FirstSeenLookup of one report.
func Lookup(store FirstSeenStore, profile, namespace string) FirstSeenLookup {
	if store == nil {
		return nil
	}
	return func(f *v1alpha1.Finding) (time.Time, bool) { return store.Lookup(profile, namespace, FindingKey(f)) }
}
