// Command rbacdoc writes docs/rbac.md: every rule of the operator's roles (config/rbac/role.yaml,
// generated from the +kubebuilder:rbac markers, and the hand-written leader-election and
// metrics roles) with why the operator needs it. A rule without a reason here, or a reason for a
// rule that is gone, is an error, so `make manifests` (and `make verify`) fail until the table
// is updated with the markers.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// reasons says why each rule is needed, keyed by rule (see key).
var reasons = map[string]string{
	// manager-role (config/rbac/role.yaml)
	"core: configmaps, limitranges, namespaces, nodes, persistentvolumeclaims, persistentvolumes, pods, replicationcontrollers, resourcequotas, serviceaccounts, services: get, list, watch": "The checks evaluate these objects (workload pods and their controllers, namespace quotas and limits, ServiceAccount token mounting, Services, the PersistentVolumes claims are bound to); namespaces are selected by the profiles' namespace selectors; of Nodes only the metadata is read, and of that only the OS labels are kept: a Pod bound to a node runs on that node's OS. Read through the informer cache, hence list and watch.",
	"node.k8s.io: runtimeclasses: get, list, watch": "A template's RuntimeClass decides its pods' OS where their spec does not: the RuntimeClass admission plugin gives Pods the class's scheduling.nodeSelector (kubernetes.io/os: windows, say).",
	"core, events.k8s.io: events: create, patch":    "Events on ComplianceProfiles and ControlExceptions (an exception expired, turned invalid or active); patch aggregates repeated Events.",
	"admissionregistration.k8s.io: mutatingadmissionpolicies, mutatingadmissionpolicybindings, validatingadmissionpolicies, validatingadmissionpolicybindings: list, watch":                                                                                                                                                      "The operator watches its own admission policies (who may request and approve exceptions, that only it writes reports and its PolicyReports) to record whether they are in force (and, in Manage mode, to repair them).",
	"admissionregistration.k8s.io: mutatingadmissionpolicies, mutatingadmissionpolicybindings, validatingadmissionpolicies, validatingadmissionpolicybindings [soc2-operator-exception-approval, soc2-operator-exception-requester, soc2-operator-policyreport-writer, soc2-operator-report-writer]: create, get, patch, update": "Installing those policies and keeping them as shipped: only the operator's own, by name. A missing one is created with server-side apply, which the API server authorises as create on its name; with create on any name the operator could bind a MutatingAdmissionPolicy of its own that rewrites every object of the cluster.",
	"apps: daemonsets, deployments, replicasets, statefulsets: get, list, watch":                                                     "Workload checks (security context, images, probes, resources, replicas).",
	"aquasecurity.github.io: exposedsecretreports, vulnerabilityreports: get, list, watch":                                           "Optional: trivy-operator's vulnerability and secret reports feed the vulnerability criteria when installed.",
	"authentication.k8s.io: selfsubjectreviews: create":                                                                              "The operator asks who it is (its ServiceAccount's user name), to name itself in its admission policies.",
	"authorization.k8s.io: selfsubjectaccessreviews: create":                                                                         "The operator asks, at start and at each full evaluation, whether it may list and watch each kind it reads, so that a kind its role no longer grants is NotAssessed rather than judged from an informer that cannot sync or a cache that can no longer relist.",
	"autoscaling: horizontalpodautoscalers: get, list, watch":                                                                        "Availability checks (a Deployment scaled by an HPA).",
	"batch: cronjobs, jobs: get, list, watch":                                                                                        "Workload checks on Jobs and CronJobs.",
	"compliance.soc2-operator.io: complianceprofiles, controlexceptions: get, list, watch":                                           "The operator's inputs: profiles and exceptions.",
	"compliance.soc2-operator.io: complianceprofiles/finalizers: update":                                                             "A profile's finalizer, to remove its reports when it is deleted.",
	"compliance.soc2-operator.io: complianceprofiles/status, compliancereports/status, controlexceptions/status: get, patch, update": "Status of profiles (Ready), reports (the results) and exceptions (state, approval, matched findings).",
	"compliance.soc2-operator.io: compliancereports: create, delete, get, list, patch, update, watch":                                "The operator writes one ComplianceReport per profile and namespace, deletes those of deselected namespaces or deleted profiles, and watches them to restore hand edits.",
	"gateway.networking.k8s.io: gateways, grpcroutes, httproutes, listenersets, tcproutes, tlsroutes, udproutes: get, list, watch":   "Optional: net-ingress-tls judges the Gateway API's routes by the listeners of their Gateways and ListenerSets, and net-service-exposure the Gateways, their ListenerSets and the stream routes, when the Gateway API is installed.",
	"route.openshift.io: routes: get, list, watch":                                                                                   "Optional: net-ingress-tls and net-ingress-host-hygiene judge OpenShift's Routes, on OpenShift (or wherever the Route CRD is installed).",
	"networking.istio.io: gateways, virtualservices: get, list, watch":                                                               "Optional: net-ingress-tls, net-ingress-host-hygiene and net-service-exposure judge Istio's Gateways by their servers, and net-service-exposure the VirtualServices bound to another namespace's stream servers, when Istio is installed.",
	"cilium.io: ciliumclusterwidenetworkpolicies, ciliumnetworkpolicies: get, list, watch":                                           "Optional: net-pod-policy-coverage and net-namespace-default-deny read Cilium's CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies, which add to what NetworkPolicies allow, when Cilium is installed.",
	"configuration.konghq.com: kongplugins: get, list, watch":                                                                        "Optional: net-ingress-snippets reads Kong's KongPlugins, which a namespace's Ingresses and Services attach (konghq.com/plugins), and fails those that run Lua code in the shared Kong proxy (pre-function, post-function), when the Kong Ingress Controller is installed.",
	"traefik.io: ingressroutes: get, list, watch":                                                                                    "Optional: net-ingress-snippets reads Traefik's IngressRoutes and fails those whose routes name another namespace's Middleware or ServersTransport, which Traefik applies on their behalf, when Traefik's CRDs are installed.",
	"keda.sh: scaledobjects: get, list, watch":                                                                                       "Optional: avl-replicas reads KEDA's ScaledObjects, which scale a workload to zero (or their idleReplicaCount) below the minReplicas of the HorizontalPodAutoscaler KEDA creates, when KEDA is installed.",
	"argoproj.io: rollouts: get, list, watch":                                                                                        "Optional: avl-replicas reads Argo Rollouts' Rollouts, which run the template of a Deployment they name (spec.workloadRef) and scale that Deployment to 0, when Argo Rollouts is installed.",
	"crd.projectcalico.org, projectcalico.org: globalnetworkpolicies, networkpolicies: get, list, watch":                             "Optional: net-pod-policy-coverage and net-namespace-default-deny read Calico's NetworkPolicies and GlobalNetworkPolicies (as Calico's API server serves them and as its CRDs store them), which add to what NetworkPolicies allow or deny, when Calico is installed.",
	"policy.networking.k8s.io: adminnetworkpolicies, baselineadminnetworkpolicies, clusternetworkpolicies: get, list, watch":         "Optional: net-pod-policy-coverage and net-namespace-default-deny read the Network Policy API's AdminNetworkPolicies and BaselineAdminNetworkPolicy, and the ClusterNetworkPolicies that replace both from its v0.2.0 (tiers Admin and Baseline), which decide before NetworkPolicies and for the pods none selects, when their CRDs are installed.",
	"resource.k8s.io: resourceclaims, resourceclaimtemplates: get, list, watch":                                                      "Optional: wl-device-admin-access judges Dynamic Resource Allocation's claims and claim templates (device requests with adminAccess), and the workloads whose pods name them, where the API server serves resource.k8s.io (v1 from Kubernetes 1.34; v1beta2 or v1beta1 before, where DRA is enabled).",
	"networking.k8s.io: ingresses, networkpolicies: get, list, watch":                                                                "Network checks (namespaces without NetworkPolicies, Ingresses without TLS).",
	"policy: poddisruptionbudgets: get, list, watch":                                                                                 "Availability checks (replicated workloads without a PodDisruptionBudget).",
	"rbac.authorization.k8s.io: clusterrolebindings, clusterroles, rolebindings, roles: get, list, watch":                            "Access-control checks (cluster-admin bindings, wildcard rules, secrets readers). Read only: the operator never changes RBAC.",
	"storage.k8s.io: storageclasses: get, list, watch":                                                                               "Encryption-at-rest checks on StorageClasses.",
	"scheduling.k8s.io: priorityclasses: get, list, watch":                                                                           "Availability checks (a workload's priorityClassName names a class that exists, above the globalDefault class's value).",
	// policyreport-writer (config/policyreport/writer, applied only to use spec.policyReports)
	"wgpolicyk8s.io: clusterpolicyreports, policyreports: create, delete, get, list, update": "Only for profiles with spec.policyReports: the operator writes its results as PolicyReports (Policy Reporter), and lists and deletes its own (by label) when resources go away, the option is turned off or the profile is deleted. No watch: read straight from the API server.",
	// leader-election-role (config/rbac/leader_election_role.yaml)
	"coordination.k8s.io: leases: create, get, update (leader election)": "Leader election: client-go's LeaseLock (controller-runtime v0.25.2) gets, creates and renews the Lease and releases it with an update on shutdown. The Lease soc2-operator-evaluations records when each profile's full evaluation last succeeded (at most every half interval), so that a new leader marks stale the reports no evaluation confirmed, even in a crash loop, and which failing cluster-scoped findings each profile's evaluations identified, so that a new leader identifies one made while no operator ran. The Lease soc2-operator-alerts keeps the alerts the sinks have not delivered yet and the exceptions last judged Active, so that a new leader delivers the former and revokes those of the latter deleted while no operator ran. No list, watch, patch or delete (tested in internal/faulttest).",
	"core, events.k8s.io: events: create, patch (leader election)":       "Events about the Lease (became leader).",
	// metrics-auth-role (config/rbac/metrics_auth_role.yaml)
	"authentication.k8s.io: tokenreviews: create":        "The metrics endpoint authenticates scrapers' bearer tokens.",
	"authorization.k8s.io: subjectaccessreviews: create": "The metrics endpoint checks that a scraper may GET /metrics.",
	"nonResourceURLs /metrics: get":                      "metrics-reader, for Prometheus's ServiceAccount (not the operator's): read /metrics.",
}

