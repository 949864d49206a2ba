package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
)

//go:embed templates
var templatesFS embed.FS

// Renderer holds the parsed pages. The shared layout and partials live in
// this package; each module adds its own pages with AddPages.
type Renderer struct {
	base  *template.Template
	pages map[string]*template.Template
}

// Funcs available in every template.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"datetime": func(t any) string { return FormatTime(t, "2006-01-02 15:04") },
		"date":     func(t any) string { return FormatTime(t, "2006-01-02") },
		"derefID": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"join": strings.Join,
		"contains": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
		"add": func(a, b int) int { return a + b },
		"mul": func(a, b int) int { return a * b },
		"seq": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i + 1
			}
			return out
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"indent": func(depth int) string { return strings.Repeat("　", depth) },
	}
}

// displayZone is where times are shown unless a site says otherwise.
var displayZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// FormatTime shows an instant (time.Time or *time.Time) in the display zone.
func FormatTime(v any, layout string) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.In(displayZone).Format(layout)
	case *time.Time:
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(displayZone).Format(layout)
	}
	return ""
}

// NewRenderer parses the layout and partials.
func NewRenderer() (*Renderer, error) {
	base, err := template.New("base").Funcs(templateFuncs()).ParseFS(templatesFS, "templates/layout/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	r := &Renderer{base: base, pages: map[string]*template.Template{}}
	if err := r.AddPages(templatesFS, "templates/pages"); err != nil {
		return nil, err
	}
	return r, nil
}

// AddPages parses every *.html file in dir of fsys as a page named after the
// file (without .html). A page defines "title" and "content". shared names
// files of fsys (a module's partials) parsed with every page. A name used
// twice is an error.
func (r *Renderer) AddPages(fsys fs.FS, dir string, shared ...string) error {
	files, err := fs.Glob(fsys, path.Join(dir, "*.html"))
	if err != nil {
		return err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if _, dup := r.pages[name]; dup {
			return fmt.Errorf("web: page %q defined twice", name)
		}
		t, err := r.base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(fsys, append([]string{f}, shared...)...); err != nil {
			return fmt.Errorf("web: parse %s: %w", f, err)
		}
		r.pages[name] = t
	}
	return nil
}

// Page is what every page template receives.
type Page struct {
	Title  string
	L      i18n.Localizer
	P      *auth.Principal
	CSRF   string
	Nav    []NavItem
	Path   string
	Query  map[string]string
	Data   any
	Error  *ErrorView
	Flash  string
	Kiosk  bool
	Now    time.Time
	Locale string
}

// ErrorView is an error shown on a page: its message and field messages.
type ErrorView struct {
	Message string
	Fields  map[string]string
}

// Field returns the message for one field, or "".
func (e *ErrorView) Field(name string) string {
	if e == nil {
		return ""
	}
	return e.Fields[name]
}

// HTML renders a page with data. A form handler that failed validation
// passes the error so fields show their messages.
func (c *Ctx) HTML(status int, page string, data any, formErr error) error {
	t, ok := c.S.render.pages[page]
	if !ok {
		return fmt.Errorf("web: no page %q", page)
	}
	p := c.pageData(data)
	if formErr != nil {
		p.Error = c.errorView(formErr)
	}
	var buf bytes.Buffer
	name := "layout"
	if c.IsHTMX() && t.Lookup("fragment") != nil {
		name = "fragment"
	}
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	c.W.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.W.WriteHeader(status)
	c.status = status
	_, err := c.W.Write(buf.Bytes())
	return err
}

func (c *Ctx) pageData(data any) *Page {
	q := map[string]string{}
	for k, v := range c.R.URL.Query() {
		if len(v) > 0 {
			q[k] = v[0]
		}
	}
	p := &Page{L: c.L, P: c.P, Path: c.R.URL.Path, Query: q, Data: data, Now: time.Now(), Locale: c.L.Locale}
	if c.P != nil {
		p.CSRF = c.P.CSRF
		p.Nav = c.S.navFor(c.P, c.R.URL.Path)
	}
	return p
}

func (c *Ctx) errorView(err error) *ErrorView {
	ev := &ErrorView{Message: c.message(err)}
	var e *errs.Error // a wrapped validation error keeps its fields
	if asErr(err, &e) && len(e.Fields) > 0 {
		ev.Fields = map[string]string{}
		for f, k := range e.Fields {
			ev.Fields[f] = c.L.T(k)
		}
	}
	return ev
}

// message is the localised text for an error; internal errors say only
// "internal error", never their cause.
func (c *Ctx) message(err error) string {
	var e *errs.Error
	if asErr(err, &e) && e.Key != "" && e.Code != errs.EInternal {
		return c.L.C.TMap(c.L.Locale, e.Key, e.Args)
	}
	return c.L.T("error.internal")
}

// StatusOf maps an error code to an HTTP status.
func StatusOf(code errs.Code) int {
	switch code {
	case errs.EInvalid:
		return http.StatusUnprocessableEntity
	case errs.ENotFound:
		return http.StatusNotFound
	case errs.EConflict:
		return http.StatusConflict
	case errs.EForbidden:
		return http.StatusForbidden
	case errs.EUnauthorized:
		return http.StatusUnauthorized
	case errs.ETooMany:
		return http.StatusTooManyRequests
	case errs.EUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// APIError is the JSON error body.
type APIError struct {
	Error APIErrorBody `json:"error"`
}

// APIErrorBody carries the code, the localised message and field messages.
type APIErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	Details map[string]any    `json:"details,omitempty"`
}

// renderError writes err for the client.
func (c *Ctx) renderError(err error) {
	code := errs.CodeOf(err)
	status := StatusOf(code)
	if code == errs.EInternal {
		c.S.log.Error("request failed", "method", c.R.Method, "path", c.R.URL.Path, "err", err)
	}
	if c.IsAPI() {
		ev := c.errorView(err)
		body := APIError{Error: APIErrorBody{Code: string(code), Message: ev.Message, Fields: ev.Fields}}
		var e *errs.Error
		if asErr(err, &e) && len(e.Args) > 0 && code != errs.EInternal {
			body.Error.Details = e.Args
		}
		_ = c.JSON(status, body)
		return
	}
	if code == errs.EUnauthorized && c.route != nil && c.route.Access == Resident {
		_ = c.Redirect("/portal") // residents sign in on the portal, never on the staff login
		return
	}
	if code == errs.EUnauthorized && c.R.Method == http.MethodGet {
		_ = c.Redirect("/login?next=" + urlQueryEscape(c.R.URL.RequestURI()))
		return
	}
	if c.IsHTMX() {
		// htmx swaps nothing on 4xx by default; show the message in the toast area.
		c.W.Header().Set("HX-Retarget", "#flash")
		c.W.Header().Set("HX-Reswap", "innerHTML")
		c.W.Header().Set("Content-Type", "text/html; charset=utf-8")
		c.W.WriteHeader(http.StatusOK)
		fmt.Fprintf(c.W, `<div class="flash flash-error" role="alert">%s</div>`, template.HTMLEscapeString(c.message(err)))
		return
	}
	home := "/"
	if c.route != nil && c.route.Access == Resident {
		home = "/portal" // no way from the portal to the staff pages
	}
	if rerr := c.HTML(status, "error", map[string]any{"Status": status, "Message": c.message(err), "Home": home}, nil); rerr != nil {
		http.Error(c.W, c.message(err), status)
	}
}
