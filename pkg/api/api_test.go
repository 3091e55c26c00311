package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func event(method, resource string, auth map[string]any) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		HTTPMethod:     method,
		Resource:       resource,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "r1", Authorizer: auth},
	}
}

func errorCode(t *testing.T, resp Response) string {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal([]byte(resp.Body), &b); err != nil {
		t.Fatalf("error body %q: %v", resp.Body, err)
	}
	if b.Error.Details == nil {
		t.Fatalf("details must be a list, got %s", resp.Body)
	}
	return b.Error.Code
}

func TestRouterEstablishesTenantOnlyFromAuthorizer(t *testing.T) {
	var seen string
	rt := NewRouter()
	rt.Read("GET", "/v1/customers/{customerId}/insights", func(ctx context.Context, r *Request) (Response, error) {
		seen = r.Tenant.ID()
		return JSON(200, map[string]string{"ok": "yes"})
	})
	rt.Write("POST", "/v1/exports", func(ctx context.Context, r *Request) (Response, error) {
		return JSON(202, nil)
	})

	tests := []struct {
		name       string
		ev         events.APIGatewayProxyRequest
		wantStatus int
		wantCode   string
		wantTenant string
	}{
		{"reader reads", event("GET", "/v1/customers/{customerId}/insights", map[string]any{"tenant": "acme", "role": "reader"}), 200, "", "acme"},
		{"no authorizer context", event("GET", "/v1/customers/{customerId}/insights", nil), 401, "unauthorized", ""},
		{"empty tenant", event("GET", "/v1/customers/{customerId}/insights", map[string]any{"tenant": "", "role": "reader"}), 401, "unauthorized", ""},
		{"malformed tenant", event("GET", "/v1/customers/{customerId}/insights", map[string]any{"tenant": "a#b", "role": "reader"}), 403, "forbidden", ""},
		{"unknown role", event("GET", "/v1/customers/{customerId}/insights", map[string]any{"tenant": "acme", "role": "admin"}), 403, "forbidden", ""},
		{"reader cannot write", event("POST", "/v1/exports", map[string]any{"tenant": "acme", "role": "reader"}), 403, "forbidden", ""},
		{"writer writes", event("POST", "/v1/exports", map[string]any{"tenant": "acme", "role": "writer"}), 202, "", ""},
		{"unknown route", event("GET", "/v1/nope", map[string]any{"tenant": "acme", "role": "reader"}), 404, "not_found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen = ""
			// A tenant in the path, query or body must never be used.
			tc.ev.QueryStringParameters = map[string]string{"tenant": "evil"}
			tc.ev.Body = `{"tenant":"evil"}`
			resp, err := rt.Handle(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			if tc.wantCode != "" && errorCode(t, resp) != tc.wantCode {
				t.Fatalf("code %s, want %s", errorCode(t, resp), tc.wantCode)
			}
			if seen != tc.wantTenant {
				t.Fatalf("handler saw tenant %q, want %q", seen, tc.wantTenant)
			}
		})
	}
}

func TestRouterMapsErrorsAndPanics(t *testing.T) {
	rt := NewRouter()
	rt.Read("GET", "/bad", func(ctx context.Context, r *Request) (Response, error) {
		_, err := r.Window()
		return Response{}, err
	})
	rt.Read("GET", "/panic", func(ctx context.Context, r *Request) (Response, error) { panic("boom") })
	auth := map[string]any{"tenant": "acme", "role": "reader"}

	ev := event("GET", "/bad", auth)
	ev.QueryStringParameters = map[string]string{"window": "29"}
	resp, _ := rt.Handle(context.Background(), ev)
	if resp.StatusCode != http.StatusBadRequest || errorCode(t, resp) != "bad_request" {
		t.Fatalf("window=29: %d %s", resp.StatusCode, resp.Body)
	}
	resp, _ = rt.Handle(context.Background(), event("GET", "/panic", auth))
	if resp.StatusCode != http.StatusInternalServerError || errorCode(t, resp) != "internal" {
		t.Fatalf("panic: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestRequestParameters(t *testing.T) {
	r := &Request{Event: events.APIGatewayProxyRequest{
		PathParameters:        map[string]string{"customerId": "fab rikam"},
		QueryStringParameters: map[string]string{"limit": "501", "window": "90", "skip": "true"},
	}}
	if _, err := r.CustomerID(); err == nil {
		t.Fatal("a space in a customer id must be refused")
	}
	if _, err := r.QueryInt("limit", 50, 1, 500); err == nil {
		t.Fatal("limit 501 must be refused")
	}
	if n, err := r.QueryInt("absent", 50, 1, 500); err != nil || n != 50 {
		t.Fatalf("default: %d %v", n, err)
	}
	if n, err := r.Window(); err != nil || n != 90 {
		t.Fatalf("window: %d %v", n, err)
	}
	if b, err := r.QueryBool("skip"); err != nil || !b {
		t.Fatalf("bool: %v %v", b, err)
	}
}

func TestCursorRoundTripAndTamper(t *testing.T) {
	type pos struct{ PK, SK string }
	c, err := EncodeCursor(pos{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	var got pos
	if err := DecodeCursor(c, &got); err != nil || got != (pos{"a", "b"}) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if err := DecodeCursor("%%%", &got); err == nil {
		t.Fatal("tampered cursor accepted")
	}
}
