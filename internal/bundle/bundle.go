// Package bundle generates the OLM bundle (bundle/manifests, bundle/metadata) from the
// rendered config/default, the samples and the CRDs, the way operator-sdk would: the
// Deployment and RBAC become the ClusterServiceVersion's install strategy, the CRDs are owned
// with descriptors taken from their schemas, and the samples become alm-examples.
package bundle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/operator-framework/api/pkg/lib/version"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	semver "github.com/blang/semver/v4"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Package is the OLM package name; Channel the only channel.
const (
	Package = "soc2-operator"
	Channel = "alpha"
)

// Options say what to generate.
type Options struct {
	// Version is the operator's semantic version, without "v".
	Version string
	// Image is the manager image reference the CSV installs.
	Image string
	// Rendered is `kustomize build config/enforcement`: the default install with the
	// admission webhook. OLM provides the webhook's certificate and Service itself.
	Rendered []byte
	// Samples are the sample files, each one object (alm-examples).
	Samples [][]byte
	// Description is the CSV's long description (Markdown); Icon an SVG.
	Description string
	Icon        []byte
}

// File is one generated file, relative to the bundle directory.
type File struct {
	Path string
	Data []byte
}

// supportedKinds are the objects OLM installs from a bundle besides the CSV and CRDs.
var supportedKinds = map[string]bool{
	"Service": true, "PodDisruptionBudget": true, "PriorityClass": true, "NetworkPolicy": true,
	"ClusterRole": true, "Role": true, "ConfigMap": true, "ServiceAccount": false,
}

