package portfoliogen

import "fmt"

// The workloads of the Graph active user detail report, in the order of its
// columns. The snapshot and the report both carry all six; OneDrive and
// SharePoint are only merged later, by pkg/license.
const (
	wExchange = iota
	wOneDrive
	wSharePoint
	wSkype
	wYammer
	wTeams
	numWorkloads
)

// workloadNames are the snapshot's names for the workloads, indexed as above.
var workloadNames = [numWorkloads]string{"exchange", "onedrive", "sharepoint", "skype", "yammer", "teams"}

// snapshotWorkloadOrder is the order the snapshot writes workloads in: the
// one of the example in docs/definitions.md#the-native-snapshot, Skype last.
var snapshotWorkloadOrder = [numWorkloads]int{wExchange, wOneDrive, wSharePoint, wTeams, wYammer, wSkype}

// workloadSet is a bit set of workloads.
type workloadSet uint8

func (s workloadSet) has(w int) bool { return s&(1<<w) != 0 }

const allWorkloads workloadSet = 1<<numWorkloads - 1

// product is one SKU the generator sells, with the workloads its licence
// grants. The GUIDs and names are Microsoft's, and come from pkg/catalog so
// that the generated documents and the parsers agree on them.
type product struct {
	SKU       string // part number, e.g. SPE_E3
	SKUID     string // Microsoft's SKU GUID
	Name      string // product name, e.g. Microsoft 365 E3
	workloads workloadSet
}

// productSKUs are the SKUs of the generated portfolios.
var productSKUs = []string{
	"SPE_E3", "ENTERPRISEPACK", "O365_BUSINESS_PREMIUM", "SPB",
	"O365_BUSINESS_ESSENTIALS", "EXCHANGESTANDARD", "SPE_E5", "TEAMS_EXPLORATORY",
	// Microsoft 365 Copilot is never a main or other SKU (no weight in
	// chooseSKUs): copilot.go adds its seats on top of a suite.
	copilotSKU,
	// Excluded products some customers also have (oddities.go): never
	// drawn as a main or other SKU either.
	freeSKU, storageSKU, viralSKU,
}

// productWorkloads says which workloads each SKU licenses. The suites license
// all six; Exchange Online (Plan 1) only mail; Teams Exploratory has no
// Yammer and no Skype for Business.
var productWorkloads = map[string]workloadSet{
	"EXCHANGESTANDARD":  1 << wExchange,
	"TEAMS_EXPLORATORY": 1<<wTeams | 1<<wExchange | 1<<wOneDrive | 1<<wSharePoint,
	copilotSKU:          0, // an add-on: it licenses none of the report's workloads
	freeSKU:             0, // Power Automate is none of the report's workloads
	storageSKU:          0, // company storage, nobody's licence
	viralSKU:            0, // Customer Voice is none of them either
}

// products is productSKUs resolved against the catalog, in the same order.
var products = func() []product {
	ps := make([]product, len(productSKUs))
	for i, sku := range productSKUs {
		id, name, ok := lookupProduct(sku)
		if !ok {
			panic(fmt.Sprintf("portfoliogen: SKU %s is not in the catalog", sku))
		}
		ws, ok := productWorkloads[sku]
		if !ok {
			ws = allWorkloads
		}
		ps[i] = product{SKU: sku, SKUID: id, Name: name, workloads: ws}
	}
	return ps
}()
