package engine

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// This file is the one place that decides whether an object is judged through the controller
// that created it. An object (a Pod, a ReplicaSet, a Job) is judged through its controller only
// when all of these hold:
//
//  1. its controller reference names one of the built-in controllers below, of the right API
//     group (a custom resource that happens to be called Deployment does not count);
//  2. that controller creates objects of this kind: a ReplicaSet, StatefulSet, DaemonSet, Job or
//     ReplicationController creates Pods, a Deployment creates ReplicaSets, a CronJob creates
//     Jobs (a Pod that names a Deployment as its controller did not come from it);
//  3. the controller is in the inventory, in the object's namespace, with the UID the
//     reference names;
//  4. the object's pod spec is what the controller's pod template produces: compareTemplate
//     finds no difference in what the checks read (see there for exactly what is compared);
//  5. the labels it carries beyond its template's change nothing the checks read through
//     labels: compareSelection finds no NetworkPolicy (Kubernetes', Cilium's or Calico's),
//     PodDisruptionBudget of its namespace, or pod subject of an AdminNetworkPolicy or
//     BaselineAdminNetworkPolicy, that selects it and not its template, or its template and not
//     it;
//  6. a Pod holds no automatic service-account token that its ServiceAccount no longer grants
//     (compareToken).
//
// Anything else makes the object judged itself, and each of its failures says why (Provenance).
// The controller itself is judged on its own terms: a ReplicaSet whose template differs from
// its Deployment's (an old revision that still runs Pods) is judged itself, and its Pods are
// judged through it. One exception keeps old revisions out of reports: a ReplicaSet scaled to
// zero that its Deployment controls (rules 1-3) runs nothing and is not judged (Idle); the Pods
// it still has (terminating after a rollout) are then judged themselves, since nothing judged
// accounts for them.

// controllerKind is a built-in controller: its API group and the kind of object it creates.
type controllerKind struct {
	group   string
	creates string
}

var controllerKinds = map[string]controllerKind{
	"Deployment":            {group: "apps", creates: "ReplicaSet"},
	"ReplicaSet":            {group: "apps", creates: "Pod"},
	"StatefulSet":           {group: "apps", creates: "Pod"},
	"DaemonSet":             {group: "apps", creates: "Pod"},
	"ReplicationController": {group: "", creates: "Pod"},
	"Job":                   {group: "batch", creates: "Pod"},
	"CronJob":               {group: "batch", creates: "Job"},
}

// Creates reports whether the built-in controller kind controller creates objects of kind kind
// (a ReplicaSet creates Pods, a Deployment ReplicaSets; nothing creates Deployments).
func Creates(controller, kind string) bool {
	ck, ok := controllerKinds[controller]
	return ok && ck.creates == kind
}

// ControllerRef returns obj's controller reference when it names a built-in controller
// (Deployment, ReplicaSet, StatefulSet, DaemonSet, ReplicationController, Job or CronJob, of its
// own API group), else nil. It is what the object claims, not what holds: Inventory.Provenance
// checks the claim.
func ControllerRef(obj metav1.Object) *metav1.OwnerReference {
	refs := obj.GetOwnerReferences()
	for i := range refs {
		ref := &refs[i]
		if ref.Controller == nil || !*ref.Controller {
			continue
		}
		ck, ok := controllerKinds[ref.Kind]
		if !ok {
			return nil
		}
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != ck.group {
			return nil
		}
		return ref
	}
	return nil
}

// OtherControllerRef returns obj's controller reference when it names a controller that is not
// one of the built-in ones (an Argo Rollout, argoproj.io/v1alpha1, controlling its ReplicaSets),
// else nil. Such an object is always judged itself; the webhook only lets such a controller
// scale it down unjudged.
func OtherControllerRef(obj metav1.Object) *metav1.OwnerReference {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ControllerRef(obj) != nil {
		return nil
	}
	return ref
}

// Provenance is what an object's controller reference establishes.
type Provenance struct {
	// Ref is the object's controller reference.
	Ref metav1.OwnerReference
	// Creates is true when the reference names a kind that creates objects of the object's
	// kind (a ReplicaSet for a Pod; not a Deployment, which creates ReplicaSets).
	Creates bool
	// Owner is the controller the reference names, when it is in the inventory with that UID
	// and Creates holds.
	Owner *Object
	// Explained is true when Owner creates objects of this kind and its pod template explains
	// the object's pod spec: the object is judged through Owner, not itself.
	Explained bool
	// Idle is true for a ReplicaSet scaled to zero whose Deployment controls it but whose
	// template is not the Deployment's (an old revision): it runs nothing and is not judged.
	Idle bool
	// Reason says why the object is judged itself ("" when Explained), naming the controller
	// and what it does not explain, for example "not explained by ReplicaSet web-abc's
	// template: container debug is not in the template".
	Reason string
}

// Provenance returns what o's controller reference establishes, or nil when o names no
// built-in controller (it is judged itself, as it always was). It is decided once per
// inventory.
func (inv *Inventory) Provenance(o *Object) *Provenance {
	if o.controllerRef == nil {
		return nil
	}
	inv.crossObject(func() string { return "the controller of " + o.Kind + " " + o.Name })
	return once(inv.mu, inv.provenance, o, func() *Provenance { return inv.decideProvenance(o) })
}

// JudgedThroughController reports whether o is not judged itself: the controller that created
// it, and whose template explains it, is judged instead (or it is an Idle old revision).
func (inv *Inventory) JudgedThroughController(o *Object) bool {
	p := inv.Provenance(o)
	return p != nil && (p.Explained || p.Idle)
}

