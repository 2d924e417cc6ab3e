package checks

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Argo Rollouts' Rollout (argoproj.io/v1alpha1, the only version it serves), as
// github.com/argoproj/argo-rollouts v1.10.2 defines and handles it. A Rollout with a
// spec.workloadRef has no pod template of its own: the controller copies the template of the
// Deployment it names, in its own namespace (rollout/templateref.go, Resolve), into the
// ReplicaSets it creates and scales to its own replicas (1 when unset,
// defaults.GetReplicasOrDefault). With workloadRef.scaleDown onsuccess it scales that Deployment
// to 0 once the Rollout's first revision is healthy (rollout/sync.go); with progressively, to its
// replicas less the Rollout's ready ones as they come up, and to 0 once healthy
// (rollout/replicaset.go, reconcileNewReplicaSet); never (the default) leaves it alone, and the
// documented migration then scales it to 0 by hand. Either way the Deployment's template runs as
// the Rollout's pods, and the Deployment's own replicas are not what runs.
const (
	argoGroupVersion = "argoproj.io/v1alpha1"
	argoRolloutKind  = "Rollout"
)

// argoRolloutPodsText says in the descriptions of the checks that count a workload's pods how a
// Deployment whose template an Argo Rollout runs is counted (scaledAs).
const argoRolloutPodsText = " In a scan, a Deployment whose template an Argo Rollout runs in its stead (as avl-replicas says) " +
	"counts as the Rollout's pods: the Rollout's replicas and autoscalers, those of every Rollout that runs it added up (each runs its own ReplicaSets)."

// argoRolloutSpec is what the checks read of a Rollout's spec.
type argoRolloutSpec struct {
	Replicas        *int32 `json:"replicas"`
	MinReadySeconds int32  `json:"minReadySeconds"`
	// Paused is spec.paused, which kubectl argo rollouts pause sets (argoRolloutPaused).
	Paused bool `json:"paused"`
	// ProgressDeadlineSeconds is 600 when unset (defaults.GetProgressDeadlineSecondsOrDefault).
	ProgressDeadlineSeconds *int32                `json:"progressDeadlineSeconds"`
	Selector                *metav1.LabelSelector `json:"selector"`
	WorkloadRef             *struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Name       string `json:"name"`
		ScaleDown  string `json:"scaleDown"`
	} `json:"workloadRef"`
	Template *struct {
		Metadata struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	} `json:"template"`
	Strategy struct {
		Canary    map[string]any `json:"canary"`
		BlueGreen map[string]any `json:"blueGreen"`
	} `json:"strategy"`
}

// argoCanarySpec is what the checks read of a Rollout's spec.strategy.canary.
type argoCanarySpec struct {
	Strategy struct {
		Canary *struct {
			MaxSurge       *intstr.IntOrString `json:"maxSurge"`
			MaxUnavailable *intstr.IntOrString `json:"maxUnavailable"`
			TrafficRouting map[string]any      `json:"trafficRouting"`
		} `json:"canary"`
	} `json:"strategy"`
}

// argoRollout is a Rollout that runs the template of a Deployment of its namespace
// (workloadRef), read.
type argoRollout struct {
	obj *engine.Object
	// refKind is the kind workloadRef names: Deployment, or ReplicaSet or PodTemplate, whose
	// template the Rollout runs but which name a Deployment it scales down (argoScalesDownByName).
	refKind string
	// deployment is the name workloadRef names.
	deployment string
	replicas   int32
	// replicasSet is false when spec.replicas is unset (replicas is then 1, as Argo Rollouts
	// reads it, unless an autoscaler sets it).
	replicasSet bool
	scaleDown   string
	// paused is spec.paused: Argo Rollouts rolls out nothing until it is resumed.
	paused bool
	// selector is the Rollout's own spec.selector, nil when unset (the Deployment's then).
	selector *metav1.LabelSelector
	// basicCanary is the Rollout's canary strategy when it has no trafficRouting (Argo Rollouts
	// then scales the ReplicaSets by maxSurge and maxUnavailable), nil otherwise.
	basicCanary *engine.Rollout
}

