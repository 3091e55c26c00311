package infra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// S3Options tune StartS3With; StartS3 is StartS3With{Dir: dir}.
type S3Options struct {
	// Dir is the posix directory served as S3 (created if missing).
	Dir string
	// EventWebhookURL, when set, makes versitygw POST every bucket event
	// to it as an S3 event notification ({"Records": [...]}, the shape S3
	// sends to SNS/SQS/Lambda), one request per event, without waiting for
	// the answer and without retrying. versitygw POSTs a test event while
	// starting and refuses to start when nothing listens at the URL, so
	// the receiver must be up first.
	EventWebhookURL string
	// Log receives the server's output; nil discards it.
	Log io.Writer
}

// StartS3With starts versitygw as StartS3 does, with options.
func StartS3With(ctx context.Context, opts S3Options) (*S3, error) {
	tools, err := FindTools()
	if err != nil {
		return nil, err
	}
	bin, err := tools.Binary("versitygw")
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("devstack: S3 directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("devstack: S3 directory: %w", err)
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &S3{
			Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
			AccessKey: "LI" + strings.ToUpper(randomHex(9)), // 20 characters, like an AWS key id
			SecretKey: randomHex(20),
			Region:    Region,
			Dir:       dir,
		}
		args := []string{"--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region,
			"--port", "127.0.0.1:" + strconv.Itoa(port), "--quiet"}
		if opts.EventWebhookURL != "" {
			args = append(args, "--event-webhook-url", opts.EventWebhookURL)
		}
		args = append(args, "posix", dir)
		s.proc, err = startProcess(ctx, "versitygw", opts.Log, "", versitygwEnv(), bin, args...)
		if err != nil {
			return nil, err
		}
		err = s.proc.waitReady(ctx, startTimeout, s.ping)
		if err == nil {
			return s, nil
		}
		_ = s.proc.Stop()
		var early *exitedEarlyError
		if attempt < startAttempts && errors.As(err, &early) && early.portTaken() {
			continue
		}
		return nil, fmt.Errorf("devstack: starting versitygw on port %d over %s: %w", port, dir, err)
	}
}
