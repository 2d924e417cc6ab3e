package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

var (
	cfg *rest.Config
	// testEnv is the API server the tests run against, for a kubeconfig of the real kubectl.
	testEnv *envtest.Environment
)

func TestMain(m *testing.M) {
	env, c, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg, testEnv = c, env
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping envtest:", err)
	}
	os.Exit(code)
}

func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func decode(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("decoding test object: %v", err)
	}
	return u
}

// TestSamplesAreAccepted applies every sample in config/samples to the real API server: the
// schema must never forbid what the documentation shows.
func TestSamplesAreAccepted(t *testing.T) {
	c := newClient(t)
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "samples", "compliance_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			u := decode(t, string(data))
			if ns := u.GetNamespace(); ns != "" {
				ensureNamespace(t, c, ns)
			}
			if err := c.Create(context.Background(), u); err != nil {
				t.Fatalf("the API server rejected %s: %v", f, err)
			}
			t.Cleanup(func() { _ = c.Delete(context.Background(), u) })
		})
	}
}

const validException = `
apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ControlException
metadata: {name: x, namespace: validation}
spec:
  checks: [wl-privileged]
  reason: The node agent needs host access to collect metrics.
  owner: platform@example.com
  expires: "2027-01-01T00:00:00Z"
`

const validProfile = `
apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ComplianceProfile
metadata: {name: x}
spec: {}
`

// profileWithPodSecurity is validProfile asking for a Pod Security Standards level and version.
func profileWithPodSecurity(level, version string) string {
	return strings.Replace(validProfile, "spec: {}", "spec: {podSecurity: {level: "+level+", version: "+version+"}}", 1)
}

