package source

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// csvRows reads the records of a CSV as byte slices, where encoding/csv
// makes a string of every record: on the active user detail report, a
// million rows, that string was one of three allocations a row and the
// reader half the parse. It accepts exactly what a csv.Reader with the
// default settings (comma, no comment character, strict quotes) and
// FieldsPerRecord -1 accepts, gives the same fields, and reports the same
// *csv.ParseError (start line, line, byte column, ErrQuote or ErrBareQuote)
// at the same place; csvrows_test.go holds it to that.
//
// A line without a quote, which is every row Graph writes bar those with a
// quoted name, is split where it lies in the bufio.Reader's buffer, without
// copying; a line with a quote is unescaped into a buffer of its own, as
// encoding/csv does. Either way a field is kept as its end offset, not as a
// slice (a pointer the garbage collector would see written 22 times a
// row), and the fields are valid until the next call of next.
type csvRows struct {
	br *bufio.Reader
	// raw assembles a line longer than br's buffer.
	raw []byte
	// numLine is the physical line last read.
	numLine int
	// rowBytes counts the bytes read for the current record, blank lines
	// before it included: over MaxRowBytes the record is refused, so that
	// a runaway quote cannot take memory without bound.
	rowBytes int
	// startLine is the record's first line, once its first line is read.
	startLine int
	// data holds the record's fields, ends[i] being the end of field i:
	// the line itself with gap 1 (the comma between fields), or rec, the
	// unescaped fields of a record with quotes, with gap 0.
	data []byte
	ends []int
	gap  int
	rec  []byte
	pos  []csvPos // where each field of rec starts, as csv.Reader.FieldPos
}

type csvPos struct{ line, col int }

func newCSVRows(br *bufio.Reader) *csvRows {
	return &csvRows{br: br}
}

// fields is how many fields the last record has (read before the fault,
// for a malformed one).
func (c *csvRows) fields() int { return len(c.ends) }

// field is field i of the last record.
func (c *csvRows) field(i int) []byte {
	return c.data[c.fieldStart(i):c.ends[i]]
}

func (c *csvRows) fieldStart(i int) int {
	if i == 0 {
		return 0
	}
	return c.ends[i-1] + c.gap
}

// fieldPos is where field i of the last record starts: its line and 1-based
// byte column (of the opening quote for a quoted field).
func (c *csvRows) fieldPos(i int) (line, col int) {
	if c.gap == 1 { // a line split where it lies
		return c.startLine, c.fieldStart(i) + 1
	}
	return c.pos[i].line, c.pos[i].col
}

