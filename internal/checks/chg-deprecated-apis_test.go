package checks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// servingMinor is the minor of servingRelease, the Kubernetes release chg-deprecated-apis
// judges manifests against.
const servingMinor = 37

// notManifestKinds are kinds k8s.io/api gives a lifecycle that are no resource a manifest can
// create: request and response bodies of subresources and webhooks, and discovery documents.
var notManifestKinds = map[string]bool{
	"AdmissionReview": true, "Scale": true, "DeploymentRollback": true, "Eviction": true, "APIGroupDiscovery": true,
	"ConversionReview": true,
}

// lifecycleScheme holds every built-in type that carries prerelease-lifecycle data:
// k8s.io/api (client-go's scheme) and apiextensions.k8s.io/v1beta1.
func lifecycleScheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := apiextensionsv1beta1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRemovedAPIsFollowKubernetes compares removedAPIs with the APILifecycleRemoved release that
// k8s.io/api gives each API version, from which the API server stops serving it
// (k8s.io/apiserver/pkg/server/deleted_kinds.go): every entry whose version k8s.io/api still
// holds must name that release, and every version of any kind a manifest can hold that is
// removed by servingRelease must be an entry, and its kind targeted. The check runs only in
// scan, so targeting a kind controllers write (EndpointSlice, Event, Lease) costs the operator
// nothing, and a manifest that still carries one fails to apply all the same.
func TestRemovedAPIsFollowKubernetes(t *testing.T) {
	type lifecycle interface{ APILifecycleRemoved() (int, int) }
	s := lifecycleScheme(t)
	for gvk := range s.AllKnownTypes() {
		if notManifestKinds[gvk.Kind] {
			continue
		}
		obj, err := s.New(gvk)
		if err != nil {
			t.Fatal(err)
		}
		l, ok := obj.(lifecycle)
		if !ok {
			continue
		}
		major, minor := l.APILifecycleRemoved()
		release := fmt.Sprintf("%d.%d", major, minor)
		key := apiKind{gvk.GroupVersion().String(), gvk.Kind}
		r, listed := removedAPIs[key]
		switch {
		case listed && r.removedIn != release:
			t.Errorf("%s %s: removedAPIs says removed in %s, k8s.io/api says %s", key.apiVersion, key.kind, r.removedIn, release)
		case !listed && major == 1 && minor <= servingMinor && !strings.HasSuffix(gvk.Kind, "List"):
			t.Errorf("%s %s is removed in %s but missing from removedAPIs", key.apiVersion, key.kind, release)
		case listed && !slices.Contains(chgDeprecatedApis.Targets, gvk.Kind):
			t.Errorf("%s %s is in removedAPIs but its kind is not targeted", key.apiVersion, key.kind)
		}
	}
}

