package housekeeping

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// WorkItem is one room to clean on one day.
type WorkItem struct {
	ID            int64      `json:"id"`
	SiteID        int64      `json:"site_id"`
	RoomID        int64      `json:"room_id"`
	RoomNumber    string     `json:"room_number"`
	Floor         int        `json:"floor"`
	Date          string     `json:"date"`
	CleanType     string     `json:"clean_type"`
	Credits       int        `json:"credits"` // tenths
	Minutes       int        `json:"minutes"` // expected
	AttendantID   *int64     `json:"attendant_id"`
	AttendantName string     `json:"attendant_name,omitempty"`
	Seq           int        `json:"seq"`
	State         string     `json:"state"`
	SkipReason    string     `json:"skip_reason,omitempty"`
	Steps         []string   `json:"steps"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	// The room now.
	Code  string   `json:"code"`
	Flags []string `json:"flags"`
	Ready bool     `json:"ready"`
}

type workBrief struct {
	ID            int64
	CleanType     string
	State         string
	AttendantID   int64
	AttendantName string
}

// workByRoom returns the day's main work (not the turndown) per room.
func (s *Service) workByRoom(ctx context.Context, siteID int64, date string) (map[int64]workBrief, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT w.room_id, w.id, w.clean_type, w.state, w.attendant_id, COALESCE(st.name, '')
		FROM hk_work w LEFT JOIN staff st ON st.id = w.attendant_id
		WHERE w.site_id = ? AND w.work_date = ? AND w.clean_type <> 'turndown' ORDER BY w.id`, siteID, date)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: work of %s: %w", date, err)
	}
	defer rows.Close()
	out := map[int64]workBrief{}
	for rows.Next() {
		var room int64
		var w workBrief
		var att sql.NullInt64
		if err := rows.Scan(&room, &w.ID, &w.CleanType, &w.State, &att, &w.AttendantName); err != nil {
			return nil, err
		}
		w.AttendantID = att.Int64
		out[room] = w
	}
	return out, rows.Err()
}

// setWorkState moves the room's main work of today from one of the states
// in from to state to.
func (s *Service) setWorkState(ctx context.Context, r *Room, from []string, to, skipReason string) error {
	site, err := s.loadSite(ctx, r.SiteID)
	if err != nil {
		return err
	}
	tx := db.TxFrom(ctx)
	now := db.Ms(tx.Now)
	args := []any{to, skipReason, db.Ms(tx.Now)}
	set := `state = ?, skip_reason = ?, updated_at = ?`
	switch to {
	case WorkStarted:
		set += `, started_at = COALESCE(started_at, ?)`
		args = append(args, now)
	case WorkDone:
		set += `, finished_at = ?, started_at = COALESCE(started_at, ?)`
		args = append(args, now, now)
	case WorkOpen:
		set += `, started_at = NULL, finished_at = NULL`
	}
	args = append(args, r.ID, site.Today(tx.Now))
	for _, f := range from {
		args = append(args, f)
	}
	_, err = tx.ExecContext(ctx, `UPDATE hk_work SET `+set+` WHERE room_id = ? AND work_date = ? AND clean_type <> 'turndown' AND state IN (`+db.Placeholders(len(from))+`)`, args...)
	if err != nil {
		return fmt.Errorf("housekeeping: work state of room %d: %w", r.ID, err)
	}
	return nil
}

