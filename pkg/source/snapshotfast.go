package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// The native snapshot's fast path (issue 19). Decoding each user record
// into map[string]any with encoding/json cost ~60 allocations and ~3.3 KB
// a user and was the largest share of an ingest's CPU; a typed
// encoding/json decode cost more CPU still (BENCHMARKS.md). fastSnapshot
// instead scans the document's bytes from one reused buffer and reads each
// user record straight into a license.User (userDecoder, checking the
// JSON as it goes), allocating only the key and display name (one string)
// and, without Options.ReuseUser, the licences and workloads.
//
// It only ever answers what the encoding/json walk (walkSnapshot) would:
//
//   - a record the user decoder does not vouch for (any problem at all, a
//     member given twice, a SKU that is not ASCII) is, once checked
//     well-formed by the scanner, decoded from its bytes into
//     map[string]any as before and validated by the same code, so its
//     problems are today's; so are subscriptions and the header members;
//   - anywhere the scanner meets what is not plainly well-formed JSON, or
//     a value too large for its buffer, or a read error, or any top-level
//     member it does not handle (one given twice, "Users", users: null),
//     it hands the rest of the document to the encoding/json walk, resumed
//     at the last value boundary with the decoder in the state the
//     document's own would have had (resumeJSONStream), so every message,
//     line and limit past that point is exactly the walk's.
//
// The differential fuzz test (snapshotfast_test.go) holds the two to the
// same users, documents and problems.

// fastChunk is how much the scanner reads at a time.
const fastChunk = 64 << 10

// fastMaxValue bounds a value the scanner holds whole (a user record, a
// header member, an unknown member): a larger one goes to the
// encoding/json walk, which enforces MaxRowBytes exactly as before.
const fastMaxValue = 1 << 20

// fastMaxDepth bounds nesting within one value; deeper goes to the walk
// (encoding/json's own limit is 10,000).
const fastMaxDepth = 256

// snapReader is the scanner's buffer over the document. buf[mark:] is kept
// across reads: mark is the last value boundary, where the walk resumes.
type snapReader struct {
	r    io.Reader
	buf  []byte
	pos  int // next byte to look at
	mark int
	eof  bool
	err  error // the reader's error other than io.EOF
	// line is the 1-based line of buf[linePos].
	linePos, line int
	stack         []byte // open brackets of the value being scanned
	users         userDecoder
}

// more reads further bytes, dropping those before mark. It reports false
// at the end of the document, on a read error, or once the bytes kept
// from mark on reach fastMaxValue.
func (r *snapReader) more() bool {
	if r.eof || r.err != nil || len(r.buf)-r.mark >= fastMaxValue+fastChunk {
		return false
	}
	if r.mark > 0 && r.mark >= len(r.buf)/2 {
		r.lineAt(r.mark) // the line count must not lose the bytes dropped
		n := copy(r.buf, r.buf[r.mark:])
		r.buf = r.buf[:n]
		r.pos -= r.mark
		r.linePos -= r.mark
		r.mark = 0
	}
	if cap(r.buf)-len(r.buf) < fastChunk {
		nb := make([]byte, len(r.buf), 2*cap(r.buf)+fastChunk)
		copy(nb, r.buf)
		r.buf = nb
	}
	// A whole chunk, however little each read gives: a value that runs
	// past the buffer is scanned again from its start, so reading it a
	// few bytes at a time would cost time quadratic in its size.
	// (bufio.Reader, which Parse reads through, gives up on a reader that
	// never progresses.)
	var n int
	var err error
	for n < fastChunk && err == nil {
		var k int
		k, err = r.r.Read(r.buf[len(r.buf)+n : cap(r.buf)])
		n += k
	}
	r.buf = r.buf[:len(r.buf)+n]
	switch {
	case err == io.EOF:
		r.eof = true
	case err != nil:
		r.err = err
	}
	return n > 0
}

