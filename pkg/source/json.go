package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// errBroken stops a parse whose document cannot be read further (broken
// JSON, a record too large); the Problem saying why is already recorded.
var errBroken = errors.New("document cannot be read further")

// jsonStream walks a JSON document token by token and hands out one record
// (an array element) at a time, so that memory is bounded by one record.
type jsonStream struct {
	p   *parser
	dec *json.Decoder
	win *windowReader
	// skew is how many bytes the decoder read before the window's first:
	// the prefix of a resumed stream (resumeJSONStream).
	skew int64
}

func newJSONStream(p *parser, r io.Reader) *jsonStream {
	win := newWindowReader(r)
	dec := json.NewDecoder(win)
	// Numbers stay text: a token such as 1E700 must be a problem of the
	// record it is in, not a failure to convert it to float64.
	dec.UseNumber()
	return &jsonStream{p: p, dec: dec, win: win}
}

// resumeJSONStream continues a document in the middle: r holds its bytes
// from a point right after a value or an opening bracket, on line line,
// and prefix is JSON text that leaves a decoder in the state the
// document's own decoder would be in there ("{" inside the top-level
// object before its first member, `{"":[[]` inside an array after an
// element, and so on). The decoder reads the prefix first, token by
// token, so that its nesting, and so every message it gives, is the
// document's; the window, its line and its size limit start at r's first
// byte, as they would have in one walk of the whole document.
func resumeJSONStream(p *parser, r io.Reader, line int, prefix string) (*jsonStream, error) {
	win := &windowReader{r: r, line: line}
	dec := json.NewDecoder(io.MultiReader(strings.NewReader(prefix), win))
	dec.UseNumber()
	js := &jsonStream{p: p, dec: dec, win: win, skew: int64(len(prefix))}
	// Each token of the prefix ends within it (a delimiter, or a string
	// followed by ':'), so no byte of r is read here.
	for dec.InputOffset() < js.skew {
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("resuming the document: %w", err)
		}
	}
	return js, nil
}

// offset is the decoder's position within the window's stream; it only
// grows.
func (js *jsonStream) offset() int64 { return js.dec.InputOffset() - js.skew }

// line is the line of the decoder's position.
func (js *jsonStream) line() int { return js.win.lineAt(js.offset()) }

// token reads the next token.
func (js *jsonStream) token() (json.Token, error) {
	at := js.offset()
	js.win.advance(at)
	tok, err := js.dec.Token()
	if err != nil {
		return nil, js.broken(err, at)
	}
	return tok, nil
}

// more reports whether the current array or object has another element.
func (js *jsonStream) more() bool { return js.dec.More() }

// value decodes the next value whole into v (objects as map[string]any,
// numbers as json.Number) and returns the line it starts on and its bytes,
// which stay valid until the stream moves on: they are the window's, kept
// for locating problems.
func (js *jsonStream) value(v *any) (line int, raw []byte, err error) {
	at := js.offset()
	js.win.advance(at)
	*v = nil
	if err := js.dec.Decode(v); err != nil {
		return 0, nil, js.broken(err, at)
	}
	rest := js.win.from(at)
	s := skipSeparators(rest, 0)
	end := int(js.offset() - at)
	if end > len(rest) || s > end { // cannot happen: the decoder read these bytes
		end, s = len(rest), min(s, len(rest))
	}
	return js.win.lineAt(at + int64(s)), rest[s:end], nil
}

// skip reads past the next value, token by token so that an unknown but
// huge member costs no memory.
func (js *jsonStream) skip() error {
	tok, err := js.token()
	if err != nil {
		return err
	}
	return js.skipRest(tok)
}

// skipRest reads past the rest of a value whose first token was tok.
func (js *jsonStream) skipRest(tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := js.token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// end checks that nothing but white space follows the document.
func (js *jsonStream) end() error {
	at := js.offset()
	js.win.advance(at)
	_, err := js.dec.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return js.broken(err, at)
	}
	js.p.fail(Problem{Line: js.line(), Reason: "unexpected data after the end of the JSON document"})
	return errBroken
}

// broken turns a decoding error at stream offset at into a Problem (and
// errBroken), or, for an error of the underlying reader, into that error.
func (js *jsonStream) broken(err error, at int64) error {
	var syn *json.SyntaxError
	switch {
	case js.win.err != nil:
		return ioError(js.win.err)
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		js.p.fail(Problem{Line: js.win.lineAt(js.win.read), Reason: "the JSON document ends unexpectedly"})
	case isTooLarge(err):
		js.p.fail(Problem{Line: js.win.lineAt(at), Reason: errRowTooLarge.Error()})
	case errors.As(err, &syn):
		js.p.fail(js.syntaxProblem(syn, at))
	default:
		return ioError(err)
	}
	return errBroken
}

