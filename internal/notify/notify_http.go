package notify

import (
	"net/http"

	"github.com/guanjia/guanjia/internal/web"
)

// HTTP serves the bell.
type HTTP struct{ S *Service }

// Routes lists the endpoints; every signed-in person has a bell.
func (h *HTTP) Routes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/api/v1/notifications", Handler: h.list,
			Doc: &web.Doc{Summary: "The caller's notifications, newest first, with the unread count; next_before continues the list", Tag: "notifications",
				Query: []web.Param{{Name: "unread", Type: "boolean"}, {Name: "before", Type: "integer"}, {Name: "limit", Type: "integer"}}, Resp: Page{}}},
		{Method: "POST", Path: "/api/v1/notifications/{id}/read", Handler: h.read,
			Doc: &web.Doc{Summary: "Mark one notification read", Tag: "notifications", Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/notifications/read-all", Handler: h.readAll,
			Doc: &web.Doc{Summary: "Mark every notification read", Tag: "notifications", Status: http.StatusNoContent}},
		{Method: "GET", Path: "/api/v1/notification-preferences", Handler: h.prefs,
			Doc: &web.Doc{Summary: "The caller's notification preferences: texts on or off, quiet hours", Tag: "notifications", Resp: Prefs{}}},
		{Method: "PUT", Path: "/api/v1/notification-preferences", Handler: h.setPrefs,
			Doc: &web.Doc{Summary: "Set the caller's notification preferences", Tag: "notifications", Body: PrefsInput{}, Resp: Prefs{}}},
	}
}

func (h *HTTP) list(c *web.Ctx) error {
	before, err := c.QueryID("before")
	if err != nil {
		return err
	}
	p, err := h.S.List(c.R.Context(), c.P.StaffID, c.Query("unread") == "true", before, c.QueryInt("limit", 30))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) read(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.S.MarkRead(c.R.Context(), c.P.StaffID, id); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) readAll(c *web.Ctx) error {
	if err := h.S.MarkRead(c.R.Context(), c.P.StaffID, 0); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) prefs(c *web.Ctx) error {
	p, err := h.S.Prefs(c.R.Context(), c.P.StaffID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) setPrefs(c *web.Ctx) error {
	var in PrefsInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	p, err := h.S.SetPrefs(c.R.Context(), c.P.StaffID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
