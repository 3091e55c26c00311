package license

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The property tests draw inputs from seeded generators, so every failure
// reproduces; the seed is in the subtest name.

var (
	randomSKUs      = []string{"A", "B", "C", "D", "E"}
	randomWorkloads = []Workload{Exchange, Exchange, SharePoint, "onedrive", "OneDrive", Teams, Yammer, Skype, "office", "Exchange"}
	randomStatuses  = []Status{StatusActive, StatusActive, StatusActive, StatusGrace, StatusDisabled, StatusSuspended, StatusCancelled, StatusDeleted, StatusExpired}
	randomChannels  = []Channel{ChannelOwn, ChannelPartner, ChannelDirect, ChannelUnknown, ""}
)

func pickRandom[T any](rng *rand.Rand, from []T) T { return from[rng.IntN(len(from))] }

// randomDate is NoDate or a day near D (few distinct values, so that ties
// in assign dates and window boundaries are frequent), rarely after D.
func randomDate(rng *rand.Rand, spread int) Date {
	if rng.IntN(4) == 0 {
		return NoDate
	}
	return dayD.AddDays(-rng.IntN(spread) + rng.IntN(20)/19)
}

// randomInput is a customer of up to n users exercising every rule: duplicate
// SKUs and workloads, deleted users, unknown channels, trials, lapsed
// capacity, extra workloads.
func randomInput(rng *rand.Rand, n int) Input {
	in := Input{Customer: Customer{ID: fmt.Sprint("c", rng.IntN(1000))}, ReportDate: dayD}
	for i := range rng.IntN(7) {
		s := Subscription{
			ID: fmt.Sprint("s", rng.IntN(5)), SKU: pickRandom(rng, randomSKUs), Quantity: rng.IntN(9),
			Status: pickRandom(rng, randomStatuses), Trial: rng.IntN(3) == 0, Channel: pickRandom(rng, randomChannels),
		}
		if rng.IntN(2) == 0 {
			s.Name = fmt.Sprintf("Product %s #%d", s.SKU, i)
		}
		if rng.IntN(2) == 0 {
			s.RenewalDate = dayD.AddDays(rng.IntN(10))
		}
		in.Subscriptions = append(in.Subscriptions, s)
	}
	for i := range rng.IntN(n + 1) {
		u := User{Key: fmt.Sprintf("u%03d", rng.IntN(1000)*1000+i), Deleted: rng.IntN(7) == 0}
		for range rng.IntN(4) {
			u.Licenses = append(u.Licenses, License{SKU: pickRandom(rng, randomSKUs), AssignedDate: randomDate(rng, 6)})
		}
		for range rng.IntN(6) {
			u.Workloads = append(u.Workloads, WorkloadUse{Workload: pickRandom(rng, randomWorkloads), Licensed: rng.IntN(3) > 0, LastActivity: randomDate(rng, 200)})
		}
		in.Users = append(in.Users, u)
	}
	if rng.IntN(2) == 0 {
		in.ProductName = func(sku string) string { return "catalog " + sku }
	}
	return in
}

