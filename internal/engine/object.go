package engine

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// KubeObject is any Kubernetes object: a typed one from k8s.io/api, or an
// *unstructured.Unstructured for kinds the engine has no type for.
type KubeObject interface {
	metav1.Object
	runtime.Object
}

// KindWorkload is the pseudo-kind that stands for every workload kind in check targets,
// custom checks and exceptions.
const KindWorkload = "Workload"

// workloadKinds are the kinds that carry a pod template (or are a pod).
var workloadKinds = map[string]bool{
	"Pod": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"Job": true, "CronJob": true, "ReplicationController": true,
}

// IsWorkloadKind reports whether kind is one of the kinds KindWorkload stands for.
func IsWorkloadKind(kind string) bool { return workloadKinds[kind] }

// Object is one Kubernetes object as the engine sees it.
type Object struct {
	// APIVersion and Kind identify the type. They are given explicitly because objects read
	// from an informer cache carry no TypeMeta.
	APIVersion string
	Kind       string
	Namespace  string
	Name       string

	// Obj is the object itself.
	Obj KubeObject

	// Workload is set for workload kinds: the pod spec and what surrounds it.
	Workload *Workload

	// Source says where the object came from (a file and document for scan), if known.
	Source Source

	// Unserved says why the API server refuses to create the object for its apiVersion, one
	// Kubernetes no longer serves or never served for its kind (extensions/v1beta1
	// NetworkPolicy, rbac.authorization.k8s.io/v1beta1 Role); "" otherwise. scan sets it from
	// the checks' table of served versions. Such an object is judged (chg-deprecated-apis fails
	// it), but in a scan's inventory no other object's check reads it (Inventory.index).
	Unserved string

	// NamespaceDefaulted is true when the manifest set no namespace and scan filled in its
	// --namespace (as kubectl apply would): checks about the namespace itself cannot decide.
	NamespaceDefaulted bool

	// Withheld are fields of this object the evaluation lacks though the API server holds them,
	// beside those of Options.Withheld: the data of a ConfigMap larger than the operator's
	// informer cache keeps whole. A custom check that reads one is NotAssessed on the object.
	Withheld []WithheldField

	// Digest is what the built-in checks read of the whole object, computed from it when the
	// operator's informer cache received it and the object itself is not kept whole; nil for an
	// object read whole. Its type belongs to the checks that read it.
	Digest any

	// compacted is true for the compact form of a workload a Stream keeps (Stream.Compact).
	compacted bool

	// controllerRef is the object's controller reference when it names a built-in controller
	// (ControllerRef); whether it holds is the inventory's to decide (Inventory.Provenance).
	controllerRef *metav1.OwnerReference

	// unstructured is the object as JSON-like maps, made on demand for custom checks.
	unstructured map[string]any
}

// Labels are the object's labels.
func (o *Object) Labels() map[string]string { return o.Obj.GetLabels() }

// Annotations are the object's annotations.
func (o *Object) Annotations() map[string]string { return o.Obj.GetAnnotations() }

// IdentityKind is the kind that tells the object apart from objects of the same kind name in
// other API groups (see IdentityKind).
func (o *Object) IdentityKind() string { return IdentityKind(o.APIVersion, o.Kind) }

