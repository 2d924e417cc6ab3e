package controllers

import (
	"cmp"
	"maps"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// state is what the reconcilers remember between evaluations: the compiled plan of each profile,
// the latest roll-up of each namespace (so that one namespace can be re-evaluated and the
// profile's cluster-wide roll-up still be exact), and how many findings each exception covers.
// It is rebuilt by the first full evaluation after a restart.
type state struct {
	plans    engine.PlanCache
	mu       sync.Mutex
	profiles map[string]*profileState

	// observing is when this process began evaluating: its first evaluation, which runs once
	// it leads. A report evaluated before then was written before a restart or a failover, and
	// its lastEvaluated is not kept (report.NamespaceInput.ObservingSince).
	observeOnce sync.Once
	observing   time.Time
	// approvalWaitUntil ends the wait for the first check of the admission policies
	// (awaitApprovalCheck), by the wall clock; zero before the first evaluation asked.
	approvalWaitUntil time.Time
	// passes numbers the evaluations in the order they start (pass.seq): their times may be
	// equal (a coarse or fake clock), and an evaluation that started earlier can finish later.
	passes uint64
}

// approvalCheckWait bounds how long evaluations and exception judgements wait, after the first
// asked, for the operator's first check of its admission policies; approvalCheckRetry is how
// soon each asks again (the check's result also queues every profile and exception: resyncAll).
const (
	approvalCheckWait  = 30 * time.Second
	approvalCheckRetry = time.Second
)

// awaitApprovalCheck says whether an evaluation or a judgement should wait for the first check
// of the admission policies (v.Checked). Until then no approval is trusted: an operator that
// has just started (a restart, a failover) and evaluated at once would lift every approved
// exception, in the reports, the alerts and the journal, and restore them a moment later. It
// waits at most approvalCheckWait from the first call, then judges with what it knows (no
// approval trusted, the profile saying why). A nil v waits for nothing.
func (s *state) awaitApprovalCheck(v *admissionpolicy.Verifier) bool {
	if v == nil || v.Checked() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.approvalWaitUntil.IsZero() {
		s.approvalWaitUntil = time.Now().Add(approvalCheckWait)
	}
	return time.Now().Before(s.approvalWaitUntil)
}

type profileState struct {
	name string
	// uid is the profile object's: another object under the same name is another profile
	// (replaced).
	uid  types.UID
	plan *engine.Plan

	// summaries by namespace; "" holds the cluster-scoped objects.
	summaries map[string]*engine.Summary
	// matches[exception key][namespace] is how many findings the exception covers, and
	// undecided how many of them are results their objects left undecided.
	matches   map[string]map[string]int
	undecided map[string]map[string]int
	// covered[exception key][namespace] is the digest of the findings it covers there
	// (report.CoveredDigests), with the generation of the exception that evaluation judged.
	covered map[string]map[string]coveredPlace
	// judged[exception key] is the latest generation of the exception (that object: its UID)
	// that an evaluation of a namespace it may cover judged Active: its digests reflect that
	// generation's approval once every place in covered has it too (state.matched).
	judged map[string]judgedAt
	// wouldCover[exception key][namespace] is how many findings a PendingApproval exception
	// would cover there were it approved, and their digest (ExceptionOutcome.WouldCover), with
	// the generation the evaluation judged; pendingJudged[exception key] the latest generation
	// an evaluation of a namespace it may cover judged PendingApproval (as judged for Active).
	wouldCover    map[string]map[string]wouldPlace
	pendingJudged map[string]judgedAt
	// wouldSkipped[exception key] is, for a PendingApproval exception whose wouldCover the
	// latest evaluation of a namespace it may cover did not compute (engine.MaxPendingJudged),
	// why, and the generation it judged: its status says so, rather than that it would cover
	// nothing.
	wouldSkipped map[string]wouldSkip
	// firstCovered[exception key] is, for an Active exception at one generation (that of its
	// approval: writing an approval is a new generation), what the first evaluation of each
	// namespace it may cover found it covering there ("" for nothing): what its approval
	// covers (state.firstCovered), whatever a later evaluation finds before every namespace
	// was judged. An exception that selects several namespaces is judged everywhere only by a
	// full evaluation, up to the profile's interval after the approval; a tenant who labelled
	// a workload into it meanwhile had that workload taken for approved.
	firstCovered map[string]firstPlaces
	// clusterExceptions and clusterExceptionsTotal are the exceptions considered for the
	// cluster-scoped objects as the latest full evaluation judged them (report.ExceptionsFor).
	clusterExceptions      []v1alpha1.ExceptionUsage
	clusterExceptionsTotal int32
	// fullDone is true once a full evaluation has run for this plan.
	fullDone bool
	// lastSuccess is when the report of each namespace last reflected an evaluation (written,
	// or unchanged).
	lastSuccess map[string]time.Time
	// unwritten holds the namespaces whose latest evaluation could not be written or made,
	// since when.
	unwritten map[string]time.Time
	// refused holds the namespaces of unwritten whose report the API server refused to write
	// (not a conflict), with its answer: their reports show an older evaluation, and may not
	// even say they are stale, the Stale condition being a write refused as well.
	refused map[string]string
	// evaluated holds which evaluation recorded the summary of each namespace ("": the
	// cluster-scoped objects), written or not.
	evaluated map[string]evaluation
	// notCurrent holds the namespaces ("": the cluster-scoped objects) whose latest evaluation
	// failed, or that the watchdog found overdue, and why: their summary is older than what the
	// cluster holds now, so the profile's result is Unknown until an evaluation of them succeeds.
	// A namespace whose evaluation succeeded but whose report could not be written is not here:
	// its summary is the latest.
	notCurrent map[string]notCurrent
	// failing holds, by namespace, the failing findings of its latest evaluation whose report
	// was written (or unchanged), listed or not, less those not yet alerted on (freshFailures),
	// for a profile with alerts: the findings that a new evaluation adds are alerted on, though
	// the report lists only the maxFindings most severe.
	failing map[string]map[uint64]bool
	// firstPlan is true for the profile's first plan in this process (after a start, a restart
	// or a failover): what it identified before is not known here, and the journal says which
	// findings were failing (seedFailing). A plan recompiled after a profile edit follows one
	// this process knew.
	firstPlan bool
	// statusMu serialises the writes of the profile's status by this process's evaluations,
	// and statusWritten is the last status one of them wrote or found the profile holding
	// (nil: none yet under this plan): see updateProfileStatus.
	statusMu      sync.Mutex
	statusWritten *v1alpha1.ComplianceProfileStatus
	// present holds, by namespace, when this process last found or wrote the operator's own
	// report of it, and in which namespace object: a report missing at a later evaluation of
	// the same namespace object, which the operator did not delete (it forgets the namespace
	// when it does), was deleted by someone else (reportGone).
	present map[string]seenReport
}

// coveredPlace is the digest of what an exception covers in one namespace, and the generation
// of the exception the evaluation that found it judged.
type coveredPlace struct {
	digest string
	judgedAt
}

// wouldPlace is what a PendingApproval exception would cover in one namespace were it approved
// (report.WouldCover), and the generation the evaluation that found it judged.
type wouldPlace struct {
	count  int
	digest string
	judgedAt
}

// wouldSkip is why an evaluation did not compute what a PendingApproval exception would cover
// (engine.ExceptionOutcome.WouldCoverNotComputed), and the generation it judged.
type wouldSkip struct {
	note string
	judgedAt
}

// firstPlaces is what an exception at one generation covered in each namespace when first
// evaluated there (profileState.firstCovered).
type firstPlaces struct {
	judgedAt
	byNS map[string]string
}

// judgedAt is an exception object (its UID: one deleted and created again under its name is
// another) at one of its generations.
type judgedAt struct {
	uid        types.UID
	generation int64
}

// atLeast says whether j is of the object uid, at generation or later.
func (j judgedAt) atLeast(uid types.UID, generation int64) bool {
	return j.uid == uid && j.generation >= generation
}

// seenReport is when the operator last found or wrote a namespace's report, and the UID of the
// namespace it was in ("" when not known): a namespace deleted and created again under the same
// name is another object, and its first report no report deleted.
type seenReport struct {
	at        time.Time
	namespace types.UID
}

// notCurrent says why a namespace's summary is not current: its latest evaluation failed
// (ReasonEvaluationFailed) or none succeeded for twice the interval (ReasonEvaluationOverdue).
type notCurrent struct {
	// since is when the first failure was; seq the latest failed evaluation's number, so that
	// an evaluation that started before it does not clear it.
	since   time.Time
	seq     uint64
	reason  string
	message string
}

// evaluation is when an evaluation was made, and its number (state.passes).
type evaluation struct {
	at  time.Time
	seq uint64
}

// nextPass numbers an evaluation that starts.
func (s *state) nextPass() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.passes++
	return s.passes
}

