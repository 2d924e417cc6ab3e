package evidence

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// rewriteLine replaces record line n (from 1, after the header) of the segment file with text,
// and writes the header's record digest again: what anyone who can write to a store of an
// unsigned journal can do, or a writer's bug.
func rewriteLine(t *testing.T, file string, n int, text string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n")
	lines[n] = text
	body := strings.Join(lines[1:], "\n") + "\n"
	var h map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	h["recordsSHA256"] = hex.EncodeToString(sum[:])
	hb, _ := json.Marshal(h)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	bw := bufio.NewWriter(zw)
	bw.Write(hb)
	bw.WriteString("\n" + body)
	bw.Flush()
	zw.Close()
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// One record line of a year's journal that is not a record (not JSON) stopped the whole pack:
// `evidence pack` failed with "decoding a record" and wrote nothing, so the auditor had no pack
// at all, only an error, and no verification naming the segment. The pack is built from every
// other record, and its verification names the segment and the line as altered.
func TestALineThatIsNotARecordIsNamedAndTheRestIsRead(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	f := &journal.Finding{Key: "wl-privileged|Deployment|api|", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: h(2)}
	recs := append(heartbeats(t0, h(1)),
		journal.Record{Type: journal.OperatorHeartbeat, Time: h(1.5)},
		journal.Record{Type: journal.FindingOpened, Time: h(2), Profile: "soc2", Namespace: "team-a", Finding: f})
	recs = append(recs, heartbeats(h(2), h(4))...)
	store := journalOf(t, recs...)
	segs, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(store.String(), "file://"), "c", "segments", "*"))
	if len(segs) != 1 {
		t.Fatalf("segments %q, want one", segs)
	}
	rewriteLine(t, segs[0], 7, `{"id":"0123","type":"operator.heartbeat","time":"2026-01-01T01:30:00Z",`) // the heartbeat at 1:30, cut short
	out := t.TempDir()
	p, err := Build(context.Background(), store, Options{From: t0, To: h(4), Clusters: []string{"c"}, Dir: out, Now: func() time.Time { return h(4) }})
	if err != nil {
		t.Fatalf("one line that is not a record stopped the pack: %v", err)
	}
	if p.OK() || !strings.Contains(p.Verification[0].Problems[0].Detail, "line 8: not a JSON record") {
		t.Errorf("verification %+v, want the segment altered at line 8 (the header is line 1)", p.Verification[0].Problems)
	}
	if p.Records != len(recs)-1 || len(p.Deviations) != 1 {
		t.Errorf("%d records and %d deviations read, want the %d others and the finding opened after the broken line", p.Records, len(p.Deviations), len(recs)-1)
	}
}
