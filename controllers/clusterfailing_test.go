package controllers

import (
	"maps"
	"testing"
)

// TestClusterFailingKeptIsTheProfileObjects: the failing cluster-scoped findings kept on the
// Lease are read back for the profile object that kept them only: a profile deleted and
// created again under the name is another profile, whose first evaluation must not take the
// old one's findings as identified. Past maxKeptClusterFailing nothing is kept.
func TestClusterFailingKeptIsTheProfileObjects(t *testing.T) {
	failing := map[uint64]bool{1: true, 0xfedcba9876543210: true, 42: true}
	value := encodeClusterFailing("uid-1", failing)
	if got, ok := decodeClusterFailing("uid-1", value); !ok || !maps.Equal(got, failing) {
		t.Errorf("read back %v, %v; want %v", got, ok, failing)
	}
	if got, ok := decodeClusterFailing("uid-2", value); ok {
		t.Errorf("another profile object read %v", got)
	}
	if got, ok := decodeClusterFailing("uid-1", encodeClusterFailing("uid-1", nil)); !ok || len(got) != 0 {
		t.Errorf("none failing read back as %v, %v", got, ok)
	}
	for _, bad := range []string{"", "uid-1", "uid-1 0123", "uid-1 000000000000000g"} {
		if got, ok := decodeClusterFailing("uid-1", bad); ok {
			t.Errorf("%q read as %v", bad, got)
		}
	}
	many := map[uint64]bool{}
	for i := range maxKeptClusterFailing + 1 {
		many[uint64(i)] = true
	}
	if v := encodeClusterFailing("uid-1", many); v != "" {
		t.Errorf("%d findings kept (%d bytes)", len(many), len(v))
	}
}
