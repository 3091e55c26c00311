package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// S3Events stands in for S3's EventBridge integration and the template's
// EventBridgeRule events: every object created in the bucket becomes the
// "Object Created" event EventBridge would deliver, matched against each
// rule's pattern and handed to the rule's function, retried as Lambda
// retries asynchronous invocations (twice), then written to the
// on-failure file.
//
// Objects are learnt of in two ways. versitygw POSTs an S3 event
// notification to Webhook for every write, which is quick; but it sends
// without waiting or retrying, and after the PUT has been answered. So
// the bucket is also listed (every few seconds, and whenever WaitIdle
// asks) and any object not yet seen, by key and ETag, is delivered too.
// Every object counts once: a second PUT of identical content is not a
// new event here (unlike S3), which ingestion, idempotent by content, would
// ignore anyway.
type S3Events struct {
	bucket  string
	client  *s3.Client
	rules   []eventRule
	log     *slog.Logger
	retries int
	backoff func(attempt int) time.Duration
	every   time.Duration

	failures *failureLog

	mu      sync.Mutex
	seen    map[string]bool // bucket/key/etag delivered or queued
	queue   []objectEvent
	wake    chan struct{}
	waiting atomic.Int32 // WaitIdle callers: list the bucket in the next round
	idle    idleSignal

	invocations atomic.Int64 // for the stack's WaitIdle
}

type eventRule struct {
	source  infra.EventBridgeSource
	pattern *infra.Pattern
	fn      *Function
}

// objectEvent is what is known of one created object.
type objectEvent struct {
	bucket, key, etag, sequencer, reason, requestID, sourceIP string
	size                                                      int64
	at                                                        time.Time
}

// S3EventsConfig holds what NewS3Events needs besides the rules.
type S3EventsConfig struct {
	Bucket      string
	Client      *s3.Client
	FailureFile string
	Log         *slog.Logger
	// Retries is how often a failed invocation is tried again; -1 means
	// Lambda's default for asynchronous invocations, 2.
	Retries int
	// Backoff is the pause before retry number attempt; nil means 1 s, 2 s.
	Backoff func(attempt int) time.Duration
	// ListEvery is how often the bucket is listed for missed events; 0
	// means 2 s.
	ListEvery time.Duration
}

