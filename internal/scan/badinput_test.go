package scan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// goodDeployment is scanned next to every bad input, from manifests/good.yaml. It runs a
// privileged container, so it always has findings.
const goodDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: good, namespace: shop}
spec:
  selector: {matchLabels: {app: good}}
  template:
    metadata: {labels: {app: good}}
    spec:
      containers: [{name: app, image: nginx:latest, securityContext: {privileged: true}}]
`

// pod is a good neighbour inside a file with a bad document: four lines, sharing the host's
// PID namespace, so it has findings.
func pod(name string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: shop}\n" +
		"spec: {hostPID: true, containers: [{name: c, image: busybox:1.36}]}\n"
}

// podJSON is pod as one line of JSON.
func podJSON(name string) string {
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","namespace":"shop"},` +
		`"spec":{"hostPID":true,"containers":[{"name":"c","image":"busybox:1.36"}]}}`
}

// afterPod puts a bad document second in a file, after a good Pod: it is document 2 and starts
// on line 6.
func afterPod(bad string) string { return pod("before") + "---\n" + bad }

func widget(name, spec string) string {
	return "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: " + name + ", namespace: shop}\nspec: " + spec + "\n"
}

func profileWith(spec string) string {
	return "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ComplianceProfile\nmetadata: {name: ci}\nspec:\n" + spec
}

// customCheck is a profile with one custom check on Deployments.
func customCheck(id, expression string) string {
	return profileWith("  customChecks:\n  - id: " + id + "\n    title: A custom check\n    kinds: [Deployment]\n" +
		"    criteria: [CC8.1]\n    message: the custom check failed\n    expression: |-\n      " + expression + "\n")
}

func exception(name, spec string) string {
	return "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\nmetadata: {name: " + name +
		", namespace: shop}\nspec:\n" + spec
}

// validException covers the good Deployment's privileged container; it is document 1 of every
// exceptions file below, so that a bad exception next to it is seen not to cost the good one.
var validException = exception("good-privileged", "  checks: [wl-privileged]\n  match: {names: [good]}\n"+
	"  reason: The good app needs a privileged container until its driver ships.\n"+
	"  owner: shop-team@example.com\n  expires: '2027-01-01T00:00:00Z'\n")

const exceptionTail = "  reason: Accepted by the shop team for this quarter.\n  owner: shop-team@example.com\n  expires: '2027-01-01T00:00:00Z'\n"

// afterException puts a bad exception second in the exceptions file.
func afterException(bad string) string { return validException + "---\n" + bad }

const goodExcepted = "wl-privileged Deployment/good by shop/good-privileged"

type wantResult struct {
	check, resource string // resource is Kind/name
	result          string
	message         string // a phrase of the result's message
}

