package checks

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// kube-score (github.com/zegl/kube-score) is a peer tool (hack/scan-bench.sh pins the same
// version). Its own test suite, score/*_test.go over score/testdata/*.yaml, asserts a grade per
// check per file; TestKubeScoreConformance reads those assertions at test time and holds the
// catalogue's verdicts to them. kube-score is not in go.mod: its module is read from the module
// cache (downloaded through the proxy if need be).
const (
	kubeScoreModule  = "github.com/zegl/kube-score"
	kubeScoreVersion = "v1.20.0"
)

// kubeScoreMapping maps a kube-score check name to the catalogue checks that judge the same
// thing. A case graded Critical or Warning wants at least one of them to fail the file; a case
// graded AllOK wants none of them to.
var kubeScoreMapping = map[string][]string{
	"Container Image Pull Policy":                       {"img-pull-policy"},
	"Container Image Tag":                               {"img-mutable-tag"},
	"Container Resources":                               {"avl-memory-limit", "avl-resource-requests"},
	"Container Seccomp Profile":                         {"wl-seccomp"},
	"Container Security Context Privileged":             {"wl-privileged"},
	"Container Security Context ReadOnlyRootFilesystem": {"wl-readonly-rootfs"},
	"Container Security Context User Group ID":          {"wl-run-as-root", "wl-root-group"},
	"Deployment Replicas":                               {"avl-replicas"},
	"Deployment Strategy":                               {"avl-rolling-update"},
	"Deployment has PodDisruptionBudget":                {"avl-pdb"},
	"StatefulSet has PodDisruptionBudget":               {"avl-pdb"},
	"PodDisruptionBudget has policy":                    {"avl-pdb", "avl-pdb-zero-disruptions"},
	"Deployment has host PodAntiAffinity":               {"avl-topology-spread"},
	"StatefulSet has host PodAntiAffinity":              {"avl-topology-spread"},
	"Pod Topology Spread Constraints":                   {"avl-topology-spread"},
	"HorizontalPodAutoscaler Replicas":                  {"avl-hpa-sanity"},
	"Pod NetworkPolicy":                                 {"net-pod-policy-coverage"},
	"Pod Probes":                                        {"avl-readiness-probe", "avl-liveness-probe"},
	"Service Type":                                      {"net-service-exposure"},
	"Stable version":                                    {"chg-deprecated-apis"},
}

// kubeScoreUnmapped are the kube-score checks no catalogue check counterparts, with the reason.
var kubeScoreUnmapped = map[string]string{
	"Container CPU Requests Equal Limits":                            "Guaranteed QoS is a scheduling preference, not a SOC 2 control; A1.1 is served by avl-resource-requests",
	"Container Memory Requests Equal Limits":                         "Guaranteed QoS is a scheduling preference, not a SOC 2 control; A1.1 is served by avl-memory-limit",
	"Container Resource Requests Equal Limits":                       "Guaranteed QoS is a scheduling preference, not a SOC 2 control",
	"Container Ephemeral Storage Request and Limit":                  "the catalogue does not judge ephemeral storage (A1.1 is memory and CPU: avl-memory-limit, avl-resource-requests)",
	"Container Ephemeral Storage Request Equals Limit":               "Guaranteed QoS for ephemeral storage is a scheduling preference, not a SOC 2 control",
	"Container Ports Check":                                          "port names and containerPort presence are manifest hygiene (the API server validates names), not a control",
	"CronJob RestartPolicy":                                          "the API server refuses a Job template whose restartPolicy is not OnFailure or Never: validity, not a control",
	"CronJob has deadline":                                           "startingDeadlineSeconds is scheduling hygiene, not a SOC 2 control",
	"Deployment targeted by HPA does not have replicas configured":   "replicas set beside an HPA is an apply-time tug of war (GitOps drift), not a SOC 2 control",
	"Environment Variable Key Duplication":                           "duplicate env keys are manifest hygiene (the last wins), not a control",
	"HorizontalPodAutoscaler has target":                             "a dangling scaleTargetRef is reference hygiene; avl-hpa-sanity judges the replicas it keeps",
	"Ingress targets Service":                                        "a backend Service missing from the files given is reference hygiene, not a boundary control",
	"NetworkPolicy targets Pod":                                      "a policy that selects no pod grants nothing; coverage of pods is net-pod-policy-coverage",
	"Pod Probes Identical":                                           "identical readiness and liveness probes are probe design, not a missing control (avl-*-probe judge presence)",
	"Service Targets Pod":                                            "a Service that selects no pod in the files given exposes nothing; exposure is net-service-exposure",
	"StatefulSet Pod Selector labels match template metadata labels": "the API server refuses a StatefulSet whose selector does not match its template: validity, not a control",
	"StatefulSet has ServiceName":                                    "the governing headless Service is StatefulSet DNS plumbing, not a SOC 2 control",
}

