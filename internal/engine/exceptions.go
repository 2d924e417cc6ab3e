package engine

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// ExceptionKey names an exception wherever one is referred to: namespace/name, as findings'
// exception field, alerts and the journal show it.
func ExceptionKey(namespace, name string) string { return namespace + "/" + name }

// ExceptionOutcome is what became of one ControlException in an evaluation.
type ExceptionOutcome struct {
	// Exception is the object evaluated.
	Exception *v1alpha1.ControlException
	// Key is the exception's ExceptionKey.
	Key string
	// State is PendingApproval, Active, Expired or Invalid for this profile at evaluation time.
	State v1alpha1.ExceptionState
	// Reason is a condition reason (Active, Expired, UnknownCheck, PolicyViolation, ...).
	Reason string
	// Message explains the state.
	Message string
	// Matched is how many findings the exception covers: the failures it waives (Excepted) and
	// the results their objects left undecided that it waives as it would their failures
	// (Result.FailedOnObject, Evaluation.Waived), which the summaries count as excepted too.
	Matched int
	// MatchedByNamespace splits Matched by the namespace of the findings ("" for
	// cluster-scoped objects).
	MatchedByNamespace map[string]int
	// UndecidedByNamespace counts, of MatchedByNamespace, the results their objects left
	// undecided (Result.FailedOnObject): what the exception waives without it ever having been
	// judged.
	UndecidedByNamespace map[string]int
	// AppliesTo reports whether the exception applies to this profile at all (spec.profiles).
	AppliesTo bool
	// ApprovedBy is the approver whose approval is trusted ("" when there is none).
	ApprovedBy string
	// Notes qualify an Active exception: findings it asks to waive but may not, an approval
	// that could not be verified.
	Notes []string
	// wouldCover lists, for a PendingApproval exception, by the namespace of the findings (""
	// for cluster-scoped objects), the findings it would cover were it approved now
	// (WouldCover), as indexes into wouldTable, which the evaluation's pending exceptions share:
	// a finding that many pending exceptions would cover is kept once, and each exception adds
	// four bytes (a tenant may request many exceptions that each match every finding).
	wouldCover map[string][]int32
	wouldTable *[]CoveredItem
	// WouldCoverNotComputed says, for a PendingApproval exception whose WouldCover the
	// evaluation did not compute, why (MaxPendingJudged): "" when it did. WouldCover is then
	// empty, which says nothing of what the exception would cover.
	WouldCoverNotComputed string

	checks     map[string]bool
	criteria   map[v1alpha1.Criterion]bool
	namespaces map[string]bool // nil: only its own namespace
	anyNS      bool
	kinds      map[string]bool
	names      []string
	selector   labels.Selector
	containers []string
	// maxSeverity is the most severe finding the exception may waive.
	maxSeverity v1alpha1.Severity
}

// ExceptionOptions are what exception validity depends on besides the exception itself.
type ExceptionOptions struct {
	// Now is the evaluation time: exceptions whose expiry is not after it are Expired.
	Now time.Time
	// AdminNamespace is the operator's own namespace, the only one whose exceptions may select
	// other namespaces or cluster-scoped objects.
	AdminNamespace string
	// Approval says whether approvals written on exceptions can be trusted.
	Approval ApprovalTrust
	// ApprovalProblem says why approvals are not trusted (Approval is ApprovalUnverified).
	ApprovalProblem string
	// ApprovalsSince is when the admission policies came into force (the Verifier's
	// InForceSince): an exception created before then, and never judged with them in force, is
	// judged as AsJudged marks it, its approval not trusted.
	ApprovalsSince time.Time
}

// ApprovalTrust says whether the approvals recorded on exceptions can be believed.
type ApprovalTrust int

