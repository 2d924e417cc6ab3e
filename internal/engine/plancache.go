package engine

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// PlanCache compiles each profile once per change: a plan stays cached, by the profile's name,
// while the profile keeps its UID and generation (a profile deleted and created again under
// the same name gets a new plan). The reconcilers and the admission webhook each keep one. The
// zero value is ready to use; it is safe for concurrent use.
type PlanCache struct {
	mu    sync.Mutex
	plans map[string]cachedPlan
}

type cachedPlan struct {
	uid        types.UID
	generation int64
	plan       *Plan
}

// Plan returns the profile's plan, compiling it against catalogue when the profile is new or
// changed. Callers pass the same catalogue on every call: a plan is not recompiled for another.
func (c *PlanCache) Plan(catalogue []*Check, profile *v1alpha1.ComplianceProfile) *Plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp, ok := c.plans[profile.Name]; ok && cp.uid == profile.UID && cp.generation == profile.Generation {
		return cp.plan
	}
	if c.plans == nil {
		c.plans = map[string]cachedPlan{}
	}
	cp := cachedPlan{uid: profile.UID, generation: profile.Generation, plan: Compile(catalogue, profile)}
	c.plans[profile.Name] = cp
	return cp.plan
}

// Forget drops the plan of a deleted profile.
func (c *PlanCache) Forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.plans, name)
}
