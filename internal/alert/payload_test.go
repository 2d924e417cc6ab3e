package alert

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

func TestWebhookReceivesTheDocumentedJSON(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{webhook("hook", rcv.URL)}})
	start(t, d)

	d.Send(Alert{
		Event: v1alpha1.AlertNewFinding, Profile: profile, Namespace: "team-a", Severity: v1alpha1.SeverityCritical,
		Check: "wl-privileged", Criteria: []v1alpha1.Criterion{"CC6.1", "CC6.8"},
		Resource:  v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a", Name: "web"},
		Container: "app", Message: "Container app runs privileged\n(securityContext.privileged: true)",
		Time: time.Date(2026, 3, 4, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
	})

	got := rcv.next(t)
	if got.method != "POST" {
		t.Errorf("Method %s, want POST", got.method)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if ua := got.header.Get("User-Agent"); ua != "soc2-operator" {
		t.Errorf("User-Agent %q, want soc2-operator", ua)
	}
	jsonEqual(t, got.body, `{
		"kind": "soc2-operator.alert",
		"version": "v1",
		"key": "NewFinding/`+profile+`/team-a/wl-privileged/Deployment/web/app/2026-03-04T08:30:00Z",
		"event": "NewFinding",
		"profile": "`+profile+`",
		"namespace": "team-a",
		"severity": "Critical",
		"check": "wl-privileged",
		"criteria": ["CC6.1", "CC6.8"],
		"resource": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "team-a", "name": "web"},
		"container": "app",
		"message": "Container app runs privileged\n(securityContext.privileged: true)",
		"time": "2026-03-04T08:30:00Z",
		"summary": "New Critical finding under profile `+profile+`: Deployment team-a/web (container app) fails check wl-privileged: Container app runs privileged (securityContext.privileged: true)."
	}`)
}

func TestWebhookOmitsEmptyFields(t *testing.T) {
	body, err := payload(v1alpha1.SinkWebhook, Alert{
		Event: v1alpha1.AlertExceptionExpiring, Profile: "soc2", Namespace: "team-a", Exception: "team-a/allow-root",
		Expires: time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC), Time: testNow, Key: "k",
	})
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, body, `{
		"kind": "soc2-operator.alert",
		"version": "v1",
		"key": "k",
		"event": "ExceptionExpiring",
		"profile": "soc2",
		"namespace": "team-a",
		"exception": "team-a/allow-root",
		"expires": "2026-03-07T00:00:00Z",
		"time": "2026-03-04T10:00:00Z",
		"summary": "Exception team-a/allow-root honoured by profile soc2 expires at 2026-03-07T00:00:00Z."
	}`)
}

func TestSlackReceivesText(t *testing.T) {
	profile := profileName(t)
	rcv := newReceiver(t, nil)
	d := NewDispatcher(testOptions(&sleeper{}, &logBuffer{}))
	d.Configure(profile, &v1alpha1.Alerts{Sinks: []v1alpha1.AlertSink{{Name: "slack", Type: v1alpha1.SinkSlack, URL: rcv.URL}}})
	start(t, d)

	a := finding(profile, "k", v1alpha1.SeverityHigh)
	a.Message = "image <none> & tag latest"
	d.Send(a)

	got := rcv.next(t)
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(got.body, &body); err != nil {
		t.Fatalf("The body is not JSON: %v\n%s", err, got.body)
	}
	want := "*soc2-operator NewFinding*\nNew High finding under profile " + profile +
		": Deployment team-a/web fails check wl-privileged: image &lt;none&gt; &amp; tag latest."
	if len(body) != 1 || body["text"] != want {
		t.Errorf("Slack got %s\nwant {\"text\": %q}", got.body, want)
	}
}

