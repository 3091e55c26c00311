// Package observe is the one place that knows how License Insights is
// observed: JSON logs through log/slog, CloudWatch Embedded Metric Format
// lines for business counters, and AWS X-Ray tracing. Handlers and services
// call the small API here, so that moving to OpenTelemetry later touches this
// package only.
package observe

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
)

type ctxKey int

const (
	attrsKey ctxKey = iota
)

// Setup makes the default slog logger write JSON to w (stdout in Lambda,
// where every line reaches CloudWatch Logs), tagging every line with the
// function name and whatever request attributes the context carries.
func Setup(function string, w io.Writer) {
	if w == nil {
		w = os.Stdout
	}
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "DEBUG" {
		level = slog.LevelDebug
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	slog.SetDefault(slog.New(contextHandler{h.WithAttrs([]slog.Attr{slog.String("function", function)})}))
	functionName.Store(&function)
}

// functionName is set once by Setup and read by every metric line.
var functionName atomic.Pointer[string]

func function() string {
	if p := functionName.Load(); p != nil {
		return *p
	}
	return ""
}

// WithAttrs returns a context whose log lines carry attrs (request id,
// tenant, customer). Never put personal data (user keys or names) here.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(attrsKey).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(append(all, prev...), attrs...)
	return context.WithValue(ctx, attrsKey, all)
}

// contextHandler adds the context's request attributes to every record, so
// that a handler cannot forget them.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(attrsKey).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
