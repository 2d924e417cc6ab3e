package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// CustomCheckCostLimit bounds the work one evaluation of a custom check may do, in CEL cost
// units (the unit and the limit Kubernetes uses for one validation expression). An expression
// that goes over is stopped and its result is NotAssessed.
const CustomCheckCostLimit = 1_000_000

// DefaultCustomCheckTimeout bounds the wall-clock time of one evaluation of a custom check:
// some expressions (building large lists in comprehensions) take far longer than their cost
// says. An expression that runs over is stopped, its result is NotAssessed, and the check is not
// run again in the same evaluation, so one bad expression costs at most this long per
// evaluation. It is long enough that the cost limit, the primary bound, stops runaway
// expressions first even on a loaded machine.
const DefaultCustomCheckTimeout = 2 * time.Second

// ExpressionStopped starts the message of a custom check's NotAssessed result whose expression
// was stopped on the object, at the cost limit or the timeout: what decided it is the size of
// what the object holds (a list the expression walks), which its author chooses, not data the
// operator lacks. The admission webhook refuses such an object under Enforce. It also starts
// that of each object the check was not run on because it ran out of time on an earlier object
// of the evaluation (in the operator, one of the same namespace).
const ExpressionStopped = "expression stopped: "

// costLimitExceeded follows ExpressionStopped in the message of an expression stopped at the
// cost limit, before the limit.
const costLimitExceeded = "it exceeded the cost limit of "

// ExpressionFailed starts the message of a custom check's NotAssessed result whose expression
// failed on the object at run time (a field it reads is missing: "no such key", an index out of
// range), and ExpressionNotBool that of one whose expression returned no bool for it.
const (
	ExpressionFailed  = "expression failed: "
	ExpressionNotBool = "expression returned "
)

// InternalError starts the message of the NotAssessed result of a check that panicked on the
// object (run recovers it, so that one broken check never stops the others).
const InternalError = "internal error in check "

// FailedOnObject reports whether r is a NotAssessed result that its object decided: a check,
// built in or custom, that panicked on it (InternalError: whatever crashed the check must not
// pass it, as the webhook refuses an object on a panic outside the checks), or a custom check
// whose expression was stopped on it at the cost limit or the timeout (ExpressionStopped: a
// list it walks made long enough, 100,000 empty environment variables beside a literal
// AWS_SECRET_ACCESS_KEY), failed on it at run time (ExpressionFailed: the field it reads left
// out, a Deployment without the securityContext a check of runAsNonRoot reads) or returned no
// bool for it (ExpressionNotBool). Taken as undecided, such an object would pass the check by its
// own making: the reports show it NotAssessed, with the reason, and the admission webhook and
// scan's --fail-on count it as a failure, as Kubernetes refuses a request whose validation
// expression cannot be evaluated (a ValidatingAdmissionPolicy's failurePolicy defaults to Fail).
//
// A result NotAssessed because its object holds more than the operator reads of it (Unread) is
// one its object decided too: its author chose to write that much.
func (r *Result) FailedOnObject() bool {
	if r.Status != StatusNotAssessed || r.Check == nil {
		return false
	}
	if r.Unread {
		return true
	}
	if strings.HasPrefix(r.Message, InternalError) {
		return true
	}
	if !r.Check.Custom {
		return false
	}
	for _, prefix := range []string{ExpressionStopped, ExpressionFailed, ExpressionNotBool} {
		if strings.HasPrefix(r.Message, prefix) {
			return true
		}
	}
	return false
}

var (
	celEnvOnce sync.Once
	celEnv     *cel.Env
	celEnvErr  error
)

// customEnv is the CEL environment of custom checks: `object` (the resource as JSON) and
// `podSpec` (the pod spec of a workload, else null), with the string, list, set and regex
// extensions Kubernetes also offers.
func customEnv() (*cel.Env, error) {
	celEnvOnce.Do(func() {
		celEnv, celEnvErr = cel.NewEnv(
			cel.Variable("object", cel.DynType),
			cel.Variable("podSpec", cel.DynType),
			cel.OptionalTypes(),
			ext.Strings(),
			sizeGuards(CustomCheckCostLimit),
			ext.Lists(),
			ext.Sets(),
			comparisonGuards(CustomCheckCostLimit),
			ext.Regex(),
			regexSizeGuards(CustomCheckCostLimit),
			cel.HomogeneousAggregateLiterals(),
		)
	})
	return celEnv, celEnvErr
}

