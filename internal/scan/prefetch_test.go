package scan

import (
	"flag"
	"io"
	"slices"
	"testing"

	"github.com/soc2-operator/soc2-operator/internal/prefetch"
)

// TestPrefetchReadsTheArgumentsAsTheScan: a scan's start-up reads ahead the directories it will
// walk, from its arguments (internal/prefetch, before the flag set exists). It must know every
// flag that takes a value, and which of them name paths and exceptions: else a value would be
// read ahead as a directory, or a directory missed. ScanRoots gives the paths the scan walks,
// in its order, for arguments as people write them.
func TestPrefetchReadsTheArgumentsAsTheScan(t *testing.T) {
	var opts Options
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	opts.bind(fs)
	fs.VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		isBool := ok && b.IsBoolFlag()
		into, known := prefetch.ValueFlags[f.Name]
		want := map[string]string{"f": "paths", "filename": "paths", "exceptions": "exceptions"}[f.Name]
		switch {
		case isBool && known:
			t.Errorf("prefetch.ValueFlags has --%s, a boolean flag", f.Name)
		case !isBool && !known:
			t.Errorf("prefetch.ValueFlags lacks --%s, which takes a value", f.Name)
		case !isBool && into != want:
			t.Errorf("prefetch.ValueFlags[%q] = %q, want %q", f.Name, into, want)
		}
	})
	for name := range prefetch.ValueFlags {
		if fs.Lookup(name) == nil {
			t.Errorf("prefetch.ValueFlags has --%s, which scan does not have", name)
		}
	}

	for _, args := range [][]string{
		{"manifests"},
		{"-f", "a", "b", "--details", "-o", "json", "c/"},
		{"b", "--exceptions", "ex", "--filename=a", "--profile", "p.yaml", "-", "--exceptions=ex2"},
		{"--namespace", "ns", "--admin-namespace=x", "--fail-on", "none", "--show", "all", "m", "--details=false", "n"},
	} {
		var opts Options
		fs := flag.NewFlagSet("scan", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		opts.bind(fs)
		if err := parseInterleaved(fs, args); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		var want []string
		for _, p := range append(append(opts.ExceptionFiles, opts.Paths...), fs.Args()...) {
			if p != "-" {
				want = append(want, p)
			}
		}
		if got := prefetch.ScanRoots(args); !slices.Equal(got, want) {
			t.Errorf("prefetch.ScanRoots(%q) = %q; the scan walks %q", args, got, want)
		}
	}
}
