package config

import (
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.LowUsagePercent != 50 || c.UpsellUsagePercent != 80 || c.ExportLink != time.Hour || c.UploadLink != 15*time.Minute || c.RenewalDays != 30 {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = FromEnv(env(map[string]string{
		"LOW_USAGE_PERCENT": "40", "EXPORT_LINK_SECONDS": "600", "SKU_MONTHLY_PRICES": "spe_e3=36, O365_BUSINESS_PREMIUM=12.5",
		"PARTNER_TENANT_ID": " 1111 ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LowUsagePercent != 40 || c.ExportLink != 10*time.Minute || c.SKUMonthlyPrices["SPE_E3"] != 36 || c.SKUMonthlyPrices["O365_BUSINESS_PREMIUM"] != 12.5 || c.PartnerTenantID != "1111" {
		t.Fatalf("overrides: %+v", c)
	}
	for _, bad := range []map[string]string{
		{"LOW_USAGE_PERCENT": "lots"},
		{"EXPORT_LINK_SECONDS": "10"},
		{"UPLOAD_LINK_SECONDS": "3600"},
		{"SKU_MONTHLY_PRICES": "SPE_E3"},
		{"SKU_MONTHLY_PRICES": "SPE_E3=-1"},
	} {
		if _, err := FromEnv(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