const (
	// ApprovalUnverified: the admission policies that record requesters and check approvers are
	// not known to be in force, so an approval may have been typed by anyone. Approvals are not
	// trusted: exceptions that need one stay PendingApproval. The zero value, so that a caller
	// that does not know never trusts.
	ApprovalUnverified ApprovalTrust = iota
	// ApprovalEnforced: the API server records spec.requestedBy and accepts an approval only
	// from a user who may approve and is not the requester.
	ApprovalEnforced
	// ApprovalOffline: there is no API server (scan). Approval cannot be checked; exceptions
	// files are taken as reviewed where they are kept (in Git), and each Active exception says
	// that its approval was not verified.
	ApprovalOffline
)

// NoteApprovalOffline is the note on exceptions that apply offline although the profile
// requires approval.
const NoteApprovalOffline = "approval not verifiable offline: the exceptions file is taken as reviewed"

// TrustedApprover returns the approver of ex when its approval can be trusted, else "" and why
// not.
func TrustedApprover(ex *v1alpha1.ControlException, trust ApprovalTrust, problem string) (string, string) {
	a := ex.Approval
	switch {
	case a == nil || strings.TrimSpace(a.ApprovedBy) == "":
		who := "the requester"
		if ex.Spec.RequestedBy != "" {
			who = fmt.Sprintf("the requester %s", ex.Spec.RequestedBy)
		}
		return "", fmt.Sprintf("awaiting approval: a user other than %s who may approve controlexceptions in namespace %s must set approval.approvedBy to their own name", who, ex.Namespace)
	case trust == ApprovalOffline:
		return a.ApprovedBy, ""
	case trust != ApprovalEnforced:
		if problem == "" {
			problem = "the admission policies that check approvals are not verified"
		}
		return "", fmt.Sprintf("the approval by %s is not trusted: %s", a.ApprovedBy, problem)
	case ex.Status.UnverifiedApprovalGeneration != 0 && ex.Status.UnverifiedApprovalGeneration == ex.Generation:
		return "", fmt.Sprintf("the approval by %s is not trusted: it was written before the operator had confirmed that the admission policies that check approvals were in force (anyone could have written it then); remove approval and approve again", a.ApprovedBy)
	case ex.Spec.RequestedBy == "":
		return "", fmt.Sprintf("the approval by %s is not trusted: spec.requestedBy is empty, so the exception was written before the admission policies recorded requesters; change its spec and have it approved again", a.ApprovedBy)
	case a.ApprovedBy == ex.Spec.RequestedBy:
		return "", fmt.Sprintf("the approval is not trusted: approval.approvedBy %s is the requester", a.ApprovedBy)
	}
	return a.ApprovedBy, ""
}

// ApprovalRecorded reports whether the operator recorded ex's current approval as trusted (its
// status names the approver at the current generation).
func ApprovalRecorded(ex *v1alpha1.ControlException) bool {
	return ex.Approval != nil && ex.Status.ApprovedBy != "" && ex.Status.ApprovedBy == ex.Approval.ApprovedBy &&
		ex.Status.ApprovedGeneration == ex.Generation
}

// PredatesPolicies reports whether ex must be marked as unverified at its current generation
// (status.unverifiedApprovalGeneration) now that the admission policies are in force since
// since: it was created before they came into force (or within the same second: creation times
// are kept to the second, and the API server applies a new policy a moment after storing it), and
// the operator has never judged it with
// them in force (no approval recorded, no generation marked). Whatever approval it carries may
// have been written with nothing to check it, say on a fresh install before the operator wrote
// its policies, or while a GitOps tool had not yet applied them, with no operator watching.
// Once marked, any later write, an approval included, goes through the policies.
func PredatesPolicies(ex *v1alpha1.ControlException, since time.Time) bool {
	return !since.IsZero() && !ex.CreationTimestamp.Time.After(since) &&
		ex.Status.UnverifiedApprovalGeneration == 0 && !ApprovalRecorded(ex)
}

