// Package journal is the operator's append-only, tamper-evident record of what it observed: every
// transition it computes (findings, exceptions, profiles, reports, criteria), its own start and
// stop, and a periodic attestation of each namespace's state and the population each check
// evaluated. Records are JSON lines in gzip segments; each segment's header carries the SHA-256 of
// the previous segment, so a missing, reordered or altered segment breaks the chain, and segment
// digests can be signed with an ed25519 key. Segments live in a Store: a directory or an
// S3-compatible bucket (with Object Lock, the record is WORM).
//
// The package does no Kubernetes I/O: the operator turns its transitions into Records, and the
// evidence pack reads them back.
package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Type names what a record says happened.
type Type string

// Record types.
const (
	// FindingOpened: a check started failing on a resource (a deviation begins).
	FindingOpened Type = "finding.opened"
	// FindingClosed: a failing (or excepted) result went away (a deviation ends).
	FindingClosed Type = "finding.closed"
	// FindingExcepted: an open finding became covered by an exception.
	FindingExcepted Type = "finding.excepted"
	// FindingUnexcepted: an excepted finding is no longer covered (the exception expired or went).
	FindingUnexcepted Type = "finding.unexcepted"

	// ExceptionRequested: a ControlException was created.
	ExceptionRequested Type = "exception.requested"
	// ExceptionApproved: a ControlException is approved (has an approver).
	ExceptionApproved Type = "exception.approved"
	// ExceptionExpired: a ControlException passed its expiry.
	ExceptionExpired Type = "exception.expired"
	// ExceptionRevoked: a ControlException was deleted before it expired.
	ExceptionRevoked Type = "exception.revoked"
	// ExceptionChanged: a ControlException's spec changed (what it covers, its expiry...),
	// whether or not an approval of the new spec follows.
	ExceptionChanged Type = "exception.changed"
	// ExceptionCoveredChanged: an approved ControlException turned CoveredChangedSinceApproval,
	// with no change to its spec: it covers findings (Exception.CoveredDigest) other than those
	// its approval covered (Exception.ApprovedCoveredDigest), a workload its tenant labelled
	// into its selector say. What it waived from then on was never approved.
	// ExceptionCoveredCleared: the condition no longer holds, an approver having written the
	// approval again after review (Exception.ApprovedBy, and the new baseline
	// Exception.ApprovedCoveredDigest, empty until an evaluation judges it) or the approval gone.
	ExceptionCoveredChanged Type = "exception.covered-changed"
	ExceptionCoveredCleared Type = "exception.covered-cleared"

	// ProfileCreated and ProfileChanged: a ComplianceProfile's generation and spec digest.
	ProfileCreated Type = "profile.created"
	ProfileChanged Type = "profile.changed"
	ProfileDeleted Type = "profile.deleted"
	// ProfileAttested: a profile's version, stated at every attestation round, changed or not:
	// an operator that restarts restores it, so it does not journal an unchanged profile as
	// changed again. It is not a version of its own.
	ProfileAttested Type = "profile.attested"

	// ReportResult: a namespace's overall result changed.
	ReportResult Type = "report.result"
	// CriterionChanged: one criterion's state in a namespace changed.
	CriterionChanged Type = "criterion.changed"
	// ReportDeleted: a namespace's report, which the operator had written or seen, was gone
	// when it evaluated the namespace again, and the operator had not deleted it (nor was its
	// namespace terminating): someone else deleted it, between Interval.From (when the operator
	// last saw it) and Interval.To (when it wrote it again). The evidence pack does not read it.
	ReportDeleted Type = "report.deleted"
	// NamespaceLeft: the profile no longer selects the namespace (deleted, relabelled or
	// excluded): nothing judges it under the profile from then on, and it is attested again
	// only once selected again. Journals written before it was recorded do not say.
	NamespaceLeft Type = "namespace.left"
	// ReasonNeverEvaluated is the reason of a namespace.left's interval (when the namespace was
	// in scope: from its creation to its deletion) for a namespace deleted before any evaluation
	// of it ran: in the profile's scope, and never judged.
	ReasonNeverEvaluated = "deleted before any evaluation of it ran"

	// OperatorStarted and OperatorStopped: the journal's writer (the leader) began or ended.
	OperatorStarted Type = "operator.started"
	OperatorStopped Type = "operator.stopped"
	// ObservationGap: an interval in which no operator was observing (between a stop, or the
	// last record, and the next start).
	ObservationGap Type = "observation.gap"
	// JournalGap: an interval in which the store was unreachable and records were dropped from
	// the bounded queue.
	JournalGap Type = "journal.gap"

	// Attestation: the periodic statement of a namespace's state under one profile.
	Attestation Type = "attestation"
)