// lineAt is the line of buf[i].
func (r *snapReader) lineAt(i int) int {
	if i >= r.linePos {
		r.line += bytes.Count(r.buf[r.linePos:i], []byte{'\n'})
	} else {
		r.line -= bytes.Count(r.buf[i:r.linePos], []byte{'\n'})
	}
	r.linePos = i
	return r.line
}

// peek skips white space and returns the next byte, without taking it;
// false when there is none (see more).
func (r *snapReader) peek() (byte, bool) {
	for {
		for r.pos < len(r.buf) {
			switch c := r.buf[r.pos]; c {
			case ' ', '\t', '\n', '\r':
				r.pos++
			default:
				return c, true
			}
		}
		if !r.more() {
			return 0, false
		}
	}
}

// value skips white space and the well-formed JSON value that follows,
// and returns where it starts and ends in buf (valid until the next
// read); false when it is not plainly well-formed or not whole within
// reach (see more).
func (r *snapReader) value() (start, end int, ok bool) {
	for {
		if _, ok := r.peek(); !ok {
			return 0, 0, false
		}
		end, res := skipValue(r.buf, r.pos, &r.stack)
		switch res {
		case scanOK:
			start = r.pos
			r.pos = end
			return start, end, true
		case scanMore:
			if r.more() {
				continue
			}
		}
		return 0, 0, false
	}
}

// rest is the document from mark on, for the encoding/json walk.
func (r *snapReader) rest() io.Reader {
	kept := bytes.NewReader(r.buf[r.mark:])
	switch {
	case r.err != nil:
		return io.MultiReader(kept, errReader{r.err})
	case r.eof:
		return kept
	}
	return io.MultiReader(kept, r.r)
}

// errReader fails every read with err: the reader's error, kept for the
// walk to meet where the scanner met it.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type scanResult int

const (
	scanOK      scanResult = iota
	scanMore               // the value runs past the bytes read so far
	scanInvalid            // not well-formed, or not vouched for (too deep)
)

// skipValue finds the end of the JSON value starting at b[i], checking it
// is well-formed by exactly encoding/json's grammar.
// stack holds the open brackets (its backing array is reused).
func skipValue(b []byte, i int, stackp *[]byte) (int, scanResult) {
	stack := (*stackp)[:0]
	defer func() { *stackp = stack[:0] }()
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return i, scanMore
		}
		switch c := b[i]; c {
		case '{':
			if i = skipWS(b, i+1); i >= len(b) {
				return i, scanMore
			}
			if b[i] == '}' {
				i++
				break
			}
			if len(stack) >= fastMaxDepth {
				return i, scanInvalid
			}
			stack = append(stack, '{')
			var res scanResult
			if i, res = skipMemberName(b, i); res != scanOK {
				return i, res
			}
			continue
		case '[':
			if i = skipWS(b, i+1); i >= len(b) {
				return i, scanMore
			}
			if b[i] == ']' {
				i++
				break
			}
			if len(stack) >= fastMaxDepth {
				return i, scanInvalid
			}
			stack = append(stack, '[')
			continue
		case '"':
			var res scanResult
			if i, res = skipString(b, i); res != scanOK {
				return i, res
			}
		case 't':
			if res := literal(b, i, "true"); res != scanOK {
				return i, res
			}
			i += 4
		case 'f':
			if res := literal(b, i, "false"); res != scanOK {
				return i, res
			}
			i += 5
		case 'n':
			if res := literal(b, i, "null"); res != scanOK {
				return i, res
			}
			i += 4
		default:
			var res scanResult
			if i, res = skipNumber(b, i); res != scanOK {
				return i, res
			}
		}
		// A value ended at b[i]: close what it closes, up to the next value.
	closing:
		for {
			if len(stack) == 0 {
				return i, scanOK
			}
			if i = skipWS(b, i); i >= len(b) {
				return i, scanMore
			}
			top := stack[len(stack)-1]
			switch c := b[i]; {
			case c == ',':
				if i = skipWS(b, i+1); i >= len(b) {
					return i, scanMore
				}
				if top == '{' {
					var res scanResult
					if i, res = skipMemberName(b, i); res != scanOK {
						return i, res
					}
				}
				break closing
			case c == '}' && top == '{', c == ']' && top == '[':
				i++
				stack = stack[:len(stack)-1]
			default:
				return i, scanInvalid
			}
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipMemberName skips `"name" :` and the white space after it.
func skipMemberName(b []byte, i int) (int, scanResult) {
	if b[i] != '"' {
		return i, scanInvalid
	}
	i, res := skipString(b, i)
	if res != scanOK {
		return i, res
	}
	if i = skipWS(b, i); i >= len(b) {
		return i, scanMore
	}
	if b[i] != ':' {
		return i, scanInvalid
	}
	if i = skipWS(b, i+1); i >= len(b) {
		return i, scanMore
	}
	return i, scanOK
}

// skipString skips the string starting at b[i] (its '"').
func skipString(b []byte, i int) (int, scanResult) {
	for i++; i < len(b); {
		c := b[i]
		if plainStringByte[c] || c >= utf8.RuneSelf {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, scanOK
		case c == '\\':
			if i+1 >= len(b) {
				return i, scanMore
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					for _, h := range b[i+2:] {
						if !isHex(h) {
							return i, scanInvalid
						}
					}
					return i, scanMore
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return i, scanInvalid
					}
				}
				i += 6
			default:
				return i, scanInvalid
			}
		default: // a control character
			return i, scanInvalid
		}
	}
	return i, scanMore
}

