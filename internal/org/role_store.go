package org

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

var roleKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// EnsureBuiltinRoles creates the built-in roles that are missing. Their
// permissions live in code (auth.BuiltinPerms), not in role_permissions.
func (s *Service) EnsureBuiltinRoles(ctx context.Context) error {
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for _, key := range auth.BuiltinRoles {
			_, err := tx.ExecContext(ctx, `INSERT INTO roles (key, name, builtin, created_at, updated_at) VALUES (?, ?, TRUE, ?, ?) ON CONFLICT (key) DO NOTHING`,
				key, "role."+key, db.Ms(tx.Now), db.Ms(tx.Now))
			if err != nil {
				return fmt.Errorf("org: builtin role %s: %w", key, err)
			}
		}
		return nil
	})
}

// Roles lists all roles with their permissions: built-in ones and the custom
// roles owned by subtrees the caller may view.
func (s *Service) Roles(ctx context.Context) ([]Role, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT r.id, r.key, r.name, r.builtin, r.node_id, COALESCE(n.path, '') FROM roles r LEFT JOIN org_nodes n ON n.id = r.node_id ORDER BY r.builtin DESC, r.id`)
	if err != nil {
		return nil, fmt.Errorf("org: roles: %w", err)
	}
	p := auth.FromContext(ctx)
	var out []Role
	for rows.Next() {
		var r Role
		var node sql.NullInt64
		var path string
		if err := rows.Scan(&r.ID, &r.Key, &r.Name, &r.Builtin, &node, &path); err != nil {
			rows.Close()
			return nil, err
		}
		if node.Valid {
			r.NodeID = &node.Int64
		}
		if !r.Builtin && path != "" && !p.Can(auth.PermOrgView, path) {
			continue
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		perms, err := s.rolePerms(ctx, &out[i])
		if err != nil {
			return nil, err
		}
		out[i].Perms = perms
	}
	return out, nil
}

func (s *Service) rolePerms(ctx context.Context, r *Role) ([]string, error) {
	var out []string
	if r.Builtin {
		for _, p := range auth.BuiltinPerms(r.Key) {
			out = append(out, string(p))
		}
		sort.Strings(out)
		return out, nil
	}
	return db.Column[string](ctx, s.db.Q(ctx), `SELECT perm FROM role_permissions WHERE role_id = ? ORDER BY perm`, r.ID)
}

func (s *Service) loadRole(ctx context.Context, id int64) (*Role, string, error) {
	var r Role
	var node sql.NullInt64
	var path string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT r.id, r.key, r.name, r.builtin, r.node_id, COALESCE(n.path, '') FROM roles r LEFT JOIN org_nodes n ON n.id = r.node_id WHERE r.id = ?`, id).
		Scan(&r.ID, &r.Key, &r.Name, &r.Builtin, &node, &path)
	if db.IsNoRows(err) {
		return nil, "", errs.NotFound("error.role.not_found")
	}
	if err != nil {
		return nil, "", err
	}
	if node.Valid {
		r.NodeID = &node.Int64
	}
	perms, err := s.rolePerms(ctx, &r)
	r.Perms = perms
	return &r, path, err
}

// RoleInput defines a custom role.
type RoleInput struct {
	Key    string   `json:"key"`
	Name   string   `json:"name"`
	NodeID int64    `json:"node_id"`
	Perms  []string `json:"permissions"`
}

