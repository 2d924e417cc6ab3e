// Package evidence turns the journal into what a SOC 2 Type II auditor receives for a period: a
// self-contained HTML summary with charts, CSVs to sample from, the control descriptions, the
// chain-verification result and a manifest of digests. It reads only the segments of the
// window, streaming, and the same journal and window always give the same bytes.
package evidence

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

// Options select the pack.
type Options struct {
	// From and To bound the period: records with From <= time < To.
	From, To time.Time
	// Profile keeps only one profile's records ("" for all).
	Profile string
	// Namespace keeps only one namespace's rows ("" for all): its deviations, criteria,
	// coverage, population and stale intervals, the exceptions that cover its findings or are
	// its own, and the gaps that concern it (those of every namespace, and journal gaps that
	// lost its records). Records of no namespace (profiles, operators) are read as for every
	// pack, and the chain is verified whole.
	Namespace string
	// Clusters are the journals to read (each cluster's prefix in the store).
	Clusters []string
	// PublicKey checks segment signatures when set.
	PublicKey ed25519.PublicKey
	// Unsigned reads a journal the operator does not sign: segments that carry a signature
	// are a problem (journal.ScanOptions.Unsigned).
	Unsigned bool
	// LockedUntil, when set, requires every segment read to be under Object Lock in compliance
	// mode until at least this time (journal.ScanOptions.LockedUntil).
	LockedUntil time.Time
	// Heads are the journal heads the operator published in the cluster (a copy of the
	// ComplianceProfiles' status.journalHeads, ReadHeads): each cluster's chain must hold the
	// highest of its own (journal.ScanOptions.Heads), or verification reports it rewound.
	Heads []v1alpha1.JournalHead
	// Dir is the output directory.
	Dir string
	// Now is the clock (default time.Now): nothing of a period not over is observed after it.
	Now func() time.Time
}

// Pack is what was built: the verification of each cluster's chain and the counts shown.
type Pack struct {
	Options      Options
	Verification []journal.Result
	Files        []string
	// Until is the end of what the journal could have observed: the period's end, or the time
	// the pack was built for a period not over.
	Until time.Time

	Records      int
	Deviations   []*Deviation
	Exceptions   []*ExceptionRow
	Coverage     []*CoverageRow
	Gaps         []Gap
	Stale        []Stale
	Profiles     []ProfileVersion
	Timelines    []*Timeline
	CheckSummary []*CheckSummary
	// Operators are the operator processes whose records the period holds, in order.
	Operators []*OperatorRun
}

// OperatorRun is one operator process as its operator.* records name it (started, heartbeat,
// stopped, gaps): the records after them, until another operator's, are its judgements, made
// with its version of the operator and of the check catalogue.
type OperatorRun struct {
	Cluster string
	journal.Operator
	// Started is when it started, when the records read say so (zero for one that started
	// before them).
	Started time.Time
	// First and Last are its first and last records in the period.
	First, Last time.Time
	// since is the time of the record that named it first.
	since time.Time
}

// OK reports whether every chain verified.
func (p *Pack) OK() bool {
	for _, r := range p.Verification {
		if !r.OK() {
			return false
		}
	}
	return true
}

// Deviation is a finding's life: from opened to closed (or still open at the end).
type Deviation struct {
	Cluster, Profile, Namespace string
	Finding                     journal.Finding
	Opened, Closed              time.Time
	Exceptions                  []string
	BeforeWindow                bool
	// Inferred: no closing record (lost in a journal gap); an attestation showed it gone.
	Inferred bool
	// Reason is why it closed (journal.Finding.CloseReason; empty when the journal does not
	// say, or when inferred).
	Reason string
	// Reassessed is what changed when a reassessed finding closed (journal.Finding.Reassessed:
	// the profile's generation, the check catalogue's version).
	Reassessed string
	// Since is when the finding was first opened in the namespace under the profile, earlier
	// than Opened when it was open before and went out of scope or its resource went (and came
	// back): the time to remediate counts from then.
	Since time.Time
	// ExceptedFrom is when the journal first shows an exception covering it in the period
	// (zero if none did): before then, it was a deviation no exception waived.
	ExceptedFrom time.Time
	// excepted is how long it was excepted up to exceptedSince (zero while not excepted), and
	// waiver the exception that covers it since then (nil when not known).
	excepted      time.Duration
	exceptedSince time.Time
	waiver        *ExceptionRow
	// judged is what the latest record showing it open was judged under: an inferred closing
	// judged under another profile version or catalogue is reassessed, not remediated.
	judged judgement
	// Reopened counts the times the finding opened again within ReopenedWithin of a remediated
	// closing of this row, which then went on: Opened is its first opening, Closed its last
	// closing, and OpenFor the time it was open in all.
	Reopened int
	// openFor is the time it was open before its current opening, current when that was (zero:
	// Opened), and episode when the finding of the current opening was first seen.
	openFor time.Duration
	current time.Time
	episode time.Time
	// reopenings are the row's later openings that closed within ReopenedWithin of its latest
	// closing: a second leader's copy of a record of one (around a failover) is not another
	// opening. Its first opening is in the builder's ended, as every row's.
	reopenings []closedOpening
	// containers are the containers the row's earlier openings named, where a later one named
	// another (Finding.Container is the latest's): a failing container removed and added back
	// under another name within ReopenedWithin continues the row.
	containers []string
	// listed: the row is in the pack's deviations already (it closed once).
	listed bool
}

// closedOpening is one opening of a deviation row: its finding's key, when it was first seen,
// and when it closed.
type closedOpening struct {
	key               string
	firstSeen, closed time.Time
}

// hasClosed reports whether an opening of the row of the finding key first seen at t closed
// already.
func (d *Deviation) hasClosed(key string, t time.Time) bool {
	return slices.ContainsFunc(d.reopenings, func(o closedOpening) bool { return o.key == key && o.firstSeen.Equal(t) })
}

// Containers is the container column of the row: each container its openings named, in the
// order they first did, separated by ";".
func (d *Deviation) Containers() string {
	if len(d.containers) == 0 {
		return d.Finding.Container
	}
	return strings.Join(append(slices.Clone(d.containers), d.Finding.Container), ";")
}

// resourceKey is the key of a finding's check and resource, whatever its container.
func resourceKey(f *journal.Finding) string {
	return journal.FindingKey(f.Check, f.IdentityKind(), f.Name, "")
}

// ReopenedWithin is how soon after a remediated closing a finding that opens again is the same
// deviation row (Deviation.Reopened): a tenant flipping a failing container in and out makes
// one row that says how often it reopened and how long it was open, not one per flip.
const ReopenedWithin = time.Hour

// reopens reports whether a finding opening at t continues the row: it closed remediated (not
// inferred: records were lost before) at most ReopenedWithin before t.
func (d *Deviation) reopens(t time.Time) bool {
	return !d.Closed.IsZero() && d.Remediated() && !d.Inferred && !t.Before(d.Closed) && t.Sub(d.Closed) <= ReopenedWithin
}

// reopen opens the closed row again at t for a finding first seen then, of the row's check and
// resource, under its container or another.
func (d *Deviation) reopen(t time.Time, f journal.Finding) {
	d.openFor += d.Closed.Sub(d.currentFrom())
	d.Reopened++
	if f.Key != d.Finding.Key {
		if !slices.Contains(d.containers, d.Finding.Container) && d.Finding.Container != f.Container {
			d.containers = append(d.containers, d.Finding.Container)
		}
		d.containers = slices.DeleteFunc(d.containers, func(c string) bool { return c == f.Container })
		d.Finding.Key, d.Finding.Container = f.Key, f.Container
	}
	d.current, d.episode = t, f.FirstSeen
	d.Closed, d.Reason, d.Reassessed = time.Time{}, "", ""
}

// currentFrom is when the row's current (or last) opening began.
func (d *Deviation) currentFrom() time.Time {
	if d.current.IsZero() {
		return d.Opened
	}
	return d.current
}

// OpenFor is how long the finding was open in all, each of the row's openings, up to to (the end
// of the period, or now) if still open: Duration less the times it was closed between them.
func (d *Deviation) OpenFor(to time.Time) time.Duration {
	end := d.Closed
	if end.IsZero() {
		end = to
	}
	return d.openFor + end.Sub(d.currentFrom())
}

// judgement is what an evaluation judged under: the profile's version and the check catalogue
// (each zero where the journal does not say).
type judgement struct {
	spec      journal.ProfileSpec
	catalogue string
}

// except and unexcept note that an exception (w, when known) began or stopped covering the
// deviation.
func (d *Deviation) except(at time.Time, w *ExceptionRow) {
	if d.ExceptedFrom.IsZero() {
		d.ExceptedFrom = at
	}
	if d.exceptedSince.IsZero() {
		d.exceptedSince = at
	}
	if w != nil {
		d.waiver = w
	}
}

func (d *Deviation) unexcept(at time.Time) {
	if end := d.waiverEnd(at); !d.exceptedSince.IsZero() && end.After(d.exceptedSince) {
		d.excepted += end.Sub(d.exceptedSince)
	}
	d.exceptedSince, d.waiver = time.Time{}, nil
}

// waiverEnd is when the exception stopped covering the deviation, for a record saying so at at:
// no later than the exception's expiry. An operator that was down, or behind, when it expired
// says so only when it evaluates again, but an exception covers nothing after it expires.
func (d *Deviation) waiverEnd(at time.Time) time.Time {
	if w := d.waiver; w != nil && !w.Expires.IsZero() && w.Expires.Before(at) {
		return w.Expires
	}
	return at
}

// ExceptedFor is how long an exception covered the deviation in the period, up to to (the end
// of the period, or now) if still open and excepted (close counts a closed one's up to then).
func (d *Deviation) ExceptedFor(to time.Time) time.Duration {
	if end := d.waiverEnd(to); !d.exceptedSince.IsZero() && end.After(d.exceptedSince) {
		return d.excepted + end.Sub(d.exceptedSince)
	}
	return d.excepted
}

// Remediated reports whether the deviation ended because the check no longer reports the
// failure (or the journal does not say why it ended), not because nothing judges it any more.
func (d *Deviation) Remediated() bool {
	return !d.Closed.IsZero() && (d.Reason == "" || d.Reason == journal.CloseResolved)
}

// RemediationTime is how long the finding took to be remediated, from Since.
func (d *Deviation) RemediationTime() time.Duration { return d.Closed.Sub(d.Since) }

// status is the deviation's status in deviations.csv.
func (d *Deviation) status() string {
	switch {
	case d.Closed.IsZero():
		return "open"
	case !d.Remediated():
		return "closed-" + d.Reason
	case d.Inferred:
		return "closed-inferred"
	}
	return "closed"
}

// ExceptionRow is one ControlException's history.
type ExceptionRow struct {
	Cluster, Namespace string
	journal.Exception
	Requested, Approved, Ended time.Time
	State                      string
	// Covered are the findings the journal shows it covering in the period (profile,
	// namespace and finding key), and coveredIn how many of them are of each namespace.
	Covered   map[string]struct{}
	coveredIn map[string]int
	// attested is, for an exception of another namespace (the operator's), the number of each
	// namespace's findings it covered as the namespace's latest attestation stated.
	attested map[string]int
	// Changes are when its spec changed (exception.changed), approved or not.
	Changes []time.Time
	// ApprovalBy, ApprovedReason and ApprovedSpecSHA256 are what the latest approval the
	// journal shows approved: who, and the reason and spec digest then. A later change of the
	// spec removes the approval, and the row's other fields say what the exception says now.
	ApprovalBy, ApprovedReason, ApprovedSpecSHA256 string
	// CoveredChanges are when it came to cover findings other than those its approval covered,
	// its spec unchanged (a workload labelled into its selector), and when an approver
	// approved it again (exception.covered-changed, exception.covered-cleared).
	CoveredChanges []CoveredChange
}

// CoveredChange is a change of what an approved exception covers, against what its approval
// covered.
type CoveredChange struct {
	Time time.Time
	// Raised: it covers findings (Covered, a digest) other than those its approval covered
	// (Approved). Else the change ended: approved again by By (Approved is then what the new
	// approval covers, empty until an evaluation judged it), or the approval went.
	Raised                bool
	Covered, Approved, By string
}

// String is the change as exceptions.csv shows it.
func (c CoveredChange) String() string {
	if c.Raised {
		return fmt.Sprintf("%s covers %s, not what %s approved (%s)", ts(c.Time), first(c.Covered, "none"), first(c.By, "its approver"), first(c.Approved, "none"))
	}
	if c.By == "" {
		return fmt.Sprintf("%s approval removed", ts(c.Time))
	}
	return fmt.Sprintf("%s approved again by %s (%s)", ts(c.Time), c.By, first(c.Approved, "not yet evaluated"))
}

