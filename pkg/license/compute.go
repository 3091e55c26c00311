package license

import (
	"cmp"
	"slices"
	"strings"
)

// Input is everything the engine needs for one customer.
type Input struct {
	Customer      Customer
	ReportDate    Date
	Subscriptions []Subscription
	Users         []User
	// ProductName names a SKU that no subscription names (may be nil).
	ProductName func(sku string) string
	// KnownProduct reports whether a SKU that no subscription has is a
	// product the catalogue knows; one it does not know is flagged
	// UnknownProduct (docs/definitions.md#subscriptions-and-products). Nil: every SKU is known.
	KnownProduct func(sku string) bool
	// Exclusions decide the excluded products (docs/definitions.md#figures); nil is the
	// defaults.
	Exclusions *Exclusions
	// RetiredWorkloads are reported per workload but kept out of overall
	// figures and of "inactive licensed user"; nil is
	// DefaultRetiredWorkloads, an empty non-nil slice retires none.
	RetiredWorkloads []Workload
}

// Result is the customer's figures plus, per user (same index as Input.Users),
// whether the user holds at least one entitlement (the export's "entitled").
type Result struct {
	Figures  Figures
	Entitled []bool
}

// Compute works out every docs/definitions.md#figures figure of one customer, for every window
// in Windows.
//
// Entitlements are allocated per SKU: the non-deleted users holding the SKU
// are ordered by the licence's assign date, oldest first, then by user key,
// and the first "sold" of them (Σ quantity of the SKU's counted
// subscriptions) are entitled. A licence with no known assign date sorts
// after every dated one: it is assumed to be the newest, so it never takes
// counted capacity from a user whose licence is known to be older. A user
// listing the same SKU more than once holds it once, with the earliest known
// of its dates.
//
// Workloads are the StandardWorkloads, then any other workload a user
// reports, in name order. Workload names are normalised (NormalizeWorkload),
// and two entries of one user for the same workload merge: licensed if either
// is, the newer activity wins. Entries with an empty workload name are
// ignored: they cannot be attributed to anything.
//
// The cost is two passes over the users with no allocation per user, plus a
// sort of the holders of each over-assigned SKU, so that million-user
// customers stay cheap.
func Compute(in Input) Result {
	d := in.ReportDate
	users := in.Users

	skus := skuTable{index: make(map[string]int32), exclusions: in.Exclusions, reportDate: d}
	for _, s := range in.Subscriptions {
		skus.addSubscription(s)
	}

	// Pass 1: who holds what (non-deleted users only, docs/definitions.md#figures "assigned"),
	// which users hold only trial SKUs, and which workloads exist.
	holdingCount := 0
	for i := range users {
		if !users[i].Deleted {
			holdingCount += len(users[i].Licenses)
		}
	}
	holdings := make([]holding, 0, holdingCount)
	trialOnly := make([]bool, len(users))
	// holdsLicence: the user holds a licence that is no excluded product
	// (one who holds only excluded products holds no licence, docs/definitions.md#figures).
	holdsLicense := make([]bool, len(users))
	columns := workloadColumns{raw: make(map[Workload]int)}
	for ui := range users {
		u := &users[ui]
		for _, use := range u.Workloads {
			columns.see(use.Workload)
		}
		if u.Deleted {
			continue
		}
		first := len(holdings)
		onlyTrial, holds := true, false
		for li, l := range u.Licenses {
			si := skus.lookup(l.SKU)
			x := &skus.tallies[si]
			if x.excluded() {
				if !heldBefore(u.Licenses[:li], l.SKU) {
					x.assigned++
				}
				continue
			}
			holds = true
			if !x.activeTrial {
				onlyTrial = false
			}
			order := assignOrder(l.AssignedDate)
			if h := findHolding(holdings[first:], si); h != nil {
				h.order = min(h.order, order)
				continue
			}
			holdings = append(holdings, holding{sku: si, order: order, user: int32(ui)})
			x.assigned++
		}
		trialOnly[ui] = holds && onlyTrial
		holdsLicense[ui] = holds
	}

	entitled, entitledHolders := allocate(holdings, skus.tallies, users)

	// Pass 2: every window's workload counters, in one sweep over users.
	// Windows nest (whoever is active within n days is active within any
	// longer window), so each activity is counted once, in the shortest
	// window that holds it, and each window is then the sum of the buckets
	// up to its own.
	workloads := columns.finish()
	nw := len(workloads)
	retired := in.RetiredWorkloads
	if retired == nil {
		retired = DefaultRetiredWorkloads
	}
	isRetired := make([]bool, nw)
	for c, w := range workloads {
		for _, r := range retired {
			isRetired[c] = isRetired[c] || NormalizeWorkload(string(r)) == w
		}
	}
	nested := nestWindows(d, Windows)
	nb := len(nested.days)
	buckets := make([]WorkloadFigures, nb*nw)
	activeEntitled := make([]int, nb) // entitled users by shortest window active
	entitlements := make([]int, nw)
	entitledUsers := 0
	licensed := make([]bool, nw)
	last := make([]Date, nw)
	// userBucket: an entitled user's shortest window of activity (nb: none),
	// for the idle holders per SKU.
	userBucket := make([]uint8, len(users))
	for ui := range users {
		u := &users[ui]
		clear(licensed)
		clear(last)
		for _, use := range u.Workloads {
			c := columns.of(use.Workload)
			if c < 0 {
				continue
			}
			licensed[c] = licensed[c] || use.Licensed
			last[c] = max(last[c], use.LastActivity)
		}
		userEntitled := entitled[ui]
		var newest Date
		for c := range nw {
			counted := !u.Deleted && licensed[c] && userEntitled
			if counted {
				entitlements[c]++
			}
			b := nested.shortest(last[c])
			if b == nb {
				continue
			}
			if !isRetired[c] {
				// Activity in a retired workload does not make a user
				// active: it is out of "inactive licensed user".
				newest = max(newest, last[c])
			}
			cause := causeCounted
			if !counted {
				cause = uncountedCause(u.Deleted || !holdsLicense[ui], licensed[c], userEntitled, trialOnly[ui])
			}
			f := &buckets[b*nw+c]
			f.Active++
			cause.count(f)
		}
		if userEntitled {
			entitledUsers++
			b := nested.shortest(newest)
			userBucket[ui] = uint8(b)
			if b < nb {
				activeEntitled[b]++
			}
		}
	}

	figures := Figures{
		Customer:   in.Customer,
		ReportDate: d,
		Products:   skus.products(in.ProductName, in.KnownProduct),
		Excluded:   skus.excludedProducts(in.ProductName),
		Windows:    make([]WindowFigures, len(Windows)),
	}
	counters := make([]WorkloadFigures, nb*nw)
	running := make([]WorkloadFigures, nw)
	activeSoFar := 0
	for b := range nb {
		for c := range nw {
			addWorkload(&running[c], buckets[b*nw+c], +1)
		}
		activeSoFar += activeEntitled[b]
		wi := nested.index[b]
		row := counters[wi*nw : (wi+1)*nw : (wi+1)*nw]
		copy(row, running)
		for c := range row {
			row[c].Workload = workloads[c]
			row[c].Entitlements = entitlements[c]
			row[c].Retired = isRetired[c]
		}
		figures.Windows[wi] = WindowFigures{Days: nested.days[b], Workloads: row, InactiveLicensedUsers: entitledUsers - activeSoFar}
	}
	idleHolders(figures.Products, skus, entitledHolders, userBucket, nested)
	return Result{Figures: figures, Entitled: entitled}
}

