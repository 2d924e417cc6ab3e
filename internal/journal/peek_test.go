package journal

import (
	"encoding/json"
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
