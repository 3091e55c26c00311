package observe_test

// The tracing proof of issue 7: an ingest, run against DynamoDB Local with a
// client instrumented by observe.InstrumentAWS, emits to the X-Ray daemon
// address the subsegments of the domain's steps, the DynamoDB calls and the
// tenant and customer annotations. The "daemon" is a UDP socket on loopback
// that this test reads, so what is asserted is exactly what would leave the
// function.
//
// This file is an external test package because pkg/ingest imports
// pkg/observe; its TestMain starts DynamoDB Local for the whole test binary
// of pkg/observe.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/v2/xray"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// tracedSnapshot is a small valid native snapshot: two users, one
// subscription, so the ingest writes users (BatchWriteItem) and commits
// (TransactWriteItems).
const tracedSnapshot = `{
  "schema": "license-snapshot/v1",
  "customer": {"id": "contoso", "name": "Contoso Ltd"},
  "reportDate": "2026-11-20",
  "subscriptions": [{"id": "s1", "sku": "SPE_E3", "quantity": 5, "status": "active"}],
  "users": [
    {"key": "ann@contoso.com", "licenses": [{"sku": "SPE_E3"}],
     "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-19"}}},
    {"key": "ben@contoso.com", "licenses": [{"sku": "SPE_E3"}]}
  ]
}`

// TestIngestEmitsStepAndDynamoDBSubsegments runs one ingest in each of the
// two shapes a trace takes: under a segment of our own (the local stack,
// observe.BeginSegment), where the SDK sends the whole tree when the segment
// closes, and in Lambda, where the function's segment belongs to Lambda, the
// context carries only its trace header, and each top-level subsegment is
// sent on its own as it closes.
func TestIngestEmitsStepAndDynamoDBSubsegments(t *testing.T) {
	for _, shape := range []struct {
		name string
		// begin starts the trace; end finishes it so that the last
		// document the daemon receives is the one last reports.
		begin func(ctx context.Context) (_ context.Context, end func(error), traceID, rootID string)
		last  func(n *node, rootID string) bool
	}{
		{
			name: "own segment",
			begin: func(ctx context.Context) (context.Context, func(error), string, string) {
				ctx, end := observe.BeginSegment(ctx, "ingest")
				root := xray.GetSegment(ctx)
				return ctx, end, root.TraceID, root.ID
			},
			// The segment is sent when it closes, after everything in it.
			last: func(n *node, rootID string) bool { return n.ID == rootID && n.Type == "" },
		},
		{
			name: "Lambda",
			begin: func(ctx context.Context) (context.Context, func(error), string, string) {
				traceID, parentID := xray.NewTraceID(), xray.NewSegmentID()
				// What aws-lambda-go puts in the invocation's context, with
				// the key it uses (a plain string, hence the lint exemption).
				//lint:ignore SA1029 the key is aws-lambda-go's, which the X-Ray SDK reads
				ctx = context.WithValue(ctx, xray.LambdaTraceHeaderKey,
					"Root="+traceID+";Parent="+parentID+";Sampled=1")
				end := func(error) {
					// Lambda's segment is never ours to send; a last
					// subsegment of our own marks the end of the trace.
					_, marker := xray.BeginSubsegment(ctx, endMarker)
					marker.Close(nil)
				}
				return ctx, end, traceID, parentID
			},
			last: func(n *node, _ string) bool { return n.Name == endMarker },
		},
	} {
		t.Run(shape.name, func(t *testing.T) {
			daemon := startDaemon(t)

			// The trace's configuration travels in the context rather
			// than through xray.Configure, so this test changes no
			// process-wide state. Every subsegment, the DynamoDB ones
			// included, uses its root segment's configuration, hence this
			// emitter and this sampling strategy.
			emitter, err := xray.NewDefaultEmitter(daemon.addr)
			if err != nil {
				t.Fatal(err)
			}
			ctx, err := xray.ContextWithConfig(t.Context(), xray.Config{
				DaemonAddr:       daemon.addr.String(),
				Emitter:          emitter,
				SamplingStrategy: alwaysSample{},
			})
			if err != nil {
				t.Fatalf("configuring X-Ray: %v", err)
			}

			_, table := devstacktest.Table(t)
			cfg := aws.Config{
				Region:       infra.Region,
				Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
				BaseEndpoint: aws.String(devstacktest.DynamoDBEndpoint()),
			}
			observe.InstrumentAWS(&cfg)
			svc := ingest.New(store.New(dynamodb.NewFromConfig(cfg), table), ingest.Config{})
			tenant, err := license.NewTenant("tenant-traced")
			if err != nil {
				t.Fatal(err)
			}

			ctx, end, traceID, rootID := shape.begin(ctx)
			out, err := svc.Ingest(ctx, ingest.Request{
				Tenant: tenant, CustomerID: "contoso", Kind: source.KindSnapshot, Body: strings.NewReader(tracedSnapshot),
			})
			end(err)
			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if out.Status != ingest.StatusAccepted || out.Users != 2 {
				t.Fatalf("ingest outcome %+v, want accepted with 2 users", out)
			}

			trace := daemon.trace(t, traceID, rootID, shape.last)
			t.Logf("trace received:\n%s", trace)
			assertIngestTrace(t, trace)
		})
	}
}

