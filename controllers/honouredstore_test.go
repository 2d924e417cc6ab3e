package controllers

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTheExceptionsKeptReadBackAsTheyWereWritten: an exception kept on the Lease and read back
// by the next process encodes as it was, so that a start with nothing changed writes nothing
// (its reason, cut to 512 bytes with an ellipsis, was cut again, and differed); past the bound,
// one tenant's many exceptions do not push out the operator namespace's or another tenant's.
func TestTheExceptionsKeptReadBackAsTheyWereWritten(t *testing.T) {
	ex := &v1alpha1.ControlException{Spec: v1alpha1.ControlExceptionSpec{Owner: "team-a@example.com", Reason: strings.Repeat("é", 400),
		Checks: []string{"wl-privileged"}, Expires: metav1.NewTime(time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC))}}
	ex.Namespace, ex.Name, ex.UID = "team-a", "waiver", "uid-1"
	kept := keptOf(honouredException{ex: ex, profiles: []string{"soc2"}})
	if len(kept.Reason) > maxKeptReason {
		t.Errorf("reason of %d bytes kept", len(kept.Reason))
	}
	if again := keptOf(kept.honoured()); !reflect.DeepEqual(again, kept) {
		t.Errorf("read back and kept again:\n%+v\nwant\n%+v", again, kept)
	}

	var many []keptException
	for i := range 3000 {
		many = append(many, keptException{Namespace: "noisy", Name: fmt.Sprintf("waiver-%04d-%s", i, strings.Repeat("x", 40)),
			Reason: fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(i)))), Expires: kept.Expires, Profiles: []string{"soc2"}})
	}
	many = append(many, keptException{Namespace: "quiet", Name: "zz", Expires: kept.Expires},
		keptException{Namespace: "soc2-operator-system", Name: "zz", Expires: kept.Expires})
	value, left, err := encodeHonoured(many, "soc2-operator-system")
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := decodeHonoured(value)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) == 0 {
		t.Fatalf("kept all %d: the test needs more", len(back))
	}
	for _, ns := range []string{"quiet", "soc2-operator-system"} {
		found := false
		for _, k := range back {
			found = found || k.Namespace == ns
		}
		if !found {
			t.Errorf("%s's exception left out (kept %d of noisy's)", ns, len(back))
		}
	}
}

// TestAnOldLeadersExceptionsDoNotReplaceTheNewLeaders: as the alerts' save
// (TestAnOldLeadersSaveDoesNotReplaceTheNewLeaders), a leader that lost its lease saves at its
// stop the exceptions it judged Active; landing after the new leader read the Lease and saved its
// own, it replaced them: the Lease held an exception the new leader had seen deleted and revoked
// (revoked again by the process after it: a second ExceptionRevoked, Event and journal record)
// and not one the new leader judged Active since (its deletion while no operator runs then not
// alerted), and the new leader, its set unchanged, did not write it again.
func TestAnOldLeadersExceptionsDoNotReplaceTheNewLeaders(t *testing.T) {
	ctx := context.Background()
	const ns = "honoured-superseded"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	exceptions := map[string]*v1alpha1.ControlException{}
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Reason: "The agent loads a kernel module.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(time.Now().Add(30 * 24 * time.Hour))}}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
		ex = ex.DeepCopy()
		ex.Status.State = v1alpha1.ExceptionActive
		exceptions[name] = ex
	}
	judged := func(r *ControlExceptionReconciler, names ...string) {
		t.Helper()
		for _, name := range []string{"a", "b", "c", "d", "e"} {
			if slices.Contains(names, name) {
				r.honoured.remember(exceptions[name], nil)
			} else {
				r.honoured.forget(types.NamespacedName{Namespace: ns, Name: name})
			}
		}
	}
	kept := func() string {
		t.Helper()
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: stateLease}, lease); err != nil {
			t.Fatal(err)
		}
		list, _, err := decodeHonoured(lease.Annotations[honouredAnnotation])
		if err != nil {
			t.Fatal(err)
		}
		var names string
		for _, k := range list {
			names += k.Name + " "
		}
		return names
	}
	newReconciler := func() *ControlExceptionReconciler {
		r := &ControlExceptionReconciler{Client: k8s, APIReader: k8s, AdminNamespace: ns}
		if err := r.restoreHonoured(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}

	old := newReconciler()
	judged(old, "a")
	if err := old.saveHonoured(ctx); err != nil {
		t.Fatal(err)
	}
	judged(old, "a", "b")
	if err := old.saveHonoured(ctx); err != nil {
		t.Fatalf("the leader's second save: %v", err)
	}
	if got := kept(); got != "a b " {
		t.Fatalf("kept %q, want a b", got)
	}

	next := newReconciler() // reads a and b, both there
	judged(next, "b", "c")  // a deleted (revoked by next), c approved
	if err := next.saveHonoured(ctx); err != nil {
		t.Fatal(err)
	}
	// The old leader's save at its stop lands now.
	judged(old, "a", "b", "d")
	if err := old.saveHonoured(ctx); err == nil {
		t.Errorf("the old leader's save after the new leader's succeeded")
	}
	if got := kept(); got != "b c " {
		t.Errorf("kept %q after the old leader's save, want the new leader's b c", got)
	}
	// The new leader's saves go on.
	judged(next, "c")
	if err := next.saveHonoured(ctx); err != nil {
		t.Fatalf("the new leader's next save: %v", err)
	}
	// Someone deletes the Lease: the leader's next save after that is skipped, not every one.
	if err := k8s.Delete(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: stateLease}}); err != nil {
		t.Fatal(err)
	}
	judged(next, "c", "e")
	_ = next.saveHonoured(ctx)
	if err := next.saveHonoured(ctx); err != nil {
		t.Fatalf("the leader's save after the Lease was deleted: %v", err)
	}
	if got := kept(); got != "c e " {
		t.Errorf("kept %q, want c e", got)
	}
}

