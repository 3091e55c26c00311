package source

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// userDecoder reads one user record of a snapshot straight into a
// license.User, for fastSnapshot. It vouches only for a record that
// snapshotUser would accept as it is: at the first thing that would be a
// problem, or that encoding/json's map decode would settle in a way of its
// own (a member given twice: the last one wins), or that is not plainly
// well-formed JSON by encoding/json's grammar, it answers false and the
// record goes the generic way, which gives today's problems. Its buffers
// are reused from one record to the next.
type userDecoder struct {
	scratch []byte // decoded strings that needed decoding (escapes, bad UTF-8)
	names   []byte // key and display name, made one string
	stack   []byte
	lics    []license.License
	wls     []license.WorkloadUse
	wnames  [][]byte // the record's workload names, to find one given twice
}

// Member bits, to find a member given twice.
const (
	memberKey = 1 << iota
	memberDisplayName
	memberDeleted
	memberLicenses
	memberWorkloads
)

// user reads the user record at the start of b, checking as it goes that
// it is well-formed JSON, and returns it and where the record ends. b may
// end before the record does (the scanner's buffer): that, like anything
// else it does not vouch for, is false. With reuse the user's licences
// and workloads are the decoder's own arrays, overwritten by the next
// record; without, the user's to keep. SKUs and workload names come from
// names.
func (d *userDecoder) user(b []byte, names *interner, reuse bool) (u license.User, end int, ok bool) {
	d.scratch = d.scratch[:0]
	d.lics = d.lics[:0]
	d.wls = d.wls[:0]
	var key, display []byte
	var seen int
	deleted := false
	if byteAt(b, 0) != '{' {
		return u, 0, false
	}
	i := skipWS(b, 1)
	for more := true; more; {
		var name []byte
		if name, i, ok = d.str(b, i); !ok {
			return u, 0, false
		}
		if i, ok = colon(b, i); !ok {
			return u, 0, false
		}
		bit := 0
		switch string(name) {
		case "key":
			bit = memberKey
		case "displayName":
			bit = memberDisplayName
		case "deleted":
			bit = memberDeleted
		case "licenses":
			bit = memberLicenses
		case "workloads":
			bit = memberWorkloads
		}
		if seen&bit != 0 {
			return u, 0, false
		}
		seen |= bit
		switch bit {
		case memberKey:
			key, i, ok = d.str(b, i)
		case memberDisplayName:
			if display, i, ok = d.str(b, i); !ok {
				i, ok = null(b, i)
			}
		case memberDeleted:
			deleted, i, ok = boolAt(b, i)
		case memberLicenses:
			if i, ok = null(b, i); !ok {
				i, ok = d.licenses(b, i, names)
			}
		case memberWorkloads:
			if i, ok = null(b, i); !ok {
				i, ok = d.workloads(b, i, names)
			}
		default: // other members are ignored
			var res scanResult
			i, res = skipValue(b, i, &d.stack)
			ok = res == scanOK
		}
		if !ok {
			return u, 0, false
		}
		if i, more, ok = next(b, i, '}'); !ok {
			return u, 0, false
		}
	}
	key = bytes.TrimSpace(key)
	if len(key) == 0 || len(key) > maxKeyBytes {
		return u, 0, false
	}
	display = bytes.TrimSpace(display)
	sortWorkloadsSmall(d.wls)
	// One string for both names: they live as long as each other. With
	// reuse it is a view of d.names (Options.ReuseUser), so a user
	// allocates nothing.
	d.names = append(append(d.names[:0], key...), display...)
	both := unsafe.String(unsafe.SliceData(d.names), len(d.names))
	if !reuse {
		both = strings.Clone(both)
	}
	u = license.User{Key: both[:len(key)], DisplayName: both[len(key):], Deleted: deleted}
	if len(d.lics) > 0 {
		u.Licenses = d.lics
		if !reuse {
			u.Licenses = slices.Clone(d.lics)
		}
	}
	if len(d.wls) > 0 {
		u.Workloads = d.wls
		if !reuse {
			u.Workloads = slices.Clone(d.wls)
		}
	}
	return u, i, true
}

// byteAt is b[i], or 0 past the end: 0 is nowhere valid JSON syntax, so
// running off the bytes read is a mismatch like any other.
func byteAt(b []byte, i int) byte {
	if uint(i) < uint(len(b)) {
		return b[i]
	}
	return 0
}

// colon skips the ':' after a member name and the white space around it.
func colon(b []byte, i int) (int, bool) {
	if i = skipWS(b, i); byteAt(b, i) != ':' {
		return i, false
	}
	return skipWS(b, i+1), true
}

