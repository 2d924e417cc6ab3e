package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/report"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

// updateStatus writes the profile's roll-up and Ready condition. A full evaluation always
// does; a namespace's evaluation does once a full evaluation has given every namespace's
// summary (before that the roll-up would count one namespace).
func (r *ComplianceProfileReconciler) updateStatus(ctx context.Context, p *pass) (ctrl.Result, error) {
	r.state.mu.Lock()
	if p.full() {
		p.ps.fullDone = true
	}
	done := p.ps.fullDone
	r.state.mu.Unlock()
	if done {
		p.errs = append(p.errs, r.updateProfileStatus(ctx, p, r.profileProblems(ctx, p), nil))
	}
	return ctrl.Result{}, nil
}

// updateProfileStatus writes the profile's status when it changed; gatherErr is set when the
// evaluation could not read the objects.
func (r *ComplianceProfileReconciler) updateProfileStatus(ctx context.Context, p *pass, problems []engine.Problem, gatherErr error) error {
	profile, ps := p.profile, p.ps
	total, cluster, n, nonCompliant := r.state.rollup(ps)
	if n == 0 && gatherErr == nil && !slices.ContainsFunc(problems, knowsNoSelection) {
		problems = append(problems, r.noNamespacesSelected(ctx, profile))
	}
	exceptions, exceptionsTotal := r.state.clusterExceptions(ps)
	now := r.Clock.Now()
	persists := func(string) bool { return true } // not judged now: none renamed
	if p.clusterJudged {
		persists = report.Persisting(p.clusterSummary.Findings)
	}
	desired := report.ProfileStatus(report.ProfileInput{
		Plan: ps.plan, Total: total, Cluster: cluster, Namespaces: n, NonCompliant: nonCompliant,
		ClusterExceptions: exceptions, ClusterExceptionsTotal: exceptionsTotal,
		Previous: &profile.Status, Generation: profile.Generation, CatalogVersion: r.CatalogVersion,
		Now: now, Problems: problems, GatherError: gatherErr,
		FirstSeen: report.Lookup(r.firstSeen, profile.Name, "", now, persists),
	})
	if p.clusterJudged && r.firstSeen != nil {
		// The cluster-scoped objects were judged now: remember the times of the findings listed,
		// and keep those of the findings crowded out of the list that persist.
		r.firstSeen.Record(profile.Name, "", desired.ClusterFindings, persists, now)
	}
	r.journal.setCondition(&desired.Conditions, profile.Generation)
	setProfileReady(profile.Name, desired.Conditions)
	// profile is as the evaluation read it when it began: another evaluation of the profile
	// (of one namespace, which runs beside a full one) may have written another status since.
	// Unchanged from what it read is unchanged only when it is also what this process last
	// wrote; else the write goes ahead, and conflicts (evaluated again) if the profile moved on.
	ps.statusMu.Lock()
	defer ps.statusMu.Unlock()
	if report.SameProfileStatus(&profile.Status, &desired) && (ps.statusWritten == nil || sameBesidesHeads(ps.statusWritten, &desired)) {
		ps.statusWritten = desired.DeepCopy()
		// The findings the status does not list may have changed all the same (a new one in
		// place of one that went): they are identified, and alerted on, as after a write.
		r.alertClusterFindings(profile, &profile.Status, r.freshCluster(ctx, p, desired.ClusterFindings, desired.ClusterFindings), p.now)
		return nil
	}
	previous := profile.Status.DeepCopy()
	profile.Status = desired
	if err := r.Status().Update(ctx, profile); err != nil {
		return fmt.Errorf("writing the status of profile %s: %w", profile.Name, err)
	}
	ps.statusWritten = desired.DeepCopy()
	r.notifyProfileChange(profile, previous, r.freshCluster(ctx, p, desired.ClusterFindings, previous.ClusterFindings), p.now)
	return nil
}

// freshCluster is fresh for the cluster-scoped objects (namespace ""), once the profile's
// status holds the pass's judgement of them (written, or unchanged): the failing findings new
// to the profile by check, resource and container, listed in clusterFindings or not, which
// soc2_operator_finding_opened_timestamp_seconds{namespace=""} records and the sinks are told
// of. listed are the findings the status lists, prevListed those it listed before. None when
// the pass did not judge them (a namespace's evaluation keeps their last judgement). The
// failing ones identified are kept on a Lease, which the first full evaluation in the next
// process reads (clusterfailing.go). Called with p.ps.statusMu held.
func (r *ComplianceProfileReconciler) freshCluster(ctx context.Context, p *pass, listed, prevListed []v1alpha1.Finding) []v1alpha1.Finding {
	if !p.clusterJudged {
		return nil
	}
	r.seedClusterFailing(ctx, p)
	fresh := r.fresh(p.profile, p.ps, "", p.clusterSummary, listed, prevListed, p.now)
	r.keepClusterFailing(ctx, p)
	return fresh
}

