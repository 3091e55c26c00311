// Package store keeps License Insights in one DynamoDB table (single-table
// design). Every key of that table is built in this file, from a valid
// license.Tenant: a request that lost its tenant cannot name any item.
//
// # Items
//
//	item                                   PK                                 SK                          GSI keys
//	------------------------------------   --------------------------------   -------------------------   --------------------------------------------------
//	customer figures (all windows)         T#<t>#C#<c>                        FIGURES                     —  (its stream records feed the portfolio roll-up)
//	customer summary (headline, 28 days)   T#<t>#C#<c>                        SUMMARY                     GSI1 T#<t>#NAME       / <lower name>#<c>
//	                                                                                                      GSI2 T#<t>#USAGE      / 1#<usage ‰, 7 digits>#<c> | 2#<c>
//	                                                                                                      GSI3 T#<t>#DEPLOY     / 1#<deploy ‰, 7 digits>#<c> | 2#<c>
//	customer rank (portfolio lists)        T#<t>#C#<c>                        RANK                        GSI1 T#<t>#UNASSIGNED / <inverted unassigned, 10 digits>#<c>  (only when unassigned > 0)
//	                                                                                                      GSI2 T#<t>#UPSELL     / <inverted usage ‰, 7 digits>#<c>     (only for upsell candidates)
//	                                                                                                      GSI3 T#<t>#COPILOTIDLE / <inverted idle Copilot seats, 10 digits>#<c>  (only when idle > 0)
//	accepted source document, per kind     T#<t>#C#<c>                        SOURCE#<kind>               —
//	combined subscriptions (current)       T#<t>#C#<c>                        SUBSCRIPTIONS               —
//	daily history (TTL expiresAt)          T#<t>#C#<c>                        DAY#<yyyy-mm-dd>            —
//	generation counter + sweep mark        T#<t>#C#<c>                        GENCOUNTER                  —  (gen: last handed out; sweptBelow: all lower deleted)
//	last collection from Microsoft         T#<t>#C#<c>                        COLLECTED                   —  (freshness.go: collectedAt, collectionId, concealedNames)
//	user row of generation g, shard s      T#<t>#C#<c>#G#<g>#S#<s>            U#<user key>                —
//	export job (exports.go)                T#<t>                              EXPORT#<id>                 —
//	upload (uploads.go)                    T#<t>                              UPLOAD#<id>                 —
//	collection run (collections.go)        T#<t>                              COLLECTION#<id>             —  (TTL expiresAt, 30 days; status, one counter per customer state)
//	customer of a collection run           T#<t>#RUN#<id>                     CUST#<customer tenant id>   —  (TTL expiresAt, 30 days; state, attempt, lease, outcome)
//	partner's own customers to collect     T#<t>                              COLLECTCUSTOMERS            —
//	price list (prices.go)                 T#<t>                              PRICES                      —  (one currency; replaced whole by PUT /v1/prices)
//	reclaim calendar line (reclaim.go)     T#<t>#RECLAIM                      L#<date|9999-12-31>#<c>#<sku>#<H|S>#<subscription>  —  (seats and dates; kind and money made when read)
//	customer's calendar lines (reclaim.go) T#<t>#C#<c>                        RECLAIMSET                  —  (FIGURES version applied, its line keys, its share of the totals; after a removal a tombstone, TTL expiresAt 3 days)
//	reclaim totals shard n of 8            T#<t>#RECLAIMTOTAL#<n>             TOTAL                       —  (t_<horizon|kind|sku|term|cycle> seat counters, ADDed per change)
//	roll-up shard n of 8 (see rollup.go)   T#<t>#ROLLUP#<n>                   ROLLUP                      —  (one partition per shard)
//	applied stream record (roll-up)        T#<t>#C#<c>                        APPLIED#<version|DEL<v>>#<stream sequence number>  —  (TTL expiresAt, 3 days)
//	portfolio history, shard n, one day    T#<t>                              PDAY#<yyyy-mm-dd>#<n>       —  (TTL expiresAt, 400 days; open and close headline of the day)
//
// (‰ here means tenths of a percent: 70.5 % is 0000705.)
//
// # Access patterns
//
//	pattern                                              table / index   key condition
//	---------------------------------------------------  --------------  ------------------------------------------------------------
//	a customer's figures, version and generation         table           GetItem PK=T#<t>#C#<c>, SK=FIGURES
//	a customer's current sources (ingest)                table           Query PK=T#<t>#C#<c>, SK begins_with SOURCE#
//	a customer's combined subscriptions                  table           GetItem PK=T#<t>#C#<c>, SK=SUBSCRIPTIONS
//	a customer's history, between two dates              table           Query PK=T#<t>#C#<c>, SK BETWEEN DAY#<from> AND DAY#<to>
//	next generation number                               table           UpdateItem PK=T#<t>#C#<c>, SK=GENCOUNTER, ADD gen 1
//	a generation's users (recompute, export)             table           Query PK=T#<t>#C#<c>#G#<g>#S#<s> for s in 0…shards-1
//	customers by name                                    GSI1            GSI1PK=T#<t>#NAME (SK order)
//	customers by usage (lowest usage: ascending)         GSI2            GSI2PK=T#<t>#USAGE; unknown usage sorts last (2#…)
//	customers by deployment                              GSI3            GSI3PK=T#<t>#DEPLOY; unknown deployment sorts last
//	customers in one adoption band                       GSI1/2/3        as above, FilterExpression band = :band
//	most unassigned licences                             GSI1            GSI1PK=T#<t>#UNASSIGNED (ascending = most first)
//	upsell candidates, busiest first                     GSI2            GSI2PK=T#<t>#UPSELL (ascending = highest usage first)
//	most idle Copilot seats (docs/definitions.md#copilot)                   GSI3            GSI3PK=T#<t>#COPILOTIDLE (ascending = most idle seats first)
//	export jobs / one export job                         table           Query PK=T#<t>, SK begins_with EXPORT# / GetItem
//	one upload                                           table           GetItem PK=T#<t>, SK=UPLOAD#<id>
//	collection runs, newest first (collections.go)       table           Query PK=T#<t>, SK begins_with COLLECTION# (descending)
//	one collection run with its counts                   table           GetItem PK=T#<t>, SK=COLLECTION#<id>
//	a run's per-customer outcomes, paged                 table           Query PK=T#<t>#RUN#<id> (customer id order)
//	claim / finish a customer of a run                   table           TransactWriteItems: customer item (conditioned on state, attempt) + ADD on the run's counters
//	the partner's own customer list                      table           GetItem / PutItem PK=T#<t>, SK=COLLECTCUSTOMERS
//	a customer's data freshness (insights)               table           BatchGetItem PK=T#<t>#C#<c>, SK=COLLECTED and SOURCE#<kind> per kind (one call, projected)
//	the tenant's price list (prices.go)                  table           GetItem PK=T#<t>, SK=PRICES
//	portfolio reclaim calendar page, by date             table           Query PK=T#<t>#RECLAIM, SK begins_with L#, from the cursor, Limit
//	portfolio reclaim totals                             table           BatchGetItem PK=T#<t>#RECLAIMTOTAL#<n>, SK=TOTAL for n in 0…7 (one call)
//	a customer's calendar lines (stream consumer)        table           GetItem PK=T#<t>#C#<c>, SK=RECLAIMSET
//	portfolio roll-up (rollup_read.go)                   table           BatchGetItem PK=T#<t>#ROLLUP#<n>, SK=ROLLUP for n in 0…7 (one call)
//	portfolio history (rollup_history.go)                table           Query PK=T#<t>, SK begins_with PDAY# (≤ 401 days × 8 shards)
//	lowest usage (portfolio list, known usage only)      GSI2            GSI2PK=T#<t>#USAGE, GSI2SK begins_with 1# (ascending)
//	every customer's figures (analytics rows, repair)    GSI1 + table    Query GSI1PK=T#<t>#NAME, then BatchGetItem FIGURES per page
//	customer list page, by name (read.go)                GSI1            GSI1PK=T#<t>#NAME, from the cursor's key; band: FilterExpression band = :band
//	customer list page, by usage (read.go)               GSI2            GSI2PK=T#<t>#USAGE, GSI2SK BETWEEN 1# AND 1$, then 2# AND 2$ (unknown last both ways)
//	customer list page, by usage in one band (read.go)   GSI2            GSI2PK=T#<t>#USAGE, GSI2SK BETWEEN the band's range (UsageBandRange), no filter
//	customer list page, by deployment (read.go)          GSI3            GSI3PK=T#<t>#DEPLOY, as by usage; band: FilterExpression band = :band
//	usage 28 days before (trend, read.go)                table           Query PK=T#<t>#C#<c>, SK BETWEEN DAY#<D−35> AND DAY#<D−28>, newest first, Limit 1
//	does the customer exist (empty history, read.go)     table           GetItem PK=T#<t>#C#<c>, SK=SUMMARY (key only)
//	delete a customer (delete.go)                        table           Query PK=T#<t>#C#<c> (keys), then one transaction: FIGURES (version-conditioned), SUMMARY, RANK, SUBSCRIPTIONS, SOURCE#*; then generations, DAY#*, GENCOUNTER (APPLIED# kept to their TTL)
//	a customer's uploads and exports (delete.go)         table           Query PK=T#<t>, SK begins_with UPLOAD# / EXPORT#, customer compared in code
//
// Nothing on a request path scans the table.
//
// # Why the user rows are laid out this way
//
// A customer's users are stored per generation: an ingest writes all of them
// under a fresh generation number, then flips FIGURES (which names the current
// generation) in one conditional transaction. Readers follow FIGURES, so they
// see the old generation complete until the flip and the new one complete
// after it. Old and abandoned generations are deleted after a flip, from a
// low-water mark kept on GENCOUNTER, so that a sweep that failed or never ran
// is made up by the next one (SweepGenerations).
//
// Within a generation the rows are spread over write shards (hash of the user
// key modulo the shard count recorded on FIGURES): a DynamoDB partition key
// takes about 1,000 writes per second, so 100,000 users under one key would
// take minutes, while 50 shards are written in parallel.
//
// The summary and the rank are two items because an item has only three GSI
// slots and the portfolio lists need five orders.
package store

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Key is the primary key of one item.
type Key struct {
	PK string
	SK string
}

