package scan

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// The patterns of the CRDs (api/v1alpha1).
var (
	idPattern        = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	namespacePattern = regexp.MustCompile(`^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$`)
	kindPattern      = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	// exceptionKindPattern is a ControlException's match.kinds: a kind, or Kind.group.
	exceptionKindPattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	capabilityPattern    = regexp.MustCompile(`^[A-Z_]+$`)
	absolutePattern      = regexp.MustCompile(`^/`)
)

// crdRules gathers what the API server says of an object of this operator's kinds when it is
// created, rule by rule as the CRD's markers (api/v1alpha1) write them.
type crdRules struct{ errs field.ErrorList }

// meta is what the API server asks of every custom resource's metadata, whatever its CRD's
// schema (k8s.io/apiextensions-apiserver v0.37.2 pkg/registry/customresource/validator.go, which
// validates it as ValidateObjectMeta does): a name that is a DNS subdomain (NameIsDNSSubdomain), a
// namespace's that is a DNS label, valid labels, annotation keys (and annotations within 256 KiB),
// finalizers and ownerReferences.
func (r *crdRules) meta(m *metav1.ObjectMeta) {
	r.name(m)
	p := field.NewPath("metadata")
	r.errs = append(r.errs, metav1validation.ValidateLabels(m.Labels, p.Child("labels"))...)
	r.errs = append(r.errs, apimachineryvalidation.ValidateAnnotations(m.Annotations, p.Child("annotations"))...)
	r.errs = append(r.errs, apimachineryvalidation.ValidateFinalizers(m.Finalizers, p.Child("finalizers"))...)
	r.errs = append(r.errs, apimachineryvalidation.ValidateOwnerReferences(m.OwnerReferences, p.Child("ownerReferences"))...)
}

// name is what the API server asks of a custom resource's name and namespace.
func (r *crdRules) name(m *metav1.ObjectMeta) {
	p := field.NewPath("metadata")
	if m.Name != "" {
		for _, msg := range validation.IsDNS1123Subdomain(m.Name) {
			r.errs = append(r.errs, field.Invalid(p.Child("name"), m.Name, msg))
		}
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(m.GenerateName + "a") {
			r.errs = append(r.errs, field.Invalid(p.Child("generateName"), m.GenerateName, msg))
		}
	}
	if m.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(m.Namespace) {
			r.errs = append(r.errs, field.Invalid(p.Child("namespace"), m.Namespace, msg))
		}
	}
}

// strs is a list of type set: at most maxItems, each between minLen and maxLen characters
// (maxLen 0: no limit) and matching pattern, none twice.
func (r *crdRules) strs(p *field.Path, vals []string, maxItems, minLen, maxLen int, pattern *regexp.Regexp) {
	if len(vals) > maxItems {
		r.errs = append(r.errs, field.TooMany(p, len(vals), maxItems))
	}
	seen := map[string]bool{}
	for i, v := range vals {
		r.text(p.Index(i), v, minLen, maxLen, pattern)
		if seen[v] {
			r.errs = append(r.errs, field.Duplicate(p.Index(i), v))
		}
		seen[v] = true
	}
}

// keyed is a list of type map of n items keyed by field key (key(i) is item i's): at most
// maxItems, each key between 1 and 63 characters matching idPattern, none twice. It returns the
// keys seen.
func (r *crdRules) keyed(p *field.Path, n, maxItems int, keyField string, key func(i int) string) map[string]bool {
	if n > maxItems {
		r.errs = append(r.errs, field.TooMany(p, n, maxItems))
	}
	seen := make(map[string]bool, n)
	for i := range n {
		k := key(i)
		r.text(p.Index(i).Child(keyField), k, 1, 63, idPattern)
		if seen[k] {
			r.errs = append(r.errs, field.Duplicate(p.Index(i), k))
		}
		seen[k] = true
	}
	return seen
}

