package housekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/timers"
)

// DND runs as a timed workflow. When a room shows DND, two durable timers
// are set: the next call time (12:00 and 14:00 by default, seed article 1)
// and 24 hours on. At a call time the clerk gets a call task; its outcome
// is "service later" (DND off, make-up on at the time the guest gave),
// "refused" (no more calls today) or "no answer" (a task for the duty
// manager and security to check in person). DND for 24 hours raises a
// welfare check. Lifting DND cancels the timers and the open calls. Every
// step is an event on the room's timeline.

// Timer kinds.
const (
	timerDNDCall    = "hk.dnd_call"
	timerDNDWelfare = "hk.dnd_welfare"
)

// Task kinds.
const (
	TaskDNDCall  = "dnd_call"      // the clerk phones the room
	TaskDNDCheck = "dnd_check"     // the duty manager and security check in person
	TaskWelfare  = "welfare_check" // DND for more than 24 hours
)

// Outcomes per task kind.
var taskOutcomes = map[string][]string{
	TaskDNDCall:  {"service_later", "refused", "no_answer"},
	TaskDNDCheck: {"guest_ok", "assisted", "no_one_inside"},
	TaskWelfare:  {"guest_ok", "assisted", "no_one_inside"},
}

// Outcomes lists the outcomes of a task kind.
func Outcomes(kind string) []string { return taskOutcomes[kind] }

type dndPayload struct {
	RoomID int64  `json:"room_id"`
	Since  int64  `json:"since"` // ms: the DND this timer belongs to
	Slot   string `json:"slot,omitempty"`
}

func roomSubject(id int64) string { return "room:" + strconv.FormatInt(id, 10) }

// nextSlot returns the first call time strictly after t, in the site's zone.
func nextSlot(slots []string, zone *time.Location, t time.Time) (time.Time, string) {
	local := t.In(zone)
	for day := 0; day < 2; day++ {
		y, m, d := local.AddDate(0, 0, day).Date()
		var best time.Time
		var bestSlot string
		for _, sl := range slots {
			h, err1 := strconv.Atoi(sl[:2])
			mi, err2 := strconv.Atoi(sl[3:])
			if len(sl) != 5 || err1 != nil || err2 != nil {
				continue
			}
			at := time.Date(y, m, d, h, mi, 0, 0, zone)
			if at.After(t) && (best.IsZero() || at.Before(best)) {
				best, bestSlot = at, sl
			}
		}
		if !best.IsZero() {
			return best.UTC(), bestSlot
		}
	}
	return time.Time{}, ""
}

// scheduleDND sets the call and welfare timers of a room that just showed DND.
func (s *Service) scheduleDND(ctx context.Context, r *Room, since time.Time) error {
	if s.timers == nil {
		return nil
	}
	st, err := s.Settings(ctx, r.SiteID)
	if err != nil {
		return err
	}
	site, err := s.loadSite(ctx, r.SiteID)
	if err != nil {
		return err
	}
	if at, slot := nextSlot(st.DNDCallTimes, site.Zone, since); !at.IsZero() {
		if _, err := s.timers.Schedule(ctx, timerDNDCall, roomSubject(r.ID), at, dndPayload{RoomID: r.ID, Since: db.Ms(since), Slot: slot}); err != nil {
			return err
		}
	}
	_, err = s.timers.Schedule(ctx, timerDNDWelfare, roomSubject(r.ID), since.Add(24*time.Hour), dndPayload{RoomID: r.ID, Since: db.Ms(since)})
	return err
}