// CreateRole adds a custom role owned by a subtree. The caller needs
// role.manage there and must hold every permission the role grants (no one
// hands out more than they have).
func (s *Service) CreateRole(ctx context.Context, in RoleInput) (*Role, error) {
	path, err := s.validateRole(ctx, &in, true)
	if err != nil {
		return nil, err
	}
	r := &Role{Key: in.Key, Name: in.Name, NodeID: &in.NodeID, Perms: in.Perms}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO roles (key, name, builtin, node_id, created_at, updated_at) VALUES (?, ?, FALSE, ?, ?, ?) RETURNING id`,
			in.Key, in.Name, in.NodeID, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&r.ID)
		if db.IsUnique(err) {
			return errs.Invalid("key", "error.role.key_taken")
		}
		if err != nil {
			return fmt.Errorf("org: insert role: %w", err)
		}
		if err := s.writePerms(ctx, tx, r.ID, in.Perms); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "role", EntityID: r.ID, NodePath: path, Summary: r.Key, After: r})
	})
	return r, err
}

func (s *Service) writePerms(ctx context.Context, tx *db.Tx, roleID int64, perms []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM role_permissions WHERE role_id = ?`, roleID); err != nil {
		return err
	}
	for _, p := range perms {
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_permissions (role_id, perm) VALUES (?, ?)`, roleID, p); err != nil {
			return fmt.Errorf("org: role permission: %w", err)
		}
	}
	return nil
}

func (s *Service) validateRole(ctx context.Context, in *RoleInput, create bool) (string, error) {
	var v errs.Validation
	in.Key, in.Name = strings.TrimSpace(in.Key), strings.TrimSpace(in.Name)
	if create {
		v.Check(roleKeyRe.MatchString(in.Key), "key", "error.role.bad_key")
	}
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 50)
	seen := map[string]bool{}
	var perms []string
	for _, p := range in.Perms {
		if !auth.IsPerm(p) {
			v.Add("permissions", "error.role.unknown_permission")
		} else if !seen[p] {
			seen[p] = true
			perms = append(perms, p)
		}
	}
	sort.Strings(perms)
	in.Perms = perms
	path, err := s.NodePath(ctx, in.NodeID)
	if err != nil {
		v.Add("node_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	p := auth.FromContext(ctx)
	if !p.Can(auth.PermRoleManage, path) {
		return "", errs.Forbidden()
	}
	for _, perm := range in.Perms {
		if !p.Can(auth.Perm(perm), path) {
			return "", errs.Newf(errs.EForbidden, "error.role.escalation", "permission", perm)
		}
	}
	return path, nil
}

// UpdateRole changes a custom role's name and permissions; built-in roles
// are fixed (EConflict), and so are a role's key and node (EInvalid when the
// input names others).
func (s *Service) UpdateRole(ctx context.Context, id int64, in RoleInput) (*Role, error) {
	before, path, err := s.loadRole(ctx, id)
	if err != nil {
		return nil, err
	}
	if before.Builtin {
		return nil, errs.New(errs.EConflict, "error.role.builtin")
	}
	if path != "" && !auth.FromContext(ctx).Can(auth.PermOrgView, path) {
		return nil, errs.NotFound("error.role.not_found")
	}
	// The key and the owning node are fixed; a request naming others is
	// refused, not half applied.
	var ro errs.Validation
	ro.Check(in.Key == "" || strings.TrimSpace(in.Key) == before.Key, "key", "error.field.read_only")
	ro.Check(in.NodeID == 0 || in.NodeID == *before.NodeID, "node_id", "error.field.read_only")
	in.NodeID = *before.NodeID
	_, verr := s.validateRole(ctx, &in, false)
	if err := mergeInvalid(ro.Err(), verr); err != nil {
		return nil, err
	}
	var out *Role
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET name = ?, updated_at = ? WHERE id = ?`, in.Name, db.Ms(tx.Now), id); err != nil {
			return err
		}
		if err := s.writePerms(ctx, tx, id, in.Perms); err != nil {
			return err
		}
		r, _, err := s.loadRole(ctx, id)
		if err != nil {
			return err
		}
		out = r
		return s.audit.Record(ctx, audit.Entry{Action: "update", Entity: "role", EntityID: id, NodePath: path, Summary: r.Key, Before: before, After: r})
	})
	return out, err
}

