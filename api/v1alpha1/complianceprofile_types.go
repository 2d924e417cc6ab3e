package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ComplianceProfileSpec says which namespaces are assessed, against which criteria and checks,
// with which parameters, and how exceptions may be granted.
// +kubebuilder:validation:XValidation:rule="!has(self.customChecks) || !has(self.checks) || self.customChecks.all(c, !self.checks.exists(o, o.id == c.id))",message="a custom check's id must not also appear in checks: set a custom check's severity in the custom check itself"
type ComplianceProfileSpec struct {
	// description says what the profile is for, for the people who read it.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// namespaceSelector selects the namespaces to assess by label. Empty or absent selects
	// every namespace.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// excludedNamespaces are never assessed, whatever their labels.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`

	// includeSystemNamespaces assesses kube-system, kube-public and kube-node-lease too. They
	// are excluded by default.
	// +optional
	IncludeSystemNamespaces bool `json:"includeSystemNamespaces,omitempty"`

	// criteria limits the report to these SOC 2 criteria. Empty means every criterion that an
	// enabled check supports.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	Criteria []Criterion `json:"criteria,omitempty"`

	// checks enables, disables or re-ranks built-in checks by ID. Built-in checks not listed
	// here are enabled with their default severity. An unknown ID makes the profile not Ready.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=256
	Checks []CheckOverride `json:"checks,omitempty"`

	// parameters tune the built-in checks that take them.
	// +optional
	Parameters *CheckParameters `json:"parameters,omitempty"`

	// podSecurity selects the Pod Security Standards level and version that decide the checks
	// that are PSS controls. Default restricted, latest.
	// +optional
	PodSecurity *PodSecurity `json:"podSecurity,omitempty"`

	// customChecks are checks written as CEL expressions, evaluated next to the built-in ones.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=64
	CustomChecks []CustomCheck `json:"customChecks,omitempty"`

	// exceptionPolicy limits the ControlExceptions this profile honours.
	// +optional
	// +kubebuilder:default={}
	ExceptionPolicy *ExceptionPolicy `json:"exceptionPolicy,omitempty"`

	// evaluationInterval is the period of the full re-evaluation. Changes to watched objects
	// are evaluated as they happen, whatever this interval. Between 1m and 24h; default 10m.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('24h')",message="evaluationInterval must be between 1m and 24h"
	EvaluationInterval *metav1.Duration `json:"evaluationInterval,omitempty"`

	// maxFindings bounds the findings listed in each report (the most severe first); the
	// total is always counted. Between 1 and 500; default 50.
	// +optional
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=500
	MaxFindings int32 `json:"maxFindings,omitempty"`

	// policyReports also writes every evaluated resource's results, passes included, as a
	// wgpolicyk8s.io/v1alpha2 PolicyReport (ClusterPolicyReport for cluster-scoped objects)
	// owned by the resource, the format Policy Reporter reads. The PolicyReport CRDs must be
	// installed. Default false.
	// +optional
	PolicyReports bool `json:"policyReports,omitempty"`

	// enforcement turns on admission control for the namespaces the profile selects. Default:
	// Audit (report only).
	// +optional
	Enforcement *Enforcement `json:"enforcement,omitempty"`

	// alerts sends notifications when the state of compliance changes.
	// +optional
	Alerts *Alerts `json:"alerts,omitempty"`
}

// EnforcementMode says what admission does with a workload that fails a check.
// +kubebuilder:validation:Enum=Audit;Warn;Enforce
type EnforcementMode string

// Enforcement modes.
const (
	// EnforcementAudit admits everything; failures only show in reports.
	EnforcementAudit EnforcementMode = "Audit"
	// EnforcementWarn admits the workload and returns warnings that kubectl prints.
	EnforcementWarn EnforcementMode = "Warn"
	// EnforcementEnforce denies creating or updating a workload that fails a check at or above
	// the severity.
	EnforcementEnforce EnforcementMode = "Enforce"
)

// Enforcement configures the validating admission webhook for a profile.
type Enforcement struct {
	// mode is Audit, Warn or Enforce. Default Audit.
	// +optional
	// +kubebuilder:default=Audit
	Mode EnforcementMode `json:"mode,omitempty"`

	// severity is the lowest severity that warns or denies. Default High.
	// +optional
	// +kubebuilder:default=High
	Severity Severity `json:"severity,omitempty"`
}

// AlertEvent is a change worth telling someone about.
// +kubebuilder:validation:Enum=NewFinding;NamespaceNonCompliant;ExceptionExpired;ExceptionExpiring;ExceptionRevoked;ExceptionCoveredChanged
type AlertEvent string

