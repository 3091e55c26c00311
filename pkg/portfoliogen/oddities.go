package portfoliogen

import (
	"math/rand/v2"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Real tenants' oddities (docs/definitions.md#excluded-products): some
// customers also hold Microsoft's free Power Automate offer (10,000 units,
// a few users assigned), an extra SharePoint storage add-on (appliesTo
// Company in subscribedSkus, nobody holds it) and a viral trial whose
// report name is outside the hand-made product list the catalogue grew
// from. All three are excluded products, so the figures of the customers
// stay what they were; their draws come from a stream of their own, so
// that every other draw is unchanged too.

const (
	freeSKU    = "FLOW_FREE"         // Microsoft Power Automate Free
	storageSKU = "SHAREPOINTSTORAGE" // Office 365 Extra File Storage
	viralSKU   = "FORMS_PRO"         // Dynamics 365 Customer Voice Trial
	// streamOddities keeps these draws apart from the plan's and Copilot's.
	streamOddities = 0x6f64646974696573 // "oddities"
	// freeUnits is what Microsoft grants a tenant of a free or viral offer.
	freeUnits = 10000
)

var (
	freeProduct    = productIndex(freeSKU)
	storageProduct = productIndex(storageSKU)
	viralProduct   = productIndex(viralSKU)
)

func productIndex(sku string) int {
	for i, p := range products {
		if p.SKU == sku {
			return i
		}
	}
	panic("portfoliogen: " + sku + " is not among the products")
}

// planOddities decides which oddities the customer has and buys them. The
// holders of the free offer and of the viral trial are the last users of
// the main suite's segment (Copilot's are the first).
func (p *plan) planOddities() {
	r := rand.New(rand.NewPCG(p.c.Seed, streamOddities))
	if p.perSKU[0] >= 10 && r.Float64() < 0.4 {
		p.freeHolders = 1 + r.IntN(5)
		p.addSub(r, freeProduct, freeUnits, license.ChannelDirect, false)
	}
	if r.Float64() < 0.3 {
		// Storage is sold in 1 GB units; this partner sells it with the suite.
		p.addSub(r, storageProduct, 10*(1+r.IntN(10)), license.ChannelOwn, false)
		p.subs[len(p.subs)-1].Company = true
		p.storage = true
	}
	if p.perSKU[0] >= 10 && r.Float64() < 0.3 {
		p.viralHolders = 1 + r.IntN(3)
		p.addSub(r, viralProduct, freeUnits, license.ChannelDirect, true)
	}
}

// oddLicenses adds the free offer and the viral trial to a user at position
// at of the main suite's segment, when it holds them. The dates are drawn
// from nothing, so the user's own stream is unchanged: the free offer some
// time in the last year, the viral trial within its first weeks.
func (p *plan) oddLicenses(i, at int, u *person) {
	n := p.perSKU[0]
	if at >= n-p.freeHolders {
		u.licenses[u.nLicenses] = heldLicense{freeProduct, max(p.date.AddDays(-1-(i*37)%365), u.licenses[0].assigned)}
		u.nLicenses++
	}
	if at >= n-p.viralHolders {
		u.licenses[u.nLicenses] = heldLicense{viralProduct, p.date.AddDays(-(i % 20))}
		u.nLicenses++
	}
}

// graphSKUs are the SKUs subscribedSkus lists, by index: skus, then Copilot
// when the customer has seats, then the oddities it has.
func (p *plan) graphSKUs() []int {
	out := append([]int(nil), p.skus...)
	if p.copilotHolders > 0 {
		out = append(out, copilotProduct)
	}
	if p.freeHolders > 0 {
		out = append(out, freeProduct)
	}
	if p.storage {
		out = append(out, storageProduct)
	}
	if p.viralHolders > 0 {
		out = append(out, viralProduct)
	}
	return out
}

// consumedUnits is the number of non-deleted users holding product pi,
// graphSKUs()[k].
func (p *plan) consumedUnits(k, pi int) int {
	if k < len(p.skus) {
		return p.assigned(k)
	}
	switch pi {
	case copilotProduct:
		return p.copilotHolders
	case freeProduct:
		return p.freeHolders
	case viralProduct:
		return p.viralHolders
	}
	return 0 // storage: a company-level add-on
}