// text is a string between minLen and maxLen characters (maxLen 0: no limit) matching pattern.
func (r *crdRules) text(p *field.Path, v string, minLen, maxLen int, pattern *regexp.Regexp) {
	switch n := utf8.RuneCountInString(v); {
	case n < minLen:
		r.errs = append(r.errs, field.Invalid(p, v, fmt.Sprintf("should be at least %d chars long", minLen)))
	case maxLen > 0 && n > maxLen:
		r.errs = append(r.errs, field.TooLongMaxLength(p, v, maxLen))
	case pattern != nil && !pattern.MatchString(v):
		r.errs = append(r.errs, field.Invalid(p, v, fmt.Sprintf("should match '%s'", pattern)))
	}
}

// noControl is the CEL rule !self.matches('[\x00-\x1f\x7f-\x9f]'), or with breaksAllowed
// '[\x00-\x08\x0b-\x1f\x7f-\x9f]' (a tab and a line feed let through).
func (r *crdRules) noControl(p *field.Path, v string, breaksAllowed bool, message string) {
	for _, c := range v {
		if breaksAllowed && (c == '\t' || c == '\n') {
			continue
		}
		if c <= 0x1f || c >= 0x7f && c <= 0x9f {
			r.errs = append(r.errs, field.Invalid(p, v, message))
			return
		}
	}
}

// url is the CEL rule self.startsWith('https://') || self.startsWith('http://').
func (r *crdRules) url(p *field.Path, v, message string) {
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		r.errs = append(r.errs, field.Invalid(p, v, message))
	}
}

// enum is a value among those allowed, or none ("").
func (r *crdRules) enum(p *field.Path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	if v != "" {
		r.errs = append(r.errs, field.NotSupported(p, v, allowed))
	}
}

// between is a duration's CEL rule duration(self) >= min && duration(self) <= max.
func (r *crdRules) between(p *field.Path, d *metav1.Duration, minimum, maximum time.Duration, message string) {
	if d != nil && (d.Duration < minimum || d.Duration > maximum) {
		r.errs = append(r.errs, field.Invalid(p, d.Duration.String(), message))
	}
}

// refusedByCRD lists what the API server says when the exception is created: the rules of a
// custom resource's name and namespace, and the ControlException CRD's schema and CEL rules,
// which an exceptions file never met in Git. The operator never sees an exception the API server
// refused, so it waives nothing in the cluster and must waive nothing in scan: a reason of
// "because" (under 10 characters) or an owner with a tab was applied by scan and refused by
// kubectl apply. TestExceptionsTheCRDRefusesAreNotApplied holds each rule to the CRD's own
// validators. The rule that a spec names a check or a criterion, a missing reason, owner or
// expiry and a criterion that is not SOC 2's (the CRD's enum) are the engine's to judge:
// Invalid, with the field named, as before.
func refusedByCRD(ex *v1alpha1.ControlException) field.ErrorList {
	var r crdRules
	r.meta(&ex.ObjectMeta)
	spec := field.NewPath("spec")
	s := &ex.Spec
	r.strs(spec.Child("checks"), s.Checks, 64, 0, 63, idPattern)
	r.strs(spec.Child("criteria"), criteriaStrings(s.Criteria), 32, 0, 0, nil)
	// A missing reason or owner is the engine's (Invalid, "needs a reason"), as a missing
	// expiry is.
	if s.Reason != "" {
		r.text(spec.Child("reason"), s.Reason, 10, 2048, nil)
		r.noControl(spec.Child("reason"), s.Reason, true,
			"reason must not hold control characters other than line breaks and tabs (an escape, a carriage return, a backspace)")
	}
	if s.Owner != "" {
		r.text(spec.Child("owner"), s.Owner, 1, 256, nil)
		r.noControl(spec.Child("owner"), s.Owner, false,
			"owner must not hold control characters (a tab, a line break, an escape): kubectl get lists it in a column")
	}
	r.text(spec.Child("requestedBy"), s.RequestedBy, 0, 512, nil)
	r.noControl(spec.Child("requestedBy"), s.RequestedBy, false,
		"requestedBy must not hold control characters (a tab, a line break, an escape): kubectl get lists it in a column")
	if s.Ticket != "" {
		r.text(spec.Child("ticket"), s.Ticket, 0, 2048, nil)
		r.url(spec.Child("ticket"), s.Ticket, "ticket must be an http:// or https:// URL")
	}
	r.strs(spec.Child("profiles"), s.Profiles, 32, 0, 253, nil)
	m := spec.Child("match")
	r.strs(m.Child("namespaces"), s.Match.Namespaces, 64, 0, 63, namespacePattern)
	r.strs(m.Child("kinds"), s.Match.Kinds, 16, 0, 317, exceptionKindPattern)
	r.strs(m.Child("names"), s.Match.Names, 64, 1, 253, nil)
	r.strs(m.Child("containers"), s.Match.Containers, 32, 1, 253, nil)
	if a := ex.Approval; a != nil {
		p := field.NewPath("approval")
		r.text(p.Child("approvedBy"), a.ApprovedBy, 1, 512, nil)
		r.text(p.Child("comment"), a.Comment, 0, 2048, nil)
		r.noControl(p.Child("comment"), a.Comment, true,
			"comment must not hold control characters other than line breaks and tabs (an escape, a carriage return, a backspace)")
	}
	return r.errs
}

