package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// KindCopilotUsage is Graph's Microsoft 365 Copilot usage user detail report
// (docs/definitions.md#copilot, source 7).
const KindCopilotUsage Kind = "graph-copilot-usage-user-detail"

// MaxCopilotUsers bounds the rows of one Copilot report: the rows are kept
// with the customer's accepted documents (one stored item), not streamed
// into the user rows. No tenant comes near it with Copilot seats.
const MaxCopilotUsers = 20_000

// The columns of getMicrosoft365CopilotUsageUserDetail's CSV that are read
// by name; every "<app> Last Activity Date" column is an app's.
const (
	colCopilotLastActivity = "Last Activity Date"
	colCopilotPeriod       = "Report Period"
	// normalised name prefix of v2's "Active Usage Days for all apps"
	copilotActiveDaysKey = "activeusagedays"
	copilotLastSuffix    = "lastactivitydate"
)

// copilotApps names the apps of the report by their normalised column
// prefix (letters and digits, lower case: the CSV's "Microsoft Teams Copilot
// Last Activity Date" and the JSON's microsoftTeamsCopilotLastActivityDate
// both give "microsoftteamscopilot"), in the order the API lists them. An
// app Microsoft adds later keeps its normalised prefix as its name and
// follows these in name order.
var copilotApps = []struct{ key, name string }{
	{"microsoftteamscopilot", "teams"},
	{"outlookcopilot", "outlook"},
	{"wordcopilot", "word"},
	{"excelcopilot", "excel"},
	{"powerpointcopilot", "powerPoint"},
	{"onenotecopilot", "oneNote"},
	{"loopcopilot", "loop"},
	{"copilotchat", "copilotChat"},
	{"copilotchatwork", "copilotChatWork"},
	{"copilotchatweb", "copilotChatWeb"},
	{"microsoft365copilot", "microsoft365Copilot"},
	{"edge", "edge"},
	{"copilotagent", "copilotAgent"},
}

