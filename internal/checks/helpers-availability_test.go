package checks

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestBudgetIndexMatchesEveryBudget checks the label index of PodDisruptionBudgets against
// trying every budget of the namespace, for selectors of every shape.
func TestBudgetIndexMatchesEveryBudget(t *testing.T) {
	budget := func(name, ns, apiVersion string, sel *metav1.LabelSelector) *engine.Object {
		return engine.NewObject(&policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       policyv1.PodDisruptionBudgetSpec{Selector: sel},
		}, apiVersion, "PodDisruptionBudget")
	}
	deployment := func(name, ns string, podLabels map[string]string) *engine.Object {
		return engine.NewObject(&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
			}},
		}, "apps/v1", "Deployment")
	}
	in := func(key string, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: values}
	}
	objs := []*engine.Object{
		budget("match-labels", "shop", "policy/v1", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}),
		budget("single-in", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{in("app", "web")}}),
		budget("multi-in", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{in("app", "web", "db")}}),
		budget("not-in", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"web"}}}}),
		budget("exists", "shop", "policy/v1", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "tier", Operator: metav1.LabelSelectorOpExists}}}),
		budget("everything", "shop", "policy/v1", &metav1.LabelSelector{}),
		budget("v1beta1-empty", "shop", "policy/v1beta1", &metav1.LabelSelector{}),
		budget("no-selector", "shop", "policy/v1", nil),
		budget("invalid", "shop", "policy/v1", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "not a valid value"}}),
		budget("other-namespace", "shop-staging", "policy/v1", &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
		deployment("web", "shop", map[string]string{"app": "web", "tier": "front"}),
		deployment("web-canary", "shop", map[string]string{"app": "web", "track": "canary"}),
		deployment("db", "shop", map[string]string{"app": "db", "tier": "data"}),
		deployment("batch", "shop", map[string]string{"team": "data"}),
		deployment("unlabelled", "shop", nil),
	}
	inv := engine.NewInventory(objs, true)

	want := map[string][]string{
		"web":        {"everything", "exists", "match-labels", "multi-in", "single-in"},
		"web-canary": {"everything", "multi-in", "single-in"},
		"db":         {"everything", "exists", "multi-in", "not-in"},
		"batch":      {"everything", "not-in"},
		"unlabelled": {"everything", "not-in"},
	}
	for _, w := range inv.List("shop", "Deployment") {
		var got []string
		for _, b := range budgetsSelecting(inv, w.Namespace, podLabels(w)) {
			got = append(got, b.obj.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want[w.Name]) {
			t.Errorf("budgets selecting %s = %q, want %q", w.Name, got, want[w.Name])
		}
	}

	// The reverse direction: the workloads each budget selects, against every workload.
	for _, o := range inv.ListKind("PodDisruptionBudget") {
		b := budgetOf(inv, o)
		var got, brute []string
		for _, w := range selectedWorkloads(inv, b) {
			got = append(got, w.Name)
		}
		for _, w := range inv.List(o.Namespace, "Deployment") {
			if b.selector.Matches(podLabels(w)) {
				brute = append(brute, w.Name)
			}
		}
		slices.Sort(got)
		slices.Sort(brute)
		if !slices.Equal(got, brute) {
			t.Errorf("workloads selected by %s = %q, want %q", o.Name, got, brute)
		}
	}
}

