package restarttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// unreachableStore is an evidence journal store that cannot be reached: the operator can neither
// open the journal's chain nor restore its state from it.
type unreachableStore struct{}

var errUnreachable = errors.New("journal store unreachable (test)")

func (unreachableStore) Put(context.Context, string, []byte) error { return errUnreachable }
func (unreachableStore) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, errUnreachable
}
func (unreachableStore) List(context.Context, string) ([]string, error) { return nil, errUnreachable }
func (unreachableStore) String() string                                 { return "unreachable" }

// TestAnUnreachableJournalDoesNotStallEvaluation: the operator restarts while its evidence
// journal's store is unreachable (an S3 outage, a network policy, expired credentials), so it
// cannot restore the journal's state. Each evaluation waited up to 30 seconds for that state,
// every time and for every namespace (restoreWait, meant for the first evaluation only): a
// Deployment turned privileged waited a minute or more to show, while the report written before
// the restart went on saying Compliant with Stale=False, and a full evaluation of 50 namespaces
// took 25 minutes. Only the first evaluation after start may wait (at most 30 seconds in all);
// after that the journal, not evaluation, falls behind.
func TestAnUnreachableJournalDoesNotStallEvaluation(t *testing.T) {
	const name = "restart-nostore"
	clk := testingclock.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	namespaces := []string{name + "-a", name + "-b", name + "-c"}
	for _, ns := range namespaces {
		createNamespace(t, ns, name)
		if err := k8sCreateDeployment(ns, "app", false); err != nil {
			t.Fatal(err)
		}
	}
	privilegedProfile(t, name)

	started := time.Now()
	startOperator(t, clk, unreachableStore{})
	for _, ns := range namespaces {
		waitReportWithin(t, 60*time.Second, ns, name, "the first report of "+ns, result(v1alpha1.Compliant))
	}
	t.Logf("every first report written %s after the start", time.Since(started).Round(100*time.Millisecond))

	changed := time.Now()
	setPrivileged(t, namespaces[1], "app", true)
	waitReportWithin(t, 15*time.Second, namespaces[1], name, "the privileged Deployment in the report, with the journal unreachable", result(v1alpha1.NonCompliant))
	t.Logf("the change reported %s after it was made", time.Since(changed).Round(100*time.Millisecond))
}

func k8sCreateDeployment(ns, name string, privileged bool) error {
	return k8s.Create(context.Background(), deployment(ns, name, privileged))
}

// waitReportWithin is waitReport with a timeout of its own.
func waitReportWithin(t *testing.T, timeout time.Duration, ns, profile, what string, ok func(*v1alpha1.ComplianceReport) error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		rep := &v1alpha1.ComplianceReport{}
		if err = k8sGetReport(ns, profile, rep); err == nil {
			if err = ok(rep); err == nil {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, timeout, fmt.Sprint(err))
}