// Index names of the table's global secondary indexes (template.yaml).
const (
	IndexGSI1 = "GSI1"
	IndexGSI2 = "GSI2"
	IndexGSI3 = "GSI3"
)

// Sort keys and prefixes of the customer partition.
const (
	skFigures       = "FIGURES"
	skSummary       = "SUMMARY"
	skRank          = "RANK"
	skSubscriptions = "SUBSCRIPTIONS"
	skGenCounter    = "GENCOUNTER"
	skSourcePrefix  = "SOURCE#"
	skDayPrefix     = "DAY#"
	skUserPrefix    = "U#"
)

// MaxShards bounds the write shards of one generation; MinUsersPerShard is
// how many users one shard takes before another is added.
const (
	MaxShards        = 64
	MinUsersPerShard = 2000
)

// maxUserKeyBytes keeps U#<key> well inside DynamoDB's 1,024-byte sort key.
const maxUserKeyBytes = 1000

// maxNameKeyBytes bounds the name part of the GSI1 name key.
const maxNameKeyBytes = 200

// tenantPrefix is T#<t>, the partition of tenant-wide items.
func tenantPrefix(t license.Tenant) (string, error) {
	if !t.Valid() {
		return "", license.ErrNoTenant
	}
	return "T#" + t.ID(), nil
}