// coveredUnapproved reports whether the journal's latest word on the exception is that it
// covers findings its approval did not.
func (e *ExceptionRow) coveredUnapproved() (time.Time, bool) {
	if n := len(e.CoveredChanges); n > 0 && e.CoveredChanges[n-1].Raised {
		return e.CoveredChanges[n-1].Time, true
	}
	return time.Time{}, false
}

// cover notes that the exception covered the namespace's finding under the profile.
func (e *ExceptionRow) cover(profile, ns, findingKey string) {
	k := key(profile, ns, findingKey)
	if _, ok := e.Covered[k]; ok {
		return
	}
	e.Covered[k] = struct{}{}
	if e.coveredIn == nil {
		e.coveredIn = map[string]int{}
	}
	e.coveredIn[ns]++
}

// FindingsCovered is the number of findings the exception covered: of every namespace (ns
// ""), the most the journal says it covered at once or the findings the period shows it
// covering; of one namespace, those of that namespace only (for an exception of another
// namespace, the operator's, the findings the period shows it covering there or the most the
// namespace's latest attestation stated, not the count of every namespace its records state).
func (e *ExceptionRow) FindingsCovered(ns string) int {
	if ns == "" || ns == e.Namespace {
		return max(len(e.Covered), e.Findings)
	}
	return max(e.coveredIn[ns], e.attested[ns])
}

// inForceIn reports whether an attestation of the namespace stated the exception, of another
// namespace, in force there.
func (e *ExceptionRow) inForceIn(ns string) bool {
	_, ok := e.attested[ns]
	return ok
}

// selects reports whether the journal shows an exception of the namespace applying in another:
// a tenant's exception whose spec names other namespaces applies to none (only the operator's
// namespace may select others), and is not evidence of theirs.
func (b *builder) selects(c, ns string) bool {
	_, ok := b.selecting[key(c, ns)]
	return ok
}

// noteApproval keeps what x, a record of the exception, says was approved (nothing where it
// names no approver).
func (e *ExceptionRow) noteApproval(x *journal.Exception) {
	if x.ApprovedBy != "" {
		e.ApprovalBy, e.ApprovedReason, e.ApprovedSpecSHA256 = x.ApprovedBy, x.Reason, x.SpecSHA256
	}
}

// approver is who approved the exception: its current approver, or the one of its latest
// approval (its spec changed since), or the approver it names.
func (e *ExceptionRow) approver() string {
	return first(e.ApprovedBy, e.ApprovalBy, e.Approver)
}

// CoverageRow is how completely a namespace was attested under a profile.
type CoverageRow struct {
	Cluster, Profile, Namespace string
	First, Last                 time.Time
	Attestations                int
	days                        []bool
	// out are the days the namespace was not in the profile's scope for all of (from the day
	// it left, up to the day an attestation shows it back), when no attestation is expected;
	// left is when it last left (zero while in scope).
	out  []bool
	left time.Time
	// selected is when a profile.attested record first listed the namespace as selected while
	// it had no attestation in the period (zero otherwise): from then on, a day without one is
	// missing, though no attestation ever came.
	selected time.Time
}

// Unjudged reports whether the namespace was selected and had no attestation in the period.
func (c *CoverageRow) Unjudged() bool { return c.Attestations == 0 && !c.selected.IsZero() }

// leave notes that the namespace left the profile's scope at t.
func (c *CoverageRow) leave(t time.Time) {
	if c.left.IsZero() {
		c.left = t
	}
}

// back notes an attestation at t: the namespace is in scope again, and the days since it
// left, up to t's, were out of scope (from, the start of the period).
func (c *CoverageRow) back(from, t time.Time) {
	if c.left.IsZero() {
		return
	}
	c.markOut(from, c.left, t)
	c.left = time.Time{}
}

// markOut marks as out of scope the days from left's up to (not including) until's.
func (c *CoverageRow) markOut(from, left, until time.Time) {
	start := int(left.Sub(dayStart(from)).Hours() / 24)
	end := int(until.Sub(dayStart(from)).Hours() / 24)
	for d := max(start, 0); d < min(end, len(c.out)); d++ {
		c.out[d] = true
	}
}

// Gap is an interval nobody observed or the journal lost.
type Gap struct {
	Cluster  string
	Type     journal.Type
	From, To time.Time
	Reason   string
	Dropped  int
	// Namespaces are the only namespaces whose records a journal.gap lost (its droppedBy, when
	// it names no record of no namespace), DroppedBy how many of each: nil for a gap of every
	// namespace (observation gaps, silences, journal gaps of journals that do not say).
	Namespaces []string
	DroppedBy  []journal.NamespaceRecords
}

// concerns reports whether the gap concerns the namespace: every gap does but one naming
// others ("" asks for the gaps of every namespace).
func (g Gap) concerns(ns string) bool {
	return g.Namespaces == nil || ns != "" && slices.Contains(g.Namespaces, ns)
}

// namespacesText is gaps.csv's namespaces: those named, ";"-separated, or "*" for every one.
func (g Gap) namespacesText() string {
	if g.Namespaces == nil {
		return "*"
	}
	return strings.Join(g.Namespaces, ";")
}

// droppedByText is gaps.csv's records_dropped_by_namespace: "namespace=records", ";"-separated,
// "(none)" for records of no namespace.
func (g Gap) droppedByText() string {
	parts := make([]string, len(g.DroppedBy))
	for i, d := range g.DroppedBy {
		parts[i] = first(d.Namespace, "(none)") + "=" + strconv.Itoa(d.Records)
	}
	return strings.Join(parts, ";")
}

// Stale is an interval in which the operator ran but did not evaluate a namespace under a
// profile: an attestation showed its last evaluation older than journal.StaleAfter the
// profile's interval, and the interval lasts from then until a record of a later evaluation.
// The states the attestations went on stating are not evidence of it: its criteria are Unknown.
type Stale struct {
	Cluster, Profile, Namespace string
	From, To                    time.Time
	// LastEvaluated is the evaluation the namespace's state rested on, Interval the profile's
	// evaluation interval then.
	LastEvaluated time.Time
	Interval      time.Duration
}

// Reason says which namespace was not evaluated and since when.
func (s Stale) Reason() string {
	return fmt.Sprintf("profile %s, namespace %s: not evaluated since %s (the profile evaluates every %s)", s.Profile, s.Namespace, ts(s.LastEvaluated), s.Interval)
}

// StaleEvaluation is the type of a Stale interval in gaps.csv.
const StaleEvaluation journal.Type = "evaluation.stale"

// evaluations follows one namespace's evaluations under a profile.
type evaluations struct {
	last  time.Time // the latest evaluation a record showed
	stale *Stale    // open, until a later evaluation
}

// ProfileVersion is a profile created, changed or deleted in the period: from then on, what its
// namespaces' criteria were judged against is another scope (namespaces, checks, severities,
// exception policy), so an auditor must see each version and when it took effect.
type ProfileVersion struct {
	Cluster, Profile string
	Time             time.Time
	// Change is created, changed or deleted.
	Change string
	Spec   journal.ProfileSpec
}

// Timeline is one criterion's states over the period in one namespace.
type Timeline struct {
	Cluster, Profile, Namespace, Criterion string
	Spans                                  []Span
	cur                                    Span // the state since cur.From; To unset
	// stated is the time of the latest record that stated the state (a change or an
	// attestation); unconfirmed are the intervals from the end of an unobserved interval to the
	// next such record (see builder.resumed).
	stated      time.Time
	unconfirmed []Span
}

// Span is a state held over an interval.
type Span struct {
	From, To time.Time
	State    string
	// Unassessed are the checks supporting the criterion that assessed nothing over the span
	// (every result NotAssessed), space-separated: the state does not rest on them.
	Unassessed string
	// Undecided are the checks supporting the criterion that assessed some resources but left
	// others NotAssessed over the span, space-separated: the state rests on the resources they
	// decided (a tenant can push a workload past what the operator reads, hiding its failure).
	Undecided string
	// Operator and Catalogue are the versions of the operator and of its check catalogue that
	// stated the state ("" when the journal does not say, and for Unknown where no record
	// states it): a verdict that changes with them may be an upgrade's, not the cluster's.
	Operator, Catalogue string
	// ProfileGeneration is the generation of the profile the state was judged under ("" when
	// the journal does not say): a verdict that changes with it may be an admin's edit of the
	// profile (its parameters, its checks), not the cluster's.
	ProfileGeneration string
	// PassInterruptions counts the Pass intervals, each followed by Fail again within
	// ReopenedWithin, that a Fail span covers (a tenant flipping a failing container in and
	// out), and PassFor their time in all: the span is Fail from From to To but for PassFor.
	// Where an interval nobody observed splits the span, the first part counts them all.
	PassInterruptions int
	PassFor           time.Duration
}

// interruptedPass reports whether the timeline, in Pass since cur.From after a Fail span, turns
// Fail again at at soon enough, and stated as the Fail before it was (same(next)), for the Pass to
// be an interruption of that Fail span rather than a span of its own.
func (tl *Timeline) interruptedPass(next Span, at time.Time) bool {
	n := len(tl.Spans)
	pass, fail := string(v1alpha1.CriterionPass), string(v1alpha1.CriterionFail)
	if n == 0 || tl.cur.State != pass || next.State != fail || at.Sub(tl.cur.From) > ReopenedWithin {
		return false
	}
	last := tl.Spans[n-1]
	return last.State == fail && last.To.Equal(tl.cur.From) && last.same(next)
}

// same reports whether two spans say the same: the same state, resting on the same checks,
// stated by the same versions, under the same profile version.
func (s Span) same(o Span) bool {
	return s.State == o.State && s.Unassessed == o.Unassessed && s.Undecided == o.Undecided && s.Operator == o.Operator && s.Catalogue == o.Catalogue &&
		s.ProfileGeneration == o.ProfileGeneration
}

// CheckSummary is a check's population over the period.
type CheckSummary struct {
	Check                    string
	Attestations             int
	Min, Max, Latest, Failed int
	LatestAt                 time.Time
	// latest is each namespace's latest count (by cluster and namespace), under each profile
	// that evaluates it: a namespace's resources count once in Latest, the most any profile
	// evaluated.
	latest map[string]map[string]int
}

// record is the part of a journal record the pack reads (resource lists are skipped).
type record struct {
	ID          string                   `json:"id"`
	Type        journal.Type             `json:"type"`
	Time        time.Time                `json:"time"`
	Profile     string                   `json:"profile"`
	Namespace   string                   `json:"namespace"`
	Finding     *journal.Finding         `json:"finding"`
	Exception   *journal.Exception       `json:"exception"`
	Criterion   *journal.CriterionChange `json:"criterion"`
	Selection   *journal.Selection       `json:"selection"`
	Attestation *struct {
		Criteria           []journal.CriterionState  `json:"criteria"`
		Checks             []journal.CheckPopulation `json:"checks"`
		Open               []journal.Finding         `json:"open"`
		Exceptions         []journal.Exception       `json:"exceptions"`
		Evaluated          time.Time                 `json:"evaluated"`
		EvaluationInterval int64                     `json:"evaluationIntervalSeconds"`
	} `json:"attestation"`
	Interval *journal.Interval    `json:"interval"`
	Spec     *journal.ProfileSpec `json:"spec"`
	Operator *journal.Operator    `json:"operator"`
}