// argoRollouts reads the Rollouts of the evaluation that run another object's template, by the
// object their workloadRef names (a Deployment, ReplicaSet or PodTemplate), each list sorted by
// the Rollout's name, once per evaluation.
func argoRollouts(inv *engine.Inventory) map[workloadRef][]*argoRollout {
	return inv.Memo(nil, "availability.argoRollouts", func() any {
		idx := map[workloadRef][]*argoRollout{}
		for _, o := range inv.ListKind(argoRolloutKind) {
			if r := readArgoRollout(inv, o); r != nil {
				group := "apps"
				if r.refKind == "PodTemplate" {
					group = ""
				}
				k := workloadRef{o.Namespace, group, r.refKind, r.deployment}
				idx[k] = append(idx[k], r)
			}
		}
		for _, rs := range idx {
			sort.Slice(rs, func(i, j int) bool { return rs[i].obj.Name < rs[j].obj.Name })
		}
		return idx
	}).(map[workloadRef][]*argoRollout)
}

// argoTemplateKinds are the apiVersions and kinds whose template a Rollout's workloadRef may name
// (rollout/templateref.go infoByGroupKind, at the versions the API server serves).
var argoTemplateKinds = map[[2]string]bool{
	{"apps/v1", "Deployment"}: true, {"apps/v1", "ReplicaSet"}: true, {"v1", "PodTemplate"}: true,
}

// readArgoRollout reads a Rollout that runs the template of the Deployment, ReplicaSet or
// PodTemplate its workloadRef names, or returns nil: it has no such workloadRef (a template of
// its own), or Argo Rollouts refuses it and creates nothing (InvalidSpec, argo-rollouts v1.10.2
// pkg/apis/rollouts/validation and rollout/templateref.go: a template of its own with labels or
// annotations beside the workloadRef, negative replicas, neither or both of the canary and
// blueGreen strategies, a progressDeadlineSeconds not above minReadySeconds), or in a scan the API
// server refuses its manifest's metadata.
func readArgoRollout(inv *engine.Inventory, o *engine.Object) *argoRollout {
	if o.Kind != argoRolloutKind || o.APIVersion != argoGroupVersion || refusedCustomResource(inv, o, true) != "" {
		return nil
	}
	var spec argoRolloutSpec
	if !readSpec(o, &spec) {
		return nil
	}
	ref := spec.WorkloadRef
	if ref == nil || ref.Name == "" || !argoTemplateKinds[[2]string{ref.APIVersion, ref.Kind}] {
		return nil
	}
	replicas := int32(1)
	if spec.Replicas != nil {
		replicas = *spec.Replicas
	}
	deadline := int32(600)
	if spec.ProgressDeadlineSeconds != nil {
		deadline = *spec.ProgressDeadlineSeconds
	}
	switch {
	case spec.Template != nil && (len(spec.Template.Metadata.Labels) > 0 || len(spec.Template.Metadata.Annotations) > 0),
		replicas < 0,
		(spec.Strategy.Canary == nil) == (spec.Strategy.BlueGreen == nil),
		deadline <= spec.MinReadySeconds,
		argoRefusal(o) != "":
		return nil
	}
	r := &argoRollout{obj: o, refKind: ref.Kind, deployment: ref.Name, replicas: replicas, replicasSet: spec.Replicas != nil, scaleDown: ref.ScaleDown, paused: spec.Paused, selector: spec.Selector}
	var canary argoCanarySpec
	if readSpec(o, &canary) {
		if c := canary.Strategy.Canary; c != nil && c.TrafficRouting == nil {
			r.basicCanary = &engine.Rollout{RollingUpdate: true, MaxSurge: c.MaxSurge, MaxUnavailable: c.MaxUnavailable}
		}
	}
	return r
}

