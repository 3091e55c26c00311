package portfoliogen

import (
	"io"
	"math/rand/v2"
	"strconv"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Microsoft 365 Copilot (docs/definitions.md#copilot): about a third of the customers with a
// suite of at least 5 users bought Copilot seats for 5–30 % of the suite's
// users, a few seats more than they assigned at times. Holders are the
// first users of the main suite's segment; their Copilot use comes from a
// stream of its own, so that customers without Copilot, and every Office
// figure, are what they were before Copilot was generated.

const (
	copilotSKU = "Microsoft_365_Copilot"
	// streamCopilot and copilotSeedMix keep Copilot's draws apart from the
	// plan's and the users' streams.
	streamCopilot  = 0x636f70696c6f7421 // "copilot!"
	copilotSeedMix = 0xc2b2ae3d27d4eb4f
)

// KindGraphCopilotUsage is Graph's Copilot usage user detail report. It is
// not in Kinds: only customers with Copilot seats have one (HasCopilot).
const KindGraphCopilotUsage Kind = "graph-copilot-usage-user-detail"

// copilotProduct is the index of Microsoft 365 Copilot in products.
var copilotProduct = func() int {
	for i, p := range products {
		if p.SKU == copilotSKU {
			return i
		}
	}
	panic("portfoliogen: Copilot is not among the products")
}()

// planCopilot decides the customer's Copilot seats and buys them.
func (p *plan) planCopilot() {
	r := rand.New(rand.NewPCG(p.c.Seed, streamCopilot))
	if p.perSKU[0] < 5 || p.trial[0] || r.Float64() >= 0.35 {
		return
	}
	p.copilotHolders = max(1, roundShare(p.perSKU[0], 0.05+0.25*r.Float64()))
	seats := p.copilotHolders
	if r.Float64() < 0.4 {
		seats += 1 + r.IntN(max(p.copilotHolders/5, 1)+1)
	}
	p.addSub(r, copilotProduct, seats, license.ChannelOwn, false)
}

// HasCopilot reports whether customer c holds Copilot seats.
func HasCopilot(cfg Config, c CustomerSpec) bool { return newPlan(cfg, c).copilotHolders > 0 }

// copilotStream is user i's Copilot stream.
func (p *plan) copilotStream(i int) *rand.Rand {
	return rand.New(rand.NewPCG(p.c.Seed^copilotSeedMix, uint64(i)))
}

// copilotAssigned is when user i got its Copilot seat: one in eight in the
// last 14 days (new seats), the others up to 400 days ago, never before
// the user's suite licence.
func (p *plan) copilotAssigned(i int, suite license.Date) license.Date {
	r := p.copilotStream(i)
	d := p.date.AddDays(-15 - r.IntN(386))
	if r.Float64() < 0.125 {
		d = p.date.AddDays(-r.IntN(14))
	}
	return max(d, suite)
}

// copilotApps are the report's app columns in the v2 CSV, with how likely a
// regular user is to use each.
var copilotApps = []struct {
	column   string
	appetite float64
}{
	{"Copilot Chat Last Activity Date", 0.9},
	{"Microsoft Teams Copilot Last Activity Date", 0.85},
	{"Word Copilot Last Activity Date", 0.55},
	{"Excel Copilot Last Activity Date", 0.35},
	{"PowerPoint Copilot Last Activity Date", 0.3},
	{"Outlook Copilot Last Activity Date", 0.7},
	{"OneNote Copilot Last Activity Date", 0.1},
	{"Loop Copilot Last Activity Date", 0.05},
}

// copilotUse is one holder's Copilot activity.
type copilotUse struct {
	last       license.Date
	apps       []license.Date // per copilotApps
	activeDays int            // of the last 28
}

// copilotActivity draws holder i's use: habitual (10–24 active days of 28),
// occasional (1–9), dormant (last used 29–150 days ago) or never; new
// holders are occasional or have not started yet. No date precedes the
// seat's assignment.
func (p *plan) copilotActivity(i int, assigned license.Date) copilotUse {
	r := rand.New(rand.NewPCG(p.c.Seed^copilotSeedMix, uint64(i)^streamCopilot))
	d := p.date
	weights := []float64{35, 30, 20, 15} // habitual, occasional, dormant, never
	if assigned > d.AddDays(-license.CopilotNewDays) {
		weights = []float64{0, 50, 0, 50}
	}
	use := copilotUse{apps: make([]license.Date, len(copilotApps))}
	kind := pick(r, weights)
	var span, days int
	switch kind {
	case 0:
		span, days = 3, 10+r.IntN(15)
	case 1:
		span, days = 27, 1+r.IntN(9)
	case 2:
		span = 29 + r.IntN(122)
	default:
		return use
	}
	for a, app := range copilotApps {
		if a > 0 && r.Float64() >= app.appetite {
			continue
		}
		last := d.AddDays(-r.IntN(span + 1))
		if kind == 2 {
			last = d.AddDays(-span - r.IntN(20))
		}
		if last < assigned {
			continue
		}
		use.apps[a] = last
		use.last = max(use.last, last)
	}
	if use.last != license.NoDate && kind < 2 {
		use.activeDays = min(days, int(use.last-max(assigned, d.AddDays(-27)))+1)
	}
	return use
}

// WriteCopilotUsage writes the customer's Copilot usage report as Graph's
// version 2 CSV (28-day period): one row per Copilot seat holder; a
// customer without Copilot gets the header only.
func WriteCopilotUsage(w io.Writer, cfg Config, c CustomerSpec) error {
	if cfg.ReportDate.IsZero() {
		return errNoReportDate
	}
	p := newPlan(cfg, c)
	b := []byte("Report Refresh Date,User Principal Name,Display Name,Last Activity Date")
	for _, a := range copilotApps {
		b = append(append(b, ','), a.column...)
	}
	b = append(b, ",Report Period,Active Usage Days for all apps\r\n"...)
	if _, err := w.Write(b); err != nil {
		return err
	}
	s := newUserStream()
	var u person
	for i := range c.Users {
		p.user(i, s, &u)
		var assigned license.Date
		held := false
		for _, l := range u.Licenses() {
			if l.product == copilotProduct {
				held, assigned = true, l.assigned
			}
		}
		if !held {
			continue
		}
		use := p.copilotActivity(i, assigned)
		b = appendDate(b[:0], p.date)
		b = append(b, ',')
		b = appendCSVField(b, u.Key)
		b = append(b, ',')
		b = appendCSVField(b, u.DisplayName)
		b = append(b, ',')
		b = appendDate(b, use.last)
		for _, d := range use.apps {
			b = appendDate(append(b, ','), d)
		}
		b = append(b, ",28,"...)
		b = strconv.AppendInt(b, int64(use.activeDays), 10)
		b = append(b, '\r', '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
