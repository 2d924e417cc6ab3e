package scan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestWorstResources: the resources a check summary names are those with the most failing
// findings, the first found first among equals, as a stable sort by count orders them.
func TestWorstResources(t *testing.T) {
	stable := func(s *checkSummary, n int) []resourceCount {
		all := slices.Clone(s.resources)
		sort.SliceStable(all, func(i, j int) bool { return all[i].failing > all[j].failing })
		return all[:min(n, len(all))]
	}
	summary := func(counts ...int) *checkSummary {
		s := &checkSummary{}
		for i, c := range counts {
			s.resources = append(s.resources, resourceCount{name: fmt.Sprintf("r%d", i), failing: c})
		}
		return s
	}
	for _, c := range []struct {
		counts []int
		want   []string
	}{
		{nil, nil},
		{[]int{2}, []string{"r0"}},
		{[]int{1, 3, 3, 2, 5}, []string{"r4", "r1", "r2"}},
		{[]int{1, 1, 1, 1}, []string{"r0", "r1", "r2"}},
		{[]int{1, 2, 3, 4}, []string{"r3", "r2", "r1"}},
		{[]int{4, 3, 2, 1}, []string{"r0", "r1", "r2"}},
		{[]int{2, 1, 2, 1, 2}, []string{"r0", "r2", "r4"}},
	} {
		var got []string
		for _, rc := range summary(c.counts...).worst(worstShown) {
			got = append(got, rc.name)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("worst of %v: %v, want %v", c.counts, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		counts := make([]int, r.IntN(12))
		for i := range counts {
			counts[i] = 1 + r.IntN(4)
		}
		s := summary(counts...)
		for n := 1; n <= 4; n++ {
			if got, want := s.worst(n), stable(s, n); !slices.Equal(got, want) {
				t.Fatalf("worst %d of %v: %v, want %v", n, counts, got, want)
			}
		}
	}
}
