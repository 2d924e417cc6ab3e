package checks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"index/suffixarray"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/lru"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// EnvStandInsAnnotation holds, on a workload in the operator's informer cache whose env values
// it replaced by stand-ins (ReduceEnvValues), which values they are and what
// sec-literal-env-credentials found in each (envStandIns, as JSON). The API server refuses the
// key (an annotation's name has no blank), so no object it serves carries one: a tenant can
// neither forge the judgement nor hand the operator an object without it whose values the
// cache replaced. Only the inventory reads it (CachedEnvValues), for objects read from the
// cache; scan and the webhook's request never trust it.
const EnvStandInsAnnotation = "soc2-operator.io/env stand-ins"

const (
	// envKeptWhole bounds the literal env values (of every container) of a workload the
	// operator's cache keeps whole: a tenant decides how large they are, up to the API
	// server's 1.5 MiB an object, and kept whole, 100 Deployments of 500 KiB held 52 MiB of
	// its heap (BenchmarkOperatorBesideTenantEnv), and as much again for each ReplicaSet and
	// Pod.
	envKeptWhole = 16 << 10
	// envStandInFrom is the shortest value of such a workload the cache replaces: longer than
	// a stand-in.
	envStandInFrom = 256
	// envStandInPrefix begins a stand-in: no $ (it references nothing, as the value it
	// stands for referenced nothing defined) and no leading / (it names no file, as that value
	// did not).
	envStandInPrefix = "soc2-operator.io/env-stand-in:"
)

// envStandIns is what the operator's cache keeps of the env values it replaced
// (ReduceEnvValues), for sec-literal-env-credentials and workloadExpansion.
type envStandIns struct {
	// Found is, by container name and then the entry's index in its env, what envCredential
	// found in each value replaced ("" for nothing), which is every entry that holds a stand-in.
	Found map[string]map[int]string `json:"found"`
	// Removed is how many bytes longer the values were than their stand-ins: the workload's own
	// text, which bounds what its $(VAR) references may add (workloadExpansion).
	Removed int `json:"removed"`
	// Unjudged are, by container name and then the entry's index, the values replaced that the
	// credential rules did not read, past envJudgedBudget (Found holds "" for them):
	// sec-literal-env-credentials is NotAssessed for them, naming them, unless it finds a
	// credential in the container.
	Unjudged map[string]map[int]bool `json:"unjudged,omitempty"`
	// Argv is set on a workload whose command lines and env values take more than
	// argvBoundedFrom bytes (argvSize): sec-literal-env-credentials reads them with gitleaks'
	// rules only within argvCredentialWork (workloadExpansion). Alone (Found empty), the cache
	// replaced no value.
	Argv bool `json:"argv,omitempty"`
}

// argvBoundedFrom is the size of a workload's command lines (argvSize) past which the operator
// bounds what gitleaks' rules read of them at each evaluation (envStandIns.Argv,
// argvCredentialWork): within it they take at most about as much work as that bound (2 KiB,
// read as arguments and as the command line joined, of text on which every rule runs).
const argvBoundedFrom = 2 << 10

// argvSize is the size of what sec-literal-env-credentials reads of spec with gitleaks' rules
// at each evaluation (rulesRead): each container's command and args, its probes' and lifecycle
// hooks' exec commands and HTTP paths and headers, the kubectl last-applied-configuration
// annotation (annotation, whose command lines and env it reads where they are not the live
// ones'), and its literal env values, which $(VAR) expands into the command lines (a short
// argument, --notes=$(NOTES), may read as 1 MiB) and which it reads where the cache keeps them
// whole.
func argvSize(spec *corev1.PodSpec, annotation string) int {
	n := len(annotation)
	for _, c := range podContainers(spec) {
		for _, a := range slices.Concat(c.Command, c.Args) {
			n += len(a)
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				n += len(e.Value)
			}
		}
		handlers := []*corev1.LifecycleHandler{}
		if l := c.Lifecycle; l != nil {
			handlers = append(handlers, l.PostStart, l.PreStop)
		}
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if p != nil {
				handlers = append(handlers, &corev1.LifecycleHandler{Exec: p.Exec, HTTPGet: p.HTTPGet})
			}
		}
		for _, h := range handlers {
			if h == nil {
				continue
			}
			if h.Exec != nil {
				for _, a := range h.Exec.Command {
					n += len(a)
				}
			}
			if h.HTTPGet != nil {
				n += len(h.HTTPGet.Path)
				for _, hd := range h.HTTPGet.HTTPHeaders {
					n += len(hd.Name) + len(hd.Value)
				}
			}
		}
	}
	return n
}

