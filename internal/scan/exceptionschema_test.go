package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// exceptionCRD validates a ControlException as the API server does on create: its metadata as
// every custom resource's (a name that is a DNS subdomain, a namespace that is a label), the CRD's
// OpenAPI schema (config/crd/bases), its list types (a set holds no value twice) and its CEL
// rules.
type exceptionCRD struct {
	structural *structuralschema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

func loadExceptionCRD(t *testing.T) exceptionCRD {
	t.Helper()
	return loadCRD(t, "controlexceptions")
}

// loadCRD reads config/crd/bases' CRD of this resource (controlexceptions, complianceprofiles).
func loadCRD(t *testing.T, resource string) exceptionCRD {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "compliance.soc2-operator.io_"+resource+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		t.Fatal(err)
	}
	var internal apiextensionsinternal.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, &internal, nil); err != nil {
		t.Fatal(err)
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := apiservervalidation.NewSchemaValidator(&internal)
	if err != nil {
		t.Fatal(err)
	}
	return exceptionCRD{structural: s, schema: v, cel: cel.NewValidator(s, true, celconfig.PerCallLimit)}
}

// refuses returns what the API server says of the exception written in doc (YAML), nothing if
// it accepts it.
func (c exceptionCRD) refuses(t *testing.T, doc string) []string {
	t.Helper()
	var u map[string]any
	if err := yaml.Unmarshal([]byte(doc), &u); err != nil {
		t.Fatal(err)
	}
	// As stored: through JSON, so numbers and strings are what the schema sees.
	js, _ := json.Marshal(u)
	u = nil
	_ = json.Unmarshal(js, &u)
	var out []string
	obj := &unstructured.Unstructured{Object: u}
	namespaced := obj.GetKind() != "ComplianceProfile"
	for _, e := range apimachineryvalidation.ValidateObjectMetaAccessor(obj, namespaced, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata")) {
		out = append(out, e.Error())
	}
	for _, e := range apiservervalidation.ValidateCustomResource(nil, u, c.schema) {
		out = append(out, e.Error())
	}
	for _, e := range listtype.ValidateListSetsAndMaps(nil, c.structural, u) {
		out = append(out, e.Error())
	}
	errs, _ := c.cel.Validate(context.Background(), nil, c.structural, u, nil, celconfig.RuntimeCELCostBudget)
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// exceptionWith is an exception in namespace shop for wl-host-network on Pod legacy, with the
// spec line key replaced by line (or added, when no line has that key; a line "" removes it).
func exceptionWith(key, line string) string {
	lines := []string{
		"  checks: [wl-host-network]",
		"  match:",
		"    names: [legacy]",
		`  reason: "The legacy app needs the node's network until it moves."`,
		"  owner: shop-team@example.com",
		"  requestedBy: dev@example.com",
		"  ticket: https://tickets.example.com/1",
		`  expires: "2027-01-01T00:00:00Z"`,
	}
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, "  "+key+":") {
			lines[i], found = line, true
		}
	}
	if !found && line != "" {
		lines = append(lines, line)
	}
	return "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\nmetadata:\n  name: legacy-host-network\n  namespace: shop\nspec:\n" +
		strings.Join(lines, "\n") + "\n"
}

