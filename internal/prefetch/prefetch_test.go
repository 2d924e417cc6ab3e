package prefetch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// helperEnv, set to a directory, makes the test binary started again as a scan of it report
// what this package's initialiser read ahead (TestInitReadsAheadForAScan).
const helperEnv = "PREFETCH_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helper())
	}
	os.Exit(m.Run())
}

// helper is the test binary started as a scan: it reports how many directories the
// initialiser read ahead, and whether ReadDir gives the listing read then (a file made after
// it is not in it) until Stop.
func helper() int {
	mu.Lock()
	a := current
	mu.Unlock()
	if a == nil {
		fmt.Println("nothing read ahead")
		return 1
	}
	<-a.walked
	dir := os.Getenv(helperEnv)
	if err := os.WriteFile(filepath.Join(dir, "late.yaml"), nil, 0o644); err != nil {
		fmt.Println(err)
		return 1
	}
	ahead, _ := ReadDir(dir, "", dir)
	Stop()
	after, _ := ReadDir(dir, "", dir)
	fmt.Printf("read %d; listed %d then %d\n", a.read, len(ahead), len(after))
	return 0
}

// TestInitReadsAheadForAScan: started as `soc2-operator scan ...`, the process reads ahead the
// directories the scan will walk, from this package's initialiser.
func TestInitReadsAheadForAScan(t *testing.T) {
	dir := tree(t)
	cmd := exec.Command(os.Args[0], "scan", "-o", "json", dir, "--details")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// tree's directories: the root, a, a/b, empty and link's target (z), not .git; the root's
	// listing has 7 entries, and 8 once late.yaml is made.
	if got, want := strings.TrimSpace(string(out)), "read 5; listed 7 then 8"; got != want {
		t.Errorf("the scan's start-up: %q, want %q", got, want)
	}
}

// tree makes a directory to walk: files, directories nested, a hidden directory, an empty one,
// a link to a file and one to a directory (not followed below the root).
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"top.yaml", "a/x.yaml", "a/b/y.yml", "a/b/notes.md", ".git/config.yaml", "z/w.yaml"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("kind: Pod\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"top.yaml", "file-link.yaml"}, {"a", "dir-link"}} {
		if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// started runs Start and returns what it reads ahead, stopped when the test ends.
func started(t *testing.T, roots ...string) *ahead {
	t.Helper()
	Start(roots)
	mu.Lock()
	a := current
	mu.Unlock()
	if a == nil {
		t.Fatal("Start read nothing ahead")
	}
	t.Cleanup(Stop)
	return a
}

// names is what the tests compare of a directory's entries: each name and type.
func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, fmt.Sprintf("%s %v", e.Name(), e.Type()))
	}
	return out
}

// walk lists every directory under root as a scan's walk does (through ReadDir, below the root
// skipping hidden directories), and returns each listing by its relative path, with its error.
func walk(t *testing.T, root string) map[string]string {
	got := map[string]string{}
	var dir func(rel, path string)
	dir = func(rel, path string) {
		entries, err := ReadDir(root, rel, path)
		got[rel] = fmt.Sprint(names(entries), err)
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				dir(rel+"/"+e.Name(), filepath.Join(path, e.Name()))
			}
		}
	}
	dir("", root)
	return got
}

// osWalk is walk with os.ReadDir.
func osWalk(t *testing.T, root string) map[string]string {
	Stop()
	return walk(t, root)
}

// TestReadDirGivesWhatOSReadDirGives: every directory the walk lists, read ahead, is listed as
// os.ReadDir lists it, the root named as given (a relative and unclean name, a link).
func TestReadDirGivesWhatOSReadDirGives(t *testing.T) {
	dir := tree(t)
	t.Chdir(dir)
	for _, root := range []string{dir, "./a/", ".", "dir-link", dir + "//a/../a"} {
		t.Run(root, func(t *testing.T) {
			want := osWalk(t, root)
			a := started(t, root)
			<-a.walked
			if got := walk(t, root); !reflect.DeepEqual(got, want) {
				t.Errorf("read ahead:\n%v\nwant (os.ReadDir):\n%v", got, want)
			}
			if a.read != len(want) {
				t.Errorf("%d directories read ahead, want %d (every one the walk lists)", a.read, len(want))
			}
		})
	}
}