// Record is one line of the journal. Its ID is derived from its content and event time, so the
// same transition written twice (by two leaders around a failover) has the same ID and is kept
// once.
type Record struct {
	// ID is the first 128 bits of the SHA-256 of the record without its ID, in hex.
	ID string `json:"id"`
	// Type says what happened.
	Type Type `json:"type"`
	// Time is when it happened (UTC, millisecond precision).
	Time time.Time `json:"time"`
	// Profile and Namespace scope the record, where it has a scope.
	Profile   string `json:"profile,omitempty"`
	Namespace string `json:"namespace,omitempty"`

	Finding   *Finding   `json:"finding,omitempty"`
	Exception *Exception `json:"exception,omitempty"`
	// Spec is, on profile records, the profile's version; on criterion.changed and attestation
	// records, the version the state was judged under (absent from journals written before it
	// was recorded).
	Spec        *ProfileSpec     `json:"spec,omitempty"`
	Report      *Report          `json:"report,omitempty"`
	Criterion   *CriterionChange `json:"criterion,omitempty"`
	Attestation *AttestationBody `json:"attestation,omitempty"`
	Interval    *Interval        `json:"interval,omitempty"`
	Operator    *Operator        `json:"operator,omitempty"`
	// Rewind is set on journal.rewound records.
	Rewind *Rewind `json:"rewind,omitempty"`
	// Selection is, on profile.attested records, what the profile selected at its latest full
	// evaluation (absent where the operator has made none since it started, and from journals
	// written before it was recorded): a namespace selected but never evaluated (its evaluation
	// failing, the operator unable to read its objects, gone between two evaluations) has no
	// record of its own, and the evidence pack lists it from this.
	Selection *Selection `json:"selection,omitempty"`
}

