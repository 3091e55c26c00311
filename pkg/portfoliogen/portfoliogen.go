// Package portfoliogen generates realistic CSP partner portfolios: customers
// with their subscriptions, users, licences and workload activity, written
// in each of the five source formats License Insights ingests (docs/definitions.md#sources).
//
// Everything is a pure function of the Config and the customer: the same
// seed gives byte-identical documents, and the five documents of one customer
// describe the same users and subscriptions, so that feeding any combination
// of them gives consistent figures. Users are generated one at a time from
// their index, so every writer streams with flat memory whatever the
// customer's size.
//
// Randomness comes only from math/rand/v2 PCG sources seeded from the
// Config's seed: one stream for the portfolio, one per customer and one per
// user, so that a user is the same in every document without any state being
// kept between them.
package portfoliogen

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Config describes the portfolio to generate.
type Config struct {
	Seed      int64
	Customers int // number of customers
	// Users is the mean number of users per customer; actual sizes vary
	// uniformly within ±50 % unless Exact.
	Users int
	// Exact gives every customer exactly Users users.
	Exact bool
	// ReportDate is the documents' report date D. Required by the writers.
	ReportDate license.Date
	// PartnerTenantID is the partner's own Entra tenant id: the directory
	// subscriptions' ownerTenantId of the subscriptions it sold. Empty means
	// one derived from Seed (see PartnerTenant).
	PartnerTenantID string
}

// PartnerTenant is the partner tenant id the documents use: PartnerTenantID,
// or one derived from Seed when it is empty. An ingestion that maps
// ownerTenantId to channels must be configured with this value.
func (cfg Config) PartnerTenant() string {
	if cfg.PartnerTenantID != "" {
		return cfg.PartnerTenantID
	}
	return newGUID(rand.New(rand.NewPCG(uint64(cfg.Seed), streamPartner)))
}

// Adoption is how much a customer's users work in the products they are
// licensed for; it steers the mix of heavy, light and dormant users so that
// every usage band of docs/definitions.md#insights-and-portfolio appears across a portfolio.
type Adoption string

// The adoption levels. They aim at the usage bands of the same name, but are
// only an aim: the band is what the figures say.
const (
	AdoptionLow    Adoption = "low"
	AdoptionMedium Adoption = "medium"
	AdoptionHigh   Adoption = "high"
)

// CustomerSpec is one generated customer. Customers makes them; a spec built
// by hand works too, and every field of it is used as given.
type CustomerSpec struct {
	Index    int    // position in the portfolio
	ID       string // customer id, e.g. "contoso-logistics-ltd"
	Name     string // e.g. "Contoso Logistics Ltd"
	TenantID string // the customer's Entra tenant id
	Domain   string // the users' e-mail domain, e.g. "contosologistics.com"
	// Users is the number of user rows in every document, deleted users
	// included.
	Users int
	// Concealed customers report users by 32-hex-digit hashes instead of
	// names, as Graph does when the tenant conceals user details.
	Concealed bool
	Adoption  Adoption
	// Seed drives everything else about the customer: SKUs, subscriptions
	// and users.
	Seed uint64
}

// Stream numbers keep the PCG streams of different purposes apart.
const (
	streamPortfolio = 0x706f7274666f6c69 // "portfoli"
	streamPartner   = 0x706172746e657273 // "partners"
	streamPlan      = 0x706c616e706c616e // "planplan"
	userSeedMix     = 0x9e3779b97f4a7c15
)

// concealedShare is the share of customers whose reports conceal user names.
const concealedShare = 0.2

