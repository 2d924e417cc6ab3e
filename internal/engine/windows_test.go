package engine_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestWindowsPodNeverAdmitsALinuxNode holds engine.WindowsPod, which makes the Linux checks
// NotApplicable, to what Kubernetes itself enforces: a pod it calls Windows must be one no Linux
// node runs. The oracle is the scheduler's and the kubelet's own matcher
// (k8s.io/component-helpers v0.37.2 nodeaffinity.GetRequiredNodeAffinity, which the v1.37.2
// kubelet's admission runs as well, so spec.nodeName does not get round it: pkg/kubelet/lifecycle
// predicate.go, generalFilter and scheduler.AdmissionCheck), run against Linux nodes built to
// satisfy every other requirement a node selector term makes (its labels, its matchFields' node
// name). The Linux nodes carry the OS labels the v1.37.2 kubelet sets: kubernetes.io/os, which it
// resets on every status update and forces to its own OS before admitting a pod, and
// beta.kubernetes.io/os, which it sets when it registers. spec.os.name windows is rejected by the
// Linux kubelet itself (rejectPodAdmissionBasedOnOSField), which no matcher shows.
func TestWindowsPodNeverAdmitsALinuxNode(t *testing.T) {
	req := func(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	terms := func(ts ...corev1.NodeSelectorTerm) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: ts}}}
	}
	exprs := func(rs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: rs}
	}
	const os, beta = corev1.LabelOSStable, "beta.kubernetes.io/os"
	winOnly := req(os, corev1.NodeSelectorOpIn, "windows")
	cases := map[string]struct {
		spec corev1.PodSpec
		want bool
	}{
		"spec.os.name windows": {corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Windows}}, true},
		"spec.os.name linux beats a Windows node selector": {corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Linux},
			NodeSelector: map[string]string{os: "windows"}}, false},
		"a node selector kubernetes.io/os windows":          {corev1.PodSpec{NodeSelector: map[string]string{os: "windows"}}, true},
		"a node selector beta.kubernetes.io/os windows":     {corev1.PodSpec{NodeSelector: map[string]string{beta: "windows"}}, true},
		"a node selector Windows, which no node's label is": {corev1.PodSpec{NodeSelector: map[string]string{os: "Windows"}}, false},
		"a node selector with an empty OS":                  {corev1.PodSpec{NodeSelector: map[string]string{os: ""}}, false},
		"a node selector linux and a beta one windows": {corev1.PodSpec{
			NodeSelector: map[string]string{os: "linux", beta: "windows"}}, false},
		"a node selector of another label and Windows-only affinity": {corev1.PodSpec{
			NodeSelector: map[string]string{"pool": "a"}, Affinity: terms(exprs(winOnly))}, true},
		"affinity: one term In windows": {corev1.PodSpec{Affinity: terms(exprs(winOnly))}, true},
		"affinity: one term beta In windows": {corev1.PodSpec{Affinity: terms(exprs(
			req(beta, corev1.NodeSelectorOpIn, "windows")))}, true},
		"affinity: every term windows, by either label": {corev1.PodSpec{Affinity: terms(exprs(winOnly),
			exprs(req(beta, corev1.NodeSelectorOpIn, "windows"), req("pool", corev1.NodeSelectorOpExists)))}, true},
		"affinity: a Windows term ORed with an arch term": {corev1.PodSpec{Affinity: terms(exprs(winOnly),
			exprs(req(corev1.LabelArchStable, corev1.NodeSelectorOpIn, "amd64")))}, false},
		"affinity: a Windows term ORed with a matchFields term": {corev1.PodSpec{Affinity: terms(exprs(winOnly),
			corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{req("metadata.name", corev1.NodeSelectorOpIn, "linux-1")}})}, false},
		"affinity: In windows and matchFields in one term (ANDed)": {corev1.PodSpec{Affinity: terms(corev1.NodeSelectorTerm{
			MatchExpressions: []corev1.NodeSelectorRequirement{winOnly},
			MatchFields:      []corev1.NodeSelectorRequirement{req("metadata.name", corev1.NodeSelectorOpIn, "linux-1")}})}, true},
		"affinity: In windows or linux": {corev1.PodSpec{Affinity: terms(exprs(
			req(os, corev1.NodeSelectorOpIn, "windows", "linux")))}, false},
		"affinity: In Windows": {corev1.PodSpec{Affinity: terms(exprs(req(os, corev1.NodeSelectorOpIn, "Windows")))}, false},
		"affinity: NotIn linux": {corev1.PodSpec{Affinity: terms(exprs(
			req(os, corev1.NodeSelectorOpNotIn, "linux")))}, false},
		"affinity: NotIn windows": {corev1.PodSpec{Affinity: terms(exprs(
			req(os, corev1.NodeSelectorOpNotIn, "windows")))}, false},
		"affinity: OS label Exists": {corev1.PodSpec{Affinity: terms(exprs(req(os, corev1.NodeSelectorOpExists)))}, false},
		"affinity: OS label DoesNotExist": {corev1.PodSpec{Affinity: terms(exprs(
			req(os, corev1.NodeSelectorOpDoesNotExist)))}, false},
		"affinity: OS label Gt": {corev1.PodSpec{Affinity: terms(exprs(req(os, corev1.NodeSelectorOpGt, "1")))}, false},
		"affinity: no terms":    {corev1.PodSpec{Affinity: terms()}, false},
		"preferred affinity only": {corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 100, Preference: exprs(winOnly)}}}}}, false},
		"a Windows toleration only": {corev1.PodSpec{Tolerations: []corev1.Toleration{
			{Key: "os", Value: "windows", Effect: corev1.TaintEffectNoSchedule}}}, false},
		"spec.nodeName and a Windows node selector": {corev1.PodSpec{NodeName: "linux-1",
			NodeSelector: map[string]string{os: "windows"}}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := tc.spec
			if got := engine.WindowsPod(&spec); got != tc.want {
				t.Errorf("WindowsPod = %v, want %v", got, tc.want)
			}
			if !engine.WindowsPod(&spec) || spec.OS != nil {
				return
			}
			pod := &corev1.Pod{Spec: spec}
			for _, node := range nodesFor(&spec, "linux") {
				if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err == nil && ok {
					t.Errorf("WindowsPod is true, but Linux node %s (labels %v) satisfies the pod's node selector and required affinity", node.Name, node.Labels)
				}
			}
		})
	}
}

