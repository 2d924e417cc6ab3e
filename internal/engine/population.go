package engine

import (
	"slices"
)

// ObjectID names an object an evaluation judged.
type ObjectID struct {
	Kind, Name string
	// Group is the object's API group where it is not one of Kubernetes' own (see
	// IdentityKind), empty otherwise.
	Group string
	// Workload is true for workload kinds (checks that target KindWorkload judge them).
	Workload bool
}

// IdentityKind is the object's kind with its group where that is not one of Kubernetes' own.
func (o ObjectID) IdentityKind() string {
	if o.Group == "" {
		return o.Kind
	}
	return o.Kind + "." + o.Group
}

// Population lists the objects of the summary that check c judged, as sorted "Kind/name"
// entries, the kind being its IdentityKind (Istio's Gateway edge is
// "Gateway.networking.istio.io/edge" beside the Gateway API's "Gateway/edge"): the population
// an auditor samples from. Cluster checks have none.
func (s *Summary) Population(c *PlannedCheck) []string {
	var out []string
	all := slices.Contains(c.Targets, KindWorkload) || c.JudgesPodTemplates()
	for _, o := range s.Objects {
		if (all && o.Workload) || slices.Contains(c.Targets, o.Kind) {
			out = append(out, o.IdentityKind()+"/"+o.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckCounts are how many results of check c were passes, failures, excepted failures and
// NotAssessed (those unread, Result.Unread, among them: not tested, whatever their criterion
// makes of them).
func (s *Summary) CheckCounts(c *PlannedCheck) (pass, fail, excepted, notAssessed int) {
	if c.index >= len(s.tallies) {
		return 0, 0, 0, 0
	}
	t := s.tallies[c.index]
	return t.pass, t.fail, t.excepted, t.notAssessed + t.unread
}
