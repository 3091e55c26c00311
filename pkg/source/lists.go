package source

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// recordFunc validates one record (an element of a list: a subscription,
// a user) and collects or hands over what it gives; problems go to rec. An
// error stops the parse (onUser's).
type recordFunc func(rec *record, o object) error

// list reads the subscription lists of Graph and Partner Center:
// a bare array, Graph's {"@odata.context": …, "value": [ … ]} or Partner
// Center's {"totalCount": n, "items": [ … ], "attributes": { … }}. Other
// members are skipped.
//
// A list Microsoft pages (@odata.nextLink, Partner Center's links.next) is
// taken whole when its pages are sent as one document (docs/definitions.md#sources): the page
// envelopes one after another (concatenated JSON values), or a JSON array
// of them. The pages' records are merged; a page never replaces another.
func (p *parser) list(r io.Reader, each recordFunc) error {
	js := newJSONStream(p, r)
	err := p.walkPages(js, each)
	if err == errBroken {
		return nil
	}
	return err
}

// walkPages reads one top-level JSON value after another until the end.
func (p *parser) walkPages(js *jsonStream, each recordFunc) error {
	for page := 0; ; page++ {
		if err := p.walkList(js, each, page); err != nil {
			return err
		}
		if !js.more() {
			return js.end()
		}
	}
}

func (p *parser) walkList(js *jsonStream, each recordFunc, page int) error {
	tok, err := js.token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		if err := p.records(js, "", each); err != nil {
			return err
		}
	case json.Delim('{'):
		found := ""
		for js.more() {
			kt, err := js.token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if (key == "value" || key == "items") && found == "" {
				found = key
				if err := p.arrayOf(js, key, each); err != nil {
					return err
				}
				continue
			}
			if key == "value" || key == "items" {
				p.fail(Problem{Line: js.line(), Column: key, Reason: fmt.Sprintf("a second list (%q) after %q: one document holds one list", key, found)})
			}
			if err := js.skip(); err != nil {
				return err
			}
		}
		if _, err := js.token(); err != nil { // the closing '}'
			return err
		}
		if found == "" {
			p.fail(Problem{Line: js.line(), Reason: fmt.Sprintf(`no list found in page %d: want a JSON array, or an object with a "value" (Graph) or "items" (Partner Center) array`, page+1)})
		}
	default:
		p.fail(Problem{Line: js.line(), Reason: fmt.Sprintf("want a JSON array or object, not %v", tok)})
		return errBroken
	}
	return nil
}

// arrayOf reads the member key's value, which must be an array (null counts
// as empty), record by record.
func (p *parser) arrayOf(js *jsonStream, key string, each recordFunc) error {
	tok, err := js.token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		return p.records(js, key, each)
	case nil:
		return nil
	}
	p.fail(Problem{Line: js.line(), Column: key, Reason: "must be a JSON array"})
	return js.skipRest(tok)
}

// records reads the elements of the array just opened, then its ']'.
func (p *parser) records(js *jsonStream, base string, each recordFunc) error {
	var v any
	for i := 0; js.more(); i++ {
		line, raw, err := js.value(&v)
		if err != nil {
			return err
		}
		if key, items, ok := pageEnvelope(v); ok {
			// One page of a paged list, inside a JSON array of pages: its
			// records are located within the page's bytes.
			for j, item := range items {
				p.doc.Rows++
				rec := &record{raw: raw, line: line, base: formatPath(base, i), fold: true}
				if o, ok := rec.asObject(item, []pathSeg{key, j}); ok {
					if err := each(rec, o); err != nil {
						return err
					}
				}
				p.rowProblems(rec.probs, rec.unlisted)
			}
			continue
		}
		p.doc.Rows++
		rec := &record{raw: raw, line: line, base: formatPath(base, i), fold: true}
		if o, ok := rec.asObject(v, nil); ok {
			if err := each(rec, o); err != nil {
				return err
			}
		}
		p.rowProblems(rec.probs, rec.unlisted)
	}
	_, err := js.token() // the closing ']'
	return err
}

// pageEnvelope recognises a page of a paged list inside an array of pages:
// an object with a "value" (Graph) or "items" (Partner Center) array. No
// record of these lists has such a member.
func pageEnvelope(v any) (key string, items []any, ok bool) {
	m, isObject := v.(map[string]any)
	if !isObject {
		return "", nil, false
	}
	for _, key := range []string{"value", "items"} {
		if items, ok := m[key].([]any); ok {
			return key, items, true
		}
	}
	return "", nil, false
}

// Capacity buckets of a subscribedSku's prepaidUnits, and the status each
// stands for (docs/definitions.md#sources).
var prepaidBuckets = []struct {
	name   string
	status license.Status
}{
	{"enabled", license.StatusActive},
	{"warning", license.StatusGrace},
	{"suspended", license.StatusSuspended},
	{"lockedOut", license.StatusDisabled},
}

