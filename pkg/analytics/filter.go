package analytics

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The filter grammar, as Partner Center's analytics API takes it:
//
//	filter     = or
//	or         = and { "or" and }
//	and        = operand { "and" operand }
//	operand    = "(" or ")" | comparison
//	comparison = field ( "eq" | "ne" ) value
//	value      = 'text' | "text" | null
//
// "and" binds tighter than "or", as in OData. Keywords and field names are
// matched ignoring case (tools spell them serviceCode or servicecode alike);
// values compare ignoring case too, because Partner Center's examples mix
// 'Reseller' and 'reseller'. Inside quotes, the quote character is written
// twice ('O''Brien'). null matches a field that has no value; eq null on a
// field that always has one matches nothing, which is not an error.
//
// Every error carries the 1-based character position where the problem is.

// MaxFilterLength bounds a filter, MaxFilterDepth its parentheses: a query
// string is not the place for a program, and recursion must stay shallow.
const (
	MaxFilterLength = 4096
	MaxFilterDepth  = 32
)

// Filter is a parsed filter expression.
type Filter struct {
	root node
	text string
}

// Match reports whether the row passes the filter. The nil Filter passes
// every row.
func (f *Filter) Match(r *Row) bool {
	if f == nil {
		return true
	}
	return f.root.match(r)
}

// String is the filter as given.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.text
}

type node interface{ match(*Row) bool }

type orNode []node

func (n orNode) match(r *Row) bool {
	for _, x := range n {
		if x.match(r) {
			return true
		}
	}
	return false
}

type andNode []node

func (n andNode) match(r *Row) bool {
	for _, x := range n {
		if !x.match(r) {
			return false
		}
	}
	return true
}

type compareNode struct {
	field  Field
	negate bool   // ne
	value  string // "" for null
}

func (n compareNode) match(r *Row) bool {
	return strings.EqualFold(r.values[n.field], n.value) != n.negate
}

// Error is a malformed query parameter: which one, where in it (1-based
// character position, 0 when the whole value is at fault) and why.
type Error struct {
	Param    string
	Value    string
	Position int
	Reason   string
}