// JudgedAs returns the object o is judged as: o itself, or, when its controller's template
// explains it, that controller, followed up the chain (a Pod's ReplicaSet's Deployment).
func (inv *Inventory) JudgedAs(o *Object) *Object {
	// Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob: no chain is longer.
	for range 3 {
		p := inv.Provenance(o)
		if p == nil || !p.Explained {
			return o
		}
		o = p.Owner
	}
	return o
}

func (inv *Inventory) decideProvenance(o *Object) *Provenance {
	ref := *o.controllerRef
	p := &Provenance{Ref: ref}
	ck := controllerKinds[ref.Kind]
	if ck.creates != o.Kind {
		p.Reason = fmt.Sprintf("its controller %s %s does not create %ss", ref.Kind, ref.Name, o.Kind)
		return p
	}
	p.Creates = true
	owner := inv.Get(ref.Kind, o.Namespace, ref.Name)
	switch {
	case owner == nil && inv.Complete:
		p.Reason = fmt.Sprintf("its controller %s %s does not exist", ref.Kind, ref.Name)
		return p
	case owner == nil:
		p.Reason = fmt.Sprintf("its controller %s %s is not among the objects given", ref.Kind, ref.Name)
		return p
	case owner.Obj.GetUID() != ref.UID:
		p.Reason = fmt.Sprintf("its controller reference names %s %s with UID %q, but that %s's UID is %q",
			ref.Kind, ref.Name, ref.UID, ref.Kind, owner.Obj.GetUID())
		return p
	}
	p.Owner = owner
	if owner.Workload == nil || o.Workload == nil {
		p.Reason = fmt.Sprintf("%s %s has no pod template to compare with", ref.Kind, ref.Name)
		return p
	}
	if owner.Workload.PodSpec == nil {
		// A compact workload (CompactWorkload): the stream that kept it reports
		// FullNeeded, and the evaluation is made again with whole objects.
		p.Reason = fmt.Sprintf("%s %s was kept without its pod template (compact form) and cannot be compared", ref.Kind, ref.Name)
		return p
	}
	if op := inv.Provenance(owner); op != nil && op.Idle {
		p.Reason = fmt.Sprintf("its controller %s %s is an old revision scaled to zero, which is not judged", ref.Kind, ref.Name)
		return p
	}
	d := diffs{}
	inv.compareTemplate(&d, owner, o)
	compareSelection(&d, inv, owner, o)
	compareToken(&d, inv, o)
	if d.total == 0 {
		p.Explained = true
		return p
	}
	p.Reason = fmt.Sprintf("not explained by %s %s's template: %s", ref.Kind, ref.Name, d.String())
	if rs, ok := o.Obj.(*appsv1.ReplicaSet); ok && rs.Spec.Replicas != nil && *rs.Spec.Replicas == 0 {
		p.Idle = true
	}
	return p
}

// compareToken records a Pod's automatic token that its ServiceAccount no longer grants.
// compareTemplate leaves out the projected token volume the ServiceAccount admission plugin adds,
// but the plugin adds it only while the ServiceAccount lets it (the pod spec setting nothing),
// and a Pod keeps it when the ServiceAccount is set to automountServiceAccountToken: false
// afterwards: its volumes cannot change. Its controller's template, judged with the
// ServiceAccount as it is now, then does not explain the token the Pod holds.
func compareToken(d *diffs, inv *Inventory, o *Object) {
	if o.Kind != "Pod" {
		return
	}
	spec := o.Workload.PodSpec
	if spec.AutomountServiceAccountToken != nil {
		return
	}
	token := tokenVolumes(spec)
	if len(token) == 0 {
		return
	}
	name := serviceAccount(spec)
	sa := inv.ServiceAccount(o.Namespace, name)
	if sa == nil || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		return
	}
	vols := slices.Sorted(maps.Keys(token))
	d.add("ServiceAccount %s sets automountServiceAccountToken: false, but the Pod holds the token the ServiceAccount admission plugin mounted (volume %s)",
		name, vols[0])
}

// maxDiffs bounds the differences a reason names.
const maxDiffs = 3

// diffs collects the differences found, naming the first few.
type diffs struct {
	named []string
	total int
}

func (d *diffs) add(format string, args ...any) {
	d.total++
	if len(d.named) < maxDiffs {
		d.named = append(d.named, fmt.Sprintf(format, args...))
	}
}

func (d *diffs) String() string {
	s := strings.Join(d.named, "; ")
	if more := d.total - len(d.named); more > 0 {
		s += fmt.Sprintf("; and %d more difference", more)
		if more > 1 {
			s += "s"
		}
	}
	return s
}

