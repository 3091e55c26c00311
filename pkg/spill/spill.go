// Package spill keeps a customer's users out of memory while the ingest
// computes their figures and writes their rows.
//
// The figures engine (license.ComputeStream) replays the users two or three
// times; holding a million parsed users as Go values would take most of a
// gigabyte. A Users writes each user once, as it is parsed or read back
// from the store, in a compact binary form: in memory while the customer is
// small, then in a file of the function's /tmp (Lambda's ephemeral
// storage). Each replay decodes one user at a time into the same
// license.User, so the memory an ingest needs does not grow with the
// customer.
//
// Product (SKU) and workload names are kept once, in tables, and written as
// their index: a user costs its key, its display name and a few bytes per
// licence and workload (~60–90 bytes for a typical Graph user). The tables
// also let the ingest name the customer's products once per distinct name
// (Map), rather than once per licence.
package spill

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/ahead"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// DefaultMemory is how many encoded bytes a Users keeps in memory before it
// moves them to a file: a customer of some 50,000 users never touches the
// disk.
const DefaultMemory = 4 << 20

// Users is a customer's users, written once and replayed any number of
// times. It is not safe for concurrent use.
type Users struct {
	dir    string // where the file goes; "" is os.TempDir()
	memory int    // encoded bytes kept in memory before moving to a file

	buf  bytes.Buffer // the encoded users while in memory
	file *os.File
	w    *fileWriter // onto file, once there is one
	size int64       // encoded bytes written
	n    int         // users written

	skus      names // SKU as written → index
	workloads names
	// mapped[i] is what replays give for skus.list[i] (Map), nil for as
	// written.
	mapped []string

	scratch []byte
	err     error // a failed write poisons the set: replays would be short
}

// New is an empty set that moves to a file in dir once its encoded users
// pass memory bytes (dir "" is os.TempDir(), memory 0 is DefaultMemory).
func New(dir string, memory int) *Users {
	if memory <= 0 {
		memory = DefaultMemory
	}
	return &Users{dir: dir, memory: memory}
}

// Len is the number of users added.
func (s *Users) Len() int { return s.n }

// Size is the number of encoded bytes written.
func (s *Users) Size() int64 { return s.size }

// OnDisk reports whether the users have moved to a file.
func (s *Users) OnDisk() bool { return s.file != nil }

// Add writes u. Nothing of u is kept: the caller may reuse it.
func (s *Users) Add(u *license.User) error {
	if s.err != nil {
		return s.err
	}
	// Each record is preceded by its length, so that a replay decodes it
	// from one slice of its buffer, bounds checked once.
	b := append(s.scratch[:0], make([]byte, binary.MaxVarintLen32)...)
	b = appendString(b, u.Key)
	b = appendString(b, u.DisplayName)
	var flags byte
	if u.Deleted {
		flags = 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(u.Licenses)))
	for _, l := range u.Licenses {
		b = binary.AppendUvarint(b, uint64(s.skus.of(l.SKU)))
		b = binary.LittleEndian.AppendUint32(b, uint32(l.AssignedDate))
	}
	b = binary.AppendUvarint(b, uint64(len(u.Workloads)))
	for _, w := range u.Workloads {
		b = binary.AppendUvarint(b, uint64(s.workloads.of(string(w.Workload))))
		flags = 0
		if w.Licensed {
			flags = 1
		}
		b = append(b, flags)
		b = binary.LittleEndian.AppendUint32(b, uint32(w.LastActivity))
	}
	s.scratch = b
	body := len(b) - binary.MaxVarintLen32
	var head [binary.MaxVarintLen32]byte
	h := binary.PutUvarint(head[:], uint64(body))
	b = b[binary.MaxVarintLen32-h:]
	copy(b, head[:h])
	if err := s.write(b); err != nil {
		s.err = err
		return err
	}
	s.n++
	return nil
}

