package housekeeping

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// The clerk's shifts (seed article 5, 管家部文员工作流程).
const (
	ShiftEarly  = "early"  // 07:00–15:30
	ShiftMiddle = "middle" // 11:30–20:00
	ShiftNight  = "night"  // 16:00–24:30
)

// Shifts lists the clerk's shifts with their hours.
var Shifts = []struct{ Key, From, To string }{
	{ShiftEarly, "07:00", "15:30"}, {ShiftMiddle, "11:30", "20:00"}, {ShiftNight, "16:00", "24:30"},
}

// ShiftItems are each shift's duties in the seed's order; the words are
// hk.shift_item.SHIFT.ITEM in the catalogs.
var ShiftItems = map[string][]string{
	ShiftEarly: {"keys_collect", "read_handover", "reconcile_status", "assign_pagers", "headcount", "phones", "issue_keys",
		"minibar_accounts", "chase_room_moves", "other"},
	ShiftMiddle: {"read_handover", "repeat_guests", "laundry_minibar_accounts", "issue_minibar", "eo_summary", "print_letters",
		"guest_delivery", "replenish_minibar", "other", "keys_return", "accounts_to_front"},
	ShiftNight: {"copy_sheets", "phones", "issue_keys_middle", "store_day_keys", "collect_day_pagers", "file_day_sheets",
		"lost_found", "reconcile_day_status", "minibar_sales", "lent_items", "store_middle_keys", "collect_middle_pagers"},
}

// shiftLinks point a duty at the screen where it is done.
var shiftLinks = map[string]string{
	"keys_collect": "/hk/keys", "keys_return": "/hk/keys", "issue_keys": "/hk/keys", "issue_keys_middle": "/hk/keys", "assign_pagers": "/hk/keys",
	"store_day_keys": "/hk/keys", "store_middle_keys": "/hk/keys", "collect_day_pagers": "/hk/keys", "collect_middle_pagers": "/hk/keys",
	"read_handover": "/hk/handover", "reconcile_status": "/hk/board", "reconcile_day_status": "/hk/board", "minibar_accounts": "/hk/minibar",
	"laundry_minibar_accounts": "/hk/laundry", "issue_minibar": "/hk/minibar", "replenish_minibar": "/hk/minibar", "minibar_sales": "/hk/minibar",
	"repeat_guests": "/hk/guests", "lost_found": "/hk/lost-found", "lent_items": "/hk/lent", "copy_sheets": "/hk/sheets", "file_day_sheets": "/hk/sheets",
}

// CurrentShift is the clerk's shift at a local time and the date it
// started on: the latest shift begun, the night shift running past midnight.
func CurrentShift(local time.Time) (string, string) {
	hm := local.Format("15:04")
	date := local.Format(time.DateOnly)
	switch {
	case hm < "00:30":
		return ShiftNight, local.AddDate(0, 0, -1).Format(time.DateOnly)
	case hm >= "16:00":
		return ShiftNight, date
	case hm >= "11:30":
		return ShiftMiddle, date
	}
	return ShiftEarly, date
}

// ShiftCheck is one duty of a shift on a day.
type ShiftCheck struct {
	Item   string     `json:"item"`
	Link   string     `json:"link,omitempty"`
	Done   bool       `json:"done"`
	DoneBy string     `json:"done_by,omitempty"`
	DoneAt *time.Time `json:"done_at,omitempty"`
}

// ShiftChecklist is a shift's duties on a day.
type ShiftChecklist struct {
	Date  string       `json:"date"`
	Shift string       `json:"shift"`
	Items []ShiftCheck `json:"items"`
	Done  int          `json:"done"`
}

// ShiftChecklist returns a shift's duties on a day with what is done.
func (s *Service) ShiftChecklist(ctx context.Context, siteID int64, date, shift string) (*ShiftChecklist, error) {
	items, ok := ShiftItems[shift]
	if !ok {
		return nil, errs.Invalid("shift", "error.field.invalid_choice")
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT c.item, COALESCE(st.name, ''), c.done_at FROM hk_shift_checks c LEFT JOIN staff st ON st.id = c.done_by
		WHERE c.site_id = ? AND c.work_date = ? AND c.shift = ?`, siteID, date, shift)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: shift checks: %w", err)
	}
	defer rows.Close()
	done := map[string]ShiftCheck{}
	for rows.Next() {
		var c ShiftCheck
		var at int64
		if err := rows.Scan(&c.Item, &c.DoneBy, &at); err != nil {
			return nil, err
		}
		t := db.Time(at)
		c.Done, c.DoneAt = true, &t
		done[c.Item] = c
	}
	out := &ShiftChecklist{Date: date, Shift: shift}
	for _, it := range items {
		c, ok := done[it]
		if !ok {
			c = ShiftCheck{Item: it}
		}
		c.Link = shiftLinks[it]
		if c.Done {
			out.Done++
		}
		out.Items = append(out.Items, c)
	}
	return out, rows.Err()
}

// ShiftTickInput ticks (or unticks) a duty.
type ShiftTickInput struct {
	SiteID int64  `json:"site_id"`
	Date   string `json:"date"`
	Shift  string `json:"shift"`
	Item   string `json:"item"`
	Done   bool   `json:"done"`
}

// TickShift records a duty done (or not); hk.desk.
func (s *Service) TickShift(ctx context.Context, in ShiftTickInput) error {
	var v errs.Validation
	if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
		v.Add("date", "error.field.wrong_type")
	}
	items, ok := ShiftItems[in.Shift]
	if !ok {
		v.Add("shift", "error.field.invalid_choice")
	} else if !slices.Contains(items, in.Item) {
		v.Add("item", "error.field.invalid_choice")
	}
	if err := v.Err(); err != nil {
		return err
	}
	site, err := s.site(ctx, in.SiteID, auth.PermHKDesk)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if !in.Done {
			_, err := tx.ExecContext(ctx, `DELETE FROM hk_shift_checks WHERE site_id = ? AND work_date = ? AND shift = ? AND item = ?`, site.ID, in.Date, in.Shift, in.Item)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO hk_shift_checks (site_id, work_date, shift, item, done_by, done_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (site_id, work_date, shift, item) DO NOTHING`, site.ID, in.Date, in.Shift, in.Item, actorID(ctx), db.Ms(tx.Now))
		return err
	})
}
