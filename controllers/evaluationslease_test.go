package controllers

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestAnOldLeadersEvaluationsDoNotReplaceTheNewLeaders: as the alerts' and the exceptions' saves
// (TestAnOldLeadersSaveDoesNotReplaceTheNewLeaders, TestAnOldLeadersExceptionsDoNotReplaceTheNewLeaders),
// a leader that lost its lease (the API server slow, a partition) wrote the evaluations Lease
// over what the new leader had written since, and the new leader, its own view unchanged, did
// not write it again:
//   - the cluster-scoped findings identified: the Lease held the old leader's a b d, not the
//     new leader's b c, so the process after it identified c, which the new leader had
//     identified (alerted on, recorded opened), as new again, and took d, which the new leader
//     had seen fixed, as known: a cluster-admin binding made again in its place while no
//     operator ran was not identified (no alert, no finding-opened time);
//   - the profile's vouch: the Lease held the old leader's older evaluation time, not the new
//     leader's (which vouches again only half an interval later), so a process starting then
//     marked overdue (Stale) reports an evaluation had confirmed.
func TestAnOldLeadersEvaluationsDoNotReplaceTheNewLeaders(t *testing.T) {
	ctx := context.Background()
	const ns = "evaluations-superseded"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "superseded", UID: "uid-superseded"}}
	keys := map[string]uint64{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
	lease := func() *coordinationv1.Lease {
		t.Helper()
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: evaluationsLease}, lease); err != nil {
			t.Fatal(err)
		}
		return lease
	}
	kept := func() string {
		t.Helper()
		failing, _, ok := decodeClusterFailing(profile.UID, lease().Annotations[clusterFailingAnnotationPrefix+profile.Name])
		if !ok {
			t.Fatal("the Lease keeps no cluster-scoped findings of the profile")
		}
		var names []string
		for name, k := range keys {
			if failing[k] {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return strings.Join(names, " ")
	}
	vouchedAt := func() string {
		t.Helper()
		return lease().Annotations[evaluatedAnnotation(profile.Name)]
	}
	// A process's first full evaluation of the profile: it reads what the previous one kept.
	newLeader := func() (*ComplianceProfileReconciler, *pass) {
		r := &ComplianceProfileReconciler{Client: k8s, apiReader: k8s, AdminNamespace: ns, state: newState()}
		p := &pass{profile: profile, ps: &profileState{name: profile.Name, uid: profile.UID, firstPlan: true, failing: map[string]map[uint64]bool{}},
			clusterJudged: true, clusterSummary: &engine.Summary{}}
		r.seedClusterFailing(ctx, p)
		return r, p
	}
	identified := func(r *ComplianceProfileReconciler, p *pass, names ...string) {
		t.Helper()
		failing := map[uint64]bool{}
		for _, name := range names {
			failing[keys[name]] = true
		}
		r.state.recordFailing(p.ps, "", maps.Clone(failing))
		p.ps.statusMu.Lock()
		r.keepClusterFailing(ctx, p)
		p.ps.statusMu.Unlock()
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

	old, oldPass := newLeader()
	identified(old, oldPass, "a")
	identified(old, oldPass, "a", "b")
	old.vouch(ctx, profile, at(0))
	old.vouch(ctx, profile, at(1))
	if got := kept(); got != "a b" {
		t.Fatalf("kept %q, want a b", got)
	}
	if got := vouchedAt(); got != at(1).Format(time.RFC3339) {
		t.Fatalf("vouched at %s, want %s", got, at(1).Format(time.RFC3339))
	}

	next, nextPass := newLeader() // reads a and b
	identified(next, nextPass, "b", "c")
	next.vouch(ctx, profile, at(3))
	// The old leader's writes, sent before it knew it had lost its lease, land now.
	identified(old, oldPass, "a", "b", "d")
	old.vouch(ctx, profile, at(2))
	if got := kept(); got != "b c" {
		t.Errorf("kept %q after the old leader's write, want the new leader's b c", got)
	}
	if got := vouchedAt(); got != at(3).Format(time.RFC3339) {
		t.Errorf("vouched at %s after the old leader's write, want the new leader's %s", got, at(3).Format(time.RFC3339))
	}
	// The new leader's writes go on.
	identified(next, nextPass, "c")
	next.vouch(ctx, profile, at(4))
	if got := kept(); got != "c" {
		t.Errorf("kept %q, want the new leader's c", got)
	}
	if got := vouchedAt(); got != at(4).Format(time.RFC3339) {
		t.Errorf("vouched at %s, want the new leader's %s", got, at(4).Format(time.RFC3339))
	}
	// Someone deletes the Lease: the leader's next write after that is skipped, not every one.
	if err := k8s.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: evaluationsLease}}); err != nil {
		t.Fatal(err)
	}
	identified(next, nextPass, "c", "e")
	identified(next, nextPass, "c", "e")
	next.vouch(ctx, profile, at(5))
	next.vouch(ctx, profile, at(5))
	if got := kept(); got != "c e" {
		t.Errorf("kept %q after the Lease was deleted, want c e", got)
	}
	if got := vouchedAt(); got != at(5).Format(time.RFC3339) {
		t.Errorf("vouched at %s after the Lease was deleted, want %s", got, at(5).Format(time.RFC3339))
	}
}