// compareTemplate records where obj's pod spec differs from what owner's pod template
// produces. It compares what the checks read and the system does not change:
//
//   - containers and init containers, matched by name, each in full except the values of its
//     resources and its resize policy (LimitRanger fills in defaults, the vertical pod
//     autoscaler and in-place resize change them; but every request and limit the template sets
//     must be there, not zero: nothing removes one), terminationMessage*, stdin/tty, the hostPort
//     a Pod on the host network gets from its containerPort (samePorts), an imagePullPolicy
//     of Always (the AlwaysPullImages admission plugin's, also on image volumes), the mount of the projected
//     service-account token volume, and in a Job's Pods the JOB_COMPLETION_INDEX variable the
//     Job controller appends for Indexed Jobs. An image may gain the digest of the template's reference
//     (admission that pins images by digest); an AppArmor annotation counts as the field the
//     API server copies it to;
//   - ephemeral containers: a template has none, so every one is a difference;
//   - volumes, matched by name, except the projected service-account token volume the
//     ServiceAccount admission plugin adds (kube-api-access-*, exactly its shape) and, for a
//     StatefulSet, the claims its volumeClaimTemplates make for the Pod's ordinal (claimVolumes);
//   - the pod securityContext (sysctls included), hostNetwork, hostPID, hostIPC, hostUsers,
//     shareProcessNamespace, the service account ("" is "default") and
//     automountServiceAccountToken, runtimeClassName, os, restartPolicy and resourceClaims
//     (the claims wl-device-admin-access reads), and the priorityClassName when the template
//     sets one;
//   - whether only Windows nodes may run the pod, when the template's node selector or
//     required node affinity says so: the checks judge such a template as Windows, which
//     explains no pod whose own spec lets Linux nodes run it (a DaemonSet's pods lose the
//     template's required node affinity, so only its node selector or spec.os.name carries
//     the OS to them); and whether a Windows node may run the pod, when the template keeps it
//     to Linux nodes: a Windows node applies windowsOptions, which the checks judge only on a
//     pod one may run (MayRunOnWindows);
//   - labels: every template label must be on the object with the same value (controllers and
//     users add labels, such as pod-template-hash; an added label is a difference only when it
//     changes which NetworkPolicy, Cilium or Calico policy, or PodDisruptionBudget selects the
//     object: compareSelection);
//   - the security annotations (AppArmor and seccomp), which must be the same.
//
// Not compared otherwise, because the system sets or changes them: nodeName, nodeSelector,
// affinity (DaemonSet node affinity), tolerations, topologySpreadConstraints, schedulerName,
// schedulingGates, priority, an empty template's priorityClassName (the Priority admission
// plugin fills in the global default), preemptionPolicy, overhead, the values of
// pod-level resources (each request and limit the template sets must be there), hostname and subdomain (StatefulSet), imagePullSecrets (added from the service
// account), dnsPolicy, dnsConfig, hostAliases, readinessGates,
// terminationGracePeriodSeconds, activeDeadlineSeconds, enableServiceLinks and
// setHostnameAsFQDN.
func (inv *Inventory) compareTemplate(d *diffs, owner, obj *Object) {
	tw, ow := owner.Workload, obj.Workload
	ts, gs := tw.PodSpec, ow.PodSpec
	tAnn, oAnn := podAnnotations(tw), podAnnotations(ow)

	token := tokenVolumes(gs)
	tVols := volumeIndex(ts, nil, nil)
	oVols := volumeIndex(gs, token, claimVolumes(owner, obj, gs))
	jobPod := owner.Kind == "Job"
	same := sameEnvValue(owner, obj)
	compareContainerList(d, "init container", ts.InitContainers, gs.InitContainers, ts, gs, tAnn, oAnn, token, jobPod, same)
	compareContainerList(d, "container", ts.Containers, gs.Containers, ts, gs, tAnn, oAnn, token, jobPod, same)
	for i := range gs.EphemeralContainers {
		d.add("ephemeral container %s is not in the template", gs.EphemeralContainers[i].Name)
	}
	compareVolumes(d, tVols, oVols)

	if ts.Resources != nil {
		var got corev1.ResourceRequirements
		if gs.Resources != nil {
			got = *gs.Resources
		}
		compareResources(d, "the pod's", *ts.Resources, got)
	}
	if !samePtr(orEmpty(ts.SecurityContext), orEmpty(gs.SecurityContext)) {
		d.add("the pod securityContext differs from the template's")
	}
	compareField(d, "hostNetwork", ts.HostNetwork, gs.HostNetwork)
	compareField(d, "hostPID", ts.HostPID, gs.HostPID)
	compareField(d, "hostIPC", ts.HostIPC, gs.HostIPC)
	compareField(d, "hostUsers", boolOr(ts.HostUsers, true), boolOr(gs.HostUsers, true))
	compareField(d, "shareProcessNamespace", boolOr(ts.ShareProcessNamespace, false), boolOr(gs.ShareProcessNamespace, false))
	compareField(d, "serviceAccountName", serviceAccount(ts), serviceAccount(gs))
	if !samePtr(ts.AutomountServiceAccountToken, gs.AutomountServiceAccountToken) {
		d.add("automountServiceAccountToken differs from the template's")
	}
	compareField(d, "runtimeClassName", stringOr(ts.RuntimeClassName), stringOr(gs.RuntimeClassName))
	if !samePtr(ts.OS, gs.OS) {
		d.add("os differs from the template's")
	}
	// The checks judge a pod that only Windows nodes may run as a Windows pod, to which the
	// Linux settings do not apply (WindowsPod); one whose own spec lets Linux nodes run it is
	// not explained by such a template. The object's own spec decides, whoever made it: a Pod
	// naming a controller may have been written by anyone who can read the controller's UID.
	// The DaemonSet controller replaces its pods' required node affinity with their node's name
	// (ReplaceDaemonSetPodNodeNameNodeAffinity in k8s.io/kubernetes v1.37.2
	// pkg/controller/daemon/util/daemonset_util.go), so a DaemonSet kept to Windows nodes by its
	// affinity alone explains none of its pods: without reading the Node, nothing in a Pod's
	// spec tells its controller's pods on Windows nodes from one a namespace admin runs on a
	// Linux node; its node selector and spec.os.name, which the controller copies, do.
	//
	// The OS is decided with the objects around the pods (WindowsPodOf, podos.go): a template
	// whose RuntimeClass admits only Windows nodes runs its pods there (the RuntimeClass
	// admission plugin gives them its node selector), and a DaemonSet's pod bound to a node
	// the kubelet labelled windows runs on Windows, whoever wrote it: such a pod is explained.
	if ts.OS == nil && inv.WindowsPodOf(owner) && !inv.WindowsPodOf(obj) {
		if owner.Kind == "DaemonSet" && !WindowsNodesOnly(inv.osSpec(owner), false) {
			d.add("the template runs only on Windows nodes by its required node affinity, which the DaemonSet controller " +
				"replaces in its pods with their node's name; the object's own spec does not keep it to Windows nodes " +
				"(a kubernetes.io/os: windows node selector or spec.os.name: windows in the template would)")
		} else {
			d.add("the template runs only on Windows nodes, the object does not")
		}
	}
	// The other way round: the checks judge the Windows settings (windowsOptions) only of a pod
	// that a Windows node may run (MayRunOnWindows), so a template kept to Linux nodes explains
	// no object whose own spec lets a Windows node run it, where its windowsOptions apply. A
	// DaemonSet's pods lose its required node affinity (above): one kept to Linux by affinity
	// alone explains its pods unless its windowsOptions name something, as then it matters.
	if ts.OS == nil && !inv.MayRunOnWindowsOf(owner) && inv.MayRunOnWindowsOf(obj) {
		switch {
		case owner.Kind != "DaemonSet" || nodesOfOSOnly(inv.osSpec(owner), corev1.Linux, false):
			d.add("the template runs only on Linux nodes, the object does not")
		case setsWindowsOptions(ts):
			d.add("the template runs only on Linux nodes by its required node affinity, which the DaemonSet controller " +
				"replaces in its pods with their node's name; the object's own spec lets a Windows node run it, which " +
				"applies the template's windowsOptions (a kubernetes.io/os: linux node selector in the template would not)")
		}
	}
	compareField(d, "restartPolicy", restartPolicy(ts), restartPolicy(gs))
	if ts.PriorityClassName != "" {
		// The Priority admission plugin fills in only an empty class (establishPriority in
		// k8s.io/kubernetes v1.37 plugin/pkg/admission/priority/admission.go), and a Pod's
		// class cannot change afterwards.
		compareField(d, "priorityClassName", ts.PriorityClassName, gs.PriorityClassName)
	}
	// The claims wl-device-admin-access judges the pod by: nothing in the system changes them
	// (the API server copies them from the template, and they cannot change afterwards).
	if !equality.Semantic.DeepEqual(ts.ResourceClaims, gs.ResourceClaims) {
		d.add("resourceClaims differ from the template's")
	}

	oLabels := podLabelsOf(ow)
	for k, v := range podLabelsOf(tw) {
		if got, ok := oLabels[k]; !ok || got != v {
			d.add("label %s differs from the template's", k)
		}
	}
	// Labels the object carries beyond the template's are compared by what they select
	// (compareSelection).
	for k, v := range tAnn {
		if isSecurityAnnotation(k) && oAnn[k] != v {
			d.add("annotation %s differs from the template's", k)
		}
	}
	for k := range oAnn {
		if _, ok := tAnn[k]; !ok && isSecurityAnnotation(k) {
			d.add("annotation %s is not in the template", k)
		}
	}
}