// TestDeprecatedAPIsFollowKubernetes compares deprecatedAPIs with the APILifecycleDeprecated and
// APILifecycleRemoved releases k8s.io/api gives each API version: the API server answers every
// request for a version deprecated by its release with the warning "<version> <kind> is
// deprecated in v1.X+, unavailable in v1.Y+" (k8s.io/apiserver/pkg/endpoints/deprecation), and
// every such version of a kind a manifest can create must be an entry naming those releases,
// with its kind targeted. Where k8s.io/api names a replacement that is not deprecated itself,
// the entry names the same. A GA version deprecated with no removal release (v1 Endpoints since
// 1.33, v1 ComponentStatus since 1.19) is not an entry: Kubernetes never removes a GA version,
// so the manifest keeps applying, and the check is about manifests that stop doing so.
func TestDeprecatedAPIsFollowKubernetes(t *testing.T) {
	type lifecycle interface {
		APILifecycleDeprecated() (int, int)
	}
	type removal interface {
		APILifecycleRemoved() (int, int)
	}
	type replaced interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
	s := lifecycleScheme(t)
	for gvk := range s.AllKnownTypes() {
		if notManifestKinds[gvk.Kind] || strings.HasSuffix(gvk.Kind, "List") {
			continue
		}
		obj, err := s.New(gvk)
		if err != nil {
			t.Fatal(err)
		}
		l, ok := obj.(lifecycle)
		if !ok {
			continue
		}
		dMajor, dMinor := l.APILifecycleDeprecated()
		r, removed := obj.(removal)
		if !removed {
			if _, listed := deprecatedAPIs[apiKind{gvk.GroupVersion().String(), gvk.Kind}]; listed {
				t.Errorf("%s %s: in deprecatedAPIs, but k8s.io/api gives it no removal release", gvk.GroupVersion(), gvk.Kind)
			}
			continue
		}
		rMajor, rMinor := r.APILifecycleRemoved()
		deprecated := dMajor == 1 && dMinor <= servingMinor && !(rMajor == 1 && rMinor <= servingMinor)
		key := apiKind{gvk.GroupVersion().String(), gvk.Kind}
		d, listed := deprecatedAPIs[key]
		switch {
		case deprecated && !listed:
			t.Errorf("%s %s is deprecated in 1.%d but missing from deprecatedAPIs", key.apiVersion, key.kind, dMinor)
			continue
		case !deprecated && listed:
			t.Errorf("%s %s is in deprecatedAPIs, but k8s.io/api deprecates it in %d.%d and removes it in %d.%d", key.apiVersion, key.kind, dMajor, dMinor, rMajor, rMinor)
			continue
		case !listed:
			continue
		}
		if want := fmt.Sprintf("%d.%d", dMajor, dMinor); d.deprecatedIn != want {
			t.Errorf("%s %s: deprecatedAPIs says deprecated in %s, k8s.io/api says %s", key.apiVersion, key.kind, d.deprecatedIn, want)
		}
		if want := fmt.Sprintf("%d.%d", rMajor, rMinor); d.removedIn != want {
			t.Errorf("%s %s: deprecatedAPIs says removed in %s, k8s.io/api says %s", key.apiVersion, key.kind, d.removedIn, want)
		}
		if !slices.Contains(chgDeprecatedApis.Targets, gvk.Kind) {
			t.Errorf("%s %s is in deprecatedAPIs but its kind is not targeted", key.apiVersion, key.kind)
		}
		if rp, ok := obj.(replaced); ok {
			if to := rp.APILifecycleReplacement().GroupVersion().String(); d.replacement != to {
				if _, dep := deprecatedAPIs[apiKind{to, gvk.Kind}]; !dep {
					t.Errorf("%s %s: deprecatedAPIs names %q, k8s.io/api names %s", key.apiVersion, key.kind, d.replacement, to)
				}
			}
		}
	}
}

// A version Kubernetes still serves but has deprecated fails, naming the release that stops
// serving it: the manifest applies today with a warning and fails after the upgrade it blocks.
func TestDeprecatedVersionsFail(t *testing.T) {
	for _, tc := range []struct {
		apiVersion, kind, namespace, message string
	}{
		{"resource.k8s.io/v1beta1", "ResourceClaimTemplate", "shop",
			"resource.k8s.io/v1beta1 ResourceClaimTemplate is deprecated since Kubernetes 1.35 and no longer served from 1.38; use resource.k8s.io/v1"},
		{"admissionregistration.k8s.io/v1beta1", "MutatingAdmissionPolicy", "",
			"admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy is deprecated since Kubernetes 1.37 and no longer served from 1.40; use admissionregistration.k8s.io/v1"},
		{"certificates.k8s.io/v1beta1", "ClusterTrustBundle", "",
			"certificates.k8s.io/v1beta1 ClusterTrustBundle is deprecated since Kubernetes 1.37 and no longer served from 1.40; use certificates.k8s.io/v1"},
		{"storagemigration.k8s.io/v1beta1", "StorageVersionMigration", "",
			"use storagemigration.k8s.io/v1"},
		// The Gateway API's deprecated route versions (addOnDeprecated).
		{"gateway.networking.k8s.io/v1alpha2", "TCPRoute", "shop",
			"gateway.networking.k8s.io/v1alpha2 TCPRoute is deprecated since the Gateway API v1.6.0, which serves TCPRoute at v1 (only its experimental channel still serves v1alpha2, with a deprecation warning, until a later release removes it); use gateway.networking.k8s.io/v1"},
		{"gateway.networking.k8s.io/v1alpha2", "UDPRoute", "shop", "deprecated since the Gateway API v1.6.0"},
		{"gateway.networking.k8s.io/v1alpha2", "TLSRoute", "shop", "deprecated since the Gateway API v1.5.0"},
		{"gateway.networking.k8s.io/v1alpha3", "TLSRoute", "shop", "deprecated since the Gateway API v1.5.0"},
	} {
		if status, msg, ok := judgeAPIVersion(t, tc.apiVersion, tc.kind, tc.namespace); ok &&
			(status != engine.StatusFail || !strings.Contains(msg, tc.message)) {
			t.Errorf("%s %s: %s %q, want a failure saying %q", tc.apiVersion, tc.kind, status, msg, tc.message)
		}
	}
}

