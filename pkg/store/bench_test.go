package store

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
)

// benchUsers is the users per iteration; -bench-users changes it.
var benchUsers = flag.Int("bench-users", 10_000, "users written per benchmark iteration")

// benchWorkers are the worker counts compared.
var benchWorkers = []int{1, 4, 8}

// BenchmarkWriteUsers writes 10,000 users as one generation per iteration
// and reports items/s; BenchmarkPlainBatchWrite writes the same items with a
// bare BatchWriteItem loop on as many workers, which is the ceiling the
// store can hope for on the same DynamoDB Local:
//
//	go test ./pkg/store/ -run '^$' -bench 'WriteUsers|PlainBatchWrite' -benchtime 1x
func BenchmarkWriteUsers(b *testing.B) {
	for _, w := range benchWorkers {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchWriteUsers(b, w) })
	}
}

func BenchmarkPlainBatchWrite(b *testing.B) {
	for _, w := range benchWorkers {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchPlainBatchWrite(b, w) })
	}
}

func benchWriteUsers(b *testing.B, workers int) {
	ctx := context.Background()
	client, table := devstacktest.Table(b)
	s := New(client, table, WithWorkers(workers))
	tn := tenant(b, "bench")
	users, entitled := manyUsers(*benchUsers, "u")
	shards := ShardsFor(len(users))
	b.ResetTimer()
	for i := range b.N {
		if err := s.WriteUsers(ctx, tn, "c", int64(i+1), shards, users, entitled); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N**benchUsers)/b.Elapsed().Seconds(), "items/s")
}

func benchPlainBatchWrite(b *testing.B, workers int) {
	ctx := context.Background()
	client, table := devstacktest.Table(b)
	s := New(client, table)
	tn := tenant(b, "bench")
	users, entitled := manyUsers(*benchUsers, "u")
	shards := ShardsFor(len(users))
	// The items are encoded beforehand: this measures the table alone.
	batches := make([][][]types.WriteRequest, b.N)
	for i := range batches {
		var reqs []types.WriteRequest
		for j := range users {
			pk, _ := GenerationPK(tn, "c", int64(i+1), ShardOf(users[j].Key, shards))
			item, err := encodeUser(pk, &users[j], entitled[j])
			if err != nil {
				b.Fatal(err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		for lo := 0; lo < len(reqs); lo += batchWriteMax {
			batches[i] = append(batches[i], reqs[lo:min(lo+batchWriteMax, len(reqs))])
		}
	}
	b.ResetTimer()
	for i := range b.N {
		work := make(chan []types.WriteRequest)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for reqs := range work {
					for len(reqs) > 0 {
						out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
							RequestItems: map[string][]types.WriteRequest{s.Table(): reqs},
						})
						if err != nil {
							b.Error(err)
							return
						}
						reqs = out.UnprocessedItems[s.Table()]
					}
				}
			})
		}
		for _, reqs := range batches[i] {
			work <- reqs
		}
		close(work)
		wg.Wait()
	}
	b.ReportMetric(float64(b.N**benchUsers)/b.Elapsed().Seconds(), "items/s")
}
