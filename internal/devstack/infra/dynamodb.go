package infra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// Region is the AWS region every local client is configured with.
const Region = "us-east-1"

// DynamoDBOptions tune StartDynamoDB; the zero value is what tests want.
type DynamoDBOptions struct {
	// Port to listen on; 0 picks a free one. DynamoDB Local cannot be told
	// which interface to listen on and binds all of them.
	Port int
	// Log receives the server's output; nil discards it (the last lines
	// still appear in start-up errors).
	Log io.Writer
	// Tools overrides where DynamoDB Local is found; nil means FindTools.
	Tools *Tools
	// Dir is DynamoDB Local's working directory, where it writes
	// dynamodb-local-metadata.json even in memory. Empty means a fresh
	// temporary directory that Stop removes.
	Dir string
	// JavaOptions go to the JVM before -jar. nil means QuickStartJavaOptions;
	// an empty, non-nil slice runs the JVM's defaults (full JIT), which a
	// long benchmark may prefer.
	JavaOptions []string
}

// QuickStartJavaOptions make DynamoDB Local answer in a third of the time
// on a busy two-core machine (measured: about 3-4 s instead of 8-13 s): the
// client compiler alone warms up far sooner, and one serial collector
// leaves the cores to the tests. Steady-state throughput is somewhat lower.
var QuickStartJavaOptions = []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"}

// DynamoDB is a running DynamoDB Local, in memory, with one database shared
// by every access key and region (-sharedDb), so clients with any static
// credentials (the handlers' environment, the tests, the CLI) see the same
// tables.
type DynamoDB struct {
	Endpoint string // http://127.0.0.1:<port>
	Port     int
	proc     *process
	tempDir  string // removed by Stop; empty when the caller chose the directory
}

// startAttempts bounds retries when another process takes the free port
// between our check and the server's bind.
const startAttempts = 3

// startTimeout is generous: the JVM starts in a few seconds on an idle
// machine, but tests start several servers at once on two cores.
const startTimeout = 60 * time.Second

// StartDynamoDB starts DynamoDB Local and returns once it answers requests.
// ctx bounds the server's life: cancelling it stops the server, as Stop does.
func StartDynamoDB(ctx context.Context, opts DynamoDBOptions) (*DynamoDB, error) {
	tools := opts.Tools
	if tools == nil {
		var err error
		if tools, err = FindTools(); err != nil {
			return nil, err
		}
	}
	jar, libDir, err := tools.DynamoDBLocal()
	if err != nil {
		return nil, err
	}
	java, err := Java()
	if err != nil {
		return nil, err
	}
	javaOptions := opts.JavaOptions
	if javaOptions == nil {
		javaOptions = QuickStartJavaOptions
	}
	attempts := startAttempts
	if opts.Port != 0 {
		attempts = 1 // a chosen port that is taken will stay taken
	}
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		args := slices.Concat(javaOptions,
			[]string{"-Djava.library.path=" + libDir, "-jar", jar,
				"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port)})
		// DynamoDB Local writes dynamodb-local-metadata.json into its working
		// directory even in memory; give it one of its own rather than the
		// caller's package directory.
		workDir, tempDir := opts.Dir, ""
		if workDir == "" {
			if tempDir, err = os.MkdirTemp("", "dynamodb-local-"); err != nil {
				return nil, fmt.Errorf("devstack: DynamoDB Local working directory: %w", err)
			}
			workDir = tempDir
		}
		env := append(os.Environ(), "DDB_LOCAL_TELEMETRY=0")
		proc, err := startProcess(ctx, "DynamoDB Local", opts.Log, workDir, env, java, args...)
		if err != nil {
			if tempDir != "" {
				_ = os.RemoveAll(tempDir)
			}
			return nil, err
		}
		d := &DynamoDB{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Port: port, proc: proc, tempDir: tempDir}
		err = proc.waitReady(ctx, startTimeout, d.ping)
		if err == nil {
			return d, nil
		}
		_ = d.Stop()
		var early *exitedEarlyError
		if attempt < attempts && errors.As(err, &early) && early.portTaken() {
			continue
		}
		return nil, fmt.Errorf("devstack: starting DynamoDB Local on port %d: %w", port, err)
	}
}

func (d *DynamoDB) ping(ctx context.Context) error {
	_, err := d.Client().ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)},
		func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	return err
}

// Client returns a DynamoDB client for this server.
func (d *DynamoDB) Client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		Credentials:  localCredentials,
		BaseEndpoint: aws.String(d.Endpoint),
	})
}

// StreamsClient returns a DynamoDB Streams client for this server (DynamoDB
// Local serves both APIs on one port).
func (d *DynamoDB) StreamsClient() *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region:       Region,
		Credentials:  localCredentials,
		BaseEndpoint: aws.String(d.Endpoint),
	})
}

// Stop stops the server and waits until it has exited. Its data is gone.
func (d *DynamoDB) Stop() error {
	err := d.proc.Stop()
	if d.tempDir != "" {
		_ = os.RemoveAll(d.tempDir)
	}
	return err
}

// localCredentials are what DynamoDB Local wants: any static pair. With
// -sharedDb their value does not pick a database.
var localCredentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("local", "local", ""))
