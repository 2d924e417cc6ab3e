package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
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
		"spec.podSecurity.version (latest by default) fails when controls of its level, up to the profile's " +
		"spec.podSecurity.level, were introduced (or tightened) since, as k8s.io/pod-security-admission " +
		PodSecurityLibraryVersion + " dates them: " +
		"admission then enforces the older policy (baseline pinned before v1.19 reads seccomp only from " +
		"the alpha annotations, which do nothing since v1.27, and admits seccompProfile.type Unconfined). " +
		"Labels Pod Security admission cannot parse (enforce: Baseline, enforce-version: 1.30) fail in a scan, " +
		"since admission refuses a namespace created or relabelled with them; in the cluster, where such a label " +
		"can only have been set while admission was off, the check judges what admission enforces for it " +
		"(restricted for a level, latest for a version). So does, in a scan, a namespace the API server refuses for its metadata " +
		"(a name that is not a DNS label, an invalid label or annotation): its labels never apply. A custom resource of another API group " +
		"whose kind is Namespace is no namespace (admission reads no label of it): NotApplicable." + supporting,
	Remediation: "Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline), and " +
		"leave enforce-version unset or latest (or pin the version the profile judges with).",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc68, cc81},
	Targets:  []string{"Namespace"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if notNamespace(ctx, o) {
			return
		}
		if !ctx.Inventory.Complete {
			// Such a namespace is never created, nor an existing one changed to it: its
			// enforce label applies nowhere.
			if why := refusedNamespaceMeta(ctx.Inventory, o); why != "" {
				ctx.Fail("", "the API server refuses the namespace (%s), so the manifest does not apply", why)
				return
			}
		}
		labels := o.Labels()
		enforced, invalid := psaapi.PolicyToEvaluate(labels, psaapi.Policy{})
		if len(invalid) > 0 && !ctx.Inventory.Complete {
			// Pod Security admission refuses a namespace created with such labels, or changed
			// to them (ValidateNamespace): the manifest does not apply.
			ctx.Fail("", "the API server's Pod Security admission refuses the namespace's labels, so the manifest does not apply: %s", invalid.ToAggregate())
			return
		}
		level, labelled := labels[pssEnforceLabel]
		if labelled {
			// A label admission cannot parse, set while it was off, is enforced as restricted
			// (ParseLevel).
			level = string(enforced.Enforce.Level)
		}
		switch level {
		case "baseline", "restricted":
			if missed := pssControlsMissedByPin(psaapi.Level(level), o.Labels()[psaapi.EnforceVersionLabel], ctx.Params.PodSecurity); missed != "" {
				ctx.Fail("", "%s is %s, so Pod Security admission enforces %s as of then and misses the controls introduced or tightened since: %s",
					psaapi.EnforceVersionLabel, o.Labels()[psaapi.EnforceVersionLabel], level, missed)
				return
			}
			ctx.Pass("")
		case "":
			// PodSecurity admission then applies the defaults of the API server's admission
			// configuration (api.PolicyToEvaluate), which no object shows.
			ctx.Fail("", "no %s label: Pod Security Admission enforces only the cluster's default level (privileged unless the API server's PodSecurity admission configuration sets defaults.enforce)", pssEnforceLabel)
		default:
			ctx.Fail("", "%s is %q; want baseline or restricted", pssEnforceLabel, level)
		}
	},
}

// pssTightenedIn are the later versions of Pod Security checks that forbid what the check's
// earlier versions admit. Every other later version of a check admits more than the one before
// (sysctls found safe, Windows pods, pods in a user namespace: TestPSSLaterVersionsAreKnown), so
// an older pin enforces it more strictly, not less. seccompProfile_baseline's first version reads
// only the seccomp alpha annotations, which have done nothing since v1.27 (the API server no longer
// copies securityContext.seccompProfile into them); from v1.19 it reads the field, which is what
// the kubelet applies: a namespace pinned before v1.19 admits seccompProfile.type Unconfined.
var pssTightenedIn = map[policy.CheckID][]psaapi.Version{
	"seccompProfile_baseline": {psaapi.MajorMinorVersion(1, 19)},
}

