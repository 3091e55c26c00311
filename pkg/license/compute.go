package license

import (
	"bytes"
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

// Users replays a customer's users to each, in the same order every time it
// is called, stopping at the first error each returns. The *User handed
// over may be reused from one call to the next: each copies what it keeps.
// With keys false, each reads neither Key nor DisplayName, and a replay may
// leave them empty (decoding them is most of a replay's allocations).
// ComputeStream calls it two or three times, so a replay reads its users
// from wherever they are kept (a slice, a spill file), never holding more
// than one of them in memory on the engine's account.
type Users func(keys bool, each func(u *User) error) error

// SliceUsers replays the users of a slice.
func SliceUsers(users []User) Users {
	return func(_ bool, each func(u *User) error) error {
		for i := range users {
			if err := each(&users[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// Compute works out every docs/definitions.md#figures figure of one customer, for every window
// in Windows, from the users in in.Users. It is ComputeStream over a slice.
func Compute(in Input) Result {
	entitled := make([]bool, 0, len(in.Users))
	users := in.Users
	in.Users = nil
	figures, _ := ComputeStream(in, SliceUsers(users), func(_ *User, e bool) error {
		entitled = append(entitled, e)
		return nil
	})
	return Result{Figures: figures, Entitled: entitled}
}

// ComputeStream works out every docs/definitions.md#figures figure of one
// customer, for every window in Windows, replaying its users (in.Users is
// not read), and hands each user with its "entitled" flag (it holds at
// least one entitlement) to each, in the users' order, during the last
// replay. The error is the first one users or each returned.
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
// Memory does not grow with the users (a million-user customer is computed
// in the memory of a small one), which is why the users are replayed rather
// than held:
//
//  1. The census counts, per SKU, its holders per assign date, and learns
//     the workloads.
//  2. From those counts each over-assigned SKU gets its cut: the assign date
//     up to which its holders are entitled. Only when the capacity runs out
//     among holders sharing the cut's date does the order of user keys
//     matter; then a second replay collects the keys of just those holders
//     (the only keys ever held) and settles them.
//  3. The count replays the users once more: per user its entitlement
//     (from the cuts), then every window's workload counters.
func ComputeStream(in Input, users Users, each func(u *User, entitled bool) error) (Figures, error) {
	a, err := Allocate(in, users)
	if err != nil {
		return Figures{}, err
	}
	return a.Count(users, each)
}

// Allocation is a customer's entitlements allocated (steps 1 and 2 of
// ComputeStream): what the count needs to decide, user by user, who is
// entitled. It holds counts, never users.
type Allocation struct {
	in      Input
	skus    skuTable
	cuts    []cut
	columns workloadColumns
}

// Allocate is steps 1 and 2 of ComputeStream: the census and the cuts, with
// the replay that settles ties when one is needed. The ingest runs it apart
// from the count, whose replay writes the users' rows.
func Allocate(in Input, users Users) (*Allocation, error) {
	d := in.ReportDate
	skus := skuTable{index: make(map[string]int32), exclusions: in.Exclusions, reportDate: d}
	for _, s := range in.Subscriptions {
		skus.addSubscription(s)
	}

	// 1. The census (non-deleted users only hold, docs/definitions.md#figures "assigned").
	columns := workloadColumns{raw: make(map[Workload]int)}
	var held []holding // one user's holdings, reused
	var dates []map[int32]int32
	err := users(false, func(u *User) error {
		for _, use := range u.Workloads {
			columns.see(use.Workload)
		}
		if u.Deleted {
			return nil
		}
		held = skus.holdings(u, held[:0])
		for _, h := range held {
			for int(h.sku) >= len(dates) {
				dates = append(dates, nil)
			}
			if dates[h.sku] == nil {
				dates[h.sku] = map[int32]int32{}
			}
			dates[h.sku][h.order]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	skus.censused = true

	// 2. The cuts, and the keys of holders tied at a cut when needed.
	cuts := make([]cut, len(skus.tallies))
	var tied []*tieBreak
	for si := range skus.tallies {
		var byDate map[int32]int32
		if si < len(dates) {
			byDate = dates[si]
		}
		c := cutOf(&skus.tallies[si], byDate)
		cuts[si] = c
		if c.tie != nil {
			tied = append(tied, c.tie)
		}
	}
	dates = nil
	if len(tied) > 0 {
		ui := int32(0)
		err := users(true, func(u *User) error {
			defer func() { ui++ }()
			if u.Deleted {
				return nil
			}
			held = skus.holdings(u, held[:0])
			for _, h := range held {
				if t := cuts[h.sku].tie; t != nil && h.order == cuts[h.sku].date {
					t.add(u.Key, ui)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, t := range tied {
			t.settle()
		}
	}
	return &Allocation{in: in, skus: skus, cuts: cuts, columns: columns}, nil
}

// Count is step 3 of ComputeStream: it replays the users once, handing
// each with its entitled flag to each (nil: none), and returns the
// figures. It can be called once.
func (a *Allocation) Count(users Users, each func(u *User, entitled bool) error) (Figures, error) {
	in, skus, cuts, columns, d := a.in, a.skus, a.cuts, &a.columns, a.in.ReportDate
	var held []holding // one user's holdings, reused

	// 3. The count: every window's workload counters, in one sweep over
	// users. Windows nest (whoever is active within n days is active
	// within any longer window), so each activity is counted once, in the
	// shortest window that holds it, and each window is then the sum of the
	// buckets up to its own.
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
	// holderBuckets[sku][b]: the SKU's entitled holders whose shortest
	// window of activity is b (nb: none), for the idle holders per SKU.
	holderBuckets := make([][]int, len(skus.tallies))
	var entitling []int32 // the SKUs entitling the current user, reused
	ui := int32(0)
	err := users(each != nil, func(u *User) error {
		defer func() { ui++ }()
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
		// holdsLicence: the user holds a licence that is no excluded product
		// (one who holds only excluded products holds no licence,
		// docs/definitions.md#figures); trialOnly: every licence it holds is
		// of a SKU with an active trial.
		holdsLicense, trialOnly := false, false
		entitling = entitling[:0]
		if !u.Deleted {
			held = skus.holdings(u, held[:0])
			holdsLicense, trialOnly = len(held) > 0, len(held) > 0
			for _, h := range held {
				trialOnly = trialOnly && skus.tallies[h.sku].activeTrial
				if cuts[h.sku].entitles(h.order, ui) {
					entitling = append(entitling, h.sku)
				}
			}
		}
		userEntitled := len(entitling) > 0
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
				cause = uncountedCause(u.Deleted || !holdsLicense, licensed[c], userEntitled, trialOnly)
			}
			f := &buckets[b*nw+c]
			f.Active++
			cause.count(f)
		}
		if userEntitled {
			entitledUsers++
			b := nested.shortest(newest)
			if b < nb {
				activeEntitled[b]++
			}
			for _, si := range entitling {
				if holderBuckets[si] == nil {
					holderBuckets[si] = make([]int, nb+1)
				}
				holderBuckets[si][b]++
			}
		}
		if each != nil {
			return each(u, userEntitled)
		}
		return nil
	})
	if err != nil {
		return Figures{}, err
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
	idleHolders(figures.Products, skus, holderBuckets, nested)
	return figures, nil
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

// holding is one SKU a non-deleted user holds, with the order its licence
// takes in the allocation.
type holding struct {
	sku   int32 // index into skuTable.tallies
	order int32 // assign date, with "no date" sorting last (assignOrder)
}

// assignOrder is the sort key of an assign date: NoDate sorts after every
// real date, because a licence of unknown age is assumed to be the newest.
func assignOrder(d Date) int32 {
	if d == NoDate {
		return noDateOrder
	}
	return int32(d)
}

const noDateOrder = int32(^uint32(0) >> 1)

// holdings appends to held what u holds, one entry per SKU (the earliest of
// its dates), excluded products left out, and returns it. A user's first
// sight of a SKU counts it as assigned once, excluded or not; the census is
// the first replay, so each holder is counted once.
//
// Users hold a handful of licences, so a scan beats a map per user.
func (t *skuTable) holdings(u *User, held []holding) []holding {
	for li, l := range u.Licenses {
		si := t.lookup(l.SKU)
		x := &t.tallies[si]
		if x.excluded() {
			if !t.censused && !heldBefore(u.Licenses[:li], l.SKU) {
				x.assigned++
			}
			continue
		}
		order := assignOrder(l.AssignedDate)
		if i := slices.IndexFunc(held, func(h holding) bool { return h.sku == si }); i >= 0 {
			held[i].order = min(held[i].order, order)
			continue
		}
		held = append(held, holding{sku: si, order: order})
		if !t.censused {
			x.assigned++
		}
	}
	return held
}

// cut is how one SKU's counted capacity falls among its holders: those
// whose licence's order is before date are entitled, those after are not;
// at date, all are when tie is nil, else the ones tie settles. A SKU whose
// capacity covers every holder has all set; one with no capacity entitles
// nobody.
type cut struct {
	all, none bool
	date      int32
	tie       *tieBreak
}

// cutOf finds the SKU's cut from its holders counted per assign order.
func cutOf(x *skuTally, byDate map[int32]int32) cut {
	capacity := x.sold.Total()
	// A Copilot seat is an add-on that licenses no Office workload: it must
	// not turn an uncounted Office licence into an entitled user
	// (docs/definitions.md#copilot: Copilot never moves the Office usage %).
	if capacity <= 0 || IsCopilotSKU(x.sku) || x.excluded() {
		return cut{none: true}
	}
	if capacity >= x.assigned {
		return cut{all: true}
	}
	orders := make([]int32, 0, len(byDate))
	for o := range byDate {
		orders = append(orders, o)
	}
	slices.Sort(orders)
	before := 0
	for _, o := range orders {
		at := int(byDate[o])
		if before+at < capacity {
			before += at
			continue
		}
		c := cut{date: o}
		if k := capacity - before; k < at {
			c.tie = &tieBreak{wanted: k}
		}
		return c
	}
	return cut{all: true} // not reached: capacity < holders
}

// entitles reports whether the holder ui, whose licence has order, is
// within the SKU's capacity.
func (c *cut) entitles(order, ui int32) bool {
	switch {
	case c.none:
		return false
	case c.all || order < c.date:
		return true
	case order > c.date:
		return false
	case c.tie == nil:
		return true
	}
	return c.tie.won(ui)
}

// tieBreak settles which of the holders sharing a cut's date are entitled:
// the first wanted of them by user key (then by position, for two users
// with one key). Keys are kept in one buffer, not one string each: when
// assign dates are unknown (Graph's report gives none) every holder of an
// over-assigned SKU ties, and a million keys as strings would be the
// largest thing the engine holds.
type tieBreak struct {
	wanted  int
	keys    []byte
	ends    []uint32 // keys[ends[i-1]:ends[i]] is holder i's key
	users   []int32  // position of holder i among the users
	winners []int32  // after settle: the entitled holders' positions, ascending
}

func (t *tieBreak) add(key string, ui int32) {
	t.keys = append(t.keys, key...)
	t.ends = append(t.ends, uint32(len(t.keys)))
	t.users = append(t.users, ui)
}

func (t *tieBreak) key(i int) []byte {
	lo := uint32(0)
	if i > 0 {
		lo = t.ends[i-1]
	}
	return t.keys[lo:t.ends[i]]
}

// settle keeps the wanted first holders and lets the keys go.
func (t *tieBreak) settle() {
	idx := make([]int32, len(t.users))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := bytes.Compare(t.key(int(a)), t.key(int(b))); c != 0 {
			return c
		}
		return cmp.Compare(t.users[a], t.users[b])
	})
	t.winners = make([]int32, 0, t.wanted)
	for _, i := range idx[:min(t.wanted, len(idx))] {
		t.winners = append(t.winners, t.users[i])
	}
	slices.Sort(t.winners)
	t.keys, t.ends, t.users = nil, nil, nil
}

func (t *tieBreak) won(ui int32) bool {
	_, ok := slices.BinarySearch(t.winners, ui)
	return ok
}

// idleHolders sets each product's IdleHolders, per window (docs/definitions.md#figures idle
// holders): the SKU's entitled holders who are inactive licensed users,
// i.e. whose shortest window of activity is longer than the window.
func idleHolders(products []ProductFigures, skus skuTable, holderBuckets [][]int, nested nestedWindows) {
	nb := len(nested.days)
	for pi := range products {
		counts := holderBuckets[skus.index[products[pi].SKU]]
		if counts == nil {
			continue
		}
		idle := make([]int, nb)
		for b := range nb {
			n := 0
			for later := b + 1; later <= nb; later++ {
				n += counts[later]
			}
			idle[nested.index[b]] = n
		}
		products[pi].IdleHolders = idle
	}
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
	// censused: the census has counted the holders (assigned); later
	// replays only look SKUs up.
	censused   bool
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

// standardColumn is w's index in StandardWorkloads, -1 for any other
// name. A switch, which compiles to a length test and one compare, rather
// than a search of the list: the count looks up every workload of every
// user, five million times for a million users.
func standardColumn(w Workload) int {
	switch w {
	case Exchange:
		return 0
	case SharePoint:
		return 1
	case Teams:
		return 2
	case Yammer:
		return 3
	case Skype:
		return 4
	}
	return -1
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
