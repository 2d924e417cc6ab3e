package controllers

import (
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestServiceRouteACLFailsTheReport: the HAProxy Kubernetes Ingress Controller writes a
// Service's route-acl, a raw HAProxy condition, as it is into a use_backend rule it puts first
// in its shared frontends (pkg/route/route.go AddCustomRoute), and a namespace admin's Service
// with one passed, and the cache dropped it when it trimmed the Service's annotations. One with
// a route-acl that breaks out of its ACL fails the report, so does one whose 20 KiB of padding
// and 900 tiny annotations make the cache trim the others (inventory.TrimAnnotations), with a
// bare route-acl; a Service without one passes.
func TestServiceRouteACLFailsTheReport(t *testing.T) {
	const ns, profile = "svc-route-acl", "svcrouteacl"
	createNamespace(t, ns, map[string]string{"svcrouteacl": "true"})
	padded := trimPadded(map[string]string{"route-acl": "hdr(host) -m str bank.example.com"})
	services := map[string]map[string]string{
		"acl":    {"haproxy.org/route-acl": "always_false } || { always_true"},
		"padded": padded,
		"web":    {"haproxy.org/check": "true"},
	}
	createServices(t, ns, services)
	createProfile(t, profile, "svcrouteacl", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "Service", "acl",
		"service injects configuration into its controller: haproxy.org/route-acl")
	eventuallyFinding(t, 20*time.Second, ns, profile, "net-ingress-snippets", "Service", "padded",
		"service injects configuration into its controller: route-acl")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 2 {
		t.Errorf("want the 2 Services with a route-acl failing and web passing, got %d failing findings: %+v", got, rep.Status.Findings)
	}
}
