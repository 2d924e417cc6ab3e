package evidence

import (
	"encoding/csv"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// sheet writes CSV for spreadsheets: a cell that starts with =, +, -, @, a tab, a carriage
// return or a null character (OWASP ASVS 1.2.10) is run as a formula by Excel, LibreOffice and
// Google Sheets, and much of the pack's text (exception reasons, tickets, owners, finding
// messages) is written by namespace admins. Such a cell gets a leading single quote, as OWASP's
// CSV Injection guidance says, so it shows as the text it is; numbers and every other cell are
// written unchanged. The journal itself keeps the text as recorded.
//
// Excel reads a CSV file with the list separator of the reader's locale, a semicolon in much of
// Europe: "x;=1+1" is then two cells, the second a formula. A cell that holds a semicolon is
// written in double quotes, which keep it one cell in either reading (encoding/csv quotes only
// a cell holding its comma, a quote or a line break).
type sheet struct {
	*csv.Writer
	st *sheetState
}

// sheetState is what a sheet writes around its csv.Writer: the rows with a semicolon.
type sheetState struct {
	w   io.Writer
	err error
}

func newSheet(w io.Writer) sheet { return sheet{csv.NewWriter(w), &sheetState{w: w}} }

// Error is the first error of a write or a flush.
func (s sheet) Error() error {
	if s.st.err != nil {
		return s.st.err
	}
	return s.Writer.Error()
}

// formulaStarts are the first characters that make a spreadsheet read a cell as a formula.
const formulaStarts = "=+-@\t\r\x00"

var number = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)

func (s sheet) Write(record []string) error {
	var out []string
	for i, cell := range record {
		if cell == "" || !strings.ContainsRune(formulaStarts, rune(cell[0])) || number.MatchString(cell) {
			continue
		}
		if out == nil {
			out = append([]string(nil), record...)
		}
		out[i] = "'" + cell
	}
	if out == nil {
		out = record
	}
	if !slices.ContainsFunc(out, func(c string) bool { return strings.Contains(c, ";") }) {
		return s.Writer.Write(out)
	}
	// Written in order after the rows before it, with every field a semicolon, quote,
	// comma, line break or leading space is in quoted.
	s.Writer.Flush()
	if err := s.Writer.Error(); err != nil {
		return err
	}
	var b strings.Builder
	for i, cell := range out {
		if i > 0 {
			b.WriteByte(',')
		}
		if cell != "" && (strings.ContainsAny(cell, ";,\"\r\n") || unicode.IsSpace([]rune(cell)[0])) {
			b.WriteString(`"` + strings.ReplaceAll(cell, `"`, `""`) + `"`)
		} else {
			b.WriteString(cell)
		}
	}
	b.WriteByte('\n')
	if _, err := io.WriteString(s.st.w, b.String()); err != nil && s.st.err == nil {
		s.st.err = err
	}
	return s.st.err
}
