// Package report turns engine evaluations into the status of ComplianceReports and
// ComplianceProfiles. It is pure: the same evaluation, previous status and time give the same
// status, so the reconcilers can compare and write only on change.
package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// MaxExceptions bounds the exceptions a report lists: those covering the most findings first.
const MaxExceptions = 50

// ExceptionsBudget is the most bytes, as JSON, of the exceptions a report (or a profile) lists:
// a quarter of StatusBudget. Their reasons and owners are written by whoever may create an
// exception in the namespace, approved or not, and without this bound 50 of them at their
// longest filled the status budget, so that the report listed none of its findings.
const ExceptionsBudget = StatusBudget / 4

// StatusBudget is the most bytes a report's status (and a profile's) takes as JSON. Findings
// are listed, most severe first, until the next one would not fit; the total is always
// counted. The API server takes request bodies up to 3 MiB and etcd objects up to about
// 1.5 MiB: a status within 512 KiB leaves room for the object's metadata and for every
// future field, so that nothing in a namespace can make its report unwritable.
const StatusBudget = 512 << 10

// NamespaceInput is what a report's status is built from.
type NamespaceInput struct {
	Evaluation     *engine.Evaluation
	Namespace      string
	Previous       *v1alpha1.ComplianceReportStatus
	Now            time.Time
	CatalogVersion string
	Generation     int64 // the report's metadata.generation, for conditions
	// FirstSeen, when set, is asked first when a finding was first seen (the operator's
	// memory, which outlives a deleted report); the previous status is asked next.
	FirstSeen FirstSeenLookup
	// ObservingSince is when the operator process making the evaluation began observing (its
	// first evaluation as leader). An unchanged evaluation keeps the previous lastEvaluated only
	// if it is not before then: an earlier one was made before a restart or a failover, and
	// would say that nothing changed through a time no operator observed. Zero: always kept.
	ObservingSince time.Time
	// Coverage is what each exception covers in the namespace, CoverageOf(Evaluation,
	// Namespace) made once for the report and the exceptions' status; nil: made here.
	Coverage Coverage
}

// FirstSeenLookup says when the finding was first seen. It is asked before the finding's
// FirstSeen is set: it reads the check, the resource and the container.
type FirstSeenLookup func(f *v1alpha1.Finding) (time.Time, bool)

// NamespaceStatus builds the status of one namespace's report. Findings keep the first-seen
// time they had in the previous status; new findings are first seen now.
func NamespaceStatus(in NamespaceInput) v1alpha1.ComplianceReportStatus {
	plan := in.Evaluation.Plan
	s := in.Evaluation.Summary(in.Namespace)
	st := v1alpha1.ComplianceReportStatus{
		Result:            s.State,
		Score:             s.Score,
		Summary:           summaryOf(s),
		Criteria:          s.Criteria,
		TotalFindings:     int32(len(s.Findings)),
		ProfileGeneration: plan.ProfileGeneration,
		CatalogVersion:    in.CatalogVersion,
	}
	var prevFindings []v1alpha1.Finding
	if in.Previous != nil {
		prevFindings = in.Previous.Findings
		st.Conditions = append(st.Conditions, in.Previous.Conditions...)
	}
	st.Findings = Findings(s.Findings, plan.MaxFindings, firstSeenFrom(in.FirstSeen, prevFindings), in.Now)
	st.Exceptions, st.TotalExceptions = ExceptionsFor(in.Evaluation, in.Namespace, in.Coverage)
	st.ExceptionsTruncated = len(st.Exceptions) < int(st.TotalExceptions)
	ready := metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluated,
		ObservedGeneration: in.Generation,
		Message:            fmt.Sprintf("Evaluated %d resources against profile %s", s.Resources, plan.ProfileName),
	}
	if unseen := in.Evaluation.UnseenMessage(); unseen != "" {
		// Not a complete evaluation: what those kinds decide is NotAssessed.
		ready.Status, ready.Reason = metav1.ConditionFalse, v1alpha1.ReasonKindsUnreadable
		ready.Message = engine.Truncate(ready.Message + ", not all of it: " + unseen + "; the checks that judge or read them are NotAssessed")
	}
	meta.SetStatusCondition(&st.Conditions, ready)
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate,
		ObservedGeneration: in.Generation,
		Message:            "The report reflects the latest evaluation",
	})
	st.LastEvaluated = ptrTime(in.Now)
	st.Findings = withinBudget(st.Findings, statusSize(&st))
	st.FindingsTruncated = len(st.Findings) < int(st.TotalFindings)
	if in.Previous != nil && SameContent(in.Previous, &st) && observedSince(in.Previous.LastEvaluated, in.ObservingSince) {
		// Nothing changed: keep the time of the evaluation that produced this content.
		st.LastEvaluated = in.Previous.LastEvaluated
	}
	return st
}

