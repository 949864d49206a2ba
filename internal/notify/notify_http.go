package notify

import (
	"net/http"

	"github.com/guanjia/guanjia/internal/web"
)

// HTTP serves the bell.
type HTTP struct{ S *Service }

// List is the bell's answer.
type List struct {
	Unread int    `json:"unread"`
	Items  []Item `json:"items"`
}

// Routes lists the endpoints; every signed-in person has a bell.
func (h *HTTP) Routes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/api/v1/notifications", Handler: h.list,
			Doc: &web.Doc{Summary: "The caller's notifications, newest first, with the unread count", Tag: "notifications",
				Query: []web.Param{{Name: "unread", Type: "boolean"}}, Resp: List{}}},
		{Method: "POST", Path: "/api/v1/notifications/{id}/read", Handler: h.read,
			Doc: &web.Doc{Summary: "Mark one notification read", Tag: "notifications", Status: http.StatusNoContent}},
		{Method: "POST", Path: "/api/v1/notifications/read-all", Handler: h.readAll,
			Doc: &web.Doc{Summary: "Mark every notification read", Tag: "notifications", Status: http.StatusNoContent}},
	}
}

func (h *HTTP) list(c *web.Ctx) error {
	items, unread, err := h.S.List(c.R.Context(), c.P.StaffID, c.Query("unread") == "true", 30)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List{Unread: unread, Items: items})
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
