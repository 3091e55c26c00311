package portfoliogen

import (
	"io"
	"strconv"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// ActiveUserDetailHeader is the header row of Graph's
// getOffice365ActiveUserDetail report, column for column.
const ActiveUserDetailHeader = "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date," +
	"Has Exchange License,Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,Has Teams License," +
	"Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date," +
	"Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,Skype For Business License Assign Date,Yammer License Assign Date,Teams License Assign Date," +
	"Assigned Products"

// utf8BOM starts Graph's report downloads.
const utf8BOM = "\xEF\xBB\xBF"

// WriteActiveUserDetail streams the customer's Office 365 active user detail
// report as Graph's getOffice365ActiveUserDetail returns it: a UTF-8 BOM,
// the header row, then one row per user with CRLF line ends; booleans are
// True/False, dates YYYY-MM-DD, "Assigned Products" the upper-case product
// names joined with "+". The report refresh date is the report date.
func WriteActiveUserDetail(w io.Writer, cfg Config, c CustomerSpec) error {
	if cfg.ReportDate.IsZero() {
		return errNoReportDate
	}
	p := newPlan(cfg, c)
	o := newOutput(w)
	o.emit(append(o.buf, utf8BOM+ActiveUserDetailHeader+"\r\n"...))

	// Upper-case product names, once.
	names := make([]string, len(products))
	for i, pr := range products {
		names[i] = strings.ToUpper(pr.Name)
	}
	s := newUserStream()
	var u person
	for i := range max(c.Users, 0) {
		if o.err != nil {
			break
		}
		p.user(i, s, &u)
		b := appendDate(o.buf, p.date)
		b = append(b, ',')
		b = appendCSVField(b, u.Key)
		b = append(b, ',')
		b = appendCSVField(b, u.DisplayName)
		b = append(b, ',')
		b = appendTitleBool(b, u.Deleted)
		b = append(b, ',')
		b = appendDate(b, u.DeletedDate)
		for w := range numWorkloads {
			b = append(b, ',')
			b = appendTitleBool(b, u.Licensed[w])
		}
		for w := range numWorkloads {
			b = append(b, ',')
			b = appendDate(b, u.LastActivity[w])
		}
		for w := range numWorkloads {
			b = append(b, ',')
			b = appendDate(b, u.LicenseDate[w])
		}
		b = append(b, ',')
		for j, l := range u.Licenses() {
			if j > 0 {
				b = append(b, '+')
			}
			b = appendCSVField(b, names[l.product])
		}
		o.emit(append(b, '\r', '\n'))
	}
	return o.close()
}

func appendTitleBool(b []byte, v bool) []byte {
	if v {
		return append(b, "True"...)
	}
	return append(b, "False"...)
}

// graphSKU is one SKU's capacity in Graph's prepaidUnits buckets.
type graphSKU struct {
	k, product                             int // index into plan.skus, and into products
	enabled, warning, suspended, lockedOut int
	subscriptionIDs                        []string
}

// graphCapability maps a subscription status to Graph's terms: the
// companySubscription status, which is also the subscribedSku
// capabilityStatus, and so the prepaidUnits bucket.
func graphCapability(s license.Status) string {
	switch s {
	case license.StatusActive:
		return "Enabled"
	case license.StatusGrace:
		return "Warning"
	case license.StatusSuspended, license.StatusDisabled:
		return "Suspended"
	case license.StatusDeleted, license.StatusExpired:
		return "Deleted"
	}
	return "LockedOut" // cancelled
}

// WriteSubscribedSkus writes the customer's Graph subscribedSkus response:
// per SKU, consumedUnits (the non-deleted users holding it) and prepaidUnits
// summed over all its subscriptions by status. Graph has no channel and no
// trial flag here: a trial's seats count as enabled, as Graph reports them.
func WriteSubscribedSkus(w io.Writer, cfg Config, c CustomerSpec) error {
	if cfg.ReportDate.IsZero() {
		return errNoReportDate
	}
	p := newPlan(cfg, c)
	o := newOutput(w)

	var skus []graphSKU
	for k, pi := range p.graphSKUs() {
		g := graphSKU{k: k, product: pi}
		for _, s := range p.subs {
			if s.product != pi {
				continue
			}
			switch graphCapability(s.Status) {
			case "Enabled":
				g.enabled += s.Quantity
			case "Warning":
				g.warning += s.Quantity
			case "Suspended":
				g.suspended += s.Quantity
			case "LockedOut":
				g.lockedOut += s.Quantity
			default:
				continue
			}
			g.subscriptionIDs = append(g.subscriptionIDs, s.ID)
		}
		if len(g.subscriptionIDs) == 0 {
			continue
		}
		skus = append(skus, g)
	}

	b := append(o.buf, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#subscribedSkus","value":[`...)
	for i, g := range skus {
		pr := products[g.product]
		if i > 0 {
			b = append(b, ',')
		}
		status := "LockedOut"
		switch {
		case g.enabled > 0:
			status = "Enabled"
		case g.warning > 0:
			status = "Warning"
		case g.suspended > 0:
			status = "Suspended"
		}
		b = append(b, "\n{\"accountName\":"...)
		b = appendJSONString(b, c.Name)
		b = append(b, `,"accountId":`...)
		b = appendJSONString(b, c.TenantID)
		// A storage add-on is the company's, not a user's.
		if g.product == storageProduct {
			b = append(b, `,"appliesTo":"Company","capabilityStatus":`...)
		} else {
			b = append(b, `,"appliesTo":"User","capabilityStatus":`...)
		}
		b = appendJSONString(b, status)
		b = append(b, `,"consumedUnits":`...)
		b = appendJSONInt(b, p.consumedUnits(g.k, g.product))
		b = append(b, `,"id":`...)
		b = appendJSONString(b, c.TenantID+"_"+pr.SKUID)
		b = append(b, `,"prepaidUnits":{"enabled":`...)
		b = appendJSONInt(b, g.enabled)
		b = append(b, `,"lockedOut":`...)
		b = appendJSONInt(b, g.lockedOut)
		b = append(b, `,"suspended":`...)
		b = appendJSONInt(b, g.suspended)
		b = append(b, `,"warning":`...)
		b = appendJSONInt(b, g.warning)
		b = append(b, `},"servicePlans":[],"skuId":`...)
		b = appendJSONString(b, pr.SKUID)
		b = append(b, `,"skuPartNumber":`...)
		b = appendJSONString(b, pr.SKU)
		b = append(b, `,"subscriptionIds":[`...)
		for j, id := range g.subscriptionIDs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, id)
		}
		b = append(b, "]}"...)
	}
	o.emit(append(b, "\n]}\n"...))
	return o.close()
}

