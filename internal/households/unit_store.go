package households

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// unitNumberRe accepts building-floor-and-door numbers ("3-1502") and
// building-entrance-door ones ("2-1-301").
var unitNumberRe = regexp.MustCompile(`^[0-9A-Za-z]{1,4}(-[0-9A-Za-z]{1,6}){1,2}$`)

const unitCols = `u.id, u.site_id, u.building_id, u.node_path, u.building, u.floor, u.number, u.area_m2, u.layout, u.state, u.created_at, u.updated_at`

func scanUnit(row interface{ Scan(...any) error }, extra ...any) (*Unit, error) {
	var u Unit
	var building sql.NullInt64
	var area sql.NullFloat64
	var created, updated int64
	dst := append([]any{&u.ID, &u.SiteID, &building, &u.NodePath, &u.Building, &u.Floor, &u.Number, &area, &u.Layout, &u.State, &created, &updated}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	u.BuildingID = ptrID(building)
	if area.Valid {
		u.AreaM2 = &area.Float64
	}
	u.CreatedAt, u.UpdatedAt = db.Time(created), db.Time(updated)
	return &u, nil
}

// UnitInput is what a caller sets on a unit. Building and floor, when left
// out, come from the number: "3-1502" is building "3", floor 15.
type UnitInput struct {
	SiteID     int64    `json:"site_id"`
	BuildingID *int64   `json:"building_id"`
	Floor      int      `json:"floor"`
	Number     string   `json:"number"`
	AreaM2     *float64 `json:"area_m2"`
	Layout     string   `json:"layout"`
	State      string   `json:"state"`
}

// splitNumber returns the building code and floor a unit number implies.
func splitNumber(number string) (building string, floor int) {
	parts := strings.Split(number, "-")
	building = parts[0]
	room := parts[len(parts)-1]
	if len(room) >= 3 {
		if f, err := strconv.Atoi(room[:len(room)-2]); err == nil {
			floor = f
		}
	}
	return building, floor
}

// unitPlace is where a unit sits in the org tree.
type unitPlace struct {
	sitePath, path, building string
	buildingID               *int64
	floor                    int
}

// placeUnit validates the site, building and floor of a unit.
func (s *Service) placeUnit(ctx context.Context, v *errs.Validation, in *UnitInput) unitPlace {
	var pl unitPlace
	in.Number = strings.TrimSpace(in.Number)
	in.Layout = strings.TrimSpace(in.Layout)
	if in.State == "" {
		in.State = "delivered"
	}
	v.Required("number", in.Number)
	v.Check(in.Number == "" || (len(in.Number) <= 20 && unitNumberRe.MatchString(in.Number)), "number", "error.unit.bad_number")
	v.MaxLen("layout", in.Layout, 30)
	v.OneOf("state", in.State, UnitStates...)
	v.Check(in.Floor >= -10 && in.Floor <= 300, "floor", "error.field.bad_range")
	v.Check(in.AreaM2 == nil || (*in.AreaM2 > 0 && *in.AreaM2 < 100000), "area_m2", "error.field.bad_range")
	var kind string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path, kind FROM org_nodes WHERE id = ?`, in.SiteID).Scan(&pl.sitePath, &kind)
	switch {
	case in.SiteID == 0:
		v.Add("site_id", "error.field.required")
	case err != nil || kind != "site" || !canSee(ctx, pl.sitePath):
		v.Add("site_id", "error.field.unknown_id")
	}
	pl.path = pl.sitePath
	pl.building, pl.floor = splitNumber(in.Number)
	if in.Floor != 0 {
		pl.floor = in.Floor
	}
	if in.BuildingID != nil {
		var path, code, kind string
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path, code, kind FROM org_nodes WHERE id = ?`, *in.BuildingID).Scan(&path, &code, &kind)
		switch {
		case err != nil || kind != "area":
			v.Add("building_id", "error.field.unknown_id")
		case pl.sitePath != "" && !strings.HasPrefix(path, pl.sitePath):
			v.Add("building_id", "error.unit.building_elsewhere")
		default:
			pl.path, pl.buildingID = path, in.BuildingID
			if code != "" {
				pl.building = code
			}
		}
	} else if pl.sitePath != "" && pl.building != "" {
		// The building named by the number, when the tree has it.
		var id int64
		var path string
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, path FROM org_nodes WHERE parent_id = ? AND kind = 'area' AND code = ? ORDER BY id LIMIT 1`,
			in.SiteID, pl.building).Scan(&id, &path)
		if err == nil {
			pl.path, pl.buildingID = path, &id
		}
	}
	return pl
}

// CreateUnit adds a unit to a site. It needs household.manage on the
// building (or site); EInvalid "error.unit.number_taken" for a number the
// site has already.
func (s *Service) CreateUnit(ctx context.Context, in UnitInput) (*Unit, error) {
	var v errs.Validation
	pl := s.placeUnit(ctx, &v, &in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, pl.path); err != nil {
		return nil, err
	}
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, building_id, node_path, building, floor, number, area_m2, layout, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, in.SiteID, nullID(pl.buildingID), pl.path, pl.building, pl.floor, in.Number,
			in.AreaM2, in.Layout, in.State, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
		if db.IsUnique(err) {
			return errs.Invalid("number", "error.unit.number_taken")
		}
		if err != nil {
			return fmt.Errorf("households: insert unit: %w", err)
		}
		return s.record(ctx, "create", "unit", id, pl.path, in.Number, in)
	})
	if err != nil {
		return nil, err
	}
	return s.Unit(ctx, id)
}

// UpdateUnit changes a unit (not its site). It needs household.manage.
func (s *Service) UpdateUnit(ctx context.Context, id int64, in UnitInput) (*Unit, error) {
	before, err := s.Unit(ctx, id)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	pl := s.placeUnit(ctx, &v, &in)
	v.Check(in.SiteID == 0 || v.Has("site_id") || in.SiteID == before.SiteID, "site_id", "error.field.read_only")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, before.NodePath); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, pl.path); err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE units SET building_id = ?, node_path = ?, building = ?, floor = ?, number = ?, area_m2 = ?, layout = ?, state = ?, updated_at = ? WHERE id = ?`,
			nullID(pl.buildingID), pl.path, pl.building, pl.floor, in.Number, in.AreaM2, in.Layout, in.State, db.Ms(tx.Now), id)
		if db.IsUnique(err) {
			return errs.Invalid("number", "error.unit.number_taken")
		}
		if err != nil {
			return fmt.Errorf("households: update unit %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE households SET node_path = ? WHERE unit_id = ?`, pl.path, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE household_people SET node_path = ? WHERE household_id IN (SELECT id FROM households WHERE unit_id = ?)`, pl.path, id); err != nil {
			return err
		}
		if before.Number != in.Number {
			if err := s.writeUnitTokens(ctx, tx, id); err != nil {
				return err
			}
		}
		return s.record(ctx, "update", "unit", id, pl.path, in.Number, in)
	})
	if err != nil {
		return nil, err
	}
	return s.Unit(ctx, id)
}