// kubeScoreDisagreements are the cases where kube-score's grade and the catalogue's verdict
// differ, keyed by kubeScoreCase.key, each with why the catalogue is right or differs by
// design. A disagreement not listed fails the test, and so does a listed one that no longer
// disagrees.
var kubeScoreDisagreements = map[string]string{
	// Kubernetes version: kube-score's helper judges at 1.18 (or the version a case sets); the
	// catalogue judges for the Kubernetes it runs with, 1.37, which serves none of these.
	"cronjob-batchv1beta1.yaml Stable version":                                                            "batch/v1beta1 CronJob is not served since Kubernetes 1.25 (kube-score judges at 1.18)",
	"statefulset-appsv1beta1.yaml Stable version {KubernetesVersion=1.4}":                                 "apps/v1beta1 StatefulSet is not served since Kubernetes 1.16 (kube-score is told the cluster is 1.4)",
	"deployment-poddisruptionbudget-v1beta1-matches.yaml Deployment has PodDisruptionBudget":              "policy/v1beta1 PodDisruptionBudget is not served since Kubernetes 1.25: the API server refuses it and nothing protects the pods",
	"deployment-poddisruptionbudget-v1beta1-expression-matches.yaml Deployment has PodDisruptionBudget":   "policy/v1beta1 PodDisruptionBudget is not served since Kubernetes 1.25: the API server refuses it and nothing protects the pods",
	"statefulset-poddisruptionbudget-v1beta1-matches.yaml StatefulSet has PodDisruptionBudget":            "policy/v1beta1 PodDisruptionBudget is not served since Kubernetes 1.25: the API server refuses it and nothing protects the pods",
	"statefulset-poddisruptionbudget-v1beta1-expression-matches.yaml StatefulSet has PodDisruptionBudget": "policy/v1beta1 PodDisruptionBudget is not served since Kubernetes 1.25: the API server refuses it and nothing protects the pods",

	// Resources: requests default to limits, and CPU limits are not required.
	"deployment-test-resources.yaml Container Resources":                                                                                          "limits without requests: the API server defaults requests to the limits (k8s v1.37.2 core/v1 SetDefaults_Pod), so CPU and memory are requested",
	"statefulset-test-resources.yaml Container Resources":                                                                                         "limits without requests: the API server defaults requests to the limits (k8s v1.37.2 core/v1 SetDefaults_Pod), so CPU and memory are requested",
	"pod-test-resources-only-limits.yaml Container Resources":                                                                                     "limits without requests: the API server defaults requests to the limits (k8s v1.37.2 core/v1 SetDefaults_Pod), so CPU and memory are requested",
	"pod-test-resources-limits-and-requests-no-cpu-limit.yaml Container Resources {IgnoreContainerCpuLimitRequirement=false}":                     "by design: the catalogue requires CPU and memory requests and a memory limit, not a CPU limit (throttling, not eviction, is what a CPU limit buys)",
	"pod-test-resources-no-limits.yaml Container Resources {IgnoreContainerCpuLimitRequirement=true, IgnoreContainerMemoryLimitRequirement=true}": "kube-score is told to ignore memory limits; avl-memory-limit has no such switch (a container without one can take the node's memory, A1.1)",

	// Replicas: the catalogue's minimum is 2; kube-score's cases lower theirs to 1.
	"service-target-deployment-replica-1.yaml Deployment Replicas {MinReplicasDeployment=1}": "kube-score is told 1 replica is enough; avl-replicas wants 2, the least that survives losing a pod (A1.2)",
	"hpa-min-replicas-nok.yaml HorizontalPodAutoscaler Replicas {MinReplicasHPA=1}":          "kube-score is told minReplicas 1 is enough; avl-hpa-sanity wants 2, and also fails the HPA for its cpu Utilization metric over pods that request no cpu, which the HPA controller cannot compute",
	"hpa-min-replicas-ok.yaml HorizontalPodAutoscaler Replicas":                              "another reason than minReplicas (2 passes): the cpu Utilization metric is over pods that request no cpu, which the HPA controller cannot compute (missing request), so it never scales",

	// Topology: a bare Pod is one replica.
	"pod-topology-spread-constraints-invalid-maxskew.yaml Pod Topology Spread Constraints":           "a bare Pod: avl-topology-spread judges replicated controllers (one pod has nothing to spread; avl-bare-pod fails it)",
	"pod-topology-spread-constraints-invalid-mindomains.yaml Pod Topology Spread Constraints":        "a bare Pod: avl-topology-spread judges replicated controllers (one pod has nothing to spread; avl-bare-pod fails it)",
	"pod-topology-spread-constraints-invalid-whenunsatisfiable.yaml Pod Topology Spread Constraints": "a bare Pod: avl-topology-spread judges replicated controllers (one pod has nothing to spread; avl-bare-pod fails it)",
	"pod-topology-spread-constraints-no-labelselector.yaml Pod Topology Spread Constraints":          "a bare Pod: avl-topology-spread judges replicated controllers (one pod has nothing to spread; avl-bare-pod fails it)",
	"pod-topology-spread-constraints-no-topologykey.yaml Pod Topology Spread Constraints":            "a bare Pod: avl-topology-spread judges replicated controllers (one pod has nothing to spread; avl-bare-pod fails it)",
	"statefulset-host-antiaffinity-undefined-replicas.yaml StatefulSet has host PodAntiAffinity":     "replicas unset is 1 (apps/v1 defaulting), which has nothing to spread; kube-score itself skips the 1-replica case",

	// Network policy.
	"networkpolicy-matching-only-ingress.yaml Pod NetworkPolicy": "by design: net-pod-policy-coverage wants ingress isolated by default (egress only when the profile asks); kube-score wants both",
	"networkpolicy-targets-all-pods.yaml Pod NetworkPolicy":      "the policy's ingress rule {} admits every source: the pod's ingress is as open as with no policy, so selecting it isolates nothing",

	// Probes: the catalogue wants a readiness probe on every long-running container, whether a
	// Service selects the pod or not.
	"pod-probes-not-targeted-by-service.yaml Pod Probes":                 "by design: kube-score skips pods no Service selects; avl-readiness-probe judges every long-running container (a Service may come later, and rollouts wait on readiness)",
	"pod-probes-not-targeted-by-service-multi-labels.yaml Pod Probes":    "by design: kube-score skips pods no Service selects; avl-readiness-probe judges every long-running container (a Service may come later, and rollouts wait on readiness)",
	"pod-probes-targeted-by-service-different-namespace.yaml Pod Probes": "by design: kube-score skips pods no Service of their namespace selects; avl-readiness-probe judges every long-running container",
	"pod-probes-on-different-containers.yaml Pod Probes":                 "by design: the catalogue judges each container; foobar2 has neither probe, so its failure neither restarts it nor takes the pod out of its Service",

	// Workload hardening.
	"pod-seccomp-annotated.yaml Container Seccomp Profile {EnabledOptionalTests=[container-seccomp-profile]}":                                       "seccomp.security.alpha.kubernetes.io/defaultProfileName is a PodSecurityPolicy annotation (PSP was removed in Kubernetes 1.25): on a Pod it sets no profile",
	"pod-seccomp-annotated-annotation-optional.yaml Container Seccomp Profile {UseOptionalChecksAnnotation=true}":                                   "seccomp.security.alpha.kubernetes.io/defaultProfileName is a PodSecurityPolicy annotation (PSP was removed in Kubernetes 1.25): on a Pod it sets no profile",
	"pod-security-context-all-good.yaml Container Security Context User Group ID {EnabledOptionalTests=[container-security-context-user-group-id]}": "runAsUser 30000 without runAsNonRoot: true fails Pod Security restricted's runAsNonRoot (k8s.io/pod-security-admission v0.37.2), which wl-run-as-root reports",
}

