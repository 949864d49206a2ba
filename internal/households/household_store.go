package households

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

const householdCols = `h.id, h.unit_id, h.site_id, u.number, h.butler_id, COALESCE(st.name, ''), h.status, h.residency, h.moved_in_on, h.moved_out_on,
	h.notes, h.elderly_alone, h.has_child, h.needs_assistance, h.last_contact_at, h.last_visit_at, h.node_path, h.created_at, h.updated_at`

const householdFrom = ` FROM households h JOIN units u ON u.id = h.unit_id LEFT JOIN staff st ON st.id = h.butler_id`

func scanHousehold(row interface{ Scan(...any) error }) (*Household, error) {
	var h Household
	var butler, contact, visit sql.NullInt64
	var created, updated int64
	if err := row.Scan(&h.ID, &h.UnitID, &h.SiteID, &h.UnitNumber, &butler, &h.ButlerName, &h.Status, &h.Residency, &h.MovedInOn, &h.MovedOutOn,
		&h.Notes, &h.ElderlyAlone, &h.HasChild, &h.NeedsAssistance, &contact, &visit, &h.NodePath, &created, &updated); err != nil {
		return nil, err
	}
	h.ButlerID, h.LastContactAt, h.LastVisitAt = ptrID(butler), db.TimePtr(contact), db.TimePtr(visit)
	h.CreatedAt, h.UpdatedAt = db.Time(created), db.Time(updated)
	return &h, nil
}

