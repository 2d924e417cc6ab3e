package controllers

import (
	"context"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestAFindingKeepsItsFirstSeenWhileOthersCrowdItOut: a report lists the most severe findings
// (maxFindings); a finding that still fails while others crowd it out of the list for a while
// has been failing all along, and its first-seen time, when it is listed again, is the one it
// had. Without the evidence journal (the default install) the operator remembered first-seen
// times only for the findings the report listed: a tenant who ran a few more failing workloads
// for one evaluation, then removed them, made a finding failing for weeks read as first seen
// now, and so the age of a deviation that a remediation deadline is measured by.
func TestAFindingKeepsItsFirstSeenWhileOthersCrowdItOut(t *testing.T) {
	ctx := context.Background()
	const ns = "crowded"
	createNamespace(t, ns, map[string]string{"crowded": "true"})
	if err := k8s.Create(ctx, deployment(ns, "old", true)); err != nil {
		t.Fatal(err)
	}
	// wl-privileged alone, one finding listed: a-burst's sorts before old's.
	profile := createProfile(t, "crowded", "crowded", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "wl-privileged")
		p.Spec.MaxFindings = 1
	})

	// This reconciler's reports are its own: it never sees the suite's operator's, which keeps
	// first-seen times in its journal, and writes none.
	c, kept := reportsKeptApart(t, ns)
	r := reconcilerOver(t, c, "Namespace", "Deployment")
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fake := testingclock.NewFakeClock(t0)
	r.Clock = fake
	evaluate := func() *v1alpha1.Finding {
		t.Helper()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: profile.Name}}); err != nil {
			t.Fatal(err)
		}
		written := kept.last()
		if written == nil || len(written.Status.Findings) != 1 {
			t.Fatalf("the report lists %+v, want one finding", written)
		}
		return written.Status.Findings[0].DeepCopy()
	}

	if f := evaluate(); f.Resource.Name != "old" || !f.FirstSeen.Time.Equal(t0) {
		t.Fatalf("first evaluation lists %s first seen %v, want old first seen %v", f.Resource.Name, f.FirstSeen, t0)
	}
	burst := deployment(ns, "a-burst", true)
	if err := k8s.Create(ctx, burst); err != nil {
		t.Fatal(err)
	}
	fake.Step(24 * time.Hour)
	if f := evaluate(); f.Resource.Name != "a-burst" {
		t.Fatalf("with a-burst failing too the report lists %s, want a-burst's finding first", f.Resource.Name)
	}
	if err := k8s.Delete(ctx, burst); err != nil {
		t.Fatal(err)
	}
	fake.Step(time.Hour)
	if f := evaluate(); f.Resource.Name != "old" || !f.FirstSeen.Time.Equal(t0) {
		t.Errorf("once a-burst is gone the report lists %s first seen %v, want old first seen %v: it failed all along", f.Resource.Name, f.FirstSeen, t0)
	}
}

