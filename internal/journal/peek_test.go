package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// peekSeeds are record lines as the writer writes them, and lines a hand could have made that
// read otherwise than their first keys say (a later or case-folded duplicate key, escapes).
func peekSeeds(tb testing.TB) []string {
	tb.Helper()
	at := time.Date(2026, 5, 1, 10, 0, 0, 123e6, time.UTC)
	recs := []Record{
		{Type: OperatorHeartbeat, Time: at},
		{Type: Attestation, Time: at, Profile: "soc2", Namespace: "team-a", Attestation: &AttestationBody{
			Criteria:    []CriterionState{{Criterion: "CC6.1", State: "Pass"}},
			Checks:      []CheckPopulation{{Check: "wl-privileged", Count: 2, SHA256: strings.Repeat("a", 64)}},
			Populations: [][]string{{"Deployment/api", "Role/a\nb\"id\":\"x\""}}}},
		{Type: CriterionChanged, Time: at, Profile: "soc2", Namespace: "team-a", Criterion: &CriterionChange{Criterion: "CC6.1", To: "Fail"}},
	}
	var out []string
	for i := range recs {
		if err := recs[i].Seal(); err != nil {
			tb.Fatal(err)
		}
		b, err := json.Marshal(&recs[i])
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, string(b))
	}
	head := `{"id":"aa","type":"operator.heartbeat","time":"2026-05-01T10:00:00Z"`
	return append(out,
		head+`}`,
		head+`,"id":"bb"}`,
		head+`,"ID":"bb"}`,
		head+`,"\u0069d":"bb"}`,
		head+`,"ıd":"bb"}`,
		head+`,"Time":"2027-01-01T00:00:00Z"}`,
		head+`,"finding":{"id":"cc","time":"x"},"x":[{"type":1},"\"id\":"]}`,
		head+`,}`,
		head+`} `,
		head,
		`{"id":"a\"b","type":"t","time":"2026-05-01T10:00:00Z"}`,
		`{"id":"aa","type":"t","time":"2026-05-01T10:00:00+02:00"}`,
		`{"id":"aa","type":"t","time":"2026-05-01 10:00:00Z"}`,
		`{"id":"a`+"\xff"+`","type":"t","time":"2026-05-01T10:00:00Z"}`,
		`{"id":null,"type":"t","time":"2026-05-01T10:00:00Z"}`,
		`{"type":"t","id":"aa","time":"2026-05-01T10:00:00Z"}`,
		`[]`, ``, `{}`,
	)
}

// peekHead reads what json.Unmarshal into a RecordHead reads, whatever the line: the check of
// each record (duplicate IDs, time order, the clock) is of the record the pack decodes.
func FuzzPeekHeadReadsWhatUnmarshalReads(f *testing.F) {
	for _, s := range peekSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var want RecordHead
		wantErr := json.Unmarshal([]byte(line), &want)
		got, err := peekHead([]byte(line))
		if (err == nil) != (wantErr == nil) || err == nil && (got.ID != want.ID || got.Type != want.Type || !got.Time.Equal(want.Time) ||
			got.Time.Location().String() != want.Time.Location().String()) {
			t.Errorf("%q: peekHead %+v, %v; json.Unmarshal %+v, %v", line, got, err, want, wantErr)
		}
	})
}

// BenchmarkPeekHead reads the head of an attestation of 200 resources, the journal's commonest
// large line.
func BenchmarkPeekHead(b *testing.B) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	body := &AttestationBody{Populations: [][]string{nil}}
	for i := range 200 {
		body.Populations[0] = append(body.Populations[0], "Deployment/service-"+strings.Repeat("x", i%20))
	}
	for _, c := range []string{"wl-privileged", "wl-host-namespaces", "wl-run-as-root", "img-mutable-tag"} {
		body.Checks = append(body.Checks, CheckPopulation{Check: c, Count: 200, SHA256: strings.Repeat("a", 64)})
		body.Criteria = append(body.Criteria, CriterionState{Criterion: "CC6." + c[:2], State: "Pass"})
	}
	r := Record{Type: Attestation, Time: at, Profile: "soc2", Namespace: "team-a", Attestation: body}
	if err := r.Seal(); err != nil {
		b.Fatal(err)
	}
	line, err := json.Marshal(&r)
	if err != nil {
		b.Fatal(err)
	}
	for name, peek := range map[string]func([]byte) (RecordHead, error){
		"peekHead": peekHead,
		"json.Unmarshal": func(line []byte) (h RecordHead, err error) {
			err = json.Unmarshal(line, &h)
			return h, err
		},
		"json.Valid": func(line []byte) (RecordHead, error) {
			json.Valid(line)
			return RecordHead{ID: r.ID}, nil
		},
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if h, err := peek(line); err != nil || h.ID != r.ID {
					b.Fatal(h, err)
				}
			}
		})
	}
}

