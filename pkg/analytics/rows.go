// Package analytics is the Partner Center–compatible analytics API of docs/definitions.md#the-api:
// the deployment and usage rows with Partner Center's field names, and the
// query language tools written for Partner Center send — top, skip, filter
// (eq/ne joined by and/or, with parentheses) and groupby.
//
// It is pure: rows are made from license.Figures, and a Query filters,
// groups and pages them in memory. Reading the figures is the handler's job.
//
// # Rows
//
// Deployment: one row per customer × product (SKU) × channel the product was
// sold through (licensesSold > 0). Which channel's capacity a user occupies
// is unknowable, so the product's licences deployed (assigned users) are
// shared between its channel rows in proportion to what each channel sold
// (largest remainder, ties to the earlier channel of own, partner, direct,
// unknown): every channel row of a product shows the product's deployment
// rate, and the rows of a product always add up to its licences assigned. A
// product assigned but with no counted capacity (trial-only or lapsed) is
// one row with channel "unknown" and licensesSold 0. A product neither sold
// nor assigned has no row. As in Partner Center, every product is listed,
// including those the overall deployment figure of docs/definitions.md#figures leaves out.
//
// Usage: one row per customer × workload with entitlements or activity in
// the window (default 28 days): licensesQualified is the workload's
// entitlements, licensesActive its active users — every active user, counted
// or not, which is Partner Center's method and why active can exceed
// qualified. The figures are per customer and workload, not per product or
// channel, so those fields are null on usage rows.
//
// serviceCode and serviceName are the service family, as in Partner Center:
// every licence this system tracks is Microsoft 365 / Office, so they are
// "O365" and "Office 365" (Partner Center uses the same code, and tools
// filter on serviceCode eq 'O365'). The workload is in workloadCode and
// workloadName.
//
// channel takes the values of docs/definitions.md#figures: own (this partner), partner (another
// partner), direct (bought from Microsoft) and unknown.
//
// customerTenantId is the customer's Entra tenant id when a source gave it,
// otherwise the customer id of this API (Partner Center tools use the field
// as the customer's key, so it is never null); customerId is always the id
// of this API, as an extra field.
package analytics

