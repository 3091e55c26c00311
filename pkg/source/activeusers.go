package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/licenseinsights/licenseinsights/pkg/ahead"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// The columns of getOffice365ActiveUserDetail's CSV, as Microsoft Graph
// documents them (v1.0, reportRoot: getOffice365ActiveUserDetail).
const (
	colReportRefreshDate = "Report Refresh Date"
	colUserPrincipalName = "User Principal Name"
	colDisplayName       = "Display Name"
	colIsDeleted         = "Is Deleted"
	colDeletedDate       = "Deleted Date"
	colAssignedProducts  = "Assigned Products"
)

// reportWorkload is one workload's three columns in the report. The report
// names Skype for Business, Yammer and OneDrive separately; OneDrive merges
// into SharePoint through license.NormalizeWorkload.
type reportWorkload struct {
	name     string // as in the column names
	workload license.Workload
}

// reportWorkloads are in the order users get them: OneDrive right after
// SharePoint (it merges into it), then the StandardWorkloads order.
var reportWorkloads = []reportWorkload{
	{"Exchange", license.NormalizeWorkload("exchange")},
	{"SharePoint", license.NormalizeWorkload("sharepoint")},
	{"OneDrive", license.NormalizeWorkload("onedrive")},
	{"Teams", license.NormalizeWorkload("teams")},
	{"Yammer", license.NormalizeWorkload("yammer")},
	{"Skype For Business", license.NormalizeWorkload("skypeforbusiness")},
}

func hasLicenseCol(w reportWorkload) string   { return "Has " + w.name + " License" }
func lastActivityCol(w reportWorkload) string { return w.name + " Last Activity Date" }
func assignDateCol(w reportWorkload) string   { return w.name + " License Assign Date" }

// activeUserColumns is the header's layout: the index of every column this
// parser reads, -1 for an optional column the file lacks.
type activeUserColumns struct {
	refresh, upn, display, deleted, products int
	has, last, assign                        []int // per reportWorkloads
	names                                    []string
}

// activeUserRequired are the columns a report must have; the six License
// Assign Date columns and Deleted Date are optional (older reports lack the
// former, the latter is not used).
func activeUserRequired() []string {
	cols := []string{colReportRefreshDate, colUserPrincipalName, colDisplayName, colIsDeleted}
	for _, w := range reportWorkloads {
		cols = append(cols, hasLicenseCol(w), lastActivityCol(w))
	}
	return append(cols, colAssignedProducts)
}

// mapHeader finds the columns by name, ignoring order, case and surrounding
// space. Missing required columns and repeated names are problems.
func mapHeader(header []string) (*activeUserColumns, []Problem) {
	index := map[string]int{}
	var probs []Problem
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
		k := strings.ToLower(names[i])
		if _, dup := index[k]; dup && k != "" {
			probs = append(probs, Problem{Line: 1, Column: names[i], Reason: "column appears twice in the header"})
			continue
		}
		index[k] = i
	}
	col := func(name string) int {
		if i, ok := index[strings.ToLower(name)]; ok {
			return i
		}
		return -1
	}
	for _, name := range activeUserRequired() {
		if col(name) < 0 {
			probs = append(probs, Problem{Line: 1, Column: name, Reason: "required column is missing from the header"})
		}
	}
	c := &activeUserColumns{
		refresh: col(colReportRefreshDate), upn: col(colUserPrincipalName), display: col(colDisplayName),
		deleted: col(colIsDeleted), products: col(colAssignedProducts), names: names,
	}
	for _, w := range reportWorkloads {
		c.has = append(c.has, col(hasLicenseCol(w)))
		c.last = append(c.last, col(lastActivityCol(w)))
		c.assign = append(c.assign, col(assignDateCol(w)))
	}
	return c, probs
}