// AsJudged returns ex as it is to be judged: one created before the admission policies came
// into force (since) and never judged with them in force may carry an approval written
// unchecked (a fresh install, GitOps not yet applied), so it is marked unverified at its current
// generation (PredatesPolicies). JudgeException judges every exception so
// (ExceptionOptions.ApprovalsSince), since the profile reconciler and the admission webhook may
// judge it before the exception reconciler has recorded the mark in its status, and must not
// waive findings with, or show in a report, an approval nobody checked.
func AsJudged(ex *v1alpha1.ControlException, trust ApprovalTrust, since time.Time) *v1alpha1.ControlException {
	if trust != ApprovalEnforced || !PredatesPolicies(ex, since) {
		return ex
	}
	ex = ex.DeepCopy()
	ex.Status.UnverifiedApprovalGeneration = ex.Generation
	return ex
}

// JudgeException settles the state of one exception under this plan: Invalid, Expired (its
// expiry passed, or it was deleted and only finalizers hold it), PendingApproval or Active (in
// that order of precedence), with a reason and a message that say why.
func (p *Plan) JudgeException(ex *v1alpha1.ControlException, opts ExceptionOptions) *ExceptionOutcome {
	ex = AsJudged(ex, opts.Approval, opts.ApprovalsSince)
	out := &ExceptionOutcome{
		Exception:            ex,
		Key:                  ExceptionKey(ex.Namespace, ex.Name),
		MatchedByNamespace:   map[string]int{},
		UndecidedByNamespace: map[string]int{},
		AppliesTo:            len(ex.Spec.Profiles) == 0 || slices.Contains(ex.Spec.Profiles, p.ProfileName),
	}
	invalid := func(reason, format string, args ...any) *ExceptionOutcome {
		out.State, out.Reason, out.Message = v1alpha1.ExceptionInvalid, reason, fmt.Sprintf(format, args...)
		return out
	}
	spec := &ex.Spec

	if len(spec.Checks) == 0 && len(spec.Criteria) == 0 {
		return invalid(v1alpha1.ReasonNothingWaived, "spec: an exception must name at least one check or criterion")
	}
	if strings.TrimSpace(spec.Reason) == "" {
		return invalid(v1alpha1.ReasonMissingReason, "spec.reason: an exception needs a reason")
	}
	if strings.TrimSpace(spec.Owner) == "" {
		return invalid(v1alpha1.ReasonMissingOwner, "spec.owner: an exception needs an owner")
	}
	if spec.Expires.IsZero() {
		return invalid(v1alpha1.ReasonMissingExpiry, "spec.expires: an exception needs an expiry")
	}
	out.checks = map[string]bool{}
	for i, id := range spec.Checks {
		if !p.KnownCheck(id) {
			return invalid(v1alpha1.ReasonUnknownCheck, "spec.checks[%d]: unknown check %q", i, id)
		}
		out.checks[id] = true
	}
	out.criteria = map[v1alpha1.Criterion]bool{}
	for i, c := range spec.Criteria {
		if !KnownCriterion(c) {
			return invalid(v1alpha1.ReasonUnknownCriterion, "spec.criteria[%d]: unknown SOC 2 criterion %q", i, c)
		}
		out.criteria[c] = true
	}
	m := &spec.Match
	if ex.Namespace == "" {
		// The API server holds none such, but scan reads one from a file when --namespace is
		// "": its own namespace would be "", the namespace of cluster-scoped objects, which
		// only the operator's namespace may waive (with "*").
		return invalid(v1alpha1.ReasonNamespaceNotAllowed,
			"metadata.namespace: an exception must be in a namespace; one without would cover cluster-scoped objects, which only exceptions in the operator's namespace %q may select", opts.AdminNamespace)
	}
	switch {
	case len(m.Namespaces) == 0:
	case ex.Namespace != opts.AdminNamespace:
		// Its own namespace, listed alone, selects what the exception selects without the
		// field (out.namespaces stays nil): only it. Any other, or "*", is not the tenant's.
		for _, ns := range m.Namespaces {
			if ns != ex.Namespace {
				return invalid(v1alpha1.ReasonNamespaceNotAllowed,
					"spec.match.namespaces: only exceptions in the operator's namespace %q may select other namespaces (it is in %q and lists %q)",
					opts.AdminNamespace, ex.Namespace, ns)
			}
		}
	default:
		out.namespaces = map[string]bool{}
		for _, ns := range m.Namespaces {
			if ns == "*" {
				out.anyNS = true
			}
			out.namespaces[ns] = true
		}
	}
	if len(m.Kinds) > 0 {
		out.kinds = map[string]bool{}
		for _, k := range m.Kinds {
			out.kinds[k] = true
		}
	}
	for i, pat := range append(append([]string{}, m.Names...), m.Containers...) {
		if _, err := path.Match(pat, ""); err != nil {
			field := fmt.Sprintf("spec.match.names[%d]", i)
			if i >= len(m.Names) {
				field = fmt.Sprintf("spec.match.containers[%d]", i-len(m.Names))
			}
			return invalid(v1alpha1.ReasonInvalidMatch, "%s: %q is not a valid pattern", field, pat)
		}
	}
	out.names, out.containers = m.Names, m.Containers
	if m.LabelSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(m.LabelSelector)
		if err != nil {
			return invalid(v1alpha1.ReasonInvalidMatch, "spec.match.labelSelector: %v", err)
		}
		out.selector = sel
	}
	if !p.AllowTenantExceptions && ex.Namespace != opts.AdminNamespace {
		return invalid(v1alpha1.ReasonPolicyViolation,
			"metadata.namespace: profile %q honours exceptions only in the operator's namespace %q (spec.exceptionPolicy.allowTenantExceptions is false)", p.ProfileName, opts.AdminNamespace)
	}
	// An exception runs from its creation. One read from a file (scan) has no creation time: it
	// is created no later than now, so it runs at least from now to its expiry.
	from, since := ex.CreationTimestamp.Time, "its creation"
	if from.IsZero() {
		from, since = opts.Now, "now"
	}
	if p.MaxExceptionDuration > 0 && !from.IsZero() {
		if d := spec.Expires.Sub(from); d > p.MaxExceptionDuration {
			return invalid(v1alpha1.ReasonPolicyViolation, "spec.expires: the exception runs %s from %s; %s allows at most %s",
				roundDuration(d), since, p.profileLabel(), roundDuration(p.MaxExceptionDuration))
		}
	}
	if at := ex.DeletionTimestamp; at != nil {
		// A deleted exception ends when it is deleted. Finalizers keep the object (anyone who
		// may update it can add one), but deleting it is how it is revoked, by a person or by
		// GitOps pruning what was removed from Git: held by a finalizer, it would go on
		// waiving findings for as long as the finalizer stays.
		out.State, out.Reason = v1alpha1.ExceptionExpired, v1alpha1.ReasonDeleted
		out.Message = "deleted at " + at.UTC().Format(time.RFC3339)
		if len(ex.Finalizers) > 0 {
			noun := "finalizer"
			if len(ex.Finalizers) > 1 {
				noun += "s"
			}
			out.Message += fmt.Sprintf(" (held by %s %s)", noun, strings.Join(ex.Finalizers, ", "))
		}
		return out
	}
	if !spec.Expires.After(opts.Now) {
		out.State, out.Reason = v1alpha1.ExceptionExpired, v1alpha1.ReasonExpired
		out.Message = "expired at " + spec.Expires.UTC().Format(time.RFC3339)
		return out
	}
	out.maxSeverity = p.MaxWaivedSeverity
	if over := p.unwaivable(out); len(over) > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("does not waive %s findings: %s waives at most %s (spec.exceptionPolicy.maxSeverity)",
			strings.Join(over, " or "), p.profileLabel(), p.MaxWaivedSeverity))
	}
	approver, why := TrustedApprover(ex, opts.Approval, opts.ApprovalProblem)
	out.ApprovedBy = approver
	switch {
	case !p.RequireApproval:
	case opts.Approval == ApprovalOffline:
		out.Notes = append(out.Notes, NoteApprovalOffline)
	case approver == "":
		out.State, out.Reason, out.Message = v1alpha1.ExceptionPendingApproval, v1alpha1.ReasonPendingApproval, why
		return out
	}
	out.State, out.Reason = v1alpha1.ExceptionActive, v1alpha1.ReasonActive
	out.Message = "active until " + spec.Expires.UTC().Format(time.RFC3339)
	if approver != "" {
		out.Message += ", approved by " + approver
	}
	for _, n := range out.Notes {
		out.Message += "; " + n
	}
	return out
}

