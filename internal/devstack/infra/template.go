package infra

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.yaml.in/yaml/v3"
)

// Template is what the local stack needs from template.yaml: the table, the
// functions, their routes and event sources. It is read once, completely, so
// that a template the stack cannot follow fails at load, with the line.
//
// CloudFormation's short tags (!Ref X, !GetAtt A.B, !Sub ..., !Join ...) are
// read into their long JSON form ({"Ref": "X"}, {"Fn::GetAtt": ["A", "B"]},
// {"Fn::Sub": ...}), which is what values of type any below contain.
type Template struct {
	path        string
	parameters  map[string]string
	table       *tableProperties
	tableLine   int
	functions   []Function
	routes      []Route
	streams     []StreamSource
	eventBridge []EventBridgeSource
}

// Function is one AWS::Serverless::Function with Globals applied.
type Function struct {
	LogicalID string
	CodeURI   string
	// Dir is the package the function is built from, relative to the
	// repository root: functions/<logical id without "Function", lower
	// case>, the same mapping as the Makefile's build-<LogicalId> targets.
	Dir string
	// Environment holds Globals' variables overlaid with the function's own.
	// A !Ref value is kept as the referenced name (parameter or resource);
	// Refs lists which variables those are, so the caller can substitute
	// local values (ResolveEnvironment does).
	Environment map[string]string
	Refs        map[string]string // variable → referenced name
	Timeout     time.Duration
	MemorySize  int // MB
}

// Route is one API event: Method and Path exactly as the template writes
// them (path parameters in braces).
type Route struct {
	Function string // logical id
	Event    string // the event's name in the template
	Method   string // upper case; ANY matches every method
	Path     string
}

// StreamSource is one DynamoDB stream event source mapping.
type StreamSource struct {
	Function string
	Event    string
	// Table is the logical id of the table whose stream feeds the function.
	Table                   string
	StartingPosition        string
	BatchSize               int      // AWS's default 100 when the template is silent
	FilterPatterns          []string // JSON, as Lambda event filtering reads them
	BisectOnError           bool
	MaxRetries              int // -1, AWS's default, means retry until the record expires
	ReportBatchItemFailures bool
	MaxBatchingWindow       time.Duration
	MaxRecordAge            time.Duration // 0 when unset: no limit
}

// EventBridgeSource is one EventBridge rule event; in this template, S3's
// "Object Created" for uploads.
type EventBridgeSource struct {
	Function string
	Event    string
	// Pattern is the event pattern, with intrinsic functions in long form
	// ({"Ref": "DataBucket"}); ResolveRefs substitutes them.
	Pattern map[string]any
}

// RepoTemplate loads the repository's own template.yaml.
func RepoTemplate() (*Template, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	return LoadTemplate(filepath.Join(root, "template.yaml"))
}

// LoadTemplate reads and checks a SAM template.
func LoadTemplate(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devstack: reading the template: %w", err)
	}
	t, err := parseTemplate(path, data)
	if err != nil {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	return t, nil
}

func parseTemplate(path string, data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the template is not a YAML mapping", path)
	}
	r := reader{path: path}
	root := doc.Content[0]
	t := &Template{path: path, parameters: map[string]string{}}

	for _, p := range r.pairs(r.get(root, "Parameters")) {
		if def := r.get(p.value, "Default"); def != nil {
			t.parameters[p.key] = r.scalar(def, "Parameters."+p.key+".Default")
		}
	}

	globals, err := r.functionSettings(r.get(r.get(root, "Globals"), "Function"), "Globals.Function")
	if err != nil {
		return nil, err
	}

	resources := r.get(root, "Resources")
	if resources == nil {
		return nil, fmt.Errorf("%s: no Resources", path)
	}
	for _, res := range r.pairs(resources) {
		where := "Resources." + res.key
		typ := r.scalar(r.get(res.value, "Type"), where+".Type")
		props := r.get(res.value, "Properties")
		switch typ {
		case "AWS::DynamoDB::Table":
			if t.table != nil {
				return nil, fmt.Errorf("%s line %d: %s is a second AWS::DynamoDB::Table; the local stack serves one", path, res.value.Line, where)
			}
			t.table = &tableProperties{}
			if err := r.decode(props, where+".Properties", t.table); err != nil {
				return nil, err
			}
			t.table.logicalID, t.tableLine = res.key, res.value.Line
		case "AWS::Serverless::Function":
			if err := t.addFunction(&r, res.key, props, globals); err != nil {
				return nil, err
			}
		}
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	return t, nil
}