func newState() *state { return &state{profiles: map[string]*profileState{}} }

// observingSince returns when this process began evaluating, the first call's now().
func (s *state) observingSince(now func() time.Time) time.Time {
	s.observeOnce.Do(func() { s.observing = now() })
	return s.observing
}

// plan returns the profile's state, starting afresh when the plan cache recompiled the plan
// (the profile changed), except for the namespaces whose report is not current: a new plan does
// not write them, so they count in soc2_operator_reports_stale until its evaluations do.
func (s *state) plan(profile *v1alpha1.ComplianceProfile, catalogue []*engine.Check) *profileState {
	plan := s.plans.Plan(catalogue, profile)
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.profiles[profile.Name]
	if ps != nil && ps.plan == plan {
		return ps
	}
	ps = &profileState{
		name:          profile.Name,
		uid:           profile.UID,
		plan:          plan,
		summaries:     map[string]*engine.Summary{},
		matches:       map[string]map[string]int{},
		undecided:     map[string]map[string]int{},
		covered:       map[string]map[string]coveredPlace{},
		judged:        map[string]judgedAt{},
		wouldCover:    map[string]map[string]wouldPlace{},
		pendingJudged: map[string]judgedAt{},
		wouldSkipped:  map[string]wouldSkip{},
		firstCovered:  map[string]firstPlaces{},
		lastSuccess:   map[string]time.Time{},
		unwritten:     map[string]time.Time{},
		refused:       map[string]string{},
		evaluated:     map[string]evaluation{},
		notCurrent:    map[string]notCurrent{},
		failing:       map[string]map[uint64]bool{},
		present:       map[string]seenReport{},
	}
	old := s.profiles[profile.Name]
	ps.firstPlan = old == nil || old.uid != profile.UID
	if old != nil && old.uid == profile.UID {
		// A profile edit does not make a report the operator wrote under the last plan one it
		// never wrote. (Another profile of the same name did not write it: replaced.)
		maps.Copy(ps.present, old.present)
		for ns, t := range old.unwritten {
			ps.unwritten[ns] = t
		}
		for ns, why := range old.refused {
			ps.refused[ns] = why
		}
	}
	s.profiles[profile.Name] = ps
	return ps
}