// TestInvalidObjectsAreRejected shows that mistakes are stopped at `kubectl apply` with a
// message a person understands. Each case edits a valid object; the valid ones are accepted.
func TestInvalidObjectsAreRejected(t *testing.T) {
	c := newClient(t)
	ensureNamespace(t, c, "validation")

	type edit func(spec map[string]any)
	cases := map[string]struct {
		base    string
		name    string // replaces metadata.name when set
		edit    edit
		message string
	}{
		"an exception without a reason": {
			base: validException, edit: func(s map[string]any) { delete(s, "reason") },
			message: `spec.reason: Required value`,
		},
		"an exception without an owner": {
			base: validException, edit: func(s map[string]any) { delete(s, "owner") },
			message: `spec.owner: Required value`,
		},
		"an exception without an expiry": {
			base: validException, edit: func(s map[string]any) { delete(s, "expires") },
			message: `spec.expires: Required value`,
		},
		"an exception that names no check and no criterion": {
			base: validException, edit: func(s map[string]any) { delete(s, "checks") },
			message: `an exception must name at least one check or criterion`,
		},
		"an exception with an empty check list": {
			base: validException, edit: func(s map[string]any) { s["checks"] = []any{} },
			message: `an exception must name at least one check or criterion`,
		},
		"an exception for a criterion that is not SOC 2": {
			base: validException, edit: func(s map[string]any) { s["criteria"] = []any{"CC9.9"} },
			message: `spec.criteria[0]: Unsupported value: "CC9.9"`,
		},
		"an exception with a one-word reason": {
			base: validException, edit: func(s map[string]any) { s["reason"] = "because" },
			message: `spec.reason: Invalid value: "because": spec.reason in body should be at least 10 chars long`,
		},
		"an exception with a malformed check ID": {
			base: validException, edit: func(s map[string]any) { s["checks"] = []any{"WL_Privileged"} },
			message: `spec.checks[0]: Invalid value: "WL_Privileged": spec.checks[0] in body should match`,
		},
		"an exception whose ticket is not a URL": {
			base: validException, edit: func(s map[string]any) { s["ticket"] = "PAY-142" },
			message: `spec.ticket: Invalid value: "PAY-142": ticket must be an http:// or https:// URL`,
		},
		// `kubectl get controlexceptions` lists owner and requestedBy in columns (OWNER, REQUESTER,
		// APPROVER): kubectl separates its columns with tabs and escapes neither tabs nor the
		// line's other controls in a cell, so a tab in the owner put "dev" under REQUESTER and
		// "ciso" under APPROVER, an approver of an exception nobody had approved.
		"an exception whose owner holds tabs": {
			base: validException, edit: func(s map[string]any) { s["owner"] = "team-a\tdev@example.com\tciso@example.com" },
			message: `spec.owner: Invalid value: "team-a\tdev@example.com\tciso@example.com": owner must not hold control characters`,
		},
		"an exception whose owner holds an escape": {
			base: validException, edit: func(s map[string]any) { s["owner"] = "team-a\x1b[8m" },
			message: `spec.owner: Invalid value: "team-a\x1b[8m": owner must not hold control characters`,
		},
		"an exception whose requester holds a tab": {
			base: validException, edit: func(s map[string]any) { s["requestedBy"] = "dev@example.com\tciso@example.com" },
			message: `spec.requestedBy: Invalid value: "dev@example.com\tciso@example.com": requestedBy must not hold control characters`,
		},
		// kubectl describe shows the reason escaping only ESC and CR; the evidence pack's CSVs keep
		// it as written.
		"an exception whose reason holds an escape": {
			base: validException, edit: func(s map[string]any) { s["reason"] = "vendor agent\x1b[1A\x1b[2K needs host access" },
			message: `spec.reason: Invalid value: "vendor agent\x1b[1A\x1b[2K needs host access": reason must not hold control characters`,
		},
		"an exception whose reason holds backspaces": {
			base: validException, edit: func(s map[string]any) { s["reason"] = "reviewed by nobody\b\b\b\b\b\bsecurity" },
			message: `reason must not hold control characters`,
		},
		"an exception whose expiry is not a time": {
			base: validException, edit: func(s map[string]any) { s["expires"] = "next tuesday" },
			message: `spec.expires: Invalid value: "next tuesday": spec.expires in body must be of type date-time`,
		},
		// The date-time format admits these; Go's RFC 3339 parser, which decodes the operator's
		// ControlExceptions, does not: one stored made every list of exceptions fail.
		"an exception whose expiry has a lower-case t and z": {
			base: validException, edit: func(s map[string]any) { s["expires"] = "2027-01-01t00:00:00z" },
			message: `spec.expires: Invalid value: "2027-01-01t00:00:00z": spec.expires in body should match`,
		},
		"an exception whose expiry has a letter before its fraction": {
			base: validException, edit: func(s map[string]any) { s["expires"] = "2027-01-01T00:00:00x5Z" },
			message: `spec.expires: Invalid value: "2027-01-01T00:00:00x5Z": spec.expires in body should match`,
		},
		"an exception whose expiry has an offset of 99 minutes": {
			base: validException, edit: func(s map[string]any) { s["expires"] = "2027-01-01T00:00:00+01:99" },
			message: `spec.expires: Invalid value: "2027-01-01T00:00:00+01:99": spec.expires in body should match`,
		},
		"an exception matching a kind in a group in capitals": {
			base: validException, edit: func(s map[string]any) { s["match"] = map[string]any{"kinds": []any{"Gateway.Networking.istio.io"}} },
			message: `spec.match.kinds[0]: Invalid value: "Gateway.Networking.istio.io": spec.match.kinds[0] in body should match`,
		},
		"an exception matching a lower-case kind": {
			base: validException, edit: func(s map[string]any) { s["match"] = map[string]any{"kinds": []any{"deployment"}} },
			message: `spec.match.kinds[0]: Invalid value: "deployment": spec.match.kinds[0] in body should match`,
		},
		"a custom check without an expression": {
			base: validProfile, edit: func(s map[string]any) {
				s["customChecks"] = []any{map[string]any{"id": "c", "title": "t", "kinds": []any{"Pod"}, "criteria": []any{"CC6.1"}}}
			},
			message: `spec.customChecks[0].expression: Required value`,
		},
		"a custom check without criteria": {
			base: validProfile, edit: func(s map[string]any) {
				s["customChecks"] = []any{map[string]any{"id": "c", "title": "t", "kinds": []any{"Pod"}, "expression": "true"}}
			},
			message: `spec.customChecks[0].criteria: Required value`,
		},
		"a custom check without kinds": {
			base: validProfile, edit: func(s map[string]any) {
				s["customChecks"] = []any{map[string]any{"id": "c", "title": "t", "kinds": []any{}, "expression": "true", "criteria": []any{"CC6.1"}}}
			},
			message: `spec.customChecks[0].kinds: Invalid value: 0: spec.customChecks[0].kinds in body should have at least 1 items`,
		},
		"a custom check with a severity that does not exist": {
			base: validProfile, edit: func(s map[string]any) {
				s["customChecks"] = []any{map[string]any{"id": "c", "title": "t", "kinds": []any{"Pod"}, "expression": "true", "criteria": []any{"CC6.1"}, "severity": "Severe"}}
			},
			message: `spec.customChecks[0].severity: Unsupported value: "Severe": supported values: "Critical", "High", "Medium", "Low"`,
		},
		"a custom check that shadows an overridden check": {
			base: validProfile, edit: func(s map[string]any) {
				s["checks"] = []any{map[string]any{"id": "c", "enabled": false}}
				s["customChecks"] = []any{map[string]any{"id": "c", "title": "t", "kinds": []any{"Pod"}, "expression": "true", "criteria": []any{"CC6.1"}}}
			},
			message: `a custom check's id must not also appear in checks`,
		},
		"an evaluation interval shorter than a minute": {
			base: validProfile, edit: func(s map[string]any) { s["evaluationInterval"] = "10s" },
			message: `spec.evaluationInterval: Invalid value: "10s": evaluationInterval must be between 1m and 24h`,
		},
		"an evaluation interval longer than a day": {
			base: validProfile, edit: func(s map[string]any) { s["evaluationInterval"] = "48h" },
			message: `evaluationInterval must be between 1m and 24h`,
		},
		"an evaluation interval that is not a duration": {
			base: validProfile, edit: func(s map[string]any) { s["evaluationInterval"] = "hourly" },
			message: `spec.evaluationInterval: Invalid value: "hourly": spec.evaluationInterval in body should match`,
		},
		"a findings limit of zero": {
			base: validProfile, edit: func(s map[string]any) { s["maxFindings"] = 0 },
			message: `spec.maxFindings: Invalid value: 0: spec.maxFindings in body should be greater than or equal to 1`,
		},
		"a findings limit that would bloat reports": {
			base: validProfile, edit: func(s map[string]any) { s["maxFindings"] = 5000 },
			message: `spec.maxFindings: Invalid value: 5000: spec.maxFindings in body should be less than or equal to 500`,
		},
		"a check override that changes nothing": {
			base: validProfile, edit: func(s map[string]any) { s["checks"] = []any{map[string]any{"id": "wl-privileged"}} },
			message: `spec.checks[0]: Invalid value: a check override must set enabled or severity`,
		},
		"the same check overridden twice": {
			base: validProfile, edit: func(s map[string]any) {
				s["checks"] = []any{map[string]any{"id": "wl-privileged", "enabled": false}, map[string]any{"id": "wl-privileged", "severity": "Low"}}
			},
			message: `spec.checks[1]: Duplicate value: {"id":"wl-privileged"}`,
		},
		"an exception policy allowing exceptions for years": {
			base: validProfile, edit: func(s map[string]any) { s["exceptionPolicy"] = map[string]any{"maxDuration": "17520h"} },
			message: `maxDuration must be between 1h and 8760h (a year)`,
		},
		"an exception policy waiving a severity that does not exist": {
			base: validProfile, edit: func(s map[string]any) { s["exceptionPolicy"] = map[string]any{"maxSeverity": "Severe"} },
			message: `spec.exceptionPolicy.maxSeverity: Unsupported value: "Severe": supported values: "Critical", "High", "Medium", "Low"`,
		},
		"an exception whose requester is longer than any user name": {
			base: validException, edit: func(s map[string]any) { s["requestedBy"] = strings.Repeat("u", 513) },
			message: `spec.requestedBy: Too long: may not be more than 512 bytes`,
		},
		"an excluded namespace that cannot exist": {
			base: validProfile, edit: func(s map[string]any) { s["excludedNamespaces"] = []any{"Team_A"} },
			message: `spec.excludedNamespaces[0]: Invalid value: "Team_A": spec.excludedNamespaces[0] in body should match`,
		},
		"a profile scoped to a criterion that is not SOC 2": {
			base: validProfile, edit: func(s map[string]any) { s["criteria"] = []any{"ISO27001"} },
			message: `spec.criteria[0]: Unsupported value: "ISO27001"`,
		},
		"an enforcement mode that does not exist": {
			base: validProfile, edit: func(s map[string]any) { s["enforcement"] = map[string]any{"mode": "Block"} },
			message: `spec.enforcement.mode: Unsupported value: "Block": supported values: "Audit", "Warn", "Enforce"`,
		},
		"an alert sink with both a URL and a URL file": {
			base: validProfile, edit: func(s map[string]any) {
				s["alerts"] = map[string]any{"sinks": []any{map[string]any{"name": "slack", "type": "Slack",
					"url": "https://hooks.example.com/x", "urlFile": "/etc/soc2/slack"}}}
			},
			message: `exactly one of url and urlFile must be set`,
		},
		"an alert sink whose URL is not http": {
			base: validProfile, edit: func(s map[string]any) {
				s["alerts"] = map[string]any{"sinks": []any{map[string]any{"name": "ops", "type": "Webhook", "url": "ftp://ops.example.com"}}}
			},
			message: `url must be an http:// or https:// URL`,
		},
		"a Pod Security Standards level that does not exist": {
			base: validProfile, edit: func(s map[string]any) { s["podSecurity"] = map[string]any{"level": "privileged"} },
			message: `spec.podSecurity.level: Unsupported value: "privileged": supported values: "baseline", "restricted"`,
		},
		"a Pod Security Standards version that is not a Kubernetes minor version": {
			base: validProfile, edit: func(s map[string]any) { s["podSecurity"] = map[string]any{"version": "1.30"} },
			message: `spec.podSecurity.version: Invalid value: "1.30": spec.podSecurity.version in body should match`,
		},
		"a Pod Security Standards version of another major release": {
			base: validProfile, edit: func(s map[string]any) { s["podSecurity"] = map[string]any{"level": "baseline", "version": "v2.0"} },
			message: `spec.podSecurity.version: Invalid value: "v2.0"`,
		},
		"a profile whose name cannot label its reports": {
			base: validProfile, name: strings.Repeat("a", 64), edit: func(s map[string]any) {},
			message: `a profile's name is at most 63 characters`,
		},
		"a report without its profile": {
			base: `
apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ComplianceReport
metadata: {name: x, namespace: validation}
spec: {profile: soc2-baseline}
`, edit: func(s map[string]any) { delete(s, "profile") },
			message: `spec.profile: Required value`,
		},
	}

	// The unedited objects must be accepted, or every rejection below proves nothing; so must
	// every Pod Security Standards level and version form.
	// An owner may be any name: only control characters are refused.
	accentedOwner := strings.Replace(validException, "owner: platform@example.com", `owner: "Zoë Ünal (équipe plateforme) <zoe@example.com>"`, 1)
	// A reason may run over several lines, with tabs.
	longReason := strings.Replace(validException, "reason: The node agent needs host access to collect metrics.",
		"reason: \"The node agent needs host access:\\n\\t- to collect metrics\\n\\t- to rotate logs\"", 1)
	// An expiry may carry a fraction of a second or an offset from UTC.
	fractionAndOffset := strings.Replace(validException, `expires: "2027-01-01T00:00:00Z"`, `expires: "2027-01-01T09:30:00.250+09:30"`, 1)
	westOfUTC := strings.Replace(validException, `expires: "2027-01-01T00:00:00Z"`, `expires: "2026-12-31T23:59:59-11:00"`, 1)
	// A kind may name its API group (Kind.group), or not.
	kindInGroup := strings.Replace(validException, "  checks: [wl-privileged]\n",
		"  checks: [wl-privileged]\n  match: {kinds: [Deployment, Deployment.apps, Gateway.networking.istio.io]}\n", 1)
	for _, base := range []string{validException, accentedOwner, longReason, fractionAndOffset, westOfUTC, kindInGroup, validProfile, profileWithPodSecurity("baseline", "v1.30"),
		profileWithPodSecurity("restricted", "latest"), profileWithPodSecurity("baseline", "v1.0")} {
		u := decode(t, base)
		if err := c.Create(context.Background(), u, client.DryRunAll); err != nil {
			t.Fatalf("the valid %s was rejected: %v", u.GetKind(), err)
		}
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := decode(t, tc.base)
			spec, _ := u.Object["spec"].(map[string]any)
			if spec == nil {
				spec = map[string]any{}
				u.Object["spec"] = spec
			}
			tc.edit(spec)
			if tc.name != "" {
				u.SetName(tc.name)
			}
			err := c.Create(context.Background(), u, client.DryRunAll)
			if err == nil {
				t.Fatalf("the API server accepted it; want a rejection with %q", tc.message)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("message does not say what is wrong\n got: %s\nwant: …%s…", err, tc.message)
			}
		})
	}
}