// rolloutRunning is a Rollout that runs a Deployment's template instead of the Deployment, the
// object that stands for it (its kind, name and the replicas it is judged at, for its
// autoscalers to be found) and why the Deployment is judged by it.
type rolloutRunning struct {
	rollout *argoRollout
	standIn *engine.Object
	why     string
	// running is, in the operator's view, what the Rollout's ReplicaSets run of the template
	// (at most the Rollout's replicas): an autoscaler aimed at the Rollout changes the Rollout's
	// replicas only, and only Argo Rollouts, which may not run, scales the ReplicaSets. -1 in a
	// scan.
	running int32
}

// rolloutsRunning returns the Rollouts that run Deployment o's template in its stead, or none.
//
// In a scan, one whose workloadRef.scaleDown is onsuccess or progressively, which scales the
// Deployment to 0, and one of a Deployment whose replicas are 0: the template runs at the
// Rollout's replicas. Every valid Rollout of the Deployment's template runs its own ReplicaSets
// of it, whatever its scaleDown (which decides only whether it scales the Deployment: argo-rollouts
// v1.10.2 rollout/sync.go and replicaset.go, scaleDeployment), and their pods add up: once one
// scales the Deployment to 0, a Rollout with scaleDown never runs the template in its stead too.
//
// In the operator's view a Rollout is what a namespace's admin writes, naming any Deployment of
// the namespace, and its replicas are a claim: the controller may not run, or may have refused
// it, paused it, or aborted its update. A Deployment at 0 replicas is judged by what the
// Rollout's ReplicaSets run: those whose controller reference names the Rollout by its UID and
// whose pod spec is the Deployment's template's (its labels kept, the Rollout's
// rollouts-pod-template-hash and any metadata it adds beside them), counted at their replicas,
// which the ReplicaSet controller runs whatever the Rollout is, and at most the Rollout's own
// (the controller brings them down to it). None (no such ReplicaSet, all at 0: the Rollout's
// pods do not exist, or run another template, an aborted update's stable revision) leaves the
// Deployment judged by its own 0. A Deployment that runs replicas of its own is judged by them.
func rolloutsRunning(inv *engine.Inventory, o *engine.Object) []rolloutRunning {
	if o.Kind != "Deployment" || apiGroup(o.APIVersion) != "apps" || o.Workload == nil {
		return nil
	}
	rollouts := argoRollouts(inv)[workloadRef{o.Namespace, "apps", "Deployment", o.Name}]
	if len(rollouts) == 0 {
		return nil
	}
	scaledToZero := o.Workload.Replicas != nil && *o.Workload.Replicas == 0
	// In a scan, the first Rollout that scales the Deployment to 0: every other Rollout of its
	// template then runs it in the Deployment's stead too, whatever its own scaleDown.
	scaledDownBy := ""
	for _, r := range rollouts {
		if !inv.Complete && (r.scaleDown == "onsuccess" || r.scaleDown == "progressively") && !argoSelectorRefuses(r, o.Workload.PodLabels()) {
			scaledDownBy = r.obj.Name
			break
		}
	}
	var out []rolloutRunning
	for _, r := range rollouts {
		replicas, why, counted := r.replicas, "", int32(-1)
		switch {
		case argoSelectorRefuses(r, o.Workload.PodLabels()):
			continue
		case inv.Complete && !scaledToZero:
			continue
		case inv.Complete:
			running, sets := rolloutReplicaSets(inv, r, o)
			if running == 0 {
				continue
			}
			replicas = min(replicas, running)
			counted = replicas
			why = fmt.Sprintf("it runs no replica itself; Argo Rollout %q runs its template (workloadRef) in ReplicaSet %s", r.obj.Name, quoteList(sets))
		case r.scaleDown == "onsuccess" || r.scaleDown == "progressively":
			why = fmt.Sprintf("Argo Rollout %q runs its template (workloadRef) and scales it to 0 (scaleDown: %s)", r.obj.Name, r.scaleDown)
		case scaledToZero:
			why = fmt.Sprintf("it runs no replica itself; Argo Rollout %q runs its template (workloadRef)", r.obj.Name)
		case scaledDownBy != "":
			why = fmt.Sprintf("Argo Rollout %q runs its template (workloadRef) too, while Argo Rollout %q scales it to 0", r.obj.Name, scaledDownBy)
		default:
			continue
		}
		n := replicas
		standIn := &engine.Object{APIVersion: r.obj.APIVersion, Kind: r.obj.Kind, Namespace: r.obj.Namespace, Name: r.obj.Name,
			Obj: r.obj.Obj, Workload: &engine.Workload{Replicas: &n}}
		out = append(out, rolloutRunning{rollout: r, standIn: standIn, why: why, running: counted})
	}
	return out
}

