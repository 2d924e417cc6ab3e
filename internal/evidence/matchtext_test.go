package evidence

import (
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A tenant's name and container patterns are free text (up to 253 characters, any character):
// written as they are, a pattern holding a space, a comma or "field=" reads in exceptions.csv's
// resources cell as another pattern or another field. A tenant waiving every container of "api"
// could have its row read exactly as the row of an exception narrowed to a sidecar. Each
// pattern that could be read as more than itself is quoted, in ASCII.
func TestATenantsPatternCannotImitateAnotherFieldOfTheResourcesCell(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cell := func(m *journal.ExceptionMatch) string {
		ex := journal.Exception{Name: "waiver", RequestedBy: "dev@example.com", Owner: "team-a@example.com", Reason: "vendor image",
			Checks: []string{"wl-privileged"}, Match: m, Created: t0, Expires: t0.AddDate(0, 0, 7), SpecSHA256: strings.Repeat("a", 64)}
		r := onlyException(t, []journal.Record{{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &ex}}, t0, t0.Add(time.Hour))
		return r["resources"]
	}
	for name, tc := range map[string]struct {
		forged, genuine *journal.ExceptionMatch
		want            string
	}{
		"a name pattern that reads as a containers field": {
			forged:  &journal.ExceptionMatch{Names: []string{"api", "x containers=istio-proxy"}},
			genuine: &journal.ExceptionMatch{Names: []string{"api", "x"}, Containers: []string{"istio-proxy"}},
			want:    `names=api,"x containers=istio-proxy"`,
		},
		"a name pattern holding a comma": {
			forged:  &journal.ExceptionMatch{Names: []string{"api,worker"}},
			genuine: &journal.ExceptionMatch{Names: []string{"api", "worker"}},
			want:    `names="api,worker"`,
		},
		"a container pattern that reads as a second container": {
			forged:  &journal.ExceptionMatch{Names: []string{"api"}, Containers: []string{`istio-proxy,"*"`}},
			genuine: &journal.ExceptionMatch{Names: []string{"api"}, Containers: []string{"istio-proxy", `"*"`}},
			want:    `names=api containers="istio-proxy,\"*\""`,
		},
		"a pattern holding a fullwidth comma": {
			forged:  &journal.ExceptionMatch{Names: []string{"api\uff0cworker"}},
			genuine: &journal.ExceptionMatch{Names: []string{"api", "worker"}},
			want:    `names="api\uff0cworker"`,
		},
		"a pattern holding a line break": {
			forged:  &journal.ExceptionMatch{Names: []string{"api\nkinds=Secret"}},
			genuine: &journal.ExceptionMatch{Names: []string{"api"}, Kinds: []string{"Secret"}},
			want:    `names="api\nkinds=Secret"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			forged, genuine := cell(tc.forged), cell(tc.genuine)
			if forged == genuine || forged != tc.want {
				t.Errorf("resources %q (the genuine exception's: %q), want %q", forged, genuine, tc.want)
			}
		})
	}
	// A label selector's string form has spaces of its own ("tier in (a,b)"): it is quoted as
	// one value, and plain patterns stay as they were.
	if got, want := cell(&journal.ExceptionMatch{Names: []string{"api-*"}, LabelSelector: "tier in (a,b)", Containers: []string{"istio-*"}}),
		`names=api-* labels="tier in (a,b)" containers=istio-*`; got != want {
		t.Errorf("resources %q, want %q", got, want)
	}
}
