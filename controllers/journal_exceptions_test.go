package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace admin may delete a ControlException and create another under the same name: the
// second is another request, with its own requester, reason, checks, approver and expiry. The
// journal must record its life as it did the first one's, not take it for the first (whose
// approval, expiry or revocation would then stand for it, and whose records it would never get).
func TestTheJournalRecordsAnExceptionRecreatedUnderTheSameName(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &journalHook{exceptions: map[string]*exTrack{}}
	outcome := func(created time.Time, requester, approver string, expires time.Time, state v1alpha1.ExceptionState) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: "team-a", CreationTimestamp: metav1.NewTime(created)},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "r", Owner: "o", RequestedBy: requester,
				Expires: metav1.NewTime(expires)},
		}
		return &engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey("team-a", "waiver"), State: state, ApprovedBy: approver, AppliesTo: true}
	}
	describe := func(recs []journal.Record) string {
		var out []string
		for _, r := range recs {
			s := string(r.Type) + " " + r.Time.Format(time.RFC3339)
			if r.Exception != nil && r.Exception.RequestedBy != "" {
				s += " by " + r.Exception.RequestedBy
			}
			if r.Exception != nil && r.Exception.ApprovedBy != "" {
				s += " approved by " + r.Exception.ApprovedBy
			}
			out = append(out, s)
		}
		return strings.Join(out, "; ")
	}

	// The first waiver: requested and approved, then it expires.
	first := outcome(t0, "dev@example.com", "ciso@example.com", t0.AddDate(0, 1, 0), v1alpha1.ExceptionActive)
	written := h.exceptionTransitions([]*engine.ExceptionOutcome{first}, t0.Add(time.Hour), nil)
	expired := outcome(t0, "dev@example.com", "ciso@example.com", t0.AddDate(0, 1, 0), v1alpha1.ExceptionExpired)
	written = append(written, h.exceptionTransitions([]*engine.ExceptionOutcome{expired}, t0.AddDate(0, 1, 1), nil)...)
	// A new leader knows the first waiver from the journal only.
	restored := &journalHook{exceptions: map[string]*exTrack{}}
	for i := range written {
		restored.apply(&written[i])
	}

	// Deleted and created again two months later, approved by someone else.
	again := t0.AddDate(0, 3, 0)
	second := outcome(again, "dev2@example.com", "lead@example.com", again.AddDate(0, 1, 0), v1alpha1.ExceptionActive)
	want := "exception.requested " + again.Format(time.RFC3339) + " by dev2@example.com approved by lead@example.com; " +
		"exception.approved " + again.Add(time.Minute).Format(time.RFC3339) + " by dev2@example.com approved by lead@example.com"
	if got := describe(restored.exceptionTransitions([]*engine.ExceptionOutcome{second}, again.Add(time.Minute), nil)); got != want {
		t.Errorf("the recreated exception's records, by a leader restored from the journal:\n%s\nwant:\n%s", got, want)
	}
	got := describe(h.exceptionTransitions([]*engine.ExceptionOutcome{second}, again.Add(time.Minute), nil))
	if got != want {
		t.Errorf("the recreated exception's records:\n%s\nwant:\n%s", got, want)
	}

	// Deleted while in force and created again at once: the first is revoked (at the latest
	// when the second was created), the second requested.
	third := again.AddDate(0, 0, 3)
	got = describe(h.exceptionTransitions([]*engine.ExceptionOutcome{outcome(third, "dev3@example.com", "", third.AddDate(0, 1, 0), v1alpha1.ExceptionPendingApproval)}, third.Add(time.Hour), nil))
	if want := "exception.revoked " + third.Format(time.RFC3339) + "; exception.requested " + third.Format(time.RFC3339) + " by dev3@example.com"; got != want {
		t.Errorf("an exception in force replaced under its name:\n%s\nwant:\n%s", got, want)
	}

	// And its own expiry.
	secondExpired := outcome(again, "dev2@example.com", "lead@example.com", again.AddDate(0, 1, 0), v1alpha1.ExceptionExpired)
	got = describe(restored.exceptionTransitions([]*engine.ExceptionOutcome{secondExpired}, again.AddDate(0, 1, 1), nil))
	if want := "exception.expired " + again.AddDate(0, 1, 0).Format(time.RFC3339) + " by dev2@example.com approved by lead@example.com"; got != want {
		t.Errorf("the recreated exception's expiry:\n%s\nwant:\n%s", got, want)
	}
}

