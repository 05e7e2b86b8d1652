package graph

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxPageSize is the largest page a collection returns; longer results
// continue through @odata.nextLink.
const MaxPageSize = 100

// query holds the OData system query options of one request.
type query struct {
	selects []string // $select, as given (matched case-insensitively)
	expand  []string // $expand, lower case
	top     int      // -1: not given
	skip    int
	count   bool
	filter  predicate // nil: not given
	raw     url.Values
}

// queryRules says which options an endpoint supports.
type queryRules struct {
	selectable map[string]string // lower-case property -> JSON name; nil: $select not supported
	expandable map[string]bool   // nil: $expand not supported
	paging     bool              // $top, $skip, $count
	filterable map[string]filterProp
}

// parseQuery parses the OData options in raw. An option the endpoint does
// not support, or a malformed one, is a 400 naming it: silently ignoring
// $orderby would return wrong results.
func parseQuery(raw string, rules queryRules) (*query, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("", "The query string is malformed: %v.", err)
	}
	q := &query{top: -1, raw: vals}
	for key, vs := range vals {
		if !strings.HasPrefix(key, "$") {
			continue // not a query option
		}
		if len(vs) != 1 {
			return nil, badRequest(key, "Query option '%s' is given more than once.", key)
		}
		v := vs[0]
		switch strings.ToLower(key) {
		case "$select":
			if rules.selectable == nil {
				return nil, unsupported(key)
			}
			for _, f := range splitList(v) {
				name, ok := rules.selectable[strings.ToLower(f)]
				if !ok {
					return nil, badRequest(key, "Could not find a property named '%s' to $select.", f)
				}
				q.selects = append(q.selects, name)
			}
		case "$expand":
			if rules.expandable == nil {
				return nil, unsupported(key)
			}
			for _, f := range splitList(v) {
				l := strings.ToLower(f)
				if !rules.expandable[l] {
					return nil, badRequest(key, "Property '%s' cannot be expanded here.", f)
				}
				q.expand = append(q.expand, l)
			}
		case "$top", "$skip":
			if !rules.paging {
				return nil, unsupported(key)
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, badRequest(key, "Query option '%s' must be a non-negative integer, got %q.", key, v)
			}
			if strings.EqualFold(key, "$top") {
				q.top = n
			} else {
				q.skip = n
			}
		case "$count":
			if !rules.paging {
				return nil, unsupported(key)
			}
			switch strings.ToLower(v) {
			case "true":
				q.count = true
			case "false":
			default:
				return nil, badRequest(key, "Query option '$count' must be true or false, got %q.", v)
			}
		case "$filter":
			if rules.filterable == nil {
				return nil, unsupported(key)
			}
			p, err := parseFilter(v, rules.filterable)
			if err != nil {
				return nil, badRequest(key, "Invalid $filter: %v.", err)
			}
			q.filter = p
		default:
			return nil, unsupported(key)
		}
	}
	return q, nil
}

func unsupported(key string) error {
	return badRequest(key, "Query option '%s' is not supported on this resource.", key)
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// page applies $skip/$top and server paging to n items: it returns the
// bounds of this page and, when more remain, the query string of the next.
func (q *query) page(n int) (lo, hi int, next string) {
	lo = min(q.skip, n)
	want := n - lo
	if q.top >= 0 {
		want = min(want, q.top)
	}
	size := min(want, MaxPageSize)
	hi = lo + size
	if size < want {
		nv := url.Values{}
		for k, v := range q.raw {
			nv[k] = v
		}
		nv.Set("$skip", strconv.Itoa(hi))
		if q.top >= 0 {
			nv.Set("$top", strconv.Itoa(q.top-size))
		}
		next = nv.Encode()
	}
	return lo, hi, next
}

func (q *query) expands(name string) bool {
	for _, e := range q.expand {
		if e == name {
			return true
		}
	}
	return false
}

// filterProp describes a property $filter may compare: how to canonicalise
// a literal (for enums; an error names the allowed values).
type filterProp struct {
	canon   func(string) (string, error)
	boolean bool // literals are true or false, unquoted
}

// predicate evaluates a $filter against an item's property values.
type predicate func(get func(prop string) string) bool

// parseFilter parses the $filter subset Switchboard supports:
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | "(" expr ")" | prop ("eq"|"ne") literal | prop "in" "(" literal {"," literal} ")"
//	literal = "'" chars ("''" escapes a quote) "'"
func parseFilter(s string, props map[string]filterProp) (predicate, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, props: props}
	pred, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return pred, nil
}