// activeUserDetail reads the Office 365 active user detail report, the CSV
// getOffice365ActiveUserDetail(period='D7|D30|D90|D180') returns, one user a
// row:
//
//   - Report Refresh Date is the report date; every row carries the same one
//     (a row that differs is a bad row).
//   - User Principal Name is the key; concealed reports give a hash instead,
//     which serves the same.
//   - Has <W> License and <W> Last Activity Date give each workload's
//     licensing and activity; OneDrive merges into SharePoint.
//   - Assigned Products lists the product names joined with "+"; each maps
//     to a SKU part number through the catalogue, an unknown name is kept
//     as the SKU.
//   - The report gives licence assign dates per workload, not per product, so
//     every licence of a user gets the earliest of the user's License Assign
//     Date columns. That is the date the user was first licensed for
//     anything, which orders entitlements oldest first as docs/definitions.md#figures asks.
//
// Dates are YYYY-MM-DD, empty meaning none; booleans are True/False. Line
// numbers are physical lines, the header being line 1.
func (p *parser) activeUserDetail(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	cr := newCSVRows(br)
	err := cr.next()
	if err == io.EOF {
		p.fail(Problem{Line: 1, Reason: "the document is empty: want the report's header row"})
		return nil
	}
	if err != nil {
		return p.csvBroken(err, 1)
	}
	header := make([]string, cr.fields())
	for i := range header {
		header[i] = string(cr.field(i))
	}
	cols, probs := mapHeader(header)
	for _, pr := range probs {
		p.fail(pr)
	}
	if len(probs) > 0 {
		return nil
	}
	ar := &activeUserReader{p: p, cr: cr, cols: cols, products: map[string][]string{}, reuse: p.opts.ReuseUser}
	ar.store = &rowStore{}
	rows := &userRowChecks{p: p, ar: ar, keys: newUserKeys()}
	if p.opts.ReuseUser {
		err = rows.piped()
	} else {
		err = rows.inline()
	}
	// The rows' refresh date is the report's (activeUserReader.reportDate),
	// whatever stopped the rows.
	p.doc.ReportDate = ar.reportDate
	if err != nil || rows.stopped {
		return err
	}
	if p.doc.ReportDate == license.NoDate && p.doc.Rows > 0 && p.invalid.Total == 0 {
		p.fail(Problem{Line: 1, Column: colReportRefreshDate, Reason: "no row has a valid report refresh date"})
	}
	// The reader has counted every row by now (the rows ran to their end).
	p.finishUsers(1, ar.userRows, "the report has a header but no user rows")
	return nil
}

// userRow is what reading one row gave: a user with its problems, or a
// malformed record, or what ends the rows (a broken CSV, a spreadsheet's
// dates).
type userRow struct {
	at   int // the row's line
	kind rowKind
	// problem is a malformed record's, or the spreadsheet's.
	problem Problem
	err     error // rowBroken: the reading error
	user    license.User
	probs   []Problem
	// keyLine is the line of the row's User Principal Name field, for the
	// problem of a key given twice.
	keyLine int
	// store is where the user was built (ReuseUser), a row's own while it
	// waits for the other goroutine.
	store rowStore
}

type rowKind uint8

const (
	rowUser rowKind = iota
	rowMalformed
	rowBroken      // ends the rows
	rowSpreadsheet // ends the rows
)

// read reads the next row into r; false at the end of input. It is the
// part of the loop that needs no state of the parser's: on two goroutines
// (piped) it is the reading one.
func (ar *activeUserReader) read(r *userRow) bool {
	cr, cols := ar.cr, ar.cols
	at, malformed, err := cr.row(ar.line)
	if err == io.EOF {
		return false
	}
	ar.line, r.at = at, at
	switch {
	case malformed != nil:
		ar.userRows++
		r.kind, r.problem = rowMalformed, *malformed
	case err != nil:
		r.kind, r.err = rowBroken, err
	case ar.userRows == 0 && cr.fields() == len(cols.names) && spreadsheetDate.Match(trimSpace(cr.field(cols.refresh))):
		// One message instead of a problem per date and boolean cell.
		r.kind = rowSpreadsheet
		r.problem = Problem{Line: at, Column: colReportRefreshDate, Reason: fmt.Sprintf(
			"reads %q, a date as a spreadsheet writes it: this file was re-saved by a spreadsheet such as Excel, which rewrites dates (11/22/2026 for 2026-11-22) and booleans (TRUE). "+
				"Send the CSV exactly as Microsoft Graph wrote it: download the report again and upload it without opening and saving it in a spreadsheet",
			string(trimSpace(cr.field(cols.refresh))))}
	default:
		ar.userRows++
		r.kind = rowUser
		if ar.reuse {
			ar.store = &r.store
		}
		r.user, r.probs = ar.row(at)
		if len(r.probs) == 0 {
			r.keyLine, _ = cr.fieldPos(cols.upn)
		}
	}
	return true
}

// userRowChecks is the part of the loop that keeps the document's state:
// the counts, the problems, the keys seen, and the users handed over.
type userRowChecks struct {
	p    *parser
	ar   *activeUserReader
	keys *userKeys
	// stopped: a row ended the document (a broken CSV, a spreadsheet's
	// dates), its problem given.
	stopped bool
}

