package portfoliogen

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// plan is everything about one customer that is not a user: its SKUs, how
// many users hold each, and its subscriptions. It is small (a few dozen
// values whatever the customer's size) and every writer recomputes it.
//
// Users are laid out by rank: user i has rank (i·stride + offset) mod Users,
// a permutation, and the ranks are cut into consecutive segments:
//
//	[deleted | no licence | main SKU 0 | main SKU 1 | ...]
//
// so that the number of users in each segment is exact and known before any
// user is generated (the subscriptions' quantities and Graph's consumedUnits
// depend on it), while the report rows still come in a shuffled order.
type plan struct {
	cfg  Config
	c    CustomerSpec
	date license.Date

	skus       []int  // indexes into products; skus[0] is the main suite
	trial      []bool // per SKU: its only subscription is a trial
	deleted    int    // users deleted from the directory (they keep their licences in the reports)
	unlicensed int    // users holding no licence at all
	perSKU     []int  // non-deleted users whose main licence is skus[k]
	// extra users at the start of the main suite's segment also hold the
	// customer's last SKU (a migration, an add-on): they count towards it too.
	extra int

	stride, offset int // the rank permutation
	nameStride     int // the user-name permutation
	nameOffset     int

	yammerOff bool // the Yammer service plan is switched off in every licence
	// Shares of heavy, light and dormant users among the licensed ones.
	heavy, light float64

	subs         []subscription
	otherPartner string // tenant id of the other CSP partner, for channel partner

	support license.Support

	// Copilot (copilot.go): the first copilotHolders users of the main
	// suite's segment hold a Copilot seat; none when 0.
	copilotHolders int

	// Oddities (oddities.go): the last freeHolders users of the main
	// suite's segment hold the free offer, the last viralHolders the viral
	// trial; storage says the customer bought extra company storage.
	freeHolders, viralHolders int
	storage                   bool
}

// subscription is one purchase with what every format needs of it.
type subscription struct {
	license.Subscription
	product      int          // index into products
	Created      license.Date // purchase date
	OwnerTenant  string       // ownerTenantId in Graph: the reseller's tenant, "" (null) for a direct purchase
	OwnerType    string       // ownerType in Graph: "Company" for a direct purchase
	OwnerID      string       // the purchasing account's object id
	OrderID      string
	BillingCycle string // monthly or annual
	AutoRenew    bool
}

// fit is how a customer's purchases compare with its assignments.
type fit int

const (
	fitTight fit = iota // sold ≈ assigned
	fitOver             // more assigned than sold (over-assignment)
	fitUnder            // unassigned capacity
)

// newPlan derives the customer's plan from its seed.
func newPlan(cfg Config, c CustomerSpec) *plan {
	r := rand.New(rand.NewPCG(c.Seed, streamPlan))
	p := &plan{cfg: cfg, c: c, date: cfg.ReportDate}
	n := max(c.Users, 0)

	p.chooseSKUs(r)

	// Staff turnover: deleted users and users left without a licence.
	p.deleted = roundShare(n, 0.01+0.05*r.Float64())
	p.unlicensed = roundShare(n, 0.01+0.05*r.Float64())
	if p.deleted+p.unlicensed > n {
		p.deleted, p.unlicensed = n/2, n-n/2
	}
	licensed := n - p.deleted - p.unlicensed
	p.perSKU = splitUsers(r, licensed, len(p.skus))
	for k := range p.skus {
		if p.trial[k] && products[p.skus[k]].SKU != "TEAMS_EXPLORATORY" {
			// A trial has 25 seats; those trying it out are fewer still.
			limit := 12 + r.IntN(14)
			if p.perSKU[k] > limit {
				p.perSKU[0] += p.perSKU[k] - limit
				p.perSKU[k] = limit
			}
		}
	}
	if last := len(p.skus) - 1; last > 0 && !p.trial[last] {
		p.extra = roundShare(p.perSKU[0], 0.04*r.Float64())
	}

	p.stride = coprimeNear(n, int(float64(n)*(0.35+0.3*r.Float64())))
	p.offset = r.IntN(max(n, 1))
	combos := len(firstNames) * len(lastNames)
	p.nameStride = coprimeNear(combos, int(float64(combos)*(0.2+0.6*r.Float64())))
	p.nameOffset = r.IntN(combos)

	p.yammerOff = r.Float64() < 0.25
	p.mix(r)
	p.otherPartner = newGUID(r)
	p.buySubscriptions(r)

	p.planCopilot()
	p.planOddities()
	tickets := roundShare(n, 0.02+0.13*r.Float64())
	p.support = license.Support{
		Tickets:      tickets,
		HowToTickets: roundShare(tickets, 0.1+0.5*r.Float64()),
		WindowDays:   license.DefaultWindow,
	}
	return p
}