type customError struct{ field, msg string }

// compileCustom turns a custom check into a Check whose Evaluate runs the CEL program.
func compileCustom(cc *v1alpha1.CustomCheck) (*Check, *customError) {
	switch {
	case strings.TrimSpace(cc.Expression) == "":
		return nil, &customError{".expression", "expression is empty"}
	case len(cc.Kinds) == 0:
		return nil, &customError{".kinds", "kinds is empty: name the kinds the check evaluates, or Workload"}
	case len(cc.Criteria) == 0:
		return nil, &customError{".criteria", "criteria is empty: name the SOC 2 criteria the check supports"}
	case cc.Severity != "" && SeverityRank(cc.Severity) > 3:
		return nil, &customError{".severity", fmt.Sprintf("unknown severity %q: want Critical, High, Medium or Low", cc.Severity)}
	}
	for i, c := range cc.Criteria {
		if !KnownCriterion(c) {
			return nil, &customError{fmt.Sprintf(".criteria[%d]", i), fmt.Sprintf("unknown SOC 2 criterion %q", c)}
		}
	}
	env, err := customEnv()
	if err != nil {
		return nil, &customError{"", "CEL environment: " + err.Error()}
	}
	ast, iss := env.Compile(cc.Expression)
	if iss.Err() != nil {
		return nil, &customError{".expression", "does not compile: " + strings.ReplaceAll(iss.Err().Error(), "\n", " ")}
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, &customError{".expression", fmt.Sprintf("returns %s; it must return a bool (true when the resource passes)", t)}
	}
	prg, err := env.Program(ast, cel.CostLimit(CustomCheckCostLimit), cel.InterruptCheckFrequency(64))
	if err != nil {
		return nil, &customError{".expression", "cannot be planned: " + err.Error()}
	}
	// CEL's unknowns make every evaluation slower (nested comprehensions about six times), so
	// they are used only where the expression may read a withheld field.
	partial, err := env.Program(ast, cel.CostLimit(CustomCheckCostLimit), cel.InterruptCheckFrequency(64), cel.EvalOptions(cel.OptPartialEval))
	if err != nil {
		return nil, &customError{".expression", "cannot be planned: " + err.Error()}
	}
	programs := &customPrograms{plain: prg, partial: partial, reads: objectReads(ast.NativeRep().Expr()),
		podSpecReads: varReads(ast.NativeRep().Expr(), "podSpec")}
	message := cc.Message
	if message == "" {
		message = cc.Title
	}
	return &Check{
		ID:          cc.ID,
		Title:       cc.Title,
		Description: cc.Description,
		Remediation: cc.Remediation,
		Severity:    cc.Severity,
		Criteria:    cc.Criteria,
		Targets:     cc.Kinds,
		custom:      programs,
		Evaluate: func(ctx *Context, obj *Object) {
			runCustom(ctx, obj, programs, message, asPod(cc.Kinds, obj))
		},
	}, nil
}

// asPod reports whether a custom check of kinds judges obj as the Pods it makes
// (judgesTemplateOf).
func asPod(kinds []string, obj *Object) bool {
	return obj.Workload != nil && judgesTemplateOf(kinds, obj.Kind)
}

// customPrograms are a custom check's expression planned twice: plain, and with CEL's unknowns
// for the fields an evaluation's objects lack (Options.Withheld), with the paths under `object`
// the expression reads.
type customPrograms struct {
	plain, partial cel.Program
	reads          [][]string
	// podSpecReads are the paths under the variable `podSpec` the expression reads, as reads
	// are under `object` (varReads).
	podSpecReads [][]string
}