func appendString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func (s *Users) write(b []byte) error {
	s.size += int64(len(b))
	if s.file == nil {
		s.buf.Write(b)
		if s.buf.Len() <= s.memory {
			return nil
		}
		f, err := os.CreateTemp(s.dir, "users-*.spill")
		if err != nil {
			return fmt.Errorf("spilling users to disk: %w (a large customer needs the function's ephemeral storage: /tmp)", err)
		}
		// The file is ours alone, and only for this ingest: unlinked at
		// once, it is gone whatever happens to the process, yet readable
		// through its descriptor until Close.
		_ = os.Remove(f.Name())
		s.file = f
		s.w = newFileWriter(f)
		err = s.w.write(s.buf.Bytes())
		s.buf = bytes.Buffer{}
		return s.diskErr(err)
	}
	return s.diskErr(s.w.write(b))
}

func (s *Users) diskErr(err error) error {
	if err != nil {
		return fmt.Errorf("spilling users to disk: %w (a large customer needs the function's ephemeral storage: /tmp)", err)
	}
	return nil
}

// Map makes every replay give f(sku) for each SKU as written (nil: as
// written). f is called once per distinct SKU, not per licence; each call
// of Map starts again from the SKUs as written, so it can be called again
// with another f.
func (s *Users) Map(f func(sku string) string) {
	if f == nil {
		s.mapped = nil
		return
	}
	s.mapped = make([]string, len(s.skus.list))
	for i, sku := range s.skus.list {
		s.mapped[i] = f(sku)
	}
}

// SKUs lists the distinct SKUs as written, in the order first met.
func (s *Users) SKUs() []string { return s.skus.list }

// Replay decodes every user, in the order added, into one license.User it
// hands to each (reused: each copies what it keeps). With keys false a
// replay leaves Key and DisplayName empty, saving their allocation. It
// stops at each's first error and returns it. It is a license.Users.
func (s *Users) Replay(keys bool, each func(u *license.User) error) error {
	if s.err != nil {
		return s.err
	}
	var r io.Reader
	if s.file == nil {
		r = bytes.NewReader(s.buf.Bytes())
	} else {
		if err := s.w.flush(); err != nil {
			s.err = s.diskErr(err)
			return s.err
		}
		r = io.NewSectionReader(s.file, 0, s.size)
	}
	d := decoder{r: r, buf: make([]byte, 0, replayBuffer), skus: s.skus.list, workloads: s.workloads.list, keys: keys, total: s.n}
	if s.mapped != nil {
		d.skus = s.mapped
	}
	if s.n < decodeAheadUsers {
		var u license.User
		for range s.n {
			if err := d.next(&u); err != nil {
				return err
			}
			if err := each(&u); err != nil {
				return err
			}
		}
		return nil
	}
	return d.ahead(each)
}

// replayBuffer is how much of the spill a replay reads at once.
const replayBuffer = 256 << 10

// Close lets the file go. The set is empty afterwards.
func (s *Users) Close() error {
	var err error
	if s.w != nil {
		s.w.close()
	}
	if s.file != nil {
		err = s.file.Close()
	}
	*s = Users{dir: s.dir, memory: s.memory}
	return err
}

// A replay of many users decodes them on a goroutine of its own, a batch
// ahead of the one being handed to each: decoding is about half of a
// census, and the second core of a Lambda of 2 vCPUs (or of the bench's
// machine) would otherwise idle. Below decodeAheadUsers the goroutine is
// not worth its start.
const (
	decodeAheadUsers = 8192
	decodeBatch      = 512
	decodeBatches    = 3
)

// batch is decodeBatch users decoded ahead, n of them valid; err, if set,
// is the decoding error met after them.
type batch struct {
	users []license.User
	n     int
	err   error
}

// ahead hands every user to each like the plain loop of Replay, decoding
// them on another goroutine (package ahead): the decoder fills a batch
// while each reads the one before, so a *User handed over stays untouched
// until each has returned.
func (d *decoder) ahead(each func(u *license.User) error) error {
	batches := make([]*batch, decodeBatches)
	for i := range batches {
		batches[i] = &batch{users: make([]license.User, decodeBatch)}
	}
	left := d.total
	fill := func(b *batch) bool {
		b.n, b.err = 0, nil
		for b.n < len(b.users) && left > 0 {
			if b.err = d.next(&b.users[b.n]); b.err != nil {
				return false
			}
			b.n++
			left--
		}
		return left > 0
	}
	return ahead.Run(batches, fill, func(b *batch) error {
		for i := range b.n {
			if err := each(&b.users[i]); err != nil {
				return err
			}
		}
		return b.err
	})
}