// CustomerPK is T#<t>#C#<c>, the partition of everything about one customer.
// The customer id is validated: a '#' (the separator) or any other character
// outside license.ValidCustomerID is refused.
func CustomerPK(t license.Tenant, customerID string) (string, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return "", err
	}
	if err := license.ValidCustomerID(customerID); err != nil {
		return "", err
	}
	return tp + "#C#" + customerID, nil
}

func customerKey(t license.Tenant, customerID, sk string) (Key, error) {
	pk, err := CustomerPK(t, customerID)
	if err != nil {
		return Key{}, err
	}
	return Key{PK: pk, SK: sk}, nil
}

// FiguresKey is the customer's FIGURES item.
func FiguresKey(t license.Tenant, customerID string) (Key, error) {
	return customerKey(t, customerID, skFigures)
}

// SummaryKey is the customer's SUMMARY item.
func SummaryKey(t license.Tenant, customerID string) (Key, error) {
	return customerKey(t, customerID, skSummary)
}

// RankKey is the customer's RANK item.
func RankKey(t license.Tenant, customerID string) (Key, error) {
	return customerKey(t, customerID, skRank)
}

// SubscriptionsKey is the customer's SUBSCRIPTIONS item.
func SubscriptionsKey(t license.Tenant, customerID string) (Key, error) {
	return customerKey(t, customerID, skSubscriptions)
}

