package org

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

const nodeCols = `id, parent_id, kind, site_kind, area_kind, name, code, path, depth, timezone, calendar, address, created_at, updated_at`

func scanNode(row interface{ Scan(...any) error }) (*Node, error) {
	var n Node
	var parent sql.NullInt64
	var created, updated int64
	if err := row.Scan(&n.ID, &parent, &n.Kind, &n.SiteKind, &n.AreaKind, &n.Name, &n.Code, &n.Path, &n.Depth, &n.Timezone, &n.Calendar, &n.Address, &created, &updated); err != nil {
		return nil, err
	}
	if parent.Valid {
		n.ParentID = &parent.Int64
	}
	n.CreatedAt, n.UpdatedAt = db.Time(created), db.Time(updated)
	return &n, nil
}

// loadNode reads a node without permission checks.
func (s *Service) loadNode(ctx context.Context, id int64) (*Node, error) {
	n, err := scanNode(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+nodeCols+` FROM org_nodes WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.org.node_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("org: load node %d: %w", id, err)
	}
	return n, nil
}

// Node returns a node the caller may view; ENotFound otherwise.
func (s *Service) Node(ctx context.Context, id int64) (*Node, error) {
	n, err := s.loadNode(ctx, id)
	if err != nil {
		return nil, err
	}
	if !auth.FromContext(ctx).Can(auth.PermOrgView, n.Path) {
		return nil, errs.NotFound("error.org.node_not_found")
	}
	return n, nil
}

// NodePath returns the path of a node, or ENotFound.
func (s *Service) NodePath(ctx context.Context, id int64) (string, error) {
	var p string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, id).Scan(&p)
	if db.IsNoRows(err) {
		return "", errs.NotFound("error.org.node_not_found")
	}
	return p, err
}

// Tree returns the nodes the caller may view, in tree order (by path), at
// most limit of them. Kind filters when not empty.
func (s *Service) Tree(ctx context.Context, kind string, limit int) ([]Node, error) {
	if limit <= 0 || limit > 10000 {
		limit = 5000
	}
	cond, args := auth.ScopeSQL("path", auth.FromContext(ctx).Scope(auth.PermOrgView))
	if kind != "" {
		cond += " AND kind = ?"
		args = append(args, kind)
	}
	args = append(args, limit)
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+nodeCols+` FROM org_nodes WHERE `+cond+` ORDER BY path LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: tree: %w", err)
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortTree(out)
	return out, nil
}

// sortTree puts nodes in depth-first order with siblings by id: the path
// text alone would put "/1/10/" before "/1/7/".
func sortTree(nodes []Node) {
	key := func(path string) []int64 {
		var k []int64
		for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
			n, _ := strconv.ParseInt(part, 10, 64)
			k = append(k, n)
		}
		return k
	}
	keys := make(map[int64][]int64, len(nodes))
	for _, n := range nodes {
		keys[n.ID] = key(n.Path)
	}
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := keys[nodes[i].ID], keys[nodes[j].ID]
		for x := 0; x < len(a) && x < len(b); x++ {
			if a[x] != b[x] {
				return a[x] < b[x]
			}
		}
		return len(a) < len(b)
	})
}

// NodeInput is what a caller may set on a node.
type NodeInput struct {
	ParentID *int64 `json:"parent_id"`
	Kind     string `json:"kind"`
	SiteKind string `json:"site_kind"`
	AreaKind string `json:"area_kind"`
	Name     string `json:"name"`
	Code     string `json:"code"`
	Timezone string `json:"timezone"`
	Calendar string `json:"calendar"`
	Address  string `json:"address"`
}

// allowedParent says which kinds may hold which.
func allowedParent(kind, parentKind string) bool {
	switch kind {
	case KindCompany:
		return parentKind == ""
	case KindRegion, KindSite:
		return parentKind == KindCompany || parentKind == KindRegion
	case KindArea:
		return parentKind == KindSite || parentKind == KindArea
	}
	return false
}

func (in *NodeInput) validate(v *errs.Validation) {
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 100)
	v.MaxLen("code", in.Code, 50)
	v.MaxLen("address", in.Address, 300)
	v.MaxLen("calendar", in.Calendar, 60)
	v.OneOf("kind", in.Kind, NodeKinds...)
	if in.Kind == KindSite {
		v.OneOf("site_kind", in.SiteKind, SiteKinds...)
	} else if in.SiteKind != "" {
		v.Add("site_kind", "error.org.site_kind_only_for_sites")
	}
	if in.Kind == KindArea {
		v.OneOf("area_kind", in.AreaKind, AreaKinds...)
	} else if in.AreaKind != "" {
		v.Add("area_kind", "error.org.area_kind_only_for_areas")
	}
	if in.Timezone != "" && !validZone(in.Timezone) {
		v.Add("timezone", "error.field.invalid_timezone")
	}
}

