package source

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Kind names an input format.
type Kind string

// The formats of docs/definitions.md#sources.
const (
	KindSnapshot          Kind = "snapshot"
	KindSubscribedSkus    Kind = "graph-subscribed-skus"
	KindActiveUserDetail  Kind = "graph-active-user-detail"
	KindDirectorySubs     Kind = "graph-directory-subscriptions"
	KindPartnerCenterSubs Kind = "partner-center-subscriptions"
	KindOrganization      Kind = "graph-organization"
)

// Kinds lists every kind, in the order the API documents them.
var Kinds = []Kind{KindSnapshot, KindSubscribedSkus, KindActiveUserDetail, KindDirectorySubs, KindPartnerCenterSubs, KindOrganization, KindCopilotUsage}

// ParseKind reads a kind name as the API's "kind" parameter gives it;
// surrounding space and letter case are ignored.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Kinds {
		if k == known {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q: want one of %s", s, kindList())
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// DetectSize is how many leading bytes Detect looks at.
const DetectSize = 4096

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

var (
	snapshotSchema = regexp.MustCompile(`"schema"\s*:\s*"license-snapshot/v1"`)
	anySchema      = regexp.MustCompile(`"schema"\s*:\s*"(license-snapshot/[^"]*)"`)
)

// keyPattern matches a JSON object member name, so that a word inside a
// string value (a display name, say) does not count.
func keyPattern(name string) *regexp.Regexp {
	return regexp.MustCompile(`"` + regexp.QuoteMeta(name) + `"\s*:`)
}

var (
	keySkuPartNumber          = keyPattern("skuPartNumber")
	keyPrepaidUnits           = keyPattern("prepaidUnits")
	keyConsumedUnits          = keyPattern("consumedUnits")
	keyTotalLicenses          = keyPattern("totalLicenses")
	keyOwnerTenantID          = keyPattern("ownerTenantId")
	keyCommerceSubscriptionID = keyPattern("commerceSubscriptionId")
	keyOfferID                = keyPattern("offerId")
	keyOfferName              = keyPattern("offerName")
	keyReportRefreshDate      = regexp.MustCompile(`(?i)"reportRefreshDate"\s*:`)
	keyVerifiedDomains        = keyPattern("verifiedDomains")
)

// Detect guesses the kind from the first bytes of a document (up to
// DetectSize, after an optional UTF-8 BOM). It looks for:
//   - JSON with "schema": "license-snapshot/v1" → snapshot;
//   - CSV whose header starts with "Report Refresh Date" → active user detail;
//   - JSON with companySubscription members (totalLicenses, ownerTenantId,
//     commerceSubscriptionId) → directory subscriptions;
//   - JSON with subscribedSku members (skuPartNumber with prepaidUnits or
//     consumedUnits) → subscribed SKUs;
//   - JSON with offerId or offerName → Partner Center subscriptions.
//
// Graph's {"@odata.context":…, "value":[…]}, Partner Center's
// {"totalCount":n, "items":[…]} and bare arrays all qualify, since only member
// names are looked at. Directory subscriptions are tested before subscribed
// SKUs because both carry skuPartNumber.
func Detect(head []byte) (Kind, error) {
	if len(head) > DetectSize {
		head = head[:DetectSize]
	}
	head = bytes.TrimPrefix(head, utf8BOM)
	if msg := encodingProblem(head[:min(len(head), encodingPeek)]); msg != "" {
		return "", errors.New(msg)
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 {
		return "", fmt.Errorf("cannot detect the kind of an empty document")
	}
	if detectCopilot(trimmed) {
		return KindCopilotUsage, nil
	}
	switch trimmed[0] {
	case '{', '[':
		switch {
		case snapshotSchema.Match(trimmed):
			return KindSnapshot, nil
		case anySchema.Match(trimmed):
			m := anySchema.FindSubmatch(trimmed)
			return "", fmt.Errorf("schema %q is not supported: want license-snapshot/v1", m[1])
		case keyTotalLicenses.Match(trimmed) || keyOwnerTenantID.Match(trimmed) || keyCommerceSubscriptionID.Match(trimmed):
			return KindDirectorySubs, nil
		case keySkuPartNumber.Match(trimmed) && (keyPrepaidUnits.Match(trimmed) || keyConsumedUnits.Match(trimmed)):
			return KindSubscribedSkus, nil
		case keyOfferID.Match(trimmed) || keyOfferName.Match(trimmed):
			return KindPartnerCenterSubs, nil
		case keyReportRefreshDate.Match(trimmed):
			return KindActiveUserDetail, nil // the report's JSON form
		case keyVerifiedDomains.Match(trimmed):
			return KindOrganization, nil
		}
		return "", fmt.Errorf("cannot detect the kind of this JSON document from its first %d bytes: pass kind (one of %s)", len(head), kindList())
	}
	firstLine, _, _ := bytes.Cut(trimmed, []byte("\n"))
	firstLine = bytes.TrimPrefix(bytes.TrimSpace(firstLine), []byte(`"`))
	if len(firstLine) >= len(colReportRefreshDate) && strings.EqualFold(string(firstLine[:len(colReportRefreshDate)]), colReportRefreshDate) {
		return KindActiveUserDetail, nil
	}
	return "", fmt.Errorf("cannot detect the kind of this document: it is neither JSON nor a CSV starting with %q; pass kind (one of %s)", colReportRefreshDate, kindList())
}