// Customers is the portfolio cfg describes, deterministic from cfg.Seed.
func Customers(cfg Config) []CustomerSpec {
	if cfg.Customers <= 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), streamPortfolio))
	// Names are drawn without repetition: a shuffle of the name
	// combinations (a few thousand), different for every seed.
	total := len(companyStems) * len(companyTrades) * len(companyForms)
	order := r.Perm(total)

	out := make([]CustomerSpec, cfg.Customers)
	for i := range out {
		cr := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i)))
		combo := (i/total)*total + order[i%total]
		name, id, domain := companyName(combo)
		c := CustomerSpec{
			Index:    i,
			ID:       id,
			Name:     name,
			TenantID: newGUID(cr),
			Domain:   domain,
			Users:    customerSize(cfg, cr),
		}
		c.Concealed = cr.Float64() < concealedShare
		switch x := cr.Float64(); {
		case x < 0.30:
			c.Adoption = AdoptionLow
		case x < 0.65:
			c.Adoption = AdoptionMedium
		default:
			c.Adoption = AdoptionHigh
		}
		c.Seed = cr.Uint64()
		out[i] = c
	}
	return out
}

// customerSize is cfg.Users, or a size drawn uniformly within ±50 % of it.
func customerSize(cfg Config, r *rand.Rand) int {
	mean := max(cfg.Users, 0)
	lo, hi := (mean+1)/2, mean+mean/2
	n := lo + r.IntN(hi-lo+1) // drawn even when Exact, so the stream stays the same
	if cfg.Exact {
		return mean
	}
	return max(n, min(mean, 1))
}

// Kind is a source document format, named as the ingestion API names it.
type Kind string

// The five kinds of docs/definitions.md#sources.
const (
	KindSnapshot                    Kind = "snapshot"
	KindGraphSubscribedSkus         Kind = "graph-subscribed-skus"
	KindGraphActiveUserDetail       Kind = "graph-active-user-detail"
	KindGraphDirectorySubscriptions Kind = "graph-directory-subscriptions"
	KindPartnerCenterSubscriptions  Kind = "partner-center-subscriptions"
)

// Kinds lists every kind.
var Kinds = []Kind{
	KindSnapshot, KindGraphSubscribedSkus, KindGraphActiveUserDetail,
	KindGraphDirectorySubscriptions, KindPartnerCenterSubscriptions,
}

// Ext is the file extension of the kind's documents, without the dot.
func (k Kind) Ext() string {
	if k == KindGraphActiveUserDetail || k == KindGraphCopilotUsage {
		return "csv"
	}
	return "json"
}

// ParseKind checks a kind name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown document kind %q (want one of snapshot, graph-subscribed-skus, graph-active-user-detail, graph-directory-subscriptions, partner-center-subscriptions)", s)
}

// Write streams the customer's document of the given kind to w.
func Write(w io.Writer, kind Kind, cfg Config, c CustomerSpec) error {
	switch kind {
	case KindSnapshot:
		return WriteSnapshot(w, cfg, c)
	case KindGraphSubscribedSkus:
		return WriteSubscribedSkus(w, cfg, c)
	case KindGraphActiveUserDetail:
		return WriteActiveUserDetail(w, cfg, c)
	case KindGraphDirectorySubscriptions:
		return WriteDirectorySubscriptions(w, cfg, c)
	case KindPartnerCenterSubscriptions:
		return WritePartnerCenterSubscriptions(w, cfg, c)
	case KindGraphCopilotUsage:
		return WriteCopilotUsage(w, cfg, c)
	}
	_, err := ParseKind(string(kind))
	return err
}

// errNoReportDate is returned by every writer when the Config has no date:
// "today" would make the output depend on the clock.
var errNoReportDate = errors.New("portfoliogen: Config.ReportDate is not set")

// coprimeNear is the first number from near upwards (within [1, n)) that
// shares no factor with n, so that i ↦ i·stride mod n is a permutation.
func coprimeNear(n, near int) int {
	if n <= 1 {
		return 1
	}
	s := min(max(near, 1), n-1)
	for gcd(s, n) != 1 {
		s++
		if s >= n {
			s = 1
		}
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// newGUID is a random version-4 GUID in Microsoft's lower-case form.
func newGUID(r *rand.Rand) string {
	var b [16]byte
	fillRandom(r, b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[x>>4], hex[x&15])
	}
	return string(out)
}

func fillRandom(r *rand.Rand, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := r.Uint64()
		for j := i; j < len(b) && j < i+8; j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
}
