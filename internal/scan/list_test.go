package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// A cluster's objects piped in as kubectl writes them (kubectl get -A -o json, or -o yaml, |
// soc2-operator scan -), one List over 3 MiB read item by item as it arrives, are judged as the
// same objects are from their YAML files: the same summary, and the same result for every check
// of every resource.
func TestACorpusAsAKubectlListIsJudgedAsItsFiles(t *testing.T) {
	list, err := testgen.KubectlList(corpusDir)
	if err != nil {
		t.Skipf("corpus not available at %s: %v", corpusDir, err)
	}
	yamlList, err := yaml.JSONToYAML(list) // as kubectl writes -o yaml: sigs.k8s.io/yaml
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(yamlList, []byte("\nitems:\n- ")) {
		t.Fatalf("the YAML List's items are not at column 0, as kubectl writes them:\n%.300s", yamlList)
	}
	for _, l := range [][]byte{list, yamlList} {
		if len(l) <= manifest.MaxDocumentBytes {
			t.Fatalf("the List is %d bytes: not over MaxDocumentBytes, it would not be read as it arrives", len(l))
		}
	}
	results := func(stdin string, args ...string) (string, []string) {
		t.Helper()
		stdout, stderr, _ := runScan(t, stdin, append(args, "-o", "json", "--show", "all", "--fail-on", "none")...)
		var rep Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("%v: %v\nstderr: %.2000s", args, err, stderr)
		}
		var out []string
		for _, f := range rep.Findings {
			out = append(out, fmt.Sprintf("%s %s %+v %s %s", f.Check, f.Result, *f.Resource, f.Container, f.Message))
		}
		slices.Sort(out)
		rep.Summary.Errors = 0 // the files hold broken documents the List does not
		if rep.Summary.Score == nil {
			t.Fatalf("%v: no score", args)
		}
		s := rep.Summary
		s.Score = nil
		return fmt.Sprintf("%+v, score %d", s, *rep.Summary.Score), out
	}
	wantSummary, want := results("", "-f", corpusDir)
	for format, l := range map[string][]byte{"json": list, "yaml": yamlList} {
		gotSummary, got := results(string(l), "-")
		if gotSummary != wantSummary {
			t.Errorf("%s: summary of the List %s\nof the files %s", format, gotSummary, wantSummary)
		}
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("%s: %d results from the List, %d from the files; the first that differs:\n%s\nwant\n%s", format, len(got), len(want), got[i], want[i])
				}
			}
			t.Fatalf("%s: %d results from the List, %d from the files", format, len(got), len(want))
		}
	}
}

// A stream of broken documents, however many, is read in bounded memory: the first
// maxListedErrors errors are kept and listed, the rest counted, and every one counts in the
// summary and the exit code. Here a List over 3 MiB of 120,000 strings, read item by item,
// around one Pod.
func TestUnreadableDocumentsBeyondTheFirstThousandAreCounted(t *testing.T) {
	const n = 120_000
	var list bytes.Buffer
	list.WriteString(`{"apiVersion": "v1", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}`)
	for range n {
		list.WriteString(`, "not an object, not an object"`)
	}
	list.WriteString(`], "kind": "List"}`)
	if list.Len() <= manifest.MaxDocumentBytes {
		t.Fatalf("the List is %d bytes: not over MaxDocumentBytes", list.Len())
	}
	stdout, stderr, code := runScan(t, list.String(), "-", "-o", "json", "--fail-on", "none")
	var rep Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if code != ExitInput || rep.Summary.Objects != 1 || rep.Summary.Errors != n || len(rep.Errors) != maxListedErrors || rep.ErrorsNotListed != n-maxListedErrors {
		t.Errorf("exit %d, %d objects, %d errors in the summary, %d listed and %d not; want exit %d, 1 object, %d errors, %d listed and %d not",
			code, rep.Summary.Objects, rep.Summary.Errors, len(rep.Errors), rep.ErrorsNotListed, ExitInput, n, maxListedErrors, n-maxListedErrors)
	}
	more := fmt.Sprintf("%d more documents could not be read; only the first %d errors are listed", n-maxListedErrors, maxListedErrors)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := lines[len(lines)-1]; len(lines) != maxListedErrors+1 || last != "soc2-operator scan: "+more {
		t.Errorf("%d lines on stderr, the last %q; want the %d errors listed and a line saying how many more", len(lines), last, maxListedErrors)
	}
	// The formats for machines say so too.
	for _, format := range []string{"junit", "sarif"} {
		stdout, _, _ := runScan(t, list.String(), "-", "-o", format, "--fail-on", "none")
		if !strings.Contains(stdout, more) {
			t.Errorf("-o %s does not say %q", format, more)
		}
		assertWellFormed(t, format, stdout)
	}
}
