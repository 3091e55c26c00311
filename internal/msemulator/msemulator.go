// Package msemulator is a local stand-in for the three Microsoft services
// the connector calls (docs/definitions.md#collection-from-microsoft): the Entra token endpoint (client
// credentials), Microsoft Graph (organization, subscribedSkus,
// directory/subscriptions, the Office 365 active user detail report, report
// settings, the Copilot usage user detail report) and Partner Center
// (customers, customer subscriptions). The
// answers follow Microsoft's published REST documentation — Graph's
// @odata.nextLink paging, the report's 302 to a pre-authenticated download
// URL, Partner Center's links.next with an MS-ContinuationToken header,
// Entra's error bodies with AADSTS codes — and the content is a portfolio
// of pkg/portfoliogen. Switches make a tenant throttle (429 + Retry-After),
// fail (503), refuse consent, conceal names, or serve a broken report.
//
// It serves HTTPS only, on 127.0.0.1, with a self-signed certificate made
// at start (Start): the authentication library accepts only HTTPS
// authorities.
package msemulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// Config is what the emulator serves and whom it lets in.
type Config struct {
	Portfolio    portfoliogen.Config // the customers; PartnerTenant() is the partner's tenant
	ClientID     string
	ClientSecret string
	// PageSize is the page size of directory/subscriptions and of Partner
	// Center's customers (default 100, as Graph pages most lists).
	PageSize int
}

// Request is one request the emulator answered (tests assert on them).
type Request struct {
	Method        string
	Path          string // unescaped path, with the query
	Tenant        string // the tenant of the bearer token ("" without one)
	Authorization bool   // whether an Authorization header came
	Status        int
}

type token struct {
	tenant string
	scope  string
}

type fault struct {
	status     int
	retryAfter int // seconds; 0: no header
	times      int
}

// Emulator is the http.Handler of the three services.
type Emulator struct {
	cfg       Config
	partner   string
	customers []portfoliogen.CustomerSpec
	byTenant  map[string]int

	mu          sync.Mutex
	tokens      map[string]token
	downloads   map[string]download // download id → what it serves
	unconsented map[string]bool
	concealed   map[string]bool
	faults      map[string][]*fault // tenant → faults, the first first
	broken      map[string]bool     // tenant → a report the ingest must refuse
	settings403 map[string]bool
	copilot403  map[string]bool
	log         []Request
	mux         *http.ServeMux
}

// New builds an emulator over cfg's portfolio.
func New(cfg Config) *Emulator {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	e := &Emulator{
		cfg: cfg, partner: cfg.Portfolio.PartnerTenant(),
		customers: portfoliogen.Customers(cfg.Portfolio), byTenant: map[string]int{},
		tokens: map[string]token{}, downloads: map[string]download{},
		unconsented: map[string]bool{}, concealed: map[string]bool{},
		faults: map[string][]*fault{}, broken: map[string]bool{}, settings403: map[string]bool{}, copilot403: map[string]bool{},
	}
	for i, c := range e.customers {
		e.byTenant[c.TenantID] = i
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.openIDConfiguration)
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	m.HandleFunc("GET /v1.0/organization", e.graph(e.organization))
	m.HandleFunc("GET /v1.0/subscribedSkus", e.graph(e.subscribedSkus))
	m.HandleFunc("GET /v1.0/directory/subscriptions", e.graph(e.directorySubscriptions))
	m.HandleFunc("GET /v1.0/admin/reportSettings", e.graph(e.reportSettings))
	m.HandleFunc("GET /v1.0/reports/{call}", e.graph(e.report))
	m.HandleFunc("GET /v1.0/copilot/reports/{call}", e.graph(e.copilotReport))
	m.HandleFunc("GET /download/{id}", e.download)
	m.HandleFunc("GET /v1/customers", e.partnerCenter(e.pcCustomers))
	m.HandleFunc("GET /v1/customers/{customerId}/subscriptions", e.partnerCenter(e.pcSubscriptions))
	e.mux = m
	return e
}

// Customers are the customers served, in portfolio order.
func (e *Emulator) Customers() []portfoliogen.CustomerSpec {
	return append([]portfoliogen.CustomerSpec(nil), e.customers...)
}

// PartnerTenantID is the partner's own tenant (Partner Center's tokens).
func (e *Emulator) PartnerTenantID() string { return e.partner }

