package cases

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Category returns one category; ENotFound when there is none.
func (s *Service) Category(ctx context.Context, id int64) (*Category, error) {
	var c Category
	var parent sql.NullInt64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, site_id, parent_id, code, name, department_kind, needs_signature FROM case_categories WHERE id = ?`, id).
		Scan(&c.ID, &c.SiteID, &parent, &c.Code, &c.Name, &c.DepartmentKind, &c.NeedsSignature)
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.case.category_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("cases: category %d: %w", id, err)
	}
	c.ParentID = nullID(parent)
	return &c, nil
}

// Categories lists a site's active categories in tree order.
func (s *Service) Categories(ctx context.Context, siteID int64) ([]Category, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, site_id, parent_id, code, name, department_kind, needs_signature FROM case_categories
		WHERE site_id = ? AND active = TRUE ORDER BY COALESCE(parent_id, id), parent_id IS NOT NULL, sort, id LIMIT 1000`, siteID)
	if err != nil {
		return nil, fmt.Errorf("cases: categories: %w", err)
	}
	defer rows.Close()
	out := []Category{}
	for rows.Next() {
		var c Category
		var parent sql.NullInt64
		if err := rows.Scan(&c.ID, &c.SiteID, &parent, &c.Code, &c.Name, &c.DepartmentKind, &c.NeedsSignature); err != nil {
			return nil, err
		}
		c.ParentID = nullID(parent)
		out = append(out, c)
	}
	return out, rows.Err()
}

// CategoryInput creates a category.
type CategoryInput struct {
	SiteID         int64  `json:"site_id"`
	ParentID       *int64 `json:"parent_id"`
	Code           string `json:"code"`
	Name           string `json:"name"`
	DepartmentKind string `json:"department_kind"`
	NeedsSignature bool   `json:"needs_signature"`
}

// CreateCategory adds a category to a site; it needs case.manage there.
func (s *Service) CreateCategory(ctx context.Context, in CategoryInput) (*Category, error) {
	var v errs.Validation
	in.Code, in.Name = strings.TrimSpace(in.Code), strings.TrimSpace(in.Name)
	v.Required("code", in.Code)
	v.MaxLen("code", in.Code, 40)
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 50)
	v.MaxLen("department_kind", in.DepartmentKind, 40)
	var path string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ? AND kind = 'site'`, in.SiteID).Scan(&path); err != nil {
		v.Add("site_id", "error.field.unknown_id")
	}
	if in.ParentID != nil {
		if p, err := s.Category(ctx, *in.ParentID); err != nil || p.SiteID != in.SiteID {
			v.Add("parent_id", "error.field.unknown_id")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(auth.PermCaseManage, path) {
		return nil, errs.Forbidden()
	}
	c := &Category{SiteID: in.SiteID, ParentID: in.ParentID, Code: in.Code, Name: in.Name, DepartmentKind: in.DepartmentKind, NeedsSignature: in.NeedsSignature}
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO case_categories (site_id, parent_id, code, name, department_kind, needs_signature, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.SiteID, c.ParentID, c.Code, c.Name, c.DepartmentKind, c.NeedsSignature, db.Ms(tx.Now)).Scan(&c.ID)
		if db.IsUnique(err) {
			return errs.Invalid("code", "error.case.category_code_taken")
		}
		if err != nil {
			return fmt.Errorf("cases: insert category: %w", err)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "case_category", EntityID: c.ID, NodePath: path, Summary: c.Name, After: c})
	})
	return c, err
}

// DefaultCategories are a residential site's categories and the
// department each goes to.
var DefaultCategories = []CategoryInput{
	{Code: "water_power", Name: "水电", DepartmentKind: "engineering", NeedsSignature: true},
	{Code: "doors_windows", Name: "门窗", DepartmentKind: "engineering", NeedsSignature: true},
	{Code: "elevator", Name: "电梯", DepartmentKind: "engineering"},
	{Code: "public_facilities", Name: "公共设施", DepartmentKind: "engineering"},
	{Code: "greening", Name: "绿化", DepartmentKind: "landscaping"},
	{Code: "cleaning", Name: "保洁", DepartmentKind: "cleaning"},
	{Code: "security", Name: "安防", DepartmentKind: "security"},
	{Code: "noise", Name: "噪音", DepartmentKind: "security"},
	{Code: "parking", Name: "停车", DepartmentKind: "security"},
	{Code: "service", Name: "服务态度", DepartmentKind: "customer_service"},
	{Code: "other", Name: "其他", DepartmentKind: "customer_service"},
}

// SeedCategories gives a site the default categories (first start, demo).
func (s *Service) SeedCategories(ctx context.Context, siteID int64) error {
	for i, c := range DefaultCategories {
		c.SiteID = siteID
		_, err := db.TxOrFail(ctx).ExecContext(ctx, `INSERT INTO case_categories (site_id, code, name, department_kind, needs_signature, sort, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, code) DO NOTHING`, siteID, c.Code, c.Name, c.DepartmentKind, c.NeedsSignature, i, db.Ms(db.Now(ctx)))
		if err != nil {
			return fmt.Errorf("cases: seed categories: %w", err)
		}
	}
	return nil
}