// normKey keeps the letters and digits of a column or member name, lower
// case: the one spelling the CSV and JSON forms share.
func normKey(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b = append(b, c)
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

// copilotAppOf is the app a column or member gives the last activity date
// of: ok is false for other names, app is "" for the overall Last Activity
// Date.
func copilotAppOf(name string) (app string, ok bool) {
	k := normKey(name)
	prefix, found := strings.CutSuffix(k, copilotLastSuffix)
	if !found {
		return "", false
	}
	if prefix == "" {
		return "", true
	}
	for _, a := range copilotApps {
		if a.key == prefix {
			return a.name, true
		}
	}
	return prefix, true
}

// appRank orders apps as copilotApps lists them, then others by name.
func appRank(a, b string) int {
	ia := slices.IndexFunc(copilotApps, func(x struct{ key, name string }) bool { return x.name == a })
	ib := slices.IndexFunc(copilotApps, func(x struct{ key, name string }) bool { return x.name == b })
	switch {
	case ia >= 0 && ib >= 0:
		return ia - ib
	case ia >= 0:
		return -1
	case ib >= 0:
		return 1
	}
	return strings.Compare(a, b)
}

// copilotCollector gathers the report's rows: the users' keys must be
// unique, every row must carry the same refresh date.
type copilotCollector struct {
	p      *parser
	report *license.CopilotReport
	apps   map[string]int // app → index in report.Apps (order of appearance)
	keys   map[string]int // lower-case user key → line of its row
}

func newCopilotCollector(p *parser) *copilotCollector {
	r := &license.CopilotReport{Apps: []string{}, Users: []license.CopilotUser{}}
	p.doc.Copilot = r
	return &copilotCollector{p: p, report: r, apps: map[string]int{}, keys: map[string]int{}}
}

func (c *copilotCollector) appIndex(app string) int {
	if i, ok := c.apps[app]; ok {
		return i
	}
	c.apps[app] = len(c.report.Apps)
	c.report.Apps = append(c.report.Apps, app)
	return len(c.report.Apps) - 1
}

// refresh checks one row's refresh date against the others'; it returns
// the reason when it is not the one date of the report.
func (c *copilotCollector) refresh(d license.Date) string {
	switch {
	case d == license.NoDate:
		return "is empty: every row carries the report's refresh date"
	case c.report.ReportDate == license.NoDate:
		c.report.ReportDate = d
	case d != c.report.ReportDate:
		return fmt.Sprintf("is %s but earlier rows have %s: one report has one refresh date", d, c.report.ReportDate)
	}
	return ""
}

// period records the report period; rows must agree.
func (c *copilotCollector) period(n int) string {
	switch {
	case n == 0:
	case c.report.PeriodDays == 0:
		c.report.PeriodDays = n
	case n != c.report.PeriodDays:
		return fmt.Sprintf("is %d but earlier rows have %d: one report has one period", n, c.report.PeriodDays)
	}
	return ""
}

// key checks a user key: present, not too long, not seen before. Keys are
// compared ignoring letter case, as Entra compares user principal names.
func (c *copilotCollector) key(k string, line int) string {
	switch {
	case k == "":
		return "is empty: every user needs a key"
	case len(k) > maxKeyBytes:
		return fmt.Sprintf("is longer than %d bytes", maxKeyBytes)
	}
	lk := strings.ToLower(k)
	if first, dup := c.keys[lk]; dup {
		return fmt.Sprintf("user %q appears twice (first at line %d): send the report as Graph wrote it, one row per user", k, first)
	}
	c.keys[lk] = line
	return ""
}

// add keeps a good row, up to MaxCopilotUsers.
func (c *copilotCollector) add(u license.CopilotUser, line int) error {
	if len(c.report.Users) >= MaxCopilotUsers {
		c.p.fail(Problem{Line: line, Reason: fmt.Sprintf("more than %d users in one Copilot report: split the customer's report or contact support", MaxCopilotUsers)})
		return errBroken
	}
	c.p.doc.Users++
	c.report.Users = append(c.report.Users, u)
	return nil
}

// finish puts the apps in the API's order (every user's dates with them)
// and applies the whole-document rules.
func (c *copilotCollector) finish(line int) {
	r := c.report
	order := slices.Clone(r.Apps)
	slices.SortStableFunc(order, appRank)
	perm := make([]int, len(order)) // new index → old index
	for i, a := range order {
		perm[i] = c.apps[a]
	}
	for ui := range r.Users {
		u := &r.Users[ui]
		dates := make([]license.Date, len(order))
		for i, old := range perm {
			if old < len(u.AppActivity) {
				dates[i] = u.AppActivity[old]
			}
		}
		u.AppActivity = dates
	}
	r.Apps = order
	p := c.p
	switch {
	case p.doc.Rows == 0:
		p.fail(Problem{Line: line, Reason: "the report has no user rows, so its refresh date is unknown: send it again once a user holds a Copilot licence"})
	case p.invalid.Total == 0 && r.ReportDate == license.NoDate:
		p.fail(Problem{Line: line, Reason: "no row has a valid report refresh date"})
	case p.invalid.Total == 0 && len(r.Users) == 0:
		p.fail(Problem{Line: line, Reason: fmt.Sprintf("every one of the %d user rows is invalid, so no user would be left", p.doc.Rows)})
		for _, pr := range p.doc.Skipped {
			p.fail(pr)
		}
		p.invalid.Total += p.doc.SkippedTotal - len(p.doc.Skipped)
	}
	p.doc.ReportDate = r.ReportDate
}

// copilotCSV reads the report as Graph's CSV: Report Refresh Date, User
// Principal Name, Display Name, Last Activity Date, one "<app> Last Activity
// Date" column per Copilot app, Report Period; version 2 adds prompt counts,
// "Active Usage Days for all apps" and further apps. Columns are found by
// name (order, case and surrounding space ignored); columns this parser
// does not use are ignored. Dates are YYYY-MM-DD, empty meaning never.
func (p *parser) copilotCSV(r io.Reader) error {
	guard := &sizeGuard{r: r}
	cr := csv.NewReader(guard)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		p.fail(Problem{Line: 1, Reason: "the document is empty: want the report's header row"})
		return nil
	}
	if err != nil {
		return p.csvBroken(err, 1)
	}
	c := newCopilotCollector(p)
	refreshCol, keyCol, periodCol, daysCol, lastCol := -1, -1, -1, -1, -1
	appCols := map[int]int{} // column → app index
	seen := map[string]bool{}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
		k := normKey(h)
		if seen[k] && k != "" {
			p.fail(Problem{Line: 1, Column: names[i], Reason: "column appears twice in the header"})
			continue
		}
		seen[k] = true
		switch {
		case k == normKey(colReportRefreshDate):
			refreshCol = i
		case k == normKey(colUserPrincipalName):
			keyCol = i
		case k == normKey(colCopilotPeriod):
			periodCol = i
		case strings.HasPrefix(k, copilotActiveDaysKey):
			daysCol = i
		default:
			if app, ok := copilotAppOf(h); ok {
				if app == "" {
					lastCol = i
				} else {
					appCols[i] = c.appIndex(app)
				}
			}
		}
	}
	for _, req := range []struct {
		col  int
		name string
	}{{refreshCol, colReportRefreshDate}, {keyCol, colUserPrincipalName}, {lastCol, colCopilotLastActivity}} {
		if req.col < 0 {
			p.fail(Problem{Line: 1, Column: req.name, Reason: "required column is missing from the header: send the report as getMicrosoft365CopilotUsageUserDetail wrote it"})
		}
	}
	if p.invalid.Total > 0 {
		return nil
	}
	c.report.HasActiveDays = daysCol >= 0
	line := 1
	for {
		guard.reset()
		rec, at, malformed, err := readCSVRow(cr, line)
		if err == io.EOF {
			break
		}
		line = at
		if malformed != nil {
			p.doc.Rows++
			p.rowProblems([]Problem{*malformed}, 0)
			continue
		}
		if err != nil {
			return p.csvBroken(err, line)
		}
		p.doc.Rows++
		if len(rec) != len(names) {
			p.rowProblems([]Problem{{Line: line, Reason: fmt.Sprintf("row has %d fields but the header has %d", len(rec), len(names))}}, 0)
			continue
		}
		var probs []Problem
		bad := func(col int, format string, args ...any) {
			l, _ := cr.FieldPos(col)
			probs = append(probs, Problem{Line: l, Column: names[col], Reason: fmt.Sprintf(format, args...)})
		}
		date := func(col int) license.Date {
			d, err := parseDate(strings.TrimSpace(rec[col]))
			if err != nil {
				bad(col, "%s", err.Error())
			}
			return d
		}
		count := func(col int) int {
			v := strings.TrimSpace(rec[col])
			if v == "" {
				return 0
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				bad(col, "%q is not a whole number of 0 or more", v)
				return 0
			}
			return n
		}
		if reason := c.refresh(date(refreshCol)); reason != "" && len(probs) == 0 {
			bad(refreshCol, "%s", reason)
		}
		if periodCol >= 0 {
			if reason := c.period(count(periodCol)); reason != "" {
				bad(periodCol, "%s", reason)
			}
		}
		u := license.CopilotUser{Key: strings.TrimSpace(rec[keyCol]), LastActivity: date(lastCol)}
		if reason := c.key(u.Key, line); reason != "" {
			bad(keyCol, "%s", reason)
		}
		u.AppActivity = make([]license.Date, len(c.report.Apps))
		for col, ai := range appCols {
			u.AppActivity[ai] = date(col)
		}
		if daysCol >= 0 {
			if u.ActiveDays = count(daysCol); u.ActiveDays > 366 {
				bad(daysCol, "%d active days cannot fall in one report period", u.ActiveDays)
			}
		}
		slices.SortFunc(probs, func(a, b Problem) int { return strings.Compare(a.Column, b.Column) })
		if p.rowProblems(probs, 0) && p.invalid.Total == 0 {
			if err := c.add(u, line); err != nil {
				break
			}
		}
	}
	c.finish(1)
	return nil
}

