package households

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// EventKinds lists the life events a butler prepares for.
var EventKinds = []string{"wedding", "birth", "move_in", "move_out", "renovation", "long_trip"}

// step is one task a life event brings: due Due days after the event's
// start (or end), shown Lead days before it is due.
type step struct {
	Key      string
	FromEnd  bool
	Due      int
	Lead     int
	EveryDay int // repeat every n days while the event lasts (long trips)
}

// eventSteps are the tasks of each life event. A wedding: parking for the
// guests two days before, visitor guidance the day before, flowers on the
// day, public areas checked the day after.
var eventSteps = map[string][]step{
	"wedding":    {{Key: "parking", Due: -2, Lead: 3}, {Key: "guidance", Due: -1, Lead: 2}, {Key: "flowers", Due: 0, Lead: 1}, {Key: "cleanup", Due: 1}},
	"birth":      {{Key: "congratulate", Due: 3, Lead: 3}, {Key: "visit", Due: 30, Lead: 3}},
	"move_in":    {{Key: "handover", Due: -1, Lead: 3}, {Key: "welcome", Due: 0}, {Key: "followup", Due: 7, Lead: 1}},
	"move_out":   {{Key: "fees", Due: -3, Lead: 3}, {Key: "inspection", Due: 0, Lead: 1}, {Key: "cards", Due: 0}},
	"renovation": {{Key: "permit", Due: -1, Lead: 3}, {Key: "inspect", Due: 3, Lead: 1}, {Key: "acceptance", FromEnd: true, Due: 0, Lead: 1}},
	"long_trip":  {{Key: "keys", Due: -1, Lead: 3}, {Key: "check", Due: 14, Lead: 1, EveryDay: 14}, {Key: "return", FromEnd: true, Due: -1, Lead: 2}},
}

// spanKinds need an end day.
var spanKinds = []string{"renovation", "long_trip"}

// EventInput records a life event.
type EventInput struct {
	Kind     string `json:"kind"`
	StartsOn string `json:"starts_on"` // YYYY-MM-DD
	EndsOn   string `json:"ends_on"`   // for renovations and long trips
	Notes    string `json:"notes"`
}

// dayBounds returns the first and the last instant of a local date.
func dayBounds(day time.Time, loc *time.Location) (start, end time.Time) {
	start = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 0, 1).Add(-time.Millisecond)
}

// AddEvent records a life event and creates its tasks, each due on its
// day. It needs household.manage.
func (s *Service) AddEvent(ctx context.Context, householdID int64, in EventInput) (*LifeEvent, error) {
	h, err := s.visibleHousehold(ctx, householdID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.StartsOn, in.EndsOn, in.Notes = strings.TrimSpace(in.StartsOn), strings.TrimSpace(in.EndsOn), strings.TrimSpace(in.Notes)
	v.OneOf("kind", in.Kind, EventKinds...)
	start, ok := parseDay(in.StartsOn)
	v.Check(ok && len(in.StartsOn) == 10, "starts_on", "error.hh.bad_date")
	today := s.today(ctx, h.NodePath)
	v.Check(!ok || (start.After(today.AddDate(-1, 0, 0)) && start.Before(today.AddDate(3, 0, 0))), "starts_on", "error.field.bad_range")
	end := start
	if in.EndsOn != "" || slices.Contains(spanKinds, in.Kind) {
		e, ok2 := parseDay(in.EndsOn)
		switch {
		case !ok2 || len(in.EndsOn) != 10:
			v.Add("ends_on", "error.hh.bad_date")
		case ok && (e.Before(start) || e.After(start.AddDate(1, 0, 0))):
			v.Add("ends_on", "error.field.bad_range")
		default:
			end = e
		}
	}
	v.MaxLen("notes", in.Notes, maxNoteLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, h.NodePath); err != nil {
		return nil, err
	}
	if h.Status != "current" {
		return nil, errs.New(errs.EConflict, "error.household.former")
	}
	loc := s.location(ctx, h.NodePath)
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO household_events (household_id, kind, starts_on, ends_on, notes, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, h.ID, in.Kind, in.StartsOn, in.EndsOn, in.Notes, principal(ctx).StaffID, db.Ms(tx.Now)).Scan(&id); err != nil {
			return fmt.Errorf("households: insert event: %w", err)
		}
		for _, st := range eventSteps[in.Kind] {
			base := start
			if st.FromEnd {
				base = end
			}
			for due := base.AddDate(0, 0, st.Due); ; due = due.AddDate(0, 0, st.EveryDay) {
				if st.EveryDay > 0 && due.After(end.AddDate(0, 0, -1)) {
					break
				}
				show, _ := dayBounds(due.AddDate(0, 0, -st.Lead), loc)
				_, dueAt := dayBounds(due, loc)
				if err := s.insertTask(ctx, tx, h, nil, &id, "event", in.Kind+"."+st.Key, show, dueAt); err != nil {
					return err
				}
				if st.EveryDay == 0 {
					break
				}
			}
		}
		return s.record(ctx, "create", "event", id, h.NodePath, in.Kind, map[string]any{"household_id": h.ID, "kind": in.Kind, "starts_on": in.StartsOn, "ends_on": in.EndsOn})
	})
	if err != nil {
		return nil, err
	}
	return s.event(ctx, id)
}