// Finding is one deviation: a check's failing result on a resource (and container).
type Finding struct {
	// Key identifies the finding across records: check, kind, name and container.
	Key      string   `json:"key"`
	Check    string   `json:"check"`
	Criteria []string `json:"criteria,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Kind     string   `json:"kind"`
	// Group is the API group of a kind outside Kubernetes' own groups (networking.istio.io for
	// Istio's Gateway): the key then names the kind as kind.group. Empty for Kubernetes' own
	// groups (the core group, apps, gateway.networking.k8s.io...), and in journals written before
	// it was recorded, where a key's bare kind named the object of any group.
	Group     string `json:"group,omitempty"`
	Name      string `json:"name"`
	Container string `json:"container,omitempty"`
	Message   string `json:"message,omitempty"`
	// Exception names the ControlException that covers it (excepted records).
	Exception string `json:"exception,omitempty"`
	// FirstSeen is when the operator first saw the failure (for opened records, the event time).
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	// Since, on an opened record (and an attestation's open findings), is when the check was
	// first seen failing on the resource, where that is before FirstSeen: an earlier finding of
	// it (under this container or another) closed without remediation (not-assessed,
	// out-of-scope, resource-gone, reassessed, moved), so nothing says the failure ended
	// between. Zero otherwise, and in journals written before December 2026.
	Since time.Time `json:"since,omitzero"`
	// CloseReason says why a closed record's finding went away (CloseResolved,
	// CloseOutOfScope, CloseResourceGone, CloseReassessed, CloseNotAssessed, CloseMoved); empty
	// in other records, and in journals written before it was recorded.
	CloseReason string `json:"closeReason,omitempty"`
	// Reassessed, in a closed record whose CloseReason is CloseReassessed, says what changed
	// since the last evaluation that reported the finding: "profile generation 3 -> 4 (spec
	// 1a2b3c4d -> 5e6f7a8b)", "catalogue 2026.06.01 -> 2026.09.01", or both, "; "-separated.
	Reassessed string `json:"reassessed,omitempty"`
}

// Why a finding closed: only a resolved finding was remediated.
const (
	// CloseResolved: the check still evaluates the resource and no longer reports a failure.
	CloseResolved = "resolved"
	// CloseOutOfScope: nothing judges the finding any more (its namespace left the profile,
	// the profile was deleted, or the profile no longer runs the check).
	CloseOutOfScope = "out-of-scope"
	// CloseResourceGone: the resource is no longer among what the check evaluates (deleted,
	// or no longer selected).
	CloseResourceGone = "resource-gone"
	// CloseReassessed: the check still evaluates the resource and no longer reports a failure,
	// but it judged under another profile version or check catalogue than the last evaluation
	// that reported the finding (an admin's edit of the profile's parameters, an operator
	// upgrade): what is judged changed, and may alone have closed it.
	CloseReassessed = "reassessed"
	// CloseNotAssessed: the check still evaluates the resource, but can no longer decide it (its
	// result there is NotAssessed: data it needs is missing, or past what the operator reads).
	// Nothing says the failure ended: not a remediation.
	CloseNotAssessed = "not-assessed"
	// CloseMoved: the same evaluation opened a finding of the same check on the same resource
	// under another container (a container renamed, its failure with it): not a remediation.
	CloseMoved = "moved"
)

// CloseReason says why a finding an evaluation no longer reports went away, from what each
// check evaluated then (checks, and lists, the sorted resource lists they index): the check
// did not run (CloseOutOfScope), its resource is not among what the check evaluated
// (CloseResourceGone), or the check evaluated the resource and reports no failure
// (CloseResolved). Only the last is a remediation.
func CloseReason(f Finding, checks []CheckPopulation, lists [][]string) string {
	for _, c := range checks {
		if c.Check != f.Check {
			continue
		}
		if c.Count > 0 && c.Population < len(lists) {
			if _, found := slices.BinarySearch(lists[c.Population], f.IdentityKind()+"/"+f.Name); found {
				return CloseResolved
			}
		}
		return CloseResourceGone
	}
	return CloseOutOfScope
}

// Selection is the namespaces a profile selected.
type Selection struct {
	// Namespaces are their names, sorted (empty: none).
	Namespaces []string `json:"namespaces"`
}

// Reassessed says what changed from one judgement to the next that can change a verdict with
// nothing changed in the cluster (the text of Finding.Reassessed): the profile's spec (from and
// to), the check catalogue (fromCatalogue, toCatalogue), or both; "" when neither did, or where
// either side of one is not known (an empty digest or catalogue).
func Reassessed(from, to ProfileSpec, fromCatalogue, toCatalogue string) string {
	var out []string
	if from.SHA256 != "" && to.SHA256 != "" && from.SHA256 != to.SHA256 {
		out = append(out, fmt.Sprintf("profile generation %d -> %d (spec %.8s -> %.8s)", from.Generation, to.Generation, from.SHA256, to.SHA256))
	}
	if fromCatalogue != "" && toCatalogue != "" && fromCatalogue != toCatalogue {
		out = append(out, "catalogue "+fromCatalogue+" -> "+toCatalogue)
	}
	return strings.Join(out, "; ")
}

// IdentityKind is the kind as the finding's key and the populations name it: kind.group where
// Group is set, the kind alone otherwise.
func (f *Finding) IdentityKind() string {
	if f.Group == "" {
		return f.Kind
	}
	return f.Kind + "." + f.Group
}

// FindingKey is the Key of a finding; kind is the object's kind with its group where that is not
// one of Kubernetes' own (Gateway.networking.istio.io, see Finding.Group).
func FindingKey(check, kind, name, container string) string {
	return check + "|" + kind + "|" + name + "|" + container
}

// Exception is a ControlException as the API server recorded it.
type Exception struct {
	Name string `json:"name"`
	// Namespace is, on an attestation's exceptions in force, the exception's namespace where
	// it is not the attested namespace (an exception of the operator's namespace, which may
	// select others); empty otherwise, and in journals written before it was recorded.
	Namespace   string    `json:"namespace,omitempty"`
	RequestedBy string    `json:"requestedBy,omitempty"`
	ApprovedBy  string    `json:"approvedBy,omitempty"`
	Approver    string    `json:"approver,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Ticket      string    `json:"ticket,omitempty"`
	Checks      []string  `json:"checks,omitempty"`
	Criteria    []string  `json:"criteria,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	// Findings is the number of findings it covered when the record was written.
	Findings int `json:"findings"`
	// Generation is the object's generation the record describes: a change to the spec
	// removes the approval, so an approval of a later generation approves another spec.
	Generation int64 `json:"generation,omitempty"`
	// Match is the resources it covers (spec.match), Profiles the profiles it applies under.
	Match    *ExceptionMatch `json:"match,omitempty"`
	Profiles []string        `json:"profiles,omitempty"`
	// SpecSHA256 is the digest of the spec's JSON (absent from journals written before it was
	// recorded).
	SpecSHA256 string `json:"specSHA256,omitempty"`
	// CoveredDigest and ApprovedCoveredDigest are, on exception.covered-* records, the digests
	// of the findings it covers and of those its approval covered (the exception's
	// status.coveredDigest and status.approvedCoveredDigest).
	CoveredDigest         string `json:"coveredDigest,omitempty"`
	ApprovedCoveredDigest string `json:"approvedCoveredDigest,omitempty"`
}

// ExceptionMatch is a ControlException's spec.match.
type ExceptionMatch struct {
	Namespaces []string `json:"namespaces,omitempty"`
	Kinds      []string `json:"kinds,omitempty"`
	Names      []string `json:"names,omitempty"`
	// LabelSelector is the label selector in its string form.
	LabelSelector string `json:"labelSelector,omitempty"`
	// Containers are the container names or patterns: only findings about them are waived.
	Containers []string `json:"containers,omitempty"`
}

// ProfileSpec identifies a version of a ComplianceProfile.
type ProfileSpec struct {
	Generation int64 `json:"generation"`
	// SHA256 is the digest of the spec's canonical JSON.
	SHA256 string `json:"sha256"`
	// UID is the profile object's: a profile deleted and created again under the same name is
	// another profile, whose versions do not continue the earlier one's (absent from journals
	// written before it was recorded).
	UID string `json:"uid,omitempty"`
}

// Report is a namespace's overall result.
type Report struct {
	Result   string `json:"result"`
	Score    *int32 `json:"score,omitempty"`
	Failing  int    `json:"failing"`
	Excepted int    `json:"excepted"`
}

// CriterionChange is a criterion's state change in a namespace.
type CriterionChange struct {
	Criterion string `json:"criterion"`
	From      string `json:"from,omitempty"`
	To        string `json:"to"`
	// Unassessed are the enabled checks supporting the criterion that had resources to judge
	// but assessed none of them (every result NotAssessed), sorted: To rests on the other checks
	// only. A change of this list alone is a change too (From equals To then). Journals written
	// before it was recorded do not say.
	Unassessed []string `json:"unassessed,omitempty"`
	// Undecided are the enabled checks supporting the criterion that assessed some resources
	// but left others NotAssessed (data they need missing, or past what the operator reads,
	// which a namespace tenant can bring about), sorted: To rests on the resources decided, and
	// a failure hidden that way does not show. A change of this list alone is a change too.
	// Journals written before it was recorded do not say.
	Undecided []string `json:"undecided,omitempty"`
}

// AttestationBody states, at a moment, each criterion's state and the population each check
// evaluated in one namespace under one profile.
type AttestationBody struct {
	Criteria []CriterionState  `json:"criteria"`
	Checks   []CheckPopulation `json:"checks"`
	// Populations holds each distinct resource list once; checks refer to it by index (checks
	// that target the same kinds share a list).
	Populations [][]string `json:"populations,omitempty"`
	// Open are the findings failing or excepted at the moment, with when each was first seen,
	// so a reader of any window knows the deviations that began before it.
	Open []Finding `json:"open,omitempty"`
	// Exceptions are the ControlExceptions in force in the namespace at the moment.
	Exceptions []Exception `json:"exceptions,omitempty"`
	// Evaluated is when the namespace was last evaluated (what the attestation states is what
	// that evaluation found), and EvaluationInterval the profile's full evaluation interval in
	// seconds: a working operator evaluates each namespace at least that often, so an
	// Evaluated long before the attestation says the evaluations stopped while the journal ran
	// on (see StaleAfter). Journals written before they were recorded do not say.
	Evaluated          time.Time `json:"evaluated,omitzero"`
	EvaluationInterval int64     `json:"evaluationIntervalSeconds,omitempty"`
	// NamespaceUID is the UID of the Namespace object attested: a namespace deleted and
	// created again under the same name is another object, whose evaluation neither continues
	// nor resolves the findings of the one attested. Journals written before it was recorded
	// do not say.
	NamespaceUID string `json:"namespaceUID,omitempty"`
}

// StaleAfter is how long after a namespace's last evaluation its stated state stops being
// evidence of the present, for a profile evaluated every interval: two intervals (one
// evaluation may fail and be retried at the next) and CoverageSlack for a slow one.
func StaleAfter(interval time.Duration) time.Duration {
	return 2*interval + CoverageSlack
}

// CriterionState is a criterion's state in an attestation.
type CriterionState struct {
	Criterion string `json:"criterion"`
	State     string `json:"state"`
	// Unassessed are the checks the state does not rest on, and Undecided those that left some
	// resources undecided, as in CriterionChange.
	Unassessed []string `json:"unassessed,omitempty"`
	Undecided  []string `json:"undecided,omitempty"`
}

// CheckPopulation is what one check evaluated: how many resources, the SHA-256 of their sorted
// list (one "Kind/name" per line), and the index of the list in Populations.
type CheckPopulation struct {
	Check      string `json:"check"`
	Count      int    `json:"count"`
	SHA256     string `json:"sha256"`
	Population int    `json:"population"`
	Failed     int    `json:"failed,omitempty"`
	Excepted   int    `json:"excepted,omitempty"`
	// NotAssessed is how many of the check's results on the population were NotAssessed: the
	// check could not decide them (data missing, or past what the operator reads, which a
	// tenant can bring about), so they are in the population but were not tested. Absent from
	// journals written before it was recorded.
	NotAssessed int `json:"notAssessed,omitempty"`
}

// PopulationDigest is the SHA-256 of a sorted resource list, one entry per line (each entry
// followed by a line feed). An entry is "Kind/name" and a name may hold a line feed (an RBAC
// object's name need only be a valid path segment), but no Kubernetes kind or name holds a '/'
// (apimachinery's path.IsValidPathSegmentName, which every object's storage key must pass): a
// line holding a '/' begins an entry and any other continues the name before it, so the text
// gives back the list and two different lists never share the text, nor the digest
// (FuzzPopulationTextGivesBackTheList). The format is stored in every attestation and pack since
// the first journal: changing it would need a version beside the digest.
func PopulationDigest(sorted []string) string {
	h := sha256.New()
	for _, s := range sorted {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Interval is a span of time with a reason (gaps, the unobserved time across a restart).
type Interval struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason,omitempty"`
	// Dropped counts the records the bounded queue could not keep (journal gaps).
	Dropped int `json:"dropped,omitempty"`
	// DroppedBy says, on journal gaps, whose records those were: how many of each namespace's,
	// sorted by namespace, "" for records of no namespace (the operator's, the profiles'). Only
	// the namespaces it names lost records, unless it names "" (a record of no namespace may say
	// anything of any namespace). Absent from journals written before it was recorded: their
	// gaps may have lost any namespace's records.
	DroppedBy []NamespaceRecords `json:"droppedBy,omitempty"`
}