// TestAnOldLeadersFirstVouchDoesNotReplaceTheNewLeaders: a process writes a profile's vouch only
// over what it last read or wrote there, and before its first vouch it had done neither, so a
// leader whose first full evaluation of the profile outlasted its lease (a large cluster, the
// API server slow) wrote its vouch over the new leader's. Its watchdog read the vouches when it
// started (markUnconfirmed, vouchedFor): that read is what its first vouch may replace.
func TestAnOldLeadersFirstVouchDoesNotReplaceTheNewLeaders(t *testing.T) {
	ctx := context.Background()
	const ns = "vouch-superseded"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "first-vouch", UID: "uid-first-vouch"}}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	vouchedAt := func() string {
		t.Helper()
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: evaluationsLease}, lease); err != nil {
			t.Fatal(err)
		}
		return lease.Annotations[evaluatedAnnotation(profile.Name)]
	}
	newProcess := func() *ComplianceProfileReconciler {
		return &ComplianceProfileReconciler{Client: k8s, apiReader: k8s, AdminNamespace: ns, state: newState()}
	}

	newProcess().vouch(ctx, profile, at(0)) // a process before both
	old := newProcess()
	if _, err := old.vouchedFor(ctx); err != nil { // its watchdog's first read
		t.Fatal(err)
	}
	next := newProcess()
	next.vouch(ctx, profile, at(3))
	// Its watchdog's next read (a tick before it knew it had lost its lease) does not make the
	// new leader's vouch its own.
	if _, err := old.vouchedFor(ctx); err != nil {
		t.Fatal(err)
	}
	old.vouch(ctx, profile, at(2)) // its first vouch lands now
	if got := vouchedAt(); got != at(3).Format(time.RFC3339) {
		t.Errorf("vouched at %s after the old leader's first vouch, want the new leader's %s", got, at(3).Format(time.RFC3339))
	}
	next.vouch(ctx, profile, at(4))
	if got := vouchedAt(); got != at(4).Format(time.RFC3339) {
		t.Errorf("vouched at %s, want the new leader's %s", got, at(4).Format(time.RFC3339))
	}
}

// TestAnOldLeadersRefusedWritesAreNotLoggedAsErrors: after a leader handover, the old leader's
// late writes to the evaluations Lease (a vouch, the cluster-scoped findings identified) are
// refused by design, the new leader's record standing. They were logged at error level ("Unable
// to record the evaluation on the Lease", "Unable to keep which cluster-scoped findings were
// identified"), as if something had to be done: an on-call reading the logs of a handover saw
// failures where there were none. They are logged at info level now, saying another process
// leads; a write that fails for another reason is still an error.
func TestAnOldLeadersRefusedWritesAreNotLoggedAsErrors(t *testing.T) {
	const ns = "evaluations-refused-logged"
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	ctx := logf.IntoContext(context.Background(), funcr.New(func(prefix, args string) { logs.WriteString(args + "\n") }, funcr.Options{}))
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "refused", UID: "uid-refused"}}
	newLeader := func() (*ComplianceProfileReconciler, *pass) {
		r := &ComplianceProfileReconciler{Client: k8s, apiReader: k8s, AdminNamespace: ns, state: newState()}
		p := &pass{profile: profile, ps: &profileState{name: profile.Name, uid: profile.UID, firstPlan: true, failing: map[string]map[uint64]bool{}},
			clusterJudged: true, clusterSummary: &engine.Summary{}}
		r.seedClusterFailing(ctx, p)
		return r, p
	}
	identified := func(r *ComplianceProfileReconciler, p *pass, keys ...uint64) {
		failing := map[uint64]bool{}
		for _, k := range keys {
			failing[k] = true
		}
		r.state.recordFailing(p.ps, "", failing)
		p.ps.statusMu.Lock()
		r.keepClusterFailing(ctx, p)
		p.ps.statusMu.Unlock()
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	old, oldPass := newLeader()
	identified(old, oldPass, 1)
	old.vouch(ctx, profile, t0)
	next, nextPass := newLeader()
	identified(next, nextPass, 2)
	next.vouch(ctx, profile, t0.Add(2*time.Hour))
	logs.Reset()
	identified(old, oldPass, 1, 3)
	old.vouch(ctx, profile, t0.Add(time.Hour))
	got := logs.String()
	if strings.Contains(got, `"error"=`) || strings.Count(got, "another process saved since and leads now") != 2 {
		t.Errorf("the old leader's two refused writes: want two info lines saying another process leads, got:\n%s", got)
	}
}
