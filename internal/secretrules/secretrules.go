// Package secretrules finds credentials in text with the default rules of gitleaks: the rule
// file shipped in github.com/zricethezav/gitleaks/v8 at GitleaksVersion (config/gitleaks.toml,
// MIT licence, see LICENSE.gitleaks), kept here as data. The gitleaks module itself is not a
// dependency: its config package pulls in viper, zerolog and archive readers for a file this
// package reads with a TOML parser.
//
// Matching follows gitleaks' detector (detect.detectRule) for one fragment without a file
// path: a rule runs when one of its keywords occurs in the text (case-insensitively); each
// match's secret is the rule's secretGroup, else its first non-empty group, else the whole
// match; it must exceed the rule's entropy; the global and the rule's allowlists (regexes
// against the secret, the match or the line, stopwords in the secret, OR or AND) drop it.
// Rules that need a file path, and allowlists that only name paths or commits, do not apply.
//
// A rule whose regex starts with a lazy run before its keywords is matched from the keywords,
// and on a long text any other rule's regex runs only where its matches can lie (locations);
// the matches are those of the regex over the whole text, at the same places and in the same
// order (TestSpansFindTheSame, FuzzSpans).
//
// To update: copy config/gitleaks.toml from the new gitleaks module version, change
// GitleaksVersion and run `go test ./internal/secretrules -run TestDefaultRulesAreGitleaksTOML
// -update`, which writes the rules as Go (defaultRules, rules_gen.go: a scan read the TOML file
// with a TOML parser at every start, 0.6 ms of a core); the test fails while the two differ.
// TestRulesLoad checks every rule compiles (each is compiled when its rule first runs).
package secretrules

