package portal

import (
	"net/http"

	"github.com/guanjia/guanjia/internal/web"
)

func (h *HTTP) applicationRoutes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/api/portal/v1/applications", Access: web.Resident, Handler: h.applications,
			Doc: &web.Doc{Summary: "My applications (processes started for my utility accounts), each with the step it waits at, what happens next and what to prepare", Tag: "portal", Resp: ApplicationList{}}},
		{Method: "GET", Path: "/api/portal/v1/applications/{id}", Access: web.Resident, Handler: h.application,
			Doc: &web.Doc{Summary: "One of my applications with the diagram's done and active elements", Tag: "portal", Resp: Application{}}},
		{Method: "GET", Path: "/api/portal/v1/applications/{id}/diagram", Access: web.Resident, Handler: h.applicationDiagram,
			Doc: &web.Doc{Summary: "The process diagram of one of my applications (BPMN XML)", Tag: "portal"}},
	}
}

func (h *HTTP) applications(c *web.Ctx) error {
	items, err := h.S.Applications(c.R.Context(), resident(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ApplicationList{Items: items})
}

func (h *HTTP) application(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	a, err := h.S.Application(c.R.Context(), resident(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *HTTP) applicationDiagram(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	src, err := h.S.ApplicationDiagram(c.R.Context(), resident(c), id)
	if err != nil {
		return err
	}
	c.W.Header().Set("Content-Type", "application/xml; charset=utf-8")
	c.W.Header().Set("Cache-Control", "private, max-age=300")
	_, err = c.W.Write(src)
	return err
}
