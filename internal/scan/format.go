package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

// write prints the report in format to w through one buffer, which every writer below writes
// into a piece at a time: the table with every finding is a line per finding, and a write to a
// terminal or a pipe each (90,000 at 20,000 objects, -o wide) took longer than judging.
func write(w io.Writer, format string, rep *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch format {
	case "json":
		err = writeJSON(bw, rep)
	case "yaml":
		err = writeYAML(bw, rep)
	case "junit":
		err = writeJUnit(bw, rep)
	case "sarif":
		err = writeSARIF(bw, rep)
	case "policyreport":
		err = writePolicyReports(bw, rep)
	default:
		err = writeTable(bw, rep)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// writeJSON prints the report as encoding/json's Encoder does with an indent of two spaces, byte
// for byte, but writes the findings and results one at a time: at 20,000 objects the report is
// about 60 MB of JSON, which Encoder would hold twice (compact, then indented) before writing.
func writeJSON(w *bufio.Writer, rep *Report) error {
	// The lists are marshalled with one empty item in their place, then written item by item.
	head := *rep
	var lists []streamedList
	for _, l := range placeholders(rep, &head) {
		lists = append(lists, streamedList{key: l.key, depth: 1, n: len(l.items), appendItem: func(dst []byte, i int, prefix string) []byte {
			f := rep.finding(l.items[i])
			return appendFindingJSON(dst, &f, prefix)
		}})
	}
	out, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	return writeStreamed(w, append(out, '\n'), lists)
}

// reportList is the findings or the results of a report, under their key.
type reportList struct {
	key   string
	items []found
}

// placeholders sets head's findings and results, where rep made them, to a placeholder of one
// empty item (or to an empty list, written [] as encoding/json writes it), and returns the lists
// to write in their place, in the order of the report. Results rep did not make (without --show
// all) stay out.
func placeholders(rep, head *Report) []reportList {
	var lists []reportList
	for _, l := range []struct {
		key   string
		items []found
		field *[]Finding
	}{{"findings", rep.found, &head.Findings}, {"results", rep.assessed, &head.Results}} {
		if l.items == nil {
			continue // not made (results without --show all): the field stays out
		}
		*l.field = []Finding{}
		if len(l.items) > 0 {
			*l.field = []Finding{{}}
			lists = append(lists, reportList{l.key, l.items})
		}
	}
	return lists
}

// streamedList is a list of a JSON document that writeStreamed writes item by item: its key, the
// depth of that key (1: a field of the top-level object), and its n items, each made when it is
// written: marshalled by encoding/json (item), or appended already indented with prefix before
// each of its lines but the first, as json.MarshalIndent(item, prefix, "  ") writes it
// (appendItem, where it is set).
type streamedList struct {
	key        string
	depth      int
	n          int
	item       func(i int) any
	appendItem func(dst []byte, i int, prefix string) []byte
}

// writeStreamed writes doc, a document as encoding/json's Encoder writes it indented by two
// spaces with one placeholder item in each of lists (in the order the lists come in doc), with
// each list's items in the place of its placeholder, each marshalled as it is written: the bytes
// Encoder would write for the whole document, without the whole document in memory, twice.
func writeStreamed(w *bufio.Writer, doc []byte, lists []streamedList) error {
	var buf bytes.Buffer
	var indented []byte
	for _, l := range lists {
		indent := strings.Repeat("  ", l.depth)
		// The list's key at its depth: a raw newline never occurs inside a JSON string, so no
		// value of another field can look like it.
		key := []byte("\n" + indent + "\"" + l.key + "\": ")
		at := bytes.Index(doc, key)
		if at < 0 {
			return fmt.Errorf("writing %s: no %q in the document", l.key, key)
		}
		at += len(key)
		w.Write(doc[:at])
		// The placeholder's value ends at the closing bracket at the key's depth.
		closing := []byte("\n" + indent + "]")
		end := bytes.Index(doc[at:], closing)
		if end < 0 {
			return fmt.Errorf("writing %s: no end of the list", l.key)
		}
		doc = doc[at+end+len(closing):]
		// An Encoder writes each item compact (and a newline) into one buffer for every item,
		// and appendIndented indents it as MarshalIndent does with the items' indentation as
		// its prefix: encoding/json's own indenting, which runs its scanner's state machine on
		// every byte again, took more time than marshalling (0.16 s of the 0.3 s -o json
		// spent writing at 20,000 objects).
		enc := json.NewEncoder(&buf)
		w.WriteString("[\n")
		prefix := indent + "  "
		for i := range l.n {
			if l.appendItem != nil {
				indented = l.appendItem(indented[:0], i, prefix)
			} else {
				buf.Reset()
				if err := enc.Encode(l.item(i)); err != nil {
					return err
				}
				indented = appendIndented(indented[:0], bytes.TrimSuffix(buf.Bytes(), []byte("\n")), prefix, "  ")
			}
			w.WriteString(prefix)
			w.Write(indented)
			if i < l.n-1 {
				w.WriteByte(',')
			}
			w.WriteByte('\n')
		}
		w.WriteString(indent + "]")
	}
	_, err := w.Write(doc)
	return err
}

// appendIndented appends to dst the compact JSON src (as encoding/json marshals it: no space
// outside strings) indented as json.Indent(dst, src, prefix, indent) indents it: a newline,
// prefix and one indent per level before each element and member and before the closing
// bracket, ": " after each key, and an empty object or array left as {} or [].
func appendIndented(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			// The string runs to the first quote not escaped: one after an even number of
			// backslashes (each pair is an escaped backslash).
			end := i + 1
			for {
				j := bytes.IndexByte(src[end:], '"')
				if j < 0 {
					return append(dst, src[i:]...) // not JSON: no string ends
				}
				end += j
				slashes := 0
				for src[end-1-slashes] == '\\' {
					slashes++
				}
				if slashes%2 == 0 {
					break
				}
				end++
			}
			dst = append(dst, src[i:end+1]...)
			i = end
		case '{', '[':
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, c, src[i+1])
				i++
				continue
			}
			depth++
			dst = appendNewline(append(dst, c), prefix, indent, depth)
		case '}', ']':
			depth--
			dst = append(appendNewline(dst, prefix, indent, depth), c)
		case ',':
			dst = appendNewline(append(dst, c), prefix, indent, depth)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// appendNewline appends a newline, prefix and depth indents.
func appendNewline(dst []byte, prefix, indent string, depth int) []byte {
	dst = append(dst, '\n')
	dst = append(dst, prefix...)
	for range depth {
		dst = append(dst, indent...)
	}
	return dst
}

// writeYAML prints the report as sigs.k8s.io/yaml marshals it, byte for byte, but writes the
// findings and results one at a time, as writeJSON does: marshalled whole, the report of 20,000
// objects took 22 s and 2.8 GiB of memory (the JSON, the tree yaml.v2 reads it into, and the YAML).
func writeYAML(w *bufio.Writer, rep *Report) error {
	head := *rep
	lists := placeholders(rep, &head)
	out, err := yaml.Marshal(&head)
	if err != nil {
		return err
	}
	for _, l := range lists {
		// A list of the report's is at the top level: its key, and each of its items, start a
		// line (yaml.v2 does not indent a sequence in a mapping); any other line in it is
		// indented. An item is marshalled in a list of its own under the same key, so that
		// yaml.v2 folds its long strings at the same columns as in the whole report.
		key := []byte(l.key + ":\n")
		at := bytes.Index(out, append([]byte{'\n'}, key...))
		if at < 0 {
			return fmt.Errorf("writing %s: no %q in the report", l.key, key)
		}
		at += 1 + len(key)
		placeholder, err := yamlItem(l.key, &Finding{})
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(out[at:], placeholder) {
			return fmt.Errorf("writing %s: no placeholder where the list is", l.key)
		}
		w.Write(out[:at])
		out = out[at+len(placeholder):]
		err = inOrder(w, len(l.items), inOrderChunk, func(i int, dst []byte) ([]byte, error) {
			f := rep.finding(l.items[i])
			item, err := yamlItem(l.key, &f)
			return append(dst, item...), err
		})
		if err != nil {
			return err
		}
	}
	_, err = w.Write(out)
	return err
}

// inOrderChunk is how many small items (a finding, a PolicyReport) inOrder hands a goroutine at
// a time.
const inOrderChunk = 256

// inOrder writes to w what each appends for the items 0 to n-1, in that order, running each on
// every core chunk items at a time (a few chunks per core ahead of the writing at most). It
// returns the first error, after which it writes nothing more.
func inOrder(w io.Writer, n, chunk int, each func(i int, dst []byte) ([]byte, error)) error {
	type part struct {
		out  []byte
		err  error
		done chan struct{}
	}
	type job struct {
		lo, hi int
		p      *part
	}
	workers := runtime.GOMAXPROCS(0)
	parts := make(chan *part, 2*workers)
	jobs := make(chan job, 2*workers)
	go func() {
		for lo := 0; lo < n; lo += chunk {
			p := &part{done: make(chan struct{})}
			parts <- p
			jobs <- job{lo, min(lo+chunk, n), p}
		}
		close(parts)
		close(jobs)
	}()
	for range workers {
		go func() {
			for j := range jobs {
				for i := j.lo; i < j.hi && j.p.err == nil; i++ {
					j.p.out, j.p.err = each(i, j.p.out)
				}
				close(j.p.done)
			}
		}()
	}
	var err error
	for p := range parts { // to the end, so that no goroutine is left waiting
		<-p.done
		if err == nil {
			if err = p.err; err == nil {
				_, err = w.Write(p.out)
			}
		}
	}
	return err
}

// yamlItem is f as sigs.k8s.io/yaml writes it as the one item of a list under key at the top
// level: the lines of the list, without the key's.
func yamlItem(key string, f *Finding) ([]byte, error) {
	out, err := marshalYAML(map[string][]*Finding{key: {f}})
	if err != nil {
		return nil, err
	}
	return out[len(key)+len(":\n"):], nil
}

// marshalYAML is sigs.k8s.io/yaml's Marshal, byte for byte, in about half the time.
//
// sigs.k8s.io/yaml (v1.6.0) marshals to JSON, reads the JSON back with yaml.v2's parser (to
// keep integers integers) and marshals that with yaml.v2. marshalYAML reads the JSON back with
// encoding/json instead, numbers as written, and hands yaml.v2 the same values: the numbers in
// a report's findings and PolicyReports are integers, which yaml.v2's parser makes ints. That
// parser and its garbage were two thirds of the time of -o yaml. A value with any other number
// goes the way of sigs.k8s.io/yaml. TestYAMLWrittenAsSigsYAMLWould and
// TestPolicyReportsWrittenAsSigsYAMLWould hold the two to the same bytes.
func marshalYAML(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	if tree, ok := yamlValues(tree); ok {
		return yamlv2.Marshal(tree)
	}
	return yaml.JSONToYAML(js)
}

// yamlValues turns the numbers in v, decoded by encoding/json with UseNumber, into the ints
// yaml.v2's parser makes of them, and reports whether every one was an int.
func yamlValues(v any) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			y, ok := yamlValues(x)
			if !ok {
				return nil, false
			}
			v[k] = y
		}
	case []any:
		for i, x := range v {
			y, ok := yamlValues(x)
			if !ok {
				return nil, false
			}
			v[i] = y
		}
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 0)
		if err != nil {
			return nil, false
		}
		return int(n), true
	}
	return v, true
}

