// Package collect is the connector (docs/definitions.md#collection-from-microsoft): it fetches a customer's
// documents from Microsoft Graph and Partner Center exactly as Microsoft
// serves them (every page, the report's redirect), so that each can be
// written under the bucket's uploads/ prefix and judged by the same ingest
// as a document a partner uploads.
//
// Tokens come from Microsoft's authentication library (tokens.go); the
// calls are plain net/http (http.go) — the Graph SDK would triple the
// Lambda binary for five GETs. Every failure becomes an *Error with an
// outcome code and a message that says what the partner should do.
package collect

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Code is a customer's outcome code in a collection run (docs/definitions.md#collection-from-microsoft).
type Code string

// The outcome codes. A customer that succeeded has none.
const (
	CodeNotConsented Code = "not-consented" // the token endpoint refused: the app is not consented in the customer tenant
	CodeForbidden    Code = "forbidden"     // a token, but Graph or Partner Center answered 401/403
	CodeThrottled    Code = "throttled"     // still 429 after every retry
	CodeNotFound     Code = "not-found"     // the tenant or customer does not exist (any more)
	CodeSourceError  Code = "source-error"  // 5xx, network, or an answer we cannot read
	CodeRejected     Code = "rejected"      // the ingest refused a collected document
)

// Error is a collection failure: a code, and a message a partner can act on.
type Error struct {
	Code    Code
	Message string
	Err     error // the underlying cause, for logs
}

func (e *Error) Error() string {
	if e.Err != nil {
		return string(e.Code) + ": " + e.Message + " (" + e.Err.Error() + ")"
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf is err's outcome code: an *Error's, else source-error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeSourceError
}

// Endpoints are the three Microsoft services; national clouds and the
// local emulator are other values of the same three.
type Endpoints struct {
	Login         string // LOGIN_BASE_URL, https://login.microsoftonline.com
	Graph         string // GRAPH_BASE_URL, https://graph.microsoft.com
	PartnerCenter string // PARTNER_CENTER_BASE_URL, https://api.partnercenter.microsoft.com
}

// Defaults of the connector (docs/definitions.md#collection-from-microsoft).
const (
	DefaultLogin         = "https://login.microsoftonline.com"
	DefaultGraph         = "https://graph.microsoft.com"
	DefaultPartnerCenter = "https://api.partnercenter.microsoft.com"
)

// EndpointsFromEnv reads the three variables (getenv is os.Getenv),
// defaulting each, and insists on HTTPS: tokens travel to all three.
func EndpointsFromEnv(getenv func(string) string) (Endpoints, error) {
	e := Endpoints{
		Login:         strings.TrimRight(getenv("LOGIN_BASE_URL"), "/"),
		Graph:         strings.TrimRight(getenv("GRAPH_BASE_URL"), "/"),
		PartnerCenter: strings.TrimRight(getenv("PARTNER_CENTER_BASE_URL"), "/"),
	}
	if e.Login == "" {
		e.Login = DefaultLogin
	}
	if e.Graph == "" {
		e.Graph = DefaultGraph
	}
	if e.PartnerCenter == "" {
		e.PartnerCenter = DefaultPartnerCenter
	}
	return e, e.Validate()
}

// Validate checks that each endpoint is an https URL with a host and no query.
func (e Endpoints) Validate() error {
	for _, v := range []struct{ name, value string }{
		{"LOGIN_BASE_URL", e.Login}, {"GRAPH_BASE_URL", e.Graph}, {"PARTNER_CENTER_BASE_URL", e.PartnerCenter},
	} {
		u, err := url.Parse(v.value)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
			return fmt.Errorf("%s=%q: want an https URL such as https://graph.microsoft.com (Microsoft's authentication library accepts only HTTPS; trust a local emulator's certificate through SSL_CERT_FILE)", v.name, v.value)
		}
	}
	return nil
}

// GraphScope is the app-only scope of the customer tenants' Graph tokens.
func (e Endpoints) GraphScope() string { return e.Graph + "/.default" }

// PartnerCenterScope is the scope of the partner tenant's Partner Center token.
func (e Endpoints) PartnerCenterScope() string { return e.PartnerCenter + "/.default" }

// microsoftLoginHosts are the hosts for which instance discovery stays on
// (the public and national clouds); any other host is taken as given.
var microsoftLoginHosts = map[string]bool{
	"login.microsoftonline.com": true, "login.microsoft.com": true, "login.windows.net": true,
	"login.microsoftonline.us": true, "login.chinacloudapi.cn": true, "login.partner.microsoftonline.cn": true,
	"login-us.microsoftonline.com": true, "login.usgovcloudapi.net": true,
}

// IsMicrosoftLogin says whether the login endpoint is one of Microsoft's.
func IsMicrosoftLogin(login string) bool {
	u, err := url.Parse(login)
	return err == nil && microsoftLoginHosts[strings.ToLower(u.Hostname())]
}
