package license

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// SubscriptionSet is the subscriptions one accepted document gave, and when
// it was accepted (the later one wins when two sources compete).
type SubscriptionSet struct {
	Subscriptions []Subscription
	AcceptedAt    time.Time
}

// Sources are the current subscription-bearing documents of a customer; nil = none.
type Sources struct {
	Snapshot       *SubscriptionSet // native snapshot (channels, trial flags given)
	Directory      *SubscriptionSet // Graph directory/subscriptions (channel from ownerTenantId)
	SubscribedSkus *SubscriptionSet // Graph subscribedSkus: per-SKU pseudo-subscriptions, channel unknown
	PartnerCenter  *SubscriptionSet // Partner Center: this partner's own subscriptions
}

// CombineSubscriptions merges the subscription-bearing sources of one
// customer into the single list the engine computes from.
//
// The rules, in order:
//
//  1. The base list is the later accepted of Snapshot and Directory, which
//     both give individual subscriptions (on equal acceptance times the
//     Snapshot wins: it states channels and trial flags outright). When
//     neither exists the base is SubscribedSkus; otherwise there is none.
//  2. Partner Center overlays the base, because it is authoritative for this
//     partner's own sales. A Partner Center subscription whose ID equals a
//     base subscription's ID, ignoring case (IDs are GUIDs, spelt in either
//     case), marks that base subscription own and gives it the Partner
//     Center renewal date when the base has none; quantity and status stay
//     the base's.
//  3. When the base is SubscribedSkus, its pseudo-subscriptions carry
//     per-SKU totals over every channel and no IDs that could match, so each
//     Partner Center subscription's quantity is carved out of the
//     pseudo-subscriptions of the same SKU and status (in their order, never
//     below 0) and the Partner Center subscription is added as own. The
//     totals stay what Graph reports; only the channel split improves. A
//     pseudo-subscription carved down to 0 stays, with quantity 0.
//  4. A Partner Center subscription that matches nothing is added as own.
//  5. The result is sorted by SKU, then ID (then the remaining fields, so
//     that even duplicates come out in one order): the same sources always
//     give the same list. The inputs are not modified.
//
// Users are not combined here, but by the same "newest wins" idea, which the
// ingest service applies: a customer's users come from the newer of the
// native snapshot and the Graph active user detail report, by report date,
// and on equal report dates from the one accepted later.
func CombineSubscriptions(s Sources) []Subscription {
	base, fromSkus := baseSubscriptions(s)
	out := slices.Clone(base)
	if s.PartnerCenter != nil {
		if fromSkus {
			out = carvePartnerCenter(out, s.PartnerCenter.Subscriptions)
		} else {
			out = overlayPartnerCenter(out, s.PartnerCenter.Subscriptions)
		}
	}
	slices.SortFunc(out, compareSubscriptions)
	if len(out) == 0 {
		return nil
	}
	return out
}

// baseSubscriptions picks rule 1's base list and says whether it is made of
// subscribedSkus pseudo-subscriptions.
func baseSubscriptions(s Sources) (base []Subscription, fromSkus bool) {
	switch {
	case s.Snapshot != nil && s.Directory != nil:
		if s.Directory.AcceptedAt.After(s.Snapshot.AcceptedAt) {
			return s.Directory.Subscriptions, false
		}
		return s.Snapshot.Subscriptions, false
	case s.Snapshot != nil:
		return s.Snapshot.Subscriptions, false
	case s.Directory != nil:
		return s.Directory.Subscriptions, false
	case s.SubscribedSkus != nil:
		return s.SubscribedSkus.Subscriptions, true
	}
	return nil, false
}

// overlayPartnerCenter applies rule 2 to a base of individual subscriptions.
func overlayPartnerCenter(out, partnerCenter []Subscription) []Subscription {
	byID := make(map[string][]int, len(out))
	for i, b := range out {
		id := strings.ToLower(b.ID)
		byID[id] = append(byID[id], i)
	}
	for _, pc := range partnerCenter {
		matches := byID[strings.ToLower(pc.ID)]
		for _, i := range matches {
			out[i].Channel = ChannelOwn
			if out[i].RenewalDate == NoDate {
				out[i].RenewalDate = pc.RenewalDate
			}
		}
		if len(matches) == 0 {
			pc.Channel = ChannelOwn
			out = append(out, pc)
		}
	}
	return out
}

// carvePartnerCenter applies rule 2 to a base of subscribedSkus
// pseudo-subscriptions.
func carvePartnerCenter(out, partnerCenter []Subscription) []Subscription {
	pseudo := len(out)
	for _, pc := range partnerCenter {
		left := pc.Quantity
		for i := 0; i < pseudo && left > 0; i++ {
			p := &out[i]
			if p.SKU != pc.SKU || p.Status != pc.Status {
				continue
			}
			take := min(left, p.Quantity)
			if take <= 0 {
				continue
			}
			p.Quantity -= take
			left -= take
		}
		pc.Channel = ChannelOwn
		out = append(out, pc)
	}
	return out
}

// compareSubscriptions orders by SKU then ID, and breaks every remaining tie
// on the other fields so that the order never depends on the input's.
func compareSubscriptions(a, b Subscription) int {
	if c := strings.Compare(a.SKU, b.SKU); c != 0 {
		return c
	}
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Status), string(b.Status)); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Channel), string(b.Channel)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Quantity, b.Quantity); c != 0 {
		return c
	}
	if a.Trial != b.Trial {
		if a.Trial {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.RenewalDate, b.RenewalDate); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}