// replaced says whether the state is of another profile object of the profile's name: the one
// it is of was deleted, and the operator did not see it go (its deletion and the creation of the
// new one reached it as one request).
func (s *state) replaced(profile *v1alpha1.ComplianceProfile) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.profiles[profile.Name]
	return ps != nil && ps.uid != profile.UID
}

// forget drops a deleted profile.
func (s *state) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.profiles, name)
	s.plans.Forget(name)
}

// recordNamespace stores a namespace's roll-up and exception matches after an evaluation (made
// at now, numbered seq), which makes its summary current again, unless an evaluation started
// since failed; and returns the keys of the exceptions whose count of the namespace's findings,
// or digest of them (covered, by exception key), changed (one that no longer reaches the
// namespace included: its status must stop counting them).
// The roll-ups are compacted (no findings), except that the cluster-scoped one ("") keeps the
// most severe findings the profile's status lists (report.ProfileStatus: clusterFindings).
func (s *state) recordNamespace(ps *profileState, ns string, now time.Time, seq uint64, sum *engine.Summary, outcomes []*engine.ExceptionOutcome, covered map[string]string, would map[string]report.Would) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := ps.evaluated[ns]; !ok || seq > e.seq {
		ps.evaluated[ns] = evaluation{at: now, seq: seq}
	}
	if nc, ok := ps.notCurrent[ns]; ok && (nc.reason == v1alpha1.ReasonEvaluationOverdue || nc.seq < seq) {
		delete(ps.notCurrent, ns)
	}
	keep := 0
	if ns == "" {
		keep = ps.plan.MaxFindings
	}
	ps.summaries[ns] = sum.Compact(keep)
	type count struct {
		matched, undecided int
		digest             string
	}
	before := map[string]count{}
	for key, byNS := range ps.matches {
		if n, ok := byNS[ns]; ok {
			before[key] = count{n, ps.undecided[key][ns], ps.covered[key][ns].digest}
		}
		delete(byNS, ns)
		if len(byNS) == 0 {
			delete(ps.matches, key)
		}
	}
	for key, byNS := range ps.undecided {
		delete(byNS, ns)
		if len(byNS) == 0 {
			delete(ps.undecided, key)
		}
	}
	for key, byNS := range ps.covered {
		delete(byNS, ns)
		if len(byNS) == 0 {
			delete(ps.covered, key)
		}
	}
	wouldBefore := map[string]report.Would{}
	for key, byNS := range ps.wouldCover {
		if w, ok := byNS[ns]; ok {
			wouldBefore[key] = report.Would{Count: w.count, Digest: w.digest}
		}
		delete(byNS, ns)
		if len(byNS) == 0 {
			delete(ps.wouldCover, key)
		}
	}
	// The exceptions of ns not among those judged are gone (this evaluation read every
	// exception of its namespace): forgotten, or a tenant who creates and deletes exceptions
	// would grow judged without bound.
	judgedNow := make(map[string]bool, len(outcomes))
	for _, o := range outcomes {
		judgedNow[o.Key] = true
	}
	for _, judged := range []map[string]judgedAt{ps.judged, ps.pendingJudged} {
		for key := range judged {
			if exNS, _, _ := strings.Cut(key, "/"); exNS == ns && !judgedNow[key] {
				delete(judged, key)
			}
		}
	}
	for key := range ps.wouldSkipped {
		if exNS, _, _ := strings.Cut(key, "/"); exNS == ns && !judgedNow[key] {
			delete(ps.wouldSkipped, key)
		}
	}
	for key := range ps.firstCovered {
		if exNS, _, _ := strings.Cut(key, "/"); exNS == ns && !judgedNow[key] {
			delete(ps.firstCovered, key)
		}
	}
	var changed []string
	for _, o := range outcomes {
		if selectsOnly(o, ns) {
			// Judged where alone it may cover findings: its status can record what its
			// approval covers, even none (notifyExceptions queues it).
			ps.judge(o)
		}
		if o.State == v1alpha1.ExceptionActive && o.Selects(ns) {
			ps.firstCover(o, ns, covered[o.Key])
		}
		if o.State == v1alpha1.ExceptionPendingApproval && o.Selects(ns) {
			if o.WouldCoverNotComputed != "" {
				ps.wouldSkipped[o.Key] = wouldSkip{o.WouldCoverNotComputed, judgedAt{o.Exception.UID, o.Exception.Generation}}
			} else {
				delete(ps.wouldSkipped, o.Key)
			}
		}
		if w, ok := would[o.Key]; ok && o.State == v1alpha1.ExceptionPendingApproval {
			if ps.wouldCover[o.Key] == nil {
				ps.wouldCover[o.Key] = map[string]wouldPlace{}
			}
			ps.wouldCover[o.Key][ns] = wouldPlace{w.Count, w.Digest, judgedAt{o.Exception.UID, o.Exception.Generation}}
			if wouldBefore[o.Key] != w {
				changed = append(changed, o.Key)
			}
			delete(wouldBefore, o.Key)
		}
		if n := o.MatchedByNamespace[ns]; n > 0 {
			if ps.matches[o.Key] == nil {
				ps.matches[o.Key] = map[string]int{}
			}
			ps.matches[o.Key][ns] = n
			u := o.UndecidedByNamespace[ns]
			if u > 0 {
				if ps.undecided[o.Key] == nil {
					ps.undecided[o.Key] = map[string]int{}
				}
				ps.undecided[o.Key][ns] = u
			}
			d := covered[o.Key]
			if d != "" {
				if ps.covered[o.Key] == nil {
					ps.covered[o.Key] = map[string]coveredPlace{}
				}
				ps.covered[o.Key][ns] = coveredPlace{d, judgedAt{o.Exception.UID, o.Exception.Generation}}
			}
			if before[o.Key] != (count{n, u, d}) {
				changed = append(changed, o.Key)
			}
			delete(before, o.Key)
		}
	}
	for key := range before {
		changed = append(changed, key)
	}
	for key := range wouldBefore {
		changed = append(changed, key)
	}
	return changed
}