// readLine reads one physical line as encoding/csv does: a final line's
// trailing \r is dropped, and a closing \r\n becomes \n. A line ending at
// the end of input comes with a nil error; io.EOF comes alone.
func (c *csvRows) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.raw = append(c.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			if c.rowBytes+len(c.raw) > MaxRowBytes {
				return nil, c.tooLarge()
			}
			line, err = c.br.ReadSlice('\n')
			c.raw = append(c.raw, line...)
		}
		line = c.raw
	}
	if c.rowBytes += len(line); c.rowBytes > MaxRowBytes {
		return nil, c.tooLarge()
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	n := len(line)
	if n > 0 && err == io.EOF {
		err = nil
		if line[n-1] == '\r' {
			n--
			line = line[:n]
		}
	}
	c.numLine++
	if n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

// tooLarge is the error for a record over MaxRowBytes; startLine becomes
// the line being read if the record had not started yet.
func (c *csvRows) tooLarge() error {
	if c.startLine == 0 {
		c.startLine = c.numLine + 1
	}
	return errRowTooLarge
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// next reads the next record into fields and pos. err is io.EOF at the
// end, a *csv.ParseError for a malformed record (the fields read before
// the fault are kept, as encoding/csv keeps them), errRowTooLarge, or the
// reader's error.
func (c *csvRows) next() error {
	c.data, c.ends, c.gap, c.pos = nil, c.ends[:0], 0, c.pos[:0]
	c.rowBytes, c.startLine = 0, 0
	// Blank lines are skipped.
	var line []byte
	var err error
	for {
		line, err = c.readLine()
		if err != nil {
			return err
		}
		if len(line) != lengthNL(line) {
			break
		}
	}
	c.startLine = c.numLine
	if bytes.IndexByte(line, '"') >= 0 {
		return c.quoted(line)
	}
	c.split(line[:len(line)-lengthNL(line)])
	return nil
}

// SWAR constants: a byte repeated in every byte of a word.
const (
	swarLow7  = 0x7f7f7f7f7f7f7f7f
	swarComma = 0x2c2c2c2c2c2c2c2c // ','
)

// split cuts a line without quotes (its newline removed) into its fields.
// A row's fields are short (dates, booleans), so looking for each comma
// with bytes.IndexByte costs a call a field: the commas are found eight
// bytes at a time instead.
func (c *csvRows) split(body []byte) {
	ends := c.ends[:0]
	i := 0
	for ; i+8 <= len(body); i += 8 {
		x := binary.LittleEndian.Uint64(body[i:]) ^ swarComma
		// The high bit of every byte that was a comma, and of no other:
		// the low seven bits plus 0x7f carry into the high bit unless they
		// are all zero, and no carry crosses into the next byte.
		m := ^((x&swarLow7 + swarLow7) | x | swarLow7)
		for m != 0 {
			ends = append(ends, i+bits.TrailingZeros64(m)>>3)
			m &= m - 1
		}
	}
	for ; i < len(body); i++ {
		if body[i] == ',' {
			ends = append(ends, i)
		}
	}
	c.data, c.ends, c.gap = body, append(ends, len(body)), 1
}

// quoted reads a record whose first line holds a quote: encoding/csv's
// readRecord with the default settings, step for step, so that the fields,
// their positions and the errors are its own.
func (c *csvRows) quoted(line []byte) error {
	var err, errRead error
	recLine := c.numLine
	c.rec, c.ends = c.rec[:0], c.ends[:0]
	pos := csvPos{line: c.numLine, col: 1}
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			// Non-quoted field.
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				err = &csv.ParseError{StartLine: recLine, Line: c.numLine, Column: pos.col + j, Err: csv.ErrBareQuote}
				break parseField
			}
			c.rec = append(c.rec, field...)
			c.ends = append(c.ends, len(c.rec))
			c.pos = append(c.pos, pos)
			if i >= 0 {
				line = line[i+1:]
				pos.col += i + 1
				continue parseField
			}
			break parseField
		}
		// Quoted field.
		fieldPos := pos
		line = line[1:]
		pos.col++
		for {
			i := bytes.IndexByte(line, '"')
			switch {
			case i >= 0:
				c.rec = append(c.rec, line[:i]...)
				line = line[i+1:]
				pos.col += i + 1
				switch {
				case len(line) > 0 && line[0] == '"': // "" is a quote
					c.rec = append(c.rec, '"')
					line = line[1:]
					pos.col++
				case len(line) > 0 && line[0] == ',': // end of field
					line = line[1:]
					pos.col++
					c.ends = append(c.ends, len(c.rec))
					c.pos = append(c.pos, fieldPos)
					continue parseField
				case lengthNL(line) == len(line): // end of record
					c.ends = append(c.ends, len(c.rec))
					c.pos = append(c.pos, fieldPos)
					break parseField
				default: // a quote inside a quoted field
					err = &csv.ParseError{StartLine: recLine, Line: c.numLine, Column: pos.col - 1, Err: csv.ErrQuote}
					break parseField
				}
			case len(line) > 0:
				// The field goes on on the next line.
				c.rec = append(c.rec, line...)
				pos.col += len(line)
				line, errRead = c.readLine()
				if errRead == io.EOF {
					errRead = nil
				}
				if errRead != nil {
					// Too large, or the reader failed: the record is lost.
					err = errRead
					break parseField
				}
				if len(line) > 0 {
					pos.line++
					pos.col = 1
				}
			default:
				// The input ends inside the quotes.
				err = &csv.ParseError{StartLine: recLine, Line: pos.line, Column: pos.col, Err: csv.ErrQuote}
				break parseField
			}
		}
	}
	c.data = c.rec
	return err
}

// row reads the next record as readCSVRow does for a csv.Reader: its line
// (after prev, the line of the last row read, for a read that gives no
// record), and for a malformed row the problem that reports it so that the
// caller counts it and reads on. err is io.EOF at the end, or a failure
// that ends the document (a row over MaxRowBytes, a read error).
func (c *csvRows) row(prev int) (line int, malformed *Problem, err error) {
	err = c.next()
	if err == io.EOF {
		return prev, nil, err
	}
	if line = prev + 1; c.fields() > 0 {
		line, _ = c.fieldPos(0)
	} else if isTooLarge(err) && c.startLine > 0 {
		line = c.startLine
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return line, &Problem{Line: pe.StartLine, Reason: fmt.Sprintf("malformed CSV: %v (line %d, column %d)", pe.Err, pe.Line, pe.Column)}, nil
		}
		return line, nil, err
	}
	return line, nil, nil
}
