// Package admissionpolicy holds the admission policies that make exceptions and reports
// trustworthy, and the controller that keeps them in the cluster and tells the reconcilers
// whether they are in force.
//
// The policies are built into kube-apiserver (admissionregistration.k8s.io/v1, CEL): no webhook
// server and no certificates.
//   - MutatingAdmissionPolicy soc2-operator-exception-requester records who created or last
//     changed a ControlException's spec (spec.requestedBy = the authenticated user) and removes
//     its approval when the spec changes.
//   - ValidatingAdmissionPolicy soc2-operator-exception-approval refuses a requestedBy that is
//     not the requesting user, and an approval that is not the approver's own, is the
//     requester's, comes with a spec change, or comes from a user who may not `approve`
//     controlexceptions in the namespace (the CertificateSigningRequest pattern).
//   - ValidatingAdmissionPolicy soc2-operator-report-writer lets only the operator create or
//     change ComplianceReports, and delete them only the operator, the garbage collector (a
//     report goes with its profile) and the namespace controller (with its namespace): not a
//     namespace admin, who holds every verb on them where OLM installed the operator, nor a
//     cluster admin (a report is evidence).
//   - ValidatingAdmissionPolicy soc2-operator-policyreport-writer lets only the operator create
//     or change PolicyReports and ClusterPolicyReports labelled as its own
//     (app.kubernetes.io/managed-by: soc2-operator), or take the label off one, or ones with a
//     result whose source is soc2-operator (Policy Reporter shows a result by its source,
//     whatever the report's labels), and OpenReports (openreports.io) of that source; other
//     tools' reports are not matched, and deletes stay allowed (the operator writes a deleted
//     report again at the next evaluation).
package admissionpolicy

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// Names of the policies; each binding has its policy's name.
const (
	ExceptionRequester = "soc2-operator-exception-requester"
	ExceptionApproval  = "soc2-operator-exception-approval"
	ReportWriter       = "soc2-operator-report-writer"
	PolicyReportWriter = "soc2-operator-policyreport-writer"
)

// FieldManager is the field manager of the operator's writes to the policies.
const FieldManager = "soc2-operator"

// ApproveVerb is the verb on controlexceptions/approval (ApprovalSubresource) that lets a user
// approve an exception.
const ApproveVerb = "approve"

// ApprovalSubresource is the subresource of controlexceptions the approve verb is checked on, as
// a CertificateSigningRequest's approval is on certificatesigningrequests/approval: a rule that
// grants every verb on controlexceptions (as OLM's OperatorGroup aggregates into admin for the
// CRDs an operator owns) does not grant it, since RBAC matches a subresource only by its own
// name or a "*" resource.
const ApprovalSubresource = "approval"

// ReportWriterMessage starts the refusal of a report write by anyone but the operator.
const ReportWriterMessage = "ComplianceReports are written only by the operator"

// ReportDeleteMessage starts the refusal of a report delete by anyone but the operator, the
// garbage collector and the namespace controller.
const ReportDeleteMessage = "ComplianceReports are deleted only by the operator, the garbage collector (with their profile) and the namespace controller (with their namespace)"

// PolicyReportWriterMessage starts the refusal of a write to the operator's PolicyReports by
// anyone else.
const PolicyReportWriterMessage = "PolicyReports labelled " + v1alpha1.LabelManagedBy + "=" + v1alpha1.ManagedBy + ", or with results of source " + policyreport.Source + ", are written only by the operator"

// DefaultServiceAccount is the operator's ServiceAccount in the default install: config/manager's
// controller-manager under config/default's namePrefix.
const DefaultServiceAccount = "soc2-operator-controller-manager"

// DefaultOperatorUser is the user name the operator authenticates as in the default install: its
// ServiceAccount in engine.DefaultAdminNamespace (`admission-policies --operator-user` defaults
// to it).
func DefaultOperatorUser() string {
	return serviceaccount.MakeUsername(engine.DefaultAdminNamespace, DefaultServiceAccount)
}

