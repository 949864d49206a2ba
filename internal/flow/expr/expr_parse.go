package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// parser turns JUEL/FEEL tokens into expr-lang source. It renders as it
// parses (no AST) because the translation is local to each construct.
type parser struct {
	toks    []token
	pos     int
	dialect Dialect
}

// node is a rendered sub-expression; isBool marks results that are already
// booleans so logical operators need not coerce them.
type node struct {
	code   string
	isBool bool
}

var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true, "gt": true,
	"le": true, "ge": true, "div": true, "mod": true, "empty": true, "true": true,
	"false": true, "null": true, "nil": true, "if": true, "then": true, "else": true,
	"instanceof": true,
}

func translate(src string, d Dialect) (string, error) {
	toks, err := lex(src)
	if err != nil {
		return "", err
	}
	p := &parser{toks: toks, dialect: d}
	n, err := p.ternary()
	if err != nil {
		return "", err
	}
	if t := p.peek(); t.kind != tokEOF {
		return "", fmt.Errorf("unexpected %q at %d", t.text, t.pos)
	}
	return n.code, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

// accept consumes the current token when it is one of the given operators
// or keywords and returns it.
func (p *parser) accept(words ...string) (string, bool) {
	t := p.peek()
	if t.kind != tokOp && t.kind != tokIdent {
		return "", false
	}
	for _, w := range words {
		if t.text == w {
			p.pos++
			return w, true
		}
	}
	return "", false
}

func (p *parser) expect(op string) error {
	if _, ok := p.accept(op); !ok {
		t := p.peek()
		return fmt.Errorf("expected %q at %d, found %q", op, t.pos, t.text)
	}
	return nil
}

func boolOf(n node) string {
	if n.isBool {
		return n.code
	}
	return "__bool(" + n.code + ")"
}

func (p *parser) ternary() (node, error) {
	if _, ok := p.accept("if"); ok {
		return p.feelIf()
	}
	cond, err := p.or()
	if err != nil {
		return node{}, err
	}
	if _, ok := p.accept("?"); !ok {
		return cond, nil
	}
	a, err := p.ternary()
	if err != nil {
		return node{}, err
	}
	if err := p.expect(":"); err != nil {
		return node{}, err
	}
	b, err := p.ternary()
	if err != nil {
		return node{}, err
	}
	return node{code: "(" + boolOf(cond) + " ? " + a.code + " : " + b.code + ")"}, nil
}

func (p *parser) feelIf() (node, error) {
	cond, err := p.or()
	if err != nil {
		return node{}, err
	}
	if err := p.expect("then"); err != nil {
		return node{}, err
	}
	a, err := p.ternary()
	if err != nil {
		return node{}, err
	}
	if err := p.expect("else"); err != nil {
		return node{}, err
	}
	b, err := p.ternary()
	if err != nil {
		return node{}, err
	}
	return node{code: "(" + boolOf(cond) + " ? " + a.code + " : " + b.code + ")"}, nil
}

func (p *parser) or() (node, error) {
	left, err := p.and()
	if err != nil {
		return node{}, err
	}
	for {
		if _, ok := p.accept("||", "or"); !ok {
			return left, nil
		}
		right, err := p.and()
		if err != nil {
			return node{}, err
		}
		left = node{code: "(" + boolOf(left) + " || " + boolOf(right) + ")", isBool: true}
	}
}

func (p *parser) and() (node, error) {
	left, err := p.equality()
	if err != nil {
		return node{}, err
	}
	for {
		if _, ok := p.accept("&&", "and"); !ok {
			return left, nil
		}
		right, err := p.equality()
		if err != nil {
			return node{}, err
		}
		left = node{code: "(" + boolOf(left) + " && " + boolOf(right) + ")", isBool: true}
	}
}

func (p *parser) equality() (node, error) {
	left, err := p.relational()
	if err != nil {
		return node{}, err
	}
	for {
		op, ok := p.accept("==", "=", "!=", "<>", "eq", "ne")
		if !ok {
			return left, nil
		}
		right, err := p.relational()
		if err != nil {
			return node{}, err
		}
		fn := "__eq"
		if op == "!=" || op == "<>" || op == "ne" {
			fn = "!__eq"
		}
		left = node{code: fn + "(" + left.code + ", " + right.code + ")", isBool: true}
	}
}

var relFuncs = map[string]string{"<": "__lt", "lt": "__lt", ">": "__gt", "gt": "__gt", "<=": "__le", "le": "__le", ">=": "__ge", "ge": "__ge"}

func (p *parser) relational() (node, error) {
	left, err := p.additive()
	if err != nil {
		return node{}, err
	}
	for {
		op, ok := p.accept("<", ">", "<=", ">=", "lt", "gt", "le", "ge")
		if !ok {
			return left, nil
		}
		right, err := p.additive()
		if err != nil {
			return node{}, err
		}
		left = node{code: relFuncs[op] + "(" + left.code + ", " + right.code + ")", isBool: true}
	}
}

func (p *parser) additive() (node, error) {
	left, err := p.multiplicative()
	if err != nil {
		return node{}, err
	}
	for {
		op, ok := p.accept("+", "-")
		if !ok {
			return left, nil
		}
		right, err := p.multiplicative()
		if err != nil {
			return node{}, err
		}
		fn := "__add"
		if op == "-" {
			fn = "__sub"
		}
		left = node{code: fn + "(" + left.code + ", " + right.code + ")"}
	}
}

func (p *parser) multiplicative() (node, error) {
	left, err := p.unary()
	if err != nil {
		return node{}, err
	}
	for {
		op, ok := p.accept("*", "/", "%", "div", "mod")
		if !ok {
			return left, nil
		}
		right, err := p.unary()
		if err != nil {
			return node{}, err
		}
		fn := map[string]string{"*": "__mul", "/": "__div", "div": "__div", "%": "__mod", "mod": "__mod"}[op]
		left = node{code: fn + "(" + left.code + ", " + right.code + ")"}
	}
}

func (p *parser) unary() (node, error) {
	op, ok := p.accept("!", "not", "-", "empty")
	if !ok {
		return p.postfix()
	}
	operand, err := p.unary()
	if err != nil {
		return node{}, err
	}
	switch op {
	case "-":
		return node{code: "__sub(0, " + operand.code + ")"}, nil
	case "empty":
		return node{code: "__empty(" + operand.code + ")", isBool: true}, nil
	default:
		return node{code: "!" + boolOf(operand), isBool: true}, nil
	}
}

func (p *parser) postfix() (node, error) {
	n, err := p.primary()
	if err != nil {
		return node{}, err
	}
	for {
		switch {
		case p.peek().kind == tokOp && p.peek().text == ".":
			p.next()
			name := p.next()
			if name.kind != tokIdent {
				return node{}, fmt.Errorf("expected a property name at %d", name.pos)
			}
			n = node{code: n.code + "?.[" + strconv.Quote(p.multiWord(name.text)) + "]"}
		case p.peek().kind == tokOp && p.peek().text == "[":
			p.next()
			idx, err := p.ternary()
			if err != nil {
				return node{}, err
			}
			if err := p.expect("]"); err != nil {
				return node{}, err
			}
			n = node{code: "__index(" + n.code + ", " + idx.code + ", " + strconv.FormatBool(p.dialect == FEEL) + ")"}
		default:
			return n, nil
		}
	}
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokNumber:
		if _, err := strconv.ParseFloat(t.text, 64); err != nil {
			return node{}, fmt.Errorf("bad number %q", t.text)
		}
		return node{code: t.text}, nil
	case tokString:
		return node{code: strconv.Quote(t.text)}, nil
	case tokIdent:
		return p.identifier(t)
	case tokOp:
		switch t.text {
		case "(":
			n, err := p.ternary()
			if err != nil {
				return node{}, err
			}
			return node{code: "(" + n.code + ")", isBool: n.isBool}, p.expect(")")
		case "[":
			return p.list()
		}
	}
	if t.kind == tokEOF {
		return node{}, fmt.Errorf("unexpected end of expression")
	}
	return node{}, fmt.Errorf("unexpected %q at %d", t.text, t.pos)
}

