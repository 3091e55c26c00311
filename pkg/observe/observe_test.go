package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestLogLinesCarryFunctionAndRequestAttributes(t *testing.T) {
	var buf bytes.Buffer
	Setup("ingest", &buf)
	ctx := WithAttrs(context.Background(), slog.String("requestId", "r-1"), slog.String("tenant", "acme"))
	slog.InfoContext(ctx, "ingested", "rows", 3)

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q is not JSON: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"function": "ingest", "requestId": "r-1", "tenant": "acme", "msg": "ingested", "rows": 3.0} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v (line %s)", k, line[k], want, buf.String())
		}
	}
}

// TestEmitWritesValidEMF checks the line against the Embedded Metric Format
// specification: an _aws member with a millisecond Timestamp and
// CloudWatchMetrics directives whose dimensions and metric names all resolve
// to top-level members of the document.
func TestEmitWritesValidEMF(t *testing.T) {
	var logs, out bytes.Buffer
	Setup("exportworker", &logs)
	SetMetricsOutput(&out)
	defer SetMetricsOutput(nil)

	Emit("users", Metric{ExportRows, 1200, Count}, Metric{ExportBytes, 56000, Bytes})

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one EMF line, got %d: %q", len(lines), out.String())
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
		t.Fatal(err)
	}
	meta, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws member: %s", lines[0])
	}
	if ts, ok := meta["Timestamp"].(float64); !ok || ts < 1.7e12 {
		t.Fatalf("Timestamp %v is not epoch milliseconds", meta["Timestamp"])
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) != 1 {
		t.Fatalf("CloudWatchMetrics: %v", meta["CloudWatchMetrics"])
	}
	d := directives[0].(map[string]any)
	if d["Namespace"] != Namespace {
		t.Fatalf("namespace %v", d["Namespace"])
	}
	for _, set := range d["Dimensions"].([]any) {
		for _, name := range set.([]any) {
			if _, ok := doc[name.(string)].(string); !ok {
				t.Errorf("dimension %v has no string member", name)
			}
		}
	}
	want := map[string]float64{ExportRows: 1200, ExportBytes: 56000}
	for _, m := range d["Metrics"].([]any) {
		mm := m.(map[string]any)
		name := mm["Name"].(string)
		if doc[name] != want[name] {
			t.Errorf("metric %s = %v, want %v", name, doc[name], want[name])
		}
		if mm["Unit"] == "" {
			t.Errorf("metric %s has no unit", name)
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Errorf("metrics missing from the directive: %v", want)
	}
	if doc["Function"] != "exportworker" || doc["Kind"] != "users" {
		t.Errorf("dimensions: %v %v", doc["Function"], doc["Kind"])
	}
}
