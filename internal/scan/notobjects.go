package scan

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// notObjectsNote counts the documents that are no Kubernetes objects at all
// (manifest.ErrNotAnObject: a GitHub workflow, a docker-compose file, a package.json) and keeps
// the first few, for one note on standard error. They are not input errors: kubectl apply and
// Argo CD refuse them, so they deploy nothing a scan could miss, and a repository's own tooling
// files no longer fail `scan -f .` with exit 3. A path with nothing else still exits 2 (no
// objects).
type notObjectsNote struct {
	n     int
	first []string
}

// notObjectsListed is how many of them the note names.
const notObjectsListed = 5

func (n *notObjectsNote) add(err error) {
	n.n++
	if len(n.first) == notObjectsListed {
		return
	}
	where := err.Error()
	var de *manifest.DecodeError
	if errors.As(err, &de) {
		where = de.Source
		if de.Document > 1 {
			where += fmt.Sprintf(" (document %d)", de.Document)
		}
	}
	n.first = append(n.first, where)
}

func (n *notObjectsNote) write(w io.Writer) {
	if n.n == 0 {
		return
	}
	names := strings.Join(n.first, ", ")
	if more := n.n - len(n.first); more > 0 {
		names += fmt.Sprintf(", +%d more", more)
	}
	fmt.Fprintf(w, "soc2-operator scan: note: %s that %s (neither apiVersion nor kind; kubectl apply refuses %s) %s not judged: %s\n",
		counted(n.n, "document"), oneOrMany(n.n, "is not a Kubernetes object", "are not Kubernetes objects"),
		oneOrMany(n.n, "it", "them"), oneOrMany(n.n, "was", "were"), names)
}