// subscribedSku reads one element of Graph's subscribedSkus list. Graph
// gives totals per SKU, not purchases, so each non-zero capacity bucket
// becomes one pseudo-subscription "<skuId>/<bucket>" (enabled → active,
// warning → grace, suspended → suspended, lockedOut → disabled) with an
// unknown channel: the totals mix every channel. capabilityStatus is
// informational (the buckets already say it). appliesTo "Company" marks a
// tenant-level capacity (storage add-ons and the like): an excluded product.
func (p *parser) subscribedSku(rec *record, o object) error {
	sku, skuID, ok := rec.skuOf(o)
	appliesTo, aok := rec.str(o, "appliesTo", false)
	ok = ok && aok
	if consumed := o.get("consumedUnits"); consumed != nil {
		if _, reason := parseCount(consumed); reason != "" {
			rec.problem(o.path("consumedUnits"), "%s", reason)
		}
	}
	prepaid := o.get("prepaidUnits")
	if prepaid == nil {
		rec.problem(o.path("prepaidUnits"), "is required")
		return nil
	}
	units, uok := rec.asObject(prepaid, o.path("prepaidUnits"))
	if !uok {
		return nil
	}
	quantities := make([]int, len(prepaidBuckets))
	for i, b := range prepaidBuckets {
		n, nok := rec.integer(units, b.name, false)
		ok = ok && nok
		quantities[i] = n
	}
	if !ok || rec.bad() {
		return nil
	}
	prefix := skuID
	if prefix == "" {
		prefix = sku
	}
	for i, b := range prepaidBuckets {
		if quantities[i] == 0 {
			continue
		}
		s := license.Subscription{
			ID: prefix + "/" + b.name, SKU: sku, Name: catalog.Name(sku),
			Quantity: quantities[i], Status: b.status, Channel: license.ChannelUnknown,
			Company: strings.EqualFold(appliesTo, "Company"),
		}
		if probs := p.addSubscription(s, rec.line, rec.base); probs != nil {
			rec.probs = append(rec.probs, probs...)
			return nil
		}
	}
	return nil
}

// skuOf resolves a record's SKU part number from skuPartNumber, or else
// from skuId through the catalogue. It returns the lower-cased skuId too.
func (r *record) skuOf(o object) (sku, skuID string, ok bool) {
	sku, ok1 := r.str(o, "skuPartNumber", false)
	skuID, ok2 := r.str(o, "skuId", false)
	skuID = strings.ToLower(skuID)
	if !ok1 || !ok2 {
		return "", "", false
	}
	if sku != "" {
		return sku, skuID, true
	}
	if skuID == "" {
		r.problem(o.path("skuPartNumber"), "is required (or a skuId the catalogue knows)")
		return "", "", false
	}
	prod, found := catalog.BySKUID(skuID)
	if !found {
		r.problem(o.path("skuId"), "%s is not in the SKU catalogue and there is no skuPartNumber", skuID)
		return "", "", false
	}
	return prod.SKU, skuID, true
}

// directoryStatus maps companySubscription.status (case-insensitive).
var directoryStatus = map[string]license.Status{
	"enabled":   license.StatusActive,
	"warning":   license.StatusGrace,
	"suspended": license.StatusSuspended,
	"lockedout": license.StatusDisabled,
	"deleted":   license.StatusDeleted,
}

