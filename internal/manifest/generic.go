package manifest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// unmarshalGeneric decodes js, a JSON object, into the map sigs.k8s.io/json's
// UnmarshalCaseSensitivePreserveInts makes of it (what an unstructured object holds): objects
// as map[string]any, arrays as []any, a number without a '.' that int64 holds as int64 and
// any other as float64. It reads js with go-json-experiment's tokenizer, which refuses what
// sigs.k8s.io/json would decode otherwise (a name written twice, where sigs.k8s.io/json keeps
// the last; bytes that are not UTF-8, which it replaces); whatever it refuses, and any number
// float64 cannot hold, sigs.k8s.io/json decodes once more, and its map or error is the answer.
// About twice as fast as sigs.k8s.io/json alone (BenchmarkGenericDecoding);
// TestGenericDecodingAgrees and FuzzGenericDecoding hold that the two give the same maps.
func unmarshalGeneric(js []byte) (map[string]any, error) {
	g := genericDecoders.Get().(*jsontext.Decoder)
	m, err := object(g, js)
	g.Reset(emptyReader) // let js go
	genericDecoders.Put(g)
	if err == nil {
		return m, nil
	}
	var kept map[string]any
	err = unmarshal(js, &kept)
	return kept, err
}

var (
	genericDecoders = sync.Pool{New: func() any { return jsontext.NewDecoder(emptyReader) }}
	emptyReader     = bytes.NewReader(nil)
	errNotObject    = errors.New("not one JSON object")
	errDuplicate    = errors.New("a name written twice")
	allowDuplicates = jsontext.AllowDuplicateNames(true)
)

// object decodes js, which must be one JSON object and nothing else, with d. The decoder
// reads a *bytes.Buffer's bytes where they are, without copying them.
func object(d *jsontext.Decoder, js []byte) (map[string]any, error) {
	d.Reset(bytes.NewBuffer(js), allowDuplicates)
	if d.PeekKind() != '{' {
		return nil, errNotObject
	}
	v, err := value(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return nil, errNotObject // something after the object
	}
	return v.(map[string]any), nil
}

// value decodes the next value.
func value(d *jsontext.Decoder) (any, error) {
	switch d.PeekKind() {
	case '{':
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		m := make(map[string]any)
		for d.PeekKind() != '}' {
			tok, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			name := tok.String() // before the next read voids tok
			v, err := value(d)
			if err != nil {
				return nil, err
			}
			n := len(m)
			if m[name] = v; len(m) == n {
				return nil, errDuplicate // the tokenizer does not look for them: a map is cheaper
			}
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return m, nil
	case '[':
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		a := make([]any, 0)
		for d.PeekKind() != ']' {
			v, err := value(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return a, nil
	case '0':
		raw, err := d.ReadValue()
		if err != nil {
			return nil, err
		}
		// As sigs.k8s.io/json's convertNumber (whose test for a '.' first only saves time:
		// ParseInt refuses one). strconv does not keep the string it is given.
		s := unsafe.String(unsafe.SliceData(raw), len(raw))
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		return strconv.ParseFloat(s, 64)
	case 0:
		// PeekKind found no value: an error (or the end of an object or array where the
		// loops above do not expect one), which ReadToken reports.
		_, err := d.ReadToken()
		if err == nil {
			err = errNotObject
		}
		return nil, err
	default: // a string, true, false or null
		tok, err := d.ReadToken()
		if err != nil {
			return nil, err
		}
		switch tok.Kind() {
		case '"':
			return tok.String(), nil
		case 't', 'f':
			return tok.Bool(), nil
		case 'n':
			return nil, nil
		}
		return nil, errNotObject
	}
}