// TestBadInput runs the real scan over hostile and malformed manifests, profiles and
// exceptions. For each it pins the exit code, what stderr tells a person (every stderr line is
// one of the expected ones, and says where: file, document and line, or the field), and that
// nothing else is lost: the good objects in the same scan are counted and judged.
func TestBadInput(t *testing.T) {
	// The cost limit stops the expressions of the cases below; under load (or -race) the
	// default wall-clock bound of 2 s stopped one first, with another message.
	defer func(old time.Duration) { customCheckTimeout = old }(customCheckTimeout)
	customCheckTimeout = 10 * time.Minute
	cases := map[string]struct {
		manifests  map[string]string // files under manifests/, next to good.yaml
		profile    string            // given with --profile when set
		exceptions string            // given with --exceptions when set
		setup      func(t *testing.T, dir string)
		code       int
		// stderr are the lines stderr must hold, each as phrases that one line holds; stderr
		// may hold no other line.
		stderr [][]string
		// notes are phrases that notes on stderr (lines "soc2-operator scan: note: ...") must
		// hold, each in one of them; other notes may be there too.
		notes []string
		// objects is summary.objects; -1 when the scan refuses to run at all.
		objects int
		// scanned are objects (Kind/name) that must have findings, besides Deployment/good.
		scanned []string
		// unjudged are results (check Kind/name) the scan must not give: "" matches any check.
		unjudged []string
		// excepted are all the excepted findings, as "check Kind/name by namespace/name".
		excepted []string
		// results must be among the results of --show all.
		results []wantResult
		// exceptionStates are states of exceptions in the report, by namespace/name.
		exceptionStates map[string]string
	}{
		// Manifests: the decoder and the directory walk are tested in internal/manifest; these show
		// that the scan reports what they return (exit code, stderr, the report's errors) and judges
		// the good objects next to a bad one.
		"replicas: three names the field and the type": {
			manifests: map[string]string{"bad.yaml": afterPod("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typo, namespace: shop}\nspec: {replicas: three}\n")},
			code:      ExitInput,
			stderr:    [][]string{{"manifests/bad.yaml: document 2 (line 6): Deployment: spec.replicas: cannot use a JSON string as int32"}},
			objects:   2,
			scanned:   []string{"Pod/before"},
		},
		"a built-in kind under an apiVersion Kubernetes never served is an input error": {
			manifests: map[string]string{"bad.yaml": afterPod("apiVersion: v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: nginx:1.27}]}\n")},
			code:      ExitInput,
			stderr:    [][]string{{"manifests/bad.yaml: document 2 (line 6): Deployment: Kubernetes never served Deployment as apiVersion \"v1\": use apps/v1"}},
			objects:   2,
			scanned:   []string{"Pod/before"},
		},
		"a custom resource that reuses a built-in kind's name in its own group is read": {
			manifests: map[string]string{"crd.yaml": "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: w, namespace: shop}\nspec: {size: 3}\n"},
			code:      ExitOK,
			objects:   2,
		},
		"a custom check of a Kubernetes kind does not judge a custom resource that reuses its name": {
			manifests: map[string]string{"crd.yaml": "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: w, namespace: shop}\nspec: {size: 3}\n"},
			profile:   customCheck("custom-owner", "has(object.metadata.labels) && 'owner' in object.metadata.labels"),
			code:      ExitOK,
			objects:   2,
			results:   []wantResult{{"custom-owner", "Deployment/good", "Fail", "the custom check failed"}},
			unjudged:  []string{"custom-owner Deployment/w"},
		},
		"an unknown kind is read and not judged, without an error": {
			manifests: map[string]string{"widget.yaml": widget("w", "{size: 3}")},
			code:      ExitOK,
			objects:   2,
		},
		"a custom resource that runs containers is an input scan could not judge, not a silent pass": {
			// An Argo Rollout's privileged pod template: its controller makes the pods, no check
			// reads a Rollout, and the scan said 0 resources evaluated and exited 0.
			manifests: map[string]string{"rollout.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: shop}\n" +
				"spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - {name: web, image: nginx:1.27, securityContext: {privileged: true}}\n"},
			code: ExitInput,
			stderr: [][]string{{"manifests/rollout.yaml: document 1 (line 1): Rollout web runs containers that scan does not judge (spec.template.spec.containers)",
				"the operator judges the Pods it makes"}},
			objects: 2,
		},
		"a Rollout that runs a PodTemplate's containers (workloadRef) is an input scan could not judge": {
			// Argo Rollouts v1.10.2 runs the template of the PodTemplate a Rollout's workloadRef
			// names (rollout/templateref.go infoByGroupKind); no check reads a PodTemplate, which
			// runs nothing of its own, and the scan judged neither and exited 0, privileged
			// container and all.
			manifests: map[string]string{"rollout.yaml": "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: web, namespace: shop}\n" +
				"template:\n  metadata: {labels: {app: web}}\n  spec:\n    containers:\n    - {name: web, image: nginx:1.27, securityContext: {privileged: true}}\n---\n" +
				"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: shop}\n" +
				"spec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  workloadRef: {apiVersion: v1, kind: PodTemplate, name: web}\n  strategy: {canary: {}}\n"},
			code: ExitInput,
			stderr: [][]string{{"manifests/rollout.yaml: document 2 (line 10): Rollout web runs containers that scan does not judge (spec.workloadRef: PodTemplate web's template)",
				"the operator judges the Pods it makes"}},
			objects: 3,
		},
		"a Rollout that runs a Deployment's or a ReplicaSet's template (workloadRef) is no input error": {
			// scan judges that template on the Deployment or the ReplicaSet.
			manifests: map[string]string{"rollout.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: shop}\n" +
				"spec:\n  replicas: 3\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: good}\n  strategy: {canary: {}}\n---\n" +
				"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: rs, namespace: shop}\n" +
				"spec:\n  replicas: 3\n  workloadRef: {apiVersion: apps/v1, kind: ReplicaSet, name: good}\n  strategy: {canary: {}}\n"},
			code:    ExitOK,
			objects: 3,
		},
		"containers deep in a custom resource or a List of JSON are found and named": {
			// A KEDA ScaledJob's job template and a RayService's worker group, in kubectl's List.
			manifests: map[string]string{"list.json": `{"apiVersion":"v1","kind":"List","items":[` +
				`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledJob","metadata":{"name":"q","namespace":"shop"},"spec":{"jobTargetRef":{"template":{"spec":{"containers":[{"name":"w","image":"busybox:1.36"}]}}}}},` +
				`{"apiVersion":"ray.io/v1","kind":"RayService","metadata":{"name":"r","namespace":"shop"},"spec":{"rayClusterConfig":{"workerGroupSpecs":[{"template":{"spec":{"initContainers":[],"containers":[{"name":"w","image":"rayproject/ray:2.9.0"}]}}}]}}}]}`},
			code: ExitInput,
			stderr: [][]string{
				{"manifests/list.json: document 1 (line 1): items[0]: ScaledJob q runs containers that scan does not judge (spec.jobTargetRef.template.spec.containers)"},
				{"manifests/list.json: document 1 (line 1): items[1]: RayService r runs containers that scan does not judge (spec.rayClusterConfig.workerGroupSpecs[0].template.spec.containers)"},
			},
			objects: 3,
		},
		"a custom resource that runs containers in a namespace the profile does not assess is no error": {
			// The operator would not assess namespace argo; its Rollout is no reason to fail,
			// shop's still is.
			manifests: map[string]string{
				"argo.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: argo}\n" +
					"spec:\n  template:\n    spec:\n      containers:\n      - {name: web, image: nginx:1.27}\n",
				"shop.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: shop}\n" +
					"spec:\n  template:\n    spec:\n      containers:\n      - {name: web, image: nginx:1.27}\n"},
			profile: profileWith("  excludedNamespaces: [argo]\n"),
			code:    ExitInput,
			stderr:  [][]string{{"manifests/shop.yaml: document 1 (line 1): Rollout web runs containers that scan does not judge"}},
			objects: 3,
		},
		"a pod template's containers that leave the image to the controller, or only init containers, are containers too": {
			// ECK's documented sysctl init container, privileged, whose image ECK fills in, and a
			// Prometheus whose spec.containers patches the prometheus container the operator
			// makes by its name: Kubernetes requires a container's name, not its image, in a
			// template, and these ran privileged with exit 0.
			manifests: map[string]string{"es.yaml": "apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nmetadata: {name: logs, namespace: shop}\n" +
				"spec:\n  version: 8.15.0\n  nodeSets:\n  - name: default\n    count: 3\n    podTemplate:\n      spec:\n        initContainers:\n" +
				"        - {name: sysctl, securityContext: {privileged: true, runAsUser: 0}, command: [sh, -c, sysctl -w vm.max_map_count=262144]}\n",
				"prometheus.yaml": "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: k8s, namespace: shop}\n" +
					"spec:\n  replicas: 2\n  containers:\n  - {name: prometheus, securityContext: {privileged: true}}\n"},
			code: ExitInput,
			stderr: [][]string{
				{"manifests/es.yaml: document 1 (line 1): Elasticsearch logs runs containers that scan does not judge (spec.nodeSets[0].podTemplate.spec.initContainers)"},
				{"manifests/prometheus.yaml: document 1 (line 1): Prometheus k8s runs containers that scan does not judge (spec.containers)"},
			},
			objects: 3,
		},
		"a workflow's container or a pipeline task's steps are containers too": {
			// Argo Workflows runs a template's container (or script) as a pod, Tekton a Task's
			// steps as the containers of one.
			manifests: map[string]string{"workflow.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: build, namespace: shop}\n" +
				"spec:\n  entrypoint: main\n  templates:\n  - name: main\n    container: {image: docker:27-dind, securityContext: {privileged: true}}\n",
				"task.yaml": "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: build, namespace: shop}\n" +
					"spec:\n  steps:\n  - {name: build, image: gcr.io/kaniko-project/executor:v1.23.0}\n"},
			code: ExitInput,
			stderr: [][]string{
				{"manifests/workflow.yaml: document 1 (line 1): Workflow build runs containers that scan does not judge (spec.templates[0].container)"},
				{"manifests/task.yaml: document 1 (line 1): Task build runs containers that scan does not judge (spec.steps)"},
			},
			objects: 3,
		},
		"a community API group under k8s.io runs containers too, and init containers outside a pod spec are containers": {
			// The Kubeflow Spark operator's group is sparkoperator.k8s.io (approved through
			// api-approved.kubernetes.io, as any CRD under k8s.io must be): its driver's sidecar
			// and its executor's init container run in the pods it makes, and were passed as
			// Kubernetes' own.
			manifests: map[string]string{"spark.yaml": "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata: {name: pi, namespace: shop}\n" +
				"spec:\n  type: Scala\n  mode: cluster\n  image: spark:3.5.3\n  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar\n" +
				"  driver: {cores: 1, serviceAccount: spark, sidecars: [{name: proxy, image: envoyproxy/envoy:v1.31, securityContext: {privileged: true}}]}\n",
				"scheduled.yaml": "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: ScheduledSparkApplication\nmetadata: {name: nightly, namespace: shop}\n" +
					"spec:\n  schedule: '@daily'\n  template:\n    type: Python\n    image: spark:3.5.3\n" +
					"    executor: {instances: 2, initContainers: [{name: fetch, image: busybox:1.36, securityContext: {runAsUser: 0}}]}\n"},
			code: ExitInput,
			stderr: [][]string{
				{"manifests/spark.yaml: document 1 (line 1): SparkApplication pi runs containers that scan does not judge (spec.driver.sidecars)"},
				{"manifests/scheduled.yaml: document 1 (line 1): ScheduledSparkApplication nightly runs containers that scan does not judge (spec.template.executor.initContainers)"},
			},
			objects: 3,
		},
		"a policy that generates a workload or patches a container into pods runs containers too": {
			// Kyverno creates a generate rule's data in every namespace that matches (a
			// privileged DaemonSet sharing the host's PIDs), and a mutate rule's patch adds its
			// sidecar to every Pod it matches: scan judged neither and exited 0.
			manifests: map[string]string{"generate.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: node-agent}\n" +
				"spec:\n  rules:\n  - name: agent\n    match: {any: [{resources: {kinds: [Namespace]}}]}\n    generate:\n" +
				"      {apiVersion: apps/v1, kind: DaemonSet, name: agent, namespace: '{{request.object.metadata.name}}', synchronize: true,\n" +
				"       data: {spec: {selector: {matchLabels: {app: agent}}, template: {metadata: {labels: {app: agent}}, spec: {hostPID: true,\n" +
				"         containers: [{name: agent, image: example.com/agent:1, securityContext: {privileged: true}}]}}}}}\n",
				"mutate.yaml": "apiVersion: kyverno.io/v1\nkind: Policy\nmetadata: {name: inject, namespace: shop}\n" +
					"spec:\n  rules:\n  - name: sidecar\n    match: {any: [{resources: {kinds: [Pod]}}]}\n    mutate:\n      patchStrategicMerge:\n" +
					"        spec:\n          containers:\n          - {name: proxy, image: example.com/proxy:1, securityContext: {runAsUser: 0}}\n"},
			code: ExitInput,
			stderr: [][]string{
				{"manifests/generate.yaml: document 1 (line 1): ClusterPolicy node-agent runs containers that scan does not judge (spec.rules[0].generate.data.spec.template.spec.containers)"},
				{"manifests/mutate.yaml: document 1 (line 1): Policy inject runs containers that scan does not judge (spec.rules[0].mutate.patchStrategicMerge.spec.containers)"},
			},
			objects: 3,
		},
		"a custom resource that only names containers in a policy, or holds none, is read without an error": {
			// A Kyverno policy's pattern describes containers; it runs none.
			manifests: map[string]string{"policy.yaml": "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: no-latest}\n" +
				"spec:\n  rules:\n  - name: no-latest\n    validate:\n      pattern:\n        spec:\n          containers:\n          - {image: '!*:latest'}\n",
				"empty.yaml": widget("w", "{template: {spec: {containers: []}}}"),
				// OpenKruise's request to restart a Pod's container names it and runs nothing new.
				"recreate.yaml": "apiVersion: apps.kruise.io/v1alpha1\nkind: ContainerRecreateRequest\nmetadata: {name: restart-app, namespace: shop}\n" +
					"spec:\n  podName: web-0\n  containers:\n  - name: app\n",
				// GKE Autopilot's allowlist names the containers it lets run.
				"allowlist.yaml": "apiVersion: auto.gke.io/v1\nkind: WorkloadAllowlist\nmetadata: {name: slurm}\n" +
					"matchingCriteria:\n  containers:\n  - {name: slurmd, image: us-docker.pkg.dev/slurm/slurmd}\n"},
			code:    ExitOK,
			objects: 5,
		},
		"a List with a broken item reports the item, and its other items are read": {
			manifests: map[string]string{"list.yaml": "apiVersion: v1\nkind: List\nitems:\n" +
				"- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed, namespace: shop}}\n" +
				"- {apiVersion: apps/v1, kind: Deployment, metadata: {name: broken, namespace: shop}, spec: {replicas: three}}\n" +
				"- " + podJSON("listed-pod") + "\n" +
				"- {apiVersion: v1, kind: ConfigMap}\n"},
			code: ExitInput,
			stderr: [][]string{
				{"manifests/list.yaml: document 1 (line 1): items[1]: Deployment: spec.replicas: cannot use a JSON string as int32"},
				{"manifests/list.yaml: document 1 (line 1): items[3]: ConfigMap: metadata.name is missing"},
			},
			objects: 3,
			scanned: []string{"Pod/listed-pod"},
		},
		"a symlink loop is named, and a directory link to its parent is not followed": {
			manifests: map[string]string{"ok.yaml": pod("readable")},
			setup: func(t *testing.T, dir string) {
				m := filepath.Join(dir, "manifests")
				for _, l := range [][2]string{{"loop-b.yaml", "loop-a.yaml"}, {"loop-a.yaml", "loop-b.yaml"}, {"..", "parent"}} {
					if err := os.Symlink(l[0], filepath.Join(m, l[1])); err != nil {
						t.Fatal(err)
					}
				}
			},
			code: ExitInput,
			stderr: [][]string{
				{"manifests/loop-a.yaml: stat: too many levels of symbolic links"},
				{"manifests/loop-b.yaml: stat: too many levels of symbolic links"},
			},
			objects: 2,
			scanned: []string{"Pod/readable"},
		},
		// Profiles: scan reads files, so nothing the CRD schema refuses is refused before it.
		"a profile with an unknown check ID names the field and suggests the ID": {
			profile: profileWith("  checks: [{id: wl-privilegd, enabled: false}]\n"),
			code:    ExitUsage,
			stderr:  [][]string{{`profile.yaml: spec.checks[0].id: unknown check "wl-privilegd"; did you mean "wl-privileged"?`}},
			objects: 1,
		},
		"a profile with an unknown severity names the field, and the check runs at its default": {
			profile: profileWith("  checks: [{id: wl-privileged, severity: Urgent}]\n"),
			code:    ExitUsage,
			stderr:  [][]string{{`profile.yaml: spec.checks[0].severity: unknown severity "Urgent": want Critical, High, Medium or Low`}},
			objects: 1,
			results: []wantResult{{"wl-privileged", "Deployment/good", "Fail", ""}},
		},
		"a profile with an unknown criterion names the field": {
			profile: profileWith("  criteria: [CC6.1, CC6.9]\n"),
			code:    ExitUsage,
			stderr:  [][]string{{`profile.yaml: spec.criteria[1]: unknown SOC 2 criterion "CC6.9"`}},
			objects: 1,
		},
		"a custom check that does not compile names the field and CEL's error, and the other checks run": {
			profile: customCheck("custom-replicas", "object.spec.replicas >"),
			code:    ExitUsage,
			stderr:  [][]string{{`profile.yaml: spec.customChecks[0].expression: custom check "custom-replicas": does not compile:`, "Syntax error"}},
			objects: 1,
		},
		"a custom check whose kind is no kind Kubernetes serves and none read is a profile problem, as the operator's": {
			profile: strings.Replace(customCheck("custom-owner", "has(object.metadata.labels)"), "kinds: [Deployment]", "kinds: [Deployments]", 1),
			code:    ExitUsage,
			stderr: [][]string{{`profile.yaml: spec.customChecks[0].kinds[0]: no object read is a Deployments, and Kubernetes serves no such kind: ` +
				`custom check "custom-owner" judged nothing; did you mean Deployment?`}},
			objects: 1,
		},
		"a custom check whose kind is a served kind in another case is a profile problem, naming the kind": {
			profile: strings.Replace(customCheck("custom-owner", "has(object.metadata.labels)"), "kinds: [Deployment]", "kinds: [Daemonset]", 1),
			code:    ExitUsage,
			stderr: [][]string{{`profile.yaml: spec.customChecks[0].kinds[0]: no object read is a Daemonset, and Kubernetes serves no such kind: ` +
				`custom check "custom-owner" judged nothing; did you mean DaemonSet?`}},
			objects: 1,
		},
		"a custom check of a custom resource's kind none of the files hold judged nothing, which a note says": {
			profile: strings.Replace(customCheck("custom-certs", "has(object.spec.secretName)"), "kinds: [Deployment]", "kinds: [Certificate]", 1),
			code:    ExitOK,
			notes: []string{`profile.yaml: spec.customChecks[0].kinds[0]: no object read is a Certificate: ` +
				`custom check "custom-certs" judged nothing`},
			objects: 1,
		},
		"a custom check of a custom resource's kind judges the ones read": {
			manifests: map[string]string{"widget.yaml": widget("w", "{size: 3}")},
			profile:   strings.Replace(customCheck("custom-size", "object.spec.size <= 3"), "kinds: [Deployment]", "kinds: [Widget]", 1),
			code:      ExitOK,
			objects:   2,
			results:   []wantResult{{"custom-size", "Widget/w", "Pass", ""}},
		},
		"a custom check that returns a string is refused before it runs": {
			profile: customCheck("custom-name", "'hello'"),
			code:    ExitUsage,
			stderr: [][]string{{`profile.yaml: spec.customChecks[0].expression: custom check "custom-name": returns string; ` +
				`it must return a bool (true when the resource passes)`}},
			objects: 1,
		},
		"a custom check that returns a string at run time is NotAssessed with the reason": {
			profile: customCheck("custom-name", "object.metadata.name"),
			code:    ExitOK,
			objects: 1,
			results: []wantResult{{"custom-name", "Deployment/good", "NotAssessed", "expression returned string, not a bool"}},
		},
		"a custom check of nested comprehensions is stopped by the cost limit": {
			profile: customCheck("custom-loops", strings.Repeat("[0,1,2,3,4,5,6,7,8,9].all(x, ", 7)+"true"+strings.Repeat(")", 7)),
			code:    ExitOK,
			objects: 1,
			results: []wantResult{{"custom-loops", "Deployment/good", "NotAssessed",
				fmt.Sprintf("expression stopped: it exceeded the cost limit of %d", engine.CustomCheckCostLimit)}},
		},
		"a custom check that blows up a string is stopped by the cost limit": {
			profile: customCheck("custom-strings", "'a'"+strings.Repeat(".replace('a', 'aaaaaaaaaa')", 9)+".size() > 0"),
			code:    ExitOK,
			objects: 1,
			results: []wantResult{{"custom-strings", "Deployment/good", "NotAssessed",
				fmt.Sprintf("expression stopped: it exceeded the cost limit of %d", engine.CustomCheckCostLimit)}},
		},
		"a custom check with the ID of a built-in check is refused, and the built-in one runs": {
			profile: customCheck("wl-privileged", "true"),
			code:    ExitUsage,
			stderr:  [][]string{{`profile.yaml: spec.customChecks[0].id: custom check "wl-privileged" has the ID of a built-in check; choose another ID`}},
			objects: 1,
			results: []wantResult{{"wl-privileged", "Deployment/good", "Fail", ""}},
		},
		"a profile whose maxDuration the cluster refuses names the field, and the default limit applies": {
			// The CRD refuses a maxDuration under 1h; a 0s one must not lift the limit in scan.
			profile:    profileWith("  exceptionPolicy: {maxSeverity: Critical, maxDuration: 0s}\n"),
			exceptions: exception("forever", "  checks: [wl-privileged]\n  reason: Accepted by the shop team for now.\n  owner: shop-team@example.com\n  expires: '2036-01-01T00:00:00Z'\n"),
			code:       ExitUsage,
			stderr: [][]string{{"profile.yaml: spec.exceptionPolicy.maxDuration: maxDuration must be between 1h and 8760h (a year), not 0s"},
				{"exception shop/forever is invalid: spec.expires", "at most 90d"}},
			objects: 1,
			results: []wantResult{{"wl-privileged", "Deployment/good", "Fail", ""}},
		},
		"a profile with a field the CRD does not have is refused, as kubectl apply refuses it": {
			// excludeNamespaces for excludedNamespaces: the cluster never holds this profile.
			profile: profileWith("  excludeNamespaces: [shop]\n"),
			code:    ExitUsage,
			stderr:  [][]string{{"--profile", "profile.yaml: document 1 (line 1): ComplianceProfile: unknown field \"spec.excludeNamespaces\""}},
			objects: -1,
		},
		"a profile file holding two profiles is refused": {
			profile: profileWith("  checks: []\n") + "---\n" + profileWith("  checks: []\n"),
			code:    ExitUsage,
			stderr:  [][]string{{"--profile", "profile.yaml: want exactly one ComplianceProfile, found 2"}},
			objects: -1,
		},
		"a profile file holding a Deployment is refused": {
			profile: goodDeployment,
			code:    ExitUsage,
			stderr:  [][]string{{"--profile", "profile.yaml: document 1 is a Deployment, not a ComplianceProfile"}},
			objects: -1,
		},

		// Exceptions: the file, the document and the field of an invalid one are named; it waives
		// nothing, and the valid exception next to it still does.
		"an exception without a reason is invalid": {
			exceptions: afterException(exception("no-reason", "  checks: [wl-privileged]\n  owner: me@example.com\n  expires: '2027-01-01T00:00:00Z'\n")),
			code:       ExitUsage,
			stderr:     [][]string{{"exceptions.yaml", "document 2", "exception shop/no-reason is invalid: spec.reason: an exception needs a reason"}},
			objects:    1,
			excepted:   []string{goodExcepted},
		},
		"an exception without an owner is invalid": {
			exceptions: afterException(exception("no-owner", "  checks: [wl-privileged]\n  reason: Needed for now.\n  expires: '2027-01-01T00:00:00Z'\n")),
			code:       ExitUsage,
			stderr:     [][]string{{"exceptions.yaml", "document 2", "exception shop/no-owner is invalid: spec.owner: an exception needs an owner"}},
			objects:    1,
			excepted:   []string{goodExcepted},
		},
		"an exception without an expiry is invalid": {
			exceptions: afterException(exception("no-expiry", "  checks: [wl-privileged]\n  reason: Needed for now.\n  owner: me@example.com\n")),
			code:       ExitUsage,
			stderr:     [][]string{{"exceptions.yaml", "document 2", "exception shop/no-expiry is invalid: spec.expires: an exception needs an expiry"}},
			objects:    1,
			excepted:   []string{goodExcepted},
		},
		"an exception for an unknown check is invalid": {
			exceptions: afterException(exception("typo", "  checks: [wl-privilegd]\n"+exceptionTail)),
			code:       ExitUsage,
			stderr:     [][]string{{"exceptions.yaml", "document 2", `exception shop/typo is invalid: spec.checks[0]: unknown check "wl-privilegd"`}},
			objects:    1,
			excepted:   []string{goodExcepted},
		},
		"an exception for a criterion that is not SOC 2 is invalid": {
			exceptions: afterException(exception("iso", "  criteria: [A.9.2.3]\n"+exceptionTail)),
			code:       ExitUsage,
			stderr:     [][]string{{"exceptions.yaml", "document 2", `exception shop/iso is invalid: spec.criteria[0]: unknown SOC 2 criterion "A.9.2.3"`}},
			objects:    1,
			excepted:   []string{goodExcepted},
		},
		"an exception with an invalid name pattern is invalid": {
			exceptions: afterException(exception("glob", "  checks: [wl-privileged]\n  match: {names: ['web-[0-9']}\n"+exceptionTail)),
			code:       ExitUsage,
			stderr:     [][]string{{"exceptions.yaml", "document 2", `exception shop/glob is invalid: spec.match.names[0]: "web-[0-9" is not a valid pattern`}},
			objects:    1,
			excepted:   []string{goodExcepted},
		},
		"an exception with an invalid label selector is invalid": {
			exceptions: afterException(exception("selector", "  checks: [wl-privileged]\n"+
				"  match: {labelSelector: {matchExpressions: [{key: app, operator: Equals, values: [good]}]}}\n"+exceptionTail)),
			code:     ExitUsage,
			stderr:   [][]string{{"exceptions.yaml", "document 2", `exception shop/selector is invalid: spec.match.labelSelector: "Equals" is not a valid label selector operator`}},
			objects:  1,
			excepted: []string{goodExcepted},
		},
		"an exception outside the admin namespace that selects other namespaces is invalid": {
			exceptions: afterException(exception("everywhere", "  checks: [wl-privileged]\n  match: {namespaces: ['*']}\n"+exceptionTail)),
			code:       ExitUsage,
			stderr: [][]string{{"exceptions.yaml", "document 2", "exception shop/everywhere is invalid: spec.match.namespaces: " +
				`only exceptions in the operator's namespace "soc2-operator-system" may select other namespaces`}},
			objects:  1,
			excepted: []string{goodExcepted},
		},
		"an exceptions file holding a Deployment names the document, and its exceptions still apply": {
			exceptions: afterException(goodDeployment),
			code:       ExitUsage,
			stderr:     [][]string{{"--exceptions", "exceptions.yaml: document 2 is a Deployment, not a ControlException"}},
			objects:    1,
			excepted:   []string{goodExcepted},
		},
		"an exception without a namespace lands in --namespace, as kubectl apply puts it, and cannot waive cluster-scoped findings": {
			manifests: map[string]string{"crb.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ci-admin}\n" +
				"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n" +
				"subjects: [{kind: ServiceAccount, name: ci, namespace: ci}]\n"},
			exceptions: "apiVersion: compliance.soc2-operator.io/v1alpha1\nkind: ControlException\nmetadata: {name: no-namespace}\n" +
				"spec:\n  checks: [rbac-cluster-admin-binding]\n" + exceptionTail,
			code:            ExitOK,
			objects:         2,
			scanned:         []string{"ClusterRoleBinding/ci-admin"},
			exceptionStates: map[string]string{"default/no-namespace": "Active"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "manifests", "good.yaml"), goodDeployment)
			for file, content := range tc.manifests {
				writeFile(t, filepath.Join(dir, "manifests", file), content)
			}
			args := []string{"-f", filepath.Join(dir, "manifests"), "-o", "json", "--show", "all", "--fail-on", "none"}
			profile := tc.profile
			if profile == "" && tc.exceptions != "" {
				// The good exception waives a Critical finding, which a profile must allow.
				profile = profileWith("  exceptionPolicy: {maxSeverity: Critical}\n")
			}
			if profile != "" {
				writeFile(t, filepath.Join(dir, "profile.yaml"), profile)
				args = append(args, "--profile", filepath.Join(dir, "profile.yaml"))
			}
			if tc.exceptions != "" {
				writeFile(t, filepath.Join(dir, "exceptions.yaml"), tc.exceptions)
				args = append(args, "--exceptions", filepath.Join(dir, "exceptions.yaml"))
			}
			if tc.setup != nil {
				tc.setup(t, dir)
			}

			stdout, stderr, code := runScan(t, "", args...)

			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			assertStderr(t, stderr, tc.stderr)
			for _, n := range tc.notes {
				if !slices.ContainsFunc(strings.Split(stderr, "\n"), func(line string) bool {
					return strings.HasPrefix(line, "soc2-operator scan: note: ") && strings.Contains(line, n)
				}) {
					t.Errorf("no note on stderr holds %q; stderr:\n%.2000s", n, stderr)
				}
			}
			if tc.objects < 0 {
				if stdout != "" {
					t.Errorf("the scan should not have run, but printed:\n%.500s", stdout)
				}
				return
			}
			var rep Report
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&rep); err != nil {
				t.Fatalf("JSON output does not decode: %v\n%.500s", err, stdout)
			}
			if rep.Summary.Objects != tc.objects {
				t.Errorf("summary.objects = %d, want %d", rep.Summary.Objects, tc.objects)
			}
			if code == ExitInput && len(rep.Errors) != len(tc.stderr) {
				t.Errorf("the report lists %d input errors, want %d: %+v", len(rep.Errors), len(tc.stderr), rep.Errors)
			}
			judged := map[string]bool{}
			var excepted []string
			for _, f := range rep.Findings {
				if f.Resource == nil {
					continue
				}
				ref := f.Resource.Kind + "/" + f.Resource.Name
				judged[ref] = true
				if f.Exception != "" {
					excepted = append(excepted, f.Check+" "+ref+" by "+f.Exception)
				}
			}
			for _, ref := range append([]string{"Deployment/good"}, tc.scanned...) {
				if !judged[ref] {
					t.Errorf("%s was lost: it has no findings", ref)
				}
			}
			if strings.Join(excepted, "\n") != strings.Join(tc.excepted, "\n") {
				t.Errorf("excepted findings:\n%s\nwant:\n%s", strings.Join(excepted, "\n"), strings.Join(tc.excepted, "\n"))
			}
			for _, want := range tc.results {
				if !hasResult(rep.Results, want) {
					t.Errorf("no result %+v among the %d results", want, len(rep.Results))
				}
			}
			for _, r := range rep.Results {
				for _, u := range tc.unjudged {
					if check, ref, _ := strings.Cut(u, " "); (check == "" || check == r.Check) && r.Resource != nil &&
						ref == r.Resource.Kind+"/"+r.Resource.Name && r.Resource.APIVersion == "example.com/v1" {
						t.Errorf("the custom resource %s was judged by %s: %s %s", ref, r.Check, r.Result, r.Message)
					}
				}
			}
			for key, state := range tc.exceptionStates {
				found := false
				for _, e := range rep.Exceptions {
					found = found || (e.Name == key && string(e.State) == state)
				}
				if !found {
					t.Errorf("no exception %s in state %s; the report has %+v", key, state, rep.Exceptions)
				}
			}
		})
	}
}