// builder accumulates one pack while the records stream by.
type builder struct {
	opts       Options
	pack       *Pack
	cluster    string
	population sheet
	open       map[string]map[string]*Deviation
	// ended are the deviations closed, by namespace key, finding key and first-seen time: a
	// second closing (or excepting) of one of them, by a second leader around a failover, is
	// not another deviation. A row's later openings (Deviation.Reopened) are not kept here but
	// on the row, those of its last ReopenedWithin (Deviation.reopenings).
	ended map[string]time.Time // when each closed
	// recent is each finding's latest deviation row that closed (by namespace key and finding
	// key): a finding opening again soon after a remediation continues it (Deviation.reopens).
	recent map[string]*Deviation
	// remediatedOn are the deviation rows that closed remediated within the last ReopenedWithin,
	// by namespace key and the check and resource (resourceKey), latest last: a finding of the
	// check on the resource opening again under another container (a failing container removed
	// for an evaluation and added back renamed) continues one of them.
	remediatedOn map[string][]*Deviation
	// left are the findings whose deviation ended without remediation (out of scope, resource
	// gone, not assessed, moved): when each was first opened. By namespace key and the check
	// and resource (resourceKey), then the finding key: a finding of the check on the resource
	// under another container (renamed while out of scope or left undecided) failed since then
	// too.
	left map[string]map[string]time.Time
	// exceptions are the rows of each exception name (cluster, namespace, name), one per
	// object by creation time, oldest first: a name deleted and created again is another
	// exception.
	exceptions map[string][]*ExceptionRow
	// selecting are the namespaces (cluster, namespace) the journal shows an exception of
	// applying in another namespace: the operator's, whose exceptions alone may select others.
	selecting map[string]struct{}
	// selection is the namespaces the latest profile.attested record of each profile (cluster,
	// profile) listed as selected.
	selection map[string][]string
	// versions are each profile's latest version a record states (cluster, profile), in the
	// period or before it: what a finding opened now is judged under.
	versions  map[string]journal.ProfileSpec
	coverage  map[string]*CoverageRow
	timelines map[string]*Timeline
	// evaluations are each namespace's evaluations (cluster, profile, namespace).
	evaluations map[string]*evaluations
	checks      map[string]*CheckSummary
	lastStop    map[string]time.Time
	// specs are each profile's latest version shown (cluster, profile): a change to the same
	// spec, journaled again by a second leader around a failover, is not another version.
	specs map[string]string
	days  int
	// heard is the latest record time of the cluster being read; silences are the intervals
	// without records (see listen).
	heard, firstHeard time.Time
	// stopped is the time of the cluster's latest record when that is an operator's stop
	// (zero otherwise): nobody observed after it, however soon the period ends.
	stopped  time.Time
	silences []Gap
	// resumed are the ends of the intervals the cluster being read was not observed in (a
	// recorded gap, a silence), sorted, and resumedIn those of every cluster read. After one, a
	// criterion's state is not known again until a record states it: a change lost in the gap
	// (records dropped while the store was unreachable, or the operator stopped while a pod
	// changed) would otherwise read as the state before it until the next attestation, a day on.
	resumed   []time.Time
	resumedIn map[string][]time.Time
	// resumedNS are the ends of the journal gaps that lost only some namespaces' records, by
	// cluster and namespace: after one, only those namespaces' criteria are not known again
	// until a record states them.
	resumedNS map[string][]time.Time
	// run is the operator of the cluster being read whose records these are (nil until an
	// operator.* record names one), and runs the latest run of each operator (by cluster,
	// identity and versions).
	run  *OperatorRun
	runs map[string]*OperatorRun
	// clock is the latest time of the cluster's records the operator dated as it wrote them
	// (journal.DatedAsWritten), in chain order; steppedTo, after its clock went back (a record so
	// dated more than journal.CoverageSlack before clock: verification's `clock` problem), the
	// time it had reached, until a record so dated reaches it again (zero otherwise).
	clock, steppedTo time.Time
	// reached is the latest such time read since the clock went back (zero when it has not, or
	// has reached steppedTo again).
	reached time.Time
}

// ClockStep is an interval the operator's clock dated twice: it went back from the interval's
// end to its start, so records dated in it were written both before and after the step, and
// their times do not say which was stated last. Nothing in it is known (Unknown); after it, chain
// order says which state was stated last (builder.stated).
const ClockStep journal.Type = "clock"

// Silence is a gap no record explains: longer than journal.CoverageSlack without any record,
// though a running operator writes a heartbeat every 10 minutes.
const Silence journal.Type = "silence"

// Build writes the pack into opts.Dir.
func Build(ctx context.Context, store journal.Store, opts Options) (*Pack, error) {
	if err := checkPeriod(opts); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	f, err := os.Create(filepath.Join(opts.Dir, "population.csv"))
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	population := newSheet(bw)
	b, err := collect(ctx, store, opts, population)
	if err != nil {
		f.Close()
		return nil, err
	}
	population.Flush()
	if err := population.Error(); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing population.csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing population.csv: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing population.csv: %w", err)
	}
	b.finish()
	if err := b.pack.write(); err != nil {
		return nil, err
	}
	return b.pack, nil
}

// Collect reads the journal for the period as Build does and returns what the pack would show,
// writing nothing (opts.Dir is not used): the dashboard's trends.
func Collect(ctx context.Context, store journal.Store, opts Options) (*Pack, error) {
	if err := checkPeriod(opts); err != nil {
		return nil, err
	}
	b, err := collect(ctx, store, opts, newSheet(io.Discard))
	if err != nil {
		return nil, err
	}
	b.finish()
	return b.pack, nil
}

func checkPeriod(opts Options) error {
	if !opts.From.Before(opts.To) {
		return fmt.Errorf("the period is empty: --from %s is not before --to %s", opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339))
	}
	return nil
}

// collect streams every cluster's records of the period through a builder; population gets
// population.csv's rows.
func collect(ctx context.Context, store journal.Store, opts Options, population sheet) (*builder, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	until := earliest(opts.To, now())
	b := &builder{
		opts: opts, pack: &Pack{Options: opts, Until: until},
		open: map[string]map[string]*Deviation{}, ended: map[string]time.Time{}, recent: map[string]*Deviation{}, remediatedOn: map[string][]*Deviation{}, left: map[string]map[string]time.Time{}, exceptions: map[string][]*ExceptionRow{}, selecting: map[string]struct{}{},
		coverage: map[string]*CoverageRow{}, timelines: map[string]*Timeline{}, evaluations: map[string]*evaluations{}, resumedIn: map[string][]time.Time{}, resumedNS: map[string][]time.Time{},
		checks: map[string]*CheckSummary{}, lastStop: map[string]time.Time{}, specs: map[string]string{}, versions: map[string]journal.ProfileSpec{}, selection: map[string][]string{},
		days:       int(opts.To.Sub(dayStart(opts.From)).Hours()/24 + 0.999999),
		population: population,
	}
	b.population.Write([]string{"cluster", "attested_at", "profile", "namespace", "check", "population", "population_sha256", "failed", "excepted", "not_assessed"})
	for _, cluster := range opts.Clusters {
		b.cluster, b.heard, b.firstHeard, b.stopped, b.resumed, b.run = cluster, time.Time{}, time.Time{}, time.Time{}, nil, nil
		b.clock, b.steppedTo, b.reached = time.Time{}, time.Time{}, time.Time{}
		res, err := journal.Scan(ctx, store, journal.ScanOptions{
			Cluster: cluster, From: opts.From, To: opts.To, PublicKey: opts.PublicKey, Unsigned: opts.Unsigned, LockedUntil: opts.LockedUntil, Now: opts.Now,
			Heads: PublishedHeads(opts.Heads, cluster), Decode: b.record, Unended: b.unended,
		})
		if err != nil {
			return nil, err
		}
		b.pack.Verification = append(b.pack.Verification, res)
		b.edges()
		b.resumedIn[cluster] = b.resumed
	}
	return b, nil
}

