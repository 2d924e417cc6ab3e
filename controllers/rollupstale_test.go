package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// privateProfile keeps the status a test's own reconciler writes to one profile to itself, so
// that the suite's operator, which evaluates the same profile without the test's faults, and
// the test's reconciler do not overwrite each other: the test reads the status its reconciler
// wrote, as `kubectl get complianceprofiles` would show it had that reconciler been the operator.
type privateProfile struct {
	name   string
	mu     sync.Mutex
	status *v1alpha1.ComplianceProfileStatus
}

func (p *privateProfile) funcs(f interceptor.Funcs) interceptor.Funcs {
	get := f.Get
	f.Get = func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		var err error
		if get != nil {
			err = get(ctx, cl, key, obj, opts...)
		} else {
			err = cl.Get(ctx, key, obj, opts...)
		}
		if prof, ok := obj.(*v1alpha1.ComplianceProfile); ok && err == nil && key.Name == p.name {
			p.mu.Lock()
			defer p.mu.Unlock()
			prof.Status = v1alpha1.ComplianceProfileStatus{}
			if p.status != nil {
				prof.Status = *p.status.DeepCopy()
			}
		}
		return err
	}
	list := f.List
	f.List = func(ctx context.Context, cl client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
		var err error
		if list != nil {
			err = list(ctx, cl, l, opts...)
		} else {
			err = cl.List(ctx, l, opts...)
		}
		if profiles, ok := l.(*v1alpha1.ComplianceProfileList); ok && err == nil {
			p.mu.Lock()
			defer p.mu.Unlock()
			for i := range profiles.Items {
				if profiles.Items[i].Name == p.name {
					profiles.Items[i].Status = v1alpha1.ComplianceProfileStatus{}
					if p.status != nil {
						profiles.Items[i].Status = *p.status.DeepCopy()
					}
				}
			}
		}
		return err
	}
	update := f.SubResourceUpdate
	f.SubResourceUpdate = func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
		if prof, ok := obj.(*v1alpha1.ComplianceProfile); ok && prof.Name == p.name {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.status = prof.Status.DeepCopy()
			return nil
		}
		if update != nil {
			return update(ctx, cl, sub, obj, opts...)
		}
		return cl.SubResource(sub).Update(ctx, obj, opts...)
	}
	return f
}

// get returns the status last written, or fails the test when there is none.
func (p *privateProfile) get(t *testing.T) *v1alpha1.ComplianceProfileStatus {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status == nil {
		t.Fatalf("no status of profile %s written", p.name)
	}
	return p.status.DeepCopy()
}

// columns are what `kubectl get complianceprofiles` prints of a status (the CRD's printer
// columns): Ready, Status, Namespaces, Non-Compliant, Reason.
func columns(st *v1alpha1.ComplianceProfileStatus) string {
	ready, reason := "", ""
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); c != nil {
		ready, reason = string(c.Status), c.Reason
	}
	return fmt.Sprintf("READY=%s STATUS=%s NAMESPACES=%d NON-COMPLIANT=%d REASON=%s", ready, st.Result, st.NamespacesEvaluated, st.NamespacesNonCompliant, reason)
}

// rollupFixture is a profile judging wl-privileged in two namespaces, <name>-a and <name>-b, each
// with a hardened Deployment, and a reconciler of its own whose listing of <name>-b's Deployments
// fails while failB is set.
type rollupFixture struct {
	profile *v1alpha1.ComplianceProfile
	r       *ComplianceProfileReconciler
	clk     *testingclock.FakeClock
	status  *privateProfile
	failB   atomic.Bool
	a, b    string
}