// setsWindowsOptions reports whether a pod spec sets windowsOptions, at pod level or in any
// container: the settings a Windows kubelet applies and a Linux one ignores.
func setsWindowsOptions(s *corev1.PodSpec) bool {
	if s.SecurityContext != nil && s.SecurityContext.WindowsOptions != nil {
		return true
	}
	for _, list := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range list {
			if sc := list[i].SecurityContext; sc != nil && sc.WindowsOptions != nil {
				return true
			}
		}
	}
	for i := range s.EphemeralContainers {
		if sc := s.EphemeralContainers[i].SecurityContext; sc != nil && sc.WindowsOptions != nil {
			return true
		}
	}
	return false
}

// ControllerPodLabels are, by the kind of a workload, the labels its controller puts on the
// pods it creates beside its template's (on a Deployment's, through the template of the
// ReplicaSet it creates), and whether some pods may lack them. Deployment: pod-template-hash, a
// hash of the template (pkg/controller/deployment/sync.go, getNewReplicaSet). StatefulSet:
// controller-revision-hash, and each pod's own name and ordinal
// (pkg/controller/statefulset/stateful_set_utils.go, newVersionedStatefulSetPod,
// updateIdentity). DaemonSet: controller-revision-hash and pod-template-generation, from the
// deprecated.daemonset.template.generation annotation (pkg/controller/daemon/util/
// daemonset_util.go, CreatePodTemplate), which the API server writes on every DaemonSet it
// serves as apps/v1, the only version it serves (pkg/apis/apps/v1/conversion.go,
// Convert_apps_DaemonSet_To_v1_DaemonSet). Job: job-name and controller-uid, old and new keys,
// which the API server puts in the template unless spec.manualSelector is true
// (pkg/registry/batch/job/strategy.go, generateSelector), and on an Indexed Job's pods their
// completion index (pkg/controller/job/indexed_job_utils.go); a CronJob's Jobs get the same in
// their templates. Their values are hashes, uids, names and numbers a workload's manifest does
// not give: the checks treat them as unknown (net-pod-policy-coverage), and compareSelection
// does not count them.
var ControllerPodLabels = map[string]map[string]bool{
	"Deployment":  {appsv1.DefaultDeploymentUniqueLabelKey: false},
	"StatefulSet": {appsv1.ControllerRevisionHashLabelKey: false, appsv1.StatefulSetPodNameLabel: false, appsv1.PodIndexLabel: false},
	"DaemonSet":   {appsv1.DefaultDaemonSetUniqueLabelKey: false, "pod-template-generation": false},
	"Job":         jobPodLabels,
	"CronJob":     jobPodLabels,
}

var jobPodLabels = map[string]bool{batchv1.JobNameLabel: true, "job-name": true, batchv1.ControllerUidLabel: true,
	"controller-uid": true, batchv1.JobCompletionIndexAnnotation: true}

// podSelector is a selector of a namespace that the checks read pods by.
type podSelector struct {
	kind, name string
	selector   labels.Selector
	// keys are the label keys its requirements name.
	keys map[string]bool
}

