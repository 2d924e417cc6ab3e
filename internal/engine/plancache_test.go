package engine_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

func TestPlanCacheCompilesAProfileOncePerChange(t *testing.T) {
	catalogue := []*engine.Check{privileged}
	profile := func(uid types.UID, generation int64) *v1alpha1.ComplianceProfile {
		return &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "baseline", UID: uid, Generation: generation}}
	}
	var c engine.PlanCache
	first := c.Plan(catalogue, profile("a", 1))
	if first.ProfileName != "baseline" || first.ProfileGeneration != 1 {
		t.Fatalf("plan of %s generation %d, want baseline generation 1", first.ProfileName, first.ProfileGeneration)
	}
	cases := []struct {
		name    string
		profile *v1alpha1.ComplianceProfile
		same    bool
	}{
		{"the same generation keeps the plan", profile("a", 1), true},
		{"a new generation compiles again", profile("a", 2), false},
		{"the profile deleted and created again (a new UID) compiles again", profile("b", 2), false},
	}
	prev := first
	for _, tc := range cases {
		got := c.Plan(catalogue, tc.profile)
		if (got == prev) != tc.same {
			t.Errorf("%s: same plan %v, want %v", tc.name, got == prev, tc.same)
		}
		if got.ProfileGeneration != tc.profile.Generation {
			t.Errorf("%s: plan of generation %d, want %d", tc.name, got.ProfileGeneration, tc.profile.Generation)
		}
		prev = got
	}
	c.Forget("baseline")
	if got := c.Plan(catalogue, profile("b", 2)); got == prev {
		t.Error("after Forget the same plan came back; want a new one")
	}
}