// EnvStandIn is the stand-in of an env value in the operator's cache: the same value has the
// same stand-in (the engine's comparison of a Pod with its controller's template,
// engine.EnvStandIns), which is a keyed hash no one outside the process can make for a value
// of their choosing.
func (*envStandIns) EnvStandIn(value string) string { return envStandIn(sha256.Sum256([]byte(value))) }

var (
	envStandInKeyOnce sync.Once
	envStandInKey     []byte
)

// envStandIn is the stand-in of the value whose SHA-256 is sum: an HMAC of it, with a key
// the process draws at random.
func envStandIn(sum [sha256.Size]byte) string {
	envStandInKeyOnce.Do(func() {
		envStandInKey = make([]byte, 32)
		_, _ = rand.Read(envStandInKey) // never fails (crypto/rand, Go 1.24)
	})
	m := hmac.New(sha256.New, envStandInKey)
	m.Write(sum[:])
	return envStandInPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// envJudgedBudget bounds the bytes of a workload's values the cache replaces that it passes to
// the credential rules (envCredential but its name rule, which is cheap): they run in the
// informer's goroutine, which every namespace's events of the kind wait for, on each change of
// the workload (and of its ReplicaSets and Pods, which hold the same values), and on text a
// tenant chooses (gitleaks' keywords, each followed by a token: every rule's regex runs over
// all of it) they take about 15 s a MiB: 1.4 MB of such values took 4 to 21 s a transform
// (BenchmarkReduceEnvValuesWorstCase). The values after, in the order of the containers and
// their env, are replaced unjudged (envStandIns.Unjudged), the same whatever the cache judged
// before, so the report does not depend on it: twice what a workload's values may take and be
// kept whole (envKeptWhole), which are judged at each evaluation.
const envJudgedBudget = 32 << 10

// envMemoSize bounds the judgements of env values the cache remembers (envJudged): a workload's
// every event (a Pod's status, a Deployment's rollout) passes its spec through the cache
// again, and the credential rules take about 0.1 s a MiB.
const envMemoSize = 4096

var envMemo = lru.New(envMemoSize)

type envMemoKey struct {
	name string
	sum  [sha256.Size]byte
}

// envJudged is envCredential(name, value), for a value whose SHA-256 is sum, remembered.
func envJudged(name, value string, sum [sha256.Size]byte) string {
	key := envMemoKey{name, sum}
	if v, ok := envMemo.Get(key); ok {
		return v.(string)
	}
	why := envCredential(name, value)
	envMemo.Add(key, why)
	return why
}

// podSpecOf is the pod spec of a workload object, nil for any other.
func podSpecOf(obj metav1.Object) *corev1.PodSpec {
	switch t := obj.(type) {
	case *corev1.Pod:
		return &t.Spec
	case *appsv1.Deployment:
		return &t.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &t.Spec.Template.Spec
	case *appsv1.DaemonSet:
		return &t.Spec.Template.Spec
	case *appsv1.ReplicaSet:
		return &t.Spec.Template.Spec
	case *corev1.ReplicationController:
		if t.Spec.Template != nil {
			return &t.Spec.Template.Spec
		}
	case *batchv1.Job:
		return &t.Spec.Template.Spec
	case *batchv1.CronJob:
		return &t.Spec.JobTemplate.Spec.Template.Spec
	}
	return nil
}

// podContainers are the containers of spec, init and ephemeral ones included, as pointers into
// it.
func podContainers(spec *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		out = append(out, (*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	return out
}

// ReduceEnvValues replaces, in a workload of the operator's informer cache whose literal env
// values take more than envKeptWhole bytes, each value of envStandInFrom bytes or more that
// only sec-literal-env-credentials' judgement of the entry itself reads by its stand-in
// (envStandIn), and keeps what that judgement found in EnvStandInsAnnotation; it marks there too
// a workload whose command lines take more than argvBoundedFrom bytes (envStandIns.Argv: the
// operator reads them with gitleaks' rules within argvCredentialWork, at each evaluation); it reports
// whether it replaced any value or marked the workload. A value is read by nothing else when it references no variable its
// container defines (no $(NAME) with NAME an env entry's name, nor envFrom, whose sources
// define any name: the kubelet leaves a reference to nothing as it is, and
// sec-configmap-credentials and sec-secret-as-env follow none from it; referencesDefined), does
// not, beginning with /, lie under where the container mounts a ConfigMap volume (it names no
// file one holds; mayNameFile), and its variable's name is
// nowhere else in its container (no $(VAR) in a later value, the command, args, probes,
// lifecycle hooks or a subPathExpr expands it, nor a shell script's $VAR). The caller keeps
// whole the kubectl last-applied-configuration annotation of a workload where it holds env the
// spec does not, which sec-literal-env-credentials compares with the spec's values through
// their stand-ins (engine.StaleAppliedThrough). Every built-in check judges the object so
// kept as it judges it whole (TestReducedEnvIsJudgedAsWhole); a custom check that reads its
// containers is NotAssessed (CachedEnvValues). An object already reduced stays as it is.
func ReduceEnvValues(obj metav1.Object) bool {
	return reduceEnvValues(obj, envKeptWhole, envStandInFrom, envJudgedBudget)
}

// reduceEnvValues is ReduceEnvValues with the bounds given: past keptWhole bytes of literal
// values, each of from bytes or more, judging at most budget bytes of them (envJudgedBudget;
// all of them when it is negative).
func reduceEnvValues(obj metav1.Object, keptWhole, from, budget int) bool {
	a := obj.GetAnnotations()
	if _, ok := a[EnvStandInsAnnotation]; ok {
		return true
	}
	spec := podSpecOf(obj)
	if spec == nil {
		return false
	}
	containers := podContainers(spec)
	argv := argvSize(spec, a[corev1.LastAppliedConfigAnnotation]) > argvBoundedFrom
	size := 0
	for _, c := range containers {
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				size += len(e.Value)
			}
		}
	}
	d := &envStandIns{Argv: argv}
	if size <= keptWhole {
		containers = nil // no value replaced
	}
	for _, c := range containers {
		var elsewhere *nameText // once a value is a candidate (containerText)
		var defined envDefined  // once a value with a $ asks (definedEnvNames)
		definedRead := false
		var files *mountTree // once a value begins with / (configMapMounts)
		filesRead := false
		for i := range c.Env {
			e := &c.Env[i]
			if e.ValueFrom != nil || len(e.Value) < from {
				continue
			}
			if strings.HasPrefix(e.Value, "/") {
				if !filesRead {
					files, filesRead = configMapMounts(c, spec.Volumes), true
				}
				if mayNameFile(e.Value, files) {
					continue
				}
			}
			dollar := strings.Contains(e.Value, "$")
			if dollar {
				if !definedRead {
					defined, definedRead = definedEnvNames(c), true
				}
				if referencesDefined(e.Value, defined) {
					continue
				}
			}
			if elsewhere == nil {
				elsewhere = &nameText{text: containerText(c)}
			}
			if elsewhere.names(e.Name) {
				continue
			}
			if d.Found == nil {
				d.Found = map[string]map[int]string{}
			}
			if d.Found[c.Name] == nil {
				d.Found[c.Name] = map[int]string{}
			}
			// What sec-literal-env-credentials reads of it: its expansion, which references
			// nothing defined, so is the value with $$ read as $ (a value with no $ is its own
			// expansion).
			sum := sha256.Sum256([]byte(e.Value))
			read := e.Value
			if dollar {
				read = expandEnvValue(e.Value, nil)
			}
			switch why := envNameCredential(e.Name, read); {
			case why != "":
				d.Found[c.Name][i] = why
			case budget >= 0 && len(read) > budget:
				budget = 0 // this value and every one after: what is judged is where the budget ran out
				d.Found[c.Name][i] = ""
				if d.Unjudged == nil {
					d.Unjudged = map[string]map[int]bool{}
				}
				if d.Unjudged[c.Name] == nil {
					d.Unjudged[c.Name] = map[int]bool{}
				}
				d.Unjudged[c.Name][i] = true
			default:
				if budget >= 0 {
					budget -= len(read)
				}
				d.Found[c.Name][i] = envJudged(e.Name, read, sum)
			}
			s := envStandIn(sum)
			d.Removed += len(e.Value) - len(s)
			e.Value = s
		}
	}
	if d.Found == nil && !d.Argv {
		return false
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return false // a map of strings always marshals; the values were replaced, read as a container's
	}
	a = maps.Clone(a)
	if a == nil {
		a = map[string]string{}
	}
	a[EnvStandInsAnnotation] = string(raw)
	obj.SetAnnotations(a)
	return true
}

// mountTree holds the directories a container mounts a ConfigMap volume at, by path segment
// (configMapMounts): whether a path lies at or under one of them is read in one pass over the
// path (mayNameFile), whatever the number of mounts, which a Pod's author chooses.
type mountTree struct {
	// mounted is set where a mount's path ends.
	mounted bool
	next    map[string]*mountTree
}

// configMapMounts are the paths (path.Clean) c mounts a configMap volume, or a projected
// volume with a configMap source, at without a subPathExpr: where engine.ConfigMapEnv
// (configMapFileEnv) finds a file a literal value names. nil when there are none.
func configMapMounts(c *corev1.Container, volumes []corev1.Volume) *mountTree {
	var root *mountTree
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if m.SubPathExpr != "" || i < 0 {
			continue
		}
		v := volumes[i].VolumeSource
		if v.ConfigMap == nil && (v.Projected == nil || !slices.ContainsFunc(v.Projected.Sources, func(p corev1.VolumeProjection) bool { return p.ConfigMap != nil })) {
			continue
		}
		dir := path.Clean(m.MountPath)
		if !strings.HasPrefix(dir, "/") {
			continue // no file a value beginning with / names lies there
		}
		if root == nil {
			root = &mountTree{}
		}
		n := root
		if dir != "/" {
			for seg := range strings.SplitSeq(dir[1:], "/") {
				if n.next == nil {
					n.next = map[string]*mountTree{}
				}
				if n.next[seg] == nil {
					n.next[seg] = &mountTree{}
				}
				n = n.next[seg]
			}
		}
		n.mounted = true
	}
	return root
}

