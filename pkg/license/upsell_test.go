package license

import "testing"

// TestIsUpsell: the rule at its edges with the default thresholds
// (90 % deployed, 80 % used): both reached → candidate; either unknown or
// below → not.
func TestIsUpsell(t *testing.T) {
	th := Thresholds{UpsellDeploymentPercent: DefaultUpsellDeploymentPercent, UpsellUsagePercent: DefaultUpsellUsagePercent}
	p := func(v float64) *float64 { return &v }
	tests := []struct {
		name              string
		deployment, usage *float64
		want              bool
	}{
		{"both at the thresholds", p(90), p(80), true},
		{"both above", p(100), p(95.5), true},
		{"deployment a tenth below", p(89.9), p(100), false},
		{"usage a tenth below", p(100), p(79.9), false},
		{"deployment unknown (nothing sold)", nil, p(100), false},
		{"usage unknown (no entitlement)", p(100), nil, false},
	}
	for _, tt := range tests {
		if got := th.IsUpsell(tt.deployment, tt.usage); got != tt.want {
			t.Errorf("%s: IsUpsell = %v, want %v", tt.name, got, tt.want)
		}
	}
}
