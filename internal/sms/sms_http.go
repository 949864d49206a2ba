package sms

import (
	"embed"
	"net/http"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templates embed.FS

// AddPages registers the page of sent messages.
func AddPages(r *web.Renderer) error { return r.AddPages(templates, "templates") }

// Nav lists the navigation entry.
func Nav() []web.NavItem {
	return []web.NavItem{{Key: "nav.sms", Href: "/sms", Perm: auth.PermAuditView, Group: "nav.group.admin"}}
}

// SentList is a page of sent messages.
type SentList struct {
	Items []Sent `json:"items"`
}

// HTTP serves the sent-messages page and API.
type HTTP struct{ S *Service }

// Routes lists the endpoints.
func (h *HTTP) Routes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/api/v1/sms-messages", Perm: auth.PermAuditView, Handler: h.api,
			Doc: &web.Doc{Summary: "Text messages sent or queued, newest first (phones masked, codes hidden)", Tag: "admin",
				Query: []web.Param{{Name: "before_id", Type: "integer"}}, Resp: SentList{}}},
		{Method: "GET", Path: "/sms", Perm: auth.PermAuditView, Handler: h.page},
	}
}

func (h *HTTP) api(c *web.Ctx) error {
	l, err := h.S.List(c.R.Context(), c.QueryInt64("before_id"), 50)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, SentList{Items: l})
}

func (h *HTTP) page(c *web.Ctx) error {
	l, err := h.S.List(c.R.Context(), c.QueryInt64("before_id"), 50)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "sms", map[string]any{"Items": l, "Provider": h.S.provider.Name()}, nil)
}
