package journal

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// day returns records for one simulated day: a finding opened and closed in a namespace, and
// the heartbeat the operator wrote as it closed it (a running operator writes one every ten
// minutes; verification judges coverage by the records it dates as it writes them, not by the
// findings' times).
func day(d int) []Record {
	ts := t0.Add(time.Duration(d) * 24 * time.Hour)
	f := &Finding{Key: FindingKey("wl-privileged", "Deployment", fmt.Sprintf("app-%d", d), "main"), Check: "wl-privileged", Kind: "Deployment", Name: fmt.Sprintf("app-%d", d), Container: "main", Severity: "Critical", Criteria: []string{"CC6.1"}}
	return []Record{
		{Type: FindingOpened, Time: ts.Add(time.Hour), Profile: "soc2", Namespace: "team-a", Finding: f},
		{Type: FindingClosed, Time: ts.Add(5 * time.Hour), Profile: "soc2", Namespace: "team-a", Finding: f},
		{Type: OperatorHeartbeat, Time: ts.Add(5 * time.Hour)},
	}
}

// countingStore records which keys were read.
type countingStore struct {
	Store
	mu   sync.Mutex
	gets []string
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c.mu.Lock()
	c.gets = append(c.gets, key)
	c.mu.Unlock()
	return c.Store.Get(ctx, key)
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFileStore is a FileStore in a new temporary directory, and the directory.
func newFileStore(t *testing.T) (string, *FileStore) {
	t.Helper()
	dir := t.TempDir()
	store, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, store
}

// writeDays writes one segment per day for n days and returns the store directory.
func writeDays(t *testing.T, n int, key ed25519.PrivateKey) (string, *FileStore) {
	t.Helper()
	dir, store := newFileStore(t)
	writeDaysTo(t, store, "prod", n, key)
	return dir, store
}

// writeSegments writes each batch of records as one segment of an unsigned "prod" chain in a
// new store.
func writeSegments(t *testing.T, batches ...[]Record) *FileStore {
	t.Helper()
	store, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(context.Background(), store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// writeDaysTo writes one segment per day for n days into cluster's chain in store, signed with
// key (unsigned when nil).
func writeDaysTo(t *testing.T, store Store, cluster string, n int, key ed25519.PrivateKey) {
	t.Helper()
	w, err := NewWriter(context.Background(), store, WriterOptions{Cluster: cluster, Signer: key})
	if err != nil {
		t.Fatal(err)
	}
	for d := range n {
		if err := w.Write(context.Background(), day(d)); err != nil {
			t.Fatal(err)
		}
	}
}

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "prod", "segments", "*.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAChainOfSignedSegmentsVerifies(t *testing.T) {
	key := newKey(t)
	_, store := writeDays(t, 5, key)
	res, err := Verify(context.Background(), store, "prod", time.Time{}, time.Time{}, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Segments != 5 || res.Records != 15 || res.Signed != 5 || res.FirstSeq != 1 || res.LastSeq != 5 {
		t.Fatalf("result: %+v", res)
	}
	if !strings.Contains(res.Summary(), "chain verified") {
		t.Errorf("summary: %s", res.Summary())
	}
}

func TestTheSameRecordsWrittenTwiceAreKeptOnce(t *testing.T) {
	dir, store := writeDays(t, 3, nil)
	// A second writer (the new leader after a failover) opens the chain and writes the last
	// day again together with a new day.
	w, err := NewWriter(context.Background(), store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), append(day(2), day(3)...)); err != nil {
		t.Fatal(err)
	}
	if got := len(segmentFiles(t, dir)); got != 4 {
		t.Errorf("%d segments, want 4", got)
	}
	res, err := Verify(context.Background(), store, "prod", time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Records != 12 {
		t.Fatalf("want 12 records in a verified chain, got %+v", res)
	}
}

func TestTwoWritersRacingDoNotForkTheChain(t *testing.T) {
	_, store := writeDays(t, 1, nil)
	a, err := NewWriter(context.Background(), store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewWriter(context.Background(), store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	// Both believe segment 2 is next; b writes after a and must continue after a's segment
	// without repeating a's records.
	if err := a.Write(context.Background(), day(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(context.Background(), append(day(1), day(2)...)); err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), store, "prod", time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Segments != 3 || res.Records != 9 || res.Superseded != 1 {
		t.Fatalf("want 3 segments, 9 records and b's lost segment superseded in a verified chain, got %+v", res)
	}
}

func TestAWindowReadsOnlyItsSegments(t *testing.T) {
	_, fs := writeDays(t, 30, nil)
	store := &countingStore{Store: fs}
	res, err := Verify(context.Background(), store, "prod", t0.Add(10*24*time.Hour+time.Hour), t0.Add(11*24*time.Hour+5*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.FirstSeq != 11 || res.LastSeq != 12 || res.Segments != 2 {
		t.Fatalf("window result: %+v", res)
	}
	// The two segments of the window, the one before it (hashed for the first link) and the
	// header of the one after it (whose name must not lie about its time range).
	if len(store.gets) != 4 {
		t.Errorf("read %d objects, want 4: %v", len(store.gets), store.gets)
	}
}

// rewrite decompresses a segment file, lets edit change its lines and recompresses it.
func rewrite(t *testing.T, path string, edit func(lines []string) []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	lines = edit(lines)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	zw.Close()
	if err := os.WriteFile(path, out.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNamesTheTamperedSegment(t *testing.T) {
	tests := map[string]struct {
		signed bool
		tamper func(t *testing.T, dir string, segs []string)
		// want: problem kind and the sequence number it names.
		kind ProblemKind
		seq  uint64
	}{
		"a record altered in place": {
			tamper: func(t *testing.T, dir string, segs []string) {
				rewrite(t, segs[2], func(l []string) []string {
					l[1] = strings.Replace(l[1], `"Critical"`, `"Low"`, 1)
					return l
				})
			},
			kind: ProblemAltered, seq: 3,
		},
		"a record altered and the header's digest recomputed": {
			tamper: func(t *testing.T, dir string, segs []string) {
				rewrite(t, segs[2], alterAndRehash)
			},
			kind: ProblemAltered, seq: 3,
		},
		"a record removed": {
			tamper: func(t *testing.T, dir string, segs []string) {
				rewrite(t, segs[1], func(l []string) []string { return l[:2] })
			},
			kind: ProblemAltered, seq: 2,
		},
		"a segment dropped": {
			tamper: func(t *testing.T, dir string, segs []string) {
				os.Remove(segs[3])
			},
			kind: ProblemMissing, seq: 4,
		},
		"the first segment dropped": {
			tamper: func(t *testing.T, dir string, segs []string) {
				os.Remove(segs[0])
			},
			kind: ProblemMissing, seq: 1,
		},
		"two segments swapped": {
			tamper: func(t *testing.T, dir string, segs []string) {
				a, _ := os.ReadFile(segs[1])
				b, _ := os.ReadFile(segs[2])
				os.WriteFile(segs[1], b, 0o640)
				os.WriteFile(segs[2], a, 0o640)
			},
			kind: ProblemReordered, seq: 2,
		},
		"a segment's signature replaced by another key's": {
			signed: true,
			tamper: func(t *testing.T, dir string, segs []string) {
				other := newKey(t)
				name := filepath.Base(segs[2])
				b, _ := os.ReadFile(segs[2])
				sig, err := sign(other, name, Digest(b))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(dir, "prod", "signatures", name+".sig"), sig, 0o640)
			},
			kind: ProblemBadSignature, seq: 3,
		},
		"the last segment altered and its header recomputed (only a signature catches it)": {
			signed: true,
			tamper: func(t *testing.T, dir string, segs []string) {
				rewrite(t, segs[4], alterAndRehash)
			},
			kind: ProblemBadSignature, seq: 5,
		},
		"a signature removed": {
			signed: true,
			tamper: func(t *testing.T, dir string, segs []string) {
				os.Remove(filepath.Join(dir, "prod", "signatures", filepath.Base(segs[1])+".sig"))
			},
			kind: ProblemUnsigned, seq: 2,
		},
		"a segment truncated": {
			tamper: func(t *testing.T, dir string, segs []string) {
				b, _ := os.ReadFile(segs[2])
				os.WriteFile(segs[2], b[:len(b)/2], 0o640)
			},
			kind: ProblemCorrupt, seq: 3,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var key ed25519.PrivateKey
			var pub ed25519.PublicKey
			if tc.signed {
				key = newKey(t)
				pub = key.Public().(ed25519.PublicKey)
			}
			dir, store := writeDays(t, 5, key)
			before, err := Verify(context.Background(), store, "prod", time.Time{}, time.Time{}, pub)
			if err != nil || !before.OK() {
				t.Fatalf("before tampering: %+v, %v", before, err)
			}
			tc.tamper(t, dir, segmentFiles(t, dir))
			res, err := Verify(context.Background(), store, "prod", time.Time{}, time.Time{}, pub)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() {
				t.Fatalf("tampering not detected: %+v", res)
			}
			found := false
			for _, p := range res.Problems {
				if p.Kind == tc.kind && p.Seq == tc.seq {
					found = true
				}
			}
			if !found {
				t.Errorf("want a %s problem naming segment %d, got %v", tc.kind, tc.seq, res.Problems)
			}
		})
	}
}

func TestRecordIDsDependOnContentAndTime(t *testing.T) {
	a, b := day(0)[0], day(0)[0]
	a.Seal()
	b.Seal()
	if a.ID != b.ID {
		t.Fatalf("the same record sealed twice: %s != %s", a.ID, b.ID)
	}
	c := day(0)[0]
	c.Time = c.Time.Add(time.Second)
	c.Seal()
	d := day(0)[0]
	d.Namespace = "team-b"
	d.Seal()
	if c.ID == a.ID || d.ID == a.ID {
		t.Errorf("records that differ share an ID")
	}
}

func TestOpenStore(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{dir, "file://" + dir} {
		s, err := OpenStore(context.Background(), u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if s.String() != "file://"+dir {
			t.Errorf("%s opened as %s", u, s)
		}
	}
	for _, u := range []string{"", "gs://bucket", "file://host/dir"} {
		if _, err := OpenStore(context.Background(), u); err == nil {
			t.Errorf("%q: want an error", u)
		}
	}
}

func TestKeysRoundTripThroughPEMFiles(t *testing.T) {
	key := newKey(t)
	priv, pub, err := EncodeKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "key.pem"), priv, 0o600)
	os.WriteFile(filepath.Join(dir, "pub.pem"), pub, 0o600)
	k, err := LoadSigningKey(filepath.Join(dir, "key.pem"))
	if err != nil || !k.Equal(key) {
		t.Fatalf("signing key: %v", err)
	}
	for _, f := range []string{"key.pem", "pub.pem"} {
		p, err := LoadPublicKey(filepath.Join(dir, f))
		if err != nil || !p.Equal(key.Public()) {
			t.Fatalf("public key from %s: %v", f, err)
		}
	}
	if _, err := LoadSigningKey(filepath.Join(dir, "pub.pem")); err == nil || !strings.Contains(err.Error(), "pub.pem") {
		t.Errorf("a public key as signing key: want an error naming the file, got %v", err)
	}
}

// alterAndRehash lowers a segment's first record from Critical to Low and recomputes the
// header's digest of the records, as a forger who knows the format would.
func alterAndRehash(l []string) []string {
	l[1] = strings.Replace(l[1], `"Critical"`, `"Low"`, 1)
	var h Header
	_ = json.Unmarshal([]byte(l[0]), &h)
	h.RecordsSHA256 = Digest([]byte(strings.Join(l[1:], "\n") + "\n"))
	hb, _ := json.Marshal(h)
	l[0] = string(hb)
	return l
}

// TestCloseReasonTellsGroupsApart: Istio's Gateway edge, whose finding closed, is still among
// what the check evaluated, so it was resolved; had only the Gateway API's Gateway edge been
// there, Istio's went away (resource-gone), however the two kinds are named alike.
func TestCloseReasonTellsGroupsApart(t *testing.T) {
	istio := Finding{Check: "net-service-exposure", Kind: "Gateway", Group: "networking.istio.io", Name: "edge"}
	gatewayAPI := Finding{Check: "net-service-exposure", Kind: "Gateway", Name: "edge"}
	checks := []CheckPopulation{{Check: "net-service-exposure", Count: 1, Population: 0}}
	cases := map[string]struct {
		f    Finding
		list []string
		want string
	}{
		"Istio's Gateway still evaluated":          {istio, []string{"Gateway.networking.istio.io/edge"}, CloseResolved},
		"only the Gateway API's Gateway evaluated": {istio, []string{"Gateway/edge"}, CloseResourceGone},
		"only Istio's Gateway evaluated":           {gatewayAPI, []string{"Gateway.networking.istio.io/edge"}, CloseResourceGone},
		"the Gateway API's Gateway evaluated":      {gatewayAPI, []string{"Gateway/edge"}, CloseResolved},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CloseReason(tc.f, checks, [][]string{tc.list}); got != tc.want {
				t.Errorf("CloseReason %q, want %q", got, tc.want)
			}
		})
	}
	if FindingKey(istio.Check, istio.IdentityKind(), istio.Name, "") == FindingKey(gatewayAPI.Check, gatewayAPI.IdentityKind(), gatewayAPI.Name, "") {
		t.Error("both Gateways have one key")
	}
}