// writePolicyReports prints a PolicyReport (namespaced resources) or ClusterPolicyReport
// (cluster-scoped ones) per resource scanned, with every result but NotApplicable ones, as
// multi-document YAML in a stable order: what the operator would write, for Policy Reporter or
// kubectl apply. Results on no resource (cluster checks) are in no report.
func writePolicyReports(w *bufio.Writer, rep *Report) error {
	if rep.evaluation == nil {
		return nil
	}
	// Each report is made as it is written, on every core, and let go: all of them at once (Build)
	// raised the peak of a 20,000-object scan from 230 to 509 MiB.
	pending := policyreport.Plan(rep.evaluation, policyreport.Options{Profile: rep.Profile, Now: rep.evaluatedAt})
	return inOrder(w, len(pending), inOrderChunk, func(i int, dst []byte) ([]byte, error) {
		out, err := marshalYAML(pending[i].Report())
		return append(append(dst, "---\n"...), out...), err
	})
}

// resourceName is a finding's resource as engine.ResourceRef renders it (Kind/namespace/name,
// the kind with its group where that is not one of Kubernetes' own, so that Istio's Gateway
// shop/edge reads Gateway.networking.istio.io/shop/edge beside the Gateway API's Gateway/shop/edge),
// or "(cluster)" for a cluster check's.
func resourceName(r *v1alpha1.ResourceRef) string {
	if r == nil {
		return "(cluster)"
	}
	return engine.ResourceRef{Kind: engine.IdentityKind(r.APIVersion, r.Kind), Namespace: r.Namespace, Name: r.Name}.String()
}

