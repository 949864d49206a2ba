package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
)

// HandlerFunc handles a request; a returned error is rendered for the client
// (JSON for the API, an HTML page otherwise).
type HandlerFunc func(c *Ctx) error

// Ctx is one request.
type Ctx struct {
	W http.ResponseWriter
	R *http.Request
	S *Server
	P *auth.Principal // nil when nobody is signed in
	// Resident is the portal user of a Resident route (set by PortalAuth).
	Resident any
	L        i18n.Localizer
	IP       string
	route    *Route
	status   int
}

// IsAPI reports whether the client wants JSON.
func (c *Ctx) IsAPI() bool {
	if strings.HasPrefix(c.R.URL.Path, "/api/") {
		return true
	}
	return strings.Contains(c.R.Header.Get("Accept"), "application/json") && !strings.Contains(c.R.Header.Get("Accept"), "text/html")
}

// IsHTMX reports whether the request came from htmx.
func (c *Ctx) IsHTMX() bool { return c.R.Header.Get("HX-Request") == "true" }

// JSON writes v with status.
func (c *Ctx) JSON(status int, v any) error {
	c.W.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.W.WriteHeader(status)
	c.status = status
	enc := json.NewEncoder(c.W)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// NoContent writes 204.
func (c *Ctx) NoContent() error {
	c.W.WriteHeader(http.StatusNoContent)
	c.status = http.StatusNoContent
	return nil
}

// Redirect sends a 303 to url (htmx gets HX-Redirect).
func (c *Ctx) Redirect(url string) error {
	if c.IsHTMX() {
		c.W.Header().Set("HX-Redirect", url)
		c.W.WriteHeader(http.StatusOK)
		return nil
	}
	http.Redirect(c.W, c.R, url, http.StatusSeeOther)
	return nil
}

// PathID parses a numeric path value; ENotFound when it is not a number.
func (c *Ctx) PathID(name string) (int64, error) {
	id, err := strconv.ParseInt(c.R.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.NotFound("error.not_found")
	}
	return id, nil
}

// QueryID reads an id-valued query parameter (a cursor, say): 0 when
// absent; anything but a positive integer is EInvalid on it.
func (c *Ctx) QueryID(name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Invalid(name, "error.field.wrong_type")
	}
	return id, nil
}

// QueryInt reads an integer query parameter; def when absent or malformed.
func (c *Ctx) QueryInt(name string, def int) int {
	v, err := strconv.Atoi(c.R.URL.Query().Get(name))
	if err != nil {
		return def
	}
	return v
}

// QueryInt64 reads an id-like query parameter; 0 when absent.
func (c *Ctx) QueryInt64(name string) int64 {
	v, _ := strconv.ParseInt(c.R.URL.Query().Get(name), 10, 64)
	return v
}

// Query reads a query parameter.
func (c *Ctx) Query(name string) string { return strings.TrimSpace(c.R.URL.Query().Get(name)) }

// maxBody caps request bodies that are decoded into structs.
const maxBody = 1 << 20

// Decode reads the request body (JSON, or an HTML form) into dst, a pointer
// to a struct whose fields carry json tags. A malformed body or a value of
// the wrong type is EInvalid naming the field.
func (c *Ctx) Decode(dst any) error {
	ct := c.R.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		if err := c.R.ParseMultipartForm(maxBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return errs.Invalid("body", "error.body.malformed")
		}
		return decodeForm(c.R.PostForm, dst)
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.W, c.R.Body, maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errs.Invalid("body", "error.body.too_large")
	case err != nil:
		return errs.Invalid("body", "error.body.malformed")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return errs.Invalid(te.Field, "error.field.wrong_type")
		case errors.Is(err, io.EOF):
			return errs.Invalid("body", "error.body.empty")
		}
		if f := failingField(b, dst); f != "" {
			return errs.Invalid(f, "error.field.wrong_type")
		}
		return errs.Invalid("body", "error.body.malformed")
	}
	// One JSON value and nothing after it: a client that sends two has a
	// bug, and acting on the first would hide it.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.Invalid("body", "error.body.malformed")
	}
	return nil
}

// failingField names the field of a JSON object whose value dst cannot take
// when encoding/json does not say (a value's own UnmarshalJSON failed, as
// time.Time does for "tomorrow"); "" when it cannot tell.
func failingField(b []byte, dst any) string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		return ""
	}
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		for key, v := range raw {
			if strings.EqualFold(key, name) && json.Unmarshal(v, reflect.New(f.Type).Interface()) != nil {
				return name
			}
		}
	}
	return ""
}

// decodeForm fills a struct from form values by json tag name. Supported
// field kinds: string, bool, ints, *int64, []string, *time.Time (RFC 3339 or
// the datetime-local input format).
func decodeForm(form url.Values, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	var val errs.Validation
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		vals, ok := form[name]
		if !ok {
			if f.Type.Kind() == reflect.Bool {
				v.Field(i).SetBool(false) // an unchecked box sends nothing
			}
			continue
		}
		if !setField(v.Field(i), vals) {
			val.Add(name, "error.field.wrong_type")
		}
	}
	return val.Err()
}

var timeType = reflect.TypeOf(time.Time{})

func setField(fv reflect.Value, vals []string) bool {
	s := ""
	if len(vals) > 0 {
		s = strings.TrimSpace(vals[0])
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Bool:
		fv.SetBool(s == "on" || s == "true" || s == "1")
	case reflect.Int, reflect.Int32, reflect.Int64:
		if s == "" {
			return true
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false
		}
		fv.SetInt(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return false
		}
		out := reflect.MakeSlice(fv.Type(), 0, len(vals))
		for _, x := range vals {
			if x = strings.TrimSpace(x); x != "" {
				out = reflect.Append(out, reflect.ValueOf(x))
			}
		}
		fv.Set(out)
	case reflect.Pointer:
		if s == "" {
			fv.Set(reflect.Zero(fv.Type()))
			return true
		}
		elem := reflect.New(fv.Type().Elem())
		if fv.Type().Elem() == timeType {
			tm, err := parseFormTime(s)
			if err != nil {
				return false
			}
			elem.Elem().Set(reflect.ValueOf(tm))
		} else if !setField(elem.Elem(), []string{s}) {
			return false
		}
		fv.Set(elem)
	default:
		return false
	}
	return true
}

func parseFormTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.UTC
	}
	return time.ParseInLocation("2006-01-02T15:04", s, loc)
}

// RawBody reads a non-JSON request body of at most limit bytes; EInvalid
// when it is larger or empty.
func (c *Ctx) RawBody(limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.W, c.R.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, errs.Invalid("body", "error.body.too_large")
	case err != nil:
		return nil, errs.Invalid("body", "error.body.malformed")
	case len(b) == 0:
		return nil, errs.Invalid("body", "error.body.empty")
	}
	return b, nil
}
