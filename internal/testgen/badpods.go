package testgen

import (
	"fmt"
	"strings"
)

// BadPod is one entry of the bad-pods sweep: a dangerous pod setting (after BishopFox's badPods
// set, plus the other settings the Pod Security Standards forbid), written in one container slot
// of one kind that carries a pod spec, at the pod or the container level.
type BadPod struct {
	// Name is the object's name, unique in the sweep: danger, level, carrier and slot.
	Name string
	// Danger is the dangerous setting (BadPodDangers).
	Danger string
	// Owners are the catalogue checks that own the danger: each must fail the object.
	Owners []string
	// Level is "pod" when the setting is in the pod spec or its security context, "container"
	// when in the bad container, "annotation" when in the pod template's annotations.
	Level string
	// APIVersion and Kind are the carrier's.
	APIVersion, Kind string
	// Slot is the bad container's place: containers, initContainers, sidecar (an init
	// container with restartPolicy Always) or ephemeralContainers.
	Slot string
	// Container is the name of the bad container.
	Container string
	// Doc is the object, as YAML or JSON would give it.
	Doc map[string]any
	// Valid is false when the API server would refuse the object (ports or probes on an
	// ephemeral container, probes on a plain init container): scan still judges it.
	Valid bool
}

// BadPodContainer is the name of the container that carries a container-level danger.
const BadPodContainer = "bad"

// BadPodSlots are the places a container can live in a pod spec.
var BadPodSlots = []string{"containers", "initContainers", "sidecar", "ephemeralContainers"}

// BadPodCarrier is a kind that carries a pod spec, at one API version.
type BadPodCarrier struct {
	APIVersion, Kind string
}

// BadPodCarriers are every kind and API version that holds a pod spec and that scan reads,
// current and old (extensions/v1beta1, apps/v1beta1, apps/v1beta2, batch/v1beta1), and v1
// PodTemplate, which runs nothing.
var BadPodCarriers = []BadPodCarrier{
	{"v1", "Pod"},
	{"apps/v1", "Deployment"}, {"apps/v1beta1", "Deployment"}, {"apps/v1beta2", "Deployment"}, {"extensions/v1beta1", "Deployment"},
	{"apps/v1", "StatefulSet"}, {"apps/v1beta1", "StatefulSet"}, {"apps/v1beta2", "StatefulSet"},
	{"apps/v1", "DaemonSet"}, {"apps/v1beta2", "DaemonSet"}, {"extensions/v1beta1", "DaemonSet"},
	{"apps/v1", "ReplicaSet"}, {"apps/v1beta2", "ReplicaSet"}, {"extensions/v1beta1", "ReplicaSet"},
	{"v1", "ReplicationController"},
	{"batch/v1", "Job"},
	{"batch/v1", "CronJob"}, {"batch/v1beta1", "CronJob"},
	{"v1", "PodTemplate"},
}

type badPodDanger struct {
	name   string
	owners []string
	// levels the danger can be written at.
	levels []string
	// apply writes the danger into the pod spec, the pod template's metadata and the bad
	// container, at the level.
	apply func(level string, meta, pod, bad map[string]any)
	// apiInvalidIn are the slots, or slot/level, where the API server refuses the setting.
	apiInvalidIn []string
}

func sc(m map[string]any) map[string]any {
	s, ok := m["securityContext"].(map[string]any)
	if !ok {
		s = map[string]any{}
		m["securityContext"] = s
	}
	return s
}

// hostVolume adds a hostPath volume the bad container mounts.
func hostVolume(pod, bad map[string]any, path string) {
	pod["volumes"] = []any{map[string]any{"name": "host", "hostPath": map[string]any{"path": path}}}
	bad["volumeMounts"] = []any{map[string]any{"name": "host", "mountPath": "/host"}}
}

// unconfined sets a security context's key at the pod level, or the bad container's.
func atLevel(level string, pod, bad map[string]any, key string, value any) {
	if level == "pod" {
		sc(pod)[key] = value
		return
	}
	sc(bad)[key] = value
}

