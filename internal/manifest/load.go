package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// StdinName is how objects read from standard input are named in errors and output.
const StdinName = "<stdin>"

// ErrNoManifests is the error for a directory that holds no manifest file at all: most likely
// a wrong path, which must not pass for a clean scan.
var ErrNoManifests = errors.New("no manifest files (*.yaml, *.yml, *.json) found")

// Load reads files, directories (recursively: every *.yaml, *.yml and *.json file, skipping
// .git directories and kustomization files; a Helm chart is an error, see walkManifests) and
// "-" for standard input. It returns every object it could read and one error per file or
// document it could not, in the order of the paths and, within a directory, of the walk
// (lexical), whatever order the files were decoded in. A directory with no manifest file is an
// error wrapping ErrNoManifests.
//
// Files are read and decoded in parallel by at most GOMAXPROCS workers: decoding is most of the
// time of a scan, and one file's objects do not depend on another's.
func Load(paths []string, stdin io.Reader) ([]*engine.Object, []error) {
	var objs []*engine.Object
	var errs []error
	LoadEach(paths, stdin, func(got []*engine.Object, gotErrs []error) {
		objs = append(objs, got...)
		errs = append(errs, gotErrs...)
	})
	return objs, errs
}

// LoadEach is Load handing over each file's objects and errors as soon as that file and every
// file before it are decoded, in the same order as Load, so that a caller can evaluate and drop
// objects instead of holding every one. emit is called from one goroutine at a time.
func LoadEach(paths []string, stdin io.Reader, emit func([]*engine.Object, []error)) {
	LoadEachWith(paths, stdin, Options{}, emit)
}

// readAhead is how many files per worker the walk may be ahead of emit. While emit is busy (a
// scan judges objects 64 at a time on every core there) or waits for a large file, the workers
// go on decoding the files behind it only as far as the window reaches. With 4 files per
// worker they ran dry: a runtime trace of a 20,000-object scan had the workers waiting 0.56 s
// for files and emit 0.58 s for the next file in order, of a 0.96 s read. 64 took a tenth off
// the whole scan's wall time at 3,000 and 20,000 objects, for a few MiB more.
const readAhead = 64

// maxReadAhead bounds the window whatever the number of cores: the objects of every file in it
// may be held at once, waiting for the file at its head.
const maxReadAhead = 512

// LoadEachWith is LoadEach keeping what opts says of each object.
//
// The paths are walked while the files found so far are decoded: listing a large tree is a
// good part of reading it, and the workers need not wait for the end of the walk.
func LoadEachWith(paths []string, stdin io.Reader, opts Options, emit func([]*engine.Object, []error)) {
	loadInputs(func(add func(input)) { listInputs(paths, stdin, opts.Kustomization, add) }, opts, emit)
}

// loadInputs decodes the inputs list adds (on a goroutine of its own) on every core and hands
// each one's objects and errors to emit in the order they were added.
func loadInputs(list func(add func(input)), opts Options, emit func([]*engine.Object, []error)) {
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		in      input
		batches chan batch
	}
	// The list hands each input to the workers and, in order, to emit; a window of readAhead
	// inputs per worker, maxReadAhead at most, bounds how far it runs ahead of emit, so that
	// decoded but not yet emitted objects stay few whatever the number of files.
	window := min(readAhead*workers, maxReadAhead)
	ordered := make(chan chan batch, window)
	next := make(chan job, window)
	go func() {
		list(func(in input) {
			// An input's objects come in one batch, a large file's in one per part
			// (decodeInParts): its worker waits for emit to take each before it sends the next.
			batches := make(chan batch, 1)
			ordered <- batches
			next <- job{in, batches}
		})
		close(ordered)
		close(next)
	}()
	for range workers {
		go func() {
			var bufs buffers
			for j := range next {
				j.in.decode(opts, &bufs, func(objs []*engine.Object, errs []error) { j.batches <- batch{objs, errs} })
				close(j.batches)
			}
		}()
	}
	for batches := range ordered {
		for b := range batches {
			emit(b.objs, b.errs)
		}
	}
}

