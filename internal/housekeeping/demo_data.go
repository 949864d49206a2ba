package housekeeping

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/org"
)

// DemoSupervisor is the demo's housekeeping supervisor (领班) on 示例酒店:
// the demo "supervisor" account works at 示例花园.
const DemoSupervisor = "hk_supervisor"

// DemoStep is housekeeping's part of the demo data: 示例酒店's 120 rooms
// (8 floors × 15) in three types with a realistic mix of statuses as of
// now (after the nightly roll, guests in about six rooms of ten, today's
// departures part checked out, arrivals expected, DND, make-up, two rooms
// out of order and one out of service, a skip and a sleep), the room
// supervisor hk_supervisor, today's roster (the demo attendant and the
// supervisor on the day shift, the clerk on the early shift), today's
// work generated and the attendant's share assigned with the first rooms
// done.
func (s *Service) DemoStep(o *org.Service) demo.Step {
	return func(ctx context.Context, sites *demo.Sites) error {
		if sites.Hotel == 0 || len(sites.HotelFloors) == 0 {
			return nil
		}
		return s.loadDemo(ctx, o, sites)
	}
}

type demoRoom struct {
	floor, n  int
	number    string
	typeID    int64
	night     State // as the night left it
	final     State // now
	changedAt time.Time
	change    string // what happened today
	id        int64
}

