package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedDocIsCurrent: docs/rbac.md is what the roles of config/rbac render to, and every
// rule has a reason.
func TestCommittedDocIsCurrent(t *testing.T) {
	got, err := render("../..")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../docs/rbac.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("docs/rbac.md is stale: run make manifests")
	}
}

// TestNewRuleWithoutAReasonFails: a marker that adds a verb fails the generator, naming the
// rule, until its reason is written.
func TestNewRuleWithoutAReasonFails(t *testing.T) {
	root := t.TempDir()
	for _, s := range sources {
		data, err := os.ReadFile(filepath.Join("../..", s.file))
		if err != nil {
			t.Fatal(err)
		}
		if s.role == "manager-role" {
			data = []byte(strings.Replace(string(data), "  - storageclasses\n  verbs:\n  - get\n", "  - storageclasses\n  verbs:\n  - delete\n  - get\n", 1))
		}
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(s.file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, s.file), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := render(root)
	if err == nil || !strings.Contains(err.Error(), `no reason for the rule "storage.k8s.io: storageclasses: delete, get, list, watch"`) {
		t.Fatalf("render with a new verb: %v", err)
	}
}
