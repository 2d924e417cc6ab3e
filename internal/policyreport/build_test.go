package policyreport

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

var now = time.Date(2026, 11, 1, 12, 0, 0, 500, time.UTC)

const profileName = "soc2-baseline"

const (
	namespaceShop = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  uid: 00000000-0000-0000-0000-00000000000a
  labels: {pod-security.kubernetes.io/enforce: restricted}
`
	legacyDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy
  namespace: shop
  uid: 00000000-0000-0000-0000-00000000000b
spec:
  selector:
    matchLabels: {app: legacy}
  template:
    metadata:
      labels: {app: legacy}
    spec:
      hostNetwork: true
      initContainers:
        - name: setup
          image: busybox
          securityContext: {privileged: true}
      containers:
        - name: app
          image: nginx:latest
`
	legacyReplicaSet = `
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: legacy-7d9c
  namespace: shop
  uid: 00000000-0000-0000-0000-00000000000d
  ownerReferences:
    - {apiVersion: apps/v1, kind: Deployment, name: legacy, uid: 00000000-0000-0000-0000-00000000000b, controller: true}
spec:
  selector:
    matchLabels: {app: legacy, pod-template-hash: 7d9c}
  template:
    metadata:
      labels: {app: legacy, pod-template-hash: 7d9c}
    spec:
      hostNetwork: true
      initContainers:
        - name: setup
          image: busybox
          securityContext: {privileged: true}
      containers:
        - name: app
          image: nginx:latest
`
	// legacyPod is what legacyReplicaSet's template produces.
	legacyPod = `
apiVersion: v1
kind: Pod
metadata:
  name: legacy-7d9c-x2x7q
  namespace: shop
  uid: 00000000-0000-0000-0000-00000000000c
  labels: {app: legacy, pod-template-hash: 7d9c}
  ownerReferences:
    - {apiVersion: apps/v1, kind: ReplicaSet, name: legacy-7d9c, uid: 00000000-0000-0000-0000-00000000000d, controller: true}
spec:
  nodeName: node-1
  hostNetwork: true
  initContainers:
    - name: setup
      image: busybox
      securityContext: {privileged: true}
  containers:
    - name: app
      image: nginx:latest
`
	clusterRole = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: shop:reader
  uid: 00000000-0000-0000-0000-00000000000e
rules:
  - {apiGroups: [""], resources: [configmaps], verbs: [get]}
`
	builtInClusterRole = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:public-info-viewer
  uid: 00000000-0000-0000-0000-00000000000f
rules:
  - {nonResourceURLs: [/healthz, /livez, /readyz, /version, /version/], verbs: [get]}
`
	everyoneAdmin = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: everyone-admin
  uid: 00000000-0000-0000-0000-000000000010
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}]
`
	configMapWithoutUID = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {greeting: hello}
`
	hostNetworkException = `
apiVersion: compliance.soc2-operator.io/v1alpha1
kind: ControlException
metadata: {name: legacy-host-network, namespace: shop}
spec:
  checks: [wl-host-network]
  match: {names: [legacy]}
  reason: The legacy app needs the node's network until it moves behind the gateway.
  owner: shop-team@example.com
  expires: "2027-01-01T00:00:00Z"
  requestedBy: shop-dev@example.com
approval: {approvedBy: security@example.com}
`
)

// wantReport is what a Policy Reporter user sees of one report. results and properties list
// results by "check" or "check/container"; only those listed are compared. absent are checks
// that must not appear at all.
type wantReport struct {
	kind       string
	namespace  string
	scope      string // Kind/name
	results    map[string]PolicyResult
	properties map[string]map[string]string
	absent     []string
}

