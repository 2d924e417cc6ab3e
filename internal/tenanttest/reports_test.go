package tenanttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// TestAHugeConfigMapCannotFreezeTheReport is attack 4 of issue 10: a ConfigMap with 75,000
// keys that each look like a credential name made sec-configmap-credentials name every key,
// the report grew past what the API server accepts and kept saying Compliant while a new
// failing Deployment went unreported. The report must stay writable and show the Deployment.
func TestAHugeConfigMapCannotFreezeTheReport(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "huge-configmap", nil)
	tn.waitReport(t, "first evaluation", func(*v1alpha1.ComplianceReport) error { return nil })

	// 75,000 keys of 11 bytes with a one-byte value: under the API server's 1 MiB limit on a
	// ConfigMap's data, and 2.9 MB when every key is named in a message.
	const keys = 75000
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: tn.Namespace}, Data: make(map[string]string, keys)}
	for i := range keys {
		cm.Data[fmt.Sprintf("token_%05d", i)] = "x"
	}
	if err := tn.Client.Create(ctx, cm); err != nil {
		t.Fatalf("creating the ConfigMap as the tenant: %v", err)
	}
	tn.waitReport(t, "the ConfigMap's finding", func(rep *v1alpha1.ComplianceReport) error {
		if f := findingOn(rep, "sec-configmap-credentials", "settings"); f == nil {
			return fmt.Errorf("no sec-configmap-credentials finding on ConfigMap settings; conditions %s", conditions(rep))
		}
		return nil
	})

	if err := tn.Client.Create(ctx, literalTokenDeployment(tn.Namespace, "api")); err != nil {
		t.Fatal(err)
	}
	rep := tn.waitReport(t, "the new Deployment's literal API_TOKEN, written and up to date", func(rep *v1alpha1.ComplianceReport) error {
		if findingOn(rep, "sec-literal-env-credentials", "api") == nil {
			return fmt.Errorf("result %s, no sec-literal-env-credentials finding on Deployment api; conditions %s", rep.Status.Result, conditions(rep))
		}
		if !meta.IsStatusConditionFalse(rep.Status.Conditions, v1alpha1.ConditionStale) {
			return fmt.Errorf("conditions %s", conditions(rep))
		}
		return nil
	})
	if rep.Status.Result != v1alpha1.NonCompliant {
		t.Errorf("result %s, want NonCompliant", rep.Status.Result)
	}
	f := findingOn(rep, "sec-configmap-credentials", "settings")
	if f == nil {
		t.Fatal("the ConfigMap's finding is no longer listed")
	}
	if len(f.Message) > 1024 || !strings.Contains(f.Message, fmt.Sprintf("and %d more", keys-5)) {
		t.Errorf("the ConfigMap's finding message (%d bytes) must name a few keys and count the rest: %.300q", len(f.Message), f.Message)
	}
	size := reportSize(t, rep)
	t.Logf("report of a namespace with a %d-key ConfigMap: %d bytes (%d of %d findings listed)", keys, size, len(rep.Status.Findings), rep.Status.TotalFindings)
	if size > 512<<10 {
		t.Errorf("the report is %d bytes, over the 512 KiB status budget", size)
	}
}

