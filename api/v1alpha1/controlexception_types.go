package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ControlExceptionSpec waives checks or criteria for some resources, for a reason, until an
// expiry. A waived finding stays visible in reports, marked Excepted with the exception's name.
// +kubebuilder:validation:XValidation:rule="(has(self.checks) && size(self.checks) > 0) || (has(self.criteria) && size(self.criteria) > 0)",message="an exception must name at least one check or criterion"
type ControlExceptionSpec struct {
	// checks are the IDs of the checks waived, built-in or custom.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Checks []string `json:"checks,omitempty"`

	// criteria are SOC 2 criteria whose checks are all waived.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	Criteria []Criterion `json:"criteria,omitempty"`

	// match selects the resources waived. Absent or empty matches every resource in the
	// exception's namespace.
	// +optional
	Match ResourceMatch `json:"match,omitempty"`

	// reason says why the risk is accepted, for the reviewer and the auditor. It may run over
	// several lines, but holds no other control characters (an escape, a carriage return, a
	// backspace), which a terminal showing it would obey.
	// +required
	// +kubebuilder:validation:MinLength=10
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]')`,message="reason must not hold control characters other than line breaks and tabs (an escape, a carriage return, a backspace)"
	Reason string `json:"reason"`

	// owner is who is accountable for the exception (a person or team, e.g. an email address).
	// It holds no control characters: `kubectl get controlexceptions` lists it in a column, where
	// a tab would start the next one and so put other text under REQUESTER and APPROVER.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x1f\\x7f-\\x9f]')`,message="owner must not hold control characters (a tab, a line break, an escape): kubectl get lists it in a column"
	Owner string `json:"owner"`

	// expires is when the exception stops applying. It is not deleted then: its status says
	// Expired and the findings it covered fail again. It is an RFC 3339 time with an upper-case
	// "T" and "Z" (or a numeric offset), for example 2027-01-31T18:00:00Z: the date-time format
	// alone also admits forms such as a lower-case "t" and "z", which the operator cannot decode,
	// and one such exception would stop it from reading any.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Format=date-time
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`
	Expires metav1.Time `json:"expires"`

	// requestedBy is the user who created the exception or last changed its spec, as the API
	// server authenticated them. It is set by the API server (a MutatingAdmissionPolicy the
	// operator installs) and cannot be chosen: a value that is not the requesting user is
	// refused. Like owner, it holds no control characters.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x1f\\x7f-\\x9f]')`,message="requestedBy must not hold control characters (a tab, a line break, an escape): kubectl get lists it in a column"
	RequestedBy string `json:"requestedBy,omitempty"`

	// ticket links the change request or risk record, as an http(s) URL.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://')",message="ticket must be an http:// or https:// URL"
	Ticket string `json:"ticket,omitempty"`

	// profiles limits the exception to these ComplianceProfiles. Empty means every profile.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	Profiles []string `json:"profiles,omitempty"`
}