// firstCover records digest, what the Active exception of o covers in ns, as what it covered
// there when first evaluated at its generation (profileState.firstCovered), unless an
// evaluation of ns at that generation recorded it already. An evaluation that judged an
// earlier generation than one recorded (it read the exception before a write) records nothing.
// The caller holds s.mu.
func (ps *profileState) firstCover(o *engine.ExceptionOutcome, ns, digest string) {
	at := judgedAt{o.Exception.UID, o.Exception.Generation}
	fp, ok := ps.firstCovered[o.Key]
	switch {
	case !ok || !fp.atLeast(at.uid, at.generation):
		fp = firstPlaces{at, map[string]string{}}
		ps.firstCovered[o.Key] = fp
	case fp.judgedAt != at:
		return
	}
	if _, seen := fp.byNS[ns]; !seen {
		fp.byNS[ns] = digest
	}
}

// selectsOnly says whether the namespace ns is the only one where the exception can cover
// findings: its own, or the one namespace an admin exception lists.
func selectsOnly(o *engine.ExceptionOutcome, ns string) bool {
	n := o.Exception.Spec.Match.Namespaces
	return o.Selects(ns) && (len(n) == 0 || len(n) == 1 && n[0] == ns)
}

// judge records that an evaluation judged the exception of o Active (ps.judged) or
// PendingApproval (ps.pendingJudged) at its generation, where it may cover findings. The caller
// holds s.mu.
func (ps *profileState) judge(o *engine.ExceptionOutcome) {
	judged := ps.judged
	switch o.State {
	case v1alpha1.ExceptionActive:
	case v1alpha1.ExceptionPendingApproval:
		judged = ps.pendingJudged
	default:
		return
	}
	if at := (judgedAt{o.Exception.UID, o.Exception.Generation}); !judged[o.Key].atLeast(at.uid, at.generation) {
		judged[o.Key] = at
	}
}

