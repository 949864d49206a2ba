package org

import (
	"context"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Departments lists the departments of the nodes the caller may view,
// optionally of one node.
func (s *Service) Departments(ctx context.Context, nodeID int64) ([]Department, error) {
	cond, args := auth.ScopeSQL("n.path", auth.FromContext(ctx).Scope(auth.PermOrgView))
	if nodeID != 0 {
		cond += " AND d.node_id = ?"
		args = append(args, nodeID)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT d.id, d.node_id, d.kind, d.name, d.created_at FROM departments d
		JOIN org_nodes n ON n.id = d.node_id WHERE `+cond+` ORDER BY n.path, d.id LIMIT 2000`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: departments: %w", err)
	}
	defer rows.Close()
	var out []Department
	for rows.Next() {
		var d Department
		var created int64
		if err := rows.Scan(&d.ID, &d.NodeID, &d.Kind, &d.Name, &created); err != nil {
			return nil, err
		}
		d.CreatedAt = db.Time(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DepartmentInput creates a department.
type DepartmentInput struct {
	NodeID int64  `json:"node_id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
}

// CreateDepartment adds a department to a node; it needs org.manage there.
func (s *Service) CreateDepartment(ctx context.Context, in DepartmentInput) (*Department, error) {
	var v errs.Validation
	v.OneOf("kind", in.Kind, DepartmentKinds...)
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 100)
	node, err := s.loadNode(ctx, in.NodeID)
	if err != nil {
		v.Add("node_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !auth.FromContext(ctx).Can(auth.PermOrgManage, node.Path) {
		return nil, errs.Forbidden()
	}
	d := &Department{NodeID: in.NodeID, Kind: in.Kind, Name: strings.TrimSpace(in.Name)}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		d.CreatedAt = tx.Now
		if err := tx.QueryRowContext(ctx, `INSERT INTO departments (node_id, kind, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			d.NodeID, d.Kind, d.Name, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&d.ID); err != nil {
			return fmt.Errorf("org: insert department: %w", err)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "department", EntityID: d.ID, NodePath: node.Path, Summary: d.Name, After: d})
	})
	return d, err
}

// departmentPath returns the org path of a department's node, or ENotFound.
func (s *Service) departmentPath(ctx context.Context, id int64) (string, error) {
	var p string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT n.path FROM departments d JOIN org_nodes n ON n.id = d.node_id WHERE d.id = ?`, id).Scan(&p)
	if db.IsNoRows(err) {
		return "", errs.NotFound("error.org.department_not_found")
	}
	return p, err
}

// Positions lists positions on nodes the caller may view.
func (s *Service) Positions(ctx context.Context) ([]Position, error) {
	cond, args := auth.ScopeSQL("n.path", auth.FromContext(ctx).Scope(auth.PermOrgView))
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT p.id, p.node_id, p.name FROM positions p JOIN org_nodes n ON n.id = p.node_id WHERE `+cond+` ORDER BY p.id LIMIT 2000`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: positions: %w", err)
	}
	defer rows.Close()
	var out []Position
	for rows.Next() {
		var p Position
		if err := rows.Scan(&p.ID, &p.NodeID, &p.Name); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PositionInput creates a position.
type PositionInput struct {
	NodeID int64  `json:"node_id"`
	Name   string `json:"name"`
}

// CreatePosition adds a job title on a node; it needs org.manage there.
func (s *Service) CreatePosition(ctx context.Context, in PositionInput) (*Position, error) {
	var v errs.Validation
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 100)
	node, err := s.loadNode(ctx, in.NodeID)
	if err != nil {
		v.Add("node_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !auth.FromContext(ctx).Can(auth.PermOrgManage, node.Path) {
		return nil, errs.Forbidden()
	}
	p := &Position{NodeID: in.NodeID, Name: strings.TrimSpace(in.Name)}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO positions (node_id, name, created_at) VALUES (?, ?, ?) RETURNING id`, p.NodeID, p.Name, db.Ms(tx.Now)).Scan(&p.ID); err != nil {
			return fmt.Errorf("org: insert position: %w", err)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "position", EntityID: p.ID, NodePath: node.Path, Summary: p.Name, After: p})
	})
	return p, err
}
