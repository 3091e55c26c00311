package reports

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"github.com/licenseinsights/licenseinsights/pkg/license/licensetest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// reportHeader and reportRow make a Graph active user detail CSV (the
// header getOffice365ActiveUserDetail documents).
const reportHeader = "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date," +
	"Has Exchange License,Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,Has Teams License," +
	"Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date," +
	"Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,Skype For Business License Assign Date,Yammer License Assign Date,Teams License Assign Date," +
	"Assigned Products"

func reportRow(key string) string {
	return "2026-11-20," + key + ",Someone,False,,True,True,True,False,False,True," +
		"2026-11-19,,2026-11-03,,,2026-11-20," +
		"2025-01-01,2025-01-01,2025-01-01,,,2025-01-01,OFFICE 365 E3"
}

func problems(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	var out []map[string]any
	for _, d := range e["details"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// A User Principal Name twice in the active user detail CSV was a 500: it
// is a 422 naming both lines, nothing written; with skipInvalid the first
// row is kept (2 users: a, b) and the duplicate reported.
func TestDuplicateUserKeyIs422(t *testing.T) {
	h, st := newHandler(t)
	csv := reportHeader + "\n" + reportRow("a@x.com") + "\n" + reportRow("b@x.com") + "\n" + reportRow("a@x.com") + "\n"
	q := map[string]string{"kind": "graph-active-user-detail"}
	status, body := postSnapshot(t, h, csv, q)
	ps := problems(t, body)
	if status != 422 || len(ps) != 1 || ps[0]["line"] != 4.0 || ps[0]["column"] != "User Principal Name" ||
		!strings.Contains(ps[0]["reason"].(string), `"a@x.com" appears twice, here and at line 2`) {
		t.Fatalf("duplicate UPN: %d %v", status, body)
	}
	if _, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam"); err == nil {
		t.Fatal("the refused document wrote the customer")
	}
	q["skipInvalid"] = "true"
	status, body = postSnapshot(t, h, csv, q)
	if status != 200 || body["users"] != 2.0 || body["skippedTotal"] != 1.0 {
		t.Fatalf("duplicate UPN, skipInvalid: %d %v", status, body)
	}
}

// A snapshot without users, with "users": null or with "Users" would have
// wiped the customer's users: each is a 422 and the customer keeps its 2
// users; [] is accepted and means no users.
func TestSnapshotWithoutUsersIs422(t *testing.T) {
	h, st := newHandler(t)
	if status, body := postSnapshot(t, h, snapshot("fabrikam", "Bob"), nil); status != 200 {
		t.Fatalf("setup: %d %v", status, body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(snapshot("fabrikam", "Bob")), &doc); err != nil {
		t.Fatal(err)
	}
	users := doc["users"]
	delete(doc, "users")
	variants := map[string]map[string]any{"absent": doc}
	withNull := map[string]any{"users": nil}
	withCase := map[string]any{"Users": users}
	for k, v := range doc {
		withNull[k], withCase[k] = v, v
	}
	variants["null"], variants["Users"] = withNull, withCase
	for name, v := range variants {
		b, _ := json.Marshal(v)
		status, body := postSnapshot(t, h, string(b), nil)
		if status != 422 {
			t.Fatalf("%s: %d %v", name, status, body)
		}
		f, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
		if err != nil || f.Users != 2 {
			t.Fatalf("%s changed the users: %+v %v", name, f, err)
		}
	}
	withNull["users"] = []any{}
	b, _ := json.Marshal(withNull)
	if status, body := postSnapshot(t, h, string(b), nil); status != 200 || body["users"] != 0.0 {
		t.Fatalf("users []: %d %v", status, body)
	}
}

// A UTF-16 or gzip body (sent base64-encoded, as API Gateway passes binary
// bodies) is refused with a message that names the encoding and what to
// send; with the kind left to detection, too.
func TestEncodedBodies(t *testing.T) {
	h, _ := newHandler(t)
	doc := snapshot("fabrikam", "Bob")
	utf16 := []byte{0xff, 0xfe}
	for _, r := range doc {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(doc))
	zw.Close()
	for _, tc := range []struct {
		name  string
		body  []byte
		kind  string
		code  int
		wants string
	}{
		{"UTF-16, kind given", utf16, "snapshot", 422, "UTF-16 encoded"},
		{"UTF-16, kind detected", utf16, "", 400, "send it as UTF-8"},
		{"gzip, kind given", gz.Bytes(), "snapshot", 422, "gzip-compressed: send it uncompressed"},
		{"gzip, kind detected", gz.Bytes(), "", 400, "gzip-compressed"},
	} {
		ev := events.APIGatewayProxyRequest{
			Resource: "/v1/customers/{customerId}/reports", Path: "/v1/customers/fabrikam/reports", HTTPMethod: "POST",
			PathParameters: map[string]string{"customerId": "fabrikam"}, QueryStringParameters: map[string]string{},
			Body: base64.StdEncoding.EncodeToString(tc.body), IsBase64Encoded: true,
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: "test", Authorizer: map[string]any{"tenant": "acme", "role": "writer"}},
		}
		if tc.kind != "" {
			ev.QueryStringParameters["kind"] = tc.kind
		}
		payload, _ := json.Marshal(ev)
		out, err := h.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		resp := out.(events.APIGatewayProxyResponse)
		if resp.StatusCode != tc.code || !strings.Contains(resp.Body, tc.wants) {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, resp.Body)
		}
	}
}
