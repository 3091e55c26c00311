package catalog

import (
	"io"
	"os"
	"slices"
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
	// Microsoft's CSV of 2026 lists 619 products (distinct GUIDs).
	if n := len(All()); n != 619 {
		t.Errorf("catalogue has %d products, want the 619 of Microsoft's list", n)
	}
}

// Every product must be reachable by each of its keys and lead back to
// itself; load already refuses duplicates, this proves the maps agree.
func TestEveryProductRoundTrips(t *testing.T) {
	for _, p := range All() {
		// MCOPSTN5 is published under two GUIDs: by part number it is the
		// first of them.
		if got, ok := BySKU(p.SKU); !ok || (got != p && p.SKU != "MCOPSTN5") {
			t.Errorf("BySKU(%s) = %+v, %v", p.SKU, got, ok)
		}
		if got, ok := BySKUID(p.SKUID); !ok || got != p {
			t.Errorf("BySKUID(%s) = %+v, %v", p.SKUID, got, ok)
		}
		if all := ByNameAll(strings.ToUpper(p.Name)); !slices.Contains(all, p) {
			t.Errorf("ByNameAll(%s) = %+v, lacks %+v", p.Name, all, p)
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

// Microsoft gives some names to two products; a name listed in aliases.csv
// prefers the product partners sell, the rest stay reachable by ByNameAll.
func TestSharedNames(t *testing.T) {
	if p, _ := ByName("MICROSOFT 365 BUSINESS BASIC"); p.SKU != "O365_BUSINESS_ESSENTIALS" {
		t.Errorf("ByName(MICROSOFT 365 BUSINESS BASIC) = %s, want O365_BUSINESS_ESSENTIALS (preferred in aliases.csv)", p.SKU)
	}
	var skus []string
	for _, p := range ByNameAll("WINDOWS 10/11 ENTERPRISE E3") {
		skus = append(skus, p.SKU)
	}
	if want := []string{"WIN10_PRO_ENT_SUB", "WIN10_VDA_E3"}; !slices.Equal(skus, want) {
		t.Errorf("ByNameAll(WINDOWS 10/11 ENTERPRISE E3) = %v, want %v", skus, want)
	}
	// The one part number Microsoft lists under two GUIDs: both GUIDs find it.
	for _, id := range []string{"d43177b5-475b-4880-92d4-d54c27b5efbd", "54a152dc-90de-4996-93d2-bc47e670fc06"} {
		if p, ok := BySKUID(id); !ok || p.SKU != "MCOPSTN5" {
			t.Errorf("BySKUID(%s) = %+v, %v; want MCOPSTN5", id, p, ok)
		}
	}
}

// Every rule of docs/definitions.md#subscriptions-and-products, worked by hand against the embedded list.
func TestResolver(t *testing.T) {
	// The customer's own SKUs, spelt as its Graph subscribedSkus does, and
	// a SKU of its own the catalogue does not know (Contoso's add-on).
	r := NewResolver([]string{"Win10_VDA_E3", "SPE_E3", "CONTOSO_ADDON"}, []string{"", "Microsoft 365 E3", "Contoso Fabrikam Add-on"})
	tests := []struct {
		in, want string
		known    bool
	}{
		{"Win10_VDA_E3", "Win10_VDA_E3", true},
		{"WIN10_VDA_E3", "Win10_VDA_E3", true}, // the customer's spelling wins
		// Shared by WIN10_PRO_ENT_SUB and WIN10_VDA_E3: the customer holds the latter.
		{"WINDOWS 10/11 ENTERPRISE E3", "Win10_VDA_E3", true},
		{"microsoft 365 e3", "SPE_E3", true},
		{"ENTERPRISE MOBILITY + SECURITY E5", "EMSPREMIUM", true},
		{"POWER AUTOMATE FREE", "FLOW_FREE", true},            // an alias (aliases.csv)
		{"CONTOSO FABRIKAM ADD-ON", "CONTOSO_ADDON", true},    // the customer's own SKU name
		{"MYSTERY SUITE", "MYSTERY SUITE", false},             // nowhere: unknown product
		{"WINDOWS 10/11 ENTERPRISE E5", "WIN10_VDA_E5", true}, // a product outside the old 66
		{"Dynamics 365 Business Central Essentials", "DYN365_BUSCENTRAL_ESSENTIAL", true},
	}
	for _, tt := range tests {
		got, known := r.SKU(tt.in)
		if got != tt.want || known != tt.known {
			t.Errorf("SKU(%q) = %q, %v; want %q, %v", tt.in, got, known, tt.want, tt.known)
		}
	}
	// Nothing held: a shared name lands on the first of its products.
	if got, _ := NewResolver(nil, nil).SKU("WINDOWS 10/11 ENTERPRISE E3"); got != "WIN10_PRO_ENT_SUB" {
		t.Errorf("without own SKUs: %q, want WIN10_PRO_ENT_SUB", got)
	}
	if r.Known("MYSTERY SUITE") || !r.Known("contoso_addon") || !r.Known("flow_free") {
		t.Error("Known: want MYSTERY SUITE unknown, contoso_addon (own) and flow_free (catalogue) known")
	}
}

// Generate reduces Microsoft's CSV (BOM, one row per service plan, a
// product under two names) to one row per product, sorted by part number.
func TestGenerate(t *testing.T) {
	in := "\ufeffProduct_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,Service_Plans_Included_Friendly_Names\r\n" +
		"Microsoft 365 E3,SPE_E3,05E9A617-0261-4cee-bb44-138d3ef5d965,EXCHANGE_S_ENTERPRISE,efb87545-963c-4e0d-99df-69c6916d9eb0,Exchange Online (Plan 2)\r\n" +
		"Microsoft 365 E3,SPE_E3,05e9a617-0261-4cee-bb44-138d3ef5d965,TEAMS1,57ff2da0-773e-42df-b2af-ffb7a2317929,Microsoft Teams\r\n" +
		"Power Virtual Agent User License,VIRTUAL_AGENT_USL,4b74a65c-8b4a-4fc8-9f6b-5177ed11ddfa,X,57ff2da0-773e-42df-b2af-ffb7a2317929,X\r\n" +
		"Microsoft Copilot Studio User License,VIRTUAL_AGENT_USL,4b74a65c-8b4a-4fc8-9f6b-5177ed11ddfa,Y,57ff2da0-773e-42df-b2af-ffb7a2317929,Y\r\n" +
		"\"Dynamics 365, Sales\",AAA_FIRST,c2e41e49-e2a2-4c55-832a-cf13ffba1d6a,Z,57ff2da0-773e-42df-b2af-ffb7a2317929,Z\r\n"
	var out strings.Builder
	if err := Generate(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()[len(productsPreamble):]
	want := "sku_id,sku,name,other_names\n" +
		"c2e41e49-e2a2-4c55-832a-cf13ffba1d6a,AAA_FIRST,\"Dynamics 365, Sales\",\n" +
		"05e9a617-0261-4cee-bb44-138d3ef5d965,SPE_E3,Microsoft 365 E3,\n" +
		"4b74a65c-8b4a-4fc8-9f6b-5177ed11ddfa,VIRTUAL_AGENT_USL,Power Virtual Agent User License,Microsoft Copilot Studio User License\n"
	if got != want {
		t.Errorf("Generate =\n%s\nwant\n%s", got, want)
	}
	if _, err := load(strings.NewReader(out.String())); err != nil {
		t.Errorf("the generated table does not load: %v", err)
	}
	if err := Generate(strings.NewReader("Name,Sku\nx,y\n"), io.Discard); err == nil || !strings.Contains(err.Error(), "lacks column Product_Display_Name") {
		t.Errorf("wrong CSV: error %v, want one naming the missing column", err)
	}
}

// The embedded table is exactly what cmd/catalog-gen makes of Microsoft's
// CSV when that CSV is at hand (a developer's checkout next to ../shared);
// elsewhere the test is skipped, the table's loading is proven above.
func TestEmbeddedTableIsGenerated(t *testing.T) {
	f, err := os.Open("../../../shared/data/microsoft-product-names-and-service-plans.csv")
	if err != nil {
		t.Skip("Microsoft's CSV is not at hand:", err)
	}
	defer f.Close()
	var out strings.Builder
	if err := Generate(f, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != productsCSV {
		t.Error("products.csv differs from what cmd/catalog-gen makes of Microsoft's CSV: regenerate it")
	}
}

// A shared name resolved before the customer's SKUs were known lands on
// the preferred product; once the customer's subscriptions show its
// sibling, the same licence is settled on that.
func TestResolverSettlesSiblingsLater(t *testing.T) {
	first, _ := NewResolver(nil, nil).SKU("WINDOWS 10/11 ENTERPRISE E3")
	later, _ := NewResolver([]string{"Win10_VDA_E3"}, nil).SKU(first)
	if first != "WIN10_PRO_ENT_SUB" || later != "Win10_VDA_E3" {
		t.Errorf("first %s, later %s; want WIN10_PRO_ENT_SUB then Win10_VDA_E3", first, later)
	}
	// A SKU the customer holds stays itself even if a sibling is held too.
	if got, _ := NewResolver([]string{"WIN10_PRO_ENT_SUB", "Win10_VDA_E3"}, nil).SKU("win10_pro_ent_sub"); got != "WIN10_PRO_ENT_SUB" {
		t.Errorf("held SKU remapped to %s", got)
	}
}