// chooseSKUs picks 1–4 SKUs: a suite first, then others without repetition.
func (p *plan) chooseSKUs(r *rand.Rand) {
	count := pick(r, []float64{35, 35, 20, 10}) + 1
	suites := map[string]float64{
		"SPE_E3": 3, "ENTERPRISEPACK": 2, "O365_BUSINESS_PREMIUM": 2, "SPB": 2,
		"O365_BUSINESS_ESSENTIALS": 1, "SPE_E5": 1,
	}
	others := map[string]float64{
		"EXCHANGESTANDARD": 3, "TEAMS_EXPLORATORY": 2, "SPE_E5": 2, "O365_BUSINESS_ESSENTIALS": 2,
		"SPE_E3": 1, "ENTERPRISEPACK": 1, "O365_BUSINESS_PREMIUM": 1, "SPB": 1,
	}
	p.skus = []int{pickProduct(r, suites, nil)}
	p.trial = []bool{false}
	for len(p.skus) < count {
		pi := pickProduct(r, others, p.skus)
		p.skus = append(p.skus, pi)
		// Teams Exploratory is a free offer, a trial in every source;
		// some other add-on SKUs are being tried out.
		p.trial = append(p.trial, products[pi].SKU == "TEAMS_EXPLORATORY" || r.Float64() < 0.12)
	}
}

// pickProduct draws a product by weight (in products' order, so the draw is
// deterministic), leaving out those already taken.
func pickProduct(r *rand.Rand, weights map[string]float64, taken []int) int {
	ws := make([]float64, len(products))
	for i, pr := range products {
		ws[i] = weights[pr.SKU]
		for _, t := range taken {
			if t == i {
				ws[i] = 0
			}
		}
	}
	return pick(r, ws)
}

// mix sets the shares of heavy, light and dormant users from the customer's
// adoption, with some jitter so that customers of one level differ.
func (p *plan) mix(r *rand.Rand) {
	j := (r.Float64() - 0.5) * 0.1
	switch p.c.Adoption {
	case AdoptionLow:
		p.heavy, p.light = 0.08+j/2, 0.30
	case AdoptionHigh:
		p.heavy, p.light = 0.93+j/2, 0.06
	default:
		p.heavy, p.light = 0.45+j, 0.30
	}
}

// buySubscriptions creates the subscriptions behind each SKU.
func (p *plan) buySubscriptions(r *rand.Rand) {
	fitting := fit(pick(r, []float64{35, 25, 40}))
	for k, pi := range p.skus {
		assigned := p.assigned(k)
		pr := products[pi]
		switch {
		case pr.SKU == "TEAMS_EXPLORATORY":
			// A free offer the customer took itself.
			p.addSub(r, pi, max(assigned, 1)+r.IntN(6), license.ChannelDirect, true)
		case p.trial[k]:
			// Trying a product out: Microsoft trials come with 25 seats.
			ch := license.ChannelOwn
			if r.Float64() < 0.5 {
				ch = license.ChannelDirect
			}
			p.addSub(r, pi, 25, ch, true)
		default:
			total := capacity(r, fitting, assigned)
			parts := min(pick(r, []float64{65, 25, 10})+1, total)
			for j, q := range splitQuantity(r, total, parts) {
				// Mostly this partner's sales; a customer that splits a
				// SKU over several purchases more often bought some of it
				// elsewhere.
				weights := []float64{50, 20, 30}
				if j == 0 {
					weights = []float64{80, 10, 10}
				}
				p.addSub(r, pi, q, salesChannels[pick(r, weights)], false)
			}
		}
	}
	// Some customers let a purchase lapse: in grace after its term, or
	// suspended for non-payment. Its users then hold uncounted licences. The
	// main suite's purchases do not lapse (that would be a lost customer,
	// not a portfolio's everyday): there it is an older, extra purchase.
	if x := r.Float64(); x < 0.22 {
		status := license.StatusSuspended
		if x < 0.13 {
			status = license.StatusGrace
		}
		var candidates []int
		for i, s := range p.subs {
			if !s.Trial && s.product != p.skus[0] {
				candidates = append(candidates, i)
			}
		}
		var s *subscription
		if len(candidates) > 0 {
			s = &p.subs[candidates[r.IntN(len(candidates))]]
		} else {
			k := r.IntN(len(p.skus))
			p.addSub(r, p.skus[k], max(roundShare(p.assigned(k), 0.1+0.2*r.Float64()), 1), license.ChannelOwn, false)
			s = &p.subs[len(p.subs)-1]
		}
		s.Status = status
		s.AutoRenew = false
		if status == license.StatusGrace {
			s.RenewalDate = p.date.AddDays(1 + r.IntN(30)) // end of grace
		} else {
			s.RenewalDate = p.date.AddDays(1 + r.IntN(90))
		}
	}
}