// referenceCompute is docs/definitions.md#figures read literally: maps, sets and one loop per
// window and workload. Slow, and sharing no code with Compute, it is the
// oracle Compute is compared with.
func referenceCompute(in Input) Result {
	type sku struct {
		name        string
		sold        ChannelCounts
		counted     bool
		activeTrial bool
		renewals    []Renewal
		holders     map[int]Date // user index → earliest known assign date
	}
	skus := map[string]*sku{}
	get := func(name string) *sku {
		if skus[name] == nil {
			skus[name] = &sku{holders: map[int]Date{}}
		}
		return skus[name]
	}
	for _, s := range in.Subscriptions {
		x := get(s.SKU)
		if x.name == "" {
			x.name = s.Name
		}
		if s.Status == StatusActive && !s.Trial {
			x.counted = x.counted || s.Quantity > 0 // docs/definitions.md#figures: sold above 0
			switch s.Channel {
			case ChannelOwn:
				x.sold.Own += s.Quantity
			case ChannelPartner:
				x.sold.Partner += s.Quantity
			case ChannelDirect:
				x.sold.Direct += s.Quantity
			default:
				x.sold.Unknown += s.Quantity
			}
		}
		if s.Status == StatusActive && s.Trial {
			x.activeTrial = true
		}
		if r, ok := RenewalOf(s, in.ReportDate); ok {
			x.renewals = append(x.renewals, r)
		}
	}
	for i, u := range in.Users {
		if u.Deleted {
			continue
		}
		for _, l := range u.Licenses {
			h := get(l.SKU).holders
			old, seen := h[i]
			if !seen || old == NoDate || (l.AssignedDate != NoDate && l.AssignedDate < old) {
				h[i] = l.AssignedDate
			}
		}
	}

	entitled := make([]bool, len(in.Users))
	entitledIn := map[string][]int{} // SKU → its entitled holders
	var products []ProductFigures
	for name, x := range skus {
		var order []int
		for i := range x.holders {
			order = append(order, i)
		}
		sortKey := func(i int) int64 {
			if x.holders[i] == NoDate {
				return 1 << 40
			}
			return int64(x.holders[i])
		}
		sort.Slice(order, func(a, b int) bool {
			ka, kb := sortKey(order[a]), sortKey(order[b])
			if ka != kb {
				return ka < kb
			}
			if in.Users[order[a]].Key != in.Users[order[b]].Key {
				return in.Users[order[a]].Key < in.Users[order[b]].Key
			}
			return order[a] < order[b]
		})
		for k, i := range order {
			if k < x.sold.Total() {
				entitled[i] = true
				entitledIn[name] = append(entitledIn[name], i)
			}
		}
		p := ProductFigures{SKU: name, Name: x.name, Sold: x.sold, Assigned: len(x.holders), Counted: x.counted}
		if p.Name == "" && in.ProductName != nil {
			p.Name = in.ProductName(name)
		}
		if p.Name == "" { // every product is named (docs/definitions.md#subscriptions-and-products)
			p.Name = name
		}
		if len(x.renewals) > 0 {
			p.Renewals = x.renewals
			sort.SliceStable(p.Renewals, func(a, b int) bool {
				ra, rb := p.Renewals[a], p.Renewals[b]
				return ra.Date < rb.Date || ra.Date == rb.Date && ra.SubscriptionID < rb.SubscriptionID
			})
		}
		products = append(products, p)
	}
	sort.Slice(products, func(a, b int) bool { return products[a].SKU < products[b].SKU })

	merged := make([]map[Workload]WorkloadUse, len(in.Users))
	extras := map[Workload]bool{}
	for i, u := range in.Users {
		merged[i] = map[Workload]WorkloadUse{}
		for _, use := range u.Workloads {
			w := NormalizeWorkload(string(use.Workload))
			if w == "" {
				continue
			}
			if !slices.Contains(StandardWorkloads, w) {
				extras[w] = true
			}
			m := merged[i][w]
			m.Workload = w
			m.Licensed = m.Licensed || use.Licensed
			m.LastActivity = max(m.LastActivity, use.LastActivity)
			merged[i][w] = m
		}
	}
	workloads := slices.Clone(StandardWorkloads)
	var extraNames []Workload
	for w := range extras {
		extraNames = append(extraNames, w)
	}
	slices.Sort(extraNames)
	workloads = append(workloads, extraNames...)

	trialOnly := func(u User) bool {
		if len(u.Licenses) == 0 {
			return false
		}
		for _, l := range u.Licenses {
			if !skus[l.SKU].activeTrial {
				return false
			}
		}
		return true
	}
	f := Figures{Customer: in.Customer, ReportDate: in.ReportDate, Products: products}
	for _, n := range Windows {
		win := WindowFigures{Days: n}
		for _, w := range workloads {
			x := WorkloadFigures{Workload: w, Retired: w == Skype} // the default retired workload
			for i, u := range in.Users {
				use := merged[i][w]
				isEntitlement := !u.Deleted && use.Licensed && entitled[i]
				if isEntitlement {
					x.Entitlements++
				}
				if !(use.LastActivity != NoDate && use.LastActivity > in.ReportDate.AddDays(-n)) {
					continue
				}
				x.Active++
				switch {
				case isEntitlement:
					x.CountedActive++
				case u.Deleted || len(u.Licenses) == 0:
					x.Uncounted.FormerLicensee++
				case !use.Licensed:
					x.Uncounted.Unlicensed++
				case !entitled[i] && trialOnly(u):
					x.Uncounted.Trial++
				default:
					x.Uncounted.InactiveSubscription++
				}
			}
			win.Workloads = append(win.Workloads, x)
		}
		for i, u := range in.Users {
			if u.Deleted || !entitled[i] {
				continue
			}
			activeSomewhere := false
			for w, use := range merged[i] {
				if w != Skype && use.LastActivity != NoDate && use.LastActivity > in.ReportDate.AddDays(-n) {
					activeSomewhere = true
				}
			}
			if !activeSomewhere {
				win.InactiveLicensedUsers++
			}
		}
		f.Windows = append(f.Windows, win)
	}
	// Idle holders (SPEC §2): a SKU's entitled holders active in no
	// non-retired workload within the window.
	for pi := range f.Products {
		holders := entitledIn[f.Products[pi].SKU]
		if len(holders) == 0 {
			continue
		}
		for _, n := range Windows {
			idle := 0
			for _, i := range holders {
				active := false
				for w, use := range merged[i] {
					if w != Skype && use.LastActivity != NoDate && use.LastActivity > in.ReportDate.AddDays(-n) {
						active = true
					}
				}
				if !active {
					idle++
				}
			}
			f.Products[pi].IdleHolders = append(f.Products[pi].IdleHolders, idle)
		}
	}
	return Result{Figures: f, Entitled: entitled}
}

