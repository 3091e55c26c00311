package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// The reads of the InsightsFunction: the customer list (one Query per page
// on the index kept for the asked order), a customer's history (one Query
// per page) and the usage 28 days before (one Query of one item). None of
// them reads user rows, so their cost does not depend on customers' sizes.

// ErrBadCursor: a cursor that does not continue the list it is given to —
// another tenant's, another order's or band's, or one tampered with.
var ErrBadCursor = errors.New("the cursor does not belong to this list")

// MaxPageSize bounds every page (docs/definitions.md#insights-and-portfolio: limit 1–500).
const MaxPageSize = 500

// CustomerSort is an order of the customer list.
type CustomerSort string

// The orders of GET /v1/customers.
const (
	SortByName       CustomerSort = "name"
	SortByUsage      CustomerSort = "usage"
	SortByDeployment CustomerSort = "deployment"
)

// ListQuery asks for one page of the customer list.
type ListQuery struct {
	Sort       CustomerSort
	Descending bool
	// Band keeps the customers of one adoption band ("" keeps all).
	Band  license.Band
	Limit int // 1…MaxPageSize
	// After continues from a previous page's Next (nil: the first page).
	After *CustomerCursor
}

// CustomerCursor is where a page of the customer list ended: the list it
// belongs to and the index key of its last item. The API hands it out
// encoded; it is checked against the tenant and the query before use.
type CustomerCursor struct {
	Sort       CustomerSort `json:"s"`
	Descending bool         `json:"d,omitempty"`
	Band       license.Band `json:"b,omitempty"`
	PK         string       `json:"pk"`
	SK         string       `json:"sk"`
	IndexPK    string       `json:"ipk"`
	IndexSK    string       `json:"isk"`
}

// CustomerPage is one page of the customer list.
type CustomerPage struct {
	Items []Summary
	// Next continues the list; nil on the last page.
	Next *CustomerCursor
}

// keyRange is one stretch of an index read in order: BETWEEN lo AND hi, or
// the whole partition when both are empty.
type keyRange struct{ lo, hi string }

// listPlan is how one ordered list is read: an index, its partition, the
// ranges in reading order and an optional band filter.
type listPlan struct {
	index     string
	partition string
	ranges    []keyRange
	filter    license.Band
}

func planList(t license.Tenant, q ListQuery) (listPlan, error) {
	var p listPlan
	var err error
	known, unknown := keyRange{}, keyRange{}
	known.lo, known.hi = PercentRange(true)
	unknown.lo, unknown.hi = PercentRange(false)
	switch q.Sort {
	case SortByName:
		p.index = IndexGSI1
		p.partition, err = NamePartition(t)
		p.ranges = []keyRange{{}}
		p.filter = q.Band
	case SortByUsage:
		p.index = IndexGSI2
		p.partition, err = UsagePartition(t)
		if q.Band != "" {
			var r keyRange
			if r.lo, r.hi, err = UsageBandRange(q.Band); err != nil {
				return p, err
			}
			p.ranges = []keyRange{r}
		} else {
			// Customers with no usage figure come last in both
			// directions: a partner sorting by usage wants figures first.
			p.ranges = []keyRange{known, unknown}
		}
	case SortByDeployment:
		p.index = IndexGSI3
		p.partition, err = DeploymentPartition(t)
		p.ranges = []keyRange{known, unknown}
		p.filter = q.Band
	default:
		return p, fmt.Errorf("sort %q is not one of name, usage, deployment", q.Sort)
	}
	if q.Band != "" && !q.Band.Valid() {
		return p, fmt.Errorf("band %q is not one of low, medium, high, unknown", q.Band)
	}
	return p, err
}