// check takes one row; done is true when the rows end here (err is then
// the callback's or the reader's error, if any).
func (c *userRowChecks) check(r *userRow) (done bool, err error) {
	p := c.p
	switch r.kind {
	case rowMalformed:
		p.doc.Rows++
		p.rowProblems([]Problem{r.problem}, 0)
		return false, nil
	case rowBroken:
		c.stopped = true
		return true, p.csvBroken(r.err, r.at)
	case rowSpreadsheet:
		c.stopped = true
		p.fail(r.problem)
		return true, nil
	}
	p.doc.Rows++
	probs := r.probs
	// Only a good row claims its key: with skipInvalid, the first good row
	// of a user is the one kept.
	if len(probs) == 0 {
		if reason, dup := c.keys.add(r.user.Key, r.at); dup {
			probs = append(probs, Problem{Line: r.keyLine, Column: c.ar.cols.names[c.ar.cols.upn], Reason: reason})
		}
	}
	if p.rowProblems(probs, 0) {
		if err := p.emit(r.user); err != nil {
			c.stopped = true
			return true, err
		}
	}
	return false, nil
}

// inline reads and checks the rows one after the other.
func (c *userRowChecks) inline() error {
	var r userRow
	for c.ar.read(&r) {
		if done, err := c.check(&r); done {
			return err
		}
	}
	return nil
}

// Batches of rows between the two goroutines of piped.
const (
	pipedRows    = 256
	pipedBatches = 4
)

type rowBatch struct {
	rows []userRow
	n    int
}

// piped reads the rows on a goroutine of its own and checks them on this
// one, a batch behind: reading (splitting the record, dates, booleans,
// products) and checking (the key table, the callback, which encodes the
// user) are each about half of a row, so a second core halves the
// document's time. The checks and what the callback sees are those of
// inline, row for row; with ReuseUser a user built in a row's store stays
// untouched until its batch comes back. No goroutine outlives the call.
func (c *userRowChecks) piped() error {
	batches := make([]*rowBatch, pipedBatches)
	for i := range batches {
		batches[i] = &rowBatch{rows: make([]userRow, pipedRows)}
	}
	fill := func(b *rowBatch) bool {
		b.n = 0
		for b.n < len(b.rows) {
			r := &b.rows[b.n]
			if !c.ar.read(r) {
				return false
			}
			b.n++
			if r.kind == rowBroken || r.kind == rowSpreadsheet {
				return false
			}
		}
		return true
	}
	return ahead.Run(batches, fill, func(b *rowBatch) error {
		for i := range b.n {
			if done, err := c.check(&b.rows[i]); done {
				if err == nil {
					return ahead.ErrStop // a row's problem ended the document
				}
				return err
			}
		}
		return nil
	})
}

// csvBroken turns a reading error into a problem (malformed CSV, a row
// too large) or an I/O error.
func (p *parser) csvBroken(err error, line int) error {
	var pe *csv.ParseError
	switch {
	case isTooLarge(err):
		p.fail(Problem{Line: line, Reason: errRowTooLarge.Error()})
	case errors.As(err, &pe):
		p.fail(Problem{Line: pe.StartLine, Reason: fmt.Sprintf("malformed CSV: %v (line %d, column %d)", pe.Err, pe.Line, pe.Column)})
	default:
		return ioError(err)
	}
	return nil
}

// spreadsheetDate is a date as Excel re-saves Graph's YYYY-MM-DD dates
// (11/22/2026, 22.11.2026, 22-11-26).
var spreadsheetDate = regexp.MustCompile(`^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}$`)

// activeUserReader turns rows into users.
type activeUserReader struct {
	p    *parser
	cr   *csvRows
	cols *activeUserColumns
	// products caches Assigned Products values, which repeat across users,
	// as the SKUs they map to; bounded so a hostile file cannot grow it.
	// A value's SKU strings are so made once, not once a row.
	products map[string][]string
	// reuse is Options.ReuseUser: every row is built in store.
	reuse bool
	store *rowStore
	// names reads the values products does not hold; skuBuf is what it
	// gave last.
	names  productNames
	skuBuf []string
	// line is the line of the last row read; userRows counts the user rows
	// read (malformed ones too).
	line, userRows int
	// reportDate is the first valid refresh date, which every row must
	// give.
	reportDate license.Date
}

// rowStore is where a row's user is built: its workloads and licences
// (licenses keeps whatever room a user with many products made), and
// keyName, where its key and display name are assembled before they
// become one string.
type rowStore struct {
	back     userBacking
	licenses []license.License
	keyName  []byte
}

const maxProductCache = 1024

// Spellings of the booleans other than Graph's own True and False.
var (
	foldTrue  = []byte("true")
	foldFalse = []byte("false")
)

