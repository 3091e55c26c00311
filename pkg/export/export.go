// Package export writes the CSV datasets of docs/definitions.md#exports — users, customers,
// subscriptions — from the store to an io.Writer, one row at a time: memory
// stays flat whatever the number of rows, so the same code serves a
// ten-user customer and a million-user portfolio.
//
// The files are RFC 4180 CSV (header row, comma separated, fields quoted
// when they hold a comma, quote, line break, ';' or tab or start or end
// with a space, CRLF line ends), UTF-8 without a byte order mark. Every text cell that comes from data goes
// through Neutralise, so no cell starts a spreadsheet formula. The column
// order of each dataset is fixed and documented in README.md next to this
// file; it only ever grows at the end.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// Dataset is what an export contains.
type Dataset string

// The datasets of docs/definitions.md#exports.
const (
	Users         Dataset = "users"         // one row per user per customer
	Customers     Dataset = "customers"     // one row per customer, headline figures
	Subscriptions Dataset = "subscriptions" // one row per subscription per customer
)

// Datasets lists every dataset.
var Datasets = []Dataset{Users, Customers, Subscriptions, Reclaim}

// Valid reports whether d is one of Datasets.
func (d Dataset) Valid() bool { return slices.Contains(Datasets, d) }

// Reader is what an export reads. *store.Store is one; the interface is
// here so that the CSV can be tested row by row without a database.
type Reader interface {
	// EachCustomerID calls fn with every customer id of the tenant, in
	// name order.
	EachCustomerID(ctx context.Context, t license.Tenant, fn func(customerID string) error) error
	// Figures is the customer's FIGURES item (store.ErrNotFound if none).
	Figures(ctx context.Context, t license.Tenant, customerID string) (*store.CustomerFigures, error)
	// GenerationUsers streams one generation's user rows.
	GenerationUsers(ctx context.Context, t license.Tenant, customerID string, gen int64, shards int, fn func(store.UserRow) error) error
	// Subscriptions is the customer's combined subscriptions.
	Subscriptions(ctx context.Context, t license.Tenant, customerID string) ([]license.Subscription, error)
}

// Request says what to export.
type Request struct {
	Tenant  license.Tenant
	Dataset Dataset
	// CustomerID limits the export to one customer; "" is every customer
	// of the tenant, in name order.
	CustomerID string
	// CopilotHabitualDays is COPILOT_HABITUAL_DAYS (0: the default).
	CopilotHabitualDays int
	// Prices price the reclaim dataset (nil: no money); ReclaimDays is its
	// horizon (0: 30).
	Prices      *license.PriceList
	ReclaimDays int
}

// Result counts what was written.
type Result struct {
	Rows      int64 // data rows, the header not included
	Customers int   // customers with figures that the export covered
}

// ErrCustomerNotFound: the one customer asked for has no figures (or is
// another tenant's, which is the same thing).
var ErrCustomerNotFound = errors.New("customer not found")

// Write writes the requested dataset as CSV to w. On error what was
// written is incomplete and must be thrown away; store.ErrGenerationChanged
// means a customer's users were replaced by an ingest while they were read,
// and the export can simply be run again.
func Write(ctx context.Context, r Reader, req Request, w io.Writer) (Result, error) {
	if !req.Tenant.Valid() {
		return Result{}, license.ErrNoTenant
	}
	if req.CustomerID != "" {
		if err := license.ValidCustomerID(req.CustomerID); err != nil {
			return Result{}, err
		}
	}
	e := &exporter{ctx: ctx, r: r, req: req, csv: newCSVWriter(w)}
	var err error
	switch req.Dataset {
	case Users:
		err = e.users()
	case Customers:
		err = e.customers()
	case Subscriptions:
		err = e.subscriptions()
	case Reclaim:
		err = e.reclaim()
	default:
		err = fmt.Errorf("dataset %q is not one of users, customers, subscriptions, reclaim", req.Dataset)
	}
	if err == nil {
		e.csv.Flush()
		err = e.csv.Error()
	}
	return e.res, err
}

type exporter struct {
	ctx context.Context
	r   Reader
	req Request
	csv *csvWriter
	res Result
}

// eachCustomer calls fn with the figures of every customer the request
// covers. For the whole tenant, a customer listed but without figures (the
// index is eventually consistent) is skipped; for one customer it is
// ErrCustomerNotFound.
func (e *exporter) eachCustomer(fn func(id string, f *store.CustomerFigures) error) error {
	visit := func(id string) error {
		f, err := e.r.Figures(e.ctx, e.req.Tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			if e.req.CustomerID != "" {
				return fmt.Errorf("%w: %q", ErrCustomerNotFound, id)
			}
			return nil
		}
		if err != nil {
			return err
		}
		e.res.Customers++
		return fn(id, f)
	}
	if e.req.CustomerID != "" {
		return visit(e.req.CustomerID)
	}
	return e.r.EachCustomerID(e.ctx, e.req.Tenant, visit)
}