// unwaivable lists the severities above the plan's limit of the enabled checks the exception
// names, directly or through a criterion.
func (p *Plan) unwaivable(e *ExceptionOutcome) []string {
	var out []string
	for _, c := range p.Checks {
		if SeverityRank(c.Severity) >= SeverityRank(p.MaxWaivedSeverity) || slices.Contains(out, string(c.Severity)) {
			continue
		}
		named := e.checks[c.ID]
		for _, cr := range c.Criteria {
			named = named || e.criteria[cr]
		}
		if named {
			out = append(out, string(c.Severity))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return SeverityRank(v1alpha1.Severity(out[i])) < SeverityRank(v1alpha1.Severity(out[j]))
	})
	return out
}

// profileLabel names the profile in messages.
func (p *Plan) profileLabel() string {
	if p.ProfileName == "" {
		return "the default profile"
	}
	return fmt.Sprintf("profile %q", p.ProfileName)
}

func roundDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}

// Selects reports whether the exception can cover objects of a namespace ("" for cluster-scoped
// objects): its own namespace, or the namespaces an admin exception lists.
func (e *ExceptionOutcome) Selects(namespace string) bool {
	if len(e.Exception.Spec.Match.Namespaces) == 0 || e.namespaces == nil && e.State == v1alpha1.ExceptionInvalid {
		return namespace == e.Exception.Namespace
	}
	for _, ns := range e.Exception.Spec.Match.Namespaces {
		if ns == "*" || ns == namespace {
			return true
		}
	}
	return false
}