// kubeScoreMaxUnextracted is how many grade assertions of kube-score v1.20.0's tests the
// extraction could not read (an argument that is neither a literal, a concatenation with a
// ranged-over literal, nor a testFile list) when this test was written: none. A kube-score
// update that asserts in a new form fails here until extractKubeScoreCases reads it, instead
// of quietly testing less.
const kubeScoreMaxUnextracted = 0

// kubeScoreCase is one grade assertion of kube-score's tests.
type kubeScoreCase struct {
	test   string   // the Go test that asserts it
	files  []string // testdata files, scored together
	check  string   // kube-score check name
	grade  string   // Critical, Warning, AlmostOK, AllOK, or Skipped (grade 0)
	config string   // the RunConfiguration and checks.Config the call gives, "" for the default helper
}

func (c kubeScoreCase) key() string {
	k := strings.Join(c.files, "+") + " " + c.check
	if c.config != "" {
		k += " {" + c.config + "}"
	}
	return k
}

// kubeScoreExtraction is what extractKubeScoreCases read.
type kubeScoreExtraction struct {
	cases       []kubeScoreCase
	unextracted []string // grade assertions it could not read, with where
	other       int      // calls that assert no grade (wasSkipped, getSummaries, testScore)
}

// extractKubeScoreCases reads the grade assertions of kube-score's score/*_test.go with
// go/parser: the calls testExpectedScore(t, FILE, CHECK, GRADE) and
// testExpectedScoreWithConfig(t, []ks.NamedReader{testFile(FILE)...}, CHECKSCONFIG, RUNCONFIG,
// CHECK, GRADE).
func extractKubeScoreCases(t *testing.T, dir string) kubeScoreExtraction {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "score", "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s/score: %v", dir, err)
	}
	sort.Strings(files)
	var x kubeScoreExtraction
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") {
				continue
			}
			env := kubeScoreEnv(fn.Body)
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				name, ok := call.Fun.(*ast.Ident)
				if !ok {
					return true
				}
				where := fmt.Sprintf("%s (%s)", fn.Name.Name, fset.Position(call.Pos()))
				var fileArg, checkArg, gradeArg ast.Expr
				config := ""
				switch name.Name {
				case "testExpectedScore":
					if len(call.Args) != 4 {
						x.unextracted = append(x.unextracted, where+": want 4 arguments")
						return true
					}
					fileArg, checkArg, gradeArg = call.Args[1], call.Args[2], call.Args[3]
				case "testExpectedScoreWithConfig":
					if len(call.Args) != 6 {
						x.unextracted = append(x.unextracted, where+": want 6 arguments")
						return true
					}
					fileArg, checkArg, gradeArg = call.Args[1], call.Args[4], call.Args[5]
					var parts []string
					for _, a := range call.Args[2:4] {
						p, ok := kubeScoreConfig(a, env)
						if !ok {
							x.unextracted = append(x.unextracted, where+": config "+kubeScoreSource(fset, a))
							return true
						}
						if p != "" {
							parts = append(parts, p)
						}
					}
					config = strings.Join(parts, "; ")
				case "wasSkipped", "getSummaries", "testScore":
					x.other++
					return true
				default:
					return true
				}
				checks, ok1 := kubeScoreStrings(checkArg, env)
				grade, ok2 := kubeScoreGrade(gradeArg)
				fileSets, ok3 := kubeScoreFiles(fileArg, env, name.Name == "testExpectedScore")
				if !ok1 || !ok2 || !ok3 || len(checks) != 1 {
					x.unextracted = append(x.unextracted, where+": "+kubeScoreSource(fset, call))
					return true
				}
				for _, fs := range fileSets {
					x.cases = append(x.cases, kubeScoreCase{test: fn.Name.Name, files: fs, check: checks[0], grade: grade, config: config})
				}
				return true
			})
		}
	}
	return x
}

