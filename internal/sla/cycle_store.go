package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

const cycleCols = `c.id, c.subject, c.metric, c.seq, c.policy_id, c.target_id, c.priority, c.grade, c.calendar, c.business, c.target_minutes, c.warn_pct,
	c.pause_states, c.node_path, c.holder_id, c.state, c.started_at, c.pauses, c.paused_at, c.pause_reason, c.warn_at, c.due_at, c.next_escalation_at,
	c.warned_at, c.breached_at, c.met_at, c.closed_at, c.steps_done, c.rev`

// storedPause is a pause as the pauses column keeps it.
type storedPause struct {
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Reason string `json:"reason,omitempty"`
}

func scanCycle(row interface{ Scan(...any) error }, extra ...any) (*Cycle, error) {
	var c Cycle
	var target, holder, pausedAt, warnAt, dueAt, nextAt, warnedAt, breachedAt, metAt, closedAt sql.NullInt64
	var pauseStates, pauses string
	var started int64
	dst := []any{&c.ID, &c.Subject, &c.Metric, &c.Seq, &c.PolicyID, &target, &c.Priority, &c.Grade, &c.Calendar, &c.Business, &c.TargetMinutes, &c.WarnPct,
		&pauseStates, &c.NodePath, &holder, &c.State, &started, &pauses, &pausedAt, &c.PauseReason, &warnAt, &dueAt, &nextAt,
		&warnedAt, &breachedAt, &metAt, &closedAt, &c.StepsDone, &c.Rev}
	if err := row.Scan(append(dst, extra...)...); err != nil {
		return nil, err
	}
	if target.Valid {
		c.TargetID = &target.Int64
	}
	if holder.Valid {
		c.HolderID = &holder.Int64
	}
	c.PauseStates = splitList(pauseStates)
	c.StartedAt = db.Time(started)
	c.Pauses = []Pause{}
	if pauses != "" {
		var sp []storedPause
		if err := json.Unmarshal([]byte(pauses), &sp); err != nil {
			return nil, fmt.Errorf("sla: pauses of cycle %d: %w", c.ID, err)
		}
		for _, p := range sp {
			c.Pauses = append(c.Pauses, Pause{From: db.Time(p.From), To: db.Time(p.To), Reason: p.Reason})
		}
	}
	c.PausedAt, c.WarnAt, c.DueAt, c.NextEscalAt = db.TimePtr(pausedAt), db.TimePtr(warnAt), db.TimePtr(dueAt), db.TimePtr(nextAt)
	c.WarnedAt, c.BreachedAt, c.MetAt, c.ClosedAt = db.TimePtr(warnedAt), db.TimePtr(breachedAt), db.TimePtr(metAt), db.TimePtr(closedAt)
	return &c, nil
}

func pausesJSON(ps []Pause) (string, error) {
	if len(ps) == 0 {
		return "", nil
	}
	sp := make([]storedPause, len(ps))
	for i, p := range ps {
		sp[i] = storedPause{From: db.Ms(p.From), To: db.Ms(p.To), Reason: p.Reason}
	}
	b, err := json.Marshal(sp)
	return string(b), err
}