func TestBuild(t *testing.T) {
	cases := map[string]struct {
		objects    []string
		exceptions []string
		// complete evaluates as the operator does (an inventory read from the API server).
		complete bool
		want     []wantReport
	}{
		"a workload gets one PolicyReport in its namespace, passes and undecided results included": {
			objects: []string{legacyDeployment},
			want: []wantReport{{
				kind: KindPolicyReport, namespace: "shop", scope: "Deployment/legacy",
				results: map[string]PolicyResult{
					"wl-privileged/setup":   StatusFail,
					"wl-privileged/app":     StatusPass,
					"wl-host-network":       StatusFail,
					"img-signature":         StatusSkip,
					"img-critical-cves/app": StatusSkip,
				},
				properties: map[string]map[string]string{
					"wl-privileged/setup": {PropertyContainer: "setup", PropertyCriteria: "CC6.1,CC6.8",
						PropertyProfile: profileName, PropertyTitle: "Containers do not run privileged"},
					"img-signature": {PropertyReason: ReasonNotAssessed},
				},
				absent: []string{"avl-topology-spread", "net-pod-policy-coverage"}, // NotApplicable
			}},
		},
		"an excepted failure is a skip that names the exception": {
			objects:    []string{legacyDeployment},
			exceptions: []string{hostNetworkException},
			want: []wantReport{{
				kind: KindPolicyReport, namespace: "shop", scope: "Deployment/legacy",
				results: map[string]PolicyResult{"wl-host-network": StatusSkip, "wl-privileged/setup": StatusFail},
				properties: map[string]map[string]string{
					"wl-host-network": {PropertyException: "shop/legacy-host-network", PropertyReason: ReasonExcepted},
				},
			}},
		},
		"cluster-scoped objects and Namespaces get ClusterPolicyReports, listed before namespaced ones": {
			objects: []string{configMapWithoutUID, everyoneAdmin, namespaceShop, clusterRole},
			want: []wantReport{
				{kind: KindClusterPolicyReport, scope: "ClusterRole/shop:reader",
					results: map[string]PolicyResult{"rbac-wildcards": StatusPass}},
				{kind: KindClusterPolicyReport, scope: "ClusterRoleBinding/everyone-admin",
					results: map[string]PolicyResult{"rbac-system-groups": StatusFail}},
				{kind: KindClusterPolicyReport, scope: "Namespace/shop",
					results: map[string]PolicyResult{"ns-pss-enforced": StatusPass, "avl-namespace-quota": StatusFail}},
				{kind: KindPolicyReport, namespace: "shop", scope: "ConfigMap/settings",
					results: map[string]PolicyResult{"sec-configmap-credentials": StatusPass}},
			},
		},
		"a resource with nothing but NotApplicable results gets no report, and cluster checks are in none": {
			objects:  []string{builtInClusterRole},
			complete: true,
			want:     nil,
		},
		"a pod created by a controller is reported through the controller only": {
			objects:  []string{legacyDeployment, legacyReplicaSet, legacyPod},
			complete: true,
			want: []wantReport{{kind: KindPolicyReport, namespace: "shop", scope: "Deployment/legacy",
				results: map[string]PolicyResult{"wl-host-network": StatusFail}}},
		},
		"a pod its controller's template does not explain gets a report of its own": {
			objects:  []string{legacyDeployment, legacyReplicaSet, strings.Replace(legacyPod, "image: nginx:latest", "image: nginx:evil", 1)},
			complete: true,
			want: []wantReport{
				{kind: KindPolicyReport, namespace: "shop", scope: "Deployment/legacy", results: map[string]PolicyResult{"wl-host-network": StatusFail}},
				{kind: KindPolicyReport, namespace: "shop", scope: "Pod/legacy-7d9c-x2x7q", results: map[string]PolicyResult{"wl-host-network": StatusFail}},
			},
		},
	}
	crds := loadCRDs(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev := evaluate(t, tc.objects, tc.exceptions, tc.complete)
			reports := Build(ev, Options{Profile: profileName, Now: now})
			if len(reports) != len(tc.want) {
				t.Fatalf("got %d reports (%s), want %d", len(reports), scopes(reports), len(tc.want))
			}
			for i, want := range tc.want {
				got := reports[i]
				if kind := got.GetObjectKind().GroupVersionKind().Kind; kind != want.kind || got.GetNamespace() != want.namespace || scopeOf(got) != want.scope {
					t.Errorf("report %d is a %s in %q about %s, want a %s in %q about %s",
						i, kind, got.GetNamespace(), scopeOf(got), want.kind, want.namespace, want.scope)
					continue
				}
				byKey := resultsByKey(got)
				for key, result := range want.results {
					if r, ok := byKey[key]; !ok {
						t.Errorf("%s: no result for %s", want.scope, key)
					} else if r.Result != result {
						t.Errorf("%s: %s is %s, want %s (%s)", want.scope, key, r.Result, result, r.Message)
					}
				}
				for key, props := range want.properties {
					for k, v := range props {
						if got := byKey[key].Properties[k]; got != v {
							t.Errorf("%s: %s has property %s=%q, want %q", want.scope, key, k, got, v)
						}
					}
				}
				for _, check := range want.absent {
					for key := range byKey {
						if key == check || strings.HasPrefix(key, check+"/") {
							t.Errorf("%s: %s is listed, want it left out", want.scope, key)
						}
					}
				}
			}
			for _, r := range reports {
				assertWhatEveryReportPromises(t, r, ev)
				assertValidAgainstCRD(t, crds, r)
			}
			for _, r := range reports {
				for _, res := range r.GetResults() {
					if res.Policy == "aud-apiserver-audit-log" || res.Policy == "sec-etcd-encryption" {
						t.Errorf("%s lists the cluster check %s", scopeOf(r), res.Policy)
					}
				}
			}
			again := Build(ev, Options{Profile: profileName, Now: now.Add(time.Hour)})
			for i := range again {
				if again[i].GetName() != reports[i].GetName() || !SameContent(again[i], reports[i]) {
					t.Errorf("building again an hour later changed %s/%s", reports[i].GetNamespace(), reports[i].GetName())
				}
			}
		})
	}
}

