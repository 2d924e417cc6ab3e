//go:build e2e

package helmchart

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/scan"
)

type scanned struct {
	Summary struct {
		Objects int `json:"objects"`
		Passed  int `json:"passed"`
	} `json:"summary"`
	Findings []struct {
		Check    string `json:"check"`
		Result   string `json:"result"`
		Message  string `json:"message"`
		Resource *struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"resource"`
	} `json:"findings"`
}

// scanChart runs `soc2-operator scan -o json` with every built-in check and no exception over a
// rendered chart, as a user's CI would, and returns the failing checks as "check Kind/name:
// message".
func scanChart(t *testing.T, rendered []byte) []string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "chart.yaml")
	if err := os.WriteFile(file, rendered, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := scan.Run([]string{"-f", file, "--namespace", "soc2-operator-system", "-o", "json", "--fail-on", "none"},
		strings.NewReader(""), &stdout, &stderr, time.Now)
	if code != scan.ExitOK {
		t.Fatalf("soc2-operator scan exited %d: %s", code, stderr.String())
	}
	var rep scanned
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("scan output: %v", err)
	}
	if rep.Summary.Objects == 0 || rep.Summary.Passed == 0 {
		t.Fatalf("the scan evaluated nothing: %s", stdout.String())
	}
	var out []string
	for _, f := range rep.Findings {
		if f.Result != "Fail" {
			continue
		}
		res := ""
		if f.Resource != nil {
			res = f.Resource.Kind + "/" + f.Resource.Name
		}
		out = append(out, f.Check+" "+res+": "+f.Message)
	}
	return out
}

// TestChartPassesTheOperatorsOwnChecks: the same dogfood rule as config/ (internal/bundle's
// TestOperatorPassesItsOwnChecks): every documented values combination, rendered with the image
// pinned by digest, passes `soc2-operator scan` with every built-in check and no exception; and
// with the defaults as committed, the only finding is the missing digest.
func TestChartPassesTheOperatorsOwnChecks(t *testing.T) {
	for _, c := range combinations(t) {
		t.Run(c.name+" pinned by digest", func(t *testing.T) {
			if f := scanChart(t, render(t, []string{c.file}, "image.digest="+releaseDigest)); len(f) > 0 {
				t.Errorf("the chart fails the operator's own checks:\n%s", strings.Join(f, "\n"))
			}
		})
	}
	t.Run("defaults by tag: only the digest is missing", func(t *testing.T) {
		f := scanChart(t, render(t, nil))
		if len(f) != 1 || !strings.HasPrefix(f[0], "img-digest-pinned ") {
			t.Errorf("want only img-digest-pinned to fail before the digest is set, got:\n%s", strings.Join(f, "\n"))
		}
	})
}
