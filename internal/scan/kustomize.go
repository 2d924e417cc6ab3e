package scan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/manifest"
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
// `kustomize build` would emit, and a note on a kustomization it cannot read. The note follows
// the kustomization's path and a colon (kustomizationErrors).
func kustomizationNote(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("a kustomization that could not be read (%v): scan judged the files as written", err)
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil {
		return fmt.Sprintf("a kustomization that is not valid YAML (%v): scan judged the files as written", err)
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
	return fmt.Sprintf("a kustomization that builds its objects (%s): scan judged the files under %s as written, not what the kustomization deploys; "+
		"to judge that, scan its output: kustomize build %s | soc2-operator scan -", strings.Join(why, ", "), dir, dir)
}

// kustomizationErrors are the inputs scan could not read among the kustomizations a directory
// walk skipped: each whose output differs from the files scan read (kustomizationNote). What it
// deploys was not judged, as a Helm chart's is not, so the scan exits 3 (it exited 0 with a
// note: a prod overlay's patch making its base's container privileged passed the gate).
func kustomizationErrors(paths []string) []error {
	var errs []error
	for _, p := range paths {
		if note := kustomizationNote(p); note != "" {
			errs = append(errs, &manifest.DecodeError{Source: p, Err: errors.New(note)})
		}
	}
	return errs
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