// edges keeps as silences the parts of the period before the cluster's first record and after
// its last (up to now, for a period not over): nobody observed them either.
func (b *builder) edges() {
	from, until := b.opts.From, b.pack.Until
	add := func(f, t time.Time) {
		if f.Before(from) {
			f = from
		}
		if t.After(until) {
			t = until
		}
		if t.Sub(f) > journal.CoverageSlack {
			b.silences = append(b.silences, Gap{Cluster: b.cluster, Type: Silence, From: f, To: t})
		}
	}
	if b.firstHeard.IsZero() {
		add(from, until)
		return
	}
	add(from, b.firstHeard)
	add(b.heard, until)
	// The operator's stop is the cluster's last record: the time from it to the period's end
	// (or now) was not observed, even where it is too short to be a silence. The observation
	// gap the next operator records when it starts is dated after the period.
	if s := b.stopped; !s.IsZero() && s.Before(until) {
		b.pack.Gaps = append(b.pack.Gaps, Gap{Cluster: b.cluster, Type: journal.ObservationGap, From: latest(s, from), To: until,
			Reason: "the operator stopped, and no record of the period says an operator observed after it"})
	}
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func key(parts ...string) string { return strings.Join(parts, "\x00") }

// record decodes one record line, once (journal.ScanOptions.Decode: the scan checks the head it
// returns), and reads it into the pack. A line it cannot decode is left out, and the scan names
// its segment and line among the verification's problems: the rest of the journal is read.
func (b *builder) record(line []byte) (journal.RecordHead, error) {
	var r record
	if err := json.Unmarshal(line, &r); err != nil {
		return journal.RecordHead{}, err
	}
	b.tick(&r)
	b.read(&r, line)
	return journal.RecordHead{ID: r.ID, Type: r.Type, Time: r.Time}, nil
}

// tick follows the clock of the cluster's operator by the records it dated as it wrote them, in
// chain order. One dated more than journal.CoverageSlack before the latest such record is a step
// back of its clock (verification names it, `clock`): the interval from the record's time to
// the latest is dated twice, and is a ClockStep gap, after which a criterion's state is not known
// until a record states it again; until the clock reaches the latest time again, what the
// operator states is read as stated at that time (builder.stated), so that chain order, not the
// time, says what was stated last.
//
// An observation gap that ends after the time it is dated is a leader's whose clock was still
// behind the journal's last record when it started (it waits at most journal.CoverageSlack):
// what it states until its clock reaches the gap's end is read as stated then, after what was
// written before it.
func (b *builder) tick(r *record) {
	if r.Type == journal.ObservationGap && r.Interval != nil && r.Interval.To.After(r.Time) {
		b.steppedTo = latest(b.steppedTo, r.Interval.To)
		return
	}
	if !journal.DatedAsWritten(r.Type) {
		return
	}
	// A step back from the latest time: the clock's, or, while catching up after a step, what it
	// reached since (the records that follow one step are not each another).
	from := b.clock
	if !b.reached.IsZero() {
		from = b.reached
	}
	if r.Time.Before(from.Add(-journal.CoverageSlack)) {
		if r.Time.Before(b.opts.To) && from.After(b.opts.From) { // not a gap of another period
			b.pack.Gaps = append(b.pack.Gaps, Gap{Cluster: b.cluster, Type: ClockStep, From: r.Time, To: from,
				Reason: fmt.Sprintf("the operator's clock went back from %s to %s: records dated in this interval were written both before and after the step, and their times do not say which was stated last", ts(from), ts(r.Time))})
		}
		b.resume(from)
		b.steppedTo, b.reached = b.clock, r.Time
	}
	b.reached = latest(b.reached, r.Time)
	if !b.steppedTo.IsZero() && !r.Time.Before(b.steppedTo) {
		b.steppedTo, b.reached = time.Time{}, time.Time{}
	}
	b.clock = latest(b.clock, r.Time)
}

// stated is when the operator stated what it dated at: at, or, while its clock has gone back
// and not yet reached the time it had reached before (builder.tick), that time, so that what
// it stated after the step is read as newer than what it stated before.
func (b *builder) stated(at time.Time) time.Time {
	return latest(at, b.steppedTo)
}

// read reads a decoded record (line is the record as journaled) into the pack.
func (b *builder) read(r *record, line []byte) {
	b.listen(r)
	b.operator(r)
	b.version(r)
	if r.Type == journal.JournalGap && !r.Time.Before(b.opts.To) && r.Interval != nil && r.Interval.From.Before(b.opts.To) &&
		(b.opts.Profile == "" || r.Profile == "" || r.Profile == b.opts.Profile) {
		// Records lost from within the period, said when the store was back, after it (in a
		// segment that also holds records of the period): a gap of the period all the same.
		b.gap(b.cluster, r)
		return
	}
	if r.Type == journal.ObservationGap && !r.Time.Before(b.opts.To) && r.Interval != nil && r.Interval.From.Before(b.opts.To) {
		// The time from the journal's last record to a restart, said by the operator that
		// started after the period (in a segment that also holds records of the period, such as
		// an exception created while none ran): a gap of the period, with its reason (a rewind,
		// records deleted), not a silence no record explains.
		b.gap(b.cluster, r)
		return
	}
	if r.Type == journal.ObservationGap && r.Time.Before(b.opts.From) && r.Interval != nil && r.Interval.To.After(b.opts.From) {
		// A leader whose clock was behind the journal's last record when it started (builder.tick)
		// dated its gap, from its start to that record, before the period: the part in the
		// period is a gap of it all the same.
		b.gap(b.cluster, r)
		return
	}
	if r.Time.Before(b.opts.From) && !(journal.DatedAsWritten(r.Type) && !b.stated(r.Time).Before(b.opts.From)) || !r.Time.Before(b.opts.To) {
		// (What the operator dated before the period while its clock was behind, and is read as
		// stated in it, builder.stated, is of the period.)
		return
	}
	if b.opts.Profile != "" && r.Profile != "" && r.Profile != b.opts.Profile {
		return
	}
	if ns := b.opts.Namespace; ns != "" && r.Namespace != "" && r.Namespace != ns && !isException(r.Type) {
		// Another namespace's. Exception records are read whatever their namespace: one in the
		// operator's namespace may cover this one's findings (finish keeps those that do).
		return
	}
	b.pack.Records++
	c := b.cluster
	switch r.Type {
	case journal.FindingOpened, journal.FindingExcepted, journal.FindingUnexcepted:
		if r.Finding == nil {
			return
		}
		d := b.deviation(c, r.Profile, r.Namespace, *r.Finding, r.Time)
		if d == nil {
			return
		}
		if r.Type == journal.FindingExcepted && r.Finding.Exception != "" {
			if !slices.Contains(d.Exceptions, r.Finding.Exception) {
				d.Exceptions = append(d.Exceptions, r.Finding.Exception)
			}
			w := b.exceptionRef(c, r.Namespace, r.Finding.Exception)
			d.except(r.Time, w)
			w.cover(r.Profile, r.Namespace, r.Finding.Key)
		}
		if r.Type == journal.FindingUnexcepted {
			d.unexcept(r.Time)
		}
		d.judged = b.judgement(c, r.Profile, nil)
	case journal.FindingClosed:
		if r.Finding == nil {
			return
		}
		// Dated when the operator wrote it: after its clock went back, it closed after what it
		// stated before the step (builder.stated).
		at := b.stated(r.Time)
		b.evaluatedAt(c, r.Profile, r.Namespace, at)
		d := b.deviation(c, r.Profile, r.Namespace, *r.Finding, at)
		if d == nil {
			return
		}
		b.close(d, at, false, r.Finding.CloseReason)
		d.Reassessed = r.Finding.Reassessed
	case journal.ExceptionRequested, journal.ExceptionApproved, journal.ExceptionExpired, journal.ExceptionRevoked, journal.ExceptionChanged:
		if r.Exception == nil {
			return
		}
		e := b.exceptionAt(c, r.Namespace, r.Exception.Name, r.Exception.Created)
		if r.Type == journal.ExceptionChanged && r.Exception.SpecSHA256 != "" && e.SpecSHA256 == r.Exception.SpecSHA256 {
			return // the spec shown already (a change journaled by two leaders)
		}
		if restated(e, r) {
			// The same event stated again: by an operator that restarted after what it restores
			// from the journal, which journals the exception again as it is now, dated with the
			// event's time, in a later segment whose time range reaches back to it. What was
			// stated first is what was known then; a pack of this period built later must not
			// show the spec of today as the one requested (or approved, or expired) then.
			return
		}
		if r.Type == journal.ExceptionChanged && e.Ended.IsZero() && !e.Expires.IsZero() && e.Expires.Before(r.Time) {
			b.lapsed(e, r.Time)
		}
		if r.Type != journal.ExceptionRevoked {
			// A revoked record names the exception only (the object is gone): what the
			// earlier records said of it stands.
			covered := e.Covered
			merge(&e.Exception, r.Exception)
			e.Covered = covered
			e.noteApproval(r.Exception)
		}
		switch r.Type {
		case journal.ExceptionRequested:
			e.Requested = r.Time
			if e.State == "" {
				e.State = "Requested"
			}
		case journal.ExceptionApproved:
			e.Approved, e.State = r.Time, "Approved"
			if r.Time.After(e.Ended) {
				e.Ended = time.Time{} // approved again (a changed spec): in force again
			}
		case journal.ExceptionExpired:
			e.Ended, e.State = r.Time, "Expired"
		case journal.ExceptionRevoked:
			e.Ended, e.State = r.Time, "Revoked"
		case journal.ExceptionChanged:
			e.Changes = append(e.Changes, r.Time)
			switch {
			case e.State == "Expired" && r.Exception.Expires.After(r.Time):
				e.Ended, e.State = time.Time{}, "Changed" // extended after it expired
			case e.State == "Approved" && r.Exception.ApprovedBy == "":
				e.State = "Changed" // the approval was of the spec before
			}
		}
	case journal.ExceptionCoveredChanged, journal.ExceptionCoveredCleared:
		if r.Exception == nil {
			return
		}
		e := b.exceptionAt(c, r.Namespace, r.Exception.Name, r.Exception.Created)
		x := r.Exception
		ch := CoveredChange{Time: r.Time, Raised: r.Type == journal.ExceptionCoveredChanged, Covered: x.CoveredDigest, Approved: x.ApprovedCoveredDigest, By: x.ApprovedBy}
		if n := len(e.CoveredChanges); n > 0 {
			if last := e.CoveredChanges[n-1]; last.Raised == ch.Raised && last.Covered == ch.Covered && last.Approved == ch.Approved && last.By == ch.By {
				return // the change shown already (journaled by two leaders)
			}
		}
		e.CoveredChanges = append(e.CoveredChanges, ch)
	case journal.ProfileCreated, journal.ProfileChanged, journal.ProfileDeleted:
		v := ProfileVersion{Cluster: c, Profile: r.Profile, Time: r.Time, Change: strings.TrimPrefix(string(r.Type), "profile.")}
		if r.Spec != nil {
			v.Spec = *r.Spec
		}
		pk := key(c, r.Profile)
		if r.Type == journal.ProfileChanged && v.Spec.SHA256 != "" && b.specs[pk] == v.Spec.SHA256 {
			return // the version shown already
		}
		b.specs[pk] = v.Spec.SHA256
		b.pack.Profiles = append(b.pack.Profiles, v)
		if r.Type == journal.ProfileDeleted {
			for _, e := range b.evaluations {
				if e.stale != nil && e.stale.Cluster == c && e.stale.Profile == r.Profile {
					b.endStale(e, r.Time)
				}
			}
			for _, cov := range b.coverage {
				if cov.Cluster == c && cov.Profile == r.Profile {
					b.leftScope(c, r.Profile, cov.Namespace, r.Time)
				}
			}
			// A deleted profile judges nothing from now on (the operator writes no further
			// criterion state for it): its criteria are no longer known, not still Pass.
			for _, tl := range b.timelines {
				if tl.Cluster == c && tl.Profile == r.Profile {
					b.state(c, tl.Profile, tl.Namespace, tl.Criterion, "Unknown", nil, nil, nil, r.Time)
				}
			}
		}
	case journal.NamespaceLeft:
		b.leftScope(c, r.Profile, r.Namespace, r.Time)
		if r.Interval != nil && r.Interval.Reason == journal.ReasonNeverEvaluated {
			// Deleted before any evaluation of it ran: in scope from its creation to the end of
			// the day it was deleted, and never judged, so each of those days is missing.
			b.inScopeUnjudged(c, r.Profile, r.Namespace, r.Interval.From, dayStart(r.Time).AddDate(0, 0, 1))
		}
	case journal.ProfileAttested:
		// Not a version: the one in force, stated again. A change journaled again with the
		// same spec (by an operator that did not know it) is then not shown as another.
		if pk := key(c, r.Profile); r.Spec != nil && b.specs[pk] == "" {
			b.specs[pk] = r.Spec.SHA256
		}
		if r.Selection != nil {
			selected := r.Selection.Namespaces
			if ns := b.opts.Namespace; ns != "" {
				selected = slices.DeleteFunc(slices.Clone(selected), func(s string) bool { return s != ns })
			}
			b.selectedAt(c, r.Profile, selected, r.Time)
		}
	case journal.ReportResult:
		b.evaluatedAt(c, r.Profile, r.Namespace, r.Time)
	case journal.CriterionChanged:
		if r.Criterion != nil {
			b.evaluatedAt(c, r.Profile, r.Namespace, r.Time)
			b.state(c, r.Profile, r.Namespace, r.Criterion.Criterion, r.Criterion.To, r.Criterion.Unassessed, r.Criterion.Undecided, r.Spec, r.Time)
		}
	case journal.Attestation:
		b.attestation(c, r, line)
	case journal.ObservationGap, journal.JournalGap:
		b.gap(c, r)
	}
}

// gap reads an observation.gap or journal.gap record of cluster c.
func (b *builder) gap(c string, r *record) {
	if r.Interval == nil {
		return
	}
	if r.Type == journal.JournalGap && !slices.Contains(r.Interval.Namespaces(), b.opts.Namespace) && r.Interval.Scoped() && b.opts.Namespace != "" {
		return // lost records of other namespaces only
	}
	g := Gap{Cluster: c, Type: r.Type, From: r.Interval.From, To: r.Interval.To, Reason: r.Interval.Reason, Dropped: r.Interval.Dropped,
		DroppedBy: r.Interval.DroppedBy}
	if r.Type == journal.JournalGap {
		g.Namespaces = r.Interval.Namespaces()
	}
	b.pack.Gaps = append(b.pack.Gaps, g)
	if g.Namespaces == nil {
		b.resume(r.Interval.To)
	}
	for _, ns := range g.Namespaces {
		k := key(c, ns)
		b.resumedNS[k] = insertTime(b.resumedNS[k], r.Interval.To)
	}
}

// unended reads a batch the writer split that never ended (journal.UnendedBatch: the writer
// stopped before its last segment) as a journal gap of every namespace from the batch's first
// record to the next writer's first record: its last segment held the journal.gap of the
// records the writer dropped before it, of namespaces nothing else names, and the records it
// did write (heartbeats, other namespaces' states) would otherwise read as observation of the
// namespaces whose records were lost. Called in chain order, before the next writer's records.
func (b *builder) unended(u journal.UnendedBatch) {
	if !u.From.Before(b.opts.To) || !u.To.After(b.opts.From) {
		return // a batch of another period
	}
	b.pack.Gaps = append(b.pack.Gaps, Gap{Cluster: b.cluster, Type: journal.JournalGap, From: u.From, To: u.To,
		Reason: fmt.Sprintf("the writer's batch from %s was split into segments and never ended (verification's unended, segment %d): its last segment, which held the journal.gap of the records it dropped before it, is not in the journal (the writer stopped mid-batch, or the segment was deleted), so records of any namespace may be lost up to the next writer's first record; how many is not known",
			ts(u.From), u.Segment.Seq)})
	b.resume(u.To)
}

// lapsed notes that exception e, changed at at (before its record is read), had expired before
// then, at its expiry, with no record saying so (no operator ran then, and the one that saw the
// change, an extension, saw no expiry): the deviations it waived were not waived from its expiry
// to the change. They are again from the change (a later record says when they stop).
func (b *builder) lapsed(e *ExceptionRow, at time.Time) {
	for _, open := range b.open {
		for _, d := range open {
			if d.waiver == e && !d.exceptedSince.IsZero() {
				d.unexcept(at) // up to e's expiry (waiverEnd)
				d.except(at, e)
			}
		}
	}
}

// isException reports whether the type is an exception.* record's.
func isException(t journal.Type) bool {
	switch t {
	case journal.ExceptionRequested, journal.ExceptionApproved, journal.ExceptionExpired, journal.ExceptionRevoked, journal.ExceptionChanged,
		journal.ExceptionCoveredChanged, journal.ExceptionCoveredCleared:
		return true
	}
	return false
}

// listen notes when the cluster's operator was last heard from, and keeps as a silence the
// part of the period between two records more than journal.CoverageSlack apart. It sees every
// record, of every profile and outside the period too, but hears only those the operator dated
// as it wrote them (heard): a record dated with the time of an event it learned of later (an
// exception's creation, its expiry, a deletion, a finding's first-seen time, all times a
// namespace admin may choose) says nothing of whether it ran then, and would split a silence into
// parts too short to show. finish reports what of the silences no gap record explains.
func (b *builder) listen(r *record) {
	if !heard(r.Type) {
		return
	}
	if b.firstHeard.IsZero() {
		b.firstHeard = r.Time
	}
	switch {
	case r.Time.After(b.heard) && r.Type == journal.OperatorStopped:
		b.stopped = r.Time
	case !r.Time.Before(b.heard) && r.Type != journal.OperatorStopped:
		b.stopped = time.Time{}
	}
	from, to := b.heard, r.Time
	if !to.After(from) {
		return
	}
	b.heard = to
	if from.IsZero() || to.Sub(from) <= journal.CoverageSlack {
		return
	}
	if from.Before(b.opts.From) {
		from = b.opts.From
	}
	if to.After(b.opts.To) {
		to = b.opts.To
	}
	if from.Before(to) {
		b.silences = append(b.silences, Gap{Cluster: b.cluster, Type: Silence, From: from, To: to})
		b.resume(to)
	}
}

// heard reports whether a record of the type shows the operator running at its time: it dated
// the record as it wrote it (journal.DatedAsWritten). A gap record is read as the gap it says,
// not as the operator heard from: the observation.gap an operator writes when it starts, after
// the period, would otherwise end the gap from the last operator's stop to the period's end.
func heard(t journal.Type) bool { return journal.DatedAsWritten(t) }

// operator follows which operator wrote the records: an operator.* record names it, and another
// operator's (or the same one started again) begins another run. It sees records outside the
// period too, so that the operator running at its start is known.
func (b *builder) operator(r *record) {
	if op := r.Operator; op != nil {
		// Two operators write at once around a failover (the old leader not yet aware it
		// lost the lease): their records interleave, and each goes on with its own run.
		ok := key(b.cluster, op.Identity, op.Version, op.Catalogue)
		run := b.runs[ok]
		switch {
		case run != nil && r.Type == journal.OperatorStarted && run.Started.IsZero() && run.since.Equal(r.Time):
			// The gap record the operator wrote with its start, read first.
			run.Started = r.Time
		case run == nil || r.Type == journal.OperatorStarted && !run.Started.Equal(r.Time):
			run = &OperatorRun{Cluster: b.cluster, Operator: *op, since: r.Time}
			if r.Type == journal.OperatorStarted {
				run.Started = r.Time
			}
			if b.runs == nil {
				b.runs = map[string]*OperatorRun{}
			}
			b.runs[ok] = run
		}
		b.run = run
	}
	if b.run == nil || r.Time.Before(b.opts.From) || !r.Time.Before(b.opts.To) {
		return
	}
	if b.run.First.IsZero() {
		b.run.First = r.Time
		b.pack.Operators = append(b.pack.Operators, b.run)
	}
	b.run.Last = latest(b.run.Last, r.Time)
}

// version keeps the profile's version a profile record states (any time: one stated before the
// period is in force at its start).
func (b *builder) version(r *record) {
	pk := key(b.cluster, r.Profile)
	switch r.Type {
	case journal.ProfileCreated, journal.ProfileChanged, journal.ProfileAttested:
		if r.Spec != nil {
			b.versions[pk] = *r.Spec
		}
	case journal.ProfileDeleted:
		delete(b.versions, pk)
	}
}

// judgement is what a record of the profile at this point of the journal was judged under: spec
// where the record says (an attestation's), else the profile's latest version, and the catalogue
// of the operator whose records these are.
func (b *builder) judgement(c, profile string, spec *journal.ProfileSpec) judgement {
	var j judgement
	if spec != nil {
		j.spec = *spec
	} else {
		j.spec = b.versions[key(c, profile)]
	}
	if b.run != nil {
		j.catalogue = b.run.Catalogue
	}
	return j
}

// resume notes the end of an interval the cluster being read was not observed in.
func (b *builder) resume(at time.Time) {
	b.resumed = insertTime(b.resumed, at)
}

// insertTime inserts at into the sorted times, once.
func insertTime(times []time.Time, at time.Time) []time.Time {
	i, found := slices.BinarySearchFunc(times, at, time.Time.Compare)
	if !found {
		times = slices.Insert(times, i, at)
	}
	return times
}

// resumedAfter is the first end after t of an interval the namespace (of the cluster, whose
// ends are cluster) was not observed in, or lost records in, and whether there is one.
func (b *builder) resumedAfter(cluster []time.Time, c, ns string, t time.Time) (time.Time, bool) {
	end, ok := firstResumedAfter(cluster, t)
	if own, found := firstResumedAfter(b.resumedNS[key(c, ns)], t); found && (!ok || own.Before(end)) {
		end, ok = own, true
	}
	return end, ok
}

// firstResumedAfter is the first of ends after t, and whether there is one.
func firstResumedAfter(ends []time.Time, t time.Time) (time.Time, bool) {
	i, found := slices.BinarySearchFunc(ends, t, time.Time.Compare)
	if found {
		i++
	}
	if i == len(ends) {
		return time.Time{}, false
	}
	return ends[i], true
}

// unexplained returns the parts of the silences longer than journal.CoverageSlack that none of
// the recorded gaps covers.
func unexplained(silences, recorded []Gap) []Gap {
	var out []Gap
	for _, s := range silences {
		parts := []Gap{s}
		for _, g := range recorded {
			if g.Cluster != s.Cluster || g.Namespaces != nil {
				continue // a journal gap of some namespaces' records: the others' went on
			}
			var rest []Gap
			for _, p := range parts {
				if !g.From.Before(p.To) || !g.To.After(p.From) { // no overlap
					rest = append(rest, p)
					continue
				}
				if p.From.Before(g.From) {
					rest = append(rest, Gap{Cluster: p.Cluster, Type: Silence, From: p.From, To: g.From})
				}
				if g.To.Before(p.To) {
					rest = append(rest, Gap{Cluster: p.Cluster, Type: Silence, From: g.To, To: p.To})
				}
			}
			parts = rest
		}
		for _, p := range parts {
			if d := p.To.Sub(p.From); d > journal.CoverageSlack {
				p.Reason = fmt.Sprintf("no record for %s, though a running operator writes a heartbeat every 10 minutes (a frozen or partitioned operator, or a clock jump)", humanDuration(d))
				out = append(out, p)
			}
		}
	}
	return out
}

func merge(dst, src *journal.Exception) {
	name := dst.Name
	*dst = *src
	if dst.Name == "" {
		dst.Name = name
	}
}

func (b *builder) deviation(c, profile, ns string, f journal.Finding, at time.Time) *Deviation {
	nk := key(c, profile, ns)
	open := b.open[nk]
	if open == nil {
		open = map[string]*Deviation{}
		b.open[nk] = open
	}
	d, ok := open[f.Key]
	if !ok {
		if _, ended := b.ended[endedKey(nk, f.Key, f.FirstSeen)]; ended {
			return nil
		}
		opened := f.FirstSeen
		if opened.IsZero() {
			opened = at
		}
		rk := key(nk, f.Key)
		if r := b.recent[rk]; r != nil {
			// First seen before the closing it follows: the operator's first-seen times are
			// the report's, to the second, and it failed again within the second it closed.
			start := latest(opened, r.Closed)
			switch {
			case !f.FirstSeen.IsZero() && r.hasClosed(f.Key, f.FirstSeen):
				// An opening of the row that closed (a second leader's copy of its record).
				return nil
			case r.reopens(start):
				b.reopen(nk, r, start, f)
				delete(b.recent, rk)
				return r
			}
		}
		// The same check failing again on the same resource under another container soon after
		// a remediated closing (the failing container removed for an evaluation and added back
		// renamed): the failure went on, and the closing was no remediation.
		rk = key(nk, resourceKey(&f))
		rows := b.remediatedOn[rk]
		if !f.FirstSeen.IsZero() && slices.ContainsFunc(rows, func(r *Deviation) bool { return r.hasClosed(f.Key, f.FirstSeen) }) {
			return nil // a copy of a record of a closed opening of the row
		}
		for i := len(rows) - 1; i >= 0; i-- {
			if r := rows[i]; r.reopens(latest(opened, r.Closed)) {
				b.reopen(nk, r, latest(opened, r.Closed), f)
				return r
			}
		}
		d = &Deviation{Cluster: c, Profile: profile, Namespace: ns, Finding: f, Opened: opened, Since: opened, BeforeWindow: opened.Before(b.opts.From), episode: f.FirstSeen}
		if since, ok := b.takeLeft(nk, &f); ok && since.Before(opened) {
			d.Since = since
		}
		if !f.Since.IsZero() && f.Since.Before(d.Since) {
			// Failing since an earlier finding of the check on the resource that closed without
			// remediation, which the journal says (before the period, too).
			d.Since = f.Since
		}
		d.Finding.Exception = ""
		open[f.Key] = d
	}
	if f.Severity != "" {
		d.Finding.Severity = f.Severity
	}
	return d
}

// takeLeft is when the finding f of namespace key nk was first opened, when a deviation of it
// ended without remediation (ok false when none did): its own finding key's, or else the earliest
// of another container's of the same check and resource (renamed while nothing judged it), which
// it then takes.
func (b *builder) takeLeft(nk string, f *journal.Finding) (since time.Time, ok bool) {
	rk := key(nk, resourceKey(f))
	left := b.left[rk]
	taken := f.Key
	if since, ok = left[f.Key]; !ok {
		for k, t := range left {
			if !ok || t.Before(since) || (t.Equal(since) && k < taken) {
				since, taken, ok = t, k, true
			}
		}
		if ok {
			delete(left, taken)
			if len(left) == 0 {
				delete(b.left, rk)
			}
		}
	}
	return since, ok
}

// restated reports whether the exception record r states again an event the row e holds already,
// at the same time: its request, its approval, or its expiry.
func restated(e *ExceptionRow, r *record) bool {
	switch r.Type {
	case journal.ExceptionRequested:
		return !e.Requested.IsZero() && e.Requested.Equal(r.Time)
	case journal.ExceptionApproved:
		return !e.Approved.IsZero() && e.Approved.Equal(r.Time)
	case journal.ExceptionExpired:
		return e.State == "Expired" && e.Ended.Equal(r.Time)
	}
	return false
}

// reopen opens the closed row r of namespace key nk again at t for the finding f.
func (b *builder) reopen(nk string, r *Deviation, t time.Time, f journal.Finding) {
	rk := key(nk, resourceKey(&r.Finding))
	b.remediatedOn[rk] = slices.DeleteFunc(b.remediatedOn[rk], func(o *Deviation) bool { return o == r })
	if len(b.remediatedOn[rk]) == 0 {
		delete(b.remediatedOn, rk)
	}
	r.reopen(t, f)
	b.open[nk][f.Key] = r
	if f.Severity != "" {
		r.Finding.Severity = f.Severity
	}
}

// exception is the latest exception of the name (the one a finding excepted now refers to).
// close ends an open deviation at the time.
func (b *builder) close(d *Deviation, at time.Time, inferred bool, reason string) {
	nk := key(d.Cluster, d.Profile, d.Namespace)
	d.unexcept(at)
	d.Closed, d.Inferred, d.Reason = at, inferred, reason
	rk := key(nk, resourceKey(&d.Finding))
	if d.Remediated() {
		delete(b.left[rk], d.Finding.Key)
		if len(b.left[rk]) == 0 {
			delete(b.left, rk)
		}
	} else {
		if b.left[rk] == nil {
			b.left[rk] = map[string]time.Time{}
		}
		b.left[rk][d.Finding.Key] = d.Since
	}
	if reason == journal.CloseMoved {
		// The same evaluation opened the check's finding on the resource under another
		// container (journaled before this closing): the failure goes on there, first opened
		// when this one was. Any opened in the second the evaluation began is taken to be it.
		moved := false
		for _, o := range b.open[nk] {
			if o != d && resourceKey(&o.Finding) == resourceKey(&d.Finding) && !o.Opened.Before(at.Truncate(time.Second)) {
				moved = true
				if d.Since.Before(o.Since) {
					o.Since = d.Since
				}
			}
		}
		if moved { // taken: no later finding takes it again
			delete(b.left[rk], d.Finding.Key)
			if len(b.left[rk]) == 0 {
				delete(b.left, rk)
			}
		}
	}
	if !d.listed {
		b.pack.Deviations = append(b.pack.Deviations, d)
		d.listed = true
		if k := endedKey(nk, d.Finding.Key, d.episode); k != "" {
			b.ended[k] = at
		}
	} else if !d.episode.IsZero() {
		// A later opening of the row: kept while a copy of its records may still come (the
		// row's openings of the last ReopenedWithin), not for every flip.
		i := 0
		for i < len(d.reopenings) && at.Sub(d.reopenings[i].closed) > ReopenedWithin {
			i++ // in the order they closed
		}
		d.reopenings = append(d.reopenings[i:], closedOpening{key: d.Finding.Key, firstSeen: d.episode, closed: at})
	}
	delete(b.open[nk], d.Finding.Key)
	b.recent[key(nk, d.Finding.Key)] = d
	if d.Remediated() && !inferred {
		b.remediatedOn[rk] = append(slices.DeleteFunc(b.remediatedOn[rk], func(o *Deviation) bool {
			return o == d || at.Sub(o.Closed) > ReopenedWithin || o.Closed.IsZero()
		}), d)
	}
}

// openAgain is the deviation of a finding an attestation at at lists open with the first-seen
// time of an episode that closed more than journal.CoverageSlack before at (nil when none did:
// a copy of a record of that episode). An operator that found the finding failing again took its first-seen time from a
// report not written since the closing (before 7a0bc3ef, after a restart or failed report
// writes), and its opening record was the first one's again: it failed again after the
// closing, and is first seen then.
func (b *builder) openAgain(c, profile, ns string, f journal.Finding, at time.Time) *Deviation {
	nk := key(c, profile, ns)
	closed, ok := b.ended[endedKey(nk, f.Key, f.FirstSeen)]
	if r := b.recent[key(nk, f.Key)]; !ok && r != nil && !f.FirstSeen.IsZero() {
		for _, o := range r.reopenings {
			if o.key == f.Key && o.firstSeen.Equal(f.FirstSeen) {
				closed, ok = o.closed, true
			}
		}
	}
	// More than the slack after it: an attestation the operator built while an evaluation that
	// closed the finding ran, dated after the closing (dated when the evaluation began), still
	// lists it.
	if !ok || !closed.Add(journal.CoverageSlack).Before(at) {
		return nil
	}
	f.FirstSeen = closed
	return b.deviation(c, profile, ns, f, at)
}

// endedKey identifies a deviation once closed: its finding and when it was first seen (a
// finding failing again is first seen again). "" without a first-seen time.
func endedKey(nk, findingKey string, firstSeen time.Time) string {
	if firstSeen.IsZero() {
		return ""
	}
	return key(nk, findingKey, firstSeen.UTC().Format(time.RFC3339Nano))
}

func (b *builder) exception(c, ns, name string) *ExceptionRow {
	return b.exceptionAt(c, ns, name, time.Time{})
}

// exceptionAt is the exception of the name created at created: another object under the same
// name (deleted and created again) has a row of its own. A zero created means the latest.
func (b *builder) exceptionAt(c, ns, name string, created time.Time) *ExceptionRow {
	k := key(c, ns, name)
	rows := b.exceptions[k]
	if n := len(rows); n > 0 {
		if created.IsZero() {
			return rows[n-1]
		}
		for i := n - 1; i >= 0; i-- {
			if rows[i].Created.Equal(created) {
				return rows[i]
			}
		}
		if last := rows[n-1]; last.Created.IsZero() {
			last.Created = created // named by a finding before a record said when it was created
			return last
		}
	}
	e := &ExceptionRow{Cluster: c, Namespace: ns, Covered: map[string]struct{}{}}
	e.Name, e.Created = name, created
	i := len(rows)
	for i > 0 && rows[i-1].Created.After(created) {
		i--
	}
	b.exceptions[k] = slices.Insert(rows, i, e)
	return e
}

// exceptionRef finds the exception a finding names: "namespace/name" (the operator's form; an
// exception in the operator's namespace can cover other namespaces) or a name in the finding's
// own namespace.
func (b *builder) exceptionRef(c, ns, ref string) *ExceptionRow {
	if exNS, name, ok := strings.Cut(ref, "/"); ok {
		if exNS != ns {
			b.selecting[key(c, exNS)] = struct{}{}
		}
		return b.exception(c, exNS, name)
	}
	return b.exception(c, ns, ref)
}

// state notes a criterion's state stated at at; spec is the profile's version it was judged
// under (nil where the record does not say).
func (b *builder) state(c, profile, ns, criterion, state string, unassessed, undecided []string, spec *journal.ProfileSpec, at time.Time) {
	at = b.stated(at)
	k := key(c, profile, ns, criterion)
	tl, ok := b.timelines[k]
	if !ok {
		tl = &Timeline{Cluster: c, Profile: profile, Namespace: ns, Criterion: criterion, cur: Span{From: b.opts.From, State: "Unknown"}}
		b.timelines[k] = tl
	}
	if at.Before(tl.cur.From) {
		// Older than the state the journal already holds: an attestation the operator built
		// before a change it then journaled first (two batches of the queue), or two
		// evaluations' records in the other order. The later time says what holds.
		return
	}
	// Stated again after an interval nobody observed: unknown from that interval's end to now.
	if end, ok := b.resumedAfter(b.resumed, c, ns, tl.stated); ok && end.Before(at) {
		tl.unconfirmed = append(tl.unconfirmed, Span{From: end, To: at})
	}
	tl.stated = latest(tl.stated, at)
	next := Span{From: at, State: state, Unassessed: strings.Join(unassessed, " "), Undecided: strings.Join(undecided, " ")}
	if b.run != nil {
		next.Operator, next.Catalogue = b.run.Version, b.run.Catalogue
	}
	if spec != nil && spec.Generation > 0 {
		next.ProfileGeneration = strconv.FormatInt(spec.Generation, 10)
	}
	if tl.cur.same(next) {
		return
	}
	if tl.interruptedPass(next, at) {
		// Failing again soon after it passed: the Fail span goes on, counting the interruption.
		f := tl.Spans[len(tl.Spans)-1]
		tl.Spans = tl.Spans[:len(tl.Spans)-1]
		f.To = time.Time{}
		f.PassInterruptions++
		f.PassFor += at.Sub(tl.cur.From)
		tl.cur = f
		return
	}
	if at.After(tl.cur.From) {
		s := tl.cur
		s.To = at
		tl.Spans = append(tl.Spans, s)
	}
	tl.cur = next
}

// leftScope notes that the profile stopped selecting the namespace at t: no attestation is expected
// until one shows it back, an interval in which it was not evaluated ends, and what its checks
// evaluated is no longer their population.
func (b *builder) leftScope(c, profile, ns string, t time.Time) {
	k := key(c, profile, ns)
	if cov := b.coverage[k]; cov != nil {
		cov.leave(t)
	}
	if e := b.evaluations[k]; e != nil && e.stale != nil {
		if t.After(e.stale.From) {
			b.endStale(e, t)
		} else {
			e.stale = nil
		}
	}
	for _, s := range b.checks {
		delete(s.latest[key(c, ns)], profile)
	}
}

// evaluatedAt notes an evaluation of the namespace at t (a record only an evaluation writes, or
// an attestation's Evaluated), which ends a stale interval begun before t.
func (b *builder) evaluatedAt(c, profile, ns string, t time.Time) *evaluations {
	k := key(c, profile, ns)
	e := b.evaluations[k]
	if e == nil {
		e = &evaluations{}
		b.evaluations[k] = e
	}
	if e.stale != nil && t.After(e.stale.From) {
		b.endStale(e, t)
	}
	e.last = latest(e.last, t)
	return e
}

// endStale ends e's stale interval at t.
func (b *builder) endStale(e *evaluations, t time.Time) {
	e.stale.To = t
	b.pack.Stale = append(b.pack.Stale, *e.stale)
	e.stale = nil
}

// unobserved is the union of the cluster's gaps that concern the namespace ("": those of every
// namespace) and of [until, to), clipped to [from, to), in time order.
func unobserved(gaps []Gap, cluster, ns string, from, until, to time.Time) []Span {
	var ivs []Span
	for _, g := range gaps {
		if g.Cluster == cluster && g.concerns(ns) {
			ivs = append(ivs, Span{From: latest(g.From, from), To: earliest(g.To, to)})
		}
	}
	ivs = append(ivs, Span{From: latest(until, from), To: to})
	slices.SortFunc(ivs, func(x, y Span) int { return x.From.Compare(y.From) })
	var out []Span
	for _, iv := range ivs {
		if !iv.From.Before(iv.To) {
			continue
		}
		if n := len(out); n > 0 && !iv.From.After(out[n-1].To) {
			out[n-1].To = latest(out[n-1].To, iv.To)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// overlay returns spans with state over each of ivs (in time order, not overlapping), joining
// neighbours in the same state.
func overlay(spans, ivs []Span, state string) []Span {
	out := make([]Span, 0, len(spans)+2*len(ivs))
	add := func(s Span) {
		if !s.From.Before(s.To) {
			return
		}
		if n := len(out); n > 0 && out[n-1].same(s) && out[n-1].To.Equal(s.From) {
			out[n-1].To = s.To
			out[n-1].PassInterruptions += s.PassInterruptions
			out[n-1].PassFor += s.PassFor
			return
		}
		out = append(out, s)
	}
	for _, s := range spans {
		cur := s.From
		// The first interval that ends after the span begins.
		k, _ := slices.BinarySearchFunc(ivs, cur, func(iv Span, t time.Time) int {
			if iv.To.After(t) {
				return 1
			}
			return -1
		})
		for cur.Before(s.To) {
			if k >= len(ivs) || !ivs[k].From.Before(s.To) {
				rest := s
				rest.From = cur
				add(rest)
				break
			}
			iv := ivs[k]
			if iv.From.After(cur) {
				before := s
				before.From, before.To = cur, iv.From
				add(before)
				cur = iv.From
				s.PassInterruptions, s.PassFor = 0, 0 // counted once, on the first part
			}
			end := earliest(iv.To, s.To)
			add(Span{From: cur, To: end, State: state})
			cur = end
			if !iv.To.After(s.To) {
				k++
			}
		}
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// selectedAt notes the namespaces a profile.attested record at t lists as selected: one without
// an attestation yet has a coverage row from then on, every day of it missing until one comes or
// it leaves the selection (a later list without it, namespace.left, the profile's deletion).
func (b *builder) selectedAt(c, profile string, selected []string, t time.Time) {
	pk := key(c, profile)
	for _, ns := range selected {
		k := key(c, profile, ns)
		cov := b.coverage[k]
		if cov == nil {
			cov = &CoverageRow{Cluster: c, Profile: profile, Namespace: ns, days: make([]bool, b.days), out: make([]bool, b.days), selected: t}
			b.coverage[k] = cov
			continue
		}
		if cov.Attestations == 0 {
			cov.back(b.opts.From, t)
		}
	}
	for _, ns := range b.selection[pk] {
		if cov := b.coverage[key(c, profile, ns)]; cov != nil && cov.Attestations == 0 && !slices.Contains(selected, ns) {
			cov.leave(t)
		}
	}
	b.selection[pk] = selected
}

// inScopeUnjudged notes a namespace in the profile's scope from t until left that no evaluation
// judged (it was deleted first): a coverage row without attestations, whose days in scope are
// missing; on the row of a namespace of the name judged before, which left before t, those days
// are missing too.
func (b *builder) inScopeUnjudged(c, profile, ns string, t, left time.Time) {
	k := key(c, profile, ns)
	cov := b.coverage[k]
	if cov == nil {
		cov = &CoverageRow{Cluster: c, Profile: profile, Namespace: ns, days: make([]bool, b.days), out: make([]bool, b.days)}
		b.coverage[k] = cov
	}
	if cov.Attestations > 0 {
		if cov.left.IsZero() || t.Before(cov.left) {
			return // the namespace judged in the period, journaled again: it left as it did
		}
		// Another namespace of the name, created after the judged one left: out of scope from
		// then until its creation, in scope and never judged from then to its deletion's day.
		cov.markOut(b.opts.From, cov.left, t)
		cov.left = left
		return
	}
	if cov.selected.IsZero() || t.Before(cov.selected) {
		cov.selected = t
	}
	cov.left = left
}

// attestation reads an attestation record (line is the record as journaled: its resource
// lists are read only for a closing it infers).
func (b *builder) attestation(c string, r *record, line []byte) {
	a := r.Attestation
	if a == nil {
		return
	}
	k := key(c, r.Profile, r.Namespace)
	cov, ok := b.coverage[k]
	if !ok {
		cov = &CoverageRow{Cluster: c, Profile: r.Profile, Namespace: r.Namespace, First: r.Time, days: make([]bool, b.days), out: make([]bool, b.days)}
		b.coverage[k] = cov
	}
	cov.back(b.opts.From, r.Time)
	if cov.First.IsZero() {
		cov.First = r.Time // listed as selected before it was attested
	}
	cov.Last = r.Time
	cov.Attestations++
	if d := int(r.Time.Sub(dayStart(b.opts.From)).Hours() / 24); d >= 0 && d < len(cov.days) {
		cov.days[d] = true
	}
	for _, cs := range a.Criteria {
		b.state(c, r.Profile, r.Namespace, cs.Criterion, cs.State, cs.Unassessed, cs.Undecided, r.Spec, r.Time)
	}
	if !a.Evaluated.IsZero() && a.EvaluationInterval > 0 {
		every := time.Duration(a.EvaluationInterval) * time.Second
		e := b.evaluatedAt(c, r.Profile, r.Namespace, a.Evaluated)
		if from := e.last.Add(journal.StaleAfter(every)); e.stale == nil && r.Time.After(from) {
			e.stale = &Stale{Cluster: c, Profile: r.Profile, Namespace: r.Namespace, From: from, LastEvaluated: e.last, Interval: every}
		}
	}
	at := r.Time.Format(time.RFC3339)
	for _, p := range a.Checks {
		b.population.Write([]string{c, at, r.Profile, r.Namespace, p.Check, strconv.Itoa(p.Count), p.SHA256, strconv.Itoa(p.Failed), strconv.Itoa(p.Excepted), strconv.Itoa(p.NotAssessed)})
		s, ok := b.checks[p.Check]
		if !ok {
			s = &CheckSummary{Check: p.Check, Min: p.Count, latest: map[string]map[string]int{}}
			b.checks[p.Check] = s
		}
		s.Attestations++
		s.Min, s.Max = min(s.Min, p.Count), max(s.Max, p.Count)
		nk := key(c, r.Namespace)
		if s.latest[nk] == nil {
			s.latest[nk] = map[string]int{}
		}
		s.latest[nk][r.Profile] = p.Count
		s.LatestAt = r.Time
	}
	// Findings open at the moment, first seen before anything in the window said so; and
	// findings believed open that the attestation shows gone (their closing record was lost in
	// a journal gap): closed at the attestation, marked inferred.
	still := make(map[string]struct{}, len(a.Open))
	for _, f := range a.Open {
		still[f.Key] = struct{}{}
	}
	open := b.open[k]
	if len(open) > 0 {
		keys := make([]string, 0, len(open))
		for fk := range open {
			if _, ok := still[fk]; !ok {
				keys = append(keys, fk)
			}
		}
		slices.Sort(keys)
		var lists [][]string
		if len(keys) > 0 {
			var full struct {
				Attestation struct {
					Populations [][]string `json:"populations"`
				} `json:"attestation"`
			}
			if err := json.Unmarshal(line, &full); err == nil {
				lists = full.Attestation.Populations
			}
		}
		judged := b.judgement(c, r.Profile, orUnknown(r.Spec))
		for _, fk := range keys {
			d := open[fk]
			reason := inferredReason(d.Finding, a.Checks, lists)
			// As the operator journals a closing it sees after a profile edit or an upgrade:
			// the change may alone have closed it.
			if why := journal.Reassessed(d.judged.spec, judged.spec, d.judged.catalogue, judged.catalogue); why != "" && (reason == "" || reason == journal.CloseResolved) {
				reason, d.Reassessed = journal.CloseReassessed, why
			}
			b.close(d, b.stated(r.Time), true, reason) // dated as written (builder.stated)
		}
	}
	for _, f := range a.Open {
		if d, ok := open[f.Key]; ok {
			d.judged = b.judgement(c, r.Profile, orUnknown(r.Spec))
			// Whether it is excepted now, where an excepting record was lost in a gap.
			if f.Exception == "" {
				d.unexcept(r.Time)
			} else {
				d.except(r.Time, b.exceptionRef(c, r.Namespace, f.Exception))
			}
			continue
		}
		d := b.deviation(c, r.Profile, r.Namespace, f, r.Time)
		if d == nil {
			d = b.openAgain(c, r.Profile, r.Namespace, f, r.Time)
		}
		if d == nil {
			continue
		}
		d.judged = b.judgement(c, r.Profile, orUnknown(r.Spec))
		if f.Exception != "" {
			d.Exceptions = append(d.Exceptions, f.Exception)
			w := b.exceptionRef(c, r.Namespace, f.Exception)
			d.except(r.Time, w)
			w.cover(r.Profile, r.Namespace, f.Key)
		}
	}
	for i := range a.Exceptions {
		x := &a.Exceptions[i]
		// An exception of another namespace (the operator's) names it; journals written
		// before it was recorded do not, and their exceptions read as the namespace's own.
		exNS := first(x.Namespace, r.Namespace)
		e := b.exceptionAt(c, exNS, x.Name, x.Created)
		if exNS != r.Namespace {
			b.selecting[key(c, exNS)] = struct{}{}
			if e.attested == nil {
				e.attested = map[string]int{}
			}
			e.attested[r.Namespace] = x.Findings
		}
		if e.State == "" {
			covered, findings := e.Covered, e.Findings
			merge(&e.Exception, x)
			e.Covered = covered
			if exNS != r.Namespace {
				e.Findings = findings // what it covers here, not everywhere
			}
			e.State = "InForce"
			e.noteApproval(x)
		}
	}
}

// orUnknown is an attestation's spec, or the zero version (not known) where it does not say:
// not the profile's latest, which the namespace's evaluation may not have judged under yet.
func orUnknown(spec *journal.ProfileSpec) *journal.ProfileSpec {
	if spec == nil {
		return &journal.ProfileSpec{}
	}
	return spec
}

// inferredReason is why a finding an attestation no longer lists open went, as the operator
// says in a closing record (journal.CloseReason); "" (not said) when the attestation records no
// populations. Where the check left some of its results there NotAssessed (the attestation does
// not say on which resources), the finding may be one of them, as the operator's closing would
// say (journal.CloseNotAssessed): not a remediation.
func inferredReason(f journal.Finding, checks []journal.CheckPopulation, lists [][]string) string {
	i := slices.IndexFunc(checks, func(c journal.CheckPopulation) bool { return c.Check == f.Check })
	if len(checks) == 0 || i >= 0 && checks[i].Count > 0 && checks[i].Population >= len(lists) {
		return ""
	}
	reason := journal.CloseReason(f, checks, lists)
	if reason == journal.CloseResolved && checks[i].NotAssessed > 0 {
		return journal.CloseNotAssessed
	}
	return reason
}

// finish closes what is still open at the end of the period and orders everything.
func (b *builder) finish() {
	p := b.pack
	for _, open := range b.open {
		for _, d := range open {
			if !d.listed {
				p.Deviations = append(p.Deviations, d)
			}
		}
	}
	slices.SortFunc(p.Deviations, func(x, y *Deviation) int {
		if c := x.Opened.Compare(y.Opened); c != 0 {
			return c
		}
		return strings.Compare(key(x.Cluster, x.Profile, x.Namespace, x.Finding.Key), key(y.Cluster, y.Profile, y.Namespace, y.Finding.Key))
	})
	for _, rows := range b.exceptions {
		for _, e := range rows {
			if ns := b.opts.Namespace; ns == "" || e.Namespace == ns || len(e.Covered) > 0 || e.inForceIn(ns) || e.Match != nil && slices.Contains(e.Match.Namespaces, ns) && b.selects(e.Cluster, e.Namespace) {
				p.Exceptions = append(p.Exceptions, e)
			}
		}
	}
	slices.SortFunc(p.Exceptions, func(x, y *ExceptionRow) int {
		if c := strings.Compare(key(x.Cluster, x.Namespace, x.Name), key(y.Cluster, y.Namespace, y.Name)); c != 0 {
			return c
		}
		return x.Created.Compare(y.Created)
	})
	for _, c := range b.coverage {
		p.Coverage = append(p.Coverage, c)
	}
	slices.SortFunc(p.Coverage, func(x, y *CoverageRow) int {
		return strings.Compare(key(x.Cluster, x.Profile, x.Namespace), key(y.Cluster, y.Profile, y.Namespace))
	})
	for _, s := range b.checks {
		for _, byProfile := range s.latest {
			most := 0
			for _, n := range byProfile {
				most = max(most, n)
			}
			s.Latest += most
		}
		p.CheckSummary = append(p.CheckSummary, s)
	}
	slices.SortFunc(p.CheckSummary, func(x, y *CheckSummary) int { return strings.Compare(x.Check, y.Check) })
	slices.SortStableFunc(p.Profiles, func(x, y ProfileVersion) int {
		if c := strings.Compare(x.Cluster, y.Cluster); c != 0 {
			return c
		}
		return x.Time.Compare(y.Time)
	})
	p.Gaps = append(p.Gaps, unexplained(b.silences, p.Gaps)...)
	slices.SortStableFunc(p.Gaps, func(x, y Gap) int {
		if c := strings.Compare(x.Cluster, y.Cluster); c != 0 {
			return c
		}
		return x.From.Compare(y.From)
	})
	// Nothing shows a criterion's state while nobody observed (a recorded stop, records lost,
	// a silence), nor after now in a period not over: Unknown then, not the state before.
	gone := map[string][]Span{}
	for _, c := range b.opts.Clusters {
		gone[c] = unobserved(p.Gaps, c, "", b.opts.From, p.Until, b.opts.To)
	}
	// And, in a namespace a journal gap lost records of, while it did.
	for _, g := range p.Gaps {
		for _, ns := range g.Namespaces {
			if k := key(g.Cluster, ns); gone[k] == nil {
				gone[k] = unobserved(p.Gaps, g.Cluster, ns, b.opts.From, p.Until, b.opts.To)
			}
		}
	}
	// Nor while the operator ran without evaluating a namespace.
	for _, e := range b.evaluations {
		if e.stale != nil {
			b.endStale(e, p.Until)
		}
	}
	slices.SortFunc(p.Stale, func(x, y Stale) int {
		if c := strings.Compare(key(x.Cluster, x.Profile, x.Namespace), key(y.Cluster, y.Profile, y.Namespace)); c != 0 {
			return c
		}
		return x.From.Compare(y.From)
	})
	stale := map[string][]Span{}
	for _, s := range p.Stale {
		k := key(s.Cluster, s.Profile, s.Namespace)
		stale[k] = append(stale[k], Span{From: latest(s.From, b.opts.From), To: earliest(s.To, b.opts.To)})
	}
	for _, tl := range b.timelines {
		if b.opts.To.After(tl.cur.From) {
			s := tl.cur
			s.To = b.opts.To
			tl.Spans = append(tl.Spans, s)
		}
		if own, ok := gone[key(tl.Cluster, tl.Namespace)]; ok {
			tl.Spans = overlay(tl.Spans, own, "Unknown")
		} else {
			tl.Spans = overlay(tl.Spans, gone[tl.Cluster], "Unknown")
		}
		tl.Spans = overlay(tl.Spans, stale[key(tl.Cluster, tl.Profile, tl.Namespace)], "Unknown")
		if end, ok := b.resumedAfter(b.resumedIn[tl.Cluster], tl.Cluster, tl.Namespace, tl.stated); ok && end.Before(b.opts.To) {
			tl.unconfirmed = append(tl.unconfirmed, Span{From: end, To: b.opts.To})
		}
		tl.Spans = overlay(tl.Spans, tl.unconfirmed, "Unknown")
		p.Timelines = append(p.Timelines, tl)
	}
	slices.SortFunc(p.Timelines, func(x, y *Timeline) int {
		return strings.Compare(key(x.Criterion, x.Cluster, x.Profile, x.Namespace), key(y.Criterion, y.Cluster, y.Profile, y.Namespace))
	})
}

// MissingDays lists the days of the period on which the namespace had no attestation, from
// its first attestation on, up to until (the end of the period, or now: days to come are not
// missing).
func (c *CoverageRow) MissingDays(from, until time.Time) []time.Time {
	var out []time.Time
	first := c.First
	if !c.selected.IsZero() && (first.IsZero() || c.selected.Before(first)) {
		first = c.selected // selected, and not attested, before
	}
	start := int(first.Sub(dayStart(from)).Hours() / 24)
	gone := slices.Clone(c.out)
	if !c.left.IsZero() {
		// Still out of scope at the end: from the day it left on.
		(&CoverageRow{out: gone}).markOut(from, c.left, dayStart(from).AddDate(0, 0, len(gone)))
	}
	for d := max(start, 0); d < len(c.days); d++ {
		day := dayStart(from).AddDate(0, 0, d)
		if !day.Before(until) {
			break
		}
		if !c.days[d] && !gone[d] {
			out = append(out, day)
		}
	}
	return out
}

// Duration is how long a deviation lasted, up to to (the end of the period, or now) if still
// open.
func (d *Deviation) Duration(to time.Time) time.Duration {
	if d.Closed.IsZero() {
		return to.Sub(d.Opened)
	}
	return d.Closed.Sub(d.Opened)
}

// write writes every file of the pack, then the manifest.
func (p *Pack) write() error {
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"deviations.csv", p.writeDeviations},
		{"exceptions.csv", p.writeExceptions},
		{"coverage.csv", p.writeCoverage},
		{"gaps.csv", p.writeGaps},
		{"criteria.csv", p.writeCriteria},
		{"profiles.csv", p.writeProfiles},
		{"operators.csv", p.writeOperators},
		{"controls.csv", writeControls},
		{"verification.json", p.writeVerificationJSON},
		{"verification.txt", p.writeVerificationText},
		{"index.html", p.writeHTML},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(p.Options.Dir, f.name), f.write); err != nil {
			return err
		}
	}
	return p.writeManifest()
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	if err := fn(w); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

// writeManifest lists the SHA-256 of every file of the pack, in `sha256sum -c` format.
func (p *Pack) writeManifest() error {
	entries, err := os.ReadDir(p.Options.Dir)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	var lines []string
	p.Files = nil
	for _, e := range entries {
		if e.IsDir() || e.Name() == "MANIFEST.sha256" {
			continue
		}
		f, err := os.Open(filepath.Join(p.Options.Dir, e.Name()))
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("output: %w", err)
		}
		lines = append(lines, hex.EncodeToString(h.Sum(nil))+"  "+e.Name()+"\n")
		p.Files = append(p.Files, e.Name())
	}
	p.Files = append(p.Files, "MANIFEST.sha256")
	return os.WriteFile(filepath.Join(p.Options.Dir, "MANIFEST.sha256"), []byte(strings.Join(lines, "")), 0o644)
}

func first(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func hours(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', 2, 64) }

func (p *Pack) writeDeviations(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"cluster", "profile", "namespace", "check", "severity", "criteria", "kind", "name", "container", "opened", "closed", "duration_hours", "status", "exceptions", "message", "first_opened", "remediation_hours",
		"excepted_from", "excepted_hours", "reassessed", "reopened", "open_hours"})
	for _, d := range p.Deviations {
		f := d.Finding
		remediation := ""
		if d.Remediated() {
			remediation = hours(d.RemediationTime())
		}
		cw.Write([]string{d.Cluster, d.Profile, d.Namespace, f.Check, f.Severity, strings.Join(f.Criteria, ";"), f.IdentityKind(), f.Name, d.Containers(),
			ts(d.Opened), ts(d.Closed), hours(d.Duration(p.Until)), d.status(), strings.Join(d.Exceptions, ";"), f.Message,
			ts(d.Since), remediation, ts(d.ExceptedFrom), hours(d.ExceptedFor(p.Until)), d.Reassessed, strconv.Itoa(d.Reopened), hours(d.OpenFor(p.Until))})
	}
	cw.Flush()
	return cw.Error()
}

func (p *Pack) writeExceptions(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"cluster", "namespace", "name", "state", "requested_by", "approved_by", "owner", "reason", "ticket", "checks", "criteria", "requested", "approved", "expires", "ended", "findings_covered",
		"resources", "spec_changed", "spec_sha256", "approved_reason", "approved_spec_sha256", "covered_changed"})
	for _, e := range p.Exceptions {
		covered := e.FindingsCovered(p.Options.Namespace)
		cw.Write([]string{e.Cluster, e.Namespace, e.Name, e.State, e.RequestedBy, e.approver(), e.Owner, e.Reason, e.Ticket,
			strings.Join(e.Checks, ";"), strings.Join(e.Criteria, ";"), ts(e.Requested), ts(e.Approved), ts(e.Expires), ts(e.Ended), strconv.Itoa(covered),
			matchText(e.Match), joinTimes(e.Changes), e.SpecSHA256, e.ApprovedReason, e.ApprovedSpecSHA256, coveredChanges(e.CoveredChanges)})
	}
	cw.Flush()
	return cw.Error()
}

// coveredChanges lists an exception's CoveredChanges, in order, separated by "; ".
func coveredChanges(list []CoveredChange) string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.String()
	}
	return strings.Join(out, "; ")
}