// GenCounterKey is the customer's generation counter.
func GenCounterKey(t license.Tenant, customerID string) (Key, error) {
	return customerKey(t, customerID, skGenCounter)
}

// SourceKey is the customer's accepted document of one kind.
func SourceKey(t license.Tenant, customerID, kind string) (Key, error) {
	if kind == "" || strings.Contains(kind, "#") {
		return Key{}, fmt.Errorf("source kind %q is empty or has a '#'", kind)
	}
	return customerKey(t, customerID, skSourcePrefix+kind)
}

// DayKey is the customer's history item of one report date.
func DayKey(t license.Tenant, customerID string, d license.Date) (Key, error) {
	if d.IsZero() {
		return Key{}, errors.New("history needs a report date")
	}
	return customerKey(t, customerID, skDayPrefix+d.String())
}

// GenerationPK is T#<t>#C#<c>#G#<g>#S#<s>, one shard of one generation.
func GenerationPK(t license.Tenant, customerID string, gen int64, shard int) (string, error) {
	pk, err := CustomerPK(t, customerID)
	if err != nil {
		return "", err
	}
	if gen < 1 {
		return "", fmt.Errorf("generation %d is not positive", gen)
	}
	if shard < 0 || shard >= MaxShards {
		return "", fmt.Errorf("shard %d is outside 0…%d", shard, MaxShards-1)
	}
	return pk + "#G#" + strconv.FormatInt(gen, 10) + "#S#" + strconv.Itoa(shard), nil
}

// UserSK is U#<user key>. A '#' in the key is harmless: nothing is parsed
// after the prefix (the key is the rest of the sort key).
func UserSK(userKey string) (string, error) {
	if userKey == "" {
		return "", errors.New("user key is empty")
	}
	if len(userKey) > maxUserKeyBytes {
		return "", fmt.Errorf("user key %.40q… is longer than %d bytes", userKey, maxUserKeyBytes)
	}
	if !utf8.ValidString(userKey) {
		return "", fmt.Errorf("user key %q is not valid UTF-8", userKey)
	}
	return skUserPrefix + userKey, nil
}

// ShardOf is the write shard of a user key: FNV-1a 32 of the key modulo
// shards. It is stable, so a generation can be re-read shard by shard.
func ShardOf(userKey string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(userKey))
	return int(h.Sum32() % uint32(shards))
}

// ShardsFor is the shard count for a generation of n users: one shard per
// MinUsersPerShard users, at least 1, at most MaxShards.
func ShardsFor(n int) int {
	s := (n + MinUsersPerShard - 1) / MinUsersPerShard
	return min(max(s, 1), MaxShards)
}

// PortfolioDayKey is T#<t> / PDAY#<date>, the prefix of one day's portfolio
// history shards (PortfolioDayShardKey).
func PortfolioDayKey(t license.Tenant, d license.Date) (Key, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return Key{}, err
	}
	if d.IsZero() {
		return Key{}, errors.New("portfolio history needs a date")
	}
	return Key{PK: tp, SK: "PDAY#" + d.String()}, nil
}

// ExportSKPrefix starts the sort key of every export job (the export
// worker's stream filter in template.yaml names it too).
const ExportSKPrefix = "EXPORT#"

// ExportKey is an export job.
func ExportKey(t license.Tenant, exportID string) (Key, error) {
	return tenantItemKey(t, ExportSKPrefix, exportID)
}

// PricesKey is the tenant's price list.
func PricesKey(t license.Tenant) (Key, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return Key{}, err
	}
	return Key{PK: tp, SK: "PRICES"}, nil
}

// UploadKey is an upload.
func UploadKey(t license.Tenant, uploadID string) (Key, error) {
	return tenantItemKey(t, "UPLOAD#", uploadID)
}

func tenantItemKey(t license.Tenant, prefix, id string) (Key, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return Key{}, err
	}
	if id == "" || len(id) > 128 || strings.Contains(id, "#") {
		return Key{}, fmt.Errorf("id %q must be 1–128 characters without '#'", id)
	}
	return Key{PK: tp, SK: prefix + id}, nil
}

