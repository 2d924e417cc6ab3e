package checks

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestInfoFields holds the JSON of `soc2-operator checks -o json` (InfoOf) and `kubectl soc2
// explain -o json` (Explanation), one type: the keys each prints, in order (a renamed key breaks
// its readers), the facts both print agree, and every field of Info is filled from the catalogue
// (a field added to Info but filled by neither fails here).
func TestInfoFields(t *testing.T) {
	want := map[string][]string{
		"checks":  {"id", "title", "severity", "criteria", "targets", "reads", "requires", "description", "remediation"},
		"explain": {"id", "title", "severity", "criteria", "podSecurityControls", "targets", "reads", "requires", "manifestOnly", "description", "remediation", "catalogVersion"},
	}
	seen := map[string]map[string]bool{"checks": {}, "explain": {}}
	filled := map[string]bool{}
	for _, c := range Catalogue() {
		x, y := InfoOf(c), Explanation(c)
		for name, info := range map[string]Info{"checks": x, "explain": y} {
			data, err := json.Marshal(info)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			for k := range m {
				seen[name][k] = true
			}
			v := reflect.ValueOf(info)
			for i := range v.NumField() {
				if !v.Field(i).IsZero() {
					filled[v.Type().Field(i).Name] = true
				}
			}
		}
		y.PodSecurityControls, y.ManifestOnly, y.CatalogVersion = nil, false, ""
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: checks and explain print different facts:\n%+v\n%+v", c.ID, x, y)
		}
	}
	var order []string // the keys in the order encoding/json writes them: Info's field order
	for i := range reflect.TypeFor[Info]().NumField() {
		f := reflect.TypeFor[Info]().Field(i)
		order = append(order, strings.Split(f.Tag.Get("json"), ",")[0])
		if !filled[f.Name] {
			t.Errorf("Info.%s is never filled by InfoOf or Explanation", f.Name)
		}
	}
	for name, keys := range want {
		var got []string
		for _, k := range order {
			if seen[name][k] {
				got = append(got, k)
			}
		}
		if !slices.Equal(got, keys) {
			t.Errorf("%s -o json prints the keys %v, want %v", name, got, keys)
		}
	}
}
