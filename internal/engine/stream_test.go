package engine_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// TestStreamIsEvaluate: a streamed evaluation (scan's: objects whose checks are all local judged
// as they are added, and let go) gives what Evaluate gives over the same objects, result for
// result in the same order, with the same summaries, populations and exception outcomes; the
// results of objects let go point to what release made of them. So does one that keeps
// workloads in compact form (Stream.Compact, engine.CompactWorkload): their
// local checks judged as they are added, their cross-object checks at the end.
func TestStreamIsEvaluate(t *testing.T) {
	gen := testgen.Generate(testgen.Options{Namespaces: 6, Workloads: 300, FailingEvery: 2, RBACObjects: 60})
	plain := testgen.EngineObjects(gen)
	withPods, _ := withControllerPods(plain)
	plan := engine.Compile(checks.Catalogue(), nil)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	exceptions := []*v1alpha1.ControlException{
		dayException(t, "ex", now, v1alpha1.ResourceMatch{Names: []string{"app-*"}}, "wl-host-network", "wl-privileged", "net-service-exposure"),
		// Cross-object checks, judged on the compact form, matched by the workload's labels.
		dayException(t, "by-labels", now, v1alpha1.ResourceMatch{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": gen0(t)}}},
			"net-pod-policy-coverage", "sa-token-automount", "avl-topology-spread"),
	}
	cases := []struct {
		name    string
		objs    []*engine.Object
		compact bool
	}{
		{"whole", withPods, false},
		{"compact", plain, true},
		// Controllers after the objects that name them: those controllers are kept whole.
		{"compact, controllers last", controllersLast(withPods), true},
	}
	for _, tc := range cases {
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/keep-passing=%v", tc.name, keep), func(t *testing.T) {
				opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: keep, Approval: engine.ApprovalOffline}
				want := plan.Evaluate(engine.NewInventory(tc.objs, false), exceptions, opts)

				released := map[*engine.Object]bool{} // the stubs release returned
				// The objects let go at Finish (kept to the end), and the compact forms among
				// them (CompactWorkload: a workload without its pod spec).
				atFinish, compacted := map[*engine.Object]bool{}, map[*engine.Object]bool{}
				finishing := false
				s := plan.NewStream(exceptions, opts, func(o *engine.Object) *engine.Object {
					if atFinish[o] || released[o] {
						t.Errorf("%s let go twice", o.Ref())
					}
					if finishing {
						atFinish[o] = true
						if o.Workload != nil && o.Workload.PodSpec == nil {
							compacted[o] = true
						}
					}
					stub := &engine.Object{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Obj: o.Obj}
					released[stub] = true
					return stub
				})
				if tc.compact {
					s.Compact()
				}
				for _, o := range tc.objs {
					s.Add(o)
				}
				finishing = true
				got := s.Finish()
				// Every result points to what release returned: the stream holds no object
				// once it has finished (and what the outputs print is all the results keep).
				for _, r := range got.Results {
					if r.Object != nil && !released[r.Object] {
						t.Fatalf("a result of %s points to the object read, not to what release returned", r.Object.Ref())
					}
				}
				if len(atFinish) == 0 {
					t.Fatal("no object was kept to the end")
				}

				if s.FullNeeded() {
					t.Fatal("FullNeeded: no object names a controller added before it")
				}
				if len(released) == 0 {
					t.Fatal("no object was let go: every object was held to the end")
				}
				if tc.compact && len(compacted) < 150 {
					t.Fatalf("%d workloads kept in compact form: the test does not exercise Compact", len(compacted))
				}
				if a, b := describeResults(want), describeResults(got); !slices.Equal(a, b) {
					i := firstDifference(a, b)
					t.Fatalf("results differ: %d from Evaluate, %d streamed; first difference at %d:\n  %s\n  %s", len(a), len(b), i, at(a, i), at(b, i))
				}
				if len(want.Summaries) != len(got.Summaries) {
					t.Fatalf("%d summaries from Evaluate, %d streamed", len(want.Summaries), len(got.Summaries))
				}
				for ns, w := range want.Summaries {
					g := got.Summaries[ns]
					if g == nil {
						t.Fatalf("no streamed summary for namespace %q", ns)
					}
					if fmt.Sprint(w.Resources, w.Failing, w.Excepted, w.Passed, w.NotAssessed, w.NotApplicable, *w.Score, w.State, w.Criteria) !=
						fmt.Sprint(g.Resources, g.Failing, g.Excepted, g.Passed, g.NotAssessed, g.NotApplicable, *g.Score, g.State, g.Criteria) {
						t.Errorf("namespace %q: summaries differ", ns)
					}
					if !slices.Equal(w.Objects, g.Objects) {
						t.Errorf("namespace %q: objects judged differ (or their order)", ns)
					}
					if len(w.Findings) != len(g.Findings) {
						t.Errorf("namespace %q: %d findings from Evaluate, %d streamed", ns, len(w.Findings), len(g.Findings))
					}
				}
				for i, e := range want.Exceptions {
					if g := got.Exceptions[i]; e.Key != g.Key || e.Matched != g.Matched || e.State != g.State {
						t.Errorf("exception %s: matched %d (%s) from Evaluate, %d (%s) streamed", e.Key, e.Matched, e.State, g.Matched, g.State)
					}
					if e.Matched == 0 {
						t.Errorf("exception %s covers nothing: the test does not exercise it", e.Key)
					}
				}
				for _, r := range got.Results {
					if r.Object != nil && !released[r.Object] && !compacted[r.Object] && !slices.Contains(tc.objs, r.Object) {
						t.Fatalf("result of %s points to an object that is neither given, released nor compacted", r.Object.Ref())
					}
				}
			})
		}
	}
}

