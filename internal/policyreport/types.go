// Package policyreport renders evaluations as PolicyReports and ClusterPolicyReports
// (wgpolicyk8s.io/v1alpha2), the format Policy Reporter, Kyverno and other tools of the
// Kubernetes Policy Working Group read. It is pure: the same evaluation and options give the
// same reports, so the operator can compare and write only on change.
//
// The types mirror github.com/kyverno/kyverno/api/policyreport/v1alpha2 (v1.19.1, Apache-2.0)
// field for field and tag for tag; the CRDs they are served by are in config/policyreport,
// copied from the same module, so controller-gen must not generate CRDs from this package.
//
// +kubebuilder:skip
package policyreport

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of both report kinds.
	GroupVersion = schema.GroupVersion{Group: "wgpolicyk8s.io", Version: "v1alpha2"}

	// SchemeBuilder registers PolicyReport and ClusterPolicyReport (and their lists) with a
	// scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the report kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&PolicyReport{}, &PolicyReportList{},
		&ClusterPolicyReport{}, &ClusterPolicyReportList{},
	)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}

// Kinds.
const (
	KindPolicyReport        = "PolicyReport"
	KindClusterPolicyReport = "ClusterPolicyReport"
)

// PolicyResult is the outcome of a policy rule: pass, fail, warn, error or skip.
type PolicyResult string

// Results.
const (
	// StatusPass means the policy requirements are met.
	StatusPass PolicyResult = "pass"
	// StatusFail means the policy requirements are not met.
	StatusFail PolicyResult = "fail"
	// StatusWarn means the requirements are not met and the policy is not scored.
	StatusWarn PolicyResult = "warn"
	// StatusError means the policy could not be evaluated.
	StatusError PolicyResult = "error"
	// StatusSkip means the policy was not selected, or not applied, for this resource.
	StatusSkip PolicyResult = "skip"
)

// PolicySeverity is how much a result matters: critical, high, medium, low or info.
type PolicySeverity string

// Severities.
const (
	SeverityCritical PolicySeverity = "critical"
	SeverityHigh     PolicySeverity = "high"
	SeverityMedium   PolicySeverity = "medium"
	SeverityLow      PolicySeverity = "low"
	SeverityInfo     PolicySeverity = "info"
)

// Summary counts the results of a report by outcome.
type Summary struct {
	// pass is the count of results whose requirements were met.
	// +optional
	Pass int `json:"pass"`
	// fail is the count of results whose requirements were not met.
	// +optional
	Fail int `json:"fail"`
	// warn is the count of non-scored results whose requirements were not met.
	// +optional
	Warn int `json:"warn"`
	// error is the count of results that could not be evaluated.
	// +optional
	Error int `json:"error"`
	// skip is the count of results that were not selected for evaluation.
	// +optional
	Skip int `json:"skip"`
}

// Result is the outcome of one policy rule (for soc2-operator: one check, on one resource and
// container).
type Result struct {
	// source identifies the engine that manages the report.
	// +optional
	Source string `json:"source"`
	// policy is the name or identifier of the policy.
	// +required
	Policy string `json:"policy"`
	// rule is the name or identifier of the rule within the policy.
	// +optional
	Rule string `json:"rule,omitempty"`
	// resources are the resources checked, when they are not the report's scope.
	// +optional
	Resources []corev1.ObjectReference `json:"resources,omitempty"`
	// resourceSelector selects the resources checked, when they are not the report's scope.
	// +optional
	ResourceSelector *metav1.LabelSelector `json:"resourceSelector,omitempty"`
	// message is a short message for people.
	// +optional
	Message string `json:"message,omitempty"`
	// result is the outcome: pass, fail, warn, error or skip.
	// +optional
	Result PolicyResult `json:"result,omitempty"`
	// scored says whether the result is scored.
	// +optional
	Scored bool `json:"scored,omitempty"`
	// properties carry further information about the result.
	// +optional
	Properties map[string]string `json:"properties,omitempty"`
	// timestamp is when the result was found.
	// +optional
	Timestamp metav1.Timestamp `json:"timestamp,omitempty"`
	// category is the policy's category.
	// +optional
	Category string `json:"category,omitempty"`
	// severity is how much the result matters: critical, high, medium, low or info.
	// +optional
	Severity PolicySeverity `json:"severity,omitempty"`
}

// PolicyReport holds the results of policies on namespaced resources.
type PolicyReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// scope is the resource the report is about (a Deployment, a Namespace, a Node).
	// +optional
	Scope *corev1.ObjectReference `json:"scope,omitempty"`
	// scopeSelector selects several resources the report is about; not set with scope.
	// +optional
	ScopeSelector *metav1.LabelSelector `json:"scopeSelector,omitempty"`
	// summary counts the results by outcome.
	// +optional
	Summary Summary `json:"summary,omitempty"`
	// results are the results.
	// +optional
	Results []Result `json:"results,omitempty"`
}

// PolicyReportList is a list of PolicyReports.
type PolicyReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PolicyReport `json:"items"`
}

// ClusterPolicyReport holds the results of policies on cluster-scoped resources.
type ClusterPolicyReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// scope is the resource the report is about (a ClusterRole, a Namespace, a Node).
	// +optional
	Scope *corev1.ObjectReference `json:"scope,omitempty"`
	// scopeSelector selects several resources the report is about; not set with scope.
	// +optional
	ScopeSelector *metav1.LabelSelector `json:"scopeSelector,omitempty"`
	// summary counts the results by outcome.
	// +optional
	Summary Summary `json:"summary,omitempty"`
	// results are the results.
	// +optional
	Results []Result `json:"results,omitempty"`
}

