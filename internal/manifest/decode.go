// Package manifest reads Kubernetes manifests (multi-document YAML, JSON and `kind: List`)
// into engine objects. A broken document is reported with its file, document number and line,
// and never stops the others from being read.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// DecodeError is a document that could not be read.
type DecodeError struct {
	// Source is the file ("-" or "<stdin>" for standard input).
	Source string
	// Document is the 1-based number of the document in the file (0: the file itself).
	Document int
	// Line is the line the document starts on (0: unknown).
	Line int
	// Err is what went wrong.
	Err error
}

func (e *DecodeError) Error() string {
	switch {
	case e.Document == 0:
		return fmt.Sprintf("%s: %v", e.Source, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s: document %d (line %d): %v", e.Source, e.Document, e.Line, e.Err)
	default:
		return fmt.Sprintf("%s: document %d: %v", e.Source, e.Document, e.Err)
	}
}

func (e *DecodeError) Unwrap() error { return e.Err }

// MaxDocumentBytes bounds one document. Kubernetes itself refuses objects over about 1.5 MiB
// (etcd's limit); a larger document is reported, not read.
const MaxDocumentBytes = 3 << 20

// Decode reads every document of one file's content. It returns the objects it could read and
// one error per document it could not.
func Decode(source string, data []byte) ([]*engine.Object, []error) {
	var objs []*engine.Object
	var errs []error
	for _, d := range splitDocuments(data) {
		got, err := decodeDocument(d.body)
		if err != nil {
			errs = append(errs, &DecodeError{Source: source, Document: d.index, Line: d.line, Err: shiftYAMLLine(err, d.line)})
			continue
		}
		for _, o := range got {
			o.Source = engine.Source{File: source, Document: d.index, Line: d.line}
		}
		objs = append(objs, got...)
	}
	return objs, errs
}

type document struct {
	body  []byte
	index int // 1-based, counting every document, empty ones too
	line  int // 1-based line of the document's first line
}

// splitDocuments cuts a YAML stream at `---` lines. JSON content is one document.
func splitDocuments(data []byte) []document {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return []document{{body: data, index: 1, line: 1 + bytes.Count(data[:bytes.IndexByte(data, trimmed[0])], []byte("\n"))}}
	}
	var docs []document
	index, start, startLine, line := 1, 0, 1, 1
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		l := data[pos:next]
		if isSeparator(l) {
			if pos > start || index > 1 {
				docs = append(docs, document{body: data[start:pos], index: index, line: startLine})
				index++
			}
			start, startLine = next, line+1
		}
		pos = next
		line++
	}
	docs = append(docs, document{body: data[start:], index: index, line: startLine})
	// Drop documents that hold nothing but comments and blank lines; keep the numbering.
	out := docs[:0]
	for _, d := range docs {
		if !blank(d.body) {
			out = append(out, d)
		}
	}
	return out
}

func isSeparator(l []byte) bool {
	if !bytes.HasPrefix(l, []byte("---")) {
		return false
	}
	rest := bytes.TrimRight(l[3:], "\r\n")
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '#'
}

func blank(b []byte) bool {
	for len(b) > 0 {
		end := bytes.IndexByte(b, '\n')
		var l []byte
		if end < 0 {
			l, b = b, nil
		} else {
			l, b = b[:end], b[end+1:]
		}
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("...")) {
			return false
		}
	}
	return true
}

// typeMeta is read first to choose the type to decode into.
type typeMeta struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
}

func decodeDocument(body []byte) ([]*engine.Object, error) {
	if len(body) > MaxDocumentBytes {
		return nil, fmt.Errorf("document is %d bytes; the limit is %d", len(body), MaxDocumentBytes)
	}
	js, err := toJSON(body)
	if err != nil {
		return nil, err
	}
	return decodeJSON(js, true)
}

func toJSON(body []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return trimmed, nil
	}
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, err
	}
	return js, nil
}

