package config

import (
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func TestThresholdsCarryEverySetting(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"LOW_USAGE_PERCENT": "41", "LOW_DEPLOYMENT_PERCENT": "62", "UPSELL_DEPLOYMENT_PERCENT": "93",
		"UPSELL_USAGE_PERCENT": "84", "TREND_POINTS": "7.5", "HOWTO_TICKETS_PER_100_USERS": "12",
		"RECLAIM_MIN_LICENSES": "3", "RENEWAL_DAYS": "45",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := license.Thresholds{
		LowUsagePercent: 41, LowDeploymentPercent: 62, UpsellDeploymentPercent: 93, UpsellUsagePercent: 84,
		TrendPoints: 7.5, HowToTicketsPer100Users: 12, MinReclaim: 3, RenewalDays: 45,
	}
	if got := c.Thresholds(); got != want {
		t.Fatalf("Thresholds() = %+v, want %+v", got, want)
	}
	// The documented defaults.
	want = license.Thresholds{
		LowUsagePercent: 50, LowDeploymentPercent: 70, UpsellDeploymentPercent: 90, UpsellUsagePercent: 80,
		TrendPoints: 10, HowToTicketsPer100Users: 10, MinReclaim: 1, RenewalDays: 30,
	}
	if got := Default().Thresholds(); got != want {
		t.Fatalf("Default().Thresholds() = %+v, want %+v", got, want)
	}
}
