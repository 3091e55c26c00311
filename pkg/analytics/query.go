package analytics

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Paging limits: Partner Center's default and maximum page is 10,000 rows.
const (
	MaxTop     = 10000
	DefaultTop = MaxTop
	MaxSkip    = 1 << 30
)

// Query is a parsed request for one dataset's rows.
type Query struct {
	Dataset *Dataset
	Top     int
	Skip    int
	Filter  *Filter // nil: every row
	// GroupBy lists the fields rows are grouped on, nil for no grouping.
	GroupBy []Field
}

// Params are the query string parameters of an analytics request.
type Params struct {
	Top, Skip, Filter, GroupBy string
}

// ParseQuery validates top (1–10000, default 10000), skip (≥ 0, default 0),
// filter and groupby for the dataset. Errors are *Error.
func ParseQuery(d *Dataset, p Params) (Query, error) {
	q := Query{Dataset: d, Top: DefaultTop}
	var err error
	if q.Top, err = parseCount("top", p.Top, DefaultTop, 1, MaxTop); err != nil {
		return Query{}, err
	}
	if q.Skip, err = parseCount("skip", p.Skip, 0, 0, MaxSkip); err != nil {
		return Query{}, err
	}
	if q.Filter, err = ParseFilter(d, p.Filter); err != nil {
		return Query{}, err
	}
	if q.GroupBy, err = ParseGroupBy(d, p.GroupBy); err != nil {
		return Query{}, err
	}
	return q, nil
}

func parseCount(param, s string, def, lo, hi int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, &Error{Param: param, Value: s, Reason: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)}
	}
	return n, nil
}

// ParseGroupBy reads a comma-separated list of the dataset's fields. Blank
// is no grouping; an unknown, empty or repeated name is an error with its
// position.
func ParseGroupBy(d *Dataset, text string) ([]Field, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	fail := func(pos int, format string, args ...any) error {
		return &Error{Param: "groupby", Value: text, Position: pos, Reason: fmt.Sprintf(format, args...)}
	}
	var out []Field
	pos := 1 // character position of the current part's first character
	for _, part := range strings.Split(text, ",") {
		name := strings.TrimSpace(part)
		at := pos + len([]rune(part)) - len([]rune(strings.TrimLeft(part, " \t")))
		switch f, ok := d.field(name); {
		case name == "":
			return nil, fail(at, "empty field name in the list")
		case !ok:
			return nil, fail(at, "unknown field %q: %s rows can be grouped by %s", name, d.Name, d.fieldList())
		case slices.Contains(out, f):
			return nil, fail(at, "field %s is listed twice", fieldNames[f])
		default:
			out = append(out, f)
		}
		pos += len([]rune(part)) + 1
	}
	return out, nil
}

// Run filters the rows, groups them if asked, and cuts the page. It returns
// the page and the total number of rows the filter (and grouping) gives.
// The rows are not modified.
func (q Query) Run(rows []Row) (page []Row, total int) {
	kept := make([]Row, 0, len(rows))
	for i := range rows {
		if q.Filter.Match(&rows[i]) {
			kept = append(kept, rows[i])
		}
	}
	if q.GroupBy != nil {
		kept = group(kept, q.GroupBy)
	}
	total = len(kept)
	if q.Skip >= total {
		return nil, total
	}
	end := min(total, q.Skip+q.Top)
	return kept[q.Skip:end], total
}

// group sums the rows' counts per distinct combination of the fields'
// values; a group row keeps only those fields (the others are null) and the
// newest Processed. Groups come sorted by their values, field by field.
func group(rows []Row, by []Field) []Row {
	index := make(map[string]int)
	var out []Row
	var key strings.Builder
	for i := range rows {
		key.Reset()
		for _, f := range by {
			key.WriteString(strings.ToLower(rows[i].values[f])) // grouping ignores case, as filtering does
			key.WriteByte(0)
		}
		k := key.String()
		j, ok := index[k]
		if !ok {
			var g Row
			for _, f := range by {
				g.values[f] = rows[i].values[f]
			}
			j = len(out)
			index[k] = j
			out = append(out, g)
		}
		g := &out[j]
		for m := range g.measures {
			g.measures[m] += rows[i].measures[m]
		}
		if rows[i].Processed.After(g.Processed) {
			g.Processed = rows[i].Processed
		}
	}
	slices.SortStableFunc(out, func(a, b Row) int {
		for _, f := range by {
			if c := cmp.Compare(strings.ToLower(a.values[f]), strings.ToLower(b.values[f])); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// fields are the text fields a row of this query shows: the dataset's, or
// the grouped ones.
func (q Query) fields() []Field {
	if q.GroupBy != nil {
		return q.GroupBy
	}
	return q.Dataset.Fields
}

// AppendRow appends the row as a JSON object: the query's fields in order
// (null when empty), the dataset's counts and processedDateTime.
func (q Query) AppendRow(b []byte, r *Row) []byte {
	b = append(b, '{')
	for i, f := range q.fields() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, fieldNames[f])
		b = append(b, ':')
		if v := r.values[f]; v == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, v)
		}
	}
	for _, m := range q.Dataset.Measures {
		b = append(b, ',')
		b = appendJSONString(b, measureNames[m])
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(r.measures[m]), 10)
	}
	b = append(b, `,"processedDateTime":`...)
	if r.Processed.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, r.Processed.UTC().Format(time.RFC3339))
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // a string always marshals
	return append(b, enc...)
}

// Page is one response of the analytics API.
type Page struct {
	// Body is {"value": [...], "@nextLink": ..., "totalCount": n}.
	Body []byte
	// Rows is how many rows the body holds: fewer than asked when the body
	// would have exceeded the byte budget.
	Rows int
}

// Encode writes the envelope for the page of rows out of total. It stops
// adding rows before the body exceeds maxBytes (Lambda's response payload is
// limited to 6 MB), always keeping at least one row; nextLink, given the
// number of rows written, is the link to the next page, or "" when the page
// reaches the end.
func (q Query) Encode(page []Row, total, maxBytes int, nextLink func(written int) string) Page {
	b := make([]byte, 0, 1024)
	b = append(b, `{"value":[`...)
	n := 0
	for i := range page {
		mark := len(b)
		if i > 0 {
			b = append(b, ',')
		}
		b = q.AppendRow(b, &page[i])
		if n > 0 && len(b)+256 > maxBytes { // 256: room for the envelope's end
			b = b[:mark]
			break
		}
		n++
	}
	b = append(b, `],"@nextLink":`...)
	if q.Skip+n < total {
		b = appendJSONString(b, nextLink(n))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"totalCount":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, '}')
	return Page{Body: b, Rows: n}
}

// NextLink is the path of the page after one that held written rows:
// the same top, filter and groupby, skip moved on.
func (q Query) NextLink(path string, written int) string {
	v := url.Values{}
	v.Set("top", strconv.Itoa(q.Top))
	v.Set("skip", strconv.Itoa(q.Skip+written))
	if q.Filter != nil {
		v.Set("filter", q.Filter.text)
	}
	if q.GroupBy != nil {
		names := make([]string, len(q.GroupBy))
		for i, f := range q.GroupBy {
			names[i] = fieldNames[f]
		}
		v.Set("groupby", strings.Join(names, ","))
	}
	return path + "?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}
