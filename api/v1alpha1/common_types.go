package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Severity ranks how much a failing check matters.
// +kubebuilder:validation:Enum=Critical;High;Medium;Low
type Severity string

// Severities, most severe first.
const (
	SeverityCritical Severity = "Critical"
	SeverityHigh     Severity = "High"
	SeverityMedium   Severity = "Medium"
	SeverityLow      Severity = "Low"
)

// Severities lists every severity, most severe first: the order of reports, metrics and
// --fail-on.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// Criterion is a SOC 2 Trust Services criterion (TSC 2017) that a check supports.
// +kubebuilder:validation:Enum=CC6.1;CC6.2;CC6.3;CC6.4;CC6.5;CC6.6;CC6.7;CC6.8;CC7.1;CC7.2;CC7.3;CC7.4;CC7.5;CC8.1;CC9.1;A1.1;A1.2;A1.3;C1.1;C1.2;PI1.1;PI1.2;PI1.3;PI1.4;PI1.5
type Criterion string

// CheckResult is the outcome of one check on one resource (and container).
// +kubebuilder:validation:Enum=Pass;Fail;Excepted;NotApplicable;NotAssessed
type CheckResult string

// Check results.
const (
	// ResultPass means the check ran and the resource satisfies it.
	ResultPass CheckResult = "Pass"
	// ResultFail means the check ran and the resource does not satisfy it.
	ResultFail CheckResult = "Fail"
	// ResultExcepted means the resource fails the check but an active ControlException covers it.
	ResultExcepted CheckResult = "Excepted"
	// ResultNotApplicable means the check does not apply to this resource.
	ResultNotApplicable CheckResult = "NotApplicable"
	// ResultNotAssessed means the check lacks the data to decide (never counted as a pass).
	ResultNotAssessed CheckResult = "NotAssessed"
)

// CriterionState is the roll-up of every check result that supports one criterion.
// +kubebuilder:validation:Enum=Pass;Fail;Excepted;NotAssessed
type CriterionState string

// Criterion states.
const (
	// CriterionPass means at least one check was assessed and none failed or was excepted.
	CriterionPass CriterionState = "Pass"
	// CriterionFail means at least one check failed without an exception.
	CriterionFail CriterionState = "Fail"
	// CriterionExcepted means nothing failed, but at least one failure is covered by an exception.
	CriterionExcepted CriterionState = "Excepted"
	// CriterionNotAssessed means no check supporting the criterion could be assessed.
	CriterionNotAssessed CriterionState = "NotAssessed"
)

// ComplianceState is the overall verdict of a report or profile.
// +kubebuilder:validation:Enum=Compliant;NonCompliant;NotAssessed;Unknown
type ComplianceState string

// Compliance states.
const (
	// Compliant means no criterion in scope failed.
	Compliant ComplianceState = "Compliant"
	// NonCompliant means at least one criterion in scope failed.
	NonCompliant ComplianceState = "NonCompliant"
	// NotAssessed means no criterion in scope could be assessed.
	NotAssessed ComplianceState = "NotAssessed"
	// Unknown means the report's latest evaluation could not be made or written, or is
	// overdue: what it lists is older than the cluster, and its Stale condition says why.
	Unknown ComplianceState = "Unknown"
)