// garbageCollectors may change a report's metadata (owner references, finalizers) and delete it
// when its profile is deleted: the garbage collector runs as one of these users (k8s v1.37.2
// kube-controller-manager: its own user, or with --use-service-account-credentials the
// ServiceAccount its client builder names after the controller, cmd/kube-controller-manager/app
// core.go).
var garbageCollectors = []string{"system:kube-controller-manager", serviceaccount.MakeUsername("kube-system", "generic-garbage-collector")}

// reportDeleters may delete reports besides the operator: the garbage collector, and the
// namespace controller, which deletes every object of a namespace being deleted (as
// kube-controller-manager's own user, or its namespace-controller ServiceAccount, as above).
var reportDeleters = append(append([]string{}, garbageCollectors...), serviceaccount.MakeUsername("kube-system", "namespace-controller"))

var labels = map[string]string{
	"app.kubernetes.io/name": "soc2-operator",
	v1alpha1.LabelManagedBy:  v1alpha1.ManagedBy,
}

// Objects are the policies and their bindings, for an operator that authenticates as
// operatorUser. Policies come before their bindings.
func Objects(operatorUser string) []client.Object {
	fail := admissionv1.Fail
	exceptions := &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
		RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
			Rule: admissionv1.Rule{APIGroups: []string{v1alpha1.GroupVersion.Group}, APIVersions: []string{"*"},
				Resources: []string{"controlexceptions"}},
		},
	}}}
	reports := &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
		RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update, admissionv1.Delete},
			Rule: admissionv1.Rule{APIGroups: []string{v1alpha1.GroupVersion.Group}, APIVersions: []string{"*"},
				Resources: []string{"compliancereports", "compliancereports/status"}},
		},
	}}}
	specChanged := admissionv1.Variable{Name: "specChanged", Expression: SpecChangedExpression()}
	forbidden := metav1.StatusReasonForbidden
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Labels: labels} }
	// denyBinding binds the validating policy of that name everywhere, denying what it refuses.
	denyBinding := func(name string) *admissionv1.ValidatingAdmissionPolicyBinding {
		return &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: meta(name),
			Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: name,
				ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}}}
	}

	requester := &admissionv1.MutatingAdmissionPolicy{
		ObjectMeta: meta(ExceptionRequester),
		Spec: admissionv1.MutatingAdmissionPolicySpec{
			MatchConstraints:   exceptions,
			FailurePolicy:      &fail,
			ReinvocationPolicy: admissionv1.NeverReinvocationPolicy,
			Variables:          []admissionv1.Variable{specChanged},
			Mutations: []admissionv1.Mutation{{
				PatchType: admissionv1.PatchTypeJSONPatch,
				JSONPatch: &admissionv1.JSONPatch{Expression: `variables.specChanged
  ? [JSONPatch{op: "add", path: "/spec/requestedBy", value: request.userInfo.username}] +
    (has(object.approval) ? [JSONPatch{op: "remove", path: "/approval"}] : [])
  : (has(object.spec.requestedBy) == has(oldObject.spec.requestedBy) &&
     (!has(object.spec.requestedBy) || object.spec.requestedBy == oldObject.spec.requestedBy)
      ? []
      : (has(oldObject.spec.requestedBy)
          ? [JSONPatch{op: "add", path: "/spec/requestedBy", value: oldObject.spec.requestedBy}]
          : [JSONPatch{op: "remove", path: "/spec/requestedBy"}]))`},
			}},
		},
	}
	requesterBinding := &admissionv1.MutatingAdmissionPolicyBinding{
		ObjectMeta: meta(ExceptionRequester),
		Spec:       admissionv1.MutatingAdmissionPolicyBindingSpec{PolicyName: ExceptionRequester},
	}

	approval := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: meta(ExceptionApproval),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: exceptions,
			FailurePolicy:    &fail,
			Variables: []admissionv1.Variable{
				specChanged,
				{Name: "approvalChanged", Expression: `has(object.approval) &&
  (request.operation == "CREATE" || !has(oldObject.approval) || object.approval != oldObject.approval)`},
			},
			Validations: []admissionv1.Validation{
				{
					Expression: `!variables.specChanged ||
  (has(object.spec.requestedBy) && object.spec.requestedBy == request.userInfo.username)`,
					MessageExpression: `"spec.requestedBy must be the user who writes the spec (" + request.userInfo.username + "); it is recorded by the API server"`,
					Reason:            &forbidden,
				},
				{
					Expression: `variables.specChanged ||
  (has(object.spec.requestedBy) == has(oldObject.spec.requestedBy) &&
   (!has(object.spec.requestedBy) || object.spec.requestedBy == oldObject.spec.requestedBy))`,
					Message: "spec.requestedBy is recorded by the API server and cannot be changed",
					Reason:  &forbidden,
				},
				{
					Expression: `!variables.specChanged || !has(object.approval)`,
					Message:    "approval: an exception cannot be approved in the same write that creates or changes its spec; a changed spec must be approved again",
					Reason:     &forbidden,
				},
				{
					Expression:        `!variables.approvalChanged || object.approval.approvedBy == request.userInfo.username`,
					MessageExpression: `"approval.approvedBy must be your own user name (" + request.userInfo.username + "), not " + object.approval.approvedBy`,
					Reason:            &forbidden,
				},
				{
					Expression: `!variables.approvalChanged || has(object.spec.requestedBy)`,
					Message:    "approval: spec.requestedBy is empty (the exception predates the admission policies); change its spec so that the API server records its requester, then approve it",
					Reason:     &forbidden,
				},
				{
					Expression:        `!variables.approvalChanged || object.spec.requestedBy != request.userInfo.username`,
					MessageExpression: `"approval: " + request.userInfo.username + " requested this exception (spec.requestedBy) and cannot approve it; another approver must"`,
					Reason:            &forbidden,
				},
				{
					Expression: `!variables.approvalChanged ||
  authorizer.group("` + v1alpha1.GroupVersion.Group + `").resource("controlexceptions").subresource("` + ApprovalSubresource + `").namespace(object.metadata.namespace).name(object.metadata.name).check("` + ApproveVerb + `").allowed()`,
					MessageExpression: `"approval: user " + request.userInfo.username + " may not approve controlexceptions in namespace " + object.metadata.namespace + " (needs the verb approve on controlexceptions/approval, e.g. a RoleBinding to the ClusterRole soc2-operator-controlexception-approver-role)"`,
					Reason:            &forbidden,
				},
			},
		},
	}
	approvalBinding := denyBinding(ExceptionApproval)

	quoted := func(users []string) string {
		q := make([]string, len(users))
		for i, u := range users {
			q[i] = strconv.Quote(u)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	gcs := quoted(garbageCollectors)
	writer := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: meta(ReportWriter),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: reports,
			FailurePolicy:    &fail,
			Variables: []admissionv1.Variable{
				{Name: "operator", Expression: strconv.Quote(operatorUser)},
				{Name: "metadataOnly", Expression: `request.operation == "UPDATE" && object.spec == oldObject.spec &&
  has(object.status) == has(oldObject.status) && (!has(object.status) || object.status == oldObject.status)`},
			},
			Validations: []admissionv1.Validation{
				{
					Expression: `request.operation == "DELETE" || request.userInfo.username == variables.operator ||
  (variables.metadataOnly && request.userInfo.username in ` + gcs + `)`,
					MessageExpression: `"` + ReportWriterMessage + ` (" + variables.operator + "); " + request.userInfo.username + " may not write one"`,
					Reason:            &forbidden,
				},
				{
					// A deleted report comes back at once, but nothing would say it went, and
					// first-seen times the operator no longer remembers would start again.
					Expression: `request.operation != "DELETE" || request.userInfo.username == variables.operator ||
  request.userInfo.username in ` + quoted(reportDeleters),
					MessageExpression: `"` + ReportDeleteMessage + ` (" + variables.operator + "); " + request.userInfo.username + " may not delete one: delete its profile, or remove the namespace from its selection"`,
					Reason:            &forbidden,
				},
			},
		},
	}
	writerBinding := denyBinding(ReportWriter)
	// The operator's PolicyReports: the wgpolicyk8s.io CRDs may be missing (the policy then
	// matches nothing), and other tools write reports of their own there.
	ownLabel := func(o string) string {
		return o + ` != null && has(` + o + `.metadata.labels) && "` + v1alpha1.LabelManagedBy + `" in ` + o + `.metadata.labels && ` +
			o + `.metadata.labels["` + v1alpha1.LabelManagedBy + `"] == "` + v1alpha1.ManagedBy + `"`
	}
	// Policy Reporter groups and filters results by their source, whatever the report's labels:
	// an unlabelled report with a result of the operator's source reads as the operator's.
	// OpenReports (openreports.io, their successor, which Policy Reporter 3 and Kyverno 1.15 read
	// too) also have a source for the whole report.
	ownSource := func(o string) string {
		src := `"` + policyreport.Source + `"`
		return o + ` != null && (has(` + o + `.source) && ` + o + `.source == ` + src + ` ||
    has(` + o + `.results) && ` + o + `.results.exists(r, has(r.source) && r.source == ` + src + `))`
	}
	policyReports := &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
		RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
			Rule: admissionv1.Rule{APIGroups: []string{"wgpolicyk8s.io", "openreports.io"}, APIVersions: []string{"*"},
				Resources: []string{"policyreports", "clusterpolicyreports", "reports", "clusterreports"}},
		},
	}}}
	operatorsOwn := strings.Join([]string{ownLabel("object"), ownLabel("oldObject"), ownSource("object"), ownSource("oldObject")}, " ||\n  ")
	prWriter := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: meta(PolicyReportWriter),
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: policyReports,
			MatchConditions:  []admissionv1.MatchCondition{{Name: "operators-own", Expression: operatorsOwn}},
			FailurePolicy:    &fail,
			Variables:        []admissionv1.Variable{{Name: "operator", Expression: strconv.Quote(operatorUser)}},
			Validations: []admissionv1.Validation{{
				// The garbage collector changes metadata only (owner references, finalizers).
				Expression:        `request.userInfo.username == variables.operator || request.userInfo.username in ` + gcs,
				MessageExpression: `"` + PolicyReportWriterMessage + ` (" + variables.operator + "); " + request.userInfo.username + " may delete one but not write one"`,
				Reason:            &forbidden,
			}},
		},
	}
	prWriterBinding := denyBinding(PolicyReportWriter)
	return []client.Object{requester, requesterBinding, approval, approvalBinding, writer, writerBinding, prWriter, prWriterBinding}
}

