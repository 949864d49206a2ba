package expr

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
)

// options registers the runtime helpers the translation calls. They carry
// the nil-tolerant semantics documented on the package.
func options() []expr.Option {
	return []expr.Option{
		expr.AllowUndefinedVariables(),
		expr.Function("__bool", fnBool),
		expr.Function("__eq", func(a ...any) (any, error) { return equal(a[0], a[1]), nil }),
		expr.Function("__lt", compareFn(func(c int) bool { return c < 0 })),
		expr.Function("__gt", compareFn(func(c int) bool { return c > 0 })),
		expr.Function("__le", compareFn(func(c int) bool { return c <= 0 })),
		expr.Function("__ge", compareFn(func(c int) bool { return c >= 0 })),
		expr.Function("__add", fnAdd),
		expr.Function("__sub", arith(func(a, b float64) float64 { return a - b })),
		expr.Function("__mul", arith(func(a, b float64) float64 { return a * b })),
		expr.Function("__div", arith(func(a, b float64) float64 { return a / b })),
		expr.Function("__mod", arith(math.Mod)),
		expr.Function("__empty", func(a ...any) (any, error) { return isEmpty(a[0]), nil }),
		expr.Function("__index", fnIndex),
		expr.Function("__name", func(a ...any) (any, error) { return toString(a[0]), nil }),
		expr.Function("__string", func(a ...any) (any, error) { return toString(a[0]), nil }),
		expr.Function("__number", fnNumber),
		expr.Function("__contains", fnContains),
		expr.Function("__count", func(a ...any) (any, error) { return float64(length(a[0])), nil }),
	}
}

func fnBool(a ...any) (any, error) {
	switch v := a[0].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	}
	return nil, fmt.Errorf("%T is not a boolean", a[0])
}

// ToFloat converts any Go or JSON number to float64; ok is false for
// anything else.
func ToFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := ToFloat(a); ok {
		y, ok := ToFloat(b)
		return ok && x == y
	}
	if x, ok := a.(string); ok {
		y, ok := b.(string)
		return ok && x == y
	}
	if x, ok := a.(bool); ok {
		y, ok := b.(bool)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func compareFn(test func(int) bool) func(a ...any) (any, error) {
	return func(a ...any) (any, error) {
		if a[0] == nil || a[1] == nil {
			return false, nil
		}
		if x, ok := ToFloat(a[0]); ok {
			if y, ok := ToFloat(a[1]); ok {
				return test(cmpFloat(x, y)), nil
			}
		}
		if x, ok := a[0].(string); ok {
			if y, ok := a[1].(string); ok {
				return test(strings.Compare(x, y)), nil
			}
		}
		return nil, fmt.Errorf("cannot compare %T with %T", a[0], a[1])
	}
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func fnAdd(a ...any) (any, error) {
	_, sa := a[0].(string)
	_, sb := a[1].(string)
	if sa || sb {
		return toString(a[0]) + toString(a[1]), nil
	}
	return arith(func(x, y float64) float64 { return x + y })(a...)
}

func arith(op func(a, b float64) float64) func(a ...any) (any, error) {
	return func(a ...any) (any, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		x, ok1 := ToFloat(a[0])
		y, ok2 := ToFloat(a[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("arithmetic on %T and %T", a[0], a[1])
		}
		return op(x, y), nil
	}
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	if s, ok := v.(string); ok {
		return s == ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len() == 0
	}
	return false
}

func length(v any) int {
	if v == nil {
		return 0
	}
	if s, ok := v.(string); ok {
		return len([]rune(s))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array:
		return rv.Len()
	}
	return 1
}

func fnIndex(a ...any) (any, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	oneBased, _ := a[2].(bool)
	if m, ok := a[0].(map[string]any); ok {
		return m[toString(a[1])], nil
	}
	f, ok := ToFloat(a[1])
	if !ok {
		return nil, fmt.Errorf("index %T is not a number", a[1])
	}
	i := int(f)
	if oneBased {
		i--
	}
	rv := reflect.ValueOf(a[0])
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("cannot index %T", a[0])
	}
	if i < 0 || i >= rv.Len() {
		return nil, nil
	}
	return rv.Index(i).Interface(), nil
}

func fnNumber(a ...any) (any, error) {
	if f, ok := ToFloat(a[0]); ok {
		return f, nil
	}
	if s, ok := a[0].(string); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, nil
		}
		return f, nil
	}
	return nil, nil
}

func fnContains(a ...any) (any, error) {
	if s, ok := a[0].(string); ok {
		return strings.Contains(s, toString(a[1])), nil
	}
	rv := reflect.ValueOf(a[0])
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		for i := 0; i < rv.Len(); i++ {
			if equal(rv.Index(i).Interface(), a[1]) {
				return true, nil
			}
		}
	}
	return false, nil
}

// toString renders a value the way a modeler expects to see it in text:
// whole floats without a fraction, nil as "".
func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	if f, ok := ToFloat(v); ok {
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// String renders a value as text the way expressions do; the machine uses
// it for assignees and correlation keys.
func String(v any) string { return toString(v) }
