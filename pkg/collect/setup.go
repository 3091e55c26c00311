package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/licenseinsights/licenseinsights/pkg/observe"
)

// Settings are the connection's environment (template.yaml sets them in
// AWS; the local stack sets them for its emulator or passes yours).
type Settings struct {
	Endpoints       Endpoints
	ClientID        string // MS_CLIENT_ID
	ClientSecret    string // MS_CLIENT_SECRET (locally)
	SecretARN       string // MS_CLIENT_SECRET_ID (AWS: the Secrets Manager secret's name or ARN)
	PartnerTenantID string // PARTNER_TENANT_ID
	QueueURL        string // COLLECT_QUEUE_URL ("" locally: the in-process queue)
	Tenant          string // COLLECT_TENANT: the License Insights tenant a scheduled run collects for
	Concurrency     int    // COLLECT_CONCURRENCY
}

// SettingsFromEnv reads Settings (getenv is os.Getenv).
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	e, err := EndpointsFromEnv(getenv)
	s := Settings{
		Endpoints: e, ClientID: getenv("MS_CLIENT_ID"), ClientSecret: getenv("MS_CLIENT_SECRET"),
		SecretARN: getenv("MS_CLIENT_SECRET_ID"), PartnerTenantID: strings.ToLower(getenv("PARTNER_TENANT_ID")),
		QueueURL: getenv("COLLECT_QUEUE_URL"), Tenant: getenv("COLLECT_TENANT"), Concurrency: 4,
	}
	if v := getenv("COLLECT_CONCURRENCY"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return s, fmt.Errorf("COLLECT_CONCURRENCY=%q: want a whole number of at least 1", v)
		}
		s.Concurrency = n
	}
	return s, err
}

// ErrNotConfigured: the connection to Microsoft has no app yet.
var ErrNotConfigured = errors.New("the Microsoft connection is not configured: set MS_CLIENT_ID and the client secret (MS_CLIENT_SECRET_ID in AWS, MS_CLIENT_SECRET locally), see the README's \"Connecting to Microsoft\"")

// Lazy builds the Microsoft client on first use: the secret is read once
// per container, and a function without a configured connection still
// starts (its routes say what is missing).
type Lazy struct {
	Settings Settings
	once     sync.Once
	client   *Client
	err      error
}

func (l *Lazy) get(ctx context.Context) (*Client, error) {
	l.once.Do(func() { l.client, l.err = l.build(ctx) })
	return l.client, l.err
}

func (l *Lazy) build(ctx context.Context) (*Client, error) {
	s := l.Settings
	if s.ClientID == "" || (s.ClientSecret == "" && s.SecretARN == "") {
		return nil, ErrNotConfigured
	}
	secret := s.ClientSecret
	if secret == "" {
		v, err := readSecret(ctx, s.SecretARN)
		if err != nil {
			return nil, err
		}
		secret = v
	}
	tokens, err := NewTokens(s.Endpoints.Login, s.ClientID, secret, nil)
	if err != nil {
		return nil, err
	}
	return New(Config{Endpoints: s.Endpoints, Tokens: tokens, PartnerTenantID: s.PartnerTenantID})
}

// readSecret reads the client secret from Secrets Manager: the secret
// string itself, or a JSON object with a "clientSecret" member.
func readSecret(ctx context.Context, arn string) (string, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return "", err
	}
	observe.InstrumentAWS(&cfg)
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return "", fmt.Errorf("reading the client secret %s: %w", arn, err)
	}
	v := strings.TrimSpace(aws.ToString(out.SecretString))
	var doc struct {
		ClientSecret string `json:"clientSecret"`
	}
	if strings.HasPrefix(v, "{") && json.Unmarshal([]byte(v), &doc) == nil && doc.ClientSecret != "" {
		v = doc.ClientSecret
	}
	if v == "" {
		return "", fmt.Errorf("the secret %s is empty: put the client secret's value in it", arn)
	}
	return v, nil
}

// Collect implements Source.
func (l *Lazy) Collect(ctx context.Context, tenantID string) (*Customer, error) {
	c, err := l.get(ctx)
	if err != nil {
		return nil, &Error{Code: CodeForbidden, Message: err.Error(), Err: err}
	}
	return c.Collect(ctx, tenantID)
}

// ListCustomers implements Source.
func (l *Lazy) ListCustomers(ctx context.Context) ([]CustomerRef, error) {
	c, err := l.get(ctx)
	if err != nil {
		return nil, &Error{Code: CodeForbidden, Message: err.Error(), Err: err}
	}
	return c.ListCustomers(ctx)
}

// SQSQueue sends a run's messages to the collector's queue.
type SQSQueue struct {
	Client *sqs.Client
	URL    string
}

// NewSQSQueue is the queue at url through the default credential chain.
func NewSQSQueue(ctx context.Context, url string) (*SQSQueue, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	observe.InstrumentAWS(&cfg)
	return &SQSQueue{Client: sqs.NewFromConfig(cfg), URL: url}, nil
}

// Send sends up to 10 messages in one batch; a message SQS refused is an
// error (the run is then marked failed and can be started again).
func (q *SQSQueue) Send(ctx context.Context, msgs []Message) error {
	entries := make([]sqstypes.SendMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(b))}
	}
	out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.URL, Entries: entries})
	if err != nil {
		return err
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("%d of %d messages refused by SQS: %s", len(out.Failed), len(msgs), aws.ToString(out.Failed[0].Message))
	}
	return nil
}

// LocalQueue stands in for SQS and the event source mapping locally: each
// message is handed to handle on one of `workers` goroutines (the
// MaximumConcurrency of the template's event source), and a failed
// delivery is retried up to maxReceives times, then logged as
// dead-lettered, as the template's redrive policy would.
type LocalQueue struct {
	ch     chan Message
	handle func(context.Context, Message) error
	wg     sync.WaitGroup
}

const localMaxReceives = 3

// NewLocalQueue starts workers that run until ctx ends.
func NewLocalQueue(ctx context.Context, workers int, handle func(context.Context, Message) error) *LocalQueue {
	q := &LocalQueue{ch: make(chan Message, 1<<16), handle: handle}
	for range max(workers, 1) {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-q.ch:
					q.deliver(ctx, m)
				}
			}
		}()
	}
	return q
}

func (q *LocalQueue) deliver(ctx context.Context, m Message) {
	defer q.wg.Done()
	for attempt := 1; ; attempt++ {
		err := q.handle(ctx, m)
		if err == nil {
			return
		}
		if attempt >= localMaxReceives || ctx.Err() != nil {
			slog.ErrorContext(ctx, "collect message dead-lettered", "customer", m.CustomerID, "collection", m.CollectionID, "error", err.Error())
			return
		}
	}
}

// Send queues msgs.
func (q *LocalQueue) Send(_ context.Context, msgs []Message) error {
	for _, m := range msgs {
		q.wg.Add(1)
		select {
		case q.ch <- m:
		default:
			q.wg.Done()
			return errors.New("the local queue is full")
		}
	}
	return nil
}

// Wait returns when every message sent so far has been handled.
func (q *LocalQueue) Wait() { q.wg.Wait() }
