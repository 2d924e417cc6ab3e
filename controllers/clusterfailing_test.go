package controllers

import (
	"maps"
	"testing"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestClusterFailingKeptIsTheProfileObjects: the failing cluster-scoped findings kept on the
// Lease are read back for the profile object that kept them only: a profile deleted and
// created again under the name is another profile, whose first evaluation must not take the
// old one's findings as identified. Past maxKeptClusterFailing nothing is kept.
func TestClusterFailingKeptIsTheProfileObjects(t *testing.T) {
	failing := map[uint64]bool{1: true, 0xfedcba9876543210: true, 42: true}
	value := encodeClusterFailing("uid-1", failing, nil)
	if got, atLeast, ok := decodeClusterFailing("uid-1", value); !ok || !maps.Equal(got, failing) || atLeast != "" {
		t.Errorf("read back %v, %q, %v; want %v", got, atLeast, ok, failing)
	}
	if got, _, ok := decodeClusterFailing("uid-2", value); ok {
		t.Errorf("another profile object read %v", got)
	}
	if got, _, ok := decodeClusterFailing("uid-1", encodeClusterFailing("uid-1", nil, nil)); !ok || len(got) != 0 {
		t.Errorf("none failing read back as %v, %v", got, ok)
	}
	for _, bad := range []string{"", "uid-1", "uid-1 0123", "uid-1 000000000000000g", "uid-1 Medium:0000000000000001", "uid-1 :0000000000000001"} {
		if got, _, ok := decodeClusterFailing("uid-1", bad); ok {
			t.Errorf("%q read as %v", bad, got)
		}
	}
	critical := map[uint64]v1alpha1.Severity{}
	many := map[uint64]bool{}
	for i := range maxKeptClusterFailing + 1 {
		many[uint64(i)] = true
		critical[uint64(i)] = v1alpha1.SeverityCritical
	}
	if v := encodeClusterFailing("uid-1", many, critical); v != "" {
		t.Errorf("%d Critical findings kept (%d bytes)", len(many), len(v))
	}
}

// TestPastTheBoundTheSevereClusterFindingsAreKept: a profile with more failing cluster-scoped
// findings than maxKeptClusterFailing kept none, so after a restart a Critical one made in place
// of another was not identified. The High and Critical ones are kept, with the severity at or
// above which all are; past the bound with those, the Critical ones alone.
func TestPastTheBoundTheSevereClusterFindingsAreKept(t *testing.T) {
	failing := map[uint64]bool{}
	severity := map[uint64]v1alpha1.Severity{}
	for i := range maxKeptClusterFailing + 10 {
		failing[uint64(1000+i)], severity[uint64(1000+i)] = true, v1alpha1.SeverityMedium
	}
	failing[1], severity[1] = true, v1alpha1.SeverityCritical
	failing[2], severity[2] = true, v1alpha1.SeverityHigh
	got, atLeast, ok := decodeClusterFailing("uid-1", encodeClusterFailing("uid-1", failing, severity))
	if !ok || atLeast != v1alpha1.SeverityHigh || !maps.Equal(got, map[uint64]bool{1: true, 2: true}) {
		t.Errorf("kept %d findings, at least %q, %v; want the Critical and the High one, at least High", len(got), atLeast, ok)
	}
	for i := range maxKeptClusterFailing {
		failing[uint64(100000+i)], severity[uint64(100000+i)] = true, v1alpha1.SeverityHigh
	}
	got, atLeast, ok = decodeClusterFailing("uid-1", encodeClusterFailing("uid-1", failing, severity))
	if !ok || atLeast != v1alpha1.SeverityCritical || !maps.Equal(got, map[uint64]bool{1: true}) {
		t.Errorf("kept %d findings, at least %q, %v; want the Critical one, at least Critical", len(got), atLeast, ok)
	}
}
