package observe

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
)

// Trace steps of the domain, as X-Ray subsegment names.
const (
	StepParse   = "parse"
	StepCompute = "compute"
	StepWrite   = "write"
	StepRead    = "read"
	StepExport  = "export"
	StepRollup  = "rollup"
)

func init() {
	// Outside Lambda (the local stack, tests) there is no facade segment;
	// a missing segment must cost nothing, not log an error per AWS call.
	if os.Getenv("AWS_XRAY_CONTEXT_MISSING") == "" {
		os.Setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")
	}
}

// InstrumentAWS traces every call made by clients built from cfg.
func InstrumentAWS(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

// Step runs fn inside an X-Ray subsegment named name.
func Step(ctx context.Context, name string, fn func(context.Context) error) error {
	return xray.Capture(ctx, name, fn)
}

// Annotate adds indexed annotations (tenant, customer, kind) to the current
// segment, so traces can be searched by them. Absent a segment it does nothing.
func Annotate(ctx context.Context, kv ...string) {
	seg := xray.GetSegment(ctx)
	if seg == nil {
		return
	}
	for i := 0; i+1 < len(kv); i += 2 {
		_ = seg.AddAnnotation(kv[i], kv[i+1])
	}
}

// BeginSegment starts a root segment where Lambda does not provide one (the
// local stack); the returned function closes it.
func BeginSegment(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, seg := xray.BeginSegment(ctx, name)
	return ctx, seg.Close
}
