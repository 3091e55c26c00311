package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Document kinds written by the collector: the ingest's kinds (docs/definitions.md#sources),
// plus graph-organization, which names the customer.
const (
	KindOrganization     = "graph-organization"
	KindSubscribedSkus   = "graph-subscribed-skus"
	KindDirectorySubs    = "graph-directory-subscriptions"
	KindActiveUserDetail = "graph-active-user-detail"
	KindPartnerCenter    = "partner-center-subscriptions"
	KindCopilotUsage     = "graph-copilot-usage-user-detail"
)

// Document is one collected document, pages merged: a paged list is its
// pages' JSON values one after another, as the ingest accepts them (docs/definitions.md#sources).
type Document struct {
	Kind string
	Body []byte
}

// Customer is what one customer's collection gathered.
type Customer struct {
	TenantID  string
	Name      string // Graph organization's displayName ("" if it had none)
	Documents []Document
	// ConcealedNames is admin/reportSettings' displayConcealedNames; nil
	// when the app may not read it (403 means "unknown", docs/definitions.md#collection-from-microsoft).
	ConcealedNames *bool
	// Notes say what was left out without failing the customer (a Copilot
	// report Graph refused); the outcome's message carries them.
	Notes []string
}

// CustomerRef is a customer of the partner as Partner Center lists it.
type CustomerRef struct {
	TenantID string `json:"tenantId"`
	Name     string `json:"name"`
	Domain   string `json:"domain,omitempty"`
}

// Client collects from Graph and Partner Center.
type Client struct {
	endpoints     Endpoints
	tokens        TokenSource
	partnerTenant string
	http          *httpDoer
}

// Config builds a Client.
type Config struct {
	Endpoints       Endpoints
	Tokens          TokenSource
	PartnerTenantID string       // the partner's own tenant: Partner Center's token is minted there
	HTTPClient      *http.Client // nil: a default client (trusting SSL_CERT_FILE)
	Retry           Retry        // zero: DefaultRetry
}

// New is a Client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Endpoints.Validate(); err != nil {
		return nil, err
	}
	if cfg.Tokens == nil {
		return nil, errors.New("collect: no token source")
	}
	return &Client{endpoints: cfg.Endpoints, tokens: cfg.Tokens, partnerTenant: cfg.PartnerTenantID, http: newDoer(cfg.HTTPClient, cfg.Retry)}, nil
}

// The permissions to grant, named in a 401/403's message.
const (
	hintGraph = "grant the app the Graph application permissions Reports.Read.All, Organization.Read.All (or LicenseAssignment.Read.All) and ReportSettings.Read.All, consent them in the customer tenant, and give your GDAP relationship at least the Reports Reader role; then collect again"
	hintPC    = "give the app Partner Center API access (Partner Center → Account settings → App management) and check PARTNER_TENANT_ID; then collect again"
)

// Collect fetches a customer's documents, every one or none: the first
// failure ends it with its *Error (nothing partial is written).
func (c *Client) Collect(ctx context.Context, tenantID string) (*Customer, error) {
	if !validTenantID(tenantID) {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("%q is not a tenant id (a GUID or a domain): fix it in your list (PUT /v1/collection/customers)", tenantID)}
	}
	tok, err := c.tokens.Token(ctx, tenantID, c.endpoints.GraphScope())
	if err != nil {
		return nil, err
	}
	g := c.endpoints.Graph + "/v1.0"
	out := &Customer{TenantID: tenantID}

	org, err := c.graphPages(ctx, g+"/organization", tok, "Graph organization")
	if err != nil {
		return nil, err
	}
	out.Name = organizationName(org)
	out.Documents = append(out.Documents, Document{Kind: KindOrganization, Body: org})

	skus, err := c.graphPages(ctx, g+"/subscribedSkus", tok, "Graph subscribedSkus")
	if err != nil {
		return nil, err
	}
	out.Documents = append(out.Documents, Document{Kind: KindSubscribedSkus, Body: skus})

	subs, err := c.graphPages(ctx, g+"/directory/subscriptions", tok, "Graph directory/subscriptions")
	if err != nil {
		return nil, err
	}
	out.Documents = append(out.Documents, Document{Kind: KindDirectorySubs, Body: subs})

	report, err := c.report(ctx, g+"/reports/getOffice365ActiveUserDetail(period='D30')", tok, "Graph reports/getOffice365ActiveUserDetail")
	if err != nil {
		return nil, err
	}
	out.Documents = append(out.Documents, Document{Kind: KindActiveUserDetail, Body: report})

	// After the users document: the ingest judges a customer's documents
	// in the order written, and the Copilot figures need its users.
	if holdsCopilot(skus) || holdsCopilot(subs) {
		doc, note, err := c.copilotReport(ctx, g, tok)
		if err != nil {
			return nil, err
		}
		if doc != nil {
			out.Documents = append(out.Documents, Document{Kind: KindCopilotUsage, Body: doc})
		}
		if note != "" {
			out.Notes = append(out.Notes, note)
		}
	}

	out.ConcealedNames, err = c.reportSettings(ctx, g+"/admin/reportSettings", tok)
	if err != nil {
		return nil, err
	}

	pc, err := c.partnerCenterSubscriptions(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if pc != nil {
		out.Documents = append(out.Documents, Document{Kind: KindPartnerCenter, Body: pc})
	}
	return out, nil
}

