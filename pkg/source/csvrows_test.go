package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand"
	"testing"
)

// csvRows must read every input as encoding/csv does (default settings,
// FieldsPerRecord -1): the same records, the same field positions, the same
// errors at the same line and column, and the same records after an error.
// bufSize is the bufio.Reader's size: a small one sends lines through the
// path that assembles a line longer than the buffer.
func diffCSV(t *testing.T, data []byte, bufSize int) {
	t.Helper()
	want := csv.NewReader(bytes.NewReader(data))
	want.FieldsPerRecord = -1
	want.ReuseRecord = true
	got := newCSVRows(bufio.NewReaderSize(bytes.NewReader(data), bufSize))
	for n := 1; ; n++ {
		wrec, werr := want.Read()
		gerr := got.next()
		if werr == io.EOF || gerr == io.EOF {
			if werr != gerr {
				t.Fatalf("%q: record %d: encoding/csv gives %v, csvRows %v", data, n, werr, gerr)
			}
			return
		}
		var wpe, gpe *csv.ParseError
		switch {
		case werr == nil && gerr == nil:
		case errors.As(werr, &wpe) && errors.As(gerr, &gpe):
			if *wpe != *gpe {
				t.Fatalf("%q: record %d: encoding/csv fails with %#v, csvRows with %#v", data, n, *wpe, *gpe)
			}
		default:
			t.Fatalf("%q: record %d: encoding/csv fails with %v, csvRows with %v", data, n, werr, gerr)
		}
		var grec []string
		for i := range got.fields() {
			grec = append(grec, string(got.field(i)))
		}
		if len(wrec) != len(grec) {
			t.Fatalf("%q: record %d: encoding/csv gives %q, csvRows %q", data, n, wrec, grec)
		}
		for i := range wrec {
			if wrec[i] != grec[i] {
				t.Fatalf("%q: record %d: encoding/csv gives %q, csvRows %q", data, n, wrec, grec)
			}
			wl, wc := want.FieldPos(i)
			if gl, gc := got.fieldPos(i); wl != gl || wc != gc {
				t.Fatalf("%q: record %d field %d: encoding/csv places it at %d:%d, csvRows at %d:%d", data, n, i, wl, wc, gl, gc)
			}
		}
	}
}

func TestCSVRowsCases(t *testing.T) {
	for _, in := range []string{
		"", "\n", "\r\n", "\r", "a", "a\r", "a\r\r", "a\r\n", "a\n\nb\r\n\r\n", "a,b\nc,d,e\n", ",,\n,",
		`"a,b",c` + "\r\n" + `"x""y",""` + "\n",
		"\"multi\r\nline\"\r\n,next", "\"a\nb\n\nc\",d\ne",
		`a"b,c` + "\nd\n", `"a"b,c` + "\nd\n", `"a` + "\n", `"a`, `"a` + "\n\r", `"a"` + "\r", `"a"` + "\rb",
		`x,"a` + "\n" + `b"c` + "\nd", "a,\"b\"\n\"\"\n\"\"\"\"", "é,\"ü\"\xff,\xff\n",
		"2026-11-20,a@x.com,\"Someone, Jr\",False\r\n",
	} {
		for _, size := range []int{16, 4096} {
			diffCSV(t, []byte(in), size)
		}
	}
}

// Random documents over the characters that matter to CSV, with lines
// longer than a small buffer now and then.
func TestCSVRowsRandom(t *testing.T) {
	alphabet := []byte("\",\r\n\",,ab \xff")
	rng := rand.New(rand.NewSource(1))
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	for range n {
		b := make([]byte, rng.Intn(60))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		if rng.Intn(10) == 0 {
			b = append(b, bytes.Repeat([]byte("x"), 40)...)
		}
		diffCSV(t, b, 16)
	}
}

func FuzzCSVRows(f *testing.F) {
	f.Add([]byte(readTestdata(f, "activeuserdetail.csv")))
	f.Add([]byte(readTestdata(f, "activeuserdetail-concealed.csv")))
	f.Add([]byte("a,\"b\"\"c\",\"d\r\ne\"\r\n\"x\"y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		diffCSV(t, data, 16)
		diffCSV(t, data, 64<<10)
	})
}

// trimSpace is bytes.TrimSpace with a shortcut: they agree on fields that
// start or end with ASCII and Unicode white space, control bytes, DEL and
// broken UTF-8.
func TestTrimSpace(t *testing.T) {
	pieces := []string{"", " ", "\t", "\r", "\x7f", "\u0085", "\u00a0", "\u3000", "\xc2", "\xff", "a", "é", "True"}
	for _, a := range pieces {
		for _, b := range pieces {
			for _, c := range pieces {
				in := []byte(a + b + c)
				if got, want := trimSpace(in), bytes.TrimSpace(in); !bytes.Equal(got, want) {
					t.Errorf("trimSpace(%q) = %q, bytes.TrimSpace gives %q", in, got, want)
				}
			}
		}
	}
}
