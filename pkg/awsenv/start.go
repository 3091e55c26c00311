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

// NewFunc builds a function's Lambda handler from its clients and settings
// (the constructors of pkg/app).
type NewFunc func(env *Env, cfg config.Config) (lambda.Handler, error)

// Start is the main of a function that works on the table and the bucket:
// logging, clients, configuration, then the Lambda runtime loop. A function
// that cannot start logs why and exits, so the failure shows in its first
// log line rather than on the first request.
func Start(function string, newHandler NewFunc) {
	start(function, func(cfg config.Config) (lambda.Handler, error) {
		env, err := Load(context.Background())
		if err != nil {
			fail("aws", err)
		}
		return newHandler(env, cfg)
	})
}

// StartWithoutAWS is Start for a function that needs no AWS client (the
// authorizer): it builds none.
func StartWithoutAWS(function string, newHandler func(cfg config.Config) (lambda.Handler, error)) {
	start(function, newHandler)
}

func start(function string, newHandler func(cfg config.Config) (lambda.Handler, error)) {
	observe.Setup(function, nil)
	limit, set, err := memoryLimit(os.Getenv)
	if err != nil {
		fail("memory limit", err)
	}
	if set {
		debug.SetMemoryLimit(limit)
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fail("configuration", err)
	}
	h, err := newHandler(cfg)
	if err != nil {
		fail("handler", err)
	}
	lambda.Start(h)
}

func fail(stage string, err error) {
	slog.Error("start-up failed", "stage", stage, "error", err.Error())
	os.Exit(1)
}