// TestExceptionsTheCRDRefusesAreNotApplied: an exceptions file is what a GitOps tool applies,
// and an exception the API server refuses never exists in the cluster, so the operator fails
// what it would have waived. scan must not apply it either, and must fail the job saying which
// document and which field, as kubectl apply would have. Each case is held to the CRD's own
// schema and CEL rules, so that none passes for a reason of its own.
func TestExceptionsTheCRDRefusesAreNotApplied(t *testing.T) {
	crd := loadExceptionCRD(t)
	dir := t.TempDir()
	pod := filepath.Join(dir, "pod.yaml")
	writeFile(t, pod, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: legacy\n  namespace: shop\nspec:\n  hostNetwork: true\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n")

	excepted := func(t *testing.T, exceptions string) (bool, string, int) {
		t.Helper()
		file := filepath.Join(dir, "exceptions.yaml")
		// A valid exception first, so that the refused one is document 2 on line 16.
		first := strings.Replace(exceptionWith("checks", "  checks: [wl-privileged]"), "name: legacy-host-network", "name: other", 1)
		writeFile(t, file, first+"---\n"+exceptions)
		stdout, stderr, code := runScan(t, "", "-f", pod, "--exceptions", file, "-o", "json", "--fail-on", "none")
		var rep Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("%v\nstderr: %s", err, stderr)
		}
		for _, f := range rep.Findings {
			if f.Check == "wl-host-network" {
				return f.Exception != "", stderr, code
			}
		}
		t.Fatalf("no wl-host-network finding\nstderr: %s", stderr)
		return false, "", 0
	}

	valid := exceptionWith("", "")
	if got := crd.refuses(t, valid); len(got) > 0 {
		t.Fatalf("the CRD refuses the valid exception: %v", got)
	}
	if ok, stderr, code := excepted(t, valid); !ok || code != ExitOK {
		t.Fatalf("the valid exception: excepted %v, exit %d, want true and %d\nstderr: %s", ok, code, ExitOK, stderr)
	}

	// A kind in its group (Kind.group), the core group's Pod being v1's alone: valid, and
	// applied; in another group it waives nothing.
	for line, want := range map[string]bool{"  match:\n    kinds: [Pod]": true, "  match:\n    kinds: [Deployment.apps, Pod.example.com]": false} {
		doc := strings.Replace(exceptionWith("match", line), "    names: [legacy]\n", "", 1)
		if got := crd.refuses(t, doc); len(got) > 0 {
			t.Fatalf("the CRD refuses %q: %v", line, got)
		}
		if ok, stderr, code := excepted(t, doc); ok != want || code != ExitOK {
			t.Errorf("%q: excepted %v, exit %d, want %v and %d\nstderr: %s", line, ok, code, want, ExitOK, stderr)
		}
	}

	for _, tc := range []struct {
		name, key, line, field string
	}{
		{"a name in capitals", "name", "", "metadata.name"},
		{"a name with an underscore", "name", "", "metadata.name"},
		{"a reason under 10 characters", "reason", "  reason: because", "spec.reason"},
		{"a reason over 2048 characters", "reason", "  reason: " + strings.Repeat("x", 2049), "spec.reason"},
		{"an escape in the reason", "reason", `  reason: "The legacy app \e[2J needs the network."`, "spec.reason"},
		{"a carriage return in the reason", "reason", `  reason: "The legacy app\r needs the network."`, "spec.reason"},
		{"a tab in the owner", "owner", `  owner: "shop-team\t@example.com"`, "spec.owner"},
		{"a line break in the owner", "owner", `  owner: "shop-team\n@example.com"`, "spec.owner"},
		{"a C1 control in the owner", "owner", `  owner: "shop-team\u0085@example.com"`, "spec.owner"},
		{"an owner over 256 characters", "owner", "  owner: " + strings.Repeat("o", 257), "spec.owner"},
		{"an escape in requestedBy", "requestedBy", `  requestedBy: "dev\e@example.com"`, "spec.requestedBy"},
		{"a ticket that is no http URL", "ticket", "  ticket: ftp://tickets.example.com/1", "spec.ticket"},
		{"a ticket without a scheme", "ticket", "  ticket: JIRA-123", "spec.ticket"},
		// An unknown check or criterion was already Invalid (TestBadInput).
		{"a check ID over 63 characters", "checks", "  checks: [wl-host-network, " + strings.Repeat("a", 64) + "]", "spec.checks[1]"},
		{"a check named twice", "checks", "  checks: [wl-host-network, wl-host-network]", "spec.checks[1]"},
		{"a criterion named twice", "criteria", "  criteria: [CC6.1, CC6.1]", "spec.criteria[1]"},
		{"an approval comment with an escape", "approval", "approval:\n  approvedBy: sec@example.com\n  comment: \"ok \\e[2J\"", "approval.comment"},
		{"an empty name pattern", "match", "  match:\n    names: [legacy, \"\"]", "spec.match.names[1]"},
		{"a kind in lower case", "match", "  match:\n    kinds: [pod]", "spec.match.kinds[0]"},
		{"a kind with a group in capitals", "match", "  match:\n    kinds: [Pod.Core]", "spec.match.kinds[0]"},
		{"a kind with an empty group", "match", "  match:\n    kinds: [Pod.]", "spec.match.kinds[0]"},
		{"a kind with a group over 317 characters", "match", "  match:\n    kinds: [Pod." + strings.Repeat("g", 314) + "]", "spec.match.kinds[0]"},
		{"a container name over 253 characters", "match", "  match:\n    containers: [" + strings.Repeat("c", 254) + "]", "spec.match.containers[0]"},
		{"a profile name over 253 characters", "profiles", "  profiles: [" + strings.Repeat("p", 254) + "]", "spec.profiles[0]"},
		// A custom resource's metadata is validated as ValidateObjectMeta does, whatever the
		// CRD's schema (k8s.io/apiextensions-apiserver v0.37.2 customresource validator).
		{"a label value with a blank", "metadata", `  labels: {team: "shop team"}`, "metadata.labels"},
		{"a label key with two slashes", "metadata", `  labels: {example.com/team/x: shop}`, "metadata.labels"},
		{"an annotation key with a blank", "metadata", `  annotations: {"approved by": sec@example.com}`, "metadata.annotations"},
		{"a finalizer that is no qualified name", "metadata", `  finalizers: ["keep me"]`, "metadata.finalizers"},
		{"an owner reference without a uid", "metadata", "  ownerReferences:\n  - {apiVersion: v1, kind: ConfigMap, name: approvals, uid: \"\"}", "metadata.ownerReferences"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, name := exceptionWith(tc.key, tc.line), "legacy-host-network"
			if tc.key == "metadata" {
				doc = strings.Replace(exceptionWith("", ""), "  namespace: shop\n", "  namespace: shop\n"+tc.line+"\n", 1)
			}
			if tc.key == "name" {
				name = map[string]string{"a name in capitals": "Legacy-Host-Network", "a name with an underscore": "legacy_host_network"}[tc.name]
				doc = strings.Replace(doc, "name: legacy-host-network", "name: "+name, 1)
			}
			if tc.key == "match" {
				doc = strings.Replace(doc, "    names: [legacy]\n", "", 1)
			}
			if got := crd.refuses(t, doc); len(got) == 0 {
				t.Fatalf("the CRD accepts the case; it tests nothing:\n%s", doc)
			}
			ok, stderr, code := excepted(t, doc)
			if ok {
				t.Errorf("scan applied an exception the API server refuses")
			}
			if code != ExitUsage {
				t.Errorf("exit %d, want %d (the job must fail)", code, ExitUsage)
			}
			want := fmt.Sprintf("exceptions.yaml: document 2 (line 16): exception shop/%s is invalid (the API server refuses it, so it waives nothing): %s", name, tc.field)
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		})
	}
}