func (p *parser) list() (node, error) {
	var items []string
	if _, ok := p.accept("]"); ok {
		return node{code: "[]"}, nil
	}
	for {
		n, err := p.ternary()
		if err != nil {
			return node{}, err
		}
		items = append(items, n.code)
		if _, ok := p.accept(","); ok {
			continue
		}
		return node{code: "[" + strings.Join(items, ", ") + "]"}, p.expect("]")
	}
}

func (p *parser) identifier(t token) (node, error) {
	switch t.text {
	case "true", "false":
		return node{code: t.text, isBool: true}, nil
	case "null", "nil":
		return node{code: "nil"}, nil
	}
	if keywords[t.text] {
		return node{}, fmt.Errorf("unexpected %q at %d", t.text, t.pos)
	}
	if p.peek().kind == tokOp && p.peek().text == "(" {
		return p.call(t)
	}
	return node{code: "$env[" + strconv.Quote(p.multiWord(t.text)) + "]"}, nil
}

// multiWord joins adjacent plain identifiers into one name, as FEEL allows
// names with spaces ("Vacation Approval"); two identifiers in a row are a
// syntax error in JUEL, so the join never changes a valid JUEL expression.
func (p *parser) multiWord(first string) string {
	name := first
	for p.peek().kind == tokIdent && !keywords[p.peek().text] {
		if p.toks[p.pos+1].kind == tokOp && p.toks[p.pos+1].text == "(" {
			break
		}
		name += " " + p.next().text
	}
	return name
}

// funcs maps the functions we translate to their runtime helpers; anything
// else fails at deploy so that no expression surprises at run time.
var funcs = map[string]string{
	"string": "__string", "number": "__number", "contains": "__contains",
	"count": "__count", "size": "__count", "length": "__count",
}

func (p *parser) call(name token) (node, error) {
	p.next() // (
	var args []string
	if _, ok := p.accept(")"); !ok {
		for {
			n, err := p.ternary()
			if err != nil {
				return node{}, err
			}
			args = append(args, n.code)
			if _, ok := p.accept(","); ok {
				continue
			}
			if err := p.expect(")"); err != nil {
				return node{}, err
			}
			break
		}
	}
	fn := name.text
	if fn == "bpmn:getDataObject" || fn == "getDataObject" {
		if len(args) != 1 {
			return node{}, fmt.Errorf("%s takes one argument", fn)
		}
		return node{code: "$env[__name(" + args[0] + ")]"}, nil
	}
	helper, ok := funcs[fn]
	if !ok {
		return node{}, fmt.Errorf("function %s is not supported", fn)
	}
	return node{code: helper + "(" + strings.Join(args, ", ") + ")"}, nil
}
