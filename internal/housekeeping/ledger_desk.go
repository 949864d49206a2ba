package housekeeping

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// siteOfRow returns the site of a ledger row (table is one of this
// package's tables); ENotFound when there is no such row.
func (s *Service) siteOfRow(ctx context.Context, table string, id int64) (int64, error) {
	var siteID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT site_id FROM `+table+` WHERE id = ?`, id).Scan(&siteID)
	if db.IsNoRows(err) {
		return 0, errs.NotFound("error.not_found")
	}
	return siteID, err
}

// deskSite is a site on which the caller holds hk.desk (or hk.inspect).
func (s *Service) deskSite(ctx context.Context, siteID int64) (*HotelSite, error) {
	site, err := s.site(ctx, siteID, auth.PermHKView)
	if err != nil {
		return nil, err
	}
	if !can(ctx, auth.PermHKDesk, site.Path) && !can(ctx, auth.PermHKInspect, site.Path) {
		return nil, errs.Forbidden()
	}
	return site, nil
}

// roomForWork loads a room for an attendant's or the clerk's record.
func (s *Service) roomForWork(ctx context.Context, roomID int64) (*Room, error) {
	r, err := s.visibleRoom(ctx, roomID, true)
	if err != nil {
		return nil, err
	}
	if !can(ctx, auth.PermHKClean, r.NodePath) && !can(ctx, auth.PermHKDesk, r.NodePath) {
		return nil, errs.Forbidden()
	}
	return r, nil
}

// note writes an event on a room's timeline.
func (s *Service) note(ctx context.Context, r *Room, kind, text string, ref int64) error {
	if err := s.addEvents(ctx, r, eventIn{Kind: kind, Note: text, RefID: ref}); err != nil {
		return err
	}
	return s.saveState(ctx, r)
}

// ---- guest laundry ----

// LaundryInput is a laundry bag picked up from a room.
type LaundryInput struct {
	BagNo  string `json:"bag_no"`
	Pieces int    `json:"pieces"`
	Note   string `json:"note"`
}

// LaundryBag is a guest's laundry.
type LaundryBag struct {
	ID         int64      `json:"id"`
	RoomID     int64      `json:"room_id"`
	RoomNumber string     `json:"room_number"`
	BagNo      string     `json:"bag_no"`
	Pieces     int        `json:"pieces"`
	Note       string     `json:"note"`
	ChargeFen  int64      `json:"charge_fen"`
	State      string     `json:"state"` // picked, returned
	PickedAt   time.Time  `json:"picked_at"`
	PickedBy   string     `json:"picked_by"`
	ReturnedAt *time.Time `json:"returned_at"`
}

// ChargeText is the charge as money.
func (l LaundryBag) ChargeText() string { return Yuan(l.ChargeFen) }

// PickupLaundry records a laundry bag found in a room and sent to the
// laundry desk (seed article 1); hk.clean or hk.desk.
func (s *Service) PickupLaundry(ctx context.Context, roomID int64, in LaundryInput) (*LaundryBag, error) {
	var v errs.Validation
	v.MaxLen("bag_no", in.BagNo, 30)
	v.MaxLen("note", in.Note, 500)
	v.Check(in.Pieces >= 1 && in.Pieces <= 200, "pieces", "error.hk.out_of_range")
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &LaundryBag{BagNo: strings.TrimSpace(in.BagNo), Pieces: in.Pieces, Note: strings.TrimSpace(in.Note), State: "picked"}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.roomForWork(ctx, roomID)
		if err != nil {
			return err
		}
		out.RoomID, out.RoomNumber, out.PickedAt = r.ID, r.Number, tx.Now
		if err := tx.QueryRowContext(ctx, `INSERT INTO hk_laundry (site_id, room_id, bag_no, pieces, note, picked_at, picked_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.SiteID, r.ID, out.BagNo, out.Pieces, out.Note, db.Ms(tx.Now), actorID(ctx)).Scan(&out.ID); err != nil {
			return fmt.Errorf("housekeeping: laundry: %w", err)
		}
		return s.note(ctx, r, "laundry", fmt.Sprintf("%s %d", out.BagNo, out.Pieces), out.ID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReturnLaundry records a bag returned to the room with its charge (入洗衣帐); hk.desk.
func (s *Service) ReturnLaundry(ctx context.Context, id, chargeFen int64) error {
	if chargeFen < 0 || chargeFen > 10_000_000 {
		return errs.Invalid("charge_fen", "error.hk.out_of_range")
	}
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var siteID, roomID int64
		var state string
		err := tx.QueryRowContext(ctx, `SELECT site_id, room_id, state FROM hk_laundry WHERE id = ?`, id).Scan(&siteID, &roomID, &state)
		if db.IsNoRows(err) {
			return errs.NotFound("error.not_found")
		}
		if err != nil {
			return err
		}
		if _, err := s.deskSite(ctx, siteID); err != nil {
			return err
		}
		if state != "picked" {
			return errs.New(errs.EConflict, "error.hk.already_done")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hk_laundry SET state = 'returned', charge_fen = ?, returned_at = ?, returned_by = ? WHERE id = ?`,
			chargeFen, db.Ms(tx.Now), actorID(ctx), id); err != nil {
			return err
		}
		r, err := s.loadRoom(ctx, roomID, true)
		if err != nil {
			return err
		}
		return s.note(ctx, r, "laundry_returned", Yuan(chargeFen), id)
	})
}

// Laundry lists a site's laundry: open bags, or the last returned ones.
func (s *Service) Laundry(ctx context.Context, siteID int64, open bool) ([]LaundryBag, error) {
	q := `SELECT l.id, l.room_id, r.number, l.bag_no, l.pieces, l.note, l.charge_fen, l.state, l.picked_at, COALESCE(st.name, ''), l.returned_at
		FROM hk_laundry l JOIN hk_rooms r ON r.id = l.room_id LEFT JOIN staff st ON st.id = l.picked_by WHERE l.site_id = ? AND l.state = ?`
	state, order := "returned", ` ORDER BY l.returned_at DESC LIMIT 100`
	if open {
		state, order = "picked", ` ORDER BY l.picked_at LIMIT 500`
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, q+order, siteID, state)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: laundry: %w", err)
	}
	defer rows.Close()
	out := []LaundryBag{}
	for rows.Next() {
		var l LaundryBag
		var picked int64
		var returned sql.NullInt64
		if err := rows.Scan(&l.ID, &l.RoomID, &l.RoomNumber, &l.BagNo, &l.Pieces, &l.Note, &l.ChargeFen, &l.State, &picked, &l.PickedBy, &returned); err != nil {
			return nil, err
		}
		l.PickedAt, l.ReturnedAt = db.Time(picked), db.TimePtr(returned)
		out = append(out, l)
	}
	return out, rows.Err()
}

// ---- lost and found ----

// FoundInput records an item found (客人遗留物品).
type FoundInput struct {
	Place       string `json:"place"` // where, when not a room
	Description string `json:"description"`
	Valuable    bool   `json:"valuable"`
	Storage     string `json:"storage"`
}

// FoundItem is an item in lost and found.
type FoundItem struct {
	ID          int64      `json:"id"`
	RoomID      *int64     `json:"room_id"`
	RoomNumber  string     `json:"room_number"`
	Place       string     `json:"place"`
	Description string     `json:"description"`
	Valuable    bool       `json:"valuable"`
	Storage     string     `json:"storage"`
	Finder      string     `json:"finder"`
	FoundAt     time.Time  `json:"found_at"`
	ContactedAt *time.Time `json:"contacted_at"`
	State       string     `json:"state"` // stored, claimed, disposed
	ClaimedBy   string     `json:"claimed_by"`
	Note        string     `json:"note"`
	ClosedAt    *time.Time `json:"closed_at"`
	// DisposeFrom is when it may be disposed of (the site's days after found).
	DisposeFrom time.Time `json:"dispose_from"`
	Disposable  bool      `json:"disposable"`
}

func (in *FoundInput) validate(v *errs.Validation) {
	v.Required("description", in.Description)
	v.MaxLen("description", in.Description, 500)
	v.MaxLen("place", in.Place, 100)
	v.MaxLen("storage", in.Storage, 100)
}

// RecordFoundInRoom records an item found in a room (its timeline shows
// it); hk.clean or hk.desk.
func (s *Service) RecordFoundInRoom(ctx context.Context, roomID int64, in FoundInput) (*FoundItem, error) {
	var v errs.Validation
	in.validate(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var id, siteID int64
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.roomForWork(ctx, roomID)
		if err != nil {
			return err
		}
		siteID = r.SiteID
		place := strings.TrimSpace(in.Place)
		if place == "" {
			place = r.Number
		}
		if id, err = s.insertFound(ctx, r.SiteID, r.ID, place, in); err != nil {
			return err
		}
		return s.note(ctx, r, "found", strings.TrimSpace(in.Description), id)
	})
	if err != nil {
		return nil, err
	}
	return s.foundItem(ctx, siteID, id)
}

// RecordFound records an item found outside the rooms; hk.desk.
func (s *Service) RecordFound(ctx context.Context, siteID int64, in FoundInput) (*FoundItem, error) {
	var v errs.Validation
	in.validate(&v)
	v.Required("place", in.Place)
	if err := v.Err(); err != nil {
		return nil, err
	}
	site, err := s.deskSite(ctx, siteID)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		id, err = s.insertFound(ctx, site.ID, 0, strings.TrimSpace(in.Place), in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.foundItem(ctx, site.ID, id)
}

func (s *Service) insertFound(ctx context.Context, siteID, roomID int64, place string, in FoundInput) (int64, error) {
	tx := db.TxFrom(ctx)
	var room any
	if roomID != 0 {
		room = roomID
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO hk_lost_found (site_id, room_id, place, description, valuable, storage, finder_id, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		siteID, room, place, strings.TrimSpace(in.Description), in.Valuable, strings.TrimSpace(in.Storage), actorID(ctx), db.Ms(tx.Now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("housekeeping: lost and found: %w", err)
	}
	return id, nil
}

const foundCols = `f.id, f.room_id, COALESCE(r.number, ''), f.place, f.description, f.valuable, f.storage, COALESCE(st.name, ''), f.found_at, f.contacted_at,
	f.state, f.claimed_by, f.note, f.closed_at`

const foundFrom = ` FROM hk_lost_found f LEFT JOIN hk_rooms r ON r.id = f.room_id LEFT JOIN staff st ON st.id = f.finder_id`

func (s *Service) scanFound(rows *sql.Rows, days int, now time.Time) ([]FoundItem, error) {
	defer rows.Close()
	out := []FoundItem{}
	for rows.Next() {
		var f FoundItem
		var found int64
		var contacted, closed sql.NullInt64
		if err := rows.Scan(&f.ID, &f.RoomID, &f.RoomNumber, &f.Place, &f.Description, &f.Valuable, &f.Storage, &f.Finder, &found, &contacted,
			&f.State, &f.ClaimedBy, &f.Note, &closed); err != nil {
			return nil, err
		}
		f.FoundAt, f.ContactedAt, f.ClosedAt = db.Time(found), db.TimePtr(contacted), db.TimePtr(closed)
		f.DisposeFrom = f.FoundAt.Add(time.Duration(days) * 24 * time.Hour)
		f.Disposable = f.State == "stored" && !now.Before(f.DisposeFrom)
		out = append(out, f)
	}
	return out, rows.Err()
}

// LostFound lists a site's lost and found: stored items (oldest first) or
// the last closed ones.
func (s *Service) LostFound(ctx context.Context, siteID int64, open bool) ([]FoundItem, error) {
	st, err := s.Settings(ctx, siteID)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + foundCols + foundFrom + ` WHERE f.site_id = ? AND f.state = 'stored' ORDER BY f.found_at LIMIT 500`
	if !open {
		q = `SELECT ` + foundCols + foundFrom + ` WHERE f.site_id = ? AND f.state <> 'stored' ORDER BY f.closed_at DESC LIMIT 100`
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, q, siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: lost and found: %w", err)
	}
	return s.scanFound(rows, st.LostFoundDays, s.now(ctx))
}

func (s *Service) foundItem(ctx context.Context, siteID, id int64) (*FoundItem, error) {
	st, err := s.Settings(ctx, siteID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+foundCols+foundFrom+` WHERE f.id = ?`, id)
	if err != nil {
		return nil, err
	}
	items, err := s.scanFound(rows, st.LostFoundDays, s.now(ctx))
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errs.NotFound("error.not_found")
	}
	return &items[0], nil
}

// FoundActionInput moves an item on: the guest was contacted, it was
// claimed (by whom), or disposed of.
type FoundActionInput struct {
	Action    string `json:"action"` // contacted, claimed, disposed
	ClaimedBy string `json:"claimed_by"`
	Note      string `json:"note"`
}

// FoundAction records what became of an item; disposal only once the
// site's days have passed (EConflict before). hk.desk.
func (s *Service) FoundAction(ctx context.Context, id int64, in FoundActionInput) error {
	var v errs.Validation
	v.OneOf("action", in.Action, "contacted", "claimed", "disposed")
	v.MaxLen("claimed_by", in.ClaimedBy, 100)
	v.MaxLen("note", in.Note, 500)
	if in.Action == "claimed" {
		v.Required("claimed_by", in.ClaimedBy)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		siteID, err := s.siteOfRow(ctx, "hk_lost_found", id)
		if err != nil {
			return err
		}
		if _, err := s.deskSite(ctx, siteID); err != nil {
			return err
		}
		f, err := s.foundItem(ctx, siteID, id)
		if err != nil {
			return err
		}
		if f.State != "stored" {
			return errs.New(errs.EConflict, "error.hk.already_done")
		}
		switch in.Action {
		case "contacted":
			_, err = tx.ExecContext(ctx, `UPDATE hk_lost_found SET contacted_at = ?, note = ? WHERE id = ?`, db.Ms(tx.Now), strings.TrimSpace(in.Note), id)
		case "claimed":
			_, err = tx.ExecContext(ctx, `UPDATE hk_lost_found SET state = 'claimed', claimed_by = ?, note = ?, closed_at = ?, closed_by = ? WHERE id = ?`,
				strings.TrimSpace(in.ClaimedBy), strings.TrimSpace(in.Note), db.Ms(tx.Now), actorID(ctx), id)
		case "disposed":
			if !f.Disposable {
				return errs.Newf(errs.EConflict, "error.hk.too_early", "date", f.DisposeFrom.In(defaultZone).Format(time.DateOnly))
			}
			_, err = tx.ExecContext(ctx, `UPDATE hk_lost_found SET state = 'disposed', note = ?, closed_at = ?, closed_by = ? WHERE id = ?`,
				strings.TrimSpace(in.Note), db.Ms(tx.Now), actorID(ctx), id)
		}
		return err
	})
}

// ---- keys and pagers ----

// Key is one of the department's keys or pagers, with who holds it.
type Key struct {
	ID     int64    `json:"id"`
	Kind   string   `json:"kind"` // key, pager
	Code   string   `json:"code"`
	Label  string   `json:"label"`
	Loan   *KeyLoan `json:"loan"` // nil: in the office
	SiteID int64    `json:"site_id"`
}

// KeyLoan is a key or pager out with a staff member.
type KeyLoan struct {
	ID        int64     `json:"id"`
	StaffID   int64     `json:"staff_id"`
	StaffName string    `json:"staff_name"`
	WorkDate  string    `json:"work_date"`
	Shift     string    `json:"shift"`
	IssuedAt  time.Time `json:"issued_at"`
}

// Keys lists a site's keys and pagers with who holds each.
func (s *Service) Keys(ctx context.Context, siteID int64) ([]Key, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT k.id, k.site_id, k.kind, k.code, k.label, l.id, l.staff_id, COALESCE(st.name, ''), l.work_date, l.shift, l.issued_at
		FROM hk_keys k LEFT JOIN hk_key_loans l ON l.key_id = k.id AND l.returned_at IS NULL LEFT JOIN staff st ON st.id = l.staff_id
		WHERE k.site_id = ? ORDER BY k.kind, LENGTH(k.code), k.code`, siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: keys: %w", err)
	}
	defer rows.Close()
	out := []Key{}
	for rows.Next() {
		var k Key
		var lid, sid, issued sql.NullInt64
		var name string
		var date, shift sql.NullString
		if err := rows.Scan(&k.ID, &k.SiteID, &k.Kind, &k.Code, &k.Label, &lid, &sid, &name, &date, &shift, &issued); err != nil {
			return nil, err
		}
		if lid.Valid {
			k.Loan = &KeyLoan{ID: lid.Int64, StaffID: sid.Int64, StaffName: name, WorkDate: date.String, Shift: shift.String, IssuedAt: db.Time(issued.Int64)}
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// KeyIssueInput gives a key or pager to a staff member for a shift.
type KeyIssueInput struct {
	StaffID int64  `json:"staff_id"`
	Shift   string `json:"shift"`
}

// IssueKey hands a key or pager out (给客房员工发放传呼及钥匙); hk.desk.
// EConflict when it is out already.
func (s *Service) IssueKey(ctx context.Context, keyID int64, in KeyIssueInput) error {
	var v errs.Validation
	v.OneOf("shift", in.Shift, "day", "middle", "night")
	if err := v.Err(); err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		siteID, err := s.siteOfRow(ctx, "hk_keys", keyID)
		if err != nil {
			return err
		}
		site, err := s.deskSite(ctx, siteID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff WHERE id = ? AND status = 'active' AND node_path LIKE ?`, in.StaffID, site.Path+"%").Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Invalid("staff_id", "error.field.unknown_id")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hk_key_loans (site_id, key_id, staff_id, work_date, shift, issued_at, issued_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			siteID, keyID, in.StaffID, site.Today(tx.Now), in.Shift, db.Ms(tx.Now), actorID(ctx))
		if db.IsUnique(err) {
			return errs.New(errs.EConflict, "error.hk.key_out")
		}
		return err
	})
}

// ReturnKey takes a key or pager back (收回并检查); hk.desk.
func (s *Service) ReturnKey(ctx context.Context, keyID int64) error {
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		siteID, err := s.siteOfRow(ctx, "hk_keys", keyID)
		if err != nil {
			return err
		}
		if _, err := s.deskSite(ctx, siteID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE hk_key_loans SET returned_at = ?, returned_by = ? WHERE key_id = ? AND returned_at IS NULL`, db.Ms(tx.Now), actorID(ctx), keyID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.New(errs.EConflict, "error.hk.key_in")
		}
		return nil
	})
}

// KeyCheck is the end-of-shift check: are all the department's keys back?
type KeyCheck struct {
	Keys    int   `json:"keys"`
	Pagers  int   `json:"pagers"`
	Out     []Key `json:"out"`
	AllBack bool  `json:"all_back"`
}

// CheckKeys says which keys and pagers are still out.
func (s *Service) CheckKeys(ctx context.Context, siteID int64) (*KeyCheck, error) {
	keys, err := s.Keys(ctx, siteID)
	if err != nil {
		return nil, err
	}
	c := &KeyCheck{Out: []Key{}}
	for _, k := range keys {
		if k.Kind == "key" {
			c.Keys++
		} else {
			c.Pagers++
		}
		if k.Loan != nil {
			c.Out = append(c.Out, k)
		}
	}
	c.AllBack = len(c.Out) == 0
	return c, nil
}

// ---- items lent to guests ----

// LendInput is an item lent to a room's guest (客人借用物品).
type LendInput struct {
	Item string `json:"item"`
	Qty  int    `json:"qty"`
	Note string `json:"note"`
}

// LentItem is an item lent.
type LentItem struct {
	ID         int64      `json:"id"`
	RoomID     int64      `json:"room_id"`
	RoomNumber string     `json:"room_number"`
	Item       string     `json:"item"`
	Qty        int        `json:"qty"`
	Note       string     `json:"note"`
	LentAt     time.Time  `json:"lent_at"`
	ReturnedAt *time.Time `json:"returned_at"`
}

// Lend records an item lent to a room; hk.desk or hk.clean.
func (s *Service) Lend(ctx context.Context, roomID int64, in LendInput) (*LentItem, error) {
	var v errs.Validation
	v.Required("item", in.Item)
	v.MaxLen("item", in.Item, 50)
	v.MaxLen("note", in.Note, 200)
	v.Check(in.Qty >= 1 && in.Qty <= 20, "qty", "error.hk.out_of_range")
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &LentItem{Item: strings.TrimSpace(in.Item), Qty: in.Qty, Note: strings.TrimSpace(in.Note)}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.roomForWork(ctx, roomID)
		if err != nil {
			return err
		}
		out.RoomID, out.RoomNumber, out.LentAt = r.ID, r.Number, tx.Now
		if err := tx.QueryRowContext(ctx, `INSERT INTO hk_lent_items (site_id, room_id, item, qty, note, lent_at, lent_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.SiteID, r.ID, out.Item, out.Qty, out.Note, db.Ms(tx.Now), actorID(ctx)).Scan(&out.ID); err != nil {
			return fmt.Errorf("housekeeping: lend: %w", err)
		}
		return s.note(ctx, r, "lent", fmt.Sprintf("%s×%d", out.Item, out.Qty), out.ID)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReturnLent records a lent item back; hk.desk or hk.clean.
func (s *Service) ReturnLent(ctx context.Context, id int64) error {
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var roomID int64
		var returned sql.NullInt64
		var item string
		if err := tx.QueryRowContext(ctx, `SELECT room_id, returned_at, item FROM hk_lent_items WHERE id = ?`, id).Scan(&roomID, &returned, &item); db.IsNoRows(err) {
			return errs.NotFound("error.not_found")
		} else if err != nil {
			return err
		}
		r, err := s.roomForWork(ctx, roomID)
		if err != nil {
			return err
		}
		if returned.Valid {
			return errs.New(errs.EConflict, "error.hk.already_done")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hk_lent_items SET returned_at = ?, returned_by = ? WHERE id = ?`, db.Ms(tx.Now), actorID(ctx), id); err != nil {
			return err
		}
		return s.note(ctx, r, "lent_returned", item, id)
	})
}

// LentItems lists a site's lent items: out now, or the last returned.
func (s *Service) LentItems(ctx context.Context, siteID int64, open bool) ([]LentItem, error) {
	cond, order := `l.returned_at IS NOT NULL`, `l.returned_at DESC LIMIT 100`
	if open {
		cond, order = `l.returned_at IS NULL`, `l.lent_at LIMIT 500`
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT l.id, l.room_id, r.number, l.item, l.qty, l.note, l.lent_at, l.returned_at
		FROM hk_lent_items l JOIN hk_rooms r ON r.id = l.room_id WHERE l.site_id = ? AND `+cond+` ORDER BY `+order, siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: lent items: %w", err)
	}
	defer rows.Close()
	out := []LentItem{}
	for rows.Next() {
		var l LentItem
		var lent int64
		var returned sql.NullInt64
		if err := rows.Scan(&l.ID, &l.RoomID, &l.RoomNumber, &l.Item, &l.Qty, &l.Note, &lent, &returned); err != nil {
			return nil, err
		}
		l.LentAt, l.ReturnedAt = db.Time(lent), db.TimePtr(returned)
		out = append(out, l)
	}
	return out, rows.Err()
}

// ---- the handover log ----

// HandoverInput writes in the handover log (交班本).
type HandoverInput struct {
	SiteID int64  `json:"site_id"`
	Shift  string `json:"shift"`
	Body   string `json:"body"`
}

// HandoverEntry is an entry with who has read it.
type HandoverEntry struct {
	ID        int64     `json:"id"`
	Shift     string    `json:"shift"`
	Body      string    `json:"body"`
	Writer    string    `json:"writer"`
	WriterID  int64     `json:"writer_id"`
	WrittenAt time.Time `json:"written_at"`
	ReadBy    []string  `json:"read_by"`
	ReadByMe  bool      `json:"read_by_me"`
}

// WriteHandover adds an entry; hk.desk or hk.inspect.
func (s *Service) WriteHandover(ctx context.Context, in HandoverInput) (int64, error) {
	var v errs.Validation
	v.OneOf("shift", in.Shift, ShiftEarly, ShiftMiddle, ShiftNight, "day")
	v.Required("body", in.Body)
	v.MaxLen("body", in.Body, 4000)
	if err := v.Err(); err != nil {
		return 0, err
	}
	site, err := s.deskSite(ctx, in.SiteID)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO hk_handover (site_id, shift, body, written_by, written_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			site.ID, in.Shift, strings.TrimSpace(in.Body), actorID(ctx), db.Ms(tx.Now)).Scan(&id)
	})
	return id, err
}

// ReadHandover acknowledges an entry as read by the caller.
func (s *Service) ReadHandover(ctx context.Context, id int64) error {
	p := auth.FromContext(ctx)
	if p == nil {
		return errs.Forbidden()
	}
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		siteID, err := s.siteOfRow(ctx, "hk_handover", id)
		if err != nil {
			return err
		}
		if _, err := s.site(ctx, siteID, auth.PermHKView); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hk_handover_reads (entry_id, staff_id, read_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, p.StaffID, db.Ms(tx.Now))
		return err
	})
}

// Handovers lists a site's latest entries with their readers.
func (s *Service) Handovers(ctx context.Context, siteID int64, limit int) ([]HandoverEntry, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT h.id, h.shift, h.body, COALESCE(st.name, ''), COALESCE(h.written_by, 0), h.written_at
		FROM hk_handover h LEFT JOIN staff st ON st.id = h.written_by WHERE h.site_id = ? ORDER BY h.written_at DESC, h.id DESC LIMIT ?`, siteID, limit)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: handover: %w", err)
	}
	out := []HandoverEntry{}
	idx := map[int64]int{}
	var ids []any
	for rows.Next() {
		var e HandoverEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Shift, &e.Body, &e.Writer, &e.WriterID, &at); err != nil {
			rows.Close()
			return nil, err
		}
		e.WrittenAt = db.Time(at)
		e.ReadBy = []string{}
		idx[e.ID] = len(out)
		ids = append(ids, e.ID)
		out = append(out, e)
	}
	rows.Close()
	if len(ids) == 0 {
		return out, nil
	}
	me := int64(0)
	if p := auth.FromContext(ctx); p != nil {
		me = p.StaffID
	}
	rr, err := s.db.Q(ctx).QueryContext(ctx, `SELECT r.entry_id, r.staff_id, st.name FROM hk_handover_reads r JOIN staff st ON st.id = r.staff_id
		WHERE r.entry_id IN (`+db.Placeholders(len(ids))+`) ORDER BY r.read_at`, ids...)
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	for rr.Next() {
		var eid, sid int64
		var name string
		if err := rr.Scan(&eid, &sid, &name); err != nil {
			return nil, err
		}
		e := &out[idx[eid]]
		e.ReadBy = append(e.ReadBy, name)
		if sid == me {
			e.ReadByMe = true
		}
	}
	return out, rr.Err()
}