// kubeScoreEnv binds, in a test function, the variables the assertions use: the value of a
// range over a []string literal (to every string of it), and a map filled by index
// assignments m["k"] = ... (to its keys, sorted).
func kubeScoreEnv(body *ast.BlockStmt) map[string][]string {
	env := map[string][]string{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.RangeStmt:
			v, ok := s.Value.(*ast.Ident)
			lit, ok2 := s.X.(*ast.CompositeLit)
			if !ok || !ok2 {
				return true
			}
			var vals []string
			for _, e := range lit.Elts {
				b, ok := e.(*ast.BasicLit)
				if !ok || b.Kind != token.STRING {
					return true
				}
				u, _ := strconv.Unquote(b.Value)
				vals = append(vals, u)
			}
			env[v.Name] = vals
		case *ast.AssignStmt:
			if len(s.Lhs) != 1 {
				return true
			}
			ix, ok := s.Lhs[0].(*ast.IndexExpr)
			if !ok {
				return true
			}
			m, ok := ix.X.(*ast.Ident)
			b, ok2 := ix.Index.(*ast.BasicLit)
			if !ok || !ok2 || b.Kind != token.STRING {
				return true
			}
			u, _ := strconv.Unquote(b.Value)
			env["map:"+m.Name] = append(env["map:"+m.Name], u)
			sort.Strings(env["map:"+m.Name])
		}
		return true
	})
	return env
}

