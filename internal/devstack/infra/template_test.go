package infra

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The project's own template: the reader is tested against the file the
// local stack actually follows.
const projectTemplate = "../../../template.yaml"

func loadProjectTemplate(t *testing.T) *Template {
	t.Helper()
	tmpl, err := LoadTemplate(projectTemplate)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestRoutesFromTemplate(t *testing.T) {
	tmpl := loadProjectTemplate(t)
	routes := tmpl.Routes()

	want := []Route{
		{Function: "IngestFunction", Event: "PostReport", Method: "POST", Path: "/v1/customers/{customerId}/reports"},
		{Function: "IngestFunction", Event: "DeleteCustomer", Method: "DELETE", Path: "/v1/customers/{customerId}"},
		{Function: "InsightsFunction", Event: "GetInsights", Method: "GET", Path: "/v1/customers/{customerId}/insights"},
		{Function: "PortfolioFunction", Event: "GetPortfolio", Method: "GET", Path: "/v1/portfolio"},
		{Function: "ExportFunction", Event: "NewExportLink", Method: "POST", Path: "/v1/exports/{exportId}/link"},
	}
	for _, w := range want {
		if !slices.Contains(routes, w) {
			t.Errorf("Routes() lacks %+v", w)
		}
	}
	// Ingest 6 (with the prices and the customer's deletion), Insights 4,
	// Portfolio 5, Export 4, Collect 5; the authorizer, the aggregator, the
	// export worker and the collector have no API events.
	if len(routes) != 24 {
		t.Errorf("Routes() has %d routes, want 24: %+v", len(routes), routes)
	}
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if seen[key] {
			t.Errorf("route %s is served twice", key)
		}
		seen[key] = true
	}
	// The upload trigger is an EventBridge rule, not a route.
	for _, r := range routes {
		if r.Event == "UploadArrived" {
			t.Errorf("EventBridge event read as a route: %+v", r)
		}
	}
}

