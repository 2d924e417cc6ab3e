package journal

import (
	"context"
	"crypto/ed25519"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object Lock keeps every version of a locked segment, but it does not stop a plain DELETE
// (without a version ID) from putting a delete marker on top: the segment and its signature
// disappear from listings and reads. Hiding the chain's last segments so, or all of them,
// left a chain that verified.
func TestADeleteMarkerDoesNotHideALockedSegment(t *testing.T) {
	endpoint := versityGW(t)
	ctx := context.Background()
	store := bucket(t, endpoint, "hidden", true, "&lock-mode=compliance&retain-days=30")
	key := newKey(t)
	writeDaysTo(t, store, "prod", 4, key)
	keys, _ := store.List(ctx, "prod/segments/")
	last := keys[len(keys)-1]
	hide(t, store, last, "prod/signatures/"+last[len("prod/segments/"):]+".sig")
	if after, _ := store.List(ctx, "prod/segments/"); len(after) != len(keys)-1 {
		t.Fatalf("the delete marker did not hide %s: %v", last, after)
	}
	res, err := Verify(ctx, store, "prod", time.Time{}, time.Time{}, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("segment 4 hidden by a delete marker, yet verified: %s", res.Summary())
	}
	hidden := 0
	for _, p := range res.Problems {
		if p.Kind == ProblemHidden && p.Seq == 4 {
			hidden++
		}
	}
	if hidden != 2 {
		t.Errorf("want segment 4 and its signature named hidden, got %v", res.Problems)
	}
}

// A cluster whose every segment is hidden is still listed, and its verification names them:
// `evidence verify --cluster all` must not skip a journal that was made to disappear.
func TestAClusterWhoseEverySegmentIsHiddenIsStillVerified(t *testing.T) {
	endpoint := versityGW(t)
	ctx := context.Background()
	store := bucket(t, endpoint, "hidden-cluster", true, "&lock-mode=compliance&retain-days=30")
	key := newKey(t)
	for _, cluster := range []string{"prod", "staging"} {
		writeDaysTo(t, store, cluster, 1, key)
	}
	keys, _ := store.List(ctx, "staging/")
	hide(t, store, keys...)
	clusters, err := Clusters(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(clusters, []string{"prod", "staging"}) {
		t.Fatalf("clusters %v; want prod and staging, whose segments are hidden", clusters)
	}
	res, err := Verify(ctx, store, "staging", time.Time{}, time.Time{}, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Errorf("every segment of staging hidden by a delete marker, yet verified: %s", res.Summary())
	}
}

// hide puts a delete marker on each key, as a DELETE without a version ID does (Object Lock
// allows it): the locked versions stay, unlisted and unread.
func hide(t *testing.T, store *S3Store, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := store.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(store.bucket), Key: aws.String(store.prefix + k)}); err != nil {
			t.Fatalf("putting a delete marker on %s: %v", k, err)
		}
	}
}
