package license

// Waste prices unused licences where the partner configured monthly SKU
// prices (docs/definitions.md#recommendations): the money side of reclaim.
type Waste struct {
	Currency                string  `json:"currency"`
	UnassignedLicenses      int     `json:"unassignedLicenses"`
	InactiveLicensedUsers   int     `json:"inactiveLicensedUsers"`
	MonthlyUnassignedCost   float64 `json:"monthlyUnassignedCost"`
	MonthlyInactiveCost     float64 `json:"monthlyInactiveCost"`
	MonthlyPotentialSavings float64 `json:"monthlyPotentialSavings"`
	AnnualPotentialSavings  float64 `json:"annualPotentialSavings"`
	// UnpricedSKUs lists SKUs with unused licences but no configured price.
	UnpricedSKUs []string `json:"unpricedSkus"`
}

// WasteOf prices a customer's unassigned licences (counted SKUs) and its
// inactive licensed users for window n. Inactive users are priced at the
// cheapest entitled SKU they could hold — a user's SKU is not in the
// figures, so the estimate stays on the safe (lower) side. Nil when no SKU
// of the customer has a price.
func WasteOf(f *Figures, n int, prices map[string]float64, currency string) *Waste {
	if len(prices) == 0 {
		return nil
	}
	w, _ := f.Window(n)
	out := &Waste{Currency: currency, InactiveLicensedUsers: w.InactiveLicensedUsers, UnpricedSKUs: []string{}}
	cheapest := -1.0
	priced := false
	for _, p := range f.Products {
		price, ok := prices[p.SKU]
		if !p.Counted {
			continue
		}
		if ok {
			priced = true
			if cheapest < 0 || price < cheapest {
				cheapest = price
			}
		}
		un := p.Unassigned()
		out.UnassignedLicenses += un
		if un == 0 {
			continue
		}
		if !ok {
			out.UnpricedSKUs = append(out.UnpricedSKUs, p.SKU)
			continue
		}
		out.MonthlyUnassignedCost += float64(un) * price
	}
	if !priced {
		return nil
	}
	out.MonthlyInactiveCost = float64(w.InactiveLicensedUsers) * cheapest
	out.MonthlyUnassignedCost = money(out.MonthlyUnassignedCost)
	out.MonthlyInactiveCost = money(out.MonthlyInactiveCost)
	out.MonthlyPotentialSavings = money(out.MonthlyUnassignedCost + out.MonthlyInactiveCost)
	out.AnnualPotentialSavings = money(out.MonthlyPotentialSavings * 12)
	return out
}

func money(v float64) float64 {
	if v < 0 {
		return 0
	}
	return float64(int64(v*100+0.5)) / 100
}
