// Package openapi reads the repository's openapi.yaml and checks JSON
// documents against its schemas, so that tests can hold the handlers and
// the published description to each other.
//
// The validator covers the subset of OpenAPI 3.0 schemas openapi.yaml uses:
// $ref to components, type (object, array, string, integer, number,
// boolean), nullable, required, properties, additionalProperties (boolean or
// schema), items, enum, format date and date-time, minimum and maximum.
// Anything else in a schema is an error, so that the description cannot
// quietly grow a rule that nothing checks.
package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Spec is a loaded OpenAPI description.
type Spec struct {
	Paths      map[string]map[string]*Operation `yaml:"paths"`
	Components struct {
		Schemas    map[string]*Schema    `yaml:"schemas"`
		Parameters map[string]*Parameter `yaml:"parameters"`
		Responses  map[string]*Response  `yaml:"responses"`
	} `yaml:"components"`
}

// Operation is one method of one path.
type Operation struct {
	OperationID string               `yaml:"operationId"`
	Parameters  []*Parameter         `yaml:"parameters"`
	Responses   map[string]*Response `yaml:"responses"`
}

// Parameter is an operation parameter, or a $ref to one.
type Parameter struct {
	Ref      string  `yaml:"$ref"`
	Name     string  `yaml:"name"`
	In       string  `yaml:"in"`
	Required bool    `yaml:"required"`
	Schema   *Schema `yaml:"schema"`
}

// Response is one status's response, or a $ref to one.
type Response struct {
	Ref     string `yaml:"$ref"`
	Content map[string]struct {
		Schema *Schema `yaml:"schema"`
	} `yaml:"content"`
}

// Schema is a JSON schema node as OpenAPI 3.0 writes it. Unknown keywords
// are kept in Extra and refused by Validate.
type Schema struct {
	Ref                  string             `yaml:"$ref"`
	Type                 string             `yaml:"type"`
	Nullable             bool               `yaml:"nullable"`
	Required             []string           `yaml:"required"`
	Properties           map[string]*Schema `yaml:"properties"`
	AdditionalProperties any                `yaml:"additionalProperties"`
	Items                *Schema            `yaml:"items"`
	Enum                 []any              `yaml:"enum"`
	Format               string             `yaml:"format"`
	Minimum              *float64           `yaml:"minimum"`
	Maximum              *float64           `yaml:"maximum"`
	Pattern              string             `yaml:"pattern"`
	Default              any                `yaml:"default"`
	Description          string             `yaml:"description"`
	Extra                map[string]any     `yaml:",inline"`
}

// Load reads an OpenAPI document.
func Load(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := yaml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// Operations lists "METHOD /path" of every operation, sorted.
func (s *Spec) Operations() []string {
	var out []string
	for path, ops := range s.Paths {
		for method := range ops {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// Operation is the operation of method and path, or nil.
func (s *Spec) Operation(method, path string) *Operation {
	return s.Paths[path][strings.ToLower(method)]
}

// Parameter resolves a parameter's $ref.
func (s *Spec) Parameter(p *Parameter) (*Parameter, error) {
	if p.Ref == "" {
		return p, nil
	}
	name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
	if !ok || s.Components.Parameters[name] == nil {
		return nil, fmt.Errorf("parameter $ref %q does not resolve", p.Ref)
	}
	return s.Components.Parameters[name], nil
}

// ResponseSchema is the application/json schema of an operation's response
// with the given status.
func (s *Spec) ResponseSchema(method, path string, status int) (*Schema, error) {
	op := s.Operation(method, path)
	if op == nil {
		return nil, fmt.Errorf("openapi.yaml has no %s %s", method, path)
	}
	r := op.Responses[fmt.Sprint(status)]
	if r == nil {
		return nil, fmt.Errorf("%s %s documents no %d response", method, path, status)
	}
	if r.Ref != "" {
		name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
		if !ok || s.Components.Responses[name] == nil {
			return nil, fmt.Errorf("response $ref %q does not resolve", r.Ref)
		}
		r = s.Components.Responses[name]
	}
	c, ok := r.Content["application/json"]
	if !ok || c.Schema == nil {
		return nil, fmt.Errorf("%s %s %d has no application/json schema", method, path, status)
	}
	return c.Schema, nil
}

// ValidateResponse checks a JSON body against the documented response of
// method, path and status. Every violation is listed, with its JSON path.
func (s *Spec) ValidateResponse(method, path string, status int, body []byte) error {
	schema, err := s.ResponseSchema(method, path, status)
	if err != nil {
		return err
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	return s.Validate(schema, doc)
}

// Validate checks a decoded JSON value (decoded with UseNumber) against a
// schema.
func (s *Spec) Validate(schema *Schema, v any) error {
	var errs []error
	s.validate(schema, v, "$", &errs, 0)
	return errors.Join(errs...)
}

func (s *Spec) resolve(schema *Schema) (*Schema, error) {
	for depth := 0; schema.Ref != ""; depth++ {
		name, ok := strings.CutPrefix(schema.Ref, "#/components/schemas/")
		next := s.Components.Schemas[name]
		if !ok || next == nil || depth > 16 {
			return nil, fmt.Errorf("schema $ref %q does not resolve", schema.Ref)
		}
		schema = next
	}
	return schema, nil
}

func (s *Spec) validate(schema *Schema, v any, at string, errs *[]error, depth int) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...)))
	}
	if depth > 64 {
		fail("schema nests too deep")
		return
	}
	schema, err := s.resolve(schema)
	if err != nil {
		fail("%v", err)
		return
	}
	if len(schema.Extra) > 0 {
		keys := make([]string, 0, len(schema.Extra))
		for k := range schema.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fail("schema uses keywords this validator does not check: %v", keys)
		return
	}
	if v == nil {
		if !schema.Nullable && schema.Type != "" {
			fail("null, but the schema is not nullable")
		}
		return
	}
	if len(schema.Enum) > 0 && !inEnum(schema.Enum, v) {
		fail("%v is not one of %v", v, schema.Enum)
	}
	switch schema.Type {
	case "":
		// {}: any value.
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			fail("%s, want an object", kind(v))
			return
		}
		for _, name := range schema.Required {
			if _, ok := obj[name]; !ok {
				fail("required property %q is missing", name)
			}
		}
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if p, ok := schema.Properties[name]; ok {
				s.validate(p, obj[name], at+"."+name, errs, depth+1)
				continue
			}
			switch ap := schema.AdditionalProperties.(type) {
			case bool:
				if !ap {
					fail("property %q is not in the schema", name)
				}
			case nil:
				// OpenAPI's default: allowed.
			default:
				b, _ := yaml.Marshal(ap)
				var extra Schema
				if err := yaml.Unmarshal(b, &extra); err != nil {
					fail("additionalProperties: %v", err)
					continue
				}
				s.validate(&extra, obj[name], at+"."+name, errs, depth+1)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			fail("%s, want an array", kind(v))
			return
		}
		if schema.Items != nil {
			for i, x := range arr {
				s.validate(schema.Items, x, fmt.Sprintf("%s[%d]", at, i), errs, depth+1)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("%s, want a string", kind(v))
			return
		}
		switch schema.Format {
		case "date":
			if _, err := time.Parse(time.DateOnly, str); err != nil {
				fail("%q is not a YYYY-MM-DD date", str)
			}
		case "date-time":
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				fail("%q is not an RFC 3339 date-time", str)
			}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			fail("%s, want a %s", kind(v), schema.Type)
			return
		}
		f, err := n.Float64()
		if err != nil {
			fail("%s is not a number", n)
			return
		}
		if schema.Type == "integer" && (f != math.Trunc(f) || strings.ContainsAny(n.String(), ".eE")) {
			fail("%s is not an integer", n)
		}
		if schema.Minimum != nil && f < *schema.Minimum {
			fail("%s is below the minimum %v", n, *schema.Minimum)
		}
		if schema.Maximum != nil && f > *schema.Maximum {
			fail("%s is above the maximum %v", n, *schema.Maximum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("%s, want a boolean", kind(v))
		}
	default:
		fail("schema type %q is not one this validator knows", schema.Type)
	}
}

