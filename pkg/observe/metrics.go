package observe

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every business metric.
const Namespace = "LicenseInsights"

// Metric names of the business counters.
const (
	DocumentsIngested = "DocumentsIngested"
	DocumentsRejected = "DocumentsRejected"
	RowsIngested      = "RowsIngested"
	ExportsCompleted  = "ExportsCompleted"
	ExportsFailed     = "ExportsFailed"
	ExportBytes       = "ExportBytes"
	ExportRows        = "ExportRows"
	RollupLagSeconds  = "RollupLagSeconds"
)

// Unit is a CloudWatch metric unit.
type Unit string

// Units used by the business counters.
const (
	Count   Unit = "Count"
	Bytes   Unit = "Bytes"
	Seconds Unit = "Seconds"
)

var (
	metricsMu  sync.Mutex
	metricsOut io.Writer = os.Stdout
)

// SetMetricsOutput redirects EMF lines (tests).
func SetMetricsOutput(w io.Writer) {
	metricsMu.Lock()
	defer metricsMu.Unlock()
	metricsOut = w
}

// Metric is one value of an EMF line.
type Metric struct {
	Name  string
	Value float64
	Unit  Unit
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// Emit writes one CloudWatch Embedded Metric Format line with the metrics,
// dimensioned by function (and by kind when given: e.g. the document kind or
// export dataset). CloudWatch turns the line into metrics with no API call,
// which is why metrics cost the handler nothing but a log write.
func Emit(kind string, metrics ...Metric) {
	if len(metrics) == 0 {
		return
	}
	doc := map[string]any{"Function": function()}
	dims := [][]string{{"Function"}}
	if kind != "" {
		doc["Kind"] = kind
		dims = append(dims, []string{"Function", "Kind"})
	}
	d := emfDirective{Namespace: Namespace, Dimensions: dims}
	for _, m := range metrics {
		d.Metrics = append(d.Metrics, emfMetric{Name: m.Name, Unit: m.Unit})
		doc[m.Name] = m.Value
	}
	doc["_aws"] = emfMeta{Timestamp: time.Now().UnixMilli(), CloudWatchMetrics: []emfDirective{d}}
	b, err := json.Marshal(doc)
	if err != nil {
		return
	}
	metricsMu.Lock()
	defer metricsMu.Unlock()
	_, _ = metricsOut.Write(append(b, '\n'))
}
