package scan

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// skipKinds is --skip-kinds: the kinds of custom resources that run containers a scan is known
// not to judge, their controllers' Pods being judged in the cluster by the operator. Such a
// resource (manifest.ContainersError) is then no input error: a repository of Argo Rollouts
// could never make scan exit 0 otherwise, and a CI job that allowed exit 3 for them would allow
// unreadable files with them. A kind is matched as Kubernetes spells it (case-sensitive), by
// itself (Rollout, any group's) or with its API group (Rollout.argoproj.io, that group's
// only), as kubeconform's -skip takes kinds.
type skipKinds map[string]bool

// parseSkipKinds reads the values of --skip-kinds, each a comma-separated list; blank entries
// are ignored (an unset CI variable).
func parseSkipKinds(values []string) (skipKinds, error) {
	var s skipKinds
	for _, v := range values {
		for _, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			if k == "" {
				continue
			}
			kind, group, qualified := strings.Cut(k, ".")
			if kind == "" || strings.ContainsAny(k, "/ \t") || qualified && (group == "" || strings.HasPrefix(group, ".") || strings.HasSuffix(group, ".")) {
				return nil, fmt.Errorf("--skip-kinds %q: want a kind as Kubernetes spells it (Rollout) or a kind and its API group (Rollout.argoproj.io), comma-separated", k)
			}
			if s == nil {
				s = skipKinds{}
			}
			s[k] = true
		}
	}
	return s, nil
}

// skips reports whether e's kind is one --skip-kinds names.
func (s skipKinds) skips(e *manifest.ContainersError) bool {
	return s[e.Kind] || s[e.QualifiedKind()]
}

// skippedResources are the custom resources --skip-kinds left unjudged: counted by kind and
// namespace, and the first maxListedErrors of them kept to be listed, as input errors are.
type skippedResources struct {
	counts map[skippedKey]int
	listed []SkippedResource
}

type skippedKey struct{ kind, namespace string } // kind is Kind.group

// add counts e, read from the document of err (a manifest.DecodeError), if --skip-kinds skips
// its kind, and reports whether it did.
func (s *skippedResources) add(kinds skipKinds, err error) bool {
	var ce *manifest.ContainersError
	if len(kinds) == 0 || !errors.As(err, &ce) || !kinds.skips(ce) {
		return false
	}
	if s.counts == nil {
		s.counts = map[skippedKey]int{}
	}
	s.counts[skippedKey{ce.QualifiedKind(), ce.Namespace}]++
	if len(s.listed) < maxListedErrors {
		r := SkippedResource{Resource: v1alpha1.ResourceRef{APIVersion: ce.APIVersion, Kind: ce.Kind, Namespace: ce.Namespace, Name: ce.Name},
			Containers: ce.At}
		var de *manifest.DecodeError
		if errors.As(err, &de) {
			r.File, r.Document, r.Line = de.Source, de.Document, de.Line
		}
		s.listed = append(s.listed, r)
	}
	return true
}

// dropNamespaces forgets the resources in the namespaces unassessed names: the operator does
// not judge them either.
func (s *skippedResources) dropNamespaces(unassessed func(namespace string) bool) {
	for k := range s.counts {
		if unassessed(k.namespace) {
			delete(s.counts, k)
		}
	}
	kept := s.listed[:0]
	for _, r := range s.listed {
		if !unassessed(r.Resource.Namespace) {
			kept = append(kept, r)
		}
	}
	s.listed = kept
}

// total is how many resources were skipped.
func (s *skippedResources) total() int {
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// write writes the one note on standard error: how many were skipped, of which kinds.
func (s *skippedResources) write(w io.Writer) {
	n := s.total()
	if n == 0 {
		return
	}
	byKind := map[string]int{}
	for k, c := range s.counts {
		byKind[k.kind] += c
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if byKind[kinds[i]] != byKind[kinds[j]] {
			return byKind[kinds[i]] > byKind[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%d %s", byKind[k], k)
	}
	fmt.Fprintf(w, "soc2-operator scan: note: %s that %s containers %s not judged, of kinds --skip-kinds names: %s; "+
		"in the cluster the operator judges the Pods their controllers make\n",
		counted(n, "custom resource"), oneOrMany(n, "runs", "run"), oneOrMany(n, "was", "were"), strings.Join(kinds, ", "))
}

// skippedMessage is what the outputs say of a resource --skip-kinds skipped.
func skippedMessage(r SkippedResource) string {
	return fmt.Sprintf("%s %s %v (%s): --skip-kinds skips its kind; in the cluster the operator judges the Pods its controller makes",
		r.Resource.Kind, namespacedName(r.Resource), manifest.ErrContainersNotJudged, r.Containers)
}

// namespacedName is namespace/name, or name for an object without a namespace.
func namespacedName(r v1alpha1.ResourceRef) string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

// unlistedSkipped says that n more skipped resources than are listed were not judged.
func unlistedSkipped(n int) string {
	return fmt.Sprintf("%d more custom %s of kinds --skip-kinds names %s not judged; only the first %d are listed",
		n, oneOrMany(n, "resource", "resources"), oneOrMany(n, "was", "were"), maxListedErrors)
}