// graphPages follows @odata.nextLink and merges the pages into one
// document, {"@odata.context": …, "value": [every page's elements]}: what
// Graph would have answered in one page, so the ingest judges the whole
// list as one document. The token goes only to links on Graph's origin.
func (c *Client) graphPages(ctx context.Context, first, tok, what string) ([]byte, error) {
	m := newMerger("value")
	next := first
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s kept paging past %d pages: report this with the run's id", what, maxPages)}
		}
		if !sameOrigin(c.endpoints.Graph, next) {
			return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s's next page %q is not on %s: the token is not sent elsewhere; check GRAPH_BASE_URL", what, next, c.endpoints.Graph)}
		}
		a, err := c.http.get(ctx, request{url: next, bearer: tok, what: what, hint: hintGraph, header: http.Header{"Accept": {"application/json"}}})
		if err != nil {
			return nil, err
		}
		if a.status != http.StatusOK {
			return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s answered %d where Graph answers 200: check GRAPH_BASE_URL", what, a.status)}
		}
		var env struct {
			Context string            `json:"@odata.context"`
			Next    string            `json:"@odata.nextLink"`
			Value   []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil || env.Value == nil {
			return nil, &Error{Code: CodeSourceError, Err: err, Message: fmt.Sprintf("%s page %d is not a Graph collection (JSON with a value array): check GRAPH_BASE_URL", what, page)}
		}
		if page == 1 && env.Context != "" {
			m.head("@odata.context", env.Context)
		}
		m.add(env.Value)
		next = env.Next
	}
	return m.bytes(), nil
}

// merger writes one collection document from many pages' elements.
type merger struct {
	member string
	heads  bytes.Buffer
	tail   bytes.Buffer
	items  bytes.Buffer
	n      int
}

func newMerger(member string) *merger { return &merger{member: member} }

func (m *merger) head(name string, v any) {
	b, _ := json.Marshal(v)
	n, _ := json.Marshal(name)
	m.heads.Write(n)
	m.heads.WriteByte(':')
	m.heads.Write(b)
	m.heads.WriteByte(',')
}

func (m *merger) tailMember(name string, v any) {
	b, _ := json.Marshal(v)
	n, _ := json.Marshal(name)
	m.tail.WriteByte(',')
	m.tail.Write(n)
	m.tail.WriteByte(':')
	m.tail.Write(b)
}

func (m *merger) add(items []json.RawMessage) {
	for _, it := range items {
		if m.n > 0 {
			m.items.WriteByte(',')
		}
		m.items.WriteByte('\n')
		m.items.Write(bytes.TrimSpace(it))
		m.n++
	}
}

func (m *merger) bytes() []byte {
	var out bytes.Buffer
	out.Grow(m.heads.Len() + m.items.Len() + m.tail.Len() + 64)
	out.WriteByte('{')
	out.Write(m.heads.Bytes())
	fmt.Fprintf(&out, "%q:[", m.member)
	out.Write(m.items.Bytes())
	out.WriteString("\n]")
	out.Write(m.tail.Bytes())
	out.WriteString("}\n")
	return out.Bytes()
}