// recordJudgedEverywhere records, after a full evaluation judged every selected namespace, the
// exceptions it judged Active, wherever they may cover findings (an admin exception's many
// namespaces: one namespace's evaluation alone says nothing of what it covers elsewhere).
// A full evaluation reads every exception: those it did not judge are gone, and forgotten.
func (s *state) recordJudgedEverywhere(ps *profileState, outcomes []*engine.ExceptionOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	judgedNow := make(map[string]bool, len(outcomes))
	for _, o := range outcomes {
		judgedNow[o.Key] = true
		ps.judge(o)
	}
	for _, judged := range []map[string]judgedAt{ps.judged, ps.pendingJudged} {
		for key := range judged {
			if !judgedNow[key] {
				delete(judged, key)
			}
		}
	}
	for key := range ps.wouldSkipped {
		if !judgedNow[key] {
			delete(ps.wouldSkipped, key)
		}
	}
	for key := range ps.firstCovered {
		if !judgedNow[key] {
			delete(ps.firstCovered, key)
		}
	}
}

// recordClusterExceptions stores the exceptions considered for the cluster-scoped objects.
func (s *state) recordClusterExceptions(ps *profileState, usage []v1alpha1.ExceptionUsage, total int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps.clusterExceptions, ps.clusterExceptionsTotal = usage, total
}

// clusterExceptions returns what recordClusterExceptions stored.
func (s *state) clusterExceptions(ps *profileState) ([]v1alpha1.ExceptionUsage, int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ps.clusterExceptions, ps.clusterExceptionsTotal
}

// previousResult is the namespace's result as of its last evaluation under this plan; "" when
// there is none (its first evaluation, or the first since a restart or a profile edit).
func (s *state) previousResult(ps *profileState, ns string) v1alpha1.ComplianceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sum := ps.summaries[ns]; sum != nil {
		return sum.State
	}
	return ""
}