// TestExceptionPolicyDefaults shows the exception policy a profile gets when it says nothing: a
// second person approves every exception, Critical findings are never waived, tenants may
// request exceptions, and an exception lasts at most 90 days.
func TestExceptionPolicyDefaults(t *testing.T) {
	c := newClient(t)
	u := decode(t, validProfile)
	if err := c.Create(context.Background(), u, client.DryRunAll); err != nil {
		t.Fatal(err)
	}
	got, _, _ := unstructured.NestedMap(u.Object, "spec", "exceptionPolicy")
	want := map[string]any{"requireApproval": true, "maxSeverity": "High", "allowTenantExceptions": true, "maxDuration": "2160h"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("defaulted exceptionPolicy = %v, want %v", got, want)
	}
}

// TestApprovalNeedsItsApprover shows that an approval must name its approver.
func TestApprovalNeedsItsApprover(t *testing.T) {
	c := newClient(t)
	ensureNamespace(t, c, "validation")
	u := decode(t, validException)
	u.Object["approval"] = map[string]any{"comment": "looks fine"}
	err := c.Create(context.Background(), u, client.DryRunAll)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "approval.approvedBy: Required value") {
		t.Fatalf("an approval without approvedBy: want Invalid naming approval.approvedBy, got %v", err)
	}
}

// TestAnApprovalCommentHoldsNoControlCharacters: the approver's comment is shown to the auditor
// as the reason is, and holds control characters no more than it does.
func TestAnApprovalCommentHoldsNoControlCharacters(t *testing.T) {
	c := newClient(t)
	ensureNamespace(t, c, "validation")
	u := decode(t, validException)
	u.Object["approval"] = map[string]any{"approvedBy": "ciso@example.com", "comment": "ok\rrejected"}
	err := c.Create(context.Background(), u, client.DryRunAll)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `approval.comment: Invalid value: "ok\rrejected": comment must not hold control characters`) {
		t.Fatalf("an approval comment with a carriage return: want Invalid naming approval.comment, got %v", err)
	}
	u = decode(t, validException)
	u.Object["approval"] = map[string]any{"approvedBy": "ciso@example.com", "comment": "Accepted until the vendor ships 2.0:\n\t- PAY-142"}
	if err := c.Create(context.Background(), u, client.DryRunAll); err != nil {
		t.Fatalf("a comment over two lines, with a tab, was refused: %v", err)
	}
}