// ClusterPolicyReportList is a list of ClusterPolicyReports.
type ClusterPolicyReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterPolicyReport `json:"items"`
}

// Object is a PolicyReport or a ClusterPolicyReport. It has the method set of
// controller-runtime's client.Object, so it can be created, read and updated with a client.
type Object interface {
	metav1.Object
	runtime.Object
	// GetScope is the resource the report is about.
	GetScope() *corev1.ObjectReference
	// GetScopeSelector selects the resources the report is about, when it has no scope.
	GetScopeSelector() *metav1.LabelSelector
	// GetSummary counts the results by outcome.
	GetSummary() Summary
	// GetResults are the results.
	GetResults() []Result
}

var (
	_ Object = &PolicyReport{}
	_ Object = &ClusterPolicyReport{}
)

// GetScope is the resource the report is about.
func (r *PolicyReport) GetScope() *corev1.ObjectReference { return r.Scope }

// GetScopeSelector selects the resources the report is about, when it has no scope.
func (r *PolicyReport) GetScopeSelector() *metav1.LabelSelector { return r.ScopeSelector }

// GetSummary counts the results by outcome.
func (r *PolicyReport) GetSummary() Summary { return r.Summary }

// GetResults are the results.
func (r *PolicyReport) GetResults() []Result { return r.Results }

// GetScope is the resource the report is about.
func (r *ClusterPolicyReport) GetScope() *corev1.ObjectReference { return r.Scope }

// GetScopeSelector selects the resources the report is about, when it has no scope.
func (r *ClusterPolicyReport) GetScopeSelector() *metav1.LabelSelector { return r.ScopeSelector }

// GetSummary counts the results by outcome.
func (r *ClusterPolicyReport) GetSummary() Summary { return r.Summary }

// GetResults are the results.
func (r *ClusterPolicyReport) GetResults() []Result { return r.Results }

// DeepCopyInto copies the summary into out.
func (in *Summary) DeepCopyInto(out *Summary) { *out = *in }

// DeepCopyInto copies the result into out, sharing nothing.
func (in *Result) DeepCopyInto(out *Result) {
	*out = *in
	if in.Resources != nil {
		out.Resources = make([]corev1.ObjectReference, len(in.Resources))
		copy(out.Resources, in.Resources) // ObjectReference holds only strings
	}
	out.ResourceSelector = in.ResourceSelector.DeepCopy()
	if in.Properties != nil {
		out.Properties = make(map[string]string, len(in.Properties))
		for k, v := range in.Properties {
			out.Properties[k] = v
		}
	}
}

// DeepCopy returns a copy of the result that shares nothing with it.
func (in *Result) DeepCopy() *Result {
	if in == nil {
		return nil
	}
	out := new(Result)
	in.DeepCopyInto(out)
	return out
}

func copyResults(in []Result) []Result {
	if in == nil {
		return nil
	}
	out := make([]Result, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}

// DeepCopyInto copies the report into out, sharing nothing.
func (in *PolicyReport) DeepCopyInto(out *PolicyReport) {
	*out = *in
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Scope = in.Scope.DeepCopy()
	out.ScopeSelector = in.ScopeSelector.DeepCopy()
	out.Results = copyResults(in.Results)
}

// DeepCopy returns a copy of the report that shares nothing with it.
func (in *PolicyReport) DeepCopy() *PolicyReport {
	if in == nil {
		return nil
	}
	out := new(PolicyReport)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *PolicyReport) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}

// DeepCopyInto copies the list into out, sharing nothing.
func (in *PolicyReportList) DeepCopyInto(out *PolicyReportList) {
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]PolicyReport, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopy returns a copy of the list that shares nothing with it.
func (in *PolicyReportList) DeepCopy() *PolicyReportList {
	if in == nil {
		return nil
	}
	out := new(PolicyReportList)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *PolicyReportList) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}

// DeepCopyInto copies the report into out, sharing nothing.
func (in *ClusterPolicyReport) DeepCopyInto(out *ClusterPolicyReport) {
	*out = *in
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Scope = in.Scope.DeepCopy()
	out.ScopeSelector = in.ScopeSelector.DeepCopy()
	out.Results = copyResults(in.Results)
}

// DeepCopy returns a copy of the report that shares nothing with it.
func (in *ClusterPolicyReport) DeepCopy() *ClusterPolicyReport {
	if in == nil {
		return nil
	}
	out := new(ClusterPolicyReport)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *ClusterPolicyReport) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}

// DeepCopyInto copies the list into out, sharing nothing.
func (in *ClusterPolicyReportList) DeepCopyInto(out *ClusterPolicyReportList) {
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]ClusterPolicyReport, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopy returns a copy of the list that shares nothing with it.
func (in *ClusterPolicyReportList) DeepCopy() *ClusterPolicyReportList {
	if in == nil {
		return nil
	}
	out := new(ClusterPolicyReportList)
	in.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (in *ClusterPolicyReportList) DeepCopyObject() runtime.Object {
	if c := in.DeepCopy(); c != nil {
		return c
	}
	return nil
}