// trimSpace is bytes.TrimSpace without its call for a field that starts
// and ends with a printable ASCII byte, which is every field but a few:
// every white space it trims is either ASCII up to ' ' or a multi-byte
// rune, whose bytes are all 0x80 or over.
func trimSpace(b []byte) []byte {
	if n := len(b); n == 0 || b[0] > ' ' && b[0] < utf8.RuneSelf && b[n-1] > ' ' && b[n-1] < utf8.RuneSelf {
		return b
	}
	return bytes.TrimSpace(b)
}

// row turns the record just read into a user. The fields are the reader's
// bytes, valid until its next read: nothing of them is kept but the key
// and display name, copied into one string, and the SKUs, which come from
// the products cache.
func (ar *activeUserReader) row(line int) (license.User, []Problem) {
	var probs []Problem
	c, cr := ar.cols, ar.cr
	if cr.fields() != len(c.names) {
		return license.User{}, []Problem{{Line: line, Reason: fmt.Sprintf("row has %d fields but the header has %d", cr.fields(), len(c.names))}}
	}
	bad := func(col int, format string, args ...any) {
		l, _ := cr.fieldPos(col)
		probs = append(probs, Problem{Line: l, Column: c.names[col], Reason: fmt.Sprintf(format, args...)})
	}
	date := func(col int) license.Date {
		if col < 0 {
			return license.NoDate
		}
		d, err := parseDate(trimSpace(cr.field(col)))
		if err != nil {
			bad(col, "%s", err.Error())
		}
		return d
	}
	boolean := func(col int) bool {
		switch v := trimSpace(cr.field(col)); {
		case string(v) == "True": // Graph's own spelling, before the folding compare
			return true
		case string(v) == "False":
			return false
		case bytes.EqualFold(v, foldTrue):
			return true
		case bytes.EqualFold(v, foldFalse), len(v) == 0:
			return false
		default:
			bad(col, "%q is not True or False", string(v))
			return false
		}
	}

	refresh := date(c.refresh)
	switch {
	case refresh == license.NoDate && len(trimSpace(cr.field(c.refresh))) == 0:
		bad(c.refresh, "is empty")
	case refresh == license.NoDate && len(probs) == 0:
		// 1970-01-01 parses to the domain's "no date".
		bad(c.refresh, "%s is not a possible report date", string(trimSpace(cr.field(c.refresh))))
	case refresh == license.NoDate:
		// already reported as not a date
	case ar.p.checkReportDate(refresh) != nil:
		bad(c.refresh, "%s", ar.p.checkReportDate(refresh).Error())
	case ar.reportDate == license.NoDate:
		ar.reportDate = refresh
	case refresh != ar.reportDate:
		bad(c.refresh, "is %s but earlier rows have %s: one report has one refresh date", refresh, ar.reportDate)
	}

	// Key and name share one string: without ReuseUser a row's one
	// allocation besides its licences and workloads; with it, a view of
	// the reader's own buffer (Options.ReuseUser), so a row allocates
	// nothing.
	key, name := trimSpace(cr.field(c.upn)), trimSpace(cr.field(c.display))
	st := ar.store
	st.keyName = append(append(st.keyName[:0], key...), name...)
	var both string
	if ar.reuse {
		both = unsafe.String(unsafe.SliceData(st.keyName), len(st.keyName))
	} else {
		both = string(st.keyName)
	}
	// A user's workloads and (usually one or two) licences share one
	// allocation too, or, with ReuseUser, the reader's own; a user with
	// more licences than it holds grows the slice as append does.
	back := &st.back
	if !ar.reuse {
		back = new(userBacking)
	}
	u := license.User{
		Key:         both[:len(key)],
		DisplayName: both[len(key):],
		Deleted:     boolean(c.deleted),
		Workloads:   back.workloads[:0],
	}
	switch {
	case u.Key == "":
		bad(c.upn, "is empty: every user needs a key")
	case len(u.Key) > maxKeyBytes:
		bad(c.upn, "is longer than %d bytes", maxKeyBytes)
	}

	assigned := license.NoDate
	for i, w := range reportWorkloads {
		use := license.WorkloadUse{Workload: w.workload, Licensed: boolean(c.has[i]), LastActivity: date(c.last[i])}
		u.MergeUse(use)
		if d := date(c.assign[i]); d != license.NoDate && (assigned == license.NoDate || d < assigned) {
			assigned = d
		}
	}
	if skus := ar.skus(cr.field(c.products)); len(skus) > 0 {
		u.Licenses = back.licenses[:0]
		if ar.reuse && st.licenses != nil {
			u.Licenses = st.licenses[:0]
		}
		for _, sku := range skus {
			u.Licenses = append(u.Licenses, license.License{SKU: sku, AssignedDate: assigned})
		}
		if ar.reuse {
			st.licenses = u.Licenses
		}
	}
	return u, probs
}

