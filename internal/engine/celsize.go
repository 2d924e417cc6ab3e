package engine

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/functions"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// sizeGuards redefines the string extension's functions whose result may be far larger than
// their arguments (replace and join: `s.replace(”, s)` is the square of s; format:
// `'%s'.format([lists.range(1000).map(i, s)])` is s a thousand times) so that they work out
// the size of their result before they build it. CEL charges their cost after the call, by that
// size, so one call on a string a tenant controls built all of it first: a 16 KB annotation made
// a 256 MB string, the 256 KiB that Kubernetes admits 64 GiB. A call whose result alone would go
// over the cost limit, which the cost tracker would stop right after it, stops the expression
// before it allocates, as the cost limit stops it (an error value could be absorbed by `||`);
// any other call runs the extension's own implementation. Sizes are counted as CEL counts a
// string's size, in code points. The extension's cost estimators and trackers, keyed by the
// same overload IDs, still apply. It must follow ext.Strings in the environment's options.
func sizeGuards(limit uint64) cel.EnvOption {
	impl, err := extensionBindings(ext.Strings(), map[string][]string{
		"replace": {"string_replace_string_string", "string_replace_string_string_int"},
		"join":    {"list_join", "list_join_string"},
		"format":  {"string_format"},
	})
	if err != nil {
		return failedOption(err)
	}
	str := cel.StringType
	strList := cel.ListType(cel.StringType)
	replace := func(id string) cel.OverloadOpt {
		return cel.FunctionBinding(func(args ...ref.Val) ref.Val {
			s, ok1 := args[0].(types.String)
			old, ok2 := args[1].(types.String)
			repl, ok3 := args[2].(types.String)
			n, ok4 := types.Int(-1), true
			if len(args) > 3 {
				n, ok4 = args[3].(types.Int)
			}
			if ok1 && ok2 && ok3 && ok4 {
				checkSize("replace", replacedSize(string(s), string(old), string(repl), int64(n)), limit)
			}
			return callBinding(impl[id], args...)
		})
	}
	join := func(id string) cel.OverloadOpt {
		return cel.FunctionBinding(func(args ...ref.Val) ref.Val {
			sep := types.String("")
			if len(args) > 1 {
				sep, _ = args[1].(types.String)
			}
			checkJoinedSize(args[0], string(sep), limit)
			return callBinding(impl[id], args...)
		})
	}
	format := cel.FunctionBinding(func(args ...ref.Val) ref.Val {
		if f, ok := args[0].(types.String); ok {
			if l, ok := args[1].(traits.Lister); ok {
				checkFormattedSize(string(f), l, limit)
			}
		}
		return callBinding(impl["string_format"], args...)
	})
	return cel.Lib(sizeGuardLib{env: []cel.EnvOption{
		cel.Function("replace",
			cel.MemberOverload("string_replace_string_string", []*cel.Type{str, str, str}, str, replace("string_replace_string_string")),
			cel.MemberOverload("string_replace_string_string_int", []*cel.Type{str, str, str, cel.IntType}, str, replace("string_replace_string_string_int"))),
		cel.Function("join",
			cel.MemberOverload("list_join", []*cel.Type{strList}, str, join("list_join")),
			cel.MemberOverload("list_join_string", []*cel.Type{strList, str}, str, join("list_join_string"))),
		cel.Function("format",
			cel.MemberOverload("string_format", []*cel.Type{str, cel.ListType(cel.DynType)}, str, format)),
	}, program: []cel.ProgramOption{
		// CEL charges format by its format string alone (interpreter.CostTracker's default for
		// ExtFormatString, which Kubernetes v1.37.2 keeps too), so calls whose results are each
		// below the limit could build any amount: `lists.range(1000).map(i, '%s'.format([s]))`
		// holds s a thousand times at the cost of a thousand small calls. Charged by what it
		// builds, as ext.Strings charges replace and join, format costs its result's size.
		cel.CostTrackerOptions(interpreter.OverloadCostTracker("string_format", trackFormatCost)),
	}})
}

// trackFormatCost is the cost of a call of format: the call, a traversal of its format string
// (what CEL charges it by default), and the size of its result, as ext.Strings' trackers charge
// replace and join.
func trackFormatCost(args []ref.Val, result ref.Val) *uint64 {
	cost := uint64(1)
	if f, ok := args[0].(types.String); ok {
		cost += uint64(math.Ceil(float64(f.Size().(types.Int)) * common.StringTraversalCostFactor))
	}
	if r, ok := result.(types.String); ok {
		cost += uint64(r.Size().(types.Int))
	}
	return &cost
}