// ResourceMatch selects resources. Every field that is set must match.
type ResourceMatch struct {
	// namespaces extends the exception to other namespaces. Only honoured for exceptions in the
	// operator's own namespace (admin-only by RBAC); elsewhere an exception that lists any
	// namespace but its own is Invalid (its own namespace alone is as if none were listed). "*"
	// matches every namespace and cluster-scoped objects.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$`
	Namespaces []string `json:"namespaces,omitempty"`

	// kinds are resource kinds, for example Deployment. A kind alone matches it in every API
	// group; Kind.group (kubectl's resource.group form, for example Gateway.networking.istio.io or
	// Deployment.apps) matches it in that group only, so an exception for Istio's Gateway web
	// does not waive the Gateway API's Gateway web in the same namespace.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=317
	// +kubebuilder:validation:items:Pattern=`^[A-Z][A-Za-z0-9]*(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Kinds []string `json:"kinds,omitempty"`

	// names are resource names or glob patterns ("*" for any run of characters, "?" for one).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	Names []string `json:"names,omitempty"`

	// labelSelector matches the labels of the resource (for workloads: the controller's labels).
	// +optional
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`

	// containers are container names or glob patterns; findings not about a container do not
	// match when this is set.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	Containers []string `json:"containers,omitempty"`
}

// ExceptionState is the lifecycle state of a ControlException.
// +kubebuilder:validation:Enum=PendingApproval;Active;Expired;Invalid
type ExceptionState string

// Exception states.
const (
	// ExceptionPendingApproval means the exception waits for an approval that the profile
	// requires (or its approval cannot be trusted): it does not apply.
	ExceptionPendingApproval ExceptionState = "PendingApproval"
	// ExceptionActive means the exception is valid and not expired: it applies.
	ExceptionActive ExceptionState = "Active"
	// ExceptionExpired means the expiry has passed, or the exception was deleted (reason
	// Deleted) and only finalizers keep it: it no longer applies.
	ExceptionExpired ExceptionState = "Expired"
	// ExceptionInvalid means it names unknown checks, selects namespaces it may not, or breaks a
	// profile's exception policy: it does not apply.
	ExceptionInvalid ExceptionState = "Invalid"
)

// ExceptionApproval approves an exception: written by an approver, checked by the API server.
type ExceptionApproval struct {
	// approvedBy is the approver's own user name. The API server refuses an approval whose
	// approvedBy is not the requesting user, whose user is spec.requestedBy, or whose user may
	// not `approve` controlexceptions/approval in the exception's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	ApprovedBy string `json:"approvedBy"`

	// comment says why the approver accepts the risk, for the auditor. Like reason, it holds no
	// control characters but line breaks and tabs.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule=`!self.matches('[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]')`,message="comment must not hold control characters other than line breaks and tabs (an escape, a carriage return, a backspace)"
	Comment string `json:"comment,omitempty"`

	// coveredDigest pins what the approver approves: status.wouldCoverDigest as they read it
	// before approving ("none" when it would cover nothing). The first evaluation that judges
	// the exception with this approval records it as status.approvedCoveredDigest, and, if the
	// exception then covers other findings (a workload relabelled into its selector between
	// the reading and the approval), turns the condition CoveredChangedSinceApproval True at
	// once. Written by the approver with the approval (the API server checks the approval as a
	// whole); absent, the approval covers what that first evaluation finds.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^(sha256:[0-9a-f]{16}|none)$`
	CoveredDigest string `json:"coveredDigest,omitempty"`
}