// syntaxProblem finds the line of a syntax error. A Decoder's SyntaxError
// offset is only reliable for Token; for Decode the value that failed is
// scanned again from the window, where a fresh scanner counts from its start.
func (js *jsonStream) syntaxProblem(syn *json.SyntaxError, at int64) Problem {
	reason := "invalid JSON: " + syn.Error()
	rest := js.win.from(at)
	s := skipSeparators(rest, 0)
	var raw json.RawMessage
	err := json.NewDecoder(bytes.NewReader(rest[s:])).Decode(&raw)
	var again *json.SyntaxError
	if errors.As(err, &again) && again.Offset > 0 {
		return Problem{Line: js.win.lineAt(at + int64(s) + again.Offset - 1), Reason: "invalid JSON: " + again.Error()}
	}
	if off := syn.Offset - js.skew; off >= at {
		return Problem{Line: js.win.lineAt(off), Reason: reason}
	}
	return Problem{Line: js.win.lineAt(at), Reason: reason}
}

// skipSeparators skips white space and the ',' and ':' between tokens.
func skipSeparators(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			i++
		default:
			return i
		}
	}
	return i
}

// pathSeg is a member name (string) or an array index (int).
type pathSeg = any

// formatPath writes base followed by the segments: users[3] + licenses, 0,
// assignedDate → users[3].licenses[0].assignedDate.
func formatPath(base string, segs ...pathSeg) string {
	var b strings.Builder
	b.WriteString(base)
	for _, s := range segs {
		switch v := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(v))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// locate returns the byte offset, within the value raw, of the value at the
// path segs, or of its deepest existing ancestor when the path does not
// exist (a missing member is reported on its object). Member names match
// exactly, or ignoring case when fold is set.
func locate(raw []byte, segs []pathSeg, fold bool) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	best := skipSeparators(raw, 0)
	var value func(depth int)
	value = func(depth int) {
		best = skipSeparators(raw, int(dec.InputOffset()))
		if depth == len(segs) {
			return
		}
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch tok {
		case json.Delim('{'):
			want, ok := segs[depth].(string)
			if !ok {
				return
			}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return
				}
				k, _ := kt.(string)
				if k == want || fold && strings.EqualFold(k, want) {
					value(depth + 1)
					return
				}
				if skipDecoderValue(dec) != nil {
					return
				}
			}
		case json.Delim('['):
			want, ok := segs[depth].(int)
			if !ok {
				return
			}
			for i := 0; dec.More(); i++ {
				if i == want {
					value(depth + 1)
					return
				}
				if skipDecoderValue(dec) != nil {
					return
				}
			}
		}
	}
	value(0)
	return best
}

func skipDecoderValue(dec *json.Decoder) error {
	var discard json.RawMessage
	return dec.Decode(&discard)
}

// record is one JSON record being validated: its bytes, where it starts,
// its path, and the problems found so far.
type record struct {
	raw  []byte
	line int
	base string // path of the record, e.g. users[3]
	// array and index give base when it is empty: the snapshot's records
	// format their path only when they have a problem (see where).
	array string
	index int
	fold  bool // member names match ignoring case (Microsoft formats)
	probs []Problem
	// unlisted counts the problems beyond maxRecordProblems, which are not
	// located: locating costs a walk of the record, and a hostile record
	// could otherwise hold a million bad entries.
	unlisted int
}

// maxRecordProblems is how many problems one record lists.
const maxRecordProblems = 20

// bad reports whether the record has any problem.
func (r *record) bad() bool { return len(r.probs)+r.unlisted > 0 }

// problem records a problem with the value at segs (relative to the record).
func (r *record) problem(segs []pathSeg, format string, args ...any) {
	if len(r.probs) >= maxRecordProblems {
		r.unlisted++
		return
	}
	off := locate(r.raw, segs, r.fold)
	r.probs = append(r.probs, Problem{
		Line:   r.line + bytes.Count(r.raw[:off], []byte{'\n'}),
		Column: formatPath(r.where(), segs...),
		Reason: fmt.Sprintf(format, args...),
	})
}

// where is the record's path, e.g. users[3].
func (r *record) where() string {
	if r.base == "" && r.array != "" {
		r.base = formatPath(r.array, r.index)
	}
	return r.base
}

// object is a decoded JSON object.
type object struct {
	members map[string]any
	fold    bool
	at      []pathSeg // path of the object within its record
}

