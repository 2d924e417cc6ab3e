package checks

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// givesUpWhenAsked is a caller (engine.Options.Context) that is still waiting when the
// evaluation starts and gives up the first time a check asks whether it has (Err): from inside
// the check, at its first step, with no clock. asked counts the questions.
type givesUpWhenAsked struct {
	context.Context
	done  chan struct{}
	once  sync.Once
	asked atomic.Int64
}

func newGivesUpWhenAsked() *givesUpWhenAsked {
	return &givesUpWhenAsked{Context: context.Background(), done: make(chan struct{})}
}

func (g *givesUpWhenAsked) Done() <-chan struct{} { return g.done }

func (g *givesUpWhenAsked) Err() error {
	g.asked.Add(1)
	g.once.Do(func() { close(g.done) })
	return context.Canceled
}

// TestACredentialJudgementStopsWhenItsCallerHasGone: the admission webhook answers at the API
// server's deadline and leaves its judgement to end on its own, holding the namespace's share of
// the judgements until it does. gitleaks' rules never asked whether anyone still waited: a
// namespace admin's Pod whose env value repeats a keyword of theirs ("key=", 1.4 MB) kept the
// rules reading for 5 s on an idle machine and 11 to 25 s under load, and every other request
// of the namespace was refused as busy under Enforce (admitted unjudged under Warn) all that
// time. The rules now ask at each place they try (engine.Context.Stopped): once the caller has
// gone they stop at once, the check says NotAssessed ("judgement cut short") and the evaluation
// is Stopped. Here the caller gives up at the check's first question, and the rules must ask
// only a few more times after that, not once per "key=" (16,000 of them).
//
// What was cut short is no verdict and is remembered nowhere: the next judgement of the same
// object, with nobody giving up, reads it whole and fails it for the token at its end.
func TestACredentialJudgementStopsWhenItsCallerHasGone(t *testing.T) {
	const token = "ghp_R7wq9ZkP3xLm2VnB8cD4fH6jK1sT5yU0aE9g"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "tenant"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.example.com/app:1.0.0",
			Env: []corev1.EnvVar{{Name: "DB_PASSWORD_URL", Value: strings.Repeat("key=", 16_000) + " " + token}},
		}}},
	}
	obj := engine.NewObject(pod, "v1", "Pod")
	plan := engine.Compile([]*engine.Check{secLiteralEnvCredentials}, nil)

	gone := newGivesUpWhenAsked()
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{obj}, true), nil,
		engine.Options{Now: fixtureNow, KeepPassing: true, Only: obj, Context: gone})
	if !ev.Stopped {
		t.Errorf("the caller gave up while the check ran: want the evaluation Stopped, got %d results and Stopped false (asked %d times)", len(ev.Results), gone.asked.Load())
	}
	if len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusNotAssessed || !strings.HasPrefix(ev.Results[0].Message, engine.CutShort) {
		t.Errorf("cut short: want one NotAssessed result saying %q, got %+v", engine.CutShort, ev.Results)
	}
	if n := gone.asked.Load(); n > 16 {
		t.Errorf("the check asked %d times whether its caller had gone, the first answer yes: it read on", n)
	}

	// A command line of many arguments, each read by the rules on its own: the check stops at the
	// first argument after its caller has gone, not once per argument.
	args := make([]string, 20_000)
	for i := range args {
		args[i] = "--notes=key Zx8Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk"
	}
	many := engine.NewObject(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "many", Namespace: "tenant"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0.0", Args: args}}},
	}, "v1", "Pod")
	gone = newGivesUpWhenAsked()
	ev = plan.Evaluate(engine.NewInventory([]*engine.Object{many}, true), nil,
		engine.Options{Now: fixtureNow, KeepPassing: true, Only: many, Context: gone})
	if n := gone.asked.Load(); !ev.Stopped || n > 16 {
		t.Errorf("20,000 arguments, the caller gone at the first question: stopped=%v after %d questions; want stopped within a few", ev.Stopped, n)
	}

	for name, opts := range map[string]engine.Options{
		"without a caller":         {Now: fixtureNow, KeepPassing: true, Only: obj},
		"with a caller that waits": {Now: fixtureNow, KeepPassing: true, Only: obj, Context: context.Background()},
	} {
		ev = plan.Evaluate(engine.NewInventory([]*engine.Object{obj}, true), nil, opts)
		if ev.Stopped || len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusFail || !strings.Contains(ev.Results[0].Message, "github-pat") {
			t.Errorf("judged again %s after a judgement cut short: want Fail naming github-pat, got stopped=%v %+v", name, ev.Stopped, ev.Results)
		}
	}
}
