package license

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Severity says what kind of attention a recommendation asks for.
type Severity string

// The severities, from the partner's point of view.
const (
	// SeverityInfo explains a figure; nothing is wrong.
	SeverityInfo Severity = "info"
	// SeverityWarning: something at the customer needs attention — low
	// adoption, paid-for licences going unused, a renewal at risk.
	SeverityWarning Severity = "warning"
	// SeverityOpportunity: the partner has something to offer — more seats,
	// training and support services.
	SeverityOpportunity Severity = "opportunity"
)

// Recommendation codes (docs/definitions.md#recommendations). They are stable: clients may branch on them.
const (
	CodeLowAdoption       = "low-adoption"
	CodeLowDeployment     = "low-deployment"
	CodeHeavyHowToDemand  = "heavy-how-to-demand"
	CodeUpsellCandidate   = "upsell-candidate"
	CodeReclaimUnassigned = "reclaim-unassigned"
	CodeReclaimInactive   = "reclaim-inactive"
	CodeExplainOver100    = "explain-over-100"
	CodeRenewalDue        = "renewal-due"
	CodeUsageTrendDown    = "usage-trend-down"
	CodeUsageTrendUp      = "usage-trend-up"
)

// Recommendation is one suggested action with the figures that triggered
// it. Message is written for the customer, so a partner can paste it into
// an e-mail as it is.
type Recommendation struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Evidence Evidence `json:"evidence"`
}

// Evidence names the figures behind a recommendation: counts as integers,
// percentages as numbers with one decimal (or nil when unknown), dates as
// YYYY-MM-DD, money as numbers with two decimals. The keys of each code are
// listed in openapi.yaml.
type Evidence map[string]any

// Thresholds decide when a recommendation is made. Percentages are compared
// with the figures as responses show them (rounded to one decimal).
type Thresholds struct {
	// LowUsagePercent: usage % below it → low-adoption; also what makes a
	// renewal "at low usage".
	LowUsagePercent float64
	// LowDeploymentPercent: deployment % below it → low-deployment; also
	// what makes a SKU's renewal "at low usage".
	LowDeploymentPercent float64
	// Upsell: deployment % and usage % both at or above these.
	UpsellDeploymentPercent float64
	UpsellUsagePercent      float64
	// TrendPoints: a change of usage of at least this many percentage points
	// against 28 days before is a trend.
	TrendPoints float64
	// HowToTicketsPer100Users: how-to requests per 100 users per 28 days at
	// or above which demand is heavy.
	HowToTicketsPer100Users float64
	// MinReclaim: unassigned licences, or inactive licensed users, worth a
	// reclaim recommendation.
	MinReclaim int
	// RenewalDays: renewals this many days after the report date or fewer
	// are due.
	RenewalDays int
}

// Baseline is the customer's overall usage in the DefaultWindow at an
// earlier report date, read from its history.
type Baseline struct {
	Date         Date
	Entitlements int
	Active       int
}

// WasteCost is unused licences priced per month, where the partner
// configured SKU prices.
type WasteCost struct {
	Currency string
	// MonthlyUnassigned prices the unassigned licences of priced SKUs.
	MonthlyUnassigned float64
	// MonthlyInactive prices the inactive licensed users.
	MonthlyInactive float64
}

// RecommendInput is what recommendations are made from.
type RecommendInput struct {
	Figures *Figures
	// Window is the activity window, in days, the figures are read for.
	Window int
	// Support is the help-desk demand a snapshot carried (nil: none).
	Support *Support
	// Users is the number of users in the current report: the denominator
	// of the how-to request rate.
	Users int
	// Baseline is the usage 28 days before (nil: no history that far back).
	Baseline *Baseline
	// Waste prices unused licences (nil: no prices configured).
	Waste *WasteCost
	// Reclaim is the customer's reclaim calendar for the window with a
	// horizon of at least RenewalDays (nil: renewal-due falls back to the
	// renewals alone).
	Reclaim *Reclaim
}