type token struct {
	text    string
	literal bool // a quoted string
}

func lexFilter(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, token{text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated string literal")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, token{text: b.String(), literal: true})
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
		if len(toks) > 200 {
			return nil, fmt.Errorf("expression too long")
		}
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	return toks, nil
}

type filterParser struct {
	toks  []token
	pos   int
	props map[string]filterProp
}

const maxFilterDepth = 32

func (p *filterParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].literal && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *filterParser) next() (token, error) {
	if p.pos >= len(p.toks) {
		return token{}, fmt.Errorf("unexpected end of expression")
	}
	t := p.toks[p.pos]
	p.pos++
	return t, nil
}

func (p *filterParser) expr(depth int) (predicate, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("expression nested too deeply")
	}
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(get func(string) string) bool { return l(get) || right(get) }
	}
	return left, nil
}

func (p *filterParser) and(depth int) (predicate, error) {
	left, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		right, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l := left
		left = func(get func(string) string) bool { return l(get) && right(get) }
	}
	return left, nil
}

func (p *filterParser) unary(depth int) (predicate, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("expression nested too deeply")
	}
	if p.peekWord("not") {
		p.pos++
		inner, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return func(get func(string) string) bool { return !inner(get) }, nil
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if !t.literal && t.text == "(" {
		inner, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c, err := p.next(); err != nil || c.literal || c.text != ")" {
			return nil, fmt.Errorf("missing ')'")
		}
		return inner, nil
	}
	if t.literal {
		return nil, fmt.Errorf("expected a property name, got '%s'", t.text)
	}
	name := t.text
	prop, ok := p.props[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("property '%s' cannot be filtered on", name)
	}
	key := strings.ToLower(name)
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(op.text) {
	case "eq", "ne":
		v, err := p.literal(prop)
		if err != nil {
			return nil, err
		}
		eq := !strings.EqualFold(op.text, "ne")
		return func(get func(string) string) bool { return (get(key) == v) == eq }, nil
	case "in":
		if o, err := p.next(); err != nil || o.text != "(" || o.literal {
			return nil, fmt.Errorf("expected '(' after 'in'")
		}
		var set []string
		for {
			v, err := p.literal(prop)
			if err != nil {
				return nil, err
			}
			set = append(set, v)
			sep, err := p.next()
			if err != nil {
				return nil, err
			}
			if sep.literal || (sep.text != "," && sep.text != ")") {
				return nil, fmt.Errorf("expected ',' or ')' in 'in' list")
			}
			if sep.text == ")" {
				break
			}
		}
		return func(get func(string) string) bool {
			got := get(key)
			for _, v := range set {
				if v == got {
					return true
				}
			}
			return false
		}, nil
	default:
		return nil, fmt.Errorf("operator '%s' is not supported (use eq, ne or in)", op.text)
	}
}

func (p *filterParser) literal(prop filterProp) (string, error) {
	t, err := p.next()
	if err != nil {
		return "", err
	}
	if prop.boolean {
		if l := strings.ToLower(t.text); !t.literal && (l == "true" || l == "false") {
			return l, nil
		}
		return "", fmt.Errorf("expected true or false, got '%s'", t.text)
	}
	if !t.literal {
		return "", fmt.Errorf("expected a quoted string, got '%s'", t.text)
	}
	if prop.canon == nil {
		return t.text, nil
	}
	return prop.canon(t.text)
}
