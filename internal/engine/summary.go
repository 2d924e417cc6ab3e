package engine

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Summary rolls up the results of one namespace (or of the cluster-scoped objects, or of a
// whole cluster) per criterion.
//
// The score is the severity-weighted share of assessed checks that hold:
//
//	score = floor(100 × Σ weight(check) over assessed checks with no failing result
//	                  / Σ weight(check) over assessed checks)
//
// where a check is assessed when it passed, failed or was excepted on at least one resource,
// or left one unread (Result.Unread, without an exception), an excepted failure holds (the risk
// is accepted and visible), a check with an unread result does not hold (it fails closed), and
// the weights are Critical 10, High 5, Medium 2 and Low 1. NotApplicable and other NotAssessed
// results do not count; with nothing assessed there is no score.
type Summary struct {
	// Namespace is the namespace summarised; "" for cluster-scoped objects or a merge.
	Namespace string
	// Resources is how many objects were evaluated.
	Resources int
	// State is NonCompliant when a criterion fails, NotAssessed when none was assessed.
	State v1alpha1.ComplianceState
	// Score is 0-100, or nil when nothing was assessed.
	Score *int32
	// Criteria are the criteria in scope, in catalogue order.
	Criteria []v1alpha1.CriterionStatus
	// FailedCriteria is how many criteria have status Fail.
	FailedCriteria int
	// Failing, Excepted, Passed, NotAssessed and NotApplicable count results.
	Failing, Excepted, Passed, NotAssessed, NotApplicable int
	// Unread counts those of the NotAssessed results that their object left unread
	// (Result.Unread) and no exception waives: each makes its criterion Fail.
	Unread int
	// FailingBySeverity counts failing results by severity.
	FailingBySeverity map[v1alpha1.Severity]int
	// UnreadBySeverity counts the unread results (Unread) by severity.
	UnreadBySeverity map[v1alpha1.Severity]int
	// Findings are the failing and excepted results, and the NotAssessed ones their object
	// decided (Result.FailedOnObject, unread ones among them), most severe first, failures
	// before the others, then by check, kind, name and container.
	Findings []*Result

	// Objects are the objects evaluated, in inventory order (the populations of the checks;
	// see Population). Compact drops them.
	Objects []ObjectID

	tallies []checkTally // by PlannedCheck.index
}

type checkTally struct{ pass, fail, excepted, notAssessed, unread int }

// assessed: the check decided at least one resource, or failed closed on one it did not read
// (Result.Unread).
func (t checkTally) assessed() bool { return t.pass+t.fail+t.excepted+t.unread > 0 }

// unassessed: the check had resources to judge but assessed none of them (every result NotAssessed).
func (t checkTally) unassessed() bool { return !t.assessed() && t.notAssessed > 0 }

// undecided: the check assessed some resources and left others NotAssessed (unread ones too).
func (t checkTally) undecided() bool { return t.assessed() && t.notAssessed+t.unread > 0 }

func newSummary(p *Plan, ns string) *Summary {
	return &Summary{Namespace: ns, FailingBySeverity: map[v1alpha1.Severity]int{}, UnreadBySeverity: map[v1alpha1.Severity]int{},
		tallies: make([]checkTally, len(p.Checks))}
}

// finish settles criteria, score and state from the tallies, and orders the findings.
func (s *Summary) finish(p *Plan) {
	s.Criteria = make([]v1alpha1.CriterionStatus, 0, len(p.Scope))
	s.FailedCriteria = 0
	for _, id := range p.Scope {
		cs := v1alpha1.CriterionStatus{ID: id, Title: CriterionTitle(id)}
		for _, c := range p.byCriterion[id] {
			t := s.tallies[c.index]
			switch {
			case t.assessed():
				cs.Checks++
				cs.NotAssessed += int32(t.notAssessed)
			case t.unassessed():
				cs.UnassessedChecks++
			}
			cs.Failed += int32(t.fail)
			cs.Excepted += int32(t.excepted)
			cs.Unread += int32(t.unread)
		}
		switch {
		case cs.Failed > 0 || cs.Unread > 0:
			// Fails closed on what the operator did not read of a resource (Result.Unread).
			cs.Status = v1alpha1.CriterionFail
			s.FailedCriteria++
		case cs.Excepted > 0:
			cs.Status = v1alpha1.CriterionExcepted
		case cs.Checks > 0:
			cs.Status = v1alpha1.CriterionPass
		default:
			cs.Status = v1alpha1.CriterionNotAssessed
		}
		s.Criteria = append(s.Criteria, cs)
	}

	var total, held int
	// Every planned check supports a criterion in scope: Compile drops the others.
	for _, c := range p.Checks {
		t := s.tallies[c.index]
		if !t.assessed() {
			continue
		}
		w := severityWeight(c.Severity)
		total += w
		if t.fail == 0 && t.unread == 0 {
			held += w
		}
	}
	s.Score = nil
	if total > 0 {
		score := int32(100 * held / total)
		s.Score = &score
	}

	assessed := false
	for _, cs := range s.Criteria {
		assessed = assessed || cs.Status != v1alpha1.CriterionNotAssessed
	}
	switch {
	case s.FailedCriteria > 0:
		s.State = v1alpha1.NonCompliant
	case !assessed:
		s.State = v1alpha1.NotAssessed
	default:
		s.State = v1alpha1.Compliant
	}
	SortFindings(s.Findings)
}

// UnassessedChecks returns the IDs of the checks supporting criterion id whose results in the
// summary were all NotAssessed (the checks CriterionStatus.UnassessedChecks counts), sorted. p is
// the plan that made the summary.
func (s *Summary) UnassessedChecks(p *Plan, id v1alpha1.Criterion) []string {
	return s.checksWhere(p, id, checkTally.unassessed)
}

// checksWhere returns the IDs of the checks supporting criterion id whose tally in the summary
// satisfies is, sorted.
func (s *Summary) checksWhere(p *Plan, id v1alpha1.Criterion, is func(checkTally) bool) []string {
	var ids []string
	for _, c := range p.byCriterion[id] {
		if is(s.tallies[c.index]) {
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// UndecidedChecks returns the IDs of the checks supporting criterion id that assessed some
// resources in the summary and left others NotAssessed (the results CriterionStatus.NotAssessed
// and CriterionStatus.Unread count), sorted. p is the plan that made the summary.
func (s *Summary) UndecidedChecks(p *Plan, id v1alpha1.Criterion) []string {
	return s.checksWhere(p, id, checkTally.undecided)
}

// SortFindings orders results most severe first, failures before exceptions, then by check,
// kind, namespace, name and container; results equal in all of these keep their order. The
// results are findings (Fail or Excepted).
//
// It is a stable sort done as an unstable one with each result's position as the last key:
// sort.SliceStable's rotations over the 86,000 findings of a 20,000-object scan were a tenth of the
// scan's time, all of it after the files were read. With that key the order is total, so a
// long list is sorted as two halves on two goroutines and merged. The keys before the
// container are packed into one integer first (findingKeys): comparing check IDs and object
// names as strings for every comparison was most of the sort.
func SortFindings(f []*Result) {
	items := make([]findingItem, len(f))
	keys := findingKeys(f)
	for i, r := range f {
		items[i] = findingItem{r: r, key: keys[i], pos: i}
	}
	if len(items) < parallelSortMin || runtime.GOMAXPROCS(0) < 2 {
		slices.SortFunc(items, compareItems)
		for i := range items {
			f[i] = items[i].r
		}
		return
	}
	a, b := items[:len(items)/2], items[len(items)/2:]
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortFunc(a, compareItems) })
	slices.SortFunc(b, compareItems)
	wg.Wait()
	k := 0
	for len(a) > 0 && len(b) > 0 {
		if compareItems(b[0], a[0]) < 0 {
			f[k], b = b[0].r, b[1:]
		} else {
			f[k], a = a[0].r, a[1:]
		}
		k++
	}
	for _, rest := range [][]findingItem{a, b} {
		for _, it := range rest {
			f[k] = it.r
			k++
		}
	}
}

// parallelSortMin is the length from which SortFindings sorts on two goroutines.
const parallelSortMin = 2048

// findingItem is a finding as SortFindings sorts it: its packed key and its position.
type findingItem struct {
	r   *Result
	key uint64
	pos int
}

func compareItems(x, y findingItem) int {
	if x.key != y.key {
		return cmp.Compare(x.key, y.key)
	}
	if c := strings.Compare(x.r.Container, y.r.Container); c != 0 {
		return c
	}
	return cmp.Compare(x.pos, y.pos)
}

// findingKeys packs each finding's severity rank, whether it is not a failure, its check's place
// among the checks' IDs and its object's place among the objects' kinds, namespaces and names
// (equal for objects equal in all three; 0 for no object) into one integer that orders findings
// as SortFindings says, up to the container. Results of one check either all judge objects or
// all judge the cluster, so two results of one check either both have an object's place or
// neither has.
func findingKeys(f []*Result) []uint64 {
	checkOrd := map[*PlannedCheck]uint64{}
	objOrd := map[*Object]uint64{}
	var checks []*PlannedCheck
	var objects []*Object
	for _, r := range f {
		if _, ok := checkOrd[r.Check]; !ok {
			checkOrd[r.Check] = 0
			checks = append(checks, r.Check)
		}
		if o := r.Object; o != nil {
			if _, ok := objOrd[o]; !ok {
				objOrd[o] = 0
				objects = append(objects, o)
			}
		}
	}
	slices.SortFunc(checks, func(a, b *PlannedCheck) int { return strings.Compare(a.ID, b.ID) })
	for i, c := range checks {
		if i > 0 && c.ID == checks[i-1].ID {
			checkOrd[c] = checkOrd[checks[i-1]]
		} else {
			checkOrd[c] = uint64(i)
		}
	}
	slices.SortFunc(objects, compareObjectNames)
	for i, o := range objects {
		if i > 0 && compareObjectNames(o, objects[i-1]) == 0 {
			objOrd[o] = objOrd[objects[i-1]]
		} else {
			objOrd[o] = uint64(i) + 1
		}
	}
	keys := make([]uint64, len(f))
	for i, r := range f {
		notFailing := uint64(0)
		if r.Status != StatusFail {
			notFailing = 1
		}
		var obj uint64
		if r.Object != nil {
			obj = objOrd[r.Object]
		}
		// 7 bits of rank, 1 of status, 16 of check and 40 of object.
		keys[i] = uint64(SeverityRank(r.Check.Severity))<<57 | notFailing<<56 | checkOrd[r.Check]<<40 | obj
	}
	return keys
}

// compareObjectNames orders objects by kind, namespace and name.
func compareObjectNames(a, b *Object) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Compact returns a copy for keeping a roll-up without holding every result of the
// evaluation in memory: it keeps the keep most severe findings (copies, not pointers into the
// evaluation's results, which would hold all of them) and no objects.
func (s *Summary) Compact(keep int) *Summary {
	c := *s
	c.Findings = nil
	if n := min(len(s.Findings), max(keep, 0)); n > 0 {
		c.Findings = make([]*Result, n)
		for i, r := range s.Findings[:n] {
			copied := *r
			c.Findings[i] = &copied
		}
	}
	c.Objects = nil
	c.FailingBySeverity = make(map[v1alpha1.Severity]int, len(s.FailingBySeverity))
	for k, v := range s.FailingBySeverity {
		c.FailingBySeverity[k] = v
	}
	c.UnreadBySeverity = make(map[v1alpha1.Severity]int, len(s.UnreadBySeverity))
	for k, v := range s.UnreadBySeverity {
		c.UnreadBySeverity[k] = v
	}
	c.tallies = append([]checkTally(nil), s.tallies...)
	return &c
}

// Merge adds up summaries made by the same plan (for example every namespace of a profile)
// into one, for a cluster-wide roll-up. The merge lists no findings.
func (p *Plan) Merge(summaries ...*Summary) *Summary {
	m := newSummary(p, "")
	for _, s := range summaries {
		if s == nil || len(s.tallies) != len(p.Checks) {
			continue
		}
		m.Resources += s.Resources
		m.Failing += s.Failing
		m.Excepted += s.Excepted
		m.Passed += s.Passed
		m.NotAssessed += s.NotAssessed
		m.NotApplicable += s.NotApplicable
		m.Unread += s.Unread
		for sev, n := range s.FailingBySeverity {
			m.FailingBySeverity[sev] += n
		}
		for sev, n := range s.UnreadBySeverity {
			m.UnreadBySeverity[sev] += n
		}
		for i, t := range s.tallies {
			m.tallies[i].pass += t.pass
			m.tallies[i].fail += t.fail
			m.tallies[i].excepted += t.excepted
			m.tallies[i].notAssessed += t.notAssessed
			m.tallies[i].unread += t.unread
		}
	}
	m.finish(p)
	return m
}

// Summary returns the roll-up of a namespace ("" for cluster-scoped objects), or an empty one
// (every criterion NotAssessed) when the evaluation judged nothing there.
func (ev *Evaluation) Summary(namespace string) *Summary {
	if s := ev.Summaries[namespace]; s != nil {
		return s
	}
	s := newSummary(ev.Plan, namespace)
	s.finish(ev.Plan)
	return s
}
