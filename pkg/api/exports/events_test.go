package exports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSampleEvents runs the events/ files of the two export functions
// against the handlers, with the demo customer they name ingested for the
// demo tenant: what `sam local invoke -e` sends must work.
func TestSampleEvents(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	demo := fabrikam
	demo.Customer = customer{ID: "woodgrove-travel-gmbh", Name: "Woodgrove Travel GmbH"}
	s.ingestSnapshot(t, "demo-partner", demo)

	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, want := range map[string]int{
		"export-create.json": http.StatusAccepted,
		"export-list.json":   http.StatusOK,
		"export-get.json":    http.StatusNotFound, // no such export in the demo data
		"export-link.json":   http.StatusNotFound,
	} {
		out, err := s.api.Invoke(context.Background(), read(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, resp.Body, want)
		}
	}

	// The worker's event names a job that does not exist: handled, nothing
	// to retry.
	out, err := s.worker.Invoke(context.Background(), read("exportworker-export-requested.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"batchItemFailures":[]}` {
		t.Errorf("exportworker-export-requested.json: %s, want no batch item failures", out)
	}
}
