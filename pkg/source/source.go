// Package source reads every input format of docs/definitions.md#sources into the license
// domain types, as a stream: users are handed over one at a time, so the
// memory a parse needs is bounded by one row or record, whatever the size of
// the file. Subscriptions, which number tens per customer, are collected.
//
// Every format is validated the same way: a bad row or record gives a
// Problem (line, column or JSON path, reason). Without Options.SkipInvalid
// any Problem rejects the whole document with an *InvalidError; with it, bad
// rows are left out and listed in Document.Skipped. Problems that concern
// the document as a whole (wrong schema, missing report date, broken JSON,
// missing CSV columns) reject it in either mode.
package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"strings"
	"unsafe"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Options tune a parse.
type Options struct {
	// PartnerTenantID is the partner's own Entra tenant id: a directory
	// subscription owned by it is sold through the "own" channel.
	PartnerTenantID string
	// SkipInvalid leaves bad rows out instead of rejecting the document.
	SkipInvalid bool
	// CustomerID is the customer the document is posted for; a snapshot's
	// customer.id must equal it when it is set.
	CustomerID string
	// Today (UTC) bounds report dates (license.CheckReportDate); NoDate
	// does not check them.
	Today license.Date
	// ReuseUser lets the parser hand the same User, with the same backing
	// arrays for its licences and workloads, to every call of the user
	// callback: the callback must then copy what it keeps, the Key and
	// DisplayName strings included, which may be views of the parser's
	// buffers valid only until the callback returns (strings.Clone keeps
	// one). The ingest sets it (it encodes each user at once), so that a
	// million-user document allocates per row nothing that outlives it.
	// Unset, every user handed over is the callback's to keep.
	ReuseUser bool
}

// Document is what a parsed document gave, users aside (they are streamed).
type Document struct {
	Kind     Kind
	Customer *license.Customer // snapshot and organization
	// Domains are the organization's verified domains (organization only).
	Domains []string
	// ReportDate is the date the data describes: snapshot and active user
	// detail; NoDate for the subscription lists.
	ReportDate    license.Date
	Subscriptions []license.Subscription
	// HasSubscriptions and HasUsers say what the kind carries, so that a
	// caller replaces only that part of a customer's state.
	HasSubscriptions bool
	HasUsers         bool
	Support          *license.Support // snapshot's optional "support" object
	Rows             int              // data rows/records read (users + subscriptions), bad ones included
	Users            int              // users handed to onUser
	// Skipped lists, with SkipInvalid, the problems of the rows left out
	// (the first MaxProblems); SkippedTotal counts them all.
	Skipped      []Problem
	SkippedTotal int
	// Copilot is the Copilot usage report's rows (KindCopilotUsage only):
	// they are kept whole, beside the customer's users, not streamed.
	Copilot *license.CopilotReport
}

// Problem is one bad row or field: where and why.
type Problem struct {
	// Line is 1-based: for CSV the physical line (the header is line 1),
	// for JSON the line of the offending value (of the enclosing object when
	// a member is missing).
	Line int `json:"line"`
	// Column is the CSV header name, or the JSON path such as
	// users[3].licenses[0].assignedDate.
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	}
	return fmt.Sprintf("line %d, %s: %s", p.Line, p.Column, p.Reason)
}

// MaxProblems is how many problems an InvalidError or Document.Skipped
// lists; the rest are only counted.
const MaxProblems = 100

// InvalidError rejects a whole document. Problems holds the first
// MaxProblems, Total counts all of them.
type InvalidError struct {
	Problems []Problem
	Total    int
}