// writeUnitTokens replaces the unit-number tokens of the unit's current household.
func (s *Service) writeUnitTokens(ctx context.Context, tx *db.Tx, unitID int64) error {
	var hid int64
	var number string
	err := tx.QueryRowContext(ctx, `SELECT h.id, u.number FROM households h JOIN units u ON u.id = h.unit_id WHERE h.unit_id = ? AND h.status = 'current'`, unitID).Scan(&hid, &number)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM household_search WHERE household_id = ? AND person_id IS NULL`, hid); err != nil {
		return err
	}
	for _, t := range unitTokens(number) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO household_search (token, household_id) VALUES (?, ?)`, t, hid); err != nil {
			return err
		}
	}
	return nil
}

// Unit returns a unit the caller may view, or ENotFound.
func (s *Service) Unit(ctx context.Context, id int64) (*Unit, error) {
	var hh sql.NullInt64
	u, err := scanUnit(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+unitCols+`, (SELECT h.id FROM households h WHERE h.unit_id = u.id AND h.status = 'current')
		FROM units u WHERE u.id = ?`, id), &hh)
	if db.IsNoRows(err) || (err == nil && !canSee(ctx, u.NodePath)) {
		return nil, errs.NotFound("error.unit.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("households: load unit %d: %w", id, err)
	}
	u.HouseholdID = ptrID(hh)
	return u, nil
}

// UnitFilter selects units.
type UnitFilter struct {
	SiteID     int64
	BuildingID int64
	Q          string // number prefix: "3-15"
	State      string
	Page       int
	PerPage    int
}

// UnitPage is one page of units.
type UnitPage struct {
	Items   []Unit `json:"items"`
	Total   int    `json:"total"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
}

// ListUnits returns a page of the units the caller may view, by number. It
// returns EInvalid for an unknown site or building.
func (s *Service) ListUnits(ctx context.Context, f UnitFilter) (*UnitPage, error) {
	f.Page, f.PerPage = pageBounds(f.Page, f.PerPage)
	cond, args := auth.ScopeSQL("u.node_path", principal(ctx).Scope(PermView))
	var v errs.Validation
	if f.SiteID != 0 {
		cond += " AND u.site_id = ?"
		args = append(args, f.SiteID)
		v.Check(s.nodeKind(ctx, f.SiteID) == "site", "site_id", "error.field.unknown_id")
	}
	if f.BuildingID != 0 {
		cond += " AND u.building_id = ?"
		args = append(args, f.BuildingID)
		v.Check(s.nodeKind(ctx, f.BuildingID) == "area", "building_id", "error.field.unknown_id")
	}
	if f.State != "" {
		v.OneOf("state", f.State, UnitStates...)
		cond += " AND u.state = ?"
		args = append(args, f.State)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		v.MaxLen("q", q, 20)
		cond += " AND u.number >= ? AND u.number < ?"
		args = append(args, q, q+tokenMax)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := &UnitPage{Page: f.Page, PerPage: f.PerPage, Items: []Unit{}}
	q := s.db.Q(ctx)
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM units u WHERE `+cond, args...).Scan(&p.Total); err != nil {
		return nil, fmt.Errorf("households: count units: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+unitCols+`, h.id, n.name FROM units u JOIN org_nodes n ON n.id = u.site_id
		LEFT JOIN households h ON h.unit_id = u.id AND h.status = 'current'
		WHERE `+cond+` ORDER BY u.site_id, u.number LIMIT ? OFFSET ?`, append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	if err != nil {
		return nil, fmt.Errorf("households: list units: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hh sql.NullInt64
		var site string
		u, err := scanUnit(rows, &hh, &site)
		if err != nil {
			return nil, err
		}
		u.HouseholdID, u.SiteName = ptrID(hh), site
		p.Items = append(p.Items, *u)
	}
	return p, rows.Err()
}

func (s *Service) nodeKind(ctx context.Context, id int64) string {
	var kind string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT kind FROM org_nodes WHERE id = ?`, id).Scan(&kind); err != nil {
		return ""
	}
	return kind
}

func pageBounds(page, per int) (int, int) {
	if page < 1 {
		page = 1
	}
	if per < 1 || per > 200 {
		per = 50
	}
	return page, per
}
