package scan

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// The patterns of the ControlException CRD (api/v1alpha1/controlexception_types.go).
var (
	checkIDPattern   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	namespacePattern = regexp.MustCompile(`^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$`)
	kindPattern      = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
)

// refusedByCRD lists what the API server says when the exception is created: the rules of a
// custom resource's name and namespace, and the ControlException CRD's schema and CEL rules,
// which an exceptions file never met in Git. The operator never sees
// an exception the API server refused, so it waives nothing in the cluster and must waive
// nothing in scan: a reason of "because" (under 10 characters) or an owner with a tab was
// applied by scan and refused by kubectl apply. TestExceptionsTheCRDRefusesAreNotApplied holds
// each rule to the CRD's own validators. The rule that a spec names a check or a criterion, a
// missing reason, owner or expiry and a criterion that is not SOC 2's (the CRD's enum) are the
// engine's to judge: Invalid, with the field named, as before.
func refusedByCRD(ex *v1alpha1.ControlException) field.ErrorList {
	var errs field.ErrorList
	// What the API server asks of every custom resource's name (NameIsDNSSubdomain) and of a
	// namespace's.
	meta := field.NewPath("metadata")
	if ex.Name != "" {
		for _, msg := range validation.IsDNS1123Subdomain(ex.Name) {
			errs = append(errs, field.Invalid(meta.Child("name"), ex.Name, msg))
		}
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(ex.GenerateName + "a") {
			errs = append(errs, field.Invalid(meta.Child("generateName"), ex.GenerateName, msg))
		}
	}
	if ex.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(ex.Namespace) {
			errs = append(errs, field.Invalid(meta.Child("namespace"), ex.Namespace, msg))
		}
	}
	spec := field.NewPath("spec")
	s := &ex.Spec
	strs := func(p *field.Path, vals []string, maxItems, minLen, maxLen int, pattern *regexp.Regexp) {
		if len(vals) > maxItems {
			errs = append(errs, field.TooMany(p, len(vals), maxItems))
		}
		seen := map[string]bool{}
		for i, v := range vals {
			switch n := utf8.RuneCountInString(v); {
			case n < minLen:
				errs = append(errs, field.Invalid(p.Index(i), v, fmt.Sprintf("should be at least %d chars long", minLen)))
			case maxLen > 0 && n > maxLen:
				errs = append(errs, field.TooLongMaxLength(p.Index(i), v, maxLen))
			case pattern != nil && !pattern.MatchString(v):
				errs = append(errs, field.Invalid(p.Index(i), v, fmt.Sprintf("should match '%s'", pattern)))
			}
			if seen[v] {
				errs = append(errs, field.Duplicate(p.Index(i), v))
			}
			seen[v] = true
		}
	}
	text := func(p *field.Path, v string, minLen, maxLen int, breaksAllowed bool, rule string) {
		switch n := utf8.RuneCountInString(v); {
		case n < minLen:
			errs = append(errs, field.Invalid(p, v, fmt.Sprintf("should be at least %d chars long", minLen)))
		case n > maxLen:
			errs = append(errs, field.TooLongMaxLength(p, v, maxLen))
		}
		if rule != "" && hasControl(v, breaksAllowed) {
			errs = append(errs, field.Invalid(p, v, rule))
		}
	}

	strs(spec.Child("checks"), s.Checks, 64, 0, 63, checkIDPattern)
	criteria := make([]string, len(s.Criteria))
	for i, c := range s.Criteria {
		criteria[i] = string(c)
	}
	strs(spec.Child("criteria"), criteria, 32, 0, 0, nil)
	// A missing reason or owner is the engine's (Invalid, "needs a reason"), as a missing
	// expiry is.
	if s.Reason != "" {
		text(spec.Child("reason"), s.Reason, 10, 2048, true,
			"reason must not hold control characters other than line breaks and tabs (an escape, a carriage return, a backspace)")
	}
	if s.Owner != "" {
		text(spec.Child("owner"), s.Owner, 1, 256, false,
			"owner must not hold control characters (a tab, a line break, an escape): kubectl get lists it in a column")
	}
	text(spec.Child("requestedBy"), s.RequestedBy, 0, 512, false,
		"requestedBy must not hold control characters (a tab, a line break, an escape): kubectl get lists it in a column")
	if s.Ticket != "" {
		text(spec.Child("ticket"), s.Ticket, 0, 2048, false, "")
		if !strings.HasPrefix(s.Ticket, "https://") && !strings.HasPrefix(s.Ticket, "http://") {
			errs = append(errs, field.Invalid(spec.Child("ticket"), s.Ticket, "ticket must be an http:// or https:// URL"))
		}
	}
	strs(spec.Child("profiles"), s.Profiles, 32, 0, 253, nil)
	m := spec.Child("match")
	strs(m.Child("namespaces"), s.Match.Namespaces, 64, 0, 63, namespacePattern)
	strs(m.Child("kinds"), s.Match.Kinds, 16, 0, 0, kindPattern)
	strs(m.Child("names"), s.Match.Names, 64, 1, 253, nil)
	strs(m.Child("containers"), s.Match.Containers, 32, 1, 253, nil)
	if a := ex.Approval; a != nil {
		p := field.NewPath("approval")
		text(p.Child("approvedBy"), a.ApprovedBy, 1, 512, false, "")
		text(p.Child("comment"), a.Comment, 0, 2048, true,
			"comment must not hold control characters other than line breaks and tabs (an escape, a carriage return, a backspace)")
	}
	return errs
}

// hasControl reports whether s holds a character of the CRD's rules [\x00-\x1f\x7f-\x9f], or,
// with breaksAllowed, of [\x00-\x08\x0b-\x1f\x7f-\x9f] (a tab and a line feed let through).
func hasControl(s string, breaksAllowed bool) bool {
	for _, r := range s {
		if breaksAllowed && (r == '\t' || r == '\n') {
			continue
		}
		if r <= 0x1f || r >= 0x7f && r <= 0x9f {
			return true
		}
	}
	return false
}