// rolloutReplicaSets counts the replicas of the ReplicaSets that Rollout r controls (by its UID)
// and that run Deployment d's template, with their names, sorted.
func rolloutReplicaSets(inv *engine.Inventory, r *argoRollout, d *engine.Object) (running int32, names []string) {
	for _, o := range inv.List(d.Namespace, "ReplicaSet") {
		if rolloutRunsTemplate(r, o, d) {
			if n := replicasOf(o); n > 0 {
				running += n
				names = append(names, o.Name)
			}
		}
	}
	sort.Strings(names)
	return running, names
}

// rolloutRunsTemplate reports whether ReplicaSet o is Rollout r's (its controller reference names
// r by its UID) and runs Deployment d's template: the same pod spec, and the template's labels
// (the Rollout adds its rollouts-pod-template-hash, and may add its ephemeral metadata).
func rolloutRunsTemplate(r *argoRollout, o, d *engine.Object) bool {
	rs, ok := o.Obj.(*appsv1.ReplicaSet)
	dep, isDep := d.Obj.(*appsv1.Deployment)
	uid := r.obj.Obj.GetUID()
	if !ok || !isDep || uid == "" {
		return false
	}
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil || ref.Kind != argoRolloutKind || apiGroup(ref.APIVersion) != "argoproj.io" || ref.Name != r.obj.Name || ref.UID != uid {
		return false
	}
	return apiequality.Semantic.DeepEqual(rs.Spec.Template.Spec, dep.Spec.Template.Spec) && labelsKept(dep.Spec.Template.Labels, rs.Spec.Template.Labels)
}

// rolloutRevision returns, in the operator's view, the Rollout that controls ReplicaSet o and
// the Deployment whose template it runs (rolloutRunsTemplate), or nil: the Deployment's result
// judges that template, counting the ReplicaSet's replicas when the Deployment runs none itself
// (rolloutsRunning), and by its own replicas, which the Rollout's pods add to, otherwise.
func rolloutRevision(inv *engine.Inventory, o *engine.Object) (rollout, deployment *engine.Object) {
	ref := metav1.GetControllerOfNoCopy(o.Obj)
	if !inv.Complete || o.Kind != "ReplicaSet" || ref == nil || ref.Kind != argoRolloutKind || apiGroup(ref.APIVersion) != "argoproj.io" {
		return nil, nil
	}
	r := argoRolloutsByName(inv)[[2]string{o.Namespace, ref.Name}]
	if r == nil {
		return nil, nil
	}
	d := inv.Get("Deployment", o.Namespace, r.deployment)
	if d == nil || !rolloutRunsTemplate(r, o, d) || d.Workload == nil || argoSelectorRefuses(r, d.Workload.PodLabels()) {
		return nil, nil
	}
	return r.obj, d
}

// argoRolloutsByName indexes the Rollouts argoRollouts reads that run a Deployment's template by
// their namespace and name, once per evaluation.
func argoRolloutsByName(inv *engine.Inventory) map[[2]string]*argoRollout {
	return inv.Memo(nil, "availability.argoRolloutsByName", func() any {
		idx := map[[2]string]*argoRollout{}
		for k, rs := range argoRollouts(inv) {
			if k.kind != "Deployment" {
				continue
			}
			for _, r := range rs {
				idx[[2]string{r.obj.Namespace, r.obj.Name}] = r
			}
		}
		return idx
	}).(map[[2]string]*argoRollout)
}

