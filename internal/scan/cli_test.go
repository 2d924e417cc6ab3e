package scan

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestHelp: --help prints the usage and every flag on stdout and exits 0, as a user who asks
// for help expects (and can pipe to less); a mistake prints to stderr and exits 2.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help"} {
		stdout, stderr, code := runScan(t, "", arg)
		if code != ExitOK {
			t.Errorf("scan %s: exit code %d, want 0", arg, code)
		}
		for _, want := range []string{"Usage: soc2-operator scan", "-fail-on", "-details", "-profile", "-skip-kinds", "Exit codes:"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("scan %s: stdout lacks %q:\n%s", arg, want, stdout)
			}
		}
		if stderr != "" {
			t.Errorf("scan %s: stderr is not empty: %s", arg, stderr)
		}
	}
	stdout, stderr, code := runScan(t, "", "--no-such-flag")
	if code != ExitUsage || stdout != "" || !strings.Contains(stderr, "flag provided but not defined: -no-such-flag") {
		t.Errorf("unknown flag: exit %d, stdout %q, stderr %q; want 2, nothing, the error", code, stdout, stderr)
	}
}

// TestNothingToScanFails: a CI job pointed at a wrong path must not pass.
func TestNothingToScanFails(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "charts", "README.md"), "# not a manifest\n")
	writeFile(t, filepath.Join(dir, "empty", "empty.yaml"), "# nothing yet\n")
	cases := map[string]struct {
		args   []string
		stderr string
	}{
		"a directory with no manifest files": {
			args:   []string{"-f", filepath.Join(dir, "charts")},
			stderr: filepath.Join(dir, "charts") + ": no manifest files (*.yaml, *.yml, *.json) found in this directory or below it",
		},
		"a directory whose manifests hold no object": {
			args:   []string{"-f", filepath.Join(dir, "empty")},
			stderr: "no Kubernetes objects found in " + filepath.Join(dir, "empty") + ": nothing was scanned (check the path)",
		},
		"empty standard input": {
			args:   []string{"-f", "-"},
			stderr: "no Kubernetes objects found in -: nothing was scanned",
		},
		"a directory with no manifests next to one with some": {
			args:   []string{"-f", "testdata/manifests/shop.yaml", "-f", filepath.Join(dir, "charts"), "--fail-on", "none"},
			stderr: "no manifest files (*.yaml, *.yml, *.json) found",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runScan(t, "", tc.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

// TestFailOnAnyCase: --fail-on critical is --fail-on Critical.
func TestFailOnAnyCase(t *testing.T) {
	for v, want := range map[string]int{"critical": ExitFindings, "HIGH": ExitFindings, "None": ExitOK, "nOnE": ExitOK, "Low": ExitFindings} {
		_, stderr, code := runScan(t, "", "-f", "testdata/manifests/shop.yaml", "--fail-on", v, "-o", "json")
		if code != want {
			t.Errorf("--fail-on %s: exit %d, want %d\n%s", v, code, want, stderr)
		}
	}
	_, stderr, code := runScan(t, "", "-f", "testdata/manifests/shop.yaml", "--fail-on", "severe")
	if code != ExitUsage || !strings.Contains(stderr, "--fail-on severe: want Critical, High, Medium, Low or none (in any case)") {
		t.Errorf("--fail-on severe: exit %d, stderr %s", code, stderr)
	}
}

// TestProfileSelectsNamespaces: --profile leaves out what the operator would not assess: namespaces
// the selector does not select (labels from the Namespace objects in the input; of a namespace
// not in it only kubernetes.io/metadata.name is known, and it is left out only by what the
// selector requires of that label), excluded ones and system ones, with their Namespace objects;
// cluster-scoped objects stay.
func TestProfileSelectsNamespaces(t *testing.T) {
	dir := t.TempDir()
	podIn := func(ns, name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns + "}\n" +
			"spec: {hostPID: true, containers: [{name: c, image: busybox:1.36}]}\n---\n"
	}
	writeFile(t, filepath.Join(dir, "m", "all.yaml"),
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: pay, labels: {team: pay}}\n---\n"+
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n---\n"+
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: pay-old, labels: {team: pay}}\n---\n"+
			podIn("pay", "a")+podIn("web", "b")+podIn("pay-old", "c")+podIn("undeclared", "d")+podIn("kube-system", "e")+
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules: [{apiGroups: [''], resources: [pods], verbs: [get]}]\n")
	scanned := func(t *testing.T, spec string) []string {
		t.Helper()
		rep, stderr, code := scanUnderProfile(t, filepath.Join(dir, "m"), spec)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var got []string
		for _, r := range rep.Results {
			if r.Resource != nil && !slices.Contains(got, resourceName(r.Resource)) {
				got = append(got, resourceName(r.Resource))
			}
		}
		slices.Sort(got)
		return got
	}
	cases := map[string]struct {
		spec string
		want []string
	}{
		"no selector: every namespace but the system ones": {
			spec: "  description: all\n",
			want: []string{"ClusterRole/reader", "Namespace/pay", "Namespace/pay-old", "Namespace/web",
				"Pod/pay-old/c", "Pod/pay/a", "Pod/undeclared/d", "Pod/web/b"},
		},
		"a label selector and an exclusion": {
			spec: "  namespaceSelector: {matchLabels: {team: pay}}\n  excludedNamespaces: [pay-old]\n",
			// undeclared's labels are unknown: it may carry team=pay in the cluster.
			want: []string{"ClusterRole/reader", "Namespace/pay", "Pod/pay/a", "Pod/undeclared/d"},
		},
		"a namespace not in the input, left out by its name label": {
			spec: "  namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [undeclared, kube-system]}]}\n",
			want: []string{"ClusterRole/reader", "Pod/undeclared/d"},
		},
		"system namespaces when the profile includes them": {
			spec: "  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n  includeSystemNamespaces: true\n",
			want: []string{"ClusterRole/reader", "Pod/kube-system/e"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := scanned(t, tc.spec); !slices.Equal(got, tc.want) {
				t.Errorf("resources evaluated:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// manyFindings is n Deployments with long names and several findings each.
func manyFindings(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a-rather-long-deployment-name-for-a-service-%03d, namespace: a-long-team-namespace}\n"+
			"spec:\n  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n"+
			"      containers: [{name: a-container-with-a-long-name, image: registry.example.com/some/very/long/repository/path/image:latest}]\n---\n", i)
	}
	return b.String()
}

// TestTableFitsTheWidth: every line of the table, summary or details, fits $COLUMNS (or 100 when
// stdout is no terminal and COLUMNS is unset), and nothing a reader needs is lost: details list
// every finding with its whole message.
func TestTableFitsTheWidth(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "many.yaml"), manyFindings(40))
	writeFile(t, filepath.Join(dir, "more", "more.yaml"), manyFindings(80))
	for _, tc := range []struct {
		columns string
		width   int
		details bool
	}{{"", 100, false}, {"", 100, true}, {"60", 60, false}, {"60", 60, true}, {"200", 200, true}, {"not-a-number", 100, false}} {
		t.Run(fmt.Sprintf("COLUMNS=%q details=%v", tc.columns, tc.details), func(t *testing.T) {
			t.Setenv("COLUMNS", tc.columns)
			args := []string{"-f", filepath.Join(dir, "many.yaml"), "--fail-on", "none"}
			if tc.details {
				args = append(args, "--details")
			}
			stdout, stderr, code := runScan(t, "", args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			longest := 0
			for _, l := range strings.Split(stdout, "\n") {
				longest = max(longest, utf8.RuneCountInString(l))
				if n := utf8.RuneCountInString(l); n > tc.width {
					t.Errorf("line of %d characters, over %d: %q", n, tc.width, l)
				}
			}
			if tc.width == 200 && tc.details && longest <= 100 {
				t.Errorf("with COLUMNS=200 the longest line is %d: the width is not used", longest)
			}
			flat := oneLine(stdout)
			if tc.details && tc.width >= 100 {
				if n := strings.Count(stdout, "a-rather-long-deployment-name-for-a-service-0"); n < 40*5 {
					t.Errorf("details name the deployments %d times, want a row per finding (at least %d)", n, 40*5)
				}
				if !strings.Contains(flat, `image "registry.example.com/some/very/long/repository/path/image:latest" uses the mutable tag latest`) {
					t.Errorf("a whole message is missing from the details:\n%s", stdout)
				}
			}
			if tc.details {
				return
			}
			// The summary grows with the checks that fail, not with the resources.
			more, _, _ := runScan(t, "", "-f", filepath.Join(dir, "more"), "--fail-on", "none")
			if a, b := strings.Count(stdout, "\n"), strings.Count(more, "\n"); a != b {
				t.Errorf("the summary of 40 deployments is %d lines, of 80 %d", a, b)
			}
			if tc.width >= 100 && !strings.Contains(flat, "worst: Deployment/a-long-team-namespace/a-rather-long-deployment-name-for-a-service-000,") {
				t.Errorf("summary names no worst resource:\n%s", stdout)
			}
			for _, want := range []string{"img-mutable-tag", "FAILING", "+37 more",
				"CHECKS counts the enabled checks that assessed a resource, UNASSESSED those that had resources but could assess none (a Pass rests on the others); FAILING and EXCEPTED count findings",
				"--details (or -o wide) lists every one"} {
				if !strings.Contains(flat, want) {
					t.Errorf("summary lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
}

// TestSummaryCountsReadAsEnglish: the summary line of one object says "1 object read, 1
// resource evaluated", not "1 objects read, 1 resources evaluated"; of more, in the plural.
func TestSummaryCountsReadAsEnglish(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: one\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
	stdout, _, _ := runScan(t, pod, "-f", "-")
	if !strings.Contains(stdout, "): 1 object read, 1 resource evaluated, ") {
		t.Errorf("one Pod: the summary does not say \"1 object read, 1 resource evaluated\":\n%s", stdout)
	}
	stdout, _, _ = runScan(t, pod+"---\n"+strings.ReplaceAll(pod, "name: one", "name: two"), "-f", "-")
	if !strings.Contains(stdout, "): 2 objects read, 2 resources evaluated, ") {
		t.Errorf("two Pods: the summary does not say \"2 objects read, 2 resources evaluated\":\n%s", stdout)
	}
	for got, want := range map[string]string{
		unlistedErrors(1):     "1 more document could not be read; only the first 1000 errors are listed",
		unlistedErrors(2):     "2 more documents could not be read; only the first 1000 errors are listed",
		counted(0, "finding"): "0 findings",
		func() string {
			var n notObjectsNote
			n.add(&manifest.DecodeError{Source: "compose.yaml", Document: 1, Err: manifest.ErrNotAnObject})
			var b strings.Builder
			n.write(&b)
			return b.String()
		}(): "soc2-operator scan: note: 1 document that is not a Kubernetes object (neither apiVersion nor kind; kubectl apply refuses it) was not judged: compose.yaml\n",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// TestAProfileThatSelectsNoNamespaceOfTheInputIsAnError: a profile whose selection leaves out
// every namespace of the input (a label typo, or Namespace manifests kept elsewhere) judged the
// cluster-scoped objects alone and exited 0 with a note on standard error, so a CI gate passed
// on a privileged Pod it never judged. The operator calls such a profile NoNamespacesSelected
// (NotAssessed); scan now says so as a configuration problem in every output and exits 2.
// Selecting one namespace of several, or a profile over an input with no namespaced object,
// is no problem.
func TestAProfileThatSelectsNoNamespaceOfTheInputIsAnError(t *testing.T) {
	dir := t.TempDir()
	pod := func(ns string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: " + ns + "}\n" +
			"spec: {hostPID: true, containers: [{name: c, image: busybox:1.36}]}\n---\n"
	}
	writeFile(t, filepath.Join(dir, "apps", "all.yaml"),
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: web, labels: {team: web}}\n---\n"+
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n---\n"+pod("web")+pod("shop"))
	writeFile(t, filepath.Join(dir, "cluster", "roles.yaml"),
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules: [{apiGroups: [''], resources: [pods], verbs: [get]}]\n")

	rep, stderr, code := scanUnderProfile(t, filepath.Join(dir, "apps"), "  namespaceSelector: {matchLabels: {team: wbe}}\n")
	if code != ExitUsage {
		t.Errorf("exit %d, want %d: the profile judged nothing namespaced\n%s", code, ExitUsage, stderr)
	}
	want := "spec.namespaceSelector: the profile selects none of the 2 namespaces of the input (shop, web)"
	if !strings.Contains(stderr, want) || !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, want) }) {
		t.Errorf("neither stderr nor the report's problems say %q\nproblems: %q\nstderr: %s", want, rep.Problems, stderr)
	}

	for name, tc := range map[string]struct{ dir, spec string }{
		"one namespace of two selected":  {"apps", "  namespaceSelector: {matchLabels: {team: web}}\n"},
		"no namespaced object to select": {"cluster", "  namespaceSelector: {matchLabels: {team: wbe}}\n"},
	} {
		if _, stderr, code := scanUnderProfile(t, filepath.Join(dir, tc.dir), tc.spec); code != ExitOK || strings.Contains(stderr, "selects none") {
			t.Errorf("%s: exit %d, want %d and no problem\n%s", name, code, ExitOK, stderr)
		}
	}
}