// checkFormattedSize stops the evaluation (checkSize) if formatting args by format, as
// ext.Strings' format does, would return a string of more than limit code points, counting
// as it goes. It counts what each clause adds at least: a %s of a string, bytes, list or map
// all of its text, and a %x or %X of a string or bytes two digits a byte (what grows with the
// object), any other clause one code point. A clause it cannot read, or with no argument left,
// ends the count: the extension reports it.
func checkFormattedSize(format string, args traits.Lister, limit uint64) {
	n := int64(args.Size().(types.Int))
	size := uint64(0)
	arg := int64(0)
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			if utf8.RuneStart(format[i]) {
				size++
			}
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			size++
			i++
			continue
		}
		// The clause: an optional precision (.digits), then its verb.
		j := i + 1
		if j < len(format) && format[j] == '.' {
			j++
			for j < len(format) && format[j] >= '0' && format[j] <= '9' {
				j++
			}
		}
		if j >= len(format) || arg >= n {
			return
		}
		v := args.Get(types.Int(arg))
		switch format[j] {
		case 's':
			formattedSize(v, &size, limit)
		case 'x', 'X':
			switch v := v.(type) {
			case types.String:
				size += 2 * uint64(len(v))
			case types.Bytes:
				size += 2 * uint64(len(v))
			default:
				size++
			}
		default:
			size++
		}
		checkSize("format", size, limit)
		arg++
		i = j
	}
	checkSize("format", size, limit)
}

// formattedSize adds to *size the size of v as format's %s writes it (a list as [a, b], a map
// as {k: v}, a string as itself), counting a value of another kind (a double, a duration) as
// one code point; it stops the evaluation (checkSize) as soon as *size goes over limit, so it
// visits at most about limit values.
func formattedSize(v ref.Val, size *uint64, limit uint64) {
	switch v := v.(type) {
	case types.String:
		*size += uint64(utf8.RuneCountInString(string(v)))
	case types.Bytes:
		*size += uint64(utf8.RuneCount(v))
	case types.Bool:
		*size += uint64(len(strconv.FormatBool(bool(v))))
	case types.Int:
		*size += uint64(len(strconv.FormatInt(int64(v), 10)))
	case types.Uint:
		*size += uint64(len(strconv.FormatUint(uint64(v), 10)))
	case types.Null:
		*size += 4
	case traits.Lister:
		*size += 2 // [ and ]
		n := int64(v.Size().(types.Int))
		for i := int64(0); i < n; i++ {
			if i > 0 {
				*size += 2 // ", "
			}
			formattedSize(v.Get(types.Int(i)), size, limit)
		}
	case traits.Mapper:
		*size += 2 // { and }
		first := true
		for it := v.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			if !first {
				*size += 2 // ", "
			}
			first = false
			formattedSize(k, size, limit)
			*size += 2 // ": "
			if e, found := v.Find(k); found {
				formattedSize(e, size, limit)
			}
		}
	default:
		*size++
	}
	checkSize("format", *size, limit)
}

// regexSizeGuards redefines ext.Regex's regex.replace, whose result may be as large as
// `s.replace(”, s)`'s, so that it works out the size of its result before it builds it, and
// stops the expression, as sizeGuards does, when that alone would go over limit; otherwise
// the extension's own implementation runs. It must follow ext.Regex in the environment's
// options.
func regexSizeGuards(limit uint64) cel.EnvOption {
	const all, limited = "regex_replace_string_string_string", "regex_replace_string_string_string_int"
	impl, err := extensionBindings(ext.Regex(), map[string][]string{"regex.replace": {all, limited}})
	if err != nil {
		return failedOption(err)
	}
	str := cel.StringType
	return cel.Lib(sizeGuardLib{env: []cel.EnvOption{
		cel.Function("regex.replace",
			cel.Overload(all, []*cel.Type{str, str, str}, str,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					regexReplacedSize(args[0], args[1], args[2], -1, limit)
					return callBinding(impl[all], args...)
				})),
			cel.Overload(limited, []*cel.Type{str, str, str, cel.IntType}, str,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					if n, ok := args[3].(types.Int); ok {
						regexReplacedSize(args[0], args[1], args[2], int64(n), limit)
					}
					return callBinding(impl[limited], args...)
				}))),
	}})
}