// userBacking is the storage of one user's Workloads and Licenses: the
// report's six workload columns merge into five workloads (OneDrive into
// SharePoint), and most users hold one or two products.
type userBacking struct {
	workloads [5]license.WorkloadUse
	licenses  [2]license.License
}

// skus maps an Assigned Products value to SKU part numbers, valid until the
// next call.
func (ar *activeUserReader) skus(field []byte) []string {
	if s, ok := ar.products[string(field)]; ok { // looked up without a copy
		return s
	}
	ar.skuBuf = ar.names.skus(field, ar.skuBuf)
	if len(ar.products) < maxProductCache {
		s := slices.Clone(ar.skuBuf)
		ar.products[string(field)] = s
		return s
	}
	return ar.skuBuf
}

// maxNamePieces bounds how many "+"-separated pieces are joined back into
// one product name. Catalogue names hold at most one "+"; the bound keeps a
// field of a thousand "+" linear instead of cubic.
const maxNamePieces = 3

// productSKUs maps one Assigned Products value to SKU part numbers, as
// productNames.skus does.
func productSKUs(field string) []string {
	var pn productNames
	return pn.skus([]byte(field), nil)
}

// productNames maps Assigned Products values to SKU part numbers, looking
// each name up in the catalogue once, not once a row: past the reader's
// cache of whole values (a tenant with many product combinations) a row
// then costs no allocation but its value's first sight. Bounded, so that a
// hostile file cannot grow it.
type productNames struct {
	names map[string]productName
	plus  []int // the offsets of the "+" of the value being read
}

// productName is what the catalogue says of a name: the SKU part number
// it knows it by, or the name as written (trimmed) when it does not.
type productName struct {
	sku   string
	known bool
}

// Bounds of productNames: how many names, and how long a name it keeps.
const (
	maxProductNames    = 4096
	maxProductNameSize = 256
)

func (pn *productNames) lookup(name []byte) productName {
	if r, ok := pn.names[string(name)]; ok { // looked up without a copy
		return r
	}
	s := string(name)
	r := productName{sku: strings.TrimSpace(s)}
	if prod, ok := catalog.ByName(s); ok {
		r = productName{sku: prod.SKU, known: true}
	}
	if len(s) <= maxProductNameSize && len(pn.names) < maxProductNames {
		if pn.names == nil {
			pn.names = map[string]productName{}
		}
		pn.names[s] = r
	}
	return r
}

// skus splits an Assigned Products value on "+" and maps each name to its
// SKU part number, appended to dst[:0]. A product name may itself contain
// "+" ("ENTERPRISE MOBILITY + SECURITY E3"), so adjacent pieces are joined
// back whenever the joined name is one the catalogue knows, longest first.
// A name the catalogue knows becomes its part number — for a name two
// products share (WINDOWS 10/11 ENTERPRISE E3), the preferred one, which
// catalog.Resolver moves to its sibling when the customer holds that; a
// name it does not know is kept as written, for the Resolver to match
// against the customer's own SKUs. A SKU listed twice counts once.
func (pn *productNames) skus(field []byte, dst []string) []string {
	skus := dst[:0]
	add := func(sku string) {
		for _, s := range skus {
			if s == sku {
				return
			}
		}
		skus = append(skus, sku)
	}
	pn.plus = pn.plus[:0]
	for i, b := range field {
		if b == '+' {
			pn.plus = append(pn.plus, i)
		}
	}
	// Piece k runs from start(k) to end(k); pieces i to j-1 joined back
	// with their "+" are field[start(i):end(j-1)].
	pieces := len(pn.plus) + 1
	start := func(k int) int {
		if k == 0 {
			return 0
		}
		return pn.plus[k-1] + 1
	}
	end := func(k int) int {
		if k == len(pn.plus) {
			return len(field)
		}
		return pn.plus[k]
	}
	for i := 0; i < pieces; {
		matched := false
		for j := min(pieces, i+maxNamePieces); j > i+1; j-- {
			if joined := pn.lookup(field[start(i):end(j-1)]); joined.known {
				add(joined.sku)
				i, matched = j, true
				break
			}
		}
		if matched {
			continue
		}
		name := bytes.TrimSpace(field[start(i):end(i)])
		i++
		if len(name) == 0 {
			continue
		}
		add(pn.lookup(name).sku)
	}
	return skus
}
