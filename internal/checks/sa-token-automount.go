package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var saTokenAutomount = &engine.Check{
	ID:    "sa-token-automount",
	Title: "Pods do not mount a service account token they do not need",
	Description: "Unless the pod or its ServiceAccount sets automountServiceAccountToken: false, every " +
		"container gets an API token (but one that mounts something of its own at " + engine.ServiceAccountTokenPath +
		"), and a pod the API server admitted with the token mounted keeps it when the ServiceAccount " +
		"turns automount off later: whoever compromises the container can act with the " +
		"ServiceAccount's permissions. In scan, a pod that leaves the setting to a ServiceAccount the files do not hold " +
		"is NotAssessed, but for a namespace's default one, which Kubernetes creates without it; so is one the files hold " +
		"but the API server refuses (an invalid name, label or annotation), which is never created. " +
		"Mounting credentials only where they are needed supports " +
		"logical access security (CC6.1)." + supporting,
	Remediation: "Set automountServiceAccountToken: false on the ServiceAccount (or the pod spec), and set it to true only on pods that call the Kubernetes API.",
	Severity:    medium,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Reads:       []string{"ServiceAccount"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		spec := o.Workload.Pod()
		if spec.Mirror {
			ctx.Pass("")
			return
		}
		if spec.TokenPathMasked && len(spec.TokenContainers) == 0 {
			// Every container mounts something of its own at the token's path: the
			// ServiceAccount admission plugin mounts the automatic token into none of them.
			ctx.Pass("")
			return
		}
		into := ""
		if spec.TokenPathMasked {
			into = fmt.Sprintf(": the token is mounted into %s", containerList(spec.TokenContainers))
		}
		switch pod := spec.AutomountServiceAccountToken; {
		case isFalse(pod):
			ctx.Pass("")
			return
		case isTrue(pod):
			ctx.Fail("", "the pod spec sets automountServiceAccountToken: true%s", into)
			return
		}
		if o.Kind == "Pod" && ctx.Inventory.Complete && !spec.TokenPathMounted {
			// A Pod the API server holds (or admits: the webhook validates after the
			// ServiceAccount admission plugin) has been through the plugin, which mounts the
			// token when automount is on; with nothing mounted at the token path it holds no
			// token, whatever its ServiceAccount says now (set to false when it was created,
			// unset later), and no token is added to a pod once it exists.
			ctx.Pass("")
			return
		}
		name := podServiceAccount(o)
		account, refused := acceptedServiceAccount(ctx.Inventory, o.Namespace, name)
		absent, aside := "is not in the scanned input", "not in the scanned input"
		if refused != "" {
			// Never created: as if the input did not hold it.
			account = nil
			absent = fmt.Sprintf("is refused by the API server (%s), so never created", refused)
			aside = fmt.Sprintf("which the API server refuses: %s", refused)
		}
		if account == nil {
			switch {
			case ctx.Inventory.Complete:
				ctx.Fail("", "the pod does not set automountServiceAccountToken and ServiceAccount %q does not exist: the Kubernetes default (automount on) applies%s", name, into)
			case name == "default":
				// Kubernetes creates a namespace's default ServiceAccount itself, without the
				// setting: absent from the input, it is as Kubernetes made it.
				ctx.Fail("", "the pod does not set automountServiceAccountToken and ServiceAccount %q %s: the Kubernetes default (automount on) applies%s", name, absent, into)
			case spec.AutomaticToken != "":
				// A Pod exported from a cluster: the plugin mounted the token, which the Pod
				// keeps whatever its ServiceAccount says.
				ctx.Fail("", "the ServiceAccount admission plugin has mounted the token (volume %q) into %s, which the pod keeps whatever ServiceAccount %q (%s) says",
					spec.AutomaticToken, containerList(spec.AutomaticTokenContainers), name, aside)
			default:
				// Any other ServiceAccount exists only as someone wrote it, elsewhere: whether
				// it turns automount off is not known (sa-missing cannot say whether it exists).
				decides := ""
				if spec.TokenPathMasked {
					decides = fmt.Sprintf(" (it decides for %s)", containerList(spec.TokenContainers))
				}
				ctx.NotAssessed("", fmt.Sprintf("ServiceAccount %q %s: whether it sets automountServiceAccountToken: false is not known%s", name, absent, decides))
			}
			return
		}
		if isFalse(account.AutomountServiceAccountToken) {
			if spec.AutomaticToken != "" {
				// Set on the ServiceAccount after the pod was admitted: a pod's volumes
				// cannot change, so the token stays mounted until the pod is replaced.
				ctx.Fail("", "ServiceAccount %q sets automountServiceAccountToken: false, but the ServiceAccount admission plugin has mounted the token (volume %q) into %s when it admitted the pod, which keeps it until it is replaced",
					name, spec.AutomaticToken, containerList(spec.AutomaticTokenContainers))
				return
			}
			ctx.Pass("")
			return
		}
		ctx.Fail("", "neither the pod nor ServiceAccount %q sets automountServiceAccountToken: false%s", name, into)
	},
}

// containerList names containers: `container "a"`, `containers "a", "b"`.
func containerList(names []string) string {
	if len(names) == 1 {
		return "container " + quoteList(names)
	}
	return "containers " + quoteList(names)
}

// acceptedServiceAccount is the ServiceAccount of that namespace and name the cluster holds, as
// far as the input shows: the last copy, unless, in a scan, the API server refuses it
// (refusedServiceAccount), when it is the last earlier copy it takes (Inventory.Earlier: kubectl
// apply created the account from it and failed to update it with the refused one); refused says
// why the last copy is refused when no earlier one is taken (the account is then never created).
// Until December 2026 a refused later copy that turned automount off hid the earlier copy.
func acceptedServiceAccount(inv *engine.Inventory, namespace, name string) (sa *corev1.ServiceAccount, refused string) {
	sa = inv.ServiceAccount(namespace, name)
	if sa == nil {
		return nil, ""
	}
	if refused = refusedServiceAccount(inv, sa); refused == "" {
		return sa, ""
	}
	if o := inv.Get("ServiceAccount", namespace, name); o != nil {
		earlier := inv.Earlier(o)
		for i := len(earlier) - 1; i >= 0; i-- {
			if e, ok := earlier[i].Obj.(*corev1.ServiceAccount); ok && refusedServiceAccount(inv, e) == "" {
				return e, ""
			}
		}
	}
	return sa, refused
}

// refusedServiceAccount says why the API server refuses to create (or to update) a ServiceAccount
// manifest, or "" when it does not: its metadata, the only thing ValidateServiceAccount
// (k8s.io/kubernetes v1.37.2 pkg/apis/core/validation) checks, with ValidateServiceAccountName (a
// DNS subdomain). A ServiceAccount the operator reads exists.
func refusedServiceAccount(inv *engine.Inventory, sa *corev1.ServiceAccount) string {
	return refusedManifestMeta(inv, &sa.ObjectMeta, apimachineryvalidation.ValidateServiceAccountName)
}