// TestStreamNeedsFullObjects: an object that names as its controller a workload the stream kept
// in compact form makes FullNeeded true (scan evaluates again without Compact: whether the object
// is explained by the controller's template compares what the compact form leaves out); a
// controller named before it is added, or by an object announced with Expect, is kept whole,
// and then nothing is needed.
func TestStreamNeedsFullObjects(t *testing.T) {
	gen := testgen.Generate(testgen.Options{Namespaces: 2, Workloads: 16})
	withPods, made := withControllerPods(testgen.EngineObjects(gen))
	if made == 0 {
		t.Fatal("no controlled objects made")
	}
	plan := engine.Compile(checks.Catalogue(), nil)
	opts := engine.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Approval: engine.ApprovalOffline}
	for _, tc := range []struct {
		name   string
		objs   []*engine.Object
		expect bool // the objects are announced first (Expect), as a file's are
		want   bool
	}{
		{"controllers first", withPods, false, true},
		{"controllers last", controllersLast(withPods), false, false},
		{"controllers first, expected", withPods, true, false},
	} {
		s := plan.NewStream(nil, opts, nil)
		s.Compact()
		if tc.expect {
			s.Expect(tc.objs)
		}
		for _, o := range tc.objs {
			s.Add(o)
		}
		s.Finish()
		if s.FullNeeded() != tc.want {
			t.Errorf("%s: FullNeeded is %v, want %v", tc.name, s.FullNeeded(), tc.want)
		}
	}
}

// controllersLast moves each Deployment and ReplicaSet after the objects that follow it until the
// next Deployment (withControllerPods puts a Deployment, then its ReplicaSet, then its Pods).
func controllersLast(objs []*engine.Object) []*engine.Object {
	out := make([]*engine.Object, 0, len(objs))
	var held []*engine.Object
	for _, o := range objs {
		if o.Kind == "Deployment" {
			out = append(out, held...)
			held = held[:0]
		}
		if o.Kind == "Deployment" || o.Kind == "ReplicaSet" {
			held = append([]*engine.Object{o}, held...)
			continue
		}
		out = append(out, o)
	}
	return append(out, held...)
}

func at(list []string, i int) string {
	if i < len(list) {
		return list[i]
	}
	return "(none)"
}

// gen0 is the first namespace testgen makes.
func gen0(t *testing.T) string {
	t.Helper()
	return testgen.Options{Namespaces: 6}.NamespaceName(0)
}

// dayException is an exception in the first generated namespace for checks of the objects
// match matches, expiring a day after now.
func dayException(t *testing.T, name string, now time.Time, match v1alpha1.ResourceMatch, checks ...string) *v1alpha1.ControlException {
	t.Helper()
	return &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: gen0(t)},
		Spec: v1alpha1.ControlExceptionSpec{Checks: checks, Reason: "test", Owner: "test",
			Expires: metav1.NewTime(now.Add(24 * time.Hour)), Match: match},
	}
}

func describeResults(ev *engine.Evaluation) []string {
	out := make([]string, 0, len(ev.Results))
	for _, r := range ev.Results {
		ref, exc := "", ""
		if r.Object != nil {
			ref = r.Object.Ref().String()
		}
		if r.Exception != nil {
			exc = r.Exception.Key
		}
		out = append(out, fmt.Sprintf("%s %s %s %s %q %s", r.Check.ID, ref, r.Container, r.Status, r.Message, exc))
	}
	return out
}