// batch is objects and errors of an input, in order.
type batch struct {
	objs []*engine.Object
	errs []error
}

// input is one file to decode, part of a stream already split into documents (readStream), or
// an error found while listing the inputs.
type input struct {
	name string
	docs []document // a part of a stream already read (never empty), or nil for a file
	err  error
}

// decode decodes the input and hands its objects and errors to emit, in order: at once, or
// for a large file, or a pipe, a part at a time (decodeInParts).
func (in input) decode(opts Options, bufs *buffers, emit func([]*engine.Object, []error)) {
	if in.err != nil {
		emit(nil, []error{in.err})
		return
	}
	if in.docs != nil {
		emit(decodeDocuments(in.name, in.docs, opts, bufs))
		return
	}
	fail := func(err error) {
		emit(nil, []error{&DecodeError{Source: in.name, Err: unwrapPathError(err)}})
	}
	f, size, err := openFile(in.name)
	if err != nil {
		fail(err)
		return
	}
	defer f.Close()
	if size >= streamBytes || size == 0 {
		// Large, or not known: a pipe named by itself, as in scan -f <(helm template ...).
		decodeInParts(in.name, f, size, opts, emit)
		return
	}
	data, err := bufs.file.readFrom(f, size)
	if err != nil {
		fail(err)
		return
	}
	emit(decodeWith(in.name, data, opts, bufs))
}

// decodeInParts decodes a file of streamBytes or more (a rendered chart, an operator's install
// bundle, all of a repository rendered into one file), or of a size not known (a pipe), as a
// stream (readStream): a chunk at a time, its documents in parts on every core, each part's
// objects handed to emit in order as soon as they and those before them are decoded. Read whole
// and decoded on the one worker that opened it, the 20k copies as one file of 79 MB in a
// directory took 0.63-0.81 s and 166-173 MiB; in parts, 0.40-0.52 s and 135-139 MiB. The walk
// cannot hand such a file to the workers in parts itself, as it does standard input, because
// it does not know sizes: asking would cost a system call per file.
func decodeInParts(name string, r io.Reader, size int, opts Options, emit func([]*engine.Object, []error)) {
	loadInputs(func(add func(input)) {
		if err := readStream(name, r, size, add); err != nil {
			add(input{name: name, err: &DecodeError{Source: name, Err: unwrapPathError(err)}})
		}
	}, opts, emit)
}

// streamBytes is the size from which a file is read as a stream (decodeInParts), as standard
// input always is; streamPart is about how many bytes of a stream's documents make one input;
// streamChunk is how much of a stream is read at a time.
const (
	streamBytes = 1 << 20
	streamPart  = 64 << 10
)

var streamChunk = 1 << 20 // a variable for tests