// CreateNode adds a node. A company (root) needs the admin role granted on
// an existing root (see canCreateRoot); any other node needs org.manage on
// its parent. It returns EInvalid for bad input, EForbidden otherwise.
func (s *Service) CreateNode(ctx context.Context, in NodeInput) (*Node, error) {
	var v errs.Validation
	in.validate(&v)
	var parent *Node
	if in.ParentID != nil {
		p, err := s.loadNode(ctx, *in.ParentID)
		if errs.CodeOf(err) == errs.ENotFound {
			v.Add("parent_id", "error.field.unknown_id")
		} else if err != nil {
			return nil, err
		}
		parent = p
	}
	parentKind := ""
	if parent != nil {
		parentKind = parent.Kind
	}
	if !v.Has("kind") && !v.Has("parent_id") && !allowedParent(in.Kind, parentKind) {
		v.Add("parent_id", "error.org.bad_parent")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	if parent == nil {
		if !canCreateRoot(p) {
			return nil, errs.Forbidden()
		}
	} else if !p.Can(auth.PermOrgManage, parent.Path) {
		return nil, errs.Forbidden()
	}
	return s.insertNode(ctx, in, parent)
}

// canCreateRoot reports whether p may add a company root: only an admin
// granted at the top of a tree may, never the admin of a subtree.
func canCreateRoot(p *auth.Principal) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Grants {
		if g.RoleKey == auth.RoleAdmin && strings.Count(g.NodePath, "/") == 2 && p.Can(auth.PermOrgManage, g.NodePath) {
			return true
		}
	}
	return false
}

// insertNode writes a node and its path without permission checks (demo data
// and first start use it directly).
func (s *Service) insertNode(ctx context.Context, in NodeInput, parent *Node) (*Node, error) {
	var out *Node
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var parentID any
		depth, prefix := 0, "/"
		if parent != nil {
			parentID, depth, prefix = parent.ID, parent.Depth+1, parent.Path
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO org_nodes (parent_id, kind, site_kind, area_kind, name, code, depth, timezone, calendar, address, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			parentID, in.Kind, in.SiteKind, in.AreaKind, strings.TrimSpace(in.Name), strings.TrimSpace(in.Code), depth, in.Timezone, in.Calendar, in.Address, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
		if err != nil {
			return fmt.Errorf("org: insert node: %w", err)
		}
		path := prefix + strconv.FormatInt(id, 10) + "/"
		if _, err := tx.ExecContext(ctx, `UPDATE org_nodes SET path = ? WHERE id = ?`, path, id); err != nil {
			return err
		}
		n, err := s.loadNode(ctx, id)
		if err != nil {
			return err
		}
		out = n
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "org_node", EntityID: id, NodePath: path, Summary: n.Name, After: n})
	})
	return out, err
}

// UpdateNode changes a node's name, code and settings (not its kind or its
// place in the tree: EInvalid when the input names others). It needs
// org.manage on the node.
func (s *Service) UpdateNode(ctx context.Context, id int64, in NodeInput) (*Node, error) {
	before, err := s.Node(ctx, id)
	if err != nil {
		return nil, err
	}
	// The kind and the place in the tree are fixed: a request naming others
	// is refused, not half applied.
	var v errs.Validation
	v.Check(in.Kind == "" || in.Kind == before.Kind, "kind", "error.field.read_only")
	v.Check(in.ParentID == nil || (before.ParentID != nil && *in.ParentID == *before.ParentID), "parent_id", "error.field.read_only")
	in.Kind, in.ParentID = before.Kind, before.ParentID
	in.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !auth.FromContext(ctx).Can(auth.PermOrgManage, before.Path) {
		return nil, errs.Forbidden()
	}
	var out *Node
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE org_nodes SET name = ?, code = ?, site_kind = ?, area_kind = ?, timezone = ?, calendar = ?, address = ?, updated_at = ? WHERE id = ?`,
			strings.TrimSpace(in.Name), strings.TrimSpace(in.Code), in.SiteKind, in.AreaKind, in.Timezone, in.Calendar, in.Address, db.Ms(tx.Now), id); err != nil {
			return fmt.Errorf("org: update node %d: %w", id, err)
		}
		n, err := s.loadNode(ctx, id)
		if err != nil {
			return err
		}
		out = n
		return s.audit.Record(ctx, audit.Entry{Action: "update", Entity: "org_node", EntityID: id, NodePath: n.Path, Summary: n.Name, Before: before, After: n})
	})
	return out, err
}

// DeleteNode removes an empty node (no children, staff, departments or
// grants); EConflict "error.org.node_not_empty" otherwise.
func (s *Service) DeleteNode(ctx context.Context, id int64) error {
	n, err := s.Node(ctx, id)
	if err != nil {
		return err
	}
	if !auth.FromContext(ctx).Can(auth.PermOrgManage, n.Path) || n.ParentID == nil {
		return errs.Forbidden()
	}
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var used int
		err := tx.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM org_nodes WHERE parent_id = ?) + (SELECT COUNT(*) FROM staff WHERE node_id = ?) +
			(SELECT COUNT(*) FROM departments WHERE node_id = ?) + (SELECT COUNT(*) FROM role_grants WHERE node_id = ?)`, id, id, id, id).Scan(&used)
		if err != nil {
			return err
		}
		if used > 0 {
			return errs.New(errs.EConflict, "error.org.node_not_empty")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM positions WHERE node_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM org_nodes WHERE id = ?`, id); err != nil {
			if db.IsForeignKey(err) {
				return errs.New(errs.EConflict, "error.org.node_not_empty")
			}
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "delete", Entity: "org_node", EntityID: id, NodePath: n.Path, Summary: n.Name, Before: n})
	})
}