// report asks for the active user detail report: Graph answers 302 to a
// short-lived pre-authenticated URL, fetched WITHOUT the bearer token (the
// download host is not Graph; the URL is its own credential).
func (c *Client) report(ctx context.Context, u, tok, what string) ([]byte, error) {
	a, err := c.http.get(ctx, request{url: u, bearer: tok, what: what, hint: hintGraph})
	if err != nil {
		return nil, err
	}
	switch {
	case a.status == http.StatusOK: // some clouds answer the CSV directly
		return a.body, nil
	case a.status >= 300 && a.status < 400:
		if a.location == "" {
			return nil, &Error{Code: CodeSourceError, Err: errNoLocation, Message: what + " redirected nowhere (no Location): the next run retries it"}
		}
		loc, err := url.Parse(u)
		if err == nil {
			loc, err = loc.Parse(a.location)
		}
		if err != nil {
			return nil, &Error{Code: CodeSourceError, Err: err, Message: what + " redirected to an unreadable URL: the next run retries it"}
		}
		d, err := c.http.get(ctx, request{url: loc.String(), what: what + " download", hint: "the download link was refused; the next run asks for a new one"})
		if err != nil {
			return nil, err
		}
		if d.status != http.StatusOK {
			return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s download answered %d: the next run retries it", what, d.status)}
		}
		return d.body, nil
	}
	return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s answered %d: the next run retries it", what, a.status)}
}

// copilotPath is the Copilot usage user detail report over 28 days (the
// period of the habitual-use threshold, docs/definitions.md#copilot), as
// CSV: Graph answers JSON unless $format asks for CSV, and like the Office
// report the CSV comes through a 302 to a download URL (report follows a
// 200 too).
const copilotPath = "/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='D28')?$format=text/csv"

// copilotReport fetches the Copilot usage report. A 403 or 404 (the app
// lacks Reports.Read.All for it, or the tenant has no such report yet) is
// not the customer's failure: no document, and a note saying why.
func (c *Client) copilotReport(ctx context.Context, graph, tok string) ([]byte, string, error) {
	const what = "Graph copilot/reports/getMicrosoft365CopilotUsageUserDetail"
	doc, err := c.report(ctx, graph+copilotPath, tok, what)
	var e *Error
	if errors.As(err, &e) && (e.Code == CodeForbidden || e.Code == CodeNotFound) {
		return nil, "the Copilot usage report was not collected (Graph answered " + string(e.Code) +
			"): grant the app Reports.Read.All and consent it in the customer tenant; the Copilot seats are still counted, their activity is not until the report is collected", nil
	}
	return doc, "", err
}

// holdsCopilot reports whether a Graph SKU list (subscribedSkus or
// directory/subscriptions, pages merged) names a Copilot SKU.
func holdsCopilot(doc []byte) bool {
	var l struct {
		Value []struct {
			SkuPartNumber string `json:"skuPartNumber"`
		} `json:"value"`
	}
	if json.Unmarshal(doc, &l) != nil {
		return false
	}
	for _, v := range l.Value {
		if license.IsCopilotSKU(v.SkuPartNumber) {
			return true
		}
	}
	return false
}