func criteriaStrings(cs []v1alpha1.Criterion) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

var severities = []string{"Critical", "High", "Medium", "Low"}

// profileRefusedByCRD lists what the API server says when the profile is applied: a custom
// resource's name rules and the ComplianceProfile CRD's schema and CEL rules. The cluster keeps
// no such profile, or keeps the version before it, while scan judged under the refused one: a
// profile disabling wl-privileged with minReplicas 0 beside it passed a privileged Deployment in
// scan, while kubectl apply refused it and the operator went on failing it. Unknown checks,
// severities, criteria, Pod Security levels and custom checks that do not compile are the
// engine's to report (plan problems), as before.
func profileRefusedByCRD(p *v1alpha1.ComplianceProfile) field.ErrorList {
	var r crdRules
	r.meta(&p.ObjectMeta)
	if utf8.RuneCountInString(p.Name) > 63 {
		r.errs = append(r.errs, field.Invalid(field.NewPath("metadata", "name"), p.Name,
			"a profile's name is at most 63 characters: it names and labels the ComplianceReports"))
	}
	spec := field.NewPath("spec")
	s := &p.Spec
	r.text(spec.Child("description"), s.Description, 0, 1024, nil)
	r.strs(spec.Child("excludedNamespaces"), s.ExcludedNamespaces, 256, 0, 63, idPattern)
	r.strs(spec.Child("criteria"), criteriaStrings(s.Criteria), 32, 0, 0, nil)
	ids := r.keyed(spec.Child("checks"), len(s.Checks), 256, "id", func(i int) string { return s.Checks[i].ID })
	for i, o := range s.Checks {
		p := spec.Child("checks").Index(i)
		if o.Enabled == nil && o.Severity == "" {
			r.errs = append(r.errs, field.Invalid(p, o.ID, "a check override must set enabled or severity"))
		}
	}
	r.keyed(spec.Child("customChecks"), len(s.CustomChecks), 64, "id", func(i int) string { return s.CustomChecks[i].ID })
	for i, c := range s.CustomChecks {
		p := spec.Child("customChecks").Index(i)
		if ids[c.ID] {
			r.errs = append(r.errs, field.Invalid(spec, c.ID,
				"a custom check's id must not also appear in checks: set a custom check's severity in the custom check itself"))
		}
		r.text(p.Child("title"), c.Title, 1, 256, nil)
		r.text(p.Child("description"), c.Description, 0, 2048, nil)
		r.text(p.Child("expression"), c.Expression, 1, 4096, nil)
		r.text(p.Child("message"), c.Message, 0, 1024, nil)
		r.text(p.Child("remediation"), c.Remediation, 0, 2048, nil)
		if len(c.Kinds) == 0 {
			r.errs = append(r.errs, field.Required(p.Child("kinds"), "should have at least 1 items"))
		}
		r.strs(p.Child("kinds"), c.Kinds, 16, 0, 0, kindPattern)
		if len(c.Criteria) == 0 {
			r.errs = append(r.errs, field.Required(p.Child("criteria"), "should have at least 1 items"))
		}
		r.strs(p.Child("criteria"), criteriaStrings(c.Criteria), 16, 0, 0, nil)
		r.enum(p.Child("severity"), string(c.Severity), severities...)
	}
	if pa := s.Parameters; pa != nil {
		p := spec.Child("parameters")
		r.strs(p.Child("allowedRegistries"), pa.AllowedRegistries, 128, 1, 253, nil)
		r.strs(p.Child("requiredLabels"), pa.RequiredLabels, 32, 1, 317, nil)
		r.strs(p.Child("allowedCapabilities"), pa.AllowedCapabilities, 64, 0, 0, capabilityPattern)
		if len(pa.AllowedHostPorts) > 64 {
			r.errs = append(r.errs, field.TooMany(p.Child("allowedHostPorts"), len(pa.AllowedHostPorts), 64))
		}
		seen := map[int32]bool{}
		for i, port := range pa.AllowedHostPorts {
			if port < 1 || port > 65535 {
				r.errs = append(r.errs, field.Invalid(p.Child("allowedHostPorts").Index(i), port, "should be between 1 and 65535"))
			}
			if seen[port] {
				r.errs = append(r.errs, field.Duplicate(p.Child("allowedHostPorts").Index(i), port))
			}
			seen[port] = true
		}
		if m := pa.MinReplicas; m != nil && (*m < 1 || *m > 100) {
			r.errs = append(r.errs, field.Invalid(p.Child("minReplicas"), *m, "should be between 1 and 100"))
		}
	}
	if s.MaxFindings != 0 && (s.MaxFindings < 1 || s.MaxFindings > 500) {
		r.errs = append(r.errs, field.Invalid(spec.Child("maxFindings"), s.MaxFindings, "should be between 1 and 500"))
	}
	r.between(spec.Child("evaluationInterval"), s.EvaluationInterval, time.Minute, 24*time.Hour,
		"evaluationInterval must be between 1m and 24h")
	if e := s.Enforcement; e != nil {
		r.enum(spec.Child("enforcement", "mode"), string(e.Mode), "Audit", "Warn", "Enforce")
		r.enum(spec.Child("enforcement", "severity"), string(e.Severity), severities...)
	}
	if a := s.Alerts; a != nil {
		p := spec.Child("alerts")
		if len(a.Sinks) == 0 {
			r.errs = append(r.errs, field.Required(p.Child("sinks"), "should have at least 1 items"))
		}
		r.keyed(p.Child("sinks"), len(a.Sinks), 8, "name", func(i int) string { return a.Sinks[i].Name })
		for i, k := range a.Sinks {
			p := p.Child("sinks").Index(i)
			if k.Type == "" {
				r.errs = append(r.errs, field.Required(p.Child("type"), ""))
			}
			r.enum(p.Child("type"), string(k.Type), "Webhook", "Slack")
			if (k.URL != "") == (k.URLFile != "") {
				r.errs = append(r.errs, field.Invalid(p, k.Name, "exactly one of url and urlFile must be set"))
			}
			if k.URL != "" {
				r.text(p.Child("url"), k.URL, 0, 2048, nil)
				r.url(p.Child("url"), k.URL, "url must be an http:// or https:// URL")
			}
			if k.URLFile != "" {
				r.text(p.Child("urlFile"), k.URLFile, 0, 1024, absolutePattern)
			}
			events := make([]string, len(k.Events))
			for j, e := range k.Events {
				events[j] = string(e)
				r.enum(p.Child("events").Index(j), events[j], "NewFinding", "NamespaceNonCompliant", "ExceptionExpired", "ExceptionExpiring")
			}
			r.strs(p.Child("events"), events, len(events), 0, 0, nil)
		}
		r.enum(p.Child("minSeverity"), string(a.MinSeverity), severities...)
		r.between(p.Child("expiryWarning"), a.ExpiryWarning, time.Hour, 720*time.Hour, "expiryWarning must be between 1h and 720h")
	}
	return r.errs
}