// Unconsent makes tenant's token endpoint refuse the app (AADSTS65001).
func (e *Emulator) Unconsent(tenant string) { e.set(func() { e.unconsented[tenant] = true }) }

// Conceal sets whether tenant conceals user names (report settings and
// the report's user keys follow it).
func (e *Emulator) Conceal(tenant string, on bool) { e.set(func() { e.concealed[tenant] = on }) }

// Throttle makes tenant's next n Graph / Partner Center answers 429 with
// Retry-After: retryAfter seconds. Use the partner tenant for Partner
// Center's customer list.
func (e *Emulator) Throttle(tenant string, n, retryAfter int) {
	e.set(func() {
		e.faults[tenant] = append(e.faults[tenant], &fault{status: http.StatusTooManyRequests, retryAfter: retryAfter, times: n})
	})
}

// Unavailable makes tenant's next n answers 503 (no Retry-After).
func (e *Emulator) Unavailable(tenant string, n int) {
	e.set(func() {
		e.faults[tenant] = append(e.faults[tenant], &fault{status: http.StatusServiceUnavailable, times: n})
	})
}

// BreakReport makes tenant's report carry a row the ingest must refuse.
func (e *Emulator) BreakReport(tenant string, on bool) { e.set(func() { e.broken[tenant] = on }) }

// ForbidReportSettings makes admin/reportSettings answer 403 for tenant.
func (e *Emulator) ForbidReportSettings(tenant string) {
	e.set(func() { e.settings403[tenant] = true })
}

// ForbidCopilotReport makes the Copilot usage report answer 403 for tenant
// (the app was not granted Reports.Read.All for it).
func (e *Emulator) ForbidCopilotReport(tenant string) {
	e.set(func() { e.copilot403[tenant] = true })
}

// Requests is every request answered so far.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.log...)
}

func (e *Emulator) set(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f()
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(s int) {
	r.status = s
	r.ResponseWriter.WriteHeader(s)
}

// ServeHTTP answers and records one request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	e.mux.ServeHTTP(rec, r)
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	tenant := ""
	if tok, ok := e.bearer(r); ok {
		tenant = tok.tenant
	}
	e.mu.Lock()
	e.log = append(e.log, Request{Method: r.Method, Path: path, Tenant: tenant, Authorization: r.Header.Get("Authorization") != "", Status: rec.status})
	e.mu.Unlock()
}

func baseURL(r *http.Request) string { return "https://" + r.Host }

// openIDConfiguration is the tenant's discovery document, which the
// authentication library reads before asking for a token.
func (e *Emulator) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("tenant")
	b := baseURL(r) + "/" + t
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        b + "/oauth2/v2.0/token",
		"authorization_endpoint":                b + "/oauth2/v2.0/authorize",
		"issuer":                                b + "/v2.0",
		"jwks_uri":                              baseURL(r) + "/" + t + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"tenant_region_scope":                   "EU",
	})
}

// aadError is Entra's error body: error, error_description with the
// AADSTS code first, error_codes.
func aadError(w http.ResponseWriter, status int, kind string, code int, text string) {
	writeJSON(w, status, map[string]any{
		"error":             kind,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", code, text, newID(), newID(), time.Now().UTC().Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{code},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          newID(),
		"correlation_id":    newID(),
	})
}

// token is the client credentials grant of the v2.0 token endpoint.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	tenant := strings.ToLower(r.PathValue("tenant"))
	if err := r.ParseForm(); err != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	case resource(r.PostForm.Get("scope")) == "":
		aadError(w, http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	_, known := e.byTenant[tenant]
	if !known && tenant != e.partner {
		aadError(w, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	if id != e.cfg.ClientID {
		aadError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", id, tenant))
		return
	}
	if secret != e.cfg.ClientSecret {
		aadError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+id+"'.")
		return
	}
	e.mu.Lock()
	unconsented := e.unconsented[tenant]
	e.mu.Unlock()
	if unconsented {
		aadError(w, http.StatusBadRequest, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource.", id))
		return
	}
	tok := "emu." + newID()
	e.set(func() { e.tokens[tok] = token{tenant: tenant, scope: resource(r.PostForm.Get("scope"))} })
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
}

// resource is the scope's "{resource}/.default" member: the library adds
// openid, profile and offline_access beside it.
func resource(scope string) string {
	for _, s := range strings.Fields(scope) {
		if strings.HasSuffix(s, "/.default") {
			return s
		}
	}
	return ""
}

func (e *Emulator) bearer(r *http.Request) (token, bool) {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return token{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tokens[v]
	return t, ok
}

// injectFault answers the tenant's next queued fault, if any.
func (e *Emulator) injectFault(w http.ResponseWriter, tenant string) bool {
	e.mu.Lock()
	var f *fault
	if fs := e.faults[tenant]; len(fs) > 0 {
		f = fs[0]
		f.times--
		if f.times <= 0 {
			e.faults[tenant] = fs[1:]
		}
	}
	e.mu.Unlock()
	if f == nil {
		return false
	}
	if f.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.retryAfter))
	}
	if f.status == http.StatusTooManyRequests {
		graphError(w, f.status, "TooManyRequests", "Too many requests.")
	} else {
		graphError(w, f.status, "serviceNotAvailable", "Service unavailable.")
	}
	return true
}

