package notify

import (
	"embed"
	"net/http"
	"net/url"
	"strings"

	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templates embed.FS

// AddPages registers the bell's templates.
func AddPages(r *web.Renderer) error { return r.AddPages(templates, "templates") }

// Pages serves the bell: its unread count for the top bar (an htmx
// partial, so the web shell need not know this package), the list of
// notifications and the forms that mark them read. Every signed-in person
// has a bell.
type Pages struct{ S *Service }

// Routes lists the bell's pages.
func (h *Pages) Routes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/notifications", Handler: h.listPage},
		{Method: "GET", Path: "/notifications/bell", Handler: h.bell},
		{Method: "POST", Path: "/notifications/read-all", Handler: h.readAllForm},
		{Method: "POST", Path: "/notifications/{id}/read", Handler: h.readForm},
		{Method: "GET", Path: "/notifications/preferences", Handler: h.prefsPage},
		{Method: "POST", Path: "/notifications/preferences", Handler: h.prefsForm},
	}
}

// pageLimit is how many notifications a page of the list shows.
const pageLimit = 50

type listData struct {
	*Page
	UnreadOnly bool
	Older      bool // a page after the first
	Flash      string
}

func (h *Pages) listPage(c *web.Ctx) error {
	before, err := c.QueryID("before")
	if err != nil {
		return err
	}
	d := &listData{UnreadOnly: c.Query("unread") == "1", Older: before > 0}
	if d.Page, err = h.S.List(c.R.Context(), c.P.StaffID, d.UnreadOnly, before, pageLimit); err != nil {
		return err
	}
	if c.Query("ok") == "read" {
		d.Flash = c.L.T("bell.all_read")
	}
	return c.HTML(http.StatusOK, "notifications", d, nil)
}

type bellData struct{ Unread int }

// bell answers the top bar's bell (htmx); a plain request goes to the list.
func (h *Pages) bell(c *web.Ctx) error {
	if !c.IsHTMX() {
		return c.Redirect("/notifications")
	}
	p, err := h.S.List(c.R.Context(), c.P.StaffID, true, 0, 1)
	if err != nil {
		return err
	}
	c.W.Header().Set("Cache-Control", "no-store")
	return c.HTML(http.StatusOK, "notifications_bell", &bellData{Unread: p.Unread}, nil)
}

// readForm marks one notification read and follows its link (next), so
// opening a notification reads it.
func (h *Pages) readForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.S.MarkRead(c.R.Context(), c.P.StaffID, id); err != nil {
		return err
	}
	return c.Redirect(localPath(c.R.FormValue("next"), "/notifications"))
}

func (h *Pages) readAllForm(c *web.Ctx) error {
	if err := h.S.MarkRead(c.R.Context(), c.P.StaffID, 0); err != nil {
		return err
	}
	return c.Redirect("/notifications?ok=read")
}

// localPath returns next when it is a path on this site, else def.
func localPath(next, def string) string {
	if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") && !strings.HasPrefix(next, "/\\") {
		if u, err := url.Parse(next); err == nil && u.Host == "" && u.Scheme == "" {
			return next
		}
	}
	return def
}

type prefsData struct {
	Prefs
	Saved bool
}

func (h *Pages) prefsPage(c *web.Ctx) error {
	p, err := h.S.Prefs(c.R.Context(), c.P.StaffID)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "notifications_prefs", &prefsData{Prefs: p, Saved: c.Query("ok") == "saved"}, nil)
}

// prefsFormInput is the form: an unticked box sends nothing, so texts are
// off unless "sms" comes.
type prefsFormInput struct {
	SMS        string `json:"sms"`
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
}

func (h *Pages) prefsForm(c *web.Ctx) error {
	var f prefsFormInput
	if err := c.Decode(&f); err != nil {
		return err
	}
	on := f.SMS != ""
	if _, err := h.S.SetPrefs(c.R.Context(), c.P.StaffID, PrefsInput{SMS: &on, QuietStart: &f.QuietStart, QuietEnd: &f.QuietEnd}); err != nil {
		if errs.CodeOf(err) != errs.EInvalid {
			return err
		}
		return c.HTML(http.StatusUnprocessableEntity, "notifications_prefs", &prefsData{Prefs: Prefs{SMS: on, QuietStart: f.QuietStart, QuietEnd: f.QuietEnd}}, err)
	}
	return c.Redirect("/notifications/preferences?ok=saved")
}