// covers reports whether the exception waives result r.
func (e *ExceptionOutcome) covers(r *Result) bool {
	if e.maxSeverity != "" && SeverityRank(r.Check.Severity) < SeverityRank(e.maxSeverity) {
		return false
	}
	if !e.checks[r.Check.ID] {
		found := false
		for _, c := range r.Check.Criteria {
			if e.criteria[c] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	o := r.Object
	if o == nil {
		return false
	}
	switch {
	case e.anyNS:
	case e.namespaces != nil:
		if !e.namespaces[resultNamespace(o)] {
			return false
		}
	default:
		if resultNamespace(o) != e.Exception.Namespace {
			return false
		}
	}
	if e.kinds != nil && !e.kinds[o.Kind] && !(e.kinds[KindWorkload] && o.Workload != nil) && !e.kindInGroup(o) {
		return false
	}
	if len(e.names) > 0 && !matchAny(e.names, o.Name) {
		return false
	}
	if e.selector != nil && !e.selector.Matches(labels.Set(o.Labels())) {
		return false
	}
	if len(e.containers) > 0 && (r.Container == "" || !matchAny(e.containers, r.Container)) {
		return false
	}
	return true
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// CoveredItem is one finding an exception covers or would cover, as its digest names it: the
// check, the object's identity kind (IdentityKind), namespace and name, and the container.
type CoveredItem struct {
	Check, Kind, Namespace, Name, Container string
}

// exceptionIndex finds the exceptions in one state (Active: those that cover results) that may
// cover results in a namespace. Each list is by namespace/name, as find tries them, and split by
// the checks of the plan its exceptions name, directly or through a criterion: an exception is
// tried only on the results of a check it names, so that matching costs what the exceptions that
// can cover a result cost, not what every exception of its namespace does. A tenant's 1,000
// Active exceptions, each naming one check, made every result of their namespace try each of
// them: 0.9 to 1.3 s an evaluation over 10,000 failing results, 0.13 to 0.2 s split
// (BenchmarkThousandActiveExceptionsTenThousandFindings). Exceptions that all name the check of
// all those results still cost each result every one of them: 1,000 such over 10,000 results,
// 1.1 to 2.2 s (BenchmarkThousandActiveExceptionsOfOneCheck), which a tenant can reach only where
// their exceptions are Active without an approver (docs/operations.md).
type exceptionIndex struct {
	plan        *Plan
	byNamespace map[string]*exceptionList
	everywhere  *exceptionList
}

// exceptionList is one namespace's exceptions (or those of every namespace) by namespace/name:
// all of them, and by check (the index of a PlannedCheck in Plan.Checks) those that name it.
type exceptionList struct {
	all     []*ExceptionOutcome
	byCheck map[int][]*ExceptionOutcome
}

func newExceptionIndex(p *Plan, outcomes []*ExceptionOutcome) *exceptionIndex {
	return indexExceptions(p, outcomes, v1alpha1.ExceptionActive)
}

// indexExceptions indexes the outcomes in state that apply to the plan's profile; outcomes are
// by namespace/name (sortOutcomes).
func indexExceptions(p *Plan, outcomes []*ExceptionOutcome, state v1alpha1.ExceptionState) *exceptionIndex {
	idx := &exceptionIndex{plan: p, byNamespace: map[string]*exceptionList{}, everywhere: &exceptionList{}}
	add := func(l *exceptionList, e *ExceptionOutcome) *exceptionList {
		if l == nil {
			l = &exceptionList{}
		}
		l.all = append(l.all, e)
		return l
	}
	for _, e := range outcomes {
		if e.State != state || !e.AppliesTo {
			continue
		}
		switch {
		case e.anyNS:
			idx.everywhere = add(idx.everywhere, e)
		case e.namespaces != nil:
			for ns := range e.namespaces {
				idx.byNamespace[ns] = add(idx.byNamespace[ns], e)
			}
		default:
			idx.byNamespace[e.Exception.Namespace] = add(idx.byNamespace[e.Exception.Namespace], e)
		}
	}
	byID := make(map[string]*PlannedCheck, len(p.Checks))
	byCriterion := map[v1alpha1.Criterion][]*PlannedCheck{}
	for _, c := range p.Checks {
		byID[c.ID] = c
		for _, cr := range c.Criteria {
			byCriterion[cr] = append(byCriterion[cr], c)
		}
	}
	for _, l := range idx.byNamespace {
		sortOutcomes(l.all)
		l.split(p, byID, byCriterion)
	}
	idx.everywhere.split(p, byID, byCriterion)
	return idx
}

// split fills byCheck: each exception of all, in order, under each check of the plan it names,
// by ID or by one of the check's criteria (what covers asks).
func (l *exceptionList) split(p *Plan, byID map[string]*PlannedCheck, byCriterion map[v1alpha1.Criterion][]*PlannedCheck) {
	l.byCheck = map[int][]*ExceptionOutcome{}
	under := func(c *PlannedCheck, e *ExceptionOutcome) {
		// An exception that names a check twice (by ID and by a criterion) is listed once:
		// the last one listed is the one being added.
		if list := l.byCheck[c.index]; len(list) == 0 || list[len(list)-1] != e {
			l.byCheck[c.index] = append(list, e)
		}
	}
	for _, e := range l.all {
		for id := range e.checks {
			if c := byID[id]; c != nil {
				under(c, e)
			}
		}
		for cr := range e.criteria {
			for _, c := range byCriterion[cr] {
				under(c, e)
			}
		}
	}
}

// candidates are the exceptions of l that may cover a result of check c, in order: those that
// name it, or every one for a check that is not the plan's (which covers then judges).
func (l *exceptionList) candidates(p *Plan, c *PlannedCheck) []*ExceptionOutcome {
	if l == nil {
		return nil
	}
	if c.index < len(p.Checks) && p.Checks[c.index] == c {
		return l.byCheck[c.index]
	}
	return l.all
}

func (idx *exceptionIndex) empty() bool {
	return len(idx.byNamespace) == 0 && len(idx.everywhere.all) == 0
}

// find returns the first exception, by namespace/name, that covers r: those of r's namespace
// before those of every namespace ("*").
func (idx *exceptionIndex) find(r *Result) *ExceptionOutcome {
	for _, e := range idx.byNamespace[resultNamespace(r.Object)].candidates(idx.plan, r.Check) {
		if e.covers(r) {
			return e
		}
	}
	for _, e := range idx.everywhere.candidates(idx.plan, r.Check) {
		if e.covers(r) {
			return e
		}
	}
	return nil
}

// WouldCover lists, for a PendingApproval exception, the findings of the namespace ns ("" for
// cluster-scoped objects) it would cover were it approved now, the other exceptions unchanged:
// the failures and results their objects left undecided that it matches and that no exception
// matched before it covers (an Active one after it, in the order findings are matched, would
// give them up to it). What an approver approves. None for an exception in any other state.
func (e *ExceptionOutcome) WouldCover(ns string) []CoveredItem {
	idx := e.wouldCover[ns]
	if len(idx) == 0 {
		return nil
	}
	out := make([]CoveredItem, len(idx))
	for i, j := range idx {
		out[i] = (*e.wouldTable)[j]
	}
	return out
}

// WouldCoverNamespaces are the namespaces where WouldCover lists findings.
func (e *ExceptionOutcome) WouldCoverNamespaces() []string {
	out := make([]string, 0, len(e.wouldCover))
	for ns := range e.wouldCover {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// wouldCover records r, in table, for each pending exception of the index (indexExceptions
// with PendingApproval) that would cover it were it Active (ExceptionOutcome.WouldCover): one
// that matches r and comes before r's exception, if any, in the order find tries them.
func (idx *exceptionIndex) wouldCover(r *Result, table *[]CoveredItem) {
	o := r.Object
	ns := resultNamespace(o)
	at := int32(-1)
	for _, list := range [2]*exceptionList{idx.byNamespace[ns], idx.everywhere} {
		for _, e := range list.candidates(idx.plan, r.Check) {
			if !precedes(e, r.Exception) || !e.covers(r) {
				continue
			}
			if at < 0 {
				at = int32(len(*table))
				*table = append(*table, CoveredItem{Check: r.Check.ID, Kind: IdentityKind(o.APIVersion, o.Kind),
					Namespace: o.Namespace, Name: o.Name, Container: r.Container})
			}
			if e.wouldCover == nil {
				e.wouldCover, e.wouldTable = map[string][]int32{}, table
			}
			e.wouldCover[ns] = append(e.wouldCover[ns], at)
		}
	}
}

// MaxPendingJudged is how many PendingApproval exceptions of one namespace an evaluation
// computes WouldCover for: the oldest, by creation and then name. Anyone who may create
// exceptions in a namespace requests them without an approver, and each is matched against
// every finding of the evaluation's namespaces: 1,000 of them over 10,000 findings took 1.1 to
// 1.8 s and 155 MB an evaluation (BenchmarkThousandPendingExceptionsTenThousandFindings), which
// the reports of every namespace wait on. The oldest first, so that exceptions requested later,
// in bulk say, never push out the ones an approver is about to read; and by the exception's
// own namespace, so that one tenant's requests only ever crowd out their own.
const MaxPendingJudged = 50

// judgedPending returns the outcomes whose WouldCover the evaluation computes: every outcome
// but the PendingApproval ones of a namespace past its MaxPendingJudged oldest, which are
// marked WouldCoverNotComputed.
func judgedPending(outcomes []*ExceptionOutcome) []*ExceptionOutcome {
	byNS := map[string][]*ExceptionOutcome{}
	for _, e := range outcomes {
		if e.State == v1alpha1.ExceptionPendingApproval && e.AppliesTo {
			byNS[e.Exception.Namespace] = append(byNS[e.Exception.Namespace], e)
		}
	}
	skipped := map[*ExceptionOutcome]bool{}
	for ns, list := range byNS {
		if len(list) <= MaxPendingJudged {
			continue
		}
		slices.SortFunc(list, func(a, b *ExceptionOutcome) int {
			if c := a.Exception.CreationTimestamp.Time.Compare(b.Exception.CreationTimestamp.Time); c != 0 {
				return c
			}
			return strings.Compare(a.Exception.Name, b.Exception.Name)
		})
		for _, e := range list[MaxPendingJudged:] {
			skipped[e] = true
			// The same words whatever the count: each exception's status holds them, and a
			// count would rewrite every such status at each exception the tenant adds.
			e.WouldCoverNotComputed = fmt.Sprintf("what its approval would cover is not computed: namespace %s has more than %d PendingApproval exceptions, "+
				"and each evaluation computes it for the %d oldest only (by creation time, then name); approve or delete older ones",
				ns, MaxPendingJudged, MaxPendingJudged)
		}
	}
	if len(skipped) == 0 {
		return outcomes
	}
	judged := make([]*ExceptionOutcome, 0, len(outcomes)-len(skipped))
	for _, e := range outcomes {
		if !skipped[e] {
			judged = append(judged, e)
		}
	}
	return judged
}

// precedes says whether find tries e before other (nil: none): the exceptions of the result's
// namespace before those of every namespace ("*"), each by namespace/name.
func precedes(e, other *ExceptionOutcome) bool {
	if other == nil {
		return true
	}
	if e.anyNS != other.anyNS {
		return !e.anyNS
	}
	return e.Key < other.Key
}

// Waiver returns the exception of the evaluation that would cover r were r a failure: the
// first Active one that applies, by namespace/name, as failures are matched; nil when none
// would. The admission webhook refuses a custom check stopped on the object (NotAssessed, never
// a pass) as it refuses a failure, and so admits it where an exception would waive that failure.
//
// It reuses the index the evaluation matched failures with: the webhook asks it of each such
// result, and building the index again each time made each call cost every exception.
func (ev *Evaluation) Waiver(r *Result) *ExceptionOutcome {
	idx := ev.waivers
	if idx == nil {
		idx = newExceptionIndex(ev.Plan, ev.Exceptions)
	}
	return idx.find(r)
}

// Waived returns, for each result of the evaluation that its object left undecided
// (Result.FailedOnObject) and an exception would waive were it a failure (Waiver), that
// exception: what the admission webhook admits and scan's gate passes, which every output
// shows as it shows a waived failure (suppressed, skipped, with the exception). Nil when there is
// none.
//
// The evaluation found each while the object was whole (Result.Exception): an exception may
// select objects by labels, which a result's object no longer has once a scan let it go.
func (ev *Evaluation) Waived() map[*Result]*ExceptionOutcome {
	var out map[*Result]*ExceptionOutcome
	for i := range ev.Results {
		r := &ev.Results[i]
		if r.FailedOnObject() && r.Exception != nil {
			if out == nil {
				out = map[*Result]*ExceptionOutcome{}
			}
			out[r] = r.Exception
		}
	}
	return out
}

func sortOutcomes(list []*ExceptionOutcome) {
	sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
}

// kindInGroup reports whether the exception names o's kind in o's API group (Kind.group,
// kubectl's resource.group form: Gateway.networking.istio.io, Deployment.apps). The core group's
// kinds have no such form; their bare kind names them.
func (e *ExceptionOutcome) kindInGroup(o *Object) bool {
	group, _, found := strings.Cut(o.APIVersion, "/")
	return found && group != "" && e.kinds[o.Kind+"."+group]
}