// graphError is Graph's error body.
func graphError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "request-id": newID(), "client-request-id": newID()},
	}})
}

// graph authenticates a Graph call: a token of a customer tenant.
func (e *Emulator) graph(h func(http.ResponseWriter, *http.Request, portfoliogen.CustomerSpec)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := e.bearer(r)
		if !ok {
			graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or invalid.")
			return
		}
		i, ok := e.byTenant[tok.tenant]
		if !ok {
			graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
			return
		}
		if e.injectFault(w, tok.tenant) {
			return
		}
		c := e.customers[i]
		e.mu.Lock()
		if on, set := e.concealed[c.TenantID]; set {
			c.Concealed = on
		}
		e.mu.Unlock()
		h(w, r, c)
	}
}

func (e *Emulator) organization(w http.ResponseWriter, r *http.Request, c portfoliogen.CustomerSpec) {
	initial := strings.ReplaceAll(c.ID, "-", "") + ".onmicrosoft.com"
	if len(initial) > 48 {
		initial = initial[len(initial)-48:]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
		"value": []any{map[string]any{
			"id": c.TenantID, "displayName": c.Name, "tenantType": "AAD", "countryLetterCode": "US",
			"createdDateTime": "2019-03-01T09:00:00Z", "businessPhones": []string{}, "technicalNotificationMails": []string{"admin@" + c.Domain},
			"verifiedDomains": []any{
				map[string]any{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": c.Domain, "type": "Managed"},
				map[string]any{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": initial, "type": "Managed"},
			},
			"assignedPlans": []any{}, "provisionedPlans": []any{},
		}},
	})
}

func (e *Emulator) document(kind portfoliogen.Kind, c portfoliogen.CustomerSpec) ([]byte, error) {
	var b bytes.Buffer
	err := portfoliogen.Write(&b, kind, e.cfg.Portfolio, c)
	return b.Bytes(), err
}

func (e *Emulator) subscribedSkus(w http.ResponseWriter, r *http.Request, c portfoliogen.CustomerSpec) {
	doc, err := e.document(portfoliogen.KindGraphSubscribedSkus, c)
	if err != nil {
		graphError(w, http.StatusInternalServerError, "generalException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	_, _ = w.Write(doc)
}

// directorySubscriptions pages the list: PageSize items a page, the next
// page named by @odata.nextLink with an opaque $skiptoken.
func (e *Emulator) directorySubscriptions(w http.ResponseWriter, r *http.Request, c portfoliogen.CustomerSpec) {
	doc, err := e.document(portfoliogen.KindGraphDirectorySubscriptions, c)
	var list struct {
		Value []json.RawMessage `json:"value"`
	}
	if err == nil {
		err = json.Unmarshal(doc, &list)
	}
	if err != nil {
		graphError(w, http.StatusInternalServerError, "generalException", fmt.Sprint(err))
		return
	}
	from := 0
	if s := r.URL.Query().Get("$skiptoken"); s != "" {
		from, err = decodeSkip(s)
		if err != nil || from > len(list.Value) {
			graphError(w, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
	}
	to := min(from+e.cfg.PageSize, len(list.Value))
	page := map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directory/subscriptions",
		"value":          list.Value[from:to],
	}
	if to < len(list.Value) {
		page["@odata.nextLink"] = baseURL(r) + "/v1.0/directory/subscriptions?$skiptoken=" + encodeSkip(to)
	}
	writeJSON(w, http.StatusOK, page)
}

func (e *Emulator) reportSettings(w http.ResponseWriter, r *http.Request, c portfoliogen.CustomerSpec) {
	e.mu.Lock()
	forbid := e.settings403[c.TenantID]
	e.mu.Unlock()
	if forbid {
		graphError(w, http.StatusForbidden, "UnknownError", "Forbidden")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context":        "https://graph.microsoft.com/v1.0/$metadata#admin/reportSettings/$entity",
		"id":                    "reportSettings",
		"displayConcealedNames": c.Concealed,
	})
}

// report answers getOffice365ActiveUserDetail(period='D7|D30|D90|D180')
// with a 302 to a short-lived download URL, as Graph does.
func (e *Emulator) report(w http.ResponseWriter, r *http.Request, c portfoliogen.CustomerSpec) {
	call := r.PathValue("call")
	name, args, ok := strings.Cut(call, "(")
	if !ok || name != "getOffice365ActiveUserDetail" || !strings.HasSuffix(args, ")") {
		graphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", call))
		return
	}
	period := strings.TrimSuffix(strings.TrimPrefix(args, "period='"), "')")
	switch period {
	case "D7", "D30", "D90", "D180":
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid period: use D7, D30, D90 or D180.")
		return
	}
	e.redirect(w, r, c, portfoliogen.KindGraphActiveUserDetail)
}

// download is what a pre-authenticated download URL serves.
type download struct {
	tenant string
	kind   portfoliogen.Kind
}

// redirect answers 302 to a new short-lived download URL of c's report.
func (e *Emulator) redirect(w http.ResponseWriter, r *http.Request, c portfoliogen.CustomerSpec, kind portfoliogen.Kind) {
	id := newID()
	e.set(func() { e.downloads[id] = download{tenant: c.TenantID, kind: kind} })
	w.Header().Set("Location", baseURL(r)+"/download/"+id)
	w.WriteHeader(http.StatusFound)
}

// copilotReport answers getMicrosoft365CopilotUsageUserDetail(period=
// 'D7|D30|D90|D180|D28|ALL') asked as CSV ($format=text/csv) with a 302 to
// a download URL of the version 2 CSV, only for a customer holding Copilot
// seats: without them (or with the ForbidCopilotReport switch) it answers
// 403 as Graph does to an app without access to the report. The JSON form
// is not served: the collector asks for the CSV.
func (e *Emulator) copilotReport(w http.ResponseWriter, r *http.Request, c portfoliogen.CustomerSpec) {
	call := r.PathValue("call")
	name, args, ok := strings.Cut(call, "(")
	if !ok || name != "getMicrosoft365CopilotUsageUserDetail" || !strings.HasSuffix(args, ")") {
		graphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", call))
		return
	}
	switch period := strings.TrimSuffix(strings.TrimPrefix(args, "period='"), "')"); period {
	case "D7", "D30", "D90", "D180", "D28", "ALL":
	default:
		graphError(w, http.StatusBadRequest, "BadRequest", "Invalid period: use D7, D28, D30, D90, D180 or ALL.")
		return
	}
	if f := r.URL.Query().Get("$format"); f != "text/csv" {
		graphError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("The emulator serves this report as CSV only ($format=text/csv), not %q.", f))
		return
	}
	e.mu.Lock()
	forbid := e.copilot403[c.TenantID]
	e.mu.Unlock()
	if forbid || !portfoliogen.HasCopilot(e.cfg.Portfolio, c) {
		graphError(w, http.StatusForbidden, "UnknownError", "Forbidden")
		return
	}
	e.redirect(w, r, c, portfoliogen.KindGraphCopilotUsage)
}

// download serves the report's CSV at its pre-authenticated URL. Like a
// storage service, it refuses a request carrying an Authorization header:
// the URL is the credential, and a bearer token must never travel here.
func (e *Emulator) download(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. The Authorization header must not accompany a pre-authenticated URL.</Message></Error>`))
		return
	}
	e.mu.Lock()
	dl, ok := e.downloads[r.PathValue("id")]
	tenant := dl.tenant
	broken := e.broken[tenant] && dl.kind == portfoliogen.KindGraphActiveUserDetail
	var c portfoliogen.CustomerSpec
	if ok {
		c = e.customers[e.byTenant[tenant]]
		if on, set := e.concealed[tenant]; set {
			c.Concealed = on
		}
	}
	e.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var doc []byte
	var err error
	file := "Office365ActiveUserDetail.csv"
	if dl.kind == portfoliogen.KindGraphCopilotUsage {
		var b bytes.Buffer
		err = portfoliogen.WriteCopilotUsage(&b, e.cfg.Portfolio, c)
		doc, file = b.Bytes(), "Microsoft365CopilotUsageUserDetail.csv"
	} else {
		doc, err = e.document(dl.kind, c)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if broken {
		// A last activity date that is not a date: a row the ingest refuses.
		doc = append(doc, []byte(strings.Repeat(",", 11)+"yesterday"+strings.Repeat(",", 12)+"\r\n")...)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	_, _ = w.Write(doc)
}

// pcError is Partner Center's error body.
func pcError(w http.ResponseWriter, status, code int, description string) {
	writeJSON(w, status, map[string]any{"code": code, "description": description, "errorName": http.StatusText(status), "isRetryable": status >= 500, "errorMessageExtended": "", "data": []any{}, "source": "PartnerFD"})
}

// partnerCenter authenticates a Partner Center call: a token of the
// partner's own tenant.
func (e *Emulator) partnerCenter(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := e.bearer(r)
		if !ok {
			pcError(w, http.StatusUnauthorized, 401, "Authorization token is missing or invalid.")
			return
		}
		if tok.tenant != e.partner {
			pcError(w, http.StatusForbidden, 403, "The token is not of a partner tenant.")
			return
		}
		if e.injectFault(w, e.partner) {
			return
		}
		h(w, r)
	}
}

// pcCustomers pages the partner's customers: links.next carries the
// relative URI and the MS-ContinuationToken header for the next page.
func (e *Emulator) pcCustomers(w http.ResponseWriter, r *http.Request) {
	size := e.cfg.PageSize
	if s, err := strconv.Atoi(r.URL.Query().Get("size")); err == nil && s > 0 {
		size = min(s, e.cfg.PageSize)
	}
	from := 0
	if strings.EqualFold(r.URL.Query().Get("seekOperation"), "next") {
		var err error
		from, err = decodeSkip(r.Header.Get("MS-ContinuationToken"))
		if err != nil || from > len(e.customers) {
			pcError(w, http.StatusBadRequest, 400, "The continuation token is invalid or expired.")
			return
		}
	}
	to := min(from+size, len(e.customers))
	items := make([]any, 0, to-from)
	for _, c := range e.customers[from:to] {
		items = append(items, map[string]any{
			"id": c.TenantID,
			"companyProfile": map[string]any{
				"tenantId": c.TenantID, "domain": c.Domain, "companyName": c.Name,
				"attributes": map[string]any{"objectType": "CustomerCompanyProfile"},
			},
			"relationshipToPartner": "reseller", "allowDelegatedAccess": true,
			"attributes": map[string]any{"objectType": "Customer"},
		})
	}
	links := map[string]any{"self": map[string]any{"uri": "/customers?size=" + strconv.Itoa(size), "method": "GET", "headers": []any{}}}
	page := map[string]any{"totalCount": len(items), "items": items, "links": links, "attributes": map[string]any{"objectType": "Collection"}}
	if to < len(e.customers) {
		tok := encodeSkip(to)
		links["next"] = map[string]any{
			"uri": "/customers?size=" + strconv.Itoa(size) + "&seekOperation=Next", "method": "GET",
			"headers": []any{map[string]any{"key": "MS-ContinuationToken", "value": tok}},
		}
		page["continuationToken"] = tok
	}
	writeJSON(w, http.StatusOK, page)
}

func (e *Emulator) pcSubscriptions(w http.ResponseWriter, r *http.Request) {
	i, ok := e.byTenant[strings.ToLower(r.PathValue("customerId"))]
	if !ok {
		pcError(w, http.StatusNotFound, 600001, "The customer was not found.")
		return
	}
	doc, err := e.document(portfoliogen.KindPartnerCenterSubscriptions, e.customers[i])
	if err != nil {
		pcError(w, http.StatusInternalServerError, 500, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(doc)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Skip tokens are opaque to clients, as Microsoft's are.
func encodeSkip(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(n)))
}

func decodeSkip(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(string(b), "o:")
	if !ok {
		return 0, fmt.Errorf("bad token")
	}
	return strconv.Atoi(n)
}
