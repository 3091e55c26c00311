package source

import (
	"io"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// activeUserDetailJSON reads the report's JSON form (beta
// getOffice365ActiveUserDetail with $format=application/json): a "value"
// array of users with the CSV's columns as camelCase members
// (reportRefreshDate, userPrincipalName, hasExchangeLicense,
// exchangeLastActivityDate, exchangeLicenseAssignDate, …) and
// assignedProducts as an array of names. Its pages of 200 may be sent as
// one document (see list). Same kind, same figures as the CSV.
func (p *parser) activeUserDetailJSON(r io.Reader) error {
	userRows := 0
	err := p.list(r, func(rec *record, o object) error {
		userRows++
		u, ok := p.activeUserObject(rec, o)
		if !ok || rec.bad() {
			return nil
		}
		// rowProblems runs after this function; emit only a clean user.
		return p.emit(u)
	})
	if err != nil {
		return err
	}
	if p.doc.ReportDate == license.NoDate && p.doc.Rows > 0 && p.invalid.Total == 0 {
		p.fail(Problem{Line: 1, Column: "reportRefreshDate", Reason: "no user has a valid report refresh date"})
	}
	p.finishUsers(1, userRows, `the report's "value" holds no users`)
	return nil
}

// member is a CSV column's name as the JSON form spells it (matched
// ignoring case): "Has Skype For Business License" → hasSkypeForBusinessLicense.
func member(column string) string {
	s := strings.ReplaceAll(column, " ", "")
	return strings.ToLower(s[:1]) + s[1:]
}

func (p *parser) activeUserObject(rec *record, o object) (license.User, bool) {
	refresh, ok := rec.datePart(o, member(colReportRefreshDate))
	switch {
	case !ok:
	case refresh == license.NoDate:
		rec.problem(o.path(member(colReportRefreshDate)), "is required")
	case p.doc.ReportDate == license.NoDate:
		p.doc.ReportDate = refresh
	case refresh != p.doc.ReportDate:
		rec.problem(o.path(member(colReportRefreshDate)), "is %s but earlier users have %s: one report has one refresh date", refresh, p.doc.ReportDate)
	}
	key, okKey := rec.str(o, member(colUserPrincipalName), true)
	name, _ := rec.str(o, member(colDisplayName), false)
	deleted, _ := rec.boolean(o, member(colIsDeleted))
	if okKey && strings.TrimSpace(key) == "" {
		rec.problem(o.path(member(colUserPrincipalName)), "is empty: every user needs a key")
	}
	u := license.User{Key: strings.TrimSpace(key), DisplayName: strings.TrimSpace(name), Deleted: deleted}
	assigned := license.NoDate
	for _, w := range reportWorkloads {
		licensed, _ := rec.boolean(o, member(hasLicenseCol(w)))
		last, _ := rec.datePart(o, member(lastActivityCol(w)))
		u.MergeUse(license.WorkloadUse{Workload: w.workload, Licensed: licensed, LastActivity: last})
		if d, _ := rec.datePart(o, member(assignDateCol(w))); d != license.NoDate && (assigned == license.NoDate || d < assigned) {
			assigned = d
		}
	}
	switch products := o.get(member(colAssignedProducts)).(type) {
	case nil:
	case []any:
		for i, v := range products {
			s, isString := v.(string)
			if !isString {
				rec.problem(append(o.path(member(colAssignedProducts)), i), "must be a product name, not %s", describe(v))
				continue
			}
			sku := strings.TrimSpace(s)
			if prod, found := catalog.ByName(sku); found {
				sku = prod.SKU
			}
			if sku != "" && !heldSKU(u.Licenses, sku) {
				u.Licenses = append(u.Licenses, license.License{SKU: sku, AssignedDate: assigned})
			}
		}
	default:
		rec.problem(o.path(member(colAssignedProducts)), "must be an array of product names, not %s", describe(products))
	}
	return u, ok && okKey
}

func heldSKU(ls []license.License, sku string) bool {
	for _, l := range ls {
		if l.SKU == sku {
			return true
		}
	}
	return false
}

// isJSONStart reports whether a document's first byte opens JSON.
func isJSONStart(b byte) bool { return b == '{' || b == '[' }
