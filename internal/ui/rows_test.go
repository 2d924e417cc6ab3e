package ui

import (
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
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

// TestFindingsOfOneKindNameInTwoGroupsReadApart: the dashboard showed the Gateway API's Gateway
// edge and Istio's Gateway edge as Gateway/edge both; Istio's reads
// Gateway.networking.istio.io/edge.
func TestFindingsOfOneKindNameInTwoGroupsReadApart(t *testing.T) {
	var rows []findingView
	for _, apiVersion := range []string{"gateway.networking.k8s.io/v1", "networking.istio.io/v1"} {
		rows = append(rows, newFindingOf("shop", "soc2-baseline", &v1alpha1.Finding{Check: "net-service-exposure",
			Resource: v1alpha1.ResourceRef{APIVersion: apiVersion, Kind: "Gateway", Namespace: "shop", Name: "edge"}}))
	}
	got := string(checkRows(rows))
	for _, want := range []string{">Gateway/edge<", ">Gateway.networking.istio.io/edge<"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}