// An apiVersion that Kubernetes no longer serves fails whether or not removedAPIs dates its
// removal: alpha versions have no APILifecycleRemoved in k8s.io/api (node.k8s.io/v1alpha1 is
// still there and no API server serves it), and versions k8s.io/api dropped altogether
// (batch/v2alpha1) are in no table of it. Kinds of other groups that share a built-in kind's
// name are custom resources and are not judged by their version, but a group without a dot is
// no custom resource's (the API server refuses a CustomResourceDefinition whose group has none):
// v1 Deployment or apps/v1 CronJob is a kind Kubernetes serves under a version that has no such
// kind.
func TestUnservedVersionsFail(t *testing.T) {
	for _, tc := range []struct {
		apiVersion, kind string
		want             engine.Status
	}{
		{"batch/v2alpha1", "CronJob", engine.StatusFail},
		{"scheduling.k8s.io/v1alpha1", "PriorityClass", engine.StatusFail},
		{"node.k8s.io/v1alpha1", "RuntimeClass", engine.StatusFail},
		{"flowcontrol.apiserver.k8s.io/v1alpha1", "FlowSchema", engine.StatusFail},
		{"flowcontrol.apiserver.k8s.io/v1alpha1", "PriorityLevelConfiguration", engine.StatusFail},
		{"networking.k8s.io/v1alpha1", "ServiceCIDR", engine.StatusFail},
		{"networking.k8s.io/v1alpha1", "IngressClass", engine.StatusFail},
		{"storage.k8s.io/v1alpha1", "CSIDriver", engine.StatusFail},
		{"certificates.k8s.io/v1alpha1", "CertificateSigningRequest", engine.StatusFail},
		{"apiextensions.k8s.io/v1alpha1", "CustomResourceDefinition", engine.StatusFail},
		{"extensions/v1beta1", "PodSecurityPolicy", engine.StatusFail},
		{"v1", "Deployment", engine.StatusFail},
		{"apps/v1", "CronJob", engine.StatusFail},
		{"batch/v1", "Deployment", engine.StatusFail},
		{"batch/v1", "CronJob", engine.StatusPass},
		{"autoscaling/v1", "HorizontalPodAutoscaler", engine.StatusPass},
		{"certificates.k8s.io/v1", "ClusterTrustBundle", engine.StatusPass},
		{"node.k8s.io/v1", "RuntimeClass", engine.StatusPass},
		{"crd.projectcalico.org/v1", "NetworkPolicy", engine.StatusPass},
		{"example.com/v1alpha1", "Role", engine.StatusPass},
	} {
		namespace := "shop"
		if slices.Contains([]string{"PriorityClass", "RuntimeClass", "FlowSchema", "PriorityLevelConfiguration",
			"ServiceCIDR", "IngressClass", "CSIDriver", "CertificateSigningRequest", "CustomResourceDefinition",
			"PodSecurityPolicy", "ClusterTrustBundle"}, tc.kind) {
			namespace = ""
		}
		if status, msg, ok := judgeAPIVersion(t, tc.apiVersion, tc.kind, namespace); ok && status != tc.want {
			t.Errorf("%s %s: %s %q, want %s", tc.apiVersion, tc.kind, status, msg, tc.want)
		}
	}
}