func TestStreamSourcesFromTemplate(t *testing.T) {
	tmpl := loadProjectTemplate(t)
	want := []StreamSource{
		{
			Function: "AggregateFunction", Event: "FiguresChanged", Table: "Table",
			StartingPosition: "TRIM_HORIZON", BatchSize: 100,
			FilterPatterns:          []string{`{"dynamodb":{"Keys":{"SK":{"S":["FIGURES"]}}}}`},
			BisectOnError:           true,
			MaxRetries:              10,
			ReportBatchItemFailures: true,
			MaxBatchingWindow:       time.Second,
			MaxRecordAge:            24 * time.Hour,
		},
		{
			Function: "ExportWorkerFunction", Event: "ExportRequested", Table: "Table",
			StartingPosition: "TRIM_HORIZON", BatchSize: 1,
			FilterPatterns:          []string{`{"eventName":["INSERT"],"dynamodb":{"Keys":{"SK":{"S":[{"prefix":"EXPORT#"}]}}}}`},
			MaxRetries:              2,
			ReportBatchItemFailures: true,
			MaxRecordAge:            time.Hour,
		},
	}
	if got := tmpl.StreamSources(); !reflect.DeepEqual(got, want) {
		t.Errorf("StreamSources() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestEventBridgeSourcesFromTemplate(t *testing.T) {
	tmpl := loadProjectTemplate(t)
	sources := tmpl.EventBridgeSources()
	if len(sources) != 1 || sources[0].Function != "IngestFunction" || sources[0].Event != "UploadArrived" {
		t.Fatalf("EventBridgeSources() = %+v, want IngestFunction's UploadArrived only", sources)
	}
	// The bucket is !Ref DataBucket in the template; resolved with the
	// local bucket's name it is a plain pattern.
	resolved := ResolveRefs(sources[0].Pattern, map[string]string{"DataBucket": "local-data"})
	got, _ := json.Marshal(resolved)
	want := `{"detail":{"bucket":{"name":["local-data"]},"object":{"key":[{"prefix":"uploads/"}]}},"detail-type":["Object Created"],"source":["aws.s3"]}`
	if string(got) != want {
		t.Errorf("resolved pattern = %s, want %s", got, want)
	}
	raw, _ := json.Marshal(sources[0].Pattern["detail"])
	if !strings.Contains(string(raw), `{"Ref":"DataBucket"}`) {
		t.Errorf("unresolved pattern detail = %s, want the !Ref in long form", raw)
	}
}

func TestTableInputFromTemplate(t *testing.T) {
	tmpl := loadProjectTemplate(t)
	in, err := tmpl.TableInput("local-table")
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.TableName) != "local-table" {
		t.Errorf("TableName = %q", aws.ToString(in.TableName))
	}
	if in.BillingMode != types.BillingModePayPerRequest || in.ProvisionedThroughput != nil {
		t.Errorf("billing = %s with %v, want PAY_PER_REQUEST without throughput", in.BillingMode, in.ProvisionedThroughput)
	}
	if got := keys(in.KeySchema); got != "PK HASH, SK RANGE" {
		t.Errorf("table key = %s", got)
	}
	if len(in.AttributeDefinitions) != 8 {
		t.Errorf("%d attribute definitions, want 8 (PK, SK, GSI1..3 PK and SK)", len(in.AttributeDefinitions))
	}
	for _, a := range in.AttributeDefinitions {
		if a.AttributeType != types.ScalarAttributeTypeS {
			t.Errorf("attribute %s is %s, want S", aws.ToString(a.AttributeName), a.AttributeType)
		}
	}
	if len(in.GlobalSecondaryIndexes) != 3 {
		t.Fatalf("%d GSIs, want 3", len(in.GlobalSecondaryIndexes))
	}
	for i, g := range in.GlobalSecondaryIndexes {
		n := string(rune('1' + i))
		if aws.ToString(g.IndexName) != "GSI"+n {
			t.Errorf("index %d is %s, want GSI%s", i, aws.ToString(g.IndexName), n)
		}
		if got, want := keys(g.KeySchema), "GSI"+n+"PK HASH, GSI"+n+"SK RANGE"; got != want {
			t.Errorf("GSI%s key = %s, want %s", n, got, want)
		}
		if g.Projection.ProjectionType != types.ProjectionTypeAll || g.ProvisionedThroughput != nil {
			t.Errorf("GSI%s projection %s, throughput %v; want ALL, none", n, g.Projection.ProjectionType, g.ProvisionedThroughput)
		}
	}
	if s := in.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages {
		t.Errorf("stream = %+v, want enabled NEW_AND_OLD_IMAGES", s)
	}
	if attr, enabled := tmpl.TimeToLive(); attr != "expiresAt" || !enabled {
		t.Errorf("TimeToLive() = %q, %v; want expiresAt, true", attr, enabled)
	}
	if _, err := tmpl.TableInput(""); err == nil {
		t.Error("TableInput(\"\") succeeded; a table needs a name")
	}
}

func TestFunctionsFromTemplate(t *testing.T) {
	tmpl := loadProjectTemplate(t)
	functions := tmpl.Functions()
	var ids []string
	byID := map[string]Function{}
	for _, f := range functions {
		ids = append(ids, f.LogicalID)
		byID[f.LogicalID] = f
	}
	wantIDs := []string{"AuthorizerFunction", "IngestFunction", "InsightsFunction", "PortfolioFunction", "AggregateFunction", "ExportFunction", "ExportWorkerFunction", "CollectFunction", "CollectorFunction"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("functions %v, want %v in template order", ids, wantIDs)
	}

	ingest := byID["IngestFunction"]
	if ingest.Dir != "functions/ingest" || ingest.CodeURI != "." || ingest.Timeout != 900*time.Second || ingest.MemorySize != 512 {
		t.Errorf("IngestFunction = %+v", ingest)
	}
	// Globals' variables, with !Ref values kept as names.
	wantEnv := map[string]string{"TABLE_NAME": "Table", "BUCKET_NAME": "DataBucket", "PARTNER_TENANT_ID": "PartnerTenantId", "SKU_MONTHLY_PRICES": "SkuMonthlyPrices"}
	if !reflect.DeepEqual(ingest.Environment, wantEnv) || !reflect.DeepEqual(ingest.Refs, wantEnv) {
		t.Errorf("IngestFunction environment %v, refs %v; want %v for both", ingest.Environment, ingest.Refs, wantEnv)
	}

	// Own settings win over Globals (Timeout 5, MemorySize 256); Globals
	// fill the rest (30 s, 512 MB for Insights).
	auth := byID["AuthorizerFunction"]
	if auth.Timeout != 5*time.Second || auth.MemorySize != 256 || auth.Environment["OIDC_AUDIENCE"] != "OidcAudience" || auth.Environment["TABLE_NAME"] != "Table" {
		t.Errorf("AuthorizerFunction = %+v", auth)
	}
	if insights := byID["InsightsFunction"]; insights.Timeout != 30*time.Second || insights.MemorySize != 512 {
		t.Errorf("InsightsFunction timeout %s, memory %d; want the Globals' 30s, 512", insights.Timeout, insights.MemorySize)
	}
	if dir := byID["ExportWorkerFunction"].Dir; dir != "functions/exportworker" {
		t.Errorf("ExportWorkerFunction builds from %s, want functions/exportworker", dir)
	}

	env, err := tmpl.ResolveEnvironment(byID["ExportFunction"], map[string]string{"Table": "t1", "DataBucket": "b1"})
	if err != nil {
		t.Fatal(err)
	}
	// Table and bucket from the given names, the rest from the parameters'
	// defaults: ExportLinkSeconds 3600, PartnerTenantId and SkuMonthlyPrices "".
	wantResolved := map[string]string{"TABLE_NAME": "t1", "BUCKET_NAME": "b1", "PARTNER_TENANT_ID": "", "SKU_MONTHLY_PRICES": "", "EXPORT_LINK_SECONDS": "3600"}
	if !reflect.DeepEqual(env, wantResolved) {
		t.Errorf("ResolveEnvironment = %v, want %v", env, wantResolved)
	}
	if _, err := tmpl.ResolveEnvironment(byID["ExportFunction"], nil); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Errorf("ResolveEnvironment without the table's name: err = %v, want one naming TABLE_NAME", err)
	}
}