// comparisonGuards redefines the list functions whose work is quadratic in their lists' sizes
// (ext.Lists' distinct; ext.Sets' contains, intersects and equivalent, each list against the
// other) so that they stop the expression, as the cost limit does, when the cost CEL would
// charge them after the call (the extensions' own trackers: the square or product of the
// sizes) alone goes over limit, before they compare anything. Charged only afterwards, one
// call ran its whole course first, and no timeout stops a call that runs: 20,000 names a
// tenant wrote took 9 s through distinct and 54 s through sets.contains. Any other call runs
// the extension's own implementation. It must follow ext.Lists and ext.Sets in the
// environment's options.
func comparisonGuards(limit uint64) cel.EnvOption {
	const distinct = "list_distinct"
	sets := map[string]float64{"list_sets_contains_list": 1, "list_sets_intersects_list": 1, "list_sets_equivalent_list": 2}
	lists, err := extensionBindings(ext.Lists(), map[string][]string{"distinct": {distinct}})
	if err != nil {
		return failedOption(err)
	}
	setImpl, err := extensionBindings(ext.Sets(), map[string][]string{
		"sets.contains": {"list_sets_contains_list"}, "sets.intersects": {"list_sets_intersects_list"},
		"sets.equivalent": {"list_sets_equivalent_list"}})
	if err != nil {
		return failedOption(err)
	}
	size := func(v ref.Val) uint64 {
		if l, ok := v.(traits.Sizer); ok {
			return uint64(l.Size().(types.Int))
		}
		return 1
	}
	check := func(function string, cost float64) {
		if cost > float64(limit) {
			panic(interpreter.EvalCancelledError{Cause: interpreter.CostLimitExceeded,
				Message: fmt.Sprintf("operation cancelled: actual cost limit exceeded: %s would cost %.0f", function, cost)})
		}
	}
	setGuard := func(function, id string) cel.FunctionOpt {
		l := cel.ListType(cel.TypeParamType("T"))
		return cel.Overload(id, []*cel.Type{l, l}, cel.BoolType, cel.BinaryBinding(func(a, b ref.Val) ref.Val {
			// trackSetsCost: the product of the sizes, by the function's factor.
			check(function, float64(size(a))*float64(size(b))*sets[id])
			return callBinding(setImpl[id], a, b)
		}))
	}
	l := cel.ListType(cel.TypeParamType("T"))
	return cel.Lib(sizeGuardLib{env: []cel.EnvOption{
		cel.Function("distinct", cel.MemberOverload(distinct, []*cel.Type{l}, l, cel.UnaryBinding(func(list ref.Val) ref.Val {
			// trackListSelfCompare: the square of the size, by 2 (2.1 for strings and bytes).
			n := float64(size(list))
			check("distinct", n*n*2)
			return callBinding(lists[distinct], list)
		}))),
		cel.Function("sets.contains", setGuard("sets.contains", "list_sets_contains_list")),
		cel.Function("sets.intersects", setGuard("sets.intersects", "list_sets_intersects_list")),
		cel.Function("sets.equivalent", setGuard("sets.equivalent", "list_sets_equivalent_list")),
	}})
}

// extensionBindings returns what the CEL extension lib binds to the overloads named, by
// function name, by overload ID: the implementation a size guard calls once it let a call go
// ahead, so that the guarded function keeps the extension's semantics.
func extensionBindings(lib cel.EnvOption, overloads map[string][]string) (map[string]*functions.Overload, error) {
	env, err := cel.NewEnv(cel.OptionalTypes(), lib)
	if err != nil {
		return nil, err
	}
	out := map[string]*functions.Overload{}
	for function, ids := range overloads {
		decl := env.Functions()[function]
		if decl == nil {
			return nil, fmt.Errorf("the CEL extension has no function %s to guard", function)
		}
		bindings, err := decl.Bindings()
		if err != nil {
			return nil, err
		}
		for _, b := range bindings {
			out[b.Operator] = b
		}
		for _, id := range ids {
			if out[id] == nil {
				return nil, fmt.Errorf("the CEL extension has no overload %s of %s to guard", id, function)
			}
		}
	}
	return out, nil
}

// callBinding calls an extension's overload with args, by whichever of its bindings it has.
func callBinding(o *functions.Overload, args ...ref.Val) ref.Val {
	switch {
	case len(args) == 1 && o.Unary != nil:
		return o.Unary(args[0])
	case len(args) == 2 && o.Binary != nil:
		return o.Binary(args[0], args[1])
	case o.Function != nil:
		return o.Function(args...)
	}
	return types.NewErr("no binding of %s for %d arguments", o.Operator, len(args))
}

