package webhook_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
	"github.com/soc2-operator/soc2-operator/internal/webhook"
)

// TestAnObjectCannotBuyItsWayOutOfJudgement: a webhook that outlasts its timeoutSeconds (5)
// leaves the request to its failurePolicy, Ignore by default, which admits it unjudged. The
// object's author chooses what the checks read in it, so no value may cost the checks more than
// a linear pass. Each of these privileged Pods was admitted under Enforce: the search for
// passwords in URLs read a value of "https://user:" over and over (400 KB) once per "://" to its
// end (about 50 s of CPU on a 2-core machine), and the expansion of $(VAR) references read a
// value of "$($($(..." (1.2 MB) once per "$(" (about 20 s), and the gitleaks rules read a
// credential-like variable of "key=" over and over (1.4 MB) in 5.2 s. The test asserts the
// denials, which the API server's timeout alone decides, not a time.
//
// A judgement answered out of time holds its namespace's share of the judgements
// (WorkloadValidator.acquire) until it stops: at its next check, or within the credential rules,
// which ask engine.Context.Stopped at each place they try (TestAJudgementAnsweredOutOfTimeFreesItsNamespace).
// Each case still waits, once answered, until the webhook judges in the namespace again
// (judgesAgain): before the rules asked, the credentials case's judgement ran on after its answer
// (5.7 s here, idle; 11 to 25 s under load), and the case after it was refused as "judging other
// requests all that time" without being judged.
func TestAnObjectCannotBuyItsWayOutOfJudgement(t *testing.T) {
	const ns = "enforce-costly"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	yes := true
	for name, tc := range map[string]struct{ env, value, says string }{
		"urls":       {"SETTINGS", strings.Repeat("https://user:", 400_000/len("https://user:")), "wl-privileged"},
		"references": {"SETTINGS", strings.Repeat("$(", 1_200_000/len("$(")), "wl-privileged"},
		// The gitleaks rules read this at about 4 us a byte here, in linear time: 5.2 s, and
		// the Pod was admitted. Judged within the time the API server gives, or refused when
		// it cannot be (TestWhatCannotBeJudgedInTimeIsRefusedUnderEnforce).
		"credentials": {"DB_PASSWORD_URL", strings.Repeat("key=", 1_400_000/len("key=")), "soc2-operator"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Cleanup(func() { judgesAgain(t, ns) })
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "agent-" + name, Namespace: ns},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example.com/app:1.0.0",
					SecurityContext: &corev1.SecurityContext{Privileged: &yes},
					Env:             []corev1.EnvVar{{Name: tc.env, Value: tc.value}},
				}}},
			}
			err := k.Create(context.Background(), pod, client.DryRunAll)
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("a privileged Pod with a costly environment under Enforce: want a denial naming %s, got %v", tc.says, err)
			}
		})
	}
}

// judgesAgain waits until the webhook judges a privileged Deployment in ns, which must be
// enforced, again: until no judgement of an earlier request in ns holds its share. Out of time
// (its namespace's share taken all the while) it is refused without naming the check. The bound
// is no deadline the test asserts: before the credential rules asked whether their request was
// done, the credentials case's judgement ran on for 11 to 25 s on a loaded machine, and for more
// than 2 minutes under -race -cpu 1 there.
func judgesAgain(t *testing.T, ns string) {
	t.Helper()
	k, _ := newClient(t)
	testenv.Eventually(t, 10*time.Minute, "the webhook judging in "+ns+" again", func() error {
		err := k.Create(context.Background(), deployment(ns, "probe-judged", true), client.DryRunAll)
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "wl-privileged") {
			return nil
		}
		return fmt.Errorf("a privileged Deployment: want a denial naming wl-privileged, got %v", err)
	})
}