// The Makefile's build-<LogicalId> targets (which sam build runs) and
// FunctionDir must agree, or the local stack and AWS would run different
// code for the same function.
func TestMakefileBuildsEveryFunction(t *testing.T) {
	data, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^build-(\w+): \.build/(\w+)/bootstrap$`).FindAllStringSubmatch(string(data), -1) {
		targets[m[1]] = "functions/" + m[2]
	}
	functions := loadProjectTemplate(t).Functions()
	for _, f := range functions {
		if targets[f.LogicalID] != f.Dir {
			t.Errorf("Makefile builds %s from %q, the local stack from %q", f.LogicalID, targets[f.LogicalID], f.Dir)
		}
	}
	if len(targets) != len(functions) {
		t.Errorf("Makefile has %d build-<LogicalId> targets, template.yaml %d functions", len(targets), len(functions))
	}
}

func TestShortTags(t *testing.T) {
	src := `
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Rule:
          Type: EventBridgeRule
          Properties:
            Pattern:
              ref: !Ref Bucket
              att: !GetAtt Table.StreamArn
              attList: !GetAtt [Table, Arn]
              sub: !Sub "${AWS::Region}-x"
              join: !Join [",", [a, !Ref B]]
              select: !Select [0, !GetAZs ""]
              cond: !Condition IsProd
              number: 3
              flag: true
`
	tmpl, err := parseTemplate("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(tmpl.EventBridgeSources()[0].Pattern)
	want := `{"att":{"Fn::GetAtt":["Table","StreamArn"]},"attList":{"Fn::GetAtt":["Table","Arn"]},"cond":{"Condition":"IsProd"},"flag":true,"join":{"Fn::Join":[",",["a",{"Ref":"B"}]]},"number":3,"ref":{"Ref":"Bucket"},"select":{"Fn::Select":[0,{"Fn::GetAZs":""}]},"sub":{"Fn::Sub":"${AWS::Region}-x"}}`
	if string(got) != want {
		t.Errorf("pattern =\n%s\nwant\n%s", got, want)
	}
}

func TestTemplateErrors(t *testing.T) {
	const fn = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
	tests := []struct {
		name, src string
		want      []string // all in the error
	}{
		{"not a mapping", "- a\n- b\n", []string{"not a YAML mapping"}},
		{"no resources", "Parameters: {}\n", []string{"no Resources"}},
		{"bad YAML", "Resources: [\n", []string{"test.yaml"}},
		{"env var from !Sub", fn + "      Environment:\n        Variables:\n          X: !Sub \"${A}\"\n",
			[]string{"line 7", "Environment.Variables.X", "!Ref"}},
		{"route without path", fn + "      Events:\n        E:\n          Type: Api\n          Properties:\n            Method: get\n",
			[]string{"line 7", "Events.E", "Path"}},
		{"stream not from a table", fn + "      Events:\n        S:\n          Type: DynamoDB\n          Properties:\n            Stream: arn:aws:dynamodb:x\n            StartingPosition: LATEST\n",
			[]string{"Events.S", "!GetAtt <Table>.StreamArn"}},
		{"filter not JSON", fn + "      Events:\n        S:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt T.StreamArn\n            StartingPosition: LATEST\n            FilterCriteria:\n              Filters:\n                - Pattern: '{nope'\n",
			[]string{"line 13", "not valid JSON", "{nope"}},
		{"batch size not a number", fn + "      Events:\n        S:\n          Type: DynamoDB\n          Properties:\n            Stream: !GetAtt T.StreamArn\n            BatchSize: many\n",
			[]string{"line 10", "BatchSize", `"many"`}},
		{"timeout from a parameter", fn + "      Timeout: !Ref T\n", []string{"line 5", "Timeout", "!Ref"}},
		{"two tables", "Resources:\n  A:\n    Type: AWS::DynamoDB::Table\n  B:\n    Type: AWS::DynamoDB::Table\n",
			[]string{"line 5", "Resources.B", "second"}},
		{"table key from a parameter", "Resources:\n  A:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: !Ref K\n",
			[]string{"Resources.A.Properties", "KeySchema"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTemplate("test.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("parsed without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestTableInputErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"no table", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", "has no AWS::DynamoDB::Table"},
		{"provisioned without throughput", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: PK, KeyType: HASH}]\n", "line 3: Resources.T is PROVISIONED without ProvisionedThroughput"},
		{"unknown billing", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: FREE\n      KeySchema: [{AttributeName: PK, KeyType: HASH}]\n", `unknown BillingMode "FREE"`},
		{"no key", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n", "has no KeySchema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := parseTemplate("test.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.TableInput("x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("TableInput error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestProvisionedTable(t *testing.T) {
	src := `
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: PK, AttributeType: S}, {AttributeName: N, AttributeType: N}]
      KeySchema: [{AttributeName: PK, KeyType: HASH}]
      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: 2}
      GlobalSecondaryIndexes:
        - IndexName: ByN
          KeySchema: [{AttributeName: N, KeyType: HASH}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [a, b]}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
