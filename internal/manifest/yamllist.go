package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// yamlList is the state of a YAML List read from a stream item by item (readStream): a
// document over MaxDocumentBytes that `kubectl get -o yaml` wrote, its items a sequence at
// column 0 under a top-level items key:
//
//	apiVersion: v1
//	items:
//	- apiVersion: v1
//	  kind: Pod
//	  ...
//	kind: List
//
// Each item is a document of its own, taken out of the sequence (its lines less their first two
// columns) as soon as the line after it is read, so that the List is never held whole and
// needs no limit of its own. Held whole, the 20k copies of the corpus as one List of 75 MB took
// 2.4-2.8 s and 317-336 MiB; item by item, 0.53-0.63 s and 132-137 MiB. Like a JSON List
// (readJSONStream), it is known for one only at its end, where kubectl writes its kind, unless
// a kind before its items says it is none (isYAMLList). A List written otherwise (its items
// indented, in flow style) is read whole, up to MaxListBytes. YAML that kubectl does not write
// may read otherwise item by item than whole, but never in silence: a flow collection
// continued on a line at column 0 (which ends the items here), an alias of another item's
// anchor; each is then an error of its item or of the List.
type yamlList struct {
	head  []byte // its lines but its items: what it is
	size  int    // its bytes read so far
	state int    // listHead, listItems or listTail
	items int    // the items begun
	line  int    // the first line of the item being read
	twice bool   // an items key after the items
	lost  bool   // its lines but its items were over MaxDocumentBytes
	// dropped is how many bytes of the item being read were let go, over MaxDocumentBytes.
	dropped int
	// listType is the List's apiVersion and kind when its lines before its items name them
	// (typedItem).
	listType typeMeta
}

const (
	listHead  = iota // before its items key
	listItems        // in its items
	listTail         // after them
	listEnded        // after a document end marker (...): the rest is not the List's
)

// isYAMLList reports whether doc, the start of a document, is a List as kubectl writes it in
// YAML: a top-level items key whose first item follows it at column 0, and no kind before it
// but a List's. The lines before the items key must read by themselves: a quoted or flow
// scalar left open there would run on over the items key and the items at column 0 in what
// kubectl reads (yaml.v2), which item by item would be read as the List's.
func isYAMLList(doc []byte) bool {
	items := false
	var head []byte // the lines before the items key
	for rest := doc; len(rest) > 0; {
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			return false
		}
		l := rest[:end+1]
		rest = rest[end+1:]
		switch {
		case blank(l):
		case items:
			if !isItem(l) {
				return false
			}
			_, _, err := toJSON(head, Options{})
			return err == nil
		case isItemsKey(l):
			items = true
			head = doc[:len(doc)-len(rest)-len(l)]
		case bytes.HasPrefix(l, []byte("kind:")):
			if kind := bytes.Trim(bytes.TrimSpace(l[len("kind:"):]), `"'`); !bytes.HasSuffix(kind, []byte("List")) {
				return false
			}
		case l[0] == ' ' || l[0] == '-':
			return false // nested, or not a map
		}
	}
	return false
}

// isItemsKey reports whether l is a top-level items key with its value on the lines after it.
func isItemsKey(l []byte) bool {
	rest, ok := bytes.CutPrefix(l, []byte("items:"))
	rest = bytes.TrimSpace(rest)
	return ok && (len(rest) == 0 || rest[0] == '#')
}

// isItem reports whether l begins an item of a sequence at column 0.
func isItem(l []byte) bool {
	return len(l) >= 2 && l[0] == '-' && (l[1] == ' ' || l[1] == '\n' || l[1] == '\r')
}

