package housekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// RoomTypeInput creates or changes a room type.
type RoomTypeInput struct {
	SiteID   int64          `json:"site_id"`
	Code     string         `json:"code"`
	Name     string         `json:"name"`
	BedStyle string         `json:"bed_style"`
	Credits  map[string]int `json:"credits"` // tenths per clean type; missing: the defaults
	Minutes  map[string]int `json:"minutes"`
	// Checklist replaces the standard steps when given.
	Checklist []ChecklistStep `json:"checklist"`
}

var defaultCredits = map[string]int{CleanCheckout: 10, CleanStayover: 5, CleanTurndown: 2, CleanDeep: 20}
var defaultMinutes = map[string]int{CleanCheckout: 30, CleanStayover: 15, CleanTurndown: 5, CleanDeep: 60}

func (in *RoomTypeInput) validate(v *errs.Validation) {
	v.Required("code", in.Code)
	v.MaxLen("code", in.Code, 20)
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 50)
	v.MaxLen("bed_style", in.BedStyle, 10)
	if in.BedStyle == "" {
		in.BedStyle = "western"
	} else if !v.Has("bed_style") {
		v.OneOf("bed_style", in.BedStyle, "western", "chinese")
	}
	fill := func(field string, m map[string]int, def map[string]int, limit int) map[string]int {
		out := map[string]int{}
		for k, n := range m {
			if !slices.Contains(CleanTypes, k) {
				v.Add(field, "error.field.invalid_choice")
			}
			v.Check(n >= 0 && n <= limit, field, "error.hk.out_of_range")
		}
		for _, ct := range CleanTypes {
			if n, ok := m[ct]; ok {
				out[ct] = n
			} else {
				out[ct] = def[ct]
			}
		}
		return out
	}
	in.Credits = fill("credits", in.Credits, defaultCredits, 100)
	in.Minutes = fill("minutes", in.Minutes, defaultMinutes, 600)
	if len(in.Checklist) > 60 {
		v.Add("checklist", "error.field.too_long")
	}
	seen := map[string]bool{}
	for _, st := range in.Checklist {
		v.MaxLen("checklist", st.Text, 200)
		v.Check(st.ID != "" && len(st.ID) <= 40 && !seen[st.ID], "checklist", "error.hk.bad_step")
		seen[st.ID] = true
	}
}