func summaryOf(s *engine.Summary) v1alpha1.ReportSummary {
	return v1alpha1.ReportSummary{
		Resources:      int32(s.Resources),
		Criteria:       int32(len(s.Criteria)),
		FailedCriteria: int32(s.FailedCriteria),
		Failing:        int32(s.Failing),
		Unread:         int32(s.Unread),
		Critical:       int32(s.FailingBySeverity[v1alpha1.SeverityCritical]),
		High:           int32(s.FailingBySeverity[v1alpha1.SeverityHigh]),
		Medium:         int32(s.FailingBySeverity[v1alpha1.SeverityMedium]),
		Low:            int32(s.FailingBySeverity[v1alpha1.SeverityLow]),
		Excepted:       int32(s.Excepted),
		Passed:         int32(s.Passed),
		NotAssessed:    int32(s.NotAssessed),
	}
}

// FindingKey identifies a finding across evaluations: the check, the resource and the
// container. First-seen times and alerts on new findings are keyed by it. The resource's kind is
// its engine.IdentityKind, so that objects of one kind name in two API groups (Istio's and the
// Gateway API's Gateway web) are two findings.
func FindingKey(f *v1alpha1.Finding) string {
	return findingKey(f.Check, engine.IdentityKind(f.Resource.APIVersion, f.Resource.Kind), f.Resource.Namespace, f.Resource.Name, f.Container)
}

func findingKey(check, kind, namespace, name, container string) string {
	return check + "\x00" + kind + "\x00" + namespace + "\x00" + name + "\x00" + container
}

// firstSeenFrom looks a finding up in lookup first, then in prev.
func firstSeenFrom(lookup FirstSeenLookup, prev []v1alpha1.Finding) FirstSeenLookup {
	seen := make(map[string]time.Time, len(prev))
	for i := range prev {
		if t := prev[i].FirstSeen; t != nil {
			seen[FindingKey(&prev[i])] = t.Time
		}
	}
	return func(f *v1alpha1.Finding) (time.Time, bool) {
		if lookup != nil {
			if t, ok := lookup(f); ok {
				return t, true
			}
		}
		t, ok := seen[FindingKey(f)]
		return t, ok
	}
}

// Findings converts the most severe results (already sorted) into API findings, at most max;
// a finding never seen before (by firstSeen) is first seen now.
func Findings(results []*engine.Result, max int, firstSeen FirstSeenLookup, now time.Time) []v1alpha1.Finding {
	n := min(len(results), max)
	out := make([]v1alpha1.Finding, 0, n)
	for _, r := range results[:n] {
		f := v1alpha1.Finding{
			Check:     r.Check.ID,
			Criteria:  r.Check.Criteria,
			Severity:  r.Check.Severity,
			Result:    r.Status.API(),
			Container: r.Container,
			Message:   engine.Truncate(r.Message),
		}
		if o := r.Object; o != nil {
			f.Resource = v1alpha1.ResourceRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
		}
		if r.Exception != nil {
			f.Exception = r.Exception.Key
		}
		if t, ok := firstSeen(&f); ok {
			f.FirstSeen = ptrTime(t)
		} else {
			f.FirstSeen = ptrTime(now)
		}
		out = append(out, f)
	}
	return out
}

// withinBudget keeps the findings (most severe first) that fit in StatusBudget beside the
// rest of the status, which takes fixed bytes.
func withinBudget(findings []v1alpha1.Finding, fixed int) []v1alpha1.Finding {
	used := fixed + conditionReserve
	for i := range findings {
		data, err := json.Marshal(&findings[i])
		if err != nil {
			return findings[:i]
		}
		used += len(data) + 1 // and a comma
		if used > StatusBudget {
			return findings[:i]
		}
	}
	return findings
}

// conditionReserve is room kept for what may change in a status after it was sized: a Stale
// condition with a message of engine.MaxMessageLength, an Unknown result.
const conditionReserve = 2 * engine.MaxMessageLength

// statusSize is the JSON size of a status without its findings.
func statusSize(st *v1alpha1.ComplianceReportStatus) int {
	c := *st
	c.Findings = nil
	data, _ := json.Marshal(&c)
	return len(data)
}