// A namespace admin may put a finalizer on their own exception and delete it while it is Active:
// the engine judges it Expired (reason Deleted) while the finalizer holds it. The journal
// recorded exception.expired dated at its expiry, a date the tenant chose, weeks ahead, and the
// whole journal then failed verification ("records dated ... after the time of verification")
// until that date: the operator's evidence unverifiable by one tenant. It is revoked at its
// deletion, and no record is dated after the evaluation that made it.
func TestAnExceptionDeletedBeforeItsExpiryIsNotRecordedExpiredInTheFuture(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &journalHook{exceptions: map[string]*exTrack{}}
	expires := t0.AddDate(0, 1, 0)
	outcome := func(state v1alpha1.ExceptionState, deleted *metav1.Time) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: "team-a", CreationTimestamp: metav1.NewTime(t0),
				DeletionTimestamp: deleted, Finalizers: []string{"team-a.example.com/keep"}},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "r", Owner: "o", RequestedBy: "dev@example.com",
				Expires: metav1.NewTime(expires)},
		}
		return &engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey("team-a", "waiver"), State: state, ApprovedBy: "ciso@example.com", AppliesTo: true}
	}
	h.exceptionTransitions([]*engine.ExceptionOutcome{outcome(v1alpha1.ExceptionActive, nil)}, t0.Add(time.Hour), nil)
	deleted := metav1.NewTime(t0.AddDate(0, 0, 3))
	now := deleted.Add(time.Minute)
	recs := h.exceptionTransitions([]*engine.ExceptionOutcome{outcome(v1alpha1.ExceptionExpired, &deleted)}, now, nil)
	if len(recs) != 1 || recs[0].Type != journal.ExceptionRevoked || !recs[0].Time.Equal(deleted.Time) {
		t.Fatalf("an Active exception deleted with a finalizer, 27 days before its expiry, journaled %+v; want exception.revoked at its deletion, %s", recs, deleted.UTC().Format(time.RFC3339))
	}
	for _, r := range recs {
		if r.Time.After(now) {
			t.Errorf("record %s dated %s, after the evaluation at %s: the journal fails verification until then", r.Type, r.Time.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	// Nothing more when the finalizer goes and the exception with it.
	if recs := h.exceptionTransitions(nil, now.Add(time.Hour), nil); len(recs) != 0 {
		t.Errorf("the exception gone after its revocation journaled %+v, want nothing", recs)
	}
}

// Any change to an exception's spec removes its approval (api/v1alpha1: "a changed exception
// must be approved again"). A namespace admin may change an approved exception (widen its checks,
// extend its expiry) and have it approved again: the journal must record that approval of the new
// spec, by whoever gave it, as it recorded the first, before and after a restart.
func TestTheJournalRecordsAChangedExceptionApprovedAgain(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	outcome := func(gen int64, checks []string, approver string, expires time.Time, state v1alpha1.ExceptionState) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: "team-a", Generation: gen, CreationTimestamp: metav1.NewTime(t0)},
			Spec:       v1alpha1.ControlExceptionSpec{Checks: checks, Reason: "r", Owner: "o", RequestedBy: "dev@example.com", Expires: metav1.NewTime(expires)},
		}
		return &engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey("team-a", "waiver"), State: state, ApprovedBy: approver, AppliesTo: true}
	}
	describe := func(recs []journal.Record) string {
		var out []string
		for _, r := range recs {
			s := string(r.Type) + " " + r.Time.Format(time.RFC3339)
			if r.Exception != nil {
				s += " " + strings.Join(r.Exception.Checks, ",")
				if r.Exception.ApprovedBy != "" {
					s += " approved by " + r.Exception.ApprovedBy
				}
			}
			out = append(out, s)
		}
		return strings.Join(out, "; ")
	}
	one := []string{"wl-privileged"}
	two := []string{"wl-privileged", "wl-host-namespaces"}
	h := &journalHook{exceptions: map[string]*exTrack{}}
	written := h.exceptionTransitions([]*engine.ExceptionOutcome{outcome(1, one, "", t0.AddDate(0, 1, 0), v1alpha1.ExceptionPendingApproval)}, t0, nil)
	written = append(written, h.exceptionTransitions([]*engine.ExceptionOutcome{outcome(2, one, "ciso@example.com", t0.AddDate(0, 1, 0), v1alpha1.ExceptionActive)}, t0.Add(time.Hour), nil)...)
	// Widened and extended: the approval is gone until someone approves the new spec.
	later := t0.AddDate(0, 0, 20)
	written = append(written, h.exceptionTransitions([]*engine.ExceptionOutcome{outcome(3, two, "", t0.AddDate(0, 3, 0), v1alpha1.ExceptionPendingApproval)}, later, nil)...)
	restored := &journalHook{exceptions: map[string]*exTrack{}}
	for i := range written {
		restored.apply(&written[i])
	}
	again := outcome(4, two, "lead@example.com", t0.AddDate(0, 3, 0), v1alpha1.ExceptionActive)
	want := "exception.approved " + later.Add(time.Hour).Format(time.RFC3339) + " wl-privileged,wl-host-namespaces approved by lead@example.com"
	if got := describe(h.exceptionTransitions([]*engine.ExceptionOutcome{again}, later.Add(time.Hour), nil)); got != want {
		t.Errorf("the changed exception approved again:\n%s\nwant:\n%s", got, want)
	}
	if got := describe(restored.exceptionTransitions([]*engine.ExceptionOutcome{again}, later.Add(time.Hour), nil)); got != want {
		t.Errorf("the changed exception approved again, by a leader restored from the journal:\n%s\nwant:\n%s", got, want)
	}
	// Approved once is recorded once.
	if got := describe(h.exceptionTransitions([]*engine.ExceptionOutcome{again}, later.Add(2*time.Hour), nil)); got != "" {
		t.Errorf("the same approval recorded again: %s", got)
	}
}

