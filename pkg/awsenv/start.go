package awsenv

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
)

// NewFunc builds a function's Lambda handler from its clients and settings.
type NewFunc func(env *Env, cfg config.Config) (lambda.Handler, error)

// Start is every function's main: logging, clients, configuration, then the
// Lambda runtime loop. A function that cannot start logs why and exits, so
// the failure shows in its first log line rather than on the first request.
func Start(function string, newHandler NewFunc) {
	observe.Setup(function, nil)
	fail := func(stage string, err error) {
		slog.Error("start-up failed", "stage", stage, "error", err.Error())
		os.Exit(1)
	}
	limit, set, err := memoryLimit(os.Getenv)
	if err != nil {
		fail("memory limit", err)
	}
	if set {
		debug.SetMemoryLimit(limit)
	}
	env, err := Load(context.Background())
	if err != nil {
		fail("aws", err)
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fail("configuration", err)
	}
	h, err := newHandler(env, cfg)
	if err != nil {
		fail("handler", err)
	}
	lambda.Start(h)
}
