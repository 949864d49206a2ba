package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
)

var (
	usernameRe = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{3,50}$`)
	phoneRe    = regexp.MustCompile(`^\+?[0-9\-]{5,20}$`)
)

const staffCols = `s.id, s.node_id, s.node_path, s.department_id, s.position_id, s.username, s.name, s.phone, s.status, s.locale,
	s.last_login_at, s.locked_until, s.created_at, s.updated_at, n.name, COALESCE(d.name, ''), COALESCE(p.name, '')`

const staffFrom = ` FROM staff s JOIN org_nodes n ON n.id = s.node_id LEFT JOIN departments d ON d.id = s.department_id LEFT JOIN positions p ON p.id = s.position_id`

func scanStaff(row interface{ Scan(...any) error }) (*Staff, error) {
	var st Staff
	var dep, pos, last, locked sql.NullInt64
	var created, updated int64
	if err := row.Scan(&st.ID, &st.NodeID, &st.NodePath, &dep, &pos, &st.Username, &st.Name, &st.Phone, &st.Status, &st.Locale,
		&last, &locked, &created, &updated, &st.NodeName, &st.DepartmentName, &st.PositionName); err != nil {
		return nil, err
	}
	if dep.Valid {
		st.DepartmentID = &dep.Int64
	}
	if pos.Valid {
		st.PositionID = &pos.Int64
	}
	st.LastLoginAt, st.LockedUntil = db.TimePtr(last), db.TimePtr(locked)
	st.CreatedAt, st.UpdatedAt = db.Time(created), db.Time(updated)
	return &st, nil
}

// StaffFilter selects staff.
type StaffFilter struct {
	Q            string // name, username or phone suffix
	NodeID       int64  // this node's subtree
	DepartmentID int64
	Status       string
	Page         int // from 1
	PerPage      int
}

// StaffPage is one page of staff and the total count.
type StaffPage struct {
	Items   []Staff `json:"items"`
	Total   int     `json:"total"`
	Page    int     `json:"page"`
	PerPage int     `json:"per_page"`
}

// ListStaff returns a page of the staff the caller may view, phones masked.
func (s *Service) ListStaff(ctx context.Context, f StaffFilter) (*StaffPage, error) {
	if f.Page < 1 {
		f.Page = 1
	}
	if f.PerPage < 1 || f.PerPage > 200 {
		f.PerPage = 50
	}
	cond, args := auth.ScopeSQL("s.node_path", auth.FromContext(ctx).Scope(auth.PermStaffView))
	if f.NodeID != 0 {
		path, err := s.NodePath(ctx, f.NodeID)
		if err != nil {
			return nil, errs.Invalid("node_id", "error.field.unknown_id")
		}
		cond += " AND s.node_path LIKE ?"
		args = append(args, path+"%")
	}
	if f.DepartmentID != 0 {
		cond += " AND s.department_id = ?"
		args = append(args, f.DepartmentID)
	}
	if f.Status != "" {
		cond += " AND s.status = ?"
		args = append(args, f.Status)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		like := "%" + escapeLike(q) + "%"
		cond += ` AND (s.name ` + s.db.ILike() + ` ? ESCAPE '\' OR s.username ` + s.db.ILike() + ` ? ESCAPE '\' OR s.phone LIKE ? ESCAPE '\')`
		args = append(args, like, like, "%"+escapeLike(q))
	}
	p := &StaffPage{Page: f.Page, PerPage: f.PerPage, Items: []Staff{}}
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM staff s WHERE `+cond, args...).Scan(&p.Total); err != nil {
		return nil, fmt.Errorf("org: count staff: %w", err)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+staffCols+staffFrom+` WHERE `+cond+` ORDER BY s.id LIMIT ? OFFSET ?`,
		append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, fmt.Errorf("org: list staff: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		st.Phone = pii.MaskPhone(st.Phone)
		p.Items = append(p.Items, *st)
	}
	return p, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Staff returns one staff member the caller may view, or ENotFound. The
// phone is clear for holders of staff.manage on them, masked otherwise.
func (s *Service) Staff(ctx context.Context, id int64) (*Staff, error) {
	st, err := s.loadStaff(ctx, id)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	if !p.Can(auth.PermStaffView, st.NodePath) && p.StaffID != id {
		return nil, errs.NotFound("error.staff.not_found")
	}
	if !p.Can(auth.PermStaffManage, st.NodePath) {
		st.Phone = pii.MaskPhone(st.Phone)
	}
	return st, nil
}

func (s *Service) loadStaff(ctx context.Context, id int64) (*Staff, error) {
	st, err := scanStaff(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+staffCols+staffFrom+` WHERE s.id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.staff.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("org: load staff %d: %w", id, err)
	}
	return st, nil
}

