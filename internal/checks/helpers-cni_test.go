package checks

import (
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

func TestCalicoSelector(t *testing.T) {
	tests := map[string]struct {
		selector string
		// readable is false when the selector may select any pod (nil).
		readable bool
		selects  labels.Set
		skips    labels.Set
	}{
		"no selector selects every pod":        {"", true, labels.Set{"app": "web"}, nil},
		"all() selects every pod":              {" all() ", true, labels.Set{}, nil},
		"an equality":                          {"app == 'web'", true, labels.Set{"app": "web"}, labels.Set{"app": "api"}},
		"a conjunction with has and !has":      {`app == "web" && has(tier) && !has(canary)`, true, labels.Set{"app": "web", "tier": "1"}, labels.Set{"app": "web", "tier": "1", "canary": "y"}},
		"a set":                                {"app in {'web', 'api'}", true, labels.Set{"app": "api"}, labels.Set{"app": "db"}},
		"a set excluded":                       {"app not in {'web'}", true, labels.Set{"app": "api"}, labels.Set{"app": "web"}},
		"an inequality":                        {"app != 'web'", true, labels.Set{}, labels.Set{"app": "web"}},
		"a disjunction is not read":            {"app == 'web' || app == 'api'", false, nil, nil},
		"parentheses are not read":             {"(app == 'web')", false, nil, nil},
		"string matches are not read":          {"app starts with 'w'", false, nil, nil},
		"Calico's own labels are not read":     {"projectcalico.org/namespace == 'shop'", false, nil, nil},
		"an unquoted value is not read":        {"app == web", false, nil, nil},
		"a term that is no requirement is not": {"app", false, nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sel := calicoSelector(tc.selector)
			if (sel != nil) != tc.readable {
				t.Fatalf("calicoSelector(%q) = %v, want readable %v", tc.selector, sel, tc.readable)
			}
			if sel == nil {
				return
			}
			if tc.selects != nil && !sel.Matches(tc.selects) {
				t.Errorf("%q does not select %v", tc.selector, tc.selects)
			}
			if tc.skips != nil && sel.Matches(tc.skips) {
				t.Errorf("%q selects %v", tc.selector, tc.skips)
			}
		})
	}
}