// mayNameFile reports whether value, a literal beginning with /, may name a file of a
// ConfigMap volume mounted at one of mounts (configMapMounts): whether, as a path (path.Clean),
// it is one of them or lies under one, as configMapFileEnv looks for the mount of the file it
// names (which must then be one of these). A value that names no such file is its own text to
// every check but sec-literal-env-credentials, which the cache judges it for.
func mayNameFile(value string, mounts *mountTree) bool {
	if mounts == nil {
		return false
	}
	n := mounts
	if n.mounted {
		return true
	}
	file := path.Clean(value)
	if file == "/" {
		return false
	}
	for seg := range strings.SplitSeq(file[1:], "/") {
		if n = n.next[seg]; n == nil {
			return false
		}
		if n.mounted {
			return true
		}
	}
	return false
}

// envDefined are the variables a container's env entries define, wherever in its env
// (definedEnvNames).
type envDefined struct {
	// names are those names; nil (any name) when the container has envFrom, whose sources
	// define names its spec does not show.
	names map[string]bool
	// paren are those of them that hold a ')', which a reference's first ')' does not end
	// (referencesDefined).
	paren []string
}

// envParenNames bounds the names holding a ')' a container may define and still have its values
// that hold a $ reduced: each is looked for in each such value (referencesDefined), which a
// Pod's author could otherwise make cost the number of names times the values' bytes.
const envParenNames = 8

