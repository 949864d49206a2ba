package admin

import (
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templates embed.FS

// AddPages registers this module's pages.
func AddPages(r *web.Renderer) error { return r.AddPages(templates, "templates") }

// Nav lists this module's navigation entries.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.announcements", Href: "/announcements", Perm: auth.PermAnnounceManage, Group: "nav.group.admin"},
		{Key: "nav.tokens", Href: "/tokens", Perm: auth.PermTokenManage, Group: "nav.group.admin"},
		{Key: "nav.audit", Href: "/audit", Perm: auth.PermAuditView, Group: "nav.group.admin"},
	}
}

// HTTP serves the system log, API tokens and announcements.
type HTTP struct {
	DB   *db.DB
	Log  *audit.Log
	Auth *auth.Service
	Ann  *Announcements
}

// AuditPage is a page of log rows.
type AuditPage struct {
	Items  []audit.Row `json:"items"`
	More   bool        `json:"more"`
	NextID int64       `json:"next_before_id,omitempty"`
}

// TokenList lists API tokens.
type TokenList struct {
	Items []auth.APIToken `json:"items"`
}

// TokenInput creates a token.
type TokenInput struct {
	Name      string     `json:"name"`
	StaffID   int64      `json:"staff_id"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// TokenCreated returns the clear token once.
type TokenCreated struct {
	Token string        `json:"token"`
	Info  auth.APIToken `json:"info"`
}

// AnnouncementList lists announcements.
type AnnouncementList struct {
	Items []Announcement `json:"items"`
}

// Routes lists the endpoints.
func (h *HTTP) Routes() []web.Route {
	auditQuery := []web.Param{{Name: "actor_id", Type: "integer"}, {Name: "entity"}, {Name: "entity_id"}, {Name: "action"},
		{Name: "from", Desc: "date YYYY-MM-DD or RFC 3339"}, {Name: "to", Desc: "date YYYY-MM-DD or RFC 3339"}, {Name: "before_id", Type: "integer"}}
	return []web.Route{
		{Method: "GET", Path: "/api/v1/audit", Perm: auth.PermAuditView, Handler: h.apiAudit,
			Doc: &web.Doc{Summary: "The system log, newest first", Tag: "admin", Query: auditQuery, Resp: AuditPage{}}},
		{Method: "GET", Path: "/api/v1/tokens", Perm: auth.PermTokenManage, Handler: h.apiTokens,
			Doc: &web.Doc{Summary: "API tokens", Tag: "admin", Resp: TokenList{}}},
		{Method: "POST", Path: "/api/v1/tokens", Perm: auth.PermTokenManage, Handler: h.apiCreateToken,
			Doc: &web.Doc{Summary: "Create an API token (the clear token is returned once)", Tag: "admin", Body: TokenInput{}, Resp: TokenCreated{}, Status: http.StatusCreated}},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", Perm: auth.PermTokenManage, Handler: h.apiRevokeToken,
			Doc: &web.Doc{Summary: "Revoke an API token", Tag: "admin", Status: http.StatusNoContent}},
		{Method: "GET", Path: "/api/v1/announcements", Handler: h.apiCurrent,
			Doc: &web.Doc{Summary: "Announcements in force for the caller", Tag: "admin", Resp: AnnouncementList{}}},
		{Method: "GET", Path: "/api/v1/announcements/managed", Perm: auth.PermAnnounceManage, Handler: h.apiManaged,
			Doc: &web.Doc{Summary: "Announcements the caller manages", Tag: "admin", Resp: AnnouncementList{}}},
		{Method: "POST", Path: "/api/v1/announcements", Perm: auth.PermAnnounceManage, Handler: h.apiCreateAnn,
			Doc: &web.Doc{Summary: "Publish an announcement", Tag: "admin", Body: AnnouncementInput{}, Resp: Announcement{}, Status: http.StatusCreated}},
		{Method: "DELETE", Path: "/api/v1/announcements/{id}", Perm: auth.PermAnnounceManage, Handler: h.apiDeleteAnn,
			Doc: &web.Doc{Summary: "Delete an announcement", Tag: "admin", Status: http.StatusNoContent}},

		{Method: "GET", Path: "/audit", Perm: auth.PermAuditView, Handler: h.auditPage},
		{Method: "GET", Path: "/tokens", Perm: auth.PermTokenManage, Handler: h.tokensPage},
		{Method: "POST", Path: "/tokens", Perm: auth.PermTokenManage, Handler: h.tokenCreateForm},
		{Method: "POST", Path: "/tokens/{id}/revoke", Perm: auth.PermTokenManage, Handler: h.tokenRevokeForm},
		{Method: "GET", Path: "/announcements", Perm: auth.PermAnnounceManage, Handler: h.annPage},
		{Method: "POST", Path: "/announcements", Perm: auth.PermAnnounceManage, Handler: h.annCreateForm},
		{Method: "POST", Path: "/announcements/{id}/delete", Perm: auth.PermAnnounceManage, Handler: h.annDeleteForm},
	}
}

// parseDay reads a date (YYYY-MM-DD, in China time) or an RFC 3339 instant.
func parseDay(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	return t, err == nil
}

func (h *HTTP) auditFilter(c *web.Ctx) (audit.Filter, error) {
	f := audit.Filter{ActorID: c.QueryInt64("actor_id"), Entity: c.Query("entity"), EntityID: c.Query("entity_id"), Action: c.Query("action"),
		BeforeID: c.QueryInt64("before_id"), Limit: c.QueryInt("limit", 50), Scope: c.P.Scope(auth.PermAuditView)}
	var v errs.Validation
	from, ok := parseDay(c.Query("from"))
	v.Check(ok, "from", "error.field.wrong_type")
	to, ok := parseDay(c.Query("to"))
	v.Check(ok, "to", "error.field.wrong_type")
	if !to.IsZero() && len(c.Query("to")) == 10 {
		to = to.AddDate(0, 0, 1) // a date means through the end of that day
	}
	f.From, f.To = from, to
	return f, v.Err()
}

func (h *HTTP) apiAudit(c *web.Ctx) error {
	f, err := h.auditFilter(c)
	if err != nil {
		return err
	}
	rows, more, err := h.Log.List(c.R.Context(), f)
	if err != nil {
		return err
	}
	p := AuditPage{Items: rows, More: more}
	if p.Items == nil {
		p.Items = []audit.Row{}
	}
	if more {
		p.NextID = rows[len(rows)-1].ID
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) auditPage(c *web.Ctx) error {
	f, ferr := h.auditFilter(c)
	var p AuditPage
	if ferr == nil {
		rows, more, err := h.Log.List(c.R.Context(), f)
		if err != nil {
			return err
		}
		p = AuditPage{Items: rows, More: more}
		if more {
			p.NextID = rows[len(rows)-1].ID
		}
	}
	q := c.R.URL.Query()
	q.Del("before_id")
	return c.HTML(http.StatusOK, "audit", map[string]any{"Page": p, "Base": "/audit?" + q.Encode()}, ferr)
}

func (h *HTTP) apiTokens(c *web.Ctx) error {
	ts, err := h.Auth.ListTokens(c.R.Context(), c.P.Scope(auth.PermTokenManage))
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []auth.APIToken{}
	}
	return c.JSON(http.StatusOK, TokenList{Items: ts})
}

// createToken checks that the caller manages tokens where the staff member
// is and holds every scope it hands out.
func (h *HTTP) createToken(c *web.Ctx, in TokenInput) (string, *auth.APIToken, error) {
	var path string
	err := h.DB.Q(c.R.Context()).QueryRowContext(c.R.Context(), `SELECT node_path FROM staff WHERE id = ?`, in.StaffID).Scan(&path)
	if err != nil {
		return "", nil, errs.Invalid("staff_id", "error.field.unknown_id")
	}
	if !c.P.Can(auth.PermTokenManage, path) {
		return "", nil, errs.Forbidden()
	}
	for _, sc := range in.Scopes {
		if auth.IsPerm(sc) && !c.P.Can(auth.Perm(sc), path) {
			return "", nil, errs.Newf(errs.EForbidden, "error.role.escalation", "permission", sc)
		}
	}
	return h.Auth.CreateToken(c.R.Context(), in.Name, in.StaffID, in.Scopes, in.ExpiresAt)
}

func (h *HTTP) apiCreateToken(c *web.Ctx) error {
	var in TokenInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	clear, t, err := h.createToken(c, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, TokenCreated{Token: clear, Info: *t})
}

func (h *HTTP) revoke(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	path, err := h.Auth.TokenOwnerPath(c.R.Context(), id)
	if err != nil {
		return err
	}
	if !c.P.Can(auth.PermTokenManage, path) {
		return errs.NotFound("error.token.not_found")
	}
	return h.Auth.RevokeToken(c.R.Context(), id)
}

func (h *HTTP) apiRevokeToken(c *web.Ctx) error {
	if err := h.revoke(c); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) tokensData(c *web.Ctx, form TokenInput, created string) (map[string]any, error) {
	ts, err := h.Auth.ListTokens(c.R.Context(), c.P.Scope(auth.PermTokenManage))
	if err != nil {
		return nil, err
	}
	var perms []string
	for _, p := range auth.AllPerms() {
		perms = append(perms, string(p))
	}
	return map[string]any{"Tokens": ts, "Form": form, "Created": created, "Perms": perms}, nil
}

func (h *HTTP) tokensPage(c *web.Ctx) error {
	d, err := h.tokensData(c, TokenInput{StaffID: c.P.StaffID}, "")
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "tokens", d, nil)
}

func (h *HTTP) tokenCreateForm(c *web.Ctx) error {
	var in TokenInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	clear, _, err := h.createToken(c, in)
	code := errs.CodeOf(err)
	if err != nil && code != errs.EInvalid && code != errs.EForbidden {
		return err
	}
	d, derr := h.tokensData(c, in, clear)
	if derr != nil {
		return derr
	}
	status := http.StatusOK
	if err != nil {
		status = web.StatusOf(code)
	}
	return c.HTML(status, "tokens", d, err)
}

func (h *HTTP) tokenRevokeForm(c *web.Ctx) error {
	if err := h.revoke(c); err != nil {
		return err
	}
	return c.Redirect("/tokens")
}

func (h *HTTP) apiCurrent(c *web.Ctx) error {
	as, err := h.Ann.Current(c.R.Context(), c.P.NodePath, time.Now().UTC(), 50)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AnnouncementList{Items: as})
}

func (h *HTTP) apiManaged(c *web.Ctx) error {
	as, err := h.Ann.List(c.R.Context(), 200)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AnnouncementList{Items: as})
}

func (h *HTTP) apiCreateAnn(c *web.Ctx) error {
	var in AnnouncementInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	a, err := h.Ann.Create(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (h *HTTP) apiDeleteAnn(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.Ann.Delete(c.R.Context(), id); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) annData(c *web.Ctx, form AnnouncementInput) (map[string]any, error) {
	as, err := h.Ann.List(c.R.Context(), 200)
	if err != nil {
		return nil, err
	}
	nodes, err := h.nodesFor(c, auth.PermAnnounceManage)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Items": as, "Form": form, "Nodes": nodes}, nil
}

// NodeOption is a choice in a node picker.
type NodeOption struct {
	ID    int64
	Name  string
	Depth int
}

func (h *HTTP) nodesFor(c *web.Ctx, perm auth.Perm) ([]NodeOption, error) {
	cond, args := auth.ScopeSQL("path", c.P.Scope(perm))
	rows, err := h.DB.Q(c.R.Context()).QueryContext(c.R.Context(), `SELECT id, name, depth FROM org_nodes WHERE `+cond+` AND kind <> 'area' ORDER BY path LIMIT 2000`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []NodeOption
	for rows.Next() {
		var n NodeOption
		if err := rows.Scan(&n.ID, &n.Name, &n.Depth); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (h *HTTP) annPage(c *web.Ctx) error {
	d, err := h.annData(c, AnnouncementInput{})
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "announcements", d, nil)
}

func (h *HTTP) annCreateForm(c *web.Ctx) error {
	var in AnnouncementInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.Ann.Create(c.R.Context(), in); err != nil {
		code := errs.CodeOf(err)
		if code != errs.EInvalid && code != errs.EForbidden {
			return err
		}
		d, derr := h.annData(c, in)
		if derr != nil {
			return derr
		}
		return c.HTML(web.StatusOf(code), "announcements", d, err)
	}
	return c.Redirect("/announcements?saved=1")
}

func (h *HTTP) annDeleteForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.Ann.Delete(c.R.Context(), id); err != nil {
		return err
	}
	return c.Redirect("/announcements?" + url.Values{"deleted": {strconv.FormatInt(id, 10)}}.Encode())
}
