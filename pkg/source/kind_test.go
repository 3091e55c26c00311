package source

import (
	"strings"
	"testing"
)

func TestParseKind(t *testing.T) {
	for _, k := range Kinds {
		got, err := ParseKind(" " + strings.ToUpper(string(k)) + " ")
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if _, err := ParseKind("csv"); err == nil || !strings.Contains(err.Error(), "graph-active-user-detail") {
		t.Errorf("ParseKind(csv) error = %v, want one listing the kinds", err)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head string
		want Kind
	}{
		{"snapshot file", readTestdata(t, "snapshot.json"), KindSnapshot},
		{"subscribed skus file", readTestdata(t, "subscribedskus.json"), KindSubscribedSkus},
		{"active user detail file with BOM", readTestdata(t, "activeuserdetail.csv"), KindActiveUserDetail},
		{"concealed report", readTestdata(t, "activeuserdetail-concealed.csv"), KindActiveUserDetail},
		{"directory subscriptions file", readTestdata(t, "directorysubscriptions.json"), KindDirectorySubs},
		{"partner center file", readTestdata(t, "partnercenter.json"), KindPartnerCenterSubs},
		{"snapshot with BOM and space", "\uFEFF\n  {\"customer\": {}, \"schema\" : \"license-snapshot/v1\"}", KindSnapshot},
		{"quoted csv header", "\"Report Refresh Date\",\"User Principal Name\"\n", KindActiveUserDetail},
		{"lower-case csv header", "report refresh date,user principal name\n", KindActiveUserDetail},
		{"bare array of skus", `[{"skuPartNumber": "SPE_E3", "consumedUnits": 3}]`, KindSubscribedSkus},
		{"bare array of companySubscriptions", `[{"skuPartNumber": "SPE_E3", "totalLicenses": 3}]`, KindDirectorySubs},
		{"partner center items", `{"totalCount": 1, "items": [{"offerId": "CFQ7TTC0LFLZ:0002"}]}`, KindPartnerCenterSubs},
		// A member name inside a string value does not count.
		{"names in values do not count", `[{"friendlyName": "\"offerName\": test", "skuPartNumber": "X", "prepaidUnits": {}}]`, KindSubscribedSkus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect([]byte(tt.head))
			if err != nil || got != tt.want {
				t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDetectFailures(t *testing.T) {
	tests := []struct {
		name, head, wantErr string
	}{
		{"empty", "", "empty document"},
		{"only a BOM", "\uFEFF  \n", "empty document"},
		{"other schema", `{"schema": "license-snapshot/v2"}`, `schema "license-snapshot/v2" is not supported`},
		{"unknown json", `{"hello": "world"}`, "cannot detect the kind of this JSON document"},
		{"other csv", "UPN,Licenses\n", "neither JSON nor a CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect([]byte(tt.head))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Detect = %q, %v; want error containing %q", got, err, tt.wantErr)
			}
		})
	}
}

// Only the first DetectSize bytes count: a marker beyond them is not seen.
func TestDetectLooksOnlyAtTheHead(t *testing.T) {
	head := `{"pad": "` + strings.Repeat("x", DetectSize) + `", "schema": "license-snapshot/v1"}`
	if k, err := Detect([]byte(head)); err == nil {
		t.Fatalf("Detect = %q, want an error: the schema is past the head", k)
	}
}
