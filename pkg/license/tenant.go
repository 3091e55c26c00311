package license

import (
	"errors"
	"fmt"
	"strings"
)

// Tenant is the partner a request acts for. It is established only by the
// API's authorizer; the zero Tenant is invalid, so code that forgot to set it
// cannot reach any data (every storage key is built from a valid Tenant).
type Tenant struct{ id string }

// ErrNoTenant is the error for a missing tenant.
var ErrNoTenant = errors.New("no tenant")

// TenantPattern is the documented form of a tenant id: 1–128 characters
// of letters, digits, '.', '_' and '-' (no '#', which the storage keys use
// as separator); besides, not only dots ("." and ".." would name the
// directory itself or its parent in an S3 key's path, uploads/../).
const TenantPattern = `^[A-Za-z0-9._-]{1,128}$`

// NewTenant validates a tenant id against TenantPattern.
func NewTenant(id string) (Tenant, error) {
	if id == "" {
		return Tenant{}, ErrNoTenant
	}
	if len(id) > 128 {
		return Tenant{}, fmt.Errorf("tenant id is longer than 128 characters")
	}
	for _, c := range id {
		if !(c == '.' || c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return Tenant{}, fmt.Errorf("tenant id %q has a character other than letters, digits, '.', '_' or '-'", id)
		}
	}
	if onlyDots(id) {
		return Tenant{}, fmt.Errorf("tenant id %q is only dots: it would name a directory, not a tenant, in storage paths", id)
	}
	return Tenant{id: id}, nil
}

// ID is the tenant's id, "" for the zero Tenant.
func (t Tenant) ID() string { return t.id }

// Valid reports whether t was made by NewTenant.
func (t Tenant) Valid() bool { return t.id != "" }

// ValidCustomerID checks a customer id from a path or document: 1–128
// characters of letters, digits, '.', '_', '-' and '@'.
func ValidCustomerID(id string) error {
	if id == "" {
		return errors.New("customer id is empty")
	}
	if len(id) > 128 {
		return errors.New("customer id is longer than 128 characters")
	}
	for _, c := range id {
		if !(c == '.' || c == '_' || c == '-' || c == '@' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return fmt.Errorf("customer id %q has a character other than letters, digits, '.', '_', '-' or '@'", id)
		}
	}
	if onlyDots(id) {
		return fmt.Errorf("customer id %q is only dots: use letters or digits", id)
	}
	return nil
}

// onlyDots reports whether id is made of dots alone ("." and ".." are path
// segments to every URL and file path, never names).
func onlyDots(id string) bool {
	for _, c := range id {
		if c != '.' {
			return false
		}
	}
	return true
}

// ParseTenants reads a comma-separated list of tenant ids (as the operator
// commands take them), skipping blanks; the first invalid id is the error.
// An empty list is not an error: what it means is the caller's to say.
func ParseTenants(list string) ([]Tenant, error) {
	var out []Tenant
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		t, err := NewTenant(id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
