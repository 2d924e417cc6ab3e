package controllers

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// Two workers can evaluate a namespace at once; the one that started first may fail after the
// other has written the report. The report is current, so it must not count as stale.
func TestAnOlderFailedEvaluationDoesNotMarkAWrittenReportStale(t *testing.T) {
	st := newState()
	ps := st.plan(&v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "state-order", UID: "1"}}, checks.Catalogue())
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

	st.markUnwritten(ps, "shop", t0) // the outage
	st.markWritten(ps, "shop", t0.Add(2*time.Second))
	st.markUnwritten(ps, "shop", t0.Add(time.Second)) // an evaluation begun before that write
	if n := len(ps.unwritten); n != 0 {
		t.Fatalf("after an older evaluation failed, %d namespaces count as unwritten; want 0", n)
	}
	st.markUnwritten(ps, "shop", t0.Add(3*time.Second)) // a newer one failing does count
	if n := len(ps.unwritten); n != 1 {
		t.Fatalf("after a newer evaluation failed, %d namespaces count as unwritten; want 1", n)
	}
}

// A profile edit recompiles its plan; the reports whose latest evaluation could not be written
// are no more current for it. Until the new plan's evaluations write them, they still count in
// soc2_operator_reports_stale, whatever other namespace is written meanwhile.
func TestAProfileEditKeepsUnwrittenReportsCounted(t *testing.T) {
	st := newState()
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "state-edit", UID: "1", Generation: 1}}
	t.Cleanup(func() { metrics.ForgetProfile(profile.Name) })
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st.markUnwritten(st.plan(profile, checks.Catalogue()), "shop", t0) // the API server refuses its write

	profile.Generation = 2 // edited: a new plan
	ps := st.plan(profile, checks.Catalogue())
	st.markWritten(ps, "other", t0.Add(time.Second)) // another namespace evaluated and written first
	if n := gaugeValue(t, metrics.ReportsStale.WithLabelValues(profile.Name)); n != 1 {
		t.Fatalf("soc2_operator_reports_stale = %v after the profile edit, want 1 (shop's report is still not written)", n)
	}
	st.markWritten(ps, "shop", t0.Add(2*time.Second))
	if n := gaugeValue(t, metrics.ReportsStale.WithLabelValues(profile.Name)); n != 0 {
		t.Fatalf("soc2_operator_reports_stale = %v once shop's report is written, want 0", n)
	}
}

func gaugeValue(t *testing.T, g interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	m := &dto.Metric{}
	if err := g.Write(m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// New failing findings are alerted on at most maxFindings per evaluation, the most severe
// first (a tenant's thousand new failing Pods must not flood the queues every namespace
// shares); those left out stay new for the next evaluation, and none is sent twice.
func TestNewFindingsAreAlertedOnAFewAtATime(t *testing.T) {
	plan := engine.Compile(checks.Catalogue(), &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}})
	var objs []*engine.Object
	for _, name := range []string{"a", "b", "c"} {
		d := deployment("shop", name, false)
		d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "hunter2-hunter2"}}
		objs = append(objs, engine.NewObject(d, "apps/v1", "Deployment"))
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sum := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now}).Summary("shop")

	_, baseline := freshFailures(sum, nil, false, nil, nil, 50, now)
	if fresh, _ := freshFailures(sum, baseline, true, nil, nil, 50, now); len(fresh) != 0 {
		t.Fatalf("an unchanged evaluation has new findings: %v", fresh)
	}

	// After an empty namespace, every failing finding is new: a few at a time, the most severe
	// first, each once.
	seen := map[string]int{}
	alerted := map[uint64]bool{}
	last := 0
	for range sum.Failing {
		fresh, next := freshFailures(sum, alerted, true, nil, nil, 2, now)
		if len(fresh) > 2 {
			t.Fatalf("%d new findings alerted on at once, want at most maxFindings 2", len(fresh))
		}
		for _, f := range fresh {
			seen[f.Check+" "+f.Resource.Name+" "+f.Container]++
			if rank := engine.SeverityRank(f.Severity); rank < last {
				t.Errorf("%s (%s) alerted on after a less severe finding", f.Check, f.Severity)
			} else {
				last = rank
			}
		}
		alerted = next
	}
	if len(seen) != sum.Failing {
		t.Errorf("%d of %d failing findings alerted on: %v", len(seen), sum.Failing, seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s alerted on %d times", k, n)
		}
	}
}