// servedAPIs names every kind the check targets, and only versions that are neither removed
// (removedAPIs, or APILifecycleRemoved by servingRelease) nor missing from k8s.io/api.
func TestServedAPIsAreServed(t *testing.T) {
	if servingRelease != fmt.Sprintf("1.%d", servingMinor) {
		t.Fatalf("servingRelease %s and servingMinor %d disagree", servingRelease, servingMinor)
	}
	addOn := map[string]bool{}
	for gk := range addOnServed {
		addOn[gk.Kind] = true
	}
	for _, kind := range chgDeprecatedApis.Targets {
		if _, ok := servedAPIs[kind]; !ok && !addOn[kind] {
			t.Errorf("%s: targeted but neither in servedAPIs nor an add-on kind of addOnServed", kind)
		}
	}
	for kind := range addOn {
		if !slices.Contains(chgDeprecatedApis.Targets, kind) {
			t.Errorf("%s: in addOnServed but not targeted", kind)
		}
	}
	type lifecycle interface{ APILifecycleRemoved() (int, int) }
	for kind, versions := range servedAPIs {
		if !slices.Contains(chgDeprecatedApis.Targets, kind) {
			t.Errorf("%s: in servedAPIs but not targeted", kind)
		}
		for _, v := range versions {
			if _, removed := removedAPIs[apiKind{v, kind}]; removed {
				t.Errorf("%s %s: both served and removed", v, kind)
			}
			gv, err := schema.ParseGroupVersion(v)
			if err != nil {
				t.Fatal(err)
			}
			if gv.Group == "apiextensions.k8s.io" || gv.Group == "apiregistration.k8s.io" {
				continue // not in client-go's scheme
			}
			obj, err := scheme.Scheme.New(gv.WithKind(kind))
			if err != nil {
				t.Errorf("%s %s: not in k8s.io/api: %v", v, kind, err)
				continue
			}
			if l, ok := obj.(lifecycle); ok {
				if major, minor := l.APILifecycleRemoved(); major == 1 && minor <= servingMinor {
					t.Errorf("%s %s: k8s.io/api says removed in %d.%d", v, kind, major, minor)
				}
			}
		}
	}
}

// clusterScopedTargets are the kinds chg-deprecated-apis targets that the API server serves
// cluster-scoped (its discovery, kube-apiserver 1.37 with every API enabled), or served so when
// it served them (removedKinds); every other target is namespaced.
var clusterScopedTargets = map[string]bool{
	"PodSecurityPolicy": true, "IngressClass": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"StorageClass": true, "CSIDriver": true, "MutatingWebhookConfiguration": true,
	"ValidatingWebhookConfiguration": true, "CustomResourceDefinition": true, "APIService": true,
	"PriorityClass": true, "CertificateSigningRequest": true, "RuntimeClass": true, "FlowSchema": true,
	"PriorityLevelConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true, "VolumeAttributesClass": true, "ServiceCIDR": true,
	"ClusterTrustBundle": true, "IPAddress": true, "CSINode": true, "VolumeAttachment": true,
	"TokenReview": true, "SelfSubjectReview": true, "SubjectAccessReview": true,
	"SelfSubjectAccessReview": true, "SelfSubjectRulesReview": true, "MutatingAdmissionPolicy": true,
	"MutatingAdmissionPolicyBinding": true, "DeviceClass": true, "ResourceSlice": true,
	"DeviceTaintRule": true, "StorageVersionMigration": true,
	// Kinds served under no version any more, with the scope they had.
	"AuditSink": true, "InitializerConfiguration": true, "ClusterCIDR": true, "ResourceClass": true,
	"ThirdPartyResource": true,
}

