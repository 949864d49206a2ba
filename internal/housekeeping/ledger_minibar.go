package housekeeping

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Yuan shows an amount in fen as money: ¥1,234.50.
func Yuan(fen int64) string {
	neg := fen < 0
	if neg {
		fen = -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	s := fmt.Sprintf("¥%s.%02d", b.String(), fen%100)
	if neg {
		return "-" + s
	}
	return s
}

// actorID is the caller's staff id for a *_by column, or NULL.
func actorID(ctx context.Context) any {
	if p := auth.FromContext(ctx); p != nil {
		return p.StaffID
	}
	return nil
}

// MinibarItem is something the minibar holds.
type MinibarItem struct {
	ID       int64  `json:"id"`
	SiteID   int64  `json:"site_id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	PriceFen int64  `json:"price_fen"`
	Par      int    `json:"par"` // how many a room holds
	Active   bool   `json:"active"`
}

// PriceText is the price as money.
func (m MinibarItem) PriceText() string { return Yuan(m.PriceFen) }

// MinibarItemList lists a site's minibar items.
type MinibarItemList struct {
	Items []MinibarItem `json:"items"`
}

// MinibarItems lists a site's minibar items (active ones first).
func (s *Service) MinibarItems(ctx context.Context, siteID int64) ([]MinibarItem, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, site_id, code, name, price_fen, par, active FROM hk_minibar_items WHERE site_id = ? ORDER BY active DESC, code`, siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: minibar items: %w", err)
	}
	defer rows.Close()
	out := []MinibarItem{}
	for rows.Next() {
		var m MinibarItem
		if err := rows.Scan(&m.ID, &m.SiteID, &m.Code, &m.Name, &m.PriceFen, &m.Par, &m.Active); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MinibarItemInput adds a minibar item.
type MinibarItemInput struct {
	SiteID   int64  `json:"site_id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	PriceFen int64  `json:"price_fen"`
	Par      int    `json:"par"`
}

// CreateMinibarItem adds an item to a site's minibar; hk.manage.
func (s *Service) CreateMinibarItem(ctx context.Context, in MinibarItemInput) (*MinibarItem, error) {
	var v errs.Validation
	v.Required("code", in.Code)
	v.MaxLen("code", in.Code, 20)
	v.Required("name", in.Name)
	v.MaxLen("name", in.Name, 50)
	v.Check(in.PriceFen > 0 && in.PriceFen <= 10_000_000, "price_fen", "error.hk.out_of_range")
	v.Check(in.Par >= 1 && in.Par <= 20, "par", "error.hk.out_of_range")
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
	m := &MinibarItem{SiteID: site.ID, Code: strings.TrimSpace(in.Code), Name: strings.TrimSpace(in.Name), PriceFen: in.PriceFen, Par: in.Par, Active: true}
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO hk_minibar_items (site_id, code, name, price_fen, par, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.SiteID, m.Code, m.Name, m.PriceFen, m.Par, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&m.ID)
		if db.IsUnique(err) {
			return errs.Invalid("code", "error.hk.code_exists")
		}
		if err != nil {
			return fmt.Errorf("housekeeping: minibar item: %w", err)
		}
		return s.record(ctx, "create", "hk_minibar_item", m.ID, site.Path, in)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// MinibarLine is one item counted as consumed.
type MinibarLine struct {
	ItemID int64 `json:"item_id"`
	Qty    int   `json:"qty"`
}

// MinibarInput is a minibar count: what the guest consumed.
type MinibarInput struct {
	Lines []MinibarLine `json:"lines"`
}

// MinibarPosting is one consumption posted to a room.
type MinibarPosting struct {
	ID            int64      `json:"id"`
	RoomID        int64      `json:"room_id"`
	RoomNumber    string     `json:"room_number"`
	ItemID        int64      `json:"item_id"`
	ItemName      string     `json:"item_name"`
	Qty           int        `json:"qty"`
	PriceFen      int64      `json:"price_fen"`
	AmountFen     int64      `json:"amount_fen"`
	BusinessDate  string     `json:"business_date"`
	PostedAt      time.Time  `json:"posted_at"`
	PostedBy      string     `json:"posted_by"`
	ExportedAt    *time.Time `json:"exported_at"`
	ReplenishedAt *time.Time `json:"replenished_at"`
}

// AmountText is the amount as money.
func (p MinibarPosting) AmountText() string { return Yuan(p.AmountFen) }

// MinibarPosted is the result of a count.
type MinibarPosted struct {
	Items    []MinibarPosting `json:"items"`
	TotalFen int64            `json:"total_fen"`
}

// PostMinibar posts a minibar count to a room: one posting per item at
// today's price (for the guest's folio), each also a line to replenish,
// and the count on the room's timeline. hk.clean or hk.desk on the room.
func (s *Service) PostMinibar(ctx context.Context, roomID int64, in MinibarInput) (*MinibarPosted, error) {
	var v errs.Validation
	if len(in.Lines) == 0 {
		v.Add("lines", "error.field.required")
	}
	if len(in.Lines) > 30 {
		v.Add("lines", "error.field.too_long")
	}
	for i, l := range in.Lines {
		v.Check(l.Qty >= 1 && l.Qty <= 99, fmt.Sprintf("lines[%d].qty", i), "error.hk.out_of_range")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &MinibarPosted{Items: []MinibarPosting{}}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visibleRoom(ctx, roomID, true)
		if err != nil {
			return err
		}
		if !can(ctx, auth.PermHKClean, r.NodePath) && !can(ctx, auth.PermHKDesk, r.NodePath) {
			return errs.Forbidden()
		}
		items, err := s.MinibarItems(ctx, r.SiteID)
		if err != nil {
			return err
		}
		byID := map[int64]MinibarItem{}
		for _, m := range items {
			if m.Active {
				byID[m.ID] = m
			}
		}
		site, err := s.loadSite(ctx, r.SiteID)
		if err != nil {
			return err
		}
		date := site.Today(tx.Now)
		var notes []string
		for i, l := range in.Lines {
			m, ok := byID[l.ItemID]
			if !ok {
				return errs.Invalid(fmt.Sprintf("lines[%d].item_id", i), "error.field.unknown_id")
			}
			p := MinibarPosting{RoomID: r.ID, RoomNumber: r.Number, ItemID: m.ID, ItemName: m.Name, Qty: l.Qty, PriceFen: m.PriceFen,
				AmountFen: m.PriceFen * int64(l.Qty), BusinessDate: date, PostedAt: tx.Now}
			if err := tx.QueryRowContext(ctx, `INSERT INTO hk_minibar_postings (site_id, room_id, item_id, qty, price_fen, amount_fen, business_date, posted_at, posted_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, r.SiteID, r.ID, m.ID, l.Qty, m.PriceFen, p.AmountFen, date, db.Ms(tx.Now), actorID(ctx)).Scan(&p.ID); err != nil {
				return fmt.Errorf("housekeeping: minibar posting: %w", err)
			}
			out.Items = append(out.Items, p)
			out.TotalFen += p.AmountFen
			notes = append(notes, fmt.Sprintf("%s×%d", m.Name, l.Qty))
		}
		if err := s.addEvents(ctx, r, eventIn{Kind: "minibar", Note: strings.Join(notes, "、") + " " + Yuan(out.TotalFen)}); err != nil {
			return err
		}
		return s.saveState(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const postingCols = `p.id, p.room_id, r.number, p.item_id, i.name, p.qty, p.price_fen, p.amount_fen, p.business_date, p.posted_at, COALESCE(st.name, ''),
	p.exported_at, p.replenished_at`

const postingFrom = ` FROM hk_minibar_postings p JOIN hk_rooms r ON r.id = p.room_id JOIN hk_minibar_items i ON i.id = p.item_id LEFT JOIN staff st ON st.id = p.posted_by`

func scanPostings(rows *sql.Rows) ([]MinibarPosting, error) {
	defer rows.Close()
	out := []MinibarPosting{}
	for rows.Next() {
		var p MinibarPosting
		var posted int64
		var exported, replenished sql.NullInt64
		if err := rows.Scan(&p.ID, &p.RoomID, &p.RoomNumber, &p.ItemID, &p.ItemName, &p.Qty, &p.PriceFen, &p.AmountFen, &p.BusinessDate, &posted, &p.PostedBy,
			&exported, &replenished); err != nil {
			return nil, err
		}
		p.PostedAt = db.Time(posted)
		p.ExportedAt, p.ReplenishedAt = db.TimePtr(exported), db.TimePtr(replenished)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ToReplenish lists the site's postings whose items are not yet put back.
func (s *Service) ToReplenish(ctx context.Context, siteID int64) ([]MinibarPosting, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+postingCols+postingFrom+` WHERE p.site_id = ? AND p.replenished_at IS NULL ORDER BY r.floor, r.number, p.id LIMIT 1000`, siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: to replenish: %w", err)
	}
	return scanPostings(rows)
}

// Replenish marks postings as put back (发放/补充酒水); hk.clean or hk.desk.
// It returns how many it marked; unknown or done ones are skipped.
func (s *Service) Replenish(ctx context.Context, siteID int64, ids []int64) (int, error) {
	site, err := s.site(ctx, siteID, auth.PermHKView)
	if err != nil {
		return 0, err
	}
	if !can(ctx, auth.PermHKDesk, site.Path) && !can(ctx, auth.PermHKClean, site.Path) && !canBelow(auth.FromContext(ctx), auth.PermHKClean, site.Path) {
		return 0, errs.Forbidden()
	}
	n := 0
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE hk_minibar_postings SET replenished_at = ?, replenished_by = ? WHERE id = ? AND site_id = ? AND replenished_at IS NULL`,
				db.Ms(tx.Now), actorID(ctx), id, site.ID)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}

// SalesLine is one item's sales on a day.
type SalesLine struct {
	ItemID    int64  `json:"item_id"`
	Name      string `json:"name"`
	Qty       int    `json:"qty"`
	AmountFen int64  `json:"amount_fen"`
}

// AmountText is the amount as money.
func (l SalesLine) AmountText() string { return Yuan(l.AmountFen) }

// MinibarDay is a day's minibar sales (酒水销量总表) and its postings.
type MinibarDay struct {
	Date     string           `json:"date"`
	Lines    []SalesLine      `json:"lines"`
	TotalFen int64            `json:"total_fen"`
	Postings []MinibarPosting `json:"postings"`
}

// TotalText is the day's total as money.
func (d MinibarDay) TotalText() string { return Yuan(d.TotalFen) }

// MinibarSales summarises a site's minibar on a business date.
func (s *Service) MinibarSales(ctx context.Context, siteID int64, date string) (*MinibarDay, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+postingCols+postingFrom+` WHERE p.site_id = ? AND p.business_date = ? ORDER BY p.posted_at, p.id`, siteID, date)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: minibar sales: %w", err)
	}
	ps, err := scanPostings(rows)
	if err != nil {
		return nil, err
	}
	d := &MinibarDay{Date: date, Lines: []SalesLine{}, Postings: ps}
	idx := map[int64]int{}
	for _, p := range ps {
		i, ok := idx[p.ItemID]
		if !ok {
			i = len(d.Lines)
			idx[p.ItemID] = i
			d.Lines = append(d.Lines, SalesLine{ItemID: p.ItemID, Name: p.ItemName})
		}
		d.Lines[i].Qty += p.Qty
		d.Lines[i].AmountFen += p.AmountFen
		d.TotalFen += p.AmountFen
	}
	return d, nil
}

// ExportFolio returns a day's postings for the guests' folios and marks
// those not sent before as sent; hk.desk on the site.
func (s *Service) ExportFolio(ctx context.Context, siteID int64, date string) ([]MinibarPosting, error) {
	if _, err := s.site(ctx, siteID, auth.PermHKDesk); err != nil {
		return nil, err
	}
	d, err := s.MinibarSales(ctx, siteID, date)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE hk_minibar_postings SET exported_at = ? WHERE site_id = ? AND business_date = ? AND exported_at IS NULL`, db.Ms(tx.Now), siteID, date)
		return err
	})
	return d.Postings, err
}
