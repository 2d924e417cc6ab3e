package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrContainersNotJudged is the error of a custom resource that runs containers (an Argo
// Rollout's, an OpenKruise CloneSet's or a Knative Service's pod template, a KEDA ScaledJob's
// job template, a RayService's worker groups, an Argo Workflow's templates, a Tekton Task's
// steps): its controller makes their pods as it decides,
// and no check reads its kind, so a scan can neither judge nor pass them. Read without an
// error, a repository of Rollouts scanned as 0 resources evaluated and exited 0, privileged
// containers and all. The object is still read (an owner reference may name it); the error
// makes the scan exit 3 and says where the containers are. In the cluster the operator judges
// the Pods (or ReplicaSets) such a controller makes.
var ErrContainersNotJudged = errors.New("runs containers that scan does not judge")

// policyGroups are API groups of policy engines, whose objects describe containers (a Kyverno
// pattern's spec.containers) and run none, but for what they generate or patch into objects
// (generatedContainersIn).
var policyGroups = []string{"kyverno.io", "gatekeeper.sh", "kubewarden.io", "wgpolicyk8s.io"}

// customContainers returns the error of an object of a custom resource's kind that runs
// containers (ErrContainersNotJudged), or nil. object is what decodeTyped read of js, nil or
// only its metadata when it kept only that.
func customContainers(apiVersion, kind, name, namespace string, js []byte, object map[string]any) error {
	policy := policyResource(apiVersion)
	if !customResource(apiVersion, kind) && !policy {
		return nil
	}
	if at := argoPodTemplateRef(apiVersion, kind, js, object); at != "" {
		return &ContainersError{APIVersion: apiVersion, Kind: kind, Name: name, Namespace: namespace, At: at}
	}
	// Every container is in a list of (init or ephemeral) containers or has an image; a key
	// written with an escape (imag\u0065) decodes as one.
	if !bytes.Contains(js, []byte("ontainers")) && !bytes.Contains(js, []byte("image")) && !bytes.Contains(js, []byte(`\u`)) {
		return nil
	}
	if _, whole := object["spec"]; !whole {
		var err error
		if object, err = unmarshalGeneric(js); err != nil {
			return nil // decodeTyped read it; nothing more to say
		}
	}
	var at string
	for _, k := range sortedKeys(object) {
		if k == "apiVersion" || k == "kind" || k == "metadata" {
			continue
		}
		if policy {
			at = generatedContainersIn(object[k], k)
		} else {
			at = containersIn(object[k], k)
		}
		if at != "" {
			break
		}
	}
	if at == "" {
		return nil
	}
	return &ContainersError{APIVersion: apiVersion, Kind: kind, Name: name, Namespace: namespace, At: at}
}

// searchesWhole reports whether customContainers decodes the whole of an object of apiVersion
// and kind whose JSON is js when it is given only the object's metadata: a custom resource's or
// a policy engine's object whose JSON may hold a container, or an Argo Rollout's that may
// reference a PodTemplate.
func searchesWhole(apiVersion, kind string, js []byte) bool {
	if !customResource(apiVersion, kind) && !policyResource(apiVersion) {
		return false
	}
	return bytes.Contains(js, []byte("ontainers")) || bytes.Contains(js, []byte("image")) || bytes.Contains(js, []byte(`\u`)) ||
		argoRollout(apiVersion, kind) && bytes.Contains(js, []byte("PodTemplate"))
}

// textMayHoldContainers reports whether the JSON a YAML document's text (body) converts to may
// hold what customContainers looks for: "ontainers", "image" or an escape (\u). The block
// reader copies the text of keys and values as it is, and writes an escape only for '"', '\\' and
// a control character (YAML's printable text allows tabs alone); a letter comes out of an escape
// only where the text has one (\x69, \u0069, "\" and a line break inside double quotes), which
// a backslash in the text says. Argo's PodTemplate reference (argoPodTemplateRef) is not
// looked for: a Rollout is always converted whole (dropper).
func textMayHoldContainers(body []byte) bool {
	return bytes.IndexByte(body, '\\') >= 0 || bytes.Contains(body, []byte("ontainers")) || bytes.Contains(body, []byte("image"))
}

// ContainersError is ErrContainersNotJudged for one object.
type ContainersError struct {
	APIVersion, Kind, Name string
	// Namespace is the object's, as written ("" for none): a scan under a profile that does
	// not assess it has nothing to judge there.
	Namespace string
	// At is where its first container is (spec.template.spec.containers).
	At string
}

func (e *ContainersError) Error() string {
	return fmt.Sprintf("%s %s %v (%s): its controller, not Kubernetes, makes their pods as it decides, and no check reads a %s, "+
		"so they are neither judged nor passed; in the cluster the operator judges the Pods it makes (--skip-kinds %s leaves them to it)",
		e.Kind, e.Name, ErrContainersNotJudged, e.At, e.Kind, e.QualifiedKind())
}

// Group is the API group of the object's apiVersion (argoproj.io).
func (e *ContainersError) Group() string {
	if i := strings.LastIndexByte(e.APIVersion, '/'); i >= 0 {
		return e.APIVersion[:i]
	}
	return ""
}

// QualifiedKind is the object's kind and API group, as --skip-kinds takes them
// (Rollout.argoproj.io).
func (e *ContainersError) QualifiedKind() string { return e.Kind + "." + e.Group() }

// Is makes errors.Is(err, ErrContainersNotJudged) hold.
func (e *ContainersError) Is(target error) bool { return target == ErrContainersNotJudged }

// customResource reports whether apiVersion and kind are a custom resource's that may run
// containers: not Kubernetes' own in a group without a dot (apps or batch, whose kinds are read
// typed, or the core group, whose PodTemplate runs nothing), not a ClusterServiceVersion
// (expanded into what OLM installs) and not a policy engine's. A group under k8s.io may be a
// custom resource's too: the API server lets a CRD into one with an api-approved.kubernetes.io
// annotation (the Kubeflow Spark operator's sparkoperator.k8s.io), and Kubernetes' own kinds
// there hold no containers.
func customResource(apiVersion, kind string) bool {
	group := ""
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		group = apiVersion[:i]
	}
	if !strings.Contains(group, ".") || kubernetesOwnGroups[group] || isCSV(apiVersion, kind) {
		return false
	}
	return !policyResource(apiVersion)
}

