package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// DemoOptions describe the demo portfolio LoadDemo posts.
type DemoOptions struct {
	// Tenant receives the portfolio; the zero Tenant means the first
	// token's tenant (demo-partner by default).
	Tenant license.Tenant
	// Customers and Users (mean per customer) size the portfolio; 0 means
	// 40 and 100.
	Customers, Users int
	// Seed picks the portfolio; 0 means 1, the portfolio generator's
	// default, so that `go run ./cmd/portfolio-gen -seed 1` writes the same
	// customers (the events/ files name the first of them).
	Seed int64
	// ReportDate is the documents' date; zero means today (UTC).
	ReportDate license.Date
	// Concurrency is how many documents are posted at once; 0 means 2.
	Concurrency int
	// Progress, when set, is called after every document with the
	// number done and the total.
	Progress func(done, total int)
}

// DemoSummary says what LoadDemo loaded.
type DemoSummary struct {
	Tenant    string
	Customers int
	Users     int
	Documents int // posted directly
	Uploads   int // through POST /v1/uploads and a presigned PUT
	First     []string
}

// demoDocument is one document of the demo and how it travels.
type demoDocument struct {
	customer portfoliogen.CustomerSpec
	kind     portfoliogen.Kind
	upload   bool
	// paged: directory/subscriptions as Graph pages it, the pages in one
	// document (what a partner's script that saves every page sends).
	paged bool
}

// demoPageSize is the page size of the paged directory documents: small,
// so that the demo's customers have several pages.
const demoPageSize = 2

// demoPlan says which documents each customer sends, in order. Most send
// the native snapshot; some send what a partner fetches from Microsoft
// instead (Graph reports and subscriptions — some of them as pages in one
// document —, Partner Center subscriptions), and a few send their snapshot as a large file would
// travel, through a presigned upload whose arrival in S3 triggers the
// ingest, so that every path of the system runs at start. Subscription
// documents go before the user report: every ingest rewrites the
// customer's users, and before the first user document there are none to
// rewrite.
func demoPlan(customers []portfoliogen.CustomerSpec) [][]demoDocument {
	plan := make([][]demoDocument, 0, len(customers))
	for _, c := range customers {
		doc := func(k portfoliogen.Kind) demoDocument { return demoDocument{customer: c, kind: k} }
		switch c.Index % 10 {
		case 3, 8:
			dir := doc(portfoliogen.KindGraphDirectorySubscriptions)
			dir.paged = c.Index%10 == 8
			plan = append(plan, []demoDocument{dir, doc(portfoliogen.KindGraphActiveUserDetail)})
		case 4:
			plan = append(plan, []demoDocument{
				doc(portfoliogen.KindGraphSubscribedSkus),
				doc(portfoliogen.KindPartnerCenterSubscriptions),
				doc(portfoliogen.KindGraphActiveUserDetail)})
		case 9:
			plan = append(plan, []demoDocument{{customer: c, kind: portfoliogen.KindSnapshot, upload: true}})
		default:
			plan = append(plan, []demoDocument{doc(portfoliogen.KindSnapshot)})
		}
	}
	return plan
}