// take takes the next line of the List, l, at offset pos of data (whose item being read starts
// at start), on line number; it returns the documents of the items l ends and where what is
// still to be kept starts.
func (y *yamlList) take(docs []document, data []byte, start, pos int, l []byte, index, number int) ([]document, int) {
	y.size += len(l)
	if y.state != listEnded && bytes.Equal(bytes.TrimRight(l, " \t\r\n"), []byte("...")) {
		// The end of the document, as a YAML parser reads it (and kubectl): what follows
		// up to the next separator is not part of the List.
		if y.state == listItems {
			docs = y.ended(docs, data[start:pos], index)
		}
		y.state = listEnded
	}
	switch y.state {
	case listEnded:
		return docs, pos + len(l)
	case listHead:
		if isItemsKey(l) {
			y.state = listItems
			y.listType = yamlListType(y.head)
		} else {
			y.addHead(l)
		}
		return docs, pos + len(l)
	case listItems:
		switch {
		case isItem(l):
			docs = y.ended(docs, data[start:pos], index)
			y.items++
			y.line = number
			return docs, pos
		case len(l) > 0 && l[0] != ' ' && l[0] != '#' && !blank(l):
			// The items are over: what follows is the List's own.
			docs = y.ended(docs, data[start:pos], index)
			y.state = listTail
			y.addHead(l)
			return docs, pos + len(l)
		}
		if y.items == 0 {
			return docs, pos + len(l) // blank lines and comments before the first item
		}
		return docs, start
	}
	if bytes.HasPrefix(l, []byte("items:")) {
		y.twice = true
	}
	y.addHead(l)
	return docs, pos + len(l)
}

// yamlListType reads the apiVersion and kind of a List from its lines before its items key,
// head: zero when they do not say.
func yamlListType(head []byte) typeMeta {
	js, _, err := toJSON(head, Options{})
	if err != nil {
		return typeMeta{}
	}
	tm, err := readTypeMeta(js)
	if err != nil {
		return typeMeta{}
	}
	return typeMeta{APIVersion: tm.APIVersion, Kind: tm.Kind}
}

// addHead keeps l as one of the List's own lines, unless they are already over MaxDocumentBytes.
func (y *yamlList) addHead(l []byte) {
	if len(y.head)+len(l) > MaxDocumentBytes {
		y.lost = true
		return
	}
	y.head = append(y.head, l...)
}

// ended adds the document of the item being read, whose lines (the rest of them, if some were
// dropped) are body: they less their first two columns, or its error.
func (y *yamlList) ended(docs []document, body []byte, index int) []document {
	if y.items == 0 {
		return docs
	}
	d := document{index: index, line: y.line, item: y.items, yaml: true, listAPIVersion: y.listType.APIVersion, listKind: y.listType.Kind}
	if size := y.dropped + len(body); size > MaxDocumentBytes {
		d.err = fmt.Errorf("%d bytes as YAML; the limit is %d", size, MaxDocumentBytes)
	} else {
		d.body = outdent(body)
	}
	y.dropped = 0
	return append(docs, d)
}

// outdent is the lines of a sequence's item less their first two columns: its `- ` and the
// indentation of the lines after it (or what there is of it on a shorter line).
func outdent(item []byte) []byte {
	out := make([]byte, 0, len(item))
	for len(item) > 0 {
		end := bytes.IndexByte(item, '\n')
		l := item
		if end >= 0 {
			l, item = item[:end+1], item[end+1:]
		} else {
			item = nil
		}
		n := 0
		if len(out) == 0 && isItem(l) {
			n = 1 // the dash; its space below
		}
		for n < 2 && n < len(l) && l[n] == ' ' {
			n++
		}
		out = append(out, l[n:]...)
	}
	return out
}

// end adds what the end of the List leaves, the rest of its last item (rest) and its error if
// it is no List, of the index'th document, which began on line.
func (y *yamlList) end(docs []document, rest []byte, index, line int) []document {
	if y.state == listItems {
		docs = y.ended(docs, rest, index)
	}
	var err error
	switch {
	case y.twice:
		err = errors.New("a List whose items are written twice")
	case y.lost:
		err = tooLarge(y.size, MaxDocumentBytes)
	default:
		var js []byte
		if js, _, err = toJSON(y.head, Options{}); err == nil {
			err = listError(js, y.size)
		}
		if err == nil && hasItems(js) {
			// An items key among its own lines, however written ("items":, items :, ? items,
			// right after the first items): read whole, its items would be the List's.
			err = errors.New("a List whose items are written twice")
		}
	}
	if err != nil {
		docs = append(docs, document{index: index, line: line, err: err})
	}
	return docs
}

// hasItems reports whether js, a JSON object, has an items key, as sigs.k8s.io/json reads its
// keys (escapes and all).
func hasItems(js []byte) bool {
	var top map[string]json.RawMessage
	if unmarshal(js, &top) != nil {
		return false
	}
	_, ok := top["items"]
	return ok
}
