package license

import "strings"

// ExcludedReason says why a product takes no part in the figures.
type ExcludedReason string

// The reasons of docs/definitions.md#excluded-products.
const (
	// ExcludedFree: on DefaultExcludedSKUs, Microsoft's free, viral and
	// self-service trial SKUs and capacity add-ons.
	ExcludedFree ExcludedReason = "free"
	// ExcludedCompany: Graph's subscribedSkus marks it appliesTo Company, a
	// tenant-level capacity, not a per-user licence.
	ExcludedCompany ExcludedReason = "company"
	// ExcludedConfigured: the partner listed it in EXCLUDED_SKUS.
	ExcludedConfigured ExcludedReason = "configured"
)

// DefaultExcludedSKUs is the default list of free, viral and self-service
// trial SKUs and capacity add-ons (docs/definitions.md#excluded-products): a tenant holds Power Automate Free with
// 10,000 units, which is no sale, so counting it would read deployment at
// 0.1 % and ask to reclaim 9,996 free licences.
var DefaultExcludedSKUs = []string{
	"SMB_APPS", "FLOW_FREE", "TEAMS_FREE", "POWER_BI_STANDARD", "DYN365_AI_SERVICE_INSIGHTS",
	"FORMS_PRO", "DYN365_ENTERPRISE_P1_IW", "AX7_USER_TRIAL", "POWERAPPS_VIRAL", "MS_TEAMS_IW",
	"CCIBOTS_PRIVPREV_VIRAL", "STREAM", "WINDOWS_STORE", "TEAMS_EXPLORATORY", "RIGHTSMANAGEMENT_ADHOC",
	"RMSBASIC", "POWERAPPS_DEV", "PROJECT_MADEIRA_PREVIEW_IW_SKU", "Dynamics_365_Sales_Premium_Viral_Trial",
	"Power_Pages_vTrial_for_Makers", "D365_SALES_PRO_IW", "SPZA_IW", "POWERAPPS_INDIVIDUAL_USER",
	"SHAREPOINTSTORAGE", "SHAREPOINTSTORAGE_GOV", "MCOPSTNC",
}

// Exclusions decides which products are excluded: DefaultExcludedSKUs,
// plus the partner's EXCLUDED_SKUS, minus its INCLUDED_SKUS, plus any SKU a
// subscription marks Company (unless INCLUDED_SKUS lists it). Part numbers
// compare case-insensitively. The zero Exclusions and nil are the defaults.
type Exclusions struct {
	added   map[string]bool // upper-cased EXCLUDED_SKUS
	removed map[string]bool // upper-cased INCLUDED_SKUS
}

// NewExclusions is the defaults with the partner's additions and removals.
func NewExclusions(excluded, included []string) *Exclusions {
	e := &Exclusions{added: map[string]bool{}, removed: map[string]bool{}}
	for _, s := range excluded {
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			e.added[s] = true
		}
	}
	for _, s := range included {
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			e.removed[s] = true
		}
	}
	return e
}

var defaultExcluded = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range DefaultExcludedSKUs {
		m[strings.ToUpper(s)] = true
	}
	return m
}()

// Reason is why sku is excluded, "" when it is not; company says a
// subscription of the customer marks it appliesTo Company.
func (e *Exclusions) Reason(sku string, company bool) ExcludedReason {
	k := strings.ToUpper(sku)
	if e != nil && e.removed[k] {
		return ""
	}
	switch {
	case e != nil && e.added[k]:
		return ExcludedConfigured
	case defaultExcluded[k]:
		return ExcludedFree
	case company:
		return ExcludedCompany
	}
	return ""
}

// ExcludedProduct is a product listed apart from the figures (docs/definitions.md#figures).
type ExcludedProduct struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
	// Quantity is Σ quantity of the SKU's active subscriptions (trials
	// included: a viral trial's units are what the customer holds).
	Quantity int `json:"quantity"`
	// Assigned is the number of non-deleted users holding it.
	Assigned int            `json:"assigned"`
	Reason   ExcludedReason `json:"reason"`
}
