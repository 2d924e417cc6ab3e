package engine

import (
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
