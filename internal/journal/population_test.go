package journal

import (
	"slices"
	"strings"
	"testing"
)

// A population's digest joins its "Kind/name" entries with line feeds, and an RBAC object's name
// may hold a line feed (it need only be a valid path segment). It may not hold a '/', nor may
// any Kubernetes name or kind, so each entry begins at the one line holding a '/' and the joined
// text gives back the list: two different populations never share a digest. A Role named
// "a\nb" beside "c" is not the Roles "a" and "b\nc", nor one Role of the joined name.
func TestPopulationsThatDifferHaveDifferentDigests(t *testing.T) {
	lists := [][]string{
		{"Role/a\nRole", "Role/b"},
		{"Role/a", "Role/b"},
		{"Role/a\nb", "Role/c"},
		{"Role/a", "Role/b\nc"},
		{"Role/a\nb\nc"},
		{"Role/a\n", "Role/b"},
		{"Role/a", "Role/\nb"},
		{"Role/a\n\nb"},
		{"Role/a\n", "Role/\nb"},
		{"Role/a", "RoleBinding/b"},
		{},
		{"Role/a"},
	}
	seen := map[string][]string{}
	for _, l := range lists {
		l = slices.Clone(l)
		slices.Sort(l)
		d := PopulationDigest(l)
		if other, ok := seen[d]; ok {
			t.Errorf("%q and %q have the same digest %s", other, l, d)
		}
		seen[d] = l
	}
}

// The digested text gives back the list for any names without '/' (what every Kubernetes name
// is): a line holding a '/' begins an entry, any other continues the name before it.
func FuzzPopulationTextGivesBackTheList(f *testing.F) {
	f.Add("a\nb\x00c")
	f.Add("a\n\x00\nb\n")
	f.Add("\n\x00a")
	f.Fuzz(func(t *testing.T, names string) {
		var list []string
		for i, n := range strings.Split(strings.ReplaceAll(names, "/", ""), "\x00") {
			if n != "" {
				list = append(list, []string{"Role", "RoleBinding.rbac.authorization.k8s.io"}[i%2]+"/"+n)
			}
		}
		slices.Sort(list)
		list = slices.Compact(list)
		var text strings.Builder
		for _, e := range list {
			text.WriteString(e + "\n")
		}
		var back []string
		for line := range strings.SplitSeq(strings.TrimSuffix(text.String(), "\n"), "\n") {
			if strings.Contains(line, "/") || len(back) == 0 {
				back = append(back, line)
			} else {
				back[len(back)-1] += "\n" + line
			}
		}
		if len(list) == 0 {
			back = nil
		}
		if !slices.Equal(back, list) {
			t.Errorf("%q reads back as %q", list, back)
		}
	})
}