func TestComputeMatchesReference(t *testing.T) {
	for seed := range uint64(400) {
		rng := rand.New(rand.NewPCG(seed, 42))
		in := randomInput(rng, 40)
		got, want := Compute(in), referenceCompute(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: Compute differs from the reference\n got %+v\nwant %+v", seed, got, want)
		}
	}
}

// Invariants that hold for any customer, whatever the allocation.
func TestComputeInvariants(t *testing.T) {
	for seed := range uint64(400) {
		rng := rand.New(rand.NewPCG(seed, 7))
		in := randomInput(rng, 60)
		r := Compute(in)
		f := r.Figures
		entitledUsers := 0
		for _, e := range r.Entitled {
			if e {
				entitledUsers++
			}
		}
		// Each SKU entitles at most its sold and at most its holders.
		capacity := 0
		for _, p := range f.Products {
			capacity += min(p.Sold.Total(), p.Assigned)
		}
		if entitledUsers > capacity {
			t.Fatalf("seed %d: %d entitled users, more than the %d seats held", seed, entitledUsers, capacity)
		}
		for i, e := range r.Entitled {
			if e && in.Users[i].Deleted {
				t.Fatalf("seed %d: deleted user %s entitled", seed, in.Users[i].Key)
			}
		}
		var previous *WindowFigures
		for wi := range f.Windows {
			w := &f.Windows[wi]
			if w.InactiveLicensedUsers > entitledUsers {
				t.Fatalf("seed %d, %d days: %d inactive licensed users > %d entitled", seed, w.Days, w.InactiveLicensedUsers, entitledUsers)
			}
			for i, x := range w.Workloads {
				if x.CountedActive > x.Entitlements {
					t.Fatalf("seed %d, %d days, %s: counted active %d > entitlements %d (adjusted above 100 %%)", seed, w.Days, x.Workload, x.CountedActive, x.Entitlements)
				}
				if p := Percent(x.CountedActive, x.Entitlements); p != nil && *p > 100 {
					t.Fatalf("seed %d: adjusted usage %v %% > 100", seed, *p)
				}
				if x.Active != x.CountedActive+x.Uncounted.Total() {
					t.Fatalf("seed %d, %d days, %s: active %d ≠ counted %d + uncounted %d", seed, w.Days, x.Workload, x.Active, x.CountedActive, x.Uncounted.Total())
				}
				if x.Entitlements > entitledUsers {
					t.Fatalf("seed %d: %s entitlements %d > entitled users %d", seed, x.Workload, x.Entitlements, entitledUsers)
				}
				// A longer window sees at least as much activity.
				if previous != nil && previous.Days < w.Days && x.Active < previous.Workloads[i].Active {
					t.Fatalf("seed %d, %s: %d active in %d days < %d in %d days", seed, x.Workload, x.Active, w.Days, previous.Workloads[i].Active, previous.Days)
				}
			}
			previous = w
		}
	}
}

