package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// The suite's manager writes the evidence journal to journalDir (cluster "test") through
// journalStore, whose writes the tests can make fail.
var (
	journalDir   string
	journalStore *switchableStore
)

type switchableStore struct {
	journal.Store
	fail atomic.Bool
}

func (s *switchableStore) Put(ctx context.Context, key string, data []byte) error {
	if s.fail.Load() {
		return errors.New("store unreachable (test)")
	}
	return s.Store.Put(ctx, key, data)
}

// journalRecords reads the suite's journal (verifying it) and returns the records that match.
func journalRecords(t *testing.T, match func(*journal.Record) bool) []journal.Record {
	t.Helper()
	var out []journal.Record
	// The operator's records are dated by its clock, which tests move ahead of the real one.
	now := func() time.Time {
		if n := clk.Now(); n.After(time.Now()) {
			return n
		}
		return time.Now()
	}
	res, err := journal.Scan(context.Background(), journalStore.Store, journal.ScanOptions{Cluster: "test", Now: now, OnRecord: func(line []byte) error {
		var r journal.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		if match(&r) {
			out = append(out, r)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("the journal does not verify: %v", res.Problems)
	}
	return out
}

// types lists the record types in order, with the finding's check and name where there is one.
func describe(recs []journal.Record) []string {
	var out []string
	for _, r := range recs {
		s := string(r.Type)
		switch {
		case r.Finding != nil:
			s += " " + r.Finding.Check + " " + r.Finding.Name + "/" + r.Finding.Container
			if r.Finding.Exception != "" {
				s += " by " + r.Finding.Exception
			}
		case r.Exception != nil:
			s += " " + r.Namespace + "/" + r.Exception.Name
		case r.Criterion != nil:
			s += " " + r.Criterion.Criterion + " " + r.Criterion.From + "->" + r.Criterion.To
		case r.Report != nil:
			s += " " + r.Report.Result
		}
		out = append(out, s)
	}
	return out
}

func waitForRecords(t *testing.T, what string, match func(*journal.Record) bool, want ...string) []journal.Record {
	t.Helper()
	var recs []journal.Record
	eventually(t, 20*time.Second, what, func() error {
		recs = journalRecords(t, match)
		got := strings.Join(describe(recs), "\n")
		for _, w := range want {
			if !strings.Contains(got, w) {
				return fmt.Errorf("no %q in the journal:\n%s", w, got)
			}
		}
		return nil
	})
	return recs
}

// TestTheJournalRecordsWhatTheOperatorSaw walks a finding through its life and checks each step
// is in the journal once, with the identities and times an auditor needs.
func TestTheJournalRecordsWhatTheOperatorSaw(t *testing.T) {
	ctx := context.Background()
	_, rep := privilegedUnderWaivableProfile(t, "jr", "jr-a", "api")
	f := finding(rep, "wl-privileged", "api", "setup")
	if f == nil || f.FirstSeen == nil {
		t.Fatalf("no privileged finding in %+v", rep.Status.Findings)
	}
	inScope := func(r *journal.Record) bool {
		return r.Profile == "jr" || (r.Exception != nil && r.Namespace == "jr-a")
	}
	recs := waitForRecords(t, "the profile and the finding journaled", inScope,
		"profile.created", "finding.opened wl-privileged api/setup", "criterion.changed CC6.1 ->Fail", "report.result NonCompliant")
	for _, r := range recs {
		if r.Type == journal.FindingOpened && r.Finding.Check == "wl-privileged" {
			if !r.Time.Equal(f.FirstSeen.Time) || r.Namespace != "jr-a" || r.Finding.Severity == "" || len(r.Finding.Criteria) == 0 {
				t.Errorf("opened record %+v, the report's first seen %v", r, f.FirstSeen.Time)
			}
		}
	}

	// An approved exception covers it.
	ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "vendor-init", Namespace: "jr-a"}, Spec: v1alpha1.ControlExceptionSpec{
		Checks: []string{"wl-privileged"}, Reason: "The vendor's init container needs it until v2.", Owner: "team-a@example.com",
		Ticket: "https://tickets.example.com/SEC-42", Expires: metav1.NewTime(time.Now().Add(72 * time.Hour)),
	}}
	createApproved(t, ex)
	recs = waitForRecords(t, "the exception journaled", inScope,
		"exception.requested jr-a/vendor-init", "exception.approved jr-a/vendor-init", "finding.excepted wl-privileged api/setup by jr-a/vendor-init")
	for _, r := range recs {
		if r.Type == journal.ExceptionApproved && (r.Exception.ApprovedBy != testenv.ApproverName || r.Exception.RequestedBy == "" ||
			r.Exception.Ticket != "https://tickets.example.com/SEC-42" || r.Exception.Reason == "") {
			t.Errorf("approved record %+v", r.Exception)
		}
	}
	// The exception is revoked (deleted before it expired): the finding fails again.
	if err := k8s.Delete(ctx, ex); err != nil {
		t.Fatal(err)
	}
	waitForRecords(t, "the revocation journaled", inScope, "exception.revoked jr-a/vendor-init", "finding.unexcepted wl-privileged api/setup")

	// The workload is fixed: the deviation closes.
	updateDeployment(t, "jr-a", "api", func(d *appsv1.Deployment) { d.Spec.Template.Spec.InitContainers = nil })
	recs = waitForRecords(t, "the fix journaled", inScope, "finding.closed wl-privileged api/setup")
	for _, r := range recs {
		if r.Type == journal.FindingClosed && r.Finding.Check == "wl-privileged" && r.Finding.CloseReason != journal.CloseResolved {
			t.Errorf("the fixed finding closed for %q, want %q", r.Finding.CloseReason, journal.CloseResolved)
		}
	}

	// Every transition once.
	counts := map[string]int{}
	for _, d := range describe(recs) {
		if !strings.HasPrefix(d, "criterion") {
			counts[d]++
		}
	}
	for d, n := range counts {
		if n != 1 {
			t.Errorf("%q is in the journal %d times", d, n)
		}
	}

	// One attestation so far, of the namespace's first evaluation (after a restart the evidence
	// pack reads a state as Unknown until a record states it); the others follow the operator's
	// clock, which has not moved.
	isAttestation := func(r *journal.Record) bool {
		return r.Type == journal.Attestation && r.Profile == "jr" && r.Namespace == "jr-a"
	}
	first := journalRecords(t, isAttestation)
	if len(first) != 1 || !first[0].Time.Equal(f.FirstSeen.Time) {
		t.Errorf("attestations before the operator's clock moved: %+v; want one, of the first evaluation at %v", first, f.FirstSeen.Time)
	}
	// Attestations state the namespace's criteria and each check's population: the clock moves
	// by the attestation interval on each poll until one more is in the journal.
	var att []journal.Record
	eventually(t, 20*time.Second, "an attestation after the clock moved", func() error {
		clk.Step(attestationInterval)
		if att = journalRecords(t, isAttestation); len(att) <= len(first) {
			return fmt.Errorf("no attestation in the journal after the first")
		}
		return nil
	})
	a := att[len(att)-1].Attestation
	// It says when the state it states was evaluated, and how often the profile evaluates: the
	// evidence pack reads a state not evaluated for long as stale.
	if at := att[len(att)-1].Time; a.Evaluated.IsZero() || a.Evaluated.After(at) || a.EvaluationInterval != 600 {
		t.Errorf("attestation at %v: evaluated %v, every %ds; want an evaluation before it, every 600s", at, a.Evaluated, a.EvaluationInterval)
	}
	found := false
	for _, c := range a.Checks {
		if c.Check == "wl-privileged" {
			found = true
			list := a.Populations[c.Population]
			if c.Count != 1 || len(list) != 1 || list[0] != "Deployment/api" || c.SHA256 != journal.PopulationDigest(list) {
				t.Errorf("wl-privileged population %+v, list %v", c, list)
			}
		}
	}
	if !found || len(a.Criteria) == 0 {
		t.Errorf("attestation %+v", a)
	}
	// Each criterion's state names the checks it does not rest on, those the report counts as
	// unassessed (without Trivy's reports img-critical-cves assesses nothing, for one).
	final, err := getReport("jr-a", "jr")
	if err != nil {
		t.Fatal(err)
	}
	unassessed := 0
	for _, c := range final.Status.Criteria {
		unassessed += int(c.UnassessedChecks)
		i := slices.IndexFunc(a.Criteria, func(s journal.CriterionState) bool { return s.Criterion == string(c.ID) })
		if i < 0 || a.Criteria[i].State != string(c.Status) || len(a.Criteria[i].Unassessed) != int(c.UnassessedChecks) {
			t.Errorf("the report's %s is %s with %d unassessed checks; the attestation says %+v", c.ID, c.Status, c.UnassessedChecks, a.Criteria)
		}
	}
	if unassessed == 0 {
		t.Errorf("no criterion of the report has an unassessed check: %+v", final.Status.Criteria)
	}
	if !slices.ContainsFunc(a.Criteria, func(s journal.CriterionState) bool { return slices.Contains(s.Unassessed, "img-critical-cves") }) {
		t.Errorf("no criterion names img-critical-cves as unassessed: %+v", a.Criteria)
	}
}

// TestFirstSeenSurvivesReportDeletion: the report of a namespace is deleted; the operator writes
// it again with the finding's original first-seen time, from the journal.
func TestFirstSeenSurvivesReportDeletion(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "fs-a", map[string]string{"fs": "true"})
	if err := k8s.Create(ctx, deployment("fs-a", "api", true)); err != nil {
		t.Fatal(err)
	}
	createProfile(t, "fs", "fs", nil)
	rep := waitWritten(t, "fs-a", "fs")
	first := finding(rep, "wl-privileged", "api", "setup").FirstSeen.Time
	waitForRecords(t, "the finding journaled", func(r *journal.Record) bool { return r.Profile == "fs" }, "finding.opened wl-privileged api/setup")
	// First-seen times come from the operator's clock: move it, so that a finding seen anew
	// would carry a later time than the one restored.
	clk.Step(time.Minute)
	if err := k8s.Delete(ctx, rep); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the report written again", func() error {
		again, err := getReport("fs-a", "fs")
		if err != nil || again.UID == rep.UID || again.Status.Result == "" {
			return fmt.Errorf("not yet: %v", err)
		}
		f := finding(again, "wl-privileged", "api", "setup")
		if f == nil || !f.FirstSeen.Time.Equal(first) {
			return fmt.Errorf("first seen %v, want %v", f.FirstSeen, first)
		}
		return nil
	})
}