// readStream reads a stream (standard input, or a large file: decodeInParts) a chunk at a
// time and adds its documents as inputs of whole documents about streamPart bytes each, in
// their order, as soon as they are read: so that they are decoded on every core and judged as
// they are read, as a directory's files are, and the stream is never held whole. Handed over
// as one input, the documents of 20,000 objects piped in were decoded on one core: 1.22-1.30 s,
// against 0.90-1.08 s in parts; read whole first (io.ReadAll), they peaked at 260 MiB.
//
// A stream of JSON values is read a chunk at a time too, and the items of a large List added
// as documents of their own (readJSONStream); one of UTF-16 text is read whole and then split
// (addStream). An error reading the stream is returned after the documents read before it are
// added.
//
// size is the stream's size when it is known (a regular file's, which may have changed since:
// it is read to its end all the same), or 0. A stream smaller than the buffer of two chunks
// that it would be read into is read into memory of its own size at once, and its documents
// are slices of that memory, not copies of them: argo-cd's core-install.yaml (1.9 MB) took
// 3.9 MB (the buffer, and the copies), and a scan of 20,000 objects holding ten copies of it
// allocated 20 MB less (TestAFileOfLessThanTwoChunksIsReadIntoMemoryOfItsSize).
func readStream(name string, r io.Reader, size int, add func(input)) error {
	var (
		s       splitter
		rest    []byte // read from the start of the document being read on
		scanned int    // how much of rest s has scanned
		yaml    bool   // the stream is known to be YAML (UTF-8)
		bom     bool   // a UTF-8 byte-order mark at its start was let go (utf8Text)
	)
	s.lists = true
	p := &parts{name: name, add: add}
	defer p.flush()
	// take adds docs, which are slices of buf: copies of them while buf is read into again,
	// and at the end of the stream the slices themselves, their capacity cut to their length
	// (they are decoded on every core at once, and no decoder may write into the next one).
	// A List's items are new already (yamlList).
	take := func(docs []document, end bool) {
		for i := range docs {
			switch {
			case docs[i].item != 0:
			case end:
				docs[i].body = slices.Clip(docs[i].body)
			default:
				docs[i].body = bytes.Clone(docs[i].body)
			}
		}
		p.take(docs...)
	}
	chunk := streamChunk
	if size > 0 && size < 2*streamChunk {
		chunk = size + 1 // one read to its end, when its size has not changed
	}
	var buf []byte
	for {
		// One buffer, for the rest of the last chunk and the next one, grown by doubling for a
		// document larger than a chunk. A new (cleared) buffer for each chunk instead, with
		// the documents slices of it, took 0.1 s of a core more on 158 MB of JSON (see
		// jsonReader, which reads on from this one).
		switch {
		case chunk != streamChunk: // the first read, of the whole stream
			buf = make([]byte, 0, chunk)
		case cap(buf) < len(rest)+chunk:
			buf = make([]byte, len(rest), max(2*chunk, 2*len(rest)))
		}
		buf = buf[:len(rest)]
		copy(buf, rest)
		n, err := io.ReadFull(r, buf[len(rest):len(rest)+chunk])
		buf = buf[:len(rest)+n]
		chunk = streamChunk
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			// The documents read whole before the error are still read.
			if yaml {
				docs, _, _ := s.split(buf, scanned, false)
				take(docs, false)
			}
			return err
		}
		if !yaml {
			if !bom && bytes.HasPrefix(buf, utf8BOM) {
				buf, bom = buf[len(utf8BOM):], true
			}
			if !bom && utf16Order(buf) != nil {
				// UTF-16 (its byte-order mark): read whole.
				whole := buf
				if !eof {
					more, err := io.ReadAll(r)
					if err != nil {
						return err
					}
					whole = append(whole, more...)
				}
				p.flush()
				addStream(name, whole, add)
				return nil
			}
			if isJSONStream(buf) {
				return readJSONStream(buf, r, eof, p)
			}
			if len(bytes.TrimSpace(buf)) <= utf8.UTFMax && !eof {
				rest = buf // nothing yet that tells YAML from JSON
				continue
			}
			yaml = true
		}
		docs, start, stop := s.split(buf, scanned, eof)
		take(docs, eof)
		if eof {
			return nil
		}
		rest, scanned = buf[start:], stop-start
		switch {
		case s.list != nil:
			if len(rest) > MaxDocumentBytes {
				// The item being read, too large to be read: counted and let go.
				s.list.dropped += scanned
				rest, scanned = rest[scanned:], 0
			}
			continue
		case s.limit == 0 && len(rest) > MaxDocumentBytes:
			// Decided once, on what has been read of it: a List's items key comes early.
			s.limit = documentLimit(rest)
		}
		if s.limit != 0 && s.dropped+len(rest) > s.limit {
			// Too large to be read: counted and let go, so that memory stays bounded.
			s.drop(rest[:scanned])
			rest, scanned = rest[scanned:], 0
		}
	}
}

// parts gathers a stream's documents, in order, into inputs of about streamPart bytes each
// (readStream).
type parts struct {
	name string
	add  func(input)
	docs []document
	size int
}

func (p *parts) take(docs ...document) {
	for _, d := range docs {
		p.docs = append(p.docs, d)
		if p.size += len(d.body); p.size >= streamPart {
			p.flush()
		}
	}
}