// TrendDays is how far back the usage trend compares, and TrendTolerance how
// many days earlier than that a history point may be and still serve as the
// baseline (customers that report weekly have no point exactly 28 days back).
const (
	TrendDays      = 28
	TrendTolerance = 7
)

// Recommend makes the recommendations of docs/definitions.md#recommendations for one customer, in the
// order of the codes above (several explain-over-100 in workload order,
// several renewal-due in date order). It never returns nil.
//
//   - low-adoption: overall usage % of the window below LowUsagePercent.
//   - low-deployment: overall deployment % below LowDeploymentPercent.
//   - heavy-how-to-demand: the snapshot's support figures give at least
//     HowToTicketsPer100Users how-to requests per 100 users, scaled to 28
//     days.
//   - upsell-candidate: deployment % and usage % at or above the upsell
//     thresholds.
//   - reclaim-unassigned: at least MinReclaim licences of counted SKUs
//     assigned to nobody.
//   - reclaim-inactive: at least MinReclaim licensed users active in no
//     workload within the window.
//   - explain-over-100: one per workload with more active users than
//     entitlements, naming the cause with the most users (ties: the order
//     of docs/definitions.md#figures).
//   - renewal-due: one per subscription whose unassigned seats a reduction
//     can remove within RenewalDays (docs/definitions.md#the-reclaim-calendar:
//     reduceAtRenewal — it renews within them, or its cancellation window
//     is open), naming the date, the seats and their money where priced.
//   - usage-trend-down / usage-trend-up: the DefaultWindow usage % moved by
//     at least TrendPoints points against the Baseline.
func Recommend(in RecommendInput, th Thresholds) []Recommendation {
	out := []Recommendation{}
	f := in.Figures
	if f == nil {
		return out
	}
	r := recommender{in: in, th: th, f: f, name: customerName(f)}
	r.window, _ = f.Window(in.Window)
	u := r.window.Usage()
	r.usage = Percent(u.Active, u.Entitlements)
	r.deployment = f.Deployment()
	r.deployPct = Percent(r.deployment.Assigned, r.deployment.Sold.Total())

	for _, rule := range []func() []Recommendation{
		r.lowAdoption, r.lowDeployment, r.heavyHowToDemand, r.upsell,
		r.reclaimUnassigned, r.reclaimInactive, r.explainOver100,
		r.renewalDue, r.trend,
	} {
		out = append(out, rule()...)
	}
	return out
}

type recommender struct {
	in         RecommendInput
	th         Thresholds
	f          *Figures
	name       string
	window     WindowFigures
	usage      *float64
	deployment Deployment
	deployPct  *float64
}

func customerName(f *Figures) string {
	if f.Customer.Name != "" {
		return f.Customer.Name
	}
	return f.Customer.ID
}

func single(r Recommendation) []Recommendation { return []Recommendation{r} }

func (r *recommender) lowAdoption() []Recommendation {
	if r.usage == nil || *r.usage >= r.th.LowUsagePercent {
		return nil
	}
	u := r.window.Usage()
	type low struct {
		w Workload
		p float64
	}
	var lows []low
	for _, x := range r.window.Workloads {
		if x.Retired {
			continue // never "train them on Skype for Business"
		}
		if p := Percent(x.Active, x.Entitlements); p != nil && *p < r.th.LowUsagePercent {
			lows = append(lows, low{x.Workload, *p})
		}
	}
	slices.SortStableFunc(lows, func(a, b low) int { return cmp.Compare(a.p, b.p) })
	lows = lows[:min(len(lows), 3)]
	lowest := make([]Evidence, 0, len(lows))
	names := make([]string, 0, len(lows))
	for _, l := range lows {
		lowest = append(lowest, Evidence{"workload": string(l.w), "usagePercent": l.p})
		names = append(names, fmt.Sprintf("%s (%s)", WorkloadTitle(l.w), fmtPercent(l.p)))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "In the last %s only %s of %s's Microsoft 365 licences were in active use (%s of %s workload entitlements), below the %s we aim for.",
		fmtDays(r.in.Window), fmtPercent(*r.usage), r.name, fmtCount(u.Active), fmtCount(u.Entitlements), fmtPercent(r.th.LowUsagePercent))
	if len(names) > 0 {
		fmt.Fprintf(&b, " The least used: %s.", fmtJoinAnd(names))
	}
	if n := r.window.InactiveLicensedUsers; n > 0 {
		fmt.Fprintf(&b, " %s did not use any service at all in that time.", fmtCapitalize(fmtPlural(n, "licensed user", "licensed users")))
	}
	b.WriteString(" A short adoption programme — hands-on tutorials, case studies from companies like yours and testimonials from colleagues who already work this way — usually lifts usage within weeks, and we would be glad to run one with you.")
	return single(Recommendation{
		Code: CodeLowAdoption, Severity: SeverityWarning, Message: b.String(),
		Evidence: Evidence{
			"windowDays":            r.in.Window,
			"usagePercent":          *r.usage,
			"thresholdPercent":      r.th.LowUsagePercent,
			"entitlements":          u.Entitlements,
			"activeEntitlements":    u.Active,
			"inactiveLicensedUsers": r.window.InactiveLicensedUsers,
			"lowestWorkloads":       lowest,
		},
	})
}

