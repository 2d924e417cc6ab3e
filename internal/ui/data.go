package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Source is what the pages read: the operator's informer cache in the manager, objects in
// memory in benchmarks. Callers must not modify what it returns.
type Source interface {
	Reports(ctx context.Context) ([]v1alpha1.ComplianceReport, error)
	Exceptions(ctx context.Context, namespace string) ([]v1alpha1.ControlException, error)
	// Profiles are the ComplianceProfiles, whose status holds the findings on cluster-scoped
	// objects.
	Profiles(ctx context.Context) ([]v1alpha1.ComplianceProfile, error)
}

// CacheSource reads from a controller-runtime cache (the manager's), without copying: the
// pages only read.
type CacheSource struct{ Reader client.Reader }

func (s CacheSource) Reports(ctx context.Context) ([]v1alpha1.ComplianceReport, error) {
	var list v1alpha1.ComplianceReportList
	if err := s.Reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing compliancereports: %w", err)
	}
	return list.Items, nil
}

func (s CacheSource) Exceptions(ctx context.Context, namespace string) ([]v1alpha1.ControlException, error) {
	var list v1alpha1.ControlExceptionList
	if err := s.Reader.List(ctx, &list, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing controlexceptions in %s: %w", namespace, err)
	}
	return list.Items, nil
}

func (s CacheSource) Profiles(ctx context.Context) ([]v1alpha1.ComplianceProfile, error) {
	var list v1alpha1.ComplianceProfileList
	if err := s.Reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing complianceprofiles: %w", err)
	}
	return list.Items, nil
}

// criterionRow counts, for one criterion of one profile, the visible namespaces in each state.
// Unknown counts the stale reports: their criteria are those of an evaluation that is overdue or
// could not be written, not a current state. PassPartly counts the passes that rest on some of
// the criterion's checks only (unassessedChecks: the others could assess nothing) or on some of
// the resources only (notAssessed: its checks could not decide the others).
type criterionRow struct {
	ID, Title                                  string
	Pass, Fail, Excepted, NotAssessed, Unknown int
	PassPartly                                 int
}

// namespaceRow is one report in the overview.
type namespaceRow struct {
	Namespace, Profile, Result string
	Score                      string
	// Findings are the failing ones (summary.failing, kubectl get's Findings); Excepted the
	// others.
	FailedCriteria, Findings int32
	Critical, Excepted       int32
	Stale                    bool
	StaleReason              string
	// NotReady is a report evaluated without some of what its checks read (Ready=False,
	// KindsUnreadable): its result rests on the rest.
	NotReady        bool
	NotReadyReason  string
	NotReadyMessage string
	Evaluated       string
}

// profileView is one profile's slice of the overview: only the namespaces the user may read.
type profileView struct {
	Name                           string
	Namespaces                     int
	Compliant, NonCompliant, Other int
	// NotReady counts the reports evaluated without some kinds (Ready=False), whatever their
	// result: a Compliant one among the compliant rests on part of what its checks read.
	NotReady int
	Criteria []*criterionRow
	Reports  []namespaceRow
	// ClusterShown: the user may get ComplianceProfiles; ClusterFindings is how many findings
	// the profile has failing on cluster-scoped objects, and ClusterExcepted how many an
	// exception covers there (counted apart, as a report's Findings and Excepted are).
	ClusterShown                     bool
	ClusterFindings, ClusterExcepted int32
}

func scoreText(s *int32) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprint(*s)
}

func timeText(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func condition(r *v1alpha1.ComplianceReport, typ string) (bool, string) {
	for _, c := range r.Status.Conditions {
		if c.Type == typ {
			return c.Status == "True", c.Reason
		}
	}
	return false, ""
}

// notReady is the reason and message of the report's Ready condition when it is False.
func notReady(r *v1alpha1.ComplianceReport) (bool, string, string) {
	for _, c := range r.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady && c.Status == "False" {
			return true, c.Reason, c.Message
		}
	}
	return false, "", ""
}

