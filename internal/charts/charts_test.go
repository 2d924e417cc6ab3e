package charts

import (
	"strings"
	"testing"
	"time"
)

// A span whose state does not rest on every check of the criterion is drawn faded and its
// tooltip names the checks; one that rests on all of them is drawn solid.
func TestAStateRestingOnFewerChecksIsDrawnFaded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := Period{From: t0, To: t0.Add(2 * time.Hour)}
	var b strings.Builder
	CriterionChart(&b, p, "CC7.1", []Row{{Label: "team-a", Namespace: "team-a", Spans: []Span{
		{From: t0, To: t0.Add(time.Hour), State: "Pass", Unassessed: "img-critical-cves"},
		{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour), State: "Pass"},
	}}})
	svg := b.String()
	if !strings.Contains(svg, `fill-opacity="`+UnassessedOpacity+`"><title>team-a CC7.1: Pass `) || !strings.Contains(svg, "; not assessed: img-critical-cves</title>") {
		t.Errorf("the span resting on fewer checks is not drawn faded with them named:\n%s", svg)
	}
	if strings.Count(svg, `fill-opacity="1"`) != 1 {
		t.Errorf("want the span resting on every check drawn solid:\n%s", svg)
	}
}

// A Pass whose checks left some resources undecided (a tenant's workload pushed past what the
// operator reads, its failure hidden as NotAssessed) is not drawn as one of every resource.
func TestAStateRestingOnTheResourcesDecidedIsDrawnFaded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := Period{From: t0, To: t0.Add(2 * time.Hour)}
	var b strings.Builder
	CriterionChart(&b, p, "CC6.1", []Row{{Label: "team-a", Namespace: "team-a", Spans: []Span{
		{From: t0, To: t0.Add(time.Hour), State: "Pass", Undecided: "sec-literal-env-credentials"},
		{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour), State: "Pass"},
	}}})
	svg := b.String()
	if !strings.Contains(svg, `fill-opacity="`+UnassessedOpacity+`"><title>team-a CC6.1: Pass `) || !strings.Contains(svg, "; resources left undecided by: sec-literal-env-credentials</title>") {
		t.Errorf("the span resting on the resources decided is not drawn faded with its checks named:\n%s", svg)
	}
	if strings.Count(svg, `fill-opacity="1"`) != 1 {
		t.Errorf("want the span resting on every resource drawn solid:\n%s", svg)
	}
}
