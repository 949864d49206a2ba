package org

import (
	"context"
	"fmt"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// The System* methods skip permission checks. They exist for first start,
// the admin command and demo data, which run as the system, never for a
// request.

// SystemCreateNode adds a node under parent (nil for a company root).
func (s *Service) SystemCreateNode(ctx context.Context, in NodeInput, parentID *int64) (*Node, error) {
	var parent *Node
	if parentID != nil {
		p, err := s.loadNode(ctx, *parentID)
		if err != nil {
			return nil, err
		}
		parent = p
		in.ParentID = parentID
	}
	var v errs.Validation
	in.validate(&v)
	pk := ""
	if parent != nil {
		pk = parent.Kind
	}
	v.Check(allowedParent(in.Kind, pk), "parent_id", "error.org.bad_parent")
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.insertNode(ctx, in, parent)
}

// SystemCreateStaff adds a staff account with a password hash.
func (s *Service) SystemCreateStaff(ctx context.Context, in StaffInput, password string, mustChange bool) (*Staff, error) {
	path, err := s.NodePath(ctx, in.NodeID)
	if err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = "active"
	}
	hash, err := auth.HashPassword(password, s.argon2)
	if err != nil {
		return nil, err
	}
	return s.insertStaff(ctx, in, path, hash, mustChange)
}

// SystemGrant gives a role (by key) to a staff member on a node.
func (s *Service) SystemGrant(ctx context.Context, staffID int64, roleKey string, nodeID int64) error {
	var roleID int64
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id FROM roles WHERE key = ?`, roleKey).Scan(&roleID); err != nil {
		return fmt.Errorf("org: role %s: %w", roleKey, err)
	}
	path, err := s.NodePath(ctx, nodeID)
	if err != nil {
		return err
	}
	_, err = s.insertGrant(ctx, GrantInput{StaffID: staffID, RoleID: roleID, NodeID: nodeID}, roleKey, path)
	return err
}

// CountAdmins returns how many active staff hold the admin role anywhere.
func (s *Service) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(DISTINCT g.staff_id) FROM role_grants g JOIN roles r ON r.id = g.role_id
		JOIN staff s ON s.id = g.staff_id WHERE r.key = ? AND s.status <> 'left'`, auth.RoleAdmin).Scan(&n)
	return n, err
}

// Roots returns the company roots.
func (s *Service) Roots(ctx context.Context) ([]Node, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+nodeCols+` FROM org_nodes WHERE parent_id IS NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *n)
	}
	return out, rows.Err()
}

// SystemCreateDepartment adds a department without permission checks.
func (s *Service) SystemCreateDepartment(ctx context.Context, in DepartmentInput) (*Department, error) {
	d := &Department{NodeID: in.NodeID, Kind: in.Kind, Name: in.Name}
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		d.CreatedAt = tx.Now
		return tx.QueryRowContext(ctx, `INSERT INTO departments (node_id, kind, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			d.NodeID, d.Kind, d.Name, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&d.ID)
	})
	return d, err
}
