package testenv

import (
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestPrivilegedAgent holds what the tests using PrivilegedAgent rely on: the catalogue judges it
// with a Critical wl-privileged failure on Deployment agent.
func TestPrivilegedAgent(t *testing.T) {
	obj := engine.NewObject(PrivilegedAgent("shop"), "apps/v1", "Deployment")
	ev := engine.Compile(checks.Catalogue(), nil).Evaluate(engine.NewInventory([]*engine.Object{obj}, false), nil,
		engine.Options{Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), AdminNamespace: engine.DefaultAdminNamespace})
	for _, r := range ev.Results {
		if r.Check.ID == "wl-privileged" && r.Status == engine.StatusFail && r.Object != nil && r.Object.Name == "agent" {
			if r.Check.Severity != v1alpha1.SeverityCritical {
				t.Errorf("wl-privileged is %s, want Critical", r.Check.Severity)
			}
			return
		}
	}
	t.Errorf("no wl-privileged failure for Deployment agent in %+v", ev.Results)
}