func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestStreamOnOneOrManyCores: a Stream judges on GOMAXPROCS goroutines, and the evaluation is
// the one a single goroutine makes, result for result and in the same order (run with -race to
// check what the goroutines share).
func TestStreamOnOneOrManyCores(t *testing.T) {
	gen := testgen.Generate(testgen.Options{Namespaces: 6, Workloads: 600, FailingEvery: 2, RBACObjects: 60})
	objs, _ := withControllerPods(testgen.EngineObjects(gen))
	plan := engine.Compile(checks.Catalogue(), nil)
	opts := engine.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalOffline}
	stream := func(procs int) []string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		s := plan.NewStream(nil, opts, nil)
		for _, o := range objs {
			s.Add(o)
		}
		return describeResults(s.Finish())
	}
	one := stream(1)
	if len(one) < 1000 {
		t.Fatalf("only %d results: too few to spread over goroutines", len(one))
	}
	for _, procs := range []int{2, 4} {
		if many := stream(procs); !slices.Equal(one, many) {
			t.Errorf("GOMAXPROCS=%d: %d results, %d on one; first difference at %d", procs, len(many), len(one), firstDifference(one, many))
		}
	}
}

// TestNoSummaryFindings: with NoSummaryFindings the summaries list no findings and nothing else
// changes: the same results in the same order, the same counts, criteria and scores.
func TestNoSummaryFindings(t *testing.T) {
	gen := testgen.Generate(testgen.Options{Namespaces: 4, Workloads: 80, FailingEvery: 2, RBACObjects: 20})
	objs := testgen.EngineObjects(gen)
	plan := engine.Compile(checks.Catalogue(), nil)
	opts := engine.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Approval: engine.ApprovalOffline}
	want := plan.Evaluate(engine.NewInventory(objs, false), nil, opts)
	opts.NoSummaryFindings = true
	s := plan.NewStream(nil, opts, nil)
	for _, o := range objs {
		s.Add(o)
	}
	got := s.Finish()
	if a, b := describeResults(want), describeResults(got); !slices.Equal(a, b) {
		t.Fatalf("results differ: %d with summary findings, %d without; first difference at %d", len(a), len(b), firstDifference(a, b))
	}
	listed := 0
	for ns, w := range want.Summaries {
		g := got.Summaries[ns]
		if g == nil {
			t.Fatalf("no summary for namespace %q", ns)
		}
		if fmt.Sprint(w.Resources, w.Failing, w.Excepted, w.Passed, *w.Score, w.State, w.Criteria) !=
			fmt.Sprint(g.Resources, g.Failing, g.Excepted, g.Passed, *g.Score, g.State, g.Criteria) {
			t.Errorf("namespace %q: summaries differ", ns)
		}
		if len(g.Findings) != 0 {
			t.Errorf("namespace %q: %d findings listed", ns, len(g.Findings))
		}
		listed += len(w.Findings)
	}
	if listed == 0 {
		t.Fatal("no summary lists a finding without the option: the test shows nothing")
	}
}

// TestFindingsOnly: with FindingsOnly an evaluation keeps the failing and excepted results, in
// the order it would keep them otherwise, and no other; undecided results and passes are still
// counted, so every summary and exception outcome is the same (scan's table and json findings
// are made from them).
func TestFindingsOnly(t *testing.T) {
	gen := testgen.Generate(testgen.Options{Namespaces: 6, Workloads: 60, FailingEvery: 2, RBACObjects: 20})
	objs := testgen.EngineObjects(gen)
	plan := engine.Compile(checks.Catalogue(), nil)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	exceptions := []*v1alpha1.ControlException{
		dayException(t, "ex", now, v1alpha1.ResourceMatch{Names: []string{"app-*"}}, "wl-host-network", "wl-privileged", "net-pod-policy-coverage"),
	}
	evaluations := func(opts engine.Options) map[string]*engine.Evaluation {
		s := plan.NewStream(exceptions, opts, nil)
		s.Compact()
		for _, o := range objs {
			s.Add(o)
		}
		return map[string]*engine.Evaluation{
			"Evaluate": plan.Evaluate(engine.NewInventory(objs, false), exceptions, opts),
			"Stream":   s.Finish(),
		}
	}
	opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, Approval: engine.ApprovalOffline}
	all := evaluations(opts)
	opts.FindingsOnly, opts.KeepPassing = true, true // FindingsOnly wins
	only := evaluations(opts)
	for name, ev := range all {
		var want []string
		undecided, excepted := 0, 0
		described := describeResults(ev)
		for i, r := range ev.Results {
			switch r.Status {
			case engine.StatusFail, engine.StatusExcepted:
				want = append(want, described[i])
				if r.Status == engine.StatusExcepted {
					excepted++
				}
			case engine.StatusNotAssessed:
				undecided++
			}
		}
		if undecided == 0 || excepted == 0 {
			t.Fatalf("%s: %d undecided and %d excepted results kept without FindingsOnly: the test shows nothing", name, undecided, excepted)
		}
		got := only[name]
		if g := describeResults(got); !slices.Equal(want, g) {
			i := firstDifference(want, g)
			t.Fatalf("%s: %d findings kept without FindingsOnly, %d results with it; first difference at %d:\n  %s\n  %s", name, len(want), len(g), i, at(want, i), at(g, i))
		}
		for ns, w := range ev.Summaries {
			g := got.Summaries[ns]
			if fmt.Sprint(w.Resources, w.Failing, w.Excepted, w.Passed, w.NotAssessed, w.NotApplicable, *w.Score, w.State, w.Criteria, len(w.Findings)) !=
				fmt.Sprint(g.Resources, g.Failing, g.Excepted, g.Passed, g.NotAssessed, g.NotApplicable, *g.Score, g.State, g.Criteria, len(g.Findings)) {
				t.Errorf("%s: namespace %q: summaries differ", name, ns)
			}
		}
		for i, e := range ev.Exceptions {
			if g := got.Exceptions[i]; e.Matched != g.Matched {
				t.Errorf("%s: exception %s matched %d without FindingsOnly, %d with it", name, e.Key, e.Matched, g.Matched)
			}
		}
	}
}

