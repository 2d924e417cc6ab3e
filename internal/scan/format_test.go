package scan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// TestPolicyReportsWrittenAsSigsYAMLWould: -o policyreport makes each report as it writes it, on
// every core (policyreport.Plan, inOrder, marshalYAML), and writes the bytes of Build's reports
// marshalled by sigs.k8s.io/yaml one after another: on the golden input and on the corpus.
func TestPolicyReportsWrittenAsSigsYAMLWould(t *testing.T) {
	dirs := map[string]string{"golden input": "testdata/manifests"}
	if _, err := os.Stat(corpusDir); err == nil {
		dirs["the corpus"] = corpusDir
	}
	plan := engine.Compile(checks.Catalogue(), nil)
	at := time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			objs, _ := manifest.Load([]string{dir}, nil)
			ev := plan.Evaluate(engine.NewInventory(objs, false), nil, engine.Options{Now: at, KeepPassing: true})
			rep := buildReport(ev, len(objs), false)
			rep.Profile, rep.evaluatedAt = "audit", at

			var want bytes.Buffer
			reports := policyreport.Build(ev, policyreport.Options{Profile: rep.Profile, Now: at})
			for _, r := range reports {
				out, err := yaml.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				want.WriteString("---\n")
				want.Write(out)
			}
			if name == "the corpus" && len(reports) <= 2*inOrderChunk {
				t.Fatalf("%d reports: the corpus did not fill a chunk of inOrder on each core", len(reports))
			}

			var got bytes.Buffer
			if err := writePolicyReports(&got, rep); err != nil {
				t.Fatal(err)
			}
			if g, w := got.String(), want.String(); g != w {
				at := 0
				for at < min(len(g), len(w)) && g[at] == w[at] {
					at++
				}
				t.Fatalf("-o policyreport differs from sigs.k8s.io/yaml at byte %d of %d:\nwant %q\ngot  %q", at, len(w),
					w[max(0, at-80):min(len(w), at+80)], g[max(0, at-80):min(len(g), at+80)])
			}
		})
	}
}

// inOrder writes every item in the order of the items whatever goroutine made it, and after an
// error writes nothing more: the chunks before the failing one, and the error.
func TestInOrderKeepsTheOrderAndStopsAtAnError(t *testing.T) {
	n := 10*inOrderChunk + 7
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "%d\n", i)
	}
	var got bytes.Buffer
	if err := inOrder(&got, n, func(i int, dst []byte) ([]byte, error) { return fmt.Appendf(dst, "%d\n", i), nil }); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("items out of order or missing: %d bytes, want %d", got.Len(), want.Len())
	}

	failing := 3*inOrderChunk + 5
	boom := errors.New("boom")
	got.Reset()
	err := inOrder(&got, n, func(i int, dst []byte) ([]byte, error) {
		if i == failing {
			return dst, boom
		}
		return fmt.Appendf(dst, "%d\n", i), nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	var before strings.Builder
	for i := range 3 * inOrderChunk {
		fmt.Fprintf(&before, "%d\n", i)
	}
	if got.String() != before.String() {
		t.Errorf("after the error: %d bytes written, want the %d of the chunks before it", got.Len(), before.Len())
	}
}