// TestThousandsOfExceptionsDoNotCrowdOutTheRealWaiver is attack 6 of issue 10: 2,000 exceptions
// in a namespace made the report's exception list (the first 50 by name, without a truncation
// flag) drop the one exception that covered two High findings.
//
// A scale test (2,000 objects through the API server and the operator): make test-scale runs
// it, make test skips it (-short).
func TestThousandsOfExceptionsDoNotCrowdOutTheRealWaiver(t *testing.T) {
	if testing.Short() {
		t.Skip("a scale test (2,000 exceptions): make test-scale runs it, make test skips it (-short)")
	}
	ctx := context.Background()
	tn := newTenant(t, "crowded", nil)
	for _, name := range []string{"db", "cache"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: tn.Namespace},
			Data: map[string]string{"password": "hunter2"}}
		if err := tn.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	// The platform admin creates the noise: exceptions that cover nothing in the namespace
	// (with a client that is not throttled to 5 requests a second).
	cfg := rest.CopyConfig(platformCfg)
	cfg.QPS, cfg.Burst = 500, 1000
	admin, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	const noise = 2000
	expires := metav1.NewTime(time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second))
	errs := make(chan error, noise)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ex := &v1alpha1.ControlException{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("noise-%04d", i), Namespace: tn.Namespace},
					Spec: v1alpha1.ControlExceptionSpec{
						Checks: []string{"wl-host-network"}, Match: v1alpha1.ResourceMatch{Names: []string{fmt.Sprintf("nothing-%04d", i)}},
						Reason: "Noise that covers no resource.", Owner: "platform@example.com", Expires: expires,
					},
				}
				if err := admin.Create(ctx, ex); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range noise {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waiver := &v1alpha1.ControlException{
		ObjectMeta: metav1.ObjectMeta{Name: "waiver-configmaps", Namespace: tn.Namespace},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: []string{"sec-configmap-credentials"},
			Reason: "The test credentials are rotated by the vault migration.", Owner: "platform@example.com", Expires: expires,
		},
	}
	if err := platform.Create(ctx, waiver); err != nil {
		t.Fatal(err)
	}
	tn.approve(t, waiver.Name) // a second person approves it, as the default exception policy requires
	key := tn.Namespace + "/" + waiver.Name
	rep := tn.waitReport(t, "the waiver listed first, covering two findings", func(rep *v1alpha1.ComplianceReport) error {
		if rep.Status.Summary.Excepted != 2 {
			return fmt.Errorf("excepted %d", rep.Status.Summary.Excepted)
		}
		if len(rep.Status.Exceptions) == 0 || rep.Status.Exceptions[0].Name != key || rep.Status.Exceptions[0].Findings != 2 {
			return fmt.Errorf("exceptions %s", usages(rep.Status.Exceptions, 3))
		}
		return nil
	})
	if u := rep.Status.Exceptions[0]; u.State != v1alpha1.ExceptionActive || u.RequestedBy != "platform-admin" || u.ApprovedBy != "security@"+tn.Namespace {
		t.Errorf("the waiver's usage: state %s, requested by %q, approved by %q; want Active, platform-admin, security@%s", u.State, u.RequestedBy, u.ApprovedBy, tn.Namespace)
	}
	if !rep.Status.ExceptionsTruncated || rep.Status.TotalExceptions != noise+1 || len(rep.Status.Exceptions) >= noise {
		t.Errorf("exceptions: %d listed, truncated %v, total %d; want a bounded list, truncated, total %d",
			len(rep.Status.Exceptions), rep.Status.ExceptionsTruncated, rep.Status.TotalExceptions, noise+1)
	}
	for i := 1; i < len(rep.Status.Exceptions); i++ {
		if u := rep.Status.Exceptions[i]; u.State != v1alpha1.ExceptionPendingApproval || u.ApprovedBy != "" {
			t.Errorf("noise exception %s: state %s, approved by %q; want PendingApproval, no approver", u.Name, u.State, u.ApprovedBy)
			break
		}
	}
	for i := 2; i < len(rep.Status.Exceptions); i++ {
		if a, b := rep.Status.Exceptions[i-1], rep.Status.Exceptions[i]; a.Findings == b.Findings && a.Name > b.Name {
			t.Errorf("exceptions covering as many findings are not in name order: %s before %s", a.Name, b.Name)
		}
	}
	size := reportSize(t, rep)
	t.Logf("report of a namespace with %d exceptions: %d bytes (%d of %d exceptions listed)", noise+1, size, len(rep.Status.Exceptions), rep.Status.TotalExceptions)
}

// literalTokenDeployment runs a container with a literal API_TOKEN (sec-literal-env-credentials).
func literalTokenDeployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example.com/api:1.0",
					Env: []corev1.EnvVar{{Name: "API_TOKEN", Value: "c2VjcmV0LXRva2VuLXZhbHVl"}},
				}}},
			},
		},
	}
}

// findingOn returns the report's finding of check on the named resource, or nil.
func findingOn(rep *v1alpha1.ComplianceReport, check, name string) *v1alpha1.Finding {
	for i, f := range rep.Status.Findings {
		if f.Check == check && f.Resource.Name == name {
			return &rep.Status.Findings[i]
		}
	}
	return nil
}