// kubernetesOwnGroups are the API groups under k8s.io that Kubernetes itself serves (k8s.io/api,
// apiextensions, kube-aggregator, metrics): their kinds hold no containers, and a
// CustomResourceDefinition's JSON, up to megabytes, is not kept to be searched.
var kubernetesOwnGroups = map[string]bool{
	"admission.k8s.io": true, "admissionregistration.k8s.io": true, "apidiscovery.k8s.io": true, "apiextensions.k8s.io": true,
	"apiregistration.k8s.io": true, "authentication.k8s.io": true, "authorization.k8s.io": true, "certificates.k8s.io": true,
	"coordination.k8s.io": true, "discovery.k8s.io": true, "events.k8s.io": true, "flowcontrol.apiserver.k8s.io": true,
	"imagepolicy.k8s.io": true, "internal.apiserver.k8s.io": true, "metrics.k8s.io": true, "networking.k8s.io": true,
	"node.k8s.io": true, "rbac.authorization.k8s.io": true, "resource.k8s.io": true, "scheduling.k8s.io": true,
	"storage.k8s.io": true, "storagemigration.k8s.io": true,
}

// policyResource reports whether apiVersion is of a policy engine's group (policyGroups).
func policyResource(apiVersion string) bool {
	group := ""
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		group = apiVersion[:i]
	}
	for _, g := range policyGroups {
		if group == g || strings.HasSuffix(group, "."+g) {
			return true
		}
	}
	return false
}

// generatedContainersIn is containersIn for a policy engine's object, below a key generate or
// mutate only (a Kyverno rule's): Kyverno creates a generate rule's data (a DaemonSet in every
// namespace) and patches a mutate rule's into the objects it matches (a sidecar into every
// Pod), so their containers run, while a validate rule's pattern only describes them.
func generatedContainersIn(v any, path string) string {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			var at string
			if k == "generate" || k == "mutate" {
				at = containersIn(v[k], path+"."+k)
			} else {
				at = generatedContainersIn(v[k], path+"."+k)
			}
			if at != "" {
				return at
			}
		}
	case []any:
		for i, e := range v {
			if at := generatedContainersIn(e, path+"["+strconv.Itoa(i)+"]"); at != "" {
				return at
			}
		}
	}
	return ""
}

