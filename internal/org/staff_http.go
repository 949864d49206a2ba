package org

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/web"
)

type staffPageData struct {
	Page     *StaffPage
	Filter   StaffFilter
	Base     string
	Nodes    []Node
	Depts    []Department
	Statuses []string
	CanEdit  bool
}

func (h *HTTP) staffPage(c *web.Ctx) error {
	ctx := c.R.Context()
	f := staffFilter(c)
	p, err := h.Svc.ListStaff(ctx, f)
	if err != nil && errs.CodeOf(err) != errs.EInvalid {
		return err
	}
	if p == nil {
		p = &StaffPage{Page: 1, PerPage: 50}
	}
	nodes, err := h.Svc.Tree(ctx, "", 0)
	if err != nil {
		return err
	}
	depts, err := h.Svc.Departments(ctx, 0)
	if err != nil {
		return err
	}
	q := url.Values{}
	for _, k := range []string{"q", "node_id", "department_id", "status"} {
		if v := c.Query(k); v != "" {
			q.Set(k, v)
		}
	}
	return c.HTML(http.StatusOK, "staff", &staffPageData{Page: p, Filter: f, Base: "/staff?" + q.Encode(), Nodes: nodes, Depts: depts,
		Statuses: StaffStatuses, CanEdit: auth.FromContext(ctx).CanAnywhere(auth.PermStaffManage)}, nil)
}

type staffFormData struct {
	Staff     *Staff
	Form      StaffInput
	Nodes     []Node
	Depts     []Department
	Positions []Position
	Statuses  []string
	Grants    []RoleGrant
	Roles     []Role
	CanEdit   bool
	CanGrant  bool
}

func (h *HTTP) staffForm(ctx context.Context, st *Staff, in StaffInput) (*staffFormData, error) {
	nodes, err := h.Svc.Tree(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	depts, err := h.Svc.Departments(ctx, 0)
	if err != nil {
		return nil, err
	}
	ps, err := h.Svc.Positions(ctx)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	d := &staffFormData{Staff: st, Form: in, Nodes: nodes, Depts: depts, Positions: ps, Statuses: StaffStatuses, CanEdit: p.CanAnywhere(auth.PermStaffManage)}
	if st != nil {
		d.CanEdit = p.Can(auth.PermStaffManage, st.NodePath)
		if d.Grants, err = h.Svc.Grants(ctx, st.ID); err != nil {
			return nil, err
		}
		if p.CanAnywhere(auth.PermRoleManage) {
			d.CanGrant = true
			if d.Roles, err = h.Svc.Roles(ctx); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

func (h *HTTP) staffNewPage(c *web.Ctx) error {
	in := StaffInput{Status: "active", NodeID: c.QueryInt64("node_id")}
	d, err := h.staffForm(c.R.Context(), nil, in)
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "staff_form", d, nil)
}

func (h *HTTP) staffCreateForm(c *web.Ctx) error {
	var in StaffInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	st, err := h.Svc.CreateStaff(c.R.Context(), in)
	if errs.CodeOf(err) == errs.EInvalid {
		in.Password = ""
		d, derr := h.staffForm(c.R.Context(), nil, in)
		if derr != nil {
			return derr
		}
		return c.HTML(http.StatusUnprocessableEntity, "staff_form", d, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/staff/" + strconv.FormatInt(st.ID, 10) + "?saved=1")
}

func inputOf(st *Staff) StaffInput {
	return StaffInput{NodeID: st.NodeID, DepartmentID: st.DepartmentID, PositionID: st.PositionID, Username: st.Username,
		Name: st.Name, Phone: st.Phone, Status: st.Status, Locale: st.Locale}
}

func (h *HTTP) staffEditPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	st, err := h.Svc.Staff(c.R.Context(), id)
	if err != nil {
		return err
	}
	d, err := h.staffForm(c.R.Context(), st, inputOf(st))
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "staff_form", d, nil)
}

func (h *HTTP) staffUpdateForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in StaffInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	_, err = h.Svc.UpdateStaff(c.R.Context(), id, in)
	return h.staffAfter(c, id, in, err)
}

// staffAfter re-renders the edit page with the error, or goes back to it.
func (h *HTTP) staffAfter(c *web.Ctx, id int64, in StaffInput, err error) error {
	if errs.CodeOf(err) == errs.EInvalid {
		st, serr := h.Svc.Staff(c.R.Context(), id)
		if serr != nil {
			return serr
		}
		if in.Name == "" && in.NodeID == 0 {
			in = inputOf(st)
		}
		in.Username = st.Username
		d, derr := h.staffForm(c.R.Context(), st, in)
		if derr != nil {
			return derr
		}
		return c.HTML(http.StatusUnprocessableEntity, "staff_form", d, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/staff/" + strconv.FormatInt(id, 10) + "?saved=1")
}

func (h *HTTP) staffPasswordForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	err = h.Svc.ResetPassword(c.R.Context(), id, c.R.FormValue("password"))
	return h.staffAfter(c, id, StaffInput{}, err)
}

func (h *HTTP) grantForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	roleID, _ := strconv.ParseInt(c.R.FormValue("role_id"), 10, 64)
	nodeID, _ := strconv.ParseInt(c.R.FormValue("node_id"), 10, 64)
	_, err = h.Svc.Grant(c.R.Context(), GrantInput{StaffID: id, RoleID: roleID, NodeID: nodeID})
	return h.staffAfter(c, id, StaffInput{}, err)
}

func (h *HTTP) revokeForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	staffID, _ := strconv.ParseInt(c.R.FormValue("staff_id"), 10, 64)
	if err := h.Svc.Revoke(c.R.Context(), id); err != nil {
		return err
	}
	return c.Redirect("/staff/" + strconv.FormatInt(staffID, 10) + "?saved=1")
}

type rolesPageData struct {
	Roles []Role
	Role  *Role
	Form  RoleInput
	Perms []string
	Nodes []Node
}

func (h *HTTP) rolesData(ctx context.Context) (*rolesPageData, error) {
	rs, err := h.Svc.Roles(ctx)
	if err != nil {
		return nil, err
	}
	nodes, err := h.Svc.Tree(ctx, "", 0)
	if err != nil {
		return nil, err
	}
	d := &rolesPageData{Roles: rs, Nodes: nodes}
	for _, p := range auth.AllPerms() {
		d.Perms = append(d.Perms, string(p))
	}
	return d, nil
}

func (h *HTTP) rolesPage(c *web.Ctx) error {
	d, err := h.rolesData(c.R.Context())
	if err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "roles", d, nil)
}