// Alert events.
const (
	// AlertNewFinding: a failing finding at or above minSeverity appeared.
	AlertNewFinding AlertEvent = "NewFinding"
	// AlertNamespaceNonCompliant: a namespace's report became NonCompliant.
	AlertNamespaceNonCompliant AlertEvent = "NamespaceNonCompliant"
	// AlertExceptionExpired: an exception this profile honoured expired.
	AlertExceptionExpired AlertEvent = "ExceptionExpired"
	// AlertExceptionExpiring: an exception this profile honours expires within expiryWarning.
	AlertExceptionExpiring AlertEvent = "ExceptionExpiring"
	// AlertExceptionRevoked: an exception this profile honoured (Active) was deleted before it
	// expired; the findings it waived fail again.
	AlertExceptionRevoked AlertEvent = "ExceptionRevoked"
	// AlertExceptionCoveredChanged: an approved exception this profile honours covers findings
	// other than those it covered when approved (its condition CoveredChangedSinceApproval
	// turned True): a workload labelled into its selector, say.
	AlertExceptionCoveredChanged AlertEvent = "ExceptionCoveredChanged"
)

// Alerts configures notifications on state transitions.
type Alerts struct {
	// sinks receive the alerts.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	Sinks []AlertSink `json:"sinks"`

	// minSeverity is the lowest severity of a new finding that alerts. Default High.
	// +optional
	// +kubebuilder:default=High
	MinSeverity Severity `json:"minSeverity,omitempty"`

	// expiryWarning is how long before an exception's expiry ExceptionExpiring fires. Between
	// 1h and 720h; default 72h.
	// +optional
	// +kubebuilder:default="72h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h') && duration(self) <= duration('720h')",message="expiryWarning must be between 1h and 720h"
	ExpiryWarning *metav1.Duration `json:"expiryWarning,omitempty"`
}

// AlertSinkType is the payload format of a sink.
// +kubebuilder:validation:Enum=Webhook;Slack
type AlertSinkType string

// Sink types.
const (
	// SinkWebhook POSTs a JSON document describing the alert (see the README).
	SinkWebhook AlertSinkType = "Webhook"
	// SinkSlack POSTs a Slack-compatible incoming-webhook message ({"text": ...}).
	SinkSlack AlertSinkType = "Slack"
)

// AlertSink is one destination for alerts.
// +kubebuilder:validation:XValidation:rule="has(self.url) != has(self.urlFile)",message="exactly one of url and urlFile must be set"
type AlertSink struct {
	// name identifies the sink in logs, metrics and events.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// type is the payload format: Webhook (JSON) or Slack.
	// +required
	Type AlertSinkType `json:"type"`

	// url is where alerts are POSTed, for endpoints whose address is not a secret.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://')",message="url must be an http:// or https:// URL"
	URL string `json:"url,omitempty"`

	// urlFile is a file in the operator's container holding the URL, for addresses that are
	// secrets (a Slack webhook): mount a Secret there. The operator never reads Secrets through
	// the API.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	URLFile string `json:"urlFile,omitempty"`

	// events are the alerts this sink receives. Default: all of them.
	// +optional
	// +listType=set
	Events []AlertEvent `json:"events,omitempty"`
}

// CheckOverride changes one built-in check for this profile.
// +kubebuilder:validation:XValidation:rule="has(self.enabled) || has(self.severity)",message="a check override must set enabled or severity"
type CheckOverride struct {
	// id of the built-in check, as `soc2-operator checks` lists it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ID string `json:"id"`

	// enabled switches the check on or off. Default true.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`

	// severity replaces the check's default severity.
	// +optional
	Severity Severity `json:"severity,omitempty"`
}

// CheckParameters are the values built-in checks read from the profile.
type CheckParameters struct {
	// allowedRegistries are the image prefixes that img-registry-allowlist accepts, for example
	// "registry.k8s.io/" or "ghcr.io/my-org/". Empty means the check is NotAssessed.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	AllowedRegistries []string `json:"allowedRegistries,omitempty"`

	// requiredLabels are the label keys chg-ownership-labels requires on workloads. Default
	// app.kubernetes.io/name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=317
	RequiredLabels []string `json:"requiredLabels,omitempty"`

	// allowedHostPorts are the host ports wl-host-port accepts.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=65535
	AllowedHostPorts []int32 `json:"allowedHostPorts,omitempty"`

	// allowedCapabilities are the Linux capabilities wl-dangerous-caps and wl-drop-all-caps accept
	// being added, besides NET_BIND_SERVICE.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^[A-Z_]+$`
	AllowedCapabilities []string `json:"allowedCapabilities,omitempty"`

	// minReplicas is the replica count avl-replicas requires of Deployments and StatefulSets.
	// Default 2.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MinReplicas *int32 `json:"minReplicas,omitempty"`
}