// The lines the writer writes are read by the short way, and those with a later key that
// json.Unmarshal would also take for the head's are not.
func TestPeekHeadReadsTheWritersLinesTheShortWay(t *testing.T) {
	seeds := peekSeeds(t)
	for i, s := range seeds[:4] {
		if _, ok := peekHeadAsWritten([]byte(s)); !ok {
			t.Errorf("seed %d %q: not read the short way", i, s)
		}
	}
	for _, s := range seeds[4:9] {
		if _, ok := peekHeadAsWritten([]byte(s)); ok {
			t.Errorf("%q: read the short way", s)
		}
	}
}

// validJSON says what json.Valid says, at the edges where a validator's choices differ:
// duplicate names and invalid UTF-8 (encoding/json allows both), unpaired surrogate escapes,
// control characters, number forms, white space and the nesting limit (10,000 deep).
func TestValidJSONIsJSONValid(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, line := range []string{
		`{"id":"a","id":"b"}`, `{"id":"\xff\xfe"}`, `{"id":"\ud800"}`, `{"id":"\udc00\ud800x"}`, `{"id":"\u00"}`,
		"{\"id\":\"a\x00\"}", "{\"id\":\"a\x1f\"}", "{\"id\":\"a\x7f\"}", `{"id":"a\/b"}`, `{"id":"a\q"}`,
		`{"n":-0}`, `{"n":01}`, `{"n":1e}`, `{"n":1.}`, `{"n":.5}`, `{"n":1E+400}`, `{"n":-}`, `{"n":+1}`,
		" \t\r\n{} \t\r\n", "\ufeff{}", "{}\x00", "{} {}", "{},", `{"a":1,}`, `[1,]`, `{"a" 1}`, "", " ", "nul", "null",
		`{"a":tru}`, `{"a":true}`, `"x"`, `{"a":[1,{"b":null}]}`, "{\"a\":\"\u2028\"}",
		nested(10000), nested(10001), "{\"a\":" + nested(9999) + "}", "{\"a\":" + nested(10000) + "}",
	} {
		if got, want := validJSON([]byte(line)), json.Valid([]byte(line)); got != want {
			t.Errorf("%.60q: validJSON %v, json.Valid %v", line, got, want)
		}
	}
}

// The reader keeps one buffer for the lines longer than its 64 KiB read buffer (an attestation
// of thousands of resources), and a line it returns is valid until the next: each record, long
// or short, around long ones, is read whole and in order, and the chain verifies.
func TestRecordsLongerThanTheReadBufferAreReadWhole(t *testing.T) {
	ctx := context.Background()
	_, store := newFileStore(t)
	w, err := NewWriter(ctx, store, WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i, n := range []int{3, 9000, 2, 20000, 5000, 1} {
		body := &AttestationBody{Populations: [][]string{nil}}
		for j := range n {
			body.Populations[0] = append(body.Populations[0], fmt.Sprintf("Deployment/r%d-%d", i, j))
		}
		recs = append(recs, Record{Type: Attestation, Time: t0.Add(time.Duration(i) * time.Minute), Profile: "soc2", Namespace: "team-a", Attestation: body})
	}
	if err := w.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var got []int
	res, err := Scan(ctx, store, ScanOptions{Cluster: "prod", OnRecord: func(line []byte) error {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		list := r.Attestation.Populations[0]
		if want := fmt.Sprintf("Deployment/r%d-%d", len(got), len(list)-1); list[len(list)-1] != want {
			t.Errorf("record %d ends with %s, want %s", len(got), list[len(list)-1], want)
		}
		got = append(got, len(list))
		return nil
	}})
	if err != nil || !res.OK() {
		t.Fatalf("%v %v", err, res.Problems)
	}
	if fmt.Sprint(got) != "[3 9000 2 20000 5000 1]" {
		t.Errorf("read %v, want [3 9000 2 20000 5000 1]", got)
	}
}
