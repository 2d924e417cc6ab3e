package checks

import (
	"strings"
	"testing"
)

// rewriteParametersAsBefore is rewriteParameters as it was until December 2026: the parameter
// at a '$' was found by searching the rest of the script (shellParameter, unanchored) and kept
// when the match started there. Each '$' that starts none ($(, $', "$ ) read on to the next
// parameter or the end: quadratic in the script.
func rewriteParametersAsBefore(script string, braces bool, replace func(name string, double bool) (string, bool)) string {
	if !strings.Contains(script, "$") {
		return script
	}
	var b strings.Builder
	from, double, unpaired := 0, false, false
	for i := 0; i < len(script); i++ {
		switch c := script[i]; {
		case c == '\n':
			double, unpaired = false, false
		case c == '\\':
			i++
		case c == '"':
			double = !double
		case c == '$' && !double && i+1 < len(script) && script[i+1] == '\'':
			if end := ansiCQuoteEnd(script, i+1); end >= 0 {
				i = end
			}
		case c == '\'' && !double && !unpaired:
			end := strings.IndexAny(script[i+1:], "'\n")
			if end < 0 || script[i+1+end] == '\n' {
				unpaired = true
				continue
			}
			i += 1 + end
		case c == '$' && braces && i+1 < len(script) && script[i+1] == '{':
			end := strings.IndexByte(script[i+2:], '}')
			if end < 0 || !isIdentifier(script[i+2:i+2+end]) {
				continue
			}
			if v, ok := replace(script[i+2:i+2+end], double); ok {
				b.WriteString(script[from:i])
				b.WriteString(v)
				from = i + 3 + end
			}
			i += 2 + end
		case c == '$':
			m := shellParameter().FindStringSubmatchIndex(script[i:])
			if m == nil || m[0] != 0 {
				continue
			}
			if v, ok := replace(script[i+m[2]:i+m[3]], double); ok {
				b.WriteString(script[from:i])
				b.WriteString(v)
				from = i + m[1]
			}
			i += m[1] - 1
		}
	}
	b.WriteString(script[from:])
	return b.String()
}

// TestRewriteParametersAsBefore: rewriteParameters, which now reads only the parameter at each
// '$' (shellParameterAt), rewrites every text of prefilterTexts (the fixtures, the corpus, this
// package's literals) and texts with every kind of '$' as the former search did, with braces
// and without, the replacement told whether each is in double quotes.
func TestRewriteParametersAsBefore(t *testing.T) {
	texts := append(prefilterTexts(t),
		`$1 $@ $* $# $? $$ $! $- $0 $_x $x1 $1x $ $( $' $" $} ${x} ${1} ${x:-y} "$PW" '$PW' \$PW $'a\'b' $PW$PW`,
		"echo 'a' \"b\" $(c) $d\n$", "$", "$$$$", "x=$", `"$x" '$y' "$(z)" $w`)
	replace := func(name string, double bool) (string, bool) {
		if strings.HasPrefix(name, "n") {
			return "", false // left as written
		}
		if double {
			return "<dq " + name + ">", true
		}
		return "<" + name + ">", true
	}
	rewritten := 0
	for _, text := range texts {
		for _, braces := range []bool{false, true} {
			got, want := rewriteParameters(text, braces, replace), rewriteParametersAsBefore(text, braces, replace)
			if got != want {
				t.Errorf("rewriteParameters(%.200q, braces %v) = %.200q, the former search gives %.200q", text, braces, got, want)
			}
			if want != text {
				rewritten++
			}
		}
	}
	if rewritten == 0 {
		t.Errorf("of %d texts none had a parameter rewritten: the comparison compared nothing", len(texts))
	}
	t.Logf("%d texts, %d rewritten", len(texts), rewritten)
}

// BenchmarkBracedParametersOfSubstitutions: a namespace admin's `sh -c` script (or ConfigMap
// script) of 100 KB of "echo 'a' \"b\" $(c) ": no '$' starts a parameter, and the former search
// from each read on to the end of the script (2 s here; 1 MB took 5 minutes of
// sec-literal-env-credentials in scan and in the webhook without a deadline).
func BenchmarkBracedParametersOfSubstitutions(b *testing.B) {
	script := strings.Repeat("echo 'a' \"b\" $(c) ", 100_000/19)
	for b.Loop() {
		bracedParameters(script)
	}
}
