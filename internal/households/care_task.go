package households

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

// Care task kinds.
var TaskKinds = []string{"birthday", "holiday", "elderly_visit", "absent_greeting", "event", "arrival"}

const taskCols = `t.id, t.household_id, u.number, t.person_id, COALESCE(p.name, ''), COALESCE(p.status, ''), t.event_id, t.butler_id, t.kind, t.subject,
	t.show_from, t.due_at, t.status, t.done_at, t.outcome, t.created_at`

const taskFrom = ` FROM care_tasks t JOIN households h ON h.id = t.household_id JOIN units u ON u.id = h.unit_id
	LEFT JOIN household_people p ON p.id = t.person_id`

func scanTask(row interface{ Scan(...any) error }, now time.Time) (*CareTask, error) {
	var t CareTask
	var person, event, butler, done sql.NullInt64
	var pstatus string
	var show, due, created int64
	if err := row.Scan(&t.ID, &t.HouseholdID, &t.UnitNumber, &person, &t.PersonName, &pstatus, &event, &butler, &t.Kind, &t.Subject,
		&show, &due, &t.Status, &done, &t.Outcome, &created); err != nil {
		return nil, err
	}
	t.PersonID, t.EventID, t.ButlerID, t.DoneAt = ptrID(person), ptrID(event), ptrID(butler), db.TimePtr(done)
	t.PersonName = personName(t.PersonName, pstatus)
	t.ShowFrom, t.DueAt, t.CreatedAt = db.Time(show), db.Time(due), db.Time(created)
	t.Overdue = t.Status == "open" && now.After(t.DueAt)
	return &t, nil
}

