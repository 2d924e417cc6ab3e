package ui

import (
	"strings"
	"testing"
)

// TestCheckRowsEscapeEveryValue: the check page's rows are written without html/template, so
// every value a tenant can influence (resource names, messages, exception names) must come out
// escaped, in element content and in attributes.
func TestCheckRowsEscapeEveryValue(t *testing.T) {
	evil := `"><script>alert(1)</script><a href="x`
	got := string(checkRows([]findingView{{
		Namespace: evil, Profile: evil, Check: evil, Severity: evil, Result: evil, Kind: evil, Name: evil,
		Container: evil, Message: evil, FirstSeen: evil, Exception: evil,
	}}))
	for _, bad := range []string{"<script", `"><script`, `<a href="x`} {
		if strings.Contains(got, bad) {
			t.Errorf("the row contains %q unescaped:\n%s", bad, got)
		}
	}
	if !strings.Contains(got, "&lt;script&gt;") {
		t.Errorf("the row does not show the value escaped:\n%s", got)
	}
}
