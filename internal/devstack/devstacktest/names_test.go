package devstacktest

import (
	"regexp"
	"strings"
	"testing"
)

func TestGeneratedNamesAreValid(t *testing.T) {
	tableName := regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	bucket := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	for _, name := range []string{
		"TestX",
		"TestStore/put_and_get/ü nicode #1",
		strings.Repeat("TestVeryLong/", 40),
		"/-/",
	} {
		if got := uniqueName(name, 200); !tableName.MatchString(got) || len(got) > 200 {
			t.Errorf("uniqueName(%q) = %q: not a valid table name of at most 200 characters", name, got)
		}
		if got := bucketName(name); !bucket.MatchString(got) {
			t.Errorf("bucketName(%q) = %q: not a valid bucket name", name, got)
		}
	}
	if a, b := uniqueName("TestX", 200), uniqueName("TestX", 200); a == b {
		t.Errorf("two tables for the same test share the name %q", a)
	}
	if a, b := bucketName("TestX"), bucketName("TestX"); a == b {
		t.Errorf("two buckets for the same test share the name %q", a)
	}
}