// ControlExceptionStatus is written by the operator.
type ControlExceptionStatus struct {
	// observedGeneration is the generation of the spec the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// state is PendingApproval, Active, Expired or Invalid.
	// +optional
	State ExceptionState `json:"state,omitempty"`

	// message explains the state, for example which check ID is unknown.
	// +optional
	Message string `json:"message,omitempty"`

	// approvedBy is the approver the operator trusted: the approval's user while the admission
	// policies that check approvals were in force. Empty while the exception is not approved.
	// +optional
	ApprovedBy string `json:"approvedBy,omitempty"`

	// approvedAt is when the operator first observed that approval (the system's time, not a
	// client's).
	// +optional
	ApprovedAt *metav1.Time `json:"approvedAt,omitempty"`

	// approvedGeneration is the generation whose approval approvedBy records. While the
	// admission policies are missing, an approval recorded here still counts once they are back.
	// +optional
	ApprovedGeneration int64 `json:"approvedGeneration,omitempty"`

	// unverifiedApprovalGeneration is a generation whose approval the operator first saw before
	// it had confirmed that the admission policies that check approvals were in force (they were
	// missing or altered, or the operator had just started), or the generation at which the
	// operator first judged, with the policies in force, an exception created before they came
	// into force (its approval, if any, may have been written with nothing to check it): anyone
	// could have written it, so it is never trusted. Remove the approval and approve again.
	// +optional
	UnverifiedApprovalGeneration int64 `json:"unverifiedApprovalGeneration,omitempty"`

	// matchedFindings is how many findings the exception covers across all profiles.
	// +optional
	MatchedFindings int32 `json:"matchedFindings"`

	// undecidedFindings is how many of matchedFindings are results their objects left
	// undecided (NotAssessed, with the reason: a custom check's expression that failed or was
	// stopped on the object, a check that crashed on it, or content past what the operator
	// reads of the object, its criterion's unread), which the exception waives as it
	// would their failures. Never judged to pass or fail, they count as excepted in the reports,
	// as waived failures do; renewing the exception accepts them unjudged. 0 when every finding
	// it covers is a failure.
	// +optional
	UndecidedFindings int32 `json:"undecidedFindings,omitempty"`

	// coveredDigest is "sha256:" and the first 16 hex digits of a SHA-256 of which findings
	// the exception covers, in every profile and namespace: it changes whenever what it covers
	// changes, even when matchedFindings does not (a label moved from one workload to another),
	// and only then. Each report's exceptions list the first findings covered there, with that
	// namespace's digest. Empty when it covers none.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	CoveredDigest string `json:"coveredDigest,omitempty"`

	// wouldCover is how many findings the exception would cover were it approved now, the
	// other exceptions unchanged, while it is PendingApproval (not approved yet, or changed and
	// awaiting approval again): what an approver approves. Absent otherwise, and before an
	// evaluation has judged its current generation.
	// +optional
	WouldCover *int32 `json:"wouldCover,omitempty"`

	// wouldCoverDigest is, while the exception is PendingApproval, the digest of the findings
	// it would cover were it approved now, in coveredDigest's form ("none" when it would cover
	// nothing): what coveredDigest, and so approvedCoveredDigest, will be after an approval if
	// nothing changes meanwhile. An approver copies it into approval.coveredDigest to pin what
	// they approve. Written by the operator only. Absent otherwise, and before an evaluation has
	// judged its current generation.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	WouldCoverDigest string `json:"wouldCoverDigest,omitempty"`

	// approvedCoveredDigest is coveredDigest as the first evaluation that judged the exception
	// with its current approval found it ("none" when it covered nothing then), or the
	// approval's coveredDigest when the approver pinned one: what the approval covers. Written by the operator only (the status subresource), and recorded
	// again whenever an approver writes the approval anew. The condition
	// CoveredChangedSinceApproval turns True once the exception covers any other findings.
	// Empty while it is not approved, or before that evaluation.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ApprovedCoveredDigest string `json:"approvedCoveredDigest,omitempty"`

	// conditions: Ready is True while the exception is Active.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ControlException waives SOC 2 checks for selected resources in its namespace, with a reason,
// an owner and an expiry. Where the profile requires approval (the default), it applies only
// once a second person who may `approve` controlexceptions/approval has approved it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=cexc,categories=soc2
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Findings",type=integer,JSONPath=`.status.matchedFindings`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.spec.owner`
// +kubebuilder:printcolumn:name="Requester",type=string,JSONPath=`.spec.requestedBy`
// +kubebuilder:printcolumn:name="Approver",type=string,JSONPath=`.status.approvedBy`
// +kubebuilder:printcolumn:name="Expires",type=string,format=date-time,JSONPath=`.spec.expires`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ControlException struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what is waived, for whom, why and until when.
	// +required
	Spec ControlExceptionSpec `json:"spec"`

	// approval is an approver's approval of the spec. Any change to the spec removes it: a
	// changed exception must be approved again.
	// +optional
	Approval *ExceptionApproval `json:"approval,omitempty"`

	// status is written by the operator.
	// +optional
	Status ControlExceptionStatus `json:"status,omitempty"`
}

// ControlExceptionList is a list of ControlExceptions.
//
// +kubebuilder:object:root=true
type ControlExceptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ControlException `json:"items"`
}