// kubeScoreStrings evaluates a string expression: a literal, or a concatenation whose
// identifiers env binds (one result per binding).
func kubeScoreStrings(e ast.Expr, env map[string][]string) ([]string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return nil, false
		}
		u, err := strconv.Unquote(e.Value)
		return []string{u}, err == nil
	case *ast.Ident:
		vals, ok := env[e.Name]
		return vals, ok && len(vals) > 0
	case *ast.ParenExpr:
		return kubeScoreStrings(e.X, env)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return nil, false
		}
		l, ok1 := kubeScoreStrings(e.X, env)
		r, ok2 := kubeScoreStrings(e.Y, env)
		if !ok1 || !ok2 {
			return nil, false
		}
		// A loop variable appears once per expression in these tests; the product of the two
		// sides would pair values of the same variable otherwise, so refuse it.
		if len(l) > 1 && len(r) > 1 {
			return nil, false
		}
		var out []string
		for _, a := range l {
			for _, b := range r {
				out = append(out, a+b)
			}
		}
		return out, true
	}
	return nil, false
}

// kubeScoreFiles reads the files argument: a file name (testExpectedScore), or a
// []ks.NamedReader literal of testFile(name) calls. It returns one file set per binding of a
// loop variable.
func kubeScoreFiles(e ast.Expr, env map[string][]string, single bool) ([][]string, bool) {
	if single {
		names, ok := kubeScoreStrings(e, env)
		if !ok {
			return nil, false
		}
		var sets [][]string
		for _, n := range names {
			sets = append(sets, []string{n})
		}
		return sets, true
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok || len(lit.Elts) == 0 {
		return nil, false
	}
	var set []string
	for _, el := range lit.Elts {
		call, ok := el.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return nil, false
		}
		if fn, ok := call.Fun.(*ast.Ident); !ok || fn.Name != "testFile" {
			return nil, false
		}
		names, ok := kubeScoreStrings(call.Args[0], env)
		if !ok || len(names) != 1 {
			return nil, false
		}
		set = append(set, names[0])
	}
	return [][]string{set}, true
}