// Under a profile that requires no approval, an exception is in force as soon as it is written,
// and its owner may widen it later (more checks, a name pattern matching every workload, a later
// expiry) with no approval to record. The journal must record the change itself, with what an
// auditor needs (checks, criteria, resources matched, expiry) and the spec's digest, when the
// operator saw it; and once only, also for a leader restored from the journal.
func TestTheJournalRecordsAnExceptionChangedWithoutApproval(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	outcome := func(gen int64, checks, names []string, expires time.Time) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: "team-a", Generation: gen, CreationTimestamp: metav1.NewTime(t0)},
			Spec: v1alpha1.ControlExceptionSpec{Checks: checks, Match: v1alpha1.ResourceMatch{Names: names}, Reason: "r", Owner: "o",
				RequestedBy: "dev@example.com", Expires: metav1.NewTime(expires)},
		}
		return &engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey("team-a", "waiver"), State: v1alpha1.ExceptionActive, AppliesTo: true}
	}
	h := &journalHook{exceptions: map[string]*exTrack{}}
	written := h.exceptionTransitions([]*engine.ExceptionOutcome{outcome(1, []string{"wl-privileged"}, []string{"api"}, t0.AddDate(0, 0, 7))}, t0, nil)
	later := t0.AddDate(0, 0, 3)
	widened := outcome(2, []string{"wl-privileged", "wl-host-namespaces"}, []string{"*"}, t0.AddDate(1, 0, 0))
	changed := h.exceptionTransitions([]*engine.ExceptionOutcome{widened}, later, nil)
	if len(changed) != 1 || changed[0].Type != journal.ExceptionChanged {
		t.Fatalf("the widened exception: %d records %+v, want one %s", len(changed), changed, journal.ExceptionChanged)
	}
	e := changed[0].Exception
	if !changed[0].Time.Equal(later) || strings.Join(e.Checks, ",") != "wl-privileged,wl-host-namespaces" || e.Match == nil ||
		strings.Join(e.Match.Names, ",") != "*" || !e.Expires.Equal(t0.AddDate(1, 0, 0)) || e.SpecSHA256 == "" || e.Generation != 2 {
		t.Errorf("the change recorded as %s %+v (match %+v)", changed[0].Time, e, e.Match)
	}
	if again := h.exceptionTransitions([]*engine.ExceptionOutcome{widened}, later.Add(time.Hour), nil); len(again) != 0 {
		t.Errorf("the same change recorded again: %+v", again)
	}
	restored := &journalHook{exceptions: map[string]*exTrack{}}
	for _, r := range append(written, changed...) {
		restored.apply(&r)
	}
	if again := restored.exceptionTransitions([]*engine.ExceptionOutcome{widened}, later.Add(time.Hour), nil); len(again) != 0 {
		t.Errorf("the same change recorded again by a restored leader: %+v", again)
	}
}

