package collect

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// copilotCustomers splits the emulator's customers into those holding
// Copilot seats and the others; the test needs one of each.
func copilotCustomers(t *testing.T, f *fixture) (with, without portfoliogen.CustomerSpec) {
	t.Helper()
	var w, wo []portfoliogen.CustomerSpec
	for _, c := range f.emu.Customers() {
		if portfoliogen.HasCopilot(portfolio(0), c) {
			w = append(w, c)
		} else {
			wo = append(wo, c)
		}
	}
	if len(w) == 0 || len(wo) == 0 {
		t.Fatalf("%d customers with Copilot seats and %d without: the test needs one of each", len(w), len(wo))
	}
	return w[0], wo[0]
}

func kinds(got *Customer) []string {
	var k []string
	for _, d := range got.Documents {
		k = append(k, d.Kind)
	}
	return k
}

// copilotRequests counts the Copilot report requests of tenant and the
// statuses answered.
func copilotRequests(f *fixture, tenant string) (n int, statuses []int) {
	for _, r := range f.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/copilot/reports/") && r.Tenant == tenant {
			n++
			statuses = append(statuses, r.Status)
		}
	}
	return n, statuses
}

// A customer whose subscribedSkus name a Copilot SKU: the Copilot usage
// report comes as one more document, right after the users document, byte
// for byte the version 2 CSV Graph's download URL serves (asked with the
// token, downloaded without it). A customer without Copilot is not asked.
func TestCollectFetchesTheCopilotReportOfCopilotCustomersOnly(t *testing.T) {
	f := start(t, 12, 100, testSecret)
	with, without := copilotCustomers(t, f)

	got, err := f.client.Collect(t.Context(), with.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{KindOrganization, KindSubscribedSkus, KindDirectorySubs, KindActiveUserDetail, KindCopilotUsage, KindPartnerCenter}
	if k := kinds(got); !slices.Equal(k, want) {
		t.Errorf("kinds %v, want %v", k, want)
	}
	var csv bytes.Buffer
	if err := portfoliogen.WriteCopilotUsage(&csv, portfolio(0), with); err != nil {
		t.Fatal(err)
	}
	if r := doc(t, got, KindCopilotUsage); !bytes.Equal(r, csv.Bytes()) {
		t.Errorf("Copilot report differs from the generated CSV (%d bytes vs %d)", len(r), csv.Len())
	}
	if !strings.Contains(strings.SplitN(csv.String(), "\n", 2)[0], "Active Usage Days") {
		t.Errorf("the served report is not version 2 (no active days column): %q", strings.SplitN(csv.String(), "\n", 2)[0])
	}
	if len(got.Notes) != 0 {
		t.Errorf("notes %q, want none", got.Notes)
	}
	if n, st := copilotRequests(f, with.TenantID); n != 1 || st[0] != 302 {
		t.Errorf("Copilot report asked %d times, answered %v; want once, 302", n, st)
	}
	downloads := 0
	for _, r := range f.emu.Requests() {
		if strings.HasPrefix(r.Path, "/download/") {
			downloads++
			if r.Authorization || r.Status != 200 {
				t.Errorf("download: status %d, authorization %v; want 200 without a token", r.Status, r.Authorization)
			}
		}
	}
	if downloads != 2 {
		t.Errorf("%d downloads, want 2 (the Office report and the Copilot report)", downloads)
	}

	got, err = f.client.Collect(t.Context(), without.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if k := kinds(got); slices.Contains(k, KindCopilotUsage) {
		t.Errorf("a customer without Copilot seats has kinds %v", k)
	}
	if n, _ := copilotRequests(f, without.TenantID); n != 0 {
		t.Errorf("the Copilot report was asked %d times of a customer without Copilot, want 0", n)
	}
}

// A 403 on the Copilot report (no access to it) leaves the customer
// collected with its other documents and a note saying what to grant.
func TestCopilotReportForbiddenIsANoteNotAFailure(t *testing.T) {
	f := start(t, 12, 100, testSecret)
	with, _ := copilotCustomers(t, f)
	f.emu.ForbidCopilotReport(with.TenantID)
	got, err := f.client.Collect(t.Context(), with.TenantID)
	if err != nil {
		t.Fatalf("Collect: %v, want the customer collected without the Copilot report", err)
	}
	want := []string{KindOrganization, KindSubscribedSkus, KindDirectorySubs, KindActiveUserDetail, KindPartnerCenter}
	if k := kinds(got); !slices.Equal(k, want) {
		t.Errorf("kinds %v, want %v", k, want)
	}
	if len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "Copilot usage report was not collected") || !strings.Contains(got.Notes[0], "Reports.Read.All") {
		t.Errorf("notes %q, want one saying the Copilot report was not collected and what to grant", got.Notes)
	}
	// Forbidden is not retried: one request, answered 403.
	if n, st := copilotRequests(f, with.TenantID); n != 1 || st[0] != 403 {
		t.Errorf("Copilot report asked %d times, answered %v; want once, 403", n, st)
	}
}