// matchText is an exception's spec.match in short: "namespaces=a,b kinds=K names=p* containers=c".
// Fields are separated by spaces and a field's values by commas; a value that could be read as
// more than itself (see matchValue), such as a tenant's name pattern "x containers=istio-proxy",
// is quoted, so that no pattern imitates another pattern or field.
func matchText(m *journal.ExceptionMatch) string {
	if m == nil {
		return ""
	}
	var parts []string
	field := func(name string, values ...string) {
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = matchValue(v)
		}
		parts = append(parts, name+"="+strings.Join(quoted, ","))
	}
	for _, f := range []struct {
		name   string
		values []string
	}{{"namespaces", m.Namespaces}, {"kinds", m.Kinds}, {"names", m.Names}} {
		if len(f.values) > 0 {
			field(f.name, f.values...)
		}
	}
	if m.LabelSelector != "" {
		// The selector's string form is one value: its own spaces ("tier in (x,y)") would
		// otherwise read as separators of fields.
		parts = append(parts, "labels="+quoteUnlessPlain(m.LabelSelector, " "))
	}
	if len(m.Containers) > 0 {
		field("containers", m.Containers...)
	}
	return strings.Join(parts, " ")
}

// matchValue is a pattern as matchText writes it: as it is when it is plain ASCII without a
// space, a comma, an equals sign, a double quote or a backslash; otherwise a double-quoted string
// with Go's escapes (strconv.QuoteToASCII: \" for a quote, \\ for a backslash, \n for a line
// break, \uFF0C for a fullwidth comma that would look like a comma).
func matchValue(v string) string { return quoteUnlessPlain(v, " ,=") }

