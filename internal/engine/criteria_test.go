package engine_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// The API's enum of criteria is a kubebuilder marker (a comment the CRD generator reads), so it
// cannot name engine.Criteria: this holds the two to the same list in the same order, so that
// the API server accepts exactly the criteria the engine knows and titles.
func TestCriteriaAreTheAPIsEnum(t *testing.T) {
	src, err := os.ReadFile("../../api/v1alpha1/common_types.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\+kubebuilder:validation:Enum=(\S+)\ntype Criterion string`).FindSubmatch(src)
	if m == nil {
		t.Fatal("api/v1alpha1/common_types.go: no Enum marker right above `type Criterion string`")
	}
	api := strings.Split(string(m[1]), ";")
	var known []string
	for _, c := range engine.Criteria {
		known = append(known, string(c.ID))
		if c.Title == "" {
			t.Errorf("criterion %s has no title", c.ID)
		}
	}
	if !slices.Equal(api, known) {
		t.Errorf("the API accepts criteria %v; engine.Criteria lists %v", api, known)
	}
}