// next skips what follows a member or an element: a ',' (more follow) or
// the closing byte, and the white space around them.
func next(b []byte, i int, closing byte) (j int, more, ok bool) {
	switch i = skipWS(b, i); byteAt(b, i) {
	case ',':
		return skipWS(b, i+1), true, true
	case closing:
		return i + 1, false, true
	}
	return i, false, false
}

// word checks for the literal w (true, false, null) at b[i].
func word(b []byte, i int, w string) (int, bool) {
	if len(b)-i >= len(w) && string(b[i:i+len(w)]) == w {
		return i + len(w), true
	}
	return i, false
}

// null checks for null at b[i].
func null(b []byte, i int) (int, bool) { return word(b, i, "null") }

// boolAt reads true, false or null (false) at b[i].
func boolAt(b []byte, i int) (v bool, next int, ok bool) {
	switch byteAt(b, i) {
	case 't':
		next, ok = word(b, i, "true")
		return true, next, ok
	case 'f':
		next, ok = word(b, i, "false")
		return false, next, ok
	}
	next, ok = null(b, i)
	return false, next, ok
}

// dateAt reads a date member's value at b[i]: a YYYY-MM-DD string (white
// space around it trimmed, "" being no date) or null.
func (d *userDecoder) dateAt(b []byte, i int) (license.Date, int, bool) {
	s, i, ok := d.str(b, i)
	if !ok {
		i, ok = null(b, i)
		return license.NoDate, i, ok
	}
	date, ok := dateBytes(bytes.TrimSpace(s))
	return date, i, ok
}

// dateBytes is parseDate for the shape every valid date has; anything else
// is not vouched for (parseDate gives the problem).
func dateBytes(s []byte) (license.Date, bool) {
	if len(s) == 0 {
		return license.NoDate, true
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return license.NoDate, false
	}
	var v [8]int
	for k, j := range [8]int{0, 1, 2, 3, 5, 6, 8, 9} {
		c := s[j]
		if c < '0' || c > '9' {
			return license.NoDate, false
		}
		v[k] = int(c - '0')
	}
	y := v[0]*1000 + v[1]*100 + v[2]*10 + v[3]
	m := v[4]*10 + v[5]
	day := v[6]*10 + v[7]
	if m < 1 || m > 12 || day < 1 || day > daysIn(m, y) {
		return license.NoDate, false
	}
	return license.Date(daysFromCivil(y, m, day)), true
}

// licenses reads the array at b[i] into d.lics.
func (d *userDecoder) licenses(b []byte, i int, names *interner) (int, bool) {
	if byteAt(b, i) != '[' {
		return i, false
	}
	if i = skipWS(b, i+1); byteAt(b, i) == ']' {
		return i + 1, true
	}
	for more := true; more; {
		if byteAt(b, i) != '{' {
			return i, false
		}
		var sku []byte
		assigned := license.NoDate
		seen := 0
		i = skipWS(b, i+1)
		var ok bool
		for inner := true; inner; {
			var name []byte
			if name, i, ok = d.str(b, i); !ok {
				return i, false
			}
			if i, ok = colon(b, i); !ok {
				return i, false
			}
			switch string(name) {
			case "sku":
				if seen&1 != 0 {
					return i, false
				}
				seen |= 1
				sku, i, ok = d.str(b, i)
			case "assignedDate":
				if seen&2 != 0 {
					return i, false
				}
				seen |= 2
				assigned, i, ok = d.dateAt(b, i)
			default:
				var res scanResult
				i, res = skipValue(b, i, &d.stack)
				ok = res == scanOK
			}
			if !ok {
				return i, false
			}
			if i, inner, ok = next(b, i, '}'); !ok {
				return i, false
			}
		}
		sku = bytes.TrimSpace(sku)
		if len(sku) == 0 {
			return i, false
		}
		// A SKU listed twice is one that strings.ToUpper makes equal: for
		// ASCII, an ASCII case-insensitive match; others go the generic way.
		for _, c := range sku {
			if c >= utf8.RuneSelf {
				return i, false
			}
		}
		for _, l := range d.lics {
			if equalFoldASCII(l.SKU, sku) {
				return i, false
			}
		}
		d.lics = append(d.lics, license.License{SKU: names.ofBytes(sku), AssignedDate: assigned})
		if i, more, ok = next(b, i, ']'); !ok {
			return i, false
		}
	}
	return i, true
}