// assertWhatEveryReportPromises checks what holds for every report: its name, labels, owner,
// scope, summary and results.
func assertWhatEveryReportPromises(t *testing.T, r Object, ev *engine.Evaluation) {
	t.Helper()
	scope := r.GetScope()
	id := scopeOf(r)
	if want := ReportName(profileName, scope.Kind, scope.Name); r.GetName() != want {
		t.Errorf("%s: name %q, want %q", id, r.GetName(), want)
	}
	if errs := validation.IsDNS1123Subdomain(r.GetName()); len(errs) > 0 {
		t.Errorf("%s: name %q is not a valid object name: %v", id, r.GetName(), errs)
	}
	if r.GetNamespace() != scope.Namespace {
		t.Errorf("%s: report in namespace %q, resource in %q", id, r.GetNamespace(), scope.Namespace)
	}
	if l := r.GetLabels(); l[v1alpha1.LabelManagedBy] != v1alpha1.ManagedBy || l[v1alpha1.LabelProfile] != profileName {
		t.Errorf("%s: labels %v", id, l)
	}
	owners := r.GetOwnerReferences()
	switch {
	case scope.UID == "" && len(owners) != 0:
		t.Errorf("%s: has no UID but the report has owners %v", id, owners)
	case scope.UID != "" && len(owners) != 1:
		t.Errorf("%s: report owners %v, want the resource", id, owners)
	case scope.UID != "":
		o := owners[0]
		if o.UID != scope.UID || o.Kind != scope.Kind || o.Name != scope.Name || o.APIVersion != scope.APIVersion ||
			o.Controller == nil || *o.Controller || o.BlockOwnerDeletion == nil || *o.BlockOwnerDeletion {
			t.Errorf("%s: owner %+v, want the resource with controller and blockOwnerDeletion false", id, o)
		}
	}
	var want Summary
	for _, res := range r.GetResults() {
		switch res.Result {
		case StatusPass:
			want.Pass++
		case StatusFail:
			want.Fail++
		case StatusSkip:
			want.Skip++
		default:
			t.Errorf("%s: %s has result %q", id, res.Policy, res.Result)
		}
		if res.Source != Source || res.Policy == "" || res.Rule != res.Policy || !res.Scored || res.Message == "" {
			t.Errorf("%s: result %+v lacks source, policy, rule, scored or message", id, res)
		}
		if !strings.HasPrefix(res.Category, "SOC 2 ") || !strings.HasPrefix(res.Properties[PropertyCriteria], strings.TrimPrefix(res.Category, "SOC 2 ")) {
			t.Errorf("%s: %s has category %q and criteria %q", id, res.Policy, res.Category, res.Properties[PropertyCriteria])
		}
		switch res.Severity {
		case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow:
		default:
			t.Errorf("%s: %s has severity %q", id, res.Policy, res.Severity)
		}
		if res.Timestamp.Seconds != now.Unix() || res.Timestamp.Nanos != int32(now.Nanosecond()) {
			t.Errorf("%s: %s timestamp %v, want %v", id, res.Policy, res.Timestamp, now)
		}
		if res.Properties[PropertyTitle] == "" || res.Properties[PropertyProfile] != profileName {
			t.Errorf("%s: %s properties %v lack the title or profile", id, res.Policy, res.Properties)
		}
		if (res.Result == StatusSkip) != (res.Properties[PropertyReason] != "") {
			t.Errorf("%s: %s is %s with reason %q", id, res.Policy, res.Result, res.Properties[PropertyReason])
		}
	}
	if r.GetSummary() != want {
		t.Errorf("%s: summary %+v, results add up to %+v", id, r.GetSummary(), want)
	}
	if !sort.SliceIsSorted(r.GetResults(), func(i, j int) bool {
		a, b := r.GetResults()[i], r.GetResults()[j]
		return a.Policy < b.Policy || a.Policy == b.Policy && a.Properties[PropertyContainer] < b.Properties[PropertyContainer]
	}) {
		t.Errorf("%s: results are not sorted by check and container", id)
	}
	// Every result of the resource in the evaluation, NotApplicable ones aside, is in the report.
	n := 0
	for _, res := range ev.Results {
		if res.Object != nil && res.Object.Kind == scope.Kind && res.Object.Name == scope.Name &&
			res.Object.Namespace == scope.Namespace && res.Status != engine.StatusNotApplicable {
			n++
		}
	}
	if n != len(r.GetResults()) {
		t.Errorf("%s: %d results, the evaluation has %d for the resource", id, len(r.GetResults()), n)
	}
}