// departed turns the room's stay-over clean of today into a check-out
// clean, or adds a check-out clean when the day's work was generated
// without one.
func (s *Service) departed(ctx context.Context, r *Room) error {
	site, err := s.loadSite(ctx, r.SiteID)
	if err != nil {
		return err
	}
	t, err := s.roomType(ctx, r.TypeID)
	if err != nil {
		return err
	}
	tx := db.TxFrom(ctx)
	date := site.Today(tx.Now)
	var id int64
	var ctype, state string
	err = tx.QueryRowContext(ctx, `SELECT id, clean_type, state FROM hk_work WHERE room_id = ? AND work_date = ? AND clean_type IN ('checkout', 'stayover') ORDER BY id LIMIT 1`,
		r.ID, date).Scan(&id, &ctype, &state)
	switch {
	case db.IsNoRows(err):
		var generated int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM hk_work WHERE site_id = ? AND work_date = ?`, r.SiteID, date).Scan(&generated); err != nil {
			return err
		}
		if generated == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hk_work (site_id, room_id, work_date, clean_type, credits, minutes, seq, created_at, updated_at)
			VALUES (?, ?, ?, 'checkout', ?, ?, 0, ?, ?)`, r.SiteID, r.ID, date, t.Credits[CleanCheckout], t.Minutes[CleanCheckout], db.Ms(tx.Now), db.Ms(tx.Now))
		return err
	case err != nil:
		return err
	case ctype == CleanStayover && state != WorkDone:
		_, err = tx.ExecContext(ctx, `UPDATE hk_work SET clean_type = 'checkout', credits = ?, minutes = ?, state = 'open', skip_reason = '',
			started_at = NULL, updated_at = ? WHERE id = ?`, t.Credits[CleanCheckout], t.Minutes[CleanCheckout], db.Ms(tx.Now), id)
		return err
	case state == WorkDone:
		// Cleaned while the guest stayed; the departure needs a check-out clean.
		_, err = tx.ExecContext(ctx, `INSERT INTO hk_work (site_id, room_id, work_date, clean_type, credits, minutes, attendant_id, seq, created_at, updated_at)
			SELECT site_id, room_id, work_date, 'checkout', ?, ?, attendant_id, seq, ?, ? FROM hk_work WHERE id = ?
			ON CONFLICT (work_date, room_id, clean_type) DO NOTHING`, t.Credits[CleanCheckout], t.Minutes[CleanCheckout], db.Ms(tx.Now), db.Ms(tx.Now), id)
		return err
	}
	return nil
}

// cleanTypeFor is what a room needs today, "" for nothing: a departed or
// vacant dirty room a check-out clean, an occupied room a stay-over clean
// (a check-out clean when it is due out), nothing when it is blocked or
// ready.
func cleanTypeFor(st State) string {
	switch {
	case st.Block == BlockOOO:
		return ""
	case st.Occupancy == Occupied && st.Has(FlagDueOut):
		return CleanCheckout
	case st.Occupancy == Occupied:
		return CleanStayover
	case st.Cleaning == Dirty || st.Cleaning == Cleaning || st.Cleaning == Pickup:
		return CleanCheckout
	}
	return ""
}

// WorkDayInput names a site and a day.
type WorkDayInput struct {
	SiteID int64  `json:"site_id"`
	Date   string `json:"date"` // YYYY-MM-DD, the site's local day; "" for today
}

// WorkDay summarises a site's work on a day.
type WorkDay struct {
	SiteID     int64  `json:"site_id"`
	Date       string `json:"date"`
	Created    int    `json:"created"`
	Total      int    `json:"total"`
	Unassigned int    `json:"unassigned"`
	// Attendants lists each attendant's load.
	Attendants []AttendantLoad `json:"attendants"`
}

// AttendantLoad is one attendant's share of a day.
type AttendantLoad struct {
	StaffID int64  `json:"staff_id"`
	Name    string `json:"name"`
	Rooms   int    `json:"rooms"`
	Credits int    `json:"credits"` // tenths
	Minutes int    `json:"minutes"`
	Floors  []int  `json:"floors"`
}

func (s *Service) dayInput(ctx context.Context, in WorkDayInput, perm auth.Perm) (*HotelSite, string, error) {
	var v errs.Validation
	v.MaxLen("date", in.Date, 10)
	if in.Date != "" && !v.Has("date") {
		if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
			v.Add("date", "error.field.wrong_type")
		}
	}
	site, err := s.siteInput(ctx, in.SiteID, perm, "site_id")
	if err != nil {
		if e := v.Err(); e != nil && errs.CodeOf(err) == errs.EInvalid {
			return nil, "", e
		}
		return nil, "", err
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	date := in.Date
	if date == "" {
		date = site.Today(s.now(ctx))
	}
	return site, date, nil
}