// Ref names the object in findings.
func (o *Object) Ref() ResourceRef {
	return ResourceRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// Source is where an object was read from.
type Source struct {
	// File is the path of the file ("" when the object came from the API server).
	File string
	// Document is the 1-based number of the YAML document in the file.
	Document int
	// Line is the line the document starts on.
	Line int
}

// String renders the source as file:line, or "" when unknown.
func (s Source) String() string {
	if s.File == "" {
		return ""
	}
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// ResourceRef names an object.
type ResourceRef struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

// IdentityKind is the kind that tells the referenced object apart from objects of the same kind
// name in other API groups (see IdentityKind).
func (r ResourceRef) IdentityKind() string { return IdentityKind(r.APIVersion, r.Kind) }

// String renders the reference as Kind/namespace/name.
func (r ResourceRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Workload is the pod spec of a workload object and what surrounds it.
type Workload struct {
	// PodSpec is the pod's spec, or the pod template's; nil in a compact workload
	// (CompactWorkload), whose Pod says what checks of other objects read of it.
	PodSpec *corev1.PodSpec
	// PodMeta is the pod's metadata, or the pod template's; nil in a compact workload
	// (CompactWorkload), which keeps only the labels (PodLabels).
	PodMeta *metav1.ObjectMeta
	// Replicas is the desired replica count of Deployments, StatefulSets, ReplicaSets and
	// ReplicationControllers (1 when unset); nil for other kinds.
	Replicas *int32
	// LongRunning is false for workloads whose pods run to completion: Jobs, CronJobs and Pods
	// none of whose regular containers the kubelet restarts after it exits 0 (runsForever):
	// their containers are not expected to serve traffic.
	LongRunning bool
	// Terminal is true for a Pod whose status.phase is Succeeded or Failed (a completed or
	// evicted Pod, as kubectl get -o yaml writes it): it runs nothing and never will again.
	// Kubernetes v1.37.2 counts no such pod: the scheduler does not see it (its informer selects
	// status.phase!=Succeeded,status.phase!=Failed, pkg/scheduler/scheduler.go), the eviction
	// API evicts it whatever budget selects it (canIgnorePDB, pkg/registry/core/pod/storage),
	// and the disruption controller never counts it healthy (countHealthyPods). A compact
	// workload keeps it. A manifest's phase is its author's (the API server drops it on create):
	// checks take it in a scan only of a Pod that ends (not LongRunning; terminalPod).
	Terminal bool
	// ClaimTemplates are a StatefulSet's volumeClaimTemplates (Volume is the template's name,
	// PersistentVolume its spec.volumeName); nil for other kinds.
	ClaimTemplates []ClaimVolume
	// FirstOrdinal is a StatefulSet's spec.ordinals.start, the ordinal of its first replica
	// (ClaimOrdinals).
	FirstOrdinal int32
	// Rollout is how a Deployment, StatefulSet or DaemonSet replaces its pods when its template
	// changes; nil for other kinds. A compact workload keeps it (avl-rolling-update, which reads
	// autoscalers too, judges the compact form).
	Rollout *Rollout

	containers []Container
	// pod is the pod spec's PodFields (Pod), read when the workload is wrapped; a compact
	// workload (CompactWorkload) keeps only them of its pod spec, and podLabels of its pod
	// metadata: PodSpec and PodMeta are then nil.
	pod       *PodFields
	podLabels map[string]string
	// mirror is PodFields.Mirror: a Pod annotated MirrorPodAnnotation (never a template).
	mirror bool
}

// Rollout is a workload's update strategy as written, before the API server's defaults.
type Rollout struct {
	// Type is a Deployment's spec.strategy.type, or a StatefulSet's or DaemonSet's
	// spec.updateStrategy.type ("" when unset).
	Type string
	// MaxUnavailable and MaxSurge are rollingUpdate's (a Deployment's and DaemonSet's surge),
	// nil when unset; RollingUpdate is false when rollingUpdate itself is unset.
	MaxUnavailable, MaxSurge *intstr.IntOrString
	RollingUpdate            bool
	// Partition is a StatefulSet's rollingUpdate.partition, nil when unset.
	Partition *int32
	// Paused is a Deployment's spec.paused.
	Paused bool
	// ReplicasUnset is true when a Deployment's or StatefulSet's spec.replicas is unset
	// (Workload.Replicas is then 1, as the API server defaults it).
	ReplicasUnset bool
}

// copyIntOrString copies v (a pointer into the typed object would keep all of it).
func copyIntOrString(v *intstr.IntOrString) *intstr.IntOrString {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// deploymentRollout, statefulSetRollout and daemonSetRollout read a workload's Rollout.
func deploymentRollout(d *appsv1.Deployment) *Rollout {
	r := &Rollout{Type: string(d.Spec.Strategy.Type), Paused: d.Spec.Paused, ReplicasUnset: d.Spec.Replicas == nil}
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		r.RollingUpdate, r.MaxUnavailable, r.MaxSurge = true, copyIntOrString(ru.MaxUnavailable), copyIntOrString(ru.MaxSurge)
	}
	return r
}

func statefulSetRollout(s *appsv1.StatefulSet) *Rollout {
	r := &Rollout{Type: string(s.Spec.UpdateStrategy.Type), ReplicasUnset: s.Spec.Replicas == nil}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		r.RollingUpdate, r.MaxUnavailable = true, copyIntOrString(ru.MaxUnavailable)
		if ru.Partition != nil {
			p := *ru.Partition
			r.Partition = &p
		}
	}
	return r
}

func daemonSetRollout(d *appsv1.DaemonSet) *Rollout {
	r := &Rollout{Type: string(d.Spec.UpdateStrategy.Type)}
	if ru := d.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		r.RollingUpdate, r.MaxUnavailable, r.MaxSurge = true, copyIntOrString(ru.MaxUnavailable), copyIntOrString(ru.MaxSurge)
	}
	return r
}

// PodLabels are the labels of the pods the workload runs (they select the pods): the
// template's, or a Pod's own.
func (w *Workload) PodLabels() map[string]string {
	if w.PodMeta != nil {
		return w.PodMeta.Labels
	}
	return w.podLabels
}

// PodFields are the fields of a pod spec that checks of other objects, and the cross-object
// checks of a workload, read: all a compact workload keeps of it (CompactWorkload). Of
// the affinity only PodAffinity, PodAntiAffinity and NodeAffinity are kept.
type PodFields struct {
	ServiceAccountName           string
	DeprecatedServiceAccount     string
	PriorityClassName            string
	AutomountServiceAccountToken *bool
	HostNetwork                  bool
	TopologySpreadConstraints    []corev1.TopologySpreadConstraint
	PodAntiAffinity              *corev1.PodAntiAffinity
	PodAffinity                  *corev1.PodAffinity
	// NodeName, NodeSelector and NodeAffinity say which nodes the pods may run on.
	NodeName     string
	NodeSelector map[string]string
	NodeAffinity *corev1.NodeAffinity
	// ResourceKeys are the pod-level resources' (spec.resources).
	ResourceKeys ResourceKeys
	// ImageVolumes are the image volumes (volumes[].image), those of a template that name no
	// reference included (Reference ""): Kubernetes before 1.37 let a template leave it to be
	// filled in, and v1.37.2 keeps one an older object has (AllowEmptyImageVolumeReference).
	ImageVolumes []ImageVolume
	// Claims are the volumes backed by a PersistentVolumeClaim (persistentVolumeClaim and
	// ephemeral volumes).
	Claims []ClaimVolume
	// HostPaths are the hostPath volumes, by volume name and path, kept for the checks that
	// judge them beside other objects (a compact workload has no pod spec).
	HostPaths []HostPathVolume
	// ResourceClaims are the pod's Dynamic Resource Allocation claims (spec.resourceClaims):
	// each names a ResourceClaim of the pod's namespace, or the ResourceClaimTemplate the
	// resourceclaim controller makes the pod's own claim from.
	ResourceClaims []PodResourceClaim
	// HostProcess names what makes the pod a Windows HostProcess pod ("the pod", or a container
	// such as `container "agent"`), "" when it is none (hostProcessSetter): such a pod runs on the
	// node, with its filesystem and named pipes, and needs no hostPath volume to reach them.
	HostProcess string
	// SecretUses are the pod's uses of Secrets of its namespace that may take a Secret's token
	// key (SecretTokenUses), kept for sa-legacy-token-secret, which judges them beside the
	// Secrets of a scan's input.
	SecretUses []SecretUse
	// TokenPathMasked is true when an init container or container mounts something of its
	// own at ServiceAccountTokenPath (not the plugin's kube-api-access- volume, nor a Secret,
	// which may be a token Secret); TokenContainers are then those (init containers first) that
	// mount nothing there, the ones the ServiceAccount admission plugin mounts the automatic
	// token into (mountServiceAccountToken in k8s.io/kubernetes v1.37
	// plugin/pkg/admission/serviceaccount/admission.go, which compares the path exactly).
	// Without TokenPathMasked every container gets the token, and TokenContainers is nil.
	TokenPathMasked bool
	TokenContainers []string
	// AutomaticToken names the ServiceAccount admission plugin's kube-api-access- volume when
	// a container mounts it at ServiceAccountTokenPath (a Pod as the API server stores it), and
	// AutomaticTokenContainers are those that do (init containers first): the plugin mounted
	// the token when it admitted the pod, whatever the ServiceAccount says now.
	AutomaticToken           string
	AutomaticTokenContainers []string
	// TokenPathMounted is true when any init container or container mounts anything at
	// ServiceAccountTokenPath (the automatic token, a Secret, a volume of its own).
	TokenPathMounted bool
	// Mirror is true for a mirror pod, the API server's copy of a kubelet's static pod (a Pod
	// annotated MirrorPodAnnotation): the ServiceAccount admission plugin sets no ServiceAccount
	// and mounts no token into it, and refuses one that names a ServiceAccount or projects a
	// token (Admit and Validate in k8s.io/kubernetes v1.37.2
	// plugin/pkg/admission/serviceaccount/admission.go).
	Mirror bool
}

// MirrorPodAnnotation marks a mirror pod (core's MirrorPodAnnotationKey).
const MirrorPodAnnotation = "kubernetes.io/config.mirror"

// automaticTokenVolumePrefix starts the name of the volume the ServiceAccount admission plugin
// adds and mounts at ServiceAccountTokenPath (ServiceAccountVolumeName + "-"): a Pod read back
// from the API server mounts it in every container, and a mount of it is the automatic token.
const automaticTokenVolumePrefix = "kube-api-access-"

// ServiceAccountTokenPath is where the ServiceAccount admission plugin mounts the automatic
// token (DefaultAPITokenMountPath).
const ServiceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount"

// ImageVolume is an image volume of a pod spec: the volume's name and the image reference.
type ImageVolume struct{ Name, Reference string }

// ClaimVolume is a volume whose data a PersistentVolumeClaim holds: a claim the pod spec names
// (persistentVolumeClaim.claimName: Claim), a generic ephemeral volume (Ephemeral: the ephemeral
// volume controller creates its claim as <pod>-<volume>), or a StatefulSet's claim template
// (Workload.ClaimTemplates: the StatefulSet controller creates <template>-<statefulset>-<ordinal>).
// PersistentVolume is the volume a template's spec.volumeName binds its claims to, if any.
type ClaimVolume struct {
	Volume, Claim, PersistentVolume string
	Ephemeral                       bool
}

// HostPathVolume is a hostPath volume of a pod: its name and the node path it mounts.
type HostPathVolume struct{ Volume, Path string }

// PodResourceClaim is an entry of a pod spec's resourceClaims: its name in the pod (Name, which
// containers' resources.claims refer to), and the ResourceClaim (Claim) or the
// ResourceClaimTemplate (Template) of the pod's namespace it names. The API server requires
// exactly one of the two; a manifest may set neither or both.
type PodResourceClaim struct{ Name, Claim, Template string }

// maxClaimOrdinals bounds the replicas whose claims a StatefulSet's judgement names.
const maxClaimOrdinals = 1000

// ClaimOrdinals returns the ordinals [first, end) of a StatefulSet's replicas whose claims its
// judgement reads: from spec.ordinals.start, as many as its replicas (1 when unset), at most
// 1,000 (getStartOrdinal and getEndOrdinal in k8s.io/kubernetes v1.37
// pkg/controller/statefulset/stateful_set_utils.go).
func (w *Workload) ClaimOrdinals() (first, end int) {
	replicas := 1
	if w.Replicas != nil {
		replicas = int(*w.Replicas)
	}
	first = int(w.FirstOrdinal)
	return first, first + max(0, min(replicas, maxClaimOrdinals))
}

// StatefulSetClaim names the claim the StatefulSet controller makes from claim template tmpl
// for the replica of StatefulSet set with ordinal ordinal (getPersistentVolumeClaimName in
// k8s.io/kubernetes v1.37 pkg/controller/statefulset/stateful_set_utils.go).
func StatefulSetClaim(tmpl, set string, ordinal int) string {
	return tmpl + "-" + set + "-" + strconv.Itoa(ordinal)
}

// Pod returns the pod spec's PodFields, read from PodSpec when the workload was wrapped or, in a
// compact workload, what it kept. Checks that may judge compact workloads (any check that is
// not Local) read the pod spec through it.
func (w *Workload) Pod() PodFields {
	return *w.pod
}

func podFields(s *corev1.PodSpec) PodFields {
	f := PodFields{ServiceAccountName: s.ServiceAccountName, DeprecatedServiceAccount: s.DeprecatedServiceAccount,
		PriorityClassName: s.PriorityClassName, AutomountServiceAccountToken: s.AutomountServiceAccountToken, HostNetwork: s.HostNetwork,
		TopologySpreadConstraints: s.TopologySpreadConstraints, ResourceKeys: ResourceKeysOf(s.Resources),
		NodeName: s.NodeName, NodeSelector: s.NodeSelector}
	if s.Affinity != nil {
		f.PodAntiAffinity, f.PodAffinity, f.NodeAffinity = s.Affinity.PodAntiAffinity, s.Affinity.PodAffinity, s.Affinity.NodeAffinity
	}
	for i := range s.Volumes {
		if v := &s.Volumes[i]; v.Image != nil {
			f.ImageVolumes = append(f.ImageVolumes, ImageVolume{Name: v.Name, Reference: v.Image.Reference})
		}
		switch v := &s.Volumes[i]; {
		case v.PersistentVolumeClaim != nil:
			f.Claims = append(f.Claims, ClaimVolume{Volume: v.Name, Claim: v.PersistentVolumeClaim.ClaimName})
		case v.Ephemeral != nil && v.Ephemeral.VolumeClaimTemplate != nil:
			f.Claims = append(f.Claims, ClaimVolume{Volume: v.Name, Ephemeral: true, PersistentVolume: v.Ephemeral.VolumeClaimTemplate.Spec.VolumeName})
		case v.HostPath != nil:
			f.HostPaths = append(f.HostPaths, HostPathVolume{Volume: v.Name, Path: v.HostPath.Path})
		}
	}
	for _, c := range s.ResourceClaims {
		rc := PodResourceClaim{Name: c.Name}
		if c.ResourceClaimName != nil {
			rc.Claim = *c.ResourceClaimName
		}
		if c.ResourceClaimTemplateName != nil {
			rc.Template = *c.ResourceClaimTemplateName
		}
		f.ResourceClaims = append(f.ResourceClaims, rc)
	}
	f.HostProcess = hostProcessSetter(s)
	f.SecretUses = SecretTokenUses(s)
	var unmasked []string
	// Whether each volume is a Secret, by name: listed once, when a container first mounts
	// something at the token's path, not searched for in the volumes for each container that
	// does (a Pod of n such containers and n volumes cost n^2).
	var secretVolume map[string]bool
	masks := func(m corev1.VolumeMount) bool {
		if m.MountPath != ServiceAccountTokenPath || strings.HasPrefix(m.Name, automaticTokenVolumePrefix) {
			return false
		}
		if secretVolume == nil {
			secretVolume = make(map[string]bool, len(s.Volumes))
			for i := range s.Volumes {
				if _, dup := secretVolume[s.Volumes[i].Name]; !dup {
					secretVolume[s.Volumes[i].Name] = s.Volumes[i].Secret != nil
				}
			}
		}
		// A Secret there may be a ServiceAccount token Secret, as the admission plugin
		// mounted before Kubernetes 1.22.
		secret, ok := secretVolume[m.Name]
		return !ok || !secret
	}
	automatic := func(m corev1.VolumeMount) bool {
		return m.MountPath == ServiceAccountTokenPath && strings.HasPrefix(m.Name, automaticTokenVolumePrefix)
	}
	for _, cs := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range cs {
			f.TokenPathMounted = f.TokenPathMounted || slices.ContainsFunc(cs[i].VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == ServiceAccountTokenPath })
			if j := slices.IndexFunc(cs[i].VolumeMounts, automatic); j >= 0 {
				f.AutomaticToken = cs[i].VolumeMounts[j].Name
				f.AutomaticTokenContainers = append(f.AutomaticTokenContainers, cs[i].Name)
			}
			if slices.ContainsFunc(cs[i].VolumeMounts, masks) {
				f.TokenPathMasked = true
			} else {
				unmasked = append(unmasked, cs[i].Name)
			}
		}
	}
	if f.TokenPathMasked {
		f.TokenContainers = unmasked
	}
	return f
}

