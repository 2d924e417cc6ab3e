package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// linearFind is how exceptionIndex.find matched before it split its lists by check: every
// exception of the result's namespace, then every one of every namespace ("*"), by
// namespace/name. The oracle of TestIndexedExceptionsMatchAsEveryExceptionTriedInTurn.
func linearFind(nsLists map[string][]*ExceptionOutcome, everywhere []*ExceptionOutcome, r *Result) *ExceptionOutcome {
	for _, list := range [2][]*ExceptionOutcome{nsLists[resultNamespace(r.Object)], everywhere} {
		for _, e := range list {
			if e.covers(r) {
				return e
			}
		}
	}
	return nil
}

// linearWouldCover is what exceptionIndex.wouldCover recorded for r before the split: each
// pending exception, in the order find tries them, that comes before r's exception and covers r.
func linearWouldCover(nsLists map[string][]*ExceptionOutcome, everywhere []*ExceptionOutcome, r *Result) []*ExceptionOutcome {
	var out []*ExceptionOutcome
	for _, list := range [2][]*ExceptionOutcome{nsLists[resultNamespace(r.Object)], everywhere} {
		for _, e := range list {
			if precedes(e, r.Exception) && e.covers(r) {
				out = append(out, e)
			}
		}
	}
	return out
}

// linearLists are the lists the index held before the split, from the same outcomes.
func linearLists(idx *exceptionIndex) (map[string][]*ExceptionOutcome, []*ExceptionOutcome) {
	nsLists := map[string][]*ExceptionOutcome{}
	for ns, l := range idx.byNamespace {
		nsLists[ns] = l.all
	}
	return nsLists, idx.everywhere.all
}

