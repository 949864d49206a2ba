// Package errs is the small error model every module shares: an error carries a
// Code (what kind of failure), an i18n Key (what to tell the user) and, for bad
// input, per-field keys. Domain code returns these; only the web layer maps a
// Code to an HTTP status and translates keys.
package errs

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code classifies a failure.
type Code string

// The codes. Anything that is not an *Error is treated as EInternal.
const (
	EInvalid      Code = "invalid"      // bad input; Fields says which
	ENotFound     Code = "not_found"    // the thing does not exist (or is not visible to the caller)
	EConflict     Code = "conflict"     // the thing exists but is in the wrong state
	EForbidden    Code = "forbidden"    // the caller may not do this
	EUnauthorized Code = "unauthorized" // the caller is not signed in
	ETooMany      Code = "rate_limited" // slow down
	EUnavailable  Code = "unavailable"  // a dependency is down
	EInternal     Code = "internal"     // a bug or an unexpected failure
)

// Error is a domain error with a message key for the user.
type Error struct {
	Code   Code
	Key    string         // i18n key of the message, e.g. "error.staff.username_taken"
	Args   map[string]any // values for the message template
	Fields map[string]string
	// Fields maps a field name (JSON name) to the i18n key of its problem.
	Err error // the underlying cause, for logs; never shown to users
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	if len(e.Fields) > 0 {
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" [")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %s", k, e.Fields[k])
		}
		b.WriteString("]")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, &Error{Code: X}) match any *Error with code X.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Key == "" && t.Code == e.Code
}

// Sentinels for errors.Is checks on the code alone.
var (
	ErrInvalid      = &Error{Code: EInvalid}
	ErrNotFound     = &Error{Code: ENotFound}
	ErrConflict     = &Error{Code: EConflict}
	ErrForbidden    = &Error{Code: EForbidden}
	ErrUnauthorized = &Error{Code: EUnauthorized}
)

// New returns an error with a code and a message key.
func New(code Code, key string) *Error { return &Error{Code: code, Key: key} }

// Newf returns an error with a code, a message key and template arguments
// given as alternating name, value pairs.
func Newf(code Code, key string, kv ...any) *Error {
	e := &Error{Code: code, Key: key, Args: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Args[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return e
}

// NotFound is the common "no such thing" error.
func NotFound(key string) *Error { return New(ENotFound, key) }

// Forbidden is the common permission error.
func Forbidden() *Error { return New(EForbidden, "error.forbidden") }

// CodeOf returns the code of err, EInternal for anything that is not ours and
// "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// Validation collects field problems; its Err is nil while there are none.
//
//	v := errs.Validation{}
//	v.Required("name", in.Name)
//	v.MaxLen("name", in.Name, 100)
//	if err := v.Err(); err != nil { return err }
type Validation struct {
	fields map[string]string
}

// Add records a problem with field; the first problem of a field wins.
func (v *Validation) Add(field, key string) {
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = key
	}
}

// Check records key for field when ok is false.
func (v *Validation) Check(ok bool, field, key string) {
	if !ok {
		v.Add(field, key)
	}
}

// Required records "error.field.required" when s is blank.
func (v *Validation) Required(field, s string) {
	v.Check(strings.TrimSpace(s) != "", field, "error.field.required")
}

// MaxLen records "error.field.too_long" when s has more than n characters.
func (v *Validation) MaxLen(field, s string, n int) {
	v.Check(len([]rune(s)) <= n, field, "error.field.too_long")
}

// OneOf records "error.field.invalid_choice" when s is not one of choices.
func (v *Validation) OneOf(field, s string, choices ...string) {
	for _, c := range choices {
		if s == c {
			return
		}
	}
	v.Add(field, "error.field.invalid_choice")
}

// Has reports whether field already has a problem.
func (v *Validation) Has(field string) bool { _, ok := v.fields[field]; return ok }

// Err returns an EInvalid error listing the fields, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EInvalid, Key: "error.invalid_input", Fields: v.fields}
}

// Invalid returns an EInvalid error for a single field.
func Invalid(field, key string) *Error {
	return &Error{Code: EInvalid, Key: "error.invalid_input", Fields: map[string]string{field: key}}
}