// functionSettings are the properties Globals.Function and a function share.
type functionSettings struct {
	env        map[string]string
	refs       map[string]string
	timeout    int
	memorySize int
}

func (r *reader) functionSettings(n *yaml.Node, where string) (functionSettings, error) {
	s := functionSettings{env: map[string]string{}, refs: map[string]string{}}
	if n == nil {
		return s, nil
	}
	for _, v := range r.pairs(r.get(r.get(n, "Environment"), "Variables")) {
		value, err := r.value(v.value)
		if err != nil {
			return s, err
		}
		switch x := value.(type) {
		case map[string]any:
			ref, ok := x["Ref"].(string)
			if !ok || len(x) != 1 {
				return s, fmt.Errorf("%s line %d: %s.Environment.Variables.%s: only !Ref and plain values are understood locally", r.path, v.value.Line, where, v.key)
			}
			s.env[v.key], s.refs[v.key] = ref, ref
		case []any:
			return s, fmt.Errorf("%s line %d: %s.Environment.Variables.%s is a list; a variable is one value", r.path, v.value.Line, where, v.key)
		default:
			s.env[v.key] = fmt.Sprint(x)
		}
	}
	s.timeout = r.integer(r.get(n, "Timeout"), where+".Timeout")
	s.memorySize = r.integer(r.get(n, "MemorySize"), where+".MemorySize")
	return s, r.err()
}

func (t *Template) addFunction(r *reader, id string, props *yaml.Node, globals functionSettings) error {
	where := "Resources." + id + ".Properties"
	own, err := r.functionSettings(props, where)
	if err != nil {
		return err
	}
	f := Function{
		LogicalID:   id,
		CodeURI:     r.scalar(r.get(props, "CodeUri"), where+".CodeUri"),
		Dir:         FunctionDir(id),
		Environment: map[string]string{},
		Refs:        map[string]string{},
		Timeout:     time.Duration(orGlobal(own.timeout, globals.timeout)) * time.Second,
		MemorySize:  orGlobal(own.memorySize, globals.memorySize),
	}
	for _, s := range []functionSettings{globals, own} {
		for k, v := range s.env {
			f.Environment[k] = v
			delete(f.Refs, k) // the function's own plain value overrides a global !Ref
			if ref, ok := s.refs[k]; ok {
				f.Refs[k] = ref
			}
		}
	}
	t.functions = append(t.functions, f)

	for _, ev := range r.pairs(r.get(props, "Events")) {
		evWhere := where + ".Events." + ev.key
		typ := r.scalar(r.get(ev.value, "Type"), evWhere+".Type")
		p := r.get(ev.value, "Properties")
		switch typ {
		case "Api":
			route := Route{
				Function: id,
				Event:    ev.key,
				Method:   strings.ToUpper(r.scalar(r.get(p, "Method"), evWhere+".Properties.Method")),
				Path:     r.scalar(r.get(p, "Path"), evWhere+".Properties.Path"),
			}
			if route.Method == "" || !strings.HasPrefix(route.Path, "/") {
				return fmt.Errorf("%s line %d: %s needs a Method and a Path starting with /", r.path, ev.value.Line, evWhere)
			}
			t.routes = append(t.routes, route)
		case "DynamoDB":
			s, err := r.streamSource(id, ev.key, p, evWhere+".Properties")
			if err != nil {
				return err
			}
			t.streams = append(t.streams, s)
		case "EventBridgeRule":
			pattern, err := r.value(r.get(p, "Pattern"))
			if err != nil {
				return err
			}
			m, ok := pattern.(map[string]any)
			if !ok {
				return fmt.Errorf("%s line %d: %s.Properties.Pattern must be a mapping", r.path, ev.value.Line, evWhere)
			}
			t.eventBridge = append(t.eventBridge, EventBridgeSource{Function: id, Event: ev.key, Pattern: m})
		}
	}
	return r.err()
}

// orGlobal returns own when set (non-zero), else the global value.
func orGlobal(own, global int) int {
	if own != 0 {
		return own
	}
	return global
}

