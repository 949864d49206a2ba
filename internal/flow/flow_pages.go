package flow

import (
	"context"
	"embed"
	"net/url"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed pages
var pagesFS embed.FS

// Choice is a person, team or site offered in a select.
type Choice struct {
	ID   int64
	Name string
	Hint string // where they belong, to tell two of the same name apart
}

// Directory is what the process screens need to know about people and
// places; the org module provides it, scoped to the caller in ctx.
type Directory interface {
	// Sites returns the sites the caller may view, in tree order.
	Sites(ctx context.Context) ([]Choice, error)
	// People returns the active staff the caller may view.
	People(ctx context.Context) ([]Choice, error)
	// Teams returns the departments the caller may view.
	Teams(ctx context.Context) ([]Choice, error)
}

// Pages serves the process screens: processes and the modeler, instances,
// the task inbox, the task page and the dispatch screen. Every page works
// without JavaScript except the diagram editor.
type Pages struct {
	E   *Engine
	Dir Directory
}

// AddPages registers the process screens' templates. Each page is parsed
// with the shared partials (pages/partials.tmpl).
func AddPages(r *web.Renderer) error {
	return r.AddPages(pagesFS, "pages", "pages/partials.tmpl")
}

// Nav lists the task inbox and the processes in the main navigation.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.tasks", Href: "/tasks", Perm: auth.PermTaskWork},
		{Key: "nav.processes", Href: "/processes", Perm: auth.PermFlowView},
	}
}

// Routes lists the process screens and their form posts.
func (h *Pages) Routes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/processes", Perm: auth.PermFlowView, Handler: h.processesPage},
		{Method: "POST", Path: "/processes", Perm: auth.PermFlowDesign, Handler: h.uploadForm},
		{Method: "GET", Path: "/processes/new", Perm: auth.PermFlowDesign, Handler: h.modelerPage},
		{Method: "GET", Path: "/processes/{id}", Perm: auth.PermFlowView, Handler: h.definitionPage},
		{Method: "GET", Path: "/processes/{id}/edit", Perm: auth.PermFlowDesign, Handler: h.modelerPage},
		{Method: "GET", Path: "/instances", Perm: auth.PermFlowView, Handler: h.instancesPage},
		{Method: "POST", Path: "/instances", Perm: auth.PermFlowStart, Handler: h.startForm},
		{Method: "GET", Path: "/instances/{id}", Perm: auth.PermFlowView, Handler: h.instancePage},
		{Method: "POST", Path: "/instances/{id}/cancel", Perm: auth.PermFlowStart, Handler: h.cancelForm},
		{Method: "GET", Path: "/tasks", Perm: auth.PermTaskWork, Handler: h.inboxPage},
		{Method: "GET", Path: "/tasks/dispatch", Perm: auth.PermTaskDispatch, Handler: h.dispatchPage},
		{Method: "POST", Path: "/tasks/dispatch", Perm: auth.PermTaskDispatch, Handler: h.dispatchForm},
		{Method: "GET", Path: "/tasks/{id}", Perm: auth.PermTaskWork, Handler: h.taskPage},
		{Method: "POST", Path: "/tasks/{id}/claim", Perm: auth.PermTaskWork, Handler: h.claimForm},
		{Method: "POST", Path: "/tasks/{id}/unclaim", Perm: auth.PermTaskWork, Handler: h.unclaimForm},
		{Method: "POST", Path: "/tasks/{id}/complete", Perm: auth.PermTaskWork, Handler: h.completeForm},
		{Method: "POST", Path: "/tasks/{id}/delegate", Perm: auth.PermTaskWork, Handler: h.delegateForm},
		{Method: "POST", Path: "/tasks/{id}/resolve", Perm: auth.PermTaskWork, Handler: h.resolveForm},
		{Method: "POST", Path: "/tasks/{id}/comment", Perm: auth.PermTaskWork, Handler: h.commentForm},
		{Method: "POST", Path: "/tasks/{id}/remind", Perm: auth.PermTaskDispatch, Handler: h.remindForm},
		{Method: "POST", Path: "/tasks/{id}/assign", Perm: auth.PermTaskDispatch, Handler: h.assignForm},
	}
}

// okFlashes are the confirmations a redirect may ask a page to show
// (?ok=claimed); anything else in the URL shows nothing.
var okFlashes = map[string]bool{
	"deployed": true, "started": true, "cancelled": true, "claimed": true, "unclaimed": true, "completed": true,
	"delegated": true, "resolved": true, "commented": true, "reminded": true, "assigned": true, "dispatched": true,
}

// flash returns the localised confirmation named by ?ok=, or "".
func flash(c *web.Ctx) string {
	if k := c.Query("ok"); okFlashes[k] {
		return c.L.T("flowui.ok." + k)
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

// withOK adds ok=what to a local path.
func withOK(p, what string) string {
	sep := "?"
	if strings.Contains(p, "?") {
		sep = "&"
	}
	return p + sep + "ok=" + what
}

// problemsOf returns the deploy problems carried by an EInvalid error.
func problemsOf(err error) []string {
	var e *errs.Error
	if !asErr(err, &e) {
		return nil
	}
	ps, _ := e.Args["problems"].([]string)
	return ps
}

// userError reports whether err is meant for the person (a refusal, not a
// failure of ours): pages show it next to the form instead of an error page.
func userError(err error) bool {
	switch errs.CodeOf(err) {
	case errs.EInvalid, errs.EConflict, errs.EForbidden:
		return true
	}
	return false
}
