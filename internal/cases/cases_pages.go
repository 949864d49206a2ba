package cases

import (
	"embed"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templatesFS embed.FS

// Pages serves the service desk's screens: phone intake, the case list and
// the case page with its action forms, the butler's workbench, a
// technician's jobs and the categories. Every form works without
// JavaScript; scripts add the live search, live refresh and the signature
// pad.
type Pages struct {
	S *Service
	// Residences finds the caller's household by unit, name or phone; nil
	// searches unit numbers (UnitNumbers).
	Residences Residences
	// Care puts the butler's due care tasks on the workbench; nil: none.
	Care Care
}

func (h *Pages) residences() Residences {
	if h.Residences != nil {
		return h.Residences
	}
	return UnitNumbers{DB: h.S.db}
}

// AddPages registers the service desk's templates; each page is parsed
// with the shared partials (templates/partials.tmpl) appended.
func AddPages(r *web.Renderer) error {
	return r.AddPages(templatesFS, "templates", "templates/partials.tmpl")
}

// Nav lists the service desk in the main navigation.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.case_inbox", Href: "/inbox", Perm: auth.PermCaseView},
		{Key: "nav.case_new", Href: "/cases/new", Perm: auth.PermCaseCreate},
		{Key: "nav.cases", Href: "/cases", Perm: auth.PermCaseView},
		{Key: "nav.case_jobs", Href: "/jobs", Perm: auth.PermCaseWork},
		{Key: "nav.case_categories", Href: "/cases/categories", Perm: auth.PermCaseManage, Group: "nav.group.admin"},
	}
}

// Routes lists the screens and their form posts. Action posts need only
// case.view here: Do checks who may do what on the case.
func (h *Pages) Routes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/inbox", Perm: auth.PermCaseView, Handler: h.inboxPage},
		{Method: "GET", Path: "/jobs", Perm: auth.PermCaseView, Handler: h.jobsPage},
		{Method: "GET", Path: "/cases", Perm: auth.PermCaseView, Handler: h.listPage},
		{Method: "GET", Path: "/cases/new", Perm: auth.PermCaseCreate, Handler: h.intakePage},
		{Method: "GET", Path: "/cases/new/residences", Perm: auth.PermCaseCreate, Handler: h.residencesFragment},
		{Method: "GET", Path: "/cases/new/residence", Perm: auth.PermCaseCreate, Handler: h.residenceFragment},
		{Method: "POST", Path: "/cases", Perm: auth.PermCaseCreate, Handler: h.createForm},
		{Method: "POST", Path: "/cases/dispatch", Perm: auth.PermCaseDispatch, Handler: h.batchForm},
		{Method: "GET", Path: "/cases/categories", Perm: auth.PermCaseManage, Handler: h.categoriesPage},
		{Method: "POST", Path: "/cases/categories", Perm: auth.PermCaseManage, Handler: h.categoryForm},
		{Method: "GET", Path: "/cases/{id}", Perm: auth.PermCaseView, Handler: h.casePage},
		{Method: "POST", Path: "/cases/{id}/{action}", Perm: auth.PermCaseView, Handler: h.actionForm},
	}
}

// liveEvents are the event types a page listening to cases follows (see
// app.js): every action's, and a new case's.
func liveEvents() string {
	var b strings.Builder
	b.WriteString("case.created")
	for _, a := range Actions {
		b.WriteString(" case." + a)
	}
	return b.String()
}

// okFlashes are the confirmations a redirect may ask a page to show.
var okFlashes = func() map[string]bool {
	m := map[string]bool{"created": true, "category": true, "batch": true}
	for _, a := range Actions {
		m[a] = true
	}
	return m
}()

// flash returns the localised confirmation named by ?ok=, or "".
func flash(c *web.Ctx) string {
	if k := c.Query("ok"); okFlashes[k] {
		return c.L.T("casesui.ok." + k)
	}
	return ""
}

// localPath returns next when it is a path on this site, else def: a form's
// "next" must never send a person elsewhere.
func localPath(next, def string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.HasPrefix(next, "/\\") {
		if u, err := url.Parse(next); err == nil && u.Host == "" && u.Scheme == "" {
			return next
		}
	}
	return def
}

// withQuery adds key=value to a local path.
func withQuery(p, key, value string) string {
	sep := "?"
	if strings.Contains(p, "?") {
		sep = "&"
	}
	return p + sep + key + "=" + url.QueryEscape(value)
}

// userError reports whether err is a refusal meant for the person (shown
// next to the form), not a failure of ours.
func userError(err error) bool {
	switch errs.CodeOf(err) {
	case errs.EInvalid, errs.EConflict, errs.EForbidden:
		return true
	}
	return false
}

var numberRe = regexp.MustCompile(`^[A-Z]{2}-\d{8}-\d{4,6}$`)

// words translates keys of one family (casesui.<family>.<key>) and lists
// them as the locale writes a list.
func words(l i18n.Localizer, family string, keys []string) string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, l.T("casesui."+family+"."+k))
	}
	sep := "、"
	if l.Locale == "en" {
		sep = ", "
	}
	return strings.Join(out, sep)
}

// pageError makes a refusal readable: a wrong state names the state and
// the allowed actions in words instead of codes.
func pageError(c *web.Ctx, err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Key != "error.case.wrong_state" {
		return err
	}
	state, _ := e.Args["state"].(string)
	allowed, _ := e.Args["allowed"].([]string)
	st := c.L.T("casesui.state." + state)
	if paused, _ := e.Args["paused"].(bool); paused {
		st += "（" + c.L.T("casesui.paused") + "）"
	}
	acts := c.L.T("casesui.none")
	if len(allowed) > 0 {
		acts = words(c.L, "act", allowed)
	}
	return &errs.Error{Code: e.Code, Key: "casesui.wrong_state", Args: map[string]any{"state": st, "allowed": acts}}
}
