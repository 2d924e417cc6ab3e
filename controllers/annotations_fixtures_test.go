package controllers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestTrimmedAnnotationsAreJudgedAsWhole: every fixture of the check catalogue, with 20 KiB of
// annotations added to each object whose annotations the cache trims (trimsAnnotations, and
// 900 tiny ones that fill what it keeps of the smallest), is
// judged by every built-in check to the same results (status and message) whole and as the
// cache keeps it (inventory.TrimAnnotations, then inventory.CachedObject): the trim changes no
// built-in verdict. A custom check of a fixture's profile may be NotAssessed where it read the
// annotations.
func TestTrimmedAnnotationsAreJudgedAsWhole(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "internal", "checks", "testdata", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	pad := map[string]string{}
	for i := range 5 {
		pad[fmt.Sprintf("tenant.example.com/blob-%d", i)] = strings.Repeat("x", 4<<10)
	}
	// And 900 of 5 bytes, which fill the 4 KiB the cache keeps of the smallest others: the
	// fixture's own annotations stay only if the checks read them.
	for i := range 900 {
		pad[fmt.Sprintf("t/%03d", i)] = ""
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) // the fixtures' clock (internal/checks fixtureNow)
	trimmed := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		decode := func() []*engine.Object {
			objs, errs := manifest.Decode(file, data)
			if len(errs) > 0 {
				return nil
			}
			manifest.DefaultNamespace(objs, "default")
			return objs
		}
		whole, again := decode(), decode()
		if whole == nil {
			continue
		}
		var profile *v1alpha1.ComplianceProfile
		var w, k []*engine.Object
		for i, o := range whole {
			switch obj := o.Obj.(type) {
			case *v1alpha1.ComplianceProfile:
				profile = obj
				continue
			case *v1alpha1.ControlException:
				continue
			}
			c := again[i]
			read, ok := trimsAnnotations(c.Obj)
			if !ok {
				w, k = append(w, o), append(k, c)
				continue
			}
			for _, obj := range []engine.KubeObject{o.Obj, c.Obj} {
				a := obj.GetAnnotations()
				if a == nil {
					a = map[string]string{}
				}
				for key, v := range pad {
					a[key] = v
				}
				obj.SetAnnotations(a)
			}
			cached, ok := c.Obj.(client.Object)
			if !ok || !inventory.TrimAnnotations(cached, read) {
				t.Fatalf("%s: %s was not trimmed", file, c.Ref())
			}
			trimmed++
			kc := inventory.CachedObject(cached, c.APIVersion, c.Kind)
			kc.Source = c.Source
			w, k = append(w, o), append(k, kc)
		}
		plan := engine.Compile(checks.Catalogue(), profile)
		opts := engine.Options{Now: now, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
		want := plan.Evaluate(engine.NewInventory(w, true), nil, opts)
		got := plan.Evaluate(engine.NewInventory(k, true), nil, opts)
		if len(want.Results) != len(got.Results) {
			t.Errorf("%s: %d results whole, %d trimmed", file, len(want.Results), len(got.Results))
			continue
		}
		for i, wr := range want.Results {
			g := got.Results[i]
			if g.Status == wr.Status && g.Message == wr.Message {
				continue
			}
			if strings.HasPrefix(wr.Check.ID, "custom-") && g.Status == engine.StatusNotAssessed {
				continue
			}
			t.Errorf("%s: %s %s is %s whole (%s), %s trimmed (%s)", file, wr.Check.ID, wr.Object.Ref(), wr.Status, wr.Message, g.Status, g.Message)
		}
	}
	if trimmed == 0 {
		t.Fatal("no object was trimmed")
	}
	t.Logf("%d fixtures, %d objects trimmed", len(files), trimmed)
}
