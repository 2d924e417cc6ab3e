package engine_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestACustomCheckThatBlowsUpATenantsStringIsStoppedBeforeItAllocates: CEL charges a string
// function's cost after the call, by the size of what it returned, so one call of replace or
// join on a string the tenant controls built its whole result first: `a.replace(”, a)` on a
// 16 KB annotation made a 256 MB string (hundreds of MB allocated in one evaluation; the 256 KiB
// annotations Kubernetes admits make 64 GiB, and the operator is killed for every namespace)
// before the cost limit stopped it. The result's size is now known before it is built, and a
// call whose result alone would go over the cost limit stops the expression, as the cost limit
// does, having allocated next to nothing; ordinary calls run as before.
func TestACustomCheckThatBlowsUpATenantsStringIsStoppedBeforeItAllocates(t *testing.T) {
	const a = "object.metadata.annotations['a']"
	big := strings.Repeat("x", 16<<10)
	stopped := fmt.Sprintf(engine.ExpressionStopped+"it exceeded the cost limit of %d", engine.CustomCheckCostLimit)
	cases := map[string]struct {
		expression string
		status     engine.Status
		message    string
	}{
		"replace of the empty string by the annotation": {
			expression: a + ".replace('', " + a + ").size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"replace with a limit": {
			expression: a + ".replace('', " + a + ", 100000).size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"replace whose error an || would absorb": {
			expression: a + ".replace('x', " + a + ").size() > 0 || true", status: engine.StatusNotAssessed, message: stopped,
		},
		"join with the annotation between its characters": {
			expression: a + ".substring(0, 4096).split('').join(" + a + ").size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"join of the annotation repeated": {
			expression: "lists.range(1000).map(i, " + a + ").join().size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"regex.replace of the empty match by the annotation": {
			expression: "regex.replace(" + a + ".substring(0, 1024), '', " + a + ").size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"regex.replace by a group the match repeats": {
			expression: "regex.replace(" + a + ", '(x*)', '" + strings.Repeat(`\\1`, 1000) + "').size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"format of a list that repeats the annotation": {
			expression: "'%s'.format([lists.range(1000).map(i, " + a + ")]).size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"format with the annotation in a hundred clauses": {
			expression: "'" + strings.Repeat("%s", 100) + "'.format([" + strings.TrimSuffix(strings.Repeat(a+", ", 100), ", ") + "]).size() > 0",
			status:     engine.StatusNotAssessed, message: stopped,
		},
		"format of the annotation as hex": {
			expression: "'" + strings.Repeat("%x", 40) + "'.format([" + strings.TrimSuffix(strings.Repeat(a+", ", 40), ", ") + "]).size() > 0",
			status:     engine.StatusNotAssessed, message: stopped,
		},
		"formats of the annotation that a map keeps": {
			expression: "lists.range(1000).map(i, '%s'.format([" + a + "])).size() > 0", status: engine.StatusNotAssessed, message: stopped,
		},
		"an ordinary format runs": {
			expression: "'%s-%d-%s-%s-%x'.format([object.metadata.name, 3, [1, 'a', true], {'k': 2.5}, 'hi']) == 'web-3-[1, a, true]-{k: 2.5}-6869' && '%s'.format([" + a + "]).size() == 16384",
			status:     engine.StatusPass,
		},
		"an ordinary regex.replace runs": {
			expression: "regex.replace(" + a + ", '(x)(x)', '\\\\2-\\\\\\\\', 100).size() == 16384 + 100", status: engine.StatusPass,
		},
		"an ordinary replace runs": {
			expression: a + ".replace('x', 'yy').size() == 32768", status: engine.StatusPass,
		},
		"an ordinary join runs": {
			expression: a + ".split('').join('-').size() == 32767", status: engine.StatusPass,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
				CustomChecks: []v1alpha1.CustomCheck{{ID: "custom-grow", Title: "grows", Kinds: []string{"Deployment"},
					Criteria: []v1alpha1.Criterion{"C1.1"}, Severity: v1alpha1.SeverityLow, Expression: tc.expression}},
			}}
			d := deployment("shop", "web", nil)
			d.Obj.(metav1.Object).SetAnnotations(map[string]string{"a": big})
			plan := engine.Compile(catalogue, profile)
			inv := engine.NewInventory([]*engine.Object{d}, true)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ev := plan.Evaluate(inv, nil, engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true,
				Approval: engine.ApprovalEnforced})
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %d KiB allocated", name, allocated>>10)
			// The built-in checks and the object's conversion take a few MB; the 256 MB result is
			// never built. Under -race, regex.replace of 16 KB allocated 145 MiB: a matcher per
			// match, the race detector's sync.Pool having dropped the one put back (raceEnabled).
			if allocated > 8<<20 && !raceEnabled {
				t.Errorf("one evaluation allocated %d MiB, want at most 8 MiB", allocated>>20)
			}
			rs := resultsOf(ev, "custom-grow")
			if len(rs) != 1 {
				t.Fatalf("%d results of custom-grow, want 1", len(rs))
			}
			if rs[0].Status != tc.status || (tc.message != "" && rs[0].Message != tc.message) {
				t.Errorf("custom-grow: %s %q, want %s %q", rs[0].Status, rs[0].Message, tc.status, tc.message)
			}
		})
	}
}
