package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Pattern is a compiled event pattern in the language that Lambda event
// filtering and EventBridge rules share: a JSON object whose keys follow the
// event's fields, whose nested objects follow nested fields, and whose
// leaves are arrays of alternatives (any one matching is enough).
//
// The alternatives understood are plain values (string, number, true,
// false, null) compared exactly, and the operators prefix, suffix,
// equals-ignore-case, anything-but (values, or {"prefix": …}), exists and
// numeric. An operator outside that set fails at compile time rather than
// silently matching nothing, so a template that starts using one is noticed
// on the first `make run`.
type Pattern struct {
	text string
	root *patternNode
}

// patternNode is either an object (fields) or a leaf (alternatives).
type patternNode struct {
	fields map[string]*patternNode
	leaf   []matcher
}

// matcher is one alternative of a leaf. present is false when the event
// has no such field.
type matcher interface {
	match(v any, present bool) bool
}

// CompilePattern parses and checks a pattern.
func CompilePattern(text string) (*Pattern, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("event pattern %s: not valid JSON: %w", text, err)
	}
	obj, ok := v.(map[string]any)
	if !ok || len(obj) == 0 {
		return nil, fmt.Errorf("event pattern %s: must be a non-empty JSON object", text)
	}
	root, err := compileObject(obj, "")
	if err != nil {
		return nil, fmt.Errorf("event pattern %s: %w", text, err)
	}
	return &Pattern{text: text, root: root}, nil
}

// MustCompilePattern is CompilePattern for patterns written in code.
func MustCompilePattern(text string) *Pattern {
	p, err := CompilePattern(text)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern's source text.
func (p *Pattern) String() string { return p.text }

// Match reports whether event (JSON-shaped: map[string]any, []any, string,
// float64 or json.Number, bool, nil) matches the pattern.
func (p *Pattern) Match(event any) bool { return p.root.match(event, true) }

// MatchJSON decodes a JSON document and matches it.
func (p *Pattern) MatchJSON(data []byte) (bool, error) {
	event, err := DecodeEvent(data)
	if err != nil {
		return false, err
	}
	return p.Match(event), nil
}

// Filters are a function's FilterCriteria: an event passes when any
// pattern matches it, and every event passes when there are none.
type Filters []*Pattern

// CompileFilters compiles every pattern.
func CompileFilters(texts []string) (Filters, error) {
	out := make(Filters, 0, len(texts))
	for _, t := range texts {
		p, err := CompilePattern(t)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Match reports whether event passes the filters.
func (f Filters) Match(event any) bool {
	if len(f) == 0 {
		return true
	}
	for _, p := range f {
		if p.Match(event) {
			return true
		}
	}
	return false
}

func DecodeEvent(data []byte) (any, error) {
	var event any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&event); err != nil {
		return nil, fmt.Errorf("event is not valid JSON: %w", err)
	}
	return event, nil
}

func compileObject(obj map[string]any, path string) (*patternNode, error) {
	n := &patternNode{fields: make(map[string]*patternNode, len(obj))}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the first error is the same on every run
	for _, k := range keys {
		where := k
		if path != "" {
			where = path + "." + k
		}
		switch v := obj[k].(type) {
		case map[string]any:
			if len(v) == 0 {
				return nil, fmt.Errorf("%s: an empty object matches nothing; remove it or give it fields", where)
			}
			child, err := compileObject(v, where)
			if err != nil {
				return nil, err
			}
			n.fields[k] = child
		case []any:
			if len(v) == 0 {
				return nil, fmt.Errorf("%s: an empty list of alternatives matches nothing", where)
			}
			leaf := make([]matcher, 0, len(v))
			for i, alt := range v {
				m, err := compileAlternative(alt, fmt.Sprintf("%s[%d]", where, i))
				if err != nil {
					return nil, err
				}
				leaf = append(leaf, m)
			}
			n.fields[k] = &patternNode{leaf: leaf}
		default:
			return nil, fmt.Errorf("%s: a field's values must be in a list (write [%s]) or be a nested object", where, mustJSON(v))
		}
	}
	return n, nil
}

func compileAlternative(alt any, where string) (matcher, error) {
	switch v := alt.(type) {
	case string, json.Number, bool, nil:
		return exactMatcher{value: v}, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("%s: an operator object has exactly one key, this one has %d", where, len(v))
		}
		for op, arg := range v {
			return compileOperator(op, arg, where)
		}
	}
	return nil, fmt.Errorf("%s: %s is neither a value nor an operator object", where, mustJSON(alt))
}

func compileOperator(op string, arg any, where string) (matcher, error) {
	where = where + "." + op
	switch op {
	case "prefix", "suffix", "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: wants a string, not %s", where, mustJSON(arg))
		}
		return stringMatcher{op: op, arg: s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: wants true or false, not %s", where, mustJSON(arg))
		}
		return existsMatcher(b), nil
	case "anything-but":
		return compileAnythingBut(arg, where)
	case "numeric":
		return compileNumeric(arg, where)
	}
	return nil, fmt.Errorf("%s: operator %q is not supported by the local stack (supported: prefix, suffix, equals-ignore-case, anything-but, exists, numeric)", where, op)
}

