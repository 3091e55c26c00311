package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Ingest of one customer, the way a large file arrives: the native
// snapshot is in the bucket under uploads/<tenant>/<id> with its upload
// record (put there by the parent, not measured), and the child is the
// IngestFunction's handler receiving the EventBridge "Object Created"
// event. The clock covers the invocation: read from S3, parse, compute,
// write every user row, commit.
//
// The reference is a bare BatchWriteItem loop on 4 workers (as many as
// the store uses) writing the very same user items (store.UserItem, with
// the entitled flags Compute gives), encoded before the clock starts: what
// DynamoDB Local can take, the ceiling of any ingest. The same loop also
// writes into a table with the same keys but no indexes and no stream
// (benchBareTable), which is the raw ceiling of DynamoDB Local: the gap
// between the two is what the local engine pays for the table's design.

const (
	jobIngest     = "ingest"
	jobBatchWrite = "batchwrite"
)

func init() {
	registerJob(jobIngest, ingestJob)
	registerJob(jobBatchWrite, batchWriteJob)
}

// ingestedCustomer is a customer an earlier path left in the bench table.
type ingestedCustomer struct {
	Tenant   string `json:"tenant"`
	Customer string `json:"customer"`
	Users    int    `json:"users"`
}

// benchCustomer is the generated customer of n users every size-based
// path uses: the same seed, exactly n users.
func benchCustomer(n int) (portfoliogen.Config, portfoliogen.CustomerSpec) {
	cfg := portfoliogen.Config{Seed: 1, Customers: 1, Users: n, Exact: true, ReportDate: benchDate}
	spec := portfoliogen.Customers(cfg)[0]
	spec.ID = "customer-" + count(n)
	return cfg, spec
}

// generate writes the customer's document of kind into the scratch
// directory once and returns its path.
func (r *runner) generate(cfg portfoliogen.Config, spec portfoliogen.CustomerSpec, kind portfoliogen.Kind) (string, error) {
	path := filepath.Join(r.scratch, "documents", fmt.Sprintf("%s-%d.%s", spec.ID, cfg.Seed, kind.Ext()))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.Create(path + ".part")
	if err != nil {
		return "", err
	}
	if err := portfoliogen.Write(f, kind, cfg, spec); err != nil {
		f.Close()
		return "", fmt.Errorf("generating %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(path+".part", path)
}

// stageUpload puts the document where a presigned PUT would have put it
// and records the upload, as POST /v1/uploads does.
func (r *runner) stageUpload(ctx context.Context, tenant, customer, kind, document string) (uploadID, key string, err error) {
	t, err := license.NewTenant(tenant)
	if err != nil {
		return "", "", err
	}
	uploadID = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if key, err = blob.UploadKey(t, uploadID); err != nil {
		return "", "", err
	}
	f, err := os.Open(document)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", "", err
	}
	_, err = r.stack.S3().PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(benchBucket), Key: aws.String(key), Body: f, ContentLength: aws.Int64(info.Size()),
	})
	if err != nil {
		return "", "", fmt.Errorf("putting %s into the bucket: %w", document, err)
	}
	st := store.New(r.stack.DynamoDB(), benchTable)
	if err := st.CreateUpload(ctx, t, store.Upload{ID: uploadID, CustomerID: customer, Kind: kind, CreatedAt: time.Now().UTC()}); err != nil {
		return "", "", err
	}
	return uploadID, key, nil
}

type ingestParams struct {
	Tenant   string `json:"tenant"`
	UploadID string `json:"uploadId"`
	Key      string `json:"key"`
	// PartnerTenantID configures the function as the generated documents
	// expect.
	PartnerTenantID string `json:"partnerTenantId"`
}

func ingestJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p ingestParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.PartnerTenantID = p.PartnerTenantID
	h, err := app.Ingest(env.Env(), cfg)
	if err != nil {
		return nil, err
	}
	event, err := objectCreatedEvent(env.services.Bucket, p.Key)
	if err != nil {
		return nil, err
	}
	callsBefore := env.Calls()
	start := time.Now()
	if _, err := h.Invoke(ctx, event); err != nil {
		return nil, fmt.Errorf("the ingest function failed: %w", err)
	}
	elapsed := time.Since(start)
	calls := env.Calls() - callsBefore

	t, err := license.NewTenant(p.Tenant)
	if err != nil {
		return nil, err
	}
	u, err := store.New(env.DynamoDB(), env.services.Table).GetUpload(ctx, t, p.UploadID)
	if err != nil {
		return nil, err
	}
	var outcome struct {
		Users  int    `json:"users"`
		Status string `json:"status"`
	}
	b, _ := json.Marshal(u.Result)
	_ = json.Unmarshal(b, &outcome)
	if u.Status != store.UploadSucceeded || outcome.Users == 0 {
		return nil, fmt.Errorf("upload %s ended %s: %s", p.UploadID, u.Status, b)
	}
	return map[string]float64{"seconds": elapsed.Seconds(), "users": float64(outcome.Users), "calls": float64(calls)}, nil
}

// objectCreatedEvent is the EventBridge event S3 sends when an object
// lands (the shape the IngestFunction's rule delivers).
func objectCreatedEvent(bucket, key string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("bench-%d", time.Now().UnixNano()), "detail-type": "Object Created", "source": "aws.s3",
		"account": "000000000000", "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]any{"name": bucket},
			"object":     map[string]any{"key": key, "etag": "bench", "sequencer": "1"},
			"request-id": "bench", "requester": "000000000000", "reason": "PutObject",
		},
	})
}

type batchWriteParams struct {
	Tenant   string `json:"tenant"`
	Customer string `json:"customer"` // where the items go (not the generated customer's id)
	Users    int    `json:"users"`
	Workers  int    `json:"workers"`
	// Table is where to write; empty is the bench table.
	Table string `json:"table,omitempty"`
}

func batchWriteJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p batchWriteParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	t, err := license.NewTenant(p.Tenant)
	if err != nil {
		return nil, err
	}
	// The same users the document holds, with the entitled flags the
	// ingest stores.
	cfg, spec := benchCustomer(p.Users)
	users := make([]license.User, 0, p.Users)
	err = portfoliogen.EachUser(cfg, spec, func(u *license.User) error {
		c := *u
		c.Licenses, c.Workloads = slices.Clone(u.Licenses), slices.Clone(u.Workloads)
		users = append(users, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	result := license.Compute(license.Input{
		Customer: license.Customer{ID: spec.ID, Name: spec.Name}, ReportDate: cfg.ReportDate,
		Subscriptions: portfoliogen.Subscriptions(cfg, spec), Users: users, ProductName: catalog.Name,
	})
	shards := store.ShardsFor(len(users))
	pks := make([]string, shards)
	for i := range pks {
		if pks[i], err = store.GenerationPK(t, p.Customer, 1, i); err != nil {
			return nil, err
		}
	}
	items := make([]map[string]types.AttributeValue, len(users))
	for i := range users {
		if items[i], err = store.UserItem(pks[store.ShardOf(users[i].Key, shards)], &users[i], result.Entitled[i]); err != nil {
			return nil, err
		}
	}

	table := env.services.Table
	if p.Table != "" {
		table = p.Table
	}
	callsBefore := env.Calls()
	start := time.Now()
	if err := batchWrite(ctx, env.DynamoDB(), table, items, p.Workers); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	return map[string]float64{"seconds": elapsed.Seconds(), "users": float64(len(result.Entitled)), "calls": float64(env.Calls() - callsBefore)}, nil
}

// batchWrite is the plain loop: items in batches of 25, sent by workers,
// whatever comes back unprocessed sent again at once.
func batchWrite(ctx context.Context, db *dynamodb.Client, table string, items []map[string]types.AttributeValue, workers int) error {
	batches := make(chan []types.WriteRequest)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for reqs := range batches {
				for len(reqs) > 0 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
					if err != nil {
						errs <- err
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		})
	}
	// The requests are made as they are sent: a million prepared at once
	// would double the reference's memory for nothing.
	for lo := 0; lo < len(items); lo += 25 {
		reqs := make([]types.WriteRequest, 0, 25)
		for _, item := range items[lo:min(lo+25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		select {
		case batches <- reqs:
		case err := <-errs:
			close(batches)
			wg.Wait()
			return err
		}
	}
	close(batches)
	wg.Wait()
	close(errs)
	return <-errs
}

// benchIngest measures the ingest of one customer per size against the
// plain loop, runs interleaved so that a busy moment of the machine (or
// the table's growth) falls on both alike.
func benchIngest(ctx context.Context, r *runner) ([]Figure, error) {
	var out []Figure
	for _, n := range r.ingestSizes() {
		cfg, spec := benchCustomer(n)
		r.progress("ingest", "%s users: generating the snapshot", count(n))
		doc, err := r.generate(cfg, spec, portfoliogen.KindSnapshot)
		if err != nil {
			return out, err
		}
		var secs, rate, rss, cpu, calls, refSecs, refRate, refCPU, bareRate []float64
		for i := range r.runsOf(n) {
			tenant := fmt.Sprintf("ingest-%s-r%d", count(n), i+1)
			uploadID, key, err := r.stageUpload(ctx, tenant, spec.ID, string(portfoliogen.KindSnapshot), doc)
			if err != nil {
				return out, err
			}
			res, err := r.job(ctx, jobIngest, ingestParams{Tenant: tenant, UploadID: uploadID, Key: key, PartnerTenantID: cfg.PartnerTenant()})
			if err != nil {
				return out, err
			}
			s, users := res.Values["seconds"], res.Values["users"]
			secs, rate, rss, calls = append(secs, s), append(rate, users/s), append(rss, res.MaxRSSMiB), append(calls, res.Values["calls"])
			cpu = append(cpu, res.CPU)
			r.progress("ingest", "%s users, run %d/%d: %.1f s, %.0f users/s, peak RSS %.0f MiB, CPU %.1f s, %.0f calls",
				count(n), i+1, r.runsOf(n), s, users/s, res.MaxRSSMiB, res.CPU, res.Values["calls"])
			r.ingested[n] = ingestedCustomer{Tenant: tenant, Customer: spec.ID, Users: n}

			ref, err := r.job(ctx, jobBatchWrite, batchWriteParams{Tenant: tenant, Customer: spec.ID + "-reference", Users: n, Workers: 4})
			if err != nil {
				return out, err
			}
			s, users = ref.Values["seconds"], ref.Values["users"]
			refSecs, refRate, refCPU = append(refSecs, s), append(refRate, users/s), append(refCPU, ref.CPU)
			r.progress("ingest", "%s users, run %d/%d: plain BatchWriteItem loop %.1f s, %.0f items/s, CPU %.1f s (generating and encoding the items included)",
				count(n), i+1, r.runsOf(n), s, users/s, ref.CPU)

			bare, err := r.job(ctx, jobBatchWrite, batchWriteParams{Tenant: tenant, Customer: spec.ID, Users: n, Workers: 4, Table: benchBareTable})
			if err != nil {
				return out, err
			}
			s, users = bare.Values["seconds"], bare.Values["users"]
			bareRate = append(bareRate, users/s)
			r.progress("ingest", "%s users, run %d/%d: the same loop into a bare table (keys only) %.1f s, %.0f items/s",
				count(n), i+1, r.runsOf(n), s, users/s)
		}
		c := count(n) + " users"
		const name = "ingest one customer (snapshot upload)"
		const ref = "plain BatchWriteItem loop, 4 workers"
		out = append(out,
			figure(name, c, "time", "s", secs).against(ref, refSecs),
			figure(name, c, "user rows written", "items/s", rate).against(ref, refRate),
			figure(name, c, "user rows written", "items/s", rate).against(ref+", into a bare table (keys only: no indexes, no stream)", bareRate),
			figure(name, c, "peak RSS", "MiB", rss),
			figure(name, c, "CPU time of the process", "s", cpu).against(ref+" (whole process)", refCPU),
			figure(name, c, "AWS calls", "calls", calls),
		)
	}
	return out, nil
}