// TestJudgeProbe holds judgeProbe to the probes that test nothing, and to those it must leave
// alone: a command that does something, a host that is the pod.
func TestJudgeProbe(t *testing.T) {
	exec := func(cmd ...string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}}
	}
	httpHost := func(host string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: host, Path: "/", Port: intstr.FromInt32(8080)}}}
	}
	tests := map[string]struct {
		probe       *corev1.Probe
		hostNetwork bool
		// own and proxy are the ports of the probed container app and of a container proxy
		// beside it (none when nil).
		own, proxy []corev1.ContainerPort
		fails      bool
		// undecided is true when the probe's verdict cannot be told (NotAssessed).
		undecided bool
	}{
		"no probe fails":                                          {probe: nil, fails: true},
		"true fails, whatever its arguments":                      {probe: exec("true", "anything"), fails: true},
		"true by its path fails":                                  {probe: exec("/usr/bin/true"), fails: true},
		"a shell that only exits 0 fails":                         {probe: exec("sh", "-c", "true; exit 0"), fails: true},
		"a shell with an empty script fails":                      {probe: exec("/bin/bash", "-c", ""), fails: true},
		"a shell that exits 1 passes":                             {probe: exec("sh", "-c", "exit 1"), fails: false},
		"a shell that runs true by its path fails":                {probe: exec("sh", "-c", "/bin/true"), fails: true},
		"a shell that exits with no status fails":                 {probe: exec("sh", "-c", "exit"), fails: true},
		"a shell given -ec fails":                                 {probe: exec("/bin/bash", "-ec", "exit 0"), fails: true},
		"a login shell given -lc fails":                           {probe: exec("bash", "-lc", "true"), fails: true},
		"a shell given -e and -c apart fails":                     {probe: exec("sh", "-e", "-c", ":"), fails: true},
		"a shell of no-ops joined by && fails":                    {probe: exec("sh", "-c", "true && exit 0"), fails: true},
		"echo fails, whatever it prints":                          {probe: exec("echo", "ok"), fails: true},
		"a shell that only echoes fails":                          {probe: exec("sh", "-c", "echo alive"), fails: true},
		"a shell that echoes into a file passes":                  {probe: exec("sh", "-c", "echo ok > /tmp/health"), fails: false},
		"a shell that echoes what a command prints passes":        {probe: exec("sh", "-c", "echo `cat /tmp/ready`"), fails: false},
		"a shell given -c after an option with a value passes":    {probe: exec("bash", "-o", "pipefail", "-c", "curl -f localhost:8080"), fails: false},
		"a shell that tests something first passes":               {probe: exec("sh", "-c", "test -f /tmp/ready; exit 0"), fails: false},
		"a shell with true chained to a test passes":              {probe: exec("sh", "-c", "true && curl -f localhost:8080"), fails: false},
		"a program named after true passes":                       {probe: exec("/bin/truecheck"), fails: false},
		"a shell without -c passes":                               {probe: exec("sh", "/probe.sh"), fails: false},
		"an HTTP probe of the pod passes":                         {probe: httpHost(""), fails: false},
		"an HTTP probe of 127.0.0.1 off the host network fails":   {probe: httpHost("127.0.0.1"), fails: true},
		"an HTTP probe of localhost off the host network fails":   {probe: httpHost("localhost"), fails: true},
		"an HTTP probe of ::1 on the host network passes":         {probe: httpHost("::1"), hostNetwork: true, fails: false},
		"an HTTP probe of another host on the host network fails": {probe: httpHost("10.0.0.7"), hostNetwork: true, fails: true},
		"a TCP probe of another host fails": {probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Host: "db", Port: intstr.FromInt32(5432)}}}, fails: true},
		"an HTTP probe of a port only another container declares is undecided": {probe: httpHost(""),
			proxy: []corev1.ContainerPort{{ContainerPort: 8080}}, undecided: true},
		"an HTTP probe of a port both containers declare passes": {probe: httpHost(""),
			own: []corev1.ContainerPort{{ContainerPort: 8080}}, proxy: []corev1.ContainerPort{{ContainerPort: 8080}}, fails: false},
		"an HTTP probe of a UDP port of another container passes": {probe: httpHost(""),
			proxy: []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolUDP}}, fails: false},
		"a probe of a named port of its own passes, whoever declares its number": {probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}},
			own: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}, proxy: []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}, fails: false},
		// The kubelet looks the name up in the probe's own container alone (ResolveContainerPort).
		"an HTTP probe of a named port only another container declares fails": {probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}},
			proxy: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}, fails: true},
		"a TCP probe of a named port no container declares fails": {probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}},
			own: []corev1.ContainerPort{{Name: "admin", ContainerPort: 9090}}, fails: true},
		"a gRPC probe of a port only another container declares is undecided": {probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			GRPC: &corev1.GRPCAction{Port: 9000}}}, proxy: []corev1.ContainerPort{{ContainerPort: 9000}}, undecided: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			containers := []corev1.Container{{Name: "app", Image: "app:1", Ports: tc.own}}
			if tc.proxy != nil {
				containers = append(containers, corev1.Container{Name: "proxy", Image: "proxy:1", Ports: tc.proxy})
			}
			o := engine.NewObject(&corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
				Spec:       corev1.PodSpec{HostNetwork: tc.hostNetwork, Containers: containers},
			}, "v1", "Pod")
			msg, undecided := judgeProbe(o, o.Workload.Containers()[0], "readinessProbe", tc.probe)
			if (msg != "") != tc.fails || (undecided != "") != tc.undecided {
				t.Errorf("judgeProbe = %q, %q; want a failure: %v, undecided: %v", msg, undecided, tc.fails, tc.undecided)
			}
		})
	}
}
