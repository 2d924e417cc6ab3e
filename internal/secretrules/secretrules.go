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
// To update: copy config/gitleaks.toml from the new gitleaks module version and change
// GitleaksVersion; TestRulesLoad checks every rule compiles.
package secretrules

import (
	_ "embed"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
)

// GitleaksVersion is the gitleaks release whose default rules gitleaks.toml is.
const GitleaksVersion = "v8.30.1"

//go:embed gitleaks.toml
var rulesTOML []byte

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
	and       bool
	target    string // "secret", "match" or "line"
	regexes   []*regexp.Regexp
	stopwords []string
	// other is true when the allowlist also names paths or commits, which a fragment without
	// either never satisfies.
	other bool
}

type rule struct {
	id, description string
	re              *regexp.Regexp
	secretGroup     int
	entropy         float64
	allowlists      []allowlist
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
	// short are keywords of one byte.
	short  []keyword
	global []allowlist
	// exhaustive runs every candidate rule's regex, without the entropy bound (for tests).
	exhaustive bool
}

type keyword struct {
	word  string
	rules []int
}

var (
	loadOnce sync.Once
	loaded   *Rules
	loadErr  error
)

// Default returns the gitleaks default rules, compiled once.
func Default() (*Rules, error) {
	loadOnce.Do(func() { loaded, loadErr = Parse(rulesTOML) })
	return loaded, loadErr
}

// Parse compiles a gitleaks rule file.
func Parse(data []byte) (*Rules, error) {
	var f file
	if err := toml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("gitleaks rules: %w", err)
	}
	r := &Rules{prefixIndex: new([1 << 16]uint16)}
	globals := f.Allowlists
	if f.Allowlist != nil {
		globals = append(globals, *f.Allowlist)
	}
	for _, a := range globals {
		al, err := compileAllowlist(a)
		if err != nil {
			return nil, fmt.Errorf("gitleaks global allowlist: %w", err)
		}
		r.global = append(r.global, al)
	}
	words := map[string][]int{}
	var order []string
	for _, fr := range f.Rules {
		if fr.Regex == "" || fr.Path != "" || fr.SkipReport {
			continue // a rule about file paths, or one that only feeds another rule
		}
		re, err := regexp.Compile(fr.Regex)
		if err != nil {
			return nil, fmt.Errorf("gitleaks rule %s: %w", fr.ID, err)
		}
		ru := rule{id: fr.ID, description: fr.Description, re: re, secretGroup: fr.SecretGroup, entropy: fr.Entropy}
		als := fr.Allowlists
		if fr.Allowlist != nil {
			als = append(als, *fr.Allowlist)
		}
		for _, a := range als {
			al, err := compileAllowlist(a)
			if err != nil {
				return nil, fmt.Errorf("gitleaks rule %s: %w", fr.ID, err)
			}
			ru.allowlists = append(ru.allowlists, al)
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
		r.byPrefix[r.prefixIndex[p]-1] = append(r.byPrefix[r.prefixIndex[p]-1], kw)
	}
	return r, nil
}

func compileAllowlist(a fileAllowlist) (allowlist, error) {
	al := allowlist{and: strings.EqualFold(a.Condition, "AND"), target: a.RegexTarget,
		other: len(a.Paths) > 0 || len(a.Commits) > 0}
	for _, s := range a.Regexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return al, fmt.Errorf("allowlist regex: %w", err)
		}
		al.regexes = append(al.regexes, re)
	}
	for _, w := range a.StopWords {
		al.stopwords = append(al.stopwords, strings.ToLower(w))
	}
	return al, nil
}

// Find returns the findings in text, at most one per rule, in rule-file order.
func (r *Rules) Find(text string) []Finding {
	candidates := r.candidates(text)
	// A rule with an entropy threshold reports only a secret whose entropy exceeds it, and a
	// secret (part of text) cannot have more entropy than its distinct characters allow
	// (maxEntropy): a text of "LOG_LEVEL=debug" never runs generic-api-key's regex.
	bound := -1.0
	var out []Finding
	for i := range r.rules {
		if !candidates[i] {
			continue
		}
		if e := r.rules[i].entropy; e != 0 && !r.exhaustive {
			if bound < 0 {
				bound = maxEntropy(text)
			}
			if bound <= e {
				continue
			}
		}
		if ru := &r.rules[i]; r.matches(ru, text) {
			out = append(out, Finding{RuleID: ru.id, Description: ru.description})
		}
	}
	return out
}

// candidates marks the rules whose keywords occur in text, and those without keywords.
func (r *Rules) candidates(text string) []bool {
	c := make([]bool, len(r.rules))
	for _, i := range r.always {
		c[i] = true
	}
	lower := strings.ToLower(text)
	for _, kw := range r.short {
		if strings.Contains(lower, kw.word) {
			for _, i := range kw.rules {
				c[i] = true
			}
		}
	}
	for p := 0; p+1 < len(lower); p++ {
		g := r.prefixIndex[uint16(lower[p])<<8|uint16(lower[p+1])]
		if g == 0 {
			continue
		}
		for _, kw := range r.byPrefix[g-1] {
			if strings.HasPrefix(lower[p:], kw.word) {
				for _, i := range kw.rules {
					c[i] = true
				}
			}
		}
	}
	return c
}

func (r *Rules) matches(ru *rule, text string) bool {
	for _, loc := range ru.re.FindAllStringSubmatchIndex(text, -1) {
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
					continue
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
			continue
		}
		line := lineAround(text, loc[0], loc[0]+len(match))
		if allowed(r.global, secret, match, line) || allowed(ru.allowlists, secret, match, line) {
			continue
		}
		return true
	}
	return false
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
