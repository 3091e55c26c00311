package license

// The upsell rule's thresholds by default (UPSELL_DEPLOYMENT_PERCENT,
// UPSELL_USAGE_PERCENT): the one place their defaults are written.
const (
	DefaultUpsellDeploymentPercent = 90
	DefaultUpsellUsagePercent      = 80
)

// IsUpsell is the upsell rule, once: deployment % and usage % both known
// and both at or above the thresholds (docs/definitions.md, "Upsell
// candidate"). The recommendation and the portfolio's upsell list both ask
// it.
func (th Thresholds) IsUpsell(deploymentPercent, usagePercent *float64) bool {
	return deploymentPercent != nil && usagePercent != nil &&
		*deploymentPercent >= th.UpsellDeploymentPercent && *usagePercent >= th.UpsellUsagePercent
}

// IsUpsellCandidate applies the rule to a customer's figures: deployment
// and the default window's usage, each rounded to one decimal as served.
func (th Thresholds) IsUpsellCandidate(f *Figures) bool {
	d := f.Deployment()
	w, ok := f.Window(DefaultWindow)
	if !ok {
		return false
	}
	u := w.Usage()
	return th.IsUpsell(Percent(d.Assigned, d.Sold.Total()), Percent(u.Active, u.Entitlements))
}