// CustomCheck is a check written as a CEL expression.
//
// The expression sees `object` (the resource as JSON) and `podSpec` (the pod template spec of a
// workload, or null) and returns true when the resource passes.
type CustomCheck struct {
	// id names the check in reports and exceptions. It must not be the ID of a built-in check.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	ID string `json:"id"`

	// title is a one-line summary.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title"`

	// description says what the check establishes and why.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Description string `json:"description,omitempty"`

	// kinds are the resource kinds the check evaluates, for example Deployment, or Workload for
	// every workload kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
	// ReplicationController). Pods, ReplicaSets and Jobs that their controller's template
	// explains are judged through the controller when the check targets the controller's kind
	// too (Workload does); otherwise the check judges them themselves. A check of Pod (without
	// Workload) also judges every other workload's pod template as the Pod it makes.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Pattern=`^[A-Z][A-Za-z0-9]*$`
	Kinds []string `json:"kinds"`

	// expression is CEL that returns true when the resource passes.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Expression string `json:"expression"`

	// message is shown on a failing result. Default: the title.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// criteria are the SOC 2 criteria the check supports.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Criteria []Criterion `json:"criteria"`

	// severity of a failure. Default Medium.
	// +optional
	// +kubebuilder:default=Medium
	Severity Severity `json:"severity,omitempty"`

	// remediation says how to fix a failure.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Remediation string `json:"remediation,omitempty"`
}

// ExceptionPolicy limits the ControlExceptions a profile honours.
type ExceptionPolicy struct {
	// maxDuration is the longest an exception may run, from its creation to its expiry. An
	// exception that asks for longer is Invalid for this profile. At most 8760h (a year);
	// default 2160h (90 days).
	// +optional
	// +kubebuilder:default="2160h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h') && duration(self) <= duration('8760h')",message="maxDuration must be between 1h and 8760h (a year)"
	MaxDuration *metav1.Duration `json:"maxDuration,omitempty"`

	// requireApproval makes exceptions PendingApproval, waiving nothing, until a user other
	// than the requester who may `approve` controlexceptions/approval in the exception's
	// namespace has approved them (checked by the API server). Default true.
	// +optional
	// +kubebuilder:default=true
	RequireApproval *bool `json:"requireApproval,omitempty"`

	// maxSeverity is the most severe finding an exception may waive: findings above it are
	// never excepted, whatever an exception says. Default High: Critical findings cannot be
	// waived. Set Critical to allow waiving everything.
	// +optional
	// +kubebuilder:default=High
	MaxSeverity Severity `json:"maxSeverity,omitempty"`

	// allowTenantExceptions lets exceptions in any namespace waive findings of their own
	// namespace. When false, only exceptions in the operator's namespace (admin-only by RBAC)
	// apply; others are Invalid. Default true.
	// +optional
	// +kubebuilder:default=true
	AllowTenantExceptions *bool `json:"allowTenantExceptions,omitempty"`
}

