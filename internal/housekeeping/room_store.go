package housekeeping

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

const roomCols = `r.id, r.site_id, r.floor_id, r.node_path, r.floor, r.number, r.type_id, t.code, r.cleaning, r.occupancy, r.hk_occupancy,
	r.block, r.block_reason, r.block_from, r.block_until, r.block_return, r.flags, r.dnd_since, r.service_at, r.updated_at`

const roomFrom = ` FROM hk_rooms r JOIN hk_room_types t ON t.id = r.type_id`

func scanRoom(row interface{ Scan(...any) error }) (*Room, error) {
	var r Room
	var floorID, dnd, service sql.NullInt64
	var flags string
	var updated int64
	if err := row.Scan(&r.ID, &r.SiteID, &floorID, &r.NodePath, &r.Floor, &r.Number, &r.TypeID, &r.TypeCode, &r.Cleaning, &r.Occupancy, &r.HKOccupancy,
		&r.Block, &r.BlockReason, &r.BlockFrom, &r.BlockUntil, &r.BlockReturn, &flags, &dnd, &service, &updated); err != nil {
		return nil, err
	}
	if floorID.Valid {
		r.FloorID = &floorID.Int64
	}
	r.Flags = ParseFlags(flags)
	r.DNDSince, r.ServiceAt = db.TimePtr(dnd), db.TimePtr(service)
	r.UpdatedAt = db.Time(updated)
	return &r, nil
}

// loadRoom reads a room without permission checks; with lock, the row is
// locked for the transaction. ENotFound when there is none.
func (s *Service) loadRoom(ctx context.Context, id int64, lock bool) (*Room, error) {
	q := `SELECT ` + roomCols + roomFrom + ` WHERE r.id = ?`
	if lock {
		q += s.db.ForUpdate()
		if s.db.Dialect == db.Postgres {
			q = strings.Replace(q, " FOR UPDATE", " FOR UPDATE OF r", 1)
		}
	}
	r, err := scanRoom(s.db.Q(ctx).QueryRowContext(ctx, q, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.hk.room_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("housekeeping: room %d: %w", id, err)
	}
	return r, nil
}

// saveState writes a room's state dimensions.
func (s *Service) saveState(ctx context.Context, r *Room) error {
	tx := db.TxFrom(ctx)
	_, err := db.TxOrFail(ctx).ExecContext(ctx, `UPDATE hk_rooms SET cleaning = ?, occupancy = ?, hk_occupancy = ?, block = ?, block_reason = ?, block_from = ?,
		block_until = ?, block_return = ?, flags = ?, dnd_since = ?, service_at = ?, updated_at = ? WHERE id = ?`,
		r.Cleaning, r.Occupancy, r.HKOccupancy, r.Block, r.BlockReason, r.BlockFrom, r.BlockUntil, r.BlockReturn, r.FlagsText(),
		db.MsPtr(r.DNDSince), db.MsPtr(r.ServiceAt), db.Ms(eventAt(tx.Now, r)), r.ID)
	if err != nil {
		return fmt.Errorf("housekeeping: save room %d: %w", r.ID, err)
	}
	return nil
}

// eventAt is the instant of a room's next event: the transaction's, but
// never before the room's last change, so a room's events are in time
// order even when transactions commit out of order.
func eventAt(now time.Time, r *Room) time.Time {
	if r.UpdatedAt.After(now) {
		return r.UpdatedAt
	}
	return now
}

// eventIn is an event to write.
type eventIn struct {
	Kind  string
	Delta Delta
	Note  string
	RefID int64
}

// addEvents writes a room's events, each with the room's state as it is
// now (after the whole change), and moves the room's clock to them.
func (s *Service) addEvents(ctx context.Context, r *Room, evs ...eventIn) error {
	tx := db.TxFrom(ctx)
	if tx == nil {
		return fmt.Errorf("housekeeping: events outside a transaction")
	}
	at := eventAt(tx.Now, r)
	a := audit.ActorFrom(ctx)
	var actor any
	if a.ID != 0 {
		actor = a.ID
	}
	for _, e := range evs {
		var ref any
		if e.RefID != 0 {
			ref = e.RefID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO hk_room_events (room_id, site_id, at, actor_id, actor_name, kind, dimension, from_value, to_value, note, ref_id,
			cleaning, occupancy, hk_occupancy, block, block_reason, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.SiteID, db.Ms(at), actor, a.Name, e.Kind, e.Delta.Dimension, e.Delta.From, e.Delta.To, e.Note, ref,
			r.Cleaning, r.Occupancy, r.HKOccupancy, r.Block, r.BlockReason, r.FlagsText())
		if err != nil {
			return fmt.Errorf("housekeeping: event of room %d: %w", r.ID, err)
		}
	}
	r.UpdatedAt = at
	return nil
}

// record writes an audit row in the transaction in ctx.
func (s *Service) record(ctx context.Context, action, entity string, id any, path string, after any) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, audit.Entry{Action: action, Entity: entity, EntityID: id, NodePath: path, After: after})
}

// ---- room types ----

const typeCols = `id, site_id, code, name, bed_style, credits_checkout, credits_stayover, credits_turndown, credits_deep,
	minutes_checkout, minutes_stayover, minutes_turndown, minutes_deep, checklist, inspection`

func scanType(row interface{ Scan(...any) error }) (*RoomType, error) {
	var t RoomType
	var cc, cs, ct, cd, mc, ms, mt, md int
	var checklist, inspection string
	if err := row.Scan(&t.ID, &t.SiteID, &t.Code, &t.Name, &t.BedStyle, &cc, &cs, &ct, &cd, &mc, &ms, &mt, &md, &checklist, &inspection); err != nil {
		return nil, err
	}
	t.Credits = map[string]int{CleanCheckout: cc, CleanStayover: cs, CleanTurndown: ct, CleanDeep: cd}
	t.Minutes = map[string]int{CleanCheckout: mc, CleanStayover: ms, CleanTurndown: mt, CleanDeep: md}
	t.Checklist = parseSteps(checklist, StandardChecklist)
	t.Inspection = parseSteps(inspection, StandardInspection)
	return &t, nil
}

func parseSteps(text string, def []ChecklistStep) []ChecklistStep {
	if text == "" {
		return def
	}
	var out []ChecklistStep
	if json.Unmarshal([]byte(text), &out) != nil || len(out) == 0 {
		return def
	}
	return out
}

// RoomTypes lists a site's room types.
func (s *Service) RoomTypes(ctx context.Context, siteID int64) ([]RoomType, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+typeCols+` FROM hk_room_types WHERE site_id = ? ORDER BY code`, siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: room types: %w", err)
	}
	defer rows.Close()
	out := []RoomType{}
	for rows.Next() {
		t, err := scanType(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

func (s *Service) roomType(ctx context.Context, id int64) (*RoomType, error) {
	t, err := scanType(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+typeCols+` FROM hk_room_types WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.hk.type_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("housekeeping: room type %d: %w", id, err)
	}
	return t, nil
}