// endMarker names the subsegment that ends a Lambda-shaped trace.
const endMarker = "end-of-test"

// assertIngestTrace checks what an accepted first ingest of a customer must
// show in X-Ray.
func assertIngestTrace(t *testing.T, trace *tree) {
	t.Helper()
	// The domain's steps, each once (one attempt, no conflict), directly
	// under the function's segment.
	steps := map[string]*node{}
	for _, name := range []string{observe.StepParse, observe.StepCompute, observe.StepWrite} {
		found := trace.named(name)
		if len(found) != 1 {
			t.Fatalf("want one %q subsegment, got %d; trace:\n%s", name, len(found), trace)
		}
		if found[0].parent != trace.root {
			t.Errorf("%q is under %q, want under the function's segment", name, found[0].parent.Name)
		}
		if found[0].Fault || found[0].Error {
			t.Errorf("%q is marked failed: %s", name, found[0].raw)
		}
		steps[name] = found[0]
	}

	// Tenant and customer annotations, by which traces are searched.
	for key, want := range map[string]string{"tenant": "tenant-traced", "customer": "contoso"} {
		if got := trace.annotation(key); !slices.Contains(got, want) {
			t.Errorf("annotation %s = %q, want %q; trace:\n%s", key, got, want, trace)
		}
	}

	// Every DynamoDB call is an aws-namespace subsegment naming its
	// operation and region, with the response's status.
	var ops, writeOps []string
	for _, n := range trace.named("DynamoDB") {
		op, _ := n.AWS["operation"].(string)
		if n.Namespace != "aws" || op == "" || n.AWS["region"] != infra.Region {
			t.Errorf("DynamoDB subsegment without namespace aws, operation and region: %s", n.raw)
		}
		if n.HTTP.Response.Status != 200 {
			t.Errorf("%s: response status %d, want 200", op, n.HTTP.Response.Status)
		}
		ops = append(ops, op)
		if n.under(steps[observe.StepWrite]) {
			writeOps = append(writeOps, op)
		}
	}
	// Reading the state (LoadState: GetItem of FIGURES, Query of SOURCE#)
	// and taking a generation (UpdateItem) precede the write step; the
	// users (BatchWriteItem) and the commit (TransactWriteItems) are in it.
	for _, op := range []string{"GetItem", "Query", "UpdateItem", "BatchWriteItem", "TransactWriteItems"} {
		if !slices.Contains(ops, op) {
			t.Errorf("no DynamoDB %s subsegment; operations traced: %v", op, ops)
		}
	}
	for _, op := range []string{"BatchWriteItem", "TransactWriteItems"} {
		if !slices.Contains(writeOps, op) {
			t.Errorf("DynamoDB %s is not under the write step; operations under it: %v", op, writeOps)
		}
	}
	// Parse and compute touch no storage.
	for _, name := range []string{observe.StepParse, observe.StepCompute} {
		if len(steps[name].children) != 0 {
			t.Errorf("%q has subsegments %v; it should do no I/O", name, steps[name].childNames())
		}
	}
}

// alwaysSample samples every trace, so the test cannot depend on the
// default reservoir (one a second) or on a sampling daemon.
type alwaysSample struct{}

func (alwaysSample) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: true}
}

// daemon stands in for the X-Ray daemon: it keeps every datagram it
// receives on a loopback UDP port.
type daemon struct {
	addr      *net.UDPAddr
	datagrams chan []byte
}

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	// A whole segment can be several kilobytes; leave room for a burst of
	// them so none is dropped before the reader takes it.
	_ = conn.SetReadBuffer(4 << 20)
	d := &daemon{addr: conn.LocalAddr().(*net.UDPAddr), datagrams: make(chan []byte, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10) // the largest UDP payload
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return // closed at clean-up
			}
			d.datagrams <- bytes.Clone(buf[:n])
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return d
}

// header starts every datagram the SDK sends to the daemon.
var header = []byte(`{"format":"json","version":1}`)

