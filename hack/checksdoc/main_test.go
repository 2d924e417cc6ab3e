package main

import (
	"os"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/checks"
)

// TestCommittedDocIsCurrent: docs/checks.md is what the catalogue renders to.
func TestCommittedDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(render(checks.Catalogue())) != string(want) {
		t.Fatal("docs/checks.md is stale: run make docs")
	}
}

// TestEveryCheckHasARowAndPSSControlsHaveALevel: each catalogue check has its row, and every
// Pod Security Standards control listed is one the library knows (it has a level).
func TestEveryCheckHasARowAndPSSControlsHaveALevel(t *testing.T) {
	doc := string(render(checks.Catalogue()))
	pss := 0
	for _, c := range checks.Catalogue() {
		if !strings.Contains(doc, "| `"+c.ID+"` | ") {
			t.Errorf("no row for %s", c.ID)
		}
		for _, p := range checks.PodSecurityControls(c.ID) {
			pss++
			if p.Level == "" {
				t.Errorf("%s reports %s, which k8s.io/pod-security-admission %s does not have", c.ID, p.ID, checks.PodSecurityLibraryVersion)
			}
		}
	}
	if pss == 0 {
		t.Error("no check reports a Pod Security Standards control")
	}
	if !strings.Contains(doc, "| `wl-privileged` | Containers do not run privileged | Critical | CC6.1, CC6.8 | workloads | `privileged` (baseline), `windowsHostProcess` (baseline) |") {
		t.Error("the wl-privileged row is not as expected")
	}
}