// startOf checks a cursor against the tenant's list and gives the range it
// continues and the key to continue after.
func (p listPlan) startOf(t license.Tenant, q ListQuery) (int, map[string]types.AttributeValue, error) {
	c := q.After
	if c == nil {
		return 0, nil, nil
	}
	customers, err := tenantPrefix(t)
	if err != nil {
		return 0, nil, err
	}
	customers += "#C#"
	if c.Sort != q.Sort || c.Descending != q.Descending || c.Band != q.Band ||
		c.IndexPK != p.partition || c.SK != skSummary || !strings.HasPrefix(c.PK, customers) ||
		license.ValidCustomerID(strings.TrimPrefix(c.PK, customers)) != nil || c.IndexSK == "" {
		return 0, nil, ErrBadCursor
	}
	for i, r := range p.ranges {
		if r == (keyRange{}) || (r.lo <= c.IndexSK && c.IndexSK <= r.hi) {
			return i, map[string]types.AttributeValue{
				attrPK:         &types.AttributeValueMemberS{Value: c.PK},
				attrSK:         &types.AttributeValueMemberS{Value: c.SK},
				p.index + "PK": &types.AttributeValueMemberS{Value: c.IndexPK},
				p.index + "SK": &types.AttributeValueMemberS{Value: c.IndexSK},
			}, nil
		}
	}
	return 0, nil, ErrBadCursor
}

// ListCustomers reads one page of the tenant's customers (their SUMMARY
// items) in the asked order, from the index kept for it: no Scan and no
// sorting in memory. A band filter on the usage order is a key range; on
// the other orders it is a FilterExpression, and pages are read until the
// page is full or the index ends. The page is one item longer than asked
// on the index side, so that Next is nil exactly when nothing follows.
func (s *Store) ListCustomers(ctx context.Context, t license.Tenant, q ListQuery) (*CustomerPage, error) {
	if q.Limit < 1 || q.Limit > MaxPageSize {
		return nil, fmt.Errorf("page size %d is outside 1…%d", q.Limit, MaxPageSize)
	}
	plan, err := planList(t, q)
	if err != nil {
		return nil, err
	}
	first, start, err := plan.startOf(t, q)
	if err != nil {
		return nil, err
	}
	page := &CustomerPage{Items: make([]Summary, 0, q.Limit)}
	var last map[string]types.AttributeValue
	more := false
	for ri := first; ri < len(plan.ranges) && !more; ri++ {
		in := plan.query(s.table, plan.ranges[ri], !q.Descending)
		in.ExclusiveStartKey = start
		start = nil
		for {
			need := q.Limit - len(page.Items)
			in.Limit = aws.Int32(int32(need + 1))
			if plan.filter != "" {
				// The limit counts items read before the filter: read
				// more at once than the page still needs.
				in.Limit = aws.Int32(int32(min(max(4*(need+1), 100), 1000)))
			}
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("reading the customer list: %w", err)
			}
			var took map[string]types.AttributeValue
			if page.Items, took, more, err = appendSummaries(page.Items, out.Items, q.Limit); err != nil {
				return nil, err
			}
			if took != nil {
				last = took
			}
			if more || out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	if more {
		page.Next = &CustomerCursor{
			Sort: q.Sort, Descending: q.Descending, Band: q.Band,
			PK: stringOf(last, attrPK), SK: stringOf(last, attrSK),
			IndexPK: stringOf(last, plan.index+"PK"), IndexSK: stringOf(last, plan.index+"SK"),
		}
	}
	return page, nil
}

func (p listPlan) query(table string, r keyRange, forward bool) *dynamodb.QueryInput {
	pkName, skName := p.index+"PK", p.index+"SK"
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(p.index),
		ScanIndexForward:          aws.Bool(forward),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkName},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: p.partition}},
	}
	if r != (keyRange{}) {
		*in.KeyConditionExpression += " AND #sk BETWEEN :lo AND :hi"
		in.ExpressionAttributeNames["#sk"] = skName
		in.ExpressionAttributeValues[":lo"] = &types.AttributeValueMemberS{Value: r.lo}
		in.ExpressionAttributeValues[":hi"] = &types.AttributeValueMemberS{Value: r.hi}
	}
	if p.filter != "" {
		in.FilterExpression = aws.String("#band = :band")
		in.ExpressionAttributeNames["#band"] = "band"
		in.ExpressionAttributeValues[":band"] = &types.AttributeValueMemberS{Value: string(p.filter)}
	}
	return in
}

// HistoryQuery asks for one page of a customer's history.
type HistoryQuery struct {
	// From and To bound the report dates, both included; NoDate leaves
	// that end open.
	From, To license.Date
	Limit    int // 1…MaxPageSize
	// After continues after this date (a previous page's Next).
	After license.Date
}

// HistoryPage is one page of a customer's daily headline figures, in date
// order.
type HistoryPage struct {
	Items []Summary
	// Next is the last date of this page when more follow, else NoDate.
	Next license.Date
}