// randomFigures is one customer's figures as Compute makes them.
func randomFigures(rng *rand.Rand) *Figures {
	f := Compute(randomInput(rng, 25)).Figures
	// Names vary between subscriptions; a portfolio keeps the first it
	// meets, so give every SKU one name to keep comparisons exact.
	for i := range f.Products {
		f.Products[i].Name = "name of " + f.Products[i].SKU
	}
	return &f
}

// The portfolio of customers is the sum of each customer's counts.
func TestPortfolioIsSumOfCustomers(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var p Portfolio
		var customers []*Figures
		for range 1 + rng.IntN(8) {
			f := randomFigures(rng)
			customers = append(customers, f)
			p.Add(f)
		}

		var bands BandCounts
		var deployed Deployment
		type productSum struct {
			sold             ChannelCounts
			assigned         int
			countedCustomers int
		}
		products := map[string]productSum{}
		workloads := map[string]WorkloadFigures{} // "days/workload"
		inactive := map[int]int{}
		for _, f := range customers {
			bands.add(f.Band(), 1)
			d := f.Deployment()
			deployed.Sold = deployed.Sold.Plus(d.Sold)
			deployed.Assigned += d.Assigned
			deployed.Unassigned += d.Unassigned
			for _, x := range f.Products {
				s := products[x.SKU]
				s.sold = s.sold.Plus(x.Sold)
				s.assigned += x.Assigned
				if x.Counted {
					s.countedCustomers++
				}
				products[x.SKU] = s
			}
			for _, w := range f.Windows {
				inactive[w.Days] += w.InactiveLicensedUsers
				for _, x := range w.Workloads {
					k := fmt.Sprint(w.Days, "/", x.Workload)
					s := workloads[k]
					s.Workload = x.Workload
					s.Entitlements += x.Entitlements
					s.Active += x.Active
					s.CountedActive += x.CountedActive
					s.Uncounted = s.Uncounted.Plus(x.Uncounted)
					s.Retired = s.Retired || x.Retired
					workloads[k] = s
				}
			}
		}

		if p.Customers != len(customers) || p.Bands != bands || p.Deployment() != deployed {
			t.Fatalf("seed %d: customers %d bands %+v deployed %+v, want %d %+v %+v", seed, p.Customers, p.Bands, p.Deployment(), len(customers), bands, deployed)
		}
		listed := 0
		for _, s := range products {
			if s.sold != (ChannelCounts{}) || s.assigned != 0 || s.countedCustomers != 0 {
				listed++
			}
		}
		if len(p.Products) != listed {
			t.Fatalf("seed %d: %d products, want %d", seed, len(p.Products), listed)
		}
		for i, x := range p.Products {
			s := products[x.SKU]
			if x.Sold != s.sold || x.Assigned != s.assigned || x.Counted != (s.countedCustomers > 0) || p.CountedCustomers[i] != s.countedCustomers {
				t.Fatalf("seed %d: product %+v, want %+v", seed, x, s)
			}
			if i > 0 && p.Products[i-1].SKU >= x.SKU {
				t.Fatalf("seed %d: products not sorted by SKU", seed)
			}
		}
		for _, n := range Windows {
			w, ok := p.Window(n)
			if !ok || w.InactiveLicensedUsers != inactive[n] {
				t.Fatalf("seed %d: %d-day window %+v (%v), want inactive %d", seed, n, w, ok, inactive[n])
			}
			for i, x := range w.Workloads {
				if want := workloads[fmt.Sprint(n, "/", x.Workload)]; x != want {
					t.Fatalf("seed %d, %d days: %+v, want %+v", seed, n, x, want)
				}
				if i > 0 && compareWorkloads(w.Workloads[i-1].Workload, x.Workload) >= 0 {
					t.Fatalf("seed %d: workloads out of order: %v before %v", seed, w.Workloads[i-1].Workload, x.Workload)
				}
			}
		}
	}
}