// write writes one record; the CSV writer buffers, so errors of the
// underlying writer surface here a few kilobytes late, which is fine.
func (e *exporter) write(record []string) error {
	if err := e.csv.Write(record); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// Cell formatting of values this package writes itself: they never need
// neutralising.
func boolCell(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func intCell(n int) string { return strconv.Itoa(n) }

// percentCell is a percentage with one decimal, or an empty cell for an
// unknown figure (no denominator).
func percentCell(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

// neutralised applies Neutralise to every cell of a header.
func neutralised(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = Neutralise(c)
	}
	return out
}

// --- customers ---------------------------------------------------------

// CustomersHeader is the customers dataset's header.
var CustomersHeader = []string{
	"customerId", "customerName", "customerTenantId", "reportDate", "windowDays", "band", "users",
	"licensesSold", "soldOwn", "soldPartner", "soldDirect", "soldUnknown",
	"licensesAssigned", "unassigned", "deploymentPercent",
	"entitlements", "activeEntitlements", "countedActiveEntitlements",
	"usagePercent", "adjustedUsagePercent", "inactiveLicensedUsers",
	// docs/definitions.md#copilot, appended: see CopilotHeader.
	CopilotHeader[0], CopilotHeader[1], CopilotHeader[2], CopilotHeader[3], CopilotHeader[4],
	CopilotHeader[5], CopilotHeader[6], CopilotHeader[7], CopilotHeader[8], CopilotHeader[9],
}

func (e *exporter) customers() error {
	if err := e.write(CustomersHeader); err != nil {
		return err
	}
	record := make([]string, len(CustomersHeader))
	return e.eachCustomer(func(id string, cf *store.CustomerFigures) error {
		f := &cf.Figures
		h := view.HeadlineOf(f)
		b := view.CustomerBlocks(f, license.DefaultWindow)
		record = append(record[:0],
			Neutralise(id), Neutralise(f.Customer.Name), Neutralise(f.Customer.TenantID),
			f.ReportDate.String(), intCell(license.DefaultWindow), h.Band, intCell(cf.Users),
			intCell(h.LicensesSold), intCell(b.Deployment.SoldByChannel.Own), intCell(b.Deployment.SoldByChannel.Partner),
			intCell(b.Deployment.SoldByChannel.Direct), intCell(b.Deployment.SoldByChannel.Unknown),
			intCell(h.LicensesAssigned), intCell(h.Unassigned), percentCell(h.DeploymentPercent),
			intCell(h.Entitlements), intCell(h.ActiveEntitlements), intCell(b.Usage.CountedActiveEntitlement),
			percentCell(h.UsagePercent), percentCell(b.Usage.AdjustedPercent), intCell(b.InactiveLicensedUsers),
		)
		record = append(record, copilotCells(f.Copilot, e.req.CopilotHabitualDays)...)
		e.res.Rows++
		return e.write(record)
	})
}

// --- subscriptions -----------------------------------------------------

// SubscriptionsHeader is the subscriptions dataset's header.
var SubscriptionsHeader = []string{
	"customerId", "customerName", "reportDate", "subscriptionId", "sku", "productName",
	"quantity", "status", "trial", "channel", "counted", "renewalDate",
}

func (e *exporter) subscriptions() error {
	if err := e.write(SubscriptionsHeader); err != nil {
		return err
	}
	record := make([]string, len(SubscriptionsHeader))
	return e.eachCustomer(func(id string, cf *store.CustomerFigures) error {
		subs, err := e.r.Subscriptions(e.ctx, e.req.Tenant, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		name, date := Neutralise(cf.Figures.Customer.Name), cf.Figures.ReportDate.String()
		for _, s := range subs {
			record = append(record[:0],
				Neutralise(id), name, date, Neutralise(s.ID), Neutralise(s.SKU), Neutralise(s.Name),
				intCell(s.Quantity), Neutralise(string(s.Status)), boolCell(s.Trial), Neutralise(string(s.Channel)),
				boolCell(s.Counted()), s.RenewalDate.String(),
			)
			e.res.Rows++
			if err := e.write(record); err != nil {
				return err
			}
		}
		return nil
	})
}

// --- users -------------------------------------------------------------

// UsersFixedHeader are the users dataset's first columns (docs/definitions.md#exports); the
// workload columns follow (UsersHeader).
var UsersFixedHeader = []string{
	"customerId", "customerName", "reportDate", "userKey", "displayName", "deleted", "assignedSkus", "entitled",
}

// UsersHeader is the users dataset's header for the given workloads: the
// fixed columns, then <w>Licensed, <w>LastActivity, <w>Active per workload.
func UsersHeader(workloads []license.Workload) []string {
	h := slices.Clone(UsersFixedHeader)
	for _, w := range workloads {
		h = append(h, string(w)+"Licensed", string(w)+"LastActivity", string(w)+"Active")
	}
	return neutralised(h)
}

// addExtraWorkloads adds the workloads beyond the standard five that f
// lists to extras. The figures list every workload the customer's users
// report (the engine numbers them just so), which is what lets the users
// header be written before the first user is read: the five standard
// workloads always, in license.StandardWorkloads order, then every further
// workload any exported customer has, in name order.
func addExtraWorkloads(extras []license.Workload, f *license.Figures) []license.Workload {
	for _, w := range f.Windows {
		for _, x := range w.Workloads {
			n := license.NormalizeWorkload(string(x.Workload))
			if n != "" && !slices.Contains(license.StandardWorkloads, n) && !slices.Contains(extras, n) {
				extras = append(extras, n)
			}
		}
	}
	return extras
}

func (e *exporter) users() error {
	// Pass 1 (FIGURES only): the workload columns over every customer.
	var extras []license.Workload
	if err := e.eachCustomer(func(_ string, cf *store.CustomerFigures) error {
		extras = addExtraWorkloads(extras, &cf.Figures)
		return nil
	}); err != nil {
		return err
	}
	slices.Sort(extras)
	workloads := append(slices.Clone(license.StandardWorkloads), extras...)
	if err := e.write(UsersHeader(workloads)); err != nil {
		return err
	}
	e.res.Customers = 0

	// Pass 2: each customer's current users. The figures are read again
	// right before the users, so the window in which an ingest can replace
	// the generation is one customer's read, not the whole export's.
	rows := newUserRows(workloads)
	return e.eachCustomer(func(id string, cf *store.CustomerFigures) error {
		for _, w := range addExtraWorkloads(nil, &cf.Figures) {
			if _, ok := rows.column[w]; !ok {
				return fmt.Errorf("%w: customer %s gained workload %q after the header was written", store.ErrGenerationChanged, id, w)
			}
		}
		rows.customer(id, &cf.Figures)
		err := e.r.GenerationUsers(e.ctx, e.req.Tenant, id, cf.Generation, cf.Shards, func(u store.UserRow) error {
			record, err := rows.record(&u)
			if err != nil {
				return fmt.Errorf("customer %s: %w", id, err)
			}
			e.res.Rows++
			return e.write(record)
		})
		if err != nil {
			return err
		}
		// A generation is deleted after the next ingest flips away from
		// it: if that happened during the read, rows may be missing.
		after, err := e.r.Figures(e.ctx, e.req.Tenant, id)
		if err != nil {
			return err
		}
		if after.Generation != cf.Generation {
			return fmt.Errorf("%w: customer %s, generation %d was replaced by %d while it was read", store.ErrGenerationChanged, id, cf.Generation, after.Generation)
		}
		return nil
	})
}

// userRows formats user rows into one reused record, so that a million
// users cost a million small strings, not a million slices.
type userRows struct {
	workloads []license.Workload
	column    map[license.Workload]int
	buf       []string
	licensed  []bool
	last      []license.Date
	// per customer
	customerID, customerName, reportDate string
	date                                 license.Date
	skus                                 strings.Builder
}

func newUserRows(workloads []license.Workload) *userRows {
	r := &userRows{
		workloads: workloads,
		column:    make(map[license.Workload]int, len(workloads)),
		buf:       make([]string, len(UsersFixedHeader)+3*len(workloads)),
		licensed:  make([]bool, len(workloads)),
		last:      make([]license.Date, len(workloads)),
	}
	for i, w := range workloads {
		r.column[w] = i
	}
	return r
}

func (r *userRows) customer(id string, f *license.Figures) {
	r.customerID, r.customerName = Neutralise(id), Neutralise(f.Customer.Name)
	r.date, r.reportDate = f.ReportDate, f.ReportDate.String()
}

// record is the CSV record of one user. Workload entries are merged by
// their normalised name (OneDrive into SharePoint: licensed if either is,
// the later activity wins), as the figures count them.
func (r *userRows) record(row *store.UserRow) ([]string, error) {
	u := &row.User
	clear(r.licensed)
	clear(r.last)
	for _, use := range u.Workloads {
		w := license.NormalizeWorkload(string(use.Workload))
		if w == "" {
			continue // counted nowhere by the engine either
		}
		c, ok := r.column[w]
		if !ok {
			return nil, fmt.Errorf("user %q has workload %q that the customer's figures do not list", u.Key, w)
		}
		r.licensed[c] = r.licensed[c] || use.Licensed
		r.last[c] = max(r.last[c], use.LastActivity)
	}
	r.skus.Reset()
	for i, l := range u.Licenses {
		if i > 0 {
			r.skus.WriteByte(';')
		}
		r.skus.WriteString(l.SKU)
	}
	rec := r.buf
	rec[0], rec[1], rec[2] = r.customerID, r.customerName, r.reportDate
	rec[3], rec[4] = Neutralise(u.Key), Neutralise(u.DisplayName)
	rec[5], rec[6], rec[7] = boolCell(u.Deleted), Neutralise(r.skus.String()), boolCell(row.Entitled)
	for c := range r.workloads {
		i := len(UsersFixedHeader) + 3*c
		rec[i] = boolCell(r.licensed[c])
		rec[i+1] = r.last[c].String()
		rec[i+2] = boolCell(license.Active(r.last[c], r.date, license.DefaultWindow))
	}
	return rec, nil
}