func conditions(rep *v1alpha1.ComplianceReport) string {
	var out []string
	for _, c := range rep.Status.Conditions {
		out = append(out, fmt.Sprintf("%s=%s %s: %.200s", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(out, "; ")
}

func usages(list []v1alpha1.ExceptionUsage, n int) string {
	var out []string
	for i, u := range list {
		if i == n {
			out = append(out, fmt.Sprintf("... (%d in all)", len(list)))
			break
		}
		out = append(out, fmt.Sprintf("%s %s covers %d", u.Name, u.State, u.Findings))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// reportSize is the size of the report as JSON, as the API server stores it.
func reportSize(t *testing.T, rep *v1alpha1.ComplianceReport) int {
	t.Helper()
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return len(data)
}

// TestForgedReportsAreDeleted is attack 5 of issue 10: a ComplianceReport the operator did not
// produce, with a hand-written Compliant status, stayed listed. Nobody but the operator may
// write reports (an admission policy, TestTenantCannotForgeReports), so it is made here with the
// operator's own credentials, as a leaked token or a report left from before the policy could;
// the operator deletes it.
func TestForgedReportsAreDeleted(t *testing.T) {
	ctx := context.Background()
	forger, err := client.New(operatorCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	tn := newTenant(t, "forged", nil)
	if err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "web")); err != nil {
		t.Fatal(err)
	}
	tn.waitReport(t, "NonCompliant", func(rep *v1alpha1.ComplianceReport) error {
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %s", rep.Status.Result)
		}
		return nil
	})
	// An unselected namespace, for a report named after a real profile.
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.Namespace + "-unselected"}}
	if err := platform.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	configMap := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "not-a-profile", Namespace: tn.Namespace}}
	if err := platform.Create(ctx, configMap); err != nil {
		t.Fatal(err)
	}
	yes := true

	for name, tc := range map[string]struct {
		namespace, name string
		owner           *metav1.OwnerReference
	}{
		"named after a profile that does not exist":                {namespace: tn.Namespace, name: "ghost-" + tn.Namespace},
		"named after a profile that does not select the namespace": {namespace: other.Name, name: tn.Profile},
		"controlled by an object that is not its profile": {namespace: tn.Namespace, name: tn.Profile, owner: &metav1.OwnerReference{
			APIVersion: "v1", Kind: "ConfigMap", Name: configMap.Name, UID: configMap.UID, Controller: &yes}},
	} {
		t.Run(name, func(t *testing.T) {
			key := types.NamespacedName{Namespace: tc.namespace, Name: tc.name}
			forged := &v1alpha1.ComplianceReport{}
			testenv.Eventually(t, 30*time.Second, "the forged report is in place and says Compliant", func() error {
				if tc.owner != nil {
					// Take over the operator's report: another controller, as someone with
					// update rights on reports could set.
					if err := platform.Get(ctx, key, forged); err != nil {
						return err
					}
					forged.OwnerReferences = []metav1.OwnerReference{*tc.owner}
					if err := forger.Update(ctx, forged); err != nil {
						return err
					}
				} else {
					forged = &v1alpha1.ComplianceReport{
						ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: tc.namespace, Labels: map[string]string{v1alpha1.LabelProfile: tc.name}},
						Spec:       v1alpha1.ComplianceReportSpec{Profile: tc.name},
					}
					if err := forger.Create(ctx, forged); err != nil {
						return err
					}
				}
				score := int32(100)
				forged.Status = v1alpha1.ComplianceReportStatus{Result: v1alpha1.Compliant, Score: &score,
					Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonEvaluated,
						Message: "forged", LastTransitionTime: metav1.Now()}}}
				if err := forger.Status().Update(ctx, forged); err != nil {
					now := &v1alpha1.ComplianceReport{}
					if gerr := platform.Get(ctx, key, now); apierrors.IsNotFound(gerr) || (gerr == nil && now.UID != forged.UID) {
						return nil // the operator removed it before its status could be forged
					}
					return err
				}
				return nil
			})
			testenv.Eventually(t, 30*time.Second, "the forged report is gone", func() error {
				rep := &v1alpha1.ComplianceReport{}
				err := platform.Get(ctx, key, rep)
				switch {
				case apierrors.IsNotFound(err):
					return nil
				case err != nil:
					return err
				case rep.UID != forged.UID:
					return nil // deleted, and the operator wrote its own
				}
				return fmt.Errorf("still there: result %s, owners %v", rep.Status.Result, rep.OwnerReferences)
			})
		})
	}
	// The operator's own report is back, telling the truth.
	tn.waitReport(t, "the operator's report, NonCompliant", func(rep *v1alpha1.ComplianceReport) error {
		if c := metav1.GetControllerOf(rep); c == nil || c.Kind != "ComplianceProfile" || c.Name != tn.Profile {
			return fmt.Errorf("controller %v", c)
		}
		if rep.Status.Result != v1alpha1.NonCompliant {
			return fmt.Errorf("result %s", rep.Status.Result)
		}
		return nil
	})
}

// TestADeletedReportComesBackWithItsFirstSeenTimes: deleting a report must not reset when its
// findings were first seen (an auditor reads how long a finding has been open from it).
func TestADeletedReportComesBackWithItsFirstSeenTimes(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "first-seen", nil)
	if err := tn.Client.Create(ctx, privilegedDeployment(tn.Namespace, "web")); err != nil {
		t.Fatal(err)
	}
	var firstSeen metav1.Time
	old := tn.waitReport(t, "wl-privileged failing", func(rep *v1alpha1.ComplianceReport) error {
		f := findingOn(rep, "wl-privileged", "web")
		if f == nil || f.FirstSeen == nil {
			return errors.New("no wl-privileged finding with a first-seen time")
		}
		firstSeen = *f.FirstSeen
		return nil
	})
	// First-seen times come from the operator's clock: move it, so that a recreated report
	// that forgot would show a later time.
	clk.Step(time.Minute)
	// Only the operator, the garbage collector and the namespace controller may delete a report
	// (TestTenantCannotDeleteReports): the garbage collector here, as if mistaken.
	gc, _ := impersonate(t, "system:serviceaccount:kube-system:generic-garbage-collector", "system:serviceaccounts")
	if err := gc.Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	rep := tn.waitReport(t, "recreated", func(rep *v1alpha1.ComplianceReport) error {
		if rep.UID == old.UID {
			return errors.New("not recreated yet")
		}
		if findingOn(rep, "wl-privileged", "web") == nil {
			return errors.New("no wl-privileged finding")
		}
		return nil
	})
	if got := findingOn(rep, "wl-privileged", "web").FirstSeen; got == nil || !got.Equal(&firstSeen) {
		t.Errorf("the recreated report says the finding was first seen %v, want %v", got, firstSeen)
	}
}
