// Package authorizer is the API's Lambda TOKEN authorizer. It validates a
// bearer JWT issued by the partner's OIDC provider (Microsoft Entra ID, or
// any issuer with a discovery document and RS256 keys) and puts the tenant
// and role into the authorizer context, which API Gateway hands to every
// function as requestContext.authorizer. No other input sets the tenant.
//
// Claims read:
//   - iss must equal OIDC_ISSUER, aud must contain OIDC_AUDIENCE, exp/nbf hold;
//   - TENANT_CLAIM (default "partner_tenant") names the tenant;
//   - the role: "writer" when the "roles" claim holds LicenseInsights.Writer
//     or the "scp" claim holds licenses.write; otherwise "reader".
package authorizer

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Claim values that grant the writer role.
const (
	WriterAppRole = "LicenseInsights.Writer"
	WriterScope   = "licenses.write"
)

// ErrUnauthorized makes API Gateway answer 401 (its contract for TOKEN
// authorizers: the error message must be exactly "Unauthorized").
var ErrUnauthorized = errors.New("Unauthorized")

// Settings configure the authorizer.
type Settings struct {
	Issuer      string // OIDC_ISSUER
	Audience    string // OIDC_AUDIENCE
	TenantClaim string // TENANT_CLAIM
	HTTPClient  *http.Client
}

// Authorizer validates tokens against the issuer's published keys.
type Authorizer struct {
	s    Settings
	keys *keySet
	now  func() time.Time
}

// New checks the settings and builds the authorizer (pkg/app wires it
// into the Lambda function, whose entry point is Authorize).
func New(s Settings) (*Authorizer, error) {
	if s.Issuer == "" || s.Audience == "" {
		return nil, errors.New("OIDC_ISSUER and OIDC_AUDIENCE must be set")
	}
	if s.TenantClaim == "" {
		s.TenantClaim = "partner_tenant"
	}
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 3 * time.Second}
	}
	return &Authorizer{s: s, keys: &keySet{issuer: strings.TrimSuffix(s.Issuer, "/"), client: s.HTTPClient}, now: time.Now}, nil
}

// Identity is what a valid token establishes.
type Identity struct {
	Subject string
	Tenant  license.Tenant
	Role    api.Role
}

// Authorize answers API Gateway's TOKEN authorizer request. The policy
// allows every route of the stage, because API Gateway caches the answer per
// token (ReauthorizeEvery) across routes; what a role may do is enforced by
// the functions (pkg/api), which read the role from the context.
func (a *Authorizer) Authorize(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	id, err := a.Validate(ctx, ev.AuthorizationToken)
	if err != nil {
		slog.InfoContext(ctx, "token refused", "reason", err.Error())
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: id.Subject,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{stageWildcard(ev.MethodArn)},
			}},
		},
		Context: map[string]any{api.ContextTenant: id.Tenant.ID(), api.ContextRole: string(id.Role)},
	}, nil
}

// stageWildcard turns arn:…:api/stage/VERB/path into arn:…:api/stage/*/*.
func stageWildcard(methodArn string) string {
	parts := strings.SplitN(methodArn, "/", 3)
	if len(parts) < 2 {
		return methodArn
	}
	return parts[0] + "/" + parts[1] + "/*/*"
}

// Validate checks a "Bearer <jwt>" value (api.BearerToken: the scheme in
// any letter case) and returns who it names.
//
// Claims are read from a map, by their exact names: decoding into a struct
// would match "ROLES" or "Exp" for "roles" and "exp" (encoding/json ignores
// case), so a token could grant itself the writer role or a later expiry
// under a differently spelt name. exp (required), nbf and iat must be JSON
// numbers: a string "exp" is refused (jwt.MapClaims parses numbers only).
func (a *Authorizer) Validate(ctx context.Context, header string) (*Identity, error) {
	raw, ok := api.BearerToken(header)
	if !ok {
		return nil, errors.New("no bearer token")
	}
	c := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return a.keys.key(ctx, kid)
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(a.s.Issuer),
		jwt.WithAudience(a.s.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(time.Minute),
		jwt.WithTimeFunc(a.now),
	)
	if err != nil || !tok.Valid {
		return nil, fmt.Errorf("invalid token: %w", err)
	}
	// jwt.MapClaims would take a string iat as "no iat"; a number is the
	// only form RFC 7519 allows.
	if v, has := c["iat"]; has {
		if _, num := v.(float64); !num {
			return nil, fmt.Errorf("invalid token: iat is %T, not a number", v)
		}
	}
	tenantID, _ := c[a.s.TenantClaim].(string)
	tenant, err := license.NewTenant(tenantID)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", a.s.TenantClaim, err)
	}
	subject, _ := c["sub"].(string)
	role := api.RoleReader
	if slices.Contains(stringsOf(c["roles"]), WriterAppRole) || slices.Contains(strings.Fields(stringOf(c["scp"])), WriterScope) {
		role = api.RoleWriter
	}
	return &Identity{Subject: subject, Tenant: tenant, Role: role}, nil
}

// stringsOf is a claim's array of strings (other members ignored).
func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// keySet caches the issuer's signing keys, refreshing when a token names an
// unknown key id (key rotation) at most once a minute.
type keySet struct {
	issuer string
	client *http.Client

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func (k *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.keys[kid]; ok {
		return key, nil
	}
	if time.Since(k.fetched) < time.Minute && k.keys != nil {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	keys, err := k.fetch(ctx)
	if err != nil {
		return nil, err
	}
	k.keys, k.fetched = keys, time.Now()
	if key, ok := keys[kid]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

func (k *keySet) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(v)
}

func (k *keySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	var discovery struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.getJSON(ctx, k.issuer+"/.well-known/openid-configuration", &discovery); err != nil {
		return nil, fmt.Errorf("OIDC discovery: %w", err)
	}
	var set struct {
		Keys []struct {
			Kty, Kid, Use, N, E string
		} `json:"keys"`
	}
	if err := k.getJSON(ctx, discovery.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	out := map[string]*rsa.PublicKey{}
	for _, j := range set.Keys {
		if j.Kty != "RSA" || (j.Use != "" && j.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(j.N)
		e, err2 := base64.RawURLEncoding.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		out[j.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return out, nil
}