// ExceptionsFor lists the exceptions that can cover objects in the namespace ("" for the
// cluster-scoped objects), with how many of its findings each covers: those covering the most
// first, then by name, at most MaxExceptions and ExceptionsBudget; and how many there are in all.
// covered is CoverageOf(ev, ns), which the caller may have made already; nil: made here.
//
// Each lists the first findings it covers and a digest of them all (setCovered), unless the
// exceptions would then not all fit ExceptionsBudget: what it covers is dropped from every one
// before any exception is.
func ExceptionsFor(ev *engine.Evaluation, ns string, covered Coverage) ([]v1alpha1.ExceptionUsage, int32) {
	var out []v1alpha1.ExceptionUsage
	if covered == nil {
		covered = CoverageOf(ev, ns)
	}
	for _, e := range ev.Exceptions {
		if !e.AppliesTo || !e.Selects(ns) {
			continue
		}
		expires := e.Exception.Spec.Expires
		out = append(out, v1alpha1.ExceptionUsage{
			Name:        e.Key,
			State:       e.State,
			Owner:       e.Exception.Spec.Owner,
			Reason:      e.Exception.Spec.Reason,
			RequestedBy: e.Exception.Spec.RequestedBy,
			ApprovedBy:  e.ApprovedBy,
			Expires:     &expires,
			Findings:    int32(e.MatchedByNamespace[ns]),
		})
		setCovered(&out[len(out)-1], covered[e.Key])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Findings != out[j].Findings {
			return out[i].Findings > out[j].Findings
		}
		return out[i].Name < out[j].Name
	})
	total := int32(len(out))
	if len(out) > MaxExceptions {
		out = out[:MaxExceptions:MaxExceptions]
	}
	if n := fitting(out); n < len(out) {
		// The digests stay: they are short, and still say when what is covered changes.
		for i := range out {
			out[i].Covered = nil
		}
	}
	n := fitting(out)
	return out[:n:n], total
}

// fitting is how many of the usages, from the first, fit ExceptionsBudget.
func fitting(usages []v1alpha1.ExceptionUsage) int {
	used := 0
	for i := range usages {
		data, err := json.Marshal(&usages[i])
		if used += len(data) + 1; err != nil || used > ExceptionsBudget {
			return i
		}
	}
	return len(usages)
}

// SameContent reports whether two report statuses say the same thing: everything but the
// evaluation time and the conditions' transition times.
func SameContent(a, b *v1alpha1.ComplianceReportStatus) bool {
	ac, bc := *a, *b
	ac.LastEvaluated, bc.LastEvaluated = nil, nil
	ac.Conditions, bc.Conditions = stripTimes(a.Conditions), stripTimes(b.Conditions)
	return equality.Semantic.DeepEqual(ac, bc)
}

