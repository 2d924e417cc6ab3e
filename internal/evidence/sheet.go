package evidence

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"
)

// sheet writes CSV for spreadsheets: a cell that starts with =, +, -, @, a tab, a carriage
// return or a null character (OWASP ASVS 1.2.10) is run as a formula by Excel, LibreOffice and
// Google Sheets, and much of the pack's text (exception reasons, tickets, owners, finding
// messages) is written by namespace admins. Such a cell gets a leading single quote, as OWASP's
// CSV Injection guidance says, so it shows as the text it is; numbers and every other cell are
// written unchanged. The journal itself keeps the text as recorded.
type sheet struct{ *csv.Writer }

func newSheet(w io.Writer) sheet { return sheet{csv.NewWriter(w)} }

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
	return s.Writer.Write(out)
}
