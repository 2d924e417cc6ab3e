package controllers

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestTheExceptionsKeptReadBackAsTheyWereWritten: an exception kept on the Lease and read back
// by the next process encodes as it was, so that a start with nothing changed writes nothing
// (its reason, cut to 512 bytes with an ellipsis, was cut again, and differed); past the bound,
// one tenant's many exceptions do not push out the operator namespace's or another tenant's.
func TestTheExceptionsKeptReadBackAsTheyWereWritten(t *testing.T) {
	ex := &v1alpha1.ControlException{Spec: v1alpha1.ControlExceptionSpec{Owner: "team-a@example.com", Reason: strings.Repeat("é", 400),
		Checks: []string{"wl-privileged"}, Expires: metav1.NewTime(time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC))}}
	ex.Namespace, ex.Name, ex.UID = "team-a", "waiver", "uid-1"
	kept := keptOf(honouredException{ex: ex, profiles: []string{"soc2"}})
	if len(kept.Reason) > maxKeptReason {
		t.Errorf("reason of %d bytes kept", len(kept.Reason))
	}
	if again := keptOf(kept.honoured()); !reflect.DeepEqual(again, kept) {
		t.Errorf("read back and kept again:\n%+v\nwant\n%+v", again, kept)
	}

	var many []keptException
	for i := range 3000 {
		many = append(many, keptException{Namespace: "noisy", Name: fmt.Sprintf("waiver-%04d-%s", i, strings.Repeat("x", 40)),
			Reason: fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(i)))), Expires: kept.Expires, Profiles: []string{"soc2"}})
	}
	many = append(many, keptException{Namespace: "quiet", Name: "zz", Expires: kept.Expires},
		keptException{Namespace: "soc2-operator-system", Name: "zz", Expires: kept.Expires})
	value, left, err := encodeHonoured(many, "soc2-operator-system")
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeHonoured(value)
	if err != nil {
		t.Fatal(err)
	}
	if left == 0 {
		t.Fatalf("kept all %d: the test needs more", len(back))
	}
	for _, ns := range []string{"quiet", "soc2-operator-system"} {
		found := false
		for _, k := range back {
			found = found || k.Namespace == ns
		}
		if !found {
			t.Errorf("%s's exception left out (kept %d of noisy's)", ns, len(back))
		}
	}
}
