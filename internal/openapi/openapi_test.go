package openapi

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

func repoFile(t *testing.T, name string) string {
	t.Helper()
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, name)
}

func loadRepoSpec(t *testing.T) *Spec {
	t.Helper()
	s, err := Load(repoFile(t, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every route of template.yaml is described in openapi.yaml, and nothing
// else is: the description follows the deployed API.
func TestEveryTemplateRouteIsDescribedAndNothingElse(t *testing.T) {
	spec := loadRepoSpec(t)
	tpl, err := infra.LoadTemplate(repoFile(t, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range tpl.Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	slices.Sort(routes)
	if len(routes) == 0 {
		t.Fatal("template.yaml has no routes: the reader is broken")
	}
	ops := spec.Operations()
	for _, r := range routes {
		if !slices.Contains(ops, r) {
			t.Errorf("template.yaml route %s is not in openapi.yaml", r)
		}
	}
	for _, op := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.yaml describes %s, which template.yaml does not route", op)
		}
	}
}

func TestDescriptionIsConsistent(t *testing.T) {
	spec := loadRepoSpec(t)
	if err := spec.Check(); err != nil {
		t.Fatal(err)
	}
	for _, route := range spec.Operations() {
		method, path, _ := strings.Cut(route, " ")
		op := spec.Operation(method, path)
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", route)
		}
		// Every route sits behind the authorizer: it can answer 401 and
		// 403, in the error shape of docs/definitions.md#the-api.
		for _, status := range []int{401, 403} {
			schema, err := spec.ResponseSchema(method, path, status)
			if err != nil {
				t.Errorf("%s: %v", route, err)
				continue
			}
			if schema.Ref != "#/components/schemas/Error" {
				t.Errorf("%s %d: schema %q, want the Error schema", route, status, schema.Ref)
			}
		}
		// Reading a named object can miss (POST …/reports creates the
		// customer, so it cannot).
		if method == "GET" && strings.Contains(path, "}") {
			if _, err := spec.ResponseSchema(method, path, 404); err != nil {
				t.Errorf("%s names an object but documents no 404: %v", route, err)
			}
		}
	}
}

// The validator itself: it must reject what it is meant to reject.
func TestValidate(t *testing.T) {
	spec, err := Load(filepath.Join("testdata", "mini.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Check(); err != nil {
		t.Fatalf("testdata/mini.yaml: %v", err)
	}
	tests := []struct {
		name string
		body string
		want string // substring of the error; "" for valid
	}{
		{"valid", `{"id":"a","count":3,"percent":12.5,"when":"2026-11-20","tags":["x"],"band":"low","extra":{"any":1}}`, ""},
		{"null percent allowed", `{"id":"a","count":3,"percent":null,"when":"2026-11-20","tags":[],"band":"high"}`, ""},
		{"missing required", `{"count":3,"percent":1,"when":"2026-11-20","tags":[],"band":"low"}`, `required property "id" is missing`},
		{"not nullable", `{"id":null,"count":3,"percent":1,"when":"2026-11-20","tags":[],"band":"low"}`, "$.id: null"},
		{"integer with a fraction", `{"id":"a","count":3.5,"percent":1,"when":"2026-11-20","tags":[],"band":"low"}`, "$.count: 3.5 is not an integer"},
		{"below minimum", `{"id":"a","count":-1,"percent":1,"when":"2026-11-20","tags":[],"band":"low"}`, "below the minimum"},
		{"string for number", `{"id":"a","count":3,"percent":"12","when":"2026-11-20","tags":[],"band":"low"}`, `$.percent: the string "12", want a number`},
		{"bad date", `{"id":"a","count":3,"percent":1,"when":"20/11/2026","tags":[],"band":"low"}`, "not a YYYY-MM-DD date"},
		{"array item", `{"id":"a","count":3,"percent":1,"when":"2026-11-20","tags":["x",1],"band":"low"}`, "$.tags[1]: the number 1, want a string"},
		{"enum", `{"id":"a","count":3,"percent":1,"when":"2026-11-20","tags":[],"band":"huge"}`, "huge is not one of"},
		{"undocumented property", `{"id":"a","count":3,"percent":1,"when":"2026-11-20","tags":[],"band":"low","surprise":true}`, `property "surprise" is not in the schema`},
		{"nested ref", `{"id":"a","count":3,"percent":1,"when":"2026-11-20","tags":[],"band":"low","extra":[]}`, "$.extra: an array, want an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := spec.ValidateResponse("GET", "/things", 200, []byte(tc.body))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid body refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("invalid body accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
	if err := spec.ValidateResponse("GET", "/things", 500, []byte(`{}`)); err == nil {
		t.Error("an undocumented status was accepted")
	}
	if err := spec.ValidateResponse("GET", "/nowhere", 200, []byte(`{}`)); err == nil {
		t.Error("an undocumented path was accepted")
	}
}

func TestCheckFindsBrokenDescriptions(t *testing.T) {
	spec, err := Load(filepath.Join("testdata", "broken.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	err = spec.Check()
	if err == nil {
		t.Fatal("a broken description passed Check")
	}
	for _, want := range []string{
		`path parameter "id" is not declared`,
		`"#/components/schemas/Nowhere" does not resolve`,
		`keywords the validator does not check: [oneOf]`,
		`required property "name" is not described`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check did not report %q; it said:\n%v", want, err)
		}
	}
}

func TestValidateNumbersKeepTheirSpelling(t *testing.T) {
	// 1e2 is a number but, as JSON spells it, not what an integer field
	// of this API ever carries.
	spec, err := Load(filepath.Join("testdata", "mini.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(`{"id":"a","count":1e2,"percent":1,"when":"2026-11-20","tags":[],"band":"low"}`))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	schema, _ := spec.ResponseSchema("GET", "/things", 200)
	if err := spec.Validate(schema, v); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Fatalf("1e2 as an integer: %v", err)
	}
}
