//go:build e2e

package faulttest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestJournalFailover runs two operators with leader election writing one journal, drives a
// stream of findings opening and closing, and kills the leader in the middle of it, right
// after it saw a transition (its queue not yet written). The journal then holds every
// transition the test caused, each once, and its chain verifies.
func TestJournalFailover(t *testing.T) {
	ctx := context.Background()
	const name = "fault-journal"
	const deployments = 4
	dir := t.TempDir()
	if d := os.Getenv("DEBUG_JOURNAL_DIR"); d != "" {
		dir = d
	}
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"fault": name}}}); err != nil {
		t.Fatal(err)
	}
	for i := range deployments {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", i), Namespace: name},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprint("svc-", i)}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": fmt.Sprint("svc-", i)}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/svc:1.0.0",
						SecurityContext: &corev1.SecurityContext{}}}},
				},
			},
		}
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	p := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ComplianceProfileSpec{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"fault": name}}}}
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k8s.Delete(ctx, p) })

	flags := []string{"--leader-elect", "--leader-election-namespace", adminNamespace,
		"--leader-election-id", name, "--leader-election-lease-duration", "4s",
		"--leader-election-renew-deadline", "3s", "--leader-election-retry-period", "500ms",
		"--journal-store", dir, "--cluster-name", "prod"}
	a := startManager(t, flags...)
	b := startManager(t, flags...)

	// privileged reports whether the report shows svc-i's container as privileged.
	privileged := func(i int) (bool, error) {
		rep, err := report(name)
		if err != nil {
			return false, err
		}
		if rep.Status.Result == "" {
			return false, fmt.Errorf("no status yet")
		}
		for _, f := range rep.Status.Findings {
			if f.Check == "wl-privileged" && f.Resource.Name == fmt.Sprint("svc-", i) {
				return f.Result == v1alpha1.ResultFail, nil
			}
		}
		return false, nil
	}
	set := func(i int, on bool) {
		t.Helper()
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: name, Name: fmt.Sprint("svc-", i)}, d); err != nil {
			t.Fatal(err)
		}
		d.Spec.Template.Spec.Containers[0].SecurityContext.Privileged = &on
		if err := k8s.Update(ctx, d); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, fmt.Sprintf("svc-%d privileged=%v in the report", i, on), func() error {
			got, err := privileged(i)
			if err != nil {
				return err
			}
			if got != on {
				return fmt.Errorf("privileged %v", got)
			}
			return nil
		})
	}
	eventually(t, 30*time.Second, "the first report", func() error {
		_, err := privileged(0)
		return err
	})

	// The stream: each step flips one Deployment, round robin, and waits until the report
	// shows it (so some leader saw it). The leader is killed right after step 6.
	want := make([][]string, deployments)
	state := make([]bool, deployments)
	const steps = 14
	for s := range steps {
		i := s % deployments
		state[i] = !state[i]
		set(i, state[i])
		if state[i] {
			want[i] = append(want[i], "opened")
		} else {
			want[i] = append(want[i], "closed")
		}
		if s == 6 {
			leader := a
			if isLeader(t, b, name) {
				leader = b
			}
			leader.Kill() // a crash: no stop record, the queue is lost, the lease runs out
			t.Logf("killed the leader after step %d", s)
		}
	}
	// Stop whoever leads now, cleanly, so its queue is written.
	_ = a.Stop(20 * time.Second)
	_ = b.Stop(20 * time.Second)

	store, err := journal.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]string, deployments)
	ids := map[string]int{}
	var types []string
	res, err := journal.Scan(ctx, store, journal.ScanOptions{Cluster: "prod", OnRecord: func(line []byte) error {
		var r journal.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		ids[r.ID]++
		types = append(types, string(r.Type))
		if r.Finding != nil && r.Finding.Check == "wl-privileged" && r.Profile == name {
			var i int
			if _, err := fmt.Sscanf(r.Finding.Name, "svc-%d", &i); err == nil {
				switch r.Type {
				case journal.FindingOpened:
					got[i] = append(got[i], "opened")
				case journal.FindingClosed:
					got[i] = append(got[i], "closed")
				}
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("the journal does not verify after the failover: %v", res.Problems)
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("record %s is in the journal %d times", id, n)
		}
	}
	for i := range deployments {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("svc-%d: the journal has %v, the test caused %v", i, got[i], want[i])
		}
	}
	joined := strings.Join(types, " ")
	if strings.Count(joined, "operator.started") < 2 || !strings.Contains(joined, "observation.gap") {
		t.Errorf("want two starts and the unobserved interval of the failover, got %s", joined)
	}
	t.Logf("journal: %d segments, %d records, %d superseded", res.Segments, res.Records, res.Superseded)
}

// isLeader reports whether m holds the lease (it has evaluated the profile).
func isLeader(t *testing.T, m interface {
	Metric(context.Context, string) (float64, error)
}, profile string) bool {
	t.Helper()
	n, err := m.Metric(context.Background(), fmt.Sprintf(`soc2_operator_evaluations_total{outcome="ok",profile=%q`, profile))
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}
