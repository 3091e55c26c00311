package devstack

import (
	"fmt"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// TokensEnv names the variable that maps local bearer tokens to tenants
// (README.md ("The two commands")): "tokenA=tenant-a,tokenB=tenant-b:reader".
const TokensEnv = "LOCAL_API_TOKENS"

// DefaultTokens is what an unset LOCAL_API_TOKENS means.
const DefaultTokens = "demo=demo-partner"

// Token is one local bearer token: what the JWT authorizer would have
// established for a real token.
type Token struct {
	Name   string // the bearer value, and the principalId
	Tenant license.Tenant
	Role   api.Role
}

// ParseTokens reads LOCAL_API_TOKENS: comma-separated token=tenant pairs; a
// tenant suffixed ":reader" gives the reader role, ":writer" or no suffix
// the writer role. An empty value means DefaultTokens.
func ParseTokens(s string) ([]Token, error) {
	if strings.TrimSpace(s) == "" {
		s = DefaultTokens
	}
	var out []Token
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		where := fmt.Sprintf("%s entry %d (%q)", TokensEnv, i+1, part)
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("%s: want token=tenant or token=tenant:reader", where)
		}
		if strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%s: a token cannot contain spaces", where)
		}
		if seen[name] {
			return nil, fmt.Errorf("%s: token %q is given twice", where, name)
		}
		seen[name] = true
		role := api.RoleWriter
		if tenant, r, hasRole := strings.Cut(value, ":"); hasRole {
			switch api.Role(r) {
			case api.RoleReader, api.RoleWriter:
				role = api.Role(r)
			default:
				return nil, fmt.Errorf("%s: role %q is neither reader nor writer", where, r)
			}
			value = tenant
		}
		tenant, err := license.NewTenant(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, Token{Name: name, Tenant: tenant, Role: role})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s=%q names no token", TokensEnv, s)
	}
	return out, nil
}

// String is the token as LOCAL_API_TOKENS writes it.
func (t Token) String() string {
	if t.Role == api.RoleReader {
		return t.Name + "=" + t.Tenant.ID() + ":reader"
	}
	return t.Name + "=" + t.Tenant.ID()
}
