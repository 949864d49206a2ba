package sla

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
)

// Recompute is the progress of one recomputation of open cycles after a
// calendar or a policy changed.
type Recompute struct {
	ID         int64      `json:"id"`
	Reason     string     `json:"reason"` // calendar or policy
	Calendar   string     `json:"calendar,omitempty"`
	PolicyID   *int64     `json:"policy_id,omitempty"`
	Total      int        `json:"total"`
	Processed  int        `json:"processed"`
	Changed    int        `json:"changed"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// RecomputeArgs is the River job that recomputes open cycles in batches.
type RecomputeArgs struct {
	ID int64 `json:"id"`
}

// Kind names the job.
func (RecomputeArgs) Kind() string { return "sla.recompute" }

type recomputeWorker struct {
	river.WorkerDefaults[RecomputeArgs]
	s *Service
}

// Timeout lets a large recomputation run past the queue's default; it
// resumes from its recorded progress if it is cut short anyway.
func (w *recomputeWorker) Timeout(*river.Job[RecomputeArgs]) time.Duration { return time.Hour }

func (w *recomputeWorker) Work(ctx context.Context, j *river.Job[RecomputeArgs]) error {
	return w.s.RunRecompute(ctx, j.Args.ID)
}

// enqueueRecompute records a recomputation of the open cycles on a
// calendar (key not empty) or of a policy, and enqueues its job, in the
// transaction of the change.
func (s *Service) enqueueRecompute(ctx context.Context, tx *db.Tx, calendarKey string, policyID int64) error {
	if tx == nil {
		return errors.New("sla: recompute outside a transaction")
	}
	reason, where, arg := "calendar", `calendar = ? AND business = TRUE`, any(calendarKey)
	var policy any
	if calendarKey == "" {
		reason, where, arg, policy = "policy", `policy_id = ?`, policyID, policyID
	}
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_cycles WHERE `+where+` AND state IN ('running', 'paused')`, arg).Scan(&total); err != nil {
		return fmt.Errorf("sla: count cycles to recompute: %w", err)
	}
	if total == 0 {
		return nil
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO sla_recomputes (reason, calendar, policy_id, total, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		reason, calendarKey, policy, total, db.Ms(tx.Now)).Scan(&id); err != nil {
		return fmt.Errorf("sla: record recompute: %w", err)
	}
	_, err := s.jobs.Insert(ctx, RecomputeArgs{ID: id}, &river.InsertOpts{MaxAttempts: 25})
	return err
}

// RunRecompute works through a recomputation batch by batch, each batch in
// its own transaction that also records the progress, so a restart resumes
// where it stopped. It returns when every open cycle has been seen.
func (s *Service) RunRecompute(ctx context.Context, id int64) error {
	for {
		done, err := s.recomputeBatch(ctx, id)
		if err != nil || done {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (s *Service) loadRecompute(ctx context.Context, id int64) (*Recompute, int64, error) {
	var r Recompute
	var after, created int64
	var policy, finished sql.NullInt64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, reason, calendar, policy_id, after_id, total, processed, changed, created_at, finished_at
		FROM sla_recomputes WHERE id = ?`, id).Scan(&r.ID, &r.Reason, &r.Calendar, &policy, &after, &r.Total, &r.Processed, &r.Changed, &created, &finished)
	if err != nil {
		return nil, 0, fmt.Errorf("sla: recompute %d: %w", id, err)
	}
	if policy.Valid {
		r.PolicyID = &policy.Int64
	}
	r.CreatedAt, r.FinishedAt = db.Time(created), db.TimePtr(finished)
	return &r, after, nil
}

// recomputeBatch recomputes the next batch of open cycles. Cycles whose
// deadlines come out the same are left alone; the others get new deadlines,
// a new timer and a "recomputed" event.
func (s *Service) recomputeBatch(ctx context.Context, id int64) (done bool, err error) {
	err = s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, after, err := s.loadRecompute(ctx, id)
		if err != nil {
			return err
		}
		if r.FinishedAt != nil {
			done = true
			return nil
		}
		var fresh clock
		var pol *Policy
		if r.Reason == "calendar" {
			cal, err := s.cals.Fresh(ctx, r.Calendar)
			if err != nil {
				return err
			}
			fresh = clock{cal: cal}
		} else if pol, err = s.loadPolicy(ctx, *r.PolicyID); err != nil {
			return err
		}
		where, arg := `calendar = ? AND business = TRUE`, any(r.Calendar)
		if pol != nil {
			where, arg = `policy_id = ?`, pol.ID
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+cycleCols+` FROM sla_cycles c WHERE `+where+` AND state IN ('running', 'paused') AND id > ? ORDER BY id LIMIT ?`,
			arg, after, s.Batch)
		if err != nil {
			return fmt.Errorf("sla: recompute batch: %w", err)
		}
		var batch []*Cycle
		for rows.Next() {
			c, err := scanCycle(rows)
			if err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		changed, ladders := 0, map[int64][]Step{}
		for _, c := range batch {
			moved, err := s.recomputeOne(ctx, tx, c, fresh, pol, ladders)
			if err != nil {
				return err
			}
			if moved {
				changed++
			}
			after = c.ID
		}
		var finished any
		if len(batch) < s.Batch {
			finished, done = db.Ms(tx.Now), true
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sla_recomputes SET after_id = ?, processed = processed + ?, changed = changed + ?, finished_at = ? WHERE id = ?`,
			after, len(batch), changed, finished, id); err != nil {
			return fmt.Errorf("sla: recompute progress: %w", err)
		}
		if done {
			return s.audit.Record(audit.WithActor(ctx, audit.Actor{Name: "sla"}), audit.Entry{Action: "recompute", Entity: "sla_recompute", EntityID: id,
				Summary: fmt.Sprintf("%s %s: %d open cycles, %d deadlines moved", r.Reason, r.Calendar, r.Processed+len(batch), r.Changed+changed)})
		}
		return nil
	})
	return done, err
}

