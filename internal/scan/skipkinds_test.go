package scan

import (
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rollout is an Argo Rollout in namespace ns whose pod template runs a privileged container: a
// custom resource that runs containers scan does not judge.
func rollout(name, ns string) string {
	return "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: " + name + ", namespace: " + ns + "}\n" +
		"spec:\n  template:\n    spec:\n      containers:\n      - {name: web, image: nginx:1.27, securityContext: {privileged: true}}\n"
}

// rayService is a RayService in namespace shop whose head group runs a container.
const rayService = "apiVersion: ray.io/v1\nkind: RayService\nmetadata: {name: llm, namespace: shop}\n" +
	"spec:\n  rayClusterConfig:\n    headGroupSpec:\n      template:\n        spec:\n          containers:\n          - {name: head, image: rayproject/ray:2.9.0}\n"

// TestSkipKinds: a repository of Argo Rollouts or RayServices could never make scan exit 0 (each
// is an input scan could not judge, exit 3), so a CI job would write `|| [ $? = 3 ]` and hide
// unreadable files with them. --skip-kinds names the kinds whose containers are left to the
// operator in the cluster: those are then no input error, the scan still says, once on
// standard error and in its machine outputs, how many of which kinds it did not judge, and
// anything else it could not read still exits 3. A kind is matched as Kubernetes spells it
// (case-sensitive), alone or with its API group (Rollout.argoproj.io), so that another group's
// Rollout is not skipped with Argo's.
func TestSkipKinds(t *testing.T) {
	const note = "soc2-operator scan: note: "
	manifests := map[string]string{
		"rollouts.yaml": rollout("web", "shop") + "---\n" + rollout("api", "shop"),
		"ray.yaml":      rayService,
	}
	cases := map[string]struct {
		args     []string
		extra    map[string]string // more files under manifests/
		profile  string
		code     int
		errors   []string // phrases of the input errors, one each, on stderr and in the report
		note     string   // the note on the skipped resources ("" for none)
		skipped  []string // the report's skipped resources, Kind/namespace/name, in the order read
		notFound string   // a phrase stderr must not hold
	}{
		"without the flag each is an input error that names the flag": {
			code: ExitInput,
			errors: []string{"Rollout web runs containers that scan does not judge (spec.template.spec.containers)",
				"Rollout api runs containers that scan does not judge", "RayService llm runs containers that scan does not judge"},
		},
		"skipped by kind they are no input errors, and the note counts them by kind": {
			args:    []string{"--skip-kinds", "Rollout,RayService"},
			code:    ExitOK,
			note:    "3 custom resources that run containers were not judged, of kinds --skip-kinds names: 2 Rollout.argoproj.io, 1 RayService.ray.io",
			skipped: []string{"RayService/shop/llm", "Rollout/shop/web", "Rollout/shop/api"},
		},
		"the flag is repeatable, takes a kind with its group, and a kind that never appears is fine": {
			args:    []string{"--skip-kinds", "Rollout.argoproj.io", "--skip-kinds", " RayService.ray.io , JobSet"},
			code:    ExitOK,
			note:    "3 custom resources that run containers were not judged",
			skipped: []string{"RayService/shop/llm", "Rollout/shop/web", "Rollout/shop/api"},
		},
		"a kind of another group is not skipped": {
			args:    []string{"--skip-kinds", "Rollout.example.com,RayService"},
			code:    ExitInput,
			errors:  []string{"Rollout web runs containers", "Rollout api runs containers"},
			note:    "1 custom resource that runs containers was not judged, of kinds --skip-kinds names: 1 RayService.ray.io",
			skipped: []string{"RayService/shop/llm"},
		},
		"kinds are case-sensitive, as Kubernetes spells them": {
			args:   []string{"--skip-kinds", "rollout,rayservices.ray.io"},
			code:   ExitInput,
			errors: []string{"Rollout web runs containers", "Rollout api runs containers", "RayService llm runs containers"},
		},
		"an unreadable document beside skipped kinds still exits 3": {
			args:    []string{"--skip-kinds", "Rollout,RayService"},
			extra:   map[string]string{"broken.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typo, namespace: shop}\nspec: {replicas: three}\n"},
			code:    ExitInput,
			errors:  []string{"manifests/broken.yaml: document 1 (line 1): Deployment: spec.replicas: cannot use a JSON string as int32"},
			note:    "3 custom resources that run containers were not judged",
			skipped: []string{"RayService/shop/llm", "Rollout/shop/web", "Rollout/shop/api"},
		},
		"a skipped kind in a namespace the profile does not assess is not counted": {
			args:    []string{"--skip-kinds", "Rollout"},
			extra:   map[string]string{"argo.yaml": rollout("canary", "argo")},
			profile: profileWith("  excludedNamespaces: [argo]\n"),
			code:    ExitInput,
			errors:  []string{"RayService llm runs containers"},
			note:    "2 custom resources that run containers were not judged, of kinds --skip-kinds names: 2 Rollout.argoproj.io",
			skipped: []string{"Rollout/shop/web", "Rollout/shop/api"},
		},
		"a kind given with a version or as a path is a usage error": {
			args:   []string{"--skip-kinds", "argoproj.io/v1alpha1/Rollout"},
			code:   ExitUsage,
			errors: []string{`--skip-kinds "argoproj.io/v1alpha1/Rollout": want a kind as Kubernetes spells it (Rollout) or a kind and its API group (Rollout.argoproj.io)`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "manifests", "good.yaml"), goodDeployment)
			for file, content := range manifests {
				writeFile(t, filepath.Join(dir, "manifests", file), content)
			}
			for file, content := range tc.extra {
				writeFile(t, filepath.Join(dir, "manifests", file), content)
			}
			args := append([]string{"-f", filepath.Join(dir, "manifests"), "-o", "json", "--fail-on", "none"}, tc.args...)
			if tc.profile != "" {
				writeFile(t, filepath.Join(dir, "profile.yaml"), tc.profile)
				args = append(args, "--profile", filepath.Join(dir, "profile.yaml"))
			}

			stdout, stderr, code := runScan(t, "", args...)

			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			var notes []string
			var errs []string
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				switch {
				case line == "":
				case strings.HasPrefix(line, note):
					if strings.Contains(line, "--skip-kinds") {
						notes = append(notes, line)
					}
				default:
					errs = append(errs, line)
				}
			}
			if len(errs) != len(tc.errors) {
				t.Errorf("%d error lines on stderr, want %d:\n%s", len(errs), len(tc.errors), stderr)
			}
			for _, want := range tc.errors {
				if !slices.ContainsFunc(errs, func(l string) bool { return strings.Contains(l, want) }) {
					t.Errorf("no stderr line holds %q; stderr:\n%s", want, stderr)
				}
			}
			for _, e := range errs {
				// Every custom resource left as an input error says how to leave its kind to
				// the operator.
				if strings.Contains(e, "runs containers") && !strings.Contains(e, "--skip-kinds ") {
					t.Errorf("the error does not name --skip-kinds: %s", e)
				}
			}
			switch {
			case tc.note == "" && len(notes) > 0:
				t.Errorf("a note on skipped kinds, want none: %q", notes)
			case tc.note != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.note)):
				t.Errorf("notes on skipped kinds %q, want one holding %q", notes, tc.note)
			}
			if code == ExitUsage {
				return
			}

			var rep Report
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rep); err != nil {
				t.Fatalf("JSON output does not decode: %v\n%.500s", err, stdout)
			}
			if len(rep.Errors) != len(tc.errors) || rep.Summary.Errors != len(tc.errors) {
				t.Errorf("the report lists %d input errors (summary %d), want %d: %+v", len(rep.Errors), rep.Summary.Errors, len(tc.errors), rep.Errors)
			}
			var skipped []string
			for _, s := range rep.Skipped {
				skipped = append(skipped, s.Resource.Kind+"/"+s.Resource.Namespace+"/"+s.Resource.Name)
				if s.File == "" || s.Line == 0 || s.Containers == "" || s.Resource.APIVersion == "" {
					t.Errorf("skipped %+v does not say where it is", s)
				}
			}
			if strings.Join(skipped, " ") != strings.Join(tc.skipped, " ") || rep.Summary.Skipped != len(tc.skipped) {
				t.Errorf("skipped %q (summary %d), want %q", skipped, rep.Summary.Skipped, tc.skipped)
			}
			if rep.Summary.Objects < 4 {
				t.Errorf("summary.objects = %d: skipped resources are still read", rep.Summary.Objects)
			}
		})
	}
}

