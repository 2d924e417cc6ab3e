// Command bootstrapskew writes the rules that earlier Kubernetes releases' bootstrap policies
// give their roles and the newest one embedded in internal/checks/bootstrappolicy does not: a
// cluster keeps the rules of the release that created it (the API server adds missing rules at
// start and never removes any), so those rules are still Kubernetes' own there.
//
//	go run ./hack/bootstrapskew NEWEST_TESTDATA OLDER_TESTDATA... > internal/checks/bootstrappolicy/older-releases-roles.yaml
//
// Each argument is a k8s.io/kubernetes module's plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
// testdata directory (`go mod download -json k8s.io/kubernetes@vX.Y.Z` prints the module's Dir).
// Roles the newest policy has are written with the rules it does not cover (k8s.io/component-helpers'
// Covers, which the API server's escalation check uses), roles it no longer has whole, with
// their labels (system:csi-external-provisioner, 1.10 to 1.16); not the
// roles it aggregates (admin, edit, view), whose rules the aggregation controller replaces.
// The file embedded holds the first and the last patch release of every minor release from
// 1.8, the first whose testdata is in rbac.authorization.k8s.io/v1, to the one before the
// newest: a cluster created by any of them may still run, upgraded.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
	"sigs.k8s.io/yaml"
)

type role struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace,omitempty"`
		// Labels are written for a role the newest policy no longer has (its
		// kubernetes.io/bootstrapping label); the newest policy's are the others'.
		Labels map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Rules []rbacv1.PolicyRule `json:"rules"`
	// AggregationRule is read, not written: an aggregated role's rules are what the aggregation
	// controller copies from the roles it selects (the API server's reconciliation gives admin,
	// edit and view, which had rules of their own before 1.9, their aggregationRule), so the
	// rules an older release gave it are not kept.
	AggregationRule *rbacv1.AggregationRule `json:"aggregationRule,omitempty"`
}

func (r role) key() string { return r.Kind + "/" + r.Metadata.Namespace + "/" + r.Metadata.Name }

// roles reads a testdata directory's roles, by key; a role in two files (cluster-roles and
// cluster-roles-featuregates) has the rules of both.
func roles(dir string) (map[string]*role, error) {
	out := map[string]*role{}
	for _, f := range []string{"cluster-roles.yaml", "cluster-roles-featuregates.yaml", "controller-roles.yaml", "namespace-roles.yaml"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var list struct{ Items []role }
		if err := yaml.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, f), err)
		}
		for _, r := range list.Items {
			if have := out[r.key()]; have != nil {
				have.Rules = append(have.Rules, r.Rules...)
				continue
			}
			r := r
			out[r.key()] = &r
		}
	}
	return out, nil
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: bootstrapskew NEWEST_TESTDATA OLDER_TESTDATA...")
		os.Exit(2)
	}
	newest, err := roles(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bootstrapskew:", err)
		os.Exit(1)
	}
	added := map[string]*role{}
	for _, dir := range os.Args[2:] {
		older, err := roles(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bootstrapskew:", err)
			os.Exit(1)
		}
		for k, r := range older {
			cur := newest[k]
			if cur == nil && r.AggregationRule == nil {
				// A role the newest policy no longer has stays in the clusters an older
				// release created (the API server deletes none): written whole.
				cur = &role{APIVersion: r.APIVersion, Kind: r.Kind, Metadata: r.Metadata}
				newest[k] = cur
				added[k] = &role{APIVersion: r.APIVersion, Kind: r.Kind, Metadata: r.Metadata}
			}
			if cur.AggregationRule != nil {
				continue
			}
			have := cur.Rules
			if a := added[k]; a != nil {
				have = append(slices.Clone(have), a.Rules...)
			}
			if covered, missing := validation.Covers(have, r.Rules); !covered {
				if added[k] == nil {
					added[k] = &role{APIVersion: cur.APIVersion, Kind: cur.Kind, Metadata: cur.Metadata}
					added[k].Metadata.Labels = nil
				}
				added[k].Rules = append(added[k].Rules, missing...)
			}
		}
	}
	keys := make([]string, 0, len(added))
	for k := range added {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	list := struct {
		APIVersion string  `json:"apiVersion"`
		Items      []*role `json:"items"`
		Kind       string  `json:"kind"`
	}{APIVersion: "v1", Kind: "List"}
	for _, k := range keys {
		list.Items = append(list.Items, added[k])
	}
	out, err := yaml.Marshal(list)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bootstrapskew:", err)
		os.Exit(1)
	}
	var from []string
	for _, dir := range os.Args[2:] {
		if i := strings.Index(dir, "kubernetes@"); i >= 0 {
			from = append(from, strings.SplitN(dir[i+len("kubernetes@"):], "/", 2)[0])
		}
	}
	fmt.Printf("# Generated by hack/bootstrapskew: the rules the bootstrap policies of k8s.io/kubernetes %s\n# give their roles and the newest embedded one does not.\n%s", strings.Join(from, ", "), out)
}