func runCustom(ctx *Context, obj *Object, programs *customPrograms, message string, templateAsPod bool) {
	if reason, stopped := ctx.stopped[ctx.check]; stopped {
		ctx.NotAssessed("", reason)
		return
	}
	object, err := obj.asMap()
	if err != nil {
		ctx.NotAssessed("", "cannot convert the object for CEL: "+err.Error())
		return
	}
	var podSpec any
	if obj.Workload != nil {
		podSpec = podSpecOf(obj.Kind, object)
	}
	if templateAsPod {
		object = podOfTemplate(obj, object)
	}
	timeout := ctx.customTimeout
	if timeout <= 0 {
		timeout = DefaultCustomCheckTimeout
	}
	parent := ctx.caller
	if parent == nil {
		parent = context.Background()
	}
	deadline, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	var vars any = map[string]any{"object": object, "podSpec": podSpec}
	prg := programs.plain
	withheld := withheldOf(ctx.withheld, obj.Kind, programs.reads)
	withheld = append(withheld, withheldOf(obj.Withheld, obj.Kind, programs.reads)...)
	if templateAsPod {
		withheld = append(withheld, withheldOf(templateUndecided, "", programs.reads)...)
	}
	// A field of the pod spec the object lacks is lacking in podSpec, and in the Pod its
	// template makes, too: whatever the expression reads (objectReads follows object alone).
	var inPodSpec [][]string
	for _, w := range obj.Withheld {
		if w.PodSpecPath == nil || podSpec == nil {
			continue
		}
		inPodSpec = append(inPodSpec, w.PodSpecPath)
		// Named so in the message of an expression that reads it through podSpec.
		withheld = append(withheld, WithheldField{Kind: w.Kind, Path: w.PodSpecPath, Why: w.Why, Unread: w.Unread})
		if templateAsPod {
			withheld = append(withheld, WithheldField{Kind: w.Kind, Path: append([]string{"spec"}, w.PodSpecPath...), Why: w.Why, Unread: w.Unread})
		}
	}
	if len(withheld) > 0 {
		prg = programs.partial
		patterns := make([]*cel.AttributePatternType, len(withheld), len(withheld)+len(inPodSpec))
		for i, w := range withheld {
			patterns[i] = cel.AttributePattern("object")
			for _, f := range w.Path {
				patterns[i] = patterns[i].QualString(f)
			}
		}
		for _, path := range inPodSpec {
			p := cel.AttributePattern("podSpec")
			for _, f := range path {
				p = p.QualString(f)
			}
			patterns = append(patterns, p)
		}
		if vars, err = cel.PartialVars(vars, patterns...); err != nil {
			ctx.NotAssessed("", "cannot prepare the object for CEL: "+err.Error())
			return
		}
	}
	out, _, err := prg.ContextEval(deadline, vars)
	if err != nil {
		reason := ExpressionFailed + err.Error()
		switch {
		case strings.Contains(err.Error(), "cost limit exceeded"):
			reason = fmt.Sprintf(ExpressionStopped+costLimitExceeded+"%d", CustomCheckCostLimit)
		case parent.Err() != nil:
			// The caller has gone (Options.Context): the evaluation is Stopped, and this is no
			// verdict on the object.
			ctx.halted = true
			reason = "not judged: the evaluation was stopped"
		case deadline.Err() != nil:
			reason = fmt.Sprintf(ExpressionStopped+"it ran longer than %s", timeout)
			if ctx.stopped == nil {
				ctx.stopped = map[*PlannedCheck]string{}
			}
			// The objects after this one are not judged by the check, and undecided as this one
			// is (FailedOnObject): were they merely NotAssessed, an exception that waives the
			// check on this object would waive it on each of them too.
			ctx.stopped[ctx.check] = fmt.Sprintf(ExpressionStopped+"not run: the expression ran longer than %s on %s earlier in this evaluation", timeout, obj.Ref())
		}
		ctx.NotAssessed("", reason)
		return
	}
	if unknown, ok := out.(*types.Unknown); ok {
		msg, unread := readsWithheld(unknown, withheld)
		if unread {
			// A field the object held more of than the operator reads: unread, which fails
			// closed in the reports (the object's author chose its size).
			ctx.Unread("", "cannot be decided: "+msg)
			return
		}
		ctx.NotAssessed("", "cannot be decided: "+msg)
		return
	}
	if out.Type() != types.BoolType {
		ctx.NotAssessed("", fmt.Sprintf(ExpressionNotBool+"%s, not a bool", out.Type().TypeName()))
		return
	}
	if out.Value().(bool) {
		ctx.Pass("")
		return
	}
	ctx.Fail("", "%s", message)
}

