package source

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// PriceForm names the two price-list forms of PUT /v1/prices
// (docs/definitions.md#the-reclaim-calendar).
type PriceForm string

// The forms, told apart by their header.
const (
	// PriceFormPartner: sku,monthlyPrice,currency[,termDuration,billingCycle].
	PriceFormPartner PriceForm = "partner"
	// PriceFormPriceSheet: Partner Center's New Commerce licence-based price
	// list as downloaded (ProductTitle, SkuTitle, TermDuration, BillingPlan,
	// UnitPrice, Currency, …).
	PriceFormPriceSheet PriceForm = "partner-center-price-sheet"
)

// PriceListResult is a parsed price list, its form, the rows read and the
// price-sheet rows left out (another segment, or a product the catalogue
// cannot name by a part number — the sheet lists every product Microsoft
// sells, most of which are no licence this project measures).
type PriceListResult struct {
	List    license.PriceList
	Form    PriceForm
	Rows    int
	Skipped int
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// ParsePriceList reads either price-list form. Any bad cell rejects the
// whole list with every problem's line and column (*InvalidError): a price
// list is small, and half of one would price some SKUs and silently leave
// others out. One currency per list: a second currency is a problem.
func ParsePriceList(r io.Reader) (*PriceListResult, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	pp := &priceParser{}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, pp.invalid(Problem{Line: 1, Reason: "the price list is empty: send a CSV with the header sku,monthlyPrice,currency (and optionally termDuration,billingCycle), or Partner Center's licence-based price list as downloaded"})
	}
	if err != nil {
		return nil, pp.csvError(err, 1)
	}
	cols := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if _, dup := cols[name]; dup && name != "" {
			pp.add(Problem{Line: 1, Column: strings.TrimSpace(h), Reason: "column appears twice in the header"})
			continue
		}
		cols[name] = i
	}
	out := &PriceListResult{}
	var row func(rec []string, line int)
	_, hasSKU := cols["sku"]
	_, hasUnit := cols["unitprice"]
	switch {
	case hasSKU:
		out.Form = PriceFormPartner
		row = pp.partnerRow(cols, out)
	case hasUnit:
		out.Form = PriceFormPriceSheet
		row = pp.sheetRow(cols, out)
	default:
		return nil, pp.invalid(Problem{Line: 1, Reason: "the header is neither sku,monthlyPrice,currency[,termDuration,billingCycle] nor Partner Center's licence-based price list (ProductTitle, SkuTitle, TermDuration, BillingPlan, UnitPrice, Currency): send one of the two"})
	}
	if pp.missing(cols, out.Form) {
		return nil, pp.result()
	}
	line := 1
	for {
		rec, at, malformed, err := readCSVRow(cr, line)
		if err == io.EOF {
			break
		}
		line = at
		if malformed != nil {
			pp.add(*malformed)
			continue
		}
		if err != nil {
			return nil, ioError(err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		out.Rows++
		row(rec, line)
	}
	if pp.total == 0 && len(pp.byKey) == 0 {
		reason := "the price list has a header but no price"
		if out.Form == PriceFormPriceSheet && out.Rows > 0 {
			reason = "no row of the price sheet names a licence the product catalogue knows (Commercial segment): check it is the licence-based New Commerce price list"
		}
		pp.add(Problem{Line: 1, Reason: reason})
	}
	if pp.total > 0 {
		return nil, pp.result()
	}
	out.List.Currency = pp.currency
	for _, k := range pp.order {
		out.List.Prices = append(out.List.Prices, pp.byKey[k].price)
	}
	return out, nil
}

type priceKey struct{ sku, term, cycle string }

type sheetPrice struct {
	price license.Price
	line  int
	start time.Time // a price sheet's EffectiveStartDate, to keep the newest
}

type priceParser struct {
	problems []Problem
	total    int
	currency string
	curLine  int
	byKey    map[priceKey]sheetPrice
	order    []priceKey
}

func (pp *priceParser) add(p Problem) {
	pp.total++
	if len(pp.problems) < MaxProblems {
		pp.problems = append(pp.problems, p)
	}
}

func (pp *priceParser) invalid(p Problem) error {
	pp.add(p)
	return pp.result()
}

func (pp *priceParser) result() error {
	return &InvalidError{Problems: pp.problems, Total: pp.total}
}

func (pp *priceParser) csvError(err error, line int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pp.invalid(Problem{Line: pe.StartLine, Reason: fmt.Sprintf("malformed CSV: %v (line %d, column %d)", pe.Err, pe.Line, pe.Column)})
	}
	return ioError(err)
}

// missing adds a problem per required column the header lacks.
func (pp *priceParser) missing(cols map[string]int, form PriceForm) bool {
	need := []string{"sku", "monthlyPrice", "currency"}
	if form == PriceFormPriceSheet {
		need = []string{"ProductTitle", "SkuTitle", "TermDuration", "BillingPlan", "UnitPrice", "Currency"}
	}
	bad := false
	for _, n := range need {
		if _, ok := cols[strings.ToLower(n)]; !ok {
			pp.add(Problem{Line: 1, Column: n, Reason: "required column is missing from the header"})
			bad = true
		}
	}
	return bad
}

func cell(rec []string, cols map[string]int, name string) string {
	i, ok := cols[strings.ToLower(name)]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// money reads a non-negative amount ("36", "36.00"; no thousands
// separator, a point for decimals).
func (pp *priceParser) money(v string, line int, column string) (float64, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if v == "" || err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		pp.add(Problem{Line: line, Column: column, Reason: fmt.Sprintf("%q is not a price: write a non-negative number with a point for decimals, e.g. 36.00", v)})
		return 0, false
	}
	return f, true
}