// TestTheJournalFallsBehindAndCatchesUp: while the store refuses writes, profiles say the
// journal is behind and the metric says so; once it is back, nothing was lost.
func TestTheJournalFallsBehindAndCatchesUp(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "jb-a", map[string]string{"jb": "true"})
	createProfile(t, "jb", "jb", nil)
	waitWritten(t, "jb-a", "jb")
	journalStore.fail.Store(true)
	defer journalStore.fail.Store(false)
	if err := k8s.Create(ctx, deployment("jb-a", "worker", true)); err != nil {
		t.Fatal(err)
	}
	// The queue sets the metric once a write to the store failed; the profile's condition is
	// set when the profile is next evaluated: advance has it evaluated at once.
	eventually(t, 20*time.Second, "the queue behind", func() error {
		if !strings.Contains(scrape(t), "soc2_operator_journal_behind 1") {
			return fmt.Errorf("the metric does not say behind")
		}
		return nil
	})
	advance(t, 0)
	eventually(t, 20*time.Second, "the profile says the journal is behind", func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: "jb"}, p); err != nil {
			return err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionJournalBehind)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonJournalStoreUnwritable || !strings.Contains(c.Message, "store unreachable (test)") {
			return fmt.Errorf("condition %+v", c)
		}
		if !strings.Contains(scrape(t), "soc2_operator_journal_behind 1") {
			return fmt.Errorf("the metric does not say behind")
		}
		return nil
	})
	journalStore.fail.Store(false)
	waitForRecords(t, "the queued records written", func(r *journal.Record) bool { return r.Profile == "jb" }, "finding.opened wl-privileged worker/setup")
	eventually(t, 20*time.Second, "the queue caught up", func() error {
		if !strings.Contains(scrape(t), "soc2_operator_journal_behind 0") {
			return fmt.Errorf("the metric still says behind")
		}
		return nil
	})
	advance(t, 0)
	eventually(t, 20*time.Second, "the condition cleared", func() error {
		p := &v1alpha1.ComplianceProfile{}
		if err := k8s.Get(ctx, types.NamespacedName{Name: "jb"}, p); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionJournalBehind); c == nil || c.Status != metav1.ConditionFalse {
			return fmt.Errorf("condition %+v", c)
		}
		return nil
	})
}