func (e *InvalidError) Error() string {
	if len(e.Problems) == 0 {
		return "invalid document"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid document: %d problem", e.Total)
	if e.Total != 1 {
		b.WriteString("s")
	}
	b.WriteString(", first: ")
	b.WriteString(e.Problems[0].String())
	return b.String()
}

// Limits that keep a hostile or broken file from taking memory without
// bound; no genuine row comes near them.
const (
	// MaxRowBytes bounds one CSV row or one JSON record (a user, a
	// subscription), read-ahead included.
	MaxRowBytes = 4 << 20
	// MaxSubscriptions bounds the subscriptions one document may carry,
	// since they are collected rather than streamed.
	MaxSubscriptions = 100_000
)

// errRowTooLarge is what the guarded reader answers once a row outgrows
// MaxRowBytes.
var errRowTooLarge = fmt.Errorf("a single row or record is larger than %d MiB (an unterminated quote or string?)", MaxRowBytes>>20)

// Parse reads r as a document of the given kind and streams its users to
// onUser, one at a time.
//
// When the document is invalid and SkipInvalid is false, Parse returns an
// *InvalidError (with the Document read so far) and the caller must discard
// the users it was given; once the first problem is found Parse stops
// calling onUser but keeps reading, to report every problem in one answer.
// onUser may return an error to stop: Parse then returns that error as is.
// Errors reading r are returned wrapped.
func Parse(r io.Reader, kind Kind, opts Options, onUser func(license.User) error) (*Document, error) {
	if onUser == nil {
		onUser = func(license.User) error { return nil }
	}
	p := &parser{opts: opts, onUser: onUser, doc: &Document{Kind: kind}}
	br := bufio.NewReaderSize(r, 64<<10)
	if head, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(head, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	if head, _ := br.Peek(encodingPeek); encodingProblem(head) != "" {
		p.fail(Problem{Line: 1, Reason: encodingProblem(head)})
		return p.doc, &p.invalid
	}
	var err error
	switch kind {
	case KindSnapshot:
		p.doc.HasSubscriptions, p.doc.HasUsers = true, true
		err = p.snapshot(br)
	case KindActiveUserDetail:
		p.doc.HasUsers = true
		// The CSV, or the report's JSON form: told by the first byte.
		head, _ := br.Peek(64)
		if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && isJSONStart(t[0]) {
			err = p.activeUserDetailJSON(br)
		} else {
			err = p.activeUserDetail(br)
		}
	case KindSubscribedSkus:
		p.doc.HasSubscriptions = true
		err = p.list(br, p.subscribedSku)
	case KindDirectorySubs:
		p.doc.HasSubscriptions = true
		err = p.list(br, p.directorySubscription)
	case KindPartnerCenterSubs:
		p.doc.HasSubscriptions = true
		err = p.list(br, p.partnerCenterSubscription)
	case KindCopilotUsage:
		err = p.copilot(br)
	case KindOrganization:
		err = p.organization(br)
	default:
		return nil, fmt.Errorf("unknown kind %q: want one of %s", kind, kindList())
	}
	if err != nil {
		return p.doc, err
	}
	if p.invalid.Total > 0 {
		return p.doc, &p.invalid
	}
	return p.doc, nil
}

// encodingPeek is how many first bytes encodingProblem looks at.
const encodingPeek = 64

// encodingProblem names what is wrong with a document that is not text in
// UTF-8 at all, from its first bytes, and what to send instead; "" when
// nothing is. Without it such a document reads as broken JSON or as a CSV
// without its header, which says nothing of the cause.
func encodingProblem(head []byte) string {
	nul := bytes.Count(head, []byte{0})
	switch {
	// gzip's magic number; the second form is what it becomes when a
	// gateway passed the bytes on as text (0x8b is not UTF-8).
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}), bytes.HasPrefix(head, []byte("\x1f\uFFFD")):
		return "the document is gzip-compressed: send it uncompressed, as Microsoft's API returned it (a large file goes through POST /v1/uploads, uncompressed too)"
	// A UTF-16 byte order mark, or the NUL byte of every ASCII character.
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}), nul > 0 && nul*4 >= len(head):
		return "the document is UTF-16 encoded (as Windows PowerShell 5's Out-File and Export-Csv write by default): send it as UTF-8, e.g. Export-Csv -Encoding utf8 or Out-File -Encoding utf8, or the file exactly as Microsoft's API returned it"
	case nul > 0:
		return "the document holds NUL bytes, so it is not a text document: send the JSON or CSV as UTF-8 text"
	}
	return ""
}