// FunctionDir maps a function's logical id to the folder it is built from:
// IngestFunction → functions/ingest, ExportWorkerFunction →
// functions/exportworker.
func FunctionDir(logicalID string) string {
	return "functions/" + strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

func (r *reader) streamSource(function, event string, p *yaml.Node, where string) (StreamSource, error) {
	s := StreamSource{
		Function:         function,
		Event:            event,
		StartingPosition: r.scalar(r.get(p, "StartingPosition"), where+".StartingPosition"),
		BatchSize:        100,
		MaxRetries:       -1,
	}
	stream, err := r.value(r.get(p, "Stream"))
	if err != nil {
		return s, err
	}
	// !GetAtt Table.StreamArn names the table; anything else cannot be
	// followed to a local table.
	if m, ok := stream.(map[string]any); ok {
		if att, ok := m["Fn::GetAtt"].([]any); ok && len(att) == 2 && att[1] == "StreamArn" {
			s.Table, _ = att[0].(string)
		}
	}
	if s.Table == "" {
		return s, fmt.Errorf("%s: %s.Stream must be !GetAtt <Table>.StreamArn", r.path, where)
	}
	if n := r.get(p, "BatchSize"); n != nil {
		s.BatchSize = r.integer(n, where+".BatchSize")
	}
	if n := r.get(p, "MaximumRetryAttempts"); n != nil {
		s.MaxRetries = r.integer(n, where+".MaximumRetryAttempts")
	}
	s.BisectOnError = r.boolean(r.get(p, "BisectBatchOnFunctionError"), where+".BisectBatchOnFunctionError")
	s.MaxBatchingWindow = time.Duration(r.integer(r.get(p, "MaximumBatchingWindowInSeconds"), where+".MaximumBatchingWindowInSeconds")) * time.Second
	if age := r.integer(r.get(p, "MaximumRecordAgeInSeconds"), where+".MaximumRecordAgeInSeconds"); age > 0 {
		s.MaxRecordAge = time.Duration(age) * time.Second
	}
	for _, typ := range r.items(r.get(p, "FunctionResponseTypes")) {
		if r.scalar(typ, where+".FunctionResponseTypes") == "ReportBatchItemFailures" {
			s.ReportBatchItemFailures = true
		}
	}
	for _, f := range r.items(r.get(r.get(p, "FilterCriteria"), "Filters")) {
		pattern := r.get(f, "Pattern")
		if pattern == nil {
			continue
		}
		if pattern.Kind == yaml.ScalarNode {
			text := r.scalar(pattern, where+".FilterCriteria.Filters.Pattern")
			if !json.Valid([]byte(text)) {
				return s, fmt.Errorf("%s line %d: %s.FilterCriteria pattern is not valid JSON: %s", r.path, pattern.Line, where, text)
			}
			s.FilterPatterns = append(s.FilterPatterns, text)
			continue
		}
		v, err := r.value(pattern) // a pattern written as YAML
		if err != nil {
			return s, err
		}
		text, _ := json.Marshal(v)
		s.FilterPatterns = append(s.FilterPatterns, string(text))
	}
	return s, r.err()
}

// Functions returns the template's functions in template order.
func (t *Template) Functions() []Function { return slices.Clone(t.functions) }

// Routes returns every API event of every function, in template order.
func (t *Template) Routes() []Route { return slices.Clone(t.routes) }

// StreamSources returns every DynamoDB stream event source.
func (t *Template) StreamSources() []StreamSource { return slices.Clone(t.streams) }

// EventBridgeSources returns every EventBridge rule event source.
func (t *Template) EventBridgeSources() []EventBridgeSource { return slices.Clone(t.eventBridge) }

// Parameters returns each template parameter's default value ("" for the
// ones without).
func (t *Template) Parameters() map[string]string {
	out := make(map[string]string, len(t.parameters))
	for k, v := range t.parameters {
		out[k] = v
	}
	return out
}

// ResolveEnvironment returns f's environment with every !Ref replaced:
// by refs[name] when given (the local table and bucket names), else by the
// parameter's default. A reference to neither is an error, so nothing
// reaches a handler as a logical id by mistake.
func (t *Template) ResolveEnvironment(f Function, refs map[string]string) (map[string]string, error) {
	env := make(map[string]string, len(f.Environment))
	var unresolved []string
	for _, k := range slices.Sorted(maps.Keys(f.Environment)) {
		env[k] = f.Environment[k]
		name, isRef := f.Refs[k]
		if !isRef {
			continue
		}
		if local, ok := refs[name]; ok {
			env[k] = local
		} else if def, ok := t.parameters[name]; ok {
			env[k] = def
		} else {
			unresolved = append(unresolved, fmt.Sprintf("%s (!Ref %s)", k, name))
		}
	}
	if len(unresolved) > 0 {
		return nil, fmt.Errorf("devstack: %s's environment refers to resources with neither a local value nor a parameter default: %s", f.LogicalID, strings.Join(unresolved, ", "))
	}
	return env, nil
}

// ResolveRefs returns v (a value read from the template) with every
// {"Ref": name} whose name is in values replaced by that value.
func ResolveRefs(v any, values map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
			if value, ok := values[ref]; ok {
				return value
			}
			return x
		}
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = ResolveRefs(item, values)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = ResolveRefs(item, values)
		}
		return out
	default:
		return v
	}
}

