package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// WebhookPayload is the JSON document a Webhook sink receives. Empty fields are omitted;
// times are UTC RFC 3339. Receivers should ignore fields they do not know: new ones may be
// added within version v1.
//
//	{
//	  "kind": "soc2-operator.alert",        always
//	  "version": "v1",                      always
//	  "key": "NewFinding/soc2/team-a/...",  identity of the transition, for receivers that dedupe
//	  "event": "NewFinding",                NewFinding, NamespaceNonCompliant, ExceptionExpired, ExceptionExpiring, ExceptionRevoked, ExceptionCoveredChanged
//	  "profile": "soc2",
//	  "namespace": "team-a",
//	  "severity": "High",                   NewFinding
//	  "result": "Fail",                     NewFinding: Fail, or NotAssessed for what the operator did not read of the resource (it fails closed)
//	  "check": "wl-privileged",
//	  "criteria": ["CC6.1", "CC6.8"],
//	  "resource": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "team-a", "name": "web"},
//	  "container": "app",
//	  "message": "container app runs privileged",
//	  "exception": "team-a/allow-root",     ExceptionExpired, ExceptionExpiring, ExceptionRevoked, ExceptionCoveredChanged
//	  "expires": "2026-01-02T15:04:05Z",    ExceptionExpired, ExceptionExpiring, ExceptionRevoked, ExceptionCoveredChanged
//	  "time": "2026-01-01T10:00:00Z",       when the transition happened
//	  "summary": "New High finding under profile soc2: Deployment team-a/web (container app) fails check wl-privileged: container app runs privileged."
//	}
type WebhookPayload struct {
	Kind      string                `json:"kind"`
	Version   string                `json:"version"`
	Key       string                `json:"key,omitempty"`
	Event     v1alpha1.AlertEvent   `json:"event"`
	Profile   string                `json:"profile,omitempty"`
	Namespace string                `json:"namespace,omitempty"`
	Severity  v1alpha1.Severity     `json:"severity,omitempty"`
	Result    v1alpha1.CheckResult  `json:"result,omitempty"`
	Check     string                `json:"check,omitempty"`
	Criteria  []v1alpha1.Criterion  `json:"criteria,omitempty"`
	Resource  *v1alpha1.ResourceRef `json:"resource,omitempty"`
	Container string                `json:"container,omitempty"`
	Message   string                `json:"message,omitempty"`
	Exception string                `json:"exception,omitempty"`
	Expires   string                `json:"expires,omitempty"`
	Time      string                `json:"time,omitempty"`
	Summary   string                `json:"summary"`
}

// Webhook payload identification.
const (
	PayloadKind    = "soc2-operator.alert"
	PayloadVersion = "v1"
)

// NewWebhookPayload describes a for a Webhook sink.
func NewWebhookPayload(a Alert) WebhookPayload {
	p := WebhookPayload{
		Kind:      PayloadKind,
		Version:   PayloadVersion,
		Key:       a.Key,
		Event:     a.Event,
		Profile:   a.Profile,
		Namespace: a.Namespace,
		Severity:  a.Severity,
		Result:    a.Result,
		Check:     a.Check,
		Criteria:  a.Criteria,
		Container: a.Container,
		Message:   a.Message,
		Exception: a.Exception,
		Expires:   payloadTime(a.Expires),
		Time:      payloadTime(a.Time),
		Summary:   Summary(a),
	}
	if a.Resource != (v1alpha1.ResourceRef{}) {
		r := a.Resource
		p.Resource = &r
	}
	return p
}

func payloadTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// SlackPayload is the message a Slack sink receives: an incoming-webhook message whose text
// is two lines of mrkdwn, the event in bold and then the Summary.
type SlackPayload struct {
	Text string `json:"text"`
}

// NewSlackPayload describes a for a Slack incoming webhook.
func NewSlackPayload(a Alert) SlackPayload {
	return SlackPayload{Text: "*soc2-operator " + slackEscape(string(a.Event)) + "*\n" + slackEscape(Summary(a))}
}

// slackEscape escapes the three characters Slack's mrkdwn gives a meaning to in plain text.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// payload is the request body for a sink of type t.
func payload(t v1alpha1.AlertSinkType, a Alert) ([]byte, error) {
	switch t {
	case v1alpha1.SinkWebhook:
		return json.Marshal(NewWebhookPayload(a))
	case v1alpha1.SinkSlack:
		return json.Marshal(NewSlackPayload(a))
	}
	return nil, fmt.Errorf("unknown sink type %q", t)
}