// clusterScopedAddOns are the add-on kinds of addOnServed whose CRDs are cluster-scoped
// (GatewayClass, Cilium's and Calico's cluster-wide policies, the Network Policy API's admin
// policies: inventory.Kinds); the others are
// namespaced.
var clusterScopedAddOns = map[schema.GroupKind]bool{
	{Group: gatewayGroup, Kind: "GatewayClass"}:                         true,
	{Group: ciliumGroup, Kind: "CiliumClusterwideNetworkPolicy"}:        true,
	{Group: calicoAPIServerGroup, Kind: "GlobalNetworkPolicy"}:          true,
	{Group: "crd." + calicoAPIServerGroup, Kind: "GlobalNetworkPolicy"}: true,
	{Group: engine.AdminNetworkPolicyGroup, Kind: adminPolicyKind}:      true,
	{Group: engine.AdminNetworkPolicyGroup, Kind: baselinePolicyKind}:   true,
	{Group: engine.AdminNetworkPolicyGroup, Kind: clusterPolicyKind}:    true,
}

// Scan reads every kind the check targets with the scope the API server gives it: a namespace
// on a cluster-scoped object's manifest is dropped, and a namespaced object without one goes to
// the namespace scan is told. Otherwise a namespace's exception covers a cluster-scoped
// object's finding (a ServiceCIDR written with namespace: shop), or cannot cover its own
// namespaced object's (a ResourceClaimTemplate applied with -n shop).
func TestTargetsAreReadWithTheirScope(t *testing.T) {
	type target struct{ apiVersion, kind string }
	var targets []target
	for _, kind := range chgDeprecatedApis.Targets {
		switch served := servedAPIs[kind]; {
		case len(served) > 0:
			targets = append(targets, target{served[0], kind})
		case removedKinds[kind].versions != nil:
			targets = append(targets, target{removedKinds[kind].versions[0], kind}) // served under no version any more
		}
		for gk, v := range addOnServed {
			if gk.Kind == kind {
				targets = append(targets, target{gk.Group + "/" + v.served[0], kind})
			}
		}
	}
	for _, tg := range targets {
		apiVersion, kind := tg.apiVersion, tg.kind
		clusterScoped := clusterScopedTargets[kind] || clusterScopedAddOns[schema.FromAPIVersionAndKind(apiVersion, kind).GroupKind()]
		doc := fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: x, namespace: shop}\n", apiVersion, kind)
		objs, errs := manifest.Decode("scope.yaml", []byte(doc))
		if len(errs) > 0 || len(objs) != 1 {
			t.Errorf("%s %s: %d objects, errors %v", apiVersion, kind, len(objs), errs)
			continue
		}
		if got := objs[0].Namespace; clusterScoped && got != "" {
			t.Errorf("%s %s is cluster-scoped, but scan keeps the manifest's namespace %q", apiVersion, kind, got)
		}
		doc = fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: x}\n", apiVersion, kind)
		objs, errs = manifest.Decode("scope.yaml", []byte(doc))
		if len(errs) > 0 || len(objs) != 1 {
			t.Errorf("%s %s: %d objects, errors %v", apiVersion, kind, len(objs), errs)
			continue
		}
		manifest.DeployToNamespace(objs, "shop")
		if got, want := objs[0].Namespace, map[bool]string{true: "", false: "shop"}[clusterScoped]; got != want {
			t.Errorf("%s %s deployed with -n shop: scan puts it in namespace %q, the API server in %q", apiVersion, kind, got, want)
		}
	}
}