func decodeJSON(js []byte, allowList bool) ([]*engine.Object, error) {
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	var tm typeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	if tm.Kind == "" {
		return nil, errors.New("not a Kubernetes object: kind is missing")
	}
	if tm.APIVersion == "" {
		return nil, fmt.Errorf("%s: apiVersion is missing", tm.Kind)
	}
	if strings.HasPrefix(tm.APIVersion, "kustomize.config.k8s.io/") {
		// A kustomization configures a tool; it is not an object in the cluster.
		return nil, nil
	}
	if allowList && strings.HasSuffix(tm.Kind, "List") && tm.Items != nil {
		var out []*engine.Object
		var errs []error
		for i, item := range tm.Items {
			objs, err := decodeJSON(item, false)
			if err != nil {
				errs = append(errs, fmt.Errorf("items[%d]: %w", i, err))
				continue
			}
			out = append(out, objs...)
		}
		return out, errors.Join(errs...)
	}
	obj, err := decodeTyped(tm.APIVersion, tm.Kind, js)
	if err != nil {
		return nil, err
	}
	if obj.GetName() == "" && obj.GetGenerateName() == "" {
		return nil, fmt.Errorf("%s: metadata.name is missing", tm.Kind)
	}
	if clusterScoped[tm.Kind] && obj.GetNamespace() != "" {
		// The API server ignores a namespace on a cluster-scoped object; so do the checks.
		obj.SetNamespace("")
	}
	objs := []*engine.Object{engine.NewObject(obj, tm.APIVersion, tm.Kind)}
	if u, ok := obj.(*unstructured.Unstructured); ok && isCSV(tm.APIVersion, tm.Kind) {
		installed, err := expandCSV(js, u)
		if err != nil {
			return nil, err
		}
		objs = append(objs, installed...)
	}
	return objs, nil
}

func decodeTyped(apiVersion, kind string, js []byte) (engine.KubeObject, error) {
	if newObj := typedFor(apiVersion, kind); newObj != nil {
		obj := newObj()
		if err := json.Unmarshal(js, obj); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, locateError(describeJSONError(err), js))
		}
		return obj, nil
	}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(js, &u.Object); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, describeJSONError(err))
	}
	if _, ok := u.Object["metadata"].(map[string]any); !ok && u.Object["metadata"] != nil {
		return nil, fmt.Errorf("%s: metadata is not a map", kind)
	}
	return u, nil
}

// describeJSONError names the field of a type mismatch the way kubectl does.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: cannot use a JSON %s as %s", te.Field, te.Value, te.Type)
	}
	return err
}

// locateError adds the field path to errors that encoding/json reports without one: a custom
// unmarshaller's, such as a resource quantity that does not parse.
func locateError(err error, js []byte) error {
	if !strings.Contains(err.Error(), "quantities must match") {
		return err
	}
	var m map[string]any
	if json.Unmarshal(js, &m) != nil {
		return err
	}
	if p := findBadQuantity(m, ""); p != "" {
		return fmt.Errorf("%s: %w", p, err)
	}
	return err
}

// findBadQuantity returns the path of the first string that does not parse as a quantity under
// a key that holds quantities.
func findBadQuantity(v any, path string) string {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := path + "." + k
			if path == "" {
				child = k
			}
			if quantityParents[k] {
				if q, ok := t[k].(map[string]any); ok {
					for _, qk := range sortedKeys(q) {
						if str, ok := q[qk].(string); ok {
							if _, err := resource.ParseQuantity(str); err != nil {
								return child + "." + qk
							}
						}
					}
				}
			}
			if p := findBadQuantity(t[k], child); p != "" {
				return p
			}
		}
	case []any:
		for i, item := range t {
			if p := findBadQuantity(item, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

var quantityParents = map[string]bool{"limits": true, "requests": true, "capacity": true, "hard": true, "used": true,
	"min": true, "max": true, "default": true, "defaultRequest": true, "maxLimitRequestRatio": true, "overhead": true, "allocatable": true}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var yamlLine = regexp.MustCompile(`yaml: line (\d+)`)

// shiftYAMLLine turns a YAML parser's line, counted from the document's start, into a line of
// the file.
func shiftYAMLLine(err error, docLine int) error {
	msg := err.Error()
	loc := yamlLine.FindStringSubmatchIndex(msg)
	if loc == nil || docLine <= 1 {
		return err
	}
	n, convErr := strconv.Atoi(msg[loc[2]:loc[3]])
	if convErr != nil {
		return err
	}
	return errors.New(msg[:loc[2]] + strconv.Itoa(n+docLine-1) + msg[loc[3]:])
}
