package sla

import (
	"embed"
	"net/http"
	"strconv"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templates embed.FS

// AddPages registers this module's page templates.
func AddPages(r *web.Renderer) error { return r.AddPages(templates, "templates") }

// Nav lists this module's navigation entries.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.sla_board", Href: "/sla/board", Perm: auth.PermTaskDispatch},
		{Key: "nav.sla_policies", Href: "/sla/policies", Perm: auth.PermSLAManage, Group: "nav.group.admin"},
	}
}

// HTTP serves the SLA API and pages.
type HTTP struct{ Svc *Service }

// PolicyList is the API answer for the policies.
type PolicyList struct {
	Items []Policy `json:"items"`
}

// CycleList is a list of cycles.
type CycleList struct {
	Items []Cycle `json:"items"`
}

// SubjectSLA is a subject's cycles and timeline.
type SubjectSLA struct {
	Cycles []Cycle `json:"cycles"`
	Events []Event `json:"events"`
}

// RecomputeList lists recomputations.
type RecomputeList struct {
	Items []Recompute `json:"items"`
}

// Routes lists the SLA endpoints.
func (h *HTTP) Routes() []web.Route {
	return []web.Route{
		{Method: "GET", Path: "/api/v1/sla/policies", Perm: auth.PermSLAManage, Handler: h.apiPolicies,
			Doc: &web.Doc{Summary: "SLA policies with their targets and escalation ladders", Tag: "sla", Resp: PolicyList{}}},
		{Method: "POST", Path: "/api/v1/sla/policies", Perm: auth.PermSLAManage, Handler: h.apiCreatePolicy,
			Doc: &web.Doc{Summary: "Create an SLA policy", Tag: "sla", Body: PolicyInput{}, Resp: Policy{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/sla/policies/{id}", Perm: auth.PermSLAManage, Handler: h.apiPolicy,
			Doc: &web.Doc{Summary: "One SLA policy", Tag: "sla", Resp: Policy{}}},
		{Method: "PUT", Path: "/api/v1/sla/policies/{id}", Perm: auth.PermSLAManage, Handler: h.apiUpdatePolicy,
			Doc: &web.Doc{Summary: "Replace an SLA policy; its open cycles are recomputed in the background", Tag: "sla", Body: PolicyInput{}, Resp: Policy{}}},
		{Method: "GET", Path: "/api/v1/sla/recomputes", Perm: auth.PermSLAManage, Handler: h.apiRecomputes,
			Doc: &web.Doc{Summary: "Progress of the latest deadline recomputations", Tag: "sla", Resp: RecomputeList{}}},
		{Method: "GET", Path: "/api/v1/sla/board", Perm: auth.PermTaskDispatch, Handler: h.apiBoard,
			Doc: &web.Doc{Summary: "Running SLA clocks in the caller's scope, least time left first (overdue first)", Tag: "sla", Resp: CycleList{},
				Query: []web.Param{{Name: "limit", Type: "integer"}, {Name: "site", Type: "integer", Desc: "org node id to narrow to"}}}},
		{Method: "GET", Path: "/api/v1/sla/overdue", Perm: auth.PermTaskDispatch, Handler: h.apiOverdue,
			Doc: &web.Doc{Summary: "Overdue SLA clocks in the caller's scope, most overdue first", Tag: "sla", Resp: CyclePage{},
				Query: []web.Param{{Name: "page", Type: "integer"}, {Name: "per_page", Type: "integer"}, {Name: "site", Type: "integer"}}}},
		{Method: "GET", Path: "/api/v1/sla/subjects/{subject}", Perm: auth.PermTaskDispatch, Handler: h.apiSubject,
			Doc: &web.Doc{Summary: "A subject's SLA cycles (history included) and timeline, e.g. subject case:123", Tag: "sla", Resp: SubjectSLA{}}},

		{Method: "GET", Path: "/sla/board", Perm: auth.PermTaskDispatch, Handler: h.boardPage},
		{Method: "GET", Path: "/sla/policies", Perm: auth.PermSLAManage, Handler: h.policiesPage},
		{Method: "GET", Path: "/sla/policies/new", Perm: auth.PermSLAManage, Handler: h.newPolicyPage},
		{Method: "POST", Path: "/sla/policies", Perm: auth.PermSLAManage, Handler: h.createPolicyForm},
		{Method: "GET", Path: "/sla/policies/{id}", Perm: auth.PermSLAManage, Handler: h.policyPage},
		{Method: "POST", Path: "/sla/policies/{id}", Perm: auth.PermSLAManage, Handler: h.updatePolicyForm},
	}
}

func (h *HTTP) apiPolicies(c *web.Ctx) error {
	ps, err := h.Svc.Policies(c.R.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []Policy{}
	}
	return c.JSON(http.StatusOK, PolicyList{Items: ps})
}

func (h *HTTP) apiPolicy(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	p, err := h.Svc.Policy(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiCreatePolicy(c *web.Ctx) error {
	var in PolicyInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	p, err := h.Svc.CreatePolicy(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (h *HTTP) apiUpdatePolicy(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in PolicyInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	p, err := h.Svc.UpdatePolicy(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiRecomputes(c *web.Ctx) error {
	rs, err := h.Svc.Recomputes(c.R.Context(), c.QueryInt("limit", 10))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, RecomputeList{Items: rs})
}

// boardScope is the caller's dispatch scope, narrowed to one node when the
// site parameter names one inside it.
func (h *HTTP) boardScope(c *web.Ctx) ([]string, error) {
	scope := c.P.Scope(auth.PermTaskDispatch)
	site := c.QueryInt64("site")
	if site == 0 {
		return scope, nil
	}
	path, err := h.Svc.nodePath(c.R.Context(), site)
	if err != nil {
		return nil, err
	}
	if !c.P.Can(auth.PermTaskDispatch, path) {
		return nil, errs.NotFound("error.org.node_not_found")
	}
	return []string{path}, nil
}

func (h *HTTP) apiBoard(c *web.Ctx) error {
	scope, err := h.boardScope(c)
	if err != nil {
		return err
	}
	items, err := h.Svc.AtRisk(c.R.Context(), scope, c.QueryInt("limit", 100))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, CycleList{Items: items})
}

func (h *HTTP) apiOverdue(c *web.Ctx) error {
	scope, err := h.boardScope(c)
	if err != nil {
		return err
	}
	page, err := h.Svc.Overdue(c.R.Context(), scope, c.QueryInt("page", 1), c.QueryInt("per_page", 50))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *HTTP) apiSubject(c *web.Ctx) error {
	ctx := c.R.Context()
	subject := c.R.PathValue("subject")
	cycles, err := h.Svc.Cycles(ctx, subject)
	if err != nil {
		return err
	}
	for _, cy := range cycles {
		if !c.P.Can(auth.PermTaskDispatch, cy.NodePath) && !(cy.NodePath == "" && c.P.CanAnywhere(auth.PermSLAManage)) {
			return errs.NotFound("error.sla.cycle_not_found")
		}
	}
	if len(cycles) == 0 {
		return errs.NotFound("error.sla.cycle_not_found")
	}
	events, err := h.Svc.Events(ctx, subject, c.QueryInt64("after"), c.QueryInt("limit", 200))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, SubjectSLA{Cycles: cycles, Events: events})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