func TestReportName(t *testing.T) {
	long := strings.Repeat("a", 250)
	cases := map[string]struct {
		profile, kind, name string
		want                string // "" to check only validity and the hash suffix
	}{
		"a workload is named after profile, kind and name": {
			profile: "soc2-baseline", kind: "Deployment", name: "web", want: "soc2-soc2-baseline-deployment-web"},
		"without a profile the profile is left out": {
			kind: "Namespace", name: "shop", want: "soc2-namespace-shop"},
		"a dotted name stays as it is": {
			profile: "ci", kind: "StorageClass", name: "fast.ssd", want: "soc2-ci-storageclass-fast.ssd"},
		"a ClusterRole name with a colon is cleaned and hashed": {
			profile: "ci", kind: "ClusterRole", name: "system:auth-delegator"},
		"a name with capitals is lowered and hashed": {
			profile: "ci", kind: "ClusterRole", name: "Admin"},
		"a name too long for an object is cut and hashed": {
			profile: "ci", kind: "ConfigMap", name: long},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ReportName(tc.profile, tc.kind, tc.name)
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Fatalf("ReportName = %q, not a valid object name: %v", got, errs)
			}
			if got != ReportName(tc.profile, tc.kind, tc.name) {
				t.Error("ReportName is not stable")
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("ReportName = %q, want %q", got, tc.want)
			}
			if tc.want == "" && (len(got) < hashLen+1 || got[len(got)-hashLen-1] != '-') {
				t.Errorf("ReportName = %q, want it to end in a hash", got)
			}
		})
	}
	// Names that clean up alike stay apart.
	pairs := [][2]string{{"system:auth-delegator", "system-auth-delegator"}, {"Admin", "admin"}, {long + "b", long + "c"}}
	for _, p := range pairs {
		if a, b := ReportName("ci", "ClusterRole", p[0]), ReportName("ci", "ClusterRole", p[1]); a == b {
			t.Errorf("%q and %q both get the report name %q", p[0], p[1], a)
		}
	}
}