// TestJudgedExceptionsAreForgottenWhenGone: the state remembers which generation of each
// exception an evaluation judged Active (state.matched's current), and forgets an exception
// once an evaluation that read its namespace's exceptions no longer finds it: a tenant who
// creates and deletes exceptions must not grow it without bound. Judging records the
// generation, and another object under the same name is not current.
func TestJudgedExceptionsAreForgottenWhenGone(t *testing.T) {
	st := newState()
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "state-judged", UID: "1"}}
	ps := st.plan(profile, checks.Catalogue())
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	outcome := func(ns, name string, uid string, generation int64) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Generation: generation}}
		return &engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey(ns, name), State: v1alpha1.ExceptionActive, AppliesTo: true}
	}
	sum := &engine.Summary{}
	a, b, other := outcome("shop", "a", "ua", 2), outcome("shop", "b", "ub", 1), outcome("blog", "c", "uc", 1)
	st.recordNamespace(ps, "shop", t0, 1, sum, []*engine.ExceptionOutcome{a, b}, nil, nil)
	st.recordNamespace(ps, "blog", t0, 2, sum, []*engine.ExceptionOutcome{other}, nil, nil)
	if _, _, _, current := st.matched(a.Key, "ua", 2, []string{profile.Name}); !current {
		t.Errorf("exception a judged at generation 2 is not current at 2")
	}
	if _, _, _, current := st.matched(a.Key, "ua", 3, []string{profile.Name}); current {
		t.Errorf("exception a judged at generation 2 is current at 3")
	}
	if _, _, _, current := st.matched(a.Key, "another", 2, []string{profile.Name}); current {
		t.Errorf("another object named a is current")
	}
	st.recordNamespace(ps, "shop", t0, 3, sum, []*engine.ExceptionOutcome{a}, nil, nil) // b deleted
	if _, ok := ps.judged[b.Key]; ok {
		t.Errorf("exception b, gone from its namespace, is still remembered")
	}
	if _, ok := ps.judged[other.Key]; !ok {
		t.Errorf("exception blog/c was forgotten by an evaluation of shop")
	}
	st.recordJudgedEverywhere(ps, []*engine.ExceptionOutcome{a})
	if len(ps.judged) != 1 {
		t.Errorf("after a full evaluation that judged only a, %d exceptions are remembered", len(ps.judged))
	}
}

// TestAnApprovalsBaselineIsWhatItsFirstEvaluationsFound: what an approval covers
// (state.firstCovered) is what the first evaluation of each namespace with the approval's
// generation found: a later evaluation of that generation (a workload relabelled in) or one
// that read an earlier generation does not replace or add to it, and a new generation
// (approved again) starts again. An exception that covered nothing is "none", not unknown.
func TestAnApprovalsBaselineIsWhatItsFirstEvaluationsFound(t *testing.T) {
	st := newState()
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "state-first", UID: "1"}}
	ps := st.plan(profile, checks.Catalogue())
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	key := engine.ExceptionKey(adminNamespace, "a")
	outcome := func(generation int64) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Namespace: adminNamespace, Name: "a", UID: "ua", Generation: generation},
			Spec: v1alpha1.ControlExceptionSpec{Match: v1alpha1.ResourceMatch{Namespaces: []string{"shop", "blog"}}}}
		return &engine.ExceptionOutcome{Exception: ex, Key: key, State: v1alpha1.ExceptionActive, AppliesTo: true}
	}
	sum := &engine.Summary{}
	digestOf := func(places ...[2]string) string {
		var all [][3]string
		for _, p := range places {
			all = append(all, [3]string{profile.Name, p[0], p[1]})
		}
		return report.CombinedDigest(all)
	}
	seq := uint64(0)
	for _, step := range []struct {
		what       string
		generation int64
		ns, digest string
		at         int64
		want       string
	}{
		{"the first evaluation of shop at generation 2", 2, "shop", "sha256:first", 2, digestOf([2]string{"shop", "sha256:first"})},
		{"a later one, a workload relabelled in", 2, "shop", "sha256:relabelled", 2, digestOf([2]string{"shop", "sha256:first"})},
		{"one of blog that read generation 1", 1, "blog", "sha256:stale", 2, digestOf([2]string{"shop", "sha256:first"})},
		{"the first of blog at generation 2", 2, "blog", "sha256:blog", 2, digestOf([2]string{"shop", "sha256:first"}, [2]string{"blog", "sha256:blog"})},
		{"generation 3, approved again", 3, "shop", "sha256:again", 3, digestOf([2]string{"shop", "sha256:again"})},
		{"generation 3, asked of generation 2", 3, "shop", "sha256:again", 2, ""},
		{"generation 4, covering nothing", 4, "shop", "", 4, noneCovered},
	} {
		covered := map[string]string{}
		if step.digest != "" {
			covered[key] = step.digest
		}
		seq++
		st.recordNamespace(ps, step.ns, t0, seq, sum, []*engine.ExceptionOutcome{outcome(step.generation)}, covered, nil)
		if got := st.firstCovered(key, "ua", step.at); got != step.want {
			t.Errorf("after %s, the baseline of generation %d is %q, want %q", step.what, step.at, got, step.want)
		}
	}
	if got := st.firstCovered(key, "another", 4); got != "" {
		t.Errorf("another object under the name has the baseline %q", got)
	}
}
