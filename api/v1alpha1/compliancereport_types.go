package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelProfile on every report the operator writes (ComplianceReports, and PolicyReports with
// spec.policyReports) names the profile that wrote it. On a PolicyReport a profile name that is
// not a valid label value is shortened with a hash.
const LabelProfile = "compliance.soc2-operator.io/profile"

// LabelManagedBy, set to ManagedBy, marks the objects of other APIs the operator writes: its
// PolicyReports (spec.policyReports) and its admission policies and their bindings.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "soc2-operator"
)

// ComplianceReportSpec names the profile the report belongs to.
type ComplianceReportSpec struct {
	// profile is the name of the ComplianceProfile that produced the report.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Profile string `json:"profile"`
}

// ReportSummary counts what a report found.
type ReportSummary struct {
	// resources is how many resources were evaluated (Pods and ReplicaSets created by a
	// controller are counted through the controller).
	// +optional
	Resources int32 `json:"resources"`

	// criteria is how many criteria are in scope.
	// +optional
	Criteria int32 `json:"criteria"`

	// failedCriteria is how many criteria in scope have status Fail.
	// +optional
	FailedCriteria int32 `json:"failedCriteria"`

	// failing is how many findings fail without an exception. It does not count the unread
	// ones (unread).
	// +optional
	Failing int32 `json:"failing"`

	// unread is how many check results are NotAssessed because their resource holds more than
	// the operator reads of it (criteria[].unread), without an exception: the findings listed
	// with result NotAssessed and no exception, that their resource's author can bring about on
	// purpose to keep a failure from being read. Each fails its criteria closed (status Fail,
	// counted in failedCriteria) though failing, critical, high, medium and low do not count
	// it; notAssessed does. A NonCompliant report with failing 0 has unread above 0. kubectl
	// prints it as Unread with -o wide.
	// +optional
	Unread int32 `json:"unread"`

	// critical is how many failing findings are Critical.
	// +optional
	Critical int32 `json:"critical"`

	// high is how many failing findings are High.
	// +optional
	High int32 `json:"high"`

	// medium is how many failing findings are Medium.
	// +optional
	Medium int32 `json:"medium"`

	// low is how many failing findings are Low.
	// +optional
	Low int32 `json:"low"`

	// excepted is how many findings are covered by an exception.
	// +optional
	Excepted int32 `json:"excepted"`

	// passed is how many check results passed.
	// +optional
	Passed int32 `json:"passed"`

	// notAssessed is how many check results could not be decided: for lack of data, or on a
	// resource larger than the operator reads (unread counts those, which fail their criteria
	// closed; failing does not).
	// +optional
	NotAssessed int32 `json:"notAssessed"`
}

// ExceptionUsage is a ControlException that was considered for a report.
type ExceptionUsage struct {
	// name of the exception, as namespace/name.
	// +required
	Name string `json:"name"`

	// state of the exception at evaluation time.
	// +required
	State ExceptionState `json:"state"`

	// owner of the exception.
	// +optional
	Owner string `json:"owner,omitempty"`

	// reason is the exception's spec.reason: why the risk is accepted. It is read from the
	// same version of the exception as approvedBy, and any change to an exception's spec
	// removes its approval, so a reason shown beside an approver is the one that was approved.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Reason string `json:"reason,omitempty"`

	// requestedBy is who asked for the exception, as the API server recorded it.
	// +optional
	RequestedBy string `json:"requestedBy,omitempty"`

	// approvedBy is who approved the exception, when the operator trusts that approval; empty
	// while it is PendingApproval or needs none.
	// +optional
	ApprovedBy string `json:"approvedBy,omitempty"`

	// expires is the exception's expiry.
	// +optional
	Expires *metav1.Time `json:"expires,omitempty"`

	// findings is how many findings of this report the exception covers; 0 means unused.
	// +optional
	Findings int32 `json:"findings"`

	// covered are the first findings the exception covers, by kind, name, container and check:
	// at most 5 (fewer than findings when there are more), and none when the exceptions would
	// otherwise not fit the report's budget for them. With coveredDigest they show what the
	// exception covers, which the count alone does not: a waiver moved from one workload to
	// another, or from one finding to a worse one, leaves findings unchanged.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=5
	Covered []CoveredFinding `json:"covered,omitempty"`

	// coveredDigest is "sha256:" and the first 16 hex digits of the SHA-256 of every finding
	// the exception covers here, sorted: it changes whenever what it covers changes, even
	// when findings does not, and only then. Empty when it covers none.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	CoveredDigest string `json:"coveredDigest,omitempty"`
}

