package authorizer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

// issuer is a real OIDC issuer on loopback: discovery document and JWKS.
func issuer(t *testing.T, keys map[string]*rsa.PrivateKey) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		for kid, k := range keys {
			set.Keys = append(set.Keys, map[string]string{
				"kty": "RSA", "use": "sig", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			})
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	return srv
}

func sign(t *testing.T, key *rsa.PrivateKey, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s
}

func TestAuthorize(t *testing.T) {
	good, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rogue, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := issuer(t, map[string]*rsa.PrivateKey{"k1": good})
	a, err := New(Settings{Issuer: srv.URL, Audience: "api://license-insights"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": srv.URL, "aud": "api://license-insights", "sub": "user-1",
			"exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix(),
			"partner_tenant": "contoso-partner",
		}
	}
	with := func(k string, v any) jwt.MapClaims { c := base(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := base(); delete(c, k); return c }

	tests := []struct {
		name       string
		token      string
		wantTenant string
		wantRole   string
	}{
		{"reader", sign(t, good, "k1", base()), "contoso-partner", "reader"},
		{"writer by app role", sign(t, good, "k1", with("roles", []string{"LicenseInsights.Writer"})), "contoso-partner", "writer"},
		{"writer by scope", sign(t, good, "k1", with("scp", "openid licenses.write")), "contoso-partner", "writer"},
		{"expired", sign(t, good, "k1", with("exp", now.Add(-time.Hour).Unix())), "", ""},
		{"no expiry", sign(t, good, "k1", without("exp")), "", ""},
		{"wrong audience", sign(t, good, "k1", with("aud", "api://other")), "", ""},
		{"wrong issuer", sign(t, good, "k1", with("iss", "https://evil.example")), "", ""},
		{"signed by another key", sign(t, rogue, "k1", base()), "", ""},
		{"unknown key id", sign(t, rogue, "k9", base()), "", ""},
		{"no tenant claim", sign(t, good, "k1", without("partner_tenant")), "", ""},
		{"malformed tenant", sign(t, good, "k1", with("partner_tenant", "a#b")), "", ""},
		{"not a bearer token", "Basic dXNlcjpwYXNz", "", ""},
		// The scheme in any letter case (RFC 6750), one rule with the
		// local gateway (api.BearerToken).
		{"lower-case scheme", "bearer " + strings.TrimPrefix(sign(t, good, "k1", base()), "Bearer "), "contoso-partner", "reader"},
		{"upper-case scheme", "BEARER " + strings.TrimPrefix(sign(t, good, "k1", base()), "Bearer "), "contoso-partner", "reader"},
		{"scheme only", "Bearer ", "", ""},
		// Claim names are exact: a differently spelt claim grants nothing
		// and stands in for nothing.
		{"ROLES is not roles", sign(t, good, "k1", with("ROLES", []string{"LicenseInsights.Writer"})), "contoso-partner", "reader"},
		{"Scp is not scp", sign(t, good, "k1", with("Scp", "licenses.write")), "contoso-partner", "reader"},
		{"EXP is not exp", sign(t, good, "k1", func() jwt.MapClaims { c := without("exp"); c["EXP"] = now.Add(time.Hour).Unix(); return c }()), "", ""},
		{"a later Exp does not extend exp", sign(t, good, "k1", func() jwt.MapClaims {
			c := with("exp", now.Add(-time.Hour).Unix())
			c["Exp"] = now.Add(time.Hour).Unix()
			return c
		}()), "", ""},
		{"PARTNER_TENANT is not partner_tenant", sign(t, good, "k1", func() jwt.MapClaims {
			c := without("partner_tenant")
			c["PARTNER_TENANT"] = "contoso-partner"
			return c
		}()), "", ""},
		// exp only as a number.
		{"exp as a string", sign(t, good, "k1", with("exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10))), "", ""},
		{"iat as a string", sign(t, good, "k1", with("iat", strconv.FormatInt(now.Unix(), 10))), "", ""},
		{"tenant of dots", sign(t, good, "k1", with("partner_tenant", "..")), "", ""},
		{"garbage", "Bearer not.a.jwt", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := a.Authorize(context.Background(), events.APIGatewayCustomAuthorizerRequest{
				Type: "TOKEN", AuthorizationToken: tc.token,
				MethodArn: "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/portfolio",
			})
			if tc.wantTenant == "" {
				if err != ErrUnauthorized {
					t.Fatalf("want Unauthorized, got %v (%+v)", err, resp.Context)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Context["tenant"] != tc.wantTenant || resp.Context["role"] != tc.wantRole {
				t.Fatalf("context %v", resp.Context)
			}
			st := resp.PolicyDocument.Statement[0]
			if st.Effect != "Allow" || st.Resource[0] != "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*" {
				t.Fatalf("policy %+v", st)
			}
			if resp.PrincipalID != "user-1" {
				t.Fatalf("principal %q", resp.PrincipalID)
			}
		})
	}
}

// A token whose algorithm is switched to HS256 (signed with the public key
// as an HMAC secret — the classic confusion attack) must be refused.
func TestAlgorithmConfusionRefused(t *testing.T) {
	good, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := issuer(t, map[string]*rsa.PrivateKey{"k1": good})
	a, _ := New(Settings{Issuer: srv.URL, Audience: "aud"})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": srv.URL, "aud": "aud", "exp": time.Now().Add(time.Hour).Unix(), "partner_tenant": "x",
	})
	tok.Header["kid"] = "k1"
	s, _ := tok.SignedString(good.N.Bytes())
	if _, err := a.Validate(context.Background(), "Bearer "+s); err == nil {
		t.Fatal("HS256 token accepted")
	}
}
