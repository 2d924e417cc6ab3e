package engine

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/functions"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// sizeGuards redefines the string extension's functions whose result may be far larger than
// their arguments (replace and join: `s.replace(”, s)` is the square of s) so that they work out
// the size of their result before they build it. CEL charges their cost after the call, by that
// size, so one call on a string a tenant controls built all of it first: a 16 KB annotation made
// a 256 MB string, the 256 KiB that Kubernetes admits 64 GiB. A call whose result alone would go
// over the cost limit, which the cost tracker would stop right after it, stops the expression
// before it allocates, as the cost limit stops it (an error value could be absorbed by `||`).
// Sizes are counted as CEL counts a string's size, in code points. The extension's cost
// estimators and trackers, keyed by the same overload IDs, still apply. It must follow
// ext.Strings in the environment's options.
func sizeGuards(limit uint64) cel.EnvOption {
	str := cel.StringType
	strList := cel.ListType(cel.StringType)
	return cel.Lib(sizeGuardLib{
		cel.Function("replace",
			cel.MemberOverload("string_replace_string_string", []*cel.Type{str, str, str}, str,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					s, old, repl := string(args[0].(types.String)), string(args[1].(types.String)), string(args[2].(types.String))
					checkSize("replace", replacedSize(s, old, repl, -1), limit)
					return types.String(strings.ReplaceAll(s, old, repl))
				})),
			cel.MemberOverload("string_replace_string_string_int", []*cel.Type{str, str, str, cel.IntType}, str,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					s, old, repl := string(args[0].(types.String)), string(args[1].(types.String)), string(args[2].(types.String))
					n := int64(args[3].(types.Int))
					checkSize("replace", replacedSize(s, old, repl, n), limit)
					return types.String(strings.Replace(s, old, repl, int(n)))
				}))),
		cel.Function("join",
			cel.MemberOverload("list_join", []*cel.Type{strList}, str,
				cel.UnaryBinding(func(list ref.Val) ref.Val {
					return joinGuarded(list, "", limit)
				})),
			cel.MemberOverload("list_join_string", []*cel.Type{strList, str}, str,
				cel.BinaryBinding(func(list, sep ref.Val) ref.Val {
					return joinGuarded(list, string(sep.(types.String)), limit)
				}))),
	})
}

// regexSizeGuards redefines ext.Regex's regex.replace, whose result may be as large as
// `s.replace(”, s)`'s, so that it works out the size of its result before it builds it, and
// stops the expression, as sizeGuards does, when that alone would go over limit; otherwise
// the extension's own implementation runs. It must follow ext.Regex in the environment's
// options.
func regexSizeGuards(limit uint64) cel.EnvOption {
	env, err := cel.NewEnv(cel.OptionalTypes(), ext.Regex())
	if err != nil {
		return func(*cel.Env) (*cel.Env, error) { return nil, err }
	}
	bindings, err := env.Functions()["regex.replace"].Bindings()
	if err != nil {
		return func(*cel.Env) (*cel.Env, error) { return nil, err }
	}
	impl := map[string]functions.FunctionOp{}
	for _, b := range bindings {
		impl[b.Operator] = b.Function
	}
	all, limited := impl["regex_replace_string_string_string"], impl["regex_replace_string_string_string_int"]
	if all == nil || limited == nil {
		return func(*cel.Env) (*cel.Env, error) {
			return nil, errors.New("the regex extension has no regex.replace overloads to guard")
		}
	}
	str := cel.StringType
	return cel.Lib(sizeGuardLib{
		cel.Function("regex.replace",
			cel.Overload("regex_replace_string_string_string", []*cel.Type{str, str, str}, str,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					regexReplacedSize(args[0], args[1], args[2], -1, limit)
					return all(args...)
				})),
			cel.Overload("regex_replace_string_string_string_int", []*cel.Type{str, str, str, cel.IntType}, str,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					if n, ok := args[3].(types.Int); ok {
						regexReplacedSize(args[0], args[1], args[2], int64(n), limit)
					}
					return limited(args...)
				}))),
	})
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

type sizeGuardLib []cel.EnvOption

func (l sizeGuardLib) CompileOptions() []cel.EnvOption   { return l }
func (sizeGuardLib) ProgramOptions() []cel.ProgramOption { return nil }

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

// joinGuarded is the ext.Strings join of a list of strings with sep, stopped if its result would
// go over limit.
func joinGuarded(list ref.Val, sep string, limit uint64) ref.Val {
	l, ok := list.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(list)
	}
	n := int64(l.Size().(types.Int))
	strs := make([]string, 0, n)
	var size uint64
	sepSize := uint64(utf8.RuneCountInString(sep))
	for i := int64(0); i < n; i++ {
		v := l.Get(types.Int(i))
		e, ok := v.(types.String)
		if !ok {
			return types.NewErr("join: the list holds a %s, not a string", v.Type().(ref.Type).TypeName())
		}
		if i > 0 {
			size += sepSize
		}
		size += uint64(utf8.RuneCountInString(string(e)))
		checkSize("join", size, limit)
		strs = append(strs, string(e))
	}
	return types.String(strings.Join(strs, sep))
}
