package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestATenantsPlainHTTPRouteFailsCC67: on a cluster that serves OpenShift's Routes (the suite
// installs a minimal Route CRD; OpenShift's own API server, which defaults and validates Routes,
// is out of reach), a tenant's Route terminating TLS at the router passes CC6.7, fully assessed;
// when the tenant drops spec.tls, the router would serve the workload over plain HTTP, and the
// Route's change alone re-evaluates the namespace: its report lists the Route's net-ingress-tls
// finding and CC6.7 fails.
func TestATenantsPlainHTTPRouteFailsCC67(t *testing.T) {
	createNamespace(t, "osr-tenant", map[string]string{"osrtest": "true"})
	const route = `
apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: web
  namespace: osr-tenant
spec:
  host: web.apps.example.com
  to:
    kind: Service
    name: web
  port:
    targetPort: 8080
`
	applyYAML(t, route+`  tls:
    termination: edge
    insecureEdgeTerminationPolicy: Redirect
`)
	createProfile(t, "osrtest", "osrtest", nil)
	eventuallyAssessedPass(t, 20*time.Second, "osr-tenant", "osrtest", "CC6.7")

	applyYAML(t, route)
	eventually(t, 15*time.Second, "the Route's net-ingress-tls finding", func() error {
		rep, err := getReport("osr-tenant", "osrtest")
		if err != nil {
			return err
		}
		f := finding(rep, "net-ingress-tls", "web", "")
		if f == nil {
			return fmt.Errorf("no finding yet")
		}
		if f.Resource.Kind != "Route" || !strings.Contains(f.Message, "plain HTTP") {
			return fmt.Errorf("finding on %s says %q", f.Resource.Kind, f.Message)
		}
		if s := criterionStatus(rep.Status.Criteria, "CC6.7"); s != v1alpha1.CriterionFail {
			return fmt.Errorf("CC6.7 is %s", s)
		}
		return nil
	})
}