// podSelectors are the selectors of a namespace that the checks read pods by: each
// NetworkPolicy's podSelector, each Cilium and Calico policy's pod selector and each admin
// network policy's pod subject (net-pod-policy-coverage, net-namespace-default-deny;
// cniPodSelectors, adminPodSelectors), and each
// PodDisruptionBudget's selector (the avl-pdb checks). One that does not parse is left out, as
// the API server refuses it.
func podSelectors(inv *Inventory, namespace string) []podSelector {
	return inv.Memo(nil, "provenance.podSelectors "+namespace, func() any {
		var out []podSelector
		addSelector := func(o *Object, kind string, sel labels.Selector) {
			reqs, _ := sel.Requirements()
			keys := make(map[string]bool, len(reqs))
			for _, r := range reqs {
				keys[r.Key()] = true
			}
			out = append(out, podSelector{kind: kind, name: o.Name, selector: sel, keys: keys})
		}
		add := func(o *Object, ls *metav1.LabelSelector) {
			sel, err := metav1.LabelSelectorAsSelector(ls)
			if err != nil {
				return
			}
			addSelector(o, o.Kind, sel)
		}
		for _, o := range inv.List(namespace, "NetworkPolicy") {
			if np, ok := o.Obj.(*networkingv1.NetworkPolicy); ok {
				add(o, &np.Spec.PodSelector)
			}
		}
		cniPodSelectors(inv, namespace, addSelector)
		adminPodSelectors(inv, namespace, addSelector)
		for _, o := range inv.List(namespace, "PodDisruptionBudget") {
			if pdb, ok := o.Obj.(*policyv1.PodDisruptionBudget); ok {
				add(o, pdb.Spec.Selector)
			}
		}
		return out
	}).([]podSelector)
}

// compareSelection records the labels obj carries beyond its template's (other than those
// owner's kind sets, ControllerPodLabels) that change which selectors of the namespace select
// its pods (podSelectors): a label a namespace admin puts on a running Pod (kubectl label pod)
// can bring it under a NetworkPolicy that admits everything, or out of the default deny, which
// its controller's template does not show. A label no selector reads changes nothing the checks
// see, and is not a difference: controllers, webhooks, the PodTopologyLabels admission plugin
// (topology.kubernetes.io/zone and region, from the node) and people add labels.
func compareSelection(d *diffs, inv *Inventory, owner, obj *Object) {
	tLabels, oLabels := podLabelsOf(owner.Workload), podLabelsOf(obj.Workload)
	var added map[string]bool
	for k := range oLabels {
		if _, ok := tLabels[k]; ok {
			continue
		}
		if _, ok := ControllerPodLabels[owner.Kind][k]; ok {
			continue
		}
		if added == nil {
			added = map[string]bool{}
		}
		added[k] = true
	}
	if len(added) == 0 {
		return
	}
	var without labels.Set
	for _, s := range podSelectors(inv, obj.Namespace) {
		var read []string
		for k := range added {
			if s.keys[k] {
				read = append(read, k)
			}
		}
		if len(read) == 0 {
			continue
		}
		if without == nil {
			without = make(labels.Set, len(oLabels))
			for k, v := range oLabels {
				if !added[k] {
					without[k] = v
				}
			}
		}
		with := s.selector.Matches(labels.Set(oLabels))
		if with == s.selector.Matches(without) {
			continue
		}
		slices.Sort(read)
		what := "select"
		if !with {
			what = "no longer select"
		}
		noun, verb := "label", "makes"
		if len(read) > 1 {
			noun, verb = "labels", "make"
		}
		d.add("%s %s, which the template does not set, %s %s %s %s it", noun, strings.Join(read, ", "), verb, s.kind, s.name, what)
	}
}

func compareField[T comparable](d *diffs, name string, tmpl, got T) {
	if tmpl != got {
		d.add("%s is %v, the template's is %v", name, got, tmpl)
	}
}

// emptyPodSecurityContext stands for an unset pod securityContext; never modified.
var emptyPodSecurityContext corev1.PodSecurityContext

