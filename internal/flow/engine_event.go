package flow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/machine"
	"github.com/guanjia/guanjia/internal/flow/model"
	"github.com/guanjia/guanjia/internal/timers"
)

const timerKind = "flow.timer"

// loaded is an instance locked for one event.
type loaded struct {
	Instance
	def   *Definition
	state *machine.State
	cal   string
	// hist holds timeline rows of the event recorded before the machine
	// ran (instance started, task completed); effects writes them first,
	// in the same INSERT as the effects' own rows.
	hist history
}

// event changes a loaded instance through the machine.
type event func(m *machine.Machine, l *loaded, now time.Time) (*machine.State, []machine.Effect, error)

// apply runs one event on an instance in one transaction: lock the row, run
// the machine, persist the new state and every effect. extra runs in the
// same transaction before the machine (e.g. closing a task row).
func (e *Engine) apply(ctx context.Context, instanceID int64, ev event, extra func(ctx context.Context, tx *db.Tx, l *loaded) error) error {
	return e.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		l, err := e.lock(ctx, tx, instanceID)
		if err != nil {
			return err
		}
		if l.State != string(machine.StatusActive) {
			return errs.New(errs.EConflict, "error.flow.instance_not_active")
		}
		if extra != nil {
			if err := extra(ctx, tx, l); err != nil {
				return err
			}
		}
		st, effects, err := ev(e.machineFor(ctx, l.cal, l.NodePath), l, tx.Now)
		if err != nil {
			return machineError(err)
		}
		return e.persist(ctx, tx, l, st, effects)
	})
}

func (e *Engine) lock(ctx context.Context, tx *db.Tx, id int64) (*loaded, error) {
	l := &loaded{}
	var raw string
	var site sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT definition_id, definition_key, business_key, site_id, node_path, customer_ref, state, machine, calendar, started_at
		FROM flow_instances WHERE id = ?`+e.db.ForUpdate(), id).
		Scan(&l.DefinitionID, &l.DefinitionKey, &l.BusinessKey, &site, &l.NodePath, &l.CustomerRef, &l.State, &raw, &l.cal, new(int64))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.flow.instance_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("flow: lock instance %d: %w", id, err)
	}
	l.ID = id
	if site.Valid {
		l.SiteID = &site.Int64
	}
	if l.def, err = e.definition(ctx, l.DefinitionID); err != nil {
		return nil, err
	}
	l.state = &machine.State{}
	if err := json.Unmarshal([]byte(raw), l.state); err != nil {
		return nil, fmt.Errorf("flow: instance %d state: %w", id, err)
	}
	return l, nil
}

// machineError maps the machine's errors to ours.
func machineError(err error) error {
	var inc *machine.IncidentError
	switch {
	case errors.Is(err, machine.ErrNotFound):
		return errs.New(errs.ENotFound, "error.flow.not_waiting")
	case errors.Is(err, machine.ErrNotActive):
		return errs.New(errs.EConflict, "error.flow.instance_not_active")
	case errors.Is(err, machine.ErrBadVars):
		return errs.Invalid("variables", "error.flow.bad_variables")
	case errors.As(err, &inc):
		return &errs.Error{Code: errs.EConflict, Key: "error.flow.incident", Args: map[string]any{"element": inc.ElementID, "reason": inc.Reason}, Err: err}
	}
	return fmt.Errorf("flow: %w", err)
}

// machineFor returns a machine whose business-time deadlines use the
// instance's calendar.
func (e *Engine) machineFor(ctx context.Context, calKey, nodePath string) *machine.Machine {
	return machine.New(machine.Options{Resolver: &resolver{e: e, ctx: ctx, key: calKey, path: nodePath}})
}

// resolver resolves business time on the instance's calendar and plain
// time as the machine would.
type resolver struct {
	e    *Engine
	ctx  context.Context
	key  string
	path string
	cal  *calendar.Calendar
}

func (r *resolver) calendar() (*calendar.Calendar, error) {
	if r.cal != nil {
		return r.cal, nil
	}
	var c *calendar.Calendar
	var err error
	if r.e.calendars != nil {
		c, err = r.e.calendars(r.ctx, r.path)
		if err != nil {
			return nil, err
		}
	}
	if c == nil {
		key := r.key
		if key == "" {
			key = calendar.KeyCNWorkday
		}
		if c, err = calendar.Builtin(key); err != nil {
			c, err = calendar.Builtin(calendar.KeyCNWorkday)
		}
	}
	r.cal = c
	return c, err
}

func (r *resolver) Resolve(now time.Time, spec model.TimerSpec) (time.Time, error) {
	if !spec.Business || spec.Kind == model.TimeDate {
		return machine.CalendarResolver{}.Resolve(now, spec)
	}
	cal, err := r.calendar()
	if err != nil {
		return time.Time{}, err
	}
	raw := spec.Raw
	if spec.Kind == model.TimeCycle {
		c, err := model.ParseCycle(raw)
		if err != nil {
			return time.Time{}, err
		}
		if c.Start.After(now) {
			return c.Start, nil
		}
		_, after, _ := strings.Cut(raw, "/")
		if i := strings.LastIndex(after, "/"); i >= 0 {
			after = after[i+1:]
		}
		raw = after
	}
	bd, err := calendar.ParseBusinessDuration(raw)
	if err != nil {
		return time.Time{}, err
	}
	return cal.AddBusiness(now, bd)
}

// persist writes the new state and carries out the effects.
func (e *Engine) persist(ctx context.Context, tx *db.Tx, l *loaded, st *machine.State, effects []machine.Effect) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("flow: marshal state: %w", err)
	}
	var ended any
	if st.Status != machine.StatusActive {
		ended = db.Ms(tx.Now)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE flow_instances SET machine = ?, state = ?, reason = ?, ended_at = ?, updated_at = ? WHERE id = ?`,
		string(raw), string(st.Status), st.Reason, ended, db.Ms(tx.Now), l.ID); err != nil {
		return fmt.Errorf("flow: save instance %d: %w", l.ID, err)
	}
	l.state = st
	return e.effects(ctx, tx, l, effects)
}

