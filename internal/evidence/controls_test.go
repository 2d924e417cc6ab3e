package evidence

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// TestControlsSayWhichChecksTestNothing: an auditor maps controls.csv to controls, so a check
// that can only say NotAssessed (it needs what no object shows, the API server's audit settings
// say) must not read as evaluated with a method that could pass it, and the others must.
func TestControlsSayWhichChecksTestNothing(t *testing.T) {
	var buf bytes.Buffer
	if err := writeControls(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	how := map[string]string{}
	for _, r := range rows[1:] {
		how[r[0]] = r[5]
	}
	for _, id := range []string{"aud-apiserver-audit-log", "sec-etcd-encryption", "img-signature", "net-unauthenticated-service"} {
		if !strings.HasPrefix(how[id], "Not tested by the operator") || strings.Contains(how[id], "Pass, Fail") {
			t.Errorf("%s: how_it_is_tested %q: want it to say it is not tested", id, how[id])
		}
	}
	for _, id := range []string{"wl-privileged", "img-critical-cves"} {
		if !strings.HasPrefix(how[id], "Evaluated on every") {
			t.Errorf("%s: how_it_is_tested %q", id, how[id])
		}
	}
}