// IndexKey is the key an item carries for one GSI.
type IndexKey struct {
	Index string
	PK    string
	SK    string
}

// NamePartition is GSI1PK of the customers-by-name list.
func NamePartition(t license.Tenant) (string, error) { return tenantPartition(t, "#NAME") }

// UsagePartition is GSI2PK of the customers-by-usage list.
func UsagePartition(t license.Tenant) (string, error) { return tenantPartition(t, "#USAGE") }

// DeploymentPartition is GSI3PK of the customers-by-deployment list.
func DeploymentPartition(t license.Tenant) (string, error) { return tenantPartition(t, "#DEPLOY") }

// UnassignedPartition is GSI1PK of the most-unassigned list.
func UnassignedPartition(t license.Tenant) (string, error) {
	return tenantPartition(t, "#UNASSIGNED")
}

// CopilotIdlePartition is GSI3PK of the most idle Copilot seats list.
func CopilotIdlePartition(t license.Tenant) (string, error) {
	return tenantPartition(t, "#COPILOTIDLE")
}

// copilotRankKey is the RANK item's position in the most idle Copilot
// seats list (the RANK item's third index slot); none when no seat is idle.
func copilotRankKey(t license.Tenant, customerID string, idle int) ([]IndexKey, error) {
	if idle <= 0 {
		return nil, nil
	}
	pk, err := CopilotIdlePartition(t)
	if err != nil {
		return nil, err
	}
	return []IndexKey{{IndexGSI3, pk, fmt.Sprintf("%010d#%s", invert(int64(idle), 9_999_999_999), customerID)}}, nil
}

// UpsellPartition is GSI2PK of the upsell candidates list.
func UpsellPartition(t license.Tenant) (string, error) { return tenantPartition(t, "#UPSELL") }

func tenantPartition(t license.Tenant, suffix string) (string, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return "", err
	}
	return tp + suffix, nil
}

// summaryIndexKeys are the SUMMARY item's three list positions.
func summaryIndexKeys(t license.Tenant, customerID, name string, usage, deployment *float64) ([]IndexKey, error) {
	byName, err := NamePartition(t)
	if err != nil {
		return nil, err
	}
	byUsage, _ := UsagePartition(t)
	byDeploy, _ := DeploymentPartition(t)
	return []IndexKey{
		{IndexGSI1, byName, nameSortKey(name) + "#" + customerID},
		{IndexGSI2, byUsage, percentSortKey(usage) + customerID},
		{IndexGSI3, byDeploy, percentSortKey(deployment) + customerID},
	}, nil
}

// rankIndexKeys are the RANK item's list positions; both lists are sparse.
func rankIndexKeys(t license.Tenant, customerID string, unassigned int, usage *float64, upsell bool) ([]IndexKey, error) {
	var keys []IndexKey
	if unassigned > 0 {
		pk, err := UnassignedPartition(t)
		if err != nil {
			return nil, err
		}
		keys = append(keys, IndexKey{IndexGSI1, pk, fmt.Sprintf("%010d#%s", invert(int64(unassigned), 9_999_999_999), customerID)})
	}
	if upsell && usage != nil {
		pk, err := UpsellPartition(t)
		if err != nil {
			return nil, err
		}
		keys = append(keys, IndexKey{IndexGSI2, pk, fmt.Sprintf("%07d#%s", invert(tenths(*usage), 9_999_999), customerID)})
	}
	return keys, nil
}

