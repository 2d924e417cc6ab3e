// Package prefetch lists the directories a scan will walk before the scan asks for them: on a
// goroutine this package's initialiser starts, when the process was started as
// `soc2-operator scan`, while the rest of the program's packages are initialised.
//
// Go runs package initialisers one after the other on one goroutine: a scan's take about 25 ms
// of its 130-200 ms at 3,000 objects, with the second core idle. Listing the directories
// (os.ReadDir: open, getdents, close and a sort for each) took a scan's walk 14-17 ms at 3,000
// objects (821 directories) and about 80 ms at 20,000 (5,455), on the walk's goroutine while
// both cores read and decode files. Read ahead, a listing costs the scan a map lookup.
//
// This package imports only os and sync, which Go initialises among the first, so that its
// initialiser runs early: Go initialises each package once the packages it imports are, the
// lexically first of those ready first. Importing strings made it the 71st of 200 packages
// with initialisers instead of the 23rd (GODEBUG=inittrace=1), and path/filepath the 110th.
//
// What ReadDir returns is os.ReadDir's answer whether it was read ahead or not, the same slice
// and error: reading ahead changes when a directory is listed, never what the walk sees of
// it. A directory is read ahead at most once; the walk reads itself a directory it gets to
// first, and from then the reading ahead stops.
package prefetch

import (
	"os"
	"sync"
)

func init() {
	if len(os.Args) > 2 && os.Args[1] == "scan" {
		Start(ScanRoots(os.Args[2:]))
	}
}

// listing is a directory's os.ReadDir, read ahead; done is closed once it is read.
type listing struct {
	done    chan struct{}
	entries []os.DirEntry
	err     error
}

// taken marks a directory the walk has asked for: its listing, if one was read ahead, is the
// walk's, and the reading ahead stops when it gets there.
var taken = &listing{}

// ahead is one reading ahead, from Start to Stop.
type ahead struct {
	// listings are the directories read ahead or being read, and those the walk took, by
	// key; nil once stopped. Guarded by mu.
	listings map[string]*listing
	// read counts the directories read ahead; walked is closed when the reading ahead ends.
	read   int
	walked chan struct{}
}

var (
	// mu guards current and the listings of every ahead.
	mu      sync.Mutex
	current *ahead
)

// key is a directory's place in the listings: the root as the walk was given it, and the names
// below it each after a '/' ("" for the root itself).
func key(root, rel string) string { return root + "\x00" + rel }

// Start reads ahead, on a goroutine of its own, the directories a walk of roots (each one as
// the scan walks it, in order) will list, skipping those whose name starts with a dot below a
// root, as a scan does. Roots that are not directories are skipped. It does nothing where the
// path separator is not '/' (the walk joins paths with filepath.Join), or until Stop when it
// was started already.
func Start(roots []string) {
	if os.PathSeparator != '/' || len(roots) == 0 {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		return
	}
	a := &ahead{listings: map[string]*listing{}, walked: make(chan struct{})}
	current = a
	go func() {
		defer close(a.walked)
		a.walk(roots)
	}()
}

// Stop ends the reading ahead and lets go of what was read: ReadDir lists every directory
// itself until the next Start.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if current != nil {
		current.listings = nil
		current = nil
	}
}

// ReadDir is os.ReadDir(path) for the directory rel below root (each name after a '/'; "" for
// root itself), where path is what the walk of root names it: the listing read ahead when
// there is one (waiting for it if it is being read), or else read now.
func ReadDir(root, rel, path string) ([]os.DirEntry, error) {
	mu.Lock()
	var l *listing
	if current != nil {
		k := key(root, rel)
		l = current.listings[k]
		current.listings[k] = taken
	}
	mu.Unlock()
	if l == nil || l == taken {
		return os.ReadDir(path)
	}
	<-l.done
	return l.entries, l.err
}

// claim returns the listing to read ahead for the directory rel below root, or nil when the
// walk has asked for it already or the reading ahead was stopped.
func (a *ahead) claim(root, rel string) *listing {
	mu.Lock()
	defer mu.Unlock()
	if a.listings == nil {
		return nil
	}
	k := key(root, rel)
	if _, ok := a.listings[k]; ok {
		return nil
	}
	l := &listing{done: make(chan struct{})}
	a.listings[k] = l
	a.read++
	return l
}