func orEmpty(sc *corev1.PodSecurityContext) *corev1.PodSecurityContext {
	if sc == nil {
		return &emptyPodSecurityContext
	}
	return sc
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func stringOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func serviceAccount(s *corev1.PodSpec) string {
	switch {
	case s.ServiceAccountName != "":
		return s.ServiceAccountName
	case s.DeprecatedServiceAccount != "":
		return s.DeprecatedServiceAccount
	}
	return "default"
}

func restartPolicy(s *corev1.PodSpec) corev1.RestartPolicy {
	if s.RestartPolicy == "" {
		return corev1.RestartPolicyAlways
	}
	return s.RestartPolicy
}

func podAnnotations(w *Workload) map[string]string {
	if w.PodMeta == nil {
		return nil
	}
	return w.PodMeta.Annotations
}

func podLabelsOf(w *Workload) map[string]string {
	if w.PodMeta == nil {
		return nil
	}
	return w.PodMeta.Labels
}

// Security annotations: the deprecated AppArmor and seccomp annotations the kubelet and the
// checks still read.
const (
	appArmorAnnotationPrefix         = "container.apparmor.security.beta.kubernetes.io/"
	seccompPodAnnotation             = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerAnnotationPrefix = "container.seccomp.security.alpha.kubernetes.io/"
)

func isSecurityAnnotation(k string) bool {
	return k == seccompPodAnnotation || strings.HasPrefix(k, appArmorAnnotationPrefix) ||
		strings.HasPrefix(k, seccompContainerAnnotationPrefix)
}

// containerField is one compared field of a container.
type containerField struct {
	name string
	same func(a, b *corev1.Container) bool
}

// containerFields are the container fields compared besides image, securityContext and
// volumeMounts, which need normalising. The comparisons are typed: this runs for every Pod,
// ReplicaSet and Job of the cluster on every evaluation.
var containerFields = []containerField{
	{"command", func(a, b *corev1.Container) bool { return slices.Equal(a.Command, b.Command) }},
	{"args", func(a, b *corev1.Container) bool { return slices.Equal(a.Args, b.Args) }},
	{"workingDir", func(a, b *corev1.Container) bool { return a.WorkingDir == b.WorkingDir }},
	{"envFrom", func(a, b *corev1.Container) bool { return sameSlice(a.EnvFrom, b.EnvFrom) }},
	{"volumeDevices", func(a, b *corev1.Container) bool { return slices.Equal(a.VolumeDevices, b.VolumeDevices) }},
	{"livenessProbe", func(a, b *corev1.Container) bool { return samePtr(a.LivenessProbe, b.LivenessProbe) }},
	{"readinessProbe", func(a, b *corev1.Container) bool { return samePtr(a.ReadinessProbe, b.ReadinessProbe) }},
	{"startupProbe", func(a, b *corev1.Container) bool { return samePtr(a.StartupProbe, b.StartupProbe) }},
	{"lifecycle", func(a, b *corev1.Container) bool { return samePtr(a.Lifecycle, b.Lifecycle) }},
	// Always in the Pod is what the AlwaysPullImages admission plugin sets on every container of
	// a Pod (k8s.io/kubernetes v1.37.2 plugin/pkg/admission/alwayspullimages), not on templates.
	{"imagePullPolicy", func(a, b *corev1.Container) bool {
		return a.ImagePullPolicy == b.ImagePullPolicy || b.ImagePullPolicy == corev1.PullAlways
	}},
	{"restartPolicy", func(a, b *corev1.Container) bool { return samePtr(a.RestartPolicy, b.RestartPolicy) }},
	{"restartPolicyRules", func(a, b *corev1.Container) bool { return sameSlice(a.RestartPolicyRules, b.RestartPolicyRules) }},
}

// samePorts compares two containers' ports. On the host network they are compared as the API
// server leaves them in a Pod: SetDefaults_Pod (k8s.io/kubernetes v1.37.2 pkg/apis/core/v1) sets
// each port's unset hostPort to its containerPort, in Pods only, so a Pod of a host-network
// template has hostPorts its template does not spell.
func samePorts(tmpl, got []corev1.ContainerPort, hostNetwork bool) bool {
	if !hostNetwork {
		return slices.Equal(tmpl, got)
	}
	if len(tmpl) != len(got) {
		return false
	}
	for i := range tmpl {
		t, g := tmpl[i], got[i]
		if t.HostPort == 0 {
			t.HostPort = t.ContainerPort
		}
		if g.HostPort == 0 {
			g.HostPort = g.ContainerPort
		}
		if t != g {
			return false
		}
	}
	return true
}

// samePtr: both nil, or equal values. reflect.DeepEqual is the fast path for the common case
// (equal); only when it sees a difference does apimachinery's semantic equality decide (an
// empty list equals a missing one, quantities compare by value), which is slower.
func samePtr[T any](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || reflect.DeepEqual(a, b) || equality.Semantic.DeepEqual(a, b)
}

// sameSlice: both empty (nil or not), or equal, as samePtr decides.
func sameSlice[T any](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || reflect.DeepEqual(a, b) || equality.Semantic.DeepEqual(a, b)
}

// isCompletionIndexEnv: the variable the Job controller appends to the containers of an Indexed
// Job's Pods (addCompletionIndexEnvVariable in k8s.io/kubernetes v1.37
// pkg/controller/job/indexed_job_utils.go).
func isCompletionIndexEnv(e *corev1.EnvVar) bool {
	v := e.ValueFrom
	return e.Name == "JOB_COMPLETION_INDEX" && e.Value == "" && v != nil && v.FieldRef != nil &&
		v.FieldRef.FieldPath == "metadata.labels['batch.kubernetes.io/job-completion-index']" &&
		*v == (corev1.EnvVarSource{FieldRef: v.FieldRef})
}

// EnvStandIns is implemented by the Digest of a workload whose env values the operator's
// informer cache replaced by stand-ins (checks.ReduceEnvValues): EnvStandIn is the stand-in of
// a value, the same for the same value and made by no one else. The admission webhook compares
// a Pod it is asked about, whole, with its controller's template as the cache keeps it.
type EnvStandIns interface {
	EnvStandIn(value string) string
}

// sameEnvValue compares a value of the template's env with one of obj's: the same, or the one
// is the stand-in of the other where only one of them was replaced (EnvStandIns).
func sameEnvValue(owner, obj *Object) func(t, g string) bool {
	ts, _ := owner.Digest.(EnvStandIns)
	gs, _ := obj.Digest.(EnvStandIns)
	return func(t, g string) bool {
		return t == g || ts != nil && ts.EnvStandIn(g) == t || gs != nil && gs.EnvStandIn(t) == g
	}
}

func sameEnv(a, b []corev1.EnvVar, same func(t, g string) bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !same(a[i].Value, b[i].Value) || !samePtr(a[i].ValueFrom, b[i].ValueFrom) {
			return false
		}
	}
	return true
}

