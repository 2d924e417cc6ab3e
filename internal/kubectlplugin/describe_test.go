package kubectlplugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// `kubectl soc2 approve` prints what the approver approved, from the exception a namespace
// admin wrote. A control character in its names, reason, owner, ticket or requester (ESC
// starting an ANSI sequence, CR, a newline) must be shown, not obeyed: else "names *, \e[2K\r
// for: names api" prints as "for: names api" and the approver's receipt hides that every
// resource is waived. kubectl shows them escaped too (k8s.io/cli-runtime pkg/printers,
// EscapeTerminal).
func TestDescribeExceptionShowsControlCharacters(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := &v1alpha1.ControlException{Spec: v1alpha1.ControlExceptionSpec{
		Checks:      []string{"wl-privileged"},
		Match:       v1alpha1.ResourceMatch{Names: []string{"*", "\x1b[2K\r  for:          names api"}},
		Profiles:    []string{"soc2\x1b[8m"},
		Reason:      "vendor image\n  expires:      2026-01-02T00:00:00Z (in 1d)\x1b[8m",
		Owner:       "team\r",
		Ticket:      "\x1b]8;;https://evil.example\x1b\\SEC-1\x1b]8;;\x1b\\",
		RequestedBy: "dev\b\b\bsecurity",
		Expires:     metav1.NewTime(now.AddDate(0, 0, 90)),
	}}
	var out bytes.Buffer
	describeException(&out, now, ex)
	got := out.String()
	if strings.ContainsAny(got, "\x1b\r\b") || strings.Count(got, "\n") != 8 {
		t.Errorf("describeException printed control characters or extra lines:\n%q", got)
	}
	for _, want := range []string{`names *, ^[[2K\r  for:`, `reason:       vendor image\n  expires:`, `requested by: dev\b\b\bsecurity`} {
		if !strings.Contains(got, want) {
			t.Errorf("describeException printed:\n%s\nwant it to show %s", got, want)
		}
	}
}