// labelsKept reports whether every label of want is in got with its value.
func labelsKept(want, got map[string]string) bool {
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			return false
		}
	}
	return true
}

// argoRolloutStopsAll says how an Argo Rollout that runs Deployment o's template in its stead
// (rolloutsRunning: in the cluster, only one whose ReplicaSets run it) stops every pod it runs at
// once when it rolls out a change, or "". A basic canary (no trafficRouting) scales the old
// ReplicaSets down to the Rollout's replicas less maxUnavailable whatever the new pods' state
// (argo-rollouts v1.10.2 rollout/canary.go scaleDownOldReplicaSetsForCanary,
// utils/replicaset/canary.go CalculateReplicaCountsForBasicCanary), maxUnavailable and maxSurge
// resolved as the deployment controller does (utils/replicaset resolveFenceposts: 25% each by
// default, a percentage of the replicas, unavailable rounded down, 1 when both come to 0), so
// stopsAllAtOnce judges it, at the fewest replicas an autoscaler of the Rollout keeps it at, else
// its replicas (unset: only a maxUnavailable of 100% is judged). A canary with trafficRouting keeps
// the stable ReplicaSet until the new one is promoted, and blueGreen keeps the active ReplicaSet
// until the new one is available (its maxUnavailable bounds restarts only): neither is judged.
func argoRolloutStopsAll(inv *engine.Inventory, o *engine.Object) string {
	for _, rr := range rolloutsRunning(inv, o) {
		c := rr.rollout.basicCanary
		if c == nil {
			continue
		}
		var replicas *int32
		if rr.rollout.replicasSet {
			n := rr.rollout.replicas
			replicas = &n
		}
		at := ""
		if h := autoscalerOf(inv, rr.standIn); h != nil {
			lowest := autoscalerMin(h)
			replicas, at = &lowest, fmt.Sprintf(" when HorizontalPodAutoscaler %q scales the Rollout to its minReplicas %d", h.Name, lowest)
		} else if lowest, names, ok := sharedAutoscaling(inv, rr.standIn); ok {
			replicas, at = &lowest, fmt.Sprintf(" when HorizontalPodAutoscalers %s keep the Rollout at %d", quoteList(names), lowest)
		}
		// The defaults (25%) are those of apps/v1, not of extensions/v1beta1.
		if why := stopsAllAtOnce(rr.standIn, c, replicas, at); why != "" {
			return fmt.Sprintf("%s: its canary %s, as Recreate does", rr.why, why)
		}
	}
	return ""
}

// argoRolloutPaused says which Argo Rollout that runs Deployment o's template in its stead
// (rolloutsRunning: in the cluster, only one whose ReplicaSets run it) is paused, or "". Argo
// Rollouts v1.10.2 halts a Rollout whose spec.paused is true ("user paused", rollout/context.go
// haltProgress): a canary scales no ReplicaSet (rollout/canary.go reconcileCanaryReplicaSets,
// even on a scaling event, rollout/sync.go syncReplicasOnly) and completes no step, and a
// blue-green Rollout switches neither its preview nor its active Service to the new ReplicaSet
// (rollout/service.go), so a changed template is not rolled out until the Rollout is resumed, as
// a paused Deployment's is not. status.pauseConditions (a canary pause step, a blue-green pause
// before promotion) are steps of a release that a promotion or a duration ends, and are not
// judged; nor is a status in a manifest the cluster's.
//
// In a scan the Rollout may have been created paused: it is then never healthy (its phase is
// Paused, utils/rollout CalculateRolloutPhase), so scaleDown onsuccess never scales the
// Deployment down (rollout/sync.go promoteStable), and a paused canary scales no ReplicaSet, so
// neither does progressively (reconcileNewReplicaSet is not reached, rollout/canary.go
// reconcileCanaryReplicaSets): the Deployment keeps running and rolling out its own pods, and
// the canary's ReplicaSet stays at 0. A manifest does not tell that from a Rollout paused once it
// ran (status is not the cluster's), in which a change would not roll out: the paused Rollout
// fails, a false fail in the first case, where the Deployment's own strategy is judged as well.
func argoRolloutPaused(inv *engine.Inventory, o *engine.Object) string {
	for _, rr := range rolloutsRunning(inv, o) {
		if rr.rollout.paused {
			return fmt.Sprintf("%s, and that Rollout is paused (spec.paused): changes to the template are not rolled out until it is resumed", rr.why)
		}
	}
	return ""
}

