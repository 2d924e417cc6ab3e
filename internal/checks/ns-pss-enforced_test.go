package checks

import (
	"testing"

	psaapi "k8s.io/pod-security-admission/api"
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
	}{
		{psaapi.LevelRestricted, "v1.22", "latest", "hostProbesAndHostLifecycle (v1.34), procMount_restricted (v1.35), runAsUser (v1.23)"},
		{psaapi.LevelRestricted, "v1.22", "v1.30", "runAsUser (v1.23)"},
		{psaapi.LevelBaseline, "v1.22", "latest", "hostProbesAndHostLifecycle (v1.34)"},
		{psaapi.LevelRestricted, "v1.36", "latest", ""},
		{psaapi.LevelRestricted, "latest", "latest", ""},
		{psaapi.LevelRestricted, "1.20", "latest", ""},
		{psaapi.LevelRestricted, "", "latest", ""},
	} {
		if got := pssControlsMissedByPin(tc.level, tc.pin, v(tc.want)); got != tc.missed {
			t.Errorf("%s pinned %q, profile %s: missed %q, want %q", tc.level, tc.pin, tc.want, got, tc.missed)
		}
	}
}