// parser is the state shared by every format.
type parser struct {
	opts    Options
	onUser  func(license.User) error
	doc     *Document
	invalid InvalidError // problems that reject the document
	subIDs  map[string]int
}

// fail records a problem that rejects the document whatever SkipInvalid says.
func (p *parser) fail(pr Problem) {
	if len(p.invalid.Problems) < MaxProblems {
		p.invalid.Problems = append(p.invalid.Problems, pr)
	}
	p.invalid.Total++
}

// rowProblems settles the problems of one row: skipped with SkipInvalid,
// rejecting the document without. unlisted counts further problems of the
// row that were not itemised. It reports whether the row is good.
func (p *parser) rowProblems(probs []Problem, unlisted int) bool {
	if len(probs) == 0 && unlisted == 0 {
		return true
	}
	if p.opts.SkipInvalid {
		for _, pr := range probs {
			if len(p.doc.Skipped) < MaxProblems {
				p.doc.Skipped = append(p.doc.Skipped, pr)
			}
		}
		p.doc.SkippedTotal += len(probs) + unlisted
		return false
	}
	for _, pr := range probs {
		p.fail(pr)
	}
	p.invalid.Total += unlisted
	return false
}

// emit hands a good user over, unless the document is already rejected
// (the caller would discard it anyway).
func (p *parser) emit(u license.User) error {
	if p.invalid.Total > 0 {
		return nil
	}
	p.doc.Users++
	return p.onUser(u)
}

// checkReportDate applies license.CheckReportDate when Options.Today is set.
func (p *parser) checkReportDate(d license.Date) error {
	if p.opts.Today == license.NoDate {
		return nil
	}
	return license.CheckReportDate(d, p.opts.Today)
}

// userKeys proves the user keys of one document unique: a second row with
// a key already seen would silently replace the first (and two writes of
// one item in a batch are refused by the store). It keeps a hash of every
// key with the line it was first seen on, instead of the key itself, in an
// open-addressing table of its own: a Go map of a million hashes was a
// third of reading the active user detail report, a lookup and an insert a
// row each missing the cache. A slot is 12 bytes; each part of the table
// is kept between 3/8 and 3/4 full. Two distinct keys collide with
// probability 2⁻⁶⁴ per pair.
//
// The table is split in keyParts parts by the hash's top bits, each
// growing on its own: one table doubling at once would hold its old and
// new slots together, half as much again as the table, which for a
// million users was the largest thing the ingest held.
//
// The slots a part leaves behind when it grows are garbage the collector's
// pacer would let pile up to the size of the live table before a cycle (a
// heap of little else but the table): half again of the ingest's peak at a
// million users. They are collected every discardedGC bytes instead; with
// a heap of pointer-free slots a cycle takes a millisecond or two.
type userKeys struct {
	seed      maphash.Seed
	parts     [keyParts]keyPart
	zero      int32 // the line of the key whose hash is 0, which no slot can hold
	discarded int   // bytes of slots left behind since the last collection
}

const discardedGC = 4 << 20

const (
	keyPartBits = 6
	keyParts    = 1 << keyPartBits
)

type keyPart struct {
	slots []keySlot // a power of two of them; hash 0 marks a free one
	used  int
}

// keySlot holds a hash as two halves, so that a slot takes 12 bytes
// rather than the 16 an uint64 field would align it to.
type keySlot struct {
	lo, hi uint32
	line   int32
}

func (s *keySlot) hash() uint64 { return uint64(s.hi)<<32 | uint64(s.lo) }

func newUserKeys() *userKeys {
	return &userKeys{seed: maphash.MakeSeed()}
}