// dropNamespace forgets a namespace that is no longer selected.
func (s *state) dropNamespace(ps *profileState, ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(ps.summaries, ns)
	delete(ps.lastSuccess, ns)
	delete(ps.unwritten, ns)
	delete(ps.refused, ns)
	delete(ps.failing, ns)
	delete(ps.evaluated, ns)
	delete(ps.notCurrent, ns)
	delete(ps.present, ns)
	metrics.ReportsStale.WithLabelValues(ps.name).Set(float64(len(ps.unwritten)))
	for _, counts := range []map[string]map[string]int{ps.matches, ps.undecided} {
		for key, byNS := range counts {
			delete(byNS, ns)
			if len(byNS) == 0 {
				delete(counts, key)
			}
		}
	}
	for key, byNS := range ps.covered {
		delete(byNS, ns)
		if len(byNS) == 0 {
			delete(ps.covered, key)
		}
	}
	for key, byNS := range ps.wouldCover {
		delete(byNS, ns)
		if len(byNS) == 0 {
			delete(ps.wouldCover, key)
		}
	}
	for _, fp := range ps.firstCovered {
		delete(fp.byNS, ns)
	}
}

// failingBefore returns the failing findings of a namespace's previous evaluation whose report
// holds it (freshFailures), and whether there was one under this plan (not after a restart or a
// profile edit).
func (s *state) failingBefore(ps *profileState, ns string) (map[uint64]bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, known := ps.failing[ns]
	return prev, known
}

// seedFailing records failing as the failing findings of a namespace's previous evaluation
// (failingBefore), unless an evaluation under this plan recorded them already.
func (s *state) seedFailing(ps *profileState, ns string, failing map[uint64]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, known := ps.failing[ns]; !known {
		ps.failing[ns] = failing
	}
}

// recordFailing records the failing findings of a namespace's evaluation whose report holds it,
// less those still to be alerted on (freshFailures).
func (s *state) recordFailing(ps *profileState, ns string, failing map[uint64]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps.failing[ns] = failing
}

// rollup merges every namespace's summary and the cluster's, and counts namespaces.
func (s *state) rollup(ps *profileState) (total, cluster *engine.Summary, namespaces, nonCompliant int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*engine.Summary, 0, len(ps.summaries))
	for ns, sum := range ps.summaries {
		all = append(all, sum)
		if ns == "" {
			cluster = sum
			continue
		}
		namespaces++
		if sum.State == v1alpha1.NonCompliant {
			nonCompliant++
		}
	}
	return ps.plan.Merge(all...), cluster, namespaces, nonCompliant
}

// matched is how many findings an exception covers across every profile and namespace, how
// many of them are results their objects left undecided, and the digest of which they are
// (report.CombinedDigest). current says whether that digest is of the exception object uid at
// generation: an evaluation of a namespace it may cover under each profile that honours it
// (honouring, none: not current) judged it Active at that generation or later, and no digest is
// of an earlier one (or of another object under its name).
func (s *state) matched(key string, uid types.UID, generation int64, honouring []string) (matched, undecided int, digest string, current bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var places [][3]string
	stale := false
	for name, ps := range s.profiles {
		for _, c := range ps.matches[key] {
			matched += c
		}
		for _, c := range ps.undecided[key] {
			undecided += c
		}
		for ns, d := range ps.covered[key] {
			places = append(places, [3]string{name, ns, d.digest})
			stale = stale || !d.atLeast(uid, generation)
		}
	}
	judged := len(honouring) > 0
	for _, name := range honouring {
		ps := s.profiles[name]
		judged = judged && ps != nil && ps.judged[key].atLeast(uid, generation)
	}
	return matched, undecided, report.CombinedDigest(places), judged && !stale
}

// firstCovered is the digest (report.CombinedDigest, as matched's) of what the exception object
// uid at generation covered in every profile and namespace as the first evaluation of each
// with that generation found it (profileState.firstCovered): noneCovered for nothing, "" when
// no evaluation of that generation is recorded. Once every namespace was judged (matched's
// current), it is what the approval of that generation covers.
func (s *state) firstCovered(key string, uid types.UID, generation int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var places [][3]string
	known := false
	for name, ps := range s.profiles {
		fp, ok := ps.firstCovered[key]
		if !ok || fp.judgedAt != (judgedAt{uid, generation}) {
			continue
		}
		known = true
		for ns, d := range fp.byNS {
			if d != "" {
				places = append(places, [3]string{name, ns, d})
			}
		}
	}
	if !known {
		return ""
	}
	return cmp.Or(report.CombinedDigest(places), noneCovered)
}