func profileOf(r *v1alpha1.ComplianceReport) string {
	if r.Spec.Profile != "" {
		return r.Spec.Profile
	}
	return r.Name
}

// overview groups the visible reports by profile.
func overview(reports []*v1alpha1.ComplianceReport) []*profileView {
	byName := map[string]*profileView{}
	var out []*profileView
	crit := map[string]map[string]*criterionRow{}
	for _, r := range reports {
		name := profileOf(r)
		p, ok := byName[name]
		if !ok {
			p = &profileView{Name: name}
			byName[name] = p
			crit[name] = map[string]*criterionRow{}
			out = append(out, p)
		}
		p.Namespaces++
		switch r.Status.Result {
		case v1alpha1.Compliant:
			p.Compliant++
		case v1alpha1.NonCompliant:
			p.NonCompliant++
		default:
			p.Other++
		}
		stale, reason := condition(r, v1alpha1.ConditionStale)
		for _, c := range r.Status.Criteria {
			row, ok := crit[name][string(c.ID)]
			if !ok {
				row = &criterionRow{ID: string(c.ID), Title: c.Title}
				crit[name][string(c.ID)] = row
				p.Criteria = append(p.Criteria, row)
			}
			switch {
			case stale:
				row.Unknown++
			case c.Status == v1alpha1.CriterionPass:
				row.Pass++
				if c.UnassessedChecks > 0 || c.NotAssessed > 0 {
					row.PassPartly++
				}
			case c.Status == v1alpha1.CriterionFail:
				row.Fail++
			case c.Status == v1alpha1.CriterionExcepted:
				row.Excepted++
			default:
				row.NotAssessed++
			}
		}
		var evaluated *time.Time
		if r.Status.LastEvaluated != nil {
			evaluated = &r.Status.LastEvaluated.Time
		}
		nr, nrReason, nrMessage := notReady(r)
		if nr {
			p.NotReady++
		}
		p.Reports = append(p.Reports, namespaceRow{
			Namespace: r.Namespace, Profile: name, Result: resultText(r.Status.Result), Score: scoreText(r.Status.Score),
			FailedCriteria: r.Status.Summary.FailedCriteria, Findings: r.Status.Summary.Failing,
			Critical: r.Status.Summary.Critical, Excepted: r.Status.Summary.Excepted,
			Stale: stale, StaleReason: reason, Evaluated: timeText(evaluated),
			NotReady: nr, NotReadyReason: nrReason, NotReadyMessage: nrMessage,
		})
	}
	slices.SortFunc(out, func(a, b *profileView) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range out {
		slices.SortFunc(p.Criteria, func(a, b *criterionRow) int { return compareCriteria(a.ID, b.ID) })
		slices.SortFunc(p.Reports, func(a, b namespaceRow) int {
			// Non-compliant first, then by name: what needs attention on top.
			if c := rank(a.Result) - rank(b.Result); c != 0 {
				return c
			}
			return strings.Compare(a.Namespace, b.Namespace)
		})
	}
	return out
}

func resultText(r v1alpha1.ComplianceState) string {
	if r == "" {
		return "Pending"
	}
	return string(r)
}

func rank(result string) int {
	switch result {
	case string(v1alpha1.NonCompliant):
		return 0
	case string(v1alpha1.Unknown):
		return 1
	case string(v1alpha1.Compliant):
		return 3
	}
	return 2
}

// compareCriteria orders CC before A before C before the rest, then numerically (CC6.1 < CC6.8
// < CC7.1 < CC8.1).
func compareCriteria(a, b string) int {
	order := func(s string) int {
		switch {
		case strings.HasPrefix(s, "CC"):
			return 0
		case strings.HasPrefix(s, "A"):
			return 1
		case strings.HasPrefix(s, "C"):
			return 2
		}
		return 3
	}
	if c := order(a) - order(b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}