// TestAClusterScopedFindingKeepsItsFirstSeenWhileOthersCrowdItOut: the profile lists the most
// severe findings on cluster-scoped objects (maxFindings), and one crowded out of that list for a
// while keeps its first-seen time when listed again, as a report's do. The profile's status was
// the only memory of those times, so a ClusterRoleBinding granting cluster-admin since 09:00 read
// first seen the next day once another binding's finding had outranked it for one evaluation
// (with or without the journal, which records namespaces' findings only).
func TestAClusterScopedFindingKeepsItsFirstSeenWhileOthersCrowdItOut(t *testing.T) {
	ctx := context.Background()
	binding := func(name string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			ObjectMeta: objectMeta(name),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name + "@example.com"}},
		}
	}
	old := binding("zz-crowded-old")
	if err := k8s.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), old) })
	// rbac-cluster-admin-binding alone, one finding listed: aa-crowded-burst's sorts before old's.
	profile := createProfile(t, "crowded-cluster", "crowded-cluster", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "rbac-cluster-admin-binding")
		p.Spec.MaxFindings = 1
	})

	// The statuses this reconciler computes are caught, not written: the suite's operator writes
	// the profile's status too, at its own clock.
	var mu sync.Mutex
	var written *v1alpha1.ComplianceProfileStatus
	c := failing(t, interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if p, ok := obj.(*v1alpha1.ComplianceProfile); ok && p.Name == profile.Name {
				mu.Lock()
				defer mu.Unlock()
				written = p.Status.DeepCopy()
				return nil
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	r := reconcilerOver(t, c, "ClusterRoleBinding", "ClusterRole")
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fake := testingclock.NewFakeClock(t0)
	r.Clock = fake
	evaluate := func() *v1alpha1.Finding {
		t.Helper()
		mu.Lock()
		written = nil
		mu.Unlock()
		if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: profile.Name}}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if written == nil || len(written.ClusterFindings) != 1 {
			t.Fatalf("the profile's status lists %+v, want one cluster finding", written)
		}
		return written.ClusterFindings[0].DeepCopy()
	}

	if f := evaluate(); f.Resource.Name != old.Name || !f.FirstSeen.Time.Equal(t0) {
		t.Fatalf("first evaluation lists %s first seen %v, want %s first seen %v", f.Resource.Name, f.FirstSeen, old.Name, t0)
	}
	burst := binding("aa-crowded-burst")
	if err := k8s.Create(ctx, burst); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), burst) })
	fake.Step(24 * time.Hour)
	if f := evaluate(); f.Resource.Name != burst.Name {
		t.Fatalf("with %s failing too the profile lists %s, want %s's finding first", burst.Name, f.Resource.Name, burst.Name)
	}
	if err := k8s.Delete(ctx, burst); err != nil {
		t.Fatal(err)
	}
	fake.Step(time.Hour)
	if f := evaluate(); f.Resource.Name != old.Name || !f.FirstSeen.Time.Equal(t0) {
		t.Errorf("once %s is gone the profile lists %s first seen %v, want %s first seen %v: it failed all along", burst.Name, f.Resource.Name, f.FirstSeen, old.Name, t0)
	}
}

// keptReports holds the last ComplianceReport of a namespace a reconciler wrote through
// reportsKeptApart's client.
type keptReports struct {
	mu      sync.Mutex
	written *v1alpha1.ComplianceReport
}

// last is a copy of the report written last, nil before any.
func (k *keptReports) last() *v1alpha1.ComplianceReport {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.written.DeepCopy()
}

// reportsKeptApart is a client of the suite's API server (failing's) that keeps namespace ns's
// ComplianceReports to itself: a reconciler over it reads back the report it wrote last and
// never sees the suite's operator's (which keeps first-seen times in its journal), nor writes
// any to the API server.
func reportsKeptApart(t *testing.T, ns string) (client.WithWatch, *keptReports) {
	k := &keptReports{}
	own := func(obj client.Object) bool {
		_, ok := obj.(*v1alpha1.ComplianceReport)
		return ok && obj.GetNamespace() == ns
	}
	c := failing(t, interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*v1alpha1.ComplianceReport); ok && key.Namespace == ns {
				k.mu.Lock()
				defer k.mu.Unlock()
				if k.written == nil {
					return apierrors.NewNotFound(v1alpha1.GroupVersion.WithResource("compliancereports").GroupResource(), key.Name)
				}
				k.written.DeepCopyInto(obj.(*v1alpha1.ComplianceReport))
				return nil
			}
			return cl.Get(ctx, key, obj, opts...)
		},
		Create: func(ctx context.Context, cl client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if own(obj) {
				return nil
			}
			return cl.Create(ctx, obj, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if own(obj) {
				k.mu.Lock()
				defer k.mu.Unlock()
				k.written = obj.(*v1alpha1.ComplianceReport).DeepCopy()
				return nil
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	return c, k
}
