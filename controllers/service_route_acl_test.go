package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	ctx := context.Background()
	const ns, profile = "svc-route-acl", "svcrouteacl"
	createNamespace(t, ns, map[string]string{"svcrouteacl": "true"})
	padded := map[string]string{"route-acl": "hdr(host) -m str bank.example.com"}
	for i := range 5 {
		padded[fmt.Sprintf("tenant.example.com/blob-%d", i)] = strings.Repeat("x", 4<<10)
	}
	for i := range 900 {
		padded[fmt.Sprintf("t/%03d", i)] = ""
	}
	services := map[string]map[string]string{
		"acl":    {"haproxy.org/route-acl": "always_false } || { always_true"},
		"padded": padded,
		"web":    {"haproxy.org/check": "true"},
	}
	for name, a := range services {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: a},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []corev1.ServicePort{{Port: 80}}}}
		if err := k8s.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}
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