// add records key at line; for a key seen before it returns the problem's
// reason, naming the first line (the first row is kept, with SkipInvalid).
func (k *userKeys) add(key string, line int) (reason string, dup bool) {
	h := maphash.String(k.seed, key)
	if h == 0 {
		if k.zero != 0 { // lines start at 1
			return duplicateKey(key, k.zero), true
		}
		k.zero = int32(line)
		return "", false
	}
	p := &k.parts[h>>(64-keyPartBits)]
	if p.slots == nil {
		p.slots = make([]keySlot, 16)
	}
	// Linear probing from the hash's low bits, which maphash spreads
	// (the top ones chose the part).
	mask := len(p.slots) - 1
	i := int(h) & mask
	for s := p.slots[i].hash(); s != h && s != 0; s = p.slots[i].hash() {
		i = (i + 1) & mask
	}
	if p.slots[i].hash() == h {
		return duplicateKey(key, p.slots[i].line), true
	}
	p.slots[i] = keySlot{lo: uint32(h), hi: uint32(h >> 32), line: int32(line)}
	if p.used++; p.used*4 > len(p.slots)*3 {
		k.discarded += len(p.slots) * int(unsafe.Sizeof(keySlot{}))
		p.grow()
		if k.discarded >= discardedGC {
			runtime.GC()
			k.discarded = 0
		}
	}
	return "", false
}

func duplicateKey(key string, first int32) string {
	return fmt.Sprintf("%q appears twice, here and at line %d: one row per user; remove one of them (with skipInvalid the first is kept)", key, first)
}

// grow doubles the part.
func (p *keyPart) grow() {
	old := p.slots
	p.slots = make([]keySlot, 2*len(old))
	mask := len(p.slots) - 1
	for _, s := range old {
		if s.hash() == 0 {
			continue
		}
		i := int(s.hash()) & mask
		for p.slots[i].hash() != 0 {
			i = (i + 1) & mask
		}
		p.slots[i] = s
	}
}

// addSubscription collects a good subscription, refusing a second one with
// the same id: it would count the same seats twice.
func (p *parser) addSubscription(s license.Subscription, line int, column string) []Problem {
	if p.subIDs == nil {
		p.subIDs = map[string]int{}
	}
	if first, dup := p.subIDs[s.ID]; dup {
		return []Problem{{Line: line, Column: column, Reason: fmt.Sprintf("subscription id %q appears twice (first at line %d)", s.ID, first)}}
	}
	if len(p.doc.Subscriptions) >= MaxSubscriptions {
		return []Problem{{Line: line, Column: column, Reason: fmt.Sprintf("more than %d subscriptions in one document", MaxSubscriptions)}}
	}
	p.subIDs[s.ID] = line
	p.doc.Subscriptions = append(p.doc.Subscriptions, s)
	return nil
}

// finishUsers applies the rule that a users kind must give users: an
// empty document, or one whose every user row was skipped, would wipe the
// customer's users, so it is refused. userRows counts the user rows read.
func (p *parser) finishUsers(line, userRows int, empty string) {
	switch {
	case p.doc.Rows == 0:
		p.fail(Problem{Line: line, Reason: empty})
	case userRows > 0 && p.doc.Users == 0 && p.invalid.Total == 0:
		p.fail(Problem{Line: line, Reason: fmt.Sprintf("every one of the %d user rows is invalid, so no user would be left", userRows)})
		for _, pr := range p.doc.Skipped {
			p.fail(pr)
		}
		p.invalid.Total += p.doc.SkippedTotal - len(p.doc.Skipped)
	}
}

// ioError wraps an error of the underlying reader, so that a caller can
// tell a broken connection from a broken document.
func ioError(err error) error {
	return fmt.Errorf("reading document: %w", err)
}

// isTooLarge reports whether err is the guard's "row too large".
func isTooLarge(err error) bool { return errors.Is(err, errRowTooLarge) }