// Generate creates the day's work from the rooms' states: a check-out or
// stay-over clean for each room that needs one. Running it again adds only
// what is missing. Needs hk.inspect on the site.
func (s *Service) Generate(ctx context.Context, in WorkDayInput) (*WorkDay, error) {
	site, date, err := s.dayInput(ctx, in, auth.PermHKInspect)
	if err != nil {
		return nil, err
	}
	created := 0
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		rooms, err := s.currentRooms(ctx, site.ID)
		if err != nil {
			return err
		}
		types := map[int64]*RoomType{}
		for _, r := range rooms {
			ct := cleanTypeFor(r.State)
			if ct == "" {
				continue
			}
			t, ok := types[r.TypeID]
			if !ok {
				if t, err = s.roomType(ctx, r.TypeID); err != nil {
					return err
				}
				types[r.TypeID] = t
			}
			state, reason := WorkOpen, ""
			switch {
			case r.Has(FlagDND):
				state, reason = WorkSkipped, "dnd"
			case r.Has(FlagRefused):
				state, reason = WorkSkipped, "refused"
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO hk_work (site_id, room_id, work_date, clean_type, credits, minutes, state, skip_reason, created_at, updated_at)
				SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM hk_work WHERE room_id = ? AND work_date = ? AND clean_type IN ('checkout', 'stayover'))`,
				site.ID, r.ID, date, ct, t.Credits[ct], t.Minutes[ct], state, reason, db.Ms(tx.Now), db.Ms(tx.Now), r.ID, date)
			if err != nil {
				return fmt.Errorf("housekeeping: generate: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				created++
			}
		}
		return s.record(ctx, "generate", "hk_work", date, site.Path, map[string]any{"site_id": site.ID, "date": date, "created": created})
	})
	if err != nil {
		return nil, err
	}
	d, err := s.workDay(ctx, site, date)
	if err != nil {
		return nil, err
	}
	d.Created = created
	s.publishWork(ctx, site)
	return d, nil
}

// workDay summarises the day.
func (s *Service) workDay(ctx context.Context, site *HotelSite, date string) (*WorkDay, error) {
	items, err := s.workItems(ctx, site.ID, date, 0, 0)
	if err != nil {
		return nil, err
	}
	d := &WorkDay{SiteID: site.ID, Date: date, Total: len(items), Attendants: []AttendantLoad{}}
	loads := map[int64]*AttendantLoad{}
	var order []int64
	for _, w := range items {
		if w.AttendantID == nil {
			d.Unassigned++
			continue
		}
		l, ok := loads[*w.AttendantID]
		if !ok {
			l = &AttendantLoad{StaffID: *w.AttendantID, Name: w.AttendantName, Floors: []int{}}
			loads[*w.AttendantID] = l
			order = append(order, *w.AttendantID)
		}
		l.Rooms++
		l.Credits += w.Credits
		l.Minutes += w.Minutes
		if !slices.Contains(l.Floors, w.Floor) {
			l.Floors = append(l.Floors, w.Floor)
		}
	}
	for _, id := range order {
		sort.Ints(loads[id].Floors)
		d.Attendants = append(d.Attendants, *loads[id])
	}
	return d, nil
}

const workCols = `w.id, w.site_id, w.room_id, r.number, r.floor, w.work_date, w.clean_type, w.credits, w.minutes, w.attendant_id, COALESCE(st.name, ''),
	w.seq, w.state, w.skip_reason, w.steps, w.started_at, w.finished_at, r.cleaning, r.occupancy, r.hk_occupancy, r.block, r.flags`

const workFrom = ` FROM hk_work w JOIN hk_rooms r ON r.id = w.room_id LEFT JOIN staff st ON st.id = w.attendant_id`

func scanWork(row interface{ Scan(...any) error }, inspection bool) (*WorkItem, error) {
	var w WorkItem
	var att, started, finished sql.NullInt64
	var steps, flags string
	var st State
	if err := row.Scan(&w.ID, &w.SiteID, &w.RoomID, &w.RoomNumber, &w.Floor, &w.Date, &w.CleanType, &w.Credits, &w.Minutes, &att, &w.AttendantName,
		&w.Seq, &w.State, &w.SkipReason, &steps, &started, &finished, &st.Cleaning, &st.Occupancy, &st.HKOccupancy, &st.Block, &flags); err != nil {
		return nil, err
	}
	if att.Valid {
		w.AttendantID = &att.Int64
	}
	w.Steps = []string{}
	if steps != "" {
		_ = json.Unmarshal([]byte(steps), &w.Steps)
	}
	w.StartedAt, w.FinishedAt = db.TimePtr(started), db.TimePtr(finished)
	st.Flags = ParseFlags(flags)
	d := Derive(st, inspection)
	w.Code, w.Flags, w.Ready = d.Code, st.Flags, d.Ready
	return &w, nil
}

// workItems lists a day's work: all of it, one attendant's (attendant > 0)
// or the unassigned (attendant < 0); room > 0 narrows to one room.
func (s *Service) workItems(ctx context.Context, siteID int64, date string, attendant, room int64) ([]WorkItem, error) {
	st, err := s.Settings(ctx, siteID)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + workCols + workFrom + ` WHERE w.site_id = ? AND w.work_date = ?`
	args := []any{siteID, date}
	switch {
	case attendant > 0:
		q += ` AND w.attendant_id = ?`
		args = append(args, attendant)
	case attendant < 0:
		q += ` AND w.attendant_id IS NULL`
	}
	if room > 0 {
		q += ` AND w.room_id = ?`
		args = append(args, room)
	}
	q += ` ORDER BY CASE WHEN w.attendant_id IS NULL THEN 1 ELSE 0 END, st.name, w.attendant_id, w.seq, r.floor, r.number, w.id`
	rows, err := s.db.Q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: work items: %w", err)
	}
	defer rows.Close()
	out := []WorkItem{}
	for rows.Next() {
		w, err := scanWork(rows, st.InspectionRequired)
		if err != nil {
			return nil, err
		}
		out = append(out, *w)
	}
	return out, rows.Err()
}

// WorkList is a day's work.
type WorkList struct {
	SiteID int64      `json:"site_id"`
	Date   string     `json:"date"`
	Items  []WorkItem `json:"items"`
}

// Work lists a site's work on a day (today when date is ""), all of it or
// one attendant's. Site 0 is the caller's first site.
func (s *Service) Work(ctx context.Context, siteID int64, date string, attendant int64) (*WorkList, error) {
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, errs.Invalid("date", "error.field.wrong_type")
		}
	}
	site, err := s.siteOrDefault(ctx, siteID, auth.PermHKView)
	if err != nil {
		return nil, err
	}
	out := &WorkList{Items: []WorkItem{}, Date: date}
	if site == nil {
		return out, nil
	}
	out.SiteID = site.ID
	if out.Date == "" {
		out.Date = site.Today(s.now(ctx))
	}
	out.Items, err = s.workItems(ctx, site.ID, out.Date, attendant, 0)
	return out, err
}

// MyWork is the caller's own rooms for today, across their sites, in
// their order.
func (s *Service) MyWork(ctx context.Context) ([]WorkItem, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, errs.Forbidden()
	}
	sites, err := s.Sites(ctx, auth.PermHKClean)
	if err != nil {
		return nil, err
	}
	out := []WorkItem{}
	for _, st := range sites {
		site, err := s.loadSite(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		items, err := s.workItems(ctx, site.ID, site.Today(s.now(ctx)), p.StaffID, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// loadWork reads one work item (locked when lock) that the caller may see.
func (s *Service) loadWork(ctx context.Context, id int64, lock bool) (*WorkItem, *Room, error) {
	var siteID int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT site_id FROM hk_work WHERE id = ?`, id).Scan(&siteID)
	if db.IsNoRows(err) {
		return nil, nil, errs.NotFound("error.hk.work_not_found")
	}
	if err != nil {
		return nil, nil, err
	}
	st, err := s.Settings(ctx, siteID)
	if err != nil {
		return nil, nil, err
	}
	q := `SELECT ` + workCols + workFrom + ` WHERE w.id = ?`
	if lock && s.db.Dialect == db.Postgres {
		q += ` FOR UPDATE OF w`
	}
	w, err := scanWork(s.db.Q(ctx).QueryRowContext(ctx, q, id), st.InspectionRequired)
	if err != nil {
		return nil, nil, fmt.Errorf("housekeeping: work %d: %w", id, err)
	}
	r, err := s.visibleRoom(ctx, w.RoomID, lock)
	if errs.CodeOf(err) == errs.ENotFound {
		return nil, nil, errs.NotFound("error.hk.work_not_found")
	}
	if err != nil {
		return nil, nil, err
	}
	return w, r, nil
}

