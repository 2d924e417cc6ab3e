package scan

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
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

// TestCheckSummaryCountsAsTheFindings holds the summary table's FAILING and RESOURCES of every
// check to the findings -o json lists: RESOURCES is the number of distinct resources among the
// check's failing findings. The table counts a resource when its name differs from the last
// one counted, which holds only while the findings come sorted by check and then by object; a
// resource counted twice would show here. The corpus, and the same Deployment written in two
// files (one resource to the API server) with others between them in the walk.
func TestCheckSummaryCountsAsTheFindings(t *testing.T) {
	dup := t.TempDir()
	deployment := func(name string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: team}\n" +
			"spec:\n  template:\n    spec:\n      containers:\n      - {name: app, image: nginx}\n"
	}
	writeFile(t, filepath.Join(dup, "a.yaml"), deployment("same"))
	writeFile(t, filepath.Join(dup, "b.yaml"), deployment("other"))
	writeFile(t, filepath.Join(dup, "c.yaml"), deployment("same")+"---\n"+deployment("zzz"))
	for _, dir := range []string{corpusDir, dup} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("not available: %v", err)
			}
			js, _, _ := runScan(t, "", "-f", dir, "--fail-on", "none", "-o", "json")
			var rep struct {
				Findings []struct {
					Check    string `json:"check"`
					Result   string `json:"result"`
					Resource *struct{ APIVersion, Kind, Namespace, Name string }
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				t.Fatal(err)
			}
			failing := map[string]int{}
			resources := map[string]map[string]bool{}
			for _, f := range rep.Findings {
				if f.Result != "Fail" {
					continue
				}
				failing[f.Check]++
				key := "(cluster)"
				if r := f.Resource; r != nil {
					// Objects of one kind name in two groups are two resources (istio's
					// tcp-echo sample has an Istio and a Gateway API Gateway tcp-echo-gateway).
					key = engine.IdentityKind(r.APIVersion, r.Kind) + "/" + r.Namespace + "/" + r.Name
				}
				if resources[f.Check] == nil {
					resources[f.Check] = map[string]bool{}
				}
				resources[f.Check][key] = true
			}
			table, _, _ := runScan(t, "", "-f", dir, "--fail-on", "none")
			rows := 0
			for _, line := range strings.Split(table, "\n") {
				f := strings.Fields(line)
				if len(f) != 5 || !slices.Contains([]string{"Critical", "High", "Medium", "Low"}, f[0]) {
					continue
				}
				rows++
				check := f[1]
				if got, want := f[2], strconv.Itoa(failing[check]); got != want {
					t.Errorf("%s: FAILING %s, the findings say %s", check, got, want)
				}
				if got, want := f[4], strconv.Itoa(len(resources[check])); got != want {
					t.Errorf("%s: RESOURCES %s, the findings name %s distinct resources", check, got, want)
				}
			}
			if rows == 0 || rows != len(failing) {
				t.Errorf("the table has %d check rows; the findings fail %d checks:\n%s", rows, len(failing), table)
			}
		})
	}
}
