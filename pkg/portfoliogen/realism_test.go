package portfoliogen_test

import (
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// TestPortfolioIsRealistic runs a 60-customer portfolio through the domain
// engine (license.Compute, docs/definitions.md#figures) and checks that every situation the
// product must explain is there somewhere: all usage bands, over-assignment
// and unassigned capacity, every cause of uncounted activity, every channel,
// trials and lapsed subscriptions, renewals within 30 days, concealed users.
func TestPortfolioIsRealistic(t *testing.T) {
	cfg := config(1, 60, 150)
	specs := portfoliogen.Customers(cfg)

	bands := map[string]int{}
	var (
		overAssigned, unassigned, concealed  int
		uncounted                            license.Uncounted
		channels                             = map[license.Channel]int{}
		statuses                             = map[license.Status]int{}
		trials, renewSoon, inactiveLicensed  int
		heavy, light, dormant, deletedActive int
		oldestAssign                         = reportDate
	)
	allowed := map[string]bool{
		"SPE_E3": true, "ENTERPRISEPACK": true, "O365_BUSINESS_PREMIUM": true, "SPB": true,
		"O365_BUSINESS_ESSENTIALS": true, "EXCHANGESTANDARD": true, "SPE_E5": true, "TEAMS_EXPLORATORY": true,
		"Microsoft_365_Copilot": true,
	}
	for _, c := range specs {
		if c.Concealed {
			concealed++
		}
		subs := portfoliogen.Subscriptions(cfg, c)
		skus := map[string]bool{}
		for _, s := range subs {
			if !allowed[s.SKU] {
				t.Fatalf("%s sells %s, not one of the generator's SKUs", c.ID, s.SKU)
			}
			skus[s.SKU] = true
			channels[s.Channel]++
			statuses[s.Status]++
			if s.Trial {
				trials++
			}
			if days := int(s.RenewalDate - reportDate); days < 1 || days > 366 {
				t.Errorf("%s: subscription %s renews %s, not within the next year", c.ID, s.ID, s.RenewalDate)
			} else if days <= 30 {
				renewSoon++
			}
		}
		// Copilot seats come on top of the 1–4 Office SKUs.
		if n := len(skus) - map[bool]int{true: 1}[skus["Microsoft_365_Copilot"]]; n < 1 || n > 4 {
			t.Errorf("%s has %d Office SKUs, want 1–4", c.ID, n)
		}

		var users []license.User
		err := portfoliogen.EachUser(cfg, c, func(u *license.User) error {
			cp := *u
			cp.Licenses = append([]license.License(nil), u.Licenses...)
			cp.Workloads = append([]license.WorkloadUse(nil), u.Workloads...)
			users = append(users, cp)
			for _, l := range u.Licenses {
				oldestAssign = min(oldestAssign, l.AssignedDate)
			}
			// Heavy: active in 3+ workloads in the last week; dormant: in
			// none in the last 28 days; light: in between.
			week, month := 0, 0
			for _, w := range u.Workloads {
				if license.Active(w.LastActivity, reportDate, 7) {
					week++
				}
				if license.Active(w.LastActivity, reportDate, 28) {
					month++
				}
			}
			switch {
			case u.Deleted:
				if month > 0 {
					deletedActive++
				}
			case week >= 3:
				heavy++
			case month == 0:
				dormant++
			default:
				light++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		res := license.Compute(license.Input{
			Customer:      license.Customer{ID: c.ID, Name: c.Name},
			ReportDate:    reportDate,
			Subscriptions: subs,
			Users:         users,
			ProductName:   catalog.Name,
		})
		f := res.Figures
		for _, p := range f.Products {
			switch {
			case !p.Counted:
			case p.Assigned > p.Sold.Total():
				overAssigned++
			case p.Assigned < p.Sold.Total():
				unassigned++
			}
		}
		win, ok := f.Window(28)
		if !ok {
			t.Fatalf("%s: no 28-day window", c.ID)
		}
		inactiveLicensed += win.InactiveLicensedUsers
		for _, w := range win.Workloads {
			uncounted = uncounted.Plus(w.Uncounted)
		}
		u := win.Usage()
		band := "unknown"
		if pct := license.Percent(u.Active, u.Entitlements); pct != nil {
			switch {
			case *pct < 50:
				band = "low"
			case *pct < 80:
				band = "medium"
			default:
				band = "high"
			}
		}
		bands[band]++
	}
	t.Logf("bands %v; SKUs over-assigned %d, with unassigned capacity %d; uncounted %+v; channels %v; statuses %v; trials %d; renewals ≤30 days %d; concealed %d; users heavy %d light %d dormant %d, deleted but active %d",
		bands, overAssigned, unassigned, uncounted, channels, statuses, trials, renewSoon, concealed, heavy, light, dormant, deletedActive)

	for _, b := range []string{"low", "medium", "high"} {
		if bands[b] < 5 {
			t.Errorf("only %d of 60 customers in the %s usage band", bands[b], b)
		}
	}
	if overAssigned == 0 || unassigned == 0 {
		t.Errorf("SKUs over-assigned %d, with unassigned capacity %d: want both", overAssigned, unassigned)
	}
	if uncounted.FormerLicensee == 0 || uncounted.Unlicensed == 0 || uncounted.Trial == 0 || uncounted.InactiveSubscription == 0 {
		t.Errorf("uncounted activity %+v: want every cause", uncounted)
	}
	for _, ch := range []license.Channel{license.ChannelOwn, license.ChannelPartner, license.ChannelDirect} {
		if channels[ch] == 0 {
			t.Errorf("no subscription sold through channel %s", ch)
		}
	}
	if channels[license.ChannelOwn] < channels[license.ChannelPartner]+channels[license.ChannelDirect] {
		t.Errorf("channels %v: a partner's portfolio is mostly its own sales", channels)
	}
	if statuses[license.StatusGrace] == 0 || statuses[license.StatusSuspended] == 0 || trials == 0 {
		t.Errorf("statuses %v, trials %d: want grace, suspended and trial subscriptions", statuses, trials)
	}
	if renewSoon == 0 {
		t.Error("no subscription renews within 30 days")
	}
	// ~20 % of 60 is 12; a binomial σ of about 3 makes 4…22 a safe range.
	if concealed < 4 || concealed > 22 {
		t.Errorf("%d of 60 customers concealed, want about 20 %%", concealed)
	}
	if heavy == 0 || light == 0 || dormant == 0 || deletedActive == 0 || inactiveLicensed == 0 {
		t.Errorf("users heavy %d, light %d, dormant %d, deleted but active %d, inactive licensed %d: want all",
			heavy, light, dormant, deletedActive, inactiveLicensed)
	}
	if years := int(reportDate-oldestAssign) / 365; years < 4 {
		t.Errorf("the oldest licence was assigned %d years ago; assign dates should spread over years", years)
	}
}
