package sla

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/timers"
)

// point is one escalation point of a running cycle: its warning, its
// breach, or a ladder step.
type point struct {
	at   time.Time
	kind string // OnWarning, OnBreach, or "step"
	step int
}

// pendingPoints lists the escalation points of a running cycle not done
// yet, earliest first; at one instant the warning comes before the breach
// and both before the steps they trigger.
func pendingPoints(c *Cycle, ladder []Step) []point {
	if c.State != StateRunning {
		return nil
	}
	var out []point
	if c.WarnAt != nil && c.WarnedAt == nil {
		out = append(out, point{at: *c.WarnAt, kind: OnWarning, step: -1})
	}
	if c.DueAt != nil && c.BreachedAt == nil {
		out = append(out, point{at: *c.DueAt, kind: OnBreach, step: -1})
	}
	for i, st := range ladder {
		if i >= maxSteps || c.StepsDone&(1<<i) != 0 || (st.Metric != "" && st.Metric != c.Metric) {
			continue
		}
		base := c.DueAt
		if st.On == OnWarning {
			base = c.WarnAt
		}
		if base == nil {
			continue
		}
		out = append(out, point{at: base.Add(time.Duration(st.AfterMinutes) * time.Minute), kind: "step", step: i})
	}
	rank := map[string]int{OnWarning: 0, OnBreach: 1, "step": 2}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return rank[out[i].kind] < rank[out[j].kind]
	})
	return out
}

// onTimer runs in the firing transaction of a cycle's timer.
func (s *Service) onTimer(ctx context.Context, t timers.Timer) error {
	id, ok := cycleOfTimer(t.Subject)
	if !ok {
		return fmt.Errorf("sla: timer subject %q", t.Subject)
	}
	return s.escalate(ctx, db.TxFrom(ctx), id)
}

// Sweep fires, at now, the escalation points that are due and have not
// fired: a safety net for timers lost to an outage, and the way tests drive
// a fake clock. It handles at most limit cycles and returns how many.
func (s *Service) Sweep(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id FROM sla_cycles WHERE next_escalation_at <= ? ORDER BY next_escalation_at LIMIT ?`, db.Ms(now), limit)
	if err != nil {
		return 0, fmt.Errorf("sla: sweep: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, id := range ids {
		err := s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
			if err := s.timers.CancelSubject(ctx, TimerKind, timerSubject(id)); err != nil {
				return err
			}
			return s.escalate(ctx, tx, id)
		})
		if err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// escalate handles every point of a cycle due by the transaction's instant
// — warning, breach, ladder steps — and schedules the timer of the next one.
// It is idempotent: a point is done once, under the cycle's row lock.
func (s *Service) escalate(ctx context.Context, tx *db.Tx, id int64) error {
	c, err := scanCycle(tx.QueryRowContext(ctx, `SELECT `+cycleCols+` FROM sla_cycles c WHERE c.id = ?`+s.db.ForUpdate(), id))
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sla: escalate cycle %d: %w", id, err)
	}
	if c.State != StateRunning {
		return nil
	}
	ladder, err := s.ladder(ctx, c.PolicyID)
	if err != nil {
		return err
	}
	now := tx.Now
	breached := false
	for _, p := range pendingPoints(c, ladder) {
		if p.at.After(now) {
			break
		}
		switch p.kind {
		case OnWarning:
			c.WarnedAt = &now
			err = s.record(ctx, tx, c, "warning", nil, map[string]any{"warn_at": msOf(c.WarnAt), "due_at": msOf(c.DueAt)})
		case OnBreach:
			due := *c.DueAt
			c.BreachedAt, breached = &due, true
			err = s.record(ctx, tx, c, "breach", nil, map[string]any{"due_at": msOf(c.DueAt)})
		default:
			c.StepsDone |= 1 << p.step
			err = s.runStep(ctx, tx, c, p.step, ladder[p.step])
		}
		if err != nil {
			return err
		}
	}
	c.NextEscalAt = nil
	if pts := pendingPoints(c, ladder); len(pts) > 0 {
		at := pts[0].at
		c.NextEscalAt = &at
	}
	if err := s.saveCycle(ctx, tx, c); err != nil {
		return err
	}
	if err := s.schedule(ctx, c); err != nil {
		return err
	}
	if breached && s.AfterBreach != nil {
		due, cid, hook := *c.DueAt, c.ID, s.AfterBreach
		tx.AfterCommit(func() { hook(cid, due) })
	}
	return nil
}

// runStep notifies a ladder step's recipients and records the step on the
// timeline and in the system log.
func (s *Service) runStep(ctx context.Context, tx *db.Tx, c *Cycle, i int, st Step) error {
	who, err := s.recipients(ctx, c, st.Notify)
	if err != nil {
		return err
	}
	kind := "sla." + st.On
	if st.AfterMinutes > 0 {
		kind = "sla.escalation"
	}
	payload := map[string]any{"cycle_id": c.ID, "metric": c.Metric, "on": st.On, "notify": st.Notify, "due_at": msOf(c.DueAt), "step": i}
	for _, r := range who {
		if err := s.notify(ctx, tx, r, kind, c.Subject, payload); err != nil {
			return err
		}
	}
	step := i
	if err := s.record(ctx, tx, c, "escalated", &step, map[string]any{"on": st.On, "after_minutes": st.AfterMinutes, "notify": st.Notify, "recipients": who}); err != nil {
		return err
	}
	summary := fmt.Sprintf("%s %s: %s, %s notified (%d)", c.Subject, c.Metric, st.On, st.Notify, len(who))
	return s.audit.Record(audit.WithActor(ctx, audit.Actor{Name: "sla"}), audit.Entry{Action: "escalate", Entity: "sla_cycle", EntityID: c.ID,
		NodePath: c.NodePath, Summary: summary, After: map[string]any{"step": i, "on": st.On, "notify": st.Notify, "recipients": who}})
}

// recipients resolves who a step notifies: the holder, or the active staff
// holding the role (supervisor, manager, role:<key>) on the nearest node of
// the cycle's org path, the site itself first.
func (s *Service) recipients(ctx context.Context, c *Cycle, notify string) ([]int64, error) {
	who := []int64{}
	if notify == NotifyAssignee {
		if c.HolderID != nil {
			who = append(who, *c.HolderID)
		}
		return who, nil
	}
	role := strings.TrimPrefix(notify, "role:")
	var ids []any
	for _, part := range strings.Split(strings.Trim(c.NodePath, "/"), "/") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return who, nil
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT g.staff_id, n.depth FROM role_grants g
		JOIN roles r ON r.id = g.role_id JOIN org_nodes n ON n.id = g.node_id JOIN staff st ON st.id = g.staff_id
		WHERE r.key = ? AND st.status = 'active' AND g.node_id IN (`+db.Placeholders(len(ids))+`)
		ORDER BY n.depth DESC, g.staff_id`, append([]any{role}, ids...)...)
	if err != nil {
		return nil, fmt.Errorf("sla: recipients %s: %w", notify, err)
	}
	defer rows.Close()
	nearest := -1
	for rows.Next() {
		var staff int64
		var depth int
		if err := rows.Scan(&staff, &depth); err != nil {
			return nil, err
		}
		if nearest >= 0 && depth < nearest {
			break
		}
		nearest = depth
		who = append(who, staff)
	}
	return who, rows.Err()
}
