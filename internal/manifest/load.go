package manifest

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// StdinName is how objects read from standard input are named in errors and output.
const StdinName = "<stdin>"

// Load reads files, directories (recursively: every *.yaml, *.yml and *.json file, skipping
// hidden directories and kustomization files) and "-" for standard input. It returns every
// object it could read and one error per file or document it could not.
func Load(paths []string, stdin io.Reader) ([]*engine.Object, []error) {
	var objs []*engine.Object
	var errs []error
	read := func(name string, data []byte) {
		got, derrs := Decode(name, data)
		objs = append(objs, got...)
		errs = append(errs, derrs...)
	}
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, &DecodeError{Source: StdinName, Err: err})
				continue
			}
			read(StdinName, data)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &DecodeError{Source: p, Err: unwrapPathError(err)})
			continue
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				errs = append(errs, &DecodeError{Source: p, Err: unwrapPathError(err)})
				continue
			}
			read(p, data)
			continue
		}
		walkErr := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, &DecodeError{Source: path, Err: unwrapPathError(err)})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if !IsManifestFile(d.Name()) {
				return nil
			}
			if !d.Type().IsRegular() {
				// Follow a symlink, but never read a named pipe or a device: the walk would
				// block or never end.
				info, err := os.Stat(path)
				if err != nil {
					errs = append(errs, &DecodeError{Source: path, Err: unwrapPathError(err)})
					return nil
				}
				if !info.Mode().IsRegular() {
					errs = append(errs, &DecodeError{Source: path, Err: fmt.Errorf("not read: %s, not a regular file", fileType(info.Mode()))})
					return nil
				}
			}
			data, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, &DecodeError{Source: path, Err: unwrapPathError(err)})
				return nil
			}
			read(path, data)
			return nil
		})
		if walkErr != nil {
			errs = append(errs, &DecodeError{Source: p, Err: walkErr})
		}
	}
	return objs, errs
}

// IsManifestFile reports whether a directory walk reads the file: YAML or JSON, and not a
// kustomization (which configures a tool and is not an object).
func IsManifestFile(name string) bool {
	switch strings.ToLower(name) {
	case "kustomization.yaml", "kustomization.yml":
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
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
