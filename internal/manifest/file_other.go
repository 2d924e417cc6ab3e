//go:build !unix

package manifest

import (
	"io"
	"os"
)

// openFile opens a file for FileReader and returns its size (0 when unknown).
func openFile(name string) (io.ReadCloser, int, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	size := 0
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && int64(int(info.Size())) == info.Size() {
		size = int(info.Size())
	}
	return f, size, nil
}