// sameBesidesHeads says whether two statuses of a profile say the same, the journal's heads
// aside: the journal publishes those itself (journal_anchor.go), and an evaluation only keeps
// what it read.
func sameBesidesHeads(a, b *v1alpha1.ComplianceProfileStatus) bool {
	ac, bc := *a, *b
	ac.JournalHeads, bc.JournalHeads = nil, nil
	return report.SameProfileStatus(&ac, &bc)
}

// knowsNoSelection says whether a problem leaves the profile without a complete, current view
// of which namespaces it assesses and how they stand: a selector that does not parse, or
// namespaces whose latest evaluation failed or is overdue (these make its result Unknown).
func knowsNoSelection(p engine.Problem) bool {
	switch p.Reason {
	case v1alpha1.ReasonInvalidSelector, v1alpha1.ReasonEvaluationFailed, v1alpha1.ReasonEvaluationOverdue:
		return true
	}
	return false
}

// noNamespacesSelected is the problem of a profile that selects no namespace: it assesses the
// cluster-scoped objects alone, and no workload, so its result is not Compliant
// (report.ProfileStatus) and its Ready condition says why no namespace is selected, in the
// terms of its spec: how many namespaces exist, and how many its exclusions and the system
// namespaces account for.
func (r *ComplianceProfileReconciler) noNamespacesSelected(ctx context.Context, profile *v1alpha1.ComplianceProfile) engine.Problem {
	list := &corev1.NamespaceList{}
	why := ""
	if sel, problem := selection.NamespaceSelector(profile); problem == nil && r.List(ctx, list, client.UnsafeDisableDeepCopy) == nil {
		excluded, system := 0, 0
		for i := range list.Items {
			switch selection.Decide(profile, sel, &list.Items[i]) {
			case selection.Excluded:
				excluded++
			case selection.System:
				system++
			}
		}
		why = fmt.Sprintf(" (of the cluster's %d namespaces, spec.excludedNamespaces excludes %d and %d are system namespaces, not included without spec.includeSystemNamespaces)",
			len(list.Items), excluded, system)
	}
	return engine.Problem{Reason: v1alpha1.ReasonNoNamespacesSelected, Field: "spec.namespaceSelector",
		Message: "spec.namespaceSelector: the profile selects no namespace" + why +
			", so no workload is assessed, only the cluster-scoped objects; its result is NotAssessed unless those fail"}
}

// profileProblems are what keeps the profile from working (watchProblems) and the pass's own
// (a namespace selector that does not parse).
func (r *ComplianceProfileReconciler) profileProblems(ctx context.Context, p *pass) []engine.Problem {
	nc, _ := r.state.notCurrentNamespaces(p.ps)
	problems := append(notCurrentProblems(nc), r.watchProblems(ctx, p.profile, p.ps.plan)...)
	problems = append(problems, p.problems...)
	if refused := refusedReports(r.state.refusedReports(p.ps)); refused != nil {
		problems = append(problems, *refused)
	}
	return problems
}

// notCurrentProblems are the problems of namespaces ("": the cluster-scoped objects) whose
// latest evaluation failed (reason EvaluationFailed) or is overdue (EvaluationOverdue): the
// profile's roll-up holds their last summary, which is no verdict on them now, so its result
// is Unknown (report.ProfileStatus) and Ready names them, since when and why.
func notCurrentProblems(nc map[string]notCurrent) []engine.Problem {
	var out []engine.Problem
	for _, reason := range []string{v1alpha1.ReasonEvaluationFailed, v1alpha1.ReasonEvaluationOverdue} {
		var names []string
		namespaces := 0
		for ns, why := range nc {
			if why.reason == reason {
				names = append(names, ns)
				if ns != "" {
					namespaces++
				}
			}
		}
		if len(names) == 0 {
			continue
		}
		slices.Sort(names) // "" (the cluster-scoped objects) first
		shown := names[:min(len(names), 10)]
		var why []string
		for _, ns := range shown {
			label := ns
			if ns == "" {
				label = "the cluster-scoped objects"
			}
			if reason == v1alpha1.ReasonEvaluationOverdue {
				why = append(why, label+": "+nc[ns].message) // which says since when
				continue
			}
			why = append(why, fmt.Sprintf("%s since %s: %s", label, nc[ns].since.UTC().Format(time.RFC3339), nc[ns].message))
		}
		what := fmt.Sprintf("%d namespaces", namespaces)
		if nc[""].reason == reason {
			what = "the cluster-scoped objects"
			if namespaces > 0 {
				what = fmt.Sprintf("%d namespaces and the cluster-scoped objects", namespaces)
			}
		}
		if len(names) > len(shown) {
			what += fmt.Sprintf(" (%d more not named)", len(names)-len(shown))
		}
		verb := "failed"
		if reason == v1alpha1.ReasonEvaluationOverdue {
			verb = "is overdue"
		}
		out = append(out, engine.Problem{Reason: reason,
			Message: fmt.Sprintf("the latest evaluation of %s %s, so the profile's result is Unknown (their reports are too; its counts and criteria keep their last evaluation): %s",
				what, verb, strings.Join(why, "; "))})
	}
	return out
}

