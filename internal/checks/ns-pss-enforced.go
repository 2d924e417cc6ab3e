package checks

import (
	"fmt"
	"strings"

	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

const pssEnforceLabel = "pod-security.kubernetes.io/enforce"

var nsPssEnforced = &engine.Check{
	ID:    "ns-pss-enforced",
	Title: "Namespaces enforce a Pod Security Standard",
	Description: "Pod Security Admission at baseline or restricted stops privileged pods from being " +
		"admitted at all, a preventive control (CC6.8) applied to every change (CC8.1). A namespace " +
		"that pins pod-security.kubernetes.io/enforce-version to a version older than the profile's " +
		"spec.podSecurity.version (latest by default) fails when controls of its level were introduced " +
		"since, as k8s.io/pod-security-admission " + PodSecurityLibraryVersion + " dates them: " +
		"admission then enforces the older policy." + supporting,
	Remediation: "Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline), and " +
		"leave enforce-version unset or latest (or pin the version the profile judges with).",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc68, cc81},
	Targets:  []string{"Namespace"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		switch level := o.Labels()[pssEnforceLabel]; level {
		case "baseline", "restricted":
			if missed := pssControlsMissedByPin(psaapi.Level(level), o.Labels()[psaapi.EnforceVersionLabel], ctx.Params.PodSecurity.Version); missed != "" {
				ctx.Fail("", "%s is %s, so Pod Security admission enforces %s as of then and misses the controls introduced since: %s",
					psaapi.EnforceVersionLabel, o.Labels()[psaapi.EnforceVersionLabel], level, missed)
				return
			}
			ctx.Pass("")
		case "":
			ctx.Fail("", "no %s label: Pod Security Admission does not enforce any level", pssEnforceLabel)
		default:
			ctx.Fail("", "%s is %q; want baseline or restricted", pssEnforceLabel, level)
		}
	},
}

// pssControlsMissedByPin lists the Pod Security controls of level (and the levels below it) that
// k8s.io/pod-security-admission introduced after the pinned enforce-version and no later
// than want (the version the profile judges with), each with the version that brought it; "" when
// none, the pin is latest or absent, or it does not parse (admission then enforces latest:
// PolicyToEvaluate and ParseVersion in the library's api package).
func pssControlsMissedByPin(level psaapi.Level, pin string, want psaapi.Version) string {
	if pin == "" {
		return ""
	}
	pinned, err := psaapi.ParseVersion(pin)
	if err != nil || pinned.Latest() {
		return ""
	}
	var missed []string
	for _, c := range policy.DefaultChecks() {
		if psaapi.CompareLevels(c.Level, level) > 0 {
			continue
		}
		// A check's first version is when the control came in; its later versions adjust it,
		// mostly to admit more (sysctls found safe, Windows pods, user namespaces), which an
		// older pin enforces more strictly, not less.
		introduced := c.Versions[0].MinimumVersion
		if pinned.Older(introduced) && !want.Older(introduced) {
			missed = append(missed, fmt.Sprintf("%s (%s)", c.ID, introduced))
		}
	}
	return strings.Join(missed, ", ")
}