type source struct{ file, role, suffix string }

var sources = []source{
	{"config/rbac/role.yaml", "manager-role", ""},
	{"config/rbac/leader_election_role.yaml", "leader-election-role", " (leader election)"},
	{"config/rbac/metrics_auth_role.yaml", "", ""},
	{"config/policyreport/writer/policyreport_writer_role.yaml", "", ""},
}

func key(r rbacv1.PolicyRule) string {
	if len(r.NonResourceURLs) > 0 {
		return "nonResourceURLs " + strings.Join(r.NonResourceURLs, ", ") + ": " + strings.Join(sorted(r.Verbs), ", ")
	}
	groups := make([]string, len(r.APIGroups))
	for i, g := range r.APIGroups {
		if g == "" {
			g = "core"
		}
		groups[i] = g
	}
	k := strings.Join(groups, ", ") + ": " + strings.Join(sorted(r.Resources), ", ")
	if len(r.ResourceNames) > 0 {
		k += " [" + strings.Join(sorted(r.ResourceNames), ", ") + "]"
	}
	return k + ": " + strings.Join(sorted(r.Verbs), ", ")
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func main() {
	root := flag.String("root", ".", "Repository root")
	out := flag.String("o", "docs/rbac.md", "Output file")
	flag.Parse()
	doc, err := render(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rbacdoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(*root, *out), doc, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "rbacdoc:", err)
		os.Exit(1)
	}
}

