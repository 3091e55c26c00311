package source

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// The JSON Schema documents the snapshot for partners; the parser enforces
// it. These tests hold the two to the same required members, enums and
// patterns, so that neither drifts alone.

type schemaNode struct {
	Required      []string               `json:"required"`
	Properties    map[string]*schemaNode `json:"properties"`
	Enum          []any                  `json:"enum"`
	Const         any                    `json:"const"`
	Pattern       string                 `json:"pattern"`
	Ref           string                 `json:"$ref"`
	Minimum       *int                   `json:"minimum"`
	PropertyNames *schemaNode            `json:"propertyNames"`
	Defs          map[string]*schemaNode `json:"$defs"`
	Schema        string                 `json:"$schema"`
}

func loadSchema(t *testing.T) *schemaNode {
	t.Helper()
	b, err := os.ReadFile("../../schema/license-snapshot-v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("schema is not valid JSON: %v", err)
	}
	return &s
}

func TestSchemaIsDraft202012(t *testing.T) {
	if s := loadSchema(t); s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("$schema = %q", s.Schema)
	}
}

func TestSchemaRequiredMembersMatchParser(t *testing.T) {
	s := loadSchema(t)
	nodes := map[string]*schemaNode{
		"snapshot":     s,
		"customer":     s.Defs["customer"],
		"subscription": s.Defs["subscription"],
		"user":         s.Defs["user"],
		"license":      s.Defs["license"],
		"support":      s.Defs["support"],
	}
	if len(nodes) != len(snapshotRequired) {
		t.Fatalf("parser has required lists for %d objects, the test checks %d", len(snapshotRequired), len(nodes))
	}
	for name, node := range nodes {
		if node == nil {
			t.Errorf("schema has no definition for %s", name)
			continue
		}
		if !reflect.DeepEqual(node.Required, snapshotRequired[name]) {
			t.Errorf("%s: schema requires %v, parser requires %v", name, node.Required, snapshotRequired[name])
		}
		for _, member := range node.Required {
			if node.Properties[member] == nil {
				t.Errorf("%s: required member %q is not described", name, member)
			}
		}
	}
}

// Each required member's absence is refused by the parser, with the same
// path the schema describes.
func TestParserRefusesEachRequiredMember(t *testing.T) {
	full := map[string]string{
		"snapshot":     `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`,
		"customer":     `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`,
		"subscription": `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "subscriptions": [{"id": "s", "sku": "X", "quantity": 1, "status": "active"}], "users": []}`,
		"user":         `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`,
		"license":      `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "users": [{"key": "a", "licenses": [{"sku": "X"}]}]}`,
		"support":      `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "users": [{"key": "a"}], "support": {"howToTickets": 1, "tickets": 2, "windowDays": 28}}`,
	}
	paths := map[string]string{
		"snapshot": "", "customer": "customer.", "subscription": "subscriptions[0].",
		"user": "users[0].", "license": "users[0].licenses[0].", "support": "support.",
	}
	for object, members := range snapshotRequired {
		for _, member := range members {
			t.Run(object+"."+member, func(t *testing.T) {
				mustParse(t, full[object], KindSnapshot, Options{}) // the full document is valid
				doc := dropMember(t, full[object], paths[object]+member)
				probs := invalid(t, doc, KindSnapshot, Options{})
				if probs[0].Column != paths[object]+member || probs[0].Reason != "is required" {
					t.Fatalf("problems = %v, want %s is required", probs, paths[object]+member)
				}
			})
		}
	}
}

// dropMember removes the member at a dotted path (with [0] for the first
// element of an array) from a JSON document.
func dropMember(t *testing.T, doc, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	segs := strings.Split(strings.ReplaceAll(path, "[0]", ".0"), ".")
	node := v
	for _, seg := range segs[:len(segs)-1] {
		if seg == "0" {
			node = node.([]any)[0]
		} else {
			node = node.(map[string]any)[seg]
		}
	}
	delete(node.(map[string]any), segs[len(segs)-1])
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSchemaEnumsMatchDomain(t *testing.T) {
	s := loadSchema(t)
	if s.Properties["schema"].Const != SnapshotSchema {
		t.Errorf("schema const = %v, want %q", s.Properties["schema"].Const, SnapshotSchema)
	}

	sub := s.Defs["subscription"]
	var statuses []license.Status
	for _, v := range sub.Properties["status"].Enum {
		st := license.Status(v.(string))
		if !st.Valid() {
			t.Errorf("schema status %q is not a license.Status", st)
		}
		statuses = append(statuses, st)
	}
	if !reflect.DeepEqual(statuses, snapshotStatuses) {
		t.Errorf("schema statuses %v, parser accepts %v", statuses, snapshotStatuses)
	}
	// The parser's list must hold every status the domain knows.
	for _, st := range []license.Status{license.StatusActive, license.StatusGrace, license.StatusDisabled,
		license.StatusSuspended, license.StatusCancelled, license.StatusDeleted, license.StatusExpired} {
		found := false
		for _, x := range snapshotStatuses {
			found = found || x == st
		}
		if !found {
			t.Errorf("status %q is missing from the snapshot's statuses", st)
		}
	}

	var channels []license.Channel
	for _, v := range sub.Properties["channel"].Enum {
		if v == nil { // null: the default applies
			continue
		}
		channels = append(channels, license.Channel(v.(string)))
	}
	if !reflect.DeepEqual(channels, license.Channels) {
		t.Errorf("schema channels %v, domain has %v", channels, license.Channels)
	}
}

// The schema's patterns must accept and refuse what the parser does.
func TestSchemaPatternsMatchParser(t *testing.T) {
	s := loadSchema(t)
	workloadName := regexp.MustCompile(s.Defs["user"].Properties["workloads"].PropertyNames.Pattern)
	for _, name := range []string{"exchange", "officeApps", "power_bi", "x-y", "", "bad name!", "é", strings.Repeat("a", 64), strings.Repeat("a", 65)} {
		if got, want := workloadName.MatchString(name), validWorkloadName(name); got != want {
			t.Errorf("workload name %q: schema says %v, parser %v", name, got, want)
		}
	}
	customerID := regexp.MustCompile(s.Defs["customer"].Properties["id"].Pattern)
	for _, id := range []string{"fabrikam", "a.b_c-d@e", "", "fab#rikam", "with space", strings.Repeat("a", 128), strings.Repeat("a", 129)} {
		if got, want := customerID.MatchString(id), license.ValidCustomerID(id) == nil; got != want {
			t.Errorf("customer id %q: schema says %v, parser %v", id, got, want)
		}
	}
	date := regexp.MustCompile(s.Defs["date"].Pattern)
	for _, d := range []string{"2026-11-20", "2026-1-20", "20261120", ""} {
		_, err := license.ParseDate(d)
		if got, want := date.MatchString(d), err == nil && d != ""; got != want {
			t.Errorf("date %q: schema says %v, parser %v", d, got, want)
		}
	}
	if m := s.Defs["count"].Minimum; m == nil || *m != 0 {
		t.Errorf("count minimum = %v, want 0", m)
	}
}