// NamespaceRecords counts records of one namespace ("" for records of none).
type NamespaceRecords struct {
	Namespace string `json:"namespace"`
	Records   int    `json:"records"`
}

// Scoped reports whether the interval names the namespaces it concerns (DroppedBy, without
// records of no namespace): one that does not concerns every namespace.
func (iv *Interval) Scoped() bool {
	if len(iv.DroppedBy) == 0 {
		return false
	}
	for _, d := range iv.DroppedBy {
		if d.Namespace == "" {
			return false
		}
	}
	return true
}

// Namespaces are the namespaces a scoped interval concerns (nil when it concerns every one).
func (iv *Interval) Namespaces() []string {
	if !iv.Scoped() {
		return nil
	}
	out := make([]string, len(iv.DroppedBy))
	for i, d := range iv.DroppedBy {
		out[i] = d.Namespace
	}
	return out
}

// droppedBy lists counts by namespace, sorted (nil when empty).
func droppedBy(counts map[string]int) []NamespaceRecords {
	var out []NamespaceRecords
	for ns, n := range counts {
		if n > 0 {
			out = append(out, NamespaceRecords{Namespace: ns, Records: n})
		}
	}
	slices.SortFunc(out, func(a, b NamespaceRecords) int { return strings.Compare(a.Namespace, b.Namespace) })
	return out
}

// Operator identifies the process that wrote operator.* records (started, heartbeat, stopped,
// gaps): what the records after them until the next say, that operator judged.
type Operator struct {
	Identity string `json:"identity,omitempty"`
	// Version is the operator's version.
	Version string `json:"version,omitempty"`
	// Catalogue is the version of the check catalogue it evaluated with (absent from journals
	// written before it was recorded): an upgrade that brings another catalogue can change a
	// verdict with nothing changed in the cluster.
	Catalogue string `json:"catalogue,omitempty"`
}

// Seal normalises the record's time (UTC, milliseconds) and sets its ID from its content.
func (r *Record) Seal() error {
	r.Time = r.Time.UTC().Truncate(time.Millisecond)
	r.ID = ""
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding %s record: %w", r.Type, err)
	}
	sum := sha256.Sum256(b)
	r.ID = hex.EncodeToString(sum[:16])
	return nil
}
