package source

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// SnapshotSchema is the value of a native snapshot's "schema" member.
const SnapshotSchema = "license-snapshot/v1"

// snapshotRequired lists, per object of the snapshot, the members that must
// be present. The parser enforces exactly these (see requireMembers), and a
// test holds schema/license-snapshot-v1.schema.json to the same lists.
var snapshotRequired = map[string][]string{
	"snapshot":     {"schema", "customer", "reportDate", "users"},
	"customer":     {"id"},
	"subscription": {"id", "sku", "quantity", "status"},
	"user":         {"key"},
	"license":      {"sku"},
	"support":      {"howToTickets", "tickets", "windowDays"},
}

// snapshotMembers are the snapshot's top-level members.
var snapshotMembers = []string{"schema", "customer", "reportDate", "support", "subscriptions", "users"}

// caseVariant finds the member of known that name spells with other
// letter cases ("Users" for "users"): such a member is a typo whose value
// would otherwise be ignored without a word.
func caseVariant(name string, known []string) (string, bool) {
	for _, k := range known {
		if k != name && strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

// maxKeyBytes bounds a user key: it ends up in storage keys, which have
// limits of their own, and no UPN or report hash comes near it.
const maxKeyBytes = 1024

// maxWorkloadName bounds a workload name, which becomes part of export
// column names.
const maxWorkloadName = 64

// snapshot reads a native license-snapshot/v1 document (docs/definitions.md#the-native-snapshot). Its
// members may come in any order; users are streamed as they are read, so a
// snapshot whose header turns out wrong after its users is still rejected
// whole (the caller discards what it was given).
//
// It reads the document with fastSnapshot (snapshotfast.go), which hands
// the rest of the document to the encoding/json walk below wherever it
// cannot vouch for giving the same answer.
func (p *parser) snapshot(r io.Reader) error {
	sn := &snapshotState{keys: newUserKeys()}
	return p.snapshotDone(sn, p.fastSnapshot(r, sn))
}

// legacySnapshot reads the document with the encoding/json walk alone:
// the reference the differential fuzz test holds snapshot to.
func (p *parser) legacySnapshot(r io.Reader) error {
	sn := &snapshotState{keys: newUserKeys()}
	return p.snapshotDone(sn, p.walkSnapshot(newJSONStream(p, r), sn))
}

// snapshotDone settles a walk that ended with err.
func (p *parser) snapshotDone(sn *snapshotState, err error) error {
	if err == errBroken {
		return nil
	}
	if err != nil {
		return err
	}
	p.finishUsers(sn.topLine, sn.userRows, "the snapshot has no subscriptions and no users")
	return nil
}

type snapshotState struct {
	topLine  int // line of the opening '{'
	seen     map[string]bool
	userRows int
	keys     *userKeys
	names    interner // SKUs and workload names of the users
}

// interner keeps one copy of each string that repeats across users (SKU
// part numbers, workload names). It is bounded, so that a document of
// made-up names cannot grow it: past the bound a string is kept as is.
type interner map[string]string

const maxInterned = 4096

func (in *interner) of(s string) string {
	if v, ok := (*in)[s]; ok {
		return v
	}
	if *in == nil {
		*in = interner{}
	}
	if len(*in) < maxInterned {
		(*in)[s] = s
	}
	return s
}

func (p *parser) walkSnapshot(js *jsonStream, sn *snapshotState) error {
	tok, err := js.token()
	if err != nil {
		return err
	}
	sn.topLine = js.line()
	if tok != json.Delim('{') {
		p.fail(Problem{Line: sn.topLine, Reason: fmt.Sprintf("a snapshot must be a JSON object, not %v", tok)})
		return errBroken
	}
	sn.seen = map[string]bool{}
	return p.snapshotMembers(js, sn)
}

// snapshotMembers reads the top-level members from the stream's position
// on (the start of a member, or the ',' before one), the closing '}' and
// what follows it. fastSnapshot resumes here too.
func (p *parser) snapshotMembers(js *jsonStream, sn *snapshotState) error {
	var v any
	for js.more() {
		kt, err := js.token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		switch key {
		case "schema", "customer", "reportDate", "support", "subscriptions", "users":
			if sn.seen[key] {
				p.fail(Problem{Line: js.line(), Column: key, Reason: "appears twice"})
				if err := js.skip(); err != nil {
					return err
				}
				continue
			}
			sn.seen[key] = true
		default: // unknown members are ignored, unless a known one was meant
			if known, ok := caseVariant(key, snapshotMembers); ok {
				p.fail(Problem{Line: js.line(), Column: key, Reason: fmt.Sprintf("is not a snapshot member: did you mean %q? Member names are case-sensitive", known)})
			}
			if err := js.skip(); err != nil {
				return err
			}
			continue
		}
		switch key {
		case "subscriptions":
			err = p.snapshotArray(js, key, true, p.snapshotEach(key, sn))
		case "users":
			// null is not "no users" (an empty array is): a document that
			// lost its users must not wipe the customer's.
			err = p.snapshotArray(js, key, false, p.snapshotEach(key, sn))
		default:
			var line int
			var raw []byte
			line, raw, err = js.value(&v)
			if err == nil {
				rec := &record{raw: raw, line: line, base: key}
				p.snapshotHeader(rec, key, v)
				for _, pr := range rec.probs { // header problems cannot be skipped
					p.fail(pr)
				}
				p.invalid.Total += rec.unlisted
			}
		}
		if err != nil {
			return err
		}
	}
	if _, err := js.token(); err != nil { // the closing '}'
		return err
	}
	p.requireSnapshotMembers(sn)
	return js.end()
}

// requireSnapshotMembers reports each required top-level member the
// document lacked.
func (p *parser) requireSnapshotMembers(sn *snapshotState) {
	for _, name := range snapshotRequired["snapshot"] {
		if !sn.seen[name] {
			p.fail(Problem{Line: sn.topLine, Column: name, Reason: "is required"})
		}
	}
}

// snapshotEach is the validation of one element of the array key
// (subscriptions or users).
func (p *parser) snapshotEach(key string, sn *snapshotState) recordFunc {
	if key == "subscriptions" {
		return func(rec *record, o object) error {
			p.snapshotSubscription(rec, o)
			return nil
		}
	}
	return func(rec *record, o object) error {
		sn.userRows++
		return p.snapshotUser(rec, o, sn)
	}
}

// snapshotArray reads subscriptions or users: an array (null counts as
// empty when nullable) whose elements are validated one at a time.
func (p *parser) snapshotArray(js *jsonStream, key string, nullable bool, each recordFunc) error {
	tok, err := js.token()
	if err != nil {
		return err
	}
	switch {
	case tok == nil && nullable:
		return nil
	case tok == nil:
		p.fail(Problem{Line: js.line(), Column: key, Reason: "is null: send the users as an array ([] when the customer has none)"})
		return nil
	case tok == json.Delim('['):
	default:
		p.fail(Problem{Line: js.line(), Column: key, Reason: "must be a JSON array"})
		return js.skipRest(tok)
	}
	return p.arrayElements(js, key, 0, each)
}

// arrayElements reads the elements of the array key from the stream's
// position on (element from, or the ',' before it) and the closing ']'.
// fastSnapshot resumes here too.
func (p *parser) arrayElements(js *jsonStream, key string, from int, each recordFunc) error {
	var v any
	for i := from; js.more(); i++ {
		line, raw, err := js.value(&v)
		if err != nil {
			return err
		}
		p.doc.Rows++
		rec := &record{raw: raw, line: line, array: key, index: i}
		if o, ok := rec.asObject(v, nil); ok {
			if err := each(rec, o); err != nil {
				return err
			}
		}
		p.rowProblems(rec.probs, rec.unlisted)
	}
	_, err := js.token() // the closing ']'
	return err
}

// requireMembers reports every required member of kind that o lacks.
func (r *record) requireMembers(o object, kind string) bool {
	ok := true
	for _, name := range snapshotRequired[kind] {
		if o.get(name) == nil {
			r.problem(o.path(name), "is required")
			ok = false
		}
	}
	return ok
}

// snapshotHeader validates the document-level members: schema, customer,
// reportDate and support.
func (p *parser) snapshotHeader(rec *record, key string, v any) {
	switch key {
	case "schema":
		s, ok := v.(string)
		if !ok {
			rec.problem(nil, "must be the string %q, not %s", SnapshotSchema, describe(v))
		} else if s != SnapshotSchema {
			rec.problem(nil, "%q is not supported: want %q", s, SnapshotSchema)
		}
	case "reportDate":
		s, ok := v.(string)
		if !ok || s == "" {
			rec.problem(nil, "must be a YYYY-MM-DD date, not %s", describe(v))
			return
		}
		d, err := parseDate(s)
		if err != nil {
			rec.problem(nil, "%s", err.Error())
			return
		}
		if d == license.NoDate { // 1970-01-01 is the domain's "no date"
			rec.problem(nil, "%s is not a possible report date", s)
			return
		}
		if err := p.checkReportDate(d); err != nil {
			rec.problem(nil, "%s", err.Error())
			return
		}
		p.doc.ReportDate = d
	case "customer":
		o, ok := rec.asObject(v, nil)
		if !ok || !rec.requireMembers(o, "customer") {
			return
		}
		id, ok1 := rec.str(o, "id", true)
		name, ok2 := rec.str(o, "name", false)
		tenant, ok3 := rec.str(o, "tenantId", false)
		if !(ok1 && ok2 && ok3) {
			return
		}
		if err := license.ValidCustomerID(id); err != nil {
			rec.problem(o.path("id"), "%s", err.Error())
			return
		}
		if p.opts.CustomerID != "" && id != p.opts.CustomerID {
			rec.problem(o.path("id"), "is %q but the document was posted for customer %q", id, p.opts.CustomerID)
			return
		}
		p.doc.Customer = &license.Customer{ID: id, Name: name, TenantID: tenant}
	case "support":
		if v == nil {
			return
		}
		o, ok := rec.asObject(v, nil)
		if !ok || !rec.requireMembers(o, "support") {
			return
		}
		howTo, ok1 := rec.integer(o, "howToTickets", true)
		tickets, ok2 := rec.integer(o, "tickets", true)
		window, ok3 := rec.integer(o, "windowDays", true)
		if !(ok1 && ok2 && ok3) {
			return
		}
		if window < 1 {
			rec.problem(o.path("windowDays"), "must be 1 or more")
			return
		}
		if howTo > tickets {
			rec.problem(o.path("howToTickets"), "is %d, more than tickets (%d): how-to tickets are among all tickets", howTo, tickets)
			return
		}
		p.doc.Support = &license.Support{HowToTickets: howTo, Tickets: tickets, WindowDays: window}
	}
}

// snapshotSubscription validates one subscription: id, sku, quantity ≥ 0
// and a valid status are required; trial defaults to false, channel to
// unknown; name defaults to the catalogue's name of the SKU.
func (p *parser) snapshotSubscription(rec *record, o object) {
	if !rec.requireMembers(o, "subscription") {
		return
	}
	id, ok1 := rec.str(o, "id", true)
	sku, ok2 := rec.str(o, "sku", true)
	name, ok3 := rec.str(o, "name", false)
	quantity, ok4 := rec.integer(o, "quantity", true)
	statusText, ok5 := rec.str(o, "status", true)
	trial, ok6 := rec.boolean(o, "trial")
	channelText, ok7 := rec.str(o, "channel", false)
	renewal, ok8 := rec.date(o, "renewalDate", false)
	status := license.Status(statusText)
	if ok5 && !status.Valid() {
		rec.problem(o.path("status"), "%q is not a status (%s)", statusText, statusList())
	}
	channel := license.ChannelUnknown
	if channelText != "" {
		channel = license.Channel(channelText)
		if !channel.Valid() {
			rec.problem(o.path("channel"), "%q is not a channel (%s)", channelText, channelList())
		}
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || rec.bad() {
		return
	}
	if name == "" {
		name = catalog.Name(sku)
	}
	s := license.Subscription{ID: id, SKU: sku, Name: name, Quantity: quantity, Status: status, Trial: trial, Channel: channel, RenewalDate: renewal}
	rec.probs = append(rec.probs, p.addSubscription(s, rec.line, rec.where())...)
}

// snapshotStatuses is every status the snapshot accepts, in the order docs/definitions.md#figures lists them.
var snapshotStatuses = []license.Status{license.StatusActive, license.StatusGrace, license.StatusDisabled,
	license.StatusSuspended, license.StatusCancelled, license.StatusDeleted, license.StatusExpired}

func statusList() string {
	names := make([]string, len(snapshotStatuses))
	for i, s := range snapshotStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

func channelList() string {
	names := make([]string, len(license.Channels))
	for i, c := range license.Channels {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// snapshotUser validates one user and hands it over. key is required and
// unique within the document; deleted defaults to false; licenses is a list
// of {sku, assignedDate} (one entry per SKU); workloads maps a workload name
// to {licensed, lastActivity}, OneDrive merging into SharePoint.
func (p *parser) snapshotUser(rec *record, o object, sn *snapshotState) error {
	if !rec.requireMembers(o, "user") {
		return nil
	}
	key, ok1 := rec.str(o, "key", true)
	display, ok2 := rec.str(o, "displayName", false)
	deleted, ok3 := rec.boolean(o, "deleted")
	if ok1 && len(key) > maxKeyBytes {
		rec.problem(o.path("key"), "is longer than %d bytes", maxKeyBytes)
		ok1 = false
	}
	u := license.User{Key: key, DisplayName: display, Deleted: deleted}
	ok4 := rec.userLicenses(o, &u)
	ok5 := rec.userWorkloads(o, &u)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return nil
	}
	if reason, dup := sn.keys.add(key, rec.line); dup {
		rec.problem(o.path("key"), "%s", reason)
		return nil
	}
	if rec.bad() {
		return nil
	}
	// The decoder gave every user its own copy of each SKU and workload
	// name; the ingest holds every user until the figures are computed, so
	// the user keeps the one shared copy instead.
	for i := range u.Licenses {
		u.Licenses[i].SKU = sn.names.of(u.Licenses[i].SKU)
	}
	for i := range u.Workloads {
		u.Workloads[i].Workload = license.Workload(sn.names.of(string(u.Workloads[i].Workload)))
	}
	return p.emit(u)
}

func (r *record) userLicenses(o object, u *license.User) bool {
	v := o.get("licenses")
	if v == nil {
		return true
	}
	items, isArray := v.([]any)
	if !isArray {
		r.problem(o.path("licenses"), "must be a JSON array, not %s", describe(v))
		return false
	}
	ok := true
	// The licences kept so far, with their index in items, to name the
	// first of a SKU listed twice: a user has a few, so a scan (ToUpper of
	// an upper-case part number does not allocate); past a handful a map,
	// so that a record listing thousands stays linear.
	type kept struct {
		upper string
		i     int
	}
	var seen []kept
	var many map[string]int
	// One path for every licence, as for the workloads below.
	path := append(o.path("licenses"), 0)
	for i, item := range items {
		path[len(path)-1] = i
		lo, lok := r.asObject(item, path)
		if !lok || !r.requireMembers(lo, "license") {
			ok = false
			continue
		}
		sku, ok1 := r.str(lo, "sku", true)
		assigned, ok2 := r.date(lo, "assignedDate", false)
		if !ok1 || !ok2 {
			ok = false
			continue
		}
		upper, first := strings.ToUpper(sku), -1
		if many != nil {
			if f, dup := many[upper]; dup {
				first = f
			}
		}
		for _, k := range seen {
			if k.upper == upper {
				first = k.i
				break
			}
		}
		if first >= 0 {
			r.problem(lo.path("sku"), "%q is listed twice (also licenses[%d])", sku, first)
			ok = false
			continue
		}
		if len(seen) < 16 {
			seen = append(seen, kept{upper, i})
		} else {
			if many == nil {
				many = map[string]int{}
			}
			many[upper] = i
		}
		if u.Licenses == nil {
			u.Licenses = make([]license.License, 0, len(items))
		}
		u.Licenses = append(u.Licenses, license.License{SKU: sku, AssignedDate: assigned})
	}
	return ok
}

func (r *record) userWorkloads(o object, u *license.User) bool {
	v := o.get("workloads")
	if v == nil {
		return true
	}
	wo, ok := r.asObject(v, o.path("workloads"))
	if !ok {
		return false
	}
	// Map iteration order is random: walk the names sorted so that the
	// merge, and any problem order, is the same on every run.
	names := make([]string, 0, len(wo.members))
	for name := range wo.members {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 0 {
		u.Workloads = make([]license.WorkloadUse, 0, len(names))
	}
	// One path for every workload of the user, its last segment the
	// workload's name: a problem formats the path at once, and the
	// workload's object does not outlive its iteration.
	path := wo.path("")
	for _, name := range names {
		path[len(path)-1] = name
		if !validWorkloadName(name) {
			r.problem(path, "workload name %q must be 1-%d letters, digits, '_' or '-'", name, maxWorkloadName)
			ok = false
			continue
		}
		uo, uok := r.asObject(wo.members[name], path)
		if !uok {
			ok = false
			continue
		}
		licensed, ok1 := r.boolean(uo, "licensed")
		last, ok2 := r.date(uo, "lastActivity", false)
		if !ok1 || !ok2 {
			ok = false
			continue
		}
		u.MergeUse(license.WorkloadUse{Workload: license.NormalizeWorkload(name), Licensed: licensed, LastActivity: last})
	}
	sortWorkloads(u.Workloads)
	return ok
}

func validWorkloadName(s string) bool {
	if s == "" || len(s) > maxWorkloadName {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// sortWorkloads puts the standard workloads first, in StandardWorkloads
// order, then any further ones by name: the order the domain reports them.
func sortWorkloads(ws []license.WorkloadUse) {
	rank := func(w license.Workload) int {
		for i, s := range license.StandardWorkloads {
			if s == w {
				return i
			}
		}
		return len(license.StandardWorkloads)
	}
	slices.SortStableFunc(ws, func(a, b license.WorkloadUse) int {
		if c := cmp.Compare(rank(a.Workload), rank(b.Workload)); c != 0 {
			return c
		}
		return cmp.Compare(a.Workload, b.Workload)
	})
}