// CriterionStatus is the state of one SOC 2 criterion in a namespace or across the cluster.
type CriterionStatus struct {
	// id is the criterion, for example CC6.1.
	// +required
	ID Criterion `json:"id"`

	// title is the criterion's short title.
	// +optional
	Title string `json:"title,omitempty"`

	// status is Fail if any supporting check failed or left a resource unread (unread: a
	// criterion fails closed on what the operator did not read), Excepted if failures (and
	// unread resources) are all covered by exceptions, Pass if checks were assessed and passed,
	// and NotAssessed otherwise.
	// +required
	Status CriterionState `json:"status"`

	// checks is how many enabled checks supporting this criterion assessed at least one resource.
	// +optional
	Checks int32 `json:"checks"`

	// unassessedChecks is how many enabled checks supporting this criterion had resources to
	// judge but could assess none of them (every result NotAssessed: the evidence is not in the
	// cluster's objects, say). The status rests on the other checks only: Pass with
	// unassessedChecks above 0 means that part of the criterion was not shown to hold.
	// +optional
	UnassessedChecks int32 `json:"unassessedChecks,omitempty"`

	// notAssessed is how many results of the checks counted in checks (those that assessed some
	// resource) were NotAssessed for data the operator lacks (no Trivy report, no registry
	// access, a kind it cannot read), not counting those in unread. The status rests on the
	// resources that were decided: Pass with notAssessed above 0 means those resources were not
	// shown to hold.
	// +optional
	NotAssessed int32 `json:"notAssessed,omitempty"`

	// unread is how many results supporting this criterion were NotAssessed because the
	// resource holds more than the operator reads of it (a workload's long env values or
	// command lines past what gitleaks' rules read, a large ConfigMap's keys past the cache's
	// bound, a field the cache trimmed that a custom check reads), which a namespace tenant can
	// bring about on purpose to keep a failure from being read, and no exception waives. The
	// criterion fails closed on them: status is Fail while unread is above 0, and each is
	// listed among the findings (result NotAssessed, naming what was not read). failed does
	// not count them; excepted counts those an exception waives.
	// +optional
	Unread int32 `json:"unread,omitempty"`

	// failed is how many failing findings (without an exception) support this criterion.
	// +optional
	Failed int32 `json:"failed"`

	// excepted is how many findings supporting this criterion are covered by an exception.
	// +optional
	Excepted int32 `json:"excepted"`
}

// ResourceRef names the Kubernetes object a finding is about.
type ResourceRef struct {
	// apiVersion of the object, for example apps/v1.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`

	// kind of the object, for example Deployment.
	// +required
	Kind string `json:"kind"`

	// namespace of the object; empty for cluster-scoped objects.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// name of the object.
	// +required
	Name string `json:"name"`
}

// Finding is one failing or excepted check result on one resource (and container).
type Finding struct {
	// check is the ID of the check that produced the finding.
	// +required
	Check string `json:"check"`

	// criteria are the SOC 2 criteria the check supports.
	// +optional
	// +listType=atomic
	Criteria []Criterion `json:"criteria,omitempty"`

	// severity is the check's effective severity under the profile.
	// +required
	Severity Severity `json:"severity"`

	// result is Fail, or Excepted when an active exception covers the finding, or NotAssessed
	// for a check the resource itself left undecided (a custom check's expression it stopped or
	// broke, with the reason in message), which counts as failing as a Fail does, or that the
	// resource holds more of than the operator reads (the message names what was not read),
	// which the criterion counts in unread and fails closed on. exception is set on a
	// NotAssessed finding an active exception waives.
	// +required
	Result CheckResult `json:"result"`

	// resource is the object the finding is about; for a Pod that its controller's template
	// explains, this is the controller (Deployment, StatefulSet, ...), and otherwise the Pod.
	// +required
	Resource ResourceRef `json:"resource"`

	// container is the container the finding is about, if any (init and ephemeral
	// containers included).
	// +optional
	Container string `json:"container,omitempty"`

	// message explains what is wrong.
	// +optional
	Message string `json:"message,omitempty"`

	// firstSeen is when the operator first saw this finding, kept across evaluations while
	// the finding persists, and across an absence of up to an hour (its resource deleted and
	// created again, its container renamed, the check undecided or passing for an evaluation):
	// one back within the hour keeps the earliest time, so a tenant cannot make an old failure
	// read as new. With the evidence journal, also across closings that were no remediation.
	// +optional
	FirstSeen *metav1.Time `json:"firstSeen,omitempty"`

	// exception is the ControlException that covers the finding, as namespace/name, when result
	// is Excepted.
	// +optional
	Exception string `json:"exception,omitempty"`
}
