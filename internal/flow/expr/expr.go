// Package expr compiles the expressions found in process definitions —
// JUEL style "${amount > 1000 && region == 'east'}" (Camunda 7, Flowable,
// Activiti) and FEEL style "= amount > 100 and region = \"east\"" (Camunda 8)
// — into github.com/expr-lang/expr programs at deploy time, so that anything
// we cannot translate fails at deploy, never at run time.
//
// Semantics chosen (documented because modelers differ):
//   - A variable that is not set evaluates to nil; it is never an error.
//     Property access on nil is nil ("a.b" with a missing is nil).
//   - Comparisons (<, >, <=, >=) with nil on either side are false, as FEEL's
//     null comparison yields null, which a condition treats as false.
//   - In a boolean position nil is false (JUEL coerces null to false);
//     any other non-boolean value there is an evaluation error.
//   - = and == and eq all mean equality; numbers compare by value whatever
//     their Go type (int, float64, json.Number).
//   - Arithmetic is done in float64; "+" concatenates when either side is a
//     string.
//   - Names may contain spaces as FEEL allows ("Vacation Approval").
//   - FEEL list indexes start at 1, JUEL ones at 0.
//   - bpmn:getDataObject('x') (XPath style, used by some modelers) reads
//     variable x.
//   - Supported functions: not, string, number, contains, count (size,
//     length). Method calls and other functions fail to compile.
//
// A bare text without "${" or a leading "=" is read in the lenient union of
// both dialects, which is what modelers emit for tFormalExpression bodies.
package expr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Dialect is the surface syntax an expression was written in.
type Dialect int

// The dialects we translate.
const (
	Plain Dialect = iota // bare text: the lenient union of JUEL and FEEL
	JUEL                 // ${...} or #{...}
	FEEL                 // =...
)

// ErrEmpty is returned by Compile for a blank expression.
var ErrEmpty = errors.New("expr: empty expression")

// Expr is a compiled expression. It is immutable and safe for concurrent use.
type Expr struct {
	Source  string  // the text as written in the model
	Dialect Dialect // how Source was read
	Code    string  // the expr-lang translation, for debugging
	program *vm.Program
}

// Compile detects the dialect of src and compiles it. It returns ErrEmpty for
// a blank source and a descriptive error (wrapping the translation or
// compilation failure) for anything it cannot translate.
func Compile(src string) (*Expr, error) {
	body, d := split(src)
	if strings.TrimSpace(body) == "" {
		return nil, ErrEmpty
	}
	code, err := translate(body, d)
	if err != nil {
		return nil, fmt.Errorf("expr: %q: %w", src, err)
	}
	prog, err := expr.Compile(code, options()...)
	if err != nil {
		return nil, fmt.Errorf("expr: %q: compile %q: %w", src, code, err)
	}
	return &Expr{Source: src, Dialect: d, Code: code, program: prog}, nil
}

// IsExpression reports whether s is written as an expression (JUEL ${...}
// or #{...}, or FEEL =...) rather than as a literal value.
func IsExpression(s string) bool {
	_, d := split(s)
	return d != Plain
}

// split strips the dialect markers from src.
func split(src string) (string, Dialect) {
	s := strings.TrimSpace(src)
	if (strings.HasPrefix(s, "${") || strings.HasPrefix(s, "#{")) && strings.HasSuffix(s, "}") && strings.Count(s, "${")+strings.Count(s, "#{") == 1 {
		return s[2 : len(s)-1], JUEL
	}
	if strings.HasPrefix(s, "=") {
		return s[1:], FEEL
	}
	return s, Plain
}

// Eval runs the expression against vars (which it never modifies). Missing
// variables are nil. It returns an error wrapping the runtime failure, for
// example a non-boolean operand of "and".
func (e *Expr) Eval(vars map[string]any) (any, error) {
	if vars == nil {
		vars = map[string]any{}
	}
	v, err := expr.Run(e.program, vars)
	if err != nil {
		return nil, fmt.Errorf("expr: evaluate %q: %w", e.Source, err)
	}
	return v, nil
}

// EvalBool evaluates a condition: nil is false, a boolean is itself. It
// returns an error for any other result type or an evaluation failure.
func (e *Expr) EvalBool(vars map[string]any) (bool, error) {
	v, err := e.Eval(vars)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	}
	return false, fmt.Errorf("expr: %q gave %T, want a boolean", e.Source, v)
}

// String returns the source text.
func (e *Expr) String() string { return e.Source }