// cancelDND cancels a room's DND timers and its open calls.
func (s *Service) cancelDND(ctx context.Context, r *Room) error {
	if s.timers != nil {
		if err := s.timers.CancelSubject(ctx, timerDNDCall, roomSubject(r.ID)); err != nil {
			return err
		}
		if err := s.timers.CancelSubject(ctx, timerDNDWelfare, roomSubject(r.ID)); err != nil {
			return err
		}
	}
	tx := db.TxFrom(ctx)
	res, err := tx.ExecContext(ctx, `UPDATE hk_tasks SET state = 'cancelled', outcome = 'dnd_lifted', closed_at = ? WHERE room_id = ? AND state = 'open' AND kind = ?`,
		db.Ms(tx.Now), r.ID, TaskDNDCall)
	if err != nil {
		return fmt.Errorf("housekeeping: cancel DND calls: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.publishTasks(ctx, r.SiteID)
	}
	return nil
}

// fireDNDCall runs at a call time: if the room still shows the same DND,
// the clerk gets a call task and the next call time is set.
func (s *Service) fireDNDCall(ctx context.Context, t timers.Timer) error {
	var p dndPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return fmt.Errorf("housekeeping: DND payload: %w", err)
	}
	r, err := s.loadRoom(ctx, p.RoomID, true)
	if errs.CodeOf(err) == errs.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.Has(FlagDND) || r.DNDSince == nil || db.Ms(*r.DNDSince) != p.Since {
		return nil // DND lifted, or a newer DND with its own timers
	}
	if _, err := s.addTask(ctx, r, TaskDNDCall, p.Slot, t.DueAt.Add(30*time.Minute)); err != nil {
		return err
	}
	st, err := s.Settings(ctx, r.SiteID)
	if err != nil {
		return err
	}
	site, err := s.loadSite(ctx, r.SiteID)
	if err != nil {
		return err
	}
	if at, slot := nextSlot(st.DNDCallTimes, site.Zone, t.DueAt); !at.IsZero() {
		p.Slot = slot
		if _, err := s.timers.Schedule(ctx, timerDNDCall, roomSubject(r.ID), at, p); err != nil {
			return err
		}
	}
	return nil
}

// fireDNDWelfare runs 24 hours after DND went on: still on, a welfare check.
func (s *Service) fireDNDWelfare(ctx context.Context, t timers.Timer) error {
	var p dndPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return fmt.Errorf("housekeeping: DND payload: %w", err)
	}
	r, err := s.loadRoom(ctx, p.RoomID, true)
	if errs.CodeOf(err) == errs.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if !r.Has(FlagDND) || r.DNDSince == nil || db.Ms(*r.DNDSince) != p.Since {
		return nil
	}
	_, err = s.addTask(ctx, r, TaskWelfare, "", t.DueAt.Add(30*time.Minute))
	return err
}

