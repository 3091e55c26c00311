package portfoliogen

import (
	"io"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// partnerCenterStatus maps a subscription status to Partner Center's
// lifecycle: a subscription past its term is "expired" for its 30 days of
// grace, then "disabled"; a partner can "suspend" one.
func partnerCenterStatus(s license.Status) string {
	switch s {
	case license.StatusActive:
		return "active"
	case license.StatusGrace:
		return "expired"
	case license.StatusSuspended:
		return "suspended"
	case license.StatusDisabled:
		return "disabled"
	case license.StatusExpired:
		return "expired"
	}
	return "deleted"
}

// WritePartnerCenterSubscriptions writes the Partner Center response for the
// customer's subscriptions: only those this partner sold (channel own), as
// {"totalCount", "items", "attributes": {"objectType": "Collection"}}.
// offerId is the SKU GUID in upper case (the legacy offers' GUID form) and
// offerName the product name, so either identifies the SKU through the
// catalog; commitmentEndDate is the renewal date.
func WritePartnerCenterSubscriptions(w io.Writer, cfg Config, c CustomerSpec) error {
	if cfg.ReportDate.IsZero() {
		return errNoReportDate
	}
	p := newPlan(cfg, c)
	o := newOutput(w)
	var own []subscription
	for _, s := range p.subs {
		if s.Channel == license.ChannelOwn {
			own = append(own, s)
		}
	}
	b := append(o.buf, `{"totalCount":`...)
	b = appendJSONInt(b, len(own))
	b = append(b, `,"items":[`...)
	for i, s := range own {
		pr := products[s.product]
		if i > 0 {
			b = append(b, ',')
		}
		status := partnerCenterStatus(s.Status)
		term := "P1Y"
		if s.BillingCycle == "monthly" {
			term = "P1M"
		}
		if s.Trial {
			term = "P1M"
		}
		b = append(b, "\n{\"id\":"...)
		b = appendJSONString(b, s.ID)
		b = append(b, `,"offerId":`...)
		b = appendJSONString(b, strings.ToUpper(pr.SKUID))
		b = append(b, `,"offerName":`...)
		b = appendJSONString(b, pr.Name)
		b = append(b, `,"friendlyName":`...)
		b = appendJSONString(b, pr.Name)
		b = append(b, `,"quantity":`...)
		b = appendJSONInt(b, s.Quantity)
		b = append(b, `,"unitType":"Licenses","creationDate":`...)
		b = appendJSONTime(b, s.Created)
		b = append(b, `,"effectiveStartDate":`...)
		b = appendJSONTime(b, s.Created)
		b = append(b, `,"commitmentEndDate":`...)
		b = appendJSONTime(b, s.RenewalDate)
		b = append(b, `,"status":`...)
		b = appendJSONString(b, status)
		if status != "active" {
			b = append(b, `,"suspensionReasons":[`...)
			if s.Status == license.StatusGrace {
				b = appendJSONString(b, "Expired")
			} else {
				b = appendJSONString(b, "PartnerInitiated")
			}
			b = append(b, ']')
		}
		b = append(b, `,"autoRenewEnabled":`...)
		b = appendJSONBool(b, s.AutoRenew)
		b = append(b, `,"isTrial":`...)
		b = appendJSONBool(b, s.Trial)
		b = append(b, `,"billingType":"license","billingCycle":`...)
		b = appendJSONString(b, s.BillingCycle)
		b = append(b, `,"termDuration":`...)
		b = appendJSONString(b, term)
		b = append(b, `,"isMicrosoftProduct":true,"contractType":"subscription","links":{"self":{"uri":`...)
		b = appendJSONString(b, "/customers/"+c.TenantID+"/subscriptions/"+s.ID)
		b = append(b, `,"method":"GET","headers":[]}},"orderId":`...)
		b = appendJSONString(b, s.OrderID)
		b = append(b, `,"attributes":{"objectType":"Subscription"}}`...)
	}
	o.emit(append(b, "\n],\"attributes\":{\"objectType\":\"Collection\"}}\n"...))
	return o.close()
}