func compareContainerList(d *diffs, what string, tmpl, got []corev1.Container, ts, gs *corev1.PodSpec,
	tAnn, oAnn map[string]string, skipMount map[string]bool, jobPod bool, same func(t, g string) bool) {
	for i := range got {
		g := &got[i]
		t := findContainer(tmpl, g.Name)
		if t == nil {
			d.add("%s %s is not in the template", what, g.Name)
			continue
		}
		if !imageExplained(t.Image, g.Image) {
			d.add("%s %s runs image %s, the template's runs %s", what, g.Name, g.Image, t.Image)
		}
		if !samePorts(t.Ports, g.Ports, ts.HostNetwork && gs.HostNetwork) {
			d.add("%s %s's ports differs from the template's", what, g.Name)
		}
		for _, f := range containerFields {
			if !f.same(t, g) {
				d.add("%s %s's %s differs from the template's", what, g.Name, f.name)
			}
		}
		env := g.Env
		if jobPod && len(env) == len(t.Env)+1 && isCompletionIndexEnv(&env[len(env)-1]) {
			env = env[:len(env)-1]
		}
		if !sameEnv(t.Env, env, same) {
			d.add("%s %s's env differs from the template's", what, g.Name)
		}
		if !samePtr(effectiveSC(t, ts, tAnn), effectiveSC(g, gs, oAnn)) {
			d.add("%s %s's securityContext differs from the template's", what, g.Name)
		}
		if !mountsEqual(t.VolumeMounts, g.VolumeMounts, skipMount) {
			d.add("%s %s's volumeMounts differ from the template's", what, g.Name)
		}
		compareResources(d, what+" "+g.Name+"'s", t.Resources, g.Resources)
	}
	for i := range tmpl {
		if findContainer(got, tmpl[i].Name) == nil {
			d.add("the template's %s %s is missing", what, tmpl[i].Name)
		}
	}
}

// compareResources records each request and limit the template sets (not to zero) that got
// lacks or sets to zero. Their values may differ (the vertical pod autoscaler and in-place resize
// change them), but nothing removes one: LimitRanger only adds what is missing
// (mergeContainerResources in k8s.io/kubernetes v1.37 plugin/pkg/admission/limitranger), Pod
// defaulting only adds requests (SetDefaults_Pod in pkg/apis/core/v1/defaults.go), and a resize
// may not remove one (validateContainerResize in pkg/apis/core/validation/validation.go).
func compareResources(d *diffs, whose string, tmpl, got corev1.ResourceRequirements) {
	for _, l := range []struct {
		name      string
		tmpl, got corev1.ResourceList
	}{{"requests", tmpl.Requests, got.Requests}, {"limits", tmpl.Limits, got.Limits}} {
		// Sorted only when something is dropped: this runs for every container of every Pod a
		// controller explains.
		var dropped []corev1.ResourceName
		for name, q := range l.tmpl {
			if q.IsZero() {
				continue
			}
			if g, ok := l.got[name]; !ok || g.IsZero() {
				dropped = append(dropped, name)
			}
		}
		slices.Sort(dropped)
		for _, name := range dropped {
			d.add("%s resources.%s drops %s", whose, l.name, name)
		}
	}
}