var badPodDangers = []badPodDanger{
	{name: "everything-allowed", levels: []string{"container"},
		owners: []string{"wl-privileged", "wl-host-namespaces", "wl-host-network", "wl-hostpath", "wl-runtime-socket"},
		apply: func(_ string, _, pod, bad map[string]any) {
			pod["hostNetwork"], pod["hostPID"], pod["hostIPC"] = true, true, true
			privileged(bad)
			hostVolume(pod, bad, "/")
		}},
	{name: "priv-and-hostpid", levels: []string{"container"}, owners: []string{"wl-privileged", "wl-host-namespaces"},
		apply: func(_ string, _, pod, bad map[string]any) {
			pod["hostPID"] = true
			privileged(bad)
		}},
	// Kubernetes applies no seccomp profile to a privileged container, and the runtime no SELinux
	// label or default AppArmor profile, and grants it every capability: the bad container's
	// RuntimeDefault and drop ALL do nothing there.
	{name: "priv", levels: []string{"container"},
		owners: []string{"wl-privileged", "wl-seccomp", "wl-apparmor-selinux", "wl-dangerous-caps", "wl-drop-all-caps"},
		apply:  func(_ string, _, _, bad map[string]any) { privileged(bad) }},
	{name: "hostpath", levels: []string{"pod"}, owners: []string{"wl-hostpath", "wl-runtime-socket", "wl-volume-types"},
		apply: func(_ string, _, pod, bad map[string]any) { hostVolume(pod, bad, "/") }},
	{name: "hostpid", levels: []string{"pod"}, owners: []string{"wl-host-namespaces"},
		apply: func(_ string, _, pod, _ map[string]any) { pod["hostPID"] = true }},
	{name: "hostnetwork", levels: []string{"pod"}, owners: []string{"wl-host-network"},
		apply: func(_ string, _, pod, _ map[string]any) { pod["hostNetwork"] = true }},
	{name: "hostipc", levels: []string{"pod"}, owners: []string{"wl-host-namespaces"},
		apply: func(_ string, _, pod, _ map[string]any) { pod["hostIPC"] = true }},
	{name: "nothing-allowed", levels: []string{"container"},
		owners: []string{"wl-run-as-root", "wl-privilege-escalation", "wl-drop-all-caps", "wl-seccomp"},
		apply:  func(_ string, _, _, bad map[string]any) { delete(bad, "securityContext") }},
	{name: "root-escalation", levels: []string{"pod", "container"}, owners: []string{"wl-run-as-root", "wl-privilege-escalation"},
		apply: func(level string, _, pod, bad map[string]any) {
			delete(sc(bad), "runAsNonRoot")
			delete(sc(bad), "runAsUser")
			atLevel(level, pod, bad, "runAsUser", 0)
			sc(bad)["allowPrivilegeEscalation"] = true
		}},
	{name: "cap-sys-admin", levels: []string{"container"}, owners: []string{"wl-dangerous-caps"},
		apply: func(_ string, _, _, bad map[string]any) { addCap(bad, "SYS_ADMIN") }},
	{name: "cap-net-raw", levels: []string{"container"}, owners: []string{"wl-dangerous-caps"},
		apply: func(_ string, _, _, bad map[string]any) { addCap(bad, "NET_RAW") }},
	{name: "cap-all", levels: []string{"container"}, owners: []string{"wl-dangerous-caps"},
		apply: func(_ string, _, _, bad map[string]any) { addCap(bad, "ALL") }},
	// The API server takes procMount Unmasked only in a user namespace (hostUsers: false), where
	// the baseline level allows it; the restricted level forbids it there too (since v1.35).
	{name: "procmount-unmasked", levels: []string{"container"}, owners: []string{"wl-procmount"},
		apply: func(_ string, _, pod, bad map[string]any) {
			pod["hostUsers"] = false
			sc(bad)["procMount"] = "Unmasked"
		}},
	{name: "unsafe-sysctl", levels: []string{"pod"}, owners: []string{"wl-unsafe-sysctls"},
		apply: func(_ string, _, pod, _ map[string]any) {
			sc(pod)["sysctls"] = []any{map[string]any{"name": "kernel.msgmax", "value": "65536"}}
		}},
	{name: "seccomp-unconfined", levels: []string{"pod", "container"}, owners: []string{"wl-seccomp"},
		apply: func(level string, _, pod, bad map[string]any) {
			delete(sc(bad), "seccompProfile")
			atLevel(level, pod, bad, "seccompProfile", map[string]any{"type": "Unconfined"})
		}},
	// The API server refuses an AppArmor annotation that names no container of the pod: an
	// ephemeral container is added after the pod, and its annotation cannot come first.
	{name: "apparmor-unconfined", levels: []string{"pod", "container", "annotation"}, owners: []string{"wl-apparmor-selinux"},
		apiInvalidIn: []string{"ephemeralContainers/annotation"},
		apply: func(level string, meta, pod, bad map[string]any) {
			if level == "annotation" {
				meta["annotations"] = map[string]any{"container.apparmor.security.beta.kubernetes.io/" + BadPodContainer: "unconfined"}
				return
			}
			atLevel(level, pod, bad, "appArmorProfile", map[string]any{"type": "Unconfined"})
		}},
	{name: "selinux-spc", levels: []string{"pod", "container"}, owners: []string{"wl-apparmor-selinux"},
		apply: func(level string, _, pod, bad map[string]any) {
			atLevel(level, pod, bad, "seLinuxOptions", map[string]any{"type": "spc_t"})
		}},
	// A HostProcess container is the Windows privileged container (wl-privileged fails it too),
	// and runs in the node's processes and object namespace (wl-host-namespaces fails it too),
	// with the node's filesystem (wl-hostpath) and the runtime's named pipes (wl-runtime-socket).
	// HostProcess needs the host network, and every container of the pod to be one: at the
	// container level, the other container says so too.
	{name: "windows-hostprocess", levels: []string{"pod", "container"}, owners: []string{"wl-windows-hostprocess", "wl-privileged", "wl-host-namespaces", "wl-hostpath", "wl-runtime-socket"},
		apply: func(level string, _, pod, bad map[string]any) {
			pod["hostNetwork"] = true
			atLevel(level, pod, bad, "windowsOptions", map[string]any{"hostProcess": true, "runAsUserName": "NT AUTHORITY\\SYSTEM"})
		}},
	{name: "runtime-socket", levels: []string{"pod"}, owners: []string{"wl-runtime-socket", "wl-hostpath"},
		apply: func(_ string, _, pod, bad map[string]any) { hostVolume(pod, bad, "/var/run/docker.sock") }},
	{name: "host-port", levels: []string{"container"}, owners: []string{"wl-host-port"}, apiInvalidIn: []string{"ephemeralContainers"},
		apply: func(_ string, _, _, bad map[string]any) {
			bad["ports"] = []any{map[string]any{"containerPort": 8080, "hostPort": 8080}}
		}},
	{name: "host-probe", levels: []string{"container"}, owners: []string{"wl-host-probes"}, apiInvalidIn: []string{"ephemeralContainers", "initContainers"},
		apply: func(_ string, _, _, bad map[string]any) {
			bad["livenessProbe"] = map[string]any{"httpGet": map[string]any{"host": "169.254.169.254", "path": "/", "port": 80}}
		}},
	{name: "host-lifecycle", levels: []string{"container"}, owners: []string{"wl-host-probes"}, apiInvalidIn: []string{"ephemeralContainers", "initContainers"},
		apply: func(_ string, _, _, bad map[string]any) {
			bad["lifecycle"] = map[string]any{"preStop": map[string]any{"httpGet": map[string]any{"host": "10.0.0.1", "path": "/", "port": 80}}}
		}},
}

