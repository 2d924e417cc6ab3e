// Package alert delivers notifications about compliance state transitions to the sinks a
// ComplianceProfile configures (spec.alerts).
//
// The reconcilers detect transitions and call Dispatcher.Send; this package makes delivery
// reliable without ever blocking them: each sink has its own bounded queue and worker, failed
// deliveries are retried with exponential backoff, and a transition (Alert.Key) that was
// already delivered to a sink, or is on its way, is not sent to it again.
//
// Delivery is at least once per process: a request that times out may have reached the
// receiver and is sent again, and the memory of delivered keys does not survive a restart or
// a change of leader. Webhook receivers that must not see duplicates dedupe on the payload's
// "key".
package alert

import (
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Alert is one state transition to tell the profile's sinks about.
type Alert struct {
	// Event is what happened.
	Event v1alpha1.AlertEvent
	// Profile is the ComplianceProfile whose sinks receive the alert.
	Profile string
	// Namespace is the namespace the alert is about: the finding's or report's namespace, or
	// the exception's. Empty for cluster-scoped objects.
	Namespace string
	// Severity is the finding's effective severity (NewFinding).
	Severity v1alpha1.Severity
	// Result is the finding's result (NewFinding): Fail, or NotAssessed for a result its
	// resource left undecided, which counts as failing (v1alpha1.Finding.Result): what the
	// operator did not read of it (a literal credential padded past what it reads), or a
	// custom check's expression it stopped or broke. Empty is Fail.
	Result v1alpha1.CheckResult
	// Check is the check ID, when the alert is about a check.
	Check string
	// Criteria are the SOC 2 criteria the check supports.
	Criteria []v1alpha1.Criterion
	// Resource is the object the finding is about, when there is one.
	Resource v1alpha1.ResourceRef
	// Container is the container the finding is about, if any.
	Container string
	// Message explains the alert in the check's or reconciler's words.
	Message string
	// Exception is the ControlException as namespace/name (ExceptionExpired, ExceptionExpiring,
	// ExceptionRevoked).
	Exception string
	// Expires is when the exception expires or expired (ExceptionExpired, ExceptionExpiring).
	Expires time.Time
	// Time is when the transition happened: the finding's firstSeen for NewFinding, the
	// report's transition time for NamespaceNonCompliant. Zero means the time of Send.
	Time time.Time
	// Key identifies the transition: an alert whose Key a sink already received, or is
	// receiving, is not sent to that sink again. Empty means DefaultKey.
	Key string
}

// DefaultKey is the identity of the transition an alert describes, from its fields:
//
//	NewFinding             NewFinding/<profile>/<namespace>/<check>/<kind>/<name>/<container>/<time>
//	NamespaceNonCompliant  NamespaceNonCompliant/<profile>/<namespace>/<time>
//	ExceptionExpired       ExceptionExpired/<profile>/<exception>/<expires>
//	ExceptionExpiring      ExceptionExpiring/<profile>/<exception>/<expires>
//	ExceptionRevoked       ExceptionRevoked/<profile>/<exception>/<time>
//	ExceptionCoveredChanged ExceptionCoveredChanged/<profile>/<exception>/<time>
//
// <kind> is the kind alone in Kubernetes' own API groups and kind.group in any other
// (Gateway.networking.istio.io), so that objects of one kind name in two groups have two keys
// (engine.IdentityKind).
//
// Times are UTC RFC 3339 at second precision, the precision of metav1.Time, so a time read
// back from the API server gives the same key as the one that was written. It relies on Time
// being the time of the transition (firstSeen, lastTransitionTime), not the time of detection.
func DefaultKey(a Alert) string {
	var parts []string
	switch a.Event {
	case v1alpha1.AlertNewFinding:
		parts = []string{a.Profile, a.Namespace, a.Check, engine.IdentityKind(a.Resource.APIVersion, a.Resource.Kind), a.Resource.Name, a.Container, keyTime(a.Time)}
	case v1alpha1.AlertExceptionExpired, v1alpha1.AlertExceptionExpiring:
		parts = []string{a.Profile, a.Exception, keyTime(a.Expires)}
	case v1alpha1.AlertExceptionRevoked, v1alpha1.AlertExceptionCoveredChanged:
		parts = []string{a.Profile, a.Exception, keyTime(a.Time)}
	default:
		parts = []string{a.Profile, a.Namespace, keyTime(a.Time)}
	}
	return string(a.Event) + "/" + strings.Join(parts, "/")
}

func keyTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Summary is the alert as one plain-text sentence, the same for every sink: the event, the
// namespace or resource, the check, the message and the profile.
func Summary(a Alert) string {
	var b strings.Builder
	switch a.Event {
	case v1alpha1.AlertNewFinding:
		b.WriteString("New ")
		if a.Severity != "" {
			b.WriteString(string(a.Severity) + " ")
		}
		b.WriteString("finding under profile " + a.Profile + ": ")
		b.WriteString(subject(a))
		if a.Result == v1alpha1.ResultNotAssessed {
			// Not read (or not judged) by the operator, by the resource's own making: a failure
			// as far as the reports go, and the message names what was not read.
			b.WriteString(" was not assessed")
			if a.Check != "" {
				b.WriteString(" by check " + a.Check)
			}
			b.WriteString(", which fails closed")
		} else {
			b.WriteString(" fails")
			if a.Check != "" {
				b.WriteString(" check " + a.Check)
			}
		}
	case v1alpha1.AlertNamespaceNonCompliant:
		b.WriteString(capitalise(namespacePhrase(a.Namespace)) + " became NonCompliant under profile " + a.Profile)
	case v1alpha1.AlertExceptionExpired, v1alpha1.AlertExceptionExpiring:
		b.WriteString("Exception " + a.Exception + " honoured by profile " + a.Profile)
		if a.Event == v1alpha1.AlertExceptionExpired {
			b.WriteString(" expired")
		} else {
			b.WriteString(" expires")
		}
		if !a.Expires.IsZero() {
			b.WriteString(" at " + a.Expires.UTC().Format(time.RFC3339))
		}
		if a.Check != "" {
			if a.Event == v1alpha1.AlertExceptionExpired {
				b.WriteString("; it covered check " + a.Check)
			} else {
				b.WriteString("; it covers check " + a.Check)
			}
			if a.Resource.Name != "" {
				b.WriteString(" on " + subject(a))
			}
		}
	case v1alpha1.AlertExceptionRevoked:
		b.WriteString("Exception " + a.Exception + " honoured by profile " + a.Profile + " was deleted")
		if !a.Expires.IsZero() {
			b.WriteString(" before its expiry at " + a.Expires.UTC().Format(time.RFC3339))
		}
		if a.Check != "" {
			b.WriteString("; it waived check " + a.Check)
		}
	case v1alpha1.AlertExceptionCoveredChanged:
		b.WriteString("Exception " + a.Exception + " honoured by profile " + a.Profile + " covers findings it did not cover when approved")
	default:
		b.WriteString(string(a.Event) + " under profile " + a.Profile)
		if a.Resource.Name != "" {
			b.WriteString(" for " + subject(a))
		} else if a.Namespace != "" {
			b.WriteString(" for " + namespacePhrase(a.Namespace))
		}
	}
	if m := oneLine(a.Message); m != "" {
		b.WriteString(": " + m)
	}
	s := b.String()
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// subject names the resource: "Deployment team-a/web (container app)".
func subject(a Alert) string {
	r := a.Resource
	if r.Name == "" {
		return namespacePhrase(a.Namespace)
	}
	s := r.Name
	if r.Namespace != "" {
		s = r.Namespace + "/" + r.Name
	}
	if r.Kind != "" {
		s = r.Kind + " " + s
	}
	if a.Container != "" {
		s += " (container " + a.Container + ")"
	}
	return s
}

func namespacePhrase(ns string) string {
	if ns == "" {
		return "the cluster-scoped objects"
	}
	return "namespace " + ns
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// oneLine collapses runs of white space, newlines included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