// Generate returns the bundle's files.
func Generate(o Options) ([]File, error) {
	objs, err := splitObjects(o.Rendered)
	if err != nil {
		return nil, err
	}
	ver, err := semver.Parse(o.Version)
	if err != nil {
		return nil, fmt.Errorf("--version %q: %w", o.Version, err)
	}
	csv := baseCSV(o, ver)
	strategy := operatorsv1alpha1.StrategyDetailsDeployment{}
	var files []File
	var crds []*apiextensionsv1.CustomResourceDefinition
	var webhooks []operatorsv1alpha1.WebhookDescription
	var deployment string
	bindings := map[string]string{} // role kind/name -> service account

	webhookServices := map[string]bool{} // OLM creates the webhook's Service itself
	for _, u := range objs {
		switch u.GetKind() {
		case "ValidatingWebhookConfiguration":
			cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			if err := fromUnstructured(u, cfg); err != nil {
				return nil, err
			}
			for _, w := range cfg.Webhooks {
				if svc := w.ClientConfig.Service; svc != nil {
					webhookServices[svc.Name] = true
				}
			}
		case "RoleBinding", "ClusterRoleBinding":
			var b rbacv1.RoleBinding
			if err := fromUnstructured(u, &b); err != nil {
				return nil, err
			}
			for _, s := range b.Subjects {
				if s.Kind == "ServiceAccount" {
					bindings[b.RoleRef.Kind+"/"+b.RoleRef.Name] = s.Name
				}
			}
		}
	}

	for _, u := range objs {
		kind, name := u.GetKind(), u.GetName()
		switch kind {
		case "CustomResourceDefinition":
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := fromUnstructured(u, crd); err != nil {
				return nil, err
			}
			crds = append(crds, crd)
			data, err := marshal(u.Object)
			if err != nil {
				return nil, err
			}
			files = append(files, File{Path: "manifests/" + crd.Spec.Group + "_" + crd.Spec.Names.Plural + ".yaml", Data: data})
		case "Deployment":
			d := &appsv1.Deployment{}
			if err := fromUnstructured(u, d); err != nil {
				return nil, err
			}
			for i := range d.Spec.Template.Spec.Containers {
				if d.Spec.Template.Spec.Containers[i].Name == "manager" {
					d.Spec.Template.Spec.Containers[i].Image = o.Image
				}
			}
			dropCertManagerVolume(&d.Spec.Template.Spec)
			deployment = name
			strategy.DeploymentSpecs = append(strategy.DeploymentSpecs, operatorsv1alpha1.StrategyDeploymentSpec{
				Name: name, Spec: d.Spec, Label: d.Labels,
			})
		case "ClusterRole", "Role":
			sa, bound := bindings[kind+"/"+name]
			if !bound {
				// A role for people (editor, viewer, metrics reader): shipped as is.
				if err := addObject(&files, u); err != nil {
					return nil, err
				}
				continue
			}
			r := &rbacv1.ClusterRole{}
			if err := fromUnstructured(u, r); err != nil {
				return nil, err
			}
			perm := operatorsv1alpha1.StrategyDeploymentPermissions{ServiceAccountName: sa, Rules: r.Rules}
			if kind == "Role" {
				strategy.Permissions = append(strategy.Permissions, perm)
			} else {
				strategy.ClusterPermissions = append(strategy.ClusterPermissions, perm)
			}
		case "ValidatingWebhookConfiguration":
			defs, err := webhookDefinitions(u)
			if err != nil {
				return nil, err
			}
			webhooks = append(webhooks, defs...)
		case "RoleBinding", "ClusterRoleBinding", "ServiceAccount", "Namespace", "ResourceQuota", "Issuer", "Certificate":
			// OLM creates the service account and the bindings from the install strategy,
			// installs into a namespace it is given, and issues the webhook's certificate; a
			// bundle cannot carry a quota.
		case "Service":
			if webhookServices[name] {
				continue
			}
			if err := addObject(&files, u); err != nil {
				return nil, err
			}
		default:
			if !supportedKinds[kind] {
				return nil, fmt.Errorf("%s %s: OLM bundles cannot carry this kind", kind, name)
			}
			if err := addObject(&files, u); err != nil {
				return nil, err
			}
		}
	}
	if len(strategy.DeploymentSpecs) == 0 {
		return nil, fmt.Errorf("the rendered manifests hold no Deployment")
	}
	mergePermissions(&strategy)
	for i := range webhooks {
		webhooks[i].DeploymentName = deployment
	}
	csv.Spec.WebhookDefinitions = webhooks
	csv.Spec.InstallStrategy = operatorsv1alpha1.NamedInstallStrategy{
		StrategyName: operatorsv1alpha1.InstallStrategyNameDeployment, StrategySpec: strategy,
	}
	csv.Spec.RelatedImages = []operatorsv1alpha1.RelatedImage{{Name: "manager", Image: o.Image}}
	csv.Annotations["containerImage"] = o.Image

	sort.Slice(crds, func(i, j int) bool { return crds[i].Spec.Names.Kind < crds[j].Spec.Names.Kind })
	for _, crd := range crds {
		csv.Spec.CustomResourceDefinitions.Owned = append(csv.Spec.CustomResourceDefinitions.Owned, ownedCRD(crd))
	}
	examples, err := almExamples(o.Samples)
	if err != nil {
		return nil, err
	}
	csv.Annotations["alm-examples"] = examples

	csvData, err := marshalCSV(csv)
	if err != nil {
		return nil, err
	}
	files = append(files, File{Path: "manifests/" + Package + ".clusterserviceversion.yaml", Data: csvData})
	files = append(files, File{Path: "metadata/annotations.yaml", Data: []byte(annotationsYAML())})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// Dockerfile is bundle.Dockerfile, whose labels match metadata/annotations.yaml.
func Dockerfile() string {
	var b strings.Builder
	b.WriteString("# Generated by `make bundle`. Builds the OLM bundle image: docker build -f bundle.Dockerfile -t <bundle-image> .\n")
	b.WriteString("FROM scratch\n\n")
	for _, kv := range annotations() {
		fmt.Fprintf(&b, "LABEL %s=%s\n", kv[0], kv[1])
	}
	b.WriteString("\nCOPY bundle/manifests /manifests/\nCOPY bundle/metadata /metadata/\n")
	return b.String()
}

func annotations() [][2]string {
	return [][2]string{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", Package},
		{"operators.operatorframework.io.bundle.channels.v1", Channel},
		{"operators.operatorframework.io.bundle.channel.default.v1", Channel},
	}
}

func annotationsYAML() string {
	var b strings.Builder
	b.WriteString("# Generated by `make bundle`.\nannotations:\n")
	for _, kv := range annotations() {
		fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
	}
	return b.String()
}

func baseCSV(o Options, ver semver.Version) *operatorsv1alpha1.ClusterServiceVersion {
	csv := &operatorsv1alpha1.ClusterServiceVersion{
		TypeMeta: metav1.TypeMeta{APIVersion: operatorsv1alpha1.SchemeGroupVersion.String(), Kind: operatorsv1alpha1.ClusterServiceVersionKind},
		ObjectMeta: metav1.ObjectMeta{
			Name: Package + ".v" + o.Version,
			Annotations: map[string]string{
				"capabilities": "Basic Install",
				"categories":   "Security",
				"description":  "Continuous SOC 2 compliance evidence for Kubernetes workloads and access rules",
				"repository":   "https://github.com/soc2-operator/soc2-operator",
				"support":      "soc2-operator maintainers",
				"operatorframework.io/suggested-namespace":         engine.DefaultAdminNamespace,
				"features.operators.openshift.io/disconnected":     "true",
				"features.operators.openshift.io/fips-compliant":   "false",
				"features.operators.openshift.io/proxy-aware":      "false",
				"features.operators.openshift.io/tls-profiles":     "false",
				"features.operators.openshift.io/token-auth-aws":   "false",
				"features.operators.openshift.io/token-auth-azure": "false",
				"features.operators.openshift.io/token-auth-gcp":   "false",
				"features.operators.openshift.io/cnf":              "false",
				"features.operators.openshift.io/cni":              "false",
				"features.operators.openshift.io/csi":              "false",
				"operators.operatorframework.io/builder":           "soc2-operator-bundlegen",
				"operators.operatorframework.io/project_layout":    "go.kubebuilder.io/v4",
			},
		},
		Spec: operatorsv1alpha1.ClusterServiceVersionSpec{
			DisplayName:    "SOC 2 Operator",
			Description:    strings.TrimSpace(o.Description),
			Version:        version.OperatorVersion{Version: ver},
			Maturity:       Channel,
			MinKubeVersion: "1.30.0",
			Keywords:       []string{"soc2", "compliance", "security", "audit", "policy", "rbac", "cis"},
			Provider:       operatorsv1alpha1.AppLink{Name: "soc2-operator project", URL: "https://github.com/soc2-operator/soc2-operator"},
			Maintainers:    []operatorsv1alpha1.Maintainer{{Name: "soc2-operator maintainers", Email: "maintainers@soc2-operator.io"}},
			Links: []operatorsv1alpha1.AppLink{
				{Name: "Source", URL: "https://github.com/soc2-operator/soc2-operator"},
				{Name: "Documentation", URL: "https://github.com/soc2-operator/soc2-operator#readme"},
			},
			Icon: []operatorsv1alpha1.Icon{{Data: base64.StdEncoding.EncodeToString(o.Icon), MediaType: "image/svg+xml"}},
			// The operator watches every namespace: it supports only the AllNamespaces mode.
			InstallModes: []operatorsv1alpha1.InstallMode{
				{Type: operatorsv1alpha1.InstallModeTypeOwnNamespace, Supported: false},
				{Type: operatorsv1alpha1.InstallModeTypeSingleNamespace, Supported: false},
				{Type: operatorsv1alpha1.InstallModeTypeMultiNamespace, Supported: false},
				{Type: operatorsv1alpha1.InstallModeTypeAllNamespaces, Supported: true},
			},
		},
	}
	return csv
}

// webhookCertVolume is the volume config/enforcement mounts cert-manager's certificate from;
// OLM mounts its own certificate at the same path.
const webhookCertVolume = "webhook-cert"

func dropCertManagerVolume(spec *corev1.PodSpec) {
	vols := spec.Volumes[:0]
	for _, v := range spec.Volumes {
		if v.Name != webhookCertVolume {
			vols = append(vols, v)
		}
	}
	spec.Volumes = vols
	for i := range spec.Containers {
		c := &spec.Containers[i]
		mounts := c.VolumeMounts[:0]
		for _, m := range c.VolumeMounts {
			if m.Name != webhookCertVolume {
				mounts = append(mounts, m)
			}
		}
		c.VolumeMounts = mounts
	}
}

// webhookDefinitions turns a ValidatingWebhookConfiguration into the CSV's webhook
// definitions; OLM creates the configuration, the Service and the certificate from them.
func webhookDefinitions(u *unstructured.Unstructured) ([]operatorsv1alpha1.WebhookDescription, error) {
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := fromUnstructured(u, cfg); err != nil {
		return nil, err
	}
	target := intstr.FromInt32(9443)
	var out []operatorsv1alpha1.WebhookDescription
	for _, w := range cfg.Webhooks {
		if w.ClientConfig.Service == nil {
			return nil, fmt.Errorf("webhook %s: no service", w.Name)
		}
		out = append(out, operatorsv1alpha1.WebhookDescription{
			GenerateName:            w.Name,
			Type:                    operatorsv1alpha1.ValidatingAdmissionWebhook,
			ContainerPort:           443,
			TargetPort:              &target,
			Rules:                   w.Rules,
			FailurePolicy:           w.FailurePolicy,
			MatchPolicy:             w.MatchPolicy,
			ObjectSelector:          w.ObjectSelector,
			SideEffects:             w.SideEffects,
			TimeoutSeconds:          w.TimeoutSeconds,
			AdmissionReviewVersions: w.AdmissionReviewVersions,
			WebhookPath:             w.ClientConfig.Service.Path,
		})
	}
	return out, nil
}

// ownedCRD describes a CRD for the CSV, with a descriptor for every top-level spec and status
// field, described as the schema describes it.
func ownedCRD(crd *apiextensionsv1.CustomResourceDefinition) operatorsv1alpha1.CRDDescription {
	v := crd.Spec.Versions[0]
	for _, cand := range crd.Spec.Versions {
		if cand.Storage {
			v = cand
		}
	}
	desc := operatorsv1alpha1.CRDDescription{
		Name: crd.Name, Version: v.Name, Kind: crd.Spec.Names.Kind,
		DisplayName: displayName(crd.Spec.Names.Kind),
	}
	if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
		return desc
	}
	root := v.Schema.OpenAPIV3Schema
	desc.Description = firstSentence(root.Description)
	if crd.Spec.Names.Kind == "ComplianceProfile" {
		desc.Resources = []operatorsv1alpha1.APIResourceReference{{Name: "compliancereports", Kind: "ComplianceReport", Version: v.Name}}
	}
	if spec, ok := root.Properties["spec"]; ok {
		for _, name := range sortedProps(spec.Properties) {
			p := spec.Properties[name]
			desc.SpecDescriptors = append(desc.SpecDescriptors, operatorsv1alpha1.SpecDescriptor{
				Path: name, DisplayName: displayName(name), Description: firstSentence(p.Description),
				XDescriptors: specXDescriptors(name, p),
			})
		}
	}
	if status, ok := root.Properties["status"]; ok {
		for _, name := range sortedProps(status.Properties) {
			p := status.Properties[name]
			sd := operatorsv1alpha1.StatusDescriptor{Path: name, DisplayName: displayName(name), Description: firstSentence(p.Description)}
			if name == "conditions" {
				sd.XDescriptors = []string{"urn:alm:descriptor:io.kubernetes.conditions"}
			}
			desc.StatusDescriptors = append(desc.StatusDescriptors, sd)
		}
	}
	return desc
}

