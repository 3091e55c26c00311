package customers

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// demoSeed is the portfolio generator's seed of the local stack's demo
// data; the sample events name its first customers.
const demoSeed = 1

// Every events/insights-*.json, the sample events for `sam local invoke`,
// is answered 200 by the function, with the documented shape, once the
// demo's first customers are loaded.
func TestSampleEvents(t *testing.T) {
	t.Parallel()
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "insights-*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("sample events: %v %v", files, err)
	}
	s := newStack(t, testConfig(t))
	d, _ := license.ParseDate(reportDate)
	generated(t, s, "demo-partner", portfoliogen.Config{Seed: demoSeed, Customers: 2, Users: 40, ReportDate: d})

	routes := map[string]bool{}
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		routes[ev.HTTPMethod+" "+ev.Resource] = true
		out, err := s.insights.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", filepath.Base(f), resp.StatusCode, resp.Body)
			continue
		}
		conforms(t, ev.Resource, response{resp.StatusCode, resp.Body})
	}
	for _, r := range []string{"GET " + RouteList, "GET " + RouteInsights, "GET " + RouteHistory} {
		if !routes[r] {
			t.Errorf("no sample event for %s", r)
		}
	}
}