// plainStringByte is true for the bytes a string literal holds as they
// are: not '"', '\\', a control character, or part of a multi-byte
// sequence (which may need checking).
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// literal checks for word (true, false, null) at b[i].
func literal(b []byte, i int, word string) scanResult {
	n := min(len(word), len(b)-i)
	if string(b[i:i+n]) != word[:n] {
		return scanInvalid
	}
	if n < len(word) {
		return scanMore
	}
	return scanOK
}

// skipNumber skips the number starting at b[i]: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// Its end is known only at the byte after it, so running out of bytes is
// scanMore even where the number could end.
func skipNumber(b []byte, i int) (int, scanResult) {
	digits := func(i int) (int, scanResult) {
		if i >= len(b) {
			return i, scanMore
		}
		if b[i] < '0' || b[i] > '9' {
			return i, scanInvalid
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i >= len(b) {
			return i, scanMore
		}
		return i, scanOK
	}
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, scanMore
	}
	var res scanResult
	switch {
	case b[i] == '0':
		if i++; i >= len(b) {
			return i, scanMore
		}
	case '1' <= b[i] && b[i] <= '9':
		if i, res = digits(i); res != scanOK {
			return i, res
		}
	default:
		return i, scanInvalid
	}
	if b[i] == '.' {
		if i, res = digits(i + 1); res != scanOK {
			return i, res
		}
	}
	if b[i] == 'e' || b[i] == 'E' {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, res = digits(i); res != scanOK {
			return i, res
		}
	}
	return i, scanOK
}

// Where fastSnapshot hands the rest of the document to the walk.
type resumeAt int

const (
	resumeStart    resumeAt = iota // nothing read: the whole document
	resumeMembers                  // in the top-level object, before a member or its '}'
	resumeElements                 // in the array key, before element i or its ']'
	resumeEnd                      // after the document's closing '}'
)

// resumeHook, when set, is told of every hand-over (tests).
var resumeHook func(at resumeAt, key string, i int)

// resume runs the encoding/json walk over the document from r.mark on.
// after says whether a value precedes mark within its object or array (the
// decoder then wants a ',' first).
func (p *parser) resume(r *snapReader, sn *snapshotState, at resumeAt, after bool, key string, i int) error {
	if resumeHook != nil {
		resumeHook(at, key, i)
	}
	line := r.lineAt(r.mark)
	rest := r.rest()
	var prefix string
	switch at {
	case resumeStart:
		return p.walkSnapshot(newJSONStream(p, rest), sn)
	case resumeMembers:
		prefix = "{"
		if after {
			prefix = `{"":[]`
		}
	case resumeElements:
		prefix = `{"":[`
		if after {
			prefix = `{"":[[]`
		}
	}
	js, err := resumeJSONStream(p, rest, line, prefix)
	if err != nil {
		return err
	}
	switch at {
	case resumeElements:
		if err := p.arrayElements(js, key, i, p.snapshotEach(key, sn)); err != nil {
			return err
		}
		return p.snapshotMembers(js, sn)
	case resumeMembers:
		return p.snapshotMembers(js, sn)
	}
	return js.end()
}