// addTask creates a task on a room, with its event, and tells open pages.
func (s *Service) addTask(ctx context.Context, r *Room, kind, slot string, due time.Time) (int64, error) {
	tx := db.TxFrom(ctx)
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO hk_tasks (site_id, room_id, kind, slot, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		r.SiteID, r.ID, kind, slot, db.Ms(due), db.Ms(tx.Now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("housekeeping: task: %w", err)
	}
	if err := s.addEvents(ctx, r, eventIn{Kind: "task_" + kind, Note: slot, RefID: id}); err != nil {
		return 0, err
	}
	if err := s.saveState(ctx, r); err != nil {
		return 0, err
	}
	s.publishTasks(ctx, r.SiteID)
	return id, nil
}

func (s *Service) publishTasks(ctx context.Context, siteID int64) {
	if s.live == nil {
		return
	}
	site, err := s.loadSite(ctx, siteID)
	if err != nil {
		return
	}
	s.live.PublishAfter(ctx, liveEvent(site.Path, "hk.task", map[string]any{"site_id": siteID}))
}

func liveEvent(path, typ string, v any) live.Event {
	data, _ := json.Marshal(v)
	return live.Event{Topic: live.NodeTopic(path), Type: typ, Data: data}
}

// DNDTask is a DND call or check.
type DNDTask struct {
	ID         int64      `json:"id"`
	SiteID     int64      `json:"site_id"`
	RoomID     int64      `json:"room_id"`
	RoomNumber string     `json:"room_number"`
	Kind       string     `json:"kind"`
	Slot       string     `json:"slot,omitempty"`
	DueAt      time.Time  `json:"due_at"`
	State      string     `json:"state"`
	Outcome    string     `json:"outcome,omitempty"`
	Note       string     `json:"note,omitempty"`
	ServiceAt  *time.Time `json:"service_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	ClosedBy   string     `json:"closed_by,omitempty"`
	Overdue    bool       `json:"overdue"`
	DNDSince   *time.Time `json:"dnd_since,omitempty"`
}

// DNDTaskList is a site's tasks.
type DNDTaskList struct {
	SiteID int64     `json:"site_id"`
	Items  []DNDTask `json:"items"`
}

const taskCols = `k.id, k.site_id, k.room_id, r.number, k.kind, k.slot, k.due_at, k.state, k.outcome, k.note, k.service_at, k.created_at, k.closed_at,
	COALESCE(st.name, ''), r.dnd_since`

func (s *Service) scanTask(row interface{ Scan(...any) error }, now time.Time) (*DNDTask, error) {
	var t DNDTask
	var due, created int64
	var service, closed, dnd *int64
	if err := row.Scan(&t.ID, &t.SiteID, &t.RoomID, &t.RoomNumber, &t.Kind, &t.Slot, &due, &t.State, &t.Outcome, &t.Note, &service, &created, &closed,
		&t.ClosedBy, &dnd); err != nil {
		return nil, err
	}
	t.DueAt, t.CreatedAt = db.Time(due), db.Time(created)
	ptr := func(p *int64) *time.Time {
		if p == nil {
			return nil
		}
		x := db.Time(*p)
		return &x
	}
	t.ServiceAt, t.ClosedAt, t.DNDSince = ptr(service), ptr(closed), ptr(dnd)
	t.Overdue = t.State == "open" && now.After(t.DueAt)
	return &t, nil
}

// Tasks lists a site's open tasks (state "open") or the day's closed ones
// (state "closed"), oldest due first. Site 0 is the caller's first site.
func (s *Service) Tasks(ctx context.Context, siteID int64, state string) (*DNDTaskList, error) {
	site, err := s.siteOrDefault(ctx, siteID, auth.PermHKView)
	if err != nil {
		return nil, err
	}
	out := &DNDTaskList{Items: []DNDTask{}}
	if site == nil {
		return out, nil
	}
	out.SiteID = site.ID
	now := s.now(ctx)
	q := `SELECT ` + taskCols + ` FROM hk_tasks k JOIN hk_rooms r ON r.id = k.room_id LEFT JOIN staff st ON st.id = k.closed_by WHERE k.site_id = ?`
	args := []any{site.ID}
	if state == "closed" {
		q += ` AND k.state <> 'open' AND k.closed_at >= ? ORDER BY k.closed_at DESC LIMIT 200`
		args = append(args, db.Ms(now.Add(-24*time.Hour)))
	} else {
		q += ` AND k.state = 'open' ORDER BY k.due_at, k.id LIMIT 500`
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: tasks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := s.scanTask(rows, now)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, *t)
	}
	return out, rows.Err()
}

// DNDOutcomeInput closes a task.
type DNDOutcomeInput struct {
	Outcome   string     `json:"outcome"`
	ServiceAt *time.Time `json:"service_at"` // service later: when
	Note      string     `json:"note"`
}

// TaskOutcome records what a call or check found. Needs hk.desk or
// hk.inspect on the room; EConflict for a task already closed.
func (s *Service) TaskOutcome(ctx context.Context, taskID int64, in DNDOutcomeInput) (*DNDTask, error) {
	var v errs.Validation
	v.MaxLen("outcome", in.Outcome, 30)
	v.MaxLen("note", in.Note, 500)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var siteID int64
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var roomID int64
		var kind, state string
		err := tx.QueryRowContext(ctx, `SELECT room_id, kind, state FROM hk_tasks WHERE id = ?`+s.db.ForUpdate(), taskID).Scan(&roomID, &kind, &state)
		if db.IsNoRows(err) {
			return errs.NotFound("error.hk.task_not_found")
		}
		if err != nil {
			return err
		}
		r, err := s.visibleRoom(ctx, roomID, true)
		if errs.CodeOf(err) == errs.ENotFound {
			return errs.NotFound("error.hk.task_not_found")
		}
		if err != nil {
			return err
		}
		siteID = r.SiteID
		if !can(ctx, auth.PermHKDesk, r.NodePath) && !can(ctx, auth.PermHKInspect, r.NodePath) {
			return errs.Forbidden()
		}
		v.OneOf("outcome", in.Outcome, Outcomes(kind)...)
		switch {
		case in.Outcome == "service_later" && in.ServiceAt == nil:
			v.Add("service_at", "error.field.required")
		case in.Outcome == "service_later" && (!in.ServiceAt.After(tx.Now) || in.ServiceAt.After(tx.Now.Add(24*time.Hour))):
			v.Add("service_at", "error.hk.service_time")
		case in.Outcome == "assisted" && strings.TrimSpace(in.Note) == "":
			v.Add("note", "error.field.required")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if state != "open" {
			return errs.New(errs.EConflict, "error.hk.task_closed")
		}
		var by, service any
		if p := auth.FromContext(ctx); p != nil {
			by = p.StaffID
		}
		if in.Outcome == "service_later" {
			service = db.Ms(*in.ServiceAt)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hk_tasks SET state = 'done', outcome = ?, note = ?, service_at = ?, closed_at = ?, closed_by = ? WHERE id = ?`,
			in.Outcome, strings.TrimSpace(in.Note), service, db.Ms(tx.Now), by, taskID); err != nil {
			return fmt.Errorf("housekeeping: close task: %w", err)
		}
		note := in.Outcome
		if n := strings.TrimSpace(in.Note); n != "" {
			note += ": " + n
		}
		if err := s.addEvents(ctx, r, eventIn{Kind: "outcome_" + kind, Note: note, RefID: taskID}); err != nil {
			return err
		}
		if err := s.saveState(ctx, r); err != nil {
			return err
		}
		s.publishTasks(ctx, r.SiteID)
		return s.outcomeEffects(ctx, r, in)
	})
	if err != nil {
		return nil, err
	}
	return s.task(ctx, siteID, taskID)
}