// kubeScoreGrade reads scorecard.GradeX, or the literal 0 of a skipped check.
func kubeScoreGrade(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && x.Name == "scorecard" && strings.HasPrefix(e.Sel.Name, "Grade") {
			return strings.TrimPrefix(e.Sel.Name, "Grade"), true
		}
	case *ast.BasicLit:
		if e.Kind == token.INT && e.Value == "0" {
			return "Skipped", true
		}
	}
	return "", false
}

// kubeScoreConfig renders a config argument: nil as "", &pkg.Type{Field: value, ...} as
// "Field=value, ..." sorted, a map variable by its keys.
func kubeScoreConfig(e ast.Expr, env map[string][]string) (string, bool) {
	if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
		return "", true
	}
	u, ok := e.(*ast.UnaryExpr)
	if !ok || u.Op != token.AND {
		return "", false
	}
	lit, ok := u.X.(*ast.CompositeLit)
	if !ok {
		return "", false
	}
	var fields []string
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return "", false
		}
		k, ok := kv.Key.(*ast.Ident)
		if !ok {
			return "", false
		}
		v, ok := kubeScoreValue(kv.Value, env)
		if !ok {
			return "", false
		}
		fields = append(fields, k.Name+"="+v)
	}
	sort.Strings(fields)
	return strings.Join(fields, ", "), true
}

func kubeScoreValue(e ast.Expr, env map[string][]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Value, true
	case *ast.Ident:
		if e.Name == "true" || e.Name == "false" {
			return e.Name, true
		}
		if keys, ok := env["map:"+e.Name]; ok {
			return "[" + strings.Join(keys, " ") + "]", true
		}
		// A map made but never filled: no optional test enabled.
		return "[]", true
	case *ast.CompositeLit: // config.Semver{Major: 1, Minor: 4}
		var major, minor string
		for _, el := range e.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				return "", false
			}
			k, _ := kv.Key.(*ast.Ident)
			b, ok := kv.Value.(*ast.BasicLit)
			if k == nil || !ok {
				return "", false
			}
			switch k.Name {
			case "Major":
				major = b.Value
			case "Minor":
				minor = b.Value
			default:
				return "", false
			}
		}
		return major + "." + minor, true
	}
	return "", false
}

func kubeScoreSource(fset *token.FileSet, n ast.Node) string {
	p, e := fset.Position(n.Pos()), fset.Position(n.End())
	return fmt.Sprintf("%s:%d-%d", filepath.Base(p.Filename), p.Line, e.Line)
}