func TestSummary(t *testing.T) {
	expires := time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
	deployment := v1alpha1.ResourceRef{Kind: "Deployment", Namespace: "team-a", Name: "web"}
	tests := map[string]struct {
		alert Alert
		want  string
	}{
		"a new finding names its severity, resource, container, check and message": {
			alert: Alert{Event: v1alpha1.AlertNewFinding, Profile: "soc2", Severity: v1alpha1.SeverityHigh, Check: "wl-run-as-root",
				Resource: deployment, Container: "app", Message: "Runs as root."},
			want: "New High finding under profile soc2: Deployment team-a/web (container app) fails check wl-run-as-root: Runs as root.",
		},
		"a new finding its resource left unread says it was not assessed and fails closed": {
			alert: Alert{Event: v1alpha1.AlertNewFinding, Profile: "soc2", Severity: v1alpha1.SeverityHigh, Result: v1alpha1.ResultNotAssessed,
				Check: "sec-literal-env-credentials", Resource: deployment, Container: "app",
				Message: "env values past the first 32 KiB not read for literal credentials"},
			want: "New High finding under profile soc2: Deployment team-a/web (container app) was not assessed by check sec-literal-env-credentials, " +
				"which fails closed: env values past the first 32 KiB not read for literal credentials.",
		},
		"a new finding on a cluster-scoped object names the object alone": {
			alert: Alert{Event: v1alpha1.AlertNewFinding, Profile: "soc2", Severity: v1alpha1.SeverityCritical, Check: "rbac-cluster-admin-binding",
				Resource: v1alpha1.ResourceRef{Kind: "ClusterRoleBinding", Name: "everyone-admin"}},
			want: "New Critical finding under profile soc2: ClusterRoleBinding everyone-admin fails check rbac-cluster-admin-binding.",
		},
		"a namespace that became non-compliant is named with the message": {
			alert: Alert{Event: v1alpha1.AlertNamespaceNonCompliant, Profile: "soc2", Namespace: "team-a", Message: "3 High findings"},
			want:  "Namespace team-a became NonCompliant under profile soc2: 3 High findings.",
		},
		"the cluster-scoped objects becoming non-compliant are named as such": {
			alert: Alert{Event: v1alpha1.AlertNamespaceNonCompliant, Profile: "soc2"},
			want:  "The cluster-scoped objects became NonCompliant under profile soc2.",
		},
		"an expired exception names what it covered": {
			alert: Alert{Event: v1alpha1.AlertExceptionExpired, Profile: "soc2", Exception: "team-a/allow-root", Expires: expires,
				Check: "wl-run-as-root", Resource: deployment},
			want: "Exception team-a/allow-root honoured by profile soc2 expired at 2026-03-07T00:00:00Z; it covered check wl-run-as-root on Deployment team-a/web.",
		},
		"an expiring exception gives its expiry in UTC": {
			alert: Alert{Event: v1alpha1.AlertExceptionExpiring, Profile: "soc2", Exception: "team-a/allow-root",
				Expires: expires.In(time.FixedZone("EST", -5*3600))},
			want: "Exception team-a/allow-root honoured by profile soc2 expires at 2026-03-07T00:00:00Z.",
		},
		"a revoked exception says it was deleted before its expiry": {
			alert: Alert{Event: v1alpha1.AlertExceptionRevoked, Profile: "soc2", Namespace: "team-a", Exception: "team-a/allow-root", Expires: expires,
				Message: "allow-root (owner dev@example.com) waived checks wl-run-as-root: Migrating."},
			want: "Exception team-a/allow-root honoured by profile soc2 was deleted before its expiry at 2026-03-07T00:00:00Z: allow-root (owner dev@example.com) waived checks wl-run-as-root: Migrating.",
		},
		"an exception that covers other findings than approved says so": {
			alert: Alert{Event: v1alpha1.AlertExceptionCoveredChanged, Profile: "soc2", Namespace: "team-a", Exception: "team-a/by-label", Expires: expires,
				Message: "by-label (owner dev@example.com, approved by ciso@example.com) covers sha256:2, not sha256:1 as approved"},
			want: "Exception team-a/by-label honoured by profile soc2 covers findings it did not cover when approved: by-label (owner dev@example.com, approved by ciso@example.com) covers sha256:2, not sha256:1 as approved.",
		},
		"a multi-line message becomes one line": {
			alert: Alert{Event: v1alpha1.AlertNamespaceNonCompliant, Profile: "soc2", Namespace: "team-a", Message: "first\n\tsecond  third"},
			want:  "Namespace team-a became NonCompliant under profile soc2: first second third.",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Summary(tc.alert); got != tc.want {
				t.Errorf("Summary\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestDefaultKeyOfARevocationHoldsItsTime: an exception deleted, created again under its name
// with the same expiry and deleted again is a second revocation, which sinks must not take for
// the first.
func TestDefaultKeyOfARevocationHoldsItsTime(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	a := Alert{Event: v1alpha1.AlertExceptionRevoked, Profile: "soc2", Exception: "team-a/allow-root", Expires: at.AddDate(0, 1, 0), Time: at}
	b := a
	b.Time = at.Add(time.Hour)
	if DefaultKey(a) == DefaultKey(b) {
		t.Errorf("two revocations an hour apart share the key %q", DefaultKey(a))
	}
	if want := "ExceptionRevoked/soc2/team-a/allow-root/2026-03-01T10:00:00Z"; DefaultKey(a) != want {
		t.Errorf("key %q, want %q", DefaultKey(a), want)
	}
}

// TestDefaultKeyOfACoveredChangeHoldsItsTime: an exception moved onto other findings, approved
// again and moved again is a second change, which sinks must not take for the first.
func TestDefaultKeyOfACoveredChangeHoldsItsTime(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	a := Alert{Event: v1alpha1.AlertExceptionCoveredChanged, Profile: "soc2", Exception: "team-a/by-label", Expires: at.AddDate(0, 1, 0), Time: at}
	b := a
	b.Time = at.Add(time.Hour)
	if DefaultKey(a) == DefaultKey(b) {
		t.Errorf("two changes an hour apart share the key %q", DefaultKey(a))
	}
	if want := "ExceptionCoveredChanged/soc2/team-a/by-label/2026-03-01T10:00:00Z"; DefaultKey(a) != want {
		t.Errorf("key %q, want %q", DefaultKey(a), want)
	}
}

func TestDefaultKeyIgnoresSubSecondTime(t *testing.T) {
	a := finding("soc2", "", v1alpha1.SeverityHigh)
	a.Time = testNow.Add(123 * time.Millisecond)
	b := a
	b.Time = testNow.In(time.FixedZone("CET", 3600))
	if DefaultKey(a) != DefaultKey(b) {
		t.Errorf("A time read back from the API server gives another key: %q, %q", DefaultKey(a), DefaultKey(b))
	}
	if want := "NewFinding/soc2/team-a/wl-privileged/Deployment/web//2026-03-04T10:00:00Z"; DefaultKey(a) != want {
		t.Errorf("DefaultKey %q, want %q", DefaultKey(a), want)
	}
}

// TestDefaultKeyTellsGroupsApart: Istio's Gateway edge and the Gateway API's Gateway edge, first
// seen at the same second, are two findings and two alerts; a sink deduplicating by key must not
// drop the second. Kubernetes' own groups keep the bare kind, as keys of earlier releases have it.
func TestDefaultKeyTellsGroupsApart(t *testing.T) {
	istio := finding("soc2", "", v1alpha1.SeverityMedium)
	istio.Check = "net-service-exposure"
	istio.Resource = v1alpha1.ResourceRef{APIVersion: "networking.istio.io/v1", Kind: "Gateway", Namespace: "team-a", Name: "edge"}
	gatewayAPI := istio
	gatewayAPI.Resource.APIVersion = "gateway.networking.k8s.io/v1"
	if DefaultKey(istio) == DefaultKey(gatewayAPI) {
		t.Errorf("both Gateways have key %q", DefaultKey(istio))
	}
	if want := "NewFinding/soc2/team-a/net-service-exposure/Gateway/edge//2026-03-04T10:00:00Z"; DefaultKey(gatewayAPI) != want {
		t.Errorf("DefaultKey of the Gateway API's Gateway %q, want %q", DefaultKey(gatewayAPI), want)
	}
	if want := "NewFinding/soc2/team-a/net-service-exposure/Gateway.networking.istio.io/edge//2026-03-04T10:00:00Z"; DefaultKey(istio) != want {
		t.Errorf("DefaultKey of Istio's Gateway %q, want %q", DefaultKey(istio), want)
	}
}

// TestAnUnreadFindingsResultIsSentAndKept: a NewFinding on what the operator did not read of a
// resource carries "result": "NotAssessed" in the Webhook payload, and keeps it through the
// Lease that holds what a sink has not delivered (a Fail's alert would read the same otherwise).
func TestAnUnreadFindingsResultIsSentAndKept(t *testing.T) {
	a := Alert{Event: v1alpha1.AlertNewFinding, Profile: "soc2", Namespace: "team-a", Severity: v1alpha1.SeverityHigh,
		Result: v1alpha1.ResultNotAssessed, Check: "sec-literal-env-credentials",
		Resource:  v1alpha1.ResourceRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a", Name: "web"},
		Container: "app", Message: "not read", Time: testNow, Key: "k"}
	body, err := payload(v1alpha1.SinkWebhook, a)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got["result"] != "NotAssessed" {
		t.Errorf("payload result %v, want NotAssessed: %s", got["result"], body)
	}
	data, _, err := EncodePending([]Pending{{Sink: "ops", Alert: a}}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodePending(data)
	if err != nil || len(back) != 1 || back[0].Alert.Result != v1alpha1.ResultNotAssessed {
		t.Errorf("kept and read back: %+v, %v", back, err)
	}
}