// TestExceptionsWithUnknownFieldsAreNotApplied: kubectl apply asks the API server to refuse a
// field the CRD does not have (--validate=strict, its default since 1.27), so an exception
// whose match says name instead of names never exists in the cluster. scan read it without the
// unknown field, as an exception matching every object in its namespace, and applied it.
func TestExceptionsWithUnknownFieldsAreNotApplied(t *testing.T) {
	crd := loadExceptionCRD(t)
	dir := t.TempDir()
	pod := filepath.Join(dir, "pod.yaml")
	writeFile(t, pod, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: legacy\n  namespace: shop\nspec:\n  hostNetwork: true\n  containers:\n  - name: app\n    image: registry.example.com/app:1.0\n")
	for _, tc := range []struct{ name, doc, field string }{
		{"a misspelt match field", strings.Replace(exceptionWith("", ""), "    names: [legacy]", "    name: [nothing-is-called-this]", 1), "spec.match.name"},
		{"a field the spec does not have", exceptionWith("severity", "  severity: Low"), "spec.severity"},
		{"a field beside the spec", exceptionWith("", "") + "approvals: []\n", "approvals"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The API server's structural schema drops what it does not know; strict field
			// validation refuses the object for it.
			var u map[string]any
			if err := yaml.Unmarshal([]byte(tc.doc), &u); err != nil {
				t.Fatal(err)
			}
			opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}
			if pruned := pruning.PruneWithOptions(u, crd.structural, true, opts); !slices.Contains(pruned, tc.field) {
				t.Fatalf("the API server would prune %v, not %s: the case tests nothing", pruned, tc.field)
			}
			file := filepath.Join(dir, "exceptions.yaml")
			writeFile(t, file, tc.doc)
			stdout, stderr, code := runScan(t, "", "-f", pod, "--exceptions", file, "-o", "json", "--fail-on", "none")
			var rep Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("%v\nstderr: %s", err, stderr)
			}
			for _, f := range rep.Findings {
				if f.Exception != "" {
					t.Errorf("scan applied an exception the API server refuses to %s %s", f.Check, f.Resource)
				}
			}
			if code != ExitUsage {
				t.Errorf("exit %d, want %d (the job must fail)", code, ExitUsage)
			}
			want := fmt.Sprintf("exceptions.yaml: document 1 (line 1): ControlException: unknown field %q", tc.field)
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		})
	}
}

