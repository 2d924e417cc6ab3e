package engine

import (
	"maps"
	"slices"
	"strings"
)

// Unseen is a kind an evaluation should hold but could not read: the operator's ServiceAccount
// may not list it (a cluster admin trimmed its ClusterRole), so the inventory has none of its
// objects, and its absence says nothing about the cluster.
type Unseen struct {
	// Namespaced is false for cluster-scoped kinds.
	Namespaced bool
	// Reason says why the kind is not in view and what restores it, for the results' messages.
	Reason string
}

// unseenReads returns why a check that reads kinds the inventory does not hold cannot decide
// ("" when it reads none): an object missing from the inventory is no evidence that it is
// missing from the cluster (a NetworkPolicy the operator may not list still isolates the pods).
func (inv *Inventory) unseenReads(c *PlannedCheck) string {
	if len(inv.Unseen) == 0 {
		return ""
	}
	return unseenAmong(inv.Unseen, c.Reads, anyUnseen)
}

func anyUnseen(Unseen) bool { return true }

// Unseen returns the kinds of unseen that a check of the plan judges or reads (KindWorkload
// standing for every workload kind), nil when there is none: a kind no check of the plan needs
// (ConfigMaps withheld from the operator, with sec-configmap-credentials off) takes nothing from
// its evaluations, which are complete, and saying otherwise would raise an alarm that never
// ends and means nothing.
func (p *Plan) Unseen(unseen map[string]Unseen) map[string]Unseen {
	var out map[string]Unseen
	keep := func(kind string) {
		if u, ok := unseen[kind]; ok {
			if out == nil {
				out = map[string]Unseen{}
			}
			out[kind] = u
		}
	}
	if len(unseen) == 0 {
		return nil
	}
	for _, c := range p.Checks {
		eachKind(c.Targets, keep)
		eachKind(c.Reads, keep)
	}
	return out
}

// eachKind calls f with each of kinds, KindWorkload standing for every workload kind.
func eachKind(kinds []string, f func(kind string)) {
	for _, k := range kinds {
		if k == KindWorkload {
			for _, w := range sortedWorkloadKinds {
				f(w)
			}
			continue
		}
		f(k)
	}
}

// UnseenMessage says which kinds the evaluation could not read and why, or "" when it read
// every kind: a report of such an evaluation is not a complete one.
func (ev *Evaluation) UnseenMessage() string {
	return unseenAmong(ev.Unseen, slices.Sorted(maps.Keys(ev.Unseen)), anyUnseen)
}

// unseenAmong names the kinds of unseen among kinds (KindWorkload standing for every workload
// kind) that counts, with the reasons, or "" when there is none.
func unseenAmong(unseen map[string]Unseen, kinds []string, counts func(Unseen) bool) string {
	var names []string
	reasons := map[string]bool{}
	var why []string
	add := func(kind string) {
		u, ok := unseen[kind]
		if !ok || !counts(u) || slices.Contains(names, kind) {
			return
		}
		names = append(names, kind)
		if !reasons[u.Reason] {
			reasons[u.Reason] = true
			why = append(why, u.Reason)
		}
	}
	eachKind(kinds, add)
	if len(names) == 0 {
		return ""
	}
	return "the operator cannot read " + strings.Join(names, ", ") + " objects (" + strings.Join(why, "; ") + ")"
}

// sortedWorkloadKinds are the kinds KindWorkload stands for, in a fixed order for messages.
var sortedWorkloadKinds = func() []string {
	var out []string
	for k := range workloadKinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}()

// judgeUnseen records, for every check that judges a kind the inventory could not read, one
// NotAssessed result per namespace in view (on its Namespace object) for namespaced kinds, and
// one for the cluster-scoped objects (unless Options.SkipClusterScoped): without them the check
// would have nothing to judge there and drop out of its criteria, which would then read Pass
// on the checks that could see (a RoleBinding granting every Secret to a tenant's users, with
// the operator unable to list RoleBindings, left the namespace Compliant).
func (b *builder) judgeUnseen(ctx *Context) {
	inv := ctx.Inventory
	namespaced := func(u Unseen) bool { return u.Namespaced }
	clusterScoped := func(u Unseen) bool { return !u.Namespaced }
	for _, c := range b.ev.Plan.Checks {
		if why := unseenAmong(inv.Unseen, c.Targets, namespaced); why != "" {
			for _, ns := range inv.byKind["Namespace"] {
				sum := b.summary(ns.Name)
				r := Result{Check: c, Object: ns, Status: StatusNotAssessed, Message: Truncate(Printable(why))}
				b.commit(&r, sum)
			}
		}
		if b.ev.Options.SkipClusterScoped {
			continue
		}
		if why := unseenAmong(inv.Unseen, c.Targets, clusterScoped); why != "" {
			r := Result{Check: c, Status: StatusNotAssessed, Message: Truncate(Printable(why))}
			b.commit(&r, b.summary(""))
		}
	}
}
