package checks

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// pssModule is the module whose policy package decides the Pod Security Standards checks, and
// whose test/testdata holds the fixtures Kubernetes tests it with.
const pssModule = "k8s.io/pod-security-admission"

// pssCheckIDs are the catalogue checks that report a control, sorted.
func pssCheckIDs() []string {
	var ids []string
	for _, cs := range pssControlChecks {
		for _, c := range cs {
			if !slices.Contains(ids, c) {
				ids = append(ids, c)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// moduleDir finds the pod-security-admission module of the build list in the module cache.
func moduleDir(t *testing.T) (dir, version string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", pssModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", pssModule, err)
	}
	var m struct{ Dir, Version string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("go list -m %s: %v", pssModule, err)
	}
	if m.Dir == "" {
		m.Dir = downloadedModule(t, pssModule, m.Version)
	}
	return m.Dir, m.Version
}

// downloadedModule returns the directory of a module version in the module cache, downloading
// it through the Go module proxy first if need be. The conformance tests read other projects'
// test suites this way, at pinned versions, without adding those projects to go.mod.
func downloadedModule(t *testing.T, path, version string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", path+"@"+version).Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr != nil || m.Dir == "" {
		t.Fatalf("go mod download %s@%s gave no directory: %v %v %s", path, version, err, jerr, m.Error)
	}
	return m.Dir
}

var fixtureControl = regexp.MustCompile(`^([a-z_]+?)[0-9]*\.yaml$`)

// controlOf returns the library check ID a fixture file is named for ("" for base.yaml).
func controlOf(file string) string {
	m := fixtureControl.FindStringSubmatch(file)
	if m == nil {
		return ""
	}
	for id := range pssControlChecks {
		if strings.ToLower(id) == m[1] {
			return id
		}
	}
	return ""
}

// TestPodSecurityStandardsConformance runs every Pod Security Standards fixture of the
// pod-security-admission module (test/testdata/{baseline,restricted}/v1.N/{pass,fail}) through
// the catalogue's PSS checks at that level and version. A fail fixture must fail a check that
// reports its control; a pass fixture must fail none of the PSS checks.
func TestPodSecurityStandardsConformance(t *testing.T) {
	dir, version := moduleDir(t)
	if version != PodSecurityLibraryVersion {
		t.Errorf("the build list has %s %s, but the checks say %s decides them: update PodSecurityLibraryVersion", pssModule, version, PodSecurityLibraryVersion)
	}
	byID := map[string]*engine.Check{}
	for _, c := range Catalogue() {
		byID[c.ID] = c
	}
	var pss []*engine.Check
	for _, id := range pssCheckIDs() {
		if c := byID[id]; c != nil {
			pss = append(pss, c)
		} else {
			t.Errorf("check %s, which reports a Pod Security Standards control, is not in the catalogue", id)
		}
	}

	full, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	type tally struct{ fixtures, agree int }
	counts := map[string]*tally{} // by level
	versions := map[string]int{}
	var failures []string
	for _, level := range []string{"baseline", "restricted"} {
		counts[level] = &tally{}
		versionDirs, err := filepath.Glob(filepath.Join(dir, "test", "testdata", level, "v1.*"))
		if err != nil || len(versionDirs) == 0 {
			t.Fatalf("no fixtures for %s in %s: %v", level, dir, err)
		}
		sort.Slice(versionDirs, func(i, j int) bool { return minorOf(versionDirs[i]) < minorOf(versionDirs[j]) })
		for _, vdir := range versionDirs {
			v := filepath.Base(vdir)
			versions[level]++
			plan := engine.Compile(pss, pssProfile(level, v))
			for _, p := range plan.Problems {
				t.Fatalf("%s %s: %s", level, v, p.Message)
			}
			for _, expect := range []string{"pass", "fail"} {
				files, _ := filepath.Glob(filepath.Join(vdir, expect, "*.yaml"))
				for _, f := range files {
					counts[level].fixtures++
					name := fmt.Sprintf("%s/%s/%s/%s", level, v, expect, filepath.Base(f))
					failed, pod, err := failingChecks(plan, f)
					if err != nil {
						failures = append(failures, name+": "+err.Error())
						continue
					}
					// The catalogue's checks together must agree with the library's evaluator
					// over all its checks, as the admission plugin runs it: on the pod with the
					// API server's defaults (the fixtures expect a volume without a source to
					// pass, as the emptyDir it becomes).
					lv := psaapi.LevelVersion{Level: psaapi.Level(level), Version: mustVersion(t, v)}
					if libAllowed := allowed(full.EvaluatePod(lv, pod.PodMeta, apiServerDefaults(pod.PodSpec))); libAllowed != (len(failed) == 0) {
						failures = append(failures, fmt.Sprintf("%s: the library's evaluator allows it: %v, but the checks fail %v", name, libAllowed, failed))
						continue
					}
					control := controlOf(filepath.Base(f))
					switch {
					case expect == "pass" && len(failed) > 0:
						failures = append(failures, fmt.Sprintf("%s: want no PSS check to fail, got %s", name, strings.Join(failed, ", ")))
					case expect == "fail" && control == "":
						failures = append(failures, fmt.Sprintf("%s: the fixture names no known control", name))
					case expect == "fail" && !slices.ContainsFunc(pssControlChecks[control], func(c string) bool { return slices.Contains(failed, c) }):
						failures = append(failures, fmt.Sprintf("%s: want %s to fail (control %s), got failures %v", name, strings.Join(pssControlChecks[control], " or "), control, failed))
					default:
						counts[level].agree++
					}
				}
			}
		}
	}
	total, agree := 0, 0
	for _, level := range []string{"baseline", "restricted"} {
		c := counts[level]
		total += c.fixtures
		agree += c.agree
		t.Logf("%s: %d fixtures in %d versions, %d agree", level, c.fixtures, versions[level], c.agree)
	}
	t.Logf("%s %s: %d of %d fixtures agree (%.1f%%)", pssModule, version, agree, total, 100*float64(agree)/float64(max(total, 1)))
	for _, f := range failures {
		t.Error(f)
	}
}

func minorOf(dir string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), "v1."))
	return n
}