// Grants lists the grants of one staff member the caller may view.
func (s *Service) Grants(ctx context.Context, staffID int64) ([]RoleGrant, error) {
	if _, err := s.Staff(ctx, staffID); err != nil {
		return nil, err
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT g.id, g.staff_id, g.role_id, r.key, g.node_id, n.name, g.created_at FROM role_grants g
		JOIN roles r ON r.id = g.role_id JOIN org_nodes n ON n.id = g.node_id WHERE g.staff_id = ? ORDER BY g.id`, staffID)
	if err != nil {
		return nil, fmt.Errorf("org: grants: %w", err)
	}
	defer rows.Close()
	out := []RoleGrant{}
	for rows.Next() {
		var g RoleGrant
		var created int64
		if err := rows.Scan(&g.ID, &g.StaffID, &g.RoleID, &g.RoleKey, &g.NodeID, &g.NodeName, &created); err != nil {
			return nil, err
		}
		g.CreatedAt = db.Time(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// GrantInput gives a role on a node.
type GrantInput struct {
	StaffID int64 `json:"staff_id"`
	RoleID  int64 `json:"role_id"`
	NodeID  int64 `json:"node_id"`
}

// Grant gives a role to a staff member on a node's subtree. The caller needs
// role.manage on that node, must see the staff member and must hold every
// permission of the role there. A grant that exists already is EInvalid.
func (s *Service) Grant(ctx context.Context, in GrantInput) (*RoleGrant, error) {
	var v errs.Validation
	st, err := s.loadStaff(ctx, in.StaffID)
	if err != nil {
		v.Add("staff_id", "error.field.unknown_id")
	}
	role, _, err := s.loadRole(ctx, in.RoleID)
	if err != nil {
		v.Add("role_id", "error.field.unknown_id")
	}
	path, err := s.NodePath(ctx, in.NodeID)
	if err != nil {
		v.Add("node_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	if !p.Can(auth.PermRoleManage, path) || !p.Can(auth.PermStaffView, st.NodePath) {
		return nil, errs.Forbidden()
	}
	for _, perm := range role.Perms {
		if !p.Can(auth.Perm(perm), path) {
			return nil, errs.Newf(errs.EForbidden, "error.role.escalation", "permission", perm)
		}
	}
	return s.insertGrant(ctx, in, role.Key, path)
}

func (s *Service) insertGrant(ctx context.Context, in GrantInput, roleKey, path string) (*RoleGrant, error) {
	g := &RoleGrant{StaffID: in.StaffID, RoleID: in.RoleID, RoleKey: roleKey, NodeID: in.NodeID}
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		g.CreatedAt = tx.Now
		err := tx.QueryRowContext(ctx, `INSERT INTO role_grants (staff_id, role_id, node_id, created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			in.StaffID, in.RoleID, in.NodeID, db.Ms(tx.Now), nullable(audit.ActorFrom(ctx).ID)).Scan(&g.ID)
		if db.IsUnique(err) {
			return errs.Invalid("role_id", "error.grant.exists")
		}
		if err != nil {
			return fmt.Errorf("org: insert grant: %w", err)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "grant", Entity: "role_grant", EntityID: g.ID, NodePath: path, Summary: roleKey, After: g})
	})
	return g, err
}

func nullable(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Revoke removes a grant. The caller needs role.manage on the grant's node.
func (s *Service) Revoke(ctx context.Context, grantID int64) error {
	var path, key string
	var staffID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT n.path, r.key, g.staff_id FROM role_grants g JOIN org_nodes n ON n.id = g.node_id JOIN roles r ON r.id = g.role_id WHERE g.id = ?`, grantID).Scan(&path, &key, &staffID)
	if db.IsNoRows(err) {
		return errs.NotFound("error.grant.not_found")
	}
	if err != nil {
		return err
	}
	p := auth.FromContext(ctx)
	if !p.Can(auth.PermRoleManage, path) {
		return errs.Forbidden()
	}
	if staffID == p.StaffID && key == auth.RoleAdmin {
		return errs.New(errs.EConflict, "error.grant.own_admin")
	}
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_grants WHERE id = ?`, grantID); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "revoke", Entity: "role_grant", EntityID: grantID, NodePath: path, Summary: key})
	})
}