// insertTask adds one care task owned by the household's butler.
func (s *Service) insertTask(ctx context.Context, tx *db.Tx, h *Household, personID, eventID *int64, kind, subject string, show, due time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO care_tasks (household_id, person_id, event_id, butler_id, node_path, kind, subject, show_from, due_at, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)`, h.ID, nullID(personID), nullID(eventID), nullID(h.ButlerID), h.NodePath, kind, subject,
		db.Ms(show), db.Ms(due), db.Ms(tx.Now))
	if err != nil {
		return fmt.Errorf("households: insert task: %w", err)
	}
	return nil
}

// ArrivalPreparations are what a butler can do before an owner comes back.
var ArrivalPreparations = []string{"airing", "cleaning", "ac_on", "water_on"}

// arrivalLead is how long before the arrival each preparation is due, and
// how long before that it shows.
var arrivalLead = map[string][2]time.Duration{
	"airing":   {24 * time.Hour, 24 * time.Hour},
	"cleaning": {24 * time.Hour, 24 * time.Hour},
	"ac_on":    {2 * time.Hour, 12 * time.Hour},
	"water_on": {3 * time.Hour, 12 * time.Hour},
}

// ArrivalInput is an owner's "I'm coming back".
type ArrivalInput struct {
	ArriveAt *time.Time `json:"arrive_at"`
	Prepare  []string   `json:"prepare"` // airing, cleaning, ac_on, water_on
	Notes    string     `json:"notes"`
}

// AddArrival records an owner's return and the preparations due before
// it. Entering the flat needs a key in custody. It needs care.work;
// EConflict "error.key.none_held" without a kept key.
func (s *Service) AddArrival(ctx context.Context, householdID int64, in ArrivalInput) (*LifeEvent, error) {
	h, err := s.visibleHousehold(ctx, householdID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Notes = strings.TrimSpace(in.Notes)
	now := db.Now(ctx)
	switch {
	case in.ArriveAt == nil:
		v.Add("arrive_at", "error.field.required")
	case !in.ArriveAt.After(now.Add(time.Hour)) || in.ArriveAt.After(now.AddDate(1, 0, 0)):
		v.Add("arrive_at", "error.field.bad_range")
	}
	v.Check(len(in.Prepare) > 0 && len(in.Prepare) <= len(ArrivalPreparations), "prepare", "error.field.required")
	for _, p := range in.Prepare {
		v.Check(slices.Contains(ArrivalPreparations, p), "prepare", "error.field.invalid_choice")
	}
	v.MaxLen("notes", in.Notes, maxNoteLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermCare, h.NodePath); err != nil {
		return nil, err
	}
	if h.Status != "current" {
		return nil, errs.New(errs.EConflict, "error.household.former")
	}
	arrive := in.ArriveAt.UTC().Truncate(time.Millisecond)
	loc := s.location(ctx, h.NodePath)
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM household_keys WHERE household_id = ? AND status = 'held'`, h.ID).Scan(&held); err != nil {
			return err
		}
		if held == 0 {
			return errs.New(errs.EConflict, "error.key.none_held")
		}
		day := arrive.In(loc).Format("2006-01-02")
		if err := tx.QueryRowContext(ctx, `INSERT INTO household_events (household_id, kind, starts_on, at, notes, created_by, created_at)
			VALUES (?, 'return_home', ?, ?, ?, ?, ?) RETURNING id`, h.ID, day, db.Ms(arrive), in.Notes, principal(ctx).StaffID, db.Ms(tx.Now)).Scan(&id); err != nil {
			return fmt.Errorf("households: insert arrival: %w", err)
		}
		seen := map[string]bool{}
		for _, p := range in.Prepare {
			if seen[p] {
				continue
			}
			seen[p] = true
			lead := arrivalLead[p]
			due := arrive.Add(-lead[0])
			show := due.Add(-lead[1])
			if due.Before(now) {
				due = now.Add(30 * time.Minute)
			}
			if show.After(due) || show.Before(now) {
				show = now
			}
			if err := s.insertTask(ctx, tx, h, nil, &id, "arrival", p, show, due); err != nil {
				return err
			}
		}
		return s.record(ctx, "create", "event", id, h.NodePath, "return_home", map[string]any{"household_id": h.ID, "arrive_at": arrive, "prepare": in.Prepare})
	})
	if err != nil {
		return nil, err
	}
	return s.event(ctx, id)
}

