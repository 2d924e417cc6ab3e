package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestManifestsDecodeAsTheOperatorReads holds the overlap of the two kind tables: Kinds (what
// the operator watches, with list types and scope, for the informer cache and RBAC) and
// internal/manifest's (what a file's object decodes into, which also covers older API groups,
// kinds only scan judges and the operator's own kinds). Both exist on purpose: the operator must
// read no kind a check does not need (TestTheOperatorReadsWhatTheChecksRead), while scan reads
// whatever a file holds. Where both know a kind, a check must see the same Go type (its type
// assertions decide what it judges) and the same scope, from the cluster and from a file.
func TestManifestsDecodeAsTheOperatorReads(t *testing.T) {
	for _, k := range Kinds {
		if k.ByName {
			continue // read as metadata only, by name: never judged as an object of its own
		}
		doc := fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata:\n  name: x\n", k.APIVersion(), k.GVK.Kind)
		objs, errs := manifest.Decode("kinds.yaml", []byte(doc))
		if len(errs) > 0 || len(objs) != 1 {
			t.Errorf("%s: decoding %q: %d objects, errors %v", k.GVK, doc, len(objs), errs)
			continue
		}
		if got, want := reflect.TypeOf(objs[0].Obj), reflect.TypeOf(k.New()); got != want {
			t.Errorf("%s: a manifest decodes into %v, the operator reads %v", k.GVK, got, want)
		}
		manifest.DefaultNamespace(objs, "ns")
		if namespaced := objs[0].Namespace == "ns"; namespaced != k.Namespaced {
			t.Errorf("%s: namespaced in manifests %v, for the operator %v", k.GVK, namespaced, k.Namespaced)
		}
	}
}

// TestTheOperatorReadsWhatTheChecksRead holds the watch list to the catalogue: every kind a
// check judges or reads in the cluster is watched, and nothing is watched (and cached) that no
// check reads.
func TestTheOperatorReadsWhatTheChecksRead(t *testing.T) {
	needed := map[string]bool{}
	for _, c := range checks.Catalogue() {
		if c.ManifestOnly {
			continue // judges manifests only; the operator never runs it
		}
		for _, k := range append(append([]string{}, c.Targets...), c.Reads...) {
			switch {
			case k == engine.TargetCluster:
			case k == engine.KindWorkload:
				for _, wk := range []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"} {
					needed[wk] = true
				}
			default:
				needed[k] = true
			}
		}
	}
	// The engine reads RuntimeClasses and Nodes itself, to decide a pod's OS.
	for _, k := range engine.OSKinds {
		needed[k] = true
	}
	watched := map[string]bool{}
	for _, k := range Kinds {
		watched[k.GVK.Kind] = true
	}
	var missing, unneeded []string
	for k := range needed {
		if !watched[k] {
			missing = append(missing, k)
		}
	}
	for k := range watched {
		if !needed[k] {
			unneeded = append(unneeded, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unneeded)
	if len(missing) > 0 {
		t.Errorf("checks read kinds the operator does not watch: %v", missing)
	}
	if len(unneeded) > 0 {
		t.Errorf("the operator watches kinds no check reads: %v", unneeded)
	}
	if watched["Secret"] {
		t.Error("the operator must never watch Secrets")
	}
}

// TestRBACNeverGrantsSecrets reads the generated role: the operator may not read Secrets, and
// writes only its own kinds, Events and, by name, its own admission policies (it creates them
// with server-side apply, which the API server authorises as create on the name: create on any
// name would let it bind a MutatingAdmissionPolicy that rewrites every object of the cluster).
// PolicyReports are written only with config/policyreport/writer.
func TestRBACNeverGrantsSecrets(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatal(err)
	}
	writes := map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true}
	allowedWrites := map[string]bool{
		"compliance.soc2-operator.io": true, "events.k8s.io": true,
	}
	own := map[string]bool{}
	for _, o := range admissionpolicy.Objects(admissionpolicy.DefaultOperatorUser()) {
		own[o.GetName()] = true
	}
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			if res == "secrets" || res == "*" {
				t.Errorf("the operator's role grants %v on %s", r.Verbs, res)
			}
		}
		for _, v := range r.Verbs {
			if !writes[v] {
				continue
			}
			for _, g := range r.APIGroups {
				if allowedWrites[g] {
					continue
				}
				if g == "" && strings.Join(r.Resources, ",") == "events" {
					continue
				}
				if g == "authentication.k8s.io" && v == "create" && strings.Join(r.Resources, ",") == "selfsubjectreviews" {
					continue // asks who the operator is; writes nothing
				}
				if g == "authorization.k8s.io" && v == "create" && strings.Join(r.Resources, ",") == "selfsubjectaccessreviews" {
					continue // asks what the operator may read; writes nothing
				}
				if g == "admissionregistration.k8s.io" && ownNames(r.ResourceNames, own) {
					continue
				}
				t.Errorf("the operator's role may %s %v in group %q", v, r.Resources, g)
			}
		}
	}
}

// ownNames reports whether a rule is limited to names of the operator's own objects.
func ownNames(names []string, own map[string]bool) bool {
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		if !own[n] {
			return false
		}
	}
	return true
}

// TestAddOnServedVersionsHoldWhatTheOperatorReads holds checks.AddOnServedVersions (the versions
// of add-on kinds some release serves; a scan refuses a copy of any other) to what the operator
// reads: a version the operator reads a kind at, its GVK's or an older release's (Kind.Older), is
// one a cluster may serve, and a scan must not refuse a copy in it.
func TestAddOnServedVersionsHoldWhatTheOperatorReads(t *testing.T) {
	for _, k := range Kinds {
		served, known := checks.AddOnServedVersions(k.GVK.GroupKind())
		if !known {
			continue
		}
		for _, v := range append([]string{k.GVK.Version}, k.Older...) {
			if !slices.Contains(served, v) {
				t.Errorf("%s: the operator reads it at %s, but a scan refuses that version as never served (served: %v)", k.GVK.GroupKind(), v, served)
			}
		}
	}
}
