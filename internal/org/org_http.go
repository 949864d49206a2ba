package org

import (
	"context"
	"embed"
	"net/http"
	"strconv"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

//go:embed templates
var templates embed.FS

// HTTP serves the organisation API and pages.
type HTTP struct{ Svc *Service }

// AddPages registers this module's page templates.
func AddPages(r *web.Renderer) error { return r.AddPages(templates, "templates") }

// Nav lists this module's navigation entries.
func Nav() []web.NavItem {
	return []web.NavItem{
		{Key: "nav.org", Href: "/org", Perm: auth.PermOrgView, Group: "nav.group.admin"},
		{Key: "nav.staff", Href: "/staff", Perm: auth.PermStaffView, Group: "nav.group.admin"},
		{Key: "nav.roles", Href: "/roles", Perm: auth.PermRoleManage, Group: "nav.group.admin"},
	}
}

// NodeList is the API answer for the tree.
type NodeList struct {
	Items []Node `json:"items"`
}

// DepartmentList lists departments.
type DepartmentList struct {
	Items []Department `json:"items"`
}

// PositionList lists positions.
type PositionList struct {
	Items []Position `json:"items"`
}

// RoleList lists roles.
type RoleList struct {
	Items []Role `json:"items"`
}

// GrantList lists grants.
type GrantList struct {
	Items []RoleGrant `json:"items"`
}

// PasswordReset sets a password chosen by a manager.
type PasswordReset struct {
	Password string `json:"password"`
}

// PermissionList lists every permission.
type PermissionList struct {
	Items []string `json:"items"`
}

// Routes lists the organisation endpoints.
func (h *HTTP) Routes() []web.Route {
	staffQuery := []web.Param{{Name: "page", Type: "integer"}, {Name: "per_page", Type: "integer"}, {Name: "q", Desc: "name, username or phone suffix"},
		{Name: "node_id", Type: "integer"}, {Name: "department_id", Type: "integer"}, {Name: "status"}}
	return []web.Route{
		{Method: "GET", Path: "/api/v1/org/nodes", Perm: auth.PermOrgView, Handler: h.apiTree,
			Doc: &web.Doc{Summary: "The organisation tree visible to the caller", Tag: "org", Query: []web.Param{{Name: "kind"}}, Resp: NodeList{}}},
		{Method: "POST", Path: "/api/v1/org/nodes", Perm: auth.PermOrgManage, Handler: h.apiCreateNode,
			Doc: &web.Doc{Summary: "Create an org node", Tag: "org", Body: NodeInput{}, Resp: Node{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/org/nodes/{id}", Perm: auth.PermOrgView, Handler: h.apiNode,
			Doc: &web.Doc{Summary: "One org node", Tag: "org", Resp: Node{}}},
		{Method: "PUT", Path: "/api/v1/org/nodes/{id}", Perm: auth.PermOrgManage, Handler: h.apiUpdateNode,
			Doc: &web.Doc{Summary: "Update an org node", Tag: "org", Body: NodeInput{}, Resp: Node{}}},
		{Method: "DELETE", Path: "/api/v1/org/nodes/{id}", Perm: auth.PermOrgManage, Handler: h.apiDeleteNode,
			Doc: &web.Doc{Summary: "Delete an empty org node", Tag: "org", Status: http.StatusNoContent}},
		{Method: "GET", Path: "/api/v1/departments", Perm: auth.PermOrgView, Handler: h.apiDepartments,
			Doc: &web.Doc{Summary: "Departments", Tag: "org", Query: []web.Param{{Name: "node_id", Type: "integer"}}, Resp: DepartmentList{}}},
		{Method: "POST", Path: "/api/v1/departments", Perm: auth.PermOrgManage, Handler: h.apiCreateDepartment,
			Doc: &web.Doc{Summary: "Create a department", Tag: "org", Body: DepartmentInput{}, Resp: Department{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/positions", Perm: auth.PermOrgView, Handler: h.apiPositions,
			Doc: &web.Doc{Summary: "Positions", Tag: "org", Resp: PositionList{}}},
		{Method: "POST", Path: "/api/v1/positions", Perm: auth.PermOrgManage, Handler: h.apiCreatePosition,
			Doc: &web.Doc{Summary: "Create a position", Tag: "org", Body: PositionInput{}, Resp: Position{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/staff", Perm: auth.PermStaffView, Handler: h.apiStaffList,
			Doc: &web.Doc{Summary: "A page of staff (phones masked)", Tag: "staff", Query: staffQuery, Resp: StaffPage{}}},
		{Method: "POST", Path: "/api/v1/staff", Perm: auth.PermStaffManage, Handler: h.apiCreateStaff,
			Doc: &web.Doc{Summary: "Create a staff account", Tag: "staff", Body: StaffInput{}, Resp: Staff{}, Status: http.StatusCreated}},
		{Method: "GET", Path: "/api/v1/staff/{id}", Perm: auth.PermStaffView, Handler: h.apiStaff,
			Doc: &web.Doc{Summary: "One staff account", Tag: "staff", Resp: Staff{}}},
		{Method: "PUT", Path: "/api/v1/staff/{id}", Perm: auth.PermStaffManage, Handler: h.apiUpdateStaff,
			Doc: &web.Doc{Summary: "Update a staff account", Tag: "staff", Body: StaffInput{}, Resp: Staff{}}},
		{Method: "POST", Path: "/api/v1/staff/{id}/password", Perm: auth.PermStaffManage, Handler: h.apiResetPassword,
			Doc: &web.Doc{Summary: "Reset a staff member's password", Tag: "staff", Body: PasswordReset{}, Status: http.StatusNoContent}},
		{Method: "GET", Path: "/api/v1/staff/{id}/grants", Perm: auth.PermStaffView, Handler: h.apiGrants,
			Doc: &web.Doc{Summary: "Role grants of a staff member", Tag: "roles", Resp: GrantList{}}},
		{Method: "GET", Path: "/api/v1/permissions", Perm: auth.PermStaffView, Handler: h.apiPermissions,
			Doc: &web.Doc{Summary: "Every permission defined in code", Tag: "roles", Resp: PermissionList{}}},
		{Method: "GET", Path: "/api/v1/roles", Perm: auth.PermStaffView, Handler: h.apiRoles,
			Doc: &web.Doc{Summary: "Roles with their permissions", Tag: "roles", Resp: RoleList{}}},
		{Method: "POST", Path: "/api/v1/roles", Perm: auth.PermRoleManage, Handler: h.apiCreateRole,
			Doc: &web.Doc{Summary: "Create a custom role", Tag: "roles", Body: RoleInput{}, Resp: Role{}, Status: http.StatusCreated}},
		{Method: "PUT", Path: "/api/v1/roles/{id}", Perm: auth.PermRoleManage, Handler: h.apiUpdateRole,
			Doc: &web.Doc{Summary: "Update a custom role", Tag: "roles", Body: RoleInput{}, Resp: Role{}}},
		{Method: "POST", Path: "/api/v1/grants", Perm: auth.PermRoleManage, Handler: h.apiGrant,
			Doc: &web.Doc{Summary: "Grant a role on a subtree", Tag: "roles", Body: GrantInput{}, Resp: RoleGrant{}, Status: http.StatusCreated}},
		{Method: "DELETE", Path: "/api/v1/grants/{id}", Perm: auth.PermRoleManage, Handler: h.apiRevoke,
			Doc: &web.Doc{Summary: "Revoke a grant", Tag: "roles", Status: http.StatusNoContent}},

		{Method: "GET", Path: "/org", Perm: auth.PermOrgView, Handler: h.orgPage},
		{Method: "POST", Path: "/org/nodes", Perm: auth.PermOrgManage, Handler: h.orgCreateForm},
		{Method: "GET", Path: "/org/nodes/{id}", Perm: auth.PermOrgView, Handler: h.nodePage},
		{Method: "POST", Path: "/org/nodes/{id}", Perm: auth.PermOrgManage, Handler: h.nodeUpdateForm},
		{Method: "POST", Path: "/org/nodes/{id}/delete", Perm: auth.PermOrgManage, Handler: h.nodeDeleteForm},
		{Method: "POST", Path: "/org/nodes/{id}/departments", Perm: auth.PermOrgManage, Handler: h.departmentForm},
		{Method: "POST", Path: "/org/nodes/{id}/positions", Perm: auth.PermOrgManage, Handler: h.positionForm},
		{Method: "GET", Path: "/staff", Perm: auth.PermStaffView, Handler: h.staffPage},
		{Method: "GET", Path: "/staff/new", Perm: auth.PermStaffManage, Handler: h.staffNewPage},
		{Method: "POST", Path: "/staff", Perm: auth.PermStaffManage, Handler: h.staffCreateForm},
		{Method: "GET", Path: "/staff/{id}", Perm: auth.PermStaffView, Handler: h.staffEditPage},
		{Method: "POST", Path: "/staff/{id}", Perm: auth.PermStaffManage, Handler: h.staffUpdateForm},
		{Method: "POST", Path: "/staff/{id}/password", Perm: auth.PermStaffManage, Handler: h.staffPasswordForm},
		{Method: "POST", Path: "/staff/{id}/grants", Perm: auth.PermRoleManage, Handler: h.grantForm},
		{Method: "POST", Path: "/grants/{id}/revoke", Perm: auth.PermRoleManage, Handler: h.revokeForm},
		{Method: "GET", Path: "/roles", Perm: auth.PermRoleManage, Handler: h.rolesPage},
		{Method: "POST", Path: "/roles", Perm: auth.PermRoleManage, Handler: h.roleCreateForm},
		{Method: "GET", Path: "/roles/{id}", Perm: auth.PermRoleManage, Handler: h.roleEditPage},
		{Method: "POST", Path: "/roles/{id}", Perm: auth.PermRoleManage, Handler: h.roleUpdateForm},
	}
}

// ---- API ----

func (h *HTTP) apiTree(c *web.Ctx) error {
	nodes, err := h.Svc.Tree(c.R.Context(), c.Query("kind"), 0)
	if err != nil {
		return err
	}
	if nodes == nil {
		nodes = []Node{}
	}
	return c.JSON(http.StatusOK, NodeList{Items: nodes})
}

func (h *HTTP) apiCreateNode(c *web.Ctx) error {
	var in NodeInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	n, err := h.Svc.CreateNode(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, n)
}

func (h *HTTP) apiNode(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	n, err := h.Svc.Node(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

func (h *HTTP) apiUpdateNode(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in NodeInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	n, err := h.Svc.UpdateNode(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

func (h *HTTP) apiDeleteNode(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteNode(c.R.Context(), id); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) apiDepartments(c *web.Ctx) error {
	ds, err := h.Svc.Departments(c.R.Context(), c.QueryInt64("node_id"))
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []Department{}
	}
	return c.JSON(http.StatusOK, DepartmentList{Items: ds})
}

func (h *HTTP) apiCreateDepartment(c *web.Ctx) error {
	var in DepartmentInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	d, err := h.Svc.CreateDepartment(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (h *HTTP) apiPositions(c *web.Ctx) error {
	ps, err := h.Svc.Positions(c.R.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []Position{}
	}
	return c.JSON(http.StatusOK, PositionList{Items: ps})
}

func (h *HTTP) apiCreatePosition(c *web.Ctx) error {
	var in PositionInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	p, err := h.Svc.CreatePosition(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func staffFilter(c *web.Ctx) StaffFilter {
	return StaffFilter{Q: c.Query("q"), NodeID: c.QueryInt64("node_id"), DepartmentID: c.QueryInt64("department_id"),
		Status: c.Query("status"), Page: c.QueryInt("page", 1), PerPage: c.QueryInt("per_page", 50)}
}

func (h *HTTP) apiStaffList(c *web.Ctx) error {
	p, err := h.Svc.ListStaff(c.R.Context(), staffFilter(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (h *HTTP) apiCreateStaff(c *web.Ctx) error {
	var in StaffInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	st, err := h.Svc.CreateStaff(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, st)
}

func (h *HTTP) apiStaff(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	st, err := h.Svc.Staff(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (h *HTTP) apiUpdateStaff(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in StaffInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	st, err := h.Svc.UpdateStaff(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (h *HTTP) apiResetPassword(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in PasswordReset
	if err := c.Decode(&in); err != nil {
		return err
	}
	if err := h.Svc.ResetPassword(c.R.Context(), id, in.Password); err != nil {
		return err
	}
	return c.NoContent()
}

func (h *HTTP) apiGrants(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	gs, err := h.Svc.Grants(c.R.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, GrantList{Items: gs})
}

func (h *HTTP) apiPermissions(c *web.Ctx) error {
	out := PermissionList{}
	for _, p := range auth.AllPerms() {
		out.Items = append(out.Items, string(p))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *HTTP) apiRoles(c *web.Ctx) error {
	rs, err := h.Svc.Roles(c.R.Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, RoleList{Items: rs})
}

func (h *HTTP) apiCreateRole(c *web.Ctx) error {
	var in RoleInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	r, err := h.Svc.CreateRole(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (h *HTTP) apiUpdateRole(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in RoleInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	r, err := h.Svc.UpdateRole(c.R.Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *HTTP) apiGrant(c *web.Ctx) error {
	var in GrantInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	g, err := h.Svc.Grant(c.R.Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, g)
}

func (h *HTTP) apiRevoke(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.Svc.Revoke(c.R.Context(), id); err != nil {
		return err
	}
	return c.NoContent()
}

// ---- pages ----

type orgPageData struct {
	Nodes     []Node
	Node      *Node
	Form      NodeInput
	Depts     []Department
	Positions []Position
	Kinds     []string
	SiteKinds []string
	AreaKinds []string
	DeptKinds []string
	CanManage bool
}

func (h *HTTP) orgData(ctx context.Context) (*orgPageData, error) {
	nodes, err := h.Svc.Tree(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	return &orgPageData{Nodes: nodes, Kinds: NodeKinds, SiteKinds: SiteKinds, AreaKinds: AreaKinds, DeptKinds: DepartmentKinds,
		CanManage: auth.FromContext(ctx).CanAnywhere(auth.PermOrgManage)}, nil
}

func (h *HTTP) orgPage(c *web.Ctx) error {
	d, err := h.orgData(c.R.Context())
	if err != nil {
		return err
	}
	if pid := c.QueryInt64("parent"); pid != 0 {
		d.Form.ParentID = &pid
	}
	return c.HTML(http.StatusOK, "org", d, nil)
}

func (h *HTTP) orgCreateForm(c *web.Ctx) error {
	var in NodeInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	n, err := h.Svc.CreateNode(c.R.Context(), in)
	if errs.CodeOf(err) == errs.EInvalid {
		d, derr := h.orgData(c.R.Context())
		if derr != nil {
			return derr
		}
		d.Form = in
		return c.HTML(http.StatusUnprocessableEntity, "org", d, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/org/nodes/" + strconv.FormatInt(n.ID, 10))
}

func (h *HTTP) nodeData(c *web.Ctx) (*orgPageData, error) {
	id, err := c.PathID("id")
	if err != nil {
		return nil, err
	}
	ctx := c.R.Context()
	n, err := h.Svc.Node(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := h.orgData(ctx)
	if err != nil {
		return nil, err
	}
	d.Node = n
	d.Form = NodeInput{Name: n.Name, Code: n.Code, SiteKind: n.SiteKind, AreaKind: n.AreaKind, Timezone: n.Timezone, Calendar: n.Calendar, Address: n.Address, Kind: n.Kind}
	d.CanManage = auth.FromContext(ctx).Can(auth.PermOrgManage, n.Path)
	if d.Depts, err = h.Svc.Departments(ctx, id); err != nil {
		return nil, err
	}
	ps, err := h.Svc.Positions(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.NodeID == id {
			d.Positions = append(d.Positions, p)
		}
	}
	return d, nil
}

func (h *HTTP) nodePage(c *web.Ctx) error {
	d, err := h.nodeData(c)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "org_node", d, nil)
}

func (h *HTTP) nodeUpdateForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in NodeInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.Svc.UpdateNode(c.R.Context(), id, in); errs.CodeOf(err) == errs.EInvalid {
		d, derr := h.nodeData(c)
		if derr != nil {
			return derr
		}
		in.Kind = d.Node.Kind
		d.Form = in
		return c.HTML(http.StatusUnprocessableEntity, "org_node", d, err)
	} else if err != nil {
		return err
	}
	return c.Redirect("/org/nodes/" + strconv.FormatInt(id, 10))
}

func (h *HTTP) nodeDeleteForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if err := h.Svc.DeleteNode(c.R.Context(), id); err != nil {
		return err
	}
	return c.Redirect("/org")
}

func (h *HTTP) departmentForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	in := DepartmentInput{NodeID: id, Kind: c.R.FormValue("kind"), Name: c.R.FormValue("name")}
	if _, err := h.Svc.CreateDepartment(c.R.Context(), in); errs.CodeOf(err) == errs.EInvalid {
		d, derr := h.nodeData(c)
		if derr != nil {
			return derr
		}
		return c.HTML(http.StatusUnprocessableEntity, "org_node", d, err)
	} else if err != nil {
		return err
	}
	return c.Redirect("/org/nodes/" + strconv.FormatInt(id, 10))
}

func (h *HTTP) positionForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	if _, err := h.Svc.CreatePosition(c.R.Context(), PositionInput{NodeID: id, Name: c.R.FormValue("name")}); errs.CodeOf(err) == errs.EInvalid {
		d, derr := h.nodeData(c)
		if derr != nil {
			return derr
		}
		return c.HTML(http.StatusUnprocessableEntity, "org_node", d, err)
	} else if err != nil {
		return err
	}
	return c.Redirect("/org/nodes/" + strconv.FormatInt(id, 10))
}