// argoRolloutPods are the most pods each Argo Rollout that runs Deployment o's template in its
// stead runs (rolloutsRunning): in a scan its replicas, or the maxReplicas of an autoscaler that
// scales it (the most several keep it at); in the cluster what its ReplicaSets run of the template,
// at most the Rollout's replicas, since an autoscaler of the Rollout changes only the Rollout and a
// tenant's Rollout may have no controller behind it.
func argoRolloutPods(inv *engine.Inventory, o *engine.Object) []int32 {
	var out []int32
	for _, rr := range rolloutsRunning(inv, o) {
		n := replicasOf(rr.standIn)
		switch {
		case rr.running >= 0:
			n = rr.running
		case autoscalerOf(inv, rr.standIn) != nil:
			n = autoscalerOf(inv, rr.standIn).Spec.MaxReplicas
		default:
			if _, m, _, ok := sharedAutoscalingRange(inv, rr.standIn); ok {
				n = m
			}
		}
		out = append(out, n)
	}
	return out
}

// argoScalesDownByName says, in a scan, which Argo Rollout scales Deployment o to 0 though its
// workloadRef names a ReplicaSet of o's name, or "". Argo Rollouts v1.10.2 scales the Deployment
// named workloadRef.name whatever the reference's kind (rollout/scale_utils.go scaleDeployment,
// called from rollout/sync.go with scaleDown onsuccess once the first revision is healthy, and
// rollout/replicaset.go with progressively), while it runs the other object's template. The
// Rollout counts when it is valid (readArgoRollout), the ReplicaSet is among the objects read
// (else Argo cannot resolve its template and never becomes healthy), and its own selector, if
// any, selects that template's labels. A PodTemplate reference scales the Deployment likewise, but
// PodTemplates are not read: a kind a check reads is one the operator watches
// (inventory TestTheOperatorReadsWhatTheChecksRead), and in the cluster the Deployment's replicas
// are what Argo left them at, and judged as such, so the operator would list every PodTemplate of
// the cluster for a rule it never applies. In a scan such a Rollout is an input scan could not
// judge (manifest.argoPodTemplateRef: the PodTemplate's containers are not judged), so the scan
// exits 3 unless --skip-kinds leaves Rollouts to the cluster, where this rule is not needed.
func argoScalesDownByName(inv *engine.Inventory, o *engine.Object) string {
	if inv.Complete || o.Kind != "Deployment" || apiGroup(o.APIVersion) != "apps" {
		return ""
	}
	for _, r := range argoRollouts(inv)[workloadRef{o.Namespace, "apps", "ReplicaSet", o.Name}] {
		if r.scaleDown != "onsuccess" && r.scaleDown != "progressively" {
			continue
		}
		t := inv.Get("ReplicaSet", o.Namespace, r.deployment)
		if t == nil || t.Workload == nil || apiGroup(t.APIVersion) != "apps" || argoSelectorRefuses(r, t.Workload.PodLabels()) {
			continue
		}
		return fmt.Sprintf("Argo Rollout %q runs ReplicaSet %q's template (workloadRef) and scales Deployment %q to 0 (scaleDown: %s): "+
			"Argo Rollouts scales the Deployment of the name its workloadRef gives, whatever the kind", r.obj.Name, r.deployment, o.Name, r.scaleDown)
	}
	return ""
}
