// Package config reads the product's settings from environment variables,
// each with a documented default (README "Configuration"). Every function
// reads the same Config, so a threshold means the same thing everywhere.
package config

import (
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"strconv"
	"strings"
	"time"
)

// Config holds every tunable of License Insights.
type Config struct {
	// Getenv is where the configuration was read (FromEnv's getenv), for
	// settings other packages read themselves (the Microsoft connection,
	// pkg/collect); nil means os.Getenv.
	Getenv func(string) string

	// PartnerTenantID is the partner's own Entra tenant id: directory
	// subscriptions it owns are channel "own". PARTNER_TENANT_ID.
	PartnerTenantID string

	// Thresholds of the recommendations (percentages).
	LowUsagePercent         float64 // LOW_USAGE_PERCENT, default 50: below → low adoption
	LowDeploymentPercent    float64 // LOW_DEPLOYMENT_PERCENT, default 70: below → low deployment
	UpsellDeploymentPercent float64 // UPSELL_DEPLOYMENT_PERCENT, default 90: at or above, with usage ↓
	UpsellUsagePercent      float64 // UPSELL_USAGE_PERCENT, default 80
	TrendPoints             float64 // TREND_POINTS, default 10: usage change (points) against 28 days before
	HowToTicketsPer100Users float64 // HOWTO_TICKETS_PER_100_USERS, default 10
	MinUnassigned           int     // RECLAIM_MIN_LICENSES, default 1: unassigned/inactive licences worth a reclaim
	RenewalDays             int     // RENEWAL_DAYS, default 30

	// ExcludedSKUs add part numbers to the excluded products (docs/definitions.md#figures),
	// EXCLUDED_SKUS="SKU,SKU"; IncludedSKUs take them off, INCLUDED_SKUS.
	ExcludedSKUs []string
	IncludedSKUs []string
	// RetiredWorkloads are reported per workload but out of every overall
	// figure (docs/definitions.md#entitlements-and-usage): RETIRED_WORKLOADS="skype" (the default);
	// "none" retires none.
	RetiredWorkloads []string

	// SKUMonthlyPrices prices a licence per month, for waste in money.
	// SKU_MONTHLY_PRICES="SPE_E3=36.00,O365_BUSINESS_PREMIUM=12.50".
	SKUMonthlyPrices map[string]float64
	// Currency of the prices, CURRENCY, default USD.
	Currency string

	// ExportLink is the requested lifetime of export download links,
	// EXPORT_LINK_SECONDS, default 3600.
	ExportLink time.Duration
	// UploadLink is the lifetime of presigned upload URLs,
	// UPLOAD_LINK_SECONDS, default 900 (at most 900).
	UploadLink time.Duration

	// CopilotHabitualDays is COPILOT_HABITUAL_DAYS (1–28; 0 means the
	// default, 10): Copilot use on at least this many of the last 28 days
	// is habitual. Read it through CopilotHabitual.
	CopilotHabitualDays int

	// The authorizer's token rules: OIDC_ISSUER, OIDC_AUDIENCE and
	// TENANT_CLAIM (the authorizer checks them and defaults the claim).
	OIDCIssuer, OIDCAudience, TenantClaim string
}

// Default is the configuration with every default.
func Default() Config {
	return Config{
		LowUsagePercent:         50,
		LowDeploymentPercent:    70,
		UpsellDeploymentPercent: license.DefaultUpsellDeploymentPercent,
		UpsellUsagePercent:      license.DefaultUpsellUsagePercent,
		TrendPoints:             10,
		HowToTicketsPer100Users: 10,
		MinUnassigned:           1,
		RenewalDays:             30,
		SKUMonthlyPrices:        map[string]float64{},
		Currency:                "USD",
		ExportLink:              time.Hour,
		UploadLink:              15 * time.Minute,
	}
}

// FromEnv reads the configuration through getenv (os.Getenv in the
// functions). A malformed value is an error naming the variable, so a
// deployment with a typo fails at start-up, not with a wrong figure.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Default()
	c.Getenv = getenv
	c.PartnerTenantID = strings.TrimSpace(getenv("PARTNER_TENANT_ID"))
	c.OIDCIssuer, c.OIDCAudience, c.TenantClaim = getenv("OIDC_ISSUER"), getenv("OIDC_AUDIENCE"), getenv("TENANT_CLAIM")
	floats := []struct {
		name string
		dst  *float64
	}{
		{"LOW_USAGE_PERCENT", &c.LowUsagePercent},
		{"LOW_DEPLOYMENT_PERCENT", &c.LowDeploymentPercent},
		{"UPSELL_DEPLOYMENT_PERCENT", &c.UpsellDeploymentPercent},
		{"UPSELL_USAGE_PERCENT", &c.UpsellUsagePercent},
		{"TREND_POINTS", &c.TrendPoints},
		{"HOWTO_TICKETS_PER_100_USERS", &c.HowToTicketsPer100Users},
	}
	for _, f := range floats {
		if s := getenv(f.name); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 {
				return c, fmt.Errorf("%s=%q: want a number ≥ 0", f.name, s)
			}
			*f.dst = v
		}
	}
	ints := []struct {
		name    string
		dst     *int
		lo, hi  int
		seconds *time.Duration
	}{
		{name: "RECLAIM_MIN_LICENSES", dst: &c.MinUnassigned, lo: 1, hi: 1 << 30},
		{name: "RENEWAL_DAYS", dst: &c.RenewalDays, lo: 1, hi: 366},
		{name: "EXPORT_LINK_SECONDS", lo: 60, hi: 7 * 24 * 3600, seconds: &c.ExportLink},
		{name: "UPLOAD_LINK_SECONDS", lo: 60, hi: 900, seconds: &c.UploadLink},
		{name: "COPILOT_HABITUAL_DAYS", dst: &c.CopilotHabitualDays, lo: 1, hi: 28},
	}
	for _, f := range ints {
		s := getenv(f.name)
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < f.lo || v > f.hi {
			return c, fmt.Errorf("%s=%q: want a whole number from %d to %d", f.name, s, f.lo, f.hi)
		}
		if f.seconds != nil {
			*f.seconds = time.Duration(v) * time.Second
		} else {
			*f.dst = v
		}
	}
	c.ExcludedSKUs = skuList(getenv("EXCLUDED_SKUS"))
	c.IncludedSKUs = skuList(getenv("INCLUDED_SKUS"))
	c.RetiredWorkloads = []string{"skype"}
	if s := strings.TrimSpace(getenv("RETIRED_WORKLOADS")); strings.EqualFold(s, "none") {
		c.RetiredWorkloads = []string{}
	} else if s != "" {
		c.RetiredWorkloads = skuList(s)
	}
	if s := getenv("CURRENCY"); s != "" {
		c.Currency = s
	}
	prices, err := ParsePrices(getenv("SKU_MONTHLY_PRICES"))
	if err != nil {
		return c, err
	}
	c.SKUMonthlyPrices = prices
	return c, nil
}

// ParsePrices reads "SKU=price,SKU=price".
func ParsePrices(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sku, price, ok := strings.Cut(part, "=")
		v, err := strconv.ParseFloat(strings.TrimSpace(price), 64)
		if !ok || strings.TrimSpace(sku) == "" || err != nil || v < 0 {
			return nil, fmt.Errorf("SKU_MONTHLY_PRICES: %q is not SKU=price", part)
		}
		out[strings.ToUpper(strings.TrimSpace(sku))] = v
	}
	return out, nil
}

// skuList reads "SKU,SKU" (white space around names ignored).
func skuList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
