package housekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/live"
)

// RoomFilter narrows a list of rooms (and the board).
type RoomFilter struct {
	Floor       int
	Code        string // VC, VD, …, or "ready"
	Cleaning    string
	Flag        string // a flag, or "skip"/"sleep" for a discrepancy
	AttendantID int64
}

// Match reports whether a room passes the filter.
func (f RoomFilter) Match(r *Room) bool {
	switch {
	case f.Floor != 0 && r.Floor != f.Floor:
		return false
	case f.Code == "ready" && !r.Ready:
		return false
	case f.Code != "" && f.Code != "ready" && r.Code != f.Code:
		return false
	case f.Cleaning != "" && r.Cleaning != f.Cleaning:
		return false
	case f.AttendantID != 0 && r.AttendantID != f.AttendantID:
		return false
	case f.Flag == DiscrepancySkip || f.Flag == DiscrepancySleep:
		return r.Discrepancy == f.Flag
	case f.Flag != "" && !r.Has(f.Flag):
		return false
	}
	return true
}

// RoomList is a site's rooms.
type RoomList struct {
	SiteID int64  `json:"site_id"`
	Items  []Room `json:"items"`
}

// Rooms lists a site's rooms with every dimension, the derived code and
// today's work. With site 0 it is the caller's first site with rooms (an
// empty list when there is none). ENotFound for a site the caller cannot see.
func (s *Service) Rooms(ctx context.Context, siteID int64, f RoomFilter) (*RoomList, error) {
	b, err := s.Board(ctx, siteID, nil, f)
	if err != nil {
		return nil, err
	}
	out := &RoomList{Items: []Room{}}
	if b.Site != nil {
		out.SiteID = b.Site.ID
	}
	for _, fl := range b.Floors {
		out.Items = append(out.Items, fl.Rooms...)
	}
	return out, nil
}