// Two profiles whose report names could meet: profile p's report on Pod deployment-web and
// profile p-pod's on Deployment web were both soc2-p-pod-deployment-web, and where both profiles
// selected a namespace each wrote over the other's. Knowing the other profiles, both hash those
// names; a profile whose names no other profile's can take keeps them readable.
func TestReportNamesOfTwoProfilesDoNotMeet(t *testing.T) {
	profiles := []string{"p", "p-pod", "soc2-baseline"}
	a := ReportName("p", "Pod", "deployment-web", profiles...)
	b := ReportName("p-pod", "Deployment", "web", profiles...)
	if a == b {
		t.Fatalf("profile p's report on Pod deployment-web and profile p-pod's on Deployment web are both %q", a)
	}
	for _, n := range []string{a, b} {
		if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
			t.Errorf("%q is not a valid object name: %v", n, errs)
		}
	}
	if plain := ReportName("p", "Pod", "deployment-web"); plain != ReportName("p-pod", "Deployment", "web") {
		t.Fatalf("the case is not the collision it means to show: %q", plain)
	}
	if got := ReportName("soc2-baseline", "Deployment", "web", profiles...); got != "soc2-soc2-baseline-deployment-web" {
		t.Errorf("a profile no other's names can meet: %q, want soc2-soc2-baseline-deployment-web", got)
	}
	// Every pair of profiles and objects of this small universe keeps its names apart.
	kinds := []string{"Pod", "Deployment"}
	names := []string{"web", "pod-web", "deployment-web", "p-pod-web"}
	seen := map[string]string{}
	for _, p := range profiles {
		for _, k := range kinds {
			for _, n := range names {
				got := ReportName(p, k, n, profiles...)
				what := p + " " + k + "/" + n
				if other, dup := seen[got]; dup {
					t.Errorf("%s and %s both get the report name %q", other, what, got)
				}
				seen[got] = what
			}
		}
	}
}