// Exceptions are tried only on the results of the checks they name (by ID or criterion), which
// must change nothing of what covers what: for random exceptions (tenants' and the operator's
// namespace's, for some namespaces or "*", naming checks or criteria, kinds, names, labels and
// containers, Active, PendingApproval or neither, for this profile or another) over random
// results (of the plan's checks and of one that is not the plan's), the index finds the same
// exception as trying every one in turn, Waiver the same, and each pending exception would
// cover the same results.
func TestIndexedExceptionsMatchAsEveryExceptionTriedInTurn(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	criteria := []v1alpha1.Criterion{"CC6.1", "CC6.3", "CC6.6", "CC6.8", "CC7.2", "A1.2"}
	severities := []v1alpha1.Severity{v1alpha1.SeverityLow, v1alpha1.SeverityMedium, v1alpha1.SeverityHigh, v1alpha1.SeverityCritical}
	var catalogue []*Check
	for i := range 8 {
		catalogue = append(catalogue, &Check{ID: fmt.Sprintf("test-%d", i), Title: "test", Severity: severities[i%len(severities)],
			Criteria: []v1alpha1.Criterion{criteria[i%len(criteria)], criteria[(i*5+2)%len(criteria)]}, Targets: []string{KindWorkload},
			Evaluate: func(ctx *Context, o *Object) {}})
	}
	namespaces := []string{"shop", "billing", "", DefaultAdminNamespace}
	names := []string{"web", "api", "db", "web-1", "api-2"}
	containers := []string{"app", "init", "sidecar"}
	pick := func(random *rand.Rand, from []string) string { return from[random.IntN(len(from))] }
	some := func(random *rand.Rand, from []string) []string {
		var out []string
		for _, s := range from {
			if random.IntN(3) == 0 {
				out = append(out, s)
			}
		}
		return out
	}
	var found, would, strangers int
	for seed := range uint64(200) {
		random := rand.New(rand.NewPCG(seed, 7))
		maxSeverity := severities[random.IntN(len(severities))]
		no := false
		profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Spec: v1alpha1.ComplianceProfileSpec{ExceptionPolicy: &v1alpha1.ExceptionPolicy{MaxSeverity: maxSeverity}}}
		if random.IntN(2) == 0 {
			profile.Spec.ExceptionPolicy.RequireApproval = &no
		}
		if random.IntN(3) == 0 {
			// A profile that reports some criteria only: a check's other criteria still name it.
			profile.Spec.Criteria = []v1alpha1.Criterion{criteria[random.IntN(len(criteria))]}
		}
		plan := Compile(catalogue, profile)
		var outcomes []*ExceptionOutcome
		for i := range 1 + random.IntN(40) {
			ns := pick(random, []string{"shop", "billing", DefaultAdminNamespace})
			ex := &v1alpha1.ControlException{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ex-%02d", i), Namespace: ns, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
				Spec:       v1alpha1.ControlExceptionSpec{Reason: "test", Owner: "test", Expires: metav1.NewTime(now.Add(time.Hour)), RequestedBy: "alice"},
			}
			if random.IntN(2) == 0 {
				ex.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: "bob"}
			}
			if random.IntN(5) == 0 {
				ex.Spec.Profiles = []string{pick(random, []string{"p", "other"})}
			}
			s := &ex.Spec
			for _, c := range catalogue {
				if random.IntN(6) == 0 {
					s.Checks = append(s.Checks, c.ID)
				}
			}
			for _, c := range criteria {
				if random.IntN(8) == 0 {
					s.Criteria = append(s.Criteria, c)
				}
			}
			if len(s.Checks)+len(s.Criteria) == 0 {
				s.Checks = []string{catalogue[random.IntN(len(catalogue))].ID}
			}
			if ns == DefaultAdminNamespace && random.IntN(2) == 0 {
				s.Match.Namespaces = some(random, []string{"*", "shop", "billing", ""})
			}
			s.Match.Kinds = some(random, []string{"Deployment", "Pod", KindWorkload, "Deployment.apps"})
			s.Match.Names = some(random, []string{"web", "api*", "*-1", "db"})
			s.Match.Containers = some(random, []string{"app", "init", "s*"})
			if random.IntN(4) == 0 {
				s.Match.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": pick(random, []string{"front", "back"})}}
			}
			outcomes = append(outcomes, plan.JudgeException(ex, ExceptionOptions{Now: now, AdminNamespace: DefaultAdminNamespace, Approval: ApprovalEnforced}))
		}
		sortOutcomes(outcomes)
		active := newExceptionIndex(plan, outcomes)
		pending := indexExceptions(plan, outcomes, v1alpha1.ExceptionPendingApproval)
		activeNS, activeEverywhere := linearLists(active)
		pendingNS, pendingEverywhere := linearLists(pending)
		ev := &Evaluation{Plan: plan, Exceptions: outcomes}
		table := &[]CoveredItem{}
		wantWould := map[*ExceptionOutcome][]int32{}
		// A check as another plan runs it (its index is not its place in this plan's checks):
		// every exception is tried on it, as before.
		stranger := &PlannedCheck{Check: catalogue[3], Severity: v1alpha1.SeverityLow, index: 1}
		for j := range 60 {
			ns := pick(random, namespaces)
			meta := metav1.ObjectMeta{Name: pick(random, names), Namespace: ns, Labels: map[string]string{"tier": pick(random, []string{"front", "back"})}}
			var o *Object
			switch {
			case ns == "":
				o = NewObject(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: pick(random, []string{"shop", "billing"})}}, "v1", "Namespace")
			case random.IntN(2) == 0:
				o = NewObject(&appsv1.Deployment{ObjectMeta: meta}, "apps/v1", "Deployment")
			default:
				o = NewObject(&corev1.Pod{ObjectMeta: meta}, "v1", "Pod")
			}
			check := stranger
			if j%10 != 0 {
				check = plan.Checks[random.IntN(len(plan.Checks))]
			}
			r := &Result{Check: check, Object: o, Status: StatusFail}
			if random.IntN(2) == 0 {
				r.Container = pick(random, containers)
			}
			want := linearFind(activeNS, activeEverywhere, r)
			if got := active.find(r); got != want {
				t.Fatalf("seed %d: %s of %s %s/%s container %q: the index finds %s, trying every exception finds %s",
					seed, check.ID, o.Kind, o.Namespace, o.Name, r.Container, keyOf(got), keyOf(want))
			}
			if got := ev.Waiver(r); got != want {
				t.Fatalf("seed %d: Waiver of %s on %s/%s is %s, want %s", seed, check.ID, o.Namespace, o.Name, keyOf(got), keyOf(want))
			}
			if want != nil {
				found++
				if check == stranger {
					strangers++
				}
			}
			r.Exception = want
			at := int32(len(*table))
			for _, e := range linearWouldCover(pendingNS, pendingEverywhere, r) {
				wantWould[e] = append(wantWould[e], at)
				would++
			}
			pending.wouldCover(r, table)
		}
		for _, e := range outcomes {
			var got []int32
			for _, ns := range e.WouldCoverNamespaces() {
				got = append(got, e.wouldCover[ns]...)
			}
			slices.Sort(got)
			if !slices.Equal(got, wantWould[e]) {
				t.Fatalf("seed %d: %s (%s) would cover results %v, want %v", seed, e.Key, e.State, got, wantWould[e])
			}
		}
	}
	// Not a comparison of nothing with nothing.
	if found < 500 || would < 500 || strangers < 20 {
		t.Fatalf("only %d results covered (%d of the other plan's check), %d would be by pending exceptions: the random exceptions match too little", found, strangers, would)
	}
	t.Logf("%d results covered (%d of the other plan's check), %d would be by pending exceptions", found, strangers, would)
}

func keyOf(e *ExceptionOutcome) string {
	if e == nil {
		return "none"
	}
	return e.Key
}