func stripTimes(conds []metav1.Condition) []metav1.Condition {
	out := make([]metav1.Condition, len(conds))
	for i, c := range conds {
		c.LastTransitionTime = metav1.Time{}
		out[i] = c
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// ProfileInput is what a profile's status is built from.
type ProfileInput struct {
	Plan           *engine.Plan
	Total          *engine.Summary // merge of every namespace's summary and the cluster's
	Cluster        *engine.Summary // cluster-scoped objects
	Namespaces     int
	NonCompliant   int
	Previous       *v1alpha1.ComplianceProfileStatus
	Generation     int64
	CatalogVersion string
	Now            time.Time
	// FirstSeen, when set, is asked first when a cluster-scoped finding was first seen (the
	// operator's memory, which keeps the findings crowded out of clusterFindings); the previous
	// status is asked next.
	FirstSeen FirstSeenLookup
	// ClusterExceptions and ClusterExceptionsTotal are the exceptions considered for the
	// cluster-scoped objects (ExceptionsFor of "").
	ClusterExceptions      []v1alpha1.ExceptionUsage
	ClusterExceptionsTotal int32
	// Problems are what is wrong with the profile beyond what the plan found (a selector that
	// does not parse, a custom check on a kind the operator does not read, ...).
	Problems []engine.Problem
	// GatherError is set when objects could not be read.
	GatherError error
}

// ProfileStatus builds a profile's status: the cluster-wide roll-up, the cluster-scoped
// findings and the Ready condition with a reason a person can act on.
func ProfileStatus(in ProfileInput) v1alpha1.ComplianceProfileStatus {
	st := v1alpha1.ComplianceProfileStatus{
		ObservedGeneration:     in.Generation,
		NamespacesEvaluated:    int32(in.Namespaces),
		NamespacesNonCompliant: int32(in.NonCompliant),
		CatalogVersion:         in.CatalogVersion,
	}
	if in.Previous != nil {
		st.Conditions = append(st.Conditions, in.Previous.Conditions...)
		// The operator's journal publishes these; an evaluation keeps them.
		st.JournalHeads = in.Previous.JournalHeads
	}
	if in.Total != nil {
		st.Result = in.Total.State
		st.Criteria = in.Total.Criteria
	}
	if in.Cluster != nil {
		var prev []v1alpha1.Finding
		if in.Previous != nil {
			prev = in.Previous.ClusterFindings
		}
		st.ClusterFindings = Findings(in.Cluster.Findings, in.Plan.MaxFindings, firstSeenFrom(in.FirstSeen, prev), in.Now)
		// The operator keeps only the findings listed (controllers' state): the total is counted.
		// Unread results are listed too (engine.Result.Unread), and counted apart from failing.
		st.ClusterFindingsTotal = int32(in.Cluster.Failing + in.Cluster.Excepted + in.Cluster.Unread)
		st.ClusterFindingsFailing, st.ClusterFindingsExcepted = int32(in.Cluster.Failing), int32(in.Cluster.Excepted)
		st.ClusterFindingsUnread = int32(in.Cluster.Unread)
	}
	st.ClusterExceptions, st.ClusterExceptionsTotal = in.ClusterExceptions, in.ClusterExceptionsTotal
	st.ClusterExceptionsTruncated = len(st.ClusterExceptions) < int(st.ClusterExceptionsTotal)
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, ObservedGeneration: in.Generation}
	problems := append(append([]engine.Problem{}, in.Plan.Problems...), in.Problems...)
	if st.Result == v1alpha1.Compliant && slices.ContainsFunc(in.Problems, func(p engine.Problem) bool { return p.Reason == v1alpha1.ReasonNoNamespacesSelected }) {
		// The cluster-scoped objects alone held: the profile assessed no workload, no
		// namespace's objects, and is no verdict on them. A failure among those objects stays
		// NonCompliant.
		st.Result = v1alpha1.NotAssessed
	}
	if in.GatherError != nil || noCurrentVerdict(in.Problems) {
		// No current verdict: the objects could not be read (the reports say Unknown), no
		// namespace could be selected (the roll-up holds the cluster-scoped objects alone), or
		// the roll-up holds the last summary of a namespace whose latest evaluation failed or
		// is overdue (its report says Unknown).
		st.Result = v1alpha1.Unknown
	}
	switch {
	case in.GatherError != nil:
		ready.Status, ready.Reason = metav1.ConditionFalse, v1alpha1.ReasonEvaluationFailed
		ready.Message = "Objects could not be read: " + in.GatherError.Error()
	case len(problems) > 0:
		ready.Status, ready.Reason = metav1.ConditionFalse, problems[0].Reason
		msgs := make([]string, 0, len(problems))
		for _, p := range problems {
			msgs = append(msgs, p.Message)
		}
		ready.Message = engine.Truncate("The profile has problems; every other check still runs: " + strings.Join(msgs, "; "))
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, v1alpha1.ReasonEvaluated
		ready.Message = fmt.Sprintf("Evaluated %d namespaces with %d checks", in.Namespaces, len(in.Plan.Checks))
	}
	meta.SetStatusCondition(&st.Conditions, ready)
	c := st
	c.ClusterFindings = nil
	fixed, _ := json.Marshal(&c)
	st.ClusterFindings = withinBudget(st.ClusterFindings, len(fixed))
	st.ClusterFindingsTruncated = len(st.ClusterFindings) < int(st.ClusterFindingsTotal)
	return st
}

// noCurrentVerdict reports whether a problem keeps the profile from knowing which namespaces
// it assesses (its namespace selector does not parse), or from a current verdict on some of
// them (their latest evaluation failed or is overdue).
func noCurrentVerdict(problems []engine.Problem) bool {
	for _, p := range problems {
		switch p.Reason {
		case v1alpha1.ReasonInvalidSelector, v1alpha1.ReasonEvaluationFailed, v1alpha1.ReasonEvaluationOverdue:
			return true
		}
	}
	return false
}

// SameProfileStatus reports whether two profile statuses say the same thing, transition times
// and first-seen times of new findings aside.
func SameProfileStatus(a, b *v1alpha1.ComplianceProfileStatus) bool {
	ac, bc := *a, *b
	ac.Conditions, bc.Conditions = stripTimes(a.Conditions), stripTimes(b.Conditions)
	return equality.Semantic.DeepEqual(ac, bc)
}

// observedSince says whether a report's lastEvaluated was made while the operator that began
// observing at since has been observing (to the second, as lastEvaluated is written).
func observedSince(evaluated *metav1.Time, since time.Time) bool {
	return evaluated != nil && !evaluated.Time.Before(since.UTC().Truncate(time.Second))
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}
