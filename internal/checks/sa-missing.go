package checks

import (
	"fmt"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var saMissing = &engine.Check{
	ID:    "sa-missing",
	Title: "Workloads refer to ServiceAccounts that exist",
	Description: "A pod whose ServiceAccount does not exist is refused by the API server, and whoever " +
		"later creates a ServiceAccount of that name decides what the workload may do. In scan, a " +
		"workload whose ServiceAccount the files do not hold is NotAssessed, as is one whose ServiceAccount they hold " +
		"but the API server refuses (an invalid name, label or annotation), which is never created. Identities " +
		"that are provisioned before they are used support logical access security (CC6.1)." + supporting,
	Remediation: "Create the ServiceAccount alongside the workload, or correct serviceAccountName.",
	Severity:    low,
	Criteria:    []v1alpha1.Criterion{cc61},
	Targets:     workload,
	Reads:       []string{"ServiceAccount"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		name := podServiceAccount(o)
		sa, refused := acceptedServiceAccount(ctx.Inventory, o.Namespace, name)
		switch {
		case name == "default" || (sa != nil && refused == ""):
			ctx.Pass("")
		case ctx.Inventory.Complete:
			ctx.Fail("", "ServiceAccount %q does not exist in namespace %q", name, o.Namespace)
		case refused != "":
			// Never created: the cluster may hold a ServiceAccount of that name, or not.
			ctx.NotAssessed("", fmt.Sprintf("ServiceAccount %q is refused by the API server (%s), so never created: whether the cluster holds one of that name is not known", name, refused))
		default:
			ctx.NotAssessed("", fmt.Sprintf("ServiceAccount %q is not in the scanned input", name))
		}
	},
}