var salesChannels = []license.Channel{license.ChannelOwn, license.ChannelPartner, license.ChannelDirect}

// capacity is how many seats a customer bought for a SKU it assigned to
// assigned users.
func capacity(r *rand.Rand, f fit, assigned int) int {
	var q int
	switch f {
	case fitOver:
		q = int(float64(assigned) * (0.8 + 0.17*r.Float64()))
	case fitUnder:
		q = int(math.Ceil(float64(assigned)*(1.05+0.45*r.Float64()))) + r.IntN(4)
	default:
		q = assigned + r.IntN(2)
	}
	return max(q, 1)
}

func (p *plan) addSub(r *rand.Rand, pi int, quantity int, ch license.Channel, trial bool) {
	pr := products[pi]
	s := subscription{
		Subscription: license.Subscription{
			ID:       newGUID(r),
			SKU:      pr.SKU,
			Name:     pr.Name,
			Quantity: quantity,
			Status:   license.StatusActive,
			Trial:    trial,
			Channel:  ch,
		},
		product: pi,
		OwnerID: newGUID(r),
		OrderID: newGUID(r),
	}
	if trial {
		s.Created = p.date.AddDays(-r.IntN(25))
		s.RenewalDate = s.Created.AddDays(30) // trials end after 30 days
		if pr.SKU == "TEAMS_EXPLORATORY" {
			s.Created = p.date.AddDays(-30 - r.IntN(300))
			s.RenewalDate = s.Created.AddDays(365)
		}
		s.BillingCycle = "none"
	} else {
		s.Created = p.date.AddDays(-30 - r.IntN(6*365))
		// Renewals fall in the next year, about one in six within 30 days.
		if r.Float64() < 0.16 {
			s.RenewalDate = p.date.AddDays(1 + r.IntN(30))
		} else {
			s.RenewalDate = p.date.AddDays(31 + r.IntN(335))
		}
		s.BillingCycle = []string{"monthly", "annual"}[pick(r, []float64{40, 60})]
		s.AutoRenew = r.Float64() < 0.85
	}
	// Graph's ownerTenantId is the reseller's tenant: the partner's for
	// its own CSP sale, another partner's for theirs (real tenants show
	// those with ownerType "Company" as often as "User": ownerType decides
	// nothing), and null for a purchase from Microsoft (docs/definitions.md#sources, the channel rule).
	s.OwnerType = "User"
	switch ch {
	case license.ChannelOwn:
		s.OwnerTenant = p.cfg.PartnerTenant()
	case license.ChannelPartner:
		s.OwnerTenant = p.otherPartner
		s.OwnerType = "Company"
	default:
		s.OwnerTenant = ""
		s.OwnerType = "Company"
	}
	p.subs = append(p.subs, s)
}

// assigned is the number of non-deleted users holding skus[k].
func (p *plan) assigned(k int) int {
	n := p.perSKU[k]
	if k == len(p.skus)-1 && k > 0 {
		n += p.extra
	}
	return n
}

// splitUsers divides n users between k SKUs: the first (the main suite)
// takes 50–85 % when there are several, the others share the rest.
func splitUsers(r *rand.Rand, n, k int) []int {
	out := make([]int, k)
	if k == 1 {
		out[0] = n
		return out
	}
	main := roundShare(n, 0.5+0.35*r.Float64())
	weights := make([]float64, k-1)
	sum := 0.0
	for i := range weights {
		weights[i] = 0.3 + r.Float64()
		sum += weights[i]
	}
	rest := n - main
	given := 0
	for i, w := range weights {
		out[i+1] = int(float64(rest) * w / sum)
		given += out[i+1]
	}
	out[0] = n - given
	return out
}