// history collects timeline rows of one event for a single INSERT.
type history struct {
	args []any
	n    int
}

func (h *history) add(tx *db.Tx, ctx context.Context, instanceID int64, kind, element string, taskID any, data any) {
	a := audit.ActorFrom(ctx)
	var actor any
	if a.ID != 0 {
		actor = a.ID
	}
	body := ""
	if data != nil {
		body = mustJSON(data)
	}
	h.args = append(h.args, instanceID, db.Ms(tx.Now), kind, element, taskID, actor, a.Name, body)
	h.n++
}

// flush writes the collected rows in one INSERT.
func (h *history) flush(ctx context.Context, tx *db.Tx) error {
	if h.n == 0 {
		return nil
	}
	q := `INSERT INTO flow_history (instance_id, at, kind, element_id, task_id, actor_id, actor_name, data) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", h.n), ", ")
	if _, err := tx.ExecContext(ctx, q, h.args...); err != nil {
		return fmt.Errorf("flow: history: %w", err)
	}
	h.args, h.n = h.args[:0], 0
	return nil
}

func (e *Engine) effects(ctx context.Context, tx *db.Tx, l *loaded, effects []machine.Effect) error {
	h := &l.hist
	var changes []ChangeEvent
	for _, ef := range effects {
		switch x := ef.(type) {
		case machine.TaskCreated:
			t, err := e.createTask(ctx, tx, l, x)
			if err != nil {
				return err
			}
			h.add(tx, ctx, l.ID, "task_created", x.ElementID, t.ID, map[string]any{"name": x.Name})
			var assignee int64
			if t.AssigneeID != nil {
				assignee = *t.AssigneeID
			}
			changes = append(changes, ChangeEvent{Kind: "task.created", InstanceID: l.ID, TaskID: t.ID, AssigneeID: assignee, NodePath: l.NodePath})
		case machine.TaskCancelled:
			id, err := e.closeTask(ctx, tx, l.ID, x.TokenID, "cancelled")
			if err != nil {
				return err
			}
			if id != 0 {
				h.add(tx, ctx, l.ID, "task_cancelled", x.ElementID, id, nil)
				changes = append(changes, ChangeEvent{Kind: "task.updated", InstanceID: l.ID, TaskID: id, NodePath: l.NodePath})
			}
		case machine.TimerScheduled:
			if _, err := e.timers.Schedule(ctx, timerKind, timerSubject(l.ID, x.ID), x.At, timerPayload{InstanceID: l.ID, TimerID: x.ID}); err != nil {
				return err
			}
			h.add(tx, ctx, l.ID, "timer_scheduled", x.ElementID, nil, map[string]any{"at": x.At})
		case machine.TimerCancelled:
			if err := e.timers.CancelSubject(ctx, timerKind, timerSubject(l.ID, x.ID)); err != nil {
				return err
			}
		case machine.SubscriptionOpened:
			if _, err := tx.ExecContext(ctx, `INSERT INTO flow_subscriptions (instance_id, sub_id, message_name, correlation_key, element_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				l.ID, x.ID, x.MessageName, x.CorrelationKey, x.ElementID, db.Ms(tx.Now)); err != nil {
				return fmt.Errorf("flow: subscription: %w", err)
			}
		case machine.SubscriptionClosed:
			if _, err := tx.ExecContext(ctx, `DELETE FROM flow_subscriptions WHERE instance_id = ? AND sub_id = ?`, l.ID, x.ID); err != nil {
				return fmt.Errorf("flow: close subscription: %w", err)
			}
		case machine.JobRequested:
			if _, err := e.jobs.Insert(ctx, JobArgs{InstanceID: l.ID, JobID: x.JobID, Type: x.Type, ElementID: x.ElementID}, &river.InsertOpts{MaxAttempts: max(1, x.Retries)}); err != nil {
				return err
			}
		case machine.JobCancelled:
			// The queued job finds the token gone and does nothing.
		case machine.IncidentRaised:
			h.add(tx, ctx, l.ID, "incident", x.ElementID, nil, map[string]any{"message": x.Message})
		case machine.ElementStarted:
			h.add(tx, ctx, l.ID, "element_started", x.ElementID, nil, map[string]any{"kind": x.Kind})
		case machine.ElementCompleted:
			h.add(tx, ctx, l.ID, "element_completed", x.ElementID, nil, nil)
		case machine.ElementCancelled:
			h.add(tx, ctx, l.ID, "element_cancelled", x.ElementID, nil, nil)
		case machine.VariablesChanged:
			h.add(tx, ctx, l.ID, "variables", "", nil, x.Changes)
		case machine.InstanceEnded:
			h.add(tx, ctx, l.ID, "instance_ended", "", nil, map[string]any{"status": x.Status, "reason": x.Reason})
			changes = append(changes, ChangeEvent{Kind: "instance.ended", InstanceID: l.ID, NodePath: l.NodePath})
		}
	}
	if err := h.flush(ctx, tx); err != nil {
		return err
	}
	e.emit(tx, changes)
	return nil
}

func timerSubject(instanceID, timerID int64) string {
	return strconv.FormatInt(instanceID, 10) + ":" + strconv.FormatInt(timerID, 10)
}

type timerPayload struct {
	InstanceID int64 `json:"instance_id"`
	TimerID    int64 `json:"timer_id"`
}

// fireTimer is the timers handler: it runs inside the firing transaction,
// so the timer's consumption and the instance's step commit together.
func (e *Engine) fireTimer(ctx context.Context, t timers.Timer) error {
	var p timerPayload
	if err := json.Unmarshal(t.Payload, &p); err != nil {
		return fmt.Errorf("flow: timer payload: %w", err)
	}
	err := e.apply(ctx, p.InstanceID, func(m *machine.Machine, l *loaded, now time.Time) (*machine.State, []machine.Effect, error) {
		return m.FireTimer(l.def.Model, l.state, p.TimerID, now)
	}, nil)
	// An instance that ended or moved on no longer waits for this timer.
	if c := errs.CodeOf(err); c == errs.ENotFound || c == errs.EConflict {
		return nil
	}
	return err
}