// asObject takes v as an object; anything else is a problem at at.
func (r *record) asObject(v any, at []pathSeg) (object, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		r.problem(at, "must be a JSON object, not %s", describe(v))
		return object{}, false
	}
	return object{members: m, fold: r.fold, at: at}, true
}

// get is member name's value, nil when it is absent or null.
func (o object) get(name string) any {
	if v, ok := o.members[name]; ok {
		return v
	}
	if o.fold {
		for k, v := range o.members {
			if strings.EqualFold(k, name) {
				return v
			}
		}
	}
	return nil
}

// path is the path of member name.
func (o object) path(name string) []pathSeg {
	return append(append([]pathSeg(nil), o.at...), name)
}

// describe names the JSON type of a decoded value, for messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// str reads a string member. A required one must be present and non-empty.
func (r *record) str(o object, name string, required bool) (string, bool) {
	v := o.get(name)
	if v == nil {
		if required {
			r.problem(o.path(name), "is required")
			return "", false
		}
		return "", true
	}
	s, isStr := v.(string)
	if !isStr {
		r.problem(o.path(name), "must be a string, not %s", describe(v))
		return "", false
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		r.problem(o.path(name), "must not be empty")
		return "", false
	}
	return s, true
}

// maxCount bounds quantities and counts: no tenant holds two billion seats,
// and the bound keeps sums far from overflowing.
const maxCount = 1<<31 - 1

// integer reads a count: a JSON integer ≥ 0. Absent is 0 unless required.
func (r *record) integer(o object, name string, required bool) (int, bool) {
	v := o.get(name)
	if v == nil {
		if required {
			r.problem(o.path(name), "is required")
			return 0, false
		}
		return 0, true
	}
	n, reason := parseCount(v)
	if reason != "" {
		r.problem(o.path(name), "%s", reason)
		return 0, false
	}
	return n, true
}

// parseCount checks that v is a plain non-negative JSON integer; the reason
// is empty when it is.
func parseCount(v any) (int, string) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Sprintf("must be a number, not %s", describe(v))
	}
	t := string(num)
	if strings.ContainsAny(t, ".eE") {
		return 0, fmt.Sprintf("must be a whole number, not %s", t)
	}
	if strings.HasPrefix(t, "-") {
		if strings.Trim(t[1:], "0") == "" {
			return 0, ""
		}
		return 0, fmt.Sprintf("must be 0 or more, not %s", t)
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n > maxCount {
		return 0, fmt.Sprintf("%s is too large (at most %d)", t, maxCount)
	}
	return int(n), ""
}

// boolean reads a boolean member; absent or null is false.
func (r *record) boolean(o object, name string) (bool, bool) {
	v := o.get(name)
	if v == nil {
		return false, true
	}
	b, ok := v.(bool)
	if !ok {
		r.problem(o.path(name), "must be true or false, not %s", describe(v))
		return false, false
	}
	return b, true
}

// date reads a YYYY-MM-DD member; absent or null is NoDate unless required.
func (r *record) date(o object, name string, required bool) (license.Date, bool) {
	s, ok := r.str(o, name, required)
	if !ok || s == "" {
		return license.NoDate, ok
	}
	d, err := parseDate(s)
	if err != nil {
		r.problem(o.path(name), "%s", err.Error())
		return license.NoDate, false
	}
	return d, true
}

// datePart reads a timestamp member (2026-11-20T00:00:00Z) and keeps its
// calendar date as written; absent or null is NoDate.
func (r *record) datePart(o object, name string) (license.Date, bool) {
	s, ok := r.str(o, name, false)
	if !ok || s == "" {
		return license.NoDate, ok
	}
	d, err := timestampDate(s)
	if err != nil {
		r.problem(o.path(name), "%s", err.Error())
		return license.NoDate, false
	}
	return d, true
}

// timestampDate is the date part of an ISO 8601 timestamp. The date as
// written is kept, not converted to UTC: Graph writes UTC already, and a
// renewal date belongs to the calendar day the source names.
func timestampDate(s string) (license.Date, error) {
	if len(s) < 10 || len(s) > 10 && s[10] != 'T' && s[10] != 't' && s[10] != ' ' {
		return license.NoDate, fmt.Errorf("timestamp %q does not start with a YYYY-MM-DD date", s)
	}
	d, err := parseDate(s[:10])
	if err != nil {
		return license.NoDate, fmt.Errorf("timestamp %q does not start with a YYYY-MM-DD date", s)
	}
	return d, nil
}