// tableProperties mirrors the AWS::DynamoDB::Table properties the local
// table is made from. The ones DynamoDB Local has no use for (encryption,
// point-in-time recovery) are left out on purpose.
type tableProperties struct {
	logicalID              string
	BillingMode            string
	AttributeDefinitions   []struct{ AttributeName, AttributeType string }
	KeySchema              []keyElement
	ProvisionedThroughput  *throughput
	GlobalSecondaryIndexes []struct {
		IndexName             string
		KeySchema             []keyElement
		Projection            projection
		ProvisionedThroughput *throughput
	}
	LocalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []keyElement
		Projection projection
	}
	StreamSpecification     *struct{ StreamViewType string }
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       bool
	}
}

type keyElement struct{ AttributeName, KeyType string }

type projection struct {
	ProjectionType   string
	NonKeyAttributes []string
}

type throughput struct{ ReadCapacityUnits, WriteCapacityUnits int64 }

// TableInput returns the CreateTable request for the template's table
// under the given name: keys, attribute definitions, indexes with their
// projections, stream view type and billing mode.
func (t *Template) TableInput(name string) (*dynamodb.CreateTableInput, error) {
	if t.table == nil {
		return nil, fmt.Errorf("devstack: %s has no AWS::DynamoDB::Table", t.path)
	}
	if name == "" {
		return nil, fmt.Errorf("devstack: a table name is required")
	}
	p := t.table
	where := fmt.Sprintf("%s line %d: Resources.%s", t.path, t.tableLine, p.logicalID)
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	switch p.BillingMode {
	case "PAY_PER_REQUEST":
		in.BillingMode = types.BillingModePayPerRequest
	case "", "PROVISIONED": // CloudFormation's default
		in.BillingMode = types.BillingModeProvisioned
		if p.ProvisionedThroughput == nil {
			return nil, fmt.Errorf("devstack: %s is PROVISIONED without ProvisionedThroughput", where)
		}
		in.ProvisionedThroughput = p.ProvisionedThroughput.sdk()
	default:
		return nil, fmt.Errorf("devstack: %s: unknown BillingMode %q", where, p.BillingMode)
	}
	for _, a := range p.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	if len(p.KeySchema) == 0 {
		return nil, fmt.Errorf("devstack: %s has no KeySchema", where)
	}
	in.KeySchema = keySchema(p.KeySchema)
	for _, g := range p.GlobalSecondaryIndexes {
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			KeySchema:  keySchema(g.KeySchema),
			Projection: g.Projection.sdk(),
		}
		if in.BillingMode == types.BillingModeProvisioned {
			if g.ProvisionedThroughput == nil {
				return nil, fmt.Errorf("devstack: %s: index %s needs ProvisionedThroughput on a PROVISIONED table", where, g.IndexName)
			}
			gsi.ProvisionedThroughput = g.ProvisionedThroughput.sdk()
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	for _, l := range p.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  keySchema(l.KeySchema),
			Projection: l.Projection.sdk(),
		})
	}
	if s := p.StreamSpecification; s != nil && s.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(s.StreamViewType),
		}
	}
	return in, nil
}

// TimeToLive returns the table's TTL attribute and whether TTL is on.
func (t *Template) TimeToLive() (attr string, enabled bool) {
	if t.table == nil || t.table.TimeToLiveSpecification == nil {
		return "", false
	}
	return t.table.TimeToLiveSpecification.AttributeName, t.table.TimeToLiveSpecification.Enabled
}

func keySchema(keys []keyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, len(keys))
	for i, k := range keys {
		out[i] = types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)}
	}
	return out
}

func (p projection) sdk() *types.Projection {
	out := &types.Projection{ProjectionType: types.ProjectionType(p.ProjectionType)}
	if len(p.NonKeyAttributes) > 0 {
		out.NonKeyAttributes = p.NonKeyAttributes
	}
	return out
}