// nestedWindows are the windows from shortest to longest.
type nestedWindows struct {
	reportDate Date
	days       []int // ascending
	index      []int // days[b] is Windows[index[b]]
}

func nestWindows(d Date, windows []int) nestedWindows {
	index := make([]int, len(windows))
	for i := range index {
		index[i] = i
	}
	slices.SortStableFunc(index, func(a, b int) int { return cmp.Compare(windows[a], windows[b]) })
	days := make([]int, len(windows))
	for b, i := range index {
		days[b] = windows[i]
	}
	return nestedWindows{reportDate: d, days: days, index: index}
}

// shortest is the position in days of the shortest window in which a last
// activity counts, len(days) for none.
func (w nestedWindows) shortest(last Date) int {
	if last == NoDate {
		return len(w.days)
	}
	for b, n := range w.days {
		if Active(last, w.reportDate, n) {
			return b
		}
	}
	return len(w.days)
}

// activityCause is where an active user's activity in a workload is counted.
type activityCause uint8

const (
	causeCounted activityCause = iota
	causeFormerLicensee
	causeUnlicensed
	causeTrial
	causeInactiveSubscription
)

// uncountedCause classifies activity outside the counted entitlements,
// first match wins (docs/definitions.md#figures); former is a deleted user or one holding no
// licence (excluded products do not count as licences). It does not depend on the window, so it is
// decided once per user and workload.
func uncountedCause(former, licensedForWorkload, entitled, trialOnly bool) activityCause {
	switch {
	case former:
		return causeFormerLicensee
	case !licensedForWorkload:
		return causeUnlicensed
	case !entitled && trialOnly:
		return causeTrial
	default:
		return causeInactiveSubscription
	}
}