// ComplianceProfileStatus is the cluster-wide picture of the profile, written by the operator.
type ComplianceProfileStatus struct {
	// observedGeneration is the generation of the spec the status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready says whether the profile is valid and evaluated, with a reason a person
	// can act on.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// result is NonCompliant when any selected namespace or cluster-scoped object fails a
	// criterion in scope, and Unknown while the profile has no current verdict: its objects
	// could not be read, its namespace selector does not parse, or the latest evaluation of
	// some namespace (or of the cluster-scoped objects) failed or is overdue (Ready says which).
	// +optional
	Result ComplianceState `json:"result,omitempty"`

	// namespacesEvaluated is how many namespaces the profile selects and has evaluated (a
	// namespace whose report could not be written counts too: soc2_operator_reports_stale
	// counts those).
	// +optional
	NamespacesEvaluated int32 `json:"namespacesEvaluated"`

	// namespacesNonCompliant is how many of those namespaces are NonCompliant.
	// +optional
	NamespacesNonCompliant int32 `json:"namespacesNonCompliant"`

	// criteria is the cluster-wide roll-up per criterion over every report and the
	// cluster-scoped objects.
	// +optional
	// +listType=map
	// +listMapKey=id
	Criteria []CriterionStatus `json:"criteria,omitempty"`

	// clusterFindings are the most severe findings on cluster-scoped objects (ClusterRoles,
	// ClusterRoleBindings, ...), bounded by spec.maxFindings.
	// +optional
	// +listType=atomic
	ClusterFindings []Finding `json:"clusterFindings,omitempty"`

	// clusterFindingsTotal is how many findings there are on cluster-scoped objects, failing,
	// excepted and unread (NotAssessed on an object larger than the operator reads, which its
	// criterion fails closed on; clusterFindings lists all three).
	// +optional
	ClusterFindingsTotal int32 `json:"clusterFindingsTotal"`

	// clusterFindingsFailing is how many of them fail without an exception (kubectl prints it
	// as Cluster-Findings, as it prints a report's failing findings as Findings).
	// +optional
	ClusterFindingsFailing int32 `json:"clusterFindingsFailing"`

	// clusterFindingsExcepted is how many of them an exception covers (Cluster-Excepted).
	// +optional
	ClusterFindingsExcepted int32 `json:"clusterFindingsExcepted"`

	// clusterFindingsUnread is how many of them are unread: NotAssessed because the object
	// holds more than the operator reads of it, without an exception, which fails their
	// criteria closed though clusterFindingsFailing does not count them (kubectl prints it as
	// Cluster-Unread with -o wide, as a report's summary.unread as Unread).
	// +optional
	ClusterFindingsUnread int32 `json:"clusterFindingsUnread"`

	// clusterFindingsTruncated is true when clusterFindings does not list them all.
	// +optional
	ClusterFindingsTruncated bool `json:"clusterFindingsTruncated,omitempty"`

	// clusterExceptions are the ControlExceptions considered for the cluster-scoped objects
	// (those of the operator's namespace that list "*"), each with its state, owner, reason,
	// requester, approver and expiry and how many of those objects' findings it covers, as a
	// report lists its namespace's: those covering the most findings first, then by name, at
	// most 50 and 128 KiB.
	// +optional
	// +listType=atomic
	ClusterExceptions []ExceptionUsage `json:"clusterExceptions,omitempty"`

	// clusterExceptionsTotal is how many ControlExceptions were considered for the
	// cluster-scoped objects in all.
	// +optional
	ClusterExceptionsTotal int32 `json:"clusterExceptionsTotal,omitempty"`

	// clusterExceptionsTruncated is true when clusterExceptions does not list them all.
	// +optional
	ClusterExceptionsTruncated bool `json:"clusterExceptionsTruncated,omitempty"`

	// catalogVersion is the version of the built-in check catalogue used.
	// +optional
	CatalogVersion string `json:"catalogVersion,omitempty"`

	// journalHeads is the head of the evidence journal's chain (with --journal-store) as the
	// operator last published it, one per journal cluster name: about once per heartbeat and
	// when it stops. When the operator opens the chain it checks that the chain still holds
	// the highest head published here; a head beyond the chain's end, or a segment with
	// another digest, is journaled as journal.rewound. Only the operator writes it.
	// +optional
	// +listType=map
	// +listMapKey=cluster
	// +kubebuilder:validation:MaxItems=16
	JournalHeads []JournalHead `json:"journalHeads,omitempty"`
}

// JournalHead is a point of the evidence journal's chain, published outside its store.
type JournalHead struct {
	// cluster is the journal's cluster name (--cluster-name, its prefix in the store).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Cluster string `json:"cluster"`

	// sequence is the sequence number of the chain's latest segment.
	// +required
	// +kubebuilder:validation:Minimum=1
	Sequence int64 `json:"sequence"`

	// digest is the hex SHA-256 of that segment's stored bytes, as the next segment's header
	// links to it.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	Digest string `json:"digest"`

	// time is the time of that segment's latest record (RFC 3339, to the second).
	// +required
	Time metav1.Time `json:"time"`
}

// ComplianceProfile selects namespaces and says how to assess them against SOC 2 criteria.
// The operator keeps one ComplianceReport per selected namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cprof,categories=soc2
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63",message="a profile's name is at most 63 characters: it names and labels the ComplianceReports"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.result`
// +kubebuilder:printcolumn:name="Namespaces",type=integer,JSONPath=`.status.namespacesEvaluated`
// +kubebuilder:printcolumn:name="Non-Compliant",type=integer,JSONPath=`.status.namespacesNonCompliant`
// +kubebuilder:printcolumn:name="Cluster-Findings",type=integer,JSONPath=`.status.clusterFindingsFailing`
// +kubebuilder:printcolumn:name="Cluster-Excepted",type=integer,JSONPath=`.status.clusterFindingsExcepted`
// +kubebuilder:printcolumn:name="Cluster-Unread",type=integer,JSONPath=`.status.clusterFindingsUnread`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ComplianceProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the profile assesses.
	// +optional
	Spec ComplianceProfileSpec `json:"spec,omitempty"`

	// status is written by the operator.
	// +optional
	Status ComplianceProfileStatus `json:"status,omitempty"`
}

// ComplianceProfileList is a list of ComplianceProfiles.
//
// +kubebuilder:object:root=true
type ComplianceProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ComplianceProfile `json:"items"`
}