// WriteDirectorySubscriptions writes the customer's Graph
// directory/subscriptions response (companySubscription objects): one per
// subscription with its skuId, status, totalLicenses, isTrial,
// nextLifecycleDateTime and ownerTenantId — the partner's tenant for its own
// sales, another partner's for theirs (ownerType "Company"), and null for a
// direct purchase.
func WriteDirectorySubscriptions(w io.Writer, cfg Config, c CustomerSpec) error {
	return writeDirectorySubscriptions(w, cfg, c, 0)
}

// WriteDirectorySubscriptionsPages writes the same subscriptions as Graph
// pages them, pageSize to a page, the pages one after another in one
// document (concatenated JSON values), each page but the last with its
// @odata.nextLink: how a partner's script that saves every page it fetched
// sends a paged list (docs/definitions.md#sources). A customer with
// pageSize subscriptions or fewer gets one page, as Graph gives it.
func WriteDirectorySubscriptionsPages(w io.Writer, cfg Config, c CustomerSpec, pageSize int) error {
	return writeDirectorySubscriptions(w, cfg, c, max(pageSize, 1))
}

// writeDirectorySubscriptions writes one page of them all when pageSize is
// 0, else pages of pageSize.
func writeDirectorySubscriptions(w io.Writer, cfg Config, c CustomerSpec, pageSize int) error {
	if cfg.ReportDate.IsZero() {
		return errNoReportDate
	}
	p := newPlan(cfg, c)
	o := newOutput(w)
	const open = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#directory/subscriptions",`
	b := append(o.buf, open+`"value":[`...)
	first := true // first subscription of its page
	for i, s := range p.subs {
		pr := products[s.product]
		if pageSize > 0 && i > 0 && i%pageSize == 0 {
			// Close the page, naming the next one as Graph does (an
			// opaque $skiptoken), and open the next.
			b = append(b, "\n],\"@odata.nextLink\":"...)
			b = appendJSONString(b, "https://graph.microsoft.com/v1.0/directory/subscriptions?$skiptoken="+strconv.Itoa(i))
			b = append(b, "}\n"+open+`"value":[`...)
			first = true
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, "\n{\"commerceSubscriptionId\":"...)
		b = appendJSONString(b, s.ID)
		b = append(b, `,"createdDateTime":`...)
		b = appendJSONTime(b, s.Created)
		b = append(b, `,"id":`...)
		b = appendJSONString(b, s.ID)
		b = append(b, `,"isTrial":`...)
		b = appendJSONBool(b, s.Trial)
		b = append(b, `,"nextLifecycleDateTime":`...)
		b = appendJSONTime(b, s.RenewalDate)
		b = append(b, `,"ownerId":`...)
		b = appendJSONString(b, s.OwnerID)
		b = append(b, `,"ownerTenantId":`...)
		if s.OwnerTenant == "" {
			b = append(b, `null`...)
		} else {
			b = appendJSONString(b, s.OwnerTenant)
		}
		b = append(b, `,"ownerType":`...)
		b = appendJSONString(b, s.OwnerType)
		b = append(b, `,"serviceStatus":[],"skuId":`...)
		b = appendJSONString(b, pr.SKUID)
		b = append(b, `,"skuPartNumber":`...)
		b = appendJSONString(b, pr.SKU)
		b = append(b, `,"status":`...)
		b = appendJSONString(b, graphCapability(s.Status))
		b = append(b, `,"totalLicenses":`...)
		b = appendJSONInt(b, s.Quantity)
		b = append(b, '}')
	}
	o.emit(append(b, "\n]}\n"...))
	return o.close()
}
