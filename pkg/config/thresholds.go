package config

import "github.com/licenseinsights/licenseinsights/pkg/license"

// Thresholds are the recommendation thresholds of the configuration, in the
// form the domain's Recommend takes them.
func (c Config) Thresholds() license.Thresholds {
	return license.Thresholds{
		LowUsagePercent:         c.LowUsagePercent,
		LowDeploymentPercent:    c.LowDeploymentPercent,
		UpsellDeploymentPercent: c.UpsellDeploymentPercent,
		UpsellUsagePercent:      c.UpsellUsagePercent,
		TrendPoints:             c.TrendPoints,
		HowToTicketsPer100Users: c.HowToTicketsPer100Users,
		MinReclaim:              c.MinUnassigned,
		RenewalDays:             c.RenewalDays,
	}
}
