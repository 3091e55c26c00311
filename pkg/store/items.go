package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Attribute names shared by several items.
const (
	attrPK        = "PK"
	attrSK        = "SK"
	attrExpiresAt = "expiresAt" // the table's TTL attribute (template.yaml)
)

// HistoryRetention is how long a DAY# item lives after its report date.
const HistoryRetention = 400 * 24 * time.Hour

// Summary is a customer's headline figures in the default window: the
// SUMMARY, RANK and DAY# items carry it, so that every customer list and the
// history are answered from the index or partition alone.
type Summary struct {
	CustomerID   string       `json:"customerId"`
	CustomerName string       `json:"customerName"`
	ReportDate   license.Date `json:"reportDate"`
	WindowDays   int          `json:"windowDays"`
	// Sold and Assigned are over the SKUs with counted subscriptions
	// (license.Figures.Deployment).
	Sold              int                   `json:"sold"`
	SoldByChannel     license.ChannelCounts `json:"soldByChannel"`
	Assigned          int                   `json:"assigned"`
	DeploymentPercent *float64              `json:"deploymentPercent,omitempty"`
	// Unassigned is license.Deployment's: Σ over the counted SKUs of
	// max(0, sold − assigned).
	Unassigned            int      `json:"unassigned"`
	Entitlements          int      `json:"entitlements"`
	ActiveEntitlements    int      `json:"activeEntitlements"`
	CountedActive         int      `json:"countedActive"`
	UsagePercent          *float64 `json:"usagePercent,omitempty"`
	AdjustedUsagePercent  *float64 `json:"adjustedUsagePercent,omitempty"`
	InactiveLicensedUsers int      `json:"inactiveLicensedUsers"`
	Band                  string   `json:"band"`
	// Upsell marks an upsell candidate under the ingest's thresholds.
	Upsell    bool      `json:"upsell"`
	Users     int       `json:"users"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Copilot seats (docs/definitions.md#copilot): sold, assigned, and idle (unassigned plus
	// dormant or never used in the default window), which ranks customers.
	CopilotSeatsSold     int `json:"copilotSeatsSold,omitempty"`
	CopilotSeatsAssigned int `json:"copilotSeatsAssigned,omitempty"`
	CopilotIdleSeats     int `json:"copilotIdleSeats,omitempty"`
	// Replaced (DAY# items only) is the kind whose current document the
	// partner replaced on purpose that day.
	Replaced string `json:"replaced,omitempty"`
}

// SummaryOf derives the headline figures from a customer's figures.
func SummaryOf(f *license.Figures) Summary {
	d := f.Deployment()
	s := Summary{
		CustomerID:        f.Customer.ID,
		CustomerName:      f.Customer.Name,
		ReportDate:        f.ReportDate,
		WindowDays:        license.DefaultWindow,
		Sold:              d.Sold.Total(),
		SoldByChannel:     d.Sold,
		Assigned:          d.Assigned,
		Unassigned:        d.Unassigned,
		DeploymentPercent: license.Percent(d.Assigned, d.Sold.Total()),
		Band:              string(f.Band()),
	}
	if w, ok := f.Window(license.DefaultWindow); ok {
		u := w.Usage()
		s.Entitlements = u.Entitlements
		s.ActiveEntitlements = u.Active
		s.CountedActive = u.CountedActive
		s.UsagePercent = license.Percent(u.Active, u.Entitlements)
		s.AdjustedUsagePercent = license.Percent(u.CountedActive, u.Entitlements)
		s.InactiveLicensedUsers = w.InactiveLicensedUsers
	}
	if c := f.Copilot; c != nil {
		s.CopilotSeatsSold, s.CopilotSeatsAssigned, s.CopilotIdleSeats = c.Sold, c.Assigned, c.IdleSeats(license.DefaultWindow)
	}
	return s
}

// SourceRecord is one accepted document: what is needed to tell a resent
// document (SHA256), a stale one (ReportDate, AcceptedAt) and to recombine
// subscriptions without the document.
type SourceRecord struct {
	Kind       string       `json:"kind"`
	SHA256     string       `json:"sha256"`
	AcceptedAt time.Time    `json:"acceptedAt"`
	ReportDate license.Date `json:"reportDate,omitempty"`
	Rows       int          `json:"rows"`
	Users      int          `json:"users"`
	// HasSubscriptions: the kind carries subscriptions (then Subscriptions
	// is the document's set, possibly empty); HasUsers: it carries users.
	HasSubscriptions bool                   `json:"hasSubscriptions"`
	HasUsers         bool                   `json:"hasUsers"`
	Subscriptions    []license.Subscription `json:"-"`
	Support          *license.Support       `json:"-"`
	// Copilot is the Copilot usage report's rows (that kind only).
	Copilot *license.CopilotReport `json:"-"`
}

// Attribute names of JSON-encoded values.
const (
	attrFigures       = "figures"
	attrSubscriptions = "subscriptions"
	attrSupport       = "support"
)

// maxItemBytes leaves headroom under DynamoDB's 400 KB item limit.
const maxItemBytes = 390 * 1024

// putJSON stores v as a JSON string attribute; big values are refused with
// a clear error here instead of a ValidationException from the service.
func putJSON(item map[string]types.AttributeValue, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	if len(b) > maxItemBytes {
		return fmt.Errorf("%s is %d bytes of JSON, more than the %d one item holds", name, len(b), maxItemBytes)
	}
	item[name] = &types.AttributeValueMemberS{Value: string(b)}
	return nil
}

// getJSON decodes a JSON string attribute; a missing one leaves v alone.
func getJSON(item map[string]types.AttributeValue, name string, v any) error {
	a, ok := item[name]
	if !ok {
		return nil
	}
	s, ok := a.(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("attribute %s is %T, not a string", name, a)
	}
	if err := json.Unmarshal([]byte(s.Value), v); err != nil {
		return fmt.Errorf("decoding %s: %w", name, err)
	}
	return nil
}

func withKey(item map[string]types.AttributeValue, k Key) map[string]types.AttributeValue {
	item[attrPK] = &types.AttributeValueMemberS{Value: k.PK}
	item[attrSK] = &types.AttributeValueMemberS{Value: k.SK}
	return item
}

func keyOf(k Key) map[string]types.AttributeValue {
	return withKey(make(map[string]types.AttributeValue, 2), k)
}

func withIndexKeys(item map[string]types.AttributeValue, keys []IndexKey) map[string]types.AttributeValue {
	for _, k := range keys {
		item[k.Index+"PK"] = &types.AttributeValueMemberS{Value: k.PK}
		item[k.Index+"SK"] = &types.AttributeValueMemberS{Value: k.SK}
	}
	return item
}

func numberAttr(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func intOf(item map[string]types.AttributeValue, name string) (int64, error) {
	a, ok := item[name]
	if !ok {
		return 0, nil
	}
	n, ok := a.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s is %T, not a number", name, a)
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return v, nil
}

func stringOf(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// codec options: the json struct tags name the attributes (so nested domain
// types such as license.ChannelCounts keep their camelCase names), and dates
// are stored as YYYY-MM-DD strings through their text marshalling, readable
// by anyone looking at the table.
func marshalMap(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) {
		o.TagKey = "json"
		o.UseEncodingMarshalers = true
	})
}

func unmarshalMap(item map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(item, v, func(o *attributevalue.DecoderOptions) {
		o.TagKey = "json"
		o.UseEncodingUnmarshalers = true
	})
}

// summaryItem is a Summary under a key (SUMMARY, RANK or DAY#).
func summaryItem(s Summary, k Key, index []IndexKey) (map[string]types.AttributeValue, error) {
	item, err := marshalMap(s)
	if err != nil {
		return nil, fmt.Errorf("encoding summary of %s: %w", s.CustomerID, err)
	}
	return withIndexKeys(withKey(item, k), index), nil
}

// DecodeSummary reads a SUMMARY, RANK or DAY# item (as a GSI query returns
// them, too).
func DecodeSummary(item map[string]types.AttributeValue) (Summary, error) {
	var s Summary
	if err := unmarshalMap(item, &s); err != nil {
		return Summary{}, fmt.Errorf("decoding summary %s/%s: %w", stringOf(item, attrPK), stringOf(item, attrSK), err)
	}
	return s, nil
}

func sourceItem(r SourceRecord, k Key) (map[string]types.AttributeValue, error) {
	item, err := marshalMap(r)
	if err != nil {
		return nil, fmt.Errorf("encoding source %s: %w", r.Kind, err)
	}
	if r.HasSubscriptions {
		subs := r.Subscriptions
		if subs == nil {
			subs = []license.Subscription{}
		}
		if err := putJSON(item, attrSubscriptions, subs); err != nil {
			return nil, err
		}
	}
	if r.Support != nil {
		if err := putJSON(item, attrSupport, r.Support); err != nil {
			return nil, err
		}
	}
	if r.Copilot != nil {
		if err := putCopilot(item, r.Copilot); err != nil {
			return nil, err
		}
	}
	return withKey(item, k), nil
}

func decodeSource(item map[string]types.AttributeValue) (SourceRecord, error) {
	var r SourceRecord
	if err := unmarshalMap(item, &r); err != nil {
		return SourceRecord{}, fmt.Errorf("decoding source %s: %w", stringOf(item, attrSK), err)
	}
	if err := getJSON(item, attrSubscriptions, &r.Subscriptions); err != nil {
		return SourceRecord{}, err
	}
	if _, ok := item[attrSupport]; ok {
		r.Support = new(license.Support)
		if err := getJSON(item, attrSupport, r.Support); err != nil {
			return SourceRecord{}, err
		}
	}
	copilot, err := getCopilot(item)
	if err != nil {
		return SourceRecord{}, err
	}
	r.Copilot = copilot
	return r, nil
}
