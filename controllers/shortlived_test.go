package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/evidence"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace created and deleted between two full evaluations of its profile (a tenant who may
// create namespaces, a CI system running a privileged job for an hour) is in no profile.attested
// selection list, which only full evaluations state. It is judged all the same: its creation
// and its workloads' evaluate it alone, which journals its finding and attests it; its deletion
// closes the finding and says it left. The evidence pack lists its deviation and its coverage.
func TestANamespaceThatLivedBetweenTwoFullEvaluationsIsInTheEvidence(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "lc-brief", "lc-brief-ci"
	createNamespace(t, "lc-brief-app", map[string]string{profile: "true"})
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	waitWritten(t, "lc-brief-app", profile)
	// The report is written during the first full evaluation, which is counted only when it
	// ends: read the count once it has.
	eventually(t, 20*time.Second, "the first full evaluation counted", func() error {
		if n := fullEvaluations(t, profile); n < 1 {
			return fmt.Errorf("%v full evaluations", n)
		}
		return nil
	})
	full := fullEvaluations(t, profile)

	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment(ns, "job", true)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the namespace's report with the privileged finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if finding(rep, "wl-privileged", "job", "setup") == nil {
			return fmt.Errorf("no privileged finding yet")
		}
		return nil
	})
	// As the namespace controller does (envtest runs none): the content goes, then the
	// namespace is finalized.
	if err := k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, deployment(ns, "job", true)); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := k8s.Delete(ctx, &v1alpha1.ComplianceReport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: profile}}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	gone := &corev1.Namespace{}
	if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, gone); err != nil {
		t.Fatal(err)
	}
	gone.Spec.Finalizers = nil
	if err := k8s.SubResource("finalize").Update(ctx, gone); err != nil {
		t.Fatal(err)
	}
	isNS := func(r *journal.Record) bool { return r.Profile == profile && r.Namespace == ns }
	eventually(t, 20*time.Second, "the namespace's journal", func() error {
		got := strings.Join(describe(journalRecords(t, isNS)), "\n")
		for _, w := range []string{"finding.opened wl-privileged job/setup", "attestation", "finding.closed wl-privileged job/setup", string(journal.NamespaceLeft)} {
			if !strings.Contains(got, w) {
				return fmt.Errorf("no %q in the namespace's records:\n%s", w, got)
			}
		}
		return nil
	})
	if n := fullEvaluations(t, profile); n != full {
		t.Fatalf("%v full evaluations of the profile meanwhile, want none (%v before)", n-full, full)
	}

	from := clk.Now().Add(-time.Hour)
	to := time.Now().Add(time.Hour)
	if n := clk.Now().Add(time.Hour); n.After(to) {
		to = n
	}
	pack, err := evidence.Collect(ctx, journalStore.Store, evidence.Options{From: from, To: to, Profile: profile, Clusters: []string{"test"}, Now: func() time.Time { return to }})
	if err != nil {
		t.Fatal(err)
	}
	var devs []string
	for _, d := range pack.Deviations {
		if d.Namespace == ns {
			devs = append(devs, d.Finding.Check+" "+d.Finding.Name+" closed "+d.Reason)
		}
	}
	if len(devs) != 1 {
		t.Errorf("the pack's deviations in %s: %q; want the privileged job's, closed", ns, devs)
	}
	covered := false
	for _, c := range pack.Coverage {
		covered = covered || (c.Namespace == ns && c.Attestations > 0)
	}
	if !covered {
		t.Errorf("the pack's coverage has no attested row for %s", ns)
	}
}
