package scan

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// plainKustomizationFields are the fields of a kustomization that leave the objects it lists
// as they are written: with only these, `kustomize build` deploys what scan reads.
var plainKustomizationFields = map[string]bool{
	"apiVersion": true, "kind": true, "metadata": true, "resources": true, "bases": true,
	"sortOptions": true, "buildMetadata": true,
}

// kustomizationNote explains, for a kustomization a directory walk skipped, why what scan
// judged may not be what the kustomization deploys: fields that change the objects (patches,
// namespace, images, generators, ...) and resources outside its directory (../base, a remote
// URL), which kustomize reads and the walk does not. It returns "" when scan read exactly what
// `kustomize build` would emit, and a note on a kustomization it cannot read.
func kustomizationNote(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("%s: a kustomization that could not be read (%v): scan judged the files as written", path, err)
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil {
		return fmt.Sprintf("%s: a kustomization that is not valid YAML (%v): scan judged the files as written", path, err)
	}
	var why []string
	for field := range k {
		if !plainKustomizationFields[field] {
			why = append(why, field)
		}
	}
	slices.Sort(why)
	for _, field := range []string{"resources", "bases"} {
		list, _ := k[field].([]any)
		for _, r := range list {
			if s, ok := r.(string); ok && outsideDirectory(s) {
				why = append(why, s)
			}
		}
	}
	if len(why) == 0 {
		return ""
	}
	if len(why) > 4 {
		why = append(why[:4], fmt.Sprintf("+%d more", len(why)-4))
	}
	dir := filepath.Dir(path)
	return fmt.Sprintf("%s builds its objects (%s): scan judged the files under %s as written, not what the kustomization deploys; "+
		"to judge that, scan its output: kustomize build %s | soc2-operator scan -", path, strings.Join(why, ", "), dir, dir)
}

// outsideDirectory reports whether a kustomization's resource lies outside its directory: a
// relative path that leaves it, an absolute path, or a remote one (a URL or a Git reference).
func outsideDirectory(resource string) bool {
	if strings.Contains(resource, "://") || strings.HasPrefix(resource, "git@") || filepath.IsAbs(resource) {
		return true
	}
	clean := filepath.ToSlash(filepath.Clean(resource))
	return clean == ".." || strings.HasPrefix(clean, "../")
}

// writeKustomizationNotes prints a note for each kustomization whose output differs from the
// files scan read, at most five, then how many more.
func writeKustomizationNotes(stderr io.Writer, paths []string) {
	const most = 5
	shown := 0
	more := 0
	for _, p := range paths {
		note := kustomizationNote(p)
		if note == "" {
			continue
		}
		if shown == most {
			more++
			continue
		}
		shown++
		fmt.Fprintf(stderr, "soc2-operator scan: note: %s\n", note)
	}
	if more > 0 {
		fmt.Fprintf(stderr, "soc2-operator scan: note: %d more kustomizations build objects other than the files scan read\n", more)
	}
}
