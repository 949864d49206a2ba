package machine

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/guanjia/guanjia/internal/flow/expr"
)

// setVars normalises vars to JSON values and sets them at process level,
// recording the changes as history.
func (r *run) setVars(vars map[string]any) error {
	if len(vars) == 0 {
		return nil
	}
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	changes := make([]VariableChange, 0, len(names))
	for _, k := range names {
		v, err := normalize(vars[k])
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrBadVars, k, err)
		}
		before, existed := r.st.Vars[k]
		if existed && reflect.DeepEqual(before, v) {
			continue
		}
		r.st.Vars[k] = v
		changes = append(changes, VariableChange{Name: k, Before: before, After: v, Existed: existed})
	}
	if len(changes) > 0 {
		r.emit(VariablesChanged{Changes: changes})
	}
	return nil
}

// normalize converts a value to what encoding/json would give back, so a
// state behaves the same before and after it is persisted.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool, float64:
		return x, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	}
	if f, ok := expr.ToFloat(v); ok {
		return f, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// env returns the variables an expression sees in scope: the process
// variables overlaid with multi-instance locals of enclosing instances
// (and of self, when given). Without locals it is the process map itself.
func (r *run) env(scope int64, self *Token) map[string]any {
	var chain []*Token
	if self != nil {
		chain = append(chain, self)
	}
	for id := scope; id != 0; {
		t := r.st.Token(id)
		if t == nil {
			break
		}
		chain = append(chain, t)
		id = t.Scope
	}
	var overlays []map[string]any
	for _, t := range chain {
		if t.Locals != nil {
			overlays = append(overlays, t.Locals)
		}
		if t.MI != nil {
			overlays = append(overlays, miLocals(t.MI))
		}
	}
	if len(overlays) == 0 {
		return r.st.Vars
	}
	env := make(map[string]any, len(r.st.Vars)+8)
	for k, v := range r.st.Vars {
		env[k] = v
	}
	for i := len(overlays) - 1; i >= 0; i-- {
		for k, v := range overlays[i] {
			env[k] = v
		}
	}
	return env
}

func miLocals(mi *MIBody) map[string]any {
	return map[string]any{
		"nrOfInstances":          float64(mi.Total),
		"nrOfCompletedInstances": float64(mi.Completed),
		"nrOfActiveInstances":    float64(mi.Active),
	}
}
