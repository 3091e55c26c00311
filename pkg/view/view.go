// Package view shapes figures into the JSON documents of docs/definitions.md#insights-and-portfolio. It is
// the one place where counts become percentages (one decimal, or null), so
// the customer view, the portfolio view and the customer list cannot
// disagree on how a figure is derived.
package view

import (
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// SoldByChannel is sold capacity split by channel.
type SoldByChannel struct {
	Own     int `json:"own"`
	Partner int `json:"partner"`
	Direct  int `json:"direct"`
	Unknown int `json:"unknown"`
}

func soldByChannel(c license.ChannelCounts) SoldByChannel {
	return SoldByChannel{c.Own, c.Partner, c.Direct, c.Unknown}
}

// Deployment is the overall deployment block.
type Deployment struct {
	LicensesSold     int           `json:"licensesSold"`
	LicensesAssigned int           `json:"licensesAssigned"`
	Percent          *float64      `json:"percent"`
	Unassigned       int           `json:"unassigned"`
	SoldByChannel    SoldByChannel `json:"soldByChannel"`
}

// Renewal is an upcoming renewal or lifecycle date of a subscription
// (docs/definitions.md#renewals); the Partner Center details only where it gave them.
type Renewal struct {
	SubscriptionID   string `json:"subscriptionId"`
	Kind             string `json:"kind"`
	Date             string `json:"date"`
	DaysLeft         int    `json:"daysLeft"`
	Quantity         int    `json:"quantity"`
	Status           string `json:"status"`
	AutoRenew        *bool  `json:"autoRenew,omitempty"`
	TermDuration     string `json:"termDuration,omitempty"`
	BillingCycle     string `json:"billingCycle,omitempty"`
	CancellableUntil string `json:"cancellableUntil,omitempty"`
}

// renewalOf shapes r as of report date d. Figures stored before SPEC
// version 2 carry no kind: an active renewal renews, any other lapses.
func renewalOf(r license.Renewal, d license.Date) Renewal {
	kind := r.Kind
	if kind == "" {
		kind = license.RenewalLapses
		if r.Status == license.StatusActive {
			kind = license.RenewalRenews
		}
	}
	return Renewal{
		SubscriptionID: r.SubscriptionID, Kind: string(kind), Date: r.Date.String(), DaysLeft: int(r.Date - d),
		Quantity: r.Quantity, Status: string(r.Status), AutoRenew: r.AutoRenew, TermDuration: r.TermDuration,
		BillingCycle: r.BillingCycle, CancellableUntil: r.CancellableUntil.String(),
	}
}

// Product is one SKU's deployment.
type Product struct {
	SKU               string        `json:"sku"`
	Name              string        `json:"name"`
	LicensesSold      int           `json:"licensesSold"`
	SoldByChannel     SoldByChannel `json:"soldByChannel"`
	LicensesAssigned  int           `json:"licensesAssigned"`
	DeploymentPercent *float64      `json:"deploymentPercent"`
	Unassigned        int           `json:"unassigned"`
	// InDeploymentTotal says whether the SKU has counted capacity and so
	// enters the overall deployment figure (trial-only or lapsed SKUs do not).
	InDeploymentTotal bool `json:"inDeploymentTotal"`
	// UnknownProduct: held under a name neither the catalogue nor the
	// customer's own SKUs know (docs/definitions.md#subscriptions-and-products).
	UnknownProduct bool      `json:"unknownProduct"`
	Renewals       []Renewal `json:"renewals"`
}

// Usage is the overall usage block: sums over workloads.
type Usage struct {
	Entitlements             int      `json:"entitlements"`
	ActiveEntitlements       int      `json:"activeEntitlements"`
	CountedActiveEntitlement int      `json:"countedActiveEntitlements"`
	Percent                  *float64 `json:"percent"`
	AdjustedPercent          *float64 `json:"adjustedPercent"`
}

// Uncounted is active use outside the counted entitlements, by cause: the
// explanation of any usage above 100 %.
type Uncounted struct {
	FormerLicensee       int `json:"formerLicensee"`
	Unlicensed           int `json:"unlicensed"`
	Trial                int `json:"trial"`
	InactiveSubscription int `json:"inactiveSubscription"`
}

// Workload is one workload's usage.
type Workload struct {
	Workload                  string    `json:"workload"`
	Entitlements              int       `json:"entitlements"`
	ActiveEntitlements        int       `json:"activeEntitlements"`
	CountedActiveEntitlements int       `json:"countedActiveEntitlements"`
	UsagePercent              *float64  `json:"usagePercent"`
	AdjustedUsagePercent      *float64  `json:"adjustedUsagePercent"`
	UncountedActive           Uncounted `json:"uncountedActive"`
	// Retired: reported, but out of overall usage, bands, ranked lists and
	// recommendations (RETIRED_WORKLOADS, docs/definitions.md#entitlements-and-usage).
	Retired bool `json:"retired"`
}

// Blocks are what a customer and a portfolio share.
type Blocks struct {
	Deployment            Deployment `json:"deployment"`
	Products              []Product  `json:"products"`
	Usage                 Usage      `json:"usage"`
	Workloads             []Workload `json:"workloads"`
	InactiveLicensedUsers int        `json:"inactiveLicensedUsers"`
	// ExcludedProducts are listed apart: free, viral and company-level
	// SKUs that take no part in any figure above (docs/definitions.md#figures).
	ExcludedProducts []ExcludedProduct `json:"excludedProducts"`
}

// ExcludedProduct is a product that takes no part in the figures, and why.
type ExcludedProduct struct {
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity int    `json:"quantity"`
	Assigned int    `json:"assigned"`
	Reason   string `json:"reason"`
}

func excludedProducts(list []license.ExcludedProduct) []ExcludedProduct {
	out := make([]ExcludedProduct, 0, len(list))
	for _, x := range list {
		out = append(out, ExcludedProduct{x.SKU, x.Name, x.Quantity, x.Assigned, string(x.Reason)})
	}
	return out
}

// Insights is GET /v1/customers/{id}/insights.
type Insights struct {
	CustomerID     string `json:"customerId"`
	CustomerName   string `json:"customerName"`
	CustomerTenant string `json:"customerTenantId,omitempty"`
	ReportDate     string `json:"reportDate"`
	WindowDays     int    `json:"windowDays"`
	Band           string `json:"band"`
	Blocks
	Waste           *Waste                   `json:"waste,omitempty"`
	Recommendations []license.Recommendation `json:"recommendations"`
	// Copilot is the Copilot adoption block (docs/definitions.md#copilot), absent for a
	// customer without Copilot seats or report.
	Copilot       *Copilot       `json:"copilot,omitempty"`
	DataFreshness *DataFreshness `json:"dataFreshness,omitempty"`
	// Reclaim is the customer's reclaim calendar for the window, with
	// the default horizon (docs/definitions.md#the-reclaim-calendar).
	Reclaim *license.Reclaim `json:"reclaim,omitempty"`
}

// DataFreshness says how current a customer's figures are (docs/definitions.md#collection-from-microsoft): when
// the connector last collected the customer (null when it never did), and
// the report date of each current source document.
type DataFreshness struct {
	LastCollectedAt *time.Time    `json:"lastCollectedAt"`
	CollectionID    *string       `json:"collectionId"`
	ConcealedNames  *bool         `json:"concealedNames"`
	Sources         []SourceDates `json:"sources"`
}

// SourceDates is one current source document.
type SourceDates struct {
	Kind       string    `json:"kind"`
	ReportDate *string   `json:"reportDate"`
	AcceptedAt time.Time `json:"acceptedAt"`
}

// Waste is the money view of unused licences (license.WasteOf).
type Waste = license.Waste

// CustomerBlocks shapes one customer's figures for window n.
func CustomerBlocks(f *license.Figures, n int) Blocks {
	w, _ := f.Window(n)
	b := blocks(f.Deployment(), f.Products, w, f.ReportDate)
	b.ExcludedProducts = excludedProducts(f.Excluded)
	return b
}

// PortfolioBlocks shapes a portfolio's figures for window n.
func PortfolioBlocks(p *license.Portfolio, n int) Blocks {
	w, _ := p.Window(n)
	b := blocks(p.Deployment(), p.Products, w, license.NoDate)
	b.ExcludedProducts = excludedProducts(p.Excluded)
	return b
}

func blocks(d license.Deployment, products []license.ProductFigures, w license.WindowFigures, reportDate license.Date) Blocks {
	b := Blocks{
		Deployment: Deployment{
			LicensesSold:     d.Sold.Total(),
			LicensesAssigned: d.Assigned,
			Percent:          license.Percent(d.Assigned, d.Sold.Total()),
			Unassigned:       d.Unassigned,
			SoldByChannel:    soldByChannel(d.Sold),
		},
		Products:              make([]Product, 0, len(products)),
		Workloads:             make([]Workload, 0, len(w.Workloads)),
		InactiveLicensedUsers: w.InactiveLicensedUsers,
	}
	for _, p := range products {
		vp := Product{
			SKU:               p.SKU,
			Name:              p.Name,
			LicensesSold:      p.Sold.Total(),
			SoldByChannel:     soldByChannel(p.Sold),
			LicensesAssigned:  p.Assigned,
			DeploymentPercent: license.Percent(p.Assigned, p.Sold.Total()),
			Unassigned:        p.Unassigned(),
			InDeploymentTotal: p.Counted,
			UnknownProduct:    p.UnknownProduct,
			Renewals:          make([]Renewal, 0, len(p.Renewals)),
		}
		for _, r := range p.Renewals {
			// Stored figures of version 1 may hold dates before D or
			// subscriptions that can no longer renew: never listed.
			if r.Date < reportDate || (r.Status != license.StatusActive && r.Status != license.StatusGrace && r.Status != license.StatusDisabled) {
				continue
			}
			vp.Renewals = append(vp.Renewals, renewalOf(r, reportDate))
		}
		b.Products = append(b.Products, vp)
	}
	u := w.Usage()
	b.Usage = Usage{
		Entitlements:             u.Entitlements,
		ActiveEntitlements:       u.Active,
		CountedActiveEntitlement: u.CountedActive,
		Percent:                  license.Percent(u.Active, u.Entitlements),
		AdjustedPercent:          license.Percent(u.CountedActive, u.Entitlements),
	}
	for _, x := range w.Workloads {
		b.Workloads = append(b.Workloads, Workload{
			Workload:                  string(x.Workload),
			Entitlements:              x.Entitlements,
			ActiveEntitlements:        x.Active,
			CountedActiveEntitlements: x.CountedActive,
			UsagePercent:              license.Percent(x.Active, x.Entitlements),
			AdjustedUsagePercent:      license.Percent(x.CountedActive, x.Entitlements),
			UncountedActive:           Uncounted(x.Uncounted),
			Retired:                   x.Retired,
		})
	}
	return b
}

// Headline is a customer's figures in the customer list and the portfolio's
// ranked lists (docs/definitions.md#insights-and-portfolio).
type Headline struct {
	CustomerID         string   `json:"customerId"`
	CustomerName       string   `json:"customerName"`
	ReportDate         string   `json:"reportDate"`
	UsagePercent       *float64 `json:"usagePercent"`
	DeploymentPercent  *float64 `json:"deploymentPercent"`
	LicensesSold       int      `json:"licensesSold"`
	LicensesAssigned   int      `json:"licensesAssigned"`
	Unassigned         int      `json:"unassigned"`
	Entitlements       int      `json:"entitlements"`
	ActiveEntitlements int      `json:"activeEntitlements"`
	Band               string   `json:"band"`
}

// HeadlineOf is the headline of a customer's figures for the default window.
func HeadlineOf(f *license.Figures) Headline {
	d := f.Deployment()
	w, _ := f.Window(license.DefaultWindow)
	u := w.Usage()
	return Headline{
		CustomerID:         f.Customer.ID,
		CustomerName:       f.Customer.Name,
		ReportDate:         f.ReportDate.String(),
		UsagePercent:       license.Percent(u.Active, u.Entitlements),
		DeploymentPercent:  license.Percent(d.Assigned, d.Sold.Total()),
		LicensesSold:       d.Sold.Total(),
		LicensesAssigned:   d.Assigned,
		Unassigned:         d.Unassigned,
		Entitlements:       u.Entitlements,
		ActiveEntitlements: u.Active,
		Band:               string(f.Band()),
	}
}

// SummaryHeadline is the headline of a customer's stored summary (its list
// and ranked-list entry): the same figures as HeadlineOf, made from the
// summary's counts, so that a list never reads the whole figures item.
func SummaryHeadline(s store.Summary) Headline {
	usage := license.Percent(s.ActiveEntitlements, s.Entitlements)
	band := license.Band(s.Band)
	if !band.Valid() {
		band = license.BandOf(usage)
	}
	return Headline{
		CustomerID:         s.CustomerID,
		CustomerName:       s.CustomerName,
		ReportDate:         s.ReportDate.String(),
		UsagePercent:       usage,
		DeploymentPercent:  license.Percent(s.Assigned, s.Sold),
		LicensesSold:       s.Sold,
		LicensesAssigned:   s.Assigned,
		Unassigned:         s.Unassigned,
		Entitlements:       s.Entitlements,
		ActiveEntitlements: s.ActiveEntitlements,
		Band:               string(band),
	}
}

// Page is every list's envelope.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}
