package scan

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// FuzzEngine decodes arbitrary manifests and evaluates them with every built-in check, as the
// operator (complete) and as scan (partial), then renders every output format. Nothing may
// panic, and no check may fail internally (the engine turns a check's panic into a NotAssessed
// result saying "internal error", which this fuzz target treats as a failure).
func FuzzEngine(f *testing.F) {
	fixtures, _ := filepath.Glob("../checks/testdata/*/*.yaml")
	for _, file := range fixtures {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: n}\nspec: {template: {spec: {containers: [{}], volumes: [{name: v}]}}}\n"))
	f.Add([]byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: n}\nsubjects: [{}]\n"))
	plan := engine.Compile(checks.Catalogue(), nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := manifest.Decode("fuzz.yaml", data)
		for _, complete := range []bool{true, false} {
			ev := plan.Evaluate(engine.NewInventory(objs, complete), nil, engine.Options{Now: scanNow(), KeepPassing: true})
			for _, r := range ev.Results {
				if strings.HasPrefix(r.Message, "internal error") {
					t.Fatalf("complete=%v: %s", complete, r.Message)
				}
			}
			rep := buildReport(ev, len(objs), true)
			for _, format := range Formats {
				if err := write(io.Discard, format, rep); err != nil {
					t.Fatalf("%s output: %v", format, err)
				}
			}
		}
	})
}
