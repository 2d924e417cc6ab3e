package scan

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// podLevelChecks report the pod as a whole (no container): the sweep wants their failure on the
// object; every other owner must fail the bad container by name.
var podLevelChecks = map[string]bool{
	"wl-host-namespaces": true, "wl-host-network": true, "wl-hostpath": true, "wl-unsafe-sysctls": true,
	"wl-volume-types": true, "wl-runtime-socket": true,
}

// sweepFindings indexes a report's results by object name and check.
type sweepFindings map[string]map[string][]Finding

func indexFindings(rep Report) sweepFindings {
	out := sweepFindings{}
	for _, f := range rep.Results {
		if f.Resource == nil {
			continue
		}
		key := f.Resource.Kind + "/" + f.Resource.Name
		if out[key] == nil {
			out[key] = map[string][]Finding{}
		}
		out[key][f.Check] = append(out[key][f.Check], f)
	}
	return out
}

// failures renders every failing (check, object, container) of the sweep's objects, sorted.
func (s sweepFindings) failures() []string {
	var out []string
	for obj, byCheck := range s {
		for check, fs := range byCheck {
			for _, f := range fs {
				if f.Result == "Fail" {
					out = append(out, obj+" "+check+" "+f.Container)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func scanSweepFile(t *testing.T, name, content string) sweepFindings {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	writeFile(t, file, content)
	stdout, stderr, code := runScan(t, "", "-f", file, "-o", "json", "--show", "all", "--fail-on", "none")
	if code != ExitOK {
		t.Fatalf("%s: scan exited %d: %s", name, code, stderr)
	}
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%s: %v\nstderr: %s", name, err, stderr)
	}
	return indexFindings(rep)
}

func sweepYAML(t *testing.T, doc map[string]any) string {
	t.Helper()
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBadPodsFailTheirOwnersWhereverThePodSpecLives is the bad-pods sweep: every dangerous pod
// setting of BishopFox's badPods set (everything-allowed, priv-and-hostpid, priv, hostpath,
// hostpid, hostnetwork, hostipc, nothing-allowed) and the other settings the Pod Security
// Standards forbid (root with allowPrivilegeEscalation, added SYS_ADMIN, NET_RAW and ALL, an
// unmasked /proc, an unsafe sysctl, seccomp and AppArmor Unconfined, SELinux spc_t, a Windows
// HostProcess container, the runtime socket, a host port, a probe or lifecycle hook on another
// host), at the pod level and the container level, in a container, an init container, a native
// sidecar and (in a Pod) an ephemeral container, of every kind and old API version scan reads,
// fails each check that owns it: container-level checks name the bad container. A v1
// PodTemplate runs nothing (no controller of Kubernetes' own creates pods from one) and is not
// judged: it must give no result rather than a pass. The same objects written as a v1 List, as
// Helm writes a rendered chart (--- separators with # Source: comments, empty documents), as a
// JSON List, as the API server lists them (a PodList, a DeploymentList, ... whose items name no
// kind) and with CRLF line ends give the same failures.
func TestBadPodsFailTheirOwnersWhereverThePodSpecLives(t *testing.T) {
	pods := testgen.BadPods("sweep")
	var docs []string
	var items []any
	for _, p := range pods {
		docs = append(docs, sweepYAML(t, p.Doc))
		items = append(items, p.Doc)
	}
	multi := strings.Join(docs, "---\n")
	got := scanSweepFile(t, "sweep.yaml", multi)

	judged, notJudged := 0, 0
	for _, p := range pods {
		key := p.Kind + "/" + p.Name
		if p.Kind == "PodTemplate" {
			for _, owner := range p.Owners {
				if fs := got[key][owner]; len(fs) > 0 {
					t.Errorf("%s (%s): a PodTemplate runs nothing, yet %s judged it: %+v", key, p.APIVersion, owner, fs)
				}
			}
			notJudged++
			continue
		}
		judged++
		for _, owner := range p.Owners {
			fs := got[key][owner]
			var containers []string
			failed := false
			for _, f := range fs {
				if f.Result == "Fail" {
					failed = true
					containers = append(containers, f.Container)
				}
			}
			var results []string
			for _, f := range fs {
				results = append(results, fmt.Sprintf("%s[%s] %s", f.Result, f.Container, f.Message))
			}
			switch {
			case !failed:
				t.Errorf("%s (%s, %s at %s level in %s): %s does not fail: %v", key, p.APIVersion, p.Danger, p.Level, p.Slot, owner, results)
			case !podLevelChecks[owner] && !slices.Contains(containers, p.Container):
				t.Errorf("%s (%s, %s at %s level in %s): %s fails, but not container %q: %v", key, p.APIVersion, p.Danger, p.Level, p.Slot, owner, p.Container, results)
			}
		}
	}
	if judged == 0 || notJudged == 0 {
		t.Fatalf("the sweep judged %d objects and left %d PodTemplates", judged, notJudged)
	}
	want := got.failures()
	t.Logf("judged %d, PodTemplates %d, failures %d", judged, notJudged, len(want))

	// The same objects, however the file holds them.
	list, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		t.Fatal(err)
	}
	jsonList, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// As the API server lists them (kubectl get --raw, a client's dump): a PodList,
	// DeploymentList, ... per kind and version, whose items carry neither apiVersion nor kind,
	// which kubectl apply takes from the List's (unstructured's decodeToList).
	var served strings.Builder
	byType := map[string][]any{}
	var types []string
	for _, p := range pods {
		key := p.APIVersion + " " + p.Kind
		if byType[key] == nil {
			types = append(types, key)
		}
		item := map[string]any{}
		for k, v := range p.Doc {
			if k != "apiVersion" && k != "kind" {
				item[k] = v
			}
		}
		byType[key] = append(byType[key], item)
	}
	for _, key := range types {
		apiVersion, kind, _ := strings.Cut(key, " ")
		b, err := json.Marshal(map[string]any{"kind": kind + "List", "apiVersion": apiVersion,
			"metadata": map[string]any{"resourceVersion": "12345"}, "items": byType[key]})
		if err != nil {
			t.Fatal(err)
		}
		served.Write(b)
		served.WriteString("\n")
	}
	var helm strings.Builder
	helm.WriteString("---\n# Source: sweep/templates/NOTES.txt\n---\n")
	for i, d := range docs {
		fmt.Fprintf(&helm, "---\n# Source: sweep/templates/pod-%d.yaml\n# a comment before the document\n%s\n", i, d)
		if i%7 == 0 {
			helm.WriteString("--- # an empty document with a comment\n")
		}
	}
	variants := map[string]string{
		"list.yaml":       string(list),
		"list.json":       string(jsonList),
		"served.json":     served.String(),
		"helm.yaml":       helm.String(),
		"crlf.yaml":       strings.ReplaceAll(multi, "\n", "\r\n"),
		"leading-doc.yml": "---\n" + multi + "\n---\n",
	}
	t.Run("at the baseline level", func(t *testing.T) {
		sweepAtBaseline(t, pods, multi)
	})
	for name, content := range variants {
		t.Run(name, func(t *testing.T) {
			if g := scanSweepFile(t, name, content).failures(); !slices.Equal(g, want) {
				t.Errorf("%s gives %d failures, the plain multi-document file %d; first difference: %s", name, len(g), len(want), firstDiff(strings.Join(want, "\n"), strings.Join(g, "\n")))
			}
		})
	}
}

// restrictedOnly reports whether every Pod Security Standards control of a check is one of the
// restricted level (none is baseline): at the baseline level it does not apply.
func restrictedOnly(check string) bool {
	controls := checks.PodSecurityControls(check)
	for _, c := range controls {
		if c.Level != "restricted" {
			return false
		}
	}
	return len(controls) > 0
}

// sweepAtBaseline scans the sweep under a profile at the baseline level: the owners that are
// baseline controls, or no control (wl-runtime-socket), still fail every object, and those of
// the restricted level only are NotApplicable, never a pass. procMount Unmasked in a user
// namespace (hostUsers: false), and no seccomp profile at all, are what the baseline level
// allows, as Kubernetes does.
func sweepAtBaseline(t *testing.T, pods []testgen.BadPod, multi string) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sweep.yaml")
	writeFile(t, file, multi)
	rep, stderr, code := scanUnderProfile(t, file, "  podSecurity: {level: baseline}\n")
	if code != ExitOK {
		t.Fatalf("scan exited %d: %s", code, stderr)
	}
	got := indexFindings(rep)
	for _, p := range pods {
		if p.Kind == "PodTemplate" {
			continue
		}
		key := p.Kind + "/" + p.Name
		for _, owner := range p.Owners {
			results := map[string]int{}
			for _, f := range got[key][owner] {
				results[string(f.Result)]++
			}
			switch {
			case restrictedOnly(owner):
				if results["Pass"]+results["Fail"] > 0 || results["NotApplicable"] == 0 {
					t.Errorf("%s: %s is a restricted control, at baseline NotApplicable: %v", key, owner, results)
				}
			case p.Danger == "procmount-unmasked", p.Danger == "nothing-allowed":
				// The baseline level allows procMount Unmasked in a user namespace, and a
				// container that sets no seccomp profile (only Unconfined is forbidden).
				if results["Fail"] > 0 {
					t.Errorf("%s: %s fails %s at baseline, which the level allows: %v", key, owner, p.Danger, results)
				}
			case results["Fail"] == 0:
				t.Errorf("%s (%s at %s level in %s): %s does not fail at baseline: %v", key, p.Danger, p.Level, p.Slot, owner, results)
			}
		}
	}
}