// quoteUnlessPlain is s as it is when it is non-empty printable ASCII with no double quote,
// backslash or any of special, else s quoted by strconv.QuoteToASCII.
func quoteUnlessPlain(s, special string) string {
	plain := s != "" && !strings.ContainsAny(s, special+"\"\\")
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] > ' ' && s[i] < 0x7f || s[i] == ' ' && !strings.Contains(special, " ")
	}
	if plain {
		return s
	}
	return strconv.QuoteToASCII(s)
}

func joinTimes(times []time.Time) string {
	out := make([]string, len(times))
	for i, t := range times {
		out[i] = ts(t)
	}
	return strings.Join(out, ";")
}

func (p *Pack) writeCoverage(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"cluster", "profile", "namespace", "first_attested", "last_attested", "attestations", "days_missing", "missing_days"})
	for _, c := range p.Coverage {
		missing := c.MissingDays(p.Options.From, p.Until)
		days := make([]string, len(missing))
		for i, d := range missing {
			days[i] = d.Format(time.DateOnly)
		}
		cw.Write([]string{c.Cluster, c.Profile, c.Namespace, ts(c.First), ts(c.Last), strconv.Itoa(c.Attestations), strconv.Itoa(len(missing)), strings.Join(days, ";")})
	}
	cw.Flush()
	return cw.Error()
}