func idOrNil(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// insertCycle writes a new cycle in the open transaction and sets its id.
func (s *Service) insertCycle(ctx context.Context, tx *db.Tx, c *Cycle) error {
	pauses, err := pausesJSON(c.Pauses)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO sla_cycles (subject, metric, seq, policy_id, target_id, priority, grade, calendar, business, target_minutes, warn_pct,
			pause_states, node_path, holder_id, state, started_at, pauses, paused_at, pause_reason, warn_at, due_at, next_escalation_at,
			warned_at, breached_at, met_at, closed_at, steps_done, rev, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
		c.Subject, c.Metric, c.Seq, c.PolicyID, idOrNil(c.TargetID), c.Priority, c.Grade, c.Calendar, c.Business, c.TargetMinutes, c.WarnPct,
		strings.Join(c.PauseStates, ","), c.NodePath, idOrNil(c.HolderID), c.State, db.Ms(c.StartedAt), pauses, db.MsPtr(c.PausedAt), c.PauseReason,
		db.MsPtr(c.WarnAt), db.MsPtr(c.DueAt), db.MsPtr(c.NextEscalAt), db.MsPtr(c.WarnedAt), db.MsPtr(c.BreachedAt), db.MsPtr(c.MetAt), db.MsPtr(c.ClosedAt),
		c.StepsDone, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("sla: insert cycle %s %s: %w", c.Subject, c.Metric, err)
	}
	c.Rev = 1
	return nil
}

// saveCycle writes every changeable column of c, which the caller holds
// locked, and bumps its revision.
func (s *Service) saveCycle(ctx context.Context, tx *db.Tx, c *Cycle) error {
	pauses, err := pausesJSON(c.Pauses)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE sla_cycles SET target_id = ?, calendar = ?, business = ?, target_minutes = ?, warn_pct = ?, pause_states = ?,
			holder_id = ?, state = ?, pauses = ?, paused_at = ?, pause_reason = ?, warn_at = ?, due_at = ?, next_escalation_at = ?,
			warned_at = ?, breached_at = ?, met_at = ?, closed_at = ?, steps_done = ?, rev = rev + 1, updated_at = ?
		WHERE id = ?`,
		idOrNil(c.TargetID), c.Calendar, c.Business, c.TargetMinutes, c.WarnPct, strings.Join(c.PauseStates, ","),
		idOrNil(c.HolderID), c.State, pauses, db.MsPtr(c.PausedAt), c.PauseReason, db.MsPtr(c.WarnAt), db.MsPtr(c.DueAt), db.MsPtr(c.NextEscalAt),
		db.MsPtr(c.WarnedAt), db.MsPtr(c.BreachedAt), db.MsPtr(c.MetAt), db.MsPtr(c.ClosedAt), c.StepsDone, db.Ms(tx.Now), c.ID)
	if err != nil {
		return fmt.Errorf("sla: save cycle %d: %w", c.ID, err)
	}
	c.Rev++
	return nil
}

// lockCycle reads a cycle for change in the open transaction. Its timer is
// cancelled first: every path that changes a cycle takes the timer row
// before the cycle row, as a firing does, so two of them never wait on each
// other in a circle. The caller schedules the next timer.
func (s *Service) lockCycle(ctx context.Context, tx *db.Tx, id int64) (*Cycle, error) {
	if err := s.timers.CancelSubject(ctx, TimerKind, timerSubject(id)); err != nil {
		return nil, err
	}
	c, err := scanCycle(tx.QueryRowContext(ctx, `SELECT `+cycleCols+` FROM sla_cycles c WHERE c.id = ?`+s.db.ForUpdate(), id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.sla.cycle_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("sla: lock cycle %d: %w", id, err)
	}
	return c, nil
}

// openCycleIDs lists the ids of a subject's open cycles (of one metric
// when metric is not empty).
func (s *Service) openCycleIDs(ctx context.Context, subject, metric string) ([]int64, error) {
	q := `SELECT id FROM sla_cycles WHERE subject = ? AND state IN ('running', 'paused')`
	args := []any{subject}
	if metric != "" {
		q += ` AND metric = ?`
		args = append(args, metric)
	}
	ids, err := db.Column[int64](ctx, s.db.Q(ctx), q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sla: open cycles of %s: %w", subject, err)
	}
	return ids, nil
}

// Cycles returns every cycle of a subject, oldest first: the history.
func (s *Service) Cycles(ctx context.Context, subject string) ([]Cycle, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+cycleCols+` FROM sla_cycles c WHERE c.subject = ? ORDER BY c.metric, c.seq LIMIT 1000`, subject)
	if err != nil {
		return nil, fmt.Errorf("sla: cycles of %s: %w", subject, err)
	}
	defer rows.Close()
	out := []Cycle{}
	for rows.Next() {
		c, err := scanCycle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// Cycle returns one cycle; ENotFound when there is none.
func (s *Service) Cycle(ctx context.Context, id int64) (*Cycle, error) {
	c, err := scanCycle(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+cycleCols+` FROM sla_cycles c WHERE c.id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.sla.cycle_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("sla: cycle %d: %w", id, err)
	}
	return c, nil
}

// record writes one timeline event in the open transaction.
func (s *Service) record(ctx context.Context, tx *db.Tx, c *Cycle, kind string, step *int, detail any) error {
	var d string
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("sla: event detail: %w", err)
		}
		d = string(b)
	}
	var st any
	if step != nil {
		st = *step
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sla_events (cycle_id, subject, metric, kind, step, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Subject, c.Metric, kind, st, db.Ms(tx.Now), d); err != nil {
		return fmt.Errorf("sla: event %s of cycle %d: %w", kind, c.ID, err)
	}
	return nil
}

// Events returns a subject's SLA timeline, oldest first, at most limit
// entries after the event id after (keyset paging).
func (s *Service) Events(ctx context.Context, subject string, after int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, cycle_id, subject, metric, kind, step, at, detail FROM sla_events
		WHERE subject = ? AND id > ? ORDER BY id LIMIT ?`, subject, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sla: events of %s: %w", subject, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var step sql.NullInt64
		var at int64
		var detail string
		if err := rows.Scan(&e.ID, &e.CycleID, &e.Subject, &e.Metric, &e.Kind, &step, &at, &detail); err != nil {
			return nil, err
		}
		if step.Valid {
			n := int(step.Int64)
			e.Step = &n
		}
		e.At = db.Time(at)
		if detail != "" {
			e.Detail = json.RawMessage(detail)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Notifications returns a recipient's newest notifications, at most limit.
func (s *Service) Notifications(ctx context.Context, recipientID int64, limit int) ([]Notification, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, recipient_id, kind, subject, payload, created_at, read_at FROM notifications
		WHERE recipient_id = ? ORDER BY id DESC LIMIT ?`, recipientID, limit)
	if err != nil {
		return nil, fmt.Errorf("sla: notifications of %d: %w", recipientID, err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var payload string
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&n.ID, &n.RecipientID, &n.Kind, &n.Subject, &payload, &created, &read); err != nil {
			return nil, err
		}
		n.Payload, n.CreatedAt, n.ReadAt = json.RawMessage(payload), db.Time(created), db.TimePtr(read)
		out = append(out, n)
	}
	return out, rows.Err()
}

// notify writes one outbox row in the open transaction.
func (s *Service) notify(ctx context.Context, tx *db.Tx, recipient int64, kind, subject string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("sla: notification payload: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (recipient_id, kind, subject, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
		recipient, kind, subject, string(b), db.Ms(tx.Now)); err != nil {
		return fmt.Errorf("sla: notify %d: %w", recipient, err)
	}
	return nil
}

// msOf is a helper for details: an instant as RFC 3339, or nil.
func msOf(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}
