package journal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// In a bucket that keeps one version of an object (no versioning, hence no Object Lock; or
// Object Lock in governance mode, whose first versions someone with
// s3:BypassGovernanceRetention deletes), a segment written over leaves nothing the `replaced`
// check sees. Whoever holds the signing key (mounted from a Secret in the operator's namespace)
// rewrote segment 3, a CC6.1 Fail turned Pass, and segment 4 linked to the new one, and re-signed
// both, hours after the operator wrote them: `evidence verify --public-key` said the chain
// verified. The store's clock says when each object was stored (LastModified): the operator
// stores a segment within a flush of its last record, and these were stored hours after theirs,
// while segments 1 and 2 were stored seconds after theirs. Both ways of leaving one version are
// tried against versitygw: a plain PUT where nothing is versioned, and, under governance mode, a
// new version and the first one deleted with the bypass.
func TestASegmentWrittenOverInPlaceIsNamedRewritten(t *testing.T) {
	endpoint := versityGW(t)
	t.Run("a bucket without versioning", func(t *testing.T) {
		store := bucket(t, endpoint, "rewritten", false, "")
		rewriteTail(t, endpoint, store, func(ctx context.Context, obj string, b []byte) {
			// A plain PUT: over the object, where the bucket keeps one version.
			if _, err := store.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(store.bucket), Key: aws.String(store.prefix + obj), Body: bytes.NewReader(b)}); err != nil {
				t.Fatalf("putting %s over the original: %v", obj, err)
			}
		})
	})
	t.Run("Object Lock in governance mode, lifted with s3:BypassGovernanceRetention", func(t *testing.T) {
		store := bucket(t, endpoint, "rewritten-governance", true, "&lock-mode=governance&retain-days=30")
		rewriteTail(t, endpoint, store, func(ctx context.Context, obj string, b []byte) {
			vs, err := store.client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(store.bucket), Prefix: aws.String(store.prefix + obj)})
			if err != nil || len(vs.Versions) != 1 {
				t.Fatalf("versions of %s: %v, %v", obj, vs, err)
			}
			// A new version, locked as the operator's are, then the first one deleted with the
			// bypass: one version left.
			if _, err := store.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(store.bucket), Key: aws.String(store.prefix + obj), Body: bytes.NewReader(b),
				ObjectLockMode: s3types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().AddDate(0, 0, 30).UTC().Truncate(time.Second))}); err != nil {
				t.Fatalf("putting a new version of %s: %v", obj, err)
			}
			if _, err := store.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(store.bucket), Key: aws.String(store.prefix + obj),
				VersionId: vs.Versions[0].VersionId, BypassGovernanceRetention: aws.Bool(true)}); err != nil {
				t.Fatalf("deleting the first version of %s with the bypass: %v", obj, err)
			}
		})
	})
}

// rewriteTail writes a chain of four segments to store, as the operator would have stored them
// hours ago, rewrites segments 3 (CC6.1 Fail turned Pass) and 4 with putOver, re-signed, and
// checks that verification names both rewritten, and nothing else.
func rewriteTail(t *testing.T, endpoint string, store *S3Store, putOver func(ctx context.Context, obj string, b []byte)) {
	ctx := context.Background()
	key := newKey(t)
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod", Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	// The operator's chain, a segment an hour from four hours ago, each stored three seconds
	// after its last record: the server reports a file's time as its LastModified, and the test
	// sets them, as it cannot wait hours.
	base := time.Now().Add(-4 * time.Hour).UTC().Truncate(time.Millisecond)
	for i := range 4 {
		at := base.Add(time.Duration(i) * time.Hour)
		if err := w.Write(ctx, []Record{
			{Type: OperatorHeartbeat, Time: at},
			{Type: CriterionChanged, Time: at.Add(time.Minute), Profile: "soc2", Namespace: "team-a", Criterion: &CriterionChange{Criterion: "CC6.1", From: "Pass", To: "Fail"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := gwRoots.Load(endpoint)
	keys, err := store.List(ctx, "prod/segments/")
	if err != nil || len(keys) != 4 {
		t.Fatalf("segments %v, %v", keys, err)
	}
	stampStored := func(k string, at time.Time) {
		t.Helper()
		if err := os.Chtimes(filepath.Join(root.(string), store.bucket, store.prefix+k), at, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		ref, _ := parseSegmentName(path.Base(k))
		stampStored(k, ref.Last.Add(3*time.Second))
	}
	pub := key.Public().(ed25519.PublicKey)
	if res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", PublicKey: pub}); err != nil || !res.OK() {
		t.Fatalf("the chain as the operator stored it: %+v, %v", res, err)
	}

	// The rewrite: segment 3's records with CC6.1 Pass, segment 4 linked to it, both re-signed and
	// put over the originals.
	prev := ""
	for i, k := range keys {
		rc, err := store.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		sr, err := newSegmentReader(rc)
		if err != nil {
			t.Fatal(err)
		}
		var recs []Record
		for {
			line, err := sr.next()
			if err != nil {
				break
			}
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		d, _, _ := sr.finish()
		rc.Close()
		if i < 2 {
			prev = d
			continue
		}
		if i == 2 {
			recs[1].Criterion.To = "Pass"
			if err := recs[1].Seal(); err != nil {
				t.Fatal(err)
			}
		}
		data, h, err := encodeSegment("prod", sr.header.Seq, prev, recs)
		if err != nil {
			t.Fatal(err)
		}
		name := SegmentName(h.Seq, h.First, h.Last)
		if name != path.Base(k) {
			t.Fatalf("the rewrite is named %s, not %s", name, path.Base(k))
		}
		sig, err := sign(key, name, Digest(data))
		if err != nil {
			t.Fatal(err)
		}
		for obj, b := range map[string][]byte{k: data, "prod/signatures/" + name + ".sig": sig} {
			putOver(ctx, obj, b)
		}
		prev = Digest(data)
	}
	if hidden, replaced, err := store.versions(ctx, "prod/"); err != nil || len(replaced) != 0 || len(hidden) != 0 {
		t.Fatalf("the bucket keeps %v with more than one version, %v hidden (%v): the test wants one version each", replaced, hidden, err)
	}

	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	var named []uint64
	for _, p := range res.Problems {
		if p.Kind == ProblemRewritten {
			named = append(named, p.Seq)
		} else {
			t.Errorf("unexpected problem: %s", p)
		}
	}
	if !slices.Equal(named, []uint64{3, 4}) {
		t.Errorf("segments 3 and 4 rewritten and re-signed hours after the operator stored them: want both named %s, got %s", ProblemRewritten, res.Summary())
	}
}