func (e *Error) Error() string {
	if e.Position > 0 {
		return fmt.Sprintf("%s: at position %d: %s", e.Param, e.Position, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Param, e.Reason)
}

// ParseFilter parses a filter over the dataset's fields. An empty (or
// all-blank) filter is the nil Filter, which passes every row.
func ParseFilter(d *Dataset, text string) (*Filter, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	p := &parser{d: d, text: text}
	if utf8.RuneCountInString(text) > MaxFilterLength {
		return nil, p.fail(0, "is longer than %d characters", MaxFilterLength)
	}
	if !utf8.ValidString(text) {
		return nil, p.fail(0, "is not valid UTF-8")
	}
	if err := p.lex(); err != nil {
		return nil, err
	}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEnd {
		if t.kind == tokClose {
			return nil, p.fail(t.pos, "unmatched ')'")
		}
		return nil, p.fail(t.pos, "expected 'and', 'or' or the end of the filter, found %s", t)
	}
	return &Filter{root: root, text: text}, nil
}

type tokenKind int

const (
	tokEnd tokenKind = iota
	tokOpen
	tokClose
	tokWord   // a field name, keyword or other bare word
	tokString // a quoted value
)

type token struct {
	kind tokenKind
	text string // the word, or the unquoted string
	pos  int    // 1-based character position of the token's first character
}

func (t token) String() string {
	switch t.kind {
	case tokEnd:
		return "the end of the filter"
	case tokOpen:
		return "'('"
	case tokClose:
		return "')'"
	case tokString:
		return fmt.Sprintf("the value %q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func (t token) is(keyword string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, keyword)
}

type parser struct {
	d      *Dataset
	text   string
	tokens []token
	next   int
}

func (p *parser) fail(pos int, format string, args ...any) *Error {
	return &Error{Param: "filter", Value: p.text, Position: pos, Reason: fmt.Sprintf(format, args...)}
}

// lex splits the text into tokens, tracking character (not byte) positions.
func (p *parser) lex() error {
	runes := []rune(p.text)
	for i := 0; i < len(runes); {
		c := runes[i]
		pos := i + 1
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			p.tokens = append(p.tokens, token{tokOpen, "(", pos})
			i++
		case c == ')':
			p.tokens = append(p.tokens, token{tokClose, ")", pos})
			i++
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(runes) {
					return p.fail(pos, "the value opened by %c is not closed", c)
				}
				if runes[j] == c {
					if j+1 < len(runes) && runes[j+1] == c { // doubled quote: one literal quote
						b.WriteRune(c)
						j += 2
						continue
					}
					break
				}
				b.WriteRune(runes[j])
				j++
			}
			p.tokens = append(p.tokens, token{tokString, b.String(), pos})
			i = j + 1
		case isWordRune(c):
			j := i
			for j < len(runes) && isWordRune(runes[j]) {
				j++
			}
			p.tokens = append(p.tokens, token{tokWord, string(runes[i:j]), pos})
			i = j
		default:
			return p.fail(pos, "unexpected character %q", c)
		}
	}
	p.tokens = append(p.tokens, token{kind: tokEnd, pos: len(runes) + 1})
	return nil
}

// isWordRune: field names, keywords and bare values (which are refused with
// a clear message rather than as stray characters).
func isWordRune(c rune) bool {
	return unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '.' || c == '-' || c == '@'
}

func (p *parser) peek() token { return p.tokens[p.next] }

func (p *parser) take() token {
	t := p.tokens[p.next]
	if t.kind != tokEnd {
		p.next++
	}
	return t
}

// or and and parse one precedence level each: terms joined by their
// keyword; a lone term stands for itself.
func (p *parser) or(depth int) (node, error) {
	terms, err := p.joined(depth, "or", p.and)
	if err != nil || len(terms) == 1 {
		return first(terms), err
	}
	return orNode(terms), nil
}

func (p *parser) and(depth int) (node, error) {
	terms, err := p.joined(depth, "and", p.operand)
	if err != nil || len(terms) == 1 {
		return first(terms), err
	}
	return andNode(terms), nil
}

// joined parses term (keyword term)*.
func (p *parser) joined(depth int, keyword string, term func(int) (node, error)) ([]node, error) {
	var terms []node
	for {
		n, err := term(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, n)
		if !p.peek().is(keyword) {
			return terms, nil
		}
		p.take()
	}
}

func first(terms []node) node {
	if len(terms) == 0 {
		return nil
	}
	return terms[0]
}

func (p *parser) operand(depth int) (node, error) {
	t := p.take()
	switch {
	case t.kind == tokOpen:
		if depth+1 > MaxFilterDepth {
			return nil, p.fail(t.pos, "parentheses nest deeper than %d", MaxFilterDepth)
		}
		if p.peek().kind == tokClose {
			return nil, p.fail(p.peek().pos, "empty parentheses")
		}
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.take(); c.kind != tokClose {
			if c.kind == tokEnd {
				return nil, p.fail(t.pos, "the '(' is never closed")
			}
			return nil, p.fail(c.pos, "expected 'and', 'or' or ')', found %s", c)
		}
		return n, nil
	case t.kind == tokWord && (t.is("and") || t.is("or")):
		return nil, p.fail(t.pos, "expected a comparison such as serviceCode eq 'O365' before %q", t.text)
	case t.kind == tokWord:
		return p.comparison(t)
	}
	return nil, p.fail(t.pos, "expected a field name or '(', found %s", t)
}

func (p *parser) comparison(name token) (node, error) {
	f, ok := p.d.field(name.text)
	if !ok {
		return nil, p.fail(name.pos, "unknown field %q: %s rows can be filtered on %s", name.text, p.d.Name, p.d.fieldList())
	}
	op := p.take()
	var negate bool
	switch {
	case op.is("eq"):
	case op.is("ne"):
		negate = true
	case op.kind == tokWord && isOperator(op.text):
		return nil, p.fail(op.pos, "operator %q is not supported: use eq or ne", op.text)
	default:
		return nil, p.fail(op.pos, "expected eq or ne after %s, found %s", fieldNames[f], op)
	}
	v := p.take()
	switch {
	case v.kind == tokString:
		return compareNode{field: f, negate: negate, value: v.text}, nil
	case v.is("null"):
		return compareNode{field: f, negate: negate}, nil
	case v.kind == tokWord:
		return nil, p.fail(v.pos, "the value %s must be quoted: '%s'", v, v.text)
	}
	return nil, p.fail(v.pos, "expected a quoted value after %s %s, found %s", fieldNames[f], strings.ToLower(op.text), v)
}

// isOperator names the OData operators this API does not support, so that
// their use gets a precise message.
func isOperator(s string) bool {
	switch strings.ToLower(s) {
	case "gt", "ge", "lt", "le", "has", "in", "not", "contains", "startswith", "endswith":
		return true
	}
	return false
}
