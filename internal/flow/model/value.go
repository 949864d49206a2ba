package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/flow/expr"
)

// Value is an attribute that is either a literal or an expression, such as
// an assignee "zhangsan" or "${initiator}".
type Value struct {
	Raw  string
	Expr *expr.Expr // nil for a literal
}

// ParseValue compiles raw when it is an expression. It returns an error when
// the expression does not compile; a blank raw gives the zero Value.
func ParseValue(raw string) (Value, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || !expr.IsExpression(raw) {
		return Value{Raw: raw}, nil
	}
	e, err := expr.Compile(raw)
	if err != nil {
		return Value{}, err
	}
	return Value{Raw: raw, Expr: e}, nil
}

// ParseList splits a comma-separated list ("a, ${team}") into Values; a
// list that is one expression is kept whole because it may yield a list
// itself and may contain commas. It returns
// the first compilation error.
func ParseList(raw string) ([]Value, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	if expr.IsExpression(raw) {
		v, err := ParseValue(raw)
		if err != nil {
			return nil, err
		}
		return []Value{v}, nil
	}
	var out []Value
	for _, part := range strings.Split(raw, ",") {
		if p := strings.TrimSpace(part); p != "" {
			v, err := ParseValue(p)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// IsZero reports whether nothing was written.
func (v Value) IsZero() bool { return v.Raw == "" }

// Eval returns the literal, or the expression's result against vars. It
// returns the evaluation error of the expression.
func (v Value) Eval(vars map[string]any) (any, error) {
	if v.Expr == nil {
		return v.Raw, nil
	}
	return v.Expr.Eval(vars)
}

// TimerKind says how a time value is to be read.
type TimerKind string

// The time value kinds. An expression's kind is known only once evaluated.
const (
	TimeDuration   TimerKind = "duration" // ISO 8601 duration, e.g. PT2H
	TimeDate       TimerKind = "date"     // ISO 8601 / RFC 3339 instant or date
	TimeCycle      TimerKind = "cycle"    // ISO 8601 repeating interval, e.g. R3/PT10M
	TimeExpression TimerKind = "expression"
)

// BusinessPrefix marks a time value as business time: "business:PT4H".
// The same can be said for every time value of an element with
// guanjia:calendar="business". The machine passes the flag to the injected
// resolver, which owns the calendar.
const BusinessPrefix = "business:"

// TimerSpec is a time value: a timer's timeDuration, timeDate or timeCycle,
// or a user task's due or follow-up date.
type TimerSpec struct {
	Kind     TimerKind
	Raw      string // as written, without the business: prefix
	Business bool
	Expr     *expr.Expr // set when Kind is TimeExpression
	// Want is what the position requires (a timer definition's element name
	// fixes it; due dates accept a duration or a date); used to check an
	// expression's result.
	Want TimerKind
}

// IsDuration reports whether the literal is a duration rather than a date.
func (s *TimerSpec) IsDuration() bool { return s.Kind == TimeDuration }

// ErrBadTime is wrapped by ParseTimer for values that are not ISO 8601.
var ErrBadTime = errors.New("not an ISO 8601 duration, date or cycle")

// ParseTimer reads a time value in position want (TimeDuration, TimeDate,
// TimeCycle, or "" for due dates which take a duration or a date). It
// returns an error wrapping ErrBadTime for a malformed literal, or the
// compilation error of an expression.
func ParseTimer(raw string, want TimerKind, business bool) (*TimerSpec, error) {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, BusinessPrefix) {
		business = true
		s = strings.TrimSpace(strings.TrimPrefix(s, BusinessPrefix))
	}
	spec := &TimerSpec{Raw: s, Business: business, Want: want}
	if expr.IsExpression(s) {
		e, err := expr.Compile(s)
		if err != nil {
			return nil, err
		}
		spec.Kind, spec.Expr = TimeExpression, e
		return spec, nil
	}
	kind, err := ClassifyTime(s, want)
	if err != nil {
		return nil, err
	}
	spec.Kind = kind
	return spec, nil
}

// ClassifyTime checks a literal time value and says which kind it is. It
// returns an error wrapping ErrBadTime when s does not parse as want.
func ClassifyTime(s string, want TimerKind) (TimerKind, error) {
	switch {
	case want == TimeCycle || (want == "" && strings.HasPrefix(s, "R")):
		if _, err := ParseCycle(s); err != nil {
			return "", err
		}
		return TimeCycle, nil
	case strings.HasPrefix(s, "P") || strings.HasPrefix(s, "-P"):
		if want == TimeDate {
			return "", fmt.Errorf("%q: %w (want a date)", s, ErrBadTime)
		}
		if _, err := ParseDuration(s); err != nil {
			return "", err
		}
		return TimeDuration, nil
	default:
		if want == TimeDuration {
			return "", fmt.Errorf("%q: %w (want a duration)", s, ErrBadTime)
		}
		if _, err := ParseDate(s); err != nil {
			return "", err
		}
		return TimeDate, nil
	}
}
