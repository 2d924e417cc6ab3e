package engine_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestSortFindingsIsStable: SortFindings orders findings as a stable sort by its keys does
// (sort.SliceStable with the comparison it has always had), findings equal in every key
// included, whatever the input order. (Results of one check either all judge objects or all
// judge the cluster, which keeps the comparison a strict order.)
func TestSortFindingsIsStable(t *testing.T) {
	reference := func(f []*engine.Result) {
		sort.SliceStable(f, func(i, j int) bool {
			a, b := f[i], f[j]
			if ra, rb := engine.SeverityRank(a.Check.Severity), engine.SeverityRank(b.Check.Severity); ra != rb {
				return ra < rb
			}
			if a.Status != b.Status {
				return a.Status == engine.StatusFail
			}
			if a.Check.ID != b.Check.ID {
				return a.Check.ID < b.Check.ID
			}
			ao, bo := a.Object, b.Object
			if ao != nil && bo != nil {
				if ao.Kind != bo.Kind {
					return ao.Kind < bo.Kind
				}
				if ao.Namespace != bo.Namespace {
					return ao.Namespace < bo.Namespace
				}
				if ao.Name != bo.Name {
					return ao.Name < bo.Name
				}
			}
			return a.Container < b.Container
		})
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rnd.IntN(len(s))] }
	var checks []*engine.PlannedCheck
	for _, id := range []string{"SEC-001", "SEC-002", "NET-001", "CLUSTER-001"} {
		for _, sev := range v1alpha1.Severities {
			checks = append(checks, &engine.PlannedCheck{Check: &engine.Check{ID: id}, Severity: sev})
		}
	}
	for round := range 50 {
		var in []*engine.Result
		n := 1 + rnd.IntN(300)
		if round%10 == 0 { // long enough to be sorted in two halves and merged
			n = 3000 + rnd.IntN(3000)
		}
		for range n {
			r := &engine.Result{Check: checks[rnd.IntN(len(checks))], Status: engine.StatusFail, Container: pick("", "app", "sidecar"), Message: fmt.Sprint(len(in))}
			if rnd.IntN(4) == 0 {
				r.Status = engine.StatusExcepted
			}
			if r.Check.ID != "CLUSTER-001" { // a cluster check judges no object
				r.Object = &engine.Object{Kind: pick("Pod", "Deployment"), Namespace: pick("", "a", "b"), Name: pick("x", "y", "z")}
			}
			in = append(in, r)
		}
		got, want := slices.Clone(in), slices.Clone(in)
		engine.SortFindings(got)
		reference(want)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: SortFindings orders %d findings otherwise than a stable sort", round, len(in))
		}
	}
}

// TestCompactKeepsTheMostSevereFindings: a compacted roll-up keeps counts, and of the findings
// the first keep (the most severe: Findings are sorted), as copies that do not point into the
// evaluation's results.
func TestCompactKeepsTheMostSevereFindings(t *testing.T) {
	results := make([]engine.Result, 5)
	s := &engine.Summary{Failing: 5, Objects: []engine.ObjectID{{}}}
	for i := range results {
		results[i] = engine.Result{Status: engine.StatusFail, Message: fmt.Sprint(i)}
		s.Findings = append(s.Findings, &results[i])
	}
	for _, keep := range []int{0, 3, 5, 9} {
		c := s.Compact(keep)
		if want := min(keep, 5); len(c.Findings) != want || c.Failing != 5 || c.Objects != nil {
			t.Errorf("Compact(%d): %d findings, failing %d, objects %v; want %d findings, failing 5, no objects", keep, len(c.Findings), c.Failing, c.Objects, want)
			continue
		}
		for i, f := range c.Findings {
			if f.Message != fmt.Sprint(i) || f == s.Findings[i] {
				t.Errorf("Compact(%d): finding %d is %q (same pointer: %v), want a copy of %q", keep, i, f.Message, f == s.Findings[i], fmt.Sprint(i))
			}
		}
	}
	if len(s.Findings) != 5 {
		t.Errorf("Compact changed the summary it copied: %d findings", len(s.Findings))
	}
}
