package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/msemulator"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// The Microsoft connection's variables: with all five set, `make run`
// collects from those endpoints and starts no emulator.
var microsoftEnv = []string{"LOGIN_BASE_URL", "GRAPH_BASE_URL", "PARTNER_CENTER_BASE_URL", "MS_CLIENT_ID", "MS_CLIENT_SECRET"}

// The local emulator's app registration (any values would do: the
// emulator checks that the collector sends these).
const (
	emulatorClientID     = "00000000-0000-4000-8000-00000000c011"
	emulatorClientSecret = "local-emulator-secret"
)

// microsoft is where the local stack collects from.
type microsoft struct {
	emulator *msemulator.Server // nil: the environment's endpoints
	certFile string
	getenv   func(string) string // the functions' environment, connection included
}

// connectMicrosoft starts the emulator over the demo portfolio, unless the
// environment names a Microsoft connection of its own. The emulator's
// self-signed certificate is trusted through SSL_CERT_FILE, as a partner
// would trust a private endpoint's.
func connectMicrosoft(getenv func(string) string, dir string, portfolio portfoliogen.Config) (*microsoft, error) {
	external := true
	for _, name := range microsoftEnv {
		if getenv(name) == "" {
			external = false
		}
	}
	if external {
		return &microsoft{getenv: getenv}, nil
	}
	emu, err := msemulator.Start(msemulator.Config{Portfolio: portfolio, ClientID: emulatorClientID, ClientSecret: emulatorClientSecret, PageSize: 20}, "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the Microsoft emulator: %w", err)
	}
	cert := filepath.Join(dir, "msemulator.pem")
	if err := os.WriteFile(cert, emu.CertPEM, 0o600); err != nil {
		_ = emu.Close()
		return nil, err
	}
	// Read once, at the first TLS handshake of the process: nothing has
	// made one yet.
	if err := os.Setenv("SSL_CERT_FILE", cert); err != nil {
		_ = emu.Close()
		return nil, err
	}
	set := map[string]string{
		"LOGIN_BASE_URL": emu.URL, "GRAPH_BASE_URL": emu.URL, "PARTNER_CENTER_BASE_URL": emu.URL,
		"MS_CLIENT_ID": emulatorClientID, "MS_CLIENT_SECRET": emulatorClientSecret,
		"MS_CLIENT_SECRET_ID": "", "PARTNER_TENANT_ID": emu.PartnerTenantID(),
	}
	return &microsoft{emulator: emu, certFile: cert, getenv: func(name string) string {
		if v, ok := set[name]; ok {
			return v
		}
		return getenv(name)
	}}, nil
}

func (m *microsoft) close() {
	if m.emulator != nil {
		_ = m.emulator.Close()
	}
}

// collectionSummary is the end of a run, as GET /v1/collections/{id} says.
type collectionSummary struct {
	CollectionID string         `json:"collectionId"`
	Status       string         `json:"status"`
	Reason       *string        `json:"reason"`
	Counts       map[string]int `json:"counts"`
}

// Collect runs one collection through the API, as the daily schedule
// would (POST /v1/collections with the first token), waits until every
// customer is collected and every document ingested, and returns the run.
// progress, when set, is called with the customers done and the total.
func (s *Stack) Collect(ctx context.Context, timeout time.Duration, progress func(done, total int)) (*collectionSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	call := func(method, path string, v any) error {
		req, err := http.NewRequestWithContext(ctx, method, s.APIURL+path, bytes.NewReader(nil))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+s.Tokens[0].Name)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return json.Unmarshal(b, v)
	}
	var run collectionSummary
	if err := call(http.MethodPost, "/v1/collections", &run); err != nil {
		return nil, err
	}
	for run.Status == "running" {
		select {
		case <-ctx.Done():
			return &run, fmt.Errorf("collection %s still running after %s", run.CollectionID, timeout)
		case <-time.After(250 * time.Millisecond):
		}
		if err := call(http.MethodGet, "/v1/collections/"+run.CollectionID+"?limit=1", &run); err != nil {
			return nil, err
		}
		if progress != nil {
			total := 0
			for _, n := range run.Counts {
				total += n
			}
			progress(run.Counts["succeeded"]+run.Counts["failed"]+run.Counts["skipped"], total)
		}
	}
	return &run, s.WaitIdle(ctx)
}

// demoPortfolio is the emulator's portfolio: the demo's customers, today.
func demoPortfolio(customers, users int, partner string) portfoliogen.Config {
	return portfoliogen.Config{Seed: 1, Customers: customers, Users: users, ReportDate: license.DateOf(time.Now()), PartnerTenantID: partner}
}