// outcomeEffects changes the room as the outcome says.
func (s *Service) outcomeEffects(ctx context.Context, r *Room, in DNDOutcomeInput) error {
	switch in.Outcome {
	case "service_later":
		if r.Has(FlagDND) {
			if err := s.apply(ctx, r, Change{Dimension: FlagDim(FlagDND), To: "off"}, "dnd_outcome", "", 0, false); err != nil {
				return err
			}
		}
		if !r.Has(FlagMakeUp) && r.Occupancy == Occupied {
			if err := s.apply(ctx, r, Change{Dimension: FlagDim(FlagMakeUp), To: "on"}, "dnd_outcome", "", 0, false); err != nil {
				return err
			}
		}
		t := in.ServiceAt.UTC()
		r.ServiceAt = &t
		return s.saveState(ctx, r)
	case "refused":
		if s.timers != nil {
			if err := s.timers.CancelSubject(ctx, timerDNDCall, roomSubject(r.ID)); err != nil {
				return err
			}
		}
		if !r.Has(FlagRefused) && r.Occupancy == Occupied {
			return s.apply(ctx, r, Change{Dimension: FlagDim(FlagRefused), To: "on"}, "dnd_outcome", "", 0, false)
		}
	case "no_answer":
		_, err := s.addTask(ctx, r, TaskDNDCheck, "", db.TxFrom(ctx).Now.Add(15*time.Minute))
		return err
	case "no_one_inside":
		if r.HKOccupancy != Vacant {
			return s.apply(ctx, r, Change{Dimension: DimHKOccupancy, To: Vacant}, "dnd_outcome", "", 0, false)
		}
	}
	return nil
}

func (s *Service) task(ctx context.Context, siteID, id int64) (*DNDTask, error) {
	t, err := s.scanTask(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+taskCols+` FROM hk_tasks k JOIN hk_rooms r ON r.id = k.room_id
		LEFT JOIN staff st ON st.id = k.closed_by WHERE k.id = ? AND k.site_id = ?`, id, siteID), s.now(ctx))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.hk.task_not_found")
	}
	return t, err
}
