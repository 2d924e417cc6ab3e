package kubectlplugin

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2027-02-15T00:00:00Z": time.Date(2027, 2, 15, 0, 0, 0, 0, time.UTC),
		"2027-02-15":           time.Date(2027, 2, 15, 0, 0, 0, 0, time.UTC),
		"30d":                  now.Add(30 * 24 * time.Hour),
		"36h":                  now.Add(36 * time.Hour),
	} {
		got, err := parseExpiry(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"tomorrow", "-3d", "0d", "15/02/2027"} {
		if _, err := parseExpiry(in, now); err == nil || !strings.Contains(err.Error(), "--expires "+in) {
			t.Errorf("parseExpiry(%q): %v, want an error naming the flag", in, err)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	for in, want := range map[string]string{
		"wl-privilegd":  `; did you mean "wl-privileged"?`,
		"WL-HOSTPATH":   `; did you mean "wl-hostpath"?`,
		"pdb":           "",
		"rbac-wildcard": `; did you mean "rbac-wildcards"`,
		"host-network":  `"wl-host-network"`,
		"zzzzzzzzzzzzz": "",
	} {
		got := didYouMean(in)
		if (want == "" && got != "") || !strings.Contains(got, want) {
			t.Errorf("didYouMean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTableFitsTheWidth(t *testing.T) {
	tb := &termtable.Table{Header: []string{"NAMESPACE", "RESULT", "FAILING CRITERIA"}, Flex: 2, MinColumn: 6}
	tb.Add("legacy", "NonCompliant", "CC6.1 CC6.3 CC6.6 CC6.7 CC6.8 CC7.1 CC7.2 CC8.1 A1.2")
	tb.Add("a-very-long-namespace-name-indeed", "Compliant", "")
	var b bytes.Buffer
	if err := tb.Write(&b, 40); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if utf8.RuneCountInString(l) > 40 {
			t.Errorf("%d characters: %q", utf8.RuneCountInString(l), l)
		}
	}
	if !strings.Contains(b.String(), "…") {
		t.Errorf("nothing was cut:\n%s", b.String())
	}
	b.Reset()
	if err := tb.Write(&b, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "A1.2") || strings.Contains(b.String(), "…") {
		t.Errorf("width 0 (-o wide) must cut nothing:\n%s", b.String())
	}
}
