package v1alpha1

// Condition types.
const (
	// ConditionReady on a profile: the spec is valid and every selected namespace was
	// evaluated. On a report: the content reflects a complete evaluation. On an exception:
	// the exception is Active.
	ConditionReady = "Ready"

	// ConditionStale on a report: the content may be out of date, because an evaluation is
	// overdue or a write failed.
	ConditionStale = "Stale"

	// ConditionExpiringSoon on an exception: it expires within the expiry warning of a profile
	// that honours it (72 hours by default).
	ConditionExpiringSoon = "ExpiringSoon"

	// ConditionCoveredChangedSinceApproval on an approved exception: True once it has covered
	// findings other than those it covered when first evaluated with its approval
	// (status.approvedCoveredDigest), for example because a workload was labelled into its
	// labelSelector. It stays True, even if the findings move back, until an approver approves it
	// again (writes its approval anew). Unknown until an evaluation with the approval has run.
	ConditionCoveredChangedSinceApproval = "CoveredChangedSinceApproval"

	// ConditionJournalBehind on a profile (only with --journal-store): transitions wait in the
	// operator's bounded queue because the evidence journal's store cannot be written.
	ConditionJournalBehind = "JournalBehind"

	// ConditionJournalRewound on a profile (only with --journal-store), set only when true: the
	// evidence journal's chain, when this operator process opened it, did not hold the head
	// published before in status.journalHeads (its last segments were deleted or replaced);
	// a journal.rewound record says which. It stays for the process's life.
	ConditionJournalRewound = "JournalRewound"
)

// Condition reasons. Each says what happened in a way a person can act on.
const (
	// ReasonEvaluated: the evaluation completed.
	ReasonEvaluated = "Evaluated"
	// ReasonUnknownCheck: the spec names a check ID that is neither built in nor custom.
	ReasonUnknownCheck = "UnknownCheck"
	// ReasonInvalidCustomCheck: a custom check's CEL expression does not compile, or its ID
	// collides with a built-in check.
	ReasonInvalidCustomCheck = "InvalidCustomCheck"
	// ReasonInvalidProfile: the spec holds a value the operator cannot use, such as an unknown
	// criterion or severity in a profile that did not pass through the API server's validation.
	ReasonInvalidProfile = "InvalidProfile"
	// ReasonInvalidSelector: the namespace or label selector cannot be parsed.
	ReasonInvalidSelector = "InvalidSelector"
	// ReasonNoNamespacesSelected: the profile's namespace selection (spec.namespaceSelector,
	// spec.excludedNamespaces, the system namespaces) matches no namespace, so no workload is
	// assessed; only the cluster-scoped objects are.
	ReasonNoNamespacesSelected = "NoNamespacesSelected"
	// ReasonEvaluationFailed: objects could not be gathered from the API server.
	ReasonEvaluationFailed = "EvaluationFailed"
	// ReasonWriteFailed: a report could not be written; the content shown is older.
	ReasonWriteFailed = "WriteFailed"
	// ReasonEvaluationOverdue: the last successful evaluation is older than twice the
	// profile's evaluation interval.
	ReasonEvaluationOverdue = "EvaluationOverdue"
	// ReasonUpToDate: the content reflects the latest evaluation.
	ReasonUpToDate = "UpToDate"
	// ReasonJournalUpToDate: every transition was written to the evidence journal.
	ReasonJournalUpToDate = "JournalUpToDate"
	// ReasonJournalStoreUnwritable: the journal's store is unreachable or refuses writes.
	ReasonJournalStoreUnwritable = "JournalStoreUnwritable"
	// ReasonPublishedHeadNotInChain: the chain ends before the published head, or holds
	// another segment under its sequence number.
	ReasonPublishedHeadNotInChain = "PublishedHeadNotInChain"

	// ReasonActive: the exception applies.
	ReasonActive = "Active"
	// ReasonExpired: the exception's expiry has passed.
	ReasonExpired = "Expired"
	// ReasonDeleted: the exception was deleted (it has a deletionTimestamp) and is held only
	// by finalizers: it ended when it was deleted (state Expired).
	ReasonDeleted = "Deleted"
	// ReasonNamespaceNotAllowed: the exception selects other namespaces but is not in the
	// operator's namespace.
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
	// ReasonPolicyViolation: the exception breaks a profile's exception policy (too long, or in
	// a tenant namespace where the profile honours only the operator's namespace).
	ReasonPolicyViolation = "PolicyViolation"
	// ReasonPendingApproval: the profile requires approval and the exception has none that the
	// operator can trust (none yet, or the admission policies that check approvals are missing).
	ReasonPendingApproval = "PendingApproval"

	// ReasonApprovalNotEnforced on a profile that requires approval: the admission policies that
	// record requesters and check approvals are missing or not as the operator expects, so
	// approvals are not trusted and exceptions stay PendingApproval.
	ReasonApprovalNotEnforced = "ApprovalNotEnforced"
	// ReasonInvalidMatch: the exception's label selector or a name or container pattern
	// cannot be parsed.
	ReasonInvalidMatch = "InvalidMatch"
	// ReasonNothingWaived: the exception names neither a check nor a criterion.
	ReasonNothingWaived = "NothingWaived"
	// ReasonMissingReason: the exception's spec.reason is empty.
	ReasonMissingReason = "MissingReason"
	// ReasonMissingOwner: the exception's spec.owner is empty.
	ReasonMissingOwner = "MissingOwner"
	// ReasonMissingExpiry: the exception's spec.expires is not set.
	ReasonMissingExpiry = "MissingExpiry"
	// ReasonUnknownCriterion: the exception names a SOC 2 criterion the operator does not know.
	ReasonUnknownCriterion = "UnknownCriterion"
	// ReasonExpiringSoon: the exception expires within the expiry warning.
	ReasonExpiringSoon = "ExpiringSoon"
	// ReasonNotExpiringSoon: the exception's expiry is further away than the expiry warning.
	ReasonNotExpiringSoon = "NotExpiringSoon"
	// ReasonCoveredAsApproved: the exception covers the findings it covered when approved, or
	// none.
	ReasonCoveredAsApproved = "CoveredAsApproved"
	// ReasonCoveredChanged: the exception has covered findings other than those it covered when
	// approved; an approver must review them and approve it again.
	ReasonCoveredChanged = "CoveredChanged"
	// ReasonCoverageNotRecorded: no evaluation has yet judged the exception with its approval,
	// so what the approval covers is not recorded yet.
	ReasonCoverageNotRecorded = "CoverageNotRecorded"

	// ReasonPolicyReportsUnavailable: the profile asks for PolicyReports but the API server does
	// not serve wgpolicyk8s.io/v1alpha2 (install the PolicyReport CRDs).
	ReasonPolicyReportsUnavailable = "PolicyReportsUnavailable"

	// ReasonKindsUnreadable: the operator's ServiceAccount may not list or watch some kinds its
	// checks judge or read; those checks say NotAssessed (grant the verbs and restart it).
	ReasonKindsUnreadable = "KindsUnreadable"
)
