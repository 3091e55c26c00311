package license

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var (
	acceptedMonday  = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	acceptedTuesday = acceptedMonday.Add(24 * time.Hour)
)

func subSet(at time.Time, subs ...Subscription) *SubscriptionSet {
	return &SubscriptionSet{Subscriptions: subs, AcceptedAt: at}
}

func subIDs(subs []Subscription) []string {
	var out []string
	for _, s := range subs {
		out = append(out, s.ID)
	}
	return out
}

// Rule 1: which source gives the base list.
func TestCombineBase(t *testing.T) {
	snapshot := paidSub("snap", "SPE_E3", 1, ChannelPartner)
	directory := paidSub("dir", "SPE_E3", 1, ChannelDirect)
	skus := paidSub("skus", "SPE_E3", 1, ChannelUnknown)
	cases := []struct {
		name    string
		sources Sources
		want    []string
	}{
		{"nothing", Sources{}, nil},
		{"snapshot only", Sources{Snapshot: subSet(acceptedMonday, snapshot)}, []string{"snap"}},
		{"directory only", Sources{Directory: subSet(acceptedMonday, directory)}, []string{"dir"}},
		{"directory accepted later", Sources{Snapshot: subSet(acceptedMonday, snapshot), Directory: subSet(acceptedTuesday, directory)}, []string{"dir"}},
		{"snapshot accepted later", Sources{Snapshot: subSet(acceptedTuesday, snapshot), Directory: subSet(acceptedMonday, directory)}, []string{"snap"}},
		{"same time: snapshot", Sources{Snapshot: subSet(acceptedMonday, snapshot), Directory: subSet(acceptedMonday, directory)}, []string{"snap"}},
		{"subscribedSkus only when neither", Sources{SubscribedSkus: subSet(acceptedTuesday, skus)}, []string{"skus"}},
		{"subscribedSkus ignored beside snapshot, even later", Sources{Snapshot: subSet(acceptedMonday, snapshot), SubscribedSkus: subSet(acceptedTuesday, skus)}, []string{"snap"}},
		{"subscribedSkus ignored beside directory", Sources{Directory: subSet(acceptedMonday, directory), SubscribedSkus: subSet(acceptedTuesday, skus)}, []string{"dir"}},
		{"an empty snapshot is still the base", Sources{Snapshot: subSet(acceptedTuesday), Directory: subSet(acceptedMonday, directory)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := subIDs(CombineSubscriptions(c.sources)); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// Rules 2 and 4 over individual subscriptions: IDs match ignoring case; a match
// becomes own and takes the Partner Center renewal date only if it has
// none; quantity and status stay the base's; the rest is added as own.
func TestCombinePartnerCenterOverIndividualSubscriptions(t *testing.T) {
	withRenewal := func(s Subscription, date string) Subscription {
		s.RenewalDate = mustParseDate(date)
		return s
	}
	base := []Subscription{
		paidSub("ABC-1", "SPE_E3", 10, ChannelUnknown),
		withRenewal(paidSub("def-2", "EMS", 5, ChannelPartner), "2027-01-01"),
		paidSub("x", "VISIO", 2, ChannelDirect),
	}
	partnerCenter := []Subscription{
		withRenewal(newSub("abc-1", "SPE_E3", 99, StatusSuspended, false, ChannelUnknown), "2027-05-01"),
		withRenewal(paidSub("DEF-2", "EMS", 5, ChannelOwn), "2027-09-09"),
		newSub("new-3", "SPE_E5", 3, StatusActive, true, ""),
	}
	for _, kind := range []string{"snapshot", "directory"} {
		t.Run(kind, func(t *testing.T) {
			s := Sources{PartnerCenter: subSet(acceptedMonday, partnerCenter...)}
			if kind == "snapshot" {
				s.Snapshot = subSet(acceptedMonday, base...)
			} else {
				s.Directory = subSet(acceptedMonday, base...)
			}
			baseBefore := slices.Clone(base)
			pcBefore := slices.Clone(partnerCenter)
			got := CombineSubscriptions(s)
			want := []Subscription{
				withRenewal(paidSub("def-2", "EMS", 5, ChannelOwn), "2027-01-01"),
				withRenewal(paidSub("ABC-1", "SPE_E3", 10, ChannelOwn), "2027-05-01"),
				newSub("new-3", "SPE_E5", 3, StatusActive, true, ChannelOwn),
				paidSub("x", "VISIO", 2, ChannelDirect),
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %+v\nwant %+v", got, want)
			}
			if !reflect.DeepEqual(base, baseBefore) || !reflect.DeepEqual(partnerCenter, pcBefore) {
				t.Error("CombineSubscriptions modified its input")
			}
		})
	}
}

// Rules 3 and 4 over subscribedSkus: Partner Center quantities are carved out of
// the pseudo-subscription of the same SKU and status, never below 0, and
// added as own.
//
// SPE_E3 active 25 − p1's 10 = 15 (unknown) + 10 (own): still 25 sold.
// SPE_E3 grace 5 − p2's 2 = 3. EMS active 3 − p3's 5 → 0 (floor), p3 adds 5.
// p4 (VISIO) and p5 (SPE_E3 suspended) match no pseudo-subscription: added.
func TestCombinePartnerCenterOverSubscribedSkus(t *testing.T) {
	pseudo := []Subscription{
		newSub("SPE_E3/active", "SPE_E3", 25, StatusActive, false, ChannelUnknown),
		newSub("SPE_E3/grace", "SPE_E3", 5, StatusGrace, false, ChannelUnknown),
		newSub("EMS/active", "EMS", 3, StatusActive, false, ChannelUnknown),
	}
	partnerCenter := []Subscription{
		paidSub("p1", "SPE_E3", 10, ChannelUnknown),
		newSub("p2", "SPE_E3", 2, StatusGrace, false, ChannelOwn),
		paidSub("p3", "EMS", 5, ChannelOwn),
		paidSub("p4", "VISIO", 1, ChannelOwn),
		newSub("p5", "SPE_E3", 4, StatusSuspended, false, ChannelOwn),
	}
	pseudoBefore := slices.Clone(pseudo)
	got := CombineSubscriptions(Sources{SubscribedSkus: subSet(acceptedMonday, pseudo...), PartnerCenter: subSet(acceptedMonday, partnerCenter...)})
	want := []Subscription{
		newSub("EMS/active", "EMS", 0, StatusActive, false, ChannelUnknown),
		paidSub("p3", "EMS", 5, ChannelOwn),
		newSub("SPE_E3/active", "SPE_E3", 15, StatusActive, false, ChannelUnknown),
		newSub("SPE_E3/grace", "SPE_E3", 3, StatusGrace, false, ChannelUnknown),
		paidSub("p1", "SPE_E3", 10, ChannelOwn),
		newSub("p2", "SPE_E3", 2, StatusGrace, false, ChannelOwn),
		newSub("p5", "SPE_E3", 4, StatusSuspended, false, ChannelOwn),
		paidSub("p4", "VISIO", 1, ChannelOwn),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(pseudo, pseudoBefore) {
		t.Error("CombineSubscriptions modified the subscribedSkus input")
	}
	e3 := productOf(t, computeAt(got).Figures, "SPE_E3")
	if e3.Sold != (ChannelCounts{Own: 10, Unknown: 15}) {
		t.Errorf("SPE_E3 sold %+v, want own 10 + unknown 15 = Graph's 25", e3.Sold)
	}
}

// Two pseudo-subscriptions of one SKU and status are carved in order.
func TestCombineCarvesAcrossPseudoSubscriptions(t *testing.T) {
	got := CombineSubscriptions(Sources{
		SubscribedSkus: subSet(acceptedMonday, paidSub("a", "SPE_E3", 3, ChannelUnknown), paidSub("b", "SPE_E3", 4, ChannelUnknown)),
		PartnerCenter:  subSet(acceptedMonday, paidSub("pc", "SPE_E3", 5, ChannelOwn)),
	})
	// a: 3 − 3 = 0, b: 4 − 2 = 2, pc 5 → total 7 as Graph said.
	want := []Subscription{paidSub("a", "SPE_E3", 0, ChannelUnknown), paidSub("b", "SPE_E3", 2, ChannelUnknown), paidSub("pc", "SPE_E3", 5, ChannelOwn)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

// Partner Center alone: its subscriptions, all own.
func TestCombinePartnerCenterAlone(t *testing.T) {
	got := CombineSubscriptions(Sources{PartnerCenter: subSet(acceptedMonday, paidSub("b", "EMS", 1, ChannelUnknown), paidSub("a", "EMS", 2, ""))})
	want := []Subscription{paidSub("a", "EMS", 2, ChannelOwn), paidSub("b", "EMS", 1, ChannelOwn)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

// Rule 5: the output order never depends on the input order, even with
// duplicate SKU and ID pairs.
func TestCombineDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := []Subscription{
		paidSub("2", "B", 1, ChannelOwn), paidSub("1", "B", 1, ChannelOwn), paidSub("1", "A", 3, ChannelDirect),
		paidSub("1", "A", 2, ChannelDirect), newSub("1", "A", 2, StatusGrace, false, ChannelDirect), newSub("1", "A", 2, StatusActive, true, ChannelDirect),
		newSub("9", "C", 2, StatusActive, false, ChannelPartner),
	}
	partnerCenter := []Subscription{paidSub("9", "C", 1, ChannelOwn), paidSub("7", "D", 1, ChannelOwn)}
	first := CombineSubscriptions(Sources{Directory: subSet(acceptedMonday, base...), PartnerCenter: subSet(acceptedMonday, partnerCenter...)})
	for range 20 {
		rng.Shuffle(len(base), func(i, j int) { base[i], base[j] = base[j], base[i] })
		rng.Shuffle(len(partnerCenter), func(i, j int) { partnerCenter[i], partnerCenter[j] = partnerCenter[j], partnerCenter[i] })
		if got := CombineSubscriptions(Sources{Directory: subSet(acceptedMonday, base...), PartnerCenter: subSet(acceptedMonday, partnerCenter...)}); !reflect.DeepEqual(got, first) {
			t.Fatalf("order depends on input order:\n%+v\n%+v", got, first)
		}
	}
	for i := 1; i < len(first); i++ {
		a, b := first[i-1], first[i]
		if a.SKU > b.SKU || a.SKU == b.SKU && a.ID > b.ID {
			t.Errorf("not sorted by SKU then ID: %+v before %+v", a, b)
		}
	}
}