// TestWhatCannotBeJudgedInTimeIsRefusedUnderEnforce: whatever makes judging a workload outlast
// the time the API server gives the webhook (the timeout parameter of its call, 2 s here), the
// answer comes within it: a denial under Enforce, an admission with a warning under Warn. Were
// it to come later, the API server would leave the request to the failurePolicy, and Ignore
// admits it unjudged. Here the webhook's reads of NetworkPolicies never return until its
// request is done, so nothing but the deadline can answer.
func TestWhatCannotBeJudgedInTimeIsRefusedUnderEnforce(t *testing.T) {
	for mode, want := range map[v1alpha1.EnforcementMode]bool{v1alpha1.EnforcementEnforce: false, v1alpha1.EnforcementWarn: true} {
		t.Run(string(mode), func(t *testing.T) {
			ns := "stalled-" + strings.ToLower(string(mode))
			setup(t, ns, mode)
			k, _ := newClient(t)
			v, err := validator(stalled{Client: k}, k)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(webhook.Handler(v))
			defer srv.Close()
			// As the API server calls it: the request's timeout in the URL.
			r := send(t, srv.URL, creatingDeployment(t, deployment(ns, "agent", false)), "2s")
			if r == nil {
				t.FailNow()
			}
			const says = "could not judge Deployment " // ... <ns>/agent within the webhook's timeout
			got := strings.Join(r.Warnings, "\n")
			if r.Result != nil {
				got += r.Result.Message
			}
			if r.Allowed != want || !strings.Contains(got, says+ns+"/agent within the webhook's timeout") {
				t.Errorf("under %s: want allowed=%v saying %q, got allowed=%v: %q", mode, want, says, r.Allowed, got)
			}
		})
	}
}

// stalled is a cache whose reads of NetworkPolicies return only when the request is done.
type stalled struct{ client.Client }

func (s stalled) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*networkingv1.NetworkPolicyList); ok {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Client.List(ctx, list, opts...)
}

// TestADryRunOutOfTimeIsNotCountedAsAdmitted: under Warn, a workload whose judgement outlasts the
// API server's time is admitted with a warning and counted in
// soc2_operator_admission_unjudged_total, for the SOC2AdmissionUnjudged alert: it runs
// unjudged. A dry run (kubectl apply --dry-run=server) admits nothing, and a namespace admin may
// send as many as they like: counted, they raised the alert at will, which teaches its readers
// to ignore it. The webhook still answers a dry run as it answers the request itself.
func TestADryRunOutOfTimeIsNotCountedAsAdmitted(t *testing.T) {
	const ns = "stalled-dry-run"
	setup(t, ns, v1alpha1.EnforcementWarn)
	k, _ := newClient(t)
	v, err := validator(stalled{Client: k}, k)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(webhook.Handler(v))
	defer srv.Close()
	ask := func(dryRun bool) *admissionv1.AdmissionResponse {
		t.Helper()
		req := creatingDeployment(t, deployment(ns, "agent", false))
		req.DryRun = &dryRun
		r := send(t, srv.URL, req, "2s")
		if r == nil {
			t.FailNow()
		}
		return r
	}
	before := unjudged(t, ns)
	if r := ask(true); !r.Allowed || !strings.Contains(strings.Join(r.Warnings, "\n"), "within the webhook's timeout") {
		t.Errorf("a dry run out of time under Warn: want admitted with a warning, got allowed=%v %q", r.Allowed, r.Warnings)
	}
	if n := unjudged(t, ns); n != before {
		t.Errorf("a dry run out of time raised soc2_operator_admission_unjudged_total{namespace=%q} from %v to %v; it admitted nothing", ns, before, n)
	}
	if r := ask(false); !r.Allowed {
		t.Errorf("a request out of time under Warn: want admitted, got denied")
	}
	if n := unjudged(t, ns); n != before+1 {
		t.Errorf("a request out of time admitted unjudged: soc2_operator_admission_unjudged_total{namespace=%q} = %v, want %v", ns, n, before+1)
	}
}
