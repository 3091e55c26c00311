package license

import (
	"regexp"
	"strings"
	"testing"
)

// Tenant ids: the documented pattern, and never only dots ("." and ".."
// would end up as path segments of S3 keys).
func TestNewTenant(t *testing.T) {
	pattern := regexp.MustCompile(TenantPattern)
	for _, id := range []string{"demo-partner", "a", "9188040d-6c67-4c5b-b112-36a304b66dad", "x.y_z", ".a", "a..", strings.Repeat("a", 128)} {
		if _, err := NewTenant(id); err != nil || !pattern.MatchString(id) {
			t.Errorf("NewTenant(%q) = %v, pattern %v; want valid", id, err, pattern.MatchString(id))
		}
	}
	for _, id := range []string{".", "..", "...", "a/b", "a#b", "a b", "é", strings.Repeat("a", 129)} {
		if _, err := NewTenant(id); err == nil {
			t.Errorf("NewTenant(%q) accepted", id)
		}
	}
	if _, err := NewTenant(""); err != ErrNoTenant {
		t.Errorf("NewTenant(\"\") = %v, want ErrNoTenant", err)
	}
	for _, id := range []string{".", ".."} {
		if err := ValidCustomerID(id); err == nil {
			t.Errorf("ValidCustomerID(%q) accepted", id)
		}
	}
}

// The operator commands' -tenant list: blanks and spaces around ids are
// skipped, order is kept, and one bad id fails the whole list.
func TestParseTenants(t *testing.T) {
	got, err := ParseTenants(" a , ,b.c,")
	if err != nil || len(got) != 2 || got[0].ID() != "a" || got[1].ID() != "b.c" {
		t.Fatalf("ParseTenants = %v, %v; want [a b.c]", got, err)
	}
	if got, err := ParseTenants(" , "); err != nil || len(got) != 0 {
		t.Errorf("ParseTenants(blank) = %v, %v; want none, no error", got, err)
	}
	if _, err := ParseTenants("a,x/y"); err == nil || !strings.Contains(err.Error(), `"x/y"`) {
		t.Errorf("ParseTenants(a,x/y) = %v; want the bad id named", err)
	}
}