// reportSettings reads whether names are concealed; a 403 (the app lacks
// ReportSettings.Read.All) is "unknown", not a failure.
func (c *Client) reportSettings(ctx context.Context, u, tok string) (*bool, error) {
	a, err := c.http.get(ctx, request{url: u, bearer: tok, what: "Graph admin/reportSettings", hint: hintGraph})
	var e *Error
	if errors.As(err, &e) && e.Code == CodeForbidden {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s struct {
		DisplayConcealedNames *bool `json:"displayConcealedNames"`
	}
	if err := json.Unmarshal(a.body, &s); err != nil {
		return nil, &Error{Code: CodeSourceError, Err: err, Message: "Graph admin/reportSettings is not JSON: check GRAPH_BASE_URL"}
	}
	return s.DisplayConcealedNames, nil
}

// partnerCenterSubscriptions lists the customer's subscriptions with this
// partner, every page. nil without a partner tenant (no Partner Center), or
// when Partner Center does not know the customer (a tenant the partner
// listed itself, not a CSP customer): that is no document, not a failure.
func (c *Client) partnerCenterSubscriptions(ctx context.Context, tenantID string) ([]byte, error) {
	if c.partnerTenant == "" {
		return nil, nil
	}
	body, err := c.partnerCenterPages(ctx, "/v1/customers/"+url.PathEscape(tenantID)+"/subscriptions", "Partner Center subscriptions", nil)
	var e *Error
	if errors.As(err, &e) && e.Code == CodeNotFound {
		return nil, nil
	}
	return body, err
}

// ListCustomers lists the partner's customers from Partner Center, every
// page (the continuation token of each page's links.next).
func (c *Client) ListCustomers(ctx context.Context) ([]CustomerRef, error) {
	if c.partnerTenant == "" {
		return nil, &Error{Code: CodeForbidden, Message: "PARTNER_TENANT_ID is not set, so Partner Center cannot be asked for your customers: set it, or list your customers with PUT /v1/collection/customers"}
	}
	var out []CustomerRef
	_, err := c.partnerCenterPages(ctx, "/v1/customers?size=500", "Partner Center customers", func(page []byte) error {
		var p struct {
			Items []struct {
				ID             string `json:"id"`
				CompanyProfile struct {
					TenantID    string `json:"tenantId"`
					Domain      string `json:"domain"`
					CompanyName string `json:"companyName"`
				} `json:"companyProfile"`
			} `json:"items"`
		}
		if err := json.Unmarshal(page, &p); err != nil {
			return err
		}
		for _, it := range p.Items {
			id := it.CompanyProfile.TenantID
			if id == "" {
				id = it.ID
			}
			out = append(out, CustomerRef{TenantID: strings.ToLower(id), Name: it.CompanyProfile.CompanyName, Domain: it.CompanyProfile.Domain})
		}
		return nil
	})
	return out, err
}

// partnerCenterPages follows Partner Center's seek paging: a page's
// links.next gives the next URI (relative to the API's /v1) and the
// MS-ContinuationToken header to send with it.
func (c *Client) partnerCenterPages(ctx context.Context, first, what string, each func([]byte) error) ([]byte, error) {
	tok, err := c.tokens.Token(ctx, c.partnerTenant, c.endpoints.PartnerCenterScope())
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeNotConsented {
			e.Message = "your partner tenant refused a Partner Center token: " + hintPC
		}
		return nil, err
	}
	m := newMerger("items")
	total := 0
	next, header := c.endpoints.PartnerCenter+first, http.Header{"Accept": {"application/json"}}
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s kept paging past %d pages: report this with the run's id", what, maxPages)}
		}
		a, err := c.http.get(ctx, request{url: next, bearer: tok, header: header, what: what, hint: hintPC})
		if err != nil {
			return nil, err
		}
		var env struct {
			Items []json.RawMessage `json:"items"`
			Links struct {
				Next *struct {
					URI     string `json:"uri"`
					Headers []struct {
						Key   string `json:"key"`
						Value string `json:"value"`
					} `json:"headers"`
				} `json:"next"`
			} `json:"links"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil || env.Items == nil {
			return nil, &Error{Code: CodeSourceError, Err: err, Message: fmt.Sprintf("%s page %d is not a Partner Center collection (JSON with an items array): check PARTNER_CENTER_BASE_URL", what, page)}
		}
		if each != nil {
			if err := each(a.body); err != nil {
				return nil, &Error{Code: CodeSourceError, Err: err, Message: fmt.Sprintf("%s page %d is not in Partner Center's shape: check PARTNER_CENTER_BASE_URL", what, page)}
			}
		}
		m.add(env.Items)
		total += len(env.Items)
		next, header = "", http.Header{"Accept": {"application/json"}}
		if n := env.Links.Next; n != nil && n.URI != "" {
			next = c.partnerCenterURL(n.URI)
			for _, h := range n.Headers {
				header.Set(h.Key, h.Value)
			}
			if !sameOrigin(c.endpoints.PartnerCenter, next) {
				return nil, &Error{Code: CodeSourceError, Message: fmt.Sprintf("%s's next page %q is not on %s: the token is not sent elsewhere", what, next, c.endpoints.PartnerCenter)}
			}
		}
	}
	// The merged collection, as Partner Center would answer it in one page.
	m.head("totalCount", total)
	m.tailMember("attributes", map[string]string{"objectType": "Collection"})
	return m.bytes(), nil
}

// partnerCenterURL resolves a links.next URI: absolute, or relative to the
// API root (Partner Center writes "/customers?..." for "/v1/customers?...").
func (c *Client) partnerCenterURL(uri string) string {
	if strings.HasPrefix(uri, "https://") || strings.HasPrefix(uri, "http://") {
		return uri
	}
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	if !strings.HasPrefix(uri, "/v1/") {
		uri = "/v1" + uri
	}
	return c.endpoints.PartnerCenter + uri
}

func organizationName(doc []byte) string {
	var o struct {
		Value []struct {
			DisplayName string `json:"displayName"`
		} `json:"value"`
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if dec.Decode(&o) == nil && len(o.Value) > 0 {
		return o.Value[0].DisplayName
	}
	return ""
}

// validTenantID accepts a GUID or a domain name: the two forms an Entra
// authority takes. Anything else would be spliced into a URL path.
func validTenantID(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