// inPeriod is how much of [from, to) lies in the part of the period the journal could have
// observed (up to now, for a period not over).
func (p *Pack) inPeriod(from, to time.Time) time.Duration {
	if d := earliest(to, p.Until).Sub(latest(from, p.Options.From)); d > 0 {
		return d
	}
	return 0
}

// NotObserved is the time of the period (up to now, for a period not over) that a gap of
// gaps.csv of every namespace covers, per cluster: a gap's part before the period is not
// counted, nor twice the time two gaps overlap. A journal gap that lost only some namespaces'
// records is theirs (NamespaceGaps).
func (p *Pack) NotObserved() time.Duration {
	var total time.Duration
	for _, c := range p.Options.Clusters {
		for _, iv := range unobserved(p.Gaps, c, "", p.Options.From, p.Until, p.Until) {
			total += iv.To.Sub(iv.From)
		}
	}
	return total
}

// NamespaceGaps counts the journal gaps that lost only some namespaces' records.
func (p *Pack) NamespaceGaps() int {
	n := 0
	for _, g := range p.Gaps {
		if g.Namespaces != nil {
			n++
		}
	}
	return n
}

func (p *Pack) writeGaps(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"cluster", "type", "from", "to", "duration_hours", "reason", "records_dropped", "hours_in_period", "namespaces", "records_dropped_by_namespace"})
	for _, g := range p.Gaps {
		cw.Write([]string{g.Cluster, string(g.Type), ts(g.From), ts(g.To), hours(g.To.Sub(g.From)), g.Reason, strconv.Itoa(g.Dropped), hours(p.inPeriod(g.From, g.To)),
			g.namespacesText(), g.droppedByText()})
	}
	for _, s := range p.Stale {
		cw.Write([]string{s.Cluster, string(StaleEvaluation), ts(s.From), ts(s.To), hours(s.To.Sub(s.From)), s.Reason(), "0", hours(p.inPeriod(s.From, s.To)), s.Namespace, ""})
	}
	cw.Flush()
	return cw.Error()
}