// A manifest of a kind Kubernetes once served and now serves under no version fails to apply
// ("no matches for kind ... in version ...") as surely as one of a removed version: it fails,
// whatever version it names. Before, only PodSecurityPolicy was judged so: a PodPreset or a
// ResourceClass was no target of the check, got no result at all, and CC8.1 and CC7.1 passed on
// manifests that no longer apply. A kind of the same name in another group (a PodPreset custom
// resource of redhatcop.redhat.io) is a custom resource and passes.
func TestRemovedKindsFail(t *testing.T) {
	for _, tc := range []struct {
		apiVersion, kind, namespace, message string
		want                                 engine.Status
	}{
		{"settings.k8s.io/v1alpha1", "PodPreset", "shop", "settings.k8s.io/v1alpha1 PodPreset is not served by Kubernetes 1.37, which serves no version of PodPreset", engine.StatusFail},
		{"auditregistration.k8s.io/v1alpha1", "AuditSink", "", "serves no version of AuditSink", engine.StatusFail},
		{"networking.k8s.io/v1alpha1", "ClusterCIDR", "", "serves no version of ClusterCIDR", engine.StatusFail},
		{"admissionregistration.k8s.io/v1alpha1", "InitializerConfiguration", "", "use admissionregistration.k8s.io/v1 MutatingWebhookConfiguration", engine.StatusFail},
		{"resource.k8s.io/v1alpha2", "ResourceClass", "", "use resource.k8s.io/v1 DeviceClass", engine.StatusFail},
		{"resource.k8s.io/v1alpha2", "ResourceClaimParameters", "shop", "serves no version of ResourceClaimParameters", engine.StatusFail},
		{"resource.k8s.io/v1alpha2", "ResourceClassParameters", "shop", "serves no version of ResourceClassParameters", engine.StatusFail},
		{"resource.k8s.io/v1alpha3", "PodSchedulingContext", "shop", "serves no version of PodSchedulingContext", engine.StatusFail},
		{"resource.k8s.io/v1alpha1", "PodScheduling", "shop", "serves no version of PodScheduling", engine.StatusFail},
		{"policy/v1beta1", "PodSecurityPolicy", "", "use Pod Security Admission", engine.StatusFail},
		{"batch/v2alpha1", "ScheduledJob", "shop", "use batch/v1 CronJob", engine.StatusFail},
		{"extensions/v1beta1", "ThirdPartyResource", "", "use apiextensions.k8s.io/v1 CustomResourceDefinition", engine.StatusFail},
		{"redhatcop.redhat.io/v1alpha1", "PodPreset", "shop", "", engine.StatusPass},
	} {
		if status, msg, ok := judgeAPIVersion(t, tc.apiVersion, tc.kind, tc.namespace); ok &&
			(status != tc.want || !strings.Contains(msg, tc.message)) {
			t.Errorf("%s %s: %s %q, want %s saying %q", tc.apiVersion, tc.kind, status, msg, tc.want, tc.message)
		}
	}
}

// TestRemovedKindsAreGone holds removedKinds to k8s.io/api (v0.37.2, Kubernetes 1.37): no version
// of its kinds is in it, in the groups they were served in (a kind k8s.io/api has again belongs
// in servedAPIs, with its removed versions in removedAPIs), and each kind is targeted, served
// under no version (servedAPIs), and not in removedAPIs' replacements as a kind to use.
func TestRemovedKindsAreGone(t *testing.T) {
	s := lifecycleScheme(t)
	for gvk := range s.AllKnownTypes() {
		rk, ok := removedKinds[gvk.Kind]
		if !ok {
			continue
		}
		for _, v := range rk.versions {
			if apiGroup(v) == gvk.Group {
				t.Errorf("%s %s: in removedKinds, but k8s.io/api has it", gvk.GroupVersion(), gvk.Kind)
			}
		}
	}
	for kind, rk := range removedKinds {
		if served, ok := servedAPIs[kind]; !ok || len(served) > 0 {
			t.Errorf("%s: in removedKinds, but servedAPIs gives it %q", kind, served)
		}
		if !slices.Contains(chgDeprecatedApis.Targets, kind) {
			t.Errorf("%s: in removedKinds but not targeted", kind)
		}
		if len(rk.versions) == 0 || rk.replacement == "" {
			t.Errorf("%s: removedKinds names no version or no replacement", kind)
		}
	}
	for kind, served := range servedAPIs {
		if _, ok := removedKinds[kind]; len(served) == 0 && !ok {
			t.Errorf("%s: served under no version, but not in removedKinds (nothing to name as its replacement)", kind)
		}
	}
}