import (
	"encoding/binary"
	"iter"
	"math"
	"math/bits"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// GitleaksVersion is the gitleaks release whose default rules gitleaks.toml is.
const GitleaksVersion = "v8.30.1"

// Finding is one credential found.
type Finding struct {
	// RuleID is the gitleaks rule that matched, for example aws-access-token.
	RuleID string
	// Description is the rule's description.
	Description string
}

type fileAllowlist struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Commits     []string `toml:"commits"`
	Paths       []string `toml:"paths"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	StopWords   []string `toml:"stopwords"`
}

type fileRule struct {
	ID          string          `toml:"id"`
	Description string          `toml:"description"`
	Regex       string          `toml:"regex"`
	Path        string          `toml:"path"`
	SecretGroup int             `toml:"secretGroup"`
	Entropy     float64         `toml:"entropy"`
	Keywords    []string        `toml:"keywords"`
	SkipReport  bool            `toml:"skipReport"`
	Allowlists  []fileAllowlist `toml:"allowlists"`
	Allowlist   *fileAllowlist  `toml:"allowlist"`
}

type file struct {
	Allowlist  *fileAllowlist  `toml:"allowlist"`
	Allowlists []fileAllowlist `toml:"allowlists"`
	Rules      []fileRule      `toml:"rules"`
}

type allowlist struct {
	and    bool
	target string // "secret", "match" or "line"
	// exprs are compiled into regexes when the allowlist is first consulted (compile), as a
	// rule's regex is when the rule first runs: a scan consults few of them, and compiling all
	// up front was 0.27 ms of every scan's CPU.
	exprs     []string
	once      *sync.Once
	regexes   []*regexp.Regexp
	stopwords []string
	// other is true when the allowlist also names paths or commits, which a fragment without
	// either never satisfies.
	other bool
}

type rule struct {
	id, description string
	// expr is analysed and compiled into re (and the lead's anchored) when the rule first runs
	// (compile): doing so for the 220 regexes up front was 40 ms of every scan's start, and a
	// scan runs few of them.
	expr        string
	once        *sync.Once
	re          *regexp.Regexp
	secretGroup int
	entropy     float64
	allowlists  []allowlist
	// spans, when not nil, says which ASCII bytes a match of re can hold (bytes from 0x80 up
	// always count as possible); minLen is the fewest characters a match has, and literals are
	// lower-case strings one of which every match holds (nil: none known). See matches.
	spans    *[128]bool
	minLen   int
	literals []string
	// lead, when not nil, is how the regexes that gitleaks builds as a lazy run of characters
	// before a keyword (generic-api-key: [\w.-]{0,50}?(?:access|auth|...)...) are matched
	// from the keywords instead of from every character. See leadLocations.
	lead *lead
}

// lead is a regex split as P{0,max}? R: a lazy run of at most max characters of the class P
// (ranges as regexp/syntax gives them), then R; anchored is \A(?:R) (compiled from expr), and
// every match of R starts with one of starts (lower-case ASCII, ignoring case).
type lead struct {
	class    []rune
	max      int // -1: no bound
	expr     string
	anchored *regexp.Regexp
	starts   []string
}

// compile analyses and compiles the rule's regexes, once.
func (ru *rule) compile() {
	ru.once.Do(func() {
		ru.re = regexp.MustCompile(ru.expr)
		ru.analyse(ru.expr)
		if ru.lead != nil {
			ru.lead.anchored = regexp.MustCompile(ru.lead.expr)
		}
	})
}

// Rules is the compiled rule set.
type Rules struct {
	rules []rule
	// always are the rules without keywords: they run on every text.
	always []int
	// byPrefix holds keywords (lower case) grouped by their first two bytes, and prefixIndex
	// finds a group by those two bytes (index+1; 0 for none), for one pass over the text that
	// finds which rules to run. An array, not a map: the pass looks up every byte of every
	// ConfigMap value.
	byPrefix    [][]keyword
	prefixIndex *[1 << 16]uint16
	// third holds, for each group of byPrefix, the bytes that follow the two in one of its
	// keywords (every byte, for a group with a keyword of two bytes): most places where two
	// bytes begin a keyword (ke, se, to, ...) are no keyword, and this rules them out without
	// comparing the group's keywords one by one.
	third []byteSet
	// short are keywords of one byte.
	short  []keyword
	global []allowlist
	// exhaustive runs every candidate rule's regex, without the entropy bound and over the
	// whole text (for tests).
	exhaustive bool
	// noLead leaves rule.lead unused (for tests).
	noLead bool
	// spansFrom is the length from which a text is matched span by span (locations): below it,
	// the regex over the whole text costs less than finding the spans. A rule with a lead is
	// matched from its keywords at any length.
	spansFrom int
}

type keyword struct {
	word  string
	rules []int
}

// defaultSet is the rule set of defaultRules, made once.
var defaultSet = sync.OnceValue(func() *Rules { return build(&defaultRules) })

// Default returns the gitleaks default rules (gitleaks.toml, as defaultRules holds it),
// compiled once. The error is nil: the rules are Go data, which TestRulesLoad compiles whole
// (an error was the TOML parser's, when the file was parsed at run time).
func Default() (*Rules, error) {
	return defaultSet(), nil
}

// build makes the rule set of a gitleaks rule file. Each rule's regex is analysed and compiled
// when the rule first runs (rule.compile), and an allowlist's when it is first consulted
// (allowlist.compile), which panic on a regex that does not compile: TestRulesLoad compiles
// every default rule and allowlist.
func build(f *file) *Rules {
	r := &Rules{prefixIndex: new([1 << 16]uint16), spansFrom: 256}
	globals := f.Allowlists
	if f.Allowlist != nil {
		globals = append(globals, *f.Allowlist)
	}
	for _, a := range globals {
		r.global = append(r.global, compileAllowlist(a))
	}
	words := map[string][]int{}
	var order []string
	for _, fr := range f.Rules {
		if fr.Regex == "" || fr.Path != "" || fr.SkipReport {
			continue // a rule about file paths, or one that only feeds another rule
		}
		ru := rule{id: fr.ID, description: fr.Description, expr: fr.Regex, once: new(sync.Once),
			secretGroup: fr.SecretGroup, entropy: fr.Entropy}
		als := fr.Allowlists
		if fr.Allowlist != nil {
			als = append(als, *fr.Allowlist)
		}
		for _, a := range als {
			ru.allowlists = append(ru.allowlists, compileAllowlist(a))
		}
		idx := len(r.rules)
		r.rules = append(r.rules, ru)
		if len(fr.Keywords) == 0 {
			r.always = append(r.always, idx)
			continue
		}
		for _, k := range fr.Keywords {
			k = strings.ToLower(k)
			if _, seen := words[k]; !seen {
				order = append(order, k)
			}
			words[k] = append(words[k], idx)
		}
	}
	for _, w := range order {
		kw := keyword{word: w, rules: words[w]}
		if len(w) < 2 {
			r.short = append(r.short, kw)
			continue
		}
		p := uint16(w[0])<<8 | uint16(w[1])
		if r.prefixIndex[p] == 0 {
			r.byPrefix = append(r.byPrefix, nil)
			r.prefixIndex[p] = uint16(len(r.byPrefix))
		}
		g := r.prefixIndex[p] - 1
		r.byPrefix[g] = append(r.byPrefix[g], kw)
	}
	r.third = make([]byteSet, len(r.byPrefix))
	for g, kws := range r.byPrefix {
		for _, kw := range kws {
			if len(kw.word) == 2 {
				r.third[g] = allBytes
				break
			}
			r.third[g].add(kw.word[2])
		}
	}
	return r
}

// compileAllowlist makes an allowlist of a, whose regexes are compiled when it is first
// consulted (allowlist.compile), which panics on one that does not compile: TestRulesLoad
// compiles every default allowlist.
func compileAllowlist(a fileAllowlist) allowlist {
	al := allowlist{and: strings.EqualFold(a.Condition, "AND"), target: a.RegexTarget,
		other: len(a.Paths) > 0 || len(a.Commits) > 0, exprs: a.Regexes, once: new(sync.Once)}
	for _, w := range a.StopWords {
		al.stopwords = append(al.stopwords, strings.ToLower(w))
	}
	return al
}

// compile compiles the allowlist's regexes, once.
func (a *allowlist) compile() {
	a.once.Do(func() {
		for _, s := range a.exprs {
			a.regexes = append(a.regexes, regexp.MustCompile(s))
		}
	})
}

// Find returns the findings in text, at most one per rule, in rule-file order.
func (r *Rules) Find(text string) []Finding {
	found, _ := r.FindUntil(text, nil)
	return found
}

// FindUntil is Find for a caller that may stop waiting (the admission webhook's, answered at its
// deadline): stop (nil: never) is asked before each rule runs and before each place its regular
// expression is tried, and once it says true FindUntil returns at once, with stopped true and
// findings that are not all there are. A text its author made slow to read (every rule's
// keywords over and over, 2 to 4 us a byte) otherwise held its caller for seconds a MiB after
// nobody waited for the answer.
func (r *Rules) FindUntil(text string, stop func() bool) (found []Finding, stopped bool) {
	if ask := stop; ask != nil {
		// Asked no more once it said yes.
		stop = func() bool {
			stopped = stopped || ask()
			return stopped
		}
	}
	// lower is text with its ASCII letters in lower case (the same length): made by candidates
	// for a text all ASCII, else when a rule's matching first needs it.
	lower := ""
	var small [4]uint64
	candidates := r.candidates(text, &lower, small[:0])
	// A rule with an entropy threshold reports only a secret whose entropy exceeds it, and a
	// secret (part of text) cannot have more entropy than its distinct characters allow
	// (maxEntropy): a text of "LOG_LEVEL=debug" never runs generic-api-key's regex.
	bound := -1.0
	var out []Finding
	// The candidates in rule order, one set bit at a time: most texts have few of the 220
	// rules' keywords, and each of scan's tens of thousands of calls went through all of them.
	for w, word := range candidates {
		for ; word != 0; word &= word - 1 {
			i := w*64 + bits.TrailingZeros64(word)
			if e := r.rules[i].entropy; e != 0 && !r.exhaustive {
				if bound < 0 {
					bound = maxEntropy(text)
				}
				if bound <= e {
					continue
				}
			}
			if stop != nil && stop() {
				return out, true
			}
			ru := &r.rules[i]
			ru.compile()
			if r.matches(ru, text, &lower, stop) {
				out = append(out, Finding{RuleID: ru.id, Description: ru.description})
			}
			if stop != nil && stop() {
				return out, true
			}
		}
	}
	return out, false
}

// Work bounds what Find's regular expressions cost on text, in bytes read: the text's length
// times the rules that run on it (those whose keywords it holds, and those without keywords).
// Finding their keywords is one pass over text, cheap beside the regexes: text a tenant
// chooses (every rule's keywords, each followed by a token) makes them all run over all of it,
// seconds a MiB, and a caller that must bound its time (the operator's informer) reads no more
// than a budget of Work.
func (r *Rules) Work(text string) int {
	lower := ""
	var small [4]uint64
	n := 0
	for _, w := range r.candidates(text, &lower, small[:0]) {
		n += bits.OnesCount64(w)
	}
	return n * len(text)
}

// candidates marks the rules whose keywords occur in text, and those without keywords, in a
// set made in buf's memory when it has room (a scan calls Find for every ConfigMap entry and
// environment variable; a set of the default rules fits in four words on the caller's stack).
// gitleaks looks for the keywords in strings.ToLower(text); for a text all ASCII that is
// asciiLower's, which *lower then keeps for the matching too; any other text is lowered by
// strings.ToLower itself (which maps more than ASCII letters, and can change the length:
// the Kelvin sign K is k, İ two characters).
func (r *Rules) candidates(text string, lower *string, buf []uint64) ruleSet {
	c := ruleSet(buf[:0])
	if words := (len(r.rules) + 63) / 64; cap(c) < words {
		c = make(ruleSet, words)
	} else {
		c = c[:words]
		clear(c)
	}
	for _, i := range r.always {
		c.add(i)
	}
	var low string
	if isASCII(text) {
		low = asciiLower(text, lower)
	} else {
		low = strings.ToLower(text)
	}
	for _, kw := range r.short {
		if strings.Contains(low, kw.word) {
			for _, i := range kw.rules {
				c.add(i)
			}
		}
	}
	for p := 0; p+1 < len(low); p++ {
		g := r.prefixIndex[uint16(low[p])<<8|uint16(low[p+1])]
		if g == 0 || p+2 < len(low) && !r.third[g-1].has(low[p+2]) {
			continue
		}
		for _, kw := range r.byPrefix[g-1] {
			if strings.HasPrefix(low[p:], kw.word) {
				for _, i := range kw.rules {
					c.add(i)
				}
			}
		}
	}
	return c
}

// byteSet is a set of bytes.
type byteSet [4]uint64

var allBytes = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}

func (s *byteSet) add(c byte)      { s[c/64] |= 1 << (c % 64) }
func (s *byteSet) has(c byte) bool { return s[c/64]&(1<<(c%64)) != 0 }

// ruleSet is a set of rules by their index.
type ruleSet []uint64

func (s ruleSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s ruleSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// isASCII reports whether text has only ASCII bytes.
func isASCII(text string) bool {
	i := 0
	for ; i+8 <= len(text); i += 8 {
		if word(text[i:])&highs != 0 {
			return false
		}
	}
	for ; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// matches reports whether re matches text where gitleaks would report the match: the first of
// re's matches (FindAll's, in order) whose secret passes the entropy bound and no allowlist.
func (r *Rules) matches(ru *rule, text string, lower *string, stop func() bool) bool {
	for loc := range r.locations(ru, text, lower, stop) {
		if r.accept(ru, text, loc) {
			return true
		}
	}
	return false
}

// locations yields the matches of ru's regex in text as FindAllStringSubmatchIndex gives them,
// in order, without running the regex over all of a long text where it can:
//
// A match holds only bytes that re can match, so re runs only over the spans of text made of
// those bytes (with the byte before and after each, so that ^, $, \b and the like see what they
// see in the whole text): its matches there are its matches in the whole text, in the same
// order. A span shorter than any match, or without any of the literals that every match holds,
// holds none and is skipped. On a long ConfigMap value (a dashboard, a script) that leaves a
// few short spans of the text to the regex instead of all of it. A rule with a lead is matched
// from its keywords instead (leadLocations), on a short text too: run over a whole variable or
// ConfigMap setting, generic-api-key's regex tries its lazy run of up to 50 characters from
// every character, and it runs on most texts with a credential-like word; matched from its
// keywords, Find took a fifth less time over the texts scan checks in the corpus.
//
// Where stop (nil: never) says true, no more are yielded (FindUntil).
func (r *Rules) locations(ru *rule, text string, lower *string, stop func() bool) iter.Seq[[]int] {
	return func(yield func([]int) bool) {
		if ru.spans == nil || r.exhaustive {
			locationsIn(ru, text, 0, len(text), yield)
			return
		}
		if ru.lead != nil && !r.noLead && utf8.ValidString(text) && !strings.ContainsRune(text, '\u017f') && !strings.ContainsRune(text, '\u212a') {
			leadLocations(ru, text, asciiLower(text, lower), stop, yield)
			return
		}
		if len(text) < r.spansFrom {
			locationsIn(ru, text, 0, len(text), yield)
			return
		}
		for a := 0; a < len(text); {
			for a < len(text) && text[a] < 128 && !ru.spans[text[a]] {
				a++
			}
			b, ascii := a, true
			for ; b < len(text); b++ {
				if c := text[b]; c >= 128 {
					ascii = false
				} else if !ru.spans[c] {
					break
				}
			}
			if b-a >= ru.minLen && (!ascii || ru.literals == nil || containsAny(asciiLower(text, lower)[a:b], ru.literals)) {
				if stop != nil && stop() {
					return
				}
				if !locationsIn(ru, text, max(a-1, 0), min(b+1, len(text)), yield) {
					return
				}
			}
			a = b
		}
	}
}

// locationsIn yields the matches of re in text[lo:hi] as offsets in text (which must be those
// of the whole text that lie there); false when yield asked to stop.
func locationsIn(ru *rule, text string, lo, hi int, yield func([]int) bool) bool {
	for _, loc := range ru.re.FindAllStringSubmatchIndex(text[lo:hi], -1) {
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += lo
			}
		}
		if !yield(loc) {
			return false
		}
	}
	return true
}

// accept reports whether gitleaks reports the match of ru's regex at loc (as
// FindStringSubmatchIndex gives it).
func (r *Rules) accept(ru *rule, text string, loc []int) bool {
	match := strings.Trim(text[loc[0]:loc[1]], "\n")
	secret := match
	groups := submatches(text, loc)
	if len(match) != loc[1]-loc[0] {
		// gitleaks takes the groups of the match with its newlines trimmed.
		groups = ru.re.FindStringSubmatch(match)
	}
	if len(groups) >= 2 {
		if ru.secretGroup > 0 {
			if len(groups) <= ru.secretGroup {
				return false
			}
			secret = groups[ru.secretGroup]
		} else {
			for _, g := range groups[1:] {
				if g != "" {
					secret = g
					break
				}
			}
		}
	}
	if ru.entropy != 0 && shannonEntropy(secret) <= ru.entropy {
		return false
	}
	line := lineAround(text, loc[0], loc[0]+len(match))
	return !allowed(r.global, secret, match, line) && !allowed(ru.allowlists, secret, match, line)
}

// asciiLower returns text with its ASCII letters in lower case, byte for byte (so that offsets
// stay those of text), made once in *lower: text itself when it has no upper-case letter, else
// one copy. It looks at eight bytes at a time (upper8).
func asciiLower(text string, lower *string) string {
	if len(*lower) == len(text) {
		return *lower
	}
	i := 0
	for i+8 <= len(text) && upper8(word(text[i:])) == 0 {
		i += 8
	}
	for i < len(text) && (text[i] < 'A' || text[i] > 'Z') {
		i++
	}
	if i == len(text) {
		*lower = text
		return text
	}
	b := []byte(text)
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		binary.LittleEndian.PutUint64(b[i:], w|upper8(w)>>2) // 0x80>>2 is 'a'-'A'
	}
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	*lower = unsafe.String(unsafe.SliceData(b), len(b)) // b is not written again
	return *lower
}

const (
	low7s = 0x7f7f7f7f7f7f7f7f
	highs = 0x8080808080808080
)

// upper8 has the high bit of each byte of w that is an ASCII upper-case letter set, and no other
// bit. With the high bits cleared, adding 0x80-'A' to a byte sets its high bit when it is 'A' or
// above, and adding 0x80-('Z'+1) when it is above 'Z'; neither sum reaches the next byte.
func upper8(w uint64) uint64 {
	y := w & low7s
	return (y + 0x3f3f3f3f3f3f3f3f) &^ (y + 0x2525252525252525) &^ w & highs
}

// word is the eight bytes at the start of s, the first in the lowest byte.
func word(s string) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// analyse finds, from the syntax of a rule's regex, what matches skips text with: the ASCII
// bytes a match can hold, its least length and literals one of which every match holds. A
// regex that can match the empty string gets none of it and always runs over the whole text.
func (ru *rule) analyse(expr string) {
	parsed, err := syntax.Parse(expr, syntax.Perl) // as regexp.Compile parses
	if err != nil {
		return // regexp.Compile refused it first
	}
	re := parsed.Simplify()
	if ru.minLen = minLength(re); ru.minLen == 0 {
		return
	}
	ru.spans = new([128]bool)
	matchable(re, ru.spans)
	ru.literals = required(re)
	ru.splitLead(parsed)
}

// leadLocations is locations for a rule with a lead (P{0,max}? R), in a text that is valid
// UTF-8 and holds neither ſ (U+017F) nor the Kelvin sign (U+212A) (the two characters outside ASCII that match ASCII letters
// ignoring case), whose ASCII letters lower has in lower case. It yields the matches
// FindAllStringSubmatchIndex finds, in order, without running the regex from every character:
//
// Every match of R starts with one of starts, so R can match only where one of them is. Searching
// from pos, the leftmost match of the whole regex is at the first t >= pos where R matches (R
// tried there anchored), preceded by as many P characters as there are before t, up to max and
// not before pos: a match starting further left would need an R match at some t' < t, and a
// later t' cannot start further left. The run before t is lazy, so from that start R at t is the
// match chosen. The next search starts at the match's end (no match is empty).
func leadLocations(ru *rule, text, lower string, stop func() bool, yield func([]int) bool) {
	ld := ru.lead
	var at []int
	for _, w := range ld.starts {
		for i := 0; ; {
			j := strings.Index(lower[i:], w)
			if j < 0 {
				break
			}
			at = append(at, i+j)
			i += j + 1
		}
	}
	slices.Sort(at)
	at = slices.Compact(at)
	pos := 0
	for _, t := range at {
		if t < pos {
			continue
		}
		if stop != nil && stop() {
			return
		}
		loc := ld.anchored.FindStringSubmatchIndex(text[t:])
		if loc == nil {
			continue
		}
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += t
			}
		}
		s, n := t, 0
		for s > pos && (ld.max < 0 || n < ld.max) {
			c, size := utf8.DecodeLastRuneInString(text[pos:s])
			if !inClass(ld.class, c) {
				break
			}
			s -= size
			n++
		}
		loc[0] = s
		if !yield(loc) {
			return
		}
		pos = loc[1]
	}
}

func inClass(ranges []rune, c rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] <= c && c <= ranges[i+1] {
			return true
		}
	}
	return false
}

// splitLead sets ru.lead when the regex (re as parsed, before Simplify) is P{0,max}? R: a lazy
// repetition of a character class without captures, then R, which holds no assertion that looks
// before where it is (^, \A, \b, \B: R is tried on the text from t on) and whose every match
// starts with one of a few strings of three ASCII characters or more.
func (ru *rule) splitLead(re *syntax.Regexp) {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return
	}
	rep := re.Sub[0]
	switch {
	case rep.Op == syntax.OpRepeat && rep.Min == 0 && rep.Flags&syntax.NonGreedy != 0:
	case rep.Op == syntax.OpStar && rep.Flags&syntax.NonGreedy != 0:
		rep = &syntax.Regexp{Op: syntax.OpRepeat, Min: 0, Max: -1, Sub: rep.Sub, Flags: rep.Flags}
	default:
		return
	}
	if rep.Sub[0].Op != syntax.OpCharClass {
		return
	}
	rest := &syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[1:]}
	if looksBack(rest) {
		return
	}
	starts, _, ok := prefixes(rest)
	if !ok || len(starts) == 0 || shortest(starts) < 3 {
		return
	}
	// R's captures are the regex's (the run before it has none), numbered alike. regexp/syntax
	// prints a regex it parsed as one that parses back to the same.
	ru.lead = &lead{class: rep.Sub[0].Rune, max: rep.Max, expr: `\A(?:` + rest.String() + `)`, starts: starts}
}

// looksBack reports whether re holds an assertion about what is before a position.
func looksBack(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if looksBack(s) {
			return true
		}
	}
	return false
}

// prefixes returns lower-case ASCII strings one of which every match of re starts with
// (ignoring case, in a text without U+017F and U+212A), and whether they are exactly what re matches
// (so that what follows re can be appended). ok is false when it knows no such strings.
func prefixes(re *syntax.Regexp) (words []string, exact, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		w := make([]byte, 0, len(re.Rune))
		for _, c := range re.Rune {
			if c >= 128 {
				return nil, false, false
			}
			w = append(w, byte(unicode.ToLower(c)))
		}
		return []string{string(w)}, true, true
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				if c == '\u017f' || c == '\u212a' {
					continue // not in the text (leadLocations)
				}
				if c >= 128 || len(set) >= 8 {
					return nil, false, false
				}
				set = append(set, string(rune(unicode.ToLower(c))))
			}
		}
		slices.Sort(set)
		return slices.Compact(set), true, len(set) > 0
	case syntax.OpCapture:
		return prefixes(re.Sub[0])
	case syntax.OpAlternate:
		exact = true
		for _, s := range re.Sub {
			w, e, ok := prefixes(s)
			if !ok {
				return nil, false, false
			}
			words, exact = append(words, w...), exact && e
		}
		slices.Sort(words)
		return slices.Compact(words), exact, true
	case syntax.OpConcat:
		if len(re.Sub) == 0 {
			return nil, false, false
		}
		words, exact, ok = prefixes(re.Sub[0])
		for _, s := range re.Sub[1:] {
			if !ok || !exact {
				break
			}
			w, e, ok2 := prefixes(s)
			if !ok2 || len(words)*len(w) > 64 {
				return words, false, ok
			}
			var joined []string
			for _, a := range words {
				for _, b := range w {
					joined = append(joined, a+b)
				}
			}
			words, exact = joined, e
		}
		return words, exact, ok
	}
	return nil, false, false
}

// minLength is the fewest characters a match of re holds (a large number for a regex that
// matches nothing).
func minLength(re *syntax.Regexp) int {
	const never = 1 << 30
	switch re.Op {
	case syntax.OpNoMatch:
		return never
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return never
		}
		return 1
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minLength(re.Sub[0])
	case syntax.OpRepeat:
		return min(re.Min*minLength(re.Sub[0]), never)
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(n+minLength(s), never)
		}
		return n
	case syntax.OpAlternate:
		n := never
		for _, s := range re.Sub {
			n = min(n, minLength(s))
		}
		return n
	}
	return 0 // empty matches, assertions, star, quest
}

// matchable marks the ASCII characters re can match anywhere in it, as regexp matches them
// (case folding included).
func matchable(re *syntax.Regexp, set *[128]bool) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			markRange(set, c, c)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
					markRange(set, f, f)
				}
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			markRange(set, re.Rune[i], re.Rune[i+1])
		}
	case syntax.OpAnyCharNotNL:
		markRange(set, 0, '\n'-1)
		markRange(set, '\n'+1, 127)
	case syntax.OpAnyChar:
		markRange(set, 0, 127)
	}
	for _, s := range re.Sub {
		matchable(s, set)
	}
}

func markRange(set *[128]bool, lo, hi rune) {
	for c := max(lo, 0); c <= min(hi, 127); c++ {
		set[c] = true
	}
}

// required returns lower-case ASCII strings one of which every match of re holds (ignoring
// case, which only makes the set hold more), or nil when it knows none.
func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		w := make([]byte, 0, len(re.Rune))
		for _, c := range re.Rune {
			if c >= 128 {
				return nil // a rune whose case folds reach ASCII letters; not worth it
			}
			w = append(w, byte(unicode.ToLower(c)))
		}
		return []string{string(w)}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		// Every part is in every match: take the part whose literals are the longest.
		var best []string
		for _, s := range re.Sub {
			if w := required(s); w != nil && (best == nil || shortest(w) > shortest(best)) {
				best = w
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, s := range re.Sub {
			w := required(s)
			if w == nil {
				return nil
			}
			all = append(all, w...)
		}
		return all
	}
	return nil
}

func shortest(words []string) int {
	n := len(words[0])
	for _, w := range words[1:] {
		n = min(n, len(w))
	}
	return n
}

// submatches turns a FindStringSubmatchIndex result into the strings FindStringSubmatch gives.
func submatches(text string, loc []int) []string {
	out := make([]string, len(loc)/2)
	for i := range out {
		if loc[2*i] >= 0 {
			out[i] = text[loc[2*i]:loc[2*i+1]]
		}
	}
	return out
}

func allowed(lists []allowlist, secret, match, line string) bool {
	for i := range lists {
		a := &lists[i]
		a.compile()
		target := secret
		switch a.target {
		case "match":
			target = match
		case "line":
			target = line
		}
		regexHit := false
		for _, re := range a.regexes {
			if target != "" && re.MatchString(target) {
				regexHit = true
				break
			}
		}
		stopHit := false
		if lower := strings.ToLower(secret); lower != "" {
			for _, w := range a.stopwords {
				if strings.Contains(lower, w) {
					stopHit = true
					break
				}
			}
		}
		if a.and {
			if a.other || (len(a.regexes) > 0 && !regexHit) || (len(a.stopwords) > 0 && !stopHit) {
				continue
			}
			if len(a.regexes)+len(a.stopwords) > 0 {
				return true
			}
			continue
		}
		if regexHit || stopHit {
			return true
		}
	}
	return false
}

// lineAround returns the full line(s) of text around [start, end).
func lineAround(text string, start, end int) string {
	s := strings.LastIndexByte(text[:start], '\n') + 1
	e := strings.IndexByte(text[end:], '\n')
	if e < 0 {
		return text[s:]
	}
	return text[s : end+e]
}

// shannonEntropy is gitleaks' entropy of a secret: over its runes, per byte of its length.
func shannonEntropy(data string) float64 {
	if data == "" {
		return 0
	}
	counts := map[rune]int{}
	for _, r := range data {
		counts[r]++
	}
	inv := 1 / float64(len(data))
	var e float64
	for _, c := range counts {
		f := float64(c) * inv
		e -= f * math.Log2(f)
	}
	return e
}

// maxEntropy bounds shannonEntropy of any part of text: with k distinct runes, the entropy is at
// most log2(k) for k >= 3 (shannonEntropy divides by bytes, not runes, which only lowers each
// term's weight: sum f·log2(1/f) with sum f = S <= 1 is at most S·log2(k/S), which grows with S
// while k/S > e), and below 1.07 for k <= 2 (the maximum of S·log2(2/S)).
func maxEntropy(text string) float64 {
	var ascii [2]uint64
	var other map[rune]bool
	k := 0
	for _, c := range text {
		if c < 128 {
			if ascii[c>>6]&(1<<(c&63)) == 0 {
				ascii[c>>6] |= 1 << (c & 63)
				k++
			}
			continue
		}
		if other == nil {
			other = map[rune]bool{}
		}
		if !other[c] {
			other[c] = true
			k++
		}
	}
	return max(math.Log2(float64(max(k, 1))), 1.07)
}