// TestKeptResultsShareTheirMessages: results kept with the same message share one copy of it
// (checks format a fresh one for every object): a scan of many alike workloads keeps each
// message once, not once per result.
func TestKeptResultsShareTheirMessages(t *testing.T) {
	gen := testgen.Generate(testgen.Options{Namespaces: 2, Workloads: 100, FailingEvery: 1})
	objs := testgen.EngineObjects(gen)
	plan := engine.Compile(checks.Catalogue(), nil)
	opts := engine.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Approval: engine.ApprovalOffline}
	streamed := func() *engine.Evaluation {
		s := plan.NewStream(nil, opts, nil)
		for _, o := range objs {
			s.Add(o)
		}
		return s.Finish()
	}
	for name, ev := range map[string]*engine.Evaluation{
		"Evaluate": plan.Evaluate(engine.NewInventory(objs, false), nil, opts),
		"Stream":   streamed(),
	} {
		copies := map[string]map[*byte]bool{} // message -> the memory of its copies
		for _, r := range ev.Results {
			if r.Message == "" {
				continue
			}
			if copies[r.Message] == nil {
				copies[r.Message] = map[*byte]bool{}
			}
			copies[r.Message][unsafe.StringData(r.Message)] = true
		}
		shared := 0
		for msg, c := range copies {
			if len(c) > 1 {
				t.Errorf("%s: %d copies of %q", name, len(c), msg)
			}
			shared++
		}
		if len(ev.Results) < 4*shared {
			t.Fatalf("%s: %d results with %d messages: too few repeats to show sharing", name, len(ev.Results), shared)
		}
	}
}

// TestMessagesShared: the results an evaluation keeps share one copy of each message (checks
// format a fresh one for every object), whether Evaluate kept them (the builder interns) or a
// Stream did (its packed results refer to one list of messages).
func TestMessagesShared(t *testing.T) {
	objs := testgen.EngineObjects(testgen.Generate(testgen.Options{Namespaces: 3, Workloads: 60, FailingEvery: 2, RBACObjects: 20}))
	plan := engine.Compile(checks.Catalogue(), nil)
	opts := engine.Options{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), AdminNamespace: engine.DefaultAdminNamespace}
	stream := plan.NewStream(nil, opts, nil)
	stream.Compact()
	for _, o := range objs {
		stream.Add(o)
	}
	for name, ev := range map[string]*engine.Evaluation{"Evaluate": plan.Evaluate(engine.NewInventory(objs, false), nil, opts), "Stream": stream.Finish()} {
		copies, withMessage := map[string]map[*byte]bool{}, 0
		for _, r := range ev.Results {
			if r.Message != "" {
				if copies[r.Message] == nil {
					copies[r.Message] = map[*byte]bool{}
				}
				copies[r.Message][unsafe.StringData(r.Message)] = true
				withMessage++
			}
		}
		if withMessage <= len(copies) {
			t.Fatalf("%s: %d results with %d messages: no message is repeated, the test shows nothing", name, withMessage, len(copies))
		}
		for msg, data := range copies {
			if len(data) != 1 {
				t.Errorf("%s: %d copies of %q", name, len(data), msg)
			}
		}
	}
}