// nodesFor builds, for each required node selector term of spec (or for its node selector alone),
// a node of that OS (linux or windows) that satisfies every requirement of the term that is not
// about the OS: the nodes most likely to let a pod the checks keep to the other OS run on this one.
func nodesFor(spec *corev1.PodSpec, os string) []*corev1.Node {
	base := func() *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: os + "-0", Labels: map[string]string{
			corev1.LabelOSStable: os, "beta.kubernetes.io/os": os,
			corev1.LabelArchStable: "amd64", "beta.kubernetes.io/arch": "amd64", corev1.LabelHostname: os + "-0"}}}
		if os == "windows" {
			n.Labels[corev1.LabelWindowsBuild] = "10.0.20348"
		}
		if spec.NodeName != "" {
			n.Name = spec.NodeName
		}
		for k, v := range spec.NodeSelector {
			if _, ok := n.Labels[k]; !ok {
				n.Labels[k] = v
			}
		}
		return n
	}
	nodes := []*corev1.Node{base()}
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nodes
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		n := base()
		for _, r := range term.MatchExpressions {
			if _, os := n.Labels[r.Key]; os && (r.Key == corev1.LabelOSStable || r.Key == "beta.kubernetes.io/os") {
				continue
			}
			switch r.Operator {
			case corev1.NodeSelectorOpIn:
				n.Labels[r.Key] = r.Values[0]
			case corev1.NodeSelectorOpExists:
				n.Labels[r.Key] = "x"
			case corev1.NodeSelectorOpGt:
				n.Labels[r.Key] = "999999"
			case corev1.NodeSelectorOpLt:
				n.Labels[r.Key] = "-999999"
			}
		}
		for _, r := range term.MatchFields {
			if r.Key == "metadata.name" && r.Operator == corev1.NodeSelectorOpIn {
				n.Name = r.Values[0]
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// TestMayRunOnWindowsUnlessLinuxNodesOnly holds engine.MayRunOnWindows, which decides whether a
// pod's windowsOptions matter (a Windows kubelet applies them and ignores runAsUser), to the same
// oracle: a pod it says no Windows node may run must match no Windows node built to satisfy
// every other requirement of a term. A pod that declares no OS and selects none may land on a
// Windows node: taints keep off only pods that do not tolerate them, and preferred affinity binds
// nothing.
func TestMayRunOnWindowsUnlessLinuxNodesOnly(t *testing.T) {
	req := func(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	terms := func(ts ...corev1.NodeSelectorTerm) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: ts}}}
	}
	exprs := func(rs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: rs}
	}
	const os, beta = corev1.LabelOSStable, "beta.kubernetes.io/os"
	linuxOnly := req(os, corev1.NodeSelectorOpIn, "linux")
	cases := map[string]struct {
		spec corev1.PodSpec
		want bool
	}{
		"no OS and no selector":                           {corev1.PodSpec{}, true},
		"spec.os.name windows":                            {corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Windows}}, true},
		"spec.os.name linux":                              {corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Linux}}, false},
		"a node selector windows":                         {corev1.PodSpec{NodeSelector: map[string]string{os: "windows"}}, true},
		"a node selector linux":                           {corev1.PodSpec{NodeSelector: map[string]string{os: "linux"}}, false},
		"a beta node selector linux":                      {corev1.PodSpec{NodeSelector: map[string]string{beta: "linux"}}, false},
		"a node selector Linux, which no node's label is": {corev1.PodSpec{NodeSelector: map[string]string{os: "Linux"}}, true},
		"a node selector of another label":                {corev1.PodSpec{NodeSelector: map[string]string{"pool": "a"}}, true},
		"tolerations of every taint":                      {corev1.PodSpec{Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}}, true},
		"preferred Linux affinity only": {corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 100, Preference: exprs(linuxOnly)}}}}}, true},
		"affinity: one term In linux": {corev1.PodSpec{Affinity: terms(exprs(linuxOnly))}, false},
		"affinity: every term linux, by either label": {corev1.PodSpec{Affinity: terms(exprs(linuxOnly),
			exprs(req(beta, corev1.NodeSelectorOpIn, "linux"), req(corev1.LabelArchStable, corev1.NodeSelectorOpIn, "arm64")))}, false},
		"affinity: a Linux term ORed with an arch term": {corev1.PodSpec{Affinity: terms(exprs(linuxOnly),
			exprs(req(corev1.LabelArchStable, corev1.NodeSelectorOpIn, "amd64")))}, true},
		"affinity: a Linux term ORed with a matchFields term": {corev1.PodSpec{Affinity: terms(exprs(linuxOnly),
			corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{req("metadata.name", corev1.NodeSelectorOpIn, "windows-1")}})}, true},
		"affinity: In linux or windows": {corev1.PodSpec{Affinity: terms(exprs(req(os, corev1.NodeSelectorOpIn, "linux", "windows")))}, true},
		"affinity: NotIn windows":       {corev1.PodSpec{Affinity: terms(exprs(req(os, corev1.NodeSelectorOpNotIn, "windows")))}, true},
		"affinity: OS label Exists":     {corev1.PodSpec{Affinity: terms(exprs(req(os, corev1.NodeSelectorOpExists)))}, true},
		"a node selector windows and Linux-only affinity": {corev1.PodSpec{NodeSelector: map[string]string{os: "windows"},
			Affinity: terms(exprs(linuxOnly))}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := tc.spec
			if got := engine.MayRunOnWindows(&spec); got != tc.want {
				t.Errorf("MayRunOnWindows = %v, want %v", got, tc.want)
			}
			if engine.MayRunOnWindows(&spec) || spec.OS != nil {
				return
			}
			pod := &corev1.Pod{Spec: spec}
			for _, node := range nodesFor(&spec, "windows") {
				if ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err == nil && ok {
					t.Errorf("MayRunOnWindows is false, but Windows node %s (labels %v) satisfies the pod's node selector and required affinity", node.Name, node.Labels)
				}
			}
		})
	}
}
