package evidence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/journal/journalsim"
)

// simulate writes a journal of cfg into a new file store.
func simulate(t testing.TB, cfg journalsim.Config) (string, journal.Store, journalsim.Tally) {
	t.Helper()
	dir := t.TempDir()
	store, err := journal.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	tally, err := journalsim.Run(context.Background(), store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, store, tally
}

func quarter() journalsim.Config {
	cfg := journalsim.Year()
	cfg.Days, cfg.Namespaces = 90, 20
	return cfg
}

func readCSV(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// checkAgainstTally compares the pack's CSVs with what the simulation did.
func checkAgainstTally(t *testing.T, dir string, tally journalsim.Tally, cfg journalsim.Config) {
	t.Helper()
	devs := readCSV(t, filepath.Join(dir, "deviations.csv"))
	status := map[string]int{}
	var recordedHours float64
	for _, d := range devs {
		status[d["status"]]++
		if d["status"] == "closed" {
			h, err := strconv.ParseFloat(d["duration_hours"], 64)
			if err != nil {
				t.Fatal(err)
			}
			recordedHours += h
		}
	}
	if want := tally.DeviationsOpened - tally.Lost; len(devs) != want {
		t.Errorf("deviations.csv has %d deviations, the simulation opened %d (%d lost in the outage)", len(devs), want, tally.Lost)
	}
	if want := tally.DeviationsClosed - tally.Lost - tally.InferredClosures; status["closed"] != want {
		t.Errorf("%d closed deviations, want %d", status["closed"], want)
	}
	if status["closed-inferred"] != tally.InferredClosures {
		t.Errorf("%d closings inferred from attestations, want %d", status["closed-inferred"], tally.InferredClosures)
	}
	if status["open"] != tally.DeviationsOpen {
		t.Errorf("%d deviations open at the end, want %d", status["open"], tally.DeviationsOpen)
	}
	// Durations are rounded to 0.01 h per row.
	if math.Abs(recordedHours-tally.RecordedClosedHours) > 0.01*float64(status["closed"]) {
		t.Errorf("closed deviations last %.2f h in all, the simulation says %.2f h", recordedHours, tally.RecordedClosedHours)
	}

	exc := readCSV(t, filepath.Join(dir, "exceptions.csv"))
	requested, approved, expired := 0, 0, 0
	for _, e := range exc {
		if e["requested"] != "" {
			requested++
		}
		if e["approved"] != "" {
			approved++
			if e["approved_by"] != "security-lead@example.com" || !strings.HasPrefix(e["requested_by"], "dev-") || !strings.HasPrefix(e["ticket"], "SEC-") {
				t.Errorf("exception %s: requester %q, approver %q, ticket %q", e["name"], e["requested_by"], e["approved_by"], e["ticket"])
			}
		}
		if e["state"] == "Expired" {
			expired++
		}
	}
	if requested != tally.ByType[journal.ExceptionRequested] || approved != tally.ByType[journal.ExceptionApproved] || expired != tally.ByType[journal.ExceptionExpired] {
		t.Errorf("exceptions requested/approved/expired %d/%d/%d, the journal has %d/%d/%d", requested, approved, expired,
			tally.ByType[journal.ExceptionRequested], tally.ByType[journal.ExceptionApproved], tally.ByType[journal.ExceptionExpired])
	}

	pop := readCSV(t, filepath.Join(dir, "population.csv"))
	if len(pop) != tally.PopulationRows {
		t.Errorf("population.csv has %d rows, the simulation attested %d", len(pop), tally.PopulationRows)
	}
	for _, p := range pop[:min(len(pop), 50)] {
		if p["population"] != strconv.Itoa(cfg.Workloads) || len(p["population_sha256"]) != 64 {
			t.Fatalf("population row %v", p)
		}
	}

	cov := readCSV(t, filepath.Join(dir, "coverage.csv"))
	missing := 0
	for _, c := range cov {
		n, _ := strconv.Atoi(c["days_missing"])
		missing += n
	}
	if len(cov) != cfg.Namespaces || missing != tally.MissingAttestationDays {
		t.Errorf("coverage.csv: %d namespaces with %d days missing, want %d and %d", len(cov), missing, cfg.Namespaces, tally.MissingAttestationDays)
	}
	gaps := readCSV(t, filepath.Join(dir, "gaps.csv"))
	if len(gaps) != len(tally.Gaps) {
		t.Fatalf("gaps.csv has %d gaps, the simulation made %d", len(gaps), len(tally.Gaps))
	}
	for i, g := range gaps {
		if g["from"] != tally.Gaps[i].From.Format(time.RFC3339) || g["to"] != tally.Gaps[i].To.Format(time.RFC3339) || g["reason"] != tally.Gaps[i].Reason {
			t.Errorf("gap %d: %v, want %+v", i, g, tally.Gaps[i])
		}
	}
}

func TestThePackMatchesWhatTheSimulationDid(t *testing.T) {
	cfg := quarter()
	_, store, tally := simulate(t, cfg)
	out := t.TempDir()
	p, err := Build(context.Background(), store, Options{From: cfg.Start, To: cfg.Start.AddDate(0, 0, cfg.Days), Clusters: []string{"prod"}, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	if !p.OK() {
		t.Fatalf("verification: %+v", p.Verification)
	}
	if p.Records != tally.Records {
		t.Errorf("the pack read %d records, the simulation wrote %d", p.Records, tally.Records)
	}
	checkAgainstTally(t, out, tally, cfg)
	for _, f := range []string{"index.html", "population.csv", "deviations.csv", "exceptions.csv", "coverage.csv", "gaps.csv", "criteria.csv", "controls.csv", "verification.json", "verification.txt", "MANIFEST.sha256"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("the pack has no %s", f)
		}
	}
}

func TestTheSameInputsGiveAByteIdenticalPack(t *testing.T) {
	cfg := quarter()
	cfg.Namespaces = 8
	_, store, _ := simulate(t, cfg)
	var dirs []string
	for range 2 {
		out := t.TempDir()
		code := Run([]string{"pack", "--store", store.String(), "--unsigned", "--from", "2025-01-01", "--to", "2025-03-31", "-o", out}, &bytes.Buffer{}, os.Stderr)
		if code != ExitOK {
			t.Fatalf("exit %d", code)
		}
		dirs = append(dirs, out)
	}
	a, _ := os.ReadFile(filepath.Join(dirs[0], "MANIFEST.sha256"))
	b, _ := os.ReadFile(filepath.Join(dirs[1], "MANIFEST.sha256"))
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Fatalf("the manifests differ:\n%s\n%s", a, b)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(a)), "\n") {
		name := strings.Fields(line)[1]
		x, _ := os.ReadFile(filepath.Join(dirs[0], name))
		y, _ := os.ReadFile(filepath.Join(dirs[1], name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds", name)
		}
	}
}

func TestAPackOfATamperedJournalSaysSoAndExitsNonZero(t *testing.T) {
	cfg := quarter()
	cfg.Namespaces = 4
	dir, store, _ := simulate(t, cfg)
	segs, _ := filepath.Glob(filepath.Join(dir, "prod", "segments", "*"))
	if err := os.Remove(segs[40]); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout bytes.Buffer
	code := Run([]string{"pack", "--store", store.String(), "--unsigned", "--from", "2025-01-01", "--to", "2025-03-31", "-o", out}, &stdout, os.Stderr)
	if code != ExitProblems {
		t.Fatalf("exit %d, want %d; output:\n%s", code, ExitProblems, stdout.String())
	}
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(page), "verification FAILED") || !strings.Contains(string(page), "missing") {
		t.Errorf("index.html does not say the journal failed verification")
	}
	stdout.Reset()
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned"}, &stdout, os.Stderr); code != ExitProblems || !strings.Contains(stdout.String(), "segment 000000000041: missing") {
		t.Errorf("verify: exit %d, output:\n%s", code, stdout.String())
	}
}