// containersIn returns the path, below path, of the first container in v, or "": a list of
// containers (isContainer) under the key containers of a pod spec (a map under a key spec:
// template.spec, podTemplate.spec) or, below the object's spec, under the key initContainers or
// ephemeralContainers (a SparkApplication's executor's), or a list of maps with an image, below
// the object's spec, under the key steps or sidecars (a Tekton Task's), or a map with an image
// under the key container or script (an Argo Workflow's template). A list elsewhere describes
// containers and runs none (GKE Autopilot's WorkloadAllowlist, matchingCriteria.containers).
//
// A pod template's container needs a name, not an image: Kubernetes leaves a template's image
// to "higher level config management" (core/v1 Container.Image), and operators fill in their
// own, merging a container of the same name (ECK's podTemplate, whose documented sysctl init
// container runs privileged without an image; Prometheus' spec.containers, which patches the
// prometheus container the Prometheus Operator makes).
func containersIn(v any, path string) string {
	switch v := v.(type) {
	case map[string]any:
		inSpec := path == "spec" || strings.HasPrefix(path, "spec.") || strings.HasPrefix(path, "spec[")
		podSpec := path == "spec" || strings.HasSuffix(path, ".spec")
		for _, k := range []string{"containers", "initContainers", "ephemeralContainers"} {
			if k == "containers" && !podSpec || !inSpec {
				continue
			}
			if list, ok := v[k].([]any); ok && slices.ContainsFunc(list, isContainer) {
				return path + "." + k
			}
		}
		for _, k := range []string{"steps", "sidecars"} {
			if list, ok := v[k].([]any); ok && inSpec && slices.ContainsFunc(list, hasImage) {
				return path + "." + k
			}
		}
		for _, k := range []string{"container", "script"} {
			if inSpec && hasImage(v[k]) {
				return path + "." + k
			}
		}
		for _, k := range sortedKeys(v) {
			if at := containersIn(v[k], path+"."+k); at != "" {
				return at
			}
		}
	case []any:
		for i, e := range v {
			if at := containersIn(e, path+"["+strconv.Itoa(i)+"]"); at != "" {
				return at
			}
		}
	}
	return ""
}

// isContainer reports whether v, an item of a pod spec's list of containers, is one: a map with
// a string under the key image, or under the key name and something more. A name alone changes
// nothing of a container an operator makes, and names one in a request about a Pod's
// containers (OpenKruise's ContainerRecreateRequest restarts it).
func isContainer(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, named := m["name"].(string)
	return named && len(m) > 1 || hasImage(m)
}

// hasImage reports whether v is a map with a string under the key image: a container.
func hasImage(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m["image"].(string)
	return ok
}

// argoPodTemplateRef says where an Argo Rollout whose spec.workloadRef names a PodTemplate takes
// its containers from ("spec.workloadRef: PodTemplate NAME's template"), or "". Argo Rollouts
// v1.10.2 runs the template of the PodTemplate (core group) of the Rollout's namespace that the
// reference names, as it runs a Deployment's or a ReplicaSet's (rollout/templateref.go
// infoByGroupKind). scan judges a Deployment's and a ReplicaSet's template on that object, but
// no check reads a PodTemplate, which runs nothing of its own: the containers the Rollout runs
// are neither judged nor passed, whether or not the PodTemplate is among the objects read.
func argoPodTemplateRef(apiVersion, kind string, js []byte, object map[string]any) string {
	if !argoRollout(apiVersion, kind) || !bytes.Contains(js, []byte("PodTemplate")) && !bytes.Contains(js, []byte(`\u`)) {
		return ""
	}
	if _, whole := object["spec"]; !whole {
		var err error
		if object, err = unmarshalGeneric(js); err != nil {
			return ""
		}
	}
	spec, _ := object["spec"].(map[string]any)
	ref, _ := spec["workloadRef"].(map[string]any)
	refAPIVersion, _ := ref["apiVersion"].(string)
	refKind, _ := ref["kind"].(string)
	refName, _ := ref["name"].(string)
	// The core group's apiVersion has no group: v1 (schema.FromAPIVersionAndKind).
	if refKind != "PodTemplate" || strings.Contains(refAPIVersion, "/") {
		return ""
	}
	return "spec.workloadRef: PodTemplate " + refName + "'s template"
}

// argoRollout reports whether apiVersion and kind are an Argo Rollout's.
func argoRollout(apiVersion, kind string) bool {
	return kind == "Rollout" && strings.HasPrefix(apiVersion, "argoproj.io/")
}