// flush adds the documents gathered as an input, if there are any.
func (p *parts) flush() {
	if len(p.docs) > 0 {
		p.add(input{name: p.name, docs: p.docs})
		p.docs, p.size = nil, 0
	}
}

// addStream adds the documents of a stream read whole as inputs of about streamPart bytes each
// (see readStream).
func addStream(name string, data []byte, add func(input)) {
	docs := splitDocuments(utf8Text(data))
	start, size := 0, 0
	for i, d := range docs {
		size += len(d.body)
		if size >= streamPart || i == len(docs)-1 {
			add(input{name: name, docs: docs[start : i+1]})
			start, size = i+1, 0
		}
	}
}

// buffers are one decoding goroutine's memory for what it reads and then lets go: the file,
// and the JSON the block reader writes for each document. Nothing decoded keeps their bytes
// (strings are copied out of them), so they are reused from one file and document to the next
// instead of being garbage.
type buffers struct {
	file  FileReader
	block BlockScratch
}

// FileReader reads whole files into one buffer that it reuses, for a reader of many files that
// is done with each file's bytes before it reads the next: a scan reads tens of thousands of
// files, and a new buffer for each (os.ReadFile) costs page faults on fresh memory and garbage
// collection, as much again as reading. A file over maxKeptBuffer is read into a buffer that is
// not kept.
type FileReader struct {
	buf []byte
}

const maxKeptBuffer = 4 << 20

// Read returns the content of the file, valid until the next Read. Its errors are os.ReadFile's.
func (r *FileReader) Read(name string) ([]byte, error) {
	f, size, err := openFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return r.readFrom(f, size)
}

// readFrom reads f, whose size when opened was size (0: not known), to its end. A read that
// returns exactly size bytes ends it without the read that would return EOF: what is read is
// the file as it was when opened, and asking for a byte more shows whether it has grown since
// (then it is read to its end). That read was one system call in five per file (20,000 files
// have 86,000), and a system call costs about 3 µs of CPU here.
func (r *FileReader) readFrom(f io.Reader, size int) ([]byte, error) {
	known := size
	size++ // one byte more, to see EOF (or growth) without growing the buffer
	if size < 512 {
		size = 512
	}
	data := r.buf[:0]
	if cap(data) < size {
		data = make([]byte, 0, size)
	}
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == nil && known > 0 && len(data) == known {
			err = io.EOF
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			if cap(data) <= maxKeptBuffer {
				r.buf = data[:0]
			}
			return data, err
		}
		if len(data) >= cap(data) {
			d := append(data[:cap(data)], 0)
			data = d[:len(data)]
		}
	}
}