// WorkItem returns one work item the caller may see.
func (s *Service) WorkItem(ctx context.Context, id int64) (*WorkItem, error) {
	w, _, err := s.loadWork(ctx, id, false)
	return w, err
}

// ---- assignment ----

// AutoAssignInput asks for the day's work to be shared out.
type AutoAssignInput struct {
	SiteID int64  `json:"site_id"`
	Date   string `json:"date"`
	// AttendantIDs are who to share among; none: the day shift's roster,
	// or every attendant of the site when nobody is rostered.
	AttendantIDs []int64 `json:"attendant_ids"`
	// MaxRooms caps each attendant; 0: the site's setting.
	MaxRooms int `json:"max_rooms"`
}

// Attendant is a staff member who cleans rooms.
type Attendant struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Attendants lists who may be given rooms at a site on a day: those on the
// day shift's roster, or, with nobody rostered, every active staff member
// holding the attendant role on the site or inside it.
func (s *Service) Attendants(ctx context.Context, site *HotelSite, date string) ([]Attendant, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT st.id, st.name FROM hk_roster ro JOIN staff st ON st.id = ro.staff_id
		WHERE ro.site_id = ? AND ro.work_date = ? AND ro.shift = 'day' AND ro.duty = 'attendant' AND st.status = 'active' ORDER BY st.name, st.id`, site.ID, date)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: roster: %w", err)
	}
	out, err := scanAttendants(rows)
	if err != nil || len(out) > 0 {
		return out, err
	}
	return s.siteAttendants(ctx, site)
}

// siteAttendants lists the site's active attendants.
func (s *Service) siteAttendants(ctx context.Context, site *HotelSite) ([]Attendant, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT DISTINCT st.id, st.name FROM staff st
		JOIN role_grants g ON g.staff_id = st.id JOIN roles ro ON ro.id = g.role_id JOIN org_nodes n ON n.id = g.node_id
		WHERE ro.key = 'attendant' AND st.status = 'active' AND (n.path LIKE ? OR ? LIKE n.path || '%') ORDER BY st.name, st.id`, site.Path+"%", site.Path)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: attendants: %w", err)
	}
	return scanAttendants(rows)
}