// pssControlsMissedByPin lists the Pod Security controls of level (and the levels below it), and
// of the level the profile asks for (want.Level), that k8s.io/pod-security-admission introduced,
// or tightened (pssTightenedIn), after the pinned enforce-version and no later than the version
// the profile judges with (want.Version), each with the version that brought it; "" when none,
// the pin is latest or absent, or it does not parse (admission then enforces latest:
// PolicyToEvaluate and ParseVersion in the library's api package). A control of a level above
// the profile's is not missed: the profile does not ask for it (its checks say NotApplicable),
// and a namespace enforcing restricted pinned to v1.34 enforces all of baseline at latest, as an
// unpinned baseline namespace does.
func pssControlsMissedByPin(level psaapi.Level, pin string, want psaapi.LevelVersion) string {
	if pin == "" {
		return ""
	}
	pinned, err := psaapi.ParseVersion(pin)
	if err != nil || pinned.Latest() {
		return ""
	}
	var missed []string
	for _, c := range policy.DefaultChecks() {
		if psaapi.CompareLevels(c.Level, level) > 0 || psaapi.CompareLevels(c.Level, want.Level) > 0 {
			continue
		}
		// The control came in with the check's first version; of its later versions only the
		// tightenings enforce anything an older pin does not. The earliest one the pin misses
		// is named (the rest come after it).
		for _, v := range append([]psaapi.Version{c.Versions[0].MinimumVersion}, pssTightenedIn[c.ID]...) {
			if pinned.Older(v) && !want.Version.Older(v) {
				missed = append(missed, fmt.Sprintf("%s (%s)", c.ID, v))
				break
			}
		}
	}
	return strings.Join(missed, ", ")
}

// refusedNamespaceMeta says why, in a scan, the API server refuses a Namespace manifest for its
// metadata, or "": ValidateNamespace (k8s.io/kubernetes v1.37.2 pkg/apis/core/validation), its
// metadata with a DNS label for a name, on create and on update alike. Decided once per Namespace.
func refusedNamespaceMeta(inv *engine.Inventory, o *engine.Object) string {
	ns, ok := o.Obj.(*corev1.Namespace)
	if !ok || inv.Complete {
		return ""
	}
	return inv.Memo(o, "namespace.refusedMeta", func() any {
		return refusedMeta(&ns.ObjectMeta, false, apimachineryvalidation.ValidateNamespaceName)
	}).(string)
}

// labelledNamespace is the Namespace object of that name whose labels apply, or nil: none when
// the input does not hold it or, in a scan, the API server refuses its manifest, for its metadata
// (refusedNamespaceMeta) or for Pod Security labels admission cannot parse (PolicyToEvaluate,
// k8s.io/pod-security-admission v0.37.2, which its ValidateNamespace refuses on create, and on an
// update that changes them). Such a manifest neither creates the namespace nor relabels one that
// exists: where an earlier copy of it the API server takes is in the input (Inventory.Earlier),
// the last such copy is the namespace (kubectl apply created it from that copy and failed to
// update it with the later one); otherwise the checks that select namespaces by label judge it as
// a Namespace not in the input. Until December 2026 a refused later copy hid the earlier one, and
// a route a Gateway's listener admits by the earlier copy's labels was NotAssessed. Decided once
// per Namespace.
func labelledNamespace(inv *engine.Inventory, name string) *engine.Object {
	o := inv.Get("Namespace", "", name)
	if o == nil || inv.Complete {
		return o
	}
	refused := func(o *engine.Object) bool {
		return inv.Memo(o, "namespace.refused", func() any {
			if why := refusedNamespaceMeta(inv, o); why != "" {
				return true
			}
			_, invalid := psaapi.PolicyToEvaluate(o.Labels(), psaapi.Policy{})
			return len(invalid) > 0
		}).(bool)
	}
	if !refused(o) {
		return o
	}
	earlier := inv.Earlier(o)
	for i := len(earlier) - 1; i >= 0; i-- {
		if !refused(earlier[i]) {
			return earlier[i]
		}
	}
	return nil
}