func TestProfileLabelIsAValidLabelValue(t *testing.T) {
	cases := map[string]struct{ profile, want string }{
		"a short profile name is the label":        {profile: "soc2-baseline", want: "soc2-baseline"},
		"a profile name over 63 characters is cut": {profile: strings.Repeat("p", 70) + ".example"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := LabelValue(tc.profile)
			if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
				t.Fatalf("label %q: %v", got, errs)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("label %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSameContent(t *testing.T) {
	ev := evaluate(t, []string{legacyDeployment, namespaceShop}, nil, false)
	base := func() []Object { return Build(ev, Options{Profile: profileName, Now: now}) }
	cases := map[string]struct {
		change func(r []Object) (Object, Object)
		same   bool
	}{
		"a report built later is the same": {
			change: func(r []Object) (Object, Object) {
				return r[1], Build(ev, Options{Profile: profileName, Now: now.Add(time.Minute)})[1]
			},
			same: true,
		},
		"a report read back with server metadata is the same": {
			change: func(r []Object) (Object, Object) {
				c := r[1].DeepCopyObject().(Object)
				c.SetResourceVersion("42")
				c.SetUID("server-made")
				return r[1], c
			},
			same: true,
		},
		"a changed result differs": {
			change: func(r []Object) (Object, Object) {
				c := r[1].DeepCopyObject().(*PolicyReport)
				c.Results[0].Result = StatusSkip
				return r[1], c
			},
		},
		"a changed property differs": {
			change: func(r []Object) (Object, Object) {
				c := r[1].DeepCopyObject().(*PolicyReport)
				c.Results[0].Properties[PropertyException] = "shop/new"
				return r[1], c
			},
		},
		"a recreated resource (new UID) differs": {
			change: func(r []Object) (Object, Object) {
				c := r[1].DeepCopyObject().(*PolicyReport)
				c.Scope.UID = "recreated"
				return r[1], c
			},
		},
		"a ClusterPolicyReport and a PolicyReport differ": {
			change: func(r []Object) (Object, Object) { return r[0], r[1] },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := tc.change(base())
			if got := SameContent(a, b); got != tc.same {
				t.Errorf("SameContent = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestAddToSchemeRegistersBothKindsAndLists(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for obj, kind := range map[runtime.Object]string{
		&PolicyReport{}: KindPolicyReport, &PolicyReportList{}: "PolicyReportList",
		&ClusterPolicyReport{}: KindClusterPolicyReport, &ClusterPolicyReportList{}: "ClusterPolicyReportList",
	} {
		gvks, _, err := scheme.ObjectKinds(obj)
		if err != nil || len(gvks) != 1 || gvks[0] != GroupVersion.WithKind(kind) {
			t.Errorf("%T is registered as %v (%v), want %s", obj, gvks, err, GroupVersion.WithKind(kind))
		}
	}
	// Build's reports can be given to a controller-runtime client as they are.
	var _ client.Object = Object(nil)
}

func TestDeepCopySharesNothing(t *testing.T) {
	ev := evaluate(t, []string{legacyDeployment}, []string{hostNetworkException}, false)
	orig := Build(ev, Options{Profile: profileName, Now: now})[0].(*PolicyReport)
	orig.ScopeSelector = nil
	orig.Results[0].Resources = []corev1.ObjectReference{{Kind: "Pod", Name: "p"}}
	snapshot, _ := json.Marshal(orig)

	c := orig.DeepCopyObject().(*PolicyReport)
	c.Labels[v1alpha1.LabelManagedBy] = "someone-else"
	c.OwnerReferences[0].Name = "other"
	c.Scope.Name = "other"
	c.Results[0].Properties[PropertyTitle] = "changed"
	c.Results[0].Resources[0].Name = "other"
	c.Results = append(c.Results[:1], c.Results[2:]...)
	if after, _ := json.Marshal(orig); string(after) != string(snapshot) {
		t.Error("changing the deep copy changed the original")
	}

	list := &ClusterPolicyReportList{Items: []ClusterPolicyReport{{Results: []Result{{Policy: "x", Properties: map[string]string{"a": "b"}}}}}}
	lc := list.DeepCopyObject().(*ClusterPolicyReportList)
	lc.Items[0].Results[0].Properties["a"] = "c"
	if list.Items[0].Results[0].Properties["a"] != "b" {
		t.Error("changing the list's deep copy changed the original")
	}
}

// evaluate runs the real catalogue under a profile named profileName over the objects.
func evaluate(t *testing.T, objects, exceptions []string, complete bool) *engine.Evaluation {
	t.Helper()
	objs, errs := manifest.Decode("objects.yaml", []byte(strings.Join(objects, "---\n")))
	if len(errs) > 0 {
		t.Fatalf("decoding objects: %v", errs)
	}
	var exs []*v1alpha1.ControlException
	if len(exceptions) > 0 {
		decoded, errs := manifest.Decode("exceptions.yaml", []byte(strings.Join(exceptions, "---\n")))
		if len(errs) > 0 {
			t.Fatalf("decoding exceptions: %v", errs)
		}
		for _, o := range decoded {
			exs = append(exs, o.Obj.(*v1alpha1.ControlException))
		}
	}
	profile := &v1alpha1.ComplianceProfile{}
	profile.Name = profileName
	plan := engine.Compile(checks.Catalogue(), profile)
	if len(plan.Problems) > 0 {
		t.Fatalf("profile problems: %v", plan.Problems)
	}
	return plan.Evaluate(engine.NewInventory(objs, complete), exs, engine.Options{Now: now, KeepPassing: true, Approval: engine.ApprovalEnforced})
}

func scopeOf(r Object) string {
	if s := r.GetScope(); s != nil {
		return s.Kind + "/" + s.Name
	}
	return "(no scope)"
}

func scopes(reports []Object) string {
	s := make([]string, len(reports))
	for i, r := range reports {
		s[i] = scopeOf(r)
	}
	return strings.Join(s, ", ")
}

func resultsByKey(r Object) map[string]Result {
	m := map[string]Result{}
	for _, res := range r.GetResults() {
		key := res.Policy
		if c := res.Properties[PropertyContainer]; c != "" {
			key += "/" + c
		}
		m[key] = res
	}
	return m
}

// crdSchemas are the structural schemas and validators of the CRDs in config/policyreport, by
// kind.
type crdSchemas map[string]struct {
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
}

func loadCRDs(t *testing.T) crdSchemas {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "policyreport", "wgpolicyk8s.io_*.yaml"))
	if err != nil || len(files) != 2 {
		t.Fatalf("want two CRDs in config/policyreport, found %v (%v)", files, err)
	}
	out := crdSchemas{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if crd.Spec.Group != GroupVersion.Group || len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != GroupVersion.Version || !crd.Spec.Versions[0].Served {
			t.Fatalf("%s: want one served version %s", f, GroupVersion)
		}
		var internal apiextensionsinternal.JSONSchemaProps
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, &internal, nil); err != nil {
			t.Fatal(err)
		}
		s, err := structuralschema.NewStructural(&internal)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := apiservervalidation.NewSchemaValidator(&internal)
		if err != nil {
			t.Fatal(err)
		}
		out[crd.Spec.Names.Kind] = struct {
			structural *structuralschema.Structural
			validator  apiservervalidation.SchemaValidator
		}{s, v}
	}
	return out
}

// assertValidAgainstCRD checks the report as the API server would: valid under the CRD's
// schema, and with no field the schema would prune (so the Go types match the CRD).
func assertValidAgainstCRD(t *testing.T, crds crdSchemas, r Object) {
	t.Helper()
	kind := r.GetObjectKind().GroupVersionKind().Kind
	crd, ok := crds[kind]
	if !ok {
		t.Fatalf("no CRD for kind %q", kind)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var u map[string]any
	if err := json.Unmarshal(data, &u); err != nil {
		t.Fatal(err)
	}
	for _, e := range apiservervalidation.ValidateCustomResource(nil, u, crd.validator) {
		t.Errorf("%s: the CRD rejects the report: %v", scopeOf(r), e)
	}
	opts := structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}
	if pruned := pruning.PruneWithOptions(u, crd.structural, true, opts); len(pruned) > 0 {
		t.Errorf("%s: the API server would drop %v", scopeOf(r), pruned)
	}
	if fmt.Sprint(u["apiVersion"]) != GroupVersion.String() {
		t.Errorf("%s: apiVersion %v", scopeOf(r), u["apiVersion"])
	}
}

// TestObjectsOfOneKindNameInTwoGroupsGetTwoReports: tenant shop's Gateway API Gateway edge and
// its Istio Gateway edge are two objects: each gets its own report, scoped to it, with its own
// results, not one report scoped to one of them holding the other's results too.
func TestObjectsOfOneKindNameInTwoGroupsGetTwoReports(t *testing.T) {
	ev := evaluate(t, []string{`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop, uid: gw-uid}
spec:
  gatewayClassName: example
  listeners:
  - {name: postgres, protocol: TCP, port: 5432}
`, `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop, uid: istio-uid}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: cert}
`}, nil, true)
	reports := Build(ev, Options{Profile: profileName, Now: now})
	byScope := map[string]Object{}
	names := map[string]bool{}
	for _, r := range reports {
		if s := r.GetScope(); s != nil && s.Name == "edge" {
			byScope[s.APIVersion] = r
			names[r.GetName()] = true
		}
	}
	if len(byScope) != 2 || len(names) != 2 {
		t.Fatalf("reports on edge: %s", scopes(reports))
	}
	for apiVersion, r := range byScope {
		exposure := resultsByKey(r)["net-service-exposure"]
		want := "fail"
		if strings.HasPrefix(apiVersion, "networking.istio.io/") {
			want = "pass"
		}
		if string(exposure.Result) != want {
			t.Errorf("%s Gateway edge's report %s: net-service-exposure %q, want %q", apiVersion, r.GetName(), exposure.Result, want)
		}
		if owner := r.GetOwnerReferences(); len(owner) != 1 || owner[0].APIVersion != apiVersion {
			t.Errorf("%s Gateway edge's report %s is owned by %+v", apiVersion, r.GetName(), owner)
		}
	}
	if got := byScope["gateway.networking.k8s.io/v1"].GetName(); got != "soc2-soc2-baseline-gateway-edge" {
		t.Errorf("the Gateway API Gateway's report is %q, want the name it has always had", got)
	}
}

// TestAnExpressionTheObjectBrokeIsAnError: a custom check whose expression the object stopped,
// broke at run time (a field it reads left out) or made return no bool is NotAssessed, and the
// admission webhook and scan --fail-on count it as failing (engine.Result.FailedOnObject). The
// PolicyReport said skip, the result Policy Reporter and Kyverno give what a policy does not
// apply to: the Deployment that left out runAsNonRoot read as skipped where the one setting it to
// false read as fail. It is error, the wgpolicyk8s.io result for a policy that could not be
// evaluated on the resource (as Kyverno reports a rule whose evaluation failed), counted in the
// summary's error; a NotAssessed for want of data stays skip.
func TestAnExpressionTheObjectBrokeIsAnError(t *testing.T) {
	objs, errs := manifest.Decode("objects.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: omitted, namespace: shop, uid: d-uid}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      containers: [{name: app, image: 'registry.example.com/app:1.0'}]
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	profile := &v1alpha1.ComplianceProfile{}
	profile.Name = profileName
	profile.Spec.CustomChecks = []v1alpha1.CustomCheck{{ID: "custom-nonroot", Title: "Pods run as non-root", Kinds: []string{"Deployment"},
		Criteria: []v1alpha1.Criterion{"CC6.1"}, Severity: v1alpha1.SeverityCritical,
		Expression: "object.spec.template.spec.securityContext.runAsNonRoot == true"}}
	plan := engine.Compile(checks.Catalogue(), profile)
	if len(plan.Problems) > 0 {
		t.Fatalf("profile problems: %v", plan.Problems)
	}
	ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: now, KeepPassing: true, Approval: engine.ApprovalEnforced})
	var report Object
	for _, r := range Build(ev, Options{Profile: profileName, Now: now}) {
		if s := r.GetScope(); s != nil && s.Name == "omitted" {
			report = r
		}
	}
	if report == nil {
		t.Fatal("no report on Deployment omitted")
	}
	results := resultsByKey(report)
	got := results["custom-nonroot"]
	if got.Result != StatusError || !strings.Contains(got.Message, "expression failed: no such key: securityContext") {
		t.Errorf("custom-nonroot: %q %q, want error with the expression's failure", got.Result, got.Message)
	}
	if s := results["img-signature"]; s.Result != StatusSkip || s.Properties[PropertyReason] != ReasonNotAssessed {
		t.Errorf("img-signature (NotAssessed for want of registry access): %q %v, want skip", s.Result, s.Properties)
	}
	if report.GetSummary().Error != 1 {
		t.Errorf("summary %+v, want error 1", report.GetSummary())
	}
	assertValidAgainstCRD(t, loadCRDs(t), report)
}