func equalFoldASCII(a string, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range len(a) {
		x, y := a[k], b[k]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// workloads reads the object at b[i] into d.wls, merged as MergeUse does.
func (d *userDecoder) workloads(b []byte, i int, names *interner) (int, bool) {
	d.wnames = d.wnames[:0]
	if byteAt(b, i) != '{' {
		return i, false
	}
	if i = skipWS(b, i+1); byteAt(b, i) == '}' {
		return i + 1, true
	}
	for more := true; more; {
		var name []byte
		var ok bool
		if name, i, ok = d.str(b, i); !ok {
			return i, false
		}
		for _, n := range d.wnames {
			if bytes.Equal(n, name) {
				return i, false
			}
		}
		d.wnames = append(d.wnames, name)
		if !validWorkloadNameBytes(name) {
			return i, false
		}
		if i, ok = colon(b, i); !ok || byteAt(b, i) != '{' {
			return i, false
		}
		licensed, last, seen := false, license.NoDate, 0
		if i = skipWS(b, i+1); byteAt(b, i) == '}' {
			i++
		} else {
			for inner := true; inner; {
				var member []byte
				if member, i, ok = d.str(b, i); !ok {
					return i, false
				}
				if i, ok = colon(b, i); !ok {
					return i, false
				}
				switch string(member) {
				case "licensed":
					if seen&1 != 0 {
						return i, false
					}
					seen |= 1
					licensed, i, ok = boolAt(b, i)
				case "lastActivity":
					if seen&2 != 0 {
						return i, false
					}
					seen |= 2
					last, i, ok = d.dateAt(b, i)
				default:
					var res scanResult
					i, res = skipValue(b, i, &d.stack)
					ok = res == scanOK
				}
				if !ok {
					return i, false
				}
				if i, inner, ok = next(b, i, '}'); !ok {
					return i, false
				}
			}
		}
		d.mergeUse(license.WorkloadUse{Workload: normalizeWorkloadBytes(name, names), Licensed: licensed, LastActivity: last})
		if i, more, ok = next(b, i, '}'); !ok {
			return i, false
		}
	}
	return i, true
}

// mergeUse is license.User.MergeUse on d.wls.
func (d *userDecoder) mergeUse(use license.WorkloadUse) {
	for k := range d.wls {
		if x := &d.wls[k]; x.Workload == use.Workload {
			x.Licensed = x.Licensed || use.Licensed
			if use.LastActivity > x.LastActivity {
				x.LastActivity = use.LastActivity
			}
			return
		}
	}
	d.wls = append(d.wls, use)
}

// validWorkloadNameBytes is validWorkloadName for bytes.
func validWorkloadNameBytes(s []byte) bool {
	if len(s) == 0 || len(s) > maxWorkloadName {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// normalizeWorkloadBytes is license.NormalizeWorkload, interned, for a
// valid workload name.
func normalizeWorkloadBytes(name []byte, names *interner) license.Workload {
	var buf [maxWorkloadName]byte
	lower := buf[:len(name)]
	for k, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[k] = c
	}
	switch string(lower) {
	case "onedrive", "onedriveforbusiness":
		return license.SharePoint
	case "skypeforbusiness":
		return license.Skype
	}
	return license.Workload(names.ofBytes(lower))
}

// sortWorkloadsSmall is sortWorkloads without its allocation, for the few
// distinct workloads of one user: the order is total, so any sort gives
// the same.
func sortWorkloadsSmall(ws []license.WorkloadUse) {
	rank := func(w license.Workload) int {
		for k, s := range license.StandardWorkloads {
			if s == w {
				return k
			}
		}
		return len(license.StandardWorkloads)
	}
	for k := 1; k < len(ws); k++ {
		for j := k; j > 0; j-- {
			ra, rb := rank(ws[j].Workload), rank(ws[j-1].Workload)
			if ra > rb || ra == rb && ws[j].Workload >= ws[j-1].Workload {
				break
			}
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}

// str reads the string literal at b[i] and returns its value and the
// index after it; false when there is none, or it is not well-formed or
// not whole. The value is b's own bytes when the literal needs no
// decoding, else decoded into d.scratch (earlier values stay valid).
func (d *userDecoder) str(b []byte, i int) ([]byte, int, bool) {
	if byteAt(b, i) != '"' {
		return nil, i, false
	}
	j := i + 1
	for j < len(b) && plainStringByte[b[j]] {
		j++
	}
	if j >= len(b) {
		return nil, i, false
	}
	if b[j] == '"' {
		return b[i+1 : j], j + 1, true
	}
	end, res := skipString(b, i)
	if res != scanOK {
		return nil, i, false
	}
	if v := b[i+1 : end-1]; bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return v, end, true
	}
	start := len(d.scratch)
	var ok bool
	d.scratch, ok = unquote(d.scratch, b[i:end])
	return d.scratch[start:], end, ok
}

// ofBytes is of for a name in bytes: no allocation when it is interned.
func (in *interner) ofBytes(b []byte) string {
	if v, ok := (*in)[string(b)]; ok {
		return v
	}
	return in.of(string(b))
}