// kubeScoreVerdict evaluates kube-score's testdata files with the whole catalogue as
// `soc2-operator scan -f FILE...` does (the files together, objects without a namespace in
// "default", a scan's options) and returns, of the checks given, those that fail an object of
// the files, each with its first message.
func kubeScoreVerdict(plan *engine.Plan, dir string, files []string, ids []string) (map[string]string, error) {
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(dir, "score", "testdata", f))
	}
	var objs []*engine.Object
	var loadErr error
	manifest.LoadEachWith(paths, nil, manifest.Options{}, func(got []*engine.Object, errs []error) {
		manifest.DefaultNamespace(got, "default")
		manifest.LabelJobPods(got)
		objs = append(objs, got...)
		if len(errs) > 0 && loadErr == nil {
			loadErr = errs[0]
		}
	})
	if loadErr != nil {
		return nil, loadErr
	}
	ev := plan.Evaluate(engine.NewInventory(objs, false), nil, engine.Options{
		Now: fixtureNow, Approval: engine.ApprovalOffline, KubernetesKind: manifest.ServedKind,
	})
	failed := map[string]string{}
	for _, r := range ev.Results {
		if strings.HasPrefix(r.Message, "internal error") {
			return nil, fmt.Errorf("%s: %s", r.Check.ID, r.Message)
		}
		if r.Status == engine.StatusFail && slices.Contains(ids, r.Check.ID) {
			if _, seen := failed[r.Check.ID]; !seen {
				failed[r.Check.ID] = fmt.Sprintf("%s/%s: %s", r.Object.Kind, r.Object.Name, r.Message)
			}
		}
	}
	return failed, nil
}

// TestKubeScoreConformance holds the catalogue to kube-score's own test suite: for each grade
// assertion of a mapped check, the mapped catalogue checks must fail the file(s) where
// kube-score grades Critical or Warning and pass them where it grades AllOK, unless the case
// is a listed disagreement. Cases kube-score skips (grade 0) assert nothing and are counted.
func TestKubeScoreConformance(t *testing.T) {
	dir := downloadedModule(t, kubeScoreModule, kubeScoreVersion)
	x := extractKubeScoreCases(t, dir)
	for _, u := range x.unextracted {
		t.Logf("not extracted: %s", u)
	}
	if len(x.unextracted) > kubeScoreMaxUnextracted {
		t.Errorf("%d grade assertions of kube-score %s could not be read (at most %d when this test was written): read them in extractKubeScoreCases", len(x.unextracted), kubeScoreVersion, kubeScoreMaxUnextracted)
	}
	if len(x.cases) < 191 {
		t.Fatalf("only %d grade assertions extracted from kube-score %s's tests (191 when this test was written)", len(x.cases), kubeScoreVersion)
	}

	plan := engine.Compile(Catalogue(), nil)
	for _, p := range plan.Problems {
		t.Fatal(p.Message)
	}
	// The same assertion made twice (a file tested by two test functions) is one case.
	byKey := map[string]kubeScoreCase{}
	var keys []string
	for _, c := range x.cases {
		if prev, ok := byKey[c.key()]; ok {
			if prev.grade != c.grade {
				t.Errorf("%s: kube-score's %s and %s assert %s and %s", c.key(), prev.test, c.test, prev.grade, c.grade)
			}
			continue
		}
		byKey[c.key()] = c
		keys = append(keys, c.key())
	}
	sort.Strings(keys)

	var agree, known, unlisted, unmapped, skipped int
	seen := map[string]bool{}
	for _, k := range keys {
		c := byKey[k]
		ids, ok := kubeScoreMapping[c.check]
		if !ok {
			unmapped++
			continue
		}
		if c.grade == "Skipped" {
			skipped++
			continue
		}
		failed, err := kubeScoreVerdict(plan, dir, c.files, ids)
		if err != nil {
			t.Errorf("%s (%s): %v", k, c.test, err)
			continue
		}
		ksFails := c.grade == "Critical" || c.grade == "Warning"
		weFail := len(failed) > 0
		reason, listed := kubeScoreDisagreements[k]
		seen[k] = true
		var got string
		if weFail {
			var msgs []string
			for _, id := range slices.Sorted(func(yield func(string) bool) {
				for id := range failed {
					if !yield(id) {
						return
					}
				}
			}) {
				msgs = append(msgs, id+" ("+failed[id]+")")
			}
			got = "fails " + strings.Join(msgs, "; ")
		} else {
			got = "no " + strings.Join(ids, "/") + " failure"
		}
		switch {
		case ksFails == weFail && listed:
			t.Errorf("%s: listed as a disagreement (%s), but the catalogue now agrees with kube-score's %s (%s): remove it from kubeScoreDisagreements", k, reason, c.grade, got)
		case ksFails == weFail:
			agree++
		case listed:
			known++
		default:
			unlisted++
			t.Errorf("%s (%s): kube-score grades %s, the catalogue: %s", k, c.test, c.grade, got)
		}
	}
	for k := range kubeScoreDisagreements {
		if !seen[k] {
			t.Errorf("kubeScoreDisagreements lists %q, which is no mapped case of kube-score %s's tests", k, kubeScoreVersion)
		}
	}
	compared := agree + known + unlisted
	t.Logf("%s %s: %d grade assertions (%d distinct cases; %d calls assert no grade); %d unmapped, %d skipped by kube-score; of %d compared, %d agree, %d known disagreements, %d unlisted (%.1f%% agree)",
		kubeScoreModule, kubeScoreVersion, len(x.cases), len(keys), x.other, unmapped, skipped, compared, agree, known, unlisted, 100*float64(agree)/float64(max(compared, 1)))
}