// privileged makes the container privileged, which the API server takes only without
// allowPrivilegeEscalation: false.
func privileged(bad map[string]any) {
	sc(bad)["privileged"] = true
	delete(sc(bad), "allowPrivilegeEscalation")
}

func addCap(bad map[string]any, c string) {
	sc(bad)["capabilities"] = map[string]any{"drop": []any{"ALL"}, "add": []any{c}}
}

// BadPodDangers are the names of the dangers, in order.
func BadPodDangers() []string {
	var out []string
	for _, d := range badPodDangers {
		out = append(out, d.name)
	}
	return out
}

// hardened is a container that passes every workload check the sweep looks at.
func hardened(name string) map[string]any {
	return map[string]any{
		"name": name, "image": "registry.example.com/shop/app:1.0.0",
		"securityContext": map[string]any{
			"runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 1000, "allowPrivilegeEscalation": false,
			"readOnlyRootFilesystem": true, "capabilities": map[string]any{"drop": []any{"ALL"}},
			"seccompProfile": map[string]any{"type": "RuntimeDefault"},
		},
	}
}

// BadPods returns the sweep: every danger at every level it can be written at, in every slot
// and every carrier (ephemeral containers in Pods only: no template can hold one), in namespace
// ns.
func BadPods(ns string) []BadPod {
	var out []BadPod
	for _, d := range badPodDangers {
		for _, level := range d.levels {
			for _, car := range BadPodCarriers {
				for _, slot := range BadPodSlots {
					if slot == "ephemeralContainers" && car.Kind != "Pod" {
						continue
					}
					out = append(out, badPod(ns, d, level, car, slot))
				}
			}
		}
	}
	return out
}