func (h *HTTP) roleCreateForm(c *web.Ctx) error {
	var in RoleInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	r, err := h.Svc.CreateRole(c.R.Context(), in)
	if errs.CodeOf(err) == errs.EInvalid || errs.CodeOf(err) == errs.EForbidden {
		d, derr := h.rolesData(c.R.Context())
		if derr != nil {
			return derr
		}
		d.Form = in
		return c.HTML(web.StatusOf(errs.CodeOf(err)), "roles", d, err)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/roles/" + strconv.FormatInt(r.ID, 10))
}

func (h *HTTP) roleEditPage(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	d, err := h.rolesData(c.R.Context())
	if err != nil {
		return err
	}
	for i := range d.Roles {
		if d.Roles[i].ID == id {
			d.Role = &d.Roles[i]
		}
	}
	if d.Role == nil {
		return errs.NotFound("error.role.not_found")
	}
	d.Form = RoleInput{Key: d.Role.Key, Name: d.Role.Name, Perms: d.Role.Perms}
	return c.HTML(http.StatusOK, "role_form", d, nil)
}

func (h *HTTP) roleUpdateForm(c *web.Ctx) error {
	id, err := c.PathID("id")
	if err != nil {
		return err
	}
	var in RoleInput
	if err := c.Decode(&in); err != nil {
		return err
	}
	if _, err := h.Svc.UpdateRole(c.R.Context(), id, in); err != nil {
		code := errs.CodeOf(err)
		if code != errs.EInvalid && code != errs.EForbidden && code != errs.EConflict {
			return err
		}
		d, derr := h.rolesData(c.R.Context())
		if derr != nil {
			return derr
		}
		for i := range d.Roles {
			if d.Roles[i].ID == id {
				d.Role = &d.Roles[i]
			}
		}
		in.Key = d.Role.Key
		d.Form = in
		return c.HTML(web.StatusOf(code), "role_form", d, err)
	}
	return c.Redirect("/roles")
}
