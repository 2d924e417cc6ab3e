package evidence

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// The journal's threat is whoever can write to its store, and verify prints the names of what
// it finds there: an object named with terminal escapes must be shown, not obeyed. Obeyed, the
// name of a file dropped next to a rewritten segment could move the cursor up, erase the lines
// saying the chain has problems, print "chain verified" in their place and conceal the rest:
// an auditor at a terminal would read a clean verification of a tampered journal.
func TestVerifyShowsControlCharactersInStoreNamesInsteadOfObeyingThem(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := journalOf(t, journal.Record{Type: journal.OperatorHeartbeat, Time: t0})
	// A line break in the name would start a line of its own: "c: ...: chain verified".
	forged := "x\x1b[1A\x1b[2K\rc: 1 segments (1..1), 1 records: chain verified\x1b[8m\nc: chain verified"
	dir := strings.TrimPrefix(store.String(), "file://")
	if err := os.WriteFile(filepath.Join(dir, "c", "segments", forged), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	code := Run([]string{"verify", "--store", store.String(), "--unsigned", "--from", "2026-01-01", "--to", "2026-01-01"}, &stdout, os.Stderr)
	if code != ExitProblems {
		t.Errorf("exit %d, want %d (a foreign object in the segments)", code, ExitProblems)
	}
	if strings.ContainsAny(stdout.String(), "\x1b\r") || strings.Contains(stdout.String(), "\nc: chain verified") ||
		!strings.Contains(stdout.String(), `x^[[1A^[[2K\rc: 1 segments`) {
		t.Errorf("verify printed the store's object name unescaped:\n%q", stdout.String())
	}
	out := t.TempDir()
	stdout.Reset()
	Run([]string{"pack", "--store", store.String(), "--unsigned", "--from", "2026-01-01", "--to", "2026-01-01", "-o", out}, &stdout, os.Stderr)
	text, err := os.ReadFile(filepath.Join(out, "verification.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"pack's output": stdout.String(), "verification.txt": string(text)} {
		if strings.ContainsAny(s, "\x1b\r") || strings.Contains(s, "\nc: chain verified") || !strings.Contains(s, "foreign") {
			t.Errorf("%s: the store's object name is not shown escaped:\n%q", name, s)
		}
	}

	// A cluster is a directory of the store: its name reaches standard error when another is asked for.
	if err := os.MkdirAll(filepath.Join(dir, "c\x1b[2K\rall verified", "segments"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "c\x1b[2K\rall verified", "segments", "x"), nil, 0o644)
	var stderr bytes.Buffer
	Run([]string{"verify", "--store", store.String(), "--unsigned", "--cluster", "prod"}, &bytes.Buffer{}, &stderr)
	if strings.ContainsAny(stderr.String(), "\x1b\r") || !strings.Contains(stderr.String(), `c^[[2K\rall verified`) {
		t.Errorf("standard error names the store's clusters unescaped:\n%q", stderr.String())
	}
	// The flags' usage, laid out with tabs, is the program's own: shown as it is.
	stderr.Reset()
	Run([]string{"verify", "--no-such-flag"}, &bytes.Buffer{}, &stderr)
	if !strings.Contains(stderr.String(), "\n    \tThe journal store URL") {
		t.Errorf("the usage of a mistaken flag is not laid out as the flag package lays it out:\n%q", stderr.String())
	}
}