// TestReadDirGivesTheListingReadAhead: a listing read ahead is the walk's even when the
// directory has changed since (a scan's walk would have listed it a few milliseconds later);
// after Stop, and for a directory asked for twice (a scan that reads its input again), the
// directory is listed again.
func TestReadDirGivesTheListingReadAhead(t *testing.T) {
	dir := tree(t)
	a := started(t, dir)
	<-a.walked
	if err := os.WriteFile(filepath.Join(dir, "a", "late.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	first, _ := ReadDir(dir, "/a", filepath.Join(dir, "a"))
	again, _ := ReadDir(dir, "/a", filepath.Join(dir, "a"))
	if slices.Contains(names(first), "late.yaml ----------") || !slices.Contains(names(again), "late.yaml ----------") {
		t.Errorf("read ahead %v, then %v; want late.yaml only in the second", names(first), names(again))
	}
}

// TestTheWalkTakesOver: a directory the walk asks for before it was read ahead is the walk's,
// and the reading ahead stops there instead of reading the rest a second time; Stop stops it.
func TestTheWalkTakesOver(t *testing.T) {
	dir := tree(t)
	a := &ahead{listings: map[string]*listing{}}
	mu.Lock()
	current = a
	mu.Unlock()
	t.Cleanup(Stop)
	if _, err := ReadDir(dir, "/a", filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	a.walk([]string{dir})
	// The root is read, then a, which the walk took: not a/b, empty or z.
	if a.read != 1 {
		t.Errorf("%d directories read ahead after the walk took a, want 1 (the root)", a.read)
	}
	Stop()
	a.walk([]string{filepath.Join(dir, "z")})
	if a.read != 1 {
		t.Errorf("read ahead after Stop: %d directories, want 1", a.read)
	}
}

// TestReadDirWhileReadingAhead: walks running while the reading ahead runs get what os.ReadDir
// gives (run with -race).
func TestReadDirWhileReadingAhead(t *testing.T) {
	dir := tree(t)
	want := osWalk(t, dir)
	for range 20 {
		started(t, dir)
		var wg sync.WaitGroup
		got := make([]map[string]string, 2)
		for i := range got {
			wg.Go(func() { got[i] = walk(t, dir) })
		}
		wg.Wait()
		Stop()
		for _, g := range got {
			if !reflect.DeepEqual(g, want) {
				t.Fatalf("walked while reading ahead:\n%v\nwant:\n%v", g, want)
			}
		}
	}
}

// TestRootsNotDirectories: a file, a missing path and a link to a file are not read ahead.
func TestRootsNotDirectories(t *testing.T) {
	dir := tree(t)
	a := started(t, filepath.Join(dir, "top.yaml"), filepath.Join(dir, "missing"), filepath.Join(dir, "file-link.yaml"))
	<-a.walked
	if a.read != 0 {
		t.Errorf("%d directories read ahead, want none", a.read)
	}
}

// TestCleanIsFilepathClean: clean, and so join, give what path/filepath gives, for every path
// of up to 7 characters made of 'a', '.' and '/'.
func TestCleanIsFilepathClean(t *testing.T) {
	var paths []string
	var grow func(p string)
	grow = func(p string) {
		paths = append(paths, p)
		if len(p) < 7 {
			for _, c := range []string{"a", ".", "/"} {
				grow(p + c)
			}
		}
	}
	grow("")
	for _, p := range paths {
		if got, want := clean(p), filepath.Clean(p); got != want {
			t.Errorf("clean(%q) = %q, want %q", p, got, want)
		}
		if p == "" {
			continue
		}
		if got, want := join(p, "n.yaml"), filepath.Join(p, "n.yaml"); got != want {
			t.Errorf("join(%q, n.yaml) = %q, want %q", p, got, want)
		}
	}
	if len(paths) != 3280 {
		t.Errorf("%d paths compared, want 3280", len(paths))
	}
}

// TestScanRoots: the paths a scan walks, in its order: exceptions, -f, then the arguments.
func TestScanRoots(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"manifests"}, []string{"manifests"}},
		{[]string{"a", "-f", "b", "--filename=c", "-o", "json", "d", "--exceptions", "ex", "--details", "e"}, []string{"ex", "b", "c", "a", "d", "e"}},
		{[]string{"--profile", "dir", "--namespace=ns", "-fail-on", "high", "--show", "all", "--admin-namespace", "x", "m"}, []string{"m"}},
		{[]string{"-", "m", "--", "-x"}, []string{"m", "-x"}},
		{[]string{"--details=true", "--help", "m", "-o"}, []string{"m"}},
	}
	for _, tc := range cases {
		if got := ScanRoots(tc.args); !slices.Equal(got, tc.want) {
			t.Errorf("ScanRoots(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
