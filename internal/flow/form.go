package flow

import (
	"encoding/json"
	"math"
	"time"

	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/model"
)

// validateForm checks completion variables against a step's form fields:
// required ones present, each of its type. Field errors are keyed
// "variables.<field id>".
func validateForm(fields []model.FormField, vars map[string]any) error {
	var v errs.Validation
	for _, f := range fields {
		name := "variables." + f.ID
		val, ok := vars[f.ID]
		if !ok || val == nil || val == "" {
			if f.Required {
				v.Add(name, "error.field.required")
			}
			continue
		}
		v.Check(fieldOK(f, val), name, "error.field.wrong_type")
	}
	return v.Err()
}

func fieldOK(f model.FormField, val any) bool {
	switch f.Type {
	case "string":
		s, ok := val.(string)
		return ok && len([]rune(s)) <= 4000
	case "long":
		switch n := val.(type) {
		case json.Number:
			_, err := n.Int64()
			return err == nil
		case float64:
			return n == math.Trunc(n)
		case int, int64:
			return true
		}
		return false
	case "boolean":
		_, ok := val.(bool)
		return ok
	case "date":
		s, ok := val.(string)
		if !ok {
			return false
		}
		if _, err := time.Parse("2006-01-02", s); err == nil {
			return true
		}
		_, err := time.Parse(time.RFC3339, s)
		return err == nil
	case "enum":
		s, ok := val.(string)
		if !ok {
			return false
		}
		for _, c := range f.Values {
			if c == s {
				return true
			}
		}
		return false
	}
	return true
}