// definedEnvNames are the variables c defines; any name (nil names) when it has envFrom or
// more than envParenNames names holding a ')'.
func definedEnvNames(c *corev1.Container) envDefined {
	if len(c.EnvFrom) > 0 {
		return envDefined{}
	}
	d := envDefined{names: map[string]bool{}}
	for _, e := range c.Env {
		if !d.names[e.Name] && strings.Contains(e.Name, ")") {
			if len(d.paren) == envParenNames {
				return envDefined{}
			}
			d.paren = append(d.paren, e.Name)
		}
		d.names[e.Name] = true
	}
	return d
}

// referencesDefined reports whether value may reference a variable defined: whether it holds
// $(NAME) with NAME defined, wherever, a $$ before it or not, NAME ending at the first ')' or,
// for a name that holds a ')' (any printable character but '=' is allowed), the whole
// "$(NAME)". That takes in every reference the kubelet expands
// (third_party/forked/golang/expansion), and so every one sec-literal-env-credentials expands
// (expandWithin) and sec-configmap-credentials follows (engine.ConfigMapEnv), and what
// sec-secret-as-env looks for ("$(NAME)", replacedUnread): a value referencing no variable
// defined is, to all of them, its own text with $$ read as $. It reads value once, and once
// more for each name that holds a ')' (at most envParenNames).
func referencesDefined(value string, d envDefined) bool {
	defined := d.names
	if defined == nil {
		return true
	}
	for _, name := range d.paren {
		if strings.Contains(value, "$("+name+")") {
			return true
		}
	}
	closing := -1 // the first ')' at or after the reference's name, once looked for
	for i := 0; i+1 < len(value); i++ {
		if value[i] != '$' || value[i+1] != '(' {
			continue
		}
		if closing < i+2 {
			end := strings.IndexByte(value[i+2:], ')')
			if end < 0 {
				return false // no ')' after: no reference from here on
			}
			closing = i + 2 + end
		}
		if defined[value[i+2:closing]] {
			return true
		}
	}
	return false
}