func scanAttendants(rows *sql.Rows) ([]Attendant, error) {
	defer rows.Close()
	out := []Attendant{}
	for rows.Next() {
		var a Attendant
		if err := rows.Scan(&a.ID, &a.Name); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AutoAssign shares the day's open work among attendants by credits (see
// Plan): a cap of rooms each, consecutive rooms so each stays on few
// adjacent floors, rooms with an arrival first in each list. Work already
// started or done keeps its attendant. Needs hk.inspect on the site.
func (s *Service) AutoAssign(ctx context.Context, in AutoAssignInput) (*WorkDay, error) {
	site, date, err := s.dayInput(ctx, WorkDayInput{SiteID: in.SiteID, Date: in.Date}, auth.PermHKInspect)
	if err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	if in.MaxRooms < 0 || in.MaxRooms > 40 {
		return nil, errs.Invalid("max_rooms", "error.hk.out_of_range")
	}
	maxRooms := st.RoomsMax
	if in.MaxRooms > 0 {
		maxRooms = in.MaxRooms
	}
	if len(in.AttendantIDs) > 500 {
		return nil, errs.Invalid("attendant_ids", "error.field.too_long")
	}
	pool, err := s.siteAttendants(ctx, site)
	if err != nil {
		return nil, err
	}
	var people []Attendant
	if len(in.AttendantIDs) > 0 {
		for _, id := range in.AttendantIDs {
			i := slices.IndexFunc(pool, func(a Attendant) bool { return a.ID == id })
			if i < 0 {
				return nil, errs.Invalid("attendant_ids", "error.field.unknown_id")
			}
			if !slices.ContainsFunc(people, func(a Attendant) bool { return a.ID == id }) {
				people = append(people, pool[i])
			}
		}
	} else if people, err = s.Attendants(ctx, site, date); err != nil {
		return nil, err
	}
	if len(people) == 0 {
		return nil, errs.Invalid("attendant_ids", "error.hk.no_attendants")
	}
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		items, err := s.workItems(ctx, site.ID, date, 0, 0)
		if err != nil {
			return err
		}
		var open []WorkItem
		for _, w := range items {
			if w.State == WorkOpen || w.State == WorkSkipped {
				open = append(open, w)
			}
		}
		sort.SliceStable(open, func(i, j int) bool {
			if open[i].Floor != open[j].Floor {
				return open[i].Floor < open[j].Floor
			}
			return open[i].RoomNumber < open[j].RoomNumber
		})
		plan := make([]PlanRoom, len(open))
		for i, w := range open {
			plan[i] = PlanRoom{Floor: w.Floor, Credits: w.Credits}
		}
		who := Plan(plan, len(people), st.RoomsMin, maxRooms)
		// Each attendant's list: arrivals first, then walking order.
		seq := map[int]int{}
		order := make([]int, len(open))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			return slices.Contains(open[order[a]].Flags, FlagArrival) && !slices.Contains(open[order[b]].Flags, FlagArrival)
		})
		rows := make([][3]any, 0, len(order))
		for _, i := range order {
			var att any
			n := 0
			if who[i] >= 0 {
				att = people[who[i]].ID
				seq[who[i]]++
				n = seq[who[i]]
			}
			rows = append(rows, [3]any{open[i].ID, att, n})
		}
		if err := s.writeAssignments(ctx, rows); err != nil {
			return err
		}
		if len(in.AttendantIDs) > 0 {
			// The attendants chosen are the day shift's roster.
			if _, err := tx.ExecContext(ctx, `DELETE FROM hk_roster WHERE site_id = ? AND work_date = ? AND shift = 'day' AND duty = 'attendant'`, site.ID, date); err != nil {
				return err
			}
			for _, a := range people {
				if _, err := tx.ExecContext(ctx, `INSERT INTO hk_roster (site_id, work_date, shift, staff_id, duty, created_at) VALUES (?, ?, 'day', ?, 'attendant', ?)
					ON CONFLICT (site_id, work_date, shift, staff_id) DO NOTHING`, site.ID, date, a.ID, db.Ms(tx.Now)); err != nil {
					return err
				}
			}
		}
		return s.record(ctx, "assign", "hk_work", date, site.Path, map[string]any{"site_id": site.ID, "date": date, "attendants": len(people), "rooms": len(open)})
	})
	if err != nil {
		return nil, err
	}
	s.publishWork(ctx, site)
	return s.workDay(ctx, site, date)
}