func newRollupFixture(t *testing.T, name string) *rollupFixture {
	t.Helper()
	f := &rollupFixture{a: name + "-a", b: name + "-b", status: &privateProfile{name: name}}
	for _, ns := range []string{f.a, f.b} {
		createNamespace(t, ns, map[string]string{name: "true"})
		if err := k8s.Create(context.Background(), deployment(ns, "web", false)); err != nil {
			t.Fatal(err)
		}
	}
	f.profile = createProfile(t, name, name, func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "wl-privileged") })
	c := failing(t, f.status.funcs(interceptor.Funcs{
		List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			lo := (&client.ListOptions{}).ApplyOptions(opts)
			if _, ok := list.(*appsv1.DeploymentList); ok && f.failB.Load() && lo.Namespace == f.b {
				return errInjected
			}
			return cl.List(ctx, list, opts...)
		},
	}))
	f.r = reconcilerOver(t, c, "Namespace", "Deployment")
	f.r.Approval = approval // the suite's: its admission policies are in force
	f.clk = testingclock.NewFakeClock(time.Now().Truncate(time.Second))
	f.r.Clock = f.clk
	return f
}

// reconcile evaluates the whole profile (ns "") or one namespace, and returns the error.
func (f *rollupFixture) reconcile(ns string) error {
	_, err := f.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: f.profile.Name, Namespace: ns}})
	return err
}

// want checks the profile's printed columns, and that its Ready message names each of names.
func (f *rollupFixture) want(t *testing.T, when, cols string, names ...string) {
	t.Helper()
	st := f.status.get(t)
	if got := columns(st); got != cols {
		t.Errorf("%s: kubectl get complianceprofiles prints %s, want %s", when, got, cols)
	}
	ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	if ready != nil {
		t.Logf("%s: Ready %s %s: %s", when, ready.Status, ready.Reason, ready.Message)
	}
	for _, n := range names {
		if ready == nil || !strings.Contains(ready.Message, n) {
			t.Errorf("%s: the Ready condition %+v does not name %q", when, ready, n)
		}
	}
}

// TestANamespaceWhoseEvaluationFailsIsNotCountedCompliant: the evaluation of one namespace fails
// (its objects cannot be read), just after its Deployment turned privileged. Its report turns
// Unknown (Stale, EvaluationFailed), but the profile kept the namespace's last summary and
// was not even written: it went on printing Ready True, Compliant, and an evaluation of the
// other namespace wrote it again as Compliant. Likewise after a full evaluation that failed at
// that namespace: the next evaluation of another namespace turned the profile from Unknown back
// to Compliant. Now the profile reads Unknown with Ready False (EvaluationFailed) naming the
// namespace until an evaluation of it succeeds, which shows the NonCompliant verdict.
func TestANamespaceWhoseEvaluationFailsIsNotCountedCompliant(t *testing.T) {
	f := newRollupFixture(t, "rollfail")
	if err := f.reconcile(""); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after a full evaluation", "READY=True STATUS=Compliant NAMESPACES=2 NON-COMPLIANT=0 REASON=Evaluated")

	updateDeployment(t, f.b, "web", func(d *appsv1.Deployment) { d.Spec.Template.Spec = deployment(f.b, "web", true).Spec.Template.Spec })
	f.failB.Store(true)
	if err := f.reconcile(f.b); !errors.Is(err, errInjected) {
		t.Fatalf("evaluating %s returned %v, want the injected failure", f.b, err)
	}
	f.want(t, "after the evaluation of "+f.b+" failed", "READY=False STATUS=Unknown NAMESPACES=2 NON-COMPLIANT=0 REASON=EvaluationFailed", f.b, errInjected.Error())
	if err := f.reconcile(f.a); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after an evaluation of "+f.a+" succeeded, "+f.b+"'s still failing", "READY=False STATUS=Unknown NAMESPACES=2 NON-COMPLIANT=0 REASON=EvaluationFailed", f.b)

	f.failB.Store(false)
	if err := f.reconcile(f.b); err != nil {
		t.Fatal(err)
	}
	f.want(t, "once "+f.b+" is evaluated again", "READY=True STATUS=NonCompliant NAMESPACES=2 NON-COMPLIANT=1 REASON=Evaluated")

	// A full evaluation that fails at the namespace, then one of the other namespace.
	updateDeployment(t, f.b, "web", func(d *appsv1.Deployment) { d.Spec.Template.Spec = deployment(f.b, "web", false).Spec.Template.Spec })
	if err := f.reconcile(f.b); err != nil {
		t.Fatal(err)
	}
	f.want(t, "once "+f.b+" is hardened again", "READY=True STATUS=Compliant NAMESPACES=2 NON-COMPLIANT=0 REASON=Evaluated")
	updateDeployment(t, f.b, "web", func(d *appsv1.Deployment) { d.Spec.Template.Spec = deployment(f.b, "web", true).Spec.Template.Spec })
	f.failB.Store(true)
	if err := f.reconcile(""); !errors.Is(err, errInjected) {
		t.Fatalf("the full evaluation returned %v, want the injected failure", err)
	}
	f.want(t, "after a full evaluation failed", "READY=False STATUS=Unknown NAMESPACES=2 NON-COMPLIANT=0 REASON=EvaluationFailed")
	if err := f.reconcile(f.a); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after a full evaluation failed and then one of "+f.a+" succeeded", "READY=False STATUS=Unknown NAMESPACES=2 NON-COMPLIANT=0 REASON=EvaluationFailed", f.b)
	f.failB.Store(false)
	if err := f.reconcile(""); err != nil {
		t.Fatal(err)
	}
	f.want(t, "once a full evaluation succeeds", "READY=True STATUS=NonCompliant NAMESPACES=2 NON-COMPLIANT=1 REASON=Evaluated")
}