// failedOption is an environment option that fails with err.
func failedOption(err error) cel.EnvOption {
	return func(*cel.Env) (*cel.Env, error) { return nil, err }
}

// regexReplacedSize stops the evaluation (checkSize) if regex.replace(target, pattern,
// replacement, n) would return a string of more than limit code points, counting as it goes.
// Where the pattern or the replacement is invalid it does nothing: the extension reports it.
func regexReplacedSize(target, pattern, replacement ref.Val, n int64, limit uint64) {
	t, ok1 := target.(types.String)
	p, ok2 := pattern.(types.String)
	r, ok3 := replacement.(types.String)
	if !ok1 || !ok2 || !ok3 || n == 0 {
		return
	}
	re, err := regexp.Compile(string(p))
	if err != nil {
		return
	}
	// The replacement as ext.Regex reads it: \\ a backslash, \N group N, any other rune itself.
	var literal uint64
	var groups []int
	runes := []rune(string(r))
	for i := 0; i < len(runes); i++ {
		if runes[i] != '\\' {
			literal++
			continue
		}
		if i+1 >= len(runes) {
			return
		}
		i++
		if runes[i] == '\\' {
			literal++
			continue
		}
		g, err := strconv.Atoi(string(runes[i]))
		if err != nil || g > re.NumSubexp() {
			return
		}
		groups = append(groups, g)
	}
	s := string(t)
	size := uint64(utf8.RuneCountInString(s))
	for i, m := range re.FindAllStringSubmatchIndex(s, -1) {
		if n > 0 && int64(i) >= n {
			break
		}
		size -= uint64(utf8.RuneCountInString(s[m[0]:m[1]]))
		size += literal
		for _, g := range groups {
			if m[2*g] >= 0 {
				size += uint64(utf8.RuneCountInString(s[m[2*g]:m[2*g+1]]))
			}
		}
		// What follows the match can shrink the result by at most its length: stop as soon as the
		// result is sure to go over, without scanning the rest.
		if rest := uint64(len(s) - m[1]); size > rest {
			checkSize("regex.replace", size-rest, limit)
		}
	}
	checkSize("regex.replace", size, limit)
}

// sizeGuardLib is a CEL library of size guards: the functions they redefine (env) and the
// cost trackers of their results (program).
type sizeGuardLib struct {
	env     []cel.EnvOption
	program []cel.ProgramOption
}

func (l sizeGuardLib) CompileOptions() []cel.EnvOption     { return l.env }
func (l sizeGuardLib) ProgramOptions() []cel.ProgramOption { return l.program }

// checkSize stops the evaluation, as CEL's cost limit does, if a result of size would go over
// limit.
func checkSize(function string, size, limit uint64) {
	if size > limit {
		panic(interpreter.EvalCancelledError{Cause: interpreter.CostLimitExceeded,
			Message: fmt.Sprintf("operation cancelled: actual cost limit exceeded: %s would return a string of %d characters", function, size)})
	}
}

// replacedSize is the size, in code points, of strings.Replace(s, old, repl, n), without making
// it.
func replacedSize(s, old, repl string, n int64) uint64 {
	count := int64(strings.Count(s, old)) // the empty string: once per code point, and once more
	if n >= 0 && n < count {
		count = n
	}
	size := int64(utf8.RuneCountInString(s)) + count*(int64(utf8.RuneCountInString(repl))-int64(utf8.RuneCountInString(old)))
	return uint64(max(size, 0))
}

// checkJoinedSize stops the evaluation (checkSize) if joining list with sep would return a
// string of more than limit code points, counting as it goes. A list that is not one of strings
// it leaves to the extension, which reports it.
func checkJoinedSize(list ref.Val, sep string, limit uint64) {
	l, ok := list.(traits.Lister)
	if !ok {
		return
	}
	n := int64(l.Size().(types.Int))
	var size uint64
	sepSize := uint64(utf8.RuneCountInString(sep))
	for i := int64(0); i < n; i++ {
		e, ok := l.Get(types.Int(i)).(types.String)
		if !ok {
			return
		}
		if i > 0 {
			size += sepSize
		}
		size += uint64(utf8.RuneCountInString(string(e)))
		checkSize("join", size, limit)
	}
}
