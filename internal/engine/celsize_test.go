package engine

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
)

// TestReplacedSizeIsTheSizeOfTheResult: the size sizeGuards checks before replace builds its
// result is the size CEL gives the result, for the empty string, multi-byte characters, a
// replacement that shrinks the string and a limit on the replacements.
func TestReplacedSizeIsTheSizeOfTheResult(t *testing.T) {
	for _, s := range []string{"", "abc", "aaaa", "héllo wörld", "a\xffb"} {
		for _, old := range []string{"", "a", "l", "ö", "aa", "zz"} {
			for _, repl := range []string{"", "x", "ÿÿÿ", "long replacement"} {
				for _, n := range []int64{-1, 0, 1, 2, 100} {
					want := utf8.RuneCountInString(strings.Replace(s, old, repl, int(n)))
					if got := replacedSize(s, old, repl, n); got != uint64(want) {
						t.Errorf("replacedSize(%q, %q, %q, %d) = %d, want %d", s, old, repl, n, got, want)
					}
				}
			}
		}
	}
}

// TestRegexReplacedSizeIsTheSizeOfTheResult: regexSizeGuards stops regex.replace when the size
// of its result, as ext.Regex makes it, goes over the limit, and only then: with the limit at
// that size it lets it run, one below it stops it.
func TestRegexReplacedSizeIsTheSizeOfTheResult(t *testing.T) {
	env, err := cel.NewEnv(cel.OptionalTypes(), ext.Regex())
	if err != nil {
		t.Fatal(err)
	}
	stops := func(target, pattern, repl string, n int64, limit uint64) (stopped bool) {
		defer func() { stopped = recover() != nil }()
		regexReplacedSize(types.String(target), types.String(pattern), types.String(repl), n, limit)
		return false
	}
	for _, target := range []string{"xxxx", "héllo wörld", "a-b-c"} {
		for _, pattern := range []string{"", "x", "(l+)", "(.)(.)", "ö|-"} {
			for _, repl := range []string{"", "y", `\1\1`, `<\0>`, `\\`, "ÿÿÿ"} {
				for _, n := range []int64{-1, 1, 2} {
					prg, err := env.Program(mustCompile(t, env, "regex.replace(t, p, r, n)"))
					if err != nil {
						t.Fatal(err)
					}
					out, _, err := prg.Eval(map[string]any{"t": target, "p": pattern, "r": repl, "n": n})
					if err != nil {
						continue // an invalid replacement for the pattern: the extension reports it
					}
					size := uint64(utf8.RuneCountInString(out.Value().(string)))
					if stops(target, pattern, repl, n, size) || (size > uint64(utf8.RuneCountInString(target)) && !stops(target, pattern, repl, n, size-1)) {
						t.Errorf("regex.replace(%q, %q, %q, %d) is %d long; the guard does not stop it at that size exactly", target, pattern, repl, n, size)
					}
				}
			}
		}
	}
}

func mustCompile(t *testing.T, env *cel.Env, expr string) *cel.Ast {
	t.Helper()
	env, err := env.Extend(cel.Variable("t", cel.StringType), cel.Variable("p", cel.StringType), cel.Variable("r", cel.StringType), cel.Variable("n", cel.IntType))
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	return ast
}

