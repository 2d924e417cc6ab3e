package controllers

import (
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestKongServerlessPluginFailsTheReport: a namespace admin may create a KongPlugin of the
// pre-function plugin in their namespace and attach it to their Ingress (konghq.com/plugins):
// Kong runs its Lua code in the shared proxy. Such a KongPlugin passed (the operator did not read
// the kind); it fails the report now, and a rate-limiting one and a disabled post-function one
// pass.
func TestKongServerlessPluginFailsTheReport(t *testing.T) {
	const ns, profile = "kong-serverless", "kongserverless"
	createNamespace(t, ns, map[string]string{"kongserverless": "true"})
	applyYAML(t, `
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: add-header
  namespace: kong-serverless
plugin: pre-function
config:
  access:
  - kong.service.request.set_header("X-Tenant", "shop")
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: rate-limit
  namespace: kong-serverless
plugin: rate-limiting
config: {minute: 60, policy: local}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata:
  name: debug-code
  namespace: kong-serverless
plugin: post-function
disabled: true
config:
  log:
  - kong.log.err("debug")
`)
	createProfile(t, profile, "kongserverless", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "net-ingress-snippets") })
	eventuallyFinding(t, 60*time.Second, ns, profile, "net-ingress-snippets", "KongPlugin", "add-header",
		"KongPlugin runs Lua code of its own in the shared Kong proxy: plugin pre-function")
	rep, err := getReport(ns, profile)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Status.Summary.Failing; got != 1 {
		t.Errorf("want add-header alone failing, got %d failing findings: %+v", got, rep.Status.Findings)
	}
}