// listInputs walks the paths into the files to read, in order, with the errors of the walk in
// their place, handing each to add.
func listInputs(paths []string, stdin io.Reader, kustomization func(string), add func(input)) {
	fail := func(source string, err error) {
		add(input{name: source, err: &DecodeError{Source: source, Err: err}})
	}
	for _, p := range paths {
		if p == "-" {
			if err := readStream(StdinName, stdin, 0, add); err != nil {
				fail(StdinName, err)
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			fail(p, unwrapPathError(err))
			continue
		}
		if err := notManifests(p, info.IsDir()); err != nil {
			fail(p, err)
			continue
		}
		if !info.IsDir() {
			add(input{name: p})
			continue
		}
		found := walkManifests(p, func(path string, d fs.DirEntry) {
			if !d.Type().IsRegular() {
				// Follow a symlink, but never read a named pipe or a device: the walk would
				// block or never end.
				info, err := os.Stat(path)
				if err != nil {
					fail(path, unwrapPathError(err))
					return
				}
				if !info.Mode().IsRegular() {
					fail(path, fmt.Errorf("not read: %s, not a regular file", fileType(info.Mode())))
					return
				}
			}
			add(input{name: path})
		}, kustomization, fail)
		if !found {
			fail(p, fmt.Errorf("%w in this directory or below it (.git directories and kustomization files are skipped)", ErrNoManifests))
		}
	}
}

// notManifests is the error of a path, named by the user, that holds no manifests to read as
// they are written, with the command that scans what it deploys: a Helm chart's templates
// directory or anything below it (chartTemplates), and, for a file, a kustomization, a chart's
// Chart.yaml or a Jsonnet program; nil for any other path.
func notManifests(path string, dir bool) error {
	if chart, ok := chartTemplates(path); ok {
		what := "a Helm chart's template, not a manifest"
		if dir {
			what = "a Helm chart's templates, not manifests"
		}
		return errChart(fmt.Sprintf("%s (the chart is %s)", what, chart), chart)
	}
	if dir {
		return nil
	}
	parent := filepath.Dir(path)
	switch {
	case isKustomization(filepath.Base(path)) && !holdsObjects(path):
		return fmt.Errorf("a kustomization, not manifests: scan what it builds (kustomize build %s | soc2-operator scan -)", parent)
	case filepath.Base(path) == chartFile:
		return fmt.Errorf("a Helm chart's %s, not a manifest: %s", chartFile, renderChart(parent))
	case isJsonnet(path):
		return errJsonnet(path)
	}
	return nil
}

// isJsonnet reports whether a file is a Jsonnet program by its name: Argo CD's directory
// applications evaluate every *.jsonnet file among the manifests and deploy what it returns
// (kubectl apply -R reads none). scan cannot know the arguments Argo CD gives it, so it names
// the file as an input it could not read (exit 3) instead of passing over what may deploy
// objects (a JSON object is a Jsonnet program too); libraries (*.libsonnet) are not evaluated
// by themselves and are skipped as any other file.
func isJsonnet(name string) bool { return strings.EqualFold(filepath.Ext(name), ".jsonnet") }

// errJsonnet is the error of a Jsonnet program (isJsonnet).
func errJsonnet(path string) error {
	return fmt.Errorf("a Jsonnet program, not manifests: Argo CD evaluates it and deploys what it returns; scan that (jsonnet %s | soc2-operator scan -)", path)
}

// chartFile is the file that makes a directory a Helm chart (Helm reads it by this name only).
const chartFile = "Chart.yaml"

// renderChart says how to scan what the Helm chart in dir deploys.
func renderChart(dir string) string {
	return fmt.Sprintf("scan what it renders (helm template %s | soc2-operator scan -)", dir)
}

// chartTemplates reports whether path is a Helm chart's templates directory, or lies below one,
// and returns the chart's directory as the user would name it (relative to the working
// directory when path is relative). A walk stops at a chart's directory (errChart), but a path
// can name its templates itself (-f charts/web/templates): read as files, a template that
// happens to parse would be judged with its {{ }} as written and the rest would be errors. Only
// templates/ is the chart's: crds/ holds manifests Helm applies as they are written.
func chartTemplates(path string) (chart string, ok bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	for dir := abs; ; {
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		if filepath.Base(dir) == "templates" {
			if info, err := os.Stat(filepath.Join(parent, chartFile)); err == nil && info.Mode().IsRegular() {
				chart = parent
				break
			}
		}
		dir = parent
	}
	if !filepath.IsAbs(path) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, chart); err == nil {
				chart = rel
			}
		}
	}
	return chart, true
}

// errChart is the error of an input that is the Helm chart in the directory chart, or part of
// it, as what says: a chart's directory met in a walk (walkManifests), or its templates named
// as a path (notManifests).
func errChart(what, chart string) error {
	return fmt.Errorf("%s: its templates are judged only as rendered: %s", what, renderChart(chart))
}