func specXDescriptors(name string, p apiextensionsv1.JSONSchemaProps) []string {
	switch {
	case name == "namespaceSelector":
		return []string{"urn:alm:descriptor:com.tectonic.ui:selector:core:v1:Namespace"}
	case p.Type == "boolean":
		return []string{"urn:alm:descriptor:com.tectonic.ui:booleanSwitch"}
	case p.Type == "integer":
		return []string{"urn:alm:descriptor:com.tectonic.ui:number"}
	case p.Type == "string":
		return []string{"urn:alm:descriptor:com.tectonic.ui:text"}
	}
	return nil
}

func sortedProps(m map[string]apiextensionsv1.JSONSchemaProps) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// displayName turns "evaluationInterval" into "Evaluation Interval".
func displayName(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i == 0 {
			b.WriteRune(unicode.ToUpper(r))
			continue
		}
		if unicode.IsUpper(r) && !unicode.IsUpper(rune(s[i-1])) {
			b.WriteRune(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// firstSentence is a schema description's first sentence, without the field name's prefix.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i+1]
	}
	return s
}

// mergePermissions keeps one entry per service account, rules in order.
func mergePermissions(s *operatorsv1alpha1.StrategyDetailsDeployment) {
	merge := func(in []operatorsv1alpha1.StrategyDeploymentPermissions) []operatorsv1alpha1.StrategyDeploymentPermissions {
		var out []operatorsv1alpha1.StrategyDeploymentPermissions
		idx := map[string]int{}
		for _, p := range in {
			if i, ok := idx[p.ServiceAccountName]; ok {
				out[i].Rules = append(out[i].Rules, p.Rules...)
				continue
			}
			idx[p.ServiceAccountName] = len(out)
			out = append(out, p)
		}
		return out
	}
	s.Permissions = merge(s.Permissions)
	s.ClusterPermissions = merge(s.ClusterPermissions)
}

// WrittenByOperator are the kinds only the operator creates: their samples show the shape in
// config/samples but are not offered as alm-examples, which the console turns into "Create"
// forms. operator-framework/api v0.45.0's CSV validator warns that an owned API has no example
// ("provided API should have an example annotation"); for these kinds that is intended.
var WrittenByOperator = map[string]bool{"ComplianceReport": true}

func almExamples(samples [][]byte) (string, error) {
	objs := []map[string]any{}
	for i, s := range samples {
		var m map[string]any
		if err := yaml.Unmarshal(s, &m); err != nil {
			return "", fmt.Errorf("sample %d: %w", i+1, err)
		}
		if kind, _ := m["kind"].(string); WrittenByOperator[kind] {
			continue
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "namespace")
		}
		objs = append(objs, m)
	}
	data, err := json.MarshalIndent(objs, "", "  ")
	return string(data), err
}

