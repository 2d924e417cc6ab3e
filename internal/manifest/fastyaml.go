package manifest

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
)

// fastJSON converts one YAML document to JSON in a single pass over a go.yaml.in/yaml/v3 node
// tree, with the meaning sigs.k8s.io/yaml (yaml.v2, YAML 1.1) gives it: plain scalars resolve
// as yaml.v2 resolves them (yes/no/on/off are booleans, 0777 is octal, 1_000 is 1000, a
// timestamp stays a string). It is about twice as fast as the yaml.v2 round trip, which builds
// an interface{} tree and marshals it.
//
// It decides only what it decides exactly as the slow path would: ok is false for an error,
// an alias or anchor, a merge key, a tag, a duplicate key, a key that is not a
// string, a float JSON cannot hold (.inf, .nan), and the caller then takes the slow path, which
// also words the errors. TestFastJSONMatchesYAMLv2 holds the two to the same output.
//
// tm is the document's apiVersion and kind when both are plain strings at the top and the
// document is no List and has no items (what decodeJSON would otherwise decode the JSON again
// for); nil otherwise.
func fastJSON(body []byte) (js []byte, tm *typeMeta, ok bool) {
	if hasNonSpecificTag(body) {
		// yaml.v3's nodes do not keep the non-specific tag "!", which yaml.v2 reads as "a
		// string" (other tags are kept, and refused below). Rare in manifests.
		return nil, nil, false
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(body, &doc); err != nil || doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 {
		return nil, nil, false
	}
	c := jsonWriter{buf: make([]byte, 0, len(body)+len(body)/4)}
	if !c.node(doc.Content[0]) {
		return nil, nil, false
	}
	return c.buf, topTypeMeta(doc.Content[0]), true
}

// topTypeMeta reads apiVersion and kind from a top-level mapping, when they are plain or
// quoted strings, kind is no List and there is no items key; else nil. It notes whether the
// mapping has no other key than metadata.
func topTypeMeta(n *yamlv3.Node) *typeMeta {
	if n.Kind != yamlv3.MappingNode {
		return nil
	}
	tm := &typeMeta{onlyMetadata: true}
	var haveAPIVersion, haveKind bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "apiVersion", "kind":
			if v.Kind != yamlv3.ScalarNode {
				return nil
			}
			if v.Style&(yamlv3.DoubleQuotedStyle|yamlv3.SingleQuotedStyle|yamlv3.LiteralStyle|yamlv3.FoldedStyle) == 0 {
				if _, isString := resolvePlain(v.Value); !isString {
					return nil
				}
			}
			if k == "kind" {
				tm.Kind, haveKind = v.Value, true
			} else {
				tm.APIVersion, haveAPIVersion = v.Value, true
			}
		case "items":
			return nil
		case "metadata":
		default:
			tm.onlyMetadata = false
		}
	}
	if !haveAPIVersion || !haveKind || strings.HasSuffix(tm.Kind, "List") {
		return nil
	}
	return tm
}