// SecretUse is a use by a pod spec of a Secret of the pod's namespace that takes the Secret's
// key named token, where a kubernetes.io/service-account-token Secret holds its token: a secret
// volume or a projected volume's secret source without items (every key) or with an item of that
// key, an env entry's secretKeyRef of that key, or an envFrom secretRef (every key).
type SecretUse struct {
	// Secret is the Secret's name; Where says where it reaches the pod (`volume "creds"`, `env
	// KUBE_TOKEN of container "app"`, `envFrom of init container "fetch"`).
	Secret, Where string
	// Named is true when the use names the key token itself (an item or a secretKeyRef), not
	// every key of the Secret.
	Named bool
}

// secretTokenKey is the key of a ServiceAccount token Secret that holds the token
// (corev1.ServiceAccountTokenKey).
const secretTokenKey = corev1.ServiceAccountTokenKey

// SecretTokenUses returns the uses of Secrets by the pod spec that take their token key (see
// SecretUse), volumes first, then each container's (init, regular, ephemeral) envFrom and env.
func SecretTokenUses(s *corev1.PodSpec) []SecretUse {
	var uses []SecretUse
	items := func(list []corev1.KeyToPath) (takes, named bool) {
		if len(list) == 0 {
			return true, false
		}
		return slices.ContainsFunc(list, func(k corev1.KeyToPath) bool { return k.Key == secretTokenKey }), true
	}
	for i := range s.Volumes {
		v := &s.Volumes[i]
		switch {
		case v.Secret != nil && v.Secret.SecretName != "":
			if takes, named := items(v.Secret.Items); takes {
				uses = append(uses, SecretUse{Secret: v.Secret.SecretName, Where: fmt.Sprintf("volume %q", v.Name), Named: named})
			}
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret == nil || src.Secret.Name == "" {
					continue
				}
				if takes, named := items(src.Secret.Items); takes {
					uses = append(uses, SecretUse{Secret: src.Secret.Name, Where: fmt.Sprintf("volume %q (projected)", v.Name), Named: named})
				}
			}
		}
	}
	each := func(kind, name string, envFrom []corev1.EnvFromSource, env []corev1.EnvVar) {
		for _, ef := range envFrom {
			if ef.SecretRef != nil && ef.SecretRef.Name != "" {
				uses = append(uses, SecretUse{Secret: ef.SecretRef.Name, Where: fmt.Sprintf("envFrom of %s %q", kind, name)})
			}
		}
		for _, e := range env {
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && r.SecretKeyRef.Name != "" && r.SecretKeyRef.Key == secretTokenKey {
				uses = append(uses, SecretUse{Secret: r.SecretKeyRef.Name, Where: fmt.Sprintf("env %s of %s %q", e.Name, kind, name), Named: true})
			}
		}
	}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		each("init container", c.Name, c.EnvFrom, c.Env)
	}
	for i := range s.Containers {
		c := &s.Containers[i]
		each("container", c.Name, c.EnvFrom, c.Env)
	}
	for i := range s.EphemeralContainers {
		c := &s.EphemeralContainers[i]
		each("ephemeral container", c.Name, c.EnvFrom, c.Env)
	}
	return uses
}

