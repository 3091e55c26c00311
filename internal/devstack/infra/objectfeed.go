package infra

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// FeedNewObjects stands in for S3's object-created notifications where a
// test or the bench drives a function directly: every `every` it lists the
// objects under prefix and hands each new one (a new key, or a key written
// again with other content) to handle, workers at once, until ctx ends. A
// listing that fails is tried again at the next tick.
func FeedNewObjects(ctx context.Context, c *s3.Client, bucket, prefix string, workers int, every time.Duration, handle func(ctx context.Context, key string)) {
	seen := map[string]bool{}
	for ctx.Err() == nil {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		var fresh []string
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				break
			}
			for _, o := range page.Contents {
				k := aws.ToString(o.Key) + aws.ToString(o.ETag)
				if !seen[k] {
					seen[k] = true
					fresh = append(fresh, aws.ToString(o.Key))
				}
			}
		}
		var wg sync.WaitGroup
		for chunk := range slices.Chunk(fresh, max(1, (len(fresh)+workers-1)/workers)) {
			wg.Go(func() {
				for _, key := range chunk {
					handle(ctx, key)
				}
			})
		}
		wg.Wait()
		select {
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}