func (p *Pack) writeCriteria(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"cluster", "profile", "namespace", "criterion", "from", "to", "state", "unassessed_checks", "operator_version", "catalogue_version", "profile_generation",
		"pass_interruptions", "pass_hours", "undecided_checks"})
	for _, tl := range p.Timelines {
		for _, s := range tl.Spans {
			cw.Write([]string{tl.Cluster, tl.Profile, tl.Namespace, tl.Criterion, ts(s.From), ts(s.To), s.State, s.Unassessed, s.Operator, s.Catalogue, s.ProfileGeneration,
				strconv.Itoa(s.PassInterruptions), hours(s.PassFor), s.Undecided})
		}
	}
	cw.Flush()
	return cw.Error()
}

func (p *Pack) writeOperators(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"cluster", "identity", "operator_version", "catalogue_version", "started", "first_record", "last_record"})
	for _, o := range p.Operators {
		cw.Write([]string{o.Cluster, o.Identity, o.Version, o.Catalogue, ts(o.Started), ts(o.First), ts(o.Last)})
	}
	cw.Flush()
	return cw.Error()
}

func (p *Pack) writeProfiles(w io.Writer) error {
	cw := newSheet(w)
	cw.Write([]string{"cluster", "profile", "time", "change", "generation", "spec_sha256"})
	for _, v := range p.Profiles {
		gen := ""
		if v.Spec.Generation != 0 {
			gen = strconv.FormatInt(v.Spec.Generation, 10)
		}
		cw.Write([]string{v.Cluster, v.Profile, ts(v.Time), v.Change, gen, v.Spec.SHA256})
	}
	cw.Flush()
	return cw.Error()
}

func (p *Pack) writeVerificationJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"from": ts(p.Options.From), "to": ts(p.Options.To), "verified": p.OK(), "chains": p.Verification,
		"retentionVerified": RetentionVerified(p.Verification, p.Options.LockedUntil), "lockedUntil": ts(p.Options.LockedUntil),
	})
}

func (p *Pack) writeVerificationText(w io.Writer) error {
	return WriteResults(w, p.Verification, p.Options.LockedUntil)
}

// WriteResults prints verification results for a person, then what they say of the segments'
// retention (locked: the --locked-until asked for, zero if none). The results name what is in
// the store (clusters, objects that are not segments), which whoever can write to it names: their
// control characters are shown, not obeyed (termtable.Escape), a line break included, so that no
// name can erase or forge a line of the verification.
func WriteResults(w io.Writer, results []journal.Result, locked time.Time) error {
	for _, r := range results {
		fmt.Fprintln(w, termtable.Escape(r.Summary()))
		for _, pr := range r.Problems {
			fmt.Fprintf(w, "  %s\n", termtable.Escape(pr.String()))
		}
	}
	fmt.Fprintln(w, RetentionNote(results, locked))
	return nil
}

// RetentionVerified reports whether every segment read was checked to be under Object Lock in
// compliance mode until locked, and was.
func RetentionVerified(results []journal.Result, locked time.Time) bool {
	if locked.IsZero() {
		return false
	}
	for _, r := range results {
		for _, pr := range r.Problems {
			if pr.Kind == journal.ProblemUnlocked {
				return false
			}
		}
	}
	return true
}

// RetentionNote says what the verification shows of the segments' retention: a chain that
// verifies shows that the segments read were not altered, not that nobody can delete or
// replace them; only --locked-until checks that.
func RetentionNote(results []journal.Result, locked time.Time) string {
	switch {
	case locked.IsZero():
		return "Object Lock retention NOT verified (no --locked-until): this does not show the journal is immutable; " +
			"whoever can write to the store may delete or replace its segments"
	case RetentionVerified(results, locked):
		return "Object Lock retention verified: every segment read is under compliance mode until at least " + ts(locked)
	default:
		return "Object Lock retention NOT verified: segments not locked in compliance mode until " + ts(locked) + " are named above (unlocked)"
	}
}