func addObject(files *[]File, u *unstructured.Unstructured) error {
	u.SetNamespace("")
	data, err := marshal(u.Object)
	if err != nil {
		return err
	}
	name := strings.ToLower(u.GetName() + "_" + u.GetObjectKind().GroupVersionKind().GroupVersion().String() + "_" + u.GetKind())
	name = strings.NewReplacer("/", "_", ".", "-").Replace(name)
	*files = append(*files, File{Path: "manifests/" + name + ".yaml", Data: data})
	return nil
}

func marshalCSV(csv *operatorsv1alpha1.ClusterServiceVersion) ([]byte, error) {
	data, err := json.Marshal(csv)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok {
		delete(spec, "cleanup")
	}
	return marshal(m)
}

// marshal writes YAML without the null creationTimestamps typed objects carry.
func marshal(m map[string]any) ([]byte, error) {
	prune(m)
	return yaml.Marshal(m)
}

func prune(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if x == nil && k == "creationTimestamp" {
				delete(t, k)
				continue
			}
			if mm, ok := x.(map[string]any); ok && len(mm) == 0 && (k == "resources" || k == "strategy") {
				delete(t, k)
				continue
			}
			prune(x)
		}
	case []any:
		for _, x := range t {
			prune(x)
		}
	}
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

func splitObjects(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if err.Error() == "EOF" {
				break
			}
			return nil, fmt.Errorf("reading the rendered manifests: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}

// Write replaces dir's manifests/ and metadata/ with files.
func Write(dir string, files []File) error {
	for _, sub := range []string{"manifests", "metadata"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
