package secretrules

import (
	"slices"
	"strings"
	"testing"
)

// TestFindUntilStopsWhenAsked: FindUntil asks stop before each rule and before each place a
// rule's regular expression is tried, and returns at the first yes, saying so: on a text of
// "key=" over and over (each a place generic-api-key and the other rules keyed on "key" try),
// Find read on for seconds a MiB whoever waited. Never told to stop, it finds what Find does.
func TestFindUntilStopsWhenAsked(t *testing.T) {
	rules, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("key=", 20_000) + " ghp_R7wq9ZkP3xLm2VnB8cD4fH6jK1sT5yU0aE9g"
	for _, after := range []int{0, 1, 50, 500} {
		asked := 0
		found, stopped := rules.FindUntil(text, func() bool { asked++; return asked > after })
		if !stopped || asked != after+1 {
			t.Errorf("told to stop at question %d: stopped=%v after %d questions (found %v)", after+1, stopped, asked, found)
		}
	}
	asked := 0
	found, stopped := rules.FindUntil(text, func() bool { asked++; return false })
	if want := rules.Find(text); stopped || !slices.Equal(found, want) || len(want) == 0 {
		t.Errorf("never told to stop: found %v (stopped %v), Find finds %v", found, stopped, want)
	}
	if asked < 10_000 {
		t.Errorf("asked %d times over 20,000 places to try, want at least half: the rules read on without asking", asked)
	}
}
