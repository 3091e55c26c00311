package observe

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
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
	// The SDK reads AWS_XRAY_CONTEXT_MISSING when its own package starts,
	// before this one, so the strategy is set through its configuration.
	if os.Getenv("AWS_XRAY_CONTEXT_MISSING") == "" {
		_ = xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()})
	}
}

// InstrumentAWS traces every call made by clients built from cfg.
func InstrumentAWS(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

// Step runs fn inside an X-Ray subsegment named name, carrying the
// context's annotations (see Annotate).
func Step(ctx context.Context, name string, fn func(context.Context) error) error {
	return xray.Capture(ctx, name, func(ctx context.Context) error {
		if seg := xray.GetSegment(ctx); seg != nil {
			for _, a := range annotations(ctx) {
				_ = seg.AddAnnotation(a[0], a[1])
			}
		}
		return fn(ctx)
	})
}

type annotationsKey struct{}

func annotations(ctx context.Context) [][2]string {
	a, _ := ctx.Value(annotationsKey{}).([][2]string)
	return a
}

// Annotate records indexed annotations (tenant, customer, kind) so traces
// can be searched by them. They go on the current segment when the code owns
// one, and on every subsegment Step opens — in Lambda the function's segment
// is a facade that takes no annotations, so the steps must carry them.
func Annotate(ctx context.Context, kv ...string) context.Context {
	prev := annotations(ctx)
	all := make([][2]string, len(prev), len(prev)+len(kv)/2)
	copy(all, prev)
	seg := xray.GetSegment(ctx)
	for i := 0; i+1 < len(kv); i += 2 {
		all = append(all, [2]string{kv[i], kv[i+1]})
		if seg != nil && !seg.Facade {
			_ = seg.AddAnnotation(kv[i], kv[i+1])
		}
	}
	return context.WithValue(ctx, annotationsKey{}, all)
}

// BeginSegment starts a root segment where Lambda does not provide one (the
// local stack); the returned function closes it.
func BeginSegment(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, seg := xray.BeginSegment(ctx, name)
	return ctx, seg.Close
}