// hostProcessSetter names what makes the pod a Windows HostProcess pod, as the Pod Security
// Standards' HostProcess control reads it (k8s.io/pod-security-admission v0.37.2
// windowsHostProcess_1_0): the pod's windowsOptions.hostProcess, or a container's, of any kind;
// "" when neither is true. The API server requires the same value in every container
// (ValidatePodSpec, k8s v1.37.2), so one true makes every container a HostProcess one.
func hostProcessSetter(spec *corev1.PodSpec) string {
	hostProcess := func(o *corev1.WindowsSecurityContextOptions) bool {
		return o != nil && o.HostProcess != nil && *o.HostProcess
	}
	if psc := spec.SecurityContext; psc != nil && hostProcess(psc.WindowsOptions) {
		return "the pod"
	}
	found := ""
	each := func(kind, n string, sc *corev1.SecurityContext) {
		if found == "" && sc != nil && hostProcess(sc.WindowsOptions) {
			found = kind + " " + strconv.Quote(n)
		}
	}
	for i := range spec.InitContainers {
		each("init container", spec.InitContainers[i].Name, spec.InitContainers[i].SecurityContext)
	}
	for i := range spec.Containers {
		each("container", spec.Containers[i].Name, spec.Containers[i].SecurityContext)
	}
	for i := range spec.EphemeralContainers {
		each("ephemeral container", spec.EphemeralContainers[i].Name, spec.EphemeralContainers[i].SecurityContext)
	}
	return found
}

// CompactWorkload is the form of a workload a scan keeps until the end of its evaluation, once
// the workload's local checks are judged (Stream.Compact), or o itself when o is not a
// workload (or is a ReplicationController without a template): what the catalogue's
// cross-object checks read of the workload they judge, what checks of other objects read of
// the workloads they look up, and what exceptions and the outputs read. That is:
//
//   - apiVersion, kind, namespace, name, generateName, UID, labels and owner references (the
//     object is a metav1.PartialObjectMetadata, not the typed object, whose pod spec alone is
//     592 bytes however few fields are set); the source and whether the namespace was
//     defaulted;
//   - replicas (a copy: a pointer into the typed object would keep all of it), LongRunning,
//     Terminal, and the update strategy (Rollout: its own copies of what it holds);
//   - the pod template's labels (Workload.PodLabels: PodMeta is nil);
//   - of the pod spec, the PodFields (service account, priorityClassName,
//     automountServiceAccountToken, hostNetwork, topologySpreadConstraints, podAffinity and podAntiAffinity,
//     image volumes, claims, host paths, resource claims, hostProcess), which checks read through Workload.Pod: PodSpec is nil; a
//     StatefulSet's ClaimTemplates;
//   - of each container (init, regular and ephemeral): its type, name, image, whether it
//     is a sidecar, its ResourceKeys and the variables it takes from ConfigMaps (ConfigMapEnv;
//     Container.Container is nil).
//
// The rest (annotations, the selector, environment, resources, probes, security contexts,
// volumes, ...) is read only by local checks, which have judged the workload by then, and by
// the comparison of a controlled object with its controller's template, for which the stream
// keeps a named controller whole. Every check's fixtures are also judged with workloads in
// this form (internal/checks' sameAsStreamed), and so are TestStreamIsEvaluate and scan's
// TestCompactWorkloadsChangeNothing: a field a check reads and this leaves out fails them.
func CompactWorkload(o *Object) *Object {
	whole := o.Workload
	if whole == nil {
		return o
	}
	// One allocation for the object, its metadata, workload and pod fields (a compact
	// workload is kept until the end of the evaluation, and there may be tens of thousands).
	c := &compactObject{pod: whole.Pod()}
	w := &c.workload
	*w = Workload{LongRunning: whole.LongRunning, Terminal: whole.Terminal, pod: &c.pod, podLabels: whole.PodLabels(),
		containers: make([]Container, len(whole.containers)), ClaimTemplates: whole.ClaimTemplates,
		FirstOrdinal: whole.FirstOrdinal, Rollout: whole.Rollout}
	if r := whole.Replicas; r != nil {
		c.replicas = *r // a copy: a pointer into the typed object would keep all of it
		w.Replicas = &c.replicas
	}
	for i, wc := range whole.containers {
		w.containers[i] = Container{Name: wc.Name, Image: wc.Image, Type: wc.Type, SidecarInit: wc.SidecarInit, ResourceKeys: wc.ResourceKeys,
			ConfigMapEnv: wc.ConfigMapEnv}
	}
	m := o.Obj
	c.meta = metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: o.APIVersion, Kind: o.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), GenerateName: m.GetGenerateName(), Namespace: m.GetNamespace(),
			UID: m.GetUID(), Labels: m.GetLabels(), OwnerReferences: m.GetOwnerReferences()}}
	c.object = Object{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Obj: &c.meta, Workload: w,
		Source: o.Source, NamespaceDefaulted: o.NamespaceDefaulted, controllerRef: ControllerRef(&c.meta)}
	return &c.object
}