// CreateRoomType adds a room type to a site; hk.manage on the site.
func (s *Service) CreateRoomType(ctx context.Context, in RoomTypeInput) (*RoomType, error) {
	var v errs.Validation
	in.validate(&v)
	site, err := s.siteInput(ctx, in.SiteID, auth.PermHKManage, "site_id")
	if err != nil {
		if e := v.Err(); e != nil && errs.CodeOf(err) == errs.EInvalid {
			return nil, e
		}
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var id int64
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		checklist := ""
		if len(in.Checklist) > 0 {
			b, _ := json.Marshal(in.Checklist)
			checklist = string(b)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO hk_room_types (site_id, code, name, bed_style, credits_checkout, credits_stayover, credits_turndown, credits_deep,
			minutes_checkout, minutes_stayover, minutes_turndown, minutes_deep, checklist, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			site.ID, strings.TrimSpace(in.Code), strings.TrimSpace(in.Name), in.BedStyle, in.Credits[CleanCheckout], in.Credits[CleanStayover], in.Credits[CleanTurndown], in.Credits[CleanDeep],
			in.Minutes[CleanCheckout], in.Minutes[CleanStayover], in.Minutes[CleanTurndown], in.Minutes[CleanDeep], checklist, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
		if db.IsUnique(err) {
			return errs.Invalid("code", "error.hk.type_exists")
		}
		if err != nil {
			return fmt.Errorf("housekeeping: create room type: %w", err)
		}
		return s.record(ctx, "create", "hk_room_type", id, site.Path, in)
	})
	if err != nil {
		return nil, err
	}
	return s.roomType(ctx, id)
}

// RoomsInput adds rooms of one type on one floor.
type RoomsInput struct {
	SiteID  int64    `json:"site_id"`
	FloorID int64    `json:"floor_id"` // the floor node, 0 for none
	Floor   int      `json:"floor"`
	TypeID  int64    `json:"type_id"`
	Numbers []string `json:"numbers"`
}

// RoomsCreated lists the rooms added.
type RoomsCreated struct {
	Items []Room `json:"items"`
}

// CreateRooms adds rooms; each starts vacant and dirty with its first
// event. hk.manage on the site; EInvalid for a number that exists.
func (s *Service) CreateRooms(ctx context.Context, in RoomsInput) (*RoomsCreated, error) {
	var v errs.Validation
	if len(in.Numbers) == 0 {
		v.Add("numbers", "error.field.required")
	}
	if len(in.Numbers) > 500 {
		v.Add("numbers", "error.field.too_long")
	}
	for _, n := range in.Numbers {
		v.MaxLen("numbers", n, 20)
		v.Check(strings.TrimSpace(n) != "", "numbers", "error.field.required")
	}
	v.Check(in.Floor >= -10 && in.Floor <= 200, "floor", "error.hk.out_of_range")
	site, err := s.siteInput(ctx, in.SiteID, auth.PermHKManage, "site_id")
	if err != nil {
		if e := v.Err(); e != nil && errs.CodeOf(err) == errs.EInvalid {
			return nil, e
		}
		return nil, err
	}
	path := site.Path
	if in.FloorID != 0 {
		var kind string
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path, kind FROM org_nodes WHERE id = ?`, in.FloorID).Scan(&path, &kind)
		if db.IsNoRows(err) || (err == nil && (kind != "area" || !strings.HasPrefix(path, site.Path))) {
			v.Add("floor_id", "error.field.unknown_id")
		} else if err != nil {
			return nil, err
		}
	}
	t, err := s.roomType(ctx, in.TypeID)
	if errs.CodeOf(err) == errs.ENotFound || (err == nil && t.SiteID != site.ID) {
		v.Add("type_id", "error.field.unknown_id")
	} else if err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &RoomsCreated{Items: []Room{}}
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var floorID any
		if in.FloorID != 0 {
			floorID = in.FloorID
		}
		st := NewState()
		for _, n := range in.Numbers {
			n = strings.TrimSpace(n)
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO hk_rooms (site_id, floor_id, node_path, floor, number, type_id, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, site.ID, floorID, path, in.Floor, n, t.ID, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
			if db.IsUnique(err) {
				return errs.Invalid("numbers", "error.hk.room_exists")
			}
			if err != nil {
				return fmt.Errorf("housekeeping: create room %s: %w", n, err)
			}
			r := &Room{ID: id, SiteID: site.ID, NodePath: path, Floor: in.Floor, Number: n, TypeID: t.ID, TypeCode: t.Code, State: st, UpdatedAt: tx.Now}
			if in.FloorID != 0 {
				r.FloorID = &in.FloorID
			}
			if err := s.addEvents(ctx, r, eventIn{Kind: "created"}); err != nil {
				return err
			}
			r.Derived = Derive(r.State, true)
			out.Items = append(out.Items, *r)
		}
		return s.record(ctx, "create", "hk_rooms", site.ID, site.Path, in)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetChecklist replaces a room type's checklist (nil or empty: back to the
// standard steps of seed article 1); hk.manage on the site.
func (s *Service) SetChecklist(ctx context.Context, typeID int64, steps []ChecklistStep) error {
	var v errs.Validation
	if len(steps) > 60 {
		v.Add("checklist", "error.field.too_long")
	}
	seen := map[string]bool{}
	for _, st := range steps {
		v.MaxLen("checklist", st.Text, 200)
		v.Check(st.ID != "" && len(st.ID) <= 40 && !seen[st.ID], "checklist", "error.hk.bad_step")
		seen[st.ID] = true
	}
	if err := v.Err(); err != nil {
		return err
	}
	t, err := s.roomType(ctx, typeID)
	if err != nil {
		return err
	}
	site, err := s.site(ctx, t.SiteID, auth.PermHKManage)
	if err != nil {
		return errs.NotFound("error.hk.type_not_found")
	}
	text := ""
	if len(steps) > 0 {
		b, _ := json.Marshal(steps)
		text = string(b)
	}
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE hk_room_types SET checklist = ?, updated_at = ? WHERE id = ?`, text, db.Ms(tx.Now), typeID); err != nil {
			return fmt.Errorf("housekeeping: checklist: %w", err)
		}
		return s.record(ctx, "update", "hk_room_type", typeID, site.Path, map[string]any{"checklist": steps})
	})
}

// ExpandNumbers reads room numbers as a person types them: "801-815, 820".
// A range keeps the width of its first number ("0801-0803"). EInvalid on
// anything else, or more than 500 rooms.
func ExpandNumbers(s string) ([]string, error) {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ' ' || r == '\n' }) {
		from, to, isRange := strings.Cut(part, "-")
		if !isRange {
			out = append(out, part)
			continue
		}
		a, err1 := strconv.Atoi(from)
		b, err2 := strconv.Atoi(to)
		if err1 != nil || err2 != nil || b < a || b-a > 500 {
			return nil, errs.Invalid("numbers", "error.hk.bad_numbers")
		}
		for n := a; n <= b; n++ {
			out = append(out, fmt.Sprintf("%0*d", len(from), n))
		}
	}
	if len(out) == 0 || len(out) > 500 {
		return nil, errs.Invalid("numbers", "error.hk.bad_numbers")
	}
	return out, nil
}