// Adding customers then removing them, in any order, gives back exactly the
// zero Portfolio; removing some gives exactly the portfolio of the others.
func TestPortfolioAddSubInverse(t *testing.T) {
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 5))
		customers := make([]*Figures, 1+rng.IntN(8))
		for i := range customers {
			customers[i] = randomFigures(rng)
		}
		var p Portfolio
		for _, i := range rng.Perm(len(customers)) {
			p.Add(customers[i])
		}
		keep := rng.IntN(len(customers))
		removeOrder := rng.Perm(len(customers))
		for _, i := range removeOrder[keep:] {
			p.Sub(customers[i])
		}
		var want Portfolio
		for _, i := range removeOrder[:keep] {
			want.Add(customers[i])
		}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("seed %d: after removing %d of %d customers\n got %+v\nwant %+v", seed, len(customers)-keep, len(customers), p, want)
		}
		for _, i := range removeOrder[:keep] {
			p.Sub(customers[i])
		}
		if !reflect.DeepEqual(p, Portfolio{}) {
			t.Fatalf("seed %d: removing every customer leaves %+v", seed, p)
		}
	}
}

// A roll-up receives each customer's changes as old→new differences, in any
// order (streams retry and shards interleave). Applying them all, shuffled,
// with a JSON round trip in between as storage would do, gives the
// portfolio of the customers' final figures.
func TestPortfolioApplyOrderIndependent(t *testing.T) {
	type diff struct{ old, new *Figures }
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 9))
		var diffs []diff
		var want Portfolio
		for range 1 + rng.IntN(6) {
			var previous *Figures
			for range 1 + rng.IntN(4) {
				next := randomFigures(rng)
				diffs = append(diffs, diff{previous, next})
				previous = next
			}
			if rng.IntN(4) == 0 { // the customer is deleted
				diffs = append(diffs, diff{previous, nil})
			} else {
				want.Add(previous)
			}
		}
		rng.Shuffle(len(diffs), func(i, j int) { diffs[i], diffs[j] = diffs[j], diffs[i] })
		var p Portfolio
		for i, d := range diffs {
			p.Apply(d.old, d.new)
			if i == len(diffs)/2 {
				p = jsonRoundTrip(t, p)
			}
		}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("seed %d: after %d shuffled diffs\n got %+v\nwant %+v", seed, len(diffs), p, want)
		}
	}
}

func jsonRoundTrip(t *testing.T, p Portfolio) Portfolio {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var out Portfolio
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, p) {
		t.Fatalf("JSON round trip changed the portfolio:\n%s", strings.TrimSpace(string(b)))
	}
	return out
}

// TestComputeStreamReusingOneUser: a replay that hands the same User (and
// the same backing arrays) for every user, as the ingest's spill does, and
// leaves keys empty when the engine says it needs none, gives the
// reference's figures and flags.
func TestComputeStreamReusingOneUser(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		in := randomInput(rng, 40)
		users := in.Users
		in.Users = nil
		replays := 0
		reused := func(keys bool, each func(*User) error) error {
			replays++
			var u User
			for _, x := range users {
				u.Deleted, u.Licenses, u.Workloads = x.Deleted, append(u.Licenses[:0], x.Licenses...), append(u.Workloads[:0], x.Workloads...)
				u.Key, u.DisplayName = "", ""
				if keys {
					u.Key, u.DisplayName = x.Key, x.DisplayName
				}
				if err := each(&u); err != nil {
					return err
				}
			}
			return nil
		}
		entitled := make([]bool, 0, len(users))
		figures, err := ComputeStream(in, reused, func(_ *User, e bool) error {
			entitled = append(entitled, e)
			return nil
		})
		in.Users = users
		want := referenceCompute(in)
		if err != nil || !reflect.DeepEqual(Result{Figures: figures, Entitled: entitled}, want) {
			t.Fatalf("seed %d: ComputeStream (error %v) differs from the reference\n got %+v\nwant %+v", seed, err, figures, want.Figures)
		}
		if replays < 2 || replays > 3 {
			t.Fatalf("seed %d: %d replays, want 2 or 3", seed, replays)
		}
	}
}

func TestComputeStreamReturnsTheFirstError(t *testing.T) {
	in := randomInput(rand.New(rand.NewPCG(1, 1)), 20)
	users := in.Users
	in.Users = nil
	stop := errors.New("the store is gone")
	n := 0
	_, err := ComputeStream(in, SliceUsers(users), func(*User, bool) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("error %v after %d users; want the callback's after 3", err, n)
	}
	broken := errors.New("spill unreadable")
	_, err = ComputeStream(in, func(bool, func(*User) error) error { return broken }, nil)
	if !errors.Is(err, broken) {
		t.Errorf("error %v; want the replay's", err)
	}
}