import (
	"strings"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Field is a text field of a row: what filter compares and groupby groups.
type Field int

// The text fields, in the order rows show them.
const (
	CustomerTenantID Field = iota
	CustomerID
	CustomerName
	ProductID
	ProductName
	ServiceCode
	ServiceName
	Channel
	WorkloadCode
	WorkloadName
	numFields
)

var fieldNames = [numFields]string{
	"customerTenantId", "customerId", "customerName", "productId", "productName",
	"serviceCode", "serviceName", "channel", "workloadCode", "workloadName",
}

// String is the field's name in the API.
func (f Field) String() string {
	if f < 0 || f >= numFields {
		return "field(?)"
	}
	return fieldNames[f]
}

// Measure is a count of a row: summed by groupby.
type Measure int

// The counts.
const (
	LicensesDeployed Measure = iota
	LicensesSold
	LicensesActive
	LicensesQualified
	numMeasures
)

var measureNames = [numMeasures]string{"licensesDeployed", "licensesSold", "licensesActive", "licensesQualified"}

// String is the measure's name in the API.
func (m Measure) String() string {
	if m < 0 || m >= numMeasures {
		return "measure(?)"
	}
	return measureNames[m]
}

// Row is one analytics row. An empty text field is null.
type Row struct {
	values   [numFields]string
	measures [numMeasures]int
	// Processed is when the row's figures were computed (the newest of a
	// group's rows after groupby).
	Processed time.Time
}

// Value is the row's text field f ("" for null).
func (r *Row) Value(f Field) string { return r.values[f] }

// Count is the row's measure m.
func (r *Row) Count(m Measure) int { return r.measures[m] }

// Dataset is one of the two row kinds: which fields and counts its rows have.
type Dataset struct {
	// Name is the resource's last path segment: deployment or usage.
	Name     string
	Fields   []Field
	Measures []Measure
}

// Deployment is /v1/analytics/licenses/deployment.
var Deployment = &Dataset{
	Name:     "deployment",
	Fields:   []Field{CustomerTenantID, CustomerID, CustomerName, ProductID, ProductName, ServiceCode, ServiceName, Channel},
	Measures: []Measure{LicensesDeployed, LicensesSold},
}

// Usage is /v1/analytics/licenses/usage.
var Usage = &Dataset{
	Name:     "usage",
	Fields:   []Field{CustomerTenantID, CustomerID, CustomerName, ProductID, ProductName, ServiceCode, ServiceName, Channel, WorkloadCode, WorkloadName},
	Measures: []Measure{LicensesActive, LicensesQualified},
}

// field resolves a field name of the dataset, ignoring case.
func (d *Dataset) field(name string) (Field, bool) {
	for _, f := range d.Fields {
		if strings.EqualFold(fieldNames[f], name) {
			return f, true
		}
	}
	return 0, false
}

// fieldList is the dataset's field names for error messages.
func (d *Dataset) fieldList() string {
	names := make([]string, len(d.Fields))
	for i, f := range d.Fields {
		names[i] = fieldNames[f]
	}
	return strings.Join(names, ", ")
}

// The service family of every row (see the package documentation).
const (
	serviceCode = "O365"
	serviceName = "Office 365"
)

// WorkloadCodeOf is Partner Center's code of a workload: EXO, SPO, SFB,
// TEAMS, YAMMER for the standard ones, the upper-cased name otherwise.
func WorkloadCodeOf(w license.Workload) string {
	switch w {
	case license.Exchange:
		return "EXO"
	case license.SharePoint:
		return "SPO"
	case license.Skype:
		return "SFB"
	case license.Teams:
		return "TEAMS"
	case license.Yammer:
		return "YAMMER"
	}
	return strings.ToUpper(string(w))
}

// WorkloadNameOf is the workload's product name; a workload that is not
// standard keeps the name its source reported.
func WorkloadNameOf(w license.Workload) string {
	switch w {
	case license.Exchange:
		return "Exchange Online"
	case license.SharePoint:
		return "SharePoint Online" // OneDrive is counted jointly with SharePoint
	case license.Skype:
		return "Skype for Business"
	case license.Teams:
		return "Microsoft Teams"
	case license.Yammer:
		return "Yammer"
	}
	return string(w)
}

// customerRow is a row with the customer and service fields set.
func customerRow(customerID string, f *license.Figures, processed time.Time) Row {
	var r Row
	r.values[CustomerID] = customerID
	r.values[CustomerTenantID] = f.Customer.TenantID
	if r.values[CustomerTenantID] == "" {
		r.values[CustomerTenantID] = customerID
	}
	r.values[CustomerName] = f.Customer.Name
	r.values[ServiceCode] = serviceCode
	r.values[ServiceName] = serviceName
	r.Processed = processed.UTC()
	return r
}

// DeploymentRows are the deployment rows of one customer's figures,
// appended to dst (see the package documentation for the rules).
func DeploymentRows(dst []Row, customerID string, f *license.Figures, processed time.Time) []Row {
	base := customerRow(customerID, f, processed)
	for _, p := range f.Products {
		sold := [...]int{p.Sold.Own, p.Sold.Partner, p.Sold.Direct, p.Sold.Unknown}
		total := p.Sold.Total()
		if total <= 0 {
			if p.Assigned <= 0 {
				continue
			}
			r := productRow(base, p)
			r.values[Channel] = string(license.ChannelUnknown)
			r.measures[LicensesDeployed] = p.Assigned
			dst = append(dst, r)
			continue
		}
		deployed := shareOut(p.Assigned, sold[:])
		for i, ch := range license.Channels {
			if sold[i] <= 0 {
				continue
			}
			r := productRow(base, p)
			r.values[Channel] = string(ch)
			r.measures[LicensesSold] = sold[i]
			r.measures[LicensesDeployed] = deployed[i]
			dst = append(dst, r)
		}
	}
	return dst
}

func productRow(base Row, p license.ProductFigures) Row {
	base.values[ProductID] = p.SKU
	base.values[ProductName] = p.Name
	return base
}

// shareOut splits n in proportion to weights (all ≥ 0, sum > 0) by the
// largest remainder method: the parts add up to n exactly, and ties go to
// the earlier weight. Negative weights count as 0.
func shareOut(n int, weights []int) []int {
	total := 0
	for _, w := range weights {
		total += max(w, 0)
	}
	parts := make([]int, len(weights))
	if total == 0 || n <= 0 {
		return parts
	}
	rest := n
	remainders := make([]int, len(weights))
	for i, w := range weights {
		w = max(w, 0)
		parts[i] = n * w / total
		remainders[i] = n * w % total
		rest -= parts[i]
	}
	for ; rest > 0; rest-- {
		best := -1
		for i, w := range weights {
			if w <= 0 {
				continue
			}
			if best < 0 || remainders[i] > remainders[best] {
				best = i
			}
		}
		parts[best]++
		remainders[best] = -1
	}
	return parts
}

// UsageRows are the usage rows of one customer's figures in the window of
// n days, appended to dst. A customer without figures for that window has
// none.
func UsageRows(dst []Row, customerID string, f *license.Figures, n int, processed time.Time) []Row {
	w, ok := f.Window(n)
	if !ok {
		return dst
	}
	base := customerRow(customerID, f, processed)
	for _, x := range w.Workloads {
		if x.Entitlements == 0 && x.Active == 0 {
			continue
		}
		r := base
		r.values[WorkloadCode] = WorkloadCodeOf(x.Workload)
		r.values[WorkloadName] = WorkloadNameOf(x.Workload)
		r.measures[LicensesQualified] = x.Entitlements
		r.measures[LicensesActive] = x.Active
		dst = append(dst, r)
	}
	return dst
}
