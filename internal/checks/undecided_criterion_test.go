package checks

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestACriterionSaysWhatATenantLeftUndecided: a namespace tenant hides a GitHub token in a
// command line dense with gitleaks' keywords, past what the operator reads of it. The check is
// NotAssessed there (never Pass), but it passed on the tenant's other Deployment, so CC6.1 read
// Pass, score 100, with nothing on the criterion saying that a resource was not decided: the
// failure scan reports on the same object was gone from the report. The criterion now counts
// those results (unread, since what was not read is the tenant's own text) and fails closed on
// them, and names their checks (UndecidedChecks, which the journal records with the criterion's
// state and the evidence pack's criteria.csv shows).
func TestACriterionSaysWhatATenantLeftUndecided(t *testing.T) {
	const token = "ghp_4rX9kQ2mZ7vT1sL8nB3cW6yH0jD5fG2aE9uP"
	dense := keywordDense(gitleaksKeywords(t), 3, 40000)
	deployment := func(name string, args ...string) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("uid-" + name)},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/" + name + ":2.3.0",
					Command: []string{"/app"}, Args: args}}}}}}
	}
	// As the operator's cache keeps it: marked, judged from the digest.
	cached := deployment("orders", dense[:len(dense)/2]+" "+token+" "+dense[len(dense)/2:])
	if !ReduceEnvValues(cached) {
		t.Fatal("the cache did not mark the Deployment")
	}
	digest, _ := CachedEnvValues(cached.Annotations, "Deployment")
	cached.Annotations = nil
	orders := engine.NewObject(cached, "apps/v1", "Deployment")
	orders.Digest = digest
	web := engine.NewObject(deployment("web", "--listen=:8080"), "apps/v1", "Deployment")

	plan := engine.Compile(Catalogue(), nil)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{web, orders}, true), nil, opts)
	const check = "sec-literal-env-credentials"
	var statuses []string
	for i := range ev.Results {
		if r := &ev.Results[i]; r.Check.ID == check {
			statuses = append(statuses, r.Object.Name+" "+r.Status.String())
		}
	}
	slices.Sort(statuses)
	if want := []string{"orders NotAssessed", "web Pass"}; !slices.Equal(statuses, want) {
		t.Fatalf("%s: %q, want %q (the token past what the operator reads)", check, statuses, want)
	}
	s := ev.Summary("shop")
	for _, c := range s.Criteria {
		if c.ID != "CC6.1" {
			continue
		}
		if c.Unread < 1 || c.Status != v1alpha1.CriterionFail {
			t.Errorf("CC6.1 %+v: reads %s with no result counted as unread, though %s left orders NotAssessed past what the operator reads", c, c.Status, check)
		}
		if got := s.UndecidedChecks(plan, "CC6.1"); !slices.Contains(got, check) {
			t.Errorf("CC6.1's undecided checks %q do not name %s", got, check)
		}
		if got := s.UnassessedChecks(plan, "CC6.1"); slices.Contains(got, check) {
			t.Errorf("CC6.1's unassessed checks %q name %s, which assessed web", got, check)
		}
		return
	}
	t.Fatalf("no CC6.1 in %v", s.Criteria)
}

// TestACriterionWhoseResultsWereAllDecidedCountsNoneUndecided: the count is of results left
// NotAssessed, not of checks or resources: all decided, it is 0 and no check is named.
func TestACriterionWhoseResultsWereAllDecidedCountsNoneUndecided(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/web:2.3.0",
				Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "Orders-2024-secret"}}}}}}}}
	plan := engine.Compile(Catalogue(), nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(d, "apps/v1", "Deployment")}, true), nil,
		engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace})
	s := ev.Summary("shop")
	for _, c := range s.Criteria {
		if c.ID == "CC6.1" {
			if c.Status != v1alpha1.CriterionFail {
				t.Errorf("CC6.1 %+v, want Fail (a literal password)", c)
			}
			if got := s.UndecidedChecks(plan, "CC6.1"); c.NotAssessed != 0 || got != nil {
				t.Errorf("CC6.1 counts %d results undecided, by %q: every check decided the one resource", c.NotAssessed, got)
			}
			return
		}
	}
	t.Fatalf("no CC6.1 in %v", s.Criteria)
}
