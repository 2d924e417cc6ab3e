// Package report turns engine evaluations into the status of ComplianceReports and
// ComplianceProfiles. It is pure: the same evaluation, previous status and time give the same
// status, so the reconcilers can compare and write only on change.
package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// MaxExceptions bounds the exceptions a report lists.
const MaxExceptions = 50

// NamespaceInput is what a report's status is built from.
type NamespaceInput struct {
	Evaluation     *engine.Evaluation
	Namespace      string
	Previous       *v1alpha1.ComplianceReportStatus
	Now            time.Time
	CatalogVersion string
	Generation     int64 // the report's metadata.generation, for conditions
	// FirstSeen, when set, gives the first-seen time of a finding the previous status does not
	// list (the report was deleted, or the finding was beyond the bound): the journal's.
	FirstSeen func(check, kind, name, container string) (time.Time, bool)
}

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
	st.Findings, st.FindingsTruncated = Findings(s.Findings, plan.MaxFindings, prevFindings, in.Now)
	if in.FirstSeen != nil {
		for i := range st.Findings {
			f := &st.Findings[i]
			if f.FirstSeen != nil && f.FirstSeen.Time.Equal(in.Now.UTC().Truncate(time.Second)) {
				if t, ok := in.FirstSeen(f.Check, f.Resource.Kind, f.Resource.Name, f.Container); ok && t.Before(f.FirstSeen.Time) {
					f.FirstSeen = ptrTime(t)
				}
			}
		}
	}
	st.Exceptions = exceptionsFor(in.Evaluation, in.Namespace)
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluated,
		ObservedGeneration: in.Generation,
		Message:            fmt.Sprintf("Evaluated %d resources against profile %s", s.Resources, plan.ProfileName),
	})
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionStale, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonUpToDate,
		ObservedGeneration: in.Generation,
		Message:            "The report reflects the latest evaluation",
	})
	st.LastEvaluated = ptrTime(in.Now)
	if in.Previous != nil && SameContent(in.Previous, &st) {
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
		Critical:       int32(s.FailingBySeverity[v1alpha1.SeverityCritical]),
		High:           int32(s.FailingBySeverity[v1alpha1.SeverityHigh]),
		Medium:         int32(s.FailingBySeverity[v1alpha1.SeverityMedium]),
		Low:            int32(s.FailingBySeverity[v1alpha1.SeverityLow]),
		Excepted:       int32(s.Excepted),
		Passed:         int32(s.Passed),
		NotAssessed:    int32(s.NotAssessed),
	}
}

// findingKey identifies a finding across evaluations.
func findingKey(check, kind, namespace, name, container string) string {
	return check + "\x00" + kind + "\x00" + namespace + "\x00" + name + "\x00" + container
}

// Findings converts the most severe results (already sorted) into API findings, at most max,
// keeping first-seen times from prev.
func Findings(results []*engine.Result, max int, prev []v1alpha1.Finding, now time.Time) ([]v1alpha1.Finding, bool) {
	seen := make(map[string]*metav1.Time, len(prev))
	for i := range prev {
		f := &prev[i]
		seen[findingKey(f.Check, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, f.Container)] = f.FirstSeen
	}
	n := min(len(results), max)
	out := make([]v1alpha1.Finding, 0, n)
	for _, r := range results[:n] {
		f := v1alpha1.Finding{
			Check:     r.Check.ID,
			Criteria:  r.Check.Criteria,
			Severity:  r.Check.Severity,
			Result:    r.Status.API(),
			Container: r.Container,
			Message:   r.Message,
		}
		if o := r.Object; o != nil {
			f.Resource = v1alpha1.ResourceRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
		}
		if r.Exception != nil {
			f.Exception = r.Exception.Key
		}
		if t := seen[findingKey(f.Check, f.Resource.Kind, f.Resource.Namespace, f.Resource.Name, f.Container)]; t != nil {
			f.FirstSeen = t
		} else {
			f.FirstSeen = ptrTime(now)
		}
		out = append(out, f)
	}
	return out, len(results) > n
}

// exceptionsFor lists the exceptions that can cover objects in the namespace, with how many
// of its findings each covers.
func exceptionsFor(ev *engine.Evaluation, ns string) []v1alpha1.ExceptionUsage {
	var out []v1alpha1.ExceptionUsage
	for _, e := range ev.Exceptions {
		if !e.AppliesTo || !e.Selects(ns) {
			continue
		}
		expires := e.Exception.Spec.Expires
		out = append(out, v1alpha1.ExceptionUsage{
			Name:     e.Key,
			State:    e.State,
			Owner:    e.Exception.Spec.Owner,
			Expires:  &expires,
			Findings: int32(e.MatchedByNamespace[ns]),
		})
		if len(out) == MaxExceptions {
			break
		}
	}
	return out
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
		st.ClusterFindings, st.ClusterFindingsTruncated = Findings(in.Cluster.Findings, in.Plan.MaxFindings, prev, in.Now)
		st.ClusterFindingsTotal = int32(len(in.Cluster.Findings))
	}
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, ObservedGeneration: in.Generation}
	problems := append(append([]engine.Problem{}, in.Plan.Problems...), in.Problems...)
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
		ready.Message = Truncate("The profile has problems; every other check still runs: "+strings.Join(msgs, "; "), 1024)
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, v1alpha1.ReasonEvaluated
		ready.Message = fmt.Sprintf("Evaluated %d namespaces with %d checks", in.Namespaces, len(in.Plan.Checks))
	}
	meta.SetStatusCondition(&st.Conditions, ready)
	return st
}

// SameProfileStatus reports whether two profile statuses say the same thing, transition times
// and first-seen times of new findings aside.
func SameProfileStatus(a, b *v1alpha1.ComplianceProfileStatus) bool {
	ac, bc := *a, *b
	ac.Conditions, bc.Conditions = stripTimes(a.Conditions), stripTimes(b.Conditions)
	return equality.Semantic.DeepEqual(ac, bc)
}

// Truncate shortens s to n bytes, ending in "..." when it had to cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}