func location(s *Source) string {
	if s == nil {
		return "-"
	}
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// shown is text for a person's eyes in JUnit or SARIF (a CI server's or code-scanning service's
// web page) with the control and invisible characters of each line shown, not obeyed
// (termtable.Escape), as the table shows them; the line breaks are kept. Names of resources,
// containers and files are a pull request author's: a bidirectional override in one reorders
// the rest of the line on the page, a carriage return starts it again, and XML 1.0 cannot hold
// most control characters (encoding/xml writes U+FFFD for each). The checks' messages quote
// what they cite, so they come through as they are.
func shown(s string) string {
	if !strings.Contains(s, "\n") {
		return termtable.Escape(s) // one line: what the split and the join would give
	}
	for rest := s; ; { // s itself when no line changes (most text), without the split and the join
		line, after, more := strings.Cut(rest, "\n")
		if termtable.Escape(line) != line {
			break
		}
		if !more {
			return s
		}
		rest = after
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = termtable.Escape(l)
	}
	return strings.Join(lines, "\n")
}

// JUnit: one test suite per check, one test case per resource (and container) the check
// assessed: a pass is a passing test case, a failing finding a failure, an excepted or
// undecided one is skipped with the reason, but one its object left undecided is an error,
// unless an exception waives it as it would waive a failure (skipped, naming it). Inputs that
// could not be read are errors in a suite of their own, and so are the problems with the
// profile and exceptions (Report.Problems). Only what the JUnit schema CI servers validate
// against (Jenkins' and Ant's; testdata/junit-10.xsd) allows is written: no file or line
// attributes on test cases (the location is in the failure text), no skipped count on
// testsuites.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func writeJUnit(w *bufio.Writer, rep *Report) error {
	// Every result but NotApplicable ones (skipped below): passes are test cases too. The scan
	// keeps passing results for junit; --show all has made their views already.
	results := rep.assessed
	if results == nil {
		results = objectRefs{}.all(rep.evaluation)
	}
	// The suites and their counts first, then each suite's test cases as it is written (on every
	// core, in order): made whole, the test cases of a 20,000-object scan raised its peak from
	// 172-180 to 200-208 MiB.
	suites := junitSuites{Name: "soc2-operator scan"}
	var members [][]found
	index := map[string]int{}
	for _, fd := range results {
		r := fd.r
		if r.Status == engine.StatusNotApplicable {
			continue
		}
		i, ok := index[r.Check.ID]
		if !ok {
			i = len(suites.Suites)
			index[r.Check.ID] = i
			suites.Suites = append(suites.Suites, junitSuite{Name: r.Check.ID + ": " + r.Check.Title})
			members = append(members, nil)
		}
		s := &suites.Suites[i]
		switch {
		case r.Status == engine.StatusFail:
			s.Failures++
		case r.FailedOnObject() && rep.waived[r] == nil:
			s.Errors++
		case r.Status == engine.StatusExcepted, r.Status == engine.StatusNotAssessed:
			s.Skipped++
		}
		s.Tests++
		members[i] = append(members[i], fd)
	}
	if len(rep.Errors) > 0 {
		s := junitSuite{Name: "inputs: files and documents that could not be read"}
		for _, e := range rep.Errors {
			name := e.File
			if name == "" {
				name = "input" // an error of no one file (nothing found in the paths given)
			}
			if e.Document > 0 {
				name += fmt.Sprintf(" document %d", e.Document)
			}
			s.Cases = append(s.Cases, junitCase{Name: termtable.Escape(name), Classname: "inputs",
				Error: &junitFailure{Message: shown(e.Message), Type: "InputError", Text: shown(location(&Source{File: e.File, Line: e.Line}) + ": " + e.Message)}})
			s.Tests++
			s.Errors++
		}
		if rep.ErrorsNotListed > 0 {
			msg := unlistedErrors(rep.ErrorsNotListed)
			s.Cases = append(s.Cases, junitCase{Name: "more documents", Classname: "inputs",
				Error: &junitFailure{Message: msg, Type: "InputError", Text: msg}})
			s.Tests++
			s.Errors++
		}
		suites.Suites = append(suites.Suites, s)
	}
	if len(rep.Problems) > 0 {
		// Each makes the scan exit 2: without them a job that failed showed every test passed,
		// and a custom check that does not compile, which judged nothing, no suite at all.
		s := junitSuite{Name: "configuration: problems with the profile and the exceptions"}
		for i, p := range rep.Problems {
			s.Cases = append(s.Cases, junitCase{Name: fmt.Sprintf("problem %d", i+1), Classname: "configuration",
				Error: &junitFailure{Message: shown(p), Type: "ConfigurationError", Text: shown(p)}})
		}
		s.Tests, s.Errors = len(s.Cases), len(s.Cases)
		suites.Suites = append(suites.Suites, s)
	}
	if len(rep.Skipped) > 0 || rep.SkippedNotListed > 0 {
		// What --skip-kinds left unjudged is skipped, as undecided results are.
		s := junitSuite{Name: "inputs: custom resources that run containers, of kinds --skip-kinds names, not judged"}
		for _, r := range rep.Skipped {
			msg := skippedMessage(r)
			s.Cases = append(s.Cases, junitCase{Name: termtable.Escape(r.Resource.Kind + " " + namespacedName(r.Resource)), Classname: "inputs",
				Skipped: &junitSkipped{Message: shown(location(&Source{File: r.File, Line: r.Line}) + ": " + msg)}})
		}
		if rep.SkippedNotListed > 0 {
			s.Cases = append(s.Cases, junitCase{Name: "more custom resources", Classname: "inputs",
				Skipped: &junitSkipped{Message: unlistedSkipped(rep.SkippedNotListed)}})
		}
		s.Tests, s.Skipped = len(s.Cases), len(s.Cases)
		suites.Suites = append(suites.Suites, s)
	}
	for _, s := range suites.Suites {
		suites.Tests += s.Tests
		suites.Failures += s.Failures
		suites.Errors += s.Errors
	}

	// What xml.Encoder (indented by two spaces) writes for the whole document: the start tag of
	// testsuites, each suite on lines of its own as an Encoder with a prefix of two spaces
	// writes it alone (appendJUnitSuite, without the Encoder), and the end tag.
	w.WriteString(xml.Header)
	all := suites.Suites
	suites.Suites = nil
	var head bytes.Buffer
	if err := xml.NewEncoder(&head).Encode(suites); err != nil {
		return err
	}
	if len(all) == 0 {
		w.Write(head.Bytes()) // <testsuites ...></testsuites>, on one line
		_, err := w.WriteString("\n")
		return err
	}
	start, ok := bytes.CutSuffix(head.Bytes(), []byte("</testsuites>"))
	if !ok {
		return fmt.Errorf("writing junit: no end tag in %q", head.Bytes())
	}
	w.Write(start)
	err := inOrder(w, len(all), 1, func(i int, dst []byte) ([]byte, error) {
		s := &all[i]
		if i >= len(members) { // the suites of inputs and of the configuration, last, have their cases
			return appendJUnitSuite(dst, s), nil
		}
		dst = appendJUnitSuiteHead(dst, s)
		for _, fd := range members[i] {
			if cap(dst)-len(dst) < 4<<10 {
				// Doubled, as the bytes.Buffer of an xml.Encoder grew: append's growth by a
				// quarter at these sizes allocated about five times a suite's bytes.
				dst = slices.Grow(dst, len(dst)+4<<10)
			}
			tc := junitCaseOf(rep.finding(fd), fd.r.FailedOnObject())
			dst = appendJUnitCase(dst, &tc)
		}
		return appendJUnitSuiteEnd(dst, len(members[i])), nil
	})
	if err != nil {
		return err
	}
	_, err = w.WriteString("\n</testsuites>\n")
	return err
}