// An exception narrowed to a container waives that container's findings only: the journal
// records that, or the evidence shows it waiving every container (and, with containers alone,
// every resource) of what it matches.
func TestTheJournalRecordsTheContainersAnExceptionMatches(t *testing.T) {
	ex := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "sidecar", Namespace: "team-a", Generation: 1},
		Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Match: v1alpha1.ResourceMatch{Containers: []string{"istio-*"}},
			Reason: "r", Owner: "o", RequestedBy: "dev@example.com"},
	}
	e := exceptionRecord(&engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey("team-a", "sidecar")}, 0, "")
	if e.Match == nil || strings.Join(e.Match.Containers, ",") != "istio-*" {
		t.Errorf("recorded match %+v, want containers istio-*", e.Match)
	}
}

// The evaluation of one namespace judges only the exceptions that can cover its objects (its
// own and the operator's namespace's: engine.Options.Reaches), so another tenant's exception
// missing from its outcomes was not revoked: only one the evaluation could have judged is. The
// full evaluation, which judges every exception, still sees one deleted anywhere.
func TestAnExceptionOutsideTheNamespaceEvaluatedIsNotRevoked(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	outcome := func(ns string) *engine.ExceptionOutcome {
		ex := &v1alpha1.ControlException{
			ObjectMeta: metav1.ObjectMeta{Name: "waiver", Namespace: ns, CreationTimestamp: metav1.NewTime(t0)},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Reason: "r", Owner: "o",
				Expires: metav1.NewTime(t0.AddDate(0, 1, 0))},
		}
		return &engine.ExceptionOutcome{Exception: ex, Key: engine.ExceptionKey(ns, "waiver"), State: v1alpha1.ExceptionActive, AppliesTo: true}
	}
	revoked := func(recs []journal.Record) []string {
		var out []string
		for _, r := range recs {
			if r.Type == journal.ExceptionRevoked {
				out = append(out, r.Namespace+"/"+r.Exception.Name)
			}
		}
		return out
	}
	h := &journalHook{exceptions: map[string]*exTrack{}}
	h.exceptionTransitions([]*engine.ExceptionOutcome{outcome("team-a"), outcome("team-b")}, t0, nil)
	teamB := engine.Options{OnlyNamespace: "team-b", AdminNamespace: engine.DefaultAdminNamespace}
	if got := revoked(h.exceptionTransitions([]*engine.ExceptionOutcome{outcome("team-b")}, t0.Add(time.Minute), teamB.Reaches)); got != nil {
		t.Errorf("team-b's evaluation revoked %v, want none", got)
	}
	if got := revoked(h.exceptionTransitions(nil, t0.Add(2*time.Minute), teamB.Reaches)); len(got) != 1 || got[0] != "team-b/waiver" {
		t.Errorf("team-b's evaluation without its exception revoked %v, want team-b/waiver", got)
	}
	if got := revoked(h.exceptionTransitions(nil, t0.Add(3*time.Minute), nil)); len(got) != 1 || got[0] != "team-a/waiver" {
		t.Errorf("a full evaluation without team-a's exception revoked %v, want team-a/waiver", got)
	}
}
