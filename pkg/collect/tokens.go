package collect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

// TokenSource gives an app-only bearer token of tenant for scope.
type TokenSource interface {
	Token(ctx context.Context, tenant, scope string) (string, error)
}

// Tokens mints app-only tokens through Microsoft's authentication library:
// one confidential client per tenant authority ({login}/{tenant}), each
// with the library's in-memory token cache, so a token is reused until
// shortly before it expires (the library refreshes ahead of expiry).
type Tokens struct {
	login    string
	clientID string
	cred     confidential.Credential
	opts     []confidential.Option

	mu      sync.Mutex
	clients map[string]confidential.Client
}

// NewTokens is a token source for the partner's multi-tenant app. hc is the
// HTTP client the library uses (nil: the default one, which trusts
// SSL_CERT_FILE); instance discovery is off unless login is Microsoft's.
func NewTokens(login, clientID, clientSecret string, hc *http.Client) (*Tokens, error) {
	if clientID == "" || clientSecret == "" {
		return nil, errors.New("the client id and client secret of the partner's Entra app are required (MS_CLIENT_ID, MS_CLIENT_SECRET, or the Secrets Manager secret)")
	}
	cred, err := confidential.NewCredFromSecret(clientSecret)
	if err != nil {
		return nil, fmt.Errorf("client secret: %w", err)
	}
	opts := []confidential.Option{confidential.WithInstanceDiscovery(IsMicrosoftLogin(login))}
	if hc != nil {
		opts = append(opts, confidential.WithHTTPClient(hc))
	}
	return &Tokens{login: login, clientID: clientID, cred: cred, opts: opts, clients: map[string]confidential.Client{}}, nil
}

func (t *Tokens) client(tenant string) (confidential.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[tenant]; ok {
		return c, nil
	}
	c, err := confidential.New(t.login+"/"+tenant, t.clientID, t.cred, t.opts...)
	if err != nil {
		return confidential.Client{}, err
	}
	t.clients[tenant] = c
	return c, nil
}

// Token returns a cached token or asks the tenant's token endpoint; a
// refusal is an *Error with the outcome code the answer means.
func (t *Tokens) Token(ctx context.Context, tenant, scope string) (string, error) {
	c, err := t.client(tenant)
	if err != nil {
		return "", &Error{Code: CodeSourceError, Message: "the login endpoint " + t.login + " is not a usable authority: check LOGIN_BASE_URL", Err: err}
	}
	res, err := c.AcquireTokenByCredential(ctx, []string{scope})
	if err != nil {
		return "", tokenError(tenant, err)
	}
	return res.AccessToken, nil
}

var aadsts = regexp.MustCompile(`AADSTS\d+`)

// tokenError maps the token endpoint's answer to an outcome. The library
// puts the endpoint's body (error, error_description with its AADSTS code)
// in the error text; the codes are Microsoft Entra's documented ones.
func tokenError(tenant string, err error) error {
	var call msalerrors.CallErr
	status := 0
	if errors.As(err, &call) && call.Resp != nil {
		status = call.Resp.StatusCode
	}
	code := aadsts.FindString(err.Error())
	switch code {
	case "AADSTS65001", "AADSTS700016", "AADSTS7000112", "AADSTS500011":
		// not consented / app not in the directory / app disabled there /
		// resource principal missing: all fixed by consenting the app.
		return &Error{Code: CodeNotConsented, Err: err, Message: fmt.Sprintf(
			"tenant %s refused a token (%s): the app is not consented there. Consent it through Partner Center's application consents or the GDAP relationship (admin consent for Reports.Read.All, Organization.Read.All, ReportSettings.Read.All), then collect again", tenant, code)}
	case "AADSTS90002", "AADSTS90023", "AADSTS900023":
		return &Error{Code: CodeNotFound, Err: err, Message: fmt.Sprintf(
			"tenant %s does not exist or is not a valid tenant id (%s): check the customer id in your list (PUT /v1/collection/customers) or in Partner Center", tenant, code)}
	case "AADSTS7000215", "AADSTS7000222", "AADSTS700027", "AADSTS50034", "AADSTS53003":
		return &Error{Code: CodeForbidden, Err: err, Message: fmt.Sprintf(
			"tenant %s refused the app's credentials (%s): the client secret is wrong or expired, or a conditional access policy blocks the app. Put a valid secret in the Secrets Manager secret (MS_CLIENT_SECRET locally) and collect again", tenant, code)}
	}
	switch {
	case status == http.StatusTooManyRequests:
		return &Error{Code: CodeThrottled, Err: err, Message: "the token endpoint throttled the app: the next run retries it; if it persists, lower COLLECT_CONCURRENCY"}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &Error{Code: CodeForbidden, Err: err, Message: fmt.Sprintf("tenant %s refused a token (%d %s): check the app's credentials and consent in that tenant", tenant, status, code)}
	case status >= 400 && status < 500 && strings.Contains(strings.ToLower(err.Error()), "consent"):
		return &Error{Code: CodeNotConsented, Err: err, Message: fmt.Sprintf(
			"tenant %s refused a token (%d %s): most often the app is not consented there. Consent it through Partner Center or the GDAP relationship, then collect again", tenant, status, code)}
	case status >= 400 && status < 500:
		return &Error{Code: CodeSourceError, Err: err, Message: fmt.Sprintf(
			"tenant %s's token endpoint refused the request (%d %s): check LOGIN_BASE_URL, GRAPH_BASE_URL and the app registration", tenant, status, code)}
	}
	return &Error{Code: CodeSourceError, Err: err, Message: fmt.Sprintf("the token endpoint for tenant %s did not answer usefully: the next run retries it; check LOGIN_BASE_URL if it persists", tenant)}
}