var shortKind = map[string]string{
	"Pod": "po", "Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds", "ReplicaSet": "rs",
	"ReplicationController": "rc", "Job": "job", "CronJob": "cj", "PodTemplate": "podtemplate",
}

var shortSlot = map[string]string{"containers": "c", "initContainers": "init", "sidecar": "sidecar", "ephemeralContainers": "eph"}

func badPod(ns string, d badPodDanger, level string, car BadPodCarrier, slot string) BadPod {
	version := strings.ReplaceAll(car.APIVersion[strings.LastIndexByte(car.APIVersion, '/')+1:], ".", "")
	if g, _, ok := strings.Cut(car.APIVersion, "/"); ok && g == "extensions" {
		version = "ext" + version
	}
	name := fmt.Sprintf("%s-%s-%s-%s-%s", d.name, level, shortKind[car.Kind], version, shortSlot[slot])
	labels := map[string]any{"app": name}
	meta := map[string]any{"labels": labels}
	pod := map[string]any{}
	bad := hardened(BadPodContainer)
	app := hardened("app")
	restart := "Always"
	if car.Kind == "Job" || car.Kind == "CronJob" {
		restart = "Never"
	}
	pod["restartPolicy"] = restart
	d.apply(level, meta, pod, bad)
	if _, ok := bad["securityContext"].(map[string]any); ok && len(sc(bad)) == 0 {
		delete(bad, "securityContext")
	}
	switch slot {
	case "containers":
		pod["containers"] = []any{bad, app}
	case "initContainers":
		pod["initContainers"] = []any{bad}
		pod["containers"] = []any{app}
	case "sidecar":
		bad["restartPolicy"] = "Always"
		pod["initContainers"] = []any{bad}
		pod["containers"] = []any{app}
	case "ephemeralContainers":
		bad["targetContainerName"] = "app"
		pod["ephemeralContainers"] = []any{bad}
		pod["containers"] = []any{app}
	}
	if level == "container" && d.name == "windows-hostprocess" {
		sc(app)["windowsOptions"] = sc(bad)["windowsOptions"]
	}
	valid := true
	for _, s := range d.apiInvalidIn {
		if s == slot || s == slot+"/"+level {
			valid = false
		}
	}
	objMeta := map[string]any{"name": name, "namespace": ns}
	doc := map[string]any{"apiVersion": car.APIVersion, "kind": car.Kind, "metadata": objMeta}
	template := map[string]any{"metadata": meta, "spec": pod}
	selector := map[string]any{"matchLabels": map[string]any{"app": name}}
	switch car.Kind {
	case "Pod":
		for k, v := range meta {
			objMeta[k] = v
		}
		doc["spec"] = pod
	case "PodTemplate":
		doc["template"] = template
	case "Deployment", "DaemonSet", "ReplicaSet":
		doc["spec"] = map[string]any{"selector": selector, "template": template}
	case "StatefulSet":
		doc["spec"] = map[string]any{"selector": selector, "serviceName": name, "template": template}
	case "ReplicationController":
		doc["spec"] = map[string]any{"selector": map[string]any{"app": name}, "template": template}
	case "Job":
		doc["spec"] = map[string]any{"template": template}
	case "CronJob":
		doc["spec"] = map[string]any{"schedule": "0 * * * *", "jobTemplate": map[string]any{"spec": map[string]any{"template": template}}}
	}
	return BadPod{Name: name, Danger: d.name, Owners: d.owners, Level: level, APIVersion: car.APIVersion, Kind: car.Kind,
		Slot: slot, Container: BadPodContainer, Doc: doc, Valid: valid}
}