// containerText is the text of c that may name one of its variables: the container but its
// env, as JSON, the valueFrom of its env entries, and of each literal value holding a $ its
// references (envReferenceText; a value with no $ references nothing). The names of its env
// entries are left out.
func containerText(c *corev1.Container) string {
	cp := *c
	cp.Env = nil
	raw, _ := json.Marshal(&cp)
	var b strings.Builder
	b.Write(raw)
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			raw, _ := json.Marshal(e.ValueFrom)
			b.WriteByte(0)
			b.Write(raw)
		} else if strings.Contains(e.Value, "$") {
			envReferenceText(&b, e.Value)
		}
	}
	return b.String()
}

// envReferenceText writes to b what of value may name a variable: each "$(" with the text
// after it up to the first ')' (the whole "$(NAME)" of every reference the kubelet,
// expandWithin, engine.ConfigMapEnv, referencesDefined and sec-secret-as-env's replacedUnread
// read, wherever it begins, a $$ before it or not), each run of them that one ')' ends once,
// after a 0 byte (no env name holds one). The rest of the value, which references nothing, is
// left out: a name found there is read by none of them, and looking in it for each value's name
// cost a workload of 5,000 values of 265 bytes holding $(U) 120 ms (quadratic; a tenant's to
// write, BenchmarkReduceEnvValuesManyReferencingNothing). It reads value once.
func envReferenceText(b *strings.Builder, value string) {
	from := -1 // where the run of references the next ')' ends began, -1 for none
	for i := 0; i < len(value); i++ {
		switch {
		case value[i] == ')' && from >= 0:
			b.WriteByte(0)
			b.WriteString(value[from : i+1])
			from = -1
		case value[i] == '$' && i+1 < len(value) && value[i+1] == '(' && from < 0:
			from = i
			i++
		}
	}
}