`
	tmpl, err := parseTemplate("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	in, err := tmpl.TableInput("x")
	if err != nil {
		t.Fatal(err)
	}
	if in.BillingMode != types.BillingModeProvisioned || aws.ToInt64(in.ProvisionedThroughput.ReadCapacityUnits) != 5 || aws.ToInt64(in.ProvisionedThroughput.WriteCapacityUnits) != 2 {
		t.Errorf("billing %s %+v, want PROVISIONED 5/2", in.BillingMode, in.ProvisionedThroughput)
	}
	g := in.GlobalSecondaryIndexes[0]
	if g.Projection.ProjectionType != types.ProjectionTypeInclude || !reflect.DeepEqual(g.Projection.NonKeyAttributes, []string{"a", "b"}) || aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits) != 1 {
		t.Errorf("index = %+v", g)
	}
	if in.StreamSpecification != nil {
		t.Errorf("stream %+v on a table without StreamSpecification", in.StreamSpecification)
	}
	if attr, enabled := tmpl.TimeToLive(); attr != "" || enabled {
		t.Errorf("TimeToLive() = %q, %v on a table without it", attr, enabled)
	}
}

func keys(schema []types.KeySchemaElement) string {
	var parts []string
	for _, k := range schema {
		parts = append(parts, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return strings.Join(parts, ", ")
}