// recomputeOne applies a new calendar (fresh) or a changed policy (pol) to
// an open cycle read without a lock. Only when its deadlines move is it
// locked, read again and saved.
func (s *Service) recomputeOne(ctx context.Context, tx *db.Tx, snap *Cycle, fresh clock, pol *Policy, ladders map[int64][]Step) (bool, error) {
	apply := func(c *Cycle) (clock, []Step, error) {
		if pol == nil {
			ladder, ok := ladders[c.PolicyID]
			if !ok {
				var err error
				if ladder, err = s.ladder(ctx, c.PolicyID); err != nil {
					return clock{}, nil, err
				}
				ladders[c.PolicyID] = ladder
			}
			return fresh, ladder, nil
		}
		if t, ok := pickTargetByID(pol.Targets, c.TargetID); ok {
			c.Business, c.TargetMinutes, c.WarnPct, c.PauseStates = t.Business, t.Minutes, t.WarnPct, t.PauseStates
		}
		if pol.Calendar != "" {
			c.Calendar = pol.Calendar
		}
		ck, err := s.clockFor(ctx, c)
		return ck, pol.Ladder, err
	}
	probe := *snap
	ck, ladder, err := apply(&probe)
	if err != nil {
		return false, err
	}
	if err := plan(&probe, ck, ladder); err != nil {
		return false, err
	}
	if sameTime(probe.DueAt, snap.DueAt) && sameTime(probe.WarnAt, snap.WarnAt) && sameTime(probe.NextEscalAt, snap.NextEscalAt) &&
		probe.TargetMinutes == snap.TargetMinutes && probe.Calendar == snap.Calendar {
		return false, nil
	}
	c, err := s.lockCycle(ctx, tx, snap.ID)
	if err != nil {
		return false, err
	}
	oldDue := c.DueAt
	if ck, ladder, err = apply(c); err != nil {
		return false, err
	}
	if err := plan(c, ck, ladder); err != nil {
		return false, err
	}
	if err := s.saveCycle(ctx, tx, c); err != nil {
		return false, err
	}
	if err := s.schedule(ctx, c); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, c, "recomputed", nil, map[string]any{"from": msOf(oldDue), "to": msOf(c.DueAt), "calendar": c.Calendar, "target_minutes": c.TargetMinutes})
}

func pickTargetByID(ts []Target, id *int64) (Target, bool) {
	if id == nil {
		return Target{}, false
	}
	for _, t := range ts {
		if t.ID == *id {
			return t, true
		}
	}
	return Target{}, false
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Recomputes lists the latest recomputations, newest first.
func (s *Service) Recomputes(ctx context.Context, limit int) ([]Recompute, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id FROM sla_recomputes ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sla: recomputes: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Recompute{}
	for _, id := range ids {
		r, _, err := s.loadRecompute(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, nil
}