// LoadDemo generates a realistic portfolio (pkg/portfoliogen) and posts it
// through the gateway, as a partner's integration would, so the real
// handlers ingest it; then it waits until the roll-ups have caught up.
func (s *Stack) LoadDemo(ctx context.Context, o DemoOptions) (DemoSummary, error) {
	if !o.Tenant.Valid() {
		o.Tenant = s.Tokens[0].Tenant
	}
	if o.Customers <= 0 {
		o.Customers = 40
	}
	if o.Users <= 0 {
		o.Users = 100
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.ReportDate.IsZero() {
		o.ReportDate = license.DateOf(time.Now())
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	cfg := portfoliogen.Config{
		Seed: o.Seed, Customers: o.Customers, Users: o.Users,
		ReportDate: o.ReportDate, PartnerTenantID: s.PartnerTenantID,
	}
	customers := portfoliogen.Customers(cfg)
	sum := DemoSummary{Tenant: o.Tenant.ID(), Customers: len(customers)}
	for i, c := range customers {
		sum.Users += c.Users
		if i < 3 {
			sum.First = append(sum.First, c.ID)
		}
	}

	// A token of its own, which nobody else knows, with the writer role
	// for the chosen tenant.
	token := Token{Name: "demo-loader-" + newRequestID(), Tenant: o.Tenant, Role: api.RoleWriter}
	s.AddToken(token)
	client := &http.Client{Timeout: 5 * time.Minute}

	// One customer's documents go one after the other (in AWS they would
	// arrive in turn too); customers go in parallel.
	plan := demoPlan(customers)
	// Customers with Copilot seats send their Copilot usage report last
	// (docs/definitions.md#copilot): it needs no users of its own, only theirs.
	for i, docs := range plan {
		if c := docs[0].customer; portfoliogen.HasCopilot(cfg, c) {
			plan[i] = append(docs, demoDocument{customer: c, kind: portfoliogen.KindGraphCopilotUsage})
		}
	}
	total := 0
	for _, docs := range plan {
		total += len(docs)
	}
	jobs := make(chan []demoDocument)
	var (
		done     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range o.Concurrency {
		wg.Go(func() {
			for docs := range jobs {
				for _, d := range docs {
					if err := s.postDemoDocument(ctx, client, token, cfg, d); err != nil {
						errOnce.Do(func() { firstErr = err; cancel() })
						break
					}
					n := done.Add(1)
					if o.Progress != nil {
						o.Progress(int(n), total)
					}
				}
			}
		})
	}
feed:
	for _, docs := range plan {
		select {
		case jobs <- docs:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return sum, firstErr
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	for _, docs := range plan {
		for _, d := range docs {
			if d.upload {
				sum.Uploads++
			} else {
				sum.Documents++
			}
		}
	}
	// Uploads are ingested by the S3 trigger, and every ingest's figures
	// reach the roll-up through the stream: wait for both.
	return sum, s.WaitIdle(ctx)
}

func (s *Stack) postDemoDocument(ctx context.Context, client *http.Client, token Token, cfg portfoliogen.Config, d demoDocument) error {
	var body bytes.Buffer
	write := portfoliogen.Write
	if d.paged {
		write = func(w io.Writer, _ portfoliogen.Kind, cfg portfoliogen.Config, c portfoliogen.CustomerSpec) error {
			return portfoliogen.WriteDirectorySubscriptionsPages(w, cfg, c, demoPageSize)
		}
	}
	if err := write(&body, d.kind, cfg, d.customer); err != nil {
		return fmt.Errorf("devstack: generating %s's %s: %w", d.customer.ID, d.kind, err)
	}
	if d.upload {
		return s.uploadDemoDocument(ctx, client, token, d, body.Bytes())
	}
	target := s.APIURL + "/v1/customers/" + url.PathEscape(d.customer.ID) + "/reports?kind=" + url.QueryEscape(string(d.kind))
	contentType := "application/json"
	if d.kind.Ext() == "csv" {
		contentType = "text/csv"
	}
	status, answer, err := s.call(ctx, client, token, http.MethodPost, target, contentType, body.Bytes())
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("devstack: demo data: POST %s answered %d: %s", target, status, truncate(string(answer), 500))
	}
	return nil
}

// uploadDemoDocument sends a document as a large file travels: ask for a
// presigned URL, PUT the bytes to S3; the S3 trigger ingests it.
func (s *Stack) uploadDemoDocument(ctx context.Context, client *http.Client, token Token, d demoDocument, doc []byte) error {
	req, _ := json.Marshal(map[string]string{"customerId": d.customer.ID, "kind": string(d.kind)})
	status, answer, err := s.call(ctx, client, token, http.MethodPost, s.APIURL+"/v1/uploads", "application/json", req)
	if err != nil {
		return err
	}
	var created struct {
		UploadURL string `json:"uploadUrl"`
		Method    string `json:"method"`
	}
	if status != http.StatusCreated || json.Unmarshal(answer, &created) != nil || created.UploadURL == "" {
		return fmt.Errorf("devstack: demo data: POST /v1/uploads for %s answered %d: %s", d.customer.ID, status, truncate(string(answer), 500))
	}
	put, err := http.NewRequestWithContext(ctx, http.MethodPut, created.UploadURL, bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("devstack: demo data: the upload URL %q: %w", created.UploadURL, err)
	}
	resp, err := client.Do(put)
	if err != nil {
		return fmt.Errorf("devstack: demo data: PUT to the presigned URL: %w", err)
	}
	defer resp.Body.Close()
	answer, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("devstack: demo data: PUT to the presigned URL answered %d: %s", resp.StatusCode, truncate(string(answer), 500))
	}
	return nil
}

func (s *Stack) call(ctx context.Context, client *http.Client, token Token, method, target, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token.Name)
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("devstack: demo data: %s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}