// TestSkippedKindsInEveryOutput: the resources --skip-kinds left unjudged are named where each
// output names what it could not judge, as notes and not errors: SARIF's tool execution
// notifications at level note (the run still succeeded), a JUnit suite of skipped test cases
// (valid against the JUnit schema), a line of the table's summary.
func TestSkippedKindsInEveryOutput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "good.yaml"), goodDeployment)
	writeFile(t, filepath.Join(dir, "rollouts.yaml"), rollout("web", "shop")+"---\n"+rayService)
	run := func(format string) string {
		t.Helper()
		stdout, stderr, code := runScan(t, "", "-f", dir, "-o", format, "--fail-on", "none", "--skip-kinds", "Rollout,RayService")
		if code != ExitOK {
			t.Fatalf("-o %s: exit %d\n%s", format, code, stderr)
		}
		return stdout
	}

	var log struct {
		Runs []struct {
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Level     string `json:"level"`
					Message   struct{ Text string }
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine int }
						}
					}
				}
			}
		}
	}
	out := run("sarif")
	assertWellFormed(t, "sarif", out)
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	inv := log.Runs[0].Invocations[0]
	if !inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 2 {
		t.Fatalf("SARIF invocation: successful %v, notifications %+v; want successful and two notes", inv.ExecutionSuccessful, inv.ToolExecutionNotifications)
	}
	for i, want := range []struct {
		text string
		line int
	}{{"Rollout shop/web runs containers that scan does not judge (spec.template.spec.containers): --skip-kinds skips its kind", 1},
		{"RayService shop/llm runs containers", 10}} {
		n := inv.ToolExecutionNotifications[i]
		if n.Level != "note" || !strings.HasPrefix(n.Message.Text, want.text) || len(n.Locations) != 1 ||
			!strings.HasSuffix(n.Locations[0].PhysicalLocation.ArtifactLocation.URI, "rollouts.yaml") || n.Locations[0].PhysicalLocation.Region.StartLine != want.line {
			t.Errorf("SARIF notification %d: %+v; want a note %q at rollouts.yaml line %d", i, n, want.text, want.line)
		}
	}

	out = run("junit")
	assertWellFormed(t, "junit", out)
	var doc junitSuites
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Classname != "inputs" {
				continue
			}
			if c.Skipped == nil || s.Skipped != len(s.Cases) || s.Errors != 0 {
				t.Errorf("suite %q case %q: want skipped test cases only, counted as skipped", s.Name, c.Name)
			}
			cases = append(cases, c.Name)
		}
	}
	if strings.Join(cases, ", ") != "Rollout shop/web, RayService shop/llm" || doc.Errors != 0 {
		t.Errorf("JUnit input cases %q, %d errors; want the two skipped resources and no error", cases, doc.Errors)
	}

	if out := run("table"); !strings.Contains(out, "Not judged: 2 custom resources that run containers, of kinds --skip-kinds names") {
		t.Errorf("the table does not count the skipped resources:\n%s", out)
	}
}