// NewS3Events prepares the rules: each source's pattern with !Ref values
// resolved by refs (the bucket's logical id → the local bucket name).
// functions without an entry are skipped with a warning.
func NewS3Events(sources []infra.EventBridgeSource, functions map[string]*Function, refs map[string]string, cfg S3EventsConfig) (*S3Events, error) {
	e := &S3Events{
		bucket: cfg.Bucket, client: cfg.Client, log: cfg.Log, retries: cfg.Retries, backoff: cfg.Backoff, every: cfg.ListEvery,
		failures: &failureLog{path: cfg.FailureFile}, seen: map[string]bool{}, wake: make(chan struct{}, 1),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.retries < 0 {
		e.retries = 2
	}
	if e.backoff == nil {
		e.backoff = func(attempt int) time.Duration { return time.Duration(attempt) * time.Second }
	}
	if e.every <= 0 {
		e.every = 2 * time.Second
	}
	for _, src := range sources {
		resolved := infra.ResolveRefs(src.Pattern, refs)
		text, err := json.Marshal(resolved)
		if err != nil {
			return nil, fmt.Errorf("devstack: %s.%s pattern: %w", src.Function, src.Event, err)
		}
		if strings.Contains(string(text), `"Ref"`) || strings.Contains(string(text), `"Fn::`) {
			return nil, fmt.Errorf("devstack: %s.%s pattern %s uses an intrinsic function the local stack cannot resolve", src.Function, src.Event, text)
		}
		p, err := infra.CompilePattern(string(text))
		if err != nil {
			return nil, fmt.Errorf("devstack: %s.%s: %w", src.Function, src.Event, err)
		}
		fn := functions[src.Function]
		if fn == nil {
			e.log.Warn("event source skipped: its function has no handler", "function", src.Function, "event", src.Event)
			continue
		}
		e.rules = append(e.rules, eventRule{source: src, pattern: p, fn: fn})
	}
	e.idle.init()
	return e, nil
}

// Rules names the rules that are served, as "<function>.<event>".
func (e *S3Events) Rules() []string {
	out := make([]string, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.source.Function + "." + r.source.Event
	}
	return out
}

// Webhook receives versitygw's event notifications.
func (e *S3Events) Webhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var n struct {
			Records []struct {
				EventName         string `json:"eventName"`
				EventTime         string `json:"eventTime"`
				RequestParameters struct {
					SourceIPAddress string `json:"sourceIPAddress"`
				} `json:"requestParameters"`
				ResponseElements struct {
					RequestID string `json:"x-amz-request-id"`
				} `json:"responseElements"`
				S3 struct {
					Bucket struct {
						Name string `json:"name"`
					} `json:"bucket"`
					Object struct {
						Key       string  `json:"key"`
						Size      int64   `json:"size"`
						ETag      *string `json:"eTag"`
						Sequencer string  `json:"sequencer"`
					} `json:"object"`
				} `json:"s3"`
			}
		}
		// The test event sent at start-up has no Records; it decodes to none.
		if err := json.Unmarshal(body, &n); err != nil {
			e.log.Warn("S3 event notification is not JSON", "error", err.Error())
			w.WriteHeader(http.StatusNoContent)
			return
		}
		for _, rec := range n.Records {
			kind, ok := strings.CutPrefix(rec.EventName, "s3:ObjectCreated:")
			if !ok {
				continue
			}
			at, err := time.Parse(time.RFC3339, rec.EventTime)
			if err != nil {
				at = time.Now()
			}
			e.enqueue(objectEvent{
				bucket: rec.S3.Bucket.Name, key: rec.S3.Object.Key, size: rec.S3.Object.Size,
				etag: normalizeETag(aws.ToString(rec.S3.Object.ETag)), sequencer: rec.S3.Object.Sequencer,
				reason: createdReason(kind), requestID: rec.ResponseElements.RequestID,
				sourceIP: rec.RequestParameters.SourceIPAddress, at: at.UTC(),
			})
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// createdReason names the API call as EventBridge's "reason" does.
func createdReason(kind string) string {
	switch kind {
	case "Post":
		return "POST Object"
	case "Copy":
		return "CopyObject"
	case "CompleteMultipartUpload":
		return "CompleteMultipartUpload"
	default:
		return "PutObject"
	}
}

func normalizeETag(s string) string { return strings.Trim(s, `"`) }

func (e *S3Events) enqueue(ev objectEvent) {
	id := ev.bucket + "\x00" + ev.key + "\x00" + ev.etag
	e.mu.Lock()
	if e.seen[id] {
		e.mu.Unlock()
		return
	}
	e.seen[id] = true
	e.queue = append(e.queue, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run delivers events until ctx ends.
func (e *S3Events) Run(ctx context.Context) error {
	defer e.idle.stop()
	// Objects written after Run starts are announced by the webhook; the
	// listing is the safety net, due every e.every or when WaitIdle asks.
	lastList := time.Now()
	for {
		busy := false
		if time.Since(lastList) >= e.every || e.waiting.Load() > 0 {
			if err := e.list(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				e.log.Warn("listing the bucket for missed events", "error", err.Error())
			}
			lastList = time.Now()
		}
		for {
			e.mu.Lock()
			if len(e.queue) == 0 {
				e.mu.Unlock()
				break
			}
			ev := e.queue[0]
			e.queue = e.queue[1:]
			e.mu.Unlock()
			busy = true
			e.dispatch(ctx, ev)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if busy {
			continue
		}
		e.idle.mark()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.wake:
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// WaitIdle returns once every object created before the call has been
// delivered (and its function has returned).
func (e *S3Events) WaitIdle(ctx context.Context) error {
	e.waiting.Add(1)
	defer e.waiting.Add(-1)
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return e.idle.wait(ctx)
}

// list finds objects no notification told of.
func (e *S3Events) list(ctx context.Context) error {
	pages := s3.NewListObjectsV2Paginator(e.client, &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			at := aws.ToTime(o.LastModified)
			e.enqueue(objectEvent{
				bucket: e.bucket, key: aws.ToString(o.Key), size: aws.ToInt64(o.Size),
				etag: normalizeETag(aws.ToString(o.ETag)), reason: "PutObject", sourceIP: "127.0.0.1",
				sequencer: fmt.Sprintf("%016X", at.UnixNano()), at: at.UTC(),
			})
		}
	}
	return nil
}

// eventBridgeEvent is the "Object Created" event EventBridge delivers for
// ev.
func eventBridgeEvent(ev objectEvent) events.EventBridgeEvent {
	detail := map[string]any{
		"version": "0",
		"bucket":  map[string]any{"name": ev.bucket},
		"object": map[string]any{
			"key": ev.key, "size": ev.size, "etag": ev.etag, "sequencer": ev.sequencer,
		},
		"request-id":        ev.requestID,
		"requester":         Account,
		"source-ip-address": ev.sourceIP,
		"reason":            ev.reason,
	}
	raw, _ := json.Marshal(detail)
	return events.EventBridgeEvent{
		Version:    "0",
		ID:         newRequestID(),
		DetailType: "Object Created",
		Source:     "aws.s3",
		AccountID:  Account,
		Time:       ev.at,
		Region:     regionName,
		Resources:  []string{"arn:aws:s3:::" + ev.bucket},
		Detail:     raw,
	}
}

func (e *S3Events) dispatch(ctx context.Context, ev objectEvent) {
	event := eventBridgeEvent(ev)
	payload, err := json.Marshal(event)
	if err != nil {
		e.log.Error("encoding the EventBridge event", "error", err.Error())
		return
	}
	view, err := infra.DecodeEvent(payload)
	if err != nil {
		return
	}
	for _, rule := range e.rules {
		if !rule.pattern.Match(view) {
			continue
		}
		e.deliver(ctx, rule, ev, payload)
	}
}

func (e *S3Events) deliver(ctx context.Context, rule eventRule, ev objectEvent, payload []byte) {
	log := e.log.With("function", rule.source.Function, "event", rule.source.Event, "key", ev.key)
	for attempt := 0; ; attempt++ {
		e.invocations.Add(1)
		_, err := rule.fn.Invoke(ctx, payload)
		if err == nil {
			log.Info("delivered")
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= e.retries {
			log.Error("event given up: written to the on-failure file", "error", err.Error(), "file", e.failures.path)
			entry := map[string]any{
				"version":   "1.0",
				"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
				"requestContext": map[string]any{
					"requestId": newRequestID(), "functionArn": rule.fn.ARN(),
					"condition": "RetriesExhausted", "approximateInvokeCount": attempt + 1,
				},
				"requestPayload":  json.RawMessage(payload),
				"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
				"responsePayload": map[string]any{"errorMessage": err.Error()},
			}
			if werr := e.failures.write(entry); werr != nil {
				log.Error("writing the on-failure file", "error", werr.Error())
			}
			return
		}
		log.Warn("invocation failed; retrying", "attempt", attempt+1, "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(e.backoff(attempt + 1)):
		}
	}
}

// Invocations counts the invocations made so far.
func (e *S3Events) Invocations() int64 { return e.invocations.Load() }