// writeAssignments sets (id, attendant, seq) on work items, a few hundred
// rows a statement.
func (s *Service) writeAssignments(ctx context.Context, rows [][3]any) error {
	tx := db.TxFrom(ctx)
	for len(rows) > 0 {
		n := min(len(rows), 400)
		batch := rows[:n]
		rows = rows[n:]
		vals := make([]string, n)
		args := make([]any, 0, 3*n+1)
		args = append(args, db.Ms(tx.Now))
		for i, r := range batch {
			vals[i] = "(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER))"
			args = append(args, r[0], r[1], r[2])
		}
		_, err := tx.ExecContext(ctx, `UPDATE hk_work SET attendant_id = v.column2, seq = v.column3, updated_at = ?
			FROM (VALUES `+strings.Join(vals, ", ")+`) AS v WHERE hk_work.id = v.column1`, args...)
		if err != nil {
			return fmt.Errorf("housekeeping: assign: %w", err)
		}
	}
	return nil
}

// WorkMoveInput gives a work item to an attendant (0: nobody) at a position in
// their list (1 is first; 0 or past the end: last).
type WorkMoveInput struct {
	AttendantID *int64 `json:"attendant_id"`
	Position    int    `json:"position"`
}

// Move is the supervisor's adjustment: a room to another attendant, or
// elsewhere in a list. Needs hk.inspect on the room.
func (s *Service) Move(ctx context.Context, workID int64, in WorkMoveInput) (*WorkItem, error) {
	if in.AttendantID == nil {
		return nil, errs.Invalid("attendant_id", "error.field.required")
	}
	if in.Position < 0 || in.Position > 1000 {
		return nil, errs.Invalid("position", "error.hk.out_of_range")
	}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		w, r, err := s.loadWork(ctx, workID, true)
		if err != nil {
			return err
		}
		if !can(ctx, auth.PermHKInspect, r.NodePath) {
			return errs.Forbidden()
		}
		site, err := s.loadSite(ctx, w.SiteID)
		if err != nil {
			return err
		}
		var to *int64
		if id := *in.AttendantID; id != 0 {
			pool, err := s.siteAttendants(ctx, site)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(pool, func(a Attendant) bool { return a.ID == id }) {
				return errs.Invalid("attendant_id", "error.field.unknown_id")
			}
			to = &id
		}
		if err := s.placeInList(ctx, w, to, in.Position); err != nil {
			return err
		}
		return s.record(ctx, "move", "hk_work", w.ID, r.NodePath, in)
	})
	if err != nil {
		return nil, err
	}
	w, err := s.WorkItem(ctx, workID)
	if err == nil {
		if site, err := s.loadSite(ctx, w.SiteID); err == nil {
			s.publishWork(ctx, site)
		}
	}
	return w, err
}

