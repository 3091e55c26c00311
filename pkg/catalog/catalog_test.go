package catalog

import (
	"strings"
	"testing"
)

func TestLookups(t *testing.T) {
	tests := []struct {
		name   string
		lookup func(string) (Product, bool)
		in     string
		want   Product
	}{
		{"sku exact", BySKU, "SPE_E3", Product{"05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3", "Microsoft 365 E3"}},
		{"sku lower case", BySKU, "enterprisepack", Product{"6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", "Office 365 E3"}},
		{"sku mixed case part number", BySKU, "microsoft_teams_enterprise_new", Product{"7e31c0d9-9551-471d-836f-32ee72be4a01", "Microsoft_Teams_Enterprise_New", "Microsoft Teams Enterprise"}},
		{"guid lower", BySKUID, "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", Product{"cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "SPB", "Microsoft 365 Business Premium"}},
		{"guid upper", BySKUID, "F245ECC8-75AF-4F8E-B61F-27D8114DE5F3", Product{"f245ecc8-75af-4f8e-b61f-27d8114de5f3", "O365_BUSINESS_PREMIUM", "Microsoft 365 Business Standard"}},
		{"display name", ByName, "Microsoft 365 E5", Product{"06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5", "Microsoft 365 E5"}},
		{"report name upper case", ByName, "MICROSOFT 365 BUSINESS STANDARD", Product{"f245ecc8-75af-4f8e-b61f-27d8114de5f3", "O365_BUSINESS_PREMIUM", "Microsoft 365 Business Standard"}},
		{"older report name", ByName, "OFFICE 365 ENTERPRISE E5", Product{"c7df2760-2c81-4ef7-b578-5b5392b571df", "ENTERPRISEPREMIUM", "Office 365 E5"}},
		{"spaces ignored", ByName, "  office   365e3 ", Product{"6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", "Office 365 E3"}},
		{"name with plus sign", ByName, "ENTERPRISE MOBILITY + SECURITY E3", Product{"efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "EMS", "Enterprise Mobility + Security E3"}},
		{"old name of Business Standard", ByName, "Office 365 Business Premium", Product{"f245ecc8-75af-4f8e-b61f-27d8114de5f3", "O365_BUSINESS_PREMIUM", "Microsoft 365 Business Standard"}},
		{"old name of Business Premium", ByName, "Microsoft 365 Business", Product{"cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "SPB", "Microsoft 365 Business Premium"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.lookup(tt.in)
			if !ok || got != tt.want {
				t.Fatalf("lookup(%q) = %+v, %v; want %+v, true", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestLookupMisses(t *testing.T) {
	if p, ok := BySKU("NOT_A_SKU"); ok {
		t.Errorf("BySKU(NOT_A_SKU) = %+v, want miss", p)
	}
	if p, ok := BySKUID("00000000-0000-0000-0000-000000000000"); ok {
		t.Errorf("BySKUID(zero) = %+v, want miss", p)
	}
	if p, ok := ByName("Contoso Add-on"); ok {
		t.Errorf("ByName(Contoso Add-on) = %+v, want miss", p)
	}
	// A part number is not a name: ByName must not answer for it, or an
	// unknown report name that happens to look like a SKU would be remapped.
	if p, ok := ByName("SPE_E3"); ok {
		t.Errorf("ByName(SPE_E3) = %+v, want miss", p)
	}
	if got := Name("NOT_A_SKU"); got != "" {
		t.Errorf("Name(NOT_A_SKU) = %q, want empty", got)
	}
	if got := Name("visioclient"); got != "Visio Plan 2" {
		t.Errorf("Name(visioclient) = %q, want Visio Plan 2", got)
	}
}

// The brief names these SKUs; each must be present so that the parsers can
// name what partners sell most.
func TestCatalogueCoversCommonSKUs(t *testing.T) {
	want := []string{"SPE_E3", "ENTERPRISEPACK", "O365_BUSINESS_PREMIUM", "SPB", "O365_BUSINESS_ESSENTIALS",
		"EXCHANGESTANDARD", "STANDARDPACK", "SPE_E5", "ENTERPRISEPREMIUM", "SPE_F1", "DESKLESSPACK",
		"TEAMS_EXPLORATORY", "FLOW_FREE", "POWER_BI_PRO", "POWER_BI_STANDARD", "VISIOCLIENT",
		"PROJECTPROFESSIONAL", "EMS", "Microsoft_Teams_Enterprise_New"}
	for _, sku := range want {
		if _, ok := BySKU(sku); !ok {
			t.Errorf("catalogue lacks %s", sku)
		}
	}
	if n := len(All()); n < 40 {
		t.Errorf("catalogue has %d products, want at least 40", n)
	}
}

// Every product must be reachable by each of its keys and lead back to
// itself; load already refuses duplicates, this proves the maps agree.
func TestEveryProductRoundTrips(t *testing.T) {
	for _, p := range All() {
		if got, ok := BySKU(p.SKU); !ok || got != p {
			t.Errorf("BySKU(%s) = %+v, %v", p.SKU, got, ok)
		}
		if got, ok := BySKUID(p.SKUID); !ok || got != p {
			t.Errorf("BySKUID(%s) = %+v, %v", p.SKUID, got, ok)
		}
		if got, ok := ByName(strings.ToUpper(p.Name)); !ok || got != p {
			t.Errorf("ByName(%s) = %+v, %v", p.Name, got, ok)
		}
	}
}

func TestLoadRejectsAmbiguousData(t *testing.T) {
	const header = "sku_id,sku,name,other_names\n"
	tests := []struct {
		name, data, wantErr string
	}{
		{"bad guid", header + "not-a-guid,X,Y,\n", "is not a GUID"},
		{"duplicate guid", header +
			"05e9a617-0261-4cee-bb44-138d3ef5d965,A,Alpha,\n" +
			"05E9A617-0261-4cee-bb44-138d3ef5d965,B,Beta,\n", "already used by A"},
		{"duplicate sku", header +
			"05e9a617-0261-4cee-bb44-138d3ef5d965,A,Alpha,\n" +
			"06ebc4ee-1bb5-47dd-8120-11324bc54e06,a,Beta,\n", "already used by A"},
		{"name shared by two skus", header +
			"05e9a617-0261-4cee-bb44-138d3ef5d965,A,Alpha,\n" +
			"06ebc4ee-1bb5-47dd-8120-11324bc54e06,B,Beta,ALPHA\n", "already used by A"},
		{"wrong header", "guid,sku,name,other\n", "header is"},
		{"missing name", header + "05e9a617-0261-4cee-bb44-138d3ef5d965,A,,\n", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(strings.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("load error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