// splitQuantity divides total seats into parts subscriptions of at least one
// seat each (parts ≤ total).
func splitQuantity(r *rand.Rand, total, parts int) []int {
	out := make([]int, parts)
	left := total
	for i := range parts - 1 {
		room := left - (parts - 1 - i) // keep one seat for each later part
		q := 1 + r.IntN(max(room*2/3, 1))
		out[i] = min(q, room)
		left -= out[i]
	}
	out[parts-1] = left
	return out
}

func roundShare(n int, share float64) int { return int(math.Round(float64(n) * share)) }

// pick draws an index with probability proportional to its weight.
func pick(r *rand.Rand, weights []float64) int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	x := r.Float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	for i := len(weights) - 1; i >= 0; i-- {
		if weights[i] > 0 {
			return i
		}
	}
	return 0
}

// person is one user as every format needs it.
type person struct {
	Key         string // UPN, or the concealed hash
	DisplayName string
	Deleted     bool
	DeletedDate license.Date
	// Licences in assignment order: the main SKU, then the extra one, then
	// a Copilot seat, then the free offer and the viral trial.
	licenses  [5]heldLicense
	nLicenses int
	Licensed  [numWorkloads]bool
	// LicenceDate is when the workload's licence was assigned: the date of
	// the oldest licence that grants it.
	LicenseDate  [numWorkloads]license.Date
	LastActivity [numWorkloads]license.Date
}

type heldLicense struct {
	product  int
	assigned license.Date
}

// Licences are the user's licences, oldest first.
func (u *person) Licenses() []heldLicense { return u.licenses[:u.nLicenses] }

// userStream makes the per-user random streams; one per writer, re-seeded
// for each user so that a user is the same whichever document it is in.
type userStream struct {
	pcg     *rand.PCG
	r       *rand.Rand
	scratch []byte // for building user names
}

func newUserStream() *userStream {
	pcg := rand.NewPCG(0, 0)
	return &userStream{pcg: pcg, r: rand.New(pcg)}
}

// activity profiles of licensed users
const (
	heavyUser = iota
	lightUser
	dormantUser
)

// workloadAppetite is how likely a heavy user is to work in each workload
// (indexed as the workload constants). Skype for Business lives on only in
// some tenants' reports; Yammer is a minority habit.
var workloadAppetite = [numWorkloads]float64{
	wExchange: 1, wOneDrive: 0.93, wSharePoint: 0.88, wSkype: 0.7, wYammer: 0.8, wTeams: 0.98,
}