// fastSnapshot reads the document as walkSnapshot does (see the top of
// this file).
func (p *parser) fastSnapshot(in io.Reader, sn *snapshotState) error {
	r := &snapReader{r: in, line: 1, linePos: 0}
	if c, ok := r.peek(); !ok || c != '{' {
		return p.resume(r, sn, resumeStart, false, "", 0)
	}
	sn.topLine = r.lineAt(r.pos)
	r.pos++
	r.mark = r.pos
	sn.seen = map[string]bool{}
	var name []byte
	for after := false; ; after = true {
		c, ok := r.peek()
		if !ok {
			return p.resume(r, sn, resumeMembers, after, "", 0)
		}
		if c == '}' {
			r.pos++
			break
		}
		if after {
			if c != ',' {
				return p.resume(r, sn, resumeMembers, after, "", 0)
			}
			r.pos++
		}
		start, end, ok := r.memberName()
		if !ok {
			return p.resume(r, sn, resumeMembers, after, "", 0)
		}
		if name, ok = unquote(name[:0], r.buf[start:end]); !ok {
			return p.resume(r, sn, resumeMembers, after, "", 0)
		}
		var key string
		for _, k := range snapshotMembers {
			if string(name) == k {
				key = k
			}
		}
		if key == "" {
			if _, variant := caseVariant(string(name), snapshotMembers); variant {
				return p.resume(r, sn, resumeMembers, after, "", 0)
			}
			if _, _, ok := r.value(); !ok { // unknown members are ignored
				return p.resume(r, sn, resumeMembers, after, "", 0)
			}
			r.mark = r.pos
			continue
		}
		if sn.seen[key] {
			return p.resume(r, sn, resumeMembers, after, "", 0)
		}
		if key == "subscriptions" || key == "users" {
			if c, ok := r.peek(); !ok || c != '[' {
				return p.resume(r, sn, resumeMembers, after, "", 0)
			}
			sn.seen[key] = true
			r.pos++
			r.mark = r.pos
			if done, err := p.fastElements(r, sn, key); done {
				return err
			}
			r.mark = r.pos
			continue
		}
		start, end, ok = r.value()
		if !ok {
			return p.resume(r, sn, resumeMembers, after, "", 0)
		}
		raw := r.buf[start:end]
		v, err := decodeAny(raw)
		if err != nil { // the scanner let through what encoding/json refuses
			return p.resume(r, sn, resumeMembers, after, "", 0)
		}
		sn.seen[key] = true
		rec := &record{raw: raw, line: r.lineAt(start), base: key}
		p.snapshotHeader(rec, key, v)
		for _, pr := range rec.probs { // header problems cannot be skipped
			p.fail(pr)
		}
		p.invalid.Total += rec.unlisted
		r.mark = r.pos
	}
	p.requireSnapshotMembers(sn)
	r.mark = r.pos
	if _, ok := r.peek(); ok || r.err != nil || !r.eof {
		return p.resume(r, sn, resumeEnd, false, "", 0)
	}
	return nil
}

// memberName reads `"name":` and returns where the quoted name is in buf.
func (r *snapReader) memberName() (start, end int, ok bool) {
	for {
		if c, ok := r.peek(); !ok || c != '"' {
			return 0, 0, false
		}
		end, res := skipString(r.buf, r.pos)
		i := end
		if res == scanOK {
			if i = skipWS(r.buf, i); i >= len(r.buf) {
				res = scanMore
			} else if r.buf[i] != ':' {
				res = scanInvalid
			}
		}
		switch res {
		case scanOK:
			start = r.pos
			r.pos = i + 1
			return start, end, true
		case scanMore:
			if r.more() {
				continue
			}
		}
		return 0, 0, false
	}
}

