package proxyevent

import "testing"

// TestEvent: the path parameters fill the resource, every single value has
// its multi-value twin, and the authorizer context carries tenant and role.
func TestEvent(t *testing.T) {
	ev := Request{
		Resource: "/v1/customers/{customerId}/insights", Path: map[string]string{"customerId": "fabrikam"},
		Query: map[string]string{"window": "28"}, Tenant: "partner-a", Role: "reader",
	}.Event()
	if ev.HTTPMethod != "GET" || ev.Path != "/v1/customers/fabrikam/insights" || ev.RequestContext.Path != "/prod/v1/customers/fabrikam/insights" {
		t.Errorf("method %q, path %q, context path %q", ev.HTTPMethod, ev.Path, ev.RequestContext.Path)
	}
	if got := ev.MultiValueQueryStringParameters["window"]; len(got) != 1 || got[0] != "28" {
		t.Errorf("multi-value window = %v, want [28]", got)
	}
	if got := ev.MultiValueHeaders["Accept"]; len(got) != 1 || got[0] != "application/json" {
		t.Errorf("multi-value Accept = %v", got)
	}
	if a := ev.RequestContext.Authorizer; a["tenant"] != "partner-a" || a["role"] != "reader" {
		t.Errorf("authorizer context %v", a)
	}
	if _, ok := (Request{Tenant: "t"}).Event().RequestContext.Authorizer["role"]; ok {
		t.Error("an empty Role must leave the role out, as a token without one does")
	}
}