// compactObject is what CompactWorkload allocates once.
type compactObject struct {
	object   Object
	meta     metav1.PartialObjectMetadata
	workload Workload
	pod      PodFields
	replicas int32
}

// Container is one container of a pod spec, whichever list it is in.
type Container struct {
	// Container is the container's spec; nil in a compact workload (CompactWorkload), which
	// keeps only the name and image below.
	*corev1.Container
	// Name and Image are the container's (they shadow Container's, so that a compact workload
	// has them without the 408-byte spec).
	Name, Image string
	// Type is "container", "initContainer" or "ephemeralContainer".
	Type string
	// SidecarInit is true for an init container with restartPolicy Always (a native sidecar).
	SidecarInit bool
	// ResourceKeys summarise the container's resources (kept by a compact workload).
	ResourceKeys ResourceKeys
	// ConfigMapEnv are the variables of the container's environment whose values the kubelet
	// takes from ConfigMaps (kept by a compact workload); nil when there are none.
	ConfigMapEnv []ConfigMapEnv
}

// ConfigMapEnv is a ConfigMap of the workload's namespace that gives the container's
// environment variables their values, as the kubelet resolves them
// (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables): envFrom first, each key of the
// ConfigMap's data becoming a variable named prefix + key, then env in order, each entry
// replacing a variable of the same name defined before it.
type ConfigMapEnv struct {
	// ConfigMap is the ConfigMap's name.
	ConfigMap string
	// Key is the key whose value the variable Name takes (valueFrom.configMapKeyRef) or holds
	// (a literal value with a $(VAR) reference the kubelet expands to it); "" for an
	// envFrom.configMapRef, which defines a variable Name + key for every key.
	Key, Name string
	// Value is, for a variable whose literal value holds the key's value, that literal, and Ref
	// the variable it refers to ($(Ref)) that the kubelet expands to the key's value (itself,
	// or a literal that holds it); both are "" otherwise.
	Value, Ref string
	// Arg is, for an argument of the container's command or args that the kubelet expands to
	// hold the key's value, where it is ("args[1]"); Name is "" then, and Value and Ref are
	// the argument and the reference in it.
	Arg string
	// File is, for a variable whose literal value is the path of a file the kubelet projects
	// the key into (a configMap volume, or a projected volume's configMap source, mounted in
	// the container), that path; "" otherwise.
	File string
	// Replaced are, for an envFrom.configMapRef, the variables starting with Name that an env
	// entry surely sets (one that is not an optional reference): they do not take the
	// ConfigMap's value.
	Replaced []string
	// Unfollowed is set, on an entry that names only its ConfigMap, when the container's
	// variables take more of that ConfigMap's keys through $(VAR) references than are listed
	// (maxConfigMapEnv): what the others hold is not known.
	Unfollowed bool
}

// maxConfigMapEnv bounds the entries configMapValueEnv lists for a container of n env entries,
// envFrom sources, command and args: a variable referring to n others that each take a
// ConfigMap key, and n variables referring to it, hold n*n keys (a Pod of 100 KB, 1,000 of
// each, listed a million entries, 1.6 GB); past the bound, the container's ConfigMaps are
// listed Unfollowed.
func maxConfigMapEnv(n int) int { return 4*n + 256 }

// configMapEnv lists the ConfigMap values c's environment may hold: what the kubelet takes
// from ConfigMaps and no later env entry surely replaces, and what it expands into a literal
// value from variables that hold a ConfigMap's value ($(VAR), expansion.Expand, over the
// variables envFrom and the env entries before it define); and the ConfigMap keys whose file
// a literal value names (configMapFileEnv). An optional reference to a Secret
// or ConfigMap key may be skipped (when it is missing), and so may not replace anything.
func configMapEnv(c *corev1.Container, volumes []corev1.Volume) []ConfigMapEnv {
	out := configMapValueEnv(c)
	if len(c.VolumeMounts) > 0 && len(volumes) > 0 {
		out = append(out, configMapFileEnv(c, volumes)...)
	}
	return out
}

