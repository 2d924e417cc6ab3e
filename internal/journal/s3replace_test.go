package journal

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"path"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Object Lock protects object versions, not keys: in a versioned bucket anyone with
// s3:PutObject may PUT a new version over a locked segment (without If-None-Match), and reads
// and listings then return the new one while the locked original sits unread underneath. An
// insider in the operator's namespace holds the signing key (it is mounted from a Secret there),
// so signatures do not stop them: Object Lock in compliance mode is what should. They rewrote
// the last segment (a privileged Deployment's finding turned into a remediation) and its
// signature as new versions, locked in compliance mode as the operator's are, and
// `evidence verify --public-key --locked-until` said the chain verified and retention verified.
// The operator never writes a key twice, so a key with more than one version was written over.
func TestASegmentWrittenOverWithANewVersionIsNamed(t *testing.T) {
	endpoint := versityGW(t)
	ctx := context.Background()
	store := bucket(t, endpoint, "replaced", true, "&lock-mode=compliance&retain-days=30")
	key := newKey(t)
	writeDaysTo(t, store, "prod", 3, key)
	keys, err := store.List(ctx, "prod/segments/")
	if err != nil {
		t.Fatal(err)
	}
	last := keys[len(keys)-1]
	name := path.Base(last)

	// The insider's forgery: the same records but the finding's opening, the same header
	// fields, re-signed with the key.
	rc, err := store.Get(ctx, last)
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
	rc.Close()
	recs[0].Type = OperatorHeartbeat // the opening of the finding, now a heartbeat at the same time
	recs[0].Finding = nil
	if err := recs[0].Seal(); err != nil {
		t.Fatal(err)
	}
	forged, h, err := encodeSegment("prod", sr.header.Seq, sr.header.Prev, recs)
	if err != nil {
		t.Fatal(err)
	}
	if SegmentName(h.Seq, h.First, h.Last) != name {
		t.Fatalf("the forgery is named %s, not %s", SegmentName(h.Seq, h.First, h.Last), name)
	}
	sig, err := sign(key, name, Digest(forged))
	if err != nil {
		t.Fatal(err)
	}
	until := aws.Time(time.Now().AddDate(0, 0, 30).UTC().Truncate(time.Second))
	for k, data := range map[string][]byte{last: forged, "prod/signatures/" + name + ".sig": sig} {
		// A plain PUT (no If-None-Match): a new version over the locked one, locked as well.
		if _, err := store.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(store.bucket), Key: aws.String(store.prefix + k),
			Body: bytes.NewReader(data), ObjectLockMode: s3types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: until}); err != nil {
			t.Fatalf("putting a new version of %s over the locked one: %v", k, err)
		}
	}
	if rc, err := store.Get(ctx, last); err != nil {
		t.Fatal(err)
	} else {
		d, _ := hashReader(rc)
		if d != Digest(forged) {
			t.Fatalf("the store still reads the original %s: the forgery did not take", last)
		}
	}

	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", PublicKey: key.Public().(ed25519.PublicKey), LockedUntil: time.Now().AddDate(0, 0, 29)})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatalf("the last segment and its signature written over with new versions, yet verified: %s", res.Summary())
	}
	var named []string
	for _, p := range res.Problems {
		if p.Kind == ProblemReplaced && p.Seq == 3 {
			named = append(named, p.Segment)
		}
	}
	if !slices.Equal(named, []string{name, name + ".sig"}) {
		t.Errorf("want segment 3 and its signature named replaced, got %v", res.Problems)
	}
}

func hashReader(rc interface {
	Read([]byte) (int, error)
	Close() error
}) (string, error) {
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		return "", err
	}
	return Digest(b.Bytes()), nil
}
