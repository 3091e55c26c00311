package export

import (
	"strings"
	"unicode/utf8"
)

// Neutralise makes a text cell safe to open in a spreadsheet. A cell whose
// first character would make Excel, LibreOffice or Google Sheets read it as
// a formula — '=', '+', '-', '@', tab or carriage return (OWASP's list for
// CSV injection), or the full-width '＝', '＋', '－', '＠' that East Asian
// input methods produce and some spreadsheets accept as the same — gets a
// single quote in front, so the spreadsheet shows the text as typed and
// never evaluates it. Text that merely looks like a number ("-2", "+1") is
// neutralised too: the cell came from data, not from us, and it is text.
//
// The same goes for a formula character right after a separator inside the
// cell (',', ';' or tab): a spreadsheet that splits the file on another
// separator than the comma — Excel in a French or German locale splits on
// ';' — or ignores the quotes makes a new cell there ("Smith;=1+1" would
// run =1+1), so "Smith;'=1+1" is written instead. The writer quotes such
// cells as well (csvWriter).
//
// Cells this package writes itself from numbers, booleans and dates never
// go through Neutralise: they cannot start a formula and must stay numbers.
//
// Invalid UTF-8 (which DynamoDB would not store, but a bug could produce) is
// replaced by U+FFFD so that the file stays valid UTF-8 whatever happens.
func Neutralise(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if s == "" {
		return s
	}
	var b strings.Builder
	if s[0] == '\t' || s[0] == '\r' {
		b.WriteByte('\'')
	}
	if !strings.ContainsAny(s, formulaStarts) {
		if b.Len() == 0 {
			return s
		}
		b.WriteString(s)
		return b.String()
	}
	b.Grow(len(s) + 2)
	segmentStart := true // at the cell's start or right after a separator
	for _, r := range s {
		if segmentStart && strings.ContainsRune(formulaStarts, r) {
			b.WriteByte('\'')
		}
		b.WriteRune(r)
		segmentStart = strings.ContainsRune(cellSeparators, r)
	}
	return b.String()
}

// formulaStarts are the characters that start a formula; cellSeparators
// are those a spreadsheet may split a line on.
const (
	formulaStarts  = "=+-@＝＋－＠"
	cellSeparators = ",;\t"
)