// StaffInput is what a caller sets on a staff account.
type StaffInput struct {
	NodeID       int64  `json:"node_id"`
	DepartmentID *int64 `json:"department_id"`
	PositionID   *int64 `json:"position_id"`
	Username     string `json:"username"`
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	Status       string `json:"status"`
	Locale       string `json:"locale"`
	Password     string `json:"password,omitempty"` // create only; the person must change it at first login
}

func (s *Service) validateStaff(ctx context.Context, in *StaffInput, create bool) (nodePath string, err error) {
	var v errs.Validation
	in.Username, in.Name, in.Phone = strings.TrimSpace(in.Username), strings.TrimSpace(in.Name), strings.TrimSpace(in.Phone)
	if in.Status == "" {
		in.Status = "active"
	}
	if create {
		v.Required("username", in.Username)
		v.Check(in.Username == "" || usernameRe.MatchString(in.Username), "username", "error.staff.bad_username")
		if k := auth.ValidatePassword(in.Password); k != "" {
			v.Add("password", k)
		}
	}
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 50)
	v.Check(in.Phone == "" || phoneRe.MatchString(in.Phone), "phone", "error.field.bad_phone")
	v.OneOf("status", in.Status, StaffStatuses...)
	if in.Locale != "" {
		v.OneOf("locale", in.Locale, "zh-CN", "en")
	}
	if in.NodeID == 0 {
		v.Add("node_id", "error.field.required")
	} else if nodePath, err = s.NodePath(ctx, in.NodeID); err != nil {
		v.Add("node_id", "error.field.unknown_id")
	}
	if in.DepartmentID != nil {
		if dp, err := s.departmentPath(ctx, *in.DepartmentID); err != nil {
			v.Add("department_id", "error.field.unknown_id")
		} else if nodePath != "" && !strings.HasPrefix(nodePath, dp) && !strings.HasPrefix(dp, nodePath) {
			v.Add("department_id", "error.staff.department_elsewhere")
		}
	}
	if in.PositionID != nil {
		var n int
		_ = s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM positions WHERE id = ?`, *in.PositionID).Scan(&n)
		v.Check(n == 1, "position_id", "error.field.unknown_id")
	}
	return nodePath, v.Err()
}

// CreateStaff adds a staff account. It needs staff.manage on the node; it
// fails with EInvalid "error.staff.username_taken" on a duplicate username.
func (s *Service) CreateStaff(ctx context.Context, in StaffInput) (*Staff, error) {
	path, err := s.validateStaff(ctx, &in, true)
	if err != nil {
		return nil, err
	}
	if !auth.FromContext(ctx).Can(auth.PermStaffManage, path) {
		return nil, errs.Forbidden()
	}
	hash, err := auth.HashPassword(in.Password, s.argon2)
	if err != nil {
		return nil, err
	}
	return s.insertStaff(ctx, in, path, hash, true)
}

func (s *Service) insertStaff(ctx context.Context, in StaffInput, path, hash string, mustChange bool) (*Staff, error) {
	var out *Staff
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO staff (node_id, node_path, department_id, position_id, username, name, phone, status, locale, password_hash, must_change_pw, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			in.NodeID, path, in.DepartmentID, in.PositionID, in.Username, in.Name, in.Phone, in.Status, in.Locale, hash, mustChange, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
		if db.IsUnique(err) {
			return errs.Invalid("username", "error.staff.username_taken")
		}
		if err != nil {
			return fmt.Errorf("org: insert staff: %w", err)
		}
		st, err := s.loadStaff(ctx, id)
		if err != nil {
			return err
		}
		out = st
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "staff", EntityID: id, NodePath: path, Summary: st.Username, After: st})
	})
	return out, err
}

// UpdateStaff changes a staff account (not its username or password:
// EInvalid when the input names others). It needs staff.manage on both the
// old and the new node.
func (s *Service) UpdateStaff(ctx context.Context, id int64, in StaffInput) (*Staff, error) {
	before, err := s.loadStaff(ctx, id)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	if !p.Can(auth.PermStaffView, before.NodePath) {
		return nil, errs.NotFound("error.staff.not_found")
	}
	// The username and the password are not changed here (the password has
	// its own reset); a request that tries is refused, not half applied.
	var ro errs.Validation
	ro.Check(in.Username == "" || strings.TrimSpace(in.Username) == before.Username, "username", "error.field.read_only")
	ro.Check(in.Password == "", "password", "error.field.read_only")
	path, err := s.validateStaff(ctx, &in, false)
	if err := mergeInvalid(ro.Err(), err); err != nil {
		return nil, err
	}
	if !p.Can(auth.PermStaffManage, before.NodePath) || !p.Can(auth.PermStaffManage, path) {
		return nil, errs.Forbidden()
	}
	var out *Staff
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET node_id = ?, node_path = ?, department_id = ?, position_id = ?, name = ?, phone = ?, status = ?, locale = ?, updated_at = ? WHERE id = ?`,
			in.NodeID, path, in.DepartmentID, in.PositionID, in.Name, in.Phone, in.Status, in.Locale, db.Ms(tx.Now), id); err != nil {
			return fmt.Errorf("org: update staff %d: %w", id, err)
		}
		if in.Status == "left" {
			// Someone who left is signed out everywhere at once.
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_id = ?`, id); err != nil {
				return err
			}
		}
		st, err := s.loadStaff(ctx, id)
		if err != nil {
			return err
		}
		out = st
		return s.audit.Record(ctx, audit.Entry{Action: "update", Entity: "staff", EntityID: id, NodePath: path, Summary: st.Username, Before: before, After: st})
	})
	return out, err
}

// ResetPassword sets a new password chosen by a manager; the person must
// change it at next login, and their sessions end.
func (s *Service) ResetPassword(ctx context.Context, id int64, password string) error {
	st, err := s.loadStaff(ctx, id)
	if err != nil {
		return err
	}
	if !auth.FromContext(ctx).Can(auth.PermStaffManage, st.NodePath) {
		return errs.Forbidden()
	}
	if k := auth.ValidatePassword(password); k != "" {
		return errs.Invalid("password", k)
	}
	hash, err := auth.HashPassword(password, s.argon2)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = ?, must_change_pw = TRUE, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?`, hash, db.Ms(tx.Now), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_id = ?`, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "password_reset", Entity: "staff", EntityID: id, NodePath: st.NodePath, Summary: st.Username})
	})
}

// mergeInvalid joins the field problems of two EInvalid errors, so a caller
// hears of every bad field at once. Any other error b wins as it is.
func mergeInvalid(a, b error) error {
	var ea, eb *errs.Error
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case !errors.As(a, &ea) || !errors.As(b, &eb) || ea.Code != errs.EInvalid || eb.Code != errs.EInvalid:
		return b
	}
	var v errs.Validation
	for _, e := range []*errs.Error{ea, eb} {
		for f, k := range e.Fields {
			v.Add(f, k)
		}
	}
	return v.Err()
}