func (s *Service) loadDemo(ctx context.Context, o *org.Service, sites *demo.Sites) error {
	tx := db.TxFrom(ctx)
	site, err := s.loadSite(ctx, sites.Hotel)
	if err != nil {
		return err
	}
	now := tx.Now
	local := now.In(site.Zone)
	dayStart := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, site.Zone).UTC()
	when := func(frac float64) time.Time {
		return dayStart.Add(time.Duration(float64(now.Sub(dayStart)) * frac)).Truncate(time.Second)
	}
	today := site.Today(now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO hk_settings (site_id, last_roll_on, updated_at) VALUES (?, ?, ?)`, site.ID, today, db.Ms(now)); err != nil {
		return err
	}
	types := map[string]int64{}
	for _, t := range []RoomTypeInput{
		{SiteID: site.ID, Code: "STD", Name: "标准间", BedStyle: "western"},
		{SiteID: site.ID, Code: "KNG", Name: "大床房", BedStyle: "western", Credits: map[string]int{CleanCheckout: 10, CleanStayover: 6}, Minutes: map[string]int{CleanCheckout: 30, CleanStayover: 18}},
		{SiteID: site.ID, Code: "STE", Name: "套房", BedStyle: "chinese", Credits: map[string]int{CleanCheckout: 20, CleanStayover: 10, CleanTurndown: 4, CleanDeep: 30},
			Minutes: map[string]int{CleanCheckout: 55, CleanStayover: 30, CleanTurndown: 10, CleanDeep: 90}},
	} {
		rt, err := s.CreateRoomType(ctx, t)
		if err != nil {
			return fmt.Errorf("housekeeping: demo type %s: %w", t.Code, err)
		}
		types[t.Code] = rt.ID
	}
	// The mix, decided per room by a fixed spread of 0..99.
	var rooms []*demoRoom
	for f := 1; f <= len(sites.HotelFloors); f++ {
		for n := 1; n <= 15; n++ {
			r := &demoRoom{floor: f, n: n, number: fmt.Sprintf("%d%02d", f, n)}
			switch {
			case f == 8 && n >= 13:
				r.typeID = types["STE"]
			case n%2 == 0 && f >= 3:
				r.typeID = types["KNG"]
			default:
				r.typeID = types["STD"]
			}
			demoMix(r, (f*37+n*53)%100, when)
			rooms = append(rooms, r)
		}
	}
	for _, r := range rooms {
		node := sites.HotelFloors[r.floor-1]
		var path string
		if err := tx.QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, node).Scan(&path); err != nil {
			return err
		}
		st := r.final
		if err := tx.QueryRowContext(ctx, `INSERT INTO hk_rooms (site_id, floor_id, node_path, floor, number, type_id, cleaning, occupancy, hk_occupancy, block, block_reason,
			block_from, block_until, block_return, flags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			site.ID, node, path, r.floor, r.number, r.typeID, st.Cleaning, st.Occupancy, st.HKOccupancy, st.Block, st.BlockReason, st.BlockFrom, st.BlockUntil,
			st.BlockReturn, st.FlagsText(), db.Ms(dayStart.Add(-time.Hour)), db.Ms(r.changedAt)).Scan(&r.id); err != nil {
			return fmt.Errorf("housekeeping: demo room %s: %w", r.number, err)
		}
	}
	// Events: the night's state, then today's change.
	var vals []string
	var args []any
	add := func(r *demoRoom, at time.Time, kind string, d Delta, note string, st State) {
		vals = append(vals, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, r.id, site.ID, db.Ms(at), "demo", kind, d.Dimension, d.From, d.To, note, st.Cleaning, st.Occupancy, st.HKOccupancy, st.Block, st.BlockReason, st.FlagsText())
	}
	for _, r := range rooms {
		add(r, dayStart.Add(-time.Hour), "created", Delta{}, "", r.night)
		for _, d := range Deltas(r.night, r.final, "") {
			kind := "status"
			if r.change != "" {
				kind = r.change
			}
			add(r, r.changedAt, kind, d, "", r.final)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO hk_room_events (room_id, site_id, at, actor_name, kind, dimension, from_value, to_value, note,
		cleaning, occupancy, hk_occupancy, block, block_reason, flags) VALUES `+strings.Join(vals, ", "), args...); err != nil {
		return fmt.Errorf("housekeeping: demo events: %w", err)
	}
	// DND rooms follow the workflow from when the sign went up.
	for _, r := range rooms {
		if r.final.Has(FlagDND) {
			since := r.changedAt
			if _, err := tx.ExecContext(ctx, `UPDATE hk_rooms SET dnd_since = ? WHERE id = ?`, db.Ms(since), r.id); err != nil {
				return err
			}
			if err := s.scheduleDND(ctx, &Room{ID: r.id, SiteID: site.ID}, since); err != nil {
				return err
			}
		}
	}
	if err := s.demoPeople(ctx, o, sites, site, today); err != nil {
		return err
	}
	return s.demoLedgers(ctx, sites, site, rooms, today)
}

// demoLedgers fills the clerk's ledgers: minibar items and a few postings,
// the 16 keys and 8 pagers with the attendant's out for the day shift, a
// laundry bag, found items (one old enough to dispose of), an item lent,
// the handover log, repeat-guest notes and the early shift's first duties.
func (s *Service) demoLedgers(ctx context.Context, sites *demo.Sites, site *HotelSite, rooms []*demoRoom, today string) error {
	tx := db.TxFrom(ctx)
	now := db.Ms(tx.Now)
	items := map[string]int64{}
	for _, m := range []MinibarItemInput{
		{Code: "COKE", Name: "可口可乐", PriceFen: 1000, Par: 2}, {Code: "WATER", Name: "矿泉水", PriceFen: 500, Par: 2},
		{Code: "BEER", Name: "青岛啤酒", PriceFen: 1500, Par: 2}, {Code: "CHIPS", Name: "薯片", PriceFen: 1200, Par: 1},
		{Code: "NUTS", Name: "坚果", PriceFen: 1800, Par: 1}, {Code: "WINE", Name: "红葡萄酒（小瓶）", PriceFen: 6800, Par: 1},
	} {
		m.SiteID = site.ID
		it, err := s.CreateMinibarItem(ctx, m)
		if err != nil {
			return err
		}
		items[m.Code] = it.ID
	}
	att := sites.Staff["attendant"]
	clerk := sites.Staff["clerk"]
	var occupied []*demoRoom
	for _, r := range rooms {
		if r.final.Occupancy == Occupied && r.final.Block == BlockNone {
			occupied = append(occupied, r)
		}
	}
	post := func(r *demoRoom, code string, qty int, replenished bool) error {
		price := map[string]int64{"COKE": 1000, "WATER": 500, "BEER": 1500, "CHIPS": 1200, "NUTS": 1800, "WINE": 6800}[code]
		var rep, repBy any
		if replenished {
			rep, repBy = now, clerk
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO hk_minibar_postings (site_id, room_id, item_id, qty, price_fen, amount_fen, business_date, posted_at, posted_by, replenished_at, replenished_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, site.ID, r.id, items[code], qty, price, price*int64(qty), today, now, nilIfZero(att), rep, repBy)
		return err
	}
	if len(occupied) >= 6 {
		for i, p := range []struct {
			code string
			qty  int
			rep  bool
		}{{"COKE", 2, true}, {"BEER", 1, true}, {"WATER", 2, false}, {"NUTS", 1, false}, {"WINE", 1, false}, {"CHIPS", 1, false}} {
			if err := post(occupied[i], p.code, p.qty, p.rep); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_laundry (site_id, room_id, bag_no, pieces, note, picked_at, picked_by) VALUES (?, ?, 'L-0815', 4, '衬衫需熨烫', ?, ?)`,
			site.ID, occupied[1].id, now, nilIfZero(att)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_lent_items (site_id, room_id, item, qty, note, lent_at, lent_by) VALUES (?, ?, '熨斗', 1, '', ?, ?)`,
			site.ID, occupied[2].id, now, nilIfZero(clerk)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_lost_found (site_id, room_id, place, description, valuable, storage, finder_id, found_at) VALUES (?, ?, ?, '手机充电器（白色）', FALSE, '管家部办公室 A 柜', ?, ?)`,
			site.ID, occupied[3].id, occupied[3].number, nilIfZero(att), now); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO hk_lost_found (site_id, place, description, valuable, storage, finder_id, found_at) VALUES (?, '大堂吧', '黑色雨伞', FALSE, '管家部办公室 B 柜', ?, ?)`,
		site.ID, nilIfZero(clerk), now-int64(100*24*time.Hour/time.Millisecond)); err != nil {
		return err
	}
	for i := 1; i <= 16; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_keys (site_id, kind, code, label, created_at) VALUES (?, 'key', ?, ?, ?)`,
			site.ID, fmt.Sprint(i), fmt.Sprintf("%d 楼", (i+1)/2), now); err != nil {
			return err
		}
	}
	for i := 1; i <= 8; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_keys (site_id, kind, code, label, created_at) VALUES (?, 'pager', ?, '', ?)`, site.ID, fmt.Sprintf("P%d", i), now); err != nil {
			return err
		}
	}
	if att != 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_key_loans (site_id, key_id, staff_id, work_date, shift, issued_at, issued_by)
			SELECT site_id, id, ?, ?, 'day', ?, ? FROM hk_keys WHERE site_id = ? AND ((kind = 'key' AND code IN ('1', '2')) OR (kind = 'pager' AND code = 'P1'))`,
			att, today, now, nilIfZero(clerk), site.ID); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO hk_handover (site_id, shift, body, written_by, written_at) VALUES (?, 'night', ?, ?, ?)`,
		site.ID, "612 空调不制冷已报工程部，预计后天修好；815 更换地毯，暂停使用。\n大堂吧拾到黑色雨伞一把，已存 B 柜。", nilIfZero(clerk), now-int64(8*time.Hour/time.Millisecond)); err != nil {
		return err
	}
	for _, g := range [][2]string{{"会员 8812 王先生", "喜欢高楼层、无烟房，枕头要荞麦枕"}, {"会员 3305 陈女士", "对花粉过敏，房内不放鲜花"}} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_guest_notes (site_id, guest_ref, note, written_by, written_at) VALUES (?, ?, ?, ?, ?)`,
			site.ID, g[0], g[1], nilIfZero(clerk), now); err != nil {
			return err
		}
	}
	for _, item := range []string{"keys_collect", "read_handover", "reconcile_status"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_shift_checks (site_id, work_date, shift, item, done_by, done_at) VALUES (?, ?, 'early', ?, ?, ?)`,
			site.ID, today, item, nilIfZero(clerk), now); err != nil {
			return err
		}
	}
	return nil
}

func nilIfZero(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// demoMix sets a room's night and current state from its spread h.
func demoMix(r *demoRoom, h int, when func(float64) time.Time) {
	st := NewState()
	r.changedAt = when(0.02)
	switch {
	case r.number == "305" || r.number == "612":
		st.Block, st.BlockReason, st.BlockReturn = BlockOOO, map[string]string{"305": "卫生间漏水", "612": "空调不制冷"}[r.number], Dirty
		st.BlockFrom = when(0).Format(time.DateOnly)
		st.BlockUntil = when(0).Add(48 * time.Hour).Format(time.DateOnly)
	case r.number == "815":
		st.Block, st.BlockReason, st.BlockReturn, st.Cleaning = BlockOOS, "更换地毯", Inspected, Clean
	case h < 62:
		st.Occupancy = Occupied // after the nightly roll: occupied and dirty
	case h < 85:
		st.Cleaning = Inspected
	case h < 90:
		st.Cleaning = Clean
	}
	r.night = st
	if st.Block != BlockNone {
		r.final = st
		return
	}
	fin := st
	fin.Flags = append([]string(nil), st.Flags...)
	switch {
	case h < 4: // departed this morning
		r.night = r.night.with(FlagDueOut)
		fin.Occupancy, fin.Cleaning = Vacant, Dirty
		r.changedAt, r.change = when(0.55+float64(h)/20), "front_office"
	case h < 10:
		r.night = r.night.with(FlagDueOut)
		fin = fin.with(FlagDueOut)
	case h < 15:
		fin = fin.with(FlagDND)
		r.changedAt = when(0.45 + float64(h-10)/40)
	case h < 18:
		fin = fin.with(FlagMakeUp)
		r.changedAt = when(0.6)
	case h == 20 || h == 21:
		r.night = r.night.with(FlagLightLuggage)
		fin = fin.with(FlagLightLuggage)
	case h == 22:
		fin = fin.with(FlagSleepOut)
	case h >= 62 && h < 76:
		fin = fin.with(FlagArrival) // arrivals expected today, from the front office's morning feed
		r.changedAt, r.change = when(0.3), "front_office"
	}
	if h == 40 { // the front office thinks it is let; nobody has been in
		fin.HKOccupancy = Vacant
		r.changedAt = when(0.5)
	}
	if h == 88 { // a room shown vacant with luggage in it
		fin.HKOccupancy = Occupied
		r.changedAt = when(0.5)
	}
	r.final = fin
}

// demoPeople adds the hotel's room supervisor, today's roster and work.
func (s *Service) demoPeople(ctx context.Context, o *org.Service, sites *demo.Sites, site *HotelSite, today string) error {
	tx := db.TxFrom(ctx)
	dept := sites.Departments["hotel.housekeeping"]
	in := org.StaffInput{NodeID: site.ID, Username: DemoSupervisor, Name: "刘领班", Phone: "13900000099"}
	if dept != 0 {
		in.DepartmentID = &dept
	}
	sup, err := o.SystemCreateStaff(ctx, in, demo.Password, false)
	if err != nil {
		return fmt.Errorf("housekeeping: demo supervisor: %w", err)
	}
	if err := o.SystemGrant(ctx, sup.ID, auth.RoleSupervisor, site.ID); err != nil {
		return err
	}
	sites.Staff[DemoSupervisor] = sup.ID
	roster := []struct {
		user, shift, duty string
	}{{"attendant", "day", "attendant"}, {DemoSupervisor, "day", "supervisor"}, {"clerk", "early", "clerk"}}
	for _, r := range roster {
		id := sites.Staff[r.user]
		if id == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hk_roster (site_id, work_date, shift, staff_id, duty, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			site.ID, today, r.shift, id, r.duty, db.Ms(tx.Now)); err != nil {
			return err
		}
	}
	if _, err := s.Generate(ctx, WorkDayInput{SiteID: site.ID, Date: today}); err != nil {
		return err
	}
	att := sites.Staff["attendant"]
	if att == 0 {
		return nil
	}
	if _, err := s.AutoAssign(ctx, AutoAssignInput{SiteID: site.ID, Date: today}); err != nil {
		return err
	}
	items, err := s.workItems(ctx, site.ID, today, att, 0)
	if err != nil {
		return err
	}
	// The attendant has done the first rooms of the list; the supervisor
	// passed one of them.
	actx := audit.WithActor(ctx, audit.Actor{ID: att, Name: "孙服务员"})
	done := 0
	for _, w := range items {
		if done == 3 {
			break
		}
		if w.State != WorkOpen || strings.Contains(strings.Join(w.Flags, ","), FlagDND) {
			continue
		}
		if _, err := s.StartClean(actx, w.ID); err != nil {
			return err
		}
		if _, err := s.FinishClean(actx, w.ID, FinishCleanInput{Steps: allStepIDs(StandardChecklist)}); err != nil {
			return err
		}
		if done == 0 {
			sctx := audit.WithActor(ctx, audit.Actor{ID: sup.ID, Name: "刘领班"})
			if _, err := s.Inspect(sctx, w.RoomID, InspectionInput{Result: "pass", Score: 96}); err != nil {
				return err
			}
		}
		done++
	}
	return nil
}

func allStepIDs(steps []ChecklistStep) []string {
	out := make([]string, len(steps))
	for i, st := range steps {
		out[i] = st.ID
	}
	return out
}