// pssProfile is a profile that asks for a Pod Security Standards level and version.
func pssProfile(level, version string) *v1alpha1.ComplianceProfile {
	return &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{
		PodSecurity: &v1alpha1.PodSecurity{Level: v1alpha1.PodSecurityLevel(level), Version: version},
	}}
}

func mustVersion(t *testing.T, v string) psaapi.Version {
	version, err := psaapi.ParseVersion(v)
	if err != nil {
		t.Fatal(err)
	}
	return version
}

// failingChecks evaluates one fixture file and lists the checks that fail it, with the pod.
func failingChecks(plan *engine.Plan, file string) ([]string, *engine.Workload, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	objs, errs := manifest.Decode(file, data)
	if len(errs) > 0 {
		return nil, nil, errs[0]
	}
	if len(objs) != 1 || objs[0].Workload == nil {
		return nil, nil, fmt.Errorf("want one pod, got %d objects", len(objs))
	}
	manifest.DefaultNamespace(objs, "default")
	ev := plan.Evaluate(engine.NewInventory(objs, false), nil, engine.Options{Now: fixtureNow})
	var failed []string
	for _, r := range ev.Results {
		if strings.HasPrefix(r.Message, "internal error") {
			return nil, nil, fmt.Errorf("%s: %s", r.Check.ID, r.Message)
		}
		if r.Status == engine.StatusFail && !slices.Contains(failed, r.Check.ID) {
			failed = append(failed, r.Check.ID)
		}
	}
	sort.Strings(failed)
	return failed, objs[0].Workload, nil
}

// TestPSSMappingMatchesTheChecks holds the conformance test's map of controls to checks to
// what the checks say decides them, and to the library: every check of the library's policy
// has a catalogue check, so a new control in a library update fails here until it is mapped.
func TestPSSMappingMatchesTheChecks(t *testing.T) {
	decided := map[string]*pssControl{
		"wl-privileged": pssPrivileged, "wl-privilege-escalation": pssPrivilegeEscalation,
		"wl-run-as-root": pssRunAsRoot, "wl-host-namespaces": pssHostNamespaces,
		"wl-host-network": pssHostNetwork, "wl-host-port": pssHostPort, "wl-host-probes": pssHostProbes,
		"wl-hostpath": pssHostPath, "wl-volume-types": pssVolumeTypes, "wl-dangerous-caps": pssDangerousCaps,
		"wl-drop-all-caps": pssDropAllCaps, "wl-seccomp": pssSeccomp, "wl-apparmor-selinux": pssApparmorSelinux,
		"wl-procmount": pssProcmount, "wl-unsafe-sysctls": pssUnsafeSysctls, "wl-windows-hostprocess": pssWindowsHostprocess,
	}
	if got, want := len(decided), len(pssCheckIDs()); got != want {
		t.Errorf("%d checks are decided by the library, the conformance map names %d", got, want)
	}
	for control, ids := range pssControlChecks {
		for _, id := range ids {
			c := decided[id]
			if c == nil || !slices.Contains(c.checks, policy.CheckID(control)) {
				t.Errorf("the conformance map says %s reports %s, but the check is not decided by it", id, control)
			}
		}
	}
	for _, lib := range policy.DefaultChecks() {
		if _, ok := pssControlChecks[string(lib.ID)]; !ok {
			t.Errorf("k8s.io/pod-security-admission %s has check %q, which no catalogue check reports", PodSecurityLibraryVersion, lib.ID)
		}
	}
	for id, c := range decided {
		if _, _, err := c.evaluators(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