func compileAnythingBut(arg any, where string) (matcher, error) {
	switch v := arg.(type) {
	case string, json.Number, bool:
		return anythingBut{values: []any{v}}, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: an empty list excludes nothing", where)
		}
		for i, x := range v {
			switch x.(type) {
			case string, json.Number, bool:
			default:
				return nil, fmt.Errorf("%s[%d]: wants a string, number or boolean, not %s", where, i, mustJSON(x))
			}
		}
		return anythingBut{values: v}, nil
	case map[string]any:
		if p, ok := v["prefix"].(string); ok && len(v) == 1 {
			return anythingBut{prefix: &p}, nil
		}
	}
	return nil, fmt.Errorf("%s: wants a value, a list of values or {\"prefix\": \"…\"}, not %s", where, mustJSON(arg))
}

func compileNumeric(arg any, where string) (matcher, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 || len(list) > 4 {
		return nil, fmt.Errorf("%s: wants [op, number] or [op, number, op, number], not %s", where, mustJSON(arg))
	}
	var m numericMatcher
	for i := 0; i < len(list); i += 2 {
		op, _ := list[i].(string)
		if !slices.Contains([]string{"<", "<=", "=", ">", ">="}, op) {
			return nil, fmt.Errorf("%s[%d]: %s is not one of <, <=, =, >, >=", where, i, mustJSON(list[i]))
		}
		num, ok := list[i+1].(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: wants a number, not %s", where, i+1, mustJSON(list[i+1]))
		}
		f, err := num.Float64()
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", where, i+1, err)
		}
		m.conds = append(m.conds, numericCond{op: op, value: f})
	}
	return m, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func (n *patternNode) match(v any, present bool) bool {
	if n.leaf != nil {
		return matchLeaf(n.leaf, v, present)
	}
	// An object pattern over a list of objects matches when any element
	// does, as EventBridge reads arrays in events.
	if list, ok := v.([]any); ok && present {
		for _, item := range list {
			if n.match(item, true) {
				return true
			}
		}
		return false
	}
	obj, isObject := v.(map[string]any)
	for k, child := range n.fields {
		var (
			fv    any
			found bool
		)
		if isObject {
			fv, found = obj[k]
		}
		if !child.match(fv, found) {
			return false
		}
	}
	return true
}

func matchLeaf(alts []matcher, v any, present bool) bool {
	if list, ok := v.([]any); ok && present {
		// A list in the event matches when any of its elements does.
		for _, item := range list {
			for _, m := range alts {
				if m.match(item, true) {
					return true
				}
			}
		}
		// exists:true is about the field, which is there even when the
		// list is empty.
		for _, m := range alts {
			if e, ok := m.(existsMatcher); ok && bool(e) {
				return true
			}
		}
		return false
	}
	if _, isObject := v.(map[string]any); isObject {
		// Leaves match values, never objects; exists works on leaves only.
		return false
	}
	for _, m := range alts {
		if m.match(v, present) {
			return true
		}
	}
	return false
}

type exactMatcher struct{ value any }

func (m exactMatcher) match(v any, present bool) bool {
	return present && sameValue(m.value, v)
}

// sameValue compares a pattern value with an event value: strings and
// booleans exactly, numbers by numeric value (1 and 1.0 are the same), null
// with null.
func sameValue(pattern, event any) bool {
	switch p := pattern.(type) {
	case nil:
		return event == nil
	case string:
		s, ok := event.(string)
		return ok && s == p
	case bool:
		b, ok := event.(bool)
		return ok && b == p
	case json.Number:
		pf, err := p.Float64()
		if err != nil {
			return false
		}
		ef, ok := number(event)
		return ok && ef == pf
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

type stringMatcher struct{ op, arg string }

func (m stringMatcher) match(v any, present bool) bool {
	s, ok := v.(string)
	if !present || !ok {
		return false
	}
	switch m.op {
	case "prefix":
		return strings.HasPrefix(s, m.arg)
	case "suffix":
		return strings.HasSuffix(s, m.arg)
	default: // equals-ignore-case
		return strings.EqualFold(s, m.arg)
	}
}

type existsMatcher bool

func (m existsMatcher) match(_ any, present bool) bool { return present == bool(m) }

// anythingBut matches a present value that is none of values (or does not
// start with prefix). A missing field is not "anything".
type anythingBut struct {
	values []any
	prefix *string
}

func (m anythingBut) match(v any, present bool) bool {
	if !present || v == nil {
		return false
	}
	if m.prefix != nil {
		s, ok := v.(string)
		return ok && !strings.HasPrefix(s, *m.prefix)
	}
	for _, x := range m.values {
		if sameValue(x, v) {
			return false
		}
	}
	return true
}

type numericCond struct {
	op    string
	value float64
}

type numericMatcher struct{ conds []numericCond }

func (m numericMatcher) match(v any, present bool) bool {
	f, ok := number(v)
	if !present || !ok {
		return false
	}
	for _, c := range m.conds {
		var hold bool
		switch c.op {
		case "<":
			hold = f < c.value
		case "<=":
			hold = f <= c.value
		case "=":
			hold = f == c.value
		case ">":
			hold = f > c.value
		case ">=":
			hold = f >= c.value
		}
		if !hold {
			return false
		}
	}
	return true
}