// windowReader passes bytes through and keeps those from a movable start
// offset on: the JSON reader uses it to know the line of any offset at or
// after the start (decoder offsets only grow) and to re-read a record that
// failed to parse. The window is bounded by MaxRowBytes: the start moves to
// each record as it begins.
type windowReader struct {
	r     io.Reader
	buf   []byte
	head  int   // buf[head:] is the window
	start int64 // stream offset of buf[head]
	line  int   // 1-based line at start
	read  int64 // bytes read so far
	// err is the underlying reader's error other than io.EOF, so that a
	// connection cut short is not mistaken for a truncated document.
	err error
}

func newWindowReader(r io.Reader) *windowReader {
	return &windowReader{r: r, line: 1}
}

func (w *windowReader) Read(b []byte) (int, error) {
	if len(w.buf)-w.head >= MaxRowBytes {
		return 0, errRowTooLarge
	}
	if room := MaxRowBytes - (len(w.buf) - w.head); len(b) > room {
		b = b[:room]
	}
	n, err := w.r.Read(b)
	w.buf = append(w.buf, b[:n]...)
	w.read += int64(n)
	if err != nil && err != io.EOF {
		w.err = err
	}
	return n, err
}

// advance moves the window start to off, which must not be before the
// current start nor after what was read.
func (w *windowReader) advance(off int64) {
	k := int(off - w.start)
	if k <= 0 {
		return
	}
	if k > len(w.buf)-w.head {
		k = len(w.buf) - w.head
	}
	w.line += bytes.Count(w.buf[w.head:w.head+k], []byte{'\n'})
	w.head += k
	w.start += int64(k)
	// Drop the dead prefix once it is the larger part, so copying stays
	// proportional to what is kept.
	if w.head > 4096 && w.head > len(w.buf)/2 {
		n := copy(w.buf, w.buf[w.head:])
		w.buf = w.buf[:n]
		w.head = 0
	}
}

// lineAt is the 1-based line of stream offset off (off ≥ start).
func (w *windowReader) lineAt(off int64) int {
	k := int(off - w.start)
	if k < 0 {
		k = 0
	}
	if k > len(w.buf)-w.head {
		k = len(w.buf) - w.head
	}
	return w.line + bytes.Count(w.buf[w.head:w.head+k], []byte{'\n'})
}

// from returns the window's bytes from stream offset off on.
func (w *windowReader) from(off int64) []byte {
	k := int(off - w.start)
	if k < 0 || k > len(w.buf)-w.head {
		return nil
	}
	return w.buf[w.head+k:]
}

// sizeGuard fails a read once more than MaxRowBytes went through since the
// last reset: the CSV reader resets it after every row.
type sizeGuard struct {
	r io.Reader
	n int
}

func (g *sizeGuard) Read(b []byte) (int, error) {
	if g.n >= MaxRowBytes {
		return 0, errRowTooLarge
	}
	n, err := g.r.Read(b)
	g.n += n
	return n, err
}

func (g *sizeGuard) reset() { g.n = 0 }

// readCSVRow reads the next record of a streamed CSV: its line (after
// prev, the line of the last row read, for a read that gives no record),
// and for a malformed row the problem that reports it (line, column and
// why) so that the caller counts it and reads on. err is io.EOF at the end,
// or a failure that ends the document (a row over MaxRowBytes, a read
// error).
func readCSVRow(cr *csv.Reader, prev int) (rec []string, line int, malformed *Problem, err error) {
	rec, err = cr.Read()
	if err == io.EOF {
		return nil, prev, nil, err
	}
	// FieldPos panics on a record without fields, which a read error can
	// leave; the row then starts after the last one.
	if line = prev + 1; len(rec) > 0 {
		line, _ = cr.FieldPos(0)
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) && !isTooLarge(pe.Err) {
			return rec, line, &Problem{Line: pe.StartLine, Reason: fmt.Sprintf("malformed CSV: %v (line %d, column %d)", pe.Err, pe.Line, pe.Column)}, nil
		}
		return rec, line, nil, err
	}
	return rec, line, nil, nil
}
