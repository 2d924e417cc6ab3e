package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// envDeployment is a Deployment of the tenant whose container has 64 env values of 8000 bytes
// (500 KiB) that nothing reads, and the extra entries given.
func envDeployment(ns, name string, extra ...corev1.EnvVar) *appsv1.Deployment {
	var env []corev1.EnvVar
	for j := range 64 {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", j), Value: strings.Repeat(fmt.Sprint(j%10)+" ", 4000)})
	}
	env = append(env, extra...)
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0", Env: env}}}}}}
}

// TestTenantEnvValuesDoNotGrowTheCache: the operator's informer cache kept every workload's env
// values whole (sec-literal-env-credentials reads them), so a namespace admin sized the
// operator's memory with them, up to the API server's 1.5 MiB an object and as much again in
// each ReplicaSet and Pod. It now keeps, past 16 KiB, a stand-in of each long value nothing
// else reads and what the check found in it: 6 Deployments of 500 KiB of env values stay under
// 24 KiB each in the cache, and the one whose long DB_PASSWORD is a literal still fails, with
// the message the whole Deployment gives, while the others pass.
func TestTenantEnvValuesDoNotGrowTheCache(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "env-large", "envlarge"
	createNamespace(t, ns, map[string]string{"envlarge": "true"})
	const count = 6
	password := corev1.EnvVar{Name: "DB_PASSWORD", Value: "Orders-2024-" + strings.Repeat("k7Qz", 200)}
	var leaking *appsv1.Deployment
	for i := range count {
		d := envDeployment(ns, fmt.Sprintf("web-%d", i))
		if i == 0 {
			d = envDeployment(ns, "leaking", password)
			leaking = d.DeepCopy()
		}
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// The message the whole Deployment gives.
	want := envCredentialFailure(leaking)
	if want == "" {
		t.Fatal("the whole Deployment does not fail sec-literal-env-credentials: the test tests nothing")
	}
	createProfile(t, profile, "envlarge", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	eventually(t, 60*time.Second, "the leaking Deployment's finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "sec-literal-env-credentials", "leaking", "app")
		if f == nil {
			return fmt.Errorf("not yet")
		}
		if f.Message != want {
			return fmt.Errorf("the finding says %q, the whole Deployment %q", f.Message, want)
		}
		return nil
	})
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 1 {
		t.Errorf("want the leaking Deployment failing and %d passing, got %d failing findings: %+v", count-1, got, rep.Status.Findings)
	}

	// What the cache holds of the Deployments, as JSON.
	list := &appsv1.DeploymentList{}
	sizes, total := cachedJSON(t, list, ns, count)
	for i, n := range sizes {
		if n > 24<<10 {
			t.Errorf("the cache holds %d KiB of Deployment %s: want at most 24 KiB", n>>10, list.Items[i].Name)
		}
	}
	t.Logf("the cache holds %d KiB of %d Deployments with 500 KiB of env values", total>>10, count)
}

// TestNoWorkloadCarriesTheCachesEnvJudgement: the operator's cache keeps, in an annotation, what
// sec-literal-env-credentials found in the env values it replaced by stand-ins, and the check
// takes it for the judgement of those values. The API server refuses the annotation's key, so
// that a tenant cannot write a judgement (nor, in scan, does a check read one: only the
// inventory turns it into a digest).
func TestNoWorkloadCarriesTheCachesEnvJudgement(t *testing.T) {
	d := envDeployment("default", "forged-env")
	d.Annotations = map[string]string{checks.EnvStandInsAnnotation: `{"found":{"app":{"64":""}}}`}
	if err := k8s.Create(context.Background(), d); !apierrors.IsInvalid(err) {
		t.Errorf("want the API server to refuse a Deployment with annotation %q, got %v", checks.EnvStandInsAnnotation, err)
	}
}

// TestAStaleLastAppliedDoesNotKeepATenantsEnvWhole: the operator's cache kept whole a workload
// whose kubectl last-applied-configuration annotation holds env its spec does not, env values
// and all, so a namespace admin kept any workload's 500 KiB (up to 1.25 MiB) of env values in
// the operator's memory by writing, in that annotation, one entry the spec lacks. The cache now
// reduces the spec's values and keeps the annotation (at most 256 KiB), which the check
// compares with them through their stand-ins: the Deployment stays under 24 KiB in the cache,
// and its finding (the annotation's OLD_TOKEN) is the whole Deployment's.
func TestAStaleLastAppliedDoesNotKeepATenantsEnvWhole(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "env-stale", "envstale"
	createNamespace(t, ns, map[string]string{"envstale": "true"})
	d := envDeployment(ns, "stale")
	d.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"apiVersion":"apps/v1","kind":"Deployment",` +
		`"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"OLD_TOKEN","value":"Orders-2024-x9Kq"}]}]}}}}`}
	whole := d.DeepCopy()
	if err := k8s.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	want := envCredentialFailure(whole)
	if !strings.Contains(want, "OLD_TOKEN") {
		t.Fatalf("the whole Deployment does not fail sec-literal-env-credentials for OLD_TOKEN (%q): the test tests nothing", want)
	}
	createProfile(t, profile, "envstale", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-literal-env-credentials") })
	eventually(t, 60*time.Second, "the stale Deployment's finding", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		f := finding(rep, "sec-literal-env-credentials", "stale", "app")
		if f == nil {
			return fmt.Errorf("not yet")
		}
		if f.Message != want {
			return fmt.Errorf("the finding says %q, the whole Deployment %q", f.Message, want)
		}
		return nil
	})
	cached := &appsv1.Deployment{}
	if err := operatorCache.Get(ctx, client.ObjectKey{Namespace: ns, Name: "stale"}, cached); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(cached)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 24<<10 {
		t.Errorf("the cache holds %d KiB of Deployment stale: want at most 24 KiB", len(data)>>10)
	}
}

// TestEnvValuesPastWhatTheOperatorJudgesAreNotAssessed: the operator's cache ran the credential
// rules on all of a workload's long env values in the informer's goroutine on each change, which
// a namespace admin's 1.4 MB of chosen text made take 4 to 21 s (every namespace's events of the
// kind waiting); it now judges 32 KiB of them, and the report is NotAssessed for a workload
// whose other values were not read, naming them and why, never Pass: the URL with a password
// after 500 KiB of notes, which the whole Deployment fails, is not read, and the Deployment is
// NotAssessed, unread: listed among the findings (its criterion fails closed on it) and an error
// in its PolicyReport with that message, while a credential under a credential-like name there
// still fails, as whole.
func TestEnvValuesPastWhatTheOperatorJudgesAreNotAssessed(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "env-budget", "envbudget"
	createNamespace(t, ns, map[string]string{"envbudget": "true"})
	url := corev1.EnvVar{Name: "NOTES_URL", Value: "postgres://app:Orders-2024@db.shop.svc/orders?application_name=" + strings.Repeat("a", 300)}
	password := corev1.EnvVar{Name: "DB_PASSWORD", Value: "Orders-2024-" + strings.Repeat("k7Qz", 200)}
	hidden, named := envDeployment(ns, "hidden", url), envDeployment(ns, "named", password)
	for _, d := range []*appsv1.Deployment{hidden, named} {
		if envCredentialFailure(d.DeepCopy()) == "" {
			t.Fatalf("the whole Deployment %s does not fail sec-literal-env-credentials: the test tests nothing", d.Name)
		}
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "envbudget", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "sec-literal-env-credentials")
		p.Spec.PolicyReports = true
	})
	eventually(t, 60*time.Second, "named failing, hidden NotAssessed", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "sec-literal-env-credentials", "named", "app"); f == nil || f.Result != v1alpha1.ResultFail {
			return fmt.Errorf("named: want a Fail finding, have %+v", f)
		}
		if f := finding(rep, "sec-literal-env-credentials", "hidden", "app"); f == nil || f.Result != v1alpha1.ResultNotAssessed {
			return fmt.Errorf("hidden: want it listed NotAssessed (unread), have %+v", f)
		}
		if s := rep.Status.Summary; s.Failing != 1 || s.NotAssessed != 1 || s.Passed != 0 {
			return fmt.Errorf("want 1 failing, 1 not assessed, none passed; have %+v", s)
		}
		return nil
	})
	eventually(t, 30*time.Second, "hidden's PolicyReport says why", func() error {
		rep := &policyreport.PolicyReport{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: policyreport.ReportName(profile, "Deployment", "hidden")}, rep); err != nil {
			return err
		}
		for _, r := range rep.Results {
			if r.Policy != "sec-literal-env-credentials" {
				continue
			}
			if r.Result != policyreport.StatusError || r.Properties[policyreport.PropertyReason] != policyreport.ReasonNotAssessed ||
				!strings.Contains(r.Message, "env NOTES_04") || !strings.Contains(r.Message, "not read for literal credentials") ||
				!strings.Contains(r.Message, "at most 32 KiB") {
				return fmt.Errorf("result %+v", r)
			}
			return nil
		}
		return fmt.Errorf("no sec-literal-env-credentials result in %+v", rep.Results)
	})
}

// envCredentialFailure is the message of sec-literal-env-credentials' failure of d judged whole,
// as scan judges it ("" when it does not fail): what the operator's report must say of d
// however its cache keeps it.
func envCredentialFailure(d *appsv1.Deployment) string {
	plan := engine.Compile(checks.Catalogue(), nil)
	res := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
		engine.Options{Now: time.Now(), AdminNamespace: engine.DefaultAdminNamespace})
	msg := ""
	for _, r := range res.Results {
		if r.Check.ID == "sec-literal-env-credentials" && r.Status == engine.StatusFail {
			msg = r.Message
		}
	}
	return msg
}