// wouldCover is how many findings a PendingApproval exception would cover across the profiles
// that await its approval (awaiting) and every namespace, were it approved now, and their
// digest (report.CombinedDigest, as matched's: what coveredDigest will be once it is approved).
// current says whether that is of the exception object uid at generation: an evaluation of a
// namespace it may cover under each profile of awaiting (none: not current) judged it
// PendingApproval at that generation or later, and no place is of an earlier one. notComputed
// says why an evaluation of that generation did not compute it (engine.MaxPendingJudged): then
// it is not current either.
func (s *state) wouldCover(key string, uid types.UID, generation int64, awaiting []string) (count int, digest string, current bool, notComputed string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var places [][3]string
	current = len(awaiting) > 0
	for _, name := range awaiting {
		ps := s.profiles[name]
		if ps == nil {
			return 0, "", false, ""
		}
		if skip, ok := ps.wouldSkipped[key]; ok && skip.atLeast(uid, generation) {
			return 0, "", false, skip.note
		}
		if !ps.pendingJudged[key].atLeast(uid, generation) {
			return 0, "", false, ""
		}
		for ns, w := range ps.wouldCover[key] {
			if !w.atLeast(uid, generation) {
				return 0, "", false, ""
			}
			count += w.count
			places = append(places, [3]string{name, ns, w.digest})
		}
	}
	return count, report.CombinedDigest(places), current, ""
}

// markWritten records that a namespace's report reflects the evaluation made at now. The
// soc2_operator_reports_stale gauge is set under the lock, so that concurrent evaluations of a
// profile cannot leave it at an older count.
func (s *state) markWritten(ps *profileState, ns string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps.lastSuccess[ns] = now
	delete(ps.unwritten, ns)
	delete(ps.refused, ns)
	metrics.ReportsStale.WithLabelValues(ps.name).Set(float64(len(ps.unwritten)))
}

// reportPresent records that the namespace's report, the operator's own, existed at now (found,
// or written); ok false that it does not, the operator having deleted it (a report it did not
// write) or never found it: its absence later is no deletion by someone else.
func (s *state) reportPresent(ps *profileState, ns string, now time.Time, ok bool, uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		delete(ps.present, ns)
		return
	}
	if now.After(ps.present[ns].at) {
		ps.present[ns] = seenReport{at: now, namespace: uid}
	}
}

// reportGone says when the operator last found or wrote the namespace's report, if it did since
// it last deleted it or forgot the namespace: a report that is now missing went after then.
func (s *state) reportGone(ps *profileState, ns string) (seenReport, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := ps.present[ns]
	return t, ok
}

// markRefused records that the API server refused to write the report of a namespace whose
// evaluation, made at now, is unwritten (markUnwritten), and its answer.
func (s *state) markRefused(ps *profileState, ns string, now time.Time, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if writtenAfter(ps, ns, now) {
		return
	}
	ps.refused[ns] = why
}

// refusedReports are the namespaces whose latest report write the API server refused, with
// its answer.
func (s *state) refusedReports(ps *profileState) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(ps.refused)
}

// markUnwritten records that a namespace's latest evaluation, made at now, is not in its
// report. An evaluation older than the one the report already holds changes nothing: two
// workers can evaluate a namespace at once, and the older one failing (its write racing an API
// server that is just coming back, say) must not mark a current report stale until the next
// evaluation, which may be a minute of queue backoff away.
func (s *state) markUnwritten(ps *profileState, ns string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if writtenAfter(ps, ns, now) {
		return
	}
	if _, ok := ps.unwritten[ns]; !ok {
		ps.unwritten[ns] = now
	}
	metrics.ReportsStale.WithLabelValues(ps.name).Set(float64(len(ps.unwritten)))
}

// writtenAfter reports whether the namespace's report holds an evaluation made after t.
func (s *state) writtenAfter(ps *profileState, ns string, t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return writtenAfter(ps, ns, t)
}

// reflected reports whether this process has written the namespace's report, or found it
// current, at any evaluation.
func (s *state) reflected(ps *profileState, ns string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := ps.lastSuccess[ns]
	return ok
}

func writtenAfter(ps *profileState, ns string, t time.Time) bool {
	last, ok := ps.lastSuccess[ns]
	return ok && last.After(t)
}

