package demo

import (
	"context"
	"io"
	"strings"
	"testing"
)

// A failed build says why: the go command's own message is in the error, not only its exit
// status, also when the demo's output is discarded (as in the tests). CI once failed here with
// "exit status 1" and nothing else.
func TestBuildFailureSaysWhy(t *testing.T) {
	t.Setenv("GOFLAGS", "-nosuchflag")
	_, err := buildOperator(context.Background(), t.TempDir(), io.Discard)
	if err == nil {
		t.Fatal("the build passed with GOFLAGS=-nosuchflag")
	}
	if !strings.Contains(err.Error(), "unknown flag -nosuchflag") {
		t.Errorf("the error does not carry the go command's message:\n%v", err)
	}
}

func TestLastBytes(t *testing.T) {
	w := &lastBytes{max: 16}
	for _, s := range []string{"first line\n", "second line\n", "link: no space\n"} {
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := w.String(), "link: no space"; got != want {
		t.Errorf("got %q, want %q (the last whole lines within 16 bytes)", got, want)
	}
	short := &lastBytes{max: 64}
	io.WriteString(short, "a\nb\n")
	if got := short.String(); got != "a\nb" {
		t.Errorf("under the limit: got %q, want everything", got)
	}
}
