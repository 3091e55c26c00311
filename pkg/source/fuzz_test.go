package source

import (
	"bytes"
	"errors"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// The fuzz tests feed each parser arbitrary bytes, seeded from the testdata
// files and the hand-written corpus under testdata/fuzz. Whatever the input,
// Parse must not panic, must answer either a document or an *InvalidError
// (the reader never fails here), and what it accepts must hold the
// invariants the rest of the system relies on.

func fuzzParse(f *testing.F, kind Kind, seeds ...string) {
	for _, name := range seeds {
		data := []byte(readTestdata(f, name))
		f.Add(data, false)
		f.Add(data, true)
		// A truncated copy exercises the "ends unexpectedly" paths.
		f.Add(data[:len(data)/2], false)
	}
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		var users []license.User
		doc, err := Parse(bytes.NewReader(data), kind, Options{SkipInvalid: skip, PartnerTenantID: partnerTenant}, func(u license.User) error {
			users = append(users, u)
			return nil
		})
		if doc == nil {
			t.Fatalf("Parse returned no document (err %v)", err)
		}
		if doc.Users != len(users) {
			t.Fatalf("Document.Users = %d, onUser called %d times", doc.Users, len(users))
		}
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("error is not an *InvalidError: %v", err)
			}
			if len(inv.Problems) == 0 || len(inv.Problems) > MaxProblems || inv.Total < len(inv.Problems) {
				t.Fatalf("InvalidError lists %d problems of %d", len(inv.Problems), inv.Total)
			}
			for _, p := range inv.Problems {
				if p.Line < 1 || p.Reason == "" {
					t.Fatalf("problem without line or reason: %+v", p)
				}
			}
			return
		}
		checkAccepted(t, kind, doc, users)
	})
}

// checkAccepted checks what an accepted document promises.
func checkAccepted(t *testing.T, kind Kind, doc *Document, users []license.User) {
	if len(doc.Skipped) > MaxProblems || doc.SkippedTotal < len(doc.Skipped) {
		t.Fatalf("Skipped lists %d of %d", len(doc.Skipped), doc.SkippedTotal)
	}
	if (kind == KindSnapshot || kind == KindActiveUserDetail) && doc.ReportDate == license.NoDate {
		t.Fatal("accepted without a report date")
	}
	if kind == KindSnapshot && (doc.Customer == nil || license.ValidCustomerID(doc.Customer.ID) != nil) {
		t.Fatalf("accepted snapshot with customer %+v", doc.Customer)
	}
	if kind == KindActiveUserDetail && len(users) == 0 {
		t.Fatal("accepted a report without users")
	}
	ids := map[string]bool{}
	for _, s := range doc.Subscriptions {
		if s.ID == "" || s.SKU == "" || s.Quantity < 0 || !s.Status.Valid() || !s.Channel.Valid() {
			t.Fatalf("accepted subscription %+v", s)
		}
		if ids[s.ID] {
			t.Fatalf("subscription id %q twice", s.ID)
		}
		ids[s.ID] = true
	}
	keys := map[string]bool{}
	for _, u := range users {
		if u.Key == "" || len(u.Key) > maxKeyBytes {
			t.Fatalf("accepted user key %q", u.Key)
		}
		if kind == KindSnapshot {
			if keys[u.Key] {
				t.Fatalf("user key %q twice", u.Key)
			}
			keys[u.Key] = true
		}
		seen := map[license.Workload]bool{}
		for _, w := range u.Workloads {
			if seen[w.Workload] || w.Workload == "onedrive" {
				t.Fatalf("user %q: workload %q twice or unmerged", u.Key, w.Workload)
			}
			seen[w.Workload] = true
		}
		for _, l := range u.Licenses {
			if l.SKU == "" {
				t.Fatalf("user %q has a licence without SKU", u.Key)
			}
		}
	}
}

func FuzzParseSnapshot(f *testing.F) {
	fuzzParse(f, KindSnapshot, "snapshot.json")
}

func FuzzParseActiveUserDetail(f *testing.F) {
	fuzzParse(f, KindActiveUserDetail, "activeuserdetail.csv", "activeuserdetail-concealed.csv")
}

func FuzzParseSubscribedSkus(f *testing.F) {
	fuzzParse(f, KindSubscribedSkus, "subscribedskus.json")
}

func FuzzParseDirectorySubscriptions(f *testing.F) {
	fuzzParse(f, KindDirectorySubs, "directorysubscriptions.json")
}

func FuzzParsePartnerCenter(f *testing.F) {
	fuzzParse(f, KindPartnerCenterSubs, "partnercenter.json")
}

func FuzzDetect(f *testing.F) {
	for _, name := range []string{"snapshot.json", "activeuserdetail.csv", "activeuserdetail-concealed.csv",
		"subscribedskus.json", "directorysubscriptions.json", "partnercenter.json"} {
		f.Add([]byte(readTestdata(f, name)))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		kind, err := Detect(head)
		if err != nil {
			if kind != "" {
				t.Fatalf("Detect returned %q with error %v", kind, err)
			}
			return
		}
		if _, perr := ParseKind(string(kind)); perr != nil {
			t.Fatalf("Detect returned unknown kind %q", kind)
		}
		// Detect decides on the head only: more bytes after it change nothing.
		if len(head) >= DetectSize {
			if again, _ := Detect(append(head[:DetectSize:DetectSize], "garbage"...)); again != kind {
				t.Fatalf("Detect changed its mind past the head: %q then %q", kind, again)
			}
		}
	})
}
