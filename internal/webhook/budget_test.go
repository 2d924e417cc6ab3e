package webhook

import (
	"testing"
	"time"
)

// TestAJudgingBudgetIsNeverLongerThanTheAPIServerCouldGive: the API server sends its time
// left for the call in the timeout parameter, and a webhook's timeoutSeconds is at most 30.
// Anyone who can reach port 9443 can send a review of their own, and one with
// ?timeout=1h, or none, was judged with an hour's deadline or none: holding one of the
// judgements every request shares (WorkloadValidator.Judgements) for as long as its object
// could make the checks run. A budget is at most what the longest call the API server makes
// would give.
func TestAJudgingBudgetIsNeverLongerThanTheAPIServerCouldGive(t *testing.T) {
	longest := judgingBudget("30s")
	for _, timeout := range []string{"", "1h", "31s", "-5s", "0s", "soon", "9223372036s"} {
		if got := judgingBudget(timeout); got <= 0 || got > longest {
			t.Errorf("timeout %q: judging budget %v, want one of at most %v, the budget of the longest call the API server makes", timeout, got, longest)
		}
	}
	// What the API server sends is kept.
	for timeout, want := range map[string]time.Duration{"5s": 3200 * time.Millisecond, "2s": time.Second, "30s": 23200 * time.Millisecond} {
		if got := judgingBudget(timeout); got != want {
			t.Errorf("timeout %q: judging budget %v, want %v", timeout, got, want)
		}
	}
}
