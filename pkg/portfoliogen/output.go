package portfoliogen

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// output buffers a document on its way to the writer. Records are built
// with the append helpers below into one reused buffer, so a row costs no
// allocation beyond the strings of its user.
type output struct {
	bw  *bufio.Writer
	buf []byte
	err error
}

func newOutput(w io.Writer) *output {
	return &output{bw: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 4096)}
}

// emit writes b (normally o.buf after appending to it) and keeps the first
// error, which the caller checks to stop generating early.
func (o *output) emit(b []byte) {
	o.buf = b[:0]
	if o.err != nil {
		return
	}
	_, o.err = o.bw.Write(b)
}

// close flushes and reports the first error.
func (o *output) close() error {
	if o.err != nil {
		return o.err
	}
	return o.bw.Flush()
}

// appendJSONString appends s as a JSON string. Non-ASCII text is kept as
// UTF-8, which JSON allows; only what JSON requires is escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
			i++
			continue
		case '\n':
			b = append(b, '\\', 'n')
			i++
			continue
		case '\r':
			b = append(b, '\\', 'r')
			i++
			continue
		case '\t':
			b = append(b, '\\', 't')
			i++
			continue
		}
		if c < 0x20 {
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendJSONDate appends a date as a JSON string, or null for NoDate.
func appendJSONDate(b []byte, d license.Date) []byte {
	if d.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = appendDate(b, d)
	return append(b, '"')
}

// appendJSONTime appends midnight UTC of d in Graph's timestamp form, or
// null for NoDate.
func appendJSONTime(b []byte, d license.Date) []byte {
	if d.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = appendDate(b, d)
	return append(b, `T00:00:00Z"`...)
}

// appendDate appends YYYY-MM-DD (nothing for NoDate).
func appendDate(b []byte, d license.Date) []byte {
	if d.IsZero() {
		return b
	}
	return d.Time().AppendFormat(b, "2006-01-02")
}

func appendJSONBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

func appendJSONInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

// appendCSVField appends one CSV field, quoted as RFC 4180 requires when it
// holds a comma, a quote or a line break.
func appendCSVField(b []byte, s string) []byte {
	quote := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			quote = true
			break
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