// TestFormattedSizeIsTheSizeOfTheResult: the size sizeGuards checks before format builds its
// result is the size of the result ext.Strings' format makes, wherever every clause formats a
// string, bytes, a list, a map, an int, a uint, a bool or null (%s), or a string or bytes (%x):
// with the limit at that size the guard lets it run, one below it stops it.
func TestFormattedSizeIsTheSizeOfTheResult(t *testing.T) {
	env, err := cel.NewEnv(cel.OptionalTypes(), ext.Strings(), cel.Variable("f", cel.StringType), cel.Variable("args", cel.ListType(cel.DynType)))
	if err != nil {
		t.Fatal(err)
	}
	ast, iss := env.Compile("f.format(args)")
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatal(err)
	}
	stops := func(f string, args ref.Val, limit uint64) (stopped bool) {
		defer func() { stopped = recover() != nil }()
		checkFormattedSize(f, args.(traits.Lister), limit)
		return false
	}
	argSets := [][]any{
		{"héllo", "wörld"},
		{[]any{"a", int64(-12), uint64(7), true, nil}, map[string]any{"k": "v", "ö": []any{}}},
		{[]byte("abc"), "ÿ"},
		{map[string]any{}, []any{[]any{"x", "y"}, map[string]any{"a": false}}},
	}
	for _, f := range []string{"%s", "%s-%s", "%% %s %%%x", "ü%X|%s", "plain %s and %s"} {
		for _, args := range argSets {
			list := types.DefaultTypeAdapter.NativeToValue(args)
			out, _, err := prg.Eval(map[string]any{"f": f, "args": list})
			if err != nil {
				continue // too few arguments, or %x of a list: the extension reports it
			}
			size := uint64(utf8.RuneCountInString(out.Value().(string)))
			if stops(f, list, size) || !stops(f, list, size-1) {
				t.Errorf("%q.format(%v) is %d long (%q); the guard does not stop it at that size exactly", f, args, size, out.Value())
			}
		}
	}
}

// countedString is a string whose comparisons are counted.
type countedString struct {
	types.String
	compared *int
}

func (s countedString) Equal(other ref.Val) ref.Val {
	*s.compared++
	if o, ok := other.(countedString); ok {
		return s.String.Equal(o.String)
	}
	return s.String.Equal(other)
}

// TestAQuadraticListFunctionIsStoppedBeforeItRuns: CEL charges distinct and the sets functions
// after the call, by the square (or product) of their lists' sizes, and no timeout stops a call
// that runs: a check that no container repeats an environment variable
// (`c.env.map(e, e.name).distinct()`) spent 9 s comparing 20,000 names a tenant wrote, and
// sets.contains of two such lists 54 s, before the cost limit stopped each (the two-second time
// limit is checked only between a comprehension's steps). A call whose cost alone would go over
// the limit now stops the expression before it compares anything; smaller calls run as before.
func TestAQuadraticListFunctionIsStoppedBeforeItRuns(t *testing.T) {
	env, err := customEnv()
	if err != nil {
		t.Fatal(err)
	}
	for expression, want := range map[string]string{
		"object.big.distinct().size() > 0":            "stopped",
		"sets.contains(object.big, object.big)":       "stopped",
		"sets.intersects(object.big, object.other)":   "stopped",
		"sets.equivalent(object.big, object.big)":     "stopped",
		"object.small.distinct().size() == 100":       "true",
		"sets.contains(object.big, object.two)":       "true",
		"sets.equivalent(object.small, object.small)": "true",
		"!sets.intersects(object.small, object.xy)":   "true",
	} {
		compared := 0
		list := func(n int, prefix string) []ref.Val {
			out := make([]ref.Val, n)
			for i := range out {
				out[i] = countedString{types.String(fmt.Sprintf("%s%d", prefix, i)), &compared}
			}
			return out
		}
		ast, iss := env.Compile(expression)
		if iss.Err() != nil {
			t.Fatal(iss.Err())
		}
		prg, err := env.Program(ast, cel.CostLimit(CustomCheckCostLimit))
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := prg.Eval(map[string]any{"podSpec": nil, "object": map[string]any{
			"big": list(20000, "E"), "other": list(20000, "F"), "small": list(100, "E"), "two": list(2, "E"), "xy": list(2, "X")}})
		got := fmt.Sprint(out)
		if err != nil {
			got = "error: " + err.Error()
			if strings.Contains(err.Error(), "cost limit exceeded") {
				got = "stopped"
			}
		}
		if got != want {
			t.Errorf("%s: %s, want %s", expression, got, want)
		}
		// 20,000 names compared with each other are 200 million comparisons.
		if compared > 1_000_000 {
			t.Errorf("%s: %d comparisons, want the call stopped before it runs", expression, compared)
		}
	}
}