// TestKubeScoreMappingIsComplete holds the maps of TestKubeScoreConformance to kube-score's
// tests and to the catalogue: every check kube-score's tests grade is mapped or listed as
// unmapped (so an update of kube-score cannot drop cases silently), no entry is stale, and
// every check mapped to is in the catalogue.
func TestKubeScoreMappingIsComplete(t *testing.T) {
	dir := downloadedModule(t, kubeScoreModule, kubeScoreVersion)
	x := extractKubeScoreCases(t, dir)
	tested := map[string]bool{}
	for _, c := range x.cases {
		tested[c.check] = true
	}
	for name := range tested {
		_, mapped := kubeScoreMapping[name]
		_, unmapped := kubeScoreUnmapped[name]
		switch {
		case mapped && unmapped:
			t.Errorf("kube-score check %q is both mapped and listed as unmapped", name)
		case !mapped && !unmapped:
			t.Errorf("kube-score %s's tests grade check %q, which is neither mapped to catalogue checks nor listed as unmapped", kubeScoreVersion, name)
		}
	}
	ids := map[string]bool{}
	for _, c := range Catalogue() {
		ids[c.ID] = true
	}
	for name, mapped := range kubeScoreMapping {
		if !tested[name] {
			t.Errorf("kubeScoreMapping maps %q, which kube-score %s's tests do not grade", name, kubeScoreVersion)
		}
		if len(mapped) == 0 {
			t.Errorf("kubeScoreMapping maps %q to no check", name)
		}
		for _, id := range mapped {
			if !ids[id] {
				t.Errorf("kubeScoreMapping maps %q to %s, which is not in the catalogue", name, id)
			}
		}
	}
	for name, reason := range kubeScoreUnmapped {
		if !tested[name] {
			t.Errorf("kubeScoreUnmapped lists %q, which kube-score %s's tests do not grade", name, kubeScoreVersion)
		}
		if reason == "" {
			t.Errorf("kubeScoreUnmapped lists %q without a reason", name)
		}
	}
}

// TestKubeScoreVersionIsThePeers holds the conformance suite to the kube-score that
// hack/scan-bench.sh installs as the peer tool: the suite and the benchmark speak of one version.
func TestKubeScoreVersionIsThePeers(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "hack", "scan-bench.sh"))
	if err != nil {
		t.Fatal(err)
	}
	pins := regexp.MustCompile(`zegl/kube-score/cmd/kube-score@(v[0-9][^\s"']*)`).FindAllStringSubmatch(string(data), -1)
	if len(pins) == 0 {
		t.Fatalf("hack/scan-bench.sh installs no github.com/zegl/kube-score/cmd/kube-score@VERSION")
	}
	for _, m := range pins {
		if m[1] != kubeScoreVersion {
			t.Errorf("hack/scan-bench.sh installs kube-score %s, the conformance suite reads %s's tests: keep them one version", m[1], kubeScoreVersion)
		}
	}
}