// nameScanBudget bounds the bytes nameText reads with strings.Contains before it indexes its
// text: a workload's author chooses how many names are looked for (up to one each 256 bytes of
// its env values) and how long the text is (args, probes), which looked for name by name
// costs their product (2,500 names beside 700 KiB of args: 400 ms,
// BenchmarkReduceEnvValuesBesideLongArgs).
const nameScanBudget = 32 << 20

// nameText is a container's text (containerText), in which names are looked for.
type nameText struct {
	text string
	// scanned is how many bytes strings.Contains read so far.
	scanned int
	// index is the text's suffix array, once scanned reached nameScanBudget: each name is
	// then looked up in time of its length and the log of the text's (index/suffixarray).
	index *suffixarray.Index
}

// names reports whether the text holds name, as a name or within any other text (a name
// holding a ')' also as the part of a reference before it, which the kubelet reads as a
// reference to that part and sec-secret-as-env's replacedUnread as one to the whole name).
func (t *nameText) names(name string) bool {
	if name == "" || t.holds(name) {
		return true
	}
	if i := strings.IndexByte(name, ')'); i >= 0 {
		return t.holds("$(" + name[:i] + ")")
	}
	return false
}

// holds reports whether the text holds s: by strings.Contains within nameScanBudget, through
// the suffix array after.
func (t *nameText) holds(s string) bool {
	if t.index == nil && t.scanned+len(t.text) > nameScanBudget {
		t.index = suffixarray.New([]byte(t.text))
	}
	if t.index != nil {
		return len(t.index.Lookup([]byte(s), 1)) > 0
	}
	t.scanned += len(t.text)
	return strings.Contains(t.text, s)
}

// CachedEnvValues takes EnvStandInsAnnotation out of annotations, those of a copy of a workload
// of kind read from the operator's informer cache, and returns the digest for
// engine.Object.Digest and the fields withheld from custom checks (its containers, whose env
// values are stand-ins); nil when it had none.
func CachedEnvValues(annotations map[string]string, kind string) (any, []engine.WithheldField) {
	raw, ok := annotations[EnvStandInsAnnotation]
	if !ok {
		return nil, nil
	}
	delete(annotations, EnvStandInsAnnotation)
	d := &envStandIns{}
	if json.Unmarshal([]byte(raw), d) != nil {
		// Only the cache writes it; unreadable, every stand-in is judged as a value.
		d = &envStandIns{}
	}
	spec := []string{"spec", "template", "spec"}
	switch kind {
	case "Pod":
		spec = []string{"spec"}
	case "CronJob":
		spec = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	if len(d.Found) == 0 {
		// Only marked for its command lines (envStandIns.Argv): its containers are whole.
		return d, nil
	}
	why := fmt.Sprintf("the operator does not keep a workload's env values over %d KiB (its informer cache keeps of the longer values what the built-in checks read)", envKeptWhole>>10)
	var out []engine.WithheldField
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		out = append(out, engine.WithheldField{Kind: kind, Path: append(slices.Clone(spec), list), Why: why, PodSpecPath: []string{list}, Unread: true})
	}
	return d, out
}

// envUnjudged reports whether the operator's cache replaced the value of container's env entry i
// by a stand-in without judging it (envJudgedBudget).
func envUnjudged(o *engine.Object, container string, i int) bool {
	d, ok := o.Digest.(*envStandIns)
	return ok && d.Unjudged[container][i]
}

// envStandInOf is what envCredential found in the value of container's env entry i when the
// operator's cache replaced it by a stand-in (ReduceEnvValues), and whether it did.
func envStandInOf(o *engine.Object, container string, i int) (string, bool) {
	d, ok := o.Digest.(*envStandIns)
	if !ok {
		return "", false
	}
	why, ok := d.Found[container][i]
	return why, ok
}