func inEnum(enum []any, v any) bool {
	return slices.ContainsFunc(enum, func(e any) bool {
		if n, ok := v.(json.Number); ok {
			return fmt.Sprint(e) == n.String()
		}
		return fmt.Sprint(e) == fmt.Sprint(v)
	})
}

func kind(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("the string %q", x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	}
	return fmt.Sprintf("%T", v)
}

// Check resolves every $ref of the description and refuses schema
// keywords the validator does not check, and path parameters that are not
// declared as required path parameters of their operation.
func (s *Spec) Check() error {
	var errs []error
	for _, route := range s.Operations() {
		method, path, _ := strings.Cut(route, " ")
		op := s.Operation(method, path)
		declared := map[string]bool{}
		for i, p := range op.Parameters {
			p, err := s.Parameter(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s parameter %d: %w", route, i, err))
				continue
			}
			if p.In == "path" && p.Required {
				declared[p.Name] = true
			}
			if p.Schema != nil {
				errs = append(errs, s.checkSchema(p.Schema, route+" parameter "+p.Name, 0)...)
			}
		}
		for _, part := range strings.Split(path, "/") {
			if name, ok := strings.CutPrefix(part, "{"); ok {
				if name = strings.TrimSuffix(name, "}"); !declared[name] {
					errs = append(errs, fmt.Errorf("%s: path parameter %q is not declared (in: path, required: true)", route, name))
				}
			}
		}
		for status := range op.Responses {
			var code int
			if _, err := fmt.Sscan(status, &code); err != nil {
				errs = append(errs, fmt.Errorf("%s: response %q is not a status code", route, status))
				continue
			}
			schema, err := s.ResponseSchema(method, path, code)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, s.checkSchema(schema, fmt.Sprintf("%s %d", route, code), 0)...)
		}
	}
	for name, schema := range s.Components.Schemas {
		errs = append(errs, s.checkSchema(schema, "schema "+name, 0)...)
	}
	return errors.Join(errs...)
}

func (s *Spec) checkSchema(schema *Schema, at string, depth int) []error {
	if depth > 32 {
		return nil
	}
	if schema.Ref != "" {
		if _, err := s.resolve(schema); err != nil {
			return []error{fmt.Errorf("%s: %w", at, err)}
		}
		return nil
	}
	var errs []error
	if len(schema.Extra) > 0 {
		errs = append(errs, fmt.Errorf("%s: keywords the validator does not check: %v", at, slices.Sorted(maps.Keys(schema.Extra))))
	}
	switch schema.Type {
	case "", "object", "array", "string", "integer", "number", "boolean":
	default:
		errs = append(errs, fmt.Errorf("%s: unknown type %q", at, schema.Type))
	}
	for name, p := range schema.Properties {
		errs = append(errs, s.checkSchema(p, at+"."+name, depth+1)...)
	}
	for _, name := range schema.Required {
		if schema.Properties[name] == nil {
			errs = append(errs, fmt.Errorf("%s: required property %q is not described", at, name))
		}
	}
	if schema.Items != nil {
		errs = append(errs, s.checkSchema(schema.Items, at+"[]", depth+1)...)
	}
	return errs
}