// Room returns one room the caller may view, with today's work.
func (s *Service) Room(ctx context.Context, id int64) (*Room, error) {
	r, err := s.loadRoom(ctx, id, false)
	if err != nil {
		return nil, err
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(auth.PermHKView, r.NodePath) {
		return nil, errs.NotFound("error.hk.room_not_found")
	}
	site, err := s.loadSite(ctx, r.SiteID)
	if err != nil {
		return nil, err
	}
	if err := s.decorate(ctx, site, []*Room{r}, site.Today(s.now(ctx))); err != nil {
		return nil, err
	}
	return r, nil
}

// decorate fills in what the state means and the day's work of rooms.
func (s *Service) decorate(ctx context.Context, site *HotelSite, rooms []*Room, date string) error {
	st, err := s.Settings(ctx, site.ID)
	if err != nil {
		return err
	}
	work, err := s.workByRoom(ctx, site.ID, date)
	if err != nil {
		return err
	}
	for _, r := range rooms {
		r.Derived = Derive(r.State, st.InspectionRequired)
		if w, ok := work[r.ID]; ok {
			r.WorkID, r.CleanType, r.WorkState, r.AttendantID, r.AttendantName = w.ID, w.CleanType, w.State, w.AttendantID, w.AttendantName
		}
	}
	return nil
}

// RoomStatusInput changes one dimension of a room: exactly one of cleaning,
// occupancy, hk_occupancy, block or one flag. A block names its reason and
// may name the day it ends and the cleaning status it returns to.
type RoomStatusInput struct {
	Cleaning    string          `json:"cleaning,omitempty"`
	Occupancy   string          `json:"occupancy,omitempty"`
	HKOccupancy string          `json:"hk_occupancy,omitempty"`
	Block       string          `json:"block,omitempty"`
	BlockReason string          `json:"block_reason,omitempty"`
	BlockUntil  string          `json:"block_until,omitempty"`
	BlockReturn string          `json:"block_return,omitempty"`
	Flags       map[string]bool `json:"flags,omitempty"`
	Note        string          `json:"note,omitempty"`
}

// change validates the input and turns it into a Change.
func (in RoomStatusInput) change() (Change, error) {
	var v errs.Validation
	for _, f := range []struct{ name, val string }{{"cleaning", in.Cleaning}, {"occupancy", in.Occupancy}, {"hk_occupancy", in.HKOccupancy},
		{"block", in.Block}, {"block_until", in.BlockUntil}, {"block_return", in.BlockReturn}} {
		v.MaxLen(f.name, f.val, 20)
	}
	v.MaxLen("block_reason", in.BlockReason, 200)
	v.MaxLen("note", in.Note, 500)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	var c Change
	n := 0
	set := func(field, dim, val string, choices []string) {
		if val == "" {
			return
		}
		if !slices.Contains(choices, val) {
			v.Add(field, "error.field.invalid_choice")
			return
		}
		n++
		if n > 1 {
			v.Add(field, "error.hk.status.one_at_a_time")
			return
		}
		c = Change{Dimension: dim, To: val}
	}
	set("cleaning", DimCleaning, in.Cleaning, CleaningValues)
	set("occupancy", DimOccupancy, in.Occupancy, OccupancyValues)
	set("hk_occupancy", DimHKOccupancy, in.HKOccupancy, HKValues)
	set("block", DimBlock, in.Block, BlockValues)
	if len(in.Flags) > 1 {
		v.Add("flags", "error.hk.status.one_at_a_time")
	}
	for f, on := range in.Flags {
		to := "off"
		if on {
			to = "on"
		}
		if !slices.Contains(FlagValues, f) {
			v.Add("flags", "error.field.invalid_choice")
			continue
		}
		set("flags", FlagDim(f), to, []string{"on", "off"})
	}
	if in.BlockUntil != "" {
		if _, err := time.Parse(time.DateOnly, in.BlockUntil); err != nil {
			v.Add("block_until", "error.field.wrong_type")
		}
	}
	if in.BlockReturn != "" && !slices.Contains(BlockReturnValues, in.BlockReturn) {
		v.Add("block_return", "error.field.invalid_choice")
	}
	if c.Dimension == DimBlock && c.To != BlockNone && strings.TrimSpace(in.BlockReason) == "" {
		v.Add("block_reason", "error.field.required")
	}
	if n == 0 && len(in.Flags) == 0 && v.Err() == nil {
		v.Add("body", "error.hk.status.nothing")
	}
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	c.BlockReason, c.BlockUntil, c.BlockReturn = strings.TrimSpace(in.BlockReason), in.BlockUntil, in.BlockReturn
	return c, nil
}

// ChangeStatus changes one dimension of a room. It returns the room after
// the change; EInvalid for bad input, ENotFound for a room the caller
// cannot see, EForbidden when the table's permission for the change is
// not theirs, and EConflict naming the allowed values when the table does
// not allow the change from the room's state.
func (s *Service) ChangeStatus(ctx context.Context, roomID int64, in RoomStatusInput) (*Room, error) {
	c, err := in.change()
	if err != nil {
		return nil, err
	}
	var out *Room
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visibleRoom(ctx, roomID, true)
		if err != nil {
			return err
		}
		if err := s.apply(ctx, r, c, "status", in.Note, 0, true); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Room(ctx, out.ID)
}

// visibleRoom loads a room the caller may view (locked when lock).
func (s *Service) visibleRoom(ctx context.Context, id int64, lock bool) (*Room, error) {
	r, err := s.loadRoom(ctx, id, lock)
	if err != nil {
		return nil, err
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(auth.PermHKView, r.NodePath) {
		return nil, errs.NotFound("error.hk.room_not_found")
	}
	return r, nil
}

// callerCan is the permission check for the table: the caller's grants on
// the room; the system (no caller) may do everything.
func callerCan(ctx context.Context, path string) func(auth.Perm) bool {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil
	}
	return func(perm auth.Perm) bool { return p.Can(perm, path) }
}

// apply makes a change on a locked room inside the transaction: the table,
// the room's row, its events, the follow-ups (DND timers, today's work) and
// the live update. checkPerm false applies a change the system makes on
// behalf of a rule (a check-out's dirty room, a DND call's outcome).
func (s *Service) apply(ctx context.Context, r *Room, c Change, kind, note string, ref int64, checkPerm bool) error {
	var can func(auth.Perm) bool
	if checkPerm {
		can = callerCan(ctx, r.NodePath)
	}
	before := r.State
	n, deltas, err := Apply(r.State, c, can)
	if err != nil {
		if e, ok := err.(*errs.Error); ok && e.Code == errs.EConflict {
			e.Args["room"] = r.Number
		}
		return err
	}
	if c.Dimension == DimBlock && c.To != BlockNone && before.Block == BlockNone {
		site, err := s.loadSite(ctx, r.SiteID)
		if err != nil {
			return err
		}
		n.BlockFrom = site.Today(s.now(ctx))
	}
	r.State = n
	if err := s.followUps(ctx, r, before); err != nil {
		return err
	}
	if err := s.saveState(ctx, r); err != nil {
		return err
	}
	evs := make([]eventIn, len(deltas))
	for i, d := range deltas {
		evs[i] = eventIn{Kind: kind, Delta: d, RefID: ref}
	}
	if len(evs) > 0 {
		evs[0].Note = note
	}
	if err := s.addEvents(ctx, r, evs...); err != nil {
		return err
	}
	return s.publishRoom(ctx, r)
}

// followUps keeps what hangs off a room's state in step with it: DND
// timers and tasks, the time a guest asked for service, today's work.
func (s *Service) followUps(ctx context.Context, r *Room, before State) error {
	now := s.now(ctx)
	switch {
	case r.Has(FlagDND) && !before.Has(FlagDND):
		r.DNDSince = &now
		r.ServiceAt = nil
		if err := s.scheduleDND(ctx, r, now); err != nil {
			return err
		}
		if err := s.setWorkState(ctx, r, []string{WorkOpen}, WorkSkipped, "dnd"); err != nil {
			return err
		}
	case !r.Has(FlagDND) && before.Has(FlagDND):
		r.DNDSince = nil
		if err := s.cancelDND(ctx, r); err != nil {
			return err
		}
		if !r.Has(FlagRefused) {
			if err := s.setWorkState(ctx, r, []string{WorkSkipped}, WorkOpen, ""); err != nil {
				return err
			}
		}
	}
	if r.Has(FlagRefused) && !before.Has(FlagRefused) {
		if err := s.setWorkState(ctx, r, []string{WorkOpen}, WorkSkipped, "refused"); err != nil {
			return err
		}
	}
	if r.Occupancy == Vacant && before.Occupancy == Occupied {
		r.ServiceAt = nil
		// A stay-over clean becomes a check-out clean.
		if err := s.departed(ctx, r); err != nil {
			return err
		}
	}
	switch {
	case r.Cleaning == Cleaning && before.Cleaning != Cleaning:
		return s.setWorkState(ctx, r, []string{WorkOpen, WorkSkipped}, WorkStarted, "")
	case (r.Cleaning == Clean || r.Cleaning == Inspected) && before.Cleaning != Clean && before.Cleaning != Inspected:
		r.ServiceAt = nil
		return s.setWorkState(ctx, r, []string{WorkOpen, WorkStarted, WorkSkipped}, WorkDone, "")
	case r.Cleaning == Dirty && before.Cleaning == Cleaning:
		return s.setWorkState(ctx, r, []string{WorkStarted}, WorkOpen, "")
	}
	return nil
}

// publishRoom tells the site's open boards about the room once the
// transaction commits.
func (s *Service) publishRoom(ctx context.Context, r *Room) error {
	if s.live == nil {
		return nil
	}
	site, err := s.loadSite(ctx, r.SiteID)
	if err != nil {
		return err
	}
	cp := *r
	cp.Flags = slices.Clone(r.Flags)
	if err := s.decorate(ctx, site, []*Room{&cp}, site.Today(s.now(ctx))); err != nil {
		return err
	}
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	s.live.PublishAfter(ctx, live.Event{Topic: live.NodeTopic(site.Path), Type: "hk.room", Data: data})
	return nil
}

// BulkStatusInput changes one dimension of several rooms at once.
// Its fields are RoomStatusInput's, spelled out: a wrong value must be
// reported under its own name, not under an embedded type's.
type BulkStatusInput struct {
	RoomIDs     []int64         `json:"room_ids"`
	Cleaning    string          `json:"cleaning,omitempty"`
	Occupancy   string          `json:"occupancy,omitempty"`
	HKOccupancy string          `json:"hk_occupancy,omitempty"`
	Block       string          `json:"block,omitempty"`
	BlockReason string          `json:"block_reason,omitempty"`
	BlockUntil  string          `json:"block_until,omitempty"`
	BlockReturn string          `json:"block_return,omitempty"`
	Flags       map[string]bool `json:"flags,omitempty"`
	Note        string          `json:"note,omitempty"`
}

func (in BulkStatusInput) status() RoomStatusInput {
	return RoomStatusInput{Cleaning: in.Cleaning, Occupancy: in.Occupancy, HKOccupancy: in.HKOccupancy, Block: in.Block, BlockReason: in.BlockReason,
		BlockUntil: in.BlockUntil, BlockReturn: in.BlockReturn, Flags: in.Flags, Note: in.Note}
}

// BulkStatusResult lists the rooms after a bulk change.
type BulkStatusResult struct {
	Items []Room `json:"items"`
}

// BulkStatus applies one change to every room listed, all or nothing: an
// unknown room is bad input naming room_ids, and a room whose state does
// not allow the change refuses the whole batch with the room named.
func (s *Service) BulkStatus(ctx context.Context, in BulkStatusInput) (*BulkStatusResult, error) {
	c, err := in.status().change()
	if err != nil {
		return nil, err
	}
	if len(in.RoomIDs) == 0 {
		return nil, errs.Invalid("room_ids", "error.field.required")
	}
	if len(in.RoomIDs) > 2000 {
		return nil, errs.Invalid("room_ids", "error.field.too_long")
	}
	var ids []int64
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		seen := map[int64]bool{}
		for _, id := range in.RoomIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			r, err := s.visibleRoom(ctx, id, true)
			if errs.CodeOf(err) == errs.ENotFound {
				return errs.Invalid("room_ids", "error.field.unknown_id")
			}
			if err != nil {
				return err
			}
			if err := s.apply(ctx, r, c, "status", in.Note, 0, true); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &BulkStatusResult{Items: []Room{}}
	for _, id := range ids {
		r, err := s.Room(ctx, id)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, *r)
	}
	return out, nil
}

