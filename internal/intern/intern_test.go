package intern

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/soc2-operator/soc2-operator/internal/testenv"
)

// long is a string of n bytes made anew (not a constant the linker shares).
func long(n int, c string) string {
	return strings.Repeat(c, n-1) + fmt.Sprint(n%10)
}

func TestOf(t *testing.T) {
	tests := map[string]struct {
		a, b  string
		share bool
	}{
		"equal strings share their bytes":                  {a: long(300, "x"), b: long(300, "x"), share: true},
		"strings of the same length but other text do not": {a: long(300, "x"), b: long(300, "y")},
		"strings of other lengths do not":                  {a: long(300, "x"), b: long(301, "x")},
		"strings under the minimum are left as they are":   {a: long(100, "x"), b: long(100, "x")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tab := New(256)
			a, b := tab.Of(tc.a), tab.Of(tc.b)
			if a != tc.a || b != tc.b {
				t.Fatalf("Of changed a string's text")
			}
			if shared := unsafe.StringData(a) == unsafe.StringData(b); shared != tc.share {
				t.Errorf("bytes shared: %t, want %t", shared, tc.share)
			}
			if !tc.share && len(tc.b) < 256 && unsafe.StringData(b) != unsafe.StringData(tc.b) {
				t.Errorf("a short string was copied")
			}
		})
	}
}

// TestOfForgetsWhatNothingHolds: the table keeps no string alive; once nothing holds one, its
// entry goes, and an equal string later is a new one.
func TestOfForgetsWhatNothingHolds(t *testing.T) {
	tab := New(256)
	func() {
		for i := range 10 {
			_ = tab.Of(long(300+i, "x"))
		}
	}()
	if n := tab.Len(); n != 10 {
		t.Fatalf("the table holds %d strings, want 10", n)
	}
	testenv.Eventually(t, 30*time.Second, "the table forgets the strings nothing holds", func() error {
		runtime.GC()
		if n := tab.Len(); n != 0 {
			return fmt.Errorf("it holds %d", n)
		}
		return nil
	})
}

func FuzzOf(f *testing.F) {
	f.Add(strings.Repeat("a", 20), strings.Repeat("a", 20))
	f.Add(strings.Repeat("a", 20), strings.Repeat("b", 20))
	tab := New(16)
	f.Fuzz(func(t *testing.T, a, b string) {
		x, y := tab.Of(a), tab.Of(b)
		if x != a || y != b {
			t.Fatalf("Of(%q) = %q, Of(%q) = %q", a, x, b, y)
		}
		if a == b && len(a) >= 16 && unsafe.StringData(x) != unsafe.StringData(y) {
			t.Fatalf("equal strings of %d bytes do not share their bytes", len(a))
		}
	})
}

// TestOfSweepsWhatNothingHolds: the entries of strings nothing holds any more are dropped as
// the table grows, so it holds about twice the strings alive at most, whatever went before.
func TestOfSweepsWhatNothingHolds(t *testing.T) {
	tab := New(16)
	for round := range 20 {
		func() {
			for i := range 3000 {
				_ = tab.Of(fmt.Sprintf("round %02d string %06d", round, i))
			}
		}()
		runtime.GC()
	}
	tab.mu.Lock()
	n := len(tab.held)
	tab.mu.Unlock()
	if n > 2*1024+3000 {
		t.Errorf("the table holds %d entries after 20 rounds of 3,000 strings nothing holds", n)
	}
}

// TestOfConcurrent: the informers' transforms call Of at once (run with -race).
func TestOfConcurrent(t *testing.T) {
	tab := New(16)
	var wg sync.WaitGroup
	got := make([][]string, 4)
	for g := range got {
		wg.Go(func() {
			for i := range 500 {
				got[g] = append(got[g], tab.Of(long(100+i%50, "z")))
			}
		})
	}
	wg.Wait()
	for g := range got {
		for i, s := range got[g] {
			if s != long(100+i%50, "z") {
				t.Fatalf("goroutine %d got another string", g)
			}
			if unsafe.StringData(s) != unsafe.StringData(got[0][i]) {
				t.Errorf("goroutines %d and 0 hold copies of an equal string", g)
			}
		}
	}
}