// fileWriter appends to the spill's file on a goroutine of its own, so that
// the parse goes on encoding users while the kernel copies the last buffer
// (a fifth of parsing a million-user report was spent in write). Two
// buffers go round: one filling, one being written.
type fileWriter struct {
	f    *os.File
	cur  []byte
	full chan []byte  // to the goroutine, in order
	free chan written // back from it
	err  error        // the first write error, once cur came back with it
	done chan struct{}
}

type written struct {
	buf []byte
	err error
}

// writeBuffer is the size of each of the two buffers.
const writeBuffer = 512 << 10

func newFileWriter(f *os.File) *fileWriter {
	w := &fileWriter{f: f, cur: make([]byte, 0, writeBuffer), full: make(chan []byte, 1), free: make(chan written, 2), done: make(chan struct{})}
	w.free <- written{buf: make([]byte, 0, writeBuffer)}
	go func() {
		defer close(w.done)
		var err error
		for b := range w.full {
			if err == nil {
				_, err = f.Write(b)
			}
			w.free <- written{buf: b[:0], err: err}
		}
	}()
	return w
}

// write appends p, handing the buffer over once it is full. Bytes larger
// than a buffer (the users kept in memory until the move to the file) are
// written at once, after what went before, rather than grow a buffer that
// would stay that large.
func (w *fileWriter) write(p []byte) error {
	if len(p) > cap(w.cur) {
		if err := w.flush(); err != nil {
			return err
		}
		if _, err := w.f.Write(p); err != nil && w.err == nil {
			w.err = err
		}
		return w.err
	}
	if len(w.cur)+len(p) > cap(w.cur) {
		w.swap()
	}
	w.cur = append(w.cur, p...)
	return w.err
}

func (w *fileWriter) swap() {
	w.full <- w.cur
	back := <-w.free
	w.cur = back.buf
	if w.err == nil {
		w.err = back.err
	}
}

// flush returns once every byte given to write is in the file.
func (w *fileWriter) flush() error {
	if len(w.cur) > 0 {
		w.swap()
	}
	// The other buffer is back once its write is done.
	back := <-w.free
	if w.err == nil {
		w.err = back.err
	}
	w.free <- written{buf: back.buf}
	return w.err
}

// close ends the goroutine, after any write it is doing.
func (w *fileWriter) close() {
	close(w.full)
	<-w.done
}

// decoder reads users in Add's encoding from r, a buffer at a time: a
// record is decoded from one slice, with no call per byte.
type decoder struct {
	r               io.Reader
	buf             []byte // buf[pos:] is read and not yet decoded
	pos             int
	eof             bool
	skus, workloads []string
	keys            bool
	total, read     int // users in the spill, and decoded so far
}

var errCorrupt = errors.New("the spill is corrupt")