// asMap is the object as JSON-like maps, with apiVersion and kind set, made once.
func (o *Object) asMap() (map[string]any, error) {
	if o.unstructured != nil {
		return o.unstructured, nil
	}
	var m map[string]any
	if u, ok := o.Obj.(*unstructured.Unstructured); ok {
		// A shallow copy: the object may be shared with an informer cache, which must not see
		// the writes below.
		m = maps.Clone(u.Object)
	} else {
		var err error
		m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(o.Obj)
		if err != nil {
			return nil, err
		}
	}
	if m == nil {
		return nil, errors.New("empty object")
	}
	m["apiVersion"] = o.APIVersion
	m["kind"] = o.Kind
	o.unstructured = m
	return m, nil
}

// templateUndecided are the fields of the Pod a workload's pod template makes (podOfTemplate)
// that the template does not decide: its owner references, which the controller that makes it
// sets, and its status. A custom check that reads them is NotAssessed on the template, as on a
// field the evaluation lacks (WithheldField), rather than judged on what the template's author
// wrote there or on nothing.
var templateUndecided = []WithheldField{
	{Path: []string{"metadata", "ownerReferences"}, Why: "a pod template does not decide (the controller that makes the Pod sets it)"},
	{Path: []string{"status"}, Why: "a pod template does not decide (the Pod has none until it is made)"},
}

// podOfTemplate is what a workload's pod template makes, as a Pod: apiVersion v1, kind Pod, the
// template's labels, annotations and finalizers, which Kubernetes' controllers copy to the Pods
// they make, and nothing else of its metadata (GetPodFromTemplate, k8s.io/kubernetes v1.37.2
// pkg/controller/controller_utils.go: a name, owner references or a UID written in a template
// are not the Pod's), the workload's namespace and name (the Pods' names are generated from
// it), and the template's spec.
func podOfTemplate(obj *Object, object map[string]any) map[string]any {
	path := []string{"spec", "template"}
	if obj.Kind == "CronJob" {
		path = []string{"spec", "jobTemplate", "spec", "template"}
	}
	meta := map[string]any{}
	var spec any
	if tpl, found, err := unstructured.NestedMap(object, path...); err == nil && found {
		if m, ok := tpl["metadata"].(map[string]any); ok {
			for _, k := range []string{"labels", "annotations", "finalizers"} {
				if v, ok := m[k]; ok {
					meta[k] = v
				}
			}
		}
		spec = tpl["spec"]
	}
	meta["name"] = obj.Name
	if obj.Namespace != "" {
		meta["namespace"] = obj.Namespace
	}
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta}
	if spec != nil {
		pod["spec"] = spec
	}
	return pod
}