// TestAnOverdueNamespaceIsNotCountedCompliant: no evaluation of one namespace has succeeded for
// over twice the profile's interval (its evaluations are stuck), while the other namespace's go
// on. The watchdog marks its report Unknown (Stale, EvaluationOverdue), but the profile kept
// printing Ready True, Compliant on the namespace's last summary, and so did every evaluation of
// the other namespace. Now the watchdog turns the profile Unknown too, Ready False
// (EvaluationOverdue) naming the namespace and the cluster-scoped objects, whose full evaluation
// is as overdue, until a full evaluation succeeds.
func TestAnOverdueNamespaceIsNotCountedCompliant(t *testing.T) {
	f := newRollupFixture(t, "rolloverdue")
	interval := profileInterval(f.profile)
	if err := f.reconcile(""); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after a full evaluation", "READY=True STATUS=Compliant NAMESPACES=2 NON-COMPLIANT=0 REASON=Evaluated")

	f.clk.Step(2*interval + time.Minute)
	if err := f.reconcile(f.a); err != nil {
		t.Fatal(err)
	}
	w := &watchdog{client: f.r.Client, profiles: f.r, period: time.Minute}
	if err := w.check(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep := &v1alpha1.ComplianceReport{}
	if err := f.r.Get(context.Background(), types.NamespacedName{Namespace: f.b, Name: f.profile.Name}, rep); err != nil {
		t.Fatal(err)
	}
	if stale := meta.FindStatusCondition(rep.Status.Conditions, v1alpha1.ConditionStale); stale == nil || stale.Status != metav1.ConditionTrue ||
		stale.Reason != v1alpha1.ReasonEvaluationOverdue {
		t.Fatalf("the watchdog did not mark %s's report overdue: %+v", f.b, stale)
	}
	f.want(t, "after the watchdog found "+f.b+" overdue", "READY=False STATUS=Unknown NAMESPACES=2 NON-COMPLIANT=0 REASON=EvaluationOverdue", f.b, "cluster-scoped objects")
	if err := f.reconcile(f.a); err != nil {
		t.Fatal(err)
	}
	f.want(t, "after another evaluation of "+f.a, "READY=False STATUS=Unknown NAMESPACES=2 NON-COMPLIANT=0 REASON=EvaluationOverdue", f.b)

	if err := f.reconcile(""); err != nil {
		t.Fatal(err)
	}
	f.want(t, "once a full evaluation succeeds", "READY=True STATUS=Compliant NAMESPACES=2 NON-COMPLIANT=0 REASON=Evaluated")
}