func (t throughput) sdk() *types.ProvisionedThroughput {
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(t.ReadCapacityUnits), WriteCapacityUnits: aws.Int64(t.WriteCapacityUnits)}
}

// reader walks the YAML tree and remembers the first error, so the
// extraction code above reads as a description of the template rather than
// a ladder of checks.
type reader struct {
	path  string
	first error
}

func (r *reader) fail(n *yaml.Node, where, format string, args ...any) {
	if r.first == nil {
		r.first = fmt.Errorf("%s line %d: %s: %s", r.path, n.Line, where, fmt.Sprintf(format, args...))
	}
}

func (r *reader) err() error { return r.first }

type pair struct {
	key   string
	value *yaml.Node
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// get returns the value under key in a mapping node, or nil.
func (r *reader) get(n *yaml.Node, key string) *yaml.Node {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

// pairs returns a mapping's entries in document order.
func (r *reader) pairs(n *yaml.Node) []pair {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, pair{n.Content[i].Value, resolveAlias(n.Content[i+1])})
	}
	return out
}

func (r *reader) items(n *yaml.Node) []*yaml.Node {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = resolveAlias(item)
	}
	return out
}

// scalar returns a plain scalar's text ("" for a missing node).
func (r *reader) scalar(n *yaml.Node, where string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || isIntrinsic(n) {
		r.fail(n, where, "expected a plain value, found %s", describe(n))
		return ""
	}
	return n.Value
}

func (r *reader) integer(n *yaml.Node, where string) int {
	text := r.scalar(n, where)
	if text == "" {
		return 0
	}
	v, err := strconv.Atoi(text)
	if err != nil {
		r.fail(n, where, "expected a whole number, found %q", text)
	}
	return v
}

func (r *reader) boolean(n *yaml.Node, where string) bool {
	text := r.scalar(n, where)
	if text == "" {
		return false
	}
	v, err := strconv.ParseBool(text)
	if err != nil {
		r.fail(n, where, "expected true or false, found %q", text)
	}
	return v
}

// decode converts n to JSON-shaped values and decodes them into out, whose
// fields are named as CloudFormation names the properties.
func (r *reader) decode(n *yaml.Node, where string, out any) error {
	v, err := r.value(n)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", r.path, where, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(out); err != nil {
		line := 0
		if n != nil {
			line = n.Line
		}
		return fmt.Errorf("%s line %d: %s: %w (intrinsic functions are not followed here)", r.path, line, where, err)
	}
	return nil
}

func isIntrinsic(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}

func describe(n *yaml.Node) string {
	switch {
	case isIntrinsic(n):
		return n.Tag
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// value converts a node to JSON-shaped Go values (map[string]any, []any,
// string, int, float64, bool, nil), turning short-form intrinsic functions
// into their long form.
func (r *reader) value(n *yaml.Node) (any, error) {
	n = resolveAlias(n)
	if n == nil {
		return nil, nil
	}
	if isIntrinsic(n) {
		return r.intrinsic(n)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := r.value(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		list := make([]any, len(n.Content))
		for i, item := range n.Content {
			v, err := r.value(item)
			if err != nil {
				return nil, err
			}
			list[i] = v
		}
		return list, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", r.path, n.Line, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("%s line %d: unexpected YAML node", r.path, n.Line)
}

// intrinsic turns !Ref X into {"Ref": "X"}, !GetAtt A.B into
// {"Fn::GetAtt": ["A", "B"]}, !Condition C into {"Condition": "C"} and
// every other !Name v into {"Fn::Name": v}.
func (r *reader) intrinsic(n *yaml.Node) (any, error) {
	name := strings.TrimPrefix(n.Tag, "!")
	plain := *n
	plain.Tag = "" // read the argument as ordinary YAML
	switch plain.Kind {
	case yaml.ScalarNode:
		plain.Tag = "!!str"
	case yaml.MappingNode:
		plain.Tag = "!!map"
	case yaml.SequenceNode:
		plain.Tag = "!!seq"
	}
	arg, err := r.value(&plain)
	if err != nil {
		return nil, err
	}
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: arg}, nil
	case "GetAtt":
		if s, ok := arg.(string); ok {
			resource, attribute, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("%s line %d: !GetAtt %s: expected Resource.Attribute", r.path, n.Line, s)
			}
			return map[string]any{"Fn::GetAtt": []any{resource, attribute}}, nil
		}
		return map[string]any{"Fn::GetAtt": arg}, nil
	default:
		return map[string]any{"Fn::" + name: arg}, nil
	}
}