func (r *recommender) lowDeployment() []Recommendation {
	if r.deployPct == nil || *r.deployPct >= r.th.LowDeploymentPercent {
		return nil
	}
	sold, assigned := r.deployment.Sold.Total(), r.deployment.Assigned
	msg := fmt.Sprintf("%s has assigned %s of the %s it has purchased (%s), below the %s we expect once a roll-out is under way. We can help plan the rest of the deployment — onboarding sessions, a migration plan and guides for new users — so that the licences you pay for are put to work.",
		r.name, fmtCount(assigned), fmtPlural(sold, "licence", "licences"), fmtPercent(*r.deployPct), fmtPercent(r.th.LowDeploymentPercent))
	return single(Recommendation{
		Code: CodeLowDeployment, Severity: SeverityWarning, Message: msg,
		Evidence: Evidence{
			"deploymentPercent": *r.deployPct,
			"thresholdPercent":  r.th.LowDeploymentPercent,
			"licensesSold":      sold,
			"licensesAssigned":  assigned,
			"unassigned":        r.deployment.Unassigned,
		},
	})
}

func (r *recommender) heavyHowToDemand() []Recommendation {
	s := r.in.Support
	if s == nil || s.HowToTickets <= 0 || r.in.Users <= 0 {
		return nil
	}
	windowDays := s.WindowDays
	if windowDays <= 0 {
		windowDays = TrendDays
	}
	rate := roundTenth(float64(s.HowToTickets) * 100 / float64(r.in.Users) * TrendDays / float64(windowDays))
	if rate < r.th.HowToTicketsPer100Users {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s's users raised %s in the last %s", r.name, fmtPlural(s.HowToTickets, "how-to request", "how-to requests"), fmtDays(windowDays))
	if s.Tickets > 0 {
		fmt.Fprintf(&b, " (of %s in all)", fmtPlural(s.Tickets, "support request", "support requests"))
	}
	fmt.Fprintf(&b, ": %s per 100 users every four weeks, above the %s we consider normal. Targeted training on the most-asked topics, together with self-service support — short videos, quick-reference guides and a network of internal champions — would cut this demand and make your people more confident with the tools.",
		fmtNum1(rate), fmtNum1(r.th.HowToTicketsPer100Users))
	return single(Recommendation{
		Code: CodeHeavyHowToDemand, Severity: SeverityOpportunity, Message: b.String(),
		Evidence: Evidence{
			"howToTickets":              s.HowToTickets,
			"tickets":                   s.Tickets,
			"supportWindowDays":         windowDays,
			"users":                     r.in.Users,
			"howToPer100UsersPer28Days": rate,
			"thresholdPer100Users":      r.th.HowToTicketsPer100Users,
		},
	})
}

func (r *recommender) upsell() []Recommendation {
	if !r.th.IsUpsell(r.deployPct, r.usage) {
		return nil
	}
	sold, assigned := r.deployment.Sold.Total(), r.deployment.Assigned
	msg := fmt.Sprintf("%s has assigned %s of its licences (%s of %s) and %s of them were in active use in the last %s: your team has grown into the tools. This is a good moment to plan seats for new joiners and to look at what the next plan up adds in security, compliance and productivity.",
		r.name, fmtPercent(*r.deployPct), fmtCount(assigned), fmtCount(sold), fmtPercent(*r.usage), fmtDays(r.in.Window))
	return single(Recommendation{
		Code: CodeUpsellCandidate, Severity: SeverityOpportunity, Message: msg,
		Evidence: Evidence{
			"windowDays":                 r.in.Window,
			"deploymentPercent":          *r.deployPct,
			"usagePercent":               *r.usage,
			"deploymentThresholdPercent": r.th.UpsellDeploymentPercent,
			"usageThresholdPercent":      r.th.UpsellUsagePercent,
			"licensesSold":               sold,
			"licensesAssigned":           assigned,
		},
	})
}

// reclaimThreshold is MinReclaim, at least 1: zero unused licences are never
// worth a recommendation.
func (r *recommender) reclaimThreshold() int { return max(r.th.MinReclaim, 1) }

func (r *recommender) reclaimUnassigned() []Recommendation {
	total := 0
	products := []Evidence{}
	var parts []string
	for _, p := range r.f.Products {
		if !p.Counted || p.Unassigned() == 0 {
			continue
		}
		n := p.Unassigned()
		total += n
		products = append(products, Evidence{"sku": p.SKU, "name": productTitle(p), "unassigned": n})
		parts = append(parts, fmt.Sprintf("%s × %s", fmtCount(n), productTitle(p)))
	}
	if total < r.reclaimThreshold() {
		return nil
	}
	ev := Evidence{"unassigned": total, "products": products}
	var b strings.Builder
	fmt.Fprintf(&b, "%s pays for %s that %s not assigned to anyone: %s.", r.name, fmtPlural(total, "licence", "licences"), fmtIsAre(total), strings.Join(parts, ", "))
	// Which of the reclaim kinds the seats are (docs/definitions.md#the-reclaim-calendar).
	reduce, locked := r.unassignedKinds()
	ev["reduceAtRenewal"], ev["lockedUntil"] = reduce, locked
	if locked > 0 {
		fmt.Fprintf(&b, " %s can be reduced within %s; %s locked in longer terms until their renewal.", fmtCapitalize(fmtCount(reduce)), fmtDays(r.th.RenewalDays), fmtPlural(locked, "is", "are"))
	}
	if w := r.in.Waste; w != nil && w.MonthlyUnassigned > 0 {
		fmt.Fprintf(&b, " Reducing the subscriptions at the next renewal, or assigning the licences to new joiners, would save %s a month (%s a year).", fmtMoney(w.Currency, w.MonthlyUnassigned), fmtMoney(w.Currency, w.MonthlyUnassigned*12))
		ev["monthlyCost"] = roundCent(w.MonthlyUnassigned)
		ev["currency"] = w.Currency
	} else {
		b.WriteString(" Reducing the subscriptions at the next renewal, or assigning the licences to new joiners, stops paying for capacity nobody uses.")
	}
	return single(Recommendation{Code: CodeReclaimUnassigned, Severity: SeverityWarning, Message: b.String(), Evidence: ev})
}

// unassignedKinds splits the unassigned seats into those a reduction can
// remove within RenewalDays and those locked beyond them.
func (r *recommender) unassignedKinds() (reduce, locked int) {
	for _, it := range PriceReclaim(ReclaimLines(r.f, r.in.Window), r.th.RenewalDays, nil) {
		switch it.Kind {
		case ReclaimReduceAtRenewal:
			reduce += it.Seats
		case ReclaimLockedUntil:
			locked += it.Seats
		}
	}
	return reduce, locked
}

func (r *recommender) reclaimInactive() []Recommendation {
	n := r.window.InactiveLicensedUsers
	if n < r.reclaimThreshold() {
		return nil
	}
	// Idle holders' licences are reassignNow seats
	// (docs/definitions.md#the-reclaim-calendar).
	ev := Evidence{"inactiveLicensedUsers": n, "windowDays": r.in.Window, "kind": string(ReclaimReassignNow)}
	var b strings.Builder
	fmt.Fprintf(&b, "%s of %s have not used email, Teams, SharePoint, OneDrive or any other service in the last %s.",
		fmtCapitalize(fmtPlural(n, "licensed user", "licensed users")), r.name, fmtDays(r.in.Window))
	if w := r.in.Waste; w != nil && w.MonthlyInactive > 0 {
		fmt.Fprintf(&b, " Their licences, worth about %s a month, could be reclaimed or moved to people who need them.", fmtMoney(w.Currency, w.MonthlyInactive))
		ev["monthlyCost"] = roundCent(w.MonthlyInactive)
		ev["currency"] = w.Currency
	} else {
		b.WriteString(" Their licences could be reclaimed or moved to people who need them.")
	}
	b.WriteString(" It is worth checking first whether they have left or changed roles.")
	return single(Recommendation{Code: CodeReclaimInactive, Severity: SeverityWarning, Message: b.String(), Evidence: ev})
}

// Causes of uncounted activity, as the evidence and the API name them.
const (
	CauseFormerLicensee       = "formerLicensee"
	CauseUnlicensed           = "unlicensed"
	CauseTrial                = "trial"
	CauseInactiveSubscription = "inactiveSubscription"
)

// DominantCause is the cause with the most users, ties going to the cause
// docs/definitions.md#figures lists first; "" when there is no uncounted activity.
func (u Uncounted) DominantCause() (cause string, users int) {
	for _, c := range []struct {
		name string
		n    int
	}{
		{CauseFormerLicensee, u.FormerLicensee},
		{CauseUnlicensed, u.Unlicensed},
		{CauseTrial, u.Trial},
		{CauseInactiveSubscription, u.InactiveSubscription},
	} {
		if c.n > users {
			cause, users = c.name, c.n
		}
	}
	return cause, users
}

func (r *recommender) explainOver100() []Recommendation {
	var out []Recommendation
	for _, x := range r.window.Workloads {
		if x.Retired || x.Active <= x.Entitlements {
			continue
		}
		cause, n := x.Uncounted.DominantCause()
		usage := Percent(x.Active, x.Entitlements)
		title := WorkloadTitle(x.Workload)
		var b strings.Builder
		if usage != nil {
			fmt.Fprintf(&b, "%s shows %s usage at %s: %s in the last %s for %s.",
				title, fmtPercent(*usage), r.name, fmtPlural(x.Active, "user was active", "users were active"), fmtDays(r.in.Window), fmtPlural(x.Entitlements, "licence", "licences"))
		} else {
			fmt.Fprintf(&b, "%s shows activity at %s although no counted licence includes it: %s in the last %s.",
				title, r.name, fmtPlural(x.Active, "user was active", "users were active"), fmtDays(r.in.Window))
		}
		b.WriteString(" " + causeSentence(cause, n, title))
		var others []string
		for _, c := range []struct {
			name string
			n    int
			what string
		}{
			{CauseFormerLicensee, x.Uncounted.FormerLicensee, "former licensee"},
			{CauseUnlicensed, x.Uncounted.Unlicensed, "without a licence for it"},
			{CauseTrial, x.Uncounted.Trial, "on trial"},
			{CauseInactiveSubscription, x.Uncounted.InactiveSubscription, "on inactive or over-assigned capacity"},
		} {
			if c.name != cause && c.n > 0 {
				others = append(others, fmtCount(c.n)+" "+c.what)
			}
		}
		if len(others) > 0 {
			fmt.Fprintf(&b, " Also counted: %s.", fmtJoinAnd(others))
		}
		out = append(out, Recommendation{
			Code: CodeExplainOver100, Severity: SeverityInfo, Message: b.String(),
			Evidence: Evidence{
				"workload":                  string(x.Workload),
				"windowDays":                r.in.Window,
				"usagePercent":              percentOrNil(usage),
				"entitlements":              x.Entitlements,
				"activeEntitlements":        x.Active,
				"countedActiveEntitlements": x.CountedActive,
				"dominantCause":             cause,
				"uncountedActive": Evidence{
					CauseFormerLicensee:       x.Uncounted.FormerLicensee,
					CauseUnlicensed:           x.Uncounted.Unlicensed,
					CauseTrial:                x.Uncounted.Trial,
					CauseInactiveSubscription: x.Uncounted.InactiveSubscription,
				},
			},
		})
	}
	return out
}

// causeSentence explains the dominant cause of uncounted activity and what
// to do about it.
func causeSentence(cause string, n int, title string) string {
	users := fmtPlural(n, "active user", "active users")
	switch cause {
	case CauseFormerLicensee:
		return fmt.Sprintf("The largest part of the difference is people who no longer hold a licence (%s): former staff, or accounts whose licence was moved to a new hire. This is normal after staff turnover; make sure leavers' accounts are closed once their data is kept as your policy requires.", users)
	case CauseUnlicensed:
		return fmt.Sprintf("The largest part of the difference is people whose licences do not include %s (%s). Adding it to their plan, or checking how they reach it, keeps you compliant.", title, users)
	case CauseTrial:
		return fmt.Sprintf("The largest part of the difference is people covered only by trial licences (%s). Converting the trial to a paid subscription before it ends keeps them working without interruption.", users)
	default:
		return fmt.Sprintf("The largest part of the difference is people licensed only through subscriptions that are not active (in grace, disabled or cancelled) or assigned beyond the quantity purchased (%s). Renewing, or buying the missing licences, keeps them working and you compliant.", users)
	}
}

func (r *recommender) renewalDue() []Recommendation {
	var items []ReclaimItem
	if r.in.Reclaim != nil {
		items = r.in.Reclaim.Items
	} else {
		items = PriceReclaim(ReclaimLines(r.f, r.in.Window), r.th.RenewalDays, nil)
	}
	currency := ""
	if r.in.Reclaim != nil {
		currency = r.in.Reclaim.Currency
	}
	var dues []ReclaimItem
	for _, it := range items {
		// A reduction is possible within RenewalDays: the cancellation
		// window is open, or the subscription renews within them. A
		// lapsing subscription ends anyway: there is nothing to reduce.
		if it.Holders || it.DaysLeft == nil || it.RenewalKind == RenewalLapses || !(it.WindowOpen || *it.DaysLeft <= r.th.RenewalDays) {
			continue
		}
		dues = append(dues, it)
	}
	slices.SortStableFunc(dues, CompareReclaimItems)
	var out []Recommendation
	for _, x := range dues {
		when := "today"
		if *x.DaysLeft > 0 {
			when = "in " + fmtPlural(*x.DaysLeft, "day", "days")
		}
		var b strings.Builder
		if x.WindowOpen {
			fmt.Fprintf(&b, "%s's subscription for %s is still within its 7-day cancellation window, until %s (%s): %s of it %s assigned to nobody and can be removed now",
				r.name, x.ProductName, x.Date, when, fmtPlural(x.Seats, "licence", "licences"), fmtIsAre(x.Seats))
		} else {
			fmt.Fprintf(&b, "%s's subscription for %s renews on %s (%s) with %s assigned to nobody",
				r.name, x.ProductName, x.Date, when, fmtPlural(x.Seats, "licence", "licences"))
		}
		ev := Evidence{
			"sku":                        x.SKU,
			"name":                       x.ProductName,
			"subscriptionId":             x.SubscriptionID,
			"kind":                       string(ReclaimReduceAtRenewal),
			"date":                       x.Date.String(),
			"daysLeft":                   *x.DaysLeft,
			"renewalDate":                x.RenewalDate.String(),
			"windowOpen":                 x.WindowOpen,
			"idleSeats":                  x.Seats,
			"renewalWithinDaysThreshold": r.th.RenewalDays,
		}
		if x.Monthly != nil {
			fmt.Fprintf(&b, ", worth %s a month", fmtMoney(currency, *x.Monthly))
			ev["monthly"] = *x.Monthly
			ev["currency"] = currency
			if x.PerTerm != nil {
				fmt.Fprintf(&b, " (%s over the term)", fmtMoney(currency, *x.PerTerm))
				ev["perTerm"] = *x.PerTerm
			}
		}
		b.WriteString(". Let us reduce the quantity by that many before the date, or assign them to new joiners if the customer is hiring; after it the seats stay paid for until the next renewal.")
		out = append(out, Recommendation{Code: CodeRenewalDue, Severity: SeverityWarning, Message: b.String(), Evidence: ev})
	}
	return out
}

func (r *recommender) trend() []Recommendation {
	base := r.in.Baseline
	if base == nil {
		return nil
	}
	w, ok := r.f.Window(DefaultWindow)
	if !ok {
		return nil
	}
	u := w.Usage()
	now, before := Percent(u.Active, u.Entitlements), Percent(base.Active, base.Entitlements)
	if now == nil || before == nil {
		return nil
	}
	change := roundTenth(*now - *before)
	if change == 0 || math.Abs(change) < r.th.TrendPoints {
		return nil
	}
	ev := Evidence{
		"windowDays":           DefaultWindow,
		"usagePercent":         *now,
		"reportDate":           r.f.ReportDate.String(),
		"previousUsagePercent": *before,
		"previousDate":         base.Date.String(),
		"changePoints":         change,
		"thresholdPoints":      r.th.TrendPoints,
	}
	if change < 0 {
		msg := fmt.Sprintf("Usage at %s fell from %s on %s to %s on %s, a drop of %s points in %s. A quick check-in on what changed — and a refresher session for the teams that stopped using the tools — can stop the slide before it becomes a habit.",
			r.name, fmtPercent(*before), base.Date, fmtPercent(*now), r.f.ReportDate, fmtNum1(-change), fmtDays(int(r.f.ReportDate-base.Date)))
		return single(Recommendation{Code: CodeUsageTrendDown, Severity: SeverityWarning, Message: msg, Evidence: ev})
	}
	msg := fmt.Sprintf("Usage at %s rose from %s on %s to %s on %s, a rise of %s points in %s. The adoption effort is paying off: a good time to share the success internally and build on it.",
		r.name, fmtPercent(*before), base.Date, fmtPercent(*now), r.f.ReportDate, fmtNum1(change), fmtDays(int(r.f.ReportDate-base.Date)))
	return single(Recommendation{Code: CodeUsageTrendUp, Severity: SeverityInfo, Message: msg, Evidence: ev})
}

// WorkloadTitle is the name a customer knows a workload by.
func WorkloadTitle(w Workload) string {
	switch w {
	case Exchange:
		return "Exchange email"
	case SharePoint:
		return "SharePoint and OneDrive"
	case Teams:
		return "Teams"
	case Yammer:
		return "Viva Engage (Yammer)"
	case Skype:
		return "Skype for Business"
	}
	s := string(w)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func productTitle(p ProductFigures) string {
	if p.Name != "" {
		return p.Name
	}
	return p.SKU
}

func percentOrNil(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func roundTenth(v float64) float64 { return math.Round(v*10) / 10 }
func roundCent(v float64) float64  { return math.Round(v*100) / 100 }

// pct writes a percentage the way responses round it: "42.5%".
func fmtPercent(p float64) string { return fmtNum1(p) + "%" }

func fmtNum1(v float64) string { return strconv.FormatFloat(roundTenth(v), 'f', 1, 64) }

// count writes n with thousands separators: 12,345.
func fmtCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fmtPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmtCount(n) + " " + many
}

func fmtPluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func fmtIsAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func fmtDays(n int) string { return fmtPlural(n, "day", "days") }

// money writes an amount with its currency: "USD 1,234.50".
func fmtMoney(currency string, v float64) string {
	cents := int(math.Round(v * 100))
	return fmt.Sprintf("%s %s.%02d", currency, fmtCount(cents/100), cents%100)
}

func fmtCapitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// joinAnd joins "a", "a and b", "a, b and c".
func fmtJoinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
