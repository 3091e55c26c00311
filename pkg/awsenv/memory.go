package awsenv

import (
	"fmt"
	"strconv"
)

// memoryShare is the part of the function's memory the Go heap may use
// before the collector works harder to stay under it; the rest is for the
// runtime's own structures, goroutine stacks and the binary.
const memoryShare = 0.9

// memoryLimit is the soft memory limit for the Go runtime in a function of
// the configured size. Go does not know Lambda's limit: with the default
// pacing a heap may grow to twice what is live before a collection, so a
// 1M-user ingest holding ~600 MiB would be killed at 1,024 MB where a
// collection would have kept it alive. A GOMEMLIMIT set on the function
// wins (the runtime has already applied it); no size (not in Lambda) means
// no limit.
func memoryLimit(getenv func(string) string) (int64, bool, error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false, nil
	}
	size := getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
	if size == "" {
		return 0, false, nil
	}
	mb, err := strconv.Atoi(size)
	if err != nil || mb <= 0 {
		return 0, false, fmt.Errorf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is %q, not a number of megabytes", size)
	}
	return int64(float64(mb) * memoryShare * (1 << 20)), true, nil
}