// placeInList renumbers an attendant's list with w at position.
func (s *Service) placeInList(ctx context.Context, w *WorkItem, to *int64, position int) error {
	tx := db.TxFrom(ctx)
	var list []WorkItem
	var err error
	if to != nil {
		list, err = s.workItems(ctx, w.SiteID, w.Date, *to, 0)
		if err != nil {
			return err
		}
	}
	ids := []int64{}
	for _, x := range list {
		if x.ID != w.ID {
			ids = append(ids, x.ID)
		}
	}
	if position <= 0 || position > len(ids)+1 {
		position = len(ids) + 1
	}
	ids = slices.Insert(ids, position-1, w.ID)
	var att any
	if to != nil {
		att = *to
	}
	if _, err := tx.ExecContext(ctx, `UPDATE hk_work SET attendant_id = ?, seq = 0, updated_at = ? WHERE id = ?`, att, db.Ms(tx.Now), w.ID); err != nil {
		return err
	}
	if to == nil {
		return nil
	}
	for i, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE hk_work SET seq = ? WHERE id = ?`, i+1, id); err != nil {
			return err
		}
	}
	return nil
}

// Reorder moves one of the caller's own rooms up (-1) or down (+1) in
// their list for the day.
func (s *Service) Reorder(ctx context.Context, workID int64, delta int) (*WorkItem, error) {
	if delta != -1 && delta != 1 {
		return nil, errs.Invalid("direction", "error.field.invalid_choice")
	}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		w, _, err := s.loadWork(ctx, workID, true)
		if err != nil {
			return err
		}
		p := auth.FromContext(ctx)
		if p == nil || w.AttendantID == nil || *w.AttendantID != p.StaffID {
			return errs.New(errs.EConflict, "error.hk.not_your_room")
		}
		list, err := s.workItems(ctx, w.SiteID, w.Date, p.StaffID, 0)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(list, func(x WorkItem) bool { return x.ID == w.ID })
		if j := i + delta; i >= 0 && j >= 0 && j < len(list) {
			return s.placeInList(ctx, w, w.AttendantID, j+1)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.WorkItem(ctx, workID)
}

// can reports whether the caller (or the system) holds perm at path.
func can(ctx context.Context, perm auth.Perm, path string) bool {
	p := auth.FromContext(ctx)
	return p == nil || p.Can(perm, path)
}

// publishWork tells the site's open pages that assignments changed.
func (s *Service) publishWork(ctx context.Context, site *HotelSite) {
	if s.live == nil {
		return
	}
	s.live.PublishAfter(ctx, liveEvent(site.Path, "hk.work", map[string]any{"site_id": site.ID}))
}