// History reads the customer's DAY# items in date order. A customer with no
// history in the range is told apart from one that does not exist (or is
// another tenant's): the first page, when empty, checks the SUMMARY item,
// and a missing customer is ErrNotFound.
func (s *Store) History(ctx context.Context, t license.Tenant, customerID string, q HistoryQuery) (*HistoryPage, error) {
	if q.Limit < 1 || q.Limit > MaxPageSize {
		return nil, fmt.Errorf("page size %d is outside 1…%d", q.Limit, MaxPageSize)
	}
	from := q.From
	if !q.After.IsZero() && q.After.AddDays(1) > from {
		from = q.After.AddDays(1)
	}
	page := &HistoryPage{Items: make([]Summary, 0, q.Limit)}
	if !q.To.IsZero() && from > q.To {
		return page, s.mustExist(ctx, t, customerID, q.After)
	}
	in, err := s.daysQuery(t, customerID, from, q.To)
	if err != nil {
		return nil, err
	}
	more := false
	for {
		in.Limit = aws.Int32(int32(q.Limit - len(page.Items) + 1))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("reading the history of %s: %w", customerID, err)
		}
		if page.Items, _, more, err = appendSummaries(page.Items, out.Items, q.Limit); err != nil {
			return nil, err
		}
		if more || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if more {
		page.Next = page.Items[len(page.Items)-1].ReportDate
	}
	if len(page.Items) == 0 {
		return page, s.mustExist(ctx, t, customerID, q.After)
	}
	return page, nil
}

// daysQuery reads the customer's DAY# history items from from to to
// (DayRange's bounds), oldest first.
func (s *Store) daysQuery(t license.Tenant, customerID string, from, to license.Date) (*dynamodb.QueryInput, error) {
	pk, lo, hi, err := DayRange(t, customerID, from, to)
	if err != nil {
		return nil, err
	}
	return &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":lo": &types.AttributeValueMemberS{Value: lo},
			":hi": &types.AttributeValueMemberS{Value: hi},
		},
	}, nil
}

// appendSummaries decodes the SUMMARY items of a query's answer onto page
// until it holds limit; more says an item was left over (so a next page
// exists), last is the last item taken (nil when none was).
func appendSummaries(page []Summary, items []map[string]types.AttributeValue, limit int) (_ []Summary, last map[string]types.AttributeValue, more bool, _ error) {
	for _, item := range items {
		if len(page) == limit {
			return page, last, true, nil
		}
		sum, err := DecodeSummary(item)
		if err != nil {
			return nil, nil, false, err
		}
		page = append(page, sum)
		last = item
	}
	return page, last, false, nil
}

// mustExist is ErrNotFound when the customer has no SUMMARY item. It is
// skipped on later pages (after is set): the first page already checked.
func (s *Store) mustExist(ctx context.Context, t license.Tenant, customerID string, after license.Date) error {
	if !after.IsZero() {
		return nil
	}
	k, err := SummaryKey(t, customerID)
	if err != nil {
		return err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(k), ProjectionExpression: aws.String(attrPK),
	})
	if err != nil {
		return fmt.Errorf("reading customer %s: %w", customerID, err)
	}
	if out.Item == nil {
		return fmt.Errorf("customer %s: %w", customerID, ErrNotFound)
	}
	return nil
}

// TrendBaseline is the customer's headline figures license.TrendDays before
// the report date d: the newest history point from d−(TrendDays+
// TrendTolerance) to d−TrendDays, so that customers who report weekly have
// one too. Nil when there is none.
func (s *Store) TrendBaseline(ctx context.Context, t license.Tenant, customerID string, d license.Date) (*Summary, error) {
	if d.IsZero() {
		return nil, nil
	}
	in, err := s.daysQuery(t, customerID, d.AddDays(-(license.TrendDays + license.TrendTolerance)), d.AddDays(-license.TrendDays))
	if err != nil {
		return nil, err
	}
	in.ScanIndexForward, in.Limit = aws.Bool(false), aws.Int32(1)
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("reading the usage of %s 28 days before: %w", customerID, err)
	}
	if len(out.Items) == 0 {
		return nil, nil
	}
	sum, err := DecodeSummary(out.Items[0])
	if err != nil {
		return nil, err
	}
	return &sum, nil
}