// namespaces are the namespaces with a recorded roll-up, and those whose report is not current
// (a plan recompiled after a profile edit has no roll-up of them yet).
func (s *state) namespaces(ps *profileState) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for ns := range ps.summaries {
		if ns != "" {
			out = append(out, ns)
		}
	}
	for ns := range ps.unwritten {
		if _, ok := ps.summaries[ns]; !ok && ns != "" {
			out = append(out, ns)
		}
	}
	for ns := range ps.notCurrent {
		_, summary := ps.summaries[ns]
		if _, unwritten := ps.unwritten[ns]; !summary && !unwritten && ns != "" {
			out = append(out, ns)
		}
	}
	return out
}

// markNotCurrent records that the evaluation of a namespace ("": the cluster-scoped objects)
// made at now, numbered seq, failed (ReasonEvaluationFailed), or that none succeeded for too
// long (ReasonEvaluationOverdue), with why. A namespace evaluated by an evaluation that started
// later is left alone; an overdue one whose evaluation failed keeps the failure's reason.
func (s *state) markNotCurrent(ps *profileState, ns string, now time.Time, seq uint64, reason, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markNotCurrentLocked(ps, ns, now, seq, reason, message)
}

func (s *state) markNotCurrentLocked(ps *profileState, ns string, now time.Time, seq uint64, reason, message string) {
	if e, ok := ps.evaluated[ns]; ok && e.seq > seq {
		return
	}
	nc, ok := ps.notCurrent[ns]
	if !ok {
		nc.since = now
	}
	if !ok || reason == v1alpha1.ReasonEvaluationFailed {
		nc.reason, nc.message = reason, message
	}
	nc.seq = max(nc.seq, seq)
	ps.notCurrent[ns] = nc
}

// evaluatedBy reports whether the namespace's summary comes from the evaluation numbered seq or
// one that started after it.
func (s *state) evaluatedBy(ps *profileState, ns string, seq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := ps.evaluated[ns]
	return ok && e.seq >= seq
}

// lastEvaluated is when the evaluation that recorded the namespace's summary was made.
func (s *state) lastEvaluated(ps *profileState, ns string) (time.Time, bool) {
	if ps == nil {
		return time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := ps.evaluated[ns]
	return e.at, ok
}

// markOverdue records as not current the namespaces ("": the cluster-scoped objects) of the
// profile whose summary was evaluated longer than limit before now (a report write refused
// after a successful evaluation is not overdue: its summary is the latest), and returns those
// it newly marked; none before the first full evaluation.
func (s *state) markOverdue(ps *profileState, now time.Time, limit time.Duration) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ps.fullDone {
		return nil
	}
	var marked []string
	for ns, e := range ps.evaluated {
		if _, ok := ps.notCurrent[ns]; ok || now.Sub(e.at) <= limit {
			continue
		}
		s.markNotCurrentLocked(ps, ns, now, e.seq, v1alpha1.ReasonEvaluationOverdue,
			"no evaluation since "+e.at.UTC().Format(time.RFC3339)+" (over twice the evaluation interval)")
		marked = append(marked, ns)
	}
	return marked
}

// notCurrentNamespaces returns what markNotCurrent and markOverdue recorded, and whether a full
// evaluation has run (before it, the profile's status is not written).
func (s *state) notCurrentNamespaces(ps *profileState) (map[string]notCurrent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(ps.notCurrent), ps.fullDone
}

// notCurrentCount returns how many namespaces markNotCurrent and markOverdue recorded, and
// whether a full evaluation has run: what decides whether the profile's status must say so,
// without copying them (notCurrentNamespaces).
func (s *state) notCurrentCount(ps *profileState) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(ps.notCurrent), ps.fullDone
}

// lookup returns the profile's state; nil before its first evaluation.
func (s *state) lookup(profile string) *profileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profiles[profile]
}

// overdue are the namespaces of the profile whose report last reflected an evaluation longer
// than limit before now, with when that was; none before the first full evaluation.
func (s *state) overdue(profile string, now time.Time, limit time.Duration) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.profiles[profile]
	out := map[string]time.Time{}
	if ps == nil || !ps.fullDone {
		return out
	}
	for ns, t := range ps.lastSuccess {
		if ns != "" && now.Sub(t) > limit {
			out[ns] = t
		}
	}
	return out
}