// fill makes at least n bytes available from pos, unless the spill ends.
func (d *decoder) fill(n int) error {
	if len(d.buf)-d.pos >= n || d.eof {
		return nil
	}
	rest := copy(d.buf[:cap(d.buf)], d.buf[d.pos:])
	d.buf, d.pos = d.buf[:rest], 0
	if n > cap(d.buf) {
		d.buf = slices.Grow(d.buf, n-len(d.buf))
	}
	for len(d.buf) < n {
		m, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		d.buf = d.buf[:len(d.buf)+m]
		if err == io.EOF {
			d.eof = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// next decodes the next user into u, saying which one in an error.
func (d *decoder) next(u *license.User) error {
	d.read++
	if err := d.user(u); err != nil {
		return fmt.Errorf("reading back user %d of %d: %w", d.read, d.total, err)
	}
	return nil
}

func (d *decoder) user(u *license.User) error {
	if err := d.fill(binary.MaxVarintLen32); err != nil {
		return err
	}
	size, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		return errCorrupt
	}
	d.pos += n
	if err := d.fill(int(size)); err != nil {
		return err
	}
	if len(d.buf)-d.pos < int(size) {
		return io.ErrUnexpectedEOF
	}
	rec := record{b: d.buf[d.pos : d.pos+int(size)]}
	d.pos += int(size)

	key, name := rec.bytes(), rec.bytes()
	if d.keys {
		u.Key, u.DisplayName = string(key), string(name)
	} else {
		u.Key, u.DisplayName = "", ""
	}
	u.Deleted = rec.byte()&1 != 0
	// A licence is its SKU's index and a date, a workload its index, a
	// flag and a date: with an index under 128 (one byte, which a
	// customer's few dozen names always are) an entry has a fixed size
	// and is read with one bounds check. Entries are most of a record, and
	// the replays' decoding is most of the engine's time.
	n = int(rec.uvarint())
	u.Licenses = u.Licenses[:0]
	for range n {
		var i uint64
		var date license.Date
		if b := rec.b; len(b) >= 5 && b[0] < 0x80 {
			i, date = uint64(b[0]), license.Date(int32(binary.LittleEndian.Uint32(b[1:5])))
			rec.b = b[5:]
		} else {
			i, date = rec.uvarint(), rec.date()
		}
		if i >= uint64(len(d.skus)) {
			return errCorrupt
		}
		u.Licenses = append(u.Licenses, license.License{SKU: d.skus[i], AssignedDate: date})
	}
	n = int(rec.uvarint())
	u.Workloads = u.Workloads[:0]
	for range n {
		var i uint64
		var flags byte
		var date license.Date
		if b := rec.b; len(b) >= 6 && b[0] < 0x80 {
			i, flags, date = uint64(b[0]), b[1], license.Date(int32(binary.LittleEndian.Uint32(b[2:6])))
			rec.b = b[6:]
		} else {
			i, flags, date = rec.uvarint(), rec.byte(), rec.date()
		}
		if i >= uint64(len(d.workloads)) {
			return errCorrupt
		}
		u.Workloads = append(u.Workloads, license.WorkloadUse{Workload: license.Workload(d.workloads[i]), Licensed: flags&1 != 0, LastActivity: date})
	}
	if rec.bad || len(rec.b) != 0 {
		return errCorrupt
	}
	return nil
}

// record reads the fields of one encoded user; reading past its end sets
// bad and gives zeros.
type record struct {
	b   []byte
	bad bool
}

func (r *record) uvarint() uint64 {
	// One byte is the common case: indexes, counts, short lengths.
	if len(r.b) > 0 && r.b[0] < 0x80 {
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// date reads a date as four bytes: a fixed width decodes without a loop,
// and costs a byte or two over a varint.
func (r *record) date() license.Date {
	if len(r.b) < 4 {
		r.bad, r.b = true, nil
		return 0
	}
	v := int32(binary.LittleEndian.Uint32(r.b))
	r.b = r.b[4:]
	return license.Date(v)
}

func (r *record) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *record) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// names numbers the distinct strings met. Parsers hand the same few
// strings (interned product and workload names) over and over, so a short
// list compared first by identity beats hashing each; a map takes over
// past a few dozen names.
//
// Users list their workloads in one order, and most hold the same SKUs,
// so the name after the last one found is tried first: a user's five
// workloads then cost five compares, not fifteen.
type names struct {
	list  []string
	index map[string]int
	last  int
}

const namesScan = 32

func (t *names) of(v string) int {
	if next := t.last + 1; next < len(t.list) && t.list[next] == v {
		t.last = next
		return next
	}
	i := t.lookup(v)
	t.last = i
	return i
}

func (t *names) lookup(v string) int {
	if t.index != nil {
		if i, ok := t.index[v]; ok {
			return i
		}
	} else {
		for i, x := range t.list {
			if x == v {
				return i
			}
		}
	}
	// A clone: the caller's string may share memory with much more
	// (a parser's line buffer).
	v = strings.Clone(v)
	t.list = append(t.list, v)
	i := len(t.list) - 1
	if t.index == nil && len(t.list) > namesScan {
		t.index = make(map[string]int, 2*len(t.list))
		for j, x := range t.list {
			t.index[x] = j
		}
	} else if t.index != nil {
		t.index[v] = i
	}
	return i
}