// fastElements reads the elements of the array key after its '[', and the
// closing ']'. done says the document was handed to the walk, which
// answered err; without it err is an error of the user callback.
func (p *parser) fastElements(r *snapReader, sn *snapshotState, key string) (done bool, err error) {
	for i := 0; ; i++ {
		c, ok := r.peek()
		if !ok {
			return true, p.resume(r, sn, resumeElements, i > 0, key, i)
		}
		if c == ']' {
			r.pos++
			return false, nil
		}
		if i > 0 {
			if c != ',' {
				return true, p.resume(r, sn, resumeElements, true, key, i)
			}
			r.pos++
		}
		// A user is read straight from the buffer; only when that fails
		// (a problem, or the record runs past the bytes read) is the
		// record's extent found first.
		avail := 0
		if key == "users" {
			if _, ok := r.peek(); ok {
				avail = len(r.buf) - r.pos
				if emitted, err := p.fastUser(r, sn, r.pos, r.buf[r.pos:]); emitted || err != nil {
					if err != nil {
						return true, err
					}
					continue
				}
			}
		}
		start, end, ok := r.value()
		if !ok {
			return true, p.resume(r, sn, resumeElements, i > 0, key, i)
		}
		raw, line := r.buf[start:end], r.lineAt(start)
		if key == "users" && end-start > avail {
			if emitted, err := p.fastUser(r, sn, start, raw); emitted || err != nil {
				if err != nil {
					return true, err
				}
				continue
			}
		}
		v, derr := decodeAny(raw)
		if derr != nil { // the scanner let through what encoding/json refuses
			return true, p.resume(r, sn, resumeElements, i > 0, key, i)
		}
		p.doc.Rows++
		rec := &record{raw: raw, line: line, array: key, index: i}
		if o, ok := rec.asObject(v, nil); ok {
			if err := p.snapshotEach(key, sn)(rec, o); err != nil {
				return true, err
			}
		}
		p.rowProblems(rec.probs, rec.unlisted)
		r.mark = end
	}
}

// fastUser reads the user record at b (buf[start:]) with the user decoder
// and, when it vouches for it and its key is new, hands the user over and
// moves past it.
func (p *parser) fastUser(r *snapReader, sn *snapshotState, start int, b []byte) (emitted bool, err error) {
	u, n, ok := r.users.user(b, &sn.names, p.opts.ReuseUser)
	if !ok {
		return false, nil
	}
	if _, dup := sn.keys.add(u.Key, r.lineAt(start)); dup {
		return false, nil // the generic way names the first line
	}
	r.pos = start + n
	r.mark = r.pos
	p.doc.Rows++
	sn.userRows++
	return true, p.emit(u)
}

// decodeAny decodes one whole JSON value as the walk's decoder does.
func decodeAny(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.InputOffset() != int64(len(raw)) {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

// unquote appends the string the JSON string literal q (quotes included,
// well-formed) denotes to dst, exactly as encoding/json decodes it: every
// escape, \uXXXX surrogate pairs joined, a lone surrogate or a byte that
// is not UTF-8 becoming U+FFFD. ok is false only for what is not a
// well-formed literal.
func unquote(dst, q []byte) ([]byte, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return dst, false
	}
	s := q[1 : len(q)-1]
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return dst, false
			}
			switch s[i+1] {
			case '"', '\\', '/':
				dst = append(dst, s[i+1])
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := getu4(s[i:])
				if rr < 0 {
					return dst, false
				}
				i += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[i:])); dec != utf8.RuneError {
						i += 6
						dst = utf8.AppendRune(dst, dec)
						continue
					}
					rr = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default:
				return dst, false
			}
			i += 2
		case c == '"' || c < ' ':
			return dst, false
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, rr)
			i += size
		}
	}
	return dst, true
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