func (s *Service) loadHousehold(ctx context.Context, id int64) (*Household, error) {
	h, err := scanHousehold(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+householdCols+householdFrom+` WHERE h.id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.household.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("households: load household %d: %w", id, err)
	}
	return h, nil
}

// visibleHousehold loads a household the caller may view, else ENotFound.
func (s *Service) visibleHousehold(ctx context.Context, id int64) (*Household, error) {
	h, err := s.loadHousehold(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(ctx, h.NodePath) {
		return nil, errs.NotFound("error.household.not_found")
	}
	return h, nil
}

// Household returns one household the caller may view.
func (s *Service) Household(ctx context.Context, id int64) (*Household, error) {
	return s.visibleHousehold(ctx, id)
}

// HouseholdInput is what a caller sets on a household. ButlerID is read
// on creation only; later changes of butler go through a handover.
type HouseholdInput struct {
	UnitID    int64  `json:"unit_id"`
	ButlerID  *int64 `json:"butler_id"`
	Residency string `json:"residency"`
	MovedInOn string `json:"moved_in_on"`
	Notes     string `json:"notes"`
}

func (in *HouseholdInput) validate(v *errs.Validation, create bool) {
	in.MovedInOn, in.Notes = strings.TrimSpace(in.MovedInOn), strings.TrimSpace(in.Notes)
	if in.Residency == "" && create {
		in.Residency = "living"
	}
	v.OneOf("residency", in.Residency, Residencies...)
	if in.MovedInOn != "" {
		_, ok := parseDay(in.MovedInOn)
		v.Check(ok && len(in.MovedInOn) == 10, "moved_in_on", "error.hh.bad_date")
	}
	v.MaxLen("notes", in.Notes, maxNoteLen)
}

// validButler checks that id is an active staff member who may do care
// work on households at path.
func (s *Service) validButler(ctx context.Context, id int64, path string) bool {
	p, err := s.principals.LoadPrincipal(ctx, id)
	return err == nil && p.Can(PermCare, path)
}

// CreateHousehold registers the household living in a unit. It needs
// household.manage, and household.assign to name a butler other than the
// caller; EInvalid "error.household.unit_taken" when the unit has a
// current household.
func (s *Service) CreateHousehold(ctx context.Context, in HouseholdInput) (*Household, error) {
	var v errs.Validation
	in.validate(&v, true)
	var unit *Unit
	if in.UnitID == 0 {
		v.Add("unit_id", "error.field.required")
	} else if u, err := s.Unit(ctx, in.UnitID); err != nil {
		v.Add("unit_id", "error.field.unknown_id")
	} else {
		unit = u
		v.Check(u.HouseholdID == nil, "unit_id", "error.household.unit_taken")
	}
	if in.ButlerID != nil && (unit == nil || !s.validButler(ctx, *in.ButlerID, unit.NodePath)) {
		v.Add("butler_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, unit.NodePath); err != nil {
		return nil, err
	}
	if in.ButlerID != nil && *in.ButlerID != principal(ctx).StaffID {
		if err := need(ctx, PermAssign, unit.NodePath); err != nil {
			return nil, err
		}
	}
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		id, err = s.insertHousehold(ctx, tx, unit, in)
		if err != nil {
			return err
		}
		return s.record(ctx, "create", "household", id, unit.NodePath, unit.Number,
			map[string]any{"unit_id": unit.ID, "butler_id": in.ButlerID, "residency": in.Residency})
	})
	if err != nil {
		return nil, err
	}
	return s.Household(ctx, id)
}

func (s *Service) insertHousehold(ctx context.Context, tx *db.Tx, unit *Unit, in HouseholdInput) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO households (unit_id, site_id, node_path, butler_id, status, residency, moved_in_on, notes, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'current', ?, ?, ?, ?, ?) RETURNING id`,
		unit.ID, unit.SiteID, unit.NodePath, nullID(in.ButlerID), in.Residency, in.MovedInOn, in.Notes, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
	if db.IsUnique(err) {
		return 0, errs.Invalid("unit_id", "error.household.unit_taken")
	}
	if err != nil {
		return 0, fmt.Errorf("households: insert household: %w", err)
	}
	if in.ButlerID != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO household_butlers (household_id, butler_id, from_at) VALUES (?, ?, ?)`, id, *in.ButlerID, db.Ms(tx.Now)); err != nil {
			return 0, err
		}
	}
	if unit.State == "delivered" || unit.State == "vacant" {
		if _, err := tx.ExecContext(ctx, `UPDATE units SET state = 'occupied', updated_at = ? WHERE id = ?`, db.Ms(tx.Now), unit.ID); err != nil {
			return 0, err
		}
	}
	for _, t := range unitTokens(unit.Number) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO household_search (token, household_id) VALUES (?, ?)`, t, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// UpdateHousehold changes a household's residency, move-in day and notes.
// It needs household.manage.
func (s *Service) UpdateHousehold(ctx context.Context, id int64, in HouseholdInput) (*Household, error) {
	h, err := s.visibleHousehold(ctx, id)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.validate(&v, false)
	v.Check(in.UnitID == 0 || in.UnitID == h.UnitID, "unit_id", "error.field.read_only")
	v.Check(in.ButlerID == nil || (h.ButlerID != nil && *in.ButlerID == *h.ButlerID), "butler_id", "error.household.butler_via_handover")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, h.NodePath); err != nil {
		return nil, err
	}
	if h.Status != "current" {
		return nil, errs.New(errs.EConflict, "error.household.former")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE households SET residency = ?, moved_in_on = ?, notes = ?, updated_at = ? WHERE id = ?`,
			in.Residency, in.MovedInOn, in.Notes, db.Ms(tx.Now), id); err != nil {
			return fmt.Errorf("households: update household %d: %w", id, err)
		}
		return s.record(ctx, "update", "household", id, h.NodePath, h.UnitNumber, map[string]any{"residency": in.Residency, "moved_in_on": in.MovedInOn})
	})
	if err != nil {
		return nil, err
	}
	return s.Household(ctx, id)
}

// MoveOutInput ends a household's time in its unit.
type MoveOutInput struct {
	MovedOutOn string `json:"moved_out_on"`
	UnitState  string `json:"unit_state"` // what the unit becomes: vacant (default), unsold, decorating…
}

// MoveOut marks a household as former: its people move out, its open care
// tasks are cancelled, it leaves the search, and the unit is free for the
// next household. Personal data stays until erased. It needs
// household.manage; EConflict when it has moved out already or still has
// keys in custody.
func (s *Service) MoveOut(ctx context.Context, id int64, in MoveOutInput) (*Household, error) {
	h, err := s.visibleHousehold(ctx, id)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.MovedOutOn = strings.TrimSpace(in.MovedOutOn)
	_, ok := parseDay(in.MovedOutOn)
	v.Check(ok && len(in.MovedOutOn) == 10, "moved_out_on", "error.hh.bad_date")
	if in.UnitState == "" {
		in.UnitState = "vacant"
	}
	v.OneOf("unit_state", in.UnitState, UnitStates...)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, h.NodePath); err != nil {
		return nil, err
	}
	if h.Status != "current" {
		return nil, errs.New(errs.EConflict, "error.household.former")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM household_keys WHERE household_id = ? AND status = 'held'`, id).Scan(&held); err != nil {
			return err
		}
		if held > 0 {
			return errs.New(errs.EConflict, "error.household.keys_held")
		}
		now := db.Ms(tx.Now)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE households SET status = 'former', moved_out_on = ?, updated_at = ? WHERE id = ?`, []any{in.MovedOutOn, now, id}},
			{`UPDATE household_people SET status = 'moved_out', updated_at = ? WHERE household_id = ? AND status = 'active'`, []any{now, id}},
			{`UPDATE care_tasks SET status = 'cancelled' WHERE household_id = ? AND status = 'open'`, []any{id}},
			{`DELETE FROM household_search WHERE household_id = ?`, []any{id}},
			{`UPDATE household_butlers SET to_at = ? WHERE household_id = ? AND to_at IS NULL`, []any{now, id}},
			{`UPDATE units SET state = ?, updated_at = ? WHERE id = ?`, []any{in.UnitState, now, h.UnitID}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return fmt.Errorf("households: move out %d: %w", id, err)
			}
		}
		return s.record(ctx, "move_out", "household", id, h.NodePath, h.UnitNumber, in)
	})
	if err != nil {
		return nil, err
	}
	return s.Household(ctx, id)
}

// HouseholdFilter selects households.
type HouseholdFilter struct {
	Q          string // one box: unit, name, pinyin initials, phone suffix
	SiteID     int64
	BuildingID int64
	ButlerID   int64
	Flag       string // elderly_alone, has_child, needs_assistance
	Residency  string
	Page       int
	PerPage    int
}

// Flags a household list can filter on.
var HouseholdFlags = []string{"elderly_alone", "has_child", "needs_assistance"}

// HouseholdItem is a household in a list, with its people masked.
type HouseholdItem struct {
	Household
	People []Person `json:"people"`
	// MatchedPersonID is the person a search matched (null when the unit
	// number matched).
	MatchedPersonID *int64 `json:"matched_person_id"`
}

// HouseholdPage is one page of households. A search (Q) returns at most 50
// and says More when it cut the rest.
type HouseholdPage struct {
	Items   []HouseholdItem `json:"items"`
	Total   int             `json:"total"`
	Page    int             `json:"page"`
	PerPage int             `json:"per_page"`
	More    bool            `json:"more"`
}

// ListHouseholds returns the current households the caller may view: a
// search when Q is set, else a page in unit order. EInvalid for an unknown
// filter value.
func (s *Service) ListHouseholds(ctx context.Context, f HouseholdFilter) (*HouseholdPage, error) {
	f.Page, f.PerPage = pageBounds(f.Page, f.PerPage)
	var v errs.Validation
	v.MaxLen("q", f.Q, 50)
	extra, extraArgs := "", []any{}
	if f.SiteID != 0 {
		v.Check(s.nodeKind(ctx, f.SiteID) == "site", "site_id", "error.field.unknown_id")
		extra += " AND h.site_id = ?"
		extraArgs = append(extraArgs, f.SiteID)
	}
	if f.BuildingID != 0 {
		v.Check(s.nodeKind(ctx, f.BuildingID) == "area", "building_id", "error.field.unknown_id")
		extra += " AND h.unit_id IN (SELECT id FROM units WHERE building_id = ?)"
		extraArgs = append(extraArgs, f.BuildingID)
	}
	if f.ButlerID != 0 {
		extra += " AND h.butler_id = ?"
		extraArgs = append(extraArgs, f.ButlerID)
	}
	if f.Flag != "" {
		v.OneOf("flag", f.Flag, HouseholdFlags...)
		if !v.Has("flag") {
			extra += " AND h." + f.Flag
		}
	}
	if f.Residency != "" {
		v.OneOf("residency", f.Residency, Residencies...)
		extra += " AND h.residency = ?"
		extraArgs = append(extraArgs, f.Residency)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page := &HouseholdPage{Items: []HouseholdItem{}, Page: f.Page, PerPage: f.PerPage}
	var ids []int64
	matched := map[int64]*int64{}
	if strings.TrimSpace(f.Q) != "" {
		hits, more, err := s.search(ctx, f.Q, extra, extraArgs)
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			ids = append(ids, h.householdID)
			matched[h.householdID] = h.personID
		}
		page.Total, page.More, page.Page, page.PerPage = len(ids), more, 1, searchLimit
	} else {
		var err error
		if ids, page.Total, err = s.pageHouseholds(ctx, f, extra, extraArgs); err != nil {
			return nil, err
		}
	}
	hs, err := s.householdsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	people, err := s.peopleOf(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		h, ok := hs[id]
		if !ok {
			continue
		}
		page.Items = append(page.Items, HouseholdItem{Household: *h, People: orEmpty(people[id]), MatchedPersonID: matched[id]})
	}
	return page, nil
}

func (s *Service) pageHouseholds(ctx context.Context, f HouseholdFilter, extra string, extraArgs []any) ([]int64, int, error) {
	scope, args := auth.ScopeSQL("h.node_path", principal(ctx).Scope(PermView))
	cond := scope + " AND h.status = 'current'" + extra
	args = append(args, extraArgs...)
	q := s.db.Q(ctx)
	var total int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM households h WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("households: count: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT h.id FROM households h JOIN units u ON u.id = h.unit_id WHERE `+cond+
		` ORDER BY u.site_id, u.number LIMIT ? OFFSET ?`, append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, 0, fmt.Errorf("households: page: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	return ids, total, rows.Err()
}

func (s *Service) householdsByID(ctx context.Context, ids []int64) (map[int64]*Household, error) {
	out := map[int64]*Household{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+householdCols+householdFrom+` WHERE h.id IN (`+db.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("households: by id: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHousehold(rows)
		if err != nil {
			return nil, err
		}
		out[h.ID] = h
	}
	return out, rows.Err()
}
