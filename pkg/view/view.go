// Package view shapes figures into the JSON documents of SPEC §4.2. It is
// the one place where counts become percentages (one decimal, or null), so
// the customer view, the portfolio view and the customer list cannot
// disagree on how a figure is derived.
package view

import (
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
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

// Renewal is an upcoming renewal or lifecycle date of a subscription.
type Renewal struct {
	SubscriptionID string `json:"subscriptionId"`
	Date           string `json:"date"`
	Quantity       int    `json:"quantity"`
	Status         string `json:"status"`
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
	InDeploymentTotal bool      `json:"inDeploymentTotal"`
	Renewals          []Renewal `json:"renewals"`
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
}

// Blocks are what a customer and a portfolio share.
type Blocks struct {
	Deployment            Deployment `json:"deployment"`
	Products              []Product  `json:"products"`
	Usage                 Usage      `json:"usage"`
	Workloads             []Workload `json:"workloads"`
	InactiveLicensedUsers int        `json:"inactiveLicensedUsers"`
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
	DataFreshness   *DataFreshness           `json:"dataFreshness,omitempty"`
}

// DataFreshness says how current a customer's figures are (SPEC §8): when
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

// Waste prices unused licences where the partner configured SKU prices.
type Waste struct {
	Currency                string  `json:"currency"`
	UnassignedLicenses      int     `json:"unassignedLicenses"`
	InactiveLicensedUsers   int     `json:"inactiveLicensedUsers"`
	MonthlyUnassignedCost   float64 `json:"monthlyUnassignedCost"`
	MonthlyInactiveCost     float64 `json:"monthlyInactiveCost"`
	MonthlyPotentialSavings float64 `json:"monthlyPotentialSavings"`
	AnnualPotentialSavings  float64 `json:"annualPotentialSavings"`
	// UnpricedSKUs lists SKUs with unused licences but no configured price.
	UnpricedSKUs []string `json:"unpricedSkus"`
}

// CustomerBlocks shapes one customer's figures for window n.
func CustomerBlocks(f *license.Figures, n int) Blocks {
	w, _ := f.Window(n)
	b := blocks(f.Deployment(), f.Products, w)
	return b
}

// PortfolioBlocks shapes a portfolio's figures for window n.
func PortfolioBlocks(p *license.Portfolio, n int) Blocks {
	w, _ := p.Window(n)
	return blocks(p.Deployment(), p.Products, w)
}

func blocks(d license.Deployment, products []license.ProductFigures, w license.WindowFigures) Blocks {
	b := Blocks{
		Deployment: Deployment{
			LicensesSold:     d.Sold.Total(),
			LicensesAssigned: d.Assigned,
			Percent:          license.Percent(d.Assigned, d.Sold.Total()),
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
			Renewals:          make([]Renewal, 0, len(p.Renewals)),
		}
		if p.Counted {
			b.Deployment.Unassigned += vp.Unassigned
		}
		for _, r := range p.Renewals {
			vp.Renewals = append(vp.Renewals, Renewal{r.SubscriptionID, r.Date.String(), r.Quantity, string(r.Status)})
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
		})
	}
	return b
}

// Headline is a customer's figures in the customer list and the portfolio's
// ranked lists (SPEC §4.2).
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
	unassigned := 0
	for _, p := range f.Products {
		if p.Counted {
			unassigned += p.Unassigned()
		}
	}
	return Headline{
		CustomerID:         f.Customer.ID,
		CustomerName:       f.Customer.Name,
		ReportDate:         f.ReportDate.String(),
		UsagePercent:       license.Percent(u.Active, u.Entitlements),
		DeploymentPercent:  license.Percent(d.Assigned, d.Sold.Total()),
		LicensesSold:       d.Sold.Total(),
		LicensesAssigned:   d.Assigned,
		Unassigned:         unassigned,
		Entitlements:       u.Entitlements,
		ActiveEntitlements: u.Active,
		Band:               string(f.Band()),
	}
}

// Page is every list's envelope.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// WasteOf prices a customer's unassigned licences (counted SKUs) and its
// inactive licensed users for window n. Inactive users are priced at the
// cheapest entitled SKU they could hold — a user's SKU is not in the
// figures, so the estimate stays on the safe (lower) side. Nil when no SKU
// of the customer has a price.
func WasteOf(f *license.Figures, n int, prices map[string]float64, currency string) *Waste {
	if len(prices) == 0 {
		return nil
	}
	w, _ := f.Window(n)
	out := &Waste{Currency: currency, InactiveLicensedUsers: w.InactiveLicensedUsers, UnpricedSKUs: []string{}}
	cheapest := -1.0
	priced := false
	for _, p := range f.Products {
		price, ok := prices[p.SKU]
		if !p.Counted {
			continue
		}
		if ok {
			priced = true
			if cheapest < 0 || price < cheapest {
				cheapest = price
			}
		}
		un := p.Unassigned()
		out.UnassignedLicenses += un
		if un == 0 {
			continue
		}
		if !ok {
			out.UnpricedSKUs = append(out.UnpricedSKUs, p.SKU)
			continue
		}
		out.MonthlyUnassignedCost += float64(un) * price
	}
	if !priced {
		return nil
	}
	out.MonthlyInactiveCost = float64(w.InactiveLicensedUsers) * cheapest
	out.MonthlyUnassignedCost = money(out.MonthlyUnassignedCost)
	out.MonthlyInactiveCost = money(out.MonthlyInactiveCost)
	out.MonthlyPotentialSavings = money(out.MonthlyUnassignedCost + out.MonthlyInactiveCost)
	out.AnnualPotentialSavings = money(out.MonthlyPotentialSavings * 12)
	return out
}

func money(v float64) float64 {
	if v < 0 {
		return 0
	}
	return float64(int64(v*100+0.5)) / 100
}