// CancelEvent cancels a life event and its open tasks. It needs
// household.manage; EConflict when cancelled already.
func (s *Service) CancelEvent(ctx context.Context, id int64) (*LifeEvent, error) {
	e, err := s.event(ctx, id)
	if err != nil {
		return nil, err
	}
	h, err := s.visibleHousehold(ctx, e.HouseholdID)
	if err != nil {
		return nil, errs.NotFound("error.event.not_found")
	}
	if err := need(ctx, PermManage, h.NodePath); err != nil {
		return nil, err
	}
	if e.Status == "cancelled" {
		return nil, errs.New(errs.EConflict, "error.event.cancelled")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE household_events SET status = 'cancelled' WHERE id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE care_tasks SET status = 'cancelled' WHERE event_id = ? AND status = 'open'`, id); err != nil {
			return err
		}
		return s.record(ctx, "cancel", "event", id, h.NodePath, e.Kind, nil)
	})
	if err != nil {
		return nil, err
	}
	return s.event(ctx, id)
}

const eventCols = `id, household_id, kind, starts_on, ends_on, at, notes, status, created_at`

func scanEvent(row interface{ Scan(...any) error }) (*LifeEvent, error) {
	var e LifeEvent
	var at sql.NullInt64
	var created int64
	if err := row.Scan(&e.ID, &e.HouseholdID, &e.Kind, &e.StartsOn, &e.EndsOn, &at, &e.Notes, &e.Status, &created); err != nil {
		return nil, err
	}
	e.At, e.CreatedAt = db.TimePtr(at), db.Time(created)
	return &e, nil
}

func (s *Service) event(ctx context.Context, id int64) (*LifeEvent, error) {
	var path string
	e, err := scanEvent(s.db.Q(ctx).QueryRowContext(ctx, `SELECT e.id, e.household_id, e.kind, e.starts_on, e.ends_on, e.at, e.notes, e.status, e.created_at
		FROM household_events e WHERE e.id = ?`, id))
	if err == nil {
		err = s.db.Q(ctx).QueryRowContext(ctx, `SELECT node_path FROM households WHERE id = ?`, e.HouseholdID).Scan(&path)
	}
	if db.IsNoRows(err) || (err == nil && !canSee(ctx, path)) {
		return nil, errs.NotFound("error.event.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("households: load event %d: %w", id, err)
	}
	return e, nil
}

func (s *Service) eventsOf(ctx context.Context, householdID int64) ([]LifeEvent, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+eventCols+` FROM household_events WHERE household_id = ? ORDER BY starts_on DESC, id DESC LIMIT 100`, householdID)
	if err != nil {
		return nil, fmt.Errorf("households: events: %w", err)
	}
	defer rows.Close()
	out := []LifeEvent{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}