// configMapValueEnv is what configMapEnv lists of the ConfigMap values the environment holds.
func configMapValueEnv(c *corev1.Container) []ConfigMapEnv {
	if !slices.ContainsFunc(c.EnvFrom, func(f corev1.EnvFromSource) bool { return f.ConfigMapRef != nil }) &&
		!slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil }) {
		return nil // most containers: nothing to follow, nothing allocated
	}
	var out []ConfigMapEnv
	for _, f := range c.EnvFrom {
		if f.ConfigMapRef != nil {
			out = append(out, ConfigMapEnv{ConfigMap: f.ConfigMapRef.Name, Name: f.Prefix})
		}
	}
	fromAll := len(out)
	// held are the ConfigMap keys the value of each variable env has defined so far may hold.
	type key struct{ configMap, key, ref, value string }
	held := map[string][]key{}
	// left is how many more keys may be listed (maxConfigMapEnv), and unfollowed is set once
	// one was not.
	left := maxConfigMapEnv(len(c.Env) + len(c.EnvFrom) + len(c.Command) + len(c.Args))
	unfollowed := false
	// expanded lists the ConfigMap keys the kubelet expands the references of value to, each
	// once: a value that refers to a variable again and again ("$(V)$(V)...") holds its keys
	// once each, as does one that refers to it once. Listed once per reference, the keys of a
	// chain of variables each referring n times to the one before multiplied by n at every
	// link (five variables of twenty references, a 2 KB Pod, held 3.2 million entries).
	expanded := func(value string) []key {
		var keys []key
		var seen map[key]bool
		// add lists k, and reports false once the bound is reached: nothing more is listed.
		add := func(k key) bool {
			if left == 0 {
				unfollowed = true
				return false
			}
			if seen == nil {
				seen = map[key]bool{}
			}
			if !seen[k] {
				left--
				seen[k] = true
				keys = append(keys, k)
			}
			return true
		}
		if unfollowed {
			return nil
		}
		for _, ref := range envReferences(value) {
			if defined, ok := held[ref]; ok {
				for _, d := range defined {
					if !add(key{d.configMap, d.key, ref, value}) {
						return keys
					}
				}
				continue
			}
			for _, f := range out[:fromAll] {
				if rest, ok := strings.CutPrefix(ref, f.Name); ok && rest != "" && !add(key{f.ConfigMap, rest, ref, value}) {
					return keys
				}
			}
		}
		return keys
	}
	var names []string
	for _, e := range c.Env {
		var keys []key
		switch {
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			keys = []key{{e.ValueFrom.ConfigMapKeyRef.Name, e.ValueFrom.ConfigMapKeyRef.Key, "", ""}}
		case e.Value != "":
			keys = expanded(e.Value)
		}
		old, ok := held[e.Name]
		if !ok {
			names = append(names, e.Name)
		}
		if !SurelySet(e) {
			keys = append(old, keys...)
		}
		held[e.Name] = keys
	}
	for _, name := range names {
		seen := map[key]bool{}
		for _, k := range held[name] {
			if !seen[k] {
				seen[k] = true
				out = append(out, ConfigMapEnv{ConfigMap: k.configMap, Key: k.key, Name: name, Value: k.value, Ref: k.ref})
			}
		}
	}
	// The kubelet expands command and args with the whole environment
	// (kubecontainer.ExpandContainerCommandAndArgs).
	for _, list := range []struct {
		name string
		args []string
	}{{"command", c.Command}, {"args", c.Args}} {
		for i, a := range list.args {
			for _, k := range expanded(a) {
				out = append(out, ConfigMapEnv{ConfigMap: k.configMap, Key: k.key, Arg: fmt.Sprintf("%s[%d]", list.name, i), Value: k.value, Ref: k.ref})
			}
		}
	}
	if unfollowed {
		// The ConfigMaps whose keys the variables may hold: those they take keys from.
		listed := map[string]bool{}
		unfollow := func(configMap string) {
			if !listed[configMap] {
				listed[configMap] = true
				out = append(out, ConfigMapEnv{ConfigMap: configMap, Unfollowed: true})
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				unfollow(e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
		for _, f := range c.EnvFrom {
			if f.ConfigMapRef != nil {
				unfollow(f.ConfigMapRef.Name)
			}
		}
	}
	if fromAll > 0 {
		// The variables env surely sets, each once, and the list of those a prefix begins,
		// made once per prefix and shared: looked for in each envFrom's own list, 200 envFrom
		// sources beside 2,000 variables (50 KB) took 1.2 s.
		var set []string
		seen := map[string]bool{}
		for _, e := range c.Env {
			if SurelySet(e) && !seen[e.Name] {
				seen[e.Name] = true
				set = append(set, e.Name)
			}
		}
		replaced := map[string][]string{}
		for i := range out[:fromAll] {
			prefix := out[i].Name
			r, ok := replaced[prefix]
			if !ok {
				for _, name := range set {
					if strings.HasPrefix(name, prefix) {
						r = append(r, name)
					}
				}
				replaced[prefix] = r
			}
			out[i].Replaced = r
		}
	}
	return out
}

// configMapFileEnv lists the env entries of c whose literal value is the path of a file the
// kubelet projects a ConfigMap key into, in the container's file system: the volume mounted
// at the deepest mountPath that is the path or a directory above it (its subPath, when set,
// is the volume's file or directory mounted there), a configMap volume or a projected
// volume's configMap source, where items map keys to paths and without items every key is a
// file of its own name (pkg/volume/configmap, pkg/volume/projected). A mount with a
// subPathExpr is not followed.
func configMapFileEnv(c *corev1.Container, volumes []corev1.Volume) []ConfigMapEnv {
	var out []ConfigMapEnv
	for _, e := range c.Env {
		if e.ValueFrom != nil || !strings.HasPrefix(e.Value, "/") {
			continue
		}
		file := path.Clean(e.Value)
		var mount *corev1.VolumeMount
		for i := range c.VolumeMounts {
			m := &c.VolumeMounts[i]
			dir := path.Clean(m.MountPath)
			if (file == dir || strings.HasPrefix(file, strings.TrimSuffix(dir, "/")+"/")) && (mount == nil || len(dir) > len(path.Clean(mount.MountPath))) {
				mount = m
			}
		}
		if mount == nil || mount.SubPathExpr != "" {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(file, path.Clean(mount.MountPath)), "/")
		if mount.SubPath != "" {
			rel = path.Join(mount.SubPath, rel)
		}
		if rel == "" || rel == "." {
			continue
		}
		i := slices.IndexFunc(volumes, func(v corev1.Volume) bool { return v.Name == mount.Name })
		if i < 0 {
			continue
		}
		var sources []*corev1.ConfigMapProjection
		switch v := volumes[i].VolumeSource; {
		case v.ConfigMap != nil:
			sources = []*corev1.ConfigMapProjection{{LocalObjectReference: v.ConfigMap.LocalObjectReference, Items: v.ConfigMap.Items}}
		case v.Projected != nil:
			for _, p := range v.Projected.Sources {
				if p.ConfigMap != nil {
					sources = append(sources, p.ConfigMap)
				}
			}
		}
		for _, src := range sources {
			if len(src.Items) == 0 {
				if !strings.Contains(rel, "/") {
					out = append(out, ConfigMapEnv{ConfigMap: src.Name, Key: rel, Name: e.Name, File: file})
				}
				continue
			}
			for _, item := range src.Items {
				if path.Clean(item.Path) == rel {
					out = append(out, ConfigMapEnv{ConfigMap: src.Name, Key: item.Key, Name: e.Name, File: file})
				}
			}
		}
	}
	return out
}

// envReferences are the variables value refers to, as the kubelet reads it
// (third_party/forked/golang/expansion Expand): $(NAME), where $$ is an escaped $.
func envReferences(value string) []string {
	var refs []string
	for i := 0; i+1 < len(value); i++ {
		if value[i] != '$' {
			continue
		}
		switch value[i+1] {
		case '$':
			i++
		case '(':
			if end := strings.IndexByte(value[i+2:], ')'); end >= 0 {
				refs = append(refs, value[i+2:i+2+end])
				i += 2 + end
			}
		}
	}
	return refs
}

// SurelySet reports whether the kubelet always sets e's variable when the container starts:
// unless e is an optional reference, which it skips when what it names is missing.
func SurelySet(e corev1.EnvVar) bool {
	if e.Value != "" || e.ValueFrom == nil {
		return true
	}
	var optional *bool
	switch v := e.ValueFrom; {
	case v.ConfigMapKeyRef != nil:
		optional = v.ConfigMapKeyRef.Optional
	case v.SecretKeyRef != nil:
		optional = v.SecretKeyRef.Optional
	case v.FileKeyRef != nil:
		optional = v.FileKeyRef.Optional
	}
	return optional == nil || !*optional
}

// ResourceKeys says, for cpu and memory, whether requests and limits name the resource and
// whether with more than zero: what the resource checks read, which a compact workload keeps in
// place of the spec (a byte, not the maps).
type ResourceKeys uint8

const (
	requestNamed ResourceKeys = 1 << iota
	requestNonZero
	limitNamed
	limitNonZero
)

// keyedResources are the resources ResourceKeys records, each in four bits of its own (the
// index times four): a fixed list, since ResourceKeysOf runs for every container.
var keyedResources = [...]corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// resourceShift places name's four bits, or says it is not recorded.
func resourceShift(name corev1.ResourceName) (uint, bool) {
	for i, r := range keyedResources {
		if r == name {
			return uint(4 * i), true
		}
	}
	return 0, false
}

// ResourceKeysOf summarises r (nil: nothing named).
func ResourceKeysOf(r *corev1.ResourceRequirements) ResourceKeys {
	var k ResourceKeys
	if r == nil {
		return k
	}
	for i, name := range keyedResources {
		shift := uint(4 * i)
		if q, ok := r.Requests[name]; ok {
			k |= requestNamed << shift
			if !q.IsZero() {
				k |= requestNonZero << shift
			}
		}
		if q, ok := r.Limits[name]; ok {
			k |= limitNamed << shift
			if !q.IsZero() {
				k |= limitNonZero << shift
			}
		}
	}
	return k
}

// Declares reports, for the request (limit false) or the limit of cpu or memory, whether the
// resources name it at all (named) and whether with more than zero (set). A limit without a
// request names and sets the request too: Kubernetes defaults the request to the limit.
func (k ResourceKeys) Declares(name corev1.ResourceName, limit bool) (named, set bool) {
	shift, ok := resourceShift(name)
	if !ok {
		return false, false
	}
	k >>= shift
	if !limit && k&requestNamed != 0 {
		return true, k&requestNonZero != 0
	}
	return k&limitNamed != 0, k&limitNonZero != 0
}

// Requested reports whether the requests alone name cpu or memory (named) and whether with more
// than zero (set): unlike Declares, a limit does not count. The API server defaults a container's
// request from its limit (SetDefaults_Pod), but a pod-level request it leaves out from the
// containers' requests when one names the resource (DefaultPodLevelResources).
func (k ResourceKeys) Requested(name corev1.ResourceName) (named, set bool) {
	shift, ok := resourceShift(name)
	if !ok {
		return false, false
	}
	k >>= shift
	return k&requestNamed != 0, k&requestNonZero != 0
}

// Container types.
const (
	ContainerRegular   = "container"
	ContainerInit      = "initContainer"
	ContainerEphemeral = "ephemeralContainer"
)

// Containers lists every container of the pod spec: init containers, containers and ephemeral
// containers, in that order. The slice is shared: do not modify it.
func (w *Workload) Containers() []Container { return w.containers }

func listContainers(spec *corev1.PodSpec) []Container {
	out := make([]Container, 0, len(spec.InitContainers)+len(spec.Containers)+len(spec.EphemeralContainers))
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		out = append(out, Container{Container: c, Name: c.Name, Image: c.Image, Type: ContainerInit,
			SidecarInit: c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways, ResourceKeys: ResourceKeysOf(&c.Resources),
			ConfigMapEnv: configMapEnv(c, spec.Volumes)})
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		out = append(out, Container{Container: c, Name: c.Name, Image: c.Image, Type: ContainerRegular, ResourceKeys: ResourceKeysOf(&c.Resources),
			ConfigMapEnv: configMapEnv(c, spec.Volumes)})
	}
	for i := range spec.EphemeralContainers {
		ec := &spec.EphemeralContainers[i]
		// EphemeralContainerCommon has the same fields as Container; convert for one code path.
		c := corev1.Container(ec.EphemeralContainerCommon)
		out = append(out, Container{Container: &c, Name: c.Name, Image: c.Image, Type: ContainerEphemeral, ConfigMapEnv: configMapEnv(&c, spec.Volumes)})
	}
	return out
}

// NewObject wraps a Kubernetes object for the engine. apiVersion and kind must be given when the
// object carries no TypeMeta (objects from an informer cache).
func NewObject(obj KubeObject, apiVersion, kind string) *Object {
	if kind == "" || apiVersion == "" {
		gvk := obj.GetObjectKind().GroupVersionKind()
		if kind == "" {
			kind = gvk.Kind
		}
		if apiVersion == "" {
			apiVersion = gvk.GroupVersion().String()
		}
	}
	o := &Object{APIVersion: apiVersion, Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Obj: obj}
	if w := workloadOf(obj); w != nil {
		w.containers = listContainers(w.PodSpec)
		// Read once: checks ask for them once per container (declaresResource), and reading
		// them walks every container, so that asking each time made judging a Pod of n
		// containers cost n^2.
		f := podFields(w.PodSpec)
		f.Mirror = w.mirror
		w.pod = &f
		o.Workload = w
	}
	o.controllerRef = ControllerRef(obj)
	return o
}

func workloadOf(obj KubeObject) *Workload {
	one := int32(1)
	replicas := func(r *int32) *int32 {
		if r == nil {
			return &one
		}
		return r
	}
	switch t := obj.(type) {
	case *corev1.Pod:
		_, mirror := t.Annotations[MirrorPodAnnotation]
		return &Workload{PodSpec: &t.Spec, PodMeta: &t.ObjectMeta, mirror: mirror, LongRunning: runsForever(&t.Spec, t.Spec.RestartPolicy),
			Terminal: t.Status.Phase == corev1.PodSucceeded || t.Status.Phase == corev1.PodFailed}
	case *appsv1.Deployment:
		return &Workload{PodSpec: &t.Spec.Template.Spec, PodMeta: &t.Spec.Template.ObjectMeta, Replicas: replicas(t.Spec.Replicas), LongRunning: true,
			Rollout: deploymentRollout(t)}
	case *appsv1.StatefulSet:
		w := &Workload{PodSpec: &t.Spec.Template.Spec, PodMeta: &t.Spec.Template.ObjectMeta, Replicas: replicas(t.Spec.Replicas), LongRunning: true,
			Rollout: statefulSetRollout(t)}
		for _, c := range t.Spec.VolumeClaimTemplates {
			w.ClaimTemplates = append(w.ClaimTemplates, ClaimVolume{Volume: c.Name, PersistentVolume: c.Spec.VolumeName})
		}
		if t.Spec.Ordinals != nil {
			w.FirstOrdinal = t.Spec.Ordinals.Start
		}
		return w
	case *appsv1.DaemonSet:
		return &Workload{PodSpec: &t.Spec.Template.Spec, PodMeta: &t.Spec.Template.ObjectMeta, LongRunning: true, Rollout: daemonSetRollout(t)}
	case *appsv1.ReplicaSet:
		return &Workload{PodSpec: &t.Spec.Template.Spec, PodMeta: &t.Spec.Template.ObjectMeta, Replicas: replicas(t.Spec.Replicas), LongRunning: true}
	case *corev1.ReplicationController:
		if t.Spec.Template == nil {
			return nil
		}
		return &Workload{PodSpec: &t.Spec.Template.Spec, PodMeta: &t.Spec.Template.ObjectMeta, Replicas: replicas(t.Spec.Replicas), LongRunning: true}
	case *batchv1.Job:
		return &Workload{PodSpec: &t.Spec.Template.Spec, PodMeta: &t.Spec.Template.ObjectMeta, LongRunning: runsForever(&t.Spec.Template.Spec, jobRestartPolicy(&t.Spec.Template.Spec))}
	case *batchv1.CronJob:
		s := &t.Spec.JobTemplate.Spec.Template.Spec
		return &Workload{PodSpec: s, PodMeta: &t.Spec.JobTemplate.Spec.Template.ObjectMeta, LongRunning: runsForever(s, jobRestartPolicy(s))}
	}
	return nil
}

// runsForever reports whether a pod never runs to completion: some regular container of it is
// restarted by the kubelet after it exits 0, so that the pod never Succeeds (getPhase, k8s
// v1.37.2 pkg/kubelet/kubelet_pods.go) and serves for as long as it runs. Whether the kubelet
// restarts a container is ContainerShouldRestart (k8s v1.37.2 pkg/api/v1/pod/util.go, with
// ContainerRestartRules, beta and on by default since v1.35): the first of the container's
// restartPolicyRules whose exitCodes match (In or NotIn) decides when its action restarts the
// container (Restart, or RestartAllContainers, which restarts every container), else the
// container's own restartPolicy (Always, OnFailure, Never) when it sets one, else the pod's
// (Always or unset: every exit). So a Pod whose restartPolicy is Never runs forever when a
// container's own restartPolicy is Always, and one whose restartPolicy is Always runs to
// completion when every container's own is Never or OnFailure. pod is the pod's restartPolicy as
// its pods hold it (jobRestartPolicy for a Job's).
func runsForever(spec *corev1.PodSpec, pod corev1.RestartPolicy) bool {
	for i := range spec.Containers {
		if restartsAfterSuccess(&spec.Containers[i], pod) {
			return true
		}
	}
	return false
}

// restartsAfterSuccess is ContainerShouldRestart(c, pod, 0): whether the kubelet restarts
// container c when it exits 0, in a pod whose restartPolicy is pod.
func restartsAfterSuccess(c *corev1.Container, pod corev1.RestartPolicy) bool {
	if c.RestartPolicy != nil {
		for _, rule := range c.RestartPolicyRules {
			if rule.ExitCodes == nil {
				continue
			}
			zero := slices.Contains(rule.ExitCodes.Values, 0)
			matched := rule.ExitCodes.Operator == corev1.ContainerRestartRuleOnExitCodesOpIn && zero ||
				rule.ExitCodes.Operator == corev1.ContainerRestartRuleOnExitCodesOpNotIn && !zero
			if !matched {
				continue
			}
			switch rule.Action {
			case corev1.ContainerRestartRuleActionRestart, corev1.ContainerRestartRuleActionRestartAllContainers:
				return true
			}
			break // the first rule that matches decides, or leaves it to the policy
		}
		switch *c.RestartPolicy {
		case corev1.ContainerRestartPolicyAlways:
			return true
		case corev1.ContainerRestartPolicyOnFailure, corev1.ContainerRestartPolicyNever:
			return false
		}
	}
	return pod == "" || pod == corev1.RestartPolicyAlways
}

// jobRestartPolicy is the restartPolicy of a Job's pods as runsForever reads it: the API server
// refuses a Job whose template's restartPolicy is not OnFailure or Never (ValidateJobSpec, k8s
// v1.37.2 pkg/apis/batch/validation), after defaulting an unset one to Always, so only a
// container's own policy may restart it after success. A template that leaves it unset (or sets
// Always), which no Job holds, is judged as Never.
func jobRestartPolicy(s *corev1.PodSpec) corev1.RestartPolicy {
	if s.RestartPolicy == corev1.RestartPolicyOnFailure {
		return s.RestartPolicy
	}
	return corev1.RestartPolicyNever
}

// WindowsPod reports whether a pod runs on Windows: it declares so (spec.os.name), or only
// Windows nodes may run it (WindowsNodesOnly).
func WindowsPod(spec *corev1.PodSpec) bool {
	if spec.OS != nil {
		return spec.OS.Name == corev1.Windows
	}
	return WindowsNodesOnly(spec, true)
}

// MayRunOnWindows reports whether a Windows node may run a pod: it declares itself a Windows pod
// (spec.os.name), or declares no OS and nothing keeps it to Linux nodes (no node selector or
// required node affinity that admits only Linux nodes). Such a pod may be scheduled on a Windows
// node wherever one is (a taint keeps off only pods that do not tolerate it), and the Windows
// kubelet applies the pod's windowsOptions there and ignores its Linux settings (runAsUser among
// them): the Windows settings matter for it, as the Linux ones do (WindowsPod is false). A pod
// whose spec.os.name is linux is refused by a Windows kubelet (k8s v1.37.2
// pkg/kubelet/lifecycle/predicate.go, rejectPodAdmissionBasedOnOSField).
func MayRunOnWindows(spec *corev1.PodSpec) bool {
	if spec.OS != nil {
		return spec.OS.Name == corev1.Windows
	}
	return !nodesOfOSOnly(spec, corev1.Linux, true)
}

// WindowsNodesOnly reports whether only Windows nodes may run a pod: its node selector has an
// OS label (osNodeLabels) whose value is windows, or, with affinity, its required node affinity
// admits only nodes whose OS label is windows.
func WindowsNodesOnly(spec *corev1.PodSpec, affinity bool) bool {
	return nodesOfOSOnly(spec, corev1.Windows, affinity)
}

// nodesOfOSOnly reports whether only nodes of that OS may run a pod: its node selector has an OS
// label (osNodeLabels) whose value is os, or, with affinity, its required node affinity admits
// only nodes whose OS label is os. The first OS label the node selector has decides: a pod that
// selects another OS, or two, runs on no node of this one. The kubelet checks the node selector
// and required affinity when it admits a pod (so spec.nodeName does not get round them), with
// kubernetes.io/os set to its own OS (k8s v1.37.2 pkg/kubelet/lifecycle/predicate.go,
// rejectPodAdmissionBasedOnOSSelector and generalFilter).
func nodesOfOSOnly(spec *corev1.PodSpec, os corev1.OSName, affinity bool) bool {
	for _, key := range osNodeLabels {
		if v, ok := spec.NodeSelector[key]; ok {
			return v == string(os)
		}
	}
	return affinity && onlyNodesOfOS(spec.Affinity, os)
}

// osNodeLabels are the node labels in which every kubelet keeps its operating system
// (runtime.GOOS): a pod may select nodes by either.
var osNodeLabels = []string{corev1.LabelOSStable, "beta.kubernetes.io/os"}

// onlyNodesOfOS reports whether a pod's required node affinity admits nodes of that OS only:
// every node selector term requires an OS label with the value os and no other.
func onlyNodesOfOS(a *corev1.Affinity, os corev1.OSName) bool {
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return false
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return false
	}
	for _, term := range terms {
		only := false
		for _, r := range term.MatchExpressions {
			if slices.Contains(osNodeLabels, r.Key) && r.Operator == corev1.NodeSelectorOpIn &&
				len(r.Values) > 0 && !slices.ContainsFunc(r.Values, func(v string) bool { return v != string(os) }) {
				only = true
			}
		}
		if !only {
			return false
		}
	}
	return true
}
