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