// CoveredFinding is one finding a ControlException covers: the check, the resource and the
// container.
type CoveredFinding struct {
	// check is the ID of the check whose finding is covered.
	// +required
	Check string `json:"check"`

	// resource is the object the finding is about; empty for checks of the cluster as a whole.
	// +optional
	Resource ResourceRef `json:"resource,omitempty"`

	// container is the container the finding is about, if any.
	// +optional
	Container string `json:"container,omitempty"`
}

// ComplianceReportStatus is the state of one namespace against one profile.
type ComplianceReportStatus struct {
	// conditions: Ready is True when the report reflects a complete evaluation; Stale is True
	// when an evaluation is overdue or could not be written.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// result is NonCompliant when any criterion in scope fails, and Unknown while the report
	// is stale (its latest evaluation could not be made or written, or is overdue; the Stale
	// condition says why and which result the content shown had).
	// +optional
	Result ComplianceState `json:"result,omitempty"`

	// score is 0-100: the severity-weighted share of assessed checks that hold in the
	// namespace (see the README for the formula). Absent when nothing was assessed.
	// +optional
	Score *int32 `json:"score,omitempty"`

	// summary counts what was found.
	// +optional
	Summary ReportSummary `json:"summary,omitempty"`

	// criteria is the state of each criterion in scope.
	// +optional
	// +listType=map
	// +listMapKey=id
	Criteria []CriterionStatus `json:"criteria,omitempty"`

	// findings are the most severe failing and excepted findings, bounded by the profile's
	// maxFindings and by the status's size budget (512 KiB: the list stops before the finding
	// that would not fit). Each message is at most 1024 bytes.
	// +optional
	// +listType=atomic
	Findings []Finding `json:"findings,omitempty"`

	// totalFindings is how many failing and excepted findings there are in all.
	// +optional
	TotalFindings int32 `json:"totalFindings"`

	// findingsTruncated is true when findings does not list them all.
	// +optional
	FindingsTruncated bool `json:"findingsTruncated,omitempty"`

	// exceptions are the ControlExceptions considered for this namespace, with how many
	// findings each covers: those covering the most findings first, then by name, at most 50
	// and 128 KiB (the list stops before the exception that would not fit, so that long reasons
	// never crowd the findings out).
	// +optional
	// +listType=atomic
	Exceptions []ExceptionUsage `json:"exceptions,omitempty"`

	// totalExceptions is how many ControlExceptions were considered for this namespace in all.
	// +optional
	TotalExceptions int32 `json:"totalExceptions"`

	// exceptionsTruncated is true when exceptions does not list them all.
	// +optional
	ExceptionsTruncated bool `json:"exceptionsTruncated,omitempty"`

	// lastEvaluated is the time of the evaluation that produced this content. The operator
	// re-evaluates continuously but writes only when the content changes, so an older time
	// with Stale=False means nothing changed since. It is never older than the time the
	// running operator began observing: after a restart or a failover, the first evaluation is
	// written even when nothing changed, so that the report does not vouch for a time no
	// operator observed.
	// +optional
	LastEvaluated *metav1.Time `json:"lastEvaluated,omitempty"`

	// profileGeneration is the generation of the profile evaluated.
	// +optional
	ProfileGeneration int64 `json:"profileGeneration,omitempty"`

	// catalogVersion is the version of the built-in check catalogue evaluated.
	// +optional
	CatalogVersion string `json:"catalogVersion,omitempty"`
}

// ComplianceReport is the state of one namespace against one ComplianceProfile, per SOC 2
// criterion. It is written only by the operator and named after the profile.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=crep,categories=soc2
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.result`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Stale",type=string,JSONPath=`.status.conditions[?(@.type=="Stale")].status`
// +kubebuilder:printcolumn:name="Score",type=integer,JSONPath=`.status.score`
// +kubebuilder:printcolumn:name="Failed-Criteria",type=integer,JSONPath=`.status.summary.failedCriteria`
// +kubebuilder:printcolumn:name="Findings",type=integer,JSONPath=`.status.summary.failing`
// +kubebuilder:printcolumn:name="Critical",type=integer,JSONPath=`.status.summary.critical`
// +kubebuilder:printcolumn:name="Excepted",type=integer,JSONPath=`.status.summary.excepted`
// +kubebuilder:printcolumn:name="Unread",type=integer,JSONPath=`.status.summary.unread`,priority=1
// +kubebuilder:printcolumn:name="Evaluated",type=date,JSONPath=`.status.lastEvaluated`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ComplianceReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the profile.
	// +required
	Spec ComplianceReportSpec `json:"spec"`

	// status is the evaluation.
	// +optional
	Status ComplianceReportStatus `json:"status,omitempty"`
}

// ComplianceReportList is a list of ComplianceReports.
//
// +kubebuilder:object:root=true
type ComplianceReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ComplianceReport `json:"items"`
}