func (s *Service) tasksWhere(ctx context.Context, cond string, args []any, limit int) ([]CareTask, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE `+cond+` ORDER BY t.due_at, t.id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("households: tasks: %w", err)
	}
	defer rows.Close()
	now := db.Now(ctx)
	out := []CareTask{}
	for rows.Next() {
		t, err := scanTask(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// DueCareTasks returns a butler's open care tasks that have appeared by
// until (their show-from day has come), the most urgent first: what the
// butler's inbox lists. No permission check: the inbox asks for its owner.
func (s *Service) DueCareTasks(ctx context.Context, butlerID int64, until time.Time, limit int) ([]CareTask, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.tasksWhere(ctx, "t.butler_id = ? AND t.status = 'open' AND t.show_from <= ?", []any{butlerID, db.Ms(until)}, limit)
}

// TaskFilter selects care tasks.
type TaskFilter struct {
	ButlerID int64  // 0: every butler in the caller's view
	Status   string // open (default), done, cancelled
	Kind     string
	Due      string // today (appeared by now), overdue, upcoming, all (default for done)
	Limit    int
}

// CareTaskList is care tasks and how many are overdue.
type CareTaskList struct {
	Items   []CareTask `json:"items"`
	Overdue int        `json:"overdue"`
}

// TaskStatuses lists care task states.
var TaskStatuses = []string{"open", "done", "cancelled"}

// TaskDues lists the due filters.
var TaskDues = []string{"today", "overdue", "upcoming", "all"}

// ListTasks returns care tasks the caller may view. EInvalid for a bad filter.
func (s *Service) ListTasks(ctx context.Context, f TaskFilter) (*CareTaskList, error) {
	var v errs.Validation
	if f.Status == "" {
		f.Status = "open"
	}
	if f.Due == "" {
		f.Due = "today"
		if f.Status != "open" {
			f.Due = "all"
		}
	}
	v.OneOf("status", f.Status, TaskStatuses...)
	v.OneOf("due", f.Due, TaskDues...)
	if f.Kind != "" {
		v.OneOf("kind", f.Kind, TaskKinds...)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	cond, args := auth.ScopeSQL("t.node_path", principal(ctx).Scope(PermView))
	cond += " AND t.status = ?"
	args = append(args, f.Status)
	if f.ButlerID != 0 {
		cond += " AND t.butler_id = ?"
		args = append(args, f.ButlerID)
	}
	if f.Kind != "" {
		cond += " AND t.kind = ?"
		args = append(args, f.Kind)
	}
	now := db.Ms(db.Now(ctx))
	switch f.Due {
	case "today":
		cond += " AND t.show_from <= ?"
		args = append(args, now)
	case "overdue":
		cond += " AND t.due_at < ?"
		args = append(args, now)
	case "upcoming":
		cond += " AND t.show_from > ?"
		args = append(args, now)
	}
	items, err := s.tasksWhere(ctx, cond, args, f.Limit)
	if err != nil {
		return nil, err
	}
	out := &CareTaskList{Items: items}
	for _, t := range items {
		if t.Overdue {
			out.Overdue++
		}
	}
	return out, nil
}

// CareDoneInput records how a care task was done.
type CareDoneInput struct {
	Channel string `json:"channel"` // visit, phone, wechat, sms, other
	Note    string `json:"note"`
}

// CompleteTask marks an open care task done and records the contact it
// was. It needs care.work; EConflict when the task is not open.
func (s *Service) CompleteTask(ctx context.Context, id int64, in CareDoneInput) (*CareTask, error) {
	var path string
	var hid int64
	var person sql.NullInt64
	var kind, status string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT node_path, household_id, person_id, kind, status FROM care_tasks WHERE id = ?`, id).Scan(&path, &hid, &person, &kind, &status)
	if db.IsNoRows(err) || (err == nil && !canSee(ctx, path)) {
		return nil, errs.NotFound("error.task.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("households: load task %d: %w", id, err)
	}
	var v errs.Validation
	in.Note = strings.TrimSpace(in.Note)
	v.OneOf("channel", in.Channel, ContactChannels...)
	v.MaxLen("note", in.Note, maxNoteLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermCare, path); err != nil {
		return nil, err
	}
	if status != "open" {
		return nil, errs.New(errs.EConflict, "error.task.not_open")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		staff := principal(ctx).StaffID
		res, err := tx.ExecContext(ctx, `UPDATE care_tasks SET status = 'done', done_at = ?, done_by = ?, outcome = ? WHERE id = ? AND status = 'open'`,
			db.Ms(tx.Now), staff, in.Note, id)
		if err != nil {
			return fmt.Errorf("households: complete task %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.New(errs.EConflict, "error.task.not_open")
		}
		if _, err := s.insertContact(ctx, tx, hid, ptrID(person), &id, in.Channel, kind, in.Note); err != nil {
			return err
		}
		return s.record(ctx, "complete", "care_task", id, path, kind, map[string]any{"channel": in.Channel})
	})
	if err != nil {
		return nil, err
	}
	ts, err := s.tasksWhere(ctx, "t.id = ?", []any{id}, 1)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return &ts[0], nil
}

// insertContact records a contact and keeps the household's last contact
// (and last visit) current.
func (s *Service) insertContact(ctx context.Context, tx *db.Tx, householdID int64, personID, taskID *int64, channel, kind, note string) (int64, error) {
	var staff any
	if p := principal(ctx); p != nil {
		staff = p.StaffID
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO care_contacts (household_id, person_id, task_id, staff_id, channel, kind, note, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		householdID, nullID(personID), nullID(taskID), staff, channel, kind, note, db.Ms(tx.Now)).Scan(&id); err != nil {
		return 0, fmt.Errorf("households: insert contact: %w", err)
	}
	q, args := `UPDATE households SET last_contact_at = ? WHERE id = ?`, []any{db.Ms(tx.Now), householdID}
	if channel == "visit" {
		q, args = `UPDATE households SET last_contact_at = ?, last_visit_at = ? WHERE id = ?`, []any{db.Ms(tx.Now), db.Ms(tx.Now), householdID}
	}
	_, err := tx.ExecContext(ctx, q, args...)
	return id, err
}

// ContactInput records a contact with a household outside any task.
type ContactInput struct {
	PersonID *int64 `json:"person_id"`
	Channel  string `json:"channel"`
	Note     string `json:"note"`
}

// AddContact records a visit, call or message. It needs care.work.
func (s *Service) AddContact(ctx context.Context, householdID int64, in ContactInput) (*Contact, error) {
	h, err := s.visibleHousehold(ctx, householdID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Note = strings.TrimSpace(in.Note)
	v.OneOf("channel", in.Channel, ContactChannels...)
	v.MaxLen("note", in.Note, maxNoteLen)
	if in.PersonID != nil && !s.personOf(ctx, *in.PersonID, h.ID) {
		v.Add("person_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermCare, h.NodePath); err != nil {
		return nil, err
	}
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if id, err = s.insertContact(ctx, tx, h.ID, in.PersonID, nil, in.Channel, "contact", in.Note); err != nil {
			return err
		}
		return s.record(ctx, "create", "contact", id, h.NodePath, in.Channel, map[string]any{"household_id": h.ID, "channel": in.Channel})
	})
	if err != nil {
		return nil, err
	}
	cs, err := s.contactsWhere(ctx, "c.id = ?", []any{id}, 1)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}

// personOf reports whether a person is active in a household.
func (s *Service) personOf(ctx context.Context, personID, householdID int64) bool {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM household_people WHERE id = ? AND household_id = ? AND status = 'active'`, personID, householdID).Scan(&n)
	return err == nil && n == 1
}

func (s *Service) contactsWhere(ctx context.Context, cond string, args []any, limit int) ([]Contact, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT c.id, c.household_id, c.person_id, c.task_id, c.staff_id, COALESCE(st.name, ''), c.channel, c.kind, c.note, c.at
		FROM care_contacts c LEFT JOIN staff st ON st.id = c.staff_id WHERE `+cond+` ORDER BY c.at DESC, c.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("households: contacts: %w", err)
	}
	defer rows.Close()
	out := []Contact{}
	for rows.Next() {
		var c Contact
		var person, task, staff sql.NullInt64
		var at int64
		if err := rows.Scan(&c.ID, &c.HouseholdID, &person, &task, &staff, &c.StaffName, &c.Channel, &c.Kind, &c.Note, &at); err != nil {
			return nil, err
		}
		c.PersonID, c.TaskID, c.StaffID, c.At = ptrID(person), ptrID(task), ptrID(staff), db.Time(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