// assertStderr checks that every line of stderr is one of want, and every one of want is on
// stderr: each is phrases that one line holds.
func assertStderr(t *testing.T, stderr string, want [][]string) {
	t.Helper()
	matched := make([]bool, len(want))
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line == "" || strings.HasPrefix(line, "soc2-operator scan: note: ") {
			continue // notes inform; they are asserted where they are the point
		}
		ok := false
		for i, phrases := range want {
			if holdsAll(line, phrases) {
				matched[i], ok = true, true
			}
		}
		if !ok {
			t.Errorf("unexpected stderr line: %.300s", line)
		}
	}
	for i, phrases := range want {
		if !matched[i] {
			t.Errorf("no stderr line holds %q; stderr:\n%.2000s", phrases, stderr)
		}
	}
}

func holdsAll(line string, phrases []string) bool {
	for _, p := range phrases {
		if !strings.Contains(line, p) {
			return false
		}
	}
	return true
}

func hasResult(results []Finding, want wantResult) bool {
	for _, r := range results {
		if r.Check == want.check && r.Resource != nil && r.Resource.Kind+"/"+r.Resource.Name == want.resource &&
			string(r.Result) == want.result && strings.Contains(r.Message, want.message) {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every kind the operator reads is one a custom check may name in scan (unreadKinds asks
// manifest.KnownKind, so that scan does not link internal/inventory and with it the Kubernetes
// client the offline build leaves out: TestOfflineBuild).
func TestTheOperatorsKindsAreKnownToScan(t *testing.T) {
	for _, k := range inventory.Kinds {
		if !manifest.KnownKind(k.GVK.Kind) {
			t.Errorf("the operator reads %s, which scan does not know: a custom check of it would be refused", k.GVK)
		}
	}
}