func findContainer(list []corev1.Container, name string) *corev1.Container {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// imageExplained: the same reference, or the template's reference pinned to a digest.
func imageExplained(tmpl, got string) bool {
	if tmpl == got {
		return true
	}
	return !strings.Contains(tmpl, "@") && strings.HasPrefix(got, tmpl+"@sha256:")
}

// effectiveSC is the container's securityContext with the AppArmor profile that the API server
// copies from the deprecated annotation into the field (applyAppArmorVersionSkew in
// k8s.io/kubernetes v1.37 pkg/registry/core/pod/strategy.go: only when the field is unset and
// the profile differs from the pod's).
func effectiveSC(c *corev1.Container, spec *corev1.PodSpec, ann map[string]string) *corev1.SecurityContext {
	sc := c.SecurityContext
	if sc == nil {
		sc = &emptySecurityContext
	}
	if sc.AppArmorProfile != nil || len(ann) == 0 {
		return sc
	}
	a, ok := ann[appArmorAnnotationPrefix+c.Name]
	if !ok {
		return sc
	}
	var p *corev1.AppArmorProfile
	switch {
	case a == "runtime/default":
		p = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	case a == "unconfined":
		p = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	case strings.HasPrefix(a, "localhost/"):
		name := strings.TrimPrefix(a, "localhost/")
		p = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
	default:
		return sc
	}
	if spec.SecurityContext != nil && samePtr(p, spec.SecurityContext.AppArmorProfile) {
		return sc
	}
	cp := *sc
	cp.AppArmorProfile = p
	return &cp
}

// emptySecurityContext stands for an unset securityContext; never modified.
var emptySecurityContext corev1.SecurityContext

// mountsEqual compares two mount lists in order, leaving out the mounts of volumes in skip.
func mountsEqual(tmpl, got []corev1.VolumeMount, skip map[string]bool) bool {
	i, j := 0, 0
	for {
		for i < len(tmpl) && skip[tmpl[i].Name] {
			i++
		}
		for j < len(got) && skip[got[j].Name] {
			j++
		}
		if i == len(tmpl) || j == len(got) {
			return i == len(tmpl) && j == len(got)
		}
		if !sameMount(&tmpl[i], &got[j]) {
			return false
		}
		i++
		j++
	}
}

func sameMount(a, b *corev1.VolumeMount) bool {
	return a.Name == b.Name && a.MountPath == b.MountPath && a.ReadOnly == b.ReadOnly && a.SubPath == b.SubPath &&
		a.SubPathExpr == b.SubPathExpr && samePtr(a.MountPropagation, b.MountPropagation) &&
		samePtr(a.RecursiveReadOnly, b.RecursiveReadOnly)
}

// volumes is a pod spec's volumes by name, with the ones the system adds left out.
type volumes struct {
	byName map[string]*corev1.Volume
	order  []string
	skip   map[string]bool
}

func volumeIndex(s *corev1.PodSpec, token, claims map[string]bool) volumes {
	v := volumes{byName: make(map[string]*corev1.Volume, len(s.Volumes))}
	for i := range s.Volumes {
		vol := &s.Volumes[i]
		if token[vol.Name] || claims[vol.Name] {
			continue
		}
		v.byName[vol.Name] = vol
		v.order = append(v.order, vol.Name)
	}
	if len(token)+len(claims) > 0 {
		v.skip = make(map[string]bool, len(token)+len(claims))
		for k := range token {
			v.skip[k] = true
		}
		for k := range claims {
			v.skip[k] = true
		}
	}
	return v
}

func compareVolumes(d *diffs, tmpl, got volumes) {
	for _, name := range got.order {
		t := tmpl.byName[name]
		switch {
		case t == nil && !got.skip[name]:
			d.add("volume %s is not in the template", name)
		case t != nil && !sameVolumeSource(&t.VolumeSource, &got.byName[name].VolumeSource):
			d.add("volume %s differs from the template's", name)
		}
	}
	for _, name := range tmpl.order {
		if got.byName[name] == nil && !got.skip[name] {
			d.add("the template's volume %s is missing", name)
		}
	}
}

// sameVolumeSource compares a template's volume source with an object's. An image volume
// pulled Always in the object is what the AlwaysPullImages admission plugin sets on every image
// volume of a Pod, as on its containers: the reference must still be the template's.
func sameVolumeSource(tmpl, got *corev1.VolumeSource) bool {
	if tmpl.Image != nil && got.Image != nil && got.Image.PullPolicy == corev1.PullAlways && tmpl.Image.PullPolicy != corev1.PullAlways {
		t := *tmpl
		img := *tmpl.Image
		img.PullPolicy = corev1.PullAlways
		t.Image = &img
		return samePtr(&t, got)
	}
	return samePtr(tmpl, got)
}

// tokenVolumePrefix names the volume the ServiceAccount admission plugin adds
// (k8s.io/kubernetes v1.37 plugin/pkg/admission/serviceaccount: ServiceAccountVolumeName).
const tokenVolumePrefix = "kube-api-access-"

// tokenVolumes are the names of the volumes that are exactly the projected service-account
// token volume the ServiceAccount admission plugin adds (TokenVolumeSource there): mode 0644, a
// token at "token" expiring in 3607 s, kube-root-ca.crt's ca.crt, and the namespace.
func tokenVolumes(s *corev1.PodSpec) map[string]bool {
	var out map[string]bool
	for i := range s.Volumes {
		v := &s.Volumes[i]
		if strings.HasPrefix(v.Name, tokenVolumePrefix) && isTokenSource(v.VolumeSource) {
			if out == nil {
				out = map[string]bool{}
			}
			out[v.Name] = true
		}
	}
	return out
}

func isTokenSource(src corev1.VolumeSource) bool {
	p := src.Projected
	if p == nil || p.DefaultMode == nil || *p.DefaultMode != corev1.ProjectedVolumeSourceDefaultMode || len(p.Sources) != 3 {
		return false
	}
	if only := (corev1.VolumeSource{Projected: p}); src != only {
		return false
	}
	tok, cm, dn := &p.Sources[0], &p.Sources[1], &p.Sources[2]
	if *tok != (corev1.VolumeProjection{ServiceAccountToken: tok.ServiceAccountToken}) ||
		*cm != (corev1.VolumeProjection{ConfigMap: cm.ConfigMap}) || *dn != (corev1.VolumeProjection{DownwardAPI: dn.DownwardAPI}) {
		return false
	}
	t := tok.ServiceAccountToken
	if t == nil || t.Path != "token" || t.Audience != "" || t.ExpirationSeconds == nil || *t.ExpirationSeconds != 3607 {
		return false
	}
	c := cm.ConfigMap
	if c == nil || c.Name != "kube-root-ca.crt" || c.Optional != nil || len(c.Items) != 1 ||
		c.Items[0] != (corev1.KeyToPath{Key: "ca.crt", Path: "ca.crt"}) {
		return false
	}
	d := dn.DownwardAPI
	return d != nil && len(d.Items) == 1 && d.Items[0].Path == "namespace" && d.Items[0].Mode == nil &&
		d.Items[0].ResourceFieldRef == nil && d.Items[0].FieldRef != nil &&
		*d.Items[0].FieldRef == (corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"})
}

// claimVolumes are, for a StatefulSet's Pod, the volumes the StatefulSet controller sets from
// its volumeClaimTemplates: a PersistentVolumeClaim volume named after a claim template whose
// claim is the one the controller makes for the Pod's ordinal (updateStorage in
// k8s.io/kubernetes v1.37 pkg/controller/statefulset/stateful_set_utils.go), of a replica the
// StatefulSet runs (ClaimOrdinals: the claims its own judgement reads). A volume on any other
// claim is a difference: nothing judged reads that claim.
func claimVolumes(owner, obj *Object, s *corev1.PodSpec) map[string]bool {
	sts, ok := owner.Obj.(*appsv1.StatefulSet)
	if !ok || len(sts.Spec.VolumeClaimTemplates) == 0 {
		return nil
	}
	ordinal, ok := podOrdinal(obj.Name)
	if first, end := owner.Workload.ClaimOrdinals(); !ok || ordinal < first || ordinal >= end {
		return nil
	}
	out := map[string]bool{}
	for i := range sts.Spec.VolumeClaimTemplates {
		name := sts.Spec.VolumeClaimTemplates[i].Name
		claim := StatefulSetClaim(name, sts.Name, ordinal)
		for j := range s.Volumes {
			if v := &s.Volumes[j]; v.Name == name && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
				out[name] = true
			}
		}
	}
	return out
}

// podOrdinal is the ordinal the StatefulSet controller reads from a Pod's name: the decimal
// number after its last '-' (getParentNameAndOrdinal in k8s.io/kubernetes v1.37
// pkg/controller/statefulset/stateful_set_utils.go).
func podOrdinal(name string) (int, bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return 0, false
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(name[i+1:], 10, 32)
	return int(n), err == nil
}