// TestProfilesTheCRDRefusesAreRefused: a profile the API server refuses is not what the
// operator judges by (it has none, or the version before), so scan must not judge by it either
// and must fail the job naming the field, as kubectl apply would. Each case is held to the
// CRD's own validators.
func TestProfilesTheCRDRefusesAreRefused(t *testing.T) {
	crd := loadCRD(t, "complianceprofiles")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "deploy.yaml"), goodDeployment)
	profile := func(name, spec string) string {
		return "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ComplianceProfile\nmetadata:\n  name: " + name + "\nspec:\n" + spec
	}
	run := func(t *testing.T, doc string) (string, int) {
		t.Helper()
		file := filepath.Join(dir, "profile.yaml")
		writeFile(t, file, doc)
		_, stderr, code := runScan(t, "", "-f", filepath.Join(dir, "deploy.yaml"), "--profile", file, "-o", "json", "--fail-on", "none")
		return stderr, code
	}
	valid := profile("ci", "  checks: [{id: wl-privileged, severity: Low}]\n  parameters: {minReplicas: 2, allowedHostPorts: [443]}\n")
	if got := crd.refuses(t, valid); len(got) > 0 {
		t.Fatalf("the CRD refuses the valid profile: %v", got)
	}
	if stderr, code := run(t, valid); code != ExitOK {
		t.Fatalf("the valid profile: exit %d\nstderr: %s", code, stderr)
	}
	for _, tc := range []struct{ name, doc, field string }{
		{"a name over 63 characters", profile(strings.Repeat("p", 64), "  maxFindings: 10\n"), "metadata.name"},
		{"a name in capitals", profile("CI", "  maxFindings: 10\n"), "metadata.name"},
		{"a label value with a blank", profile("ci\n  labels: {team: \"platform team\"}", "  maxFindings: 10\n"), "metadata.labels"},
		{"an annotation key with a blank", profile("ci\n  annotations: {\"reviewed by\": sec}", "  maxFindings: 10\n"), "metadata.annotations"},
		{"minReplicas 0", profile("ci", "  parameters: {minReplicas: 0}\n"), "spec.parameters.minReplicas"},
		{"a capability in lower case", profile("ci", "  parameters: {allowedCapabilities: [net_bind_service]}\n"), "spec.parameters.allowedCapabilities[0]"},
		{"host port 0", profile("ci", "  parameters: {allowedHostPorts: [0]}\n"), "spec.parameters.allowedHostPorts[0]"},
		{"an empty registry", profile("ci", "  parameters: {allowedRegistries: [\"\"]}\n"), "spec.parameters.allowedRegistries[0]"},
		{"an excluded namespace in capitals", profile("ci", "  excludedNamespaces: [Shop]\n"), "spec.excludedNamespaces[0]"},
		{"a criterion twice", profile("ci", "  criteria: [CC6.1, CC6.1]\n"), "spec.criteria[1]"},
		{"an override setting nothing", profile("ci", "  checks: [{id: wl-privileged}]\n"), "spec.checks[0]"},
		{"an override twice", profile("ci", "  checks: [{id: wl-privileged, enabled: false}, {id: wl-privileged, severity: Low}]\n"), "spec.checks[1]"},
		{"a custom check's kind in lower case", profile("ci", "  customChecks:\n  - {id: my-check, title: Mine, kinds: [deployment], criteria: [CC8.1], expression: 'true'}\n"), "spec.customChecks[0].kinds[0]"},
		{"a custom check without criteria", profile("ci", "  customChecks:\n  - {id: my-check, title: Mine, kinds: [Deployment], criteria: [], expression: 'true'}\n"), "spec.customChecks[0].criteria"},
		{"a custom check overridden", profile("ci", "  checks: [{id: my-check, enabled: false}]\n  customChecks:\n  - {id: my-check, title: Mine, kinds: [Deployment], criteria: [CC8.1], expression: 'false'}\n"), "spec"},
		{"maxFindings 1000", profile("ci", "  maxFindings: 1000\n"), "spec.maxFindings"},
		{"an evaluation every 30 seconds", profile("ci", "  evaluationInterval: 30s\n"), "spec.evaluationInterval"},
		{"an enforcement mode that is none", profile("ci", "  enforcement: {mode: Block}\n"), "spec.enforcement.mode"},
		{"a sink with no URL", profile("ci", "  alerts: {sinks: [{name: ops, type: Slack}]}\n"), "spec.alerts.sinks[0]"},
		{"a sink URL that is no http URL", profile("ci", "  alerts: {sinks: [{name: ops, type: Webhook, url: 'ftp://x'}]}\n"), "spec.alerts.sinks[0].url"},
		{"an expiry warning of 1000h", profile("ci", "  alerts: {expiryWarning: 1000h, sinks: [{name: ops, type: Slack, urlFile: /etc/slack}]}\n"), "spec.alerts.expiryWarning"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := crd.refuses(t, tc.doc); len(got) == 0 {
				t.Fatalf("the CRD accepts the case; it tests nothing:\n%s", tc.doc)
			}
			stderr, code := run(t, tc.doc)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d (the job must fail)", code, ExitUsage)
			}
			want := "profile.yaml: document 1 (line 1): the API server refuses this profile: " + tc.field
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		})
	}
}