// judgeAPIVersion runs chg-deprecated-apis on one object of apiVersion and kind in namespace
// ("": cluster-scoped) and returns its result; ok is false, and the test fails, unless the check
// gave exactly one.
func judgeAPIVersion(t *testing.T, apiVersion, kind, namespace string) (status engine.Status, message string, ok bool) {
	t.Helper()
	meta := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: namespace}}
	obj := engine.NewObject(meta, apiVersion, kind)
	plan := engine.Compile([]*engine.Check{chgDeprecatedApis}, nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{obj}, false), nil, engine.Options{KeepPassing: true})
	var got []string
	for _, r := range ev.Results {
		if r.Check.ID == chgDeprecatedApis.ID {
			got = append(got, r.Status.String()+" "+r.Message)
			status, message = r.Status, r.Message
		}
	}
	if len(got) != 1 {
		t.Errorf("%s %s: want one result, got %q", apiVersion, kind, got)
		return status, message, false
	}
	return status, message, true
}

// TestAddOnDeprecatedVersionsFollowTheGatewayAPI holds addOnServed's Gateway API kinds to the
// CRDs of sigs.k8s.io/gateway-api at testenv.GatewayAPIVersion (the module, from the Go module
// cache): every version either channel's CRD serves is served, and a served version is
// deprecated (addOnVersions.deprecated, what chg-deprecated-apis fails) exactly when the CRD marks
// it deprecated, in the release deprecated names or later.
func TestAddOnDeprecatedVersionsFollowTheGatewayAPI(t *testing.T) {
	mod, err := testenv.GatewayAPIModule(testenv.GatewayAPIVersion)
	if err != nil {
		t.Fatal(err)
	}
	type crd struct {
		Spec struct {
			Group    string
			Names    struct{ Kind string }
			Versions []struct {
				Name               string
				Served, Deprecated bool
			}
		}
	}
	deprecatedIn := map[schema.GroupVersionKind]bool{}
	for _, channel := range []string{"standard", "experimental"} {
		files, err := filepath.Glob(filepath.Join(mod, "config", "crd", channel, gatewayGroup+"_*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no CRDs of the %s channel: %v", channel, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c crd
			if err := sigsyaml.Unmarshal(data, &c); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			v, known := addOnServed[schema.GroupKind{Group: c.Spec.Group, Kind: c.Spec.Names.Kind}]
			if !known {
				continue
			}
			for _, ver := range c.Spec.Versions {
				if !ver.Served {
					continue
				}
				if !slices.Contains(v.served, ver.Name) {
					t.Errorf("%s %s/%s: served by the %s channel but not in addOnServed", c.Spec.Names.Kind, c.Spec.Group, ver.Name, channel)
				}
				gvk := schema.GroupVersionKind{Group: c.Spec.Group, Version: ver.Name, Kind: c.Spec.Names.Kind}
				deprecatedIn[gvk] = deprecatedIn[gvk] || ver.Deprecated
				if since := v.deprecated[ver.Name]; (since != "") != ver.Deprecated {
					t.Errorf("%s %s/%s: the %s channel's CRD says deprecated %v, addOnServed says %q", c.Spec.Names.Kind, c.Spec.Group, ver.Name, channel, ver.Deprecated, since)
				} else if since > testenv.GatewayAPIVersion {
					t.Errorf("%s %s/%s: deprecated since %s, after the release read (%s)", c.Spec.Names.Kind, c.Spec.Group, ver.Name, since, testenv.GatewayAPIVersion)
				}
			}
		}
	}
	for gk, v := range addOnServed {
		for ver := range v.deprecated {
			if gvk := gk.WithVersion(ver); !deprecatedIn[gvk] {
				t.Errorf("%s: deprecated in addOnServed, but no channel's CRD serves it deprecated", gvk)
			}
		}
	}
}
