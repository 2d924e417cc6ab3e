package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrExists is returned by Store.Put when the key is already written: segments are never
// overwritten, and a second writer (a leader around a failover) learns it lost the race.
var ErrExists = errors.New("object already exists")

// ErrNotFound is returned by Store.Get for a key that is not there.
var ErrNotFound = errors.New("object not found")

// Store keeps the journal's objects. Keys are slash-separated paths.
type Store interface {
	// Put writes a new object; it returns ErrExists when the key is already written.
	Put(ctx context.Context, key string, data []byte) error
	// Get opens an object for reading; ErrNotFound when it is not there.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns the keys under prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// String names the store for messages (no credentials).
	String() string
}

// Delete removes an object. It is not part of Store: the journal never deletes; tests use it to
// show tampering is caught (or, with Object Lock, refused).
type Deleter interface {
	Delete(ctx context.Context, key string) error
}

// HiddenLister is a store that can hide an object without removing it (a versioned bucket: a
// delete marker over the object's versions). Verification asks it which keys are hidden.
type HiddenLister interface {
	// ListHidden returns the keys under prefix that are hidden, sorted.
	ListHidden(ctx context.Context, prefix string) ([]string, error)
}

// ReplacedLister is a store that keeps every version of an object (a versioned bucket), so that
// an object written over keeps the version first written. Verification asks it which keys hold
// more than one version: the journal never writes a key twice.
type ReplacedLister interface {
	// ListReplaced returns the keys under prefix that hold more than one version, sorted.
	ListReplaced(ctx context.Context, prefix string) ([]string, error)
}

// ModTimeLister is a store that says when each object was stored, by its own clock (S3's
// LastModified, set by the server). Verification compares it with the times of each segment's
// records: the operator stores a segment within minutes of its last record.
type ModTimeLister interface {
	// ListModTimes returns when each object under prefix was stored, by key.
	ListModTimes(ctx context.Context, prefix string) (map[string]time.Time, error)
}

// RetentionReader is a store that keeps objects under a retention lock (S3 Object Lock).
// Verification asks it how each segment is locked.
type RetentionReader interface {
	// Retention returns key's lock mode ("" when it has none: no retention, or none the store
	// keeps) and the time until which it is retained.
	Retention(ctx context.Context, key string) (mode string, until time.Time, err error)
}

// OpenStore opens a store from a URL:
//
//	file:///var/lib/soc2-operator/journal   (or a plain path)
//	s3://bucket/prefix?region=us-east-1&endpoint=http://127.0.0.1:7070&path-style=true&lock-mode=governance&retain-days=400
func OpenStore(ctx context.Context, raw string) (Store, error) {
	if raw == "" {
		return nil, errors.New("no journal store given")
	}
	if !strings.Contains(raw, "://") {
		return NewFileStore(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("journal store %q: %w", raw, err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("journal store %q: a file URL has no host (file:///path)", raw)
		}
		return NewFileStore(u.Path)
	case "s3":
		return openS3Store(ctx, u)
	default:
		return nil, fmt.Errorf("journal store %q: unknown scheme %q (file or s3)", raw, u.Scheme)
	}
}

// FileStore keeps objects as files under a directory (a PVC in a cluster, a temp dir in a demo).
type FileStore struct {
	dir string
}

// NewFileStore opens (and creates) a directory store.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("file store: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("file store %s: %w", dir, err)
	}
	return &FileStore{dir: abs}, nil
}

func (s *FileStore) path(key string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("file store: invalid key %q", key)
	}
	return filepath.Join(s.dir, clean), nil
}

// Put writes the object to a temporary file, syncs it and links it into place, failing when the
// key exists (link never replaces), so a reader never sees half a segment.
func (s *FileStore) Put(_ context.Context, key string, data []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("file store: writing %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("file store: syncing %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	if err := os.Link(tmp.Name(), p); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("file store: %s: %w", key, ErrExists)
		}
		return fmt.Errorf("file store: %w", err)
	}
	if d, err := os.Open(filepath.Dir(p)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Get opens an object.
func (s *FileStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("file store: %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	return f, nil
}

// List returns the keys under prefix (a directory prefix ending in "/", or a key prefix).
func (s *FileStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	// Walk only the directory the prefix is in.
	root := s.dir
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		sub, err := s.path(prefix[:i])
		if err != nil {
			return nil, err
		}
		root = sub
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("file store %s: listing: %w", s.dir, err)
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete removes an object (tests only; the journal never deletes).
func (s *FileStore) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

func (s *FileStore) String() string { return "file://" + filepath.ToSlash(s.dir) }