// hasNonSpecificTag reports whether body may hold the tag "!" alone: a '!' followed by white
// space, a flow indicator or the end. A '!' in text ("#!/bin/sh") is followed by something else;
// one in prose ("done! next") only costs the slow path.
func hasNonSpecificTag(body []byte) bool {
	for i := bytes.IndexByte(body, '!'); i >= 0; {
		if i+1 == len(body) {
			return true
		}
		switch body[i+1] {
		case ' ', '\t', '\n', '\r', ',', ']', '}':
			return true
		}
		j := bytes.IndexByte(body[i+1:], '!')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

type jsonWriter struct {
	buf   []byte
	depth int
}

// maxFastDepth bounds the nesting the fast path takes: deeper documents (no real manifest;
// a CRD schema is some 40 deep) take the slow path, which words the depth error.
const maxFastDepth = 256

func (c *jsonWriter) node(n *yamlv3.Node) bool {
	if n.Anchor != "" || n.Style&yamlv3.TaggedStyle != 0 {
		return false
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxFastDepth {
		return false
	}
	switch n.Kind {
	case yamlv3.MappingNode:
		c.buf = append(c.buf, '{')
		var seen map[string]struct{}
		if len(n.Content) > 32 {
			seen = make(map[string]struct{}, len(n.Content)/2)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yamlv3.ScalarNode || k.Anchor != "" || k.Style&yamlv3.TaggedStyle != 0 {
				return false
			}
			if k.Style&(yamlv3.DoubleQuotedStyle|yamlv3.SingleQuotedStyle|yamlv3.LiteralStyle|yamlv3.FoldedStyle) == 0 {
				if _, isString := resolvePlain(k.Value); !isString {
					return false // a key yaml.v2 reads as a bool, number, null or merge
				}
			}
			if seen != nil {
				if _, dup := seen[k.Value]; dup {
					return false
				}
				seen[k.Value] = struct{}{}
			} else {
				for j := 0; j < i; j += 2 {
					if n.Content[j].Value == k.Value {
						return false
					}
				}
			}
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			if !c.str(k.Value) {
				return false
			}
			c.buf = append(c.buf, ':')
			if !c.node(n.Content[i+1]) {
				return false
			}
		}
		c.buf = append(c.buf, '}')
		return true
	case yamlv3.SequenceNode:
		c.buf = append(c.buf, '[')
		for i, item := range n.Content {
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			if !c.node(item) {
				return false
			}
		}
		c.buf = append(c.buf, ']')
		return true
	case yamlv3.ScalarNode:
		if n.Style&(yamlv3.DoubleQuotedStyle|yamlv3.SingleQuotedStyle|yamlv3.LiteralStyle|yamlv3.FoldedStyle) != 0 {
			return c.str(n.Value)
		}
		lit, isString := resolvePlain(n.Value)
		if isString {
			return c.str(n.Value)
		}
		if lit == nil {
			return false
		}
		c.buf = append(c.buf, lit...)
		return true
	}
	return false // aliases, and anything else
}

// str appends s as a JSON string; false for invalid UTF-8, which the slow path reports.
func (c *jsonWriter) str(s string) bool {
	c.buf = append(c.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			c.buf = append(c.buf, s[start:i]...)
			switch b {
			case '"', '\\':
				c.buf = append(c.buf, '\\', b)
			case '\n':
				c.buf = append(c.buf, '\\', 'n')
			case '\t':
				c.buf = append(c.buf, '\\', 't')
			case '\r':
				c.buf = append(c.buf, '\\', 'r')
			default:
				c.buf = append(c.buf, `\u00`...)
				c.buf = append(c.buf, "0123456789abcdef"[b>>4], "0123456789abcdef"[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	c.buf = append(c.buf, s[start:]...)
	c.buf = append(c.buf, '"')
	return true
}

// yamlv2Float is yaml.v2's pattern for a plain scalar that is a float.
var yamlv2Float = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

var (
	jsonTrue  = []byte("true")
	jsonFalse = []byte("false")
	jsonNull  = []byte("null")
)

// resolvePlain resolves a plain scalar as yaml.v2 does and returns its JSON literal, or
// isString for a string. A nil literal that is not a string is one the slow path must decide
// (a merge key, .inf, .nan).
func resolvePlain(s string) (lit []byte, isString bool) {
	if s == "" {
		return jsonNull, false
	}
	switch s[0] {
	case 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~':
		switch s {
		case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
			return jsonTrue, false
		case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
			return jsonFalse, false
		case "~", "null", "Null", "NULL":
			return jsonNull, false
		}
		return nil, true
	case '<':
		if s == "<<" {
			return nil, false
		}
		return nil, true
	case '.':
		switch s {
		case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF":
			return nil, false
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return floatJSON(f)
		}
		return nil, true
	case '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		switch s {
		case "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
			return nil, false
		}
		plain := s
		if strings.IndexByte(s, '_') >= 0 {
			plain = strings.ReplaceAll(s, "_", "")
		}
		// Only what can be a number is tried as one: the rest (a version, an address, a flag)
		// is a string without the errors strconv would allocate and the float pattern.
		if numeral(plain) {
			if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
				return strconv.AppendInt(nil, i, 10), false
			}
			if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
				return strconv.AppendUint(nil, u, 10), false
			}
			if yamlv2Float.MatchString(plain) {
				if f, err := strconv.ParseFloat(plain, 64); err == nil {
					return floatJSON(f)
				}
			}
		}
		if strings.HasPrefix(plain, "0b") || strings.HasPrefix(plain, "-0b") {
			return nil, false // binary integers: rare; the slow path decides
		}
		return nil, true
	}
	return nil, true
}

// numeral reports whether s has only bytes that the integers and floats resolvePlain tries can
// have (strconv.ParseInt with base 0, yamlv2Float): digits, hexadecimal letters, the base
// prefixes' x and o, a sign, a point. Whatever has another byte is no number.
func numeral(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		case c == 'x', c == 'X', c == 'o', c == 'O', c == '+', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// floatJSON is a float as encoding/json writes it (what the slow path's json.Marshal does).
func floatJSON(f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, false
	}
	return b, false
}