func (a *ahead) walk(roots []string) {
	for _, root := range roots {
		if info, err := os.Stat(root); err != nil || !info.IsDir() {
			continue // not listed by the walk (a root that is a symbolic link to a directory is)
		}
		if !a.dir(root, "", root) {
			return
		}
	}
}

// dir reads ahead the directory rel below root, named path, and then those below it in the
// order a walk lists them; it reports false once the walk has caught up, or on Stop.
func (a *ahead) dir(root, rel, path string) bool {
	l := a.claim(root, rel)
	if l == nil {
		return false
	}
	l.entries, l.err = os.ReadDir(path)
	entries := l.entries
	close(l.done)
	for _, e := range entries {
		if name := e.Name(); !e.IsDir() || name != "" && name[0] == '.' {
			continue
		}
		if !a.dir(root, rel+"/"+e.Name(), join(path, e.Name())) {
			return false
		}
	}
	return true
}

// join is filepath.Join(dir, name) for a name read from a directory (no '/', never "." or
// ".."), where dir is a root or a path join made: filepath.Join cleans the path, and a root
// may not be clean ("./manifests/"). A path join made is clean already.
func join(dir, name string) string {
	return clean(dir + "/" + name)
}

// clean is filepath.Clean on a system whose separator is '/': the shortest path naming the same
// file by lexical processing alone (path.Clean's rules), written here because importing path,
// path/filepath or strings would make this package's initialiser run later.
func clean(p string) string {
	if p == "" {
		return "."
	}
	rooted := p[0] == '/'
	var parts []string
	for start := 0; start <= len(p); {
		end := start
		for end < len(p) && p[end] != '/' {
			end++
		}
		switch part := p[start:end]; part {
		case "", ".":
		case "..":
			switch {
			case len(parts) > 0 && parts[len(parts)-1] != "..":
				parts = parts[:len(parts)-1]
			case !rooted:
				parts = append(parts, "..")
			}
		default:
			parts = append(parts, part)
		}
		start = end + 1
	}
	var out []byte
	if rooted {
		out = append(out, '/')
	}
	for i, part := range parts {
		if i > 0 {
			out = append(out, '/')
		}
		out = append(out, part...)
	}
	if len(out) == 0 {
		return "."
	}
	return string(out)
}

// ScanRoots are the paths `soc2-operator scan` with these arguments walks, in the order it
// walks them: the --exceptions files and directories, then -f and --filename, then the
// arguments that are not flags (standard input, "-", aside). It reads the arguments as the
// scan's flag set does; a guess wrong here costs only a directory read ahead for nothing.
func ScanRoots(args []string) []string {
	var exceptions, files, positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			positional = append(positional, arg)
			continue
		}
		name := arg[1:]
		if name[0] == '-' {
			name = name[1:]
		}
		value, hasValue := "", false
		for j := 0; j < len(name); j++ {
			if name[j] == '=' {
				name, value, hasValue = name[:j], name[j+1:], true
				break
			}
		}
		into, ok := ValueFlags[name]
		if !ok {
			continue // a boolean flag, or one the scan refuses
		}
		if !hasValue {
			if i+1 == len(args) {
				break
			}
			i++
			value = args[i]
		}
		switch into {
		case "exceptions":
			exceptions = append(exceptions, value)
		case "paths":
			files = append(files, value)
		}
	}
	var roots []string
	for _, r := range append(append(exceptions, files...), positional...) {
		if r != "-" {
			roots = append(roots, r)
		}
	}
	return roots
}

// ValueFlags are the scan's flags that take a value, and what the value is: "paths" (manifests
// to scan), "exceptions", or "" (not walked). The scan's tests hold it to its flag set.
var ValueFlags = map[string]string{
	"f":               "paths",
	"filename":        "paths",
	"exceptions":      "exceptions",
	"profile":         "",
	"o":               "",
	"output":          "",
	"fail-on":         "",
	"show":            "",
	"namespace":       "",
	"admin-namespace": "",
}
