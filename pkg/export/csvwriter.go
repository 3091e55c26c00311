package export

import (
	"bufio"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// csvWriter writes RFC 4180 records with CRLF line ends. It quotes every
// field RFC 4180 requires (a comma, a double quote, CR or LF) and also
// every field holding a ';' or a tab, or starting or ending with white
// space: encoding/csv leaves those bare, and a spreadsheet that splits on
// ';' (Excel in a French or German locale) or on tabs would cut the cell
// there, while one that trims bare fields would lose the spaces. Quoting
// more than needed is valid RFC 4180: every CSV reader gives the same
// values back.
type csvWriter struct {
	w   *bufio.Writer
	err error
}

func newCSVWriter(w io.Writer) *csvWriter {
	return &csvWriter{w: bufio.NewWriter(w)}
}

// Write writes one record; an error of the underlying writer is returned
// (and kept for Error) once the buffer is flushed.
func (c *csvWriter) Write(record []string) error {
	if c.err != nil {
		return c.err
	}
	for i, field := range record {
		if i > 0 {
			c.w.WriteByte(',')
		}
		if !needsQuotes(field) {
			c.w.WriteString(field)
			continue
		}
		// As encoding/csv with UseCRLF: quotes doubled, line breaks inside
		// a field written CRLF.
		c.w.WriteByte('"')
		for i := 0; i < len(field); i++ {
			switch b := field[i]; b {
			case '"':
				c.w.WriteString(`""`)
			case '\r':
			case '\n':
				c.w.WriteString("\r\n")
			default:
				c.w.WriteByte(b)
			}
		}
		c.w.WriteByte('"')
	}
	_, c.err = c.w.WriteString("\r\n")
	return c.err
}

// needsQuotes reports whether field must be written quoted.
func needsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` || strings.ContainsAny(field, ",\";\t\r\n") {
		return true // `\.` alone on a line ends data for some loaders, as encoding/csv quotes it
	}
	first, _ := utf8.DecodeRuneInString(field)
	last, _ := utf8.DecodeLastRuneInString(field)
	return unicode.IsSpace(first) || unicode.IsSpace(last)
}

// Flush writes what is buffered.
func (c *csvWriter) Flush() {
	if err := c.w.Flush(); err != nil && c.err == nil {
		c.err = err
	}
}

// Error is the first error of a Write or Flush.
func (c *csvWriter) Error() error { return c.err }
