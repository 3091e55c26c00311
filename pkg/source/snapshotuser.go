package source

import (
	"bytes"
	"slices"
	"unicode/utf8"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// userDecoder reads one user record of a snapshot straight into a
// license.User, for fastSnapshot. It vouches only for a record that
// snapshotUser would accept as it is: at the first thing that would be a
// problem, or that encoding/json's map decode would settle in a way of its
// own (a member given twice: the last one wins), it answers false and the
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

// user reads the record b: a whole, well-formed JSON object (fastSnapshot
// checked it). With reuse the user's licences and workloads are the
// decoder's own arrays, overwritten by the next record; without, the
// user's to keep. SKUs and workload names come from names.
func (d *userDecoder) user(b []byte, names *interner, reuse bool) (license.User, bool) {
	d.scratch = d.scratch[:0]
	d.lics = d.lics[:0]
	d.wls = d.wls[:0]
	var key, display []byte
	var seen int
	deleted := false
	i := skipWS(b, 1)
	if b[i] == '}' {
		return license.User{}, false // no key
	}
	for {
		var name []byte
		name, i = d.str(b, i)
		i = skipWS(b, skipWS(b, i)+1) // the ':'
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
			return license.User{}, false
		}
		seen |= bit
		ok := true
		switch bit {
		case memberKey:
			if b[i] != '"' {
				return license.User{}, false
			}
			key, i = d.str(b, i)
		case memberDisplayName:
			switch b[i] {
			case '"':
				display, i = d.str(b, i)
			case 'n':
				i += len("null")
			default:
				return license.User{}, false
			}
		case memberDeleted:
			if deleted, i, ok = boolAt(b, i); !ok {
				return license.User{}, false
			}
		case memberLicenses:
			switch b[i] {
			case 'n':
				i += len("null")
			case '[':
				i, ok = d.licenses(b, i, names)
			default:
				ok = false
			}
		case memberWorkloads:
			switch b[i] {
			case 'n':
				i += len("null")
			case '{':
				i, ok = d.workloads(b, i, names)
			default:
				ok = false
			}
		default: // other members are ignored
			i, _ = skipValue(b, i, &d.stack)
		}
		if !ok {
			return license.User{}, false
		}
		if i = skipWS(b, i); b[i] == '}' {
			break
		}
		i = skipWS(b, i+1) // after the ','
	}
	key = bytes.TrimSpace(key)
	if len(key) == 0 || len(key) > maxKeyBytes {
		return license.User{}, false
	}
	display = bytes.TrimSpace(display)
	sortWorkloadsSmall(d.wls)
	// One allocation for both names: they live as long as each other.
	d.names = append(append(d.names[:0], key...), display...)
	both := string(d.names)
	u := license.User{Key: both[:len(key)], DisplayName: both[len(key):], Deleted: deleted}
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
	return u, true
}

// boolAt reads true, false or null (false) at b[i].
func boolAt(b []byte, i int) (v bool, next int, ok bool) {
	switch b[i] {
	case 't':
		return true, i + len("true"), true
	case 'f':
		return false, i + len("false"), true
	case 'n':
		return false, i + len("null"), true
	}
	return false, i, false
}

// dateAt reads a date member's value at b[i]: a YYYY-MM-DD string (white
// space around it trimmed, "" being no date) or null.
func (d *userDecoder) dateAt(b []byte, i int) (license.Date, int, bool) {
	switch b[i] {
	case 'n':
		return license.NoDate, i + len("null"), true
	case '"':
		var s []byte
		s, i = d.str(b, i)
		date, ok := dateBytes(bytes.TrimSpace(s))
		return date, i, ok
	}
	return license.NoDate, i, false
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
	if i = skipWS(b, i+1); b[i] == ']' {
		return i + 1, true
	}
	for {
		if b[i] != '{' {
			return i, false
		}
		var sku []byte
		assigned := license.NoDate
		seen := 0
		if i = skipWS(b, i+1); b[i] == '}' {
			return i, false // no sku
		}
		for {
			var name []byte
			name, i = d.str(b, i)
			i = skipWS(b, skipWS(b, i)+1)
			switch string(name) {
			case "sku":
				if seen&1 != 0 || b[i] != '"' {
					return i, false
				}
				seen |= 1
				sku, i = d.str(b, i)
			case "assignedDate":
				if seen&2 != 0 {
					return i, false
				}
				seen |= 2
				var ok bool
				if assigned, i, ok = d.dateAt(b, i); !ok {
					return i, false
				}
			default:
				i, _ = skipValue(b, i, &d.stack)
			}
			if i = skipWS(b, i); b[i] == '}' {
				i++
				break
			}
			i = skipWS(b, i+1)
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
		if i = skipWS(b, i); b[i] == ']' {
			return i + 1, true
		}
		i = skipWS(b, i+1)
	}
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
	if i = skipWS(b, i+1); b[i] == '}' {
		return i + 1, true
	}
	for {
		var name []byte
		name, i = d.str(b, i)
		for _, n := range d.wnames {
			if bytes.Equal(n, name) {
				return i, false
			}
		}
		d.wnames = append(d.wnames, name)
		if !validWorkloadNameBytes(name) {
			return i, false
		}
		if i = skipWS(b, skipWS(b, i)+1); b[i] != '{' {
			return i, false
		}
		licensed, last, seen := false, license.NoDate, 0
		if i = skipWS(b, i+1); b[i] != '}' {
			for {
				var member []byte
				member, i = d.str(b, i)
				i = skipWS(b, skipWS(b, i)+1)
				var ok bool
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
					i, _ = skipValue(b, i, &d.stack)
					ok = true
				}
				if !ok {
					return i, false
				}
				if i = skipWS(b, i); b[i] == '}' {
					break
				}
				i = skipWS(b, i+1)
			}
		}
		i++ // the use's '}'
		d.mergeUse(license.WorkloadUse{Workload: normalizeWorkloadBytes(name, names), Licensed: licensed, LastActivity: last})
		if i = skipWS(b, i); b[i] == '}' {
			return i + 1, true
		}
		i = skipWS(b, i+1)
	}
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

// str reads the string literal at b[i] (well-formed) and returns its value
// and the index after it. The value is b's own bytes when the literal needs
// no decoding, else decoded into d.scratch (earlier values stay valid).
func (d *userDecoder) str(b []byte, i int) ([]byte, int) {
	j := i + 1
	for plainStringByte[b[j]] {
		j++
	}
	if b[j] == '"' {
		return b[i+1 : j], j + 1
	}
	end, _ := skipString(b, i)
	if v := b[i+1 : end-1]; bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return v, end
	}
	start := len(d.scratch)
	d.scratch, _ = unquote(d.scratch, b[i:end])
	return d.scratch[start:], end
}

// ofBytes is of for a name in bytes: no allocation when it is interned.
func (in *interner) ofBytes(b []byte) string {
	if v, ok := (*in)[string(b)]; ok {
		return v
	}
	return in.of(string(b))
}