func render(root string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`# What the operator may do, and why

Generated by hack/rbacdoc from the roles in config/rbac (role.yaml itself is generated from the
` + "`+kubebuilder:rbac`" + ` markers); ` + "`make manifests`" + ` rewrites it and ` + "`make verify`" + ` fails when it is stale
or a rule has no reason. The operator reads the cluster and writes only its own objects: no
secrets, no write access to workloads or RBAC.

`)
	used := map[string]bool{}
	var errs []error
	for _, s := range sources {
		data, err := os.ReadFile(filepath.Join(root, s.file))
		if err != nil {
			return nil, err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var role rbacv1.ClusterRole // a Role has the same rules
			if err := dec.Decode(&role); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s: %w", s.file, err)
			}
			if role.Kind != "ClusterRole" && role.Kind != "Role" {
				continue
			}
			fmt.Fprintf(&b, "## %s %s (%s)\n\n| API groups | resources | verbs | why |\n|---|---|---|---|\n", role.Kind, role.Name, s.file)
			for _, r := range role.Rules {
				k := key(r) + s.suffix
				reason, ok := reasons[k]
				if !ok {
					errs = append(errs, fmt.Errorf("%s: no reason for the rule %q: add one to hack/rbacdoc", s.file, k))
					continue
				}
				used[k] = true
				groups := make([]string, len(r.APIGroups))
				for i, g := range r.APIGroups {
					if g == "" {
						g = "core"
					}
					groups[i] = g
				}
				resources := strings.Join(r.Resources, ", ")
				if len(r.NonResourceURLs) > 0 {
					groups, resources = []string{"(non-resource URLs)"}, strings.Join(r.NonResourceURLs, ", ")
				}
				if len(r.ResourceNames) > 0 {
					resources += " (named " + strings.Join(r.ResourceNames, ", ") + ")"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", strings.Join(groups, ", "), resources, strings.Join(r.Verbs, ", "), reason)
			}
			b.WriteString("\n")
		}
	}
	for k := range reasons {
		if !used[k] {
			errs = append(errs, fmt.Errorf("hack/rbacdoc has a reason for %q, which no role has any more: remove it", k))
		}
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return b.Bytes(), errors.Join(errs...)
}
