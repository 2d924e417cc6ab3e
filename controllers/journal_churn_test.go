package controllers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// churnCost is what a run of records costs the journal: how many of each type, and their bytes
// as JSON lines and gzip-compressed as a segment stores them.
type churnCost struct {
	byType      map[journal.Type]int
	records     int
	bytes, gzip int
}

func costOf(t *testing.T, recs []journal.Record) churnCost {
	t.Helper()
	c := churnCost{byType: map[journal.Type]int{}}
	var raw bytes.Buffer
	zw := gzip.NewWriter(&raw)
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		c.byType[r.Type]++
		c.records++
		c.bytes += len(line) + 1
		zw.Write(append(line, '\n'))
	}
	zw.Close()
	c.gzip = raw.Len()
	return c
}

func (c churnCost) String() string {
	var types []string
	for typ, n := range c.byType {
		types = append(types, fmt.Sprintf("%s=%d", typ, n))
	}
	sort.Strings(types)
	return fmt.Sprintf("%d records, %d bytes (%d gzip): %v", c.records, c.bytes, c.gzip, types)
}

// What a namespace admin's churn costs the evidence journal, measured with the operator's own
// records against a real API server under the default (every check) profile: a Deployment
// flipped between failing and passing, the namespace's label flapped in and out of the profile's
// selection, and exceptions created and deleted under a profile that needs no approval. The
// numbers are those docs/operations.md gives ("What a tenant's volume costs the evidence
// journal"): the test fails when a change makes a tenant's action cost more records.
func TestATenantsChurnCostsTheJournal(t *testing.T) {
	ctx := context.Background()
	const profile, ns = "jchurn", "jchurn-a"
	createNamespace(t, ns, map[string]string{profile: "true"})
	if err := k8s.Create(ctx, deployment(ns, "api", false)); err != nil {
		t.Fatal(err)
	}
	no := false
	createProfile(t, profile, profile, func(p *v1alpha1.ComplianceProfile) {
		p.Spec.ExceptionPolicy = &v1alpha1.ExceptionPolicy{RequireApproval: &no}
	})
	// The namespace's records under the profile, and its exceptions' (which name no profile).
	mine := func(r *journal.Record) bool { return r.Namespace == ns && (r.Profile == profile || r.Profile == "") }
	count := func(typ journal.Type) int {
		n := 0
		for _, r := range journalRecords(t, mine) {
			if r.Type == typ {
				n++
			}
		}
		return n
	}
	waitCount := func(what string, typ journal.Type, want int) {
		t.Helper()
		eventually(t, 20*time.Second, what, func() error {
			if n := count(typ); n < want {
				return fmt.Errorf("%d %s records, want %d", n, typ, want)
			}
			return nil
		})
	}
	waitCount("the first attestation", journal.Attestation, 1)
	setPrivileged := func(privileged bool) {
		t.Helper()
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "api"}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec = deployment(ns, "api", privileged).Spec
		if err := k8s.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// since are the namespace's records after n of them, attestations left out (they come with
	// the clock, not with the tenant's actions).
	since := func(n int) []journal.Record {
		var out []journal.Record
		for _, r := range journalRecords(t, mine)[n:] {
			if r.Type != journal.Attestation {
				out = append(out, r)
			}
		}
		return out
	}

	// failing waits until the namespace's report, evaluated at the operator's current time or
	// later, says ok of its failing count, and returns the count; the report is written after
	// the evaluation's records are in the journal.
	failing := func(what string, ok func(int32) bool) int32 {
		t.Helper()
		var n int32
		eventually(t, 20*time.Second, what, func() error {
			r, err := getReport(ns, profile)
			if err != nil {
				return err
			}
			if r.Status.LastEvaluated == nil || r.Status.LastEvaluated.Time.Before(clk.Now().Truncate(time.Second)) {
				return fmt.Errorf("not evaluated at %v yet", clk.Now())
			}
			if n = r.Status.Summary.Failing; !ok(n) {
				return fmt.Errorf("%d failing", n)
			}
			return nil
		})
		return n
	}
	clean := failing("the report", func(int32) bool { return true })

	// 1. A finding flipped open and closed: the privileged init container comes and goes.
	const flips = 3
	// segments are the journal's objects (segments and their signatures) and their bytes.
	segments := func() (n, size int) {
		for _, prefix := range []string{"test/segments/", "test/signatures/"} {
			keys, err := journalStore.List(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				rc, err := journalStore.Get(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(rc)
				rc.Close()
				n, size = n+1, size+len(b)
			}
		}
		return n, size
	}
	start := len(journalRecords(t, mine))
	objects, stored := segments()
	for range flips {
		clk.Step(time.Second)
		setPrivileged(true)
		failing("the init container's findings", func(n int32) bool { return n > clean })
		clk.Step(time.Second)
		setPrivileged(false)
		failing("the init container's findings gone", func(n int32) bool { return n == clean })
	}
	flip := costOf(t, since(start))
	nowObjects, nowStored := segments()
	t.Logf("%d open-close cycles of a privileged init container: %v; the journal grew by %d objects, %d bytes (with the suite's other records meanwhile)",
		flips, flip, nowObjects-objects, nowStored-stored)
	perFlip := flip.records / flips
	findingsPerFlip := flip.byType[journal.FindingOpened] / flips
	if findingsPerFlip == 0 || flip.byType[journal.FindingClosed] != flip.byType[journal.FindingOpened] {
		t.Fatalf("each cycle should open and close the same findings: %v", flip)
	}
	// Each cycle journals each finding opened and closed, and the criteria and report result
	// that change with them, each way: no more.
	criteriaPerFlip := flip.byType[journal.CriterionChanged] / flips
	if want := 2*findingsPerFlip + criteriaPerFlip + 2; perFlip > want {
		t.Errorf("one open-close cycle journals %d records, want at most %d: %v", perFlip, want, flip)
	}

	// 2. The namespace's label flapped out of the profile's selection and back.
	start = len(journalRecords(t, mine))
	setLabel := func(v string) {
		t.Helper()
		n := &corev1.Namespace{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: ns}, n); err != nil {
			t.Fatal(err)
		}
		n.Labels[profile] = v
		if err := k8s.Update(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	clk.Step(time.Second)
	setPrivileged(true)
	failing("the init container's findings", func(n int32) bool { return n > clean })
	start = len(journalRecords(t, mine))
	clk.Step(time.Second)
	left := count(journal.NamespaceLeft)
	attested := count(journal.Attestation)
	setLabel("false")
	waitCount("the namespace left", journal.NamespaceLeft, left+1)
	clk.Step(time.Second)
	setLabel("true")
	failing("the namespace back", func(n int32) bool { return n > clean })
	waitCount("the namespace back and attested", journal.Attestation, attested+1)
	flap := costOf(t, journalRecords(t, mine)[start:])
	t.Logf("one leave-and-return of the namespace with %d open findings: %v", flap.byType[journal.FindingClosed], flap)
	if flap.byType[journal.FindingOpened] != flap.byType[journal.FindingClosed] || flap.byType[journal.Attestation] < 1 || flap.byType[journal.NamespaceLeft] != 1 {
		t.Errorf("a leave-and-return should close and reopen every finding, and attest once: %v", flap)
	}

	// 3. Exceptions requested and deleted, needing no approval.
	start = len(journalRecords(t, mine))
	const exceptions = 3
	waived := ""
	for _, r := range since(0) {
		if r.Type == journal.FindingOpened && r.Finding.Severity != "Critical" && r.Finding.Container == "setup" {
			waived = r.Finding.Check
			break
		}
	}
	for i := range exceptions {
		clk.Step(time.Second)
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("churn-%d", i), Namespace: ns},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{waived}, Reason: "Churn measured by the test.",
				Owner: "tenant@example.com", Expires: metav1.NewTime(clk.Now().Add(30 * 24 * time.Hour)),
				Match: v1alpha1.ResourceMatch{Kinds: []string{"Deployment"}, Names: []string{"api"}}},
		}
		// of counts the records of this exception, and of the findings it excepted.
		of := func(types ...journal.Type) int {
			n := 0
			for _, r := range journalRecords(t, mine) {
				if !slices.Contains(types, r.Type) {
					continue
				}
				if r.Exception != nil && r.Exception.Name == ex.Name || r.Finding != nil && r.Finding.Exception == ns+"/"+ex.Name {
					n++
				}
			}
			return n
		}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "the exception requested and applied", func() error {
			if of(journal.ExceptionRequested) == 0 || of(journal.FindingExcepted) == 0 {
				return fmt.Errorf("not yet: %v", describe(since(start)))
			}
			return nil
		})
		clk.Step(time.Second)
		if err := k8s.Delete(ctx, ex); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "the exception ended", func() error {
			if of(journal.ExceptionRevoked, journal.ExceptionExpired) == 0 {
				return fmt.Errorf("not yet: %v", describe(since(start)))
			}
			return nil
		})
		waitCount("the findings no longer excepted", journal.FindingUnexcepted, count(journal.FindingExcepted))
	}
	exc := costOf(t, since(start))
	t.Logf("%d exceptions created and deleted (no approval needed): %v", exceptions, exc)
	if exc.byType[journal.ExceptionRequested] != exceptions || exc.byType[journal.FindingUnexcepted] != exc.byType[journal.FindingExcepted] ||
		exc.records != 2*exceptions+2*exc.byType[journal.FindingExcepted] {
		t.Errorf("each exception should journal its request, its end, and each finding it excepted and no longer excepts: %v", exc)
	}
}