// ---- repeat guests ----

// GuestNoteInput notes a repeat guest's preference (回头客资料).
type GuestNoteInput struct {
	SiteID   int64  `json:"site_id"`
	GuestRef string `json:"guest_ref"`
	Note     string `json:"note"`
}

// GuestNote is a note on a repeat guest.
type GuestNote struct {
	ID        int64     `json:"id"`
	GuestRef  string    `json:"guest_ref"`
	Note      string    `json:"note"`
	Writer    string    `json:"writer"`
	WrittenAt time.Time `json:"written_at"`
}

// AddGuestNote adds a note; hk.desk.
func (s *Service) AddGuestNote(ctx context.Context, in GuestNoteInput) error {
	var v errs.Validation
	v.Required("guest_ref", in.GuestRef)
	v.MaxLen("guest_ref", in.GuestRef, 60)
	v.Required("note", in.Note)
	v.MaxLen("note", in.Note, 1000)
	if err := v.Err(); err != nil {
		return err
	}
	site, err := s.deskSite(ctx, in.SiteID)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hk_guest_notes (site_id, guest_ref, note, written_by, written_at) VALUES (?, ?, ?, ?, ?)`,
			site.ID, strings.TrimSpace(in.GuestRef), strings.TrimSpace(in.Note), actorID(ctx), db.Ms(tx.Now))
		return err
	})
}

// GuestNotes lists a site's notes, those whose guest reference starts with
// q when q is given, newest first.
func (s *Service) GuestNotes(ctx context.Context, siteID int64, q string) ([]GuestNote, error) {
	query := `SELECT g.id, g.guest_ref, g.note, COALESCE(st.name, ''), g.written_at FROM hk_guest_notes g LEFT JOIN staff st ON st.id = g.written_by WHERE g.site_id = ?`
	args := []any{siteID}
	if q = strings.TrimSpace(q); q != "" {
		query += ` AND g.guest_ref >= ? AND g.guest_ref < ?`
		args = append(args, q, q+"\U0010FFFF")
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, query+` ORDER BY g.written_at DESC LIMIT 200`, args...)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: guest notes: %w", err)
	}
	defer rows.Close()
	out := []GuestNote{}
	for rows.Next() {
		var g GuestNote
		var at int64
		if err := rows.Scan(&g.ID, &g.GuestRef, &g.Note, &g.Writer, &at); err != nil {
			return nil, err
		}
		g.WrittenAt = db.Time(at)
		out = append(out, g)
	}
	return out, rows.Err()
}
