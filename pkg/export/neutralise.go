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
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '＝', '＋', '－', '＠':
		return "'" + s
	}
	return s
}