func (c activityCause) count(f *WorkloadFigures) {
	switch c {
	case causeCounted:
		f.CountedActive++
	case causeFormerLicensee:
		f.Uncounted.FormerLicensee++
	case causeUnlicensed:
		f.Uncounted.Unlicensed++
	case causeTrial:
		f.Uncounted.Trial++
	case causeInactiveSubscription:
		f.Uncounted.InactiveSubscription++
	}
}

// holding is one non-deleted user holding one SKU, as the allocation sorts it.
type holding struct {
	sku   int32 // index into skuTable.tallies
	order int32 // assign date, with "no date" sorting last (assignOrder)
	user  int32 // index into Input.Users
}

// assignOrder is the sort key of an assign date: NoDate sorts after every
// real date, because a licence of unknown age is assumed to be the newest.
func assignOrder(d Date) int32 {
	if d == NoDate {
		return int32(^uint32(0) >> 1)
	}
	return int32(d)
}

// findHolding is the user's existing holding of sku, if any. Users hold a
// handful of licences, so a scan beats a map per user.
func findHolding(ofUser []holding, sku int32) *holding {
	for i := range ofUser {
		if ofUser[i].sku == sku {
			return &ofUser[i]
		}
	}
	return nil
}

// allocate hands each SKU's counted capacity to its holders, oldest licence
// first, then user key, and reports per user whether any SKU entitled them.
//
// Holdings are grouped by SKU in linear time; only a SKU with more holders
// than capacity needs its holders ordered, so sorting is paid only where
// over-assignment makes the order matter.
//
// The second result is, per SKU, the holdings that took its capacity (its
// entitled holders).
func allocate(holdings []holding, tallies []skuTally, users []User) ([]bool, [][]holding) {
	start := make([]int, len(tallies)+1)
	for _, h := range holdings {
		start[h.sku+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	grouped := make([]holding, len(holdings))
	next := slices.Clone(start[:len(tallies)])
	for _, h := range holdings {
		grouped[next[h.sku]] = h
		next[h.sku]++
	}

	entitled := make([]bool, len(users))
	holders := make([][]holding, len(tallies))
	for sku := range tallies {
		group := grouped[start[sku]:start[sku+1]]
		capacity := tallies[sku].sold.Total()
		// A Copilot seat is an add-on that licenses no Office workload:
		// it must not turn an uncounted Office licence into an entitled
		// user (docs/definitions.md#copilot: Copilot never moves the Office usage %).
		if capacity <= 0 || IsCopilotSKU(tallies[sku].sku) {
			continue
		}
		if capacity < len(group) {
			group = firstHolders(group, capacity, users)
		}
		for _, h := range group {
			entitled[h.user] = true
		}
		holders[sku] = group
	}
	return entitled, holders
}

// idleHolders sets each product's IdleHolders, per window (SPEC §2 idle
// holders): the SKU's entitled holders who are inactive licensed users,
// i.e. whose shortest window of activity is longer than the window.
func idleHolders(products []ProductFigures, skus skuTable, holders [][]holding, userBucket []uint8, nested nestedWindows) {
	nb := len(nested.days)
	for pi := range products {
		group := holders[skus.index[products[pi].SKU]]
		if len(group) == 0 {
			continue
		}
		idle := make([]int, len(nested.days))
		for b := range nb {
			n := 0
			for _, h := range group {
				if int(userBucket[h.user]) > b {
					n++
				}
			}
			idle[nested.index[b]] = n
		}
		products[pi].IdleHolders = idle
	}
}

// firstHolders reorders group so that its first n holdings are those the
// allocation order puts first, and returns them. Dates are compared first;
// user keys are compared only among the holders tied on the date at the
// boundary, the only place where their order changes the outcome.
func firstHolders(group []holding, n int, users []User) []holding {
	slices.SortFunc(group, func(a, b holding) int { return cmp.Compare(a.order, b.order) })
	boundary := group[n-1].order
	lo, hi := n-1, n
	for lo > 0 && group[lo-1].order == boundary {
		lo--
	}
	for hi < len(group) && group[hi].order == boundary {
		hi++
	}
	slices.SortFunc(group[lo:hi], func(a, b holding) int {
		if c := strings.Compare(users[a.user].Key, users[b.user].Key); c != 0 {
			return c
		}
		return cmp.Compare(a.user, b.user)
	})
	return group[:n]
}

// skuTally is what the engine learns about one SKU.
type skuTally struct {
	sku         string
	name        string
	sold        ChannelCounts
	counted     bool
	subscribed  bool // some subscription has the SKU
	activeTrial bool // has an active trial subscription (the "trial" cause)
	assigned    int
	renewals    []Renewal
	company     bool           // a subscription marks it appliesTo Company
	active      int            // Σ quantity of active subscriptions, trials included
	reason      ExcludedReason // decided once every subscription is seen
}

// excluded reports whether the SKU is an excluded product.
func (x *skuTally) excluded() bool { return x.reason != "" }

// skuTable indexes SKUs once, so that per-user work compares small integers.
type skuTable struct {
	index      map[string]int32
	tallies    []skuTally
	exclusions *Exclusions
	reportDate Date
}

func (t *skuTable) lookup(sku string) int32 {
	if i, ok := t.index[sku]; ok {
		return i
	}
	i := int32(len(t.tallies))
	t.index[sku] = i
	t.tallies = append(t.tallies, skuTally{sku: sku, reason: t.exclusions.Reason(sku, false)})
	return i
}

func (t *skuTable) addSubscription(s Subscription) {
	x := &t.tallies[t.lookup(s.SKU)]
	x.subscribed = true
	if s.Company && !x.company {
		x.company = true
		x.reason = t.exclusions.Reason(s.SKU, true)
	}
	if s.Status == StatusActive {
		x.active += s.Quantity
	}
	if x.name == "" {
		x.name = s.Name
	}
	if s.Counted() {
		x.sold.Add(s.Channel, s.Quantity)
		x.counted = x.sold.Total() > 0
	}
	if s.Status == StatusActive && s.Trial {
		x.activeTrial = true
	}
	if r, ok := RenewalOf(s, t.reportDate); ok {
		x.renewals = append(x.renewals, r)
	}
}

// products lists the SKUs sorted by SKU, naming those no subscription names
// through productName when there is one, else by the SKU itself: every
// product is named. A SKU held by users that no subscription has and known
// says is not a product is flagged unknown.
func (t *skuTable) products(productName func(string) string, known func(string) bool) []ProductFigures {
	if len(t.tallies) == 0 {
		return nil
	}
	out := make([]ProductFigures, 0, len(t.tallies))
	for _, x := range t.tallies {
		if x.excluded() {
			continue
		}
		name := x.name
		if name == "" && productName != nil {
			name = productName(x.sku)
		}
		if name == "" {
			name = x.sku
		}
		unknown := !x.subscribed && known != nil && !known(x.sku)
		slices.SortStableFunc(x.renewals, func(a, b Renewal) int {
			if c := cmp.Compare(a.Date, b.Date); c != 0 {
				return c
			}
			return strings.Compare(a.SubscriptionID, b.SubscriptionID)
		})
		out = append(out, ProductFigures{SKU: x.sku, Name: name, Sold: x.sold, Assigned: x.assigned, Counted: x.counted, Renewals: x.renewals, UnknownProduct: unknown})
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b ProductFigures) int { return strings.Compare(a.SKU, b.SKU) })
	return out
}

// workloadColumns numbers the workloads: StandardWorkloads first, then the
// others in name order. Raw names are normalised once per distinct name, not
// once per user.
type workloadColumns struct {
	raw    map[Workload]int // raw name → column, known after finish
	extras []Workload
}

func standardColumn(w Workload) int {
	return slices.Index(StandardWorkloads, w)
}

// see records a raw workload name met in the input.
func (c *workloadColumns) see(w Workload) {
	if standardColumn(w) >= 0 {
		return
	}
	if _, ok := c.raw[w]; !ok {
		c.raw[w] = -1
	}
}

// finish numbers every name seen and returns the workloads in column order.
func (c *workloadColumns) finish() []Workload {
	normal := make(map[Workload]Workload, len(c.raw))
	for w := range c.raw {
		n := NormalizeWorkload(string(w))
		normal[w] = n
		if n != "" && standardColumn(n) < 0 && !slices.Contains(c.extras, n) {
			c.extras = append(c.extras, n)
		}
	}
	slices.Sort(c.extras)
	for w, n := range normal {
		switch {
		case n == "":
			c.raw[w] = -1
		case standardColumn(n) >= 0:
			c.raw[w] = standardColumn(n)
		default:
			i, _ := slices.BinarySearch(c.extras, n)
			c.raw[w] = len(StandardWorkloads) + i
		}
	}
	return append(slices.Clone(StandardWorkloads), c.extras...)
}

// of is the column of a raw workload name, -1 for one that counts nowhere.
func (c *workloadColumns) of(w Workload) int {
	if i := standardColumn(w); i >= 0 {
		return i
	}
	if i, ok := c.raw[w]; ok {
		return i
	}
	return -1
}

// excludedProducts lists the excluded SKUs sorted by SKU, nil when none.
func (t *skuTable) excludedProducts(productName func(string) string) []ExcludedProduct {
	var out []ExcludedProduct
	for _, x := range t.tallies {
		if !x.excluded() {
			continue
		}
		name := x.name
		if name == "" && productName != nil {
			name = productName(x.sku)
		}
		if name == "" {
			name = x.sku
		}
		out = append(out, ExcludedProduct{SKU: x.sku, Name: name, Quantity: x.active, Assigned: x.assigned, Reason: x.reason})
	}
	slices.SortFunc(out, func(a, b ExcludedProduct) int { return strings.Compare(a.SKU, b.SKU) })
	return out
}

// heldBefore reports whether sku is among ls: a user listing a SKU twice
// holds it once.
func heldBefore(ls []License, sku string) bool {
	for _, l := range ls {
		if l.SKU == sku {
			return true
		}
	}
	return false
}
