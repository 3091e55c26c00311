package source

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func TestParsePriceListPartner(t *testing.T) {
	doc := "sku,monthlyPrice,currency,termDuration,billingCycle\n" +
		"SPE_E3,36.00,eur,P1Y,Annual\n" +
		"spe_e3,43.20,EUR,p1m,monthly\n" +
		"O365_BUSINESS_PREMIUM,12.50,EUR,,\n"
	got, err := ParsePriceList(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := license.PriceList{Currency: "EUR", Prices: []license.Price{
		{SKU: "SPE_E3", TermDuration: "P1Y", BillingCycle: "annual", MonthlyPrice: 36},
		{SKU: "SPE_E3", TermDuration: "P1M", BillingCycle: "monthly", MonthlyPrice: 43.20},
		{SKU: "O365_BUSINESS_PREMIUM", MonthlyPrice: 12.50},
	}}
	if got.Form != PriceFormPartner || got.Rows != 3 || !reflect.DeepEqual(got.List, want) {
		t.Errorf("got %+v\nwant form partner, 3 rows, %+v", got, want)
	}
	// The three columns alone are the short form.
	got, err = ParsePriceList(strings.NewReader("sku,monthlyPrice,currency\nSPE_E5,57,USD\n"))
	if err != nil || got.List.Currency != "USD" || len(got.List.Prices) != 1 || got.List.Prices[0] != (license.Price{SKU: "SPE_E5", MonthlyPrice: 57}) {
		t.Errorf("short form: %+v, %v", got, err)
	}
}

// The sheet's monthly prices: UnitPrice ÷ the billing period's months.
// E3 P1Y Annual 432 (the newer line replaces 420 of May) → 36; P1Y
// Monthly 37.80 → 37.80; P1M Monthly 43.20; P3Y Triennial 1296 ÷ 36 → 36;
// Business Standard (O365_BUSINESS_PREMIUM) P1Y Annual 150 → 12.50. The
// Education line and the product the catalogue does not know are skipped.
func TestParsePriceListPriceSheet(t *testing.T) {
	f, err := os.Open("testdata/nce-license-price-sheet.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParsePriceList(f)
	if err != nil {
		t.Fatal(err)
	}
	want := license.PriceList{Currency: "EUR", Prices: []license.Price{
		{SKU: "SPE_E3", TermDuration: "P1Y", BillingCycle: "annual", MonthlyPrice: 36},
		{SKU: "SPE_E3", TermDuration: "P1Y", BillingCycle: "monthly", MonthlyPrice: 37.80},
		{SKU: "SPE_E3", TermDuration: "P1M", BillingCycle: "monthly", MonthlyPrice: 43.20},
		{SKU: "SPE_E3", TermDuration: "P3Y", BillingCycle: "triennial", MonthlyPrice: 36},
		{SKU: "O365_BUSINESS_PREMIUM", TermDuration: "P1Y", BillingCycle: "annual", MonthlyPrice: 12.50},
	}}
	if got.Form != PriceFormPriceSheet || got.Rows != 8 || got.Skipped != 2 || !reflect.DeepEqual(got.List, want) {
		t.Errorf("got form %s, %d rows, %d skipped, %+v\nwant price sheet, 8 rows, 2 skipped, %+v", got.Form, got.Rows, got.Skipped, got.List, want)
	}
}

func TestParsePriceListRefused(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []Problem
	}{
		{"two currencies", "sku,monthlyPrice,currency\nSPE_E3,36,EUR\nSPE_E5,57,USD\n",
			[]Problem{{Line: 3, Column: "currency", Reason: "currency USD differs from EUR on line 2: a price list has one currency; send the prices of one currency only"}}},
		{"bad cells", "sku,monthlyPrice,currency,termDuration,billingCycle\n,36,EUR,,\nSPE_E3,-1,EURO,P2W,weekly\n",
			[]Problem{
				{Line: 2, Column: "sku", Reason: "the SKU part number is empty: write it as Microsoft names it, e.g. SPE_E3"},
				{Line: 3, Column: "monthlyPrice", Reason: `"-1" is not a price: write a non-negative number with a point for decimals, e.g. 36.00`},
				{Line: 3, Column: "currency", Reason: `"EURO" is not an ISO 4217 currency code such as EUR or USD`},
				{Line: 3, Column: "termDuration", Reason: `"P2W" is not a term: write P1M, P1Y or P3Y, or leave it empty for any term`},
				{Line: 3, Column: "billingCycle", Reason: `"weekly" is not a billing cycle: write monthly, annual or triennial, or leave it empty for any`},
			}},
		{"priced twice", "sku,monthlyPrice,currency\nSPE_E3,36,EUR\nSPE_E3,37,EUR\n",
			[]Problem{{Line: 3, Column: "sku", Reason: "SPE_E3 is priced twice for the same term and billing cycle (first on line 2): keep one line"}}},
		{"missing column", "sku,currency\nSPE_E3,EUR\n",
			[]Problem{{Line: 1, Column: "monthlyPrice", Reason: "required column is missing from the header"}}},
		{"unknown header", "a,b\n1,2\n",
			[]Problem{{Line: 1, Reason: "the header is neither sku,monthlyPrice,currency[,termDuration,billingCycle] nor Partner Center's licence-based price list (ProductTitle, SkuTitle, TermDuration, BillingPlan, UnitPrice, Currency): send one of the two"}}},
		{"no rows", "sku,monthlyPrice,currency\n",
			[]Problem{{Line: 1, Reason: "the price list has a header but no price"}}},
		{"sheet with two currencies", "ProductTitle,SkuTitle,TermDuration,BillingPlan,UnitPrice,Currency\nMicrosoft 365 E3,Microsoft 365 E3,P1Y,Annual,432,EUR\nMicrosoft 365 E5,Microsoft 365 E5,P1Y,Annual,684,USD\n",
			[]Problem{{Line: 3, Column: "Currency", Reason: "currency USD differs from EUR on line 2: a price list has one currency; send the prices of one currency only"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParsePriceList(strings.NewReader(c.doc))
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("got %+v, %v; want refused", got, err)
			}
			if !reflect.DeepEqual(inv.Problems, c.want) || inv.Total != len(c.want) {
				t.Errorf("problems %+v (total %d)\nwant %+v", inv.Problems, inv.Total, c.want)
			}
		})
	}
}