// nameSortKey lower-cases the name and cuts it (on a rune boundary) so that
// the sort key stays small whatever the name.
func nameSortKey(name string) string {
	s := strings.ToLower(name)
	if len(s) <= maxNameKeyBytes {
		return s
	}
	cut := maxNameKeyBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// percentSortKey is "1#<tenths, 7 digits>#" for a known percentage and "2#"
// for an unknown one, so that unknown figures sort after every number in
// both directions' natural reading (last ascending).
func percentSortKey(p *float64) string {
	if p == nil {
		return "2#"
	}
	return fmt.Sprintf("1#%07d#", tenths(*p))
}

// tenths is p in tenths of a percent, clamped to what 7 digits hold.
func tenths(p float64) int64 {
	v := int64(p*10 + 0.5)
	return min(max(v, 0), 9_999_999)
}

// invert maps v to ceiling−v (clamped), so an ascending index reads largest first.
func invert(v, ceiling int64) int64 { return ceiling - min(max(v, 0), ceiling) }

// RollupShardKey is roll-up shard n of the tenant (rollup.go). Each shard
// has a partition of its own, so that the shards take writes in parallel
// instead of sharing one partition's throughput.
func RollupShardKey(t license.Tenant, shard int) (Key, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return Key{}, err
	}
	if shard < 0 || shard >= RollupShards {
		return Key{}, fmt.Errorf("roll-up shard %d is outside 0…%d", shard, RollupShards-1)
	}
	return Key{PK: tp + "#ROLLUP#" + strconv.Itoa(shard), SK: "ROLLUP"}, nil
}

// AppliedRecordKey marks one stream record of a customer's FIGURES as
// applied to the roll-up. It lives in the customer's partition, so that a
// partner ingesting many customers at once spreads the markers over many
// partitions. change is the figures version the record brings, or
// DEL<old version> for a removal; recordID is the record's sequence number,
// which is what makes the key unique: a customer deleted and created again
// starts again at version 1.
func AppliedRecordKey(t license.Tenant, customerID, change, recordID string) (Key, error) {
	pk, err := CustomerPK(t, customerID)
	if err != nil {
		return Key{}, err
	}
	if change == "" || recordID == "" || strings.Contains(change, "#") || strings.Contains(recordID, "#") || len(recordID) > 128 {
		return Key{}, fmt.Errorf("applied marker %q/%q: both parts must be 1–128 characters without '#'", change, recordID)
	}
	return Key{PK: pk, SK: "APPLIED#" + change + "#" + recordID}, nil
}

// PortfolioDayShardKey is the history of roll-up shard n on day d.
func PortfolioDayShardKey(t license.Tenant, d license.Date, shard int) (Key, error) {
	k, err := PortfolioDayKey(t, d)
	if err != nil {
		return Key{}, err
	}
	if shard < 0 || shard >= RollupShards {
		return Key{}, fmt.Errorf("roll-up shard %d is outside 0…%d", shard, RollupShards-1)
	}
	k.SK += "#" + strconv.Itoa(shard)
	return k, nil
}

// PercentRange is the sort key range (BETWEEN lo AND hi) of the by-usage
// (GSI2) or by-deployment (GSI3) list: the customers with a known figure, or
// those without one (percentSortKey puts them under 1# and 2#).
func PercentRange(known bool) (lo, hi string) {
	if known {
		return "1#", "1$"
	}
	return "2#", "2$"
}

// UsageBandRange is the GSI2 sort key range (BETWEEN lo AND hi) of the
// customers of one adoption band in the by-usage list. The edges are where
// license.BandOf cuts (50 % and 80 %, on the figure rounded to one decimal,
// which is what the SUMMARY's usage is): an edge is the sort key prefix of
// that percentage without its trailing '#', so it sorts after every key
// below it and before every key at or above it.
func UsageBandRange(b license.Band) (lo, hi string, err error) {
	edge := func(p float64) string { return strings.TrimSuffix(percentSortKey(&p), "#") }
	switch b {
	case license.BandLow:
		return "1#", edge(50), nil
	case license.BandMedium:
		return edge(50), edge(80), nil
	case license.BandHigh:
		return edge(80), "1$", nil
	case license.BandUnknown:
		lo, hi = PercentRange(false)
		return lo, hi, nil
	}
	return "", "", fmt.Errorf("band %q is not one of low, medium, high, unknown", b)
}

// DayRange is the customer's partition and the sort key range (BETWEEN lo
// AND hi) of its history from one date to another, both included; NoDate
// leaves that end open.
func DayRange(t license.Tenant, customerID string, from, to license.Date) (pk, lo, hi string, err error) {
	if pk, err = CustomerPK(t, customerID); err != nil {
		return "", "", "", err
	}
	lo, hi = skDayPrefix, skDayPrefix+"~" // '~' sorts after every digit
	if !from.IsZero() {
		lo = skDayPrefix + from.String()
	}
	if !to.IsZero() {
		hi = skDayPrefix + to.String()
	}
	return pk, lo, hi, nil
}
