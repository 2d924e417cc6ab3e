package controllers

import (
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// An attestation lists the exceptions in force in its namespace by name alone, so the evidence
// pack read an exception of the operator's namespace as one of the attested namespace's own (a
// row jinforce-a/jinforce-platform, which does not exist). The attestation names the namespace of an
// exception of another namespace, and counts the findings it covers in the attested one.
func TestAnAttestationNamesTheNamespaceOfAnOperatorExceptionInForce(t *testing.T) {
	privilegedUnderWaivableProfile(t, "jinforce", "jinforce-a", "api")
	createApproved(t, &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "jinforce-platform", Namespace: adminNamespace},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Namespaces: []string{"jinforce-a"}},
			Reason: "The platform's setup step loads a kernel module.", Owner: "platform@example.com",
			Expires: metav1.NewTime(clk.Now().Add(24 * time.Hour)),
		},
	})
	eventually(t, 30*time.Second, "an attestation of jinforce-a stating the operator's exception in force", func() error {
		clk.Step(attestationInterval)
		att := journalRecords(t, func(r *journal.Record) bool {
			return r.Type == journal.Attestation && r.Profile == "jinforce" && r.Namespace == "jinforce-a"
		})
		if len(att) == 0 {
			return errors.New("no attestation of jinforce-a")
		}
		for _, x := range att[len(att)-1].Attestation.Exceptions {
			if x.Name == "jinforce-platform" {
				if x.Namespace != adminNamespace || x.Findings != 1 {
					return fmt.Errorf("in force: %+v; want it named of namespace %s, covering 1", x, adminNamespace)
				}
				return nil
			}
		}
		return fmt.Errorf("the latest attestation lists %+v in force", att[len(att)-1].Attestation.Exceptions)
	})
}
