package rollup

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

var updateEvents = flag.Bool("update-events", false, "rewrite events/"+sampleEventFile+" from the generator")

const sampleEventFile = "aggregate-figures-changed.json"

// sampleEvent is the stream event of events/aggregate-figures-changed.json:
// the demo tenant's first two customers (portfoliogen seed 1, as the demo
// data) are inserted, the first is changed by the next day's report, the
// second is removed. It returns the event and the figures that remain.
func sampleEvent(t *testing.T) (events.DynamoDBEvent, *license.Figures) {
	t.Helper()
	day, _ := license.ParseDate("2026-11-20")
	cfg := portfoliogen.Config{Seed: 1, Customers: 2, Users: 12, ReportDate: day}
	specs := portfoliogen.Customers(cfg)
	figuresOf := func(c portfoliogen.CustomerSpec, d license.Date) *license.Figures {
		f, err := portfoliogen.Figures(cfg, c, d)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	first1 := figuresOf(specs[0], day)
	first2 := figuresOf(specs[0], day.AddDays(1))
	second := figuresOf(specs[1], day)

	created := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	image := func(f *license.Figures, version int64, at time.Time) map[string]events.DynamoDBAttributeValue {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]events.DynamoDBAttributeValue{
			"PK":           events.NewStringAttribute("T#demo-partner#C#" + f.Customer.ID),
			"SK":           events.NewStringAttribute("FIGURES"),
			"version":      events.NewNumberAttribute(strconv.FormatInt(version, 10)),
			"gen":          events.NewNumberAttribute(strconv.FormatInt(version, 10)),
			"shards":       events.NewNumberAttribute("1"),
			"users":        events.NewNumberAttribute("12"),
			"reportDate":   events.NewStringAttribute(f.ReportDate.String()),
			"updatedAt":    events.NewStringAttribute(at.Format(time.RFC3339Nano)),
			"customerName": events.NewStringAttribute(f.Customer.Name),
			"usersKind":    events.NewStringAttribute("snapshot"),
			"figures":      events.NewStringAttribute(string(b)),
		}
	}
	record := func(n int, name string, id string, old, new map[string]events.DynamoDBAttributeValue) events.DynamoDBEventRecord {
		at := created.Add(time.Duration(n) * time.Minute)
		size := int64(0)
		for _, img := range []map[string]events.DynamoDBAttributeValue{old, new} {
			if img != nil {
				size += int64(len(img["figures"].String()) + 200)
			}
		}
		return events.DynamoDBEventRecord{
			EventID: "a1b2c3d4e5f60718293a4b5c6d7e8f9" + strconv.Itoa(n), EventName: name, EventVersion: "1.1",
			EventSource: "aws:dynamodb", AWSRegion: infra.Region,
			EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/license-insights-Table-1ABCDEF2GHIJ/stream/2026-11-01T00:00:00.000",
			Change: events.DynamoDBStreamRecord{
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: at},
				Keys: map[string]events.DynamoDBAttributeValue{
					"PK": events.NewStringAttribute("T#demo-partner#C#" + id), "SK": events.NewStringAttribute("FIGURES"),
				},
				OldImage: old, NewImage: new,
				SequenceNumber: "4000000000000000000000" + strconv.Itoa(n), SizeBytes: size,
				StreamViewType: "NEW_AND_OLD_IMAGES",
			},
		}
	}
	t1, t2, t3 := created, created.Add(time.Minute), created.Add(24*time.Hour)
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record(1, "INSERT", specs[0].ID, nil, image(first1, 1, t1)),
		record(2, "INSERT", specs[1].ID, nil, image(second, 1, t2)),
		record(3, "MODIFY", specs[0].ID, image(first1, 1, t1), image(first2, 2, t3)),
		record(4, "REMOVE", specs[1].ID, image(second, 1, t2), nil),
	}}
	return ev, first2
}

func sampleEventPath(t *testing.T) string {
	t.Helper()
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "events", sampleEventFile)
}

func writeSampleEvent(t *testing.T, ev events.DynamoDBEvent) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	if err := os.WriteFile(sampleEventPath(t), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readSampleEvent(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(sampleEventPath(t))
	if err != nil {
		t.Fatalf("%v (generate it with go test ./pkg/worker/rollup -run TestSampleEvent -update-events)", err)
	}
	return b
}
