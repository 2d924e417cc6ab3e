package checks

import (
	"fmt"
	"slices"
	"testing"

	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// A namespace pinned to an older Pod Security version misses the controls introduced after it,
// up to the version the profile judges with; later adjustments (which mostly admit more) do not
// count, and neither does a pin that does not parse (admission enforces latest then).
func TestPSSControlsMissedByPin(t *testing.T) {
	v := func(s string) psaapi.Version {
		t.Helper()
		out, err := psaapi.ParseVersion(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		level     psaapi.Level
		pin, want string
		missed    string
		// profile is the level the profile asks for; restricted when empty.
		profile psaapi.Level
	}{
		{psaapi.LevelRestricted, "v1.22", "latest", "hostProbesAndHostLifecycle (v1.34), procMount_restricted (v1.35), runAsUser (v1.23)", ""},
		{psaapi.LevelRestricted, "v1.22", "v1.30", "runAsUser (v1.23)", ""},
		{psaapi.LevelBaseline, "v1.22", "latest", "hostProbesAndHostLifecycle (v1.34)", ""},
		{psaapi.LevelBaseline, "v1.18", "v1.30", "seccompProfile_baseline (v1.19)", ""},
		{psaapi.LevelBaseline, "v1.19", "v1.30", "", ""},
		{psaapi.LevelBaseline, "v1.18", "v1.18", "", ""},
		{psaapi.LevelRestricted, "v1.18", "v1.30", "capabilities_restricted (v1.22), runAsUser (v1.23), seccompProfile_baseline (v1.19), seccompProfile_restricted (v1.19)", ""},
		{psaapi.LevelRestricted, "v1.36", "latest", "", ""},
		{psaapi.LevelRestricted, "latest", "latest", "", ""},
		{psaapi.LevelRestricted, "1.20", "latest", "", ""},
		{psaapi.LevelRestricted, "", "latest", "", ""},
		{psaapi.LevelRestricted, "v1.34", "latest", "", psaapi.LevelBaseline},
		{psaapi.LevelRestricted, "v1.22", "latest", "hostProbesAndHostLifecycle (v1.34)", psaapi.LevelBaseline},
		{psaapi.LevelBaseline, "v1.22", "latest", "hostProbesAndHostLifecycle (v1.34)", psaapi.LevelBaseline},
	} {
		profile := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: v(tc.want)}
		if tc.profile != "" {
			profile.Level = tc.profile
		}
		if got := pssControlsMissedByPin(tc.level, tc.pin, profile); got != tc.missed {
			t.Errorf("%s pinned %q, profile %s: missed %q, want %q", tc.level, tc.pin, profile, got, tc.missed)
		}
	}
}

// Every later version of a Pod Security check either tightens it (pssTightenedIn, which the pin
// check counts) or admits more than the version before (listed here with why): a new version
// in an update of k8s.io/pod-security-admission must be put in one or the other.
func TestPSSLaterVersionsAreKnown(t *testing.T) {
	relaxed := map[string]string{
		"allowPrivilegeEscalation v1.25":  "Windows pods are exempt",
		"capabilities_restricted v1.25":   "Windows pods are exempt",
		"seccompProfile_restricted v1.25": "Windows pods are exempt",
		"seLinuxOptions v1.31":            "container_engine_t is allowed",
		"procMount v1.35":                 "pods in a user namespace may set any procMount",
		"runAsNonRoot v1.35":              "pods in a user namespace may run as root",
		"runAsUser v1.35":                 "pods in a user namespace may run as UID 0",
		"sysctls v1.27":                   "more sysctls are safe",
		"sysctls v1.29":                   "more sysctls are safe",
		"sysctls v1.32":                   "more sysctls are safe",
		"sysctls v1.37":                   "more sysctls are safe",
	}
	for _, c := range policy.DefaultChecks() {
		for _, v := range c.Versions[1:] {
			key := fmt.Sprintf("%s %s", c.ID, v.MinimumVersion)
			tightened := slices.Contains(pssTightenedIn[c.ID], v.MinimumVersion)
			_, relaxes := relaxed[key]
			if tightened == relaxes {
				t.Errorf("%s: put it in exactly one of pssTightenedIn (forbids what the version before admits) and this test's relaxed list", key)
			}
			delete(relaxed, key)
		}
	}
	for key := range relaxed {
		t.Errorf("%s: no such version of a Pod Security check", key)
	}
}