// directorySubscription reads one Graph companySubscription
// (GET /directory/subscriptions):
//
//	id, commerceSubscriptionId → ID: the commerce id when present, so that it
//	  meets Partner Center's id for the same purchase; lower-cased, as GUIDs
//	  compare case-insensitively and the two sources differ in case;
//	skuPartNumber, or skuId through the catalogue → SKU;
//	status Enabled/Warning/Suspended/LockedOut/Deleted → active/grace/
//	  suspended/disabled/deleted (any other value is a problem);
//	totalLicenses → Quantity; isTrial → Trial;
//	nextLifecycleDateTime → RenewalDate (its date part);
//	ownerTenantId → Channel (see directoryChannel).
//
// createdDateTime, ownerId, ownerType and serviceStatus are not used.
func (p *parser) directorySubscription(rec *record, o object) error {
	id, ok1 := rec.str(o, "id", false)
	commerceID, ok2 := rec.str(o, "commerceSubscriptionId", false)
	sku, _, ok3 := rec.skuOf(o)
	statusText, ok4 := rec.str(o, "status", true)
	quantity, ok5 := rec.integer(o, "totalLicenses", true)
	trial, ok6 := rec.boolean(o, "isTrial")
	renewal, ok7 := rec.datePart(o, "nextLifecycleDateTime")
	ownerTenant, ok8 := rec.str(o, "ownerTenantId", false)
	subID := strings.ToLower(commerceID)
	if subID == "" {
		subID = strings.ToLower(id)
	}
	if ok1 && ok2 && subID == "" {
		rec.problem(o.path("id"), "is required (or commerceSubscriptionId)")
	}
	status, known := directoryStatus[strings.ToLower(statusText)]
	if ok4 && !known {
		rec.problem(o.path("status"), "%q is not a companySubscription status (Enabled, Warning, Suspended, LockedOut, Deleted)", statusText)
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || rec.bad() {
		return nil
	}
	s := license.Subscription{
		ID: subID, SKU: sku, Name: catalog.Name(sku), Quantity: quantity, Status: status,
		Trial: trial, Channel: directoryChannel(ownerTenant, p.opts.PartnerTenantID), RenewalDate: renewal,
	}
	rec.probs = append(rec.probs, p.addSubscription(s, rec.line, rec.base)...)
	return nil
}

// directoryChannel tells who sold a directory subscription (docs/definitions.md#sources, the channel rule), from
// ownerTenantId alone:
//   - the partner's own tenant (PARTNER_TENANT_ID, any case) → own;
//   - empty or null → direct: nobody resold it, it was bought from Microsoft;
//   - any other tenant → partner (another CSP partner's tenant);
//   - without PARTNER_TENANT_ID a non-empty owner could be this partner or
//     another, so it is unknown.
//
// ownerType never decides: Graph documents it as the type of the owning
// object, not as a sales channel, and other partners' tenants carry
// "Company" like any tenant does.
func directoryChannel(ownerTenant, partnerTenant string) license.Channel {
	ownerTenant = strings.TrimSpace(ownerTenant)
	switch {
	case ownerTenant == "":
		return license.ChannelDirect
	case partnerTenant == "":
		return license.ChannelUnknown
	case strings.EqualFold(ownerTenant, partnerTenant):
		return license.ChannelOwn
	}
	return license.ChannelPartner
}

// partnerCenterStatus maps Partner Center's subscription status
// (case-insensitive). Any other value, "pending" and "none" included, is a
// subscription not (yet) usable: disabled, never an error.
var partnerCenterStatus = map[string]license.Status{
	"active":    license.StatusActive,
	"suspended": license.StatusSuspended,
	"deleted":   license.StatusDeleted,
	"expired":   license.StatusExpired,
	"disabled":  license.StatusDisabled,
}

// partnerCenterSubscription reads one Partner Center customer subscription
// (GET /v1/customers/{id}/subscriptions): these are this partner's own
// sales, so the channel is own.
//
//	id → ID (lower-cased, see directorySubscription);
//	offerName → SKU through the catalogue's names, else the offer name
//	  itself (friendlyName when there is no offerName);
//	quantity → Quantity; status → Status; isTrial → Trial;
//	commitmentEndDate → RenewalDate (its date part); autoRenewEnabled,
//	  termDuration, billingCycle, cancellationAllowedUntilDate → the
//	  renewal's details; status "pending" → Pending (no renewal listed).
//
// Usage-based records (billingType "usage", unitType "Usage-based": Azure
// plans) are not seat licences and are left out without a problem.
func (p *parser) partnerCenterSubscription(rec *record, o object) error {
	id, ok1 := rec.str(o, "id", true)
	offer, ok2 := rec.str(o, "offerName", false)
	friendly, ok3 := rec.str(o, "friendlyName", false)
	quantity, ok4 := rec.integer(o, "quantity", true)
	statusText, ok5 := rec.str(o, "status", true)
	trial, ok6 := rec.boolean(o, "isTrial")
	renewal, ok7 := rec.datePart(o, "commitmentEndDate")
	billingType, ok8 := rec.str(o, "billingType", false)
	unitType, ok9 := rec.str(o, "unitType", false)
	term, ok10 := rec.str(o, "termDuration", false)
	cycle, ok11 := rec.str(o, "billingCycle", false)
	cancellable, ok12 := rec.datePart(o, "cancellationAllowedUntilDate")
	var autoRenew *bool
	if o.get("autoRenewEnabled") != nil {
		v, ok := rec.boolean(o, "autoRenewEnabled")
		if ok {
			autoRenew = &v
		}
	}
	ok9 = ok9 && ok10 && ok11 && ok12
	name := offer
	if name == "" {
		name = friendly
	}
	if ok2 && ok3 && name == "" {
		rec.problem(o.path("offerName"), "is required (or friendlyName)")
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9) || rec.bad() {
		return nil
	}
	if strings.EqualFold(billingType, "usage") || strings.EqualFold(unitType, "Usage-based") {
		return nil
	}
	status, known := partnerCenterStatus[strings.ToLower(statusText)]
	if !known {
		status = license.StatusDisabled
	}
	sku := name
	if prod, found := catalog.ByName(name); found {
		sku, name = prod.SKU, prod.Name
	}
	s := license.Subscription{
		ID: strings.ToLower(id), SKU: sku, Name: name, Quantity: quantity, Status: status,
		Trial: trial, Channel: license.ChannelOwn, RenewalDate: renewal,
		AutoRenew: autoRenew, TermDuration: term, BillingCycle: cycle, CancellableUntil: cancellable,
		Pending: strings.EqualFold(statusText, "pending"),
	}
	rec.probs = append(rec.probs, p.addSubscription(s, rec.line, rec.base)...)
	return nil
}