// TestAnOldLeadersSaveAtItsStopDoesNotLandAfterASkippedOne: a leader that lost its lease
// without knowing it yet saved on its period after the new leader's save; that save was skipped
// (superseded), and it recorded the new leader's value as the annotation's. Its save at its stop,
// a moment later, then held "what it last read" and replaced the new leader's record with its
// own: the new leader, its view unchanged, did not write again, and the process after it
// compared with the old leader's exceptions (one the new leader saw revoked read as still
// Active, one approved since as never kept: its deletion while no operator runs not alerted).
// A write after a skipped one goes through only while the process leads (the new leader's, or
// one after an administrator deleted the Lease), not at its stop.
func TestAnOldLeadersSaveAtItsStopDoesNotLandAfterASkippedOne(t *testing.T) {
	ctx := context.Background()
	const ns = "honoured-superseded-stop"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	exceptions := map[string]*v1alpha1.ControlException{}
	for _, name := range []string{"a", "b", "c", "d"} {
		ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"wl-privileged"}, Reason: "The agent loads a kernel module.", Owner: "team-a@example.com",
			Expires: metav1.NewTime(time.Now().Add(30 * 24 * time.Hour))}}
		if err := k8s.Create(ctx, ex); err != nil {
			t.Fatal(err)
		}
		ex = ex.DeepCopy()
		ex.Status.State = v1alpha1.ExceptionActive
		exceptions[name] = ex
	}
	judged := func(r *ControlExceptionReconciler, names ...string) {
		t.Helper()
		for _, name := range []string{"a", "b", "c", "d"} {
			if slices.Contains(names, name) {
				r.honoured.remember(exceptions[name], nil)
			} else {
				r.honoured.forget(types.NamespacedName{Namespace: ns, Name: name})
			}
		}
	}
	kept := func() string {
		t.Helper()
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: stateLease}, lease); err != nil {
			t.Fatal(err)
		}
		list, _, err := decodeHonoured(lease.Annotations[honouredAnnotation])
		if err != nil {
			t.Fatal(err)
		}
		var names string
		for _, k := range list {
			names += k.Name + " "
		}
		return names
	}
	newReconciler := func(leads *leadership) *ControlExceptionReconciler {
		r := &ControlExceptionReconciler{Client: k8s, APIReader: k8s, AdminNamespace: ns, leadership: leads}
		if err := r.restoreHonoured(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	leading := func() (*leadership, context.CancelFunc) {
		l := &leadership{}
		lctx, cancel := context.WithCancel(ctx)
		l.lead(lctx)
		t.Cleanup(cancel)
		return l, cancel
	}

	oldLeads, oldStops := leading()
	old := newReconciler(oldLeads)
	judged(old, "a", "b")
	if err := old.saveHonoured(ctx); err != nil {
		t.Fatal(err)
	}
	nextLeads, _ := leading()
	next := newReconciler(nextLeads) // reads a and b
	judged(next, "b", "c")           // a revoked, c approved
	if err := next.saveHonoured(ctx); err != nil {
		t.Fatal(err)
	}
	// The old leader's periodic save, before it knows it lost its lease: skipped.
	judged(old, "a", "b", "d")
	if err := old.saveHonoured(ctx); err == nil {
		t.Errorf("the old leader's save after the new leader's succeeded")
	}
	// It learns, stops, and saves at its stop.
	oldStops()
	if err := old.saveHonoured(ctx); err == nil {
		t.Errorf("the old leader's save at its stop, after a skipped one, succeeded")
	}
	if got := kept(); got != "b c " {
		t.Errorf("kept %q after the old leader's stop, want the new leader's b c", got)
	}
	// The new leader's saves go on.
	judged(next, "c")
	if err := next.saveHonoured(ctx); err != nil {
		t.Fatalf("the new leader's next save: %v", err)
	}
	if got := kept(); got != "c " {
		t.Errorf("kept %q, want c", got)
	}
}

// TestAnIncompleteRecordOfActiveExceptionsIsSaid: past 64 KiB gzipped, the exceptions judged
// Active that did not fit were left out of the Lease, logged once by the process that saved;
// the next process read a record that looked complete and said nothing of those it could not
// check, whose deletion while no operator ran it did not alert. Namespace admins request
// exceptions (the requester role is aggregated into admin and edit); where a profile does not
// require approval they are Active at once, so a tenant can reach the bound. The record now says
// how many of each namespace were left out, and the next process logs it (the leader also
// exports soc2_operator_exceptions_not_kept while it lasts).
func TestAnIncompleteRecordOfActiveExceptionsIsSaid(t *testing.T) {
	const ns = "honoured-incomplete"
	if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	clk := testingclock.NewFakeClock(time.Now())
	old := &ControlExceptionReconciler{Client: k8s, APIReader: k8s, AdminNamespace: ns, Clock: clk}
	if err := old.restoreHonoured(context.Background()); err != nil {
		t.Fatal(err)
	}
	const many = 600
	for i := range many {
		ex := &v1alpha1.ControlException{ObjectMeta: metav1.ObjectMeta{Namespace: "noisy", Name: fmt.Sprintf("waiver-%04d", i), UID: types.UID(fmt.Sprint(i))},
			Spec: v1alpha1.ControlExceptionSpec{Checks: []string{"wl-privileged"}, Owner: "noisy@example.com",
				Reason:  fmt.Sprintf("%x%x%x", sha256.Sum256([]byte(fmt.Sprint(i))), sha256.Sum256([]byte(fmt.Sprint(i, "b"))), sha256.Sum256([]byte(fmt.Sprint(i, "c")))),
				Expires: metav1.NewTime(clk.Now().Add(24 * time.Hour))}}
		ex.Status.State = v1alpha1.ExceptionActive
		old.honoured.remember(ex, nil)
	}
	if err := old.saveHonoured(context.Background()); err != nil {
		t.Fatal(err)
	}
	lease := &coordinationv1.Lease{}
	if err := k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: stateLease}, lease); err != nil {
		t.Fatal(err)
	}
	kept, leftBy, err := decodeHonoured(lease.Annotations[honouredAnnotation])
	if err != nil {
		t.Fatal(err)
	}
	left := many - len(kept)
	if len(kept) == 0 || left == 0 {
		t.Fatalf("kept %d of %d: the test needs some kept and some left out", len(kept), many)
	}
	if leftBy["noisy"] != left {
		t.Errorf("the record says %v left out, want noisy=%d", leftBy, left)
	}
	var logs strings.Builder
	ctx := logf.IntoContext(context.Background(), funcr.New(func(prefix, args string) { logs.WriteString(args + "\n") }, funcr.Options{}))
	next := &ControlExceptionReconciler{Client: k8s, APIReader: k8s, AdminNamespace: ns, Clock: clk, Recorder: events.NewFakeRecorder(2 * many)}
	if err := next.restoreHonoured(ctx); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"leftOut"=%d "leftOutByNamespace"={"noisy"=%d}`, left, left); !strings.Contains(logs.String(), want) {
		t.Errorf("the next process did not say its record of Active exceptions was incomplete (%s):\n%.2000s", want, logs.String())
	}
}

// TestTheCountLeftOutFitsHoweverManyNamespaces: the record of how many exceptions were left out
// (TestAnIncompleteRecordOfActiveExceptionsIsSaid) names their namespaces; with thousands of
// namespaces holding Active exceptions, those names alone outgrew the bound, and nothing could be
// saved at all. It names the 100 with the most left out, and sums the others under "*".
func TestTheCountLeftOutFitsHoweverManyNamespaces(t *testing.T) {
	var many []keptException
	for i := range 3000 {
		ns := fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint("namespace", i))))[:63]
		many = append(many, keptException{Namespace: ns, Name: "waiver", UID: types.UID(fmt.Sprint(i)),
			Reason: fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(i)))), Expires: metav1.NewTime(time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC))})
	}
	value, left, err := encodeHonoured(many, "soc2-operator-system")
	if err != nil {
		t.Fatalf("nothing saved: %v", err)
	}
	kept, back, err := decodeHonoured(value)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) > maxLeftNamespaces+1 || total(back) != len(many)-len(kept) || total(left) != total(back) {
		t.Errorf("the record names %d namespaces and %d left out of %d, %d kept; want at most %d named and the rest under *",
			len(back), total(back), len(many), len(kept), maxLeftNamespaces)
	}
}
