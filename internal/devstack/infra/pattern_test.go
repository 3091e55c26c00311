package infra

import (
	"strings"
	"testing"
)

// The records below are DynamoDB stream records in the JSON shape Lambda
// filters (and delivers) them in; the patterns are template.yaml's.
const (
	figuresPattern = `{"dynamodb":{"Keys":{"SK":{"S":["FIGURES"]}}}}`
	exportPattern  = `{"eventName":["INSERT"],"dynamodb":{"Keys":{"SK":{"S":[{"prefix":"EXPORT#"}]}}}}`
	uploadPattern  = `{"source":["aws.s3"],"detail-type":["Object Created"],"detail":{"bucket":{"name":["data"]},"object":{"key":[{"prefix":"uploads/"}]}}}`
)

func record(eventName, sk string) string {
	return `{"eventName":"` + eventName + `","eventSource":"aws:dynamodb","dynamodb":{"Keys":{"PK":{"S":"T#demo#C#c1"},"SK":{"S":"` + sk + `"}},"NewImage":{"SK":{"S":"` + sk + `"},"n":{"N":"3"}}}}`
}

func s3Event(bucket, key string) string {
	return `{"version":"0","source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"` + bucket + `"},"object":{"key":"` + key + `","size":12}}}`
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		// template.yaml's three patterns
		{"figures insert", figuresPattern, record("INSERT", "FIGURES"), true},
		{"figures modify", figuresPattern, record("MODIFY", "FIGURES"), true},
		{"figures remove", figuresPattern, record("REMOVE", "FIGURES"), true},
		{"other sort key", figuresPattern, record("INSERT", "FIGURES#old"), false},
		{"sort key is a prefix of FIGURES", figuresPattern, record("INSERT", "FIG"), false},
		{"export insert", exportPattern, record("INSERT", "EXPORT#01"), true},
		{"export modify is not a new job", exportPattern, record("MODIFY", "EXPORT#01"), false},
		{"not an export", exportPattern, record("INSERT", "EXPORTS"), false},
		{"upload", uploadPattern, s3Event("data", "uploads/demo/1"), true},
		{"upload in another bucket", uploadPattern, s3Event("other", "uploads/demo/1"), false},
		{"export object", uploadPattern, s3Event("data", "exports/demo/1.csv"), false},
		{"missing nested field", uploadPattern, `{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"data"}}}`, false},
		{"detail-type differs", uploadPattern, `{"source":"aws.s3","detail-type":"Object Deleted","detail":{"bucket":{"name":"data"},"object":{"key":"uploads/x"}}}`, false},

		// alternatives are OR, fields are AND
		{"second alternative", `{"eventName":["INSERT","MODIFY"]}`, `{"eventName":"MODIFY"}`, true},
		{"no alternative", `{"eventName":["INSERT","MODIFY"]}`, `{"eventName":"REMOVE"}`, false},
		{"all fields must match", `{"a":["x"],"b":["y"]}`, `{"a":"x","b":"z"}`, false},

		// values of other types
		{"number equal numerically", `{"n":[3]}`, `{"n":3.0}`, true},
		{"number vs string", `{"n":[3]}`, `{"n":"3"}`, false},
		{"boolean", `{"b":[true]}`, `{"b":true}`, true},
		{"null matches null", `{"x":[null]}`, `{"x":null}`, true},
		{"null does not match missing", `{"x":[null]}`, `{}`, false},

		// lists in the event: any element
		{"event list has the value", `{"tags":["b"]}`, `{"tags":["a","b"]}`, true},
		{"event list lacks the value", `{"tags":["c"]}`, `{"tags":["a","b"]}`, false},
		{"list of objects", `{"items":{"k":["v"]}}`, `{"items":[{"k":"w"},{"k":"v"}]}`, true},

		// leaves never match objects
		{"value against an object", `{"a":["x"]}`, `{"a":{"b":"x"}}`, false},

		// operators
		{"suffix", `{"key":[{"suffix":".csv"}]}`, `{"key":"a/b.csv"}`, true},
		{"suffix no", `{"key":[{"suffix":".csv"}]}`, `{"key":"a/b.json"}`, false},
		{"prefix on a number", `{"key":[{"prefix":"1"}]}`, `{"key":12}`, false},
		{"equals-ignore-case", `{"s":[{"equals-ignore-case":"insert"}]}`, `{"s":"INSERT"}`, true},
		{"exists true", `{"x":[{"exists":true}]}`, `{"x":"anything"}`, true},
		{"exists true, missing", `{"x":[{"exists":true}]}`, `{"y":1}`, false},
		{"exists false, missing", `{"x":[{"exists":false}]}`, `{"y":1}`, true},
		{"exists false, present", `{"x":[{"exists":false}]}`, `{"x":1}`, false},
		{"exists false under a missing parent", `{"a":{"b":[{"exists":false}]}}`, `{}`, true},
		{"anything-but other", `{"e":[{"anything-but":["REMOVE"]}]}`, `{"e":"INSERT"}`, true},
		{"anything-but same", `{"e":[{"anything-but":["REMOVE"]}]}`, `{"e":"REMOVE"}`, false},
		{"anything-but missing", `{"e":[{"anything-but":"REMOVE"}]}`, `{}`, false},
		{"anything-but prefix", `{"k":[{"anything-but":{"prefix":"tmp/"}}]}`, `{"k":"tmp/x"}`, false},
		{"anything-but prefix other", `{"k":[{"anything-but":{"prefix":"tmp/"}}]}`, `{"k":"uploads/x"}`, true},
		{"numeric range inside", `{"size":[{"numeric":[">",0,"<=",10]}]}`, `{"size":10}`, true},
		{"numeric range outside", `{"size":[{"numeric":[">",0,"<=",10]}]}`, `{"size":0}`, false},
		{"numeric on a string", `{"size":[{"numeric":[">",0]}]}`, `{"size":"5"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompilePattern(tt.pattern)
			if err != nil {
				t.Fatalf("CompilePattern(%s): %v", tt.pattern, err)
			}
			got, err := p.MatchJSON([]byte(tt.event))
			if err != nil {
				t.Fatalf("MatchJSON: %v", err)
			}
			if got != tt.want {
				t.Errorf("pattern %s on %s: got %v, want %v", tt.pattern, tt.event, got, tt.want)
			}
		})
	}
}

func TestCompilePatternRejects(t *testing.T) {
	tests := []struct {
		pattern string
		inError string // the part of the message that says where and why
	}{
		{`not json`, "not valid JSON"},
		{`["INSERT"]`, "must be a non-empty JSON object"},
		{`{}`, "must be a non-empty JSON object"},
		{`{"eventName":"INSERT"}`, `eventName: a field's values must be in a list (write ["INSERT"])`},
		{`{"a":{"b":[]}}`, "a.b: an empty list of alternatives matches nothing"},
		{`{"a":{}}`, "a: an empty object matches nothing"},
		{`{"a":[{"wildcard":"x*"}]}`, `a[0].wildcard: operator "wildcard" is not supported`},
		{`{"a":[{"prefix":"x","suffix":"y"}]}`, "a[0]: an operator object has exactly one key"},
		{`{"a":[{"prefix":3}]}`, "a[0].prefix: wants a string"},
		{`{"a":[{"exists":"yes"}]}`, "a[0].exists: wants true or false"},
		{`{"a":[{"numeric":["~",3]}]}`, `a[0].numeric[0]: "~" is not one of`},
		{`{"a":[{"numeric":[">"]}]}`, "a[0].numeric: wants [op, number]"},
		{`{"a":[["nested"]]}`, `a[0]: ["nested"] is neither a value nor an operator object`},
	}
	for _, tt := range tests {
		_, err := CompilePattern(tt.pattern)
		if err == nil {
			t.Errorf("CompilePattern(%s) accepted it", tt.pattern)
			continue
		}
		if !strings.Contains(err.Error(), tt.inError) {
			t.Errorf("CompilePattern(%s) = %q, want it to say %q", tt.pattern, err, tt.inError)
		}
	}
}

func TestFiltersAreAnyOf(t *testing.T) {
	f, err := CompileFilters([]string{figuresPattern, exportPattern})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		event string
		want  bool
	}{
		{record("MODIFY", "FIGURES"), true},
		{record("INSERT", "EXPORT#9"), true},
		{record("INSERT", "SUB#1"), false},
	} {
		ev, err := DecodeEvent([]byte(tt.event))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(ev); got != tt.want {
			t.Errorf("filters on %s: got %v, want %v", tt.event, got, tt.want)
		}
	}
	if !(Filters{}).Match(map[string]any{"x": 1}) {
		t.Error("no filters must let every event through, as Lambda does without FilterCriteria")
	}
}