// checkCurrency holds the list to its first currency.
func (pp *priceParser) checkCurrency(v string, line int, column string) bool {
	c := strings.ToUpper(v)
	if !currencyCode.MatchString(c) {
		pp.add(Problem{Line: line, Column: column, Reason: fmt.Sprintf("%q is not an ISO 4217 currency code such as EUR or USD", v)})
		return false
	}
	if pp.currency == "" {
		pp.currency, pp.curLine = c, line
	}
	if c != pp.currency {
		pp.add(Problem{Line: line, Column: column, Reason: fmt.Sprintf("currency %s differs from %s on line %d: a price list has one currency; send the prices of one currency only", c, pp.currency, pp.curLine)})
		return false
	}
	return true
}

func (pp *priceParser) put(k priceKey, p sheetPrice, replace bool) {
	if pp.byKey == nil {
		pp.byKey = map[priceKey]sheetPrice{}
	}
	if _, ok := pp.byKey[k]; !ok {
		pp.order = append(pp.order, k)
	} else if !replace {
		return
	}
	pp.byKey[k] = p
}

func (pp *priceParser) partnerRow(cols map[string]int, out *PriceListResult) func([]string, int) {
	return func(rec []string, line int) {
		sku := cell(rec, cols, "sku")
		ok := true
		if sku == "" {
			pp.add(Problem{Line: line, Column: "sku", Reason: "the SKU part number is empty: write it as Microsoft names it, e.g. SPE_E3"})
			ok = false
		}
		price, priced := pp.money(cell(rec, cols, "monthlyPrice"), line, "monthlyPrice")
		cur := pp.checkCurrency(cell(rec, cols, "currency"), line, "currency")
		term := license.NormalizeTerm(cell(rec, cols, "termDuration"))
		if term != "" && license.TermMonths(term) == 0 {
			pp.add(Problem{Line: line, Column: "termDuration", Reason: fmt.Sprintf("%q is not a term: write P1M, P1Y or P3Y, or leave it empty for any term", term)})
			ok = false
		}
		cycle := license.NormalizeBillingCycle(cell(rec, cols, "billingCycle"))
		if cycle != "" && license.BillingMonths(cycle) == 0 {
			pp.add(Problem{Line: line, Column: "billingCycle", Reason: fmt.Sprintf("%q is not a billing cycle: write monthly, annual or triennial, or leave it empty for any", cycle)})
			ok = false
		}
		if cycle != "" && term == "" {
			pp.add(Problem{Line: line, Column: "termDuration", Reason: "a billing cycle needs its term: write the termDuration too (P1M, P1Y or P3Y)"})
			ok = false
		}
		if !ok || !priced || !cur {
			return
		}
		k := priceKey{strings.ToUpper(sku), term, cycle}
		if prev, dup := pp.byKey[k]; dup {
			pp.add(Problem{Line: line, Column: "sku", Reason: fmt.Sprintf("%s is priced twice for the same term and billing cycle (first on line %d): keep one line", sku, prev.line)})
			return
		}
		pp.put(k, sheetPrice{price: license.Price{SKU: strings.ToUpper(sku), TermDuration: term, BillingCycle: cycle, MonthlyPrice: price}, line: line}, false)
	}
}

// sheetRow reads a row of Partner Center's licence-based price list. Its
// UnitPrice is the price of one billing period (a P1Y Annual line is the
// year's price, a P1Y Monthly line a month's), so the monthly price is
// UnitPrice ÷ the billing period's months. Its products are named, not
// numbered by part number: the SkuTitle (else ProductTitle) is looked up in
// Microsoft's product catalogue. Only the Commercial segment is kept when
// the sheet has a Segment column; of several lines for one SKU, term and
// plan the newest EffectiveStartDate wins.
func (pp *priceParser) sheetRow(cols map[string]int, out *PriceListResult) func([]string, int) {
	return func(rec []string, line int) {
		if seg := cell(rec, cols, "Segment"); seg != "" && !strings.EqualFold(seg, "Commercial") {
			out.Skipped++
			return
		}
		sku, ok := sheetSKU(cell(rec, cols, "SkuTitle"), cell(rec, cols, "ProductTitle"))
		if !ok {
			out.Skipped++
			return
		}
		term := license.NormalizeTerm(cell(rec, cols, "TermDuration"))
		plan := license.NormalizeBillingCycle(cell(rec, cols, "BillingPlan"))
		months := license.BillingMonths(plan)
		if months == 0 || license.TermMonths(term) == 0 {
			// One-time and usage plans are no per-seat licence price.
			out.Skipped++
			return
		}
		unit, priced := pp.money(cell(rec, cols, "UnitPrice"), line, "UnitPrice")
		if !pp.checkCurrency(cell(rec, cols, "Currency"), line, "Currency") || !priced {
			return
		}
		start := sheetDate(cell(rec, cols, "EffectiveStartDate"))
		k := priceKey{sku, term, plan}
		prev, seen := pp.byKey[k]
		pp.put(k, sheetPrice{price: license.Price{SKU: sku, TermDuration: term, BillingCycle: plan, MonthlyPrice: math.Round(unit/float64(months)*10000) / 10000}, line: line, start: start},
			seen && start.After(prev.start))
	}
}

// sheetSKU is the part number of a price-sheet product: its SkuTitle, else
// its ProductTitle, by catalogue name.
func sheetSKU(skuTitle, productTitle string) (string, bool) {
	for _, n := range []string{skuTitle, productTitle} {
		if n == "" {
			continue
		}
		if p, ok := catalog.ByName(n); ok {
			return p.SKU, true
		}
	}
	return "", false
}

// sheetDate reads the EffectiveStartDate layouts Partner Center's sheets
// use; the zero time when it reads none (the first line then stays).
func sheetDate(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02", "1/2/2006 3:04:05 PM", "1/2/2006", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