func podSpecOf(kind string, object map[string]any) any {
	path := []string{"spec", "template", "spec"}
	switch kind {
	case "Pod":
		path = []string{"spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	v, found, err := unstructured.NestedFieldNoCopy(object, path...)
	if err != nil || !found {
		return nil
	}
	return v
}

// WithheldField is a field the objects of an evaluation lack though the API server holds it
// (Options.Withheld).
type WithheldField struct {
	// Kind is the kind of the objects that lack it, "" for every kind.
	Kind string
	// Path is the field's path from the top of the object, by field names and map keys
	// (metadata, managedFields).
	Path []string
	// Why says why the objects lack it, for the results' message ("the operator's cache does not
	// keep it").
	Why string
	// PodSpecPath is, for a field of a workload's pod spec (Path is then its path from the top
	// of the object), its path from the pod spec: a custom check reads it through the podSpec
	// variable too, and a check of Pods, which judges the Pod a template makes, at spec.
	PodSpecPath []string
	// Unread marks a field the object lacks because it held more than the operator reads (a
	// ConfigMap's data, an object's annotations or a workload's env values past what its cache
	// keeps: a size the object's author chose), not one the operator never keeps: a custom
	// check that reads it is unread (Result.Unread), and fails closed in the reports.
	Unread bool
}

// withheldOf are the fields of withheld that objects of kind lack and an expression that reads
// the paths under `object` reads (objectReads) may read.
func withheldOf(withheld []WithheldField, kind string, reads [][]string) []WithheldField {
	var out []WithheldField
	for _, w := range withheld {
		if w.Kind != "" && w.Kind != kind {
			continue
		}
		for _, r := range reads {
			if overlapsPath(r, w.Path) {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// objectReads are the paths under the variable `object` that the expression e reads, each as
// far as it is written out (object.metadata.name: metadata, name; object.metadata.labels[k]:
// metadata, labels; object passed whole: the empty path).
func objectReads(e celast.Expr) [][]string { return varReads(e, "object") }

// varReads are the paths under the variable name that the expression e reads, as objectReads
// are under `object`.
func varReads(e celast.Expr, name string) [][]string {
	var out [][]string
	var visit func(e celast.Expr, extended bool)
	// path is e's path under object, if e is object or a field or constant key of one.
	var path func(e celast.Expr) ([]string, bool)
	path = func(e celast.Expr) ([]string, bool) {
		switch e.Kind() {
		case celast.IdentKind:
			return nil, e.AsIdent() == name
		case celast.SelectKind:
			p, ok := path(e.AsSelect().Operand())
			return append(slices.Clip(p), e.AsSelect().FieldName()), ok
		case celast.CallKind:
			call := e.AsCall()
			if fn := call.FunctionName(); (fn == operators.Index || fn == operators.OptIndex || fn == operators.OptSelect) && len(call.Args()) == 2 {
				p, ok := path(call.Args()[0])
				if key := call.Args()[1]; key.Kind() == celast.LiteralKind {
					if s, isString := key.AsLiteral().Value().(string); isString {
						return append(slices.Clip(p), s), ok
					}
				}
				return p, false
			}
		}
		return nil, false
	}
	visit = func(e celast.Expr, extended bool) {
		if p, ok := path(e); ok && !extended {
			out = append(out, p)
		}
		switch e.Kind() {
		case celast.SelectKind:
			visit(e.AsSelect().Operand(), true)
		case celast.CallKind:
			call := e.AsCall()
			if call.IsMemberFunction() {
				visit(call.Target(), false)
			}
			_, keyed := path(e)
			for i, a := range call.Args() {
				visit(a, keyed && i == 0)
			}
		case celast.ComprehensionKind:
			c := e.AsComprehension()
			for _, x := range []celast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
				visit(x, false)
			}
		case celast.ListKind:
			for _, x := range e.AsList().Elements() {
				visit(x, false)
			}
		case celast.MapKind:
			for _, x := range e.AsMap().Entries() {
				visit(x.AsMapEntry().Key(), false)
				visit(x.AsMapEntry().Value(), false)
			}
		case celast.StructKind:
			for _, x := range e.AsStruct().Fields() {
				visit(x.AsStructField().Value(), false)
			}
		}
	}
	visit(e, false)
	return out
}

// overlapsPath reports whether one of two paths holds the other.
func overlapsPath(a, b []string) bool {
	n := min(len(a), len(b))
	return slices.Equal(a[:n], b[:n])
}

// readsWithheld says which withheld fields an expression that gave unknown read, and why they
// are missing: "the expression reads object.metadata.managedFields, which the operator's cache
// does not keep".
func readsWithheld(unknown *types.Unknown, withheld []WithheldField) (msg string, unread bool) {
	var read, why []string
	for _, id := range unknown.IDs() {
		trails, _ := unknown.GetAttributeTrails(id)
		for _, t := range trails {
			if s := t.String(); !slices.Contains(read, s) {
				read = append(read, s)
			}
			for _, w := range withheld {
				if !overlaps(t.QualifierPath(), w.Path) {
					continue
				}
				unread = unread || w.Unread
				if !slices.Contains(why, w.Why) {
					why = append(why, w.Why)
				}
			}
		}
	}
	if len(read) == 0 {
		return "the expression reads a field this evaluation does not have", false
	}
	msg = "the expression reads " + strings.Join(read, ", ")
	if len(why) > 0 {
		msg += ", which " + strings.Join(why, "; ")
	}
	return msg, unread
}

// overlaps reports whether the qualifiers of an attribute and a withheld field's path name
// the same field or one holds the other.
func overlaps(quals []any, path []string) bool {
	for i := 0; i < len(quals) && i < len(path); i++ {
		if q, ok := quals[i].(string); !ok || q != path[i] {
			return false
		}
	}
	return true
}

// madeBy is what owner, the controller that explains o (Inventory.Provenance), makes of its
// template as an object of o's kind, for a custom check to judge as it judges o (madeFails): a
// Pod as a workload's template makes it (podOfTemplate), a Job as a CronJob's jobTemplate makes
// it (its labels, annotations and spec: getJobFromTemplate2 in k8s.io/kubernetes v1.37.2
// pkg/controller/cronjob/utils.go), a ReplicaSet as a Deployment makes it (the template's labels,
// the Deployment's annotations but kubectl's copy of the applied manifest, its replicas,
// minReadySeconds, selector and template: getNewReplicaSet in pkg/controller/deployment/sync.go),
// each named after owner, as the objects it makes are. The fields the API server fills in are
// not filled in: a check that fails on one (a Job's default backoffLimit of 6, a Pod's
// serviceAccountName) fails each object, as it does a bare one. Fields withheld from owner are
// withheld from what it makes, and so are its owner references and status. nil when it cannot be made.
func madeBy(owner, o *Object) *Object {
	src, err := owner.asMap()
	if err != nil || owner.Workload == nil {
		return nil
	}
	meta := map[string]any{"name": owner.Name}
	if owner.Namespace != "" {
		meta["namespace"] = owner.Namespace
	}
	var made map[string]any
	switch {
	case o.Kind == "Pod":
		made = podOfTemplate(owner, src)
	case o.Kind == "Job" && owner.Kind == "CronJob":
		tpl, _, _ := unstructured.NestedMap(src, "spec", "jobTemplate")
		copyMeta(meta, tpl["metadata"], "labels", "annotations")
		made = map[string]any{"apiVersion": "batch/v1", "kind": "Job", "metadata": meta}
		if spec, ok := tpl["spec"]; ok {
			made["spec"] = spec
		}
	case o.Kind == "ReplicaSet" && owner.Kind == "Deployment":
		spec, _, _ := unstructured.NestedMap(src, "spec")
		tpl, _ := spec["template"].(map[string]any)
		copyMeta(meta, tpl["metadata"], "labels")
		if a, ok, _ := unstructured.NestedStringMap(src, "metadata", "annotations"); ok && len(a) > 0 {
			delete(a, corev1.LastAppliedConfigAnnotation)
			ann := make(map[string]any, len(a))
			for k, v := range a {
				ann[k] = v
			}
			meta["annotations"] = ann
		}
		rsSpec := map[string]any{}
		for _, k := range []string{"replicas", "minReadySeconds", "selector", "template"} {
			if v, ok := spec[k]; ok {
				rsSpec[k] = v
			}
		}
		made = map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta, "spec": rsSpec}
	default:
		return nil
	}
	m := &Object{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: owner.Namespace, Name: owner.Name, Obj: owner.Obj,
		Workload: owner.Workload, Digest: owner.Digest, unstructured: made}
	// Its owner references and status are set once it is made: undecided, as in a template's
	// Pod (templateUndecided).
	for _, w := range templateUndecided {
		m.Withheld = append(m.Withheld, WithheldField{Kind: o.Kind, Path: w.Path, Why: "what a controller makes does not decide until it is made"})
	}
	prefix := podSpecPath(o.Kind)
	for _, w := range owner.Withheld {
		switch {
		case w.PodSpecPath != nil:
			m.Withheld = append(m.Withheld, WithheldField{Kind: o.Kind, Path: append(slices.Clone(prefix), w.PodSpecPath...), Why: w.Why, PodSpecPath: w.PodSpecPath, Unread: w.Unread})
		case o.Kind == "ReplicaSet":
			// Its metadata is the Deployment's (its annotations).
			m.Withheld = append(m.Withheld, WithheldField{Kind: o.Kind, Path: w.Path, Why: w.Why, Unread: w.Unread})
		}
	}
	return m
}

// copyMeta copies the fields keys of a template's metadata (from) into meta.
func copyMeta(meta map[string]any, from any, keys ...string) {
	m, ok := from.(map[string]any)
	if !ok {
		return
	}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			meta[k] = v
		}
	}
}

// podSpecPath is the path of the pod spec in an object of kind.
func podSpecPath(kind string) []string {
	switch kind {
	case "Pod":
		return []string{"spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return []string{"spec", "template", "spec"}
}