// user generates user i (0 ≤ i < c.Users) into u.
func (p *plan) user(i int, s *userStream, u *person) {
	s.pcg.Seed(p.c.Seed^userSeedMix, uint64(i))
	r := s.r
	*u = person{}
	d := p.date

	// Names: a permutation of first × last name combinations, numbered
	// past the last one, so that names are unique within the customer.
	combos := len(firstNames) * len(lastNames)
	combo := (i%combos*p.nameStride + p.nameOffset) % combos
	first, last := firstNames[combo%len(firstNames)], lastNames[combo/len(firstNames)]
	var hash [32]byte
	hexUpper(r, hash[:]) // drawn for every customer, so the streams stay aligned
	if p.c.Concealed {
		u.Key = string(hash[:])
		hexUpper(r, hash[:])
		u.DisplayName = string(hash[:])
	} else {
		key := append(s.scratch[:0], firstSlugs[combo%len(firstNames)]...)
		key = append(append(key, '.'), lastSlugs[combo/len(firstNames)]...)
		if n := i / combos; n > 0 {
			key = strconv.AppendInt(key, int64(n+1), 10)
		}
		key = append(append(key, '@'), p.c.Domain...)
		u.Key = string(key)
		s.scratch = key
		u.DisplayName = first + " " + last
		hexUpper(r, hash[:])
	}

	n := max(p.c.Users, 1)
	rank := (i*p.stride + p.offset) % n
	main, extra := -1, -1
	copilot := false
	odd, oddAt := false, 0
	profile := dormantUser
	switch {
	case rank < p.deleted:
		// A leaver: deleted in the last three months, still in the report
		// with the licences it had. Many worked until their last days.
		u.Deleted = true
		u.DeletedDate = d.AddDays(-1 - r.IntN(90))
		main = p.skus[rank%len(p.skus)]
	case rank < p.deleted+p.unlicensed:
		// No licence: a leaver whose licence went to a new hire, or an
		// account that never had one.
	default:
		k, at := p.segment(rank - p.deleted - p.unlicensed)
		main = p.skus[k]
		if k == 0 && at < p.extra {
			extra = p.skus[len(p.skus)-1]
		}
		copilot = k == 0 && at < p.copilotHolders
		odd = k == 0
		oddAt = at
		profile = pick(r, []float64{p.heavy, p.light, max(1-p.heavy-p.light, 0)})
	}

	// Licences: assign dates spread over the last seven years.
	if main >= 0 {
		u.licenses[0] = heldLicense{main, d.AddDays(-14 - r.IntN(7*365))}
		u.nLicenses = 1
		if extra >= 0 {
			u.licenses[1] = heldLicense{extra, d.AddDays(-7 - r.IntN(2*365))}
			u.nLicenses = 2
		}
	}
	if copilot {
		u.licenses[u.nLicenses] = heldLicense{copilotProduct, p.copilotAssigned(i, u.licenses[0].assigned)}
		u.nLicenses++
	}
	if odd && u.nLicenses > 0 {
		p.oddLicenses(i, oddAt, u)
	}
	for _, l := range u.Licenses() {
		ws := products[l.product].workloads
		if p.yammerOff {
			ws &^= 1 << wYammer
		}
		for w := range numWorkloads {
			if ws.has(w) && (!u.Licensed[w] || l.assigned < u.LicenseDate[w]) {
				u.Licensed[w] = true
				u.LicenseDate[w] = l.assigned
			}
		}
	}

	// Activity over the 180 days before the report date.
	switch {
	case u.Deleted:
		worked := r.Float64() < 0.6
		for w := range numWorkloads {
			x := r.Float64()
			if worked && x < workloadAppetite[w]*0.8 {
				u.LastActivity[w] = max(u.DeletedDate.AddDays(-r.IntN(10)), d.AddDays(-179))
			}
		}
	case u.nLicenses == 0:
		movedOn := r.Float64() < 0.55 // licence removed recently, still working
		for w := range numWorkloads {
			x, age := r.Float64(), r.IntN(180)
			switch {
			case movedOn && (w == wExchange || w == wTeams || w == wOneDrive) && x < 0.8:
				u.LastActivity[w] = d.AddDays(-r.IntN(20))
			case x < 0.2:
				u.LastActivity[w] = d.AddDays(-age)
			}
		}
	default:
		for w := range numWorkloads {
			u.LastActivity[w] = p.lastActivity(r, profile, w, u.Licensed[w])
		}
	}
}

// lastActivity draws a licensed user's last activity date in a workload.
func (p *plan) lastActivity(r *rand.Rand, profile, w int, licensed bool) license.Date {
	d := p.date
	x, recent, old := r.Float64(), r.IntN(7), 28+r.IntN(152)
	within := r.IntN(28)
	appetite := workloadAppetite[w]
	if !licensed {
		// Working in a workload the licence does not cover: common for
		// Yammer (unlicensed use), rare elsewhere.
		if w == wYammer {
			appetite *= 0.5
		} else {
			appetite *= 0.1
		}
	}
	switch profile {
	case heavyUser:
		if x < appetite {
			return d.AddDays(-recent)
		}
		if x < appetite+0.1 {
			return d.AddDays(-old)
		}
	case lightUser:
		switch {
		case x < appetite*0.45:
			return d.AddDays(-within)
		case x < appetite*0.85:
			return d.AddDays(-old)
		}
	default:
		if x < 0.25 {
			return d.AddDays(-old)
		}
	}
	return license.NoDate
}

// segment finds which main SKU a licensed user's position belongs to, and
// its position within that SKU's segment.
func (p *plan) segment(at int) (k, within int) {
	for k, n := range p.perSKU {
		if at < n {
			return k, at
		}
		at -= n
	}
	last := len(p.perSKU) - 1
	return last, at + p.perSKU[last]
}

// hexUpper fills b with random upper-case hex digits, like the hashes of
// Graph's concealed reports.
func hexUpper(r *rand.Rand, b []byte) {
	const digits = "0123456789ABCDEF"
	for i := 0; i < len(b); i += 16 {
		v := r.Uint64()
		for j := i; j < len(b) && j < i+16; j++ {
			b[j] = digits[v&15]
			v >>= 4
		}
	}
}