// TestFirstSeenSurvivesARestart: a new operator process (a new hook, no memory) restores the
// first-seen times of open findings from the journal.
func TestFirstSeenSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	open := journal.Finding{Key: journal.FindingKey("wl-privileged", "Deployment", "api", "setup"), Check: "wl-privileged", Kind: "Deployment", Name: "api", Container: "setup", FirstSeen: first}
	closed := journal.Finding{Key: journal.FindingKey("wl-seccomp", "Deployment", "api", "app"), Check: "wl-seccomp", Kind: "Deployment", Name: "api", Container: "app", FirstSeen: first}
	if err := w.Write(ctx, []journal.Record{
		{Type: journal.FindingOpened, Time: first, Profile: "p", Namespace: "ns", Finding: &open},
		{Type: journal.FindingOpened, Time: first, Profile: "p", Namespace: "ns", Finding: &closed},
		{Type: journal.FindingClosed, Time: first.Add(time.Hour), Profile: "p", Namespace: "ns", Finding: &closed},
	}); err != nil {
		t.Fatal(err)
	}
	q, err := journal.NewQueue(journal.QueueOptions{Store: store, Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	h := newJournalHook(q, nil, time.Hour)
	w2, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Restore(ctx, store, w2); err != nil {
		t.Fatal(err)
	}
	lookup := h.firstSeen("p", "ns", nil)
	finding := func(check, name, container string) *v1alpha1.Finding {
		return &v1alpha1.Finding{Check: check, Resource: v1alpha1.ResourceRef{Kind: "Deployment", Namespace: "ns", Name: name}, Container: container}
	}
	if got, ok := lookup(finding("wl-privileged", "api", "setup")); !ok || !got.Equal(first) {
		t.Errorf("open finding: %v %v, want %v", got, ok, first)
	}
	if _, ok := lookup(finding("wl-seccomp", "api", "app")); ok {
		t.Errorf("a closed finding has a first-seen time")
	}
}

// TestTheJournalRecordsAnExpiry: an approved exception expires; the journal says so at the
// exception's expiry time, and the finding it covered is no longer excepted.
func TestTheJournalRecordsAnExpiry(t *testing.T) {
	privilegedUnderWaivableProfile(t, "jx", "jx-a", "api")
	expires := clk.Now().Add(time.Hour)
	ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: "short", Namespace: "jx-a"}, Spec: v1alpha1.ControlExceptionSpec{
		Checks: []string{"wl-privileged"}, Reason: "A short waiver for the test.", Owner: "team-a@example.com", Expires: metav1.NewTime(expires),
	}}
	createApproved(t, ex)
	inScope := func(r *journal.Record) bool {
		return r.Profile == "jx" || (r.Exception != nil && r.Namespace == "jx-a")
	}
	waitForRecords(t, "the approval journaled", inScope, "exception.approved jx-a/short", "finding.excepted wl-privileged api/setup by jx-a/short")
	advance(t, expires.Sub(clk.Now())+time.Second)
	recs := waitForRecords(t, "the expiry journaled", inScope, "exception.expired jx-a/short", "finding.unexcepted wl-privileged api/setup")
	for _, r := range recs {
		if r.Type == journal.ExceptionExpired && !r.Time.Equal(expires) {
			t.Errorf("expired at %v, the exception expires at %v", r.Time, expires)
		}
	}
}
