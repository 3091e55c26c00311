package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// The users export of one customer: the parent creates the export job item
// (as POST /v1/exports does) and the child is the ExportWorkerFunction's
// handler receiving the table stream's INSERT record of it. The clock
// covers the invocation: claim the job, read every user row, write the CSV
// into a multipart upload to the S3 server, record the outcome.
//
// The reference is a bare Query loop reading the same items with the same
// consistent, paged Queries, counting them and nothing else.

const (
	jobExport     = "export"
	jobQueryCount = "querycount"
)

func init() {
	registerJob(jobExport, exportJob)
	registerJob(jobQueryCount, queryCountJob)
}

type exportParams struct {
	Tenant   string `json:"tenant"`
	ExportID string `json:"exportId"`
}

func exportJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p exportParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	t, err := license.NewTenant(p.Tenant)
	if err != nil {
		return nil, err
	}
	h, err := app.ExportWorker(env.Env(), config.Default())
	if err != nil {
		return nil, err
	}
	k, err := store.ExportKey(t, p.ExportID)
	if err != nil {
		return nil, err
	}
	event, err := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventID": "bench", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
		"dynamodb": map[string]any{
			"ApproximateCreationDateTime": time.Now().Unix(),
			"Keys":                        map[string]any{"PK": map[string]string{"S": k.PK}, "SK": map[string]string{"S": k.SK}},
			"SequenceNumber":              "1", "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES",
		},
		"eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/" + env.services.Table + "/stream/bench",
	}}})
	if err != nil {
		return nil, err
	}
	callsBefore := env.Calls()
	start := time.Now()
	out, err := h.Invoke(ctx, event)
	elapsed := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("the export worker failed: %w", err)
	}
	calls := env.Calls() - callsBefore
	job, err := store.New(env.DynamoDB(), env.services.Table).Export(ctx, t, p.ExportID, time.Now())
	if err != nil {
		return nil, err
	}
	if job.Status != store.ExportSucceeded {
		return nil, fmt.Errorf("export %s ended %s (%s); the worker answered %s", p.ExportID, job.Status, job.Reason, out)
	}
	return map[string]float64{"seconds": elapsed.Seconds(), "rows": float64(job.Rows), "bytes": float64(job.Bytes), "calls": float64(calls)}, nil
}

type queryCountParams struct {
	Tenant   string `json:"tenant"`
	Customer string `json:"customer"`
}

func queryCountJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p queryCountParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	t, err := license.NewTenant(p.Tenant)
	if err != nil {
		return nil, err
	}
	db, table := env.DynamoDB(), env.services.Table
	cf, err := store.New(db, table).Figures(ctx, t, p.Customer)
	if err != nil {
		return nil, err
	}
	callsBefore := env.Calls()
	start := time.Now()
	var rows int64
	for shard := range cf.Shards {
		pk, err := store.GenerationPK(t, p.Customer, cf.Generation, shard)
		if err != nil {
			return nil, err
		}
		pages := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
			TableName: &table, KeyConditionExpression: aws.String("PK = :pk"), ConsistentRead: aws.Bool(true),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			rows += int64(len(page.Items))
		}
	}
	return map[string]float64{"seconds": time.Since(start).Seconds(), "rows": float64(rows), "calls": float64(env.Calls() - callsBefore)}, nil
}

// benchExport exports each size's customer against the plain Query loop,
// runs interleaved.
func benchExport(ctx context.Context, r *runner) ([]Figure, error) {
	var out []Figure
	st := store.New(r.stack.DynamoDB(), benchTable)
	for _, n := range r.exportSizes() {
		c, err := r.customerOf(ctx, n)
		if err != nil {
			return out, err
		}
		t, err := license.NewTenant(c.Tenant)
		if err != nil {
			return out, err
		}
		var rate, rss, cpu, size, refRate, refRSS, refCPU []float64
		for i := range r.runsOf(n) {
			now := time.Now().UTC()
			job := store.ExportJob{ID: store.NewExportID(now), Dataset: "users", CustomerID: c.Customer, Format: "csv", CreatedAt: now}
			if err := st.CreateExport(ctx, t, job); err != nil {
				return out, err
			}
			res, err := r.job(ctx, jobExport, exportParams{Tenant: c.Tenant, ExportID: job.ID})
			if err != nil {
				return out, err
			}
			v := res.Values
			if int(v["rows"]) != n {
				return out, fmt.Errorf("the export of %s has %.0f rows, not %d", c.Customer, v["rows"], n)
			}
			rate, rss, cpu, size = append(rate, v["rows"]/v["seconds"]), append(rss, res.MaxRSSMiB), append(cpu, res.CPU), append(size, v["bytes"])
			r.progress("export", "%s rows, run %d/%d: %.1f s, %.0f rows/s, %s of CSV, peak RSS %.0f MiB, CPU %.1f s, %.0f calls",
				count(n), i+1, r.runsOf(n), v["seconds"], v["rows"]/v["seconds"], formatValue(v["bytes"], "bytes"), res.MaxRSSMiB, res.CPU, v["calls"])

			ref, err := r.job(ctx, jobQueryCount, queryCountParams{Tenant: c.Tenant, Customer: c.Customer})
			if err != nil {
				return out, err
			}
			v = ref.Values
			if int(v["rows"]) != n {
				return out, fmt.Errorf("the Query loop read %.0f rows of %s, not %d", v["rows"], c.Customer, n)
			}
			refRate, refRSS, refCPU = append(refRate, v["rows"]/v["seconds"]), append(refRSS, ref.MaxRSSMiB), append(refCPU, ref.CPU)
			r.progress("export", "%s rows, run %d/%d: plain Query loop %.1f s, %.0f rows/s, peak RSS %.0f MiB, CPU %.1f s",
				count(n), i+1, r.runsOf(n), v["seconds"], v["rows"]/v["seconds"], ref.MaxRSSMiB, ref.CPU)
		}
		cas := count(n) + " user rows"
		const name = "export users (CSV to S3)"
		const ref = "plain Query loop"
		out = append(out,
			figure(name, cas, "rows", "rows/s", rate).against(ref, refRate),
			figure(name, cas, "peak RSS", "MiB", rss).against(ref, refRSS),
			figure(name, cas, "CPU time of the process", "s", cpu).against(ref, refCPU),
			figure(name, cas, "CSV size", "bytes", size),
		)
	}
	return out, nil
}
