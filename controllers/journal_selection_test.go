package controllers

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace the profile selects whose evaluation never succeeds has no record of its own, so
// the evidence pack could not tell it was selected at all: an auditor saw only the namespaces
// that had verdicts. Each attestation round's profile.attested record now lists the namespaces
// the profile selected at its latest full evaluation.
func TestTheProfilesAttestationListsTheNamespacesItSelects(t *testing.T) {
	for _, ns := range []string{"jsel-a", "jsel-b"} {
		createNamespace(t, ns, map[string]string{"jsel": "true"})
	}
	createNamespace(t, "jsel-other", nil)
	createProfile(t, "jsel", "jsel", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	for _, ns := range []string{"jsel-a", "jsel-b"} {
		waitWritten(t, ns, "jsel")
	}
	isAttested := func(r *journal.Record) bool { return r.Type == journal.ProfileAttested && r.Profile == "jsel" }
	eventually(t, 20*time.Second, "a profile.attested record listing the selected namespaces", func() error {
		clk.Step(attestationInterval)
		recs := journalRecords(t, isAttested)
		if len(recs) == 0 {
			return fmt.Errorf("no profile.attested record")
		}
		last := recs[len(recs)-1]
		if last.Selection == nil || !slices.Equal(last.Selection.Namespaces, []string{"jsel-a", "jsel-b"}) {
			return fmt.Errorf("profile.attested lists %+v, want jsel-a and jsel-b", last.Selection)
		}
		return nil
	})
}