// SpecChangedExpression is CEL that is true when a request creates a ControlException or
// changes its spec other than spec.requestedBy (which the policies themselves maintain: a
// client that re-applies a file without it does not change the spec). It compares every field
// of ControlExceptionSpec, so a field added to the spec is covered without editing this.
func SpecChangedExpression() string {
	var terms []string
	t := reflect.TypeFor[v1alpha1.ControlExceptionSpec]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "requestedBy" {
			continue
		}
		terms = append(terms, fmt.Sprintf(`has(object.spec.%[1]s) != has(oldObject.spec.%[1]s) ||
  (has(object.spec.%[1]s) && object.spec.%[1]s != oldObject.spec.%[1]s)`, name))
	}
	return `request.operation == "CREATE" ||` + "\n  " + strings.Join(terms, " ||\n  ")
}

// Kind returns the kind of one of the objects Objects returns, for messages.
func Kind(o client.Object) string {
	switch o.(type) {
	case *admissionv1.MutatingAdmissionPolicy:
		return "MutatingAdmissionPolicy"
	case *admissionv1.MutatingAdmissionPolicyBinding:
		return "MutatingAdmissionPolicyBinding"
	case *admissionv1.ValidatingAdmissionPolicy:
		return "ValidatingAdmissionPolicy"
	case *admissionv1.ValidatingAdmissionPolicyBinding:
		return "ValidatingAdmissionPolicyBinding"
	}
	return fmt.Sprintf("%T", o)
}

// YAML renders Objects(operatorUser) as a multi-document YAML stream with apiVersion and kind,
// ready for kubectl apply.
func YAML(operatorUser string) ([]byte, error) {
	var out []byte
	for i, o := range Objects(operatorUser) {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		delete(m, "status")
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		m["apiVersion"], m["kind"] = admissionv1.SchemeGroupVersion.String(), Kind(o)
		data, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("rendering %s %s: %w", Kind(o), o.GetName(), err)
		}
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, data...)
	}
	return out, nil
}