// ---- the board ----

// RoomBoard is a site's rooms by floor, live or as they were at an instant.
type RoomBoard struct {
	Site   *HotelSite     `json:"site"`
	At     *time.Time     `json:"at,omitempty"` // nil: now
	Date   string         `json:"date"`         // the site's local date shown
	Floors []BoardFloor   `json:"floors"`
	Counts map[string]int `json:"counts"` // per code, and "ready", "skip", "sleep"
	Total  int            `json:"total"`
	// InspectionRequired is the site's rule for ready to sell.
	InspectionRequired bool `json:"inspection_required"`
}

// BoardFloor is one row of the board.
type BoardFloor struct {
	Floor int    `json:"floor"`
	Rooms []Room `json:"rooms"`
}

// Board returns a site's board: the rooms now, or, with at, the rooms as
// they were at that instant (replayed from their events). Counts cover the
// whole site; the rooms listed pass the filter. Site 0 is the caller's
// first site; with none, an empty board.
func (s *Service) Board(ctx context.Context, siteID int64, at *time.Time, f RoomFilter) (*RoomBoard, error) {
	site, err := s.siteOrDefault(ctx, siteID, auth.PermHKView)
	if err != nil {
		return nil, err
	}
	b := &RoomBoard{Floors: []BoardFloor{}, Counts: map[string]int{}}
	if site == nil {
		return b, nil
	}
	b.Site = site
	now := s.now(ctx)
	if at != nil && at.After(now) {
		at = nil
	}
	var rooms []*Room
	if at == nil {
		rooms, err = s.currentRooms(ctx, site.ID)
		b.Date = site.Today(now)
	} else {
		t := at.UTC()
		b.At = &t
		rooms, err = s.replayRooms(ctx, site.ID, t)
		b.Date = site.Today(t)
	}
	if err != nil {
		return nil, err
	}
	if err := s.decorate(ctx, site, rooms, b.Date); err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	b.InspectionRequired = st.InspectionRequired
	p := auth.FromContext(ctx)
	for _, r := range rooms {
		if p != nil && !p.Can(auth.PermHKView, r.NodePath) {
			continue // a floor-level grant sees its floors only
		}
		b.Total++
		b.Counts[r.Code]++
		if r.Ready {
			b.Counts["ready"]++
		}
		if r.Discrepancy != "" {
			b.Counts[r.Discrepancy]++
		}
		if !f.Match(r) {
			continue
		}
		if n := len(b.Floors); n == 0 || b.Floors[n-1].Floor != r.Floor {
			b.Floors = append(b.Floors, BoardFloor{Floor: r.Floor})
		}
		fl := &b.Floors[len(b.Floors)-1]
		fl.Rooms = append(fl.Rooms, *r)
	}
	return b, nil
}