// copilotJSON reads the report's JSON form: Graph's {"value": [ … ]} (or a
// bare array) of records with reportRefreshDate, userPrincipalName,
// lastActivityDate, one <app>LastActivityDate member per app and, in
// version 2, the active usage days; the period is reportPeriod, or the
// first entry of copilotActivityUserDetailsByPeriod.
func (p *parser) copilotJSON(r io.Reader) error {
	c := newCopilotCollector(p)
	err := p.list(r, func(rec *record, o object) error {
		refresh, _ := rec.date(o, "reportRefreshDate", true)
		if refresh != license.NoDate {
			if reason := c.refresh(refresh); reason != "" {
				rec.problem(o.path("reportRefreshDate"), "%s", reason)
			}
		}
		key, ok := rec.str(o, "userPrincipalName", true)
		if ok {
			if reason := c.key(key, rec.line); reason != "" {
				rec.problem(o.path("userPrincipalName"), "%s", reason)
			}
		}
		period, _ := rec.integer(o, "reportPeriod", false)
		if byPeriod, isList := o.get("copilotActivityUserDetailsByPeriod").([]any); isList && period == 0 && len(byPeriod) > 0 {
			if first, isObj := byPeriod[0].(map[string]any); isObj {
				inner := object{members: first, fold: true, at: append(o.path("copilotActivityUserDetailsByPeriod"), 0)}
				period, _ = rec.integer(inner, "reportPeriod", false)
			}
		}
		if reason := c.period(period); reason != "" {
			rec.problem(o.path("reportPeriod"), "%s", reason)
		}
		u := license.CopilotUser{Key: key, AppActivity: make([]license.Date, len(c.report.Apps))}
		names := make([]string, 0, len(o.members))
		for name := range o.members {
			names = append(names, name)
		}
		slices.Sort(names) // problems in a stable order
		for _, name := range names {
			k := normKey(name)
			if strings.HasPrefix(k, copilotActiveDaysKey) {
				c.report.HasActiveDays = true
				if u.ActiveDays, _ = rec.integer(o, name, false); u.ActiveDays > 366 {
					rec.problem(o.path(name), "%d active days cannot fall in one report period", u.ActiveDays)
				}
				continue
			}
			app, isDate := copilotAppOf(name)
			if !isDate {
				continue
			}
			d, _ := rec.date(o, name, false)
			if app == "" {
				u.LastActivity = d
				continue
			}
			ai := c.appIndex(app)
			for len(u.AppActivity) <= ai {
				u.AppActivity = append(u.AppActivity, license.NoDate)
			}
			u.AppActivity[ai] = d
		}
		if rec.bad() {
			return nil
		}
		return c.add(u, rec.line)
	})
	if err != nil && err != errBroken {
		return err
	}
	c.finish(1)
	return nil
}

// Detection of the Copilot report (see Detect): a CSV header naming Copilot
// last activity columns, or JSON with such members.
var (
	keyCopilotLastActivity = regexp.MustCompile(`(?i)"[a-z0-9]*copilot[a-z0-9]*lastactivitydate"\s*:`)
	keyUserPrincipalName   = keyPattern("userPrincipalName")
)

// detectCopilot reports whether the first bytes are a Copilot usage report.
func detectCopilot(trimmed []byte) bool {
	switch trimmed[0] {
	case '{', '[':
		return keyCopilotLastActivity.Match(trimmed) && keyUserPrincipalName.Match(trimmed)
	}
	first, _, _ := strings.Cut(string(trimmed), "\n")
	k := normKey(first)
	return strings.HasPrefix(k, normKey(colReportRefreshDate)) && strings.Contains(k, "copilot"+copilotLastSuffix)
}

// copilot reads the report in either form, told apart by its first byte.
func (p *parser) copilot(br *bufio.Reader) error {
	head, _ := br.Peek(DetectSize)
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return p.copilotJSON(br)
	}
	return p.copilotCSV(br)
}