// TestVerifyCanRequireTheJournalToBeLocked: --locked-until asks that every segment be under
// Object Lock; a journal on a directory, which nothing stops anyone from rewriting, fails it
// (internal/journal tests the S3 lock modes on a real S3 server).
func TestVerifyCanRequireTheJournalToBeLocked(t *testing.T) {
	cfg := quarter()
	cfg.Namespaces = 2
	_, store, _ := simulate(t, cfg)
	var stdout bytes.Buffer
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned"}, &stdout, os.Stderr); code != ExitOK {
		t.Fatalf("without --locked-until: exit %d, output:\n%s", code, stdout.String())
	}
	// A verified chain on a store nothing locks is not an immutable trail: the output says
	// that retention was not verified, in text and in JSON.
	if !strings.Contains(stdout.String(), "retention NOT verified") {
		t.Errorf("without --locked-until, the output does not say retention was not verified:\n%s", stdout.String())
	}
	stdout.Reset()
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned", "-o", "json"}, &stdout, os.Stderr); code != ExitOK {
		t.Fatalf("-o json: exit %d", code)
	}
	var verdict struct {
		Verified          bool  `json:"verified"`
		RetentionVerified *bool `json:"retentionVerified"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &verdict); err != nil || !verdict.Verified || verdict.RetentionVerified == nil || *verdict.RetentionVerified {
		t.Errorf("-o json without --locked-until: want verified true and retentionVerified false, got %s (%v)", stdout.String(), err)
	}
	out := t.TempDir()
	stdout.Reset()
	if code := Run([]string{"pack", "--store", store.String(), "--unsigned", "--from", "2025-01-01", "--to", "2025-03-31", "-o", out}, &stdout, os.Stderr); code != ExitOK {
		t.Fatalf("pack: exit %d", code)
	}
	text, err := os.ReadFile(filepath.Join(out, "verification.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "retention NOT verified") || !strings.Contains(string(text), "retention NOT verified") {
		t.Errorf("pack without --locked-until: the output or verification.txt does not say retention was not verified:\n%s\n%s", stdout.String(), text)
	}
	stdout.Reset()
	code := Run([]string{"verify", "--store", store.String(), "--unsigned", "--locked-until", "2032-01-01"}, &stdout, os.Stderr)
	if code != ExitProblems || !strings.Contains(stdout.String(), "unlocked: the store "+store.String()+" keeps no Object Lock retention") {
		t.Errorf("with --locked-until on a directory: exit %d, output:\n%s", code, stdout.String())
	}
	var stderr bytes.Buffer
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned", "--locked-until", "soon"}, &stdout, &stderr); code != ExitUsage || !strings.Contains(stderr.String(), "--locked-until:") {
		t.Errorf("a bad --locked-until: exit %d, stderr %q", code, stderr.String())
	}
}

func TestThePackReadsOnlyTheSegmentsOfItsPeriod(t *testing.T) {
	cfg := quarter()
	cfg.Namespaces = 4
	_, fs, _ := simulate(t, cfg)
	store := &countingStore{Store: fs}
	p, err := Build(context.Background(), store, Options{From: cfg.Start.AddDate(0, 0, 10), To: cfg.Start.AddDate(0, 0, 17), Clusters: []string{"prod"}, Dir: t.TempDir()})
	if err != nil || !p.OK() {
		t.Fatalf("%v %+v", err, p)
	}
	// A segment per simulated day: the 7 days of the week, the one that may straddle its
	// start, the one before (hashed for the chain link) and the header of the one after.
	if store.gets > 10 {
		t.Errorf("read %d segments for a week", store.gets)
	}
}

type countingStore struct {
	journal.Store
	gets int
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c.gets++
	return c.Store.Get(ctx, key)
}

func TestVerifyChecksSignaturesWithTheGivenKey(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cfg := quarter()
	cfg.Namespaces, cfg.Days, cfg.Signer = 2, 10, key // day 6 is the outage: 9 segments
	_, store, _ := simulate(t, cfg)
	_, pub, _ := journal.EncodeKeys(key)
	keyFile := filepath.Join(t.TempDir(), "pub.pem")
	os.WriteFile(keyFile, pub, 0o600)
	var out bytes.Buffer
	if code := Run([]string{"verify", "--store", store.String(), "--public-key", keyFile}, &out, os.Stderr); code != ExitOK || !strings.Contains(out.String(), "9 signed by key") {
		t.Errorf("exit %d: %s", code, out.String())
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPub, _ := journal.EncodeKeys(other)
	os.WriteFile(keyFile, otherPub, 0o600)
	out.Reset()
	if code := Run([]string{"verify", "--store", store.String(), "--public-key", keyFile}, &out, os.Stderr); code != ExitProblems || !strings.Contains(out.String(), "bad-signature") {
		t.Errorf("another key: exit %d: %s", code, out.String())
	}
}

func TestEvidenceCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		args []string
		code int
		want string
	}{
		"no store":            {[]string{"verify"}, ExitUsage, "--store is required"},
		"a bad date":          {[]string{"pack", "--store", dir, "--unsigned", "--from", "last week", "--to", "2025-01-01", "-o", dir}, ExitUsage, `--from: "last week" is neither`},
		"no output directory": {[]string{"pack", "--store", dir, "--unsigned", "--from", "2025-01-01", "--to", "2025-01-02"}, ExitUsage, "-o are required"},
		"an empty store":      {[]string{"verify", "--store", dir, "--unsigned"}, ExitStore, "holds no journal"},
		// Checking no signature is said, not defaulted to: anyone who can write to the store
		// can write a chain that verifies without a key.
		"neither a key nor --unsigned": {[]string{"verify", "--store", dir}, ExitUsage, "--public-key FILE (the operator's journal signing key) is required"},
		"a key and --unsigned":         {[]string{"pack", "--store", dir, "--unsigned", "--public-key", "k.pem", "--from", "2025-01-01", "--to", "2025-01-02", "-o", dir}, ExitUsage, "exclude each other"},
		"an unknown subcomand":         {[]string{"sign"}, ExitUsage, `unknown command "sign"`},
		// A period given backwards is a typing error, not a journal that does not cover it.
		"verify, --to before --from": {[]string{"verify", "--store", dir, "--unsigned", "--from", "2025-02-01", "--to", "2025-01-01"}, ExitUsage,
			"the period is empty: --from 2025-02-01T00:00:00Z is not before --to 2025-01-02T00:00:00Z"},
		"pack, --to before --from": {[]string{"pack", "--store", dir, "--unsigned", "--from", "2025-02-01", "--to", "2025-01-01", "-o", dir}, ExitUsage,
			"the period is empty"},
		"verify, an empty period": {[]string{"verify", "--store", dir, "--unsigned", "--from", "2025-01-01T10:00:00Z", "--to", "2025-01-01T10:00:00Z"}, ExitUsage,
			"the period is empty"},
		"an unknown scheme": {[]string{"verify", "--store", "gs://bucket", "--unsigned"}, ExitUsage, `unknown scheme "gs"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := Run(tc.args, &bytes.Buffer{}, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}

// journalOf writes records as cluster c's journal into a new file store.
func journalOf(t *testing.T, records ...journal.Record) journal.Store {
	t.Helper()
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := journal.NewWriter(context.Background(), store, journal.WriterOptions{Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), records); err != nil {
		t.Fatal(err)
	}
	return store
}

func TestAFindingsExceptionIsMatchedByNamespaceAndName(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", FirstSeen: t0.Add(time.Hour)}
	ex := journal.Exception{Name: "platform-wide", ApprovedBy: "ciso@example.com"}
	excepted := f
	excepted.Exception = "ops/platform-wide" // an exception in the operator's namespace
	store := journalOf(t,
		journal.Record{Type: journal.ExceptionRequested, Time: t0, Namespace: "ops", Exception: &ex},
		journal.Record{Type: journal.FindingOpened, Time: t0.Add(time.Hour), Profile: "p", Namespace: "team-a", Finding: &f},
		journal.Record{Type: journal.FindingExcepted, Time: t0.Add(2 * time.Hour), Profile: "p", Namespace: "team-a", Finding: &excepted})
	out := buildPack(t, store, t0, t0.AddDate(0, 0, 1))
	rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
	if len(rows) != 1 || rows[0]["namespace"] != "ops" || rows[0]["name"] != "platform-wide" || rows[0]["findings_covered"] != "1" {
		t.Errorf("exceptions.csv: %v", rows)
	}
}

// A running operator writes a heartbeat every 10 minutes, so hours without any record are
// hours nobody observed, even when no record says so (a frozen process, a suspended node):
// the pack counts them as time not observed, next to the gaps the operator recorded itself.
func TestASilenceInTheJournalIsTimeNotObserved(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := func(hours float64) time.Time { return t0.Add(time.Duration(hours * float64(time.Hour))) }
	var recs []journal.Record
	beat := func(from, to float64) {
		for at := h(from); !at.After(h(to)); at = at.Add(journalsim.Heartbeat) {
			recs = append(recs, journal.Record{Type: journal.OperatorHeartbeat, Time: at})
		}
	}
	beat(0, 2) // then three silent hours
	beat(5, 6)
	stopped := journal.Interval{From: h(6), To: h(8), Reason: "upgrade"}
	recs = append(recs, journal.Record{Type: journal.OperatorStopped, Time: h(6)},
		journal.Record{Type: journal.ObservationGap, Time: h(8), Interval: &stopped})
	beat(8, 9)
	store := journalOf(t, recs...)
	out := t.TempDir()
	p, err := Build(context.Background(), store, Options{From: t0, To: h(9), Clusters: []string{"c"}, Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	gaps := readCSV(t, filepath.Join(out, "gaps.csv"))
	if len(gaps) != 2 || gaps[0]["type"] != "silence" || gaps[0]["from"] != h(2).Format(time.RFC3339) || gaps[0]["to"] != h(5).Format(time.RFC3339) ||
		gaps[1]["type"] != string(journal.ObservationGap) || gaps[1]["from"] != h(6).Format(time.RFC3339) {
		t.Fatalf("gaps.csv: %v\nwant the three silent hours, then the recorded stop", gaps)
	}
	if !strings.Contains(gaps[0]["reason"], "no record for 3.0h") {
		t.Errorf("the silence's reason: %q", gaps[0]["reason"])
	}
	if !p.OK() {
		t.Errorf("a silence is not a broken chain: %v", p.Verification)
	}
}

// The last segments of a journal are deleted: what remains verifies. Given a copy of the
// ComplianceProfiles whose status holds the head the operator published (--heads), verify and
// the pack report the chain rewound.
func TestVerifyGivenThePublishedHeadsReportsADeletedTail(t *testing.T) {
	cfg := quarter()
	cfg.Namespaces = 2
	dir, store, _ := simulate(t, cfg)
	res, err := journal.Verify(context.Background(), store, "prod", time.Time{}, time.Time{}, nil)
	if err != nil || !res.OK() {
		t.Fatalf("the simulated journal: %v %v", res.Problems, err)
	}
	heads := filepath.Join(t.TempDir(), "profiles.yaml")
	profiles := fmt.Sprintf(`apiVersion: v1
kind: List
items:
- apiVersion: compliance.soc2-operator.io/v1alpha1
  kind: ComplianceProfile
  metadata: {name: soc2-baseline}
  status:
    journalHeads:
    - {cluster: prod, sequence: %d, digest: %s, time: %q}
`, res.LastSeq, res.LastDigest, res.Last.Format(time.RFC3339))
	if err := os.WriteFile(heads, []byte(profiles), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned", "--heads", heads}, &stdout, os.Stderr); code != ExitOK {
		t.Fatalf("the whole chain given its published head: exit %d, output:\n%s", code, stdout.String())
	}
	// A cluster whose head was published and whose journal is not in the store at all.
	other := filepath.Join(t.TempDir(), "staging.yaml")
	if err := os.WriteFile(other, []byte(profiles+"    - {cluster: staging, sequence: 12, digest: "+strings.Repeat("0", 64)+", time: \"2025-01-02T00:00:00Z\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned", "--heads", other}, &stdout, os.Stderr); code != ExitProblems ||
		!strings.Contains(stdout.String(), "staging: segment (none): rewound: the store holds no journal for this cluster") {
		t.Errorf("a published head of a cluster the store has no journal for: exit %d, output:\n%s", code, stdout.String())
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "prod", "segments", "*"))
	for _, s := range segs[len(segs)-3:] {
		if err := os.Remove(s); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Reset()
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned"}, &stdout, os.Stderr); code != ExitOK {
		t.Fatalf("the truncated chain without --heads: exit %d, output:\n%s", code, stdout.String())
	}
	stdout.Reset()
	code := Run([]string{"verify", "--store", store.String(), "--unsigned", "--heads", heads}, &stdout, os.Stderr)
	if code != ExitProblems || !strings.Contains(stdout.String(), ": rewound: the chain does not hold the head published") || !strings.Contains(stdout.String(), res.LastDigest) {
		t.Errorf("the truncated chain given the published head: exit %d, output:\n%s", code, stdout.String())
	}
	out := t.TempDir()
	stdout.Reset()
	code = Run([]string{"pack", "--store", store.String(), "--unsigned", "--heads", heads, "--from", "2025-01-01", "--to", "2025-01-31", "-o", out}, &stdout, os.Stderr)
	page, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if code != ExitProblems || !strings.Contains(string(page), "rewound") {
		t.Errorf("pack given the published head: exit %d, index.html names no rewind; output:\n%s", code, stdout.String())
	}
	var stderr bytes.Buffer
	if code := Run([]string{"verify", "--store", store.String(), "--unsigned", "--heads", filepath.Join(out, "index.html")}, &stdout, &stderr); code != ExitUsage || !strings.Contains(stderr.String(), "--heads:") {
		t.Errorf("--heads of a file that holds no profiles: exit %d, %s", code, stderr.String())
	}
}