// walkManifests walks the directory dir as filepath.WalkDir does (entries in lexical order,
// symbolic links below dir not followed; dir itself is read through a link, as find -H and
// kubectl apply -R -f read it) and hands file every manifest file (IsManifestFile),
// kustomization every kustomization file (if it is not nil), and fail each directory it cannot
// read, each Helm chart and each Jsonnet program (isJsonnet) with its error. It reports whether
// it found a manifest file, a chart or a program. Hidden directories are walked, as `kubectl
// apply -R -f` and Argo CD's directory applications walk them: skipped, `deploy/.x/pod.yaml`
// was deployed and never judged. Only .git is not: Git keeps its own data there, and refuses to check out a file under a .git
// directory, so nothing committed can be in one. A directory that holds a Chart.yaml is a Helm
// chart: its templates are Go templates, not manifests, and its values, Chart.yaml and ci/
// files are no objects (read as manifests, the project's own chart gave 40 errors, "invalid
// JSON at line 1: invalid character '{'" or "kind is missing", and a template that happened to
// parse would have been judged with its {{ }} as written), so the directory is one error
// (errChart) and nothing below it is read. The chart is known from the entries the walk reads
// anyway: asking for a Chart.yaml in each directory (os.Lstat) cost 22 ms at 20k objects
// (5,455 directories).
func walkManifests(dir string, file func(path string, d fs.DirEntry), kustomization func(path string), fail func(path string, err error)) (found bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fail(dir, unwrapPathError(err))
		return false
	}
	if slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == chartFile && !e.IsDir() }) {
		fail(dir, errChart("a Helm chart ("+chartFile+"), not manifests", dir))
		return true
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			if e.Name() != ".git" && walkManifests(path, file, kustomization, fail) {
				found = true
			}
		case IsManifestFile(e.Name()), isKustomization(e.Name()) && holdsObjects(path):
			file(path, e)
			found = true
		case isJsonnet(e.Name()):
			fail(path, errJsonnet(path))
			found = true
		case kustomization != nil && isKustomization(e.Name()):
			kustomization(path)
		}
	}
	return found
}

// IsManifestFile reports whether a directory walk reads the file: YAML or JSON, and not a
// kustomization (which configures a tool and is not an object).
func IsManifestFile(name string) bool {
	if isKustomization(name) {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// isKustomization reports whether a file is a kustomization by its name (kustomize looks for
// kustomization.yaml, kustomization.yml or Kustomization; any case, for file systems that
// ignore it).
func isKustomization(name string) bool {
	switch strings.ToLower(name) {
	case "kustomization.yaml", "kustomization.yml", "kustomization":
		return true
	}
	return false
}

// maxKustomizationBytes bounds what holdsObjects reads of a file named as a kustomization;
// a larger one is read as manifests.
const maxKustomizationBytes = 1 << 20

// holdsObjects reports whether a file named as a kustomization holds Kubernetes objects rather
// than a kustomization: kubectl apply -f DIR applies the objects of every file, whatever its
// name, so a Pod in kustomization.yaml is deployed and must be judged. A kustomization has
// kustomize's apiVersion, or none (kubectl refuses it). A file that cannot be read is read as
// manifests, so that its error is reported; so is one with a document scan cannot read (but
// one with neither apiVersion nor kind, or kustomize's kind and no apiVersion, which kustomize
// reads as a kustomization): kubectl may read it otherwise and apply it (a key written twice,
// which yaml.v2 lets the last of win), and skipped for the file's name it would pass in silence.
func holdsObjects(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKustomizationBytes+1))
	if err != nil || len(data) > maxKustomizationBytes {
		return true
	}
	objs, errs := Decode(path, data)
	for _, err := range errs {
		if !errors.Is(err, ErrNotAnObject) && !kustomizationWithoutAPIVersion(err) {
			return true
		}
	}
	return slices.ContainsFunc(objs, func(o *engine.Object) bool {
		return !strings.HasPrefix(o.APIVersion, "kustomize.config.k8s.io/")
	})
}

// kustomizationWithoutAPIVersion reports whether err is typeMetaError's for a document of
// kustomize's kinds without an apiVersion, which kustomize fills in (FixKustomization).
func kustomizationWithoutAPIVersion(err error) bool {
	var de *DecodeError
	if !errors.As(err, &de) {
		return false
	}
	msg := de.Err.Error()
	return msg == "Kustomization: apiVersion is missing" || msg == "Component: apiVersion is missing"
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