// trace reads datagrams until last reports the final document of the
// trace traceID, and rebuilds the tree under rootID: the segment itself
// when it was sent, else (Lambda's segment is not the SDK's to send) a
// stand-in for it. Top-level subsegments sent on their own name their
// parent; nested ones are inside their parent's document.
func (d *daemon) trace(t *testing.T, traceID, rootID string, last func(n *node, rootID string) bool) *tree {
	t.Helper()
	tr := &tree{byID: map[string]*node{}}
	var streamed []*node
	// A safety net only: on loopback a document arrives within
	// milliseconds of being sent.
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		var datagram []byte
		select {
		case datagram = <-d.datagrams:
		case <-deadline:
			t.Fatalf("the end of trace %s never reached the daemon; documents received: %d", traceID, len(tr.byID))
		}
		head, body, ok := bytes.Cut(datagram, []byte("\n"))
		if !ok {
			t.Fatalf("datagram without a header line: %q", datagram)
		}
		var h, want any
		if err := json.Unmarshal(head, &h); err != nil {
			t.Fatalf("datagram header %q: %v", head, err)
		}
		_ = json.Unmarshal(header, &want)
		if fmt.Sprint(h) != fmt.Sprint(want) {
			t.Fatalf("datagram header %s, want %s", head, header)
		}
		n, err := decode(body)
		if err != nil {
			t.Fatalf("datagram body: %v\n%s", err, body)
		}
		if n.TraceID != traceID {
			continue // not this test's trace
		}
		if _, seen := tr.byID[n.ID]; seen {
			// The SDK may send a segment twice when closing it races
			// with the end of its context; X-Ray keeps one.
			continue
		}
		tr.index(n)
		switch {
		case n.Type == "" && n.ID == rootID:
			tr.root = n
		case n.Type == "subsegment":
			streamed = append(streamed, n)
		default:
			t.Fatalf("unexpected document: %s", body)
		}
		done = last(n, rootID)
	}
	if tr.root == nil {
		if _, sent := tr.byID[rootID]; sent {
			t.Fatalf("segment %s was sent as a subsegment", rootID)
		}
		tr.root = &node{ID: rootID, Name: "(function segment)"}
		tr.byID[rootID] = tr.root
	}
	for _, n := range streamed {
		p, ok := tr.byID[n.ParentID]
		if !ok {
			t.Fatalf("subsegment %q has unknown parent %s", n.Name, n.ParentID)
		}
		n.parent = p
		p.children = append(p.children, n)
	}
	return tr
}

// node is one segment or subsegment as sent to the daemon.
type node struct {
	TraceID     string         `json:"trace_id"`
	ID          string         `json:"id"`
	ParentID    string         `json:"parent_id"`
	Type        string         `json:"type"`
	Name        string         `json:"name"`
	Namespace   string         `json:"namespace"`
	InProgress  bool           `json:"in_progress"`
	Fault       bool           `json:"fault"`
	Error       bool           `json:"error"`
	AWS         map[string]any `json:"aws"`
	Annotations map[string]any `json:"annotations"`
	HTTP        struct {
		Response struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"http"`
	Subsegments []json.RawMessage `json:"subsegments"`

	raw      json.RawMessage
	parent   *node
	children []*node
}

func (n *node) under(ancestor *node) bool {
	for p := n.parent; p != nil; p = p.parent {
		if p == ancestor {
			return true
		}
	}
	return false
}

func (n *node) childNames() []string {
	var names []string
	for _, c := range n.children {
		names = append(names, c.Name)
	}
	return names
}

type tree struct {
	root *node
	byID map[string]*node
}

// decode decodes one document and, recursively, its nested subsegments.
func decode(raw json.RawMessage) (*node, error) {
	n := &node{raw: raw}
	if err := json.Unmarshal(raw, n); err != nil {
		return nil, err
	}
	if n.ID == "" || n.Name == "" {
		return nil, errors.New("a (sub)segment without id or name")
	}
	if n.InProgress {
		return nil, fmt.Errorf("%q was sent still in progress", n.Name)
	}
	for _, sub := range n.Subsegments {
		c, err := decode(sub)
		if err != nil {
			return nil, err
		}
		c.parent = n
		n.children = append(n.children, c)
	}
	return n, nil
}

// index records n and its nested subsegments by id.
func (tr *tree) index(n *node) {
	tr.byID[n.ID] = n
	for _, c := range n.children {
		tr.index(c)
	}
}

// named is every node of the root's tree called name.
func (tr *tree) named(name string) []*node {
	var found []*node
	tr.walk(func(n *node) {
		if n.Name == name {
			found = append(found, n)
		}
	})
	return found
}

// annotation is every value the tree gives the annotation key.
func (tr *tree) annotation(key string) []string {
	var values []string
	tr.walk(func(n *node) {
		if v, ok := n.Annotations[key]; ok {
			values = append(values, fmt.Sprint(v))
		}
	})
	return values
}

func (tr *tree) walk(fn func(*node)) {
	var visit func(*node)
	visit = func(n *node) {
		fn(n)
		for _, c := range n.children {
			visit(c)
		}
	}
	visit(tr.root)
}

// String draws the tree, for failure messages.
func (tr *tree) String() string {
	var b strings.Builder
	var visit func(*node, int)
	visit = func(n *node, depth int) {
		fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", depth), n.Name)
		if op, ok := n.AWS["operation"]; ok {
			fmt.Fprintf(&b, " (%v)", op)
		}
		if len(n.Annotations) > 0 {
			fmt.Fprintf(&b, " %v", n.Annotations)
		}
		b.WriteByte('\n')
		for _, c := range n.children {
			visit(c, depth+1)
		}
	}
	visit(tr.root, 0)
	return b.String()
}
