package config

import "github.com/licenseinsights/licenseinsights/pkg/license"

// CopilotHabitual is the number of active days, of the last 28, that makes
// Copilot use habitual (docs/definitions.md#copilot).
func (c Config) CopilotHabitual() int {
	if c.CopilotHabitualDays <= 0 {
		return license.DefaultCopilotHabitualDays
	}
	return c.CopilotHabitualDays
}