// refusedReports is the problem of reports the API server refuses to write (an admission
// policy, a quota): each shows an older evaluation, perhaps with its old result and Stale=False,
// since marking it stale is a write refused too. The profile's status, which the operator
// can still write, says which and why; nil when every write went through.
func refusedReports(refused map[string]string) *engine.Problem {
	if len(refused) == 0 {
		return nil
	}
	namespaces := slices.Sorted(maps.Keys(refused))
	shown := namespaces[:min(len(namespaces), 10)]
	var why []string
	for _, ns := range shown {
		why = append(why, ns+": "+refused[ns])
	}
	more := ""
	if len(namespaces) > len(shown) {
		more = fmt.Sprintf(" (and %d more)", len(namespaces)-len(shown))
	}
	return &engine.Problem{Reason: v1alpha1.ReasonWriteFailed,
		Message: fmt.Sprintf("the API server refused to write the reports of %d namespaces%s, which show an older evaluation, perhaps without saying so; the profile's result counts the latest: %s",
			len(namespaces), more, strings.Join(why, "; "))}
}

// watchProblems reports what keeps the profile from working in this cluster: approvals it
// requires that cannot be trusted (the admission policies are missing), and custom checks on
// kinds the operator does not read (they could never judge anything).
func (r *ComplianceProfileReconciler) watchProblems(ctx context.Context, profile *v1alpha1.ComplianceProfile, plan *engine.Plan) []engine.Problem {
	read := map[string]bool{engine.KindWorkload: true}
	var names []string
	for _, k := range r.Gatherer.Kinds {
		if k.ByName {
			continue // only the Nodes bound Pods name are read, and never judged
		}
		read[k.GVK.Kind] = true
		names = append(names, k.GVK.Kind)
	}
	// A kind the operator may not list is one it reads once it may: a custom check of it is
	// not wrong, and KindsUnreadable says what to grant.
	for kind := range r.Gatherer.AllUnseen() {
		read[kind] = true
	}
	var out []engine.Problem
	if trust, why := r.Approval.Trust(); plan.RequireApproval && trust != engine.ApprovalEnforced {
		out = append(out, engine.Problem{Reason: v1alpha1.ReasonApprovalNotEnforced, Field: "spec.exceptionPolicy.requireApproval",
			Message: "spec.exceptionPolicy.requireApproval: approvals cannot be trusted, so every exception stays PendingApproval: " + why +
				" (the operator applies its admission policies unless --manage-admission-policies=false; see `soc2-operator admission-policies`)"})
	}
	if p := r.policyReports.unavailable(ctx, profile); p != nil {
		out = append(out, *p)
	}
	if p := unreadableKinds(plan.Unseen(r.Gatherer.AllUnseen())); p != nil {
		out = append(out, *p)
	}
	for i, cc := range profile.Spec.CustomChecks {
		for j, k := range cc.Kinds {
			if !read[k] {
				field := fmt.Sprintf("spec.customChecks[%d].kinds[%d]", i, j)
				out = append(out, engine.Problem{Reason: v1alpha1.ReasonInvalidCustomCheck, Field: field,
					Message: fmt.Sprintf("%s: the operator does not read %s objects; it reads Workload, %s", field, k, strings.Join(names, ", "))})
			}
		}
	}
	return out
}

// unreadableKinds is the problem of an operator that may not list some kinds the profile's
// checks judge or read (inventory.Readable, engine.Plan.Unseen): those checks say NotAssessed
// in every report, and the profile says why and what to do, or nil when it may list every kind
// they need.
func unreadableKinds(unseen map[string]engine.Unseen) *engine.Problem {
	if len(unseen) == 0 {
		return nil
	}
	var why []string
	for _, kind := range slices.Sorted(maps.Keys(unseen)) {
		why = append(why, kind+": "+unseen[kind].Reason)
	}
	return &engine.Problem{Reason: v1alpha1.ReasonKindsUnreadable,
		Message: "the checks that judge or read these kinds are NotAssessed in every report: " + strings.Join(why, "; ")}
}