// junitCaseOf is the test case of a finding (or a pass) of a check: a failure, a pass, or
// skipped when excepted or undecided, but an error when the object decided that a custom check is
// undecided (failedOnObject: engine.Result.FailedOnObject), which --fail-on counts as failing,
// unless f names the exception that waives it for the gate (Report.finding): skipped then, as an
// excepted failure is. Its name is the finding's identity, shown as the table shows it
// (termtable.Escape): XML 1.0 cannot hold most control characters (encoding/xml writes U+FFFD
// for each, so Pods "api\x01" and "api\x02" would be named alike), and a CI's web page would
// obey a bidirectional override; so are its texts (shown).
func junitCaseOf(f Finding, failedOnObject bool) junitCase {
	name := resourceName(f.Resource)
	if f.Container != "" {
		name += " container " + f.Container
	}
	tc := junitCase{Name: termtable.Escape(name), Classname: f.Check}
	switch f.Result {
	case v1alpha1.ResultFail:
		text := f.Message + "\nseverity: " + string(f.Severity) + "\ncriteria: " + joinCriteria(f.Criteria) + "\nremediation: " + f.check.Remediation
		if f.Source != nil {
			text += "\nlocation: " + location(f.Source)
		}
		tc.Failure = &junitFailure{Message: f.Message, Type: string(f.Severity), Text: text}
	case v1alpha1.ResultExcepted:
		tc.Skipped = &junitSkipped{Message: "excepted by " + f.Exception + ": " + f.Message}
	case v1alpha1.ResultNotAssessed:
		if failedOnObject && f.Exception != "" {
			tc.Skipped = &junitSkipped{Message: "waived by " + f.Exception + ", as it waives a failure: " + string(f.Result) + ": " + f.Message}
			break
		}
		if failedOnObject {
			msg := string(f.Result) + ": " + f.Message
			text := msg + "\nseverity: " + string(f.Severity) + "\ncriteria: " + joinCriteria(f.Criteria) +
				"\nthe object decided it, and scan --fail-on counts it as failing (as the admission webhook refuses it)"
			if f.Source != nil {
				text += "\nlocation: " + location(f.Source)
			}
			tc.Error = &junitFailure{Message: msg, Type: string(f.Severity), Text: text}
			break
		}
		tc.Skipped = &junitSkipped{Message: string(f.Result) + ": " + f.Message}
	}
	// The texts name the resource's file, and may cite its fields: shown, not obeyed.
	for _, m := range []*junitFailure{tc.Failure, tc.Error} {
		if m != nil {
			m.Message, m.Text = shown(m.Message), shown(m.Text)
		}
	}
	if tc.Skipped != nil {
		tc.Skipped.Message = shown(tc.Skipped.Message)
	}
	return tc
}

func joinCriteria(c []v1alpha1.Criterion) string {
	s := make([]string, len(c))
	for i, x := range c {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
