package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// The cache of operator builds keeps the build in use and the three most recently used others;
// it removes the rest, but never one another test process holds the lock of.
func TestPruneBuildsKeepsTheRecentAndTheLocked(t *testing.T) {
	cache := t.TempDir()
	now := time.Now()
	build := func(name string, age time.Duration) {
		dir := filepath.Join(cache, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"lock", "soc2-operator"} {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		when := now.Add(-age)
		if err := os.Chtimes(filepath.Join(dir, "soc2-operator"), when, when); err != nil {
			t.Fatal(err)
		}
	}
	build("current", 48*time.Hour) // in use, however old
	build("used-1h", time.Hour)
	build("used-2h", 2*time.Hour)
	build("used-3h", 3*time.Hour)
	build("used-4h", 4*time.Hour)
	build("used-5h", 5*time.Hour)
	build("locked-6h", 6*time.Hour)
	lock, err := os.OpenFile(filepath.Join(cache, "locked-6h", "lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}

	pruneBuilds(cache, "current", 3)

	entries, err := os.ReadDir(cache)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{"current", "locked-6h", "used-1h", "used-2h", "used-3h"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}

// A build whose directory a pruning process removed while this one waited for its lock is
// locked again in a new directory.
func TestLockBuildAfterItsDirectoryWasRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "build")
	first, err := lockBuild(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *os.File)
	go func() {
		second, err := lockBuild(dir) // waits for first
		if err != nil {
			t.Error(err)
		}
		got <- second
	}()
	// Wait until the second has the lock file open (it is then waiting for the lock, or about
	// to), so that what follows removes the file under it.
	for deadline := time.Now().Add(time.Minute); openCount(t, filepath.Join(dir, "lock")) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the second lockBuild never opened the lock file")
		}
		time.Sleep(time.Millisecond)
	}
	if err := os.RemoveAll(dir); err != nil { // as pruneBuilds does, with the lock held
		t.Fatal(err)
	}
	first.Close()
	second := <-got
	if second == nil {
		return
	}
	defer second.Close()
	held, err := second.Stat()
	if err != nil {
		t.Fatal(err)
	}
	now, err := os.Stat(filepath.Join(dir, "lock"))
	if err != nil {
		t.Fatalf("the build's lock file is not there again: %v", err)
	}
	if !os.SameFile(held, now) {
		t.Error("the lock taken is on the removed file, not the build directory's")
	}
}

// openCount is how many of this process's file descriptors are open on path.
func openCount(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}