func (s *Service) currentRooms(ctx context.Context, siteID int64) ([]*Room, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+roomCols+roomFrom+` WHERE r.site_id = ? ORDER BY r.floor, r.number`, siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: rooms: %w", err)
	}
	defer rows.Close()
	var out []*Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// replayRooms is every room of the site as it was at t: the state carried
// by its newest event at or before t. A room created after t is left out.
// Each room is one index seek on (room_id, at, id).
func (s *Service) replayRooms(ctx context.Context, siteID int64, t time.Time) ([]*Room, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT r.id, r.site_id, r.floor_id, r.node_path, r.floor, r.number, r.type_id, t.code,
		e.cleaning, e.occupancy, e.hk_occupancy, e.block, e.block_reason, e.flags, e.at
		FROM hk_rooms r JOIN hk_room_types t ON t.id = r.type_id
		JOIN hk_room_events e ON e.id = (SELECT e2.id FROM hk_room_events e2 WHERE e2.room_id = r.id AND e2.at <= ? ORDER BY e2.at DESC, e2.id DESC LIMIT 1)
		WHERE r.site_id = ? ORDER BY r.floor, r.number`, db.Ms(t), siteID)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: replay: %w", err)
	}
	defer rows.Close()
	var out []*Room
	for rows.Next() {
		var r Room
		var floorID *int64
		var flags string
		var at int64
		if err := rows.Scan(&r.ID, &r.SiteID, &floorID, &r.NodePath, &r.Floor, &r.Number, &r.TypeID, &r.TypeCode,
			&r.Cleaning, &r.Occupancy, &r.HKOccupancy, &r.Block, &r.BlockReason, &flags, &at); err != nil {
			return nil, err
		}
		r.FloorID = floorID
		r.Flags = ParseFlags(flags)
		r.UpdatedAt = db.Time(at)
		out = append(out, &r)
	}
	return out, rows.Err()
}

// EventPage is a page of a room's events, newest first.
type EventPage struct {
	Items []RoomEvent `json:"items"`
	// Next is the id to pass as before for the following page; 0 at the end.
	Next int64 `json:"next"`
}

// RoomTimeline lists a room's events newest first, limit at a time,
// starting before the event id before (0: the newest).
func (s *Service) RoomTimeline(ctx context.Context, roomID, before int64, limit int) (*EventPage, error) {
	if _, err := s.visibleRoom(ctx, roomID, false); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	// Who: the staff member's name as it is now, else the recorded actor
	// (the system: demo, nightly-roll).
	q := `SELECT e.id, e.room_id, e.at, e.actor_id, COALESCE(st.name, e.actor_name), e.kind, e.dimension, e.from_value, e.to_value, e.note, e.ref_id,
		e.cleaning, e.occupancy, e.hk_occupancy, e.block, e.block_reason, e.flags FROM hk_room_events e LEFT JOIN staff st ON st.id = e.actor_id WHERE e.room_id = ?`
	args := []any{roomID}
	if before > 0 {
		q += ` AND e.id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY e.at DESC, e.id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.db.Q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: timeline: %w", err)
	}
	defer rows.Close()
	out := &EventPage{Items: []RoomEvent{}}
	for rows.Next() {
		var e RoomEvent
		var at int64
		var actor, ref *int64
		var flags string
		if err := rows.Scan(&e.ID, &e.RoomID, &at, &actor, &e.ActorName, &e.Kind, &e.Dimension, &e.From, &e.To, &e.Note, &ref,
			&e.State.Cleaning, &e.State.Occupancy, &e.State.HKOccupancy, &e.State.Block, &e.State.BlockReason, &flags); err != nil {
			return nil, err
		}
		e.At, e.ActorID, e.RefID = db.Time(at), actor, ref
		e.State.Flags = ParseFlags(flags)
		out.Items = append(out.Items, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Items) > limit {
		out.Items = out.Items[:limit]
		out.Next = out.Items[limit-1].ID
	}
	return out, nil
}

// sortRooms orders rooms as the board shows them.
func sortRooms(rs []*Room) {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Floor != rs[j].Floor {
			return rs[i].Floor < rs[j].Floor
		}
		return rs[i].Number < rs[j].Number
	})
}
