package sla

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// StartInput starts the clock of one metric on a subject.
type StartInput struct {
	Subject string `json:"subject"` // e.g. "case:123"
	Metric  string `json:"metric"`
	// PolicyID names the policy; 0 picks the most specific one covering Match.
	PolicyID int64 `json:"policy_id"`
	Match    Match `json:"match"`
	// HolderID is who holds the subject now (notified at the warning).
	HolderID *int64 `json:"holder_id"`
	// At is when the clock starts; zero means now.
	At time.Time `json:"at"`
}

func validSubject(subject string) error {
	if strings.TrimSpace(subject) == "" || len(subject) > 200 {
		return errs.Invalid("subject", "error.sla.bad_subject")
	}
	return nil
}

// clockFor returns the clock a cycle counts on: its calendar's working time,
// or elapsed time.
func (s *Service) clockFor(ctx context.Context, c *Cycle) (clock, error) {
	if !c.Business {
		return clock{}, nil
	}
	cal, err := s.cals.Get(ctx, c.Calendar)
	if err != nil {
		return clock{}, fmt.Errorf("sla: calendar %s of cycle %d: %w", c.Calendar, c.ID, err)
	}
	return clock{cal: cal}, nil
}

// ladder reads the escalation steps of a policy.
func (s *Service) ladder(ctx context.Context, policyID int64) ([]Step, error) {
	set, err := s.policySet(ctx)
	if err != nil {
		return nil, err
	}
	p := set.byID[policyID]
	if p == nil {
		return nil, fmt.Errorf("sla: ladder of policy %d: no such policy", policyID)
	}
	return p.Ladder, nil
}

// plan computes an open cycle's deadlines on ck and its next escalation
// point from the ladder. Closed cycles keep their deadlines and have no next
// point.
func plan(c *Cycle, ck clock, ladder []Step) error {
	c.NextEscalAt = nil
	if !c.Open() {
		return nil
	}
	warn, due, err := ck.deadlines(c)
	if err != nil {
		return err
	}
	c.WarnAt, c.DueAt = warn, due
	if pts := pendingPoints(c, ladder); len(pts) > 0 {
		at := pts[0].at
		c.NextEscalAt = &at
	}
	return nil
}

// schedule sets the cycle's timer at its next escalation point, if any.
func (s *Service) schedule(ctx context.Context, c *Cycle) error {
	if c.NextEscalAt == nil {
		return nil
	}
	_, err := s.timers.Schedule(ctx, TimerKind, timerSubject(c.ID), *c.NextEscalAt, nil)
	return err
}

// calendarKey picks the calendar of a new cycle: the policy's, else the
// subject's site calendar, else the office calendar.
func (s *Service) calendarKey(ctx context.Context, p *Policy, m Match) (string, error) {
	if p.Calendar != "" {
		return p.Calendar, nil
	}
	if m.NodePath == "" {
		return calendar.KeyCNWorkday, nil
	}
	return s.cals.CalendarKeyFor(ctx, m.NodePath)
}

// Start starts the clock of a metric on a subject: it picks the policy and
// target, computes the deadline and schedules the warning, all in one
// transaction (the caller's when ctx carries one). Starting a metric whose
// clock is already open returns that cycle unchanged. It returns EInvalid
// for a bad subject or metric and ENotFound ("error.sla.no_policy") when no
// policy has a target for the metric.
func (s *Service) Start(ctx context.Context, in StartInput) (*Cycle, error) {
	if err := validSubject(in.Subject); err != nil {
		return nil, err
	}
	if !slug.MatchString(in.Metric) {
		return nil, errs.Invalid("metric", "error.sla.bad_metric")
	}
	var out *Cycle
	err := s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		set, err := s.policySet(ctx)
		if err != nil {
			return err
		}
		out, err = s.startIn(ctx, tx, set, in)
		return err
	})
	return out, err
}

// startIn is Start in tx with the policies of set.
func (s *Service) startIn(ctx context.Context, tx *db.Tx, set *policySet, in StartInput) (*Cycle, error) {
	var seq int
	var open sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0), MAX(CASE WHEN state IN ('running', 'paused') THEN id END) FROM sla_cycles WHERE subject = ? AND metric = ?`,
		in.Subject, in.Metric).Scan(&seq, &open)
	if err != nil {
		return nil, fmt.Errorf("sla: cycles of %s: %w", in.Subject, err)
	}
	if open.Valid {
		return s.Cycle(ctx, open.Int64)
	}
	return s.startCycle(ctx, tx, set, in, nil, seq+1)
}

// startCycle inserts cycle number seq of a metric and schedules it.
func (s *Service) startCycle(ctx context.Context, tx *db.Tx, set *policySet, in StartInput, previous *Cycle, seq int) (*Cycle, error) {
	p, t, err := set.resolve(in.PolicyID, in.Match, in.Metric)
	if err != nil {
		return nil, err
	}
	calKey, err := s.calendarKey(ctx, p, in.Match)
	if err != nil {
		return nil, err
	}
	at := in.At
	if at.IsZero() {
		at = tx.Now
	}
	tid := t.ID
	c := &Cycle{Subject: in.Subject, Metric: in.Metric, Seq: seq, PolicyID: p.ID, TargetID: &tid, Priority: in.Match.Priority, Grade: in.Match.Grade,
		Calendar: calKey, Business: t.Business, TargetMinutes: t.Minutes, WarnPct: t.WarnPct, PauseStates: t.PauseStates, NodePath: in.Match.NodePath,
		HolderID: in.HolderID, State: StateRunning, StartedAt: at.UTC(), Pauses: []Pause{}}
	ck, err := s.clockFor(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := plan(c, ck, p.Ladder); err != nil {
		return nil, err
	}
	if err := s.insertCycle(ctx, tx, c); err != nil {
		return nil, err
	}
	if err := s.schedule(ctx, c); err != nil {
		return nil, err
	}
	kind, detail := "started", map[string]any{"policy": p.Name, "target_minutes": c.TargetMinutes, "business": c.Business, "calendar": c.Calendar, "due_at": msOf(c.DueAt)}
	if previous != nil {
		kind, detail["previous_cycle"] = "reopened", previous.ID
	}
	return c, s.record(ctx, tx, c, kind, nil, detail)
}

// Pause stops the clocks of a subject's running cycles whose policy lists
// state among its pause states (e.g. 等待业主): their warning and breach
// timers are cancelled. It returns how many cycles it paused.
func (s *Service) Pause(ctx context.Context, subject, state string) (int, error) {
	n := 0
	err := s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		open, err := s.openCycles(ctx, subject)
		if err != nil {
			return err
		}
		for _, c := range open {
			if c.State != StateRunning || !slices.Contains(c.PauseStates, state) {
				continue
			}
			paused, err := s.pauseOne(ctx, tx, c.ID, state)
			if err != nil {
				return err
			}
			if paused {
				n++
			}
		}
		return nil
	})
	return n, err
}

func (s *Service) pauseOne(ctx context.Context, tx *db.Tx, id int64, state string) (bool, error) {
	c, err := s.lockCycle(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if c.State != StateRunning || !slices.Contains(c.PauseStates, state) {
		return false, s.schedule(ctx, c) // keep its timer
	}
	now := tx.Now
	c.State, c.PausedAt, c.PauseReason = StatePaused, &now, state
	if err := s.replan(ctx, c); err != nil {
		return false, err
	}
	if err := s.saveCycle(ctx, tx, c); err != nil {
		return false, err
	}
	return true, s.record(ctx, tx, c, "paused", nil, map[string]any{"state": state})
}

// replan recomputes c on its own calendar and policy ladder.
func (s *Service) replan(ctx context.Context, c *Cycle) error {
	ck, err := s.clockFor(ctx, c)
	if err != nil {
		return err
	}
	ladder, err := s.ladder(ctx, c.PolicyID)
	if err != nil {
		return err
	}
	return plan(c, ck, ladder)
}

// Resume restarts the clocks of a subject's paused cycles: the paused time
// does not count, so each deadline is the resume instant plus the working
// time that was left, and its timers are scheduled again. It returns how
// many cycles it resumed.
func (s *Service) Resume(ctx context.Context, subject string) (int, error) {
	n := 0
	err := s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		ids, err := s.openCycleIDs(ctx, subject, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			c, err := s.lockCycle(ctx, tx, id)
			if err != nil {
				return err
			}
			if c.State != StatePaused {
				if err := s.schedule(ctx, c); err != nil {
					return err
				}
				continue
			}
			paused := closePause(c, tx.Now)
			if err := s.replan(ctx, c); err != nil {
				return err
			}
			if err := s.saveCycle(ctx, tx, c); err != nil {
				return err
			}
			if err := s.schedule(ctx, c); err != nil {
				return err
			}
			if err := s.record(ctx, tx, c, "resumed", nil, map[string]any{"paused": paused.To.Sub(paused.From).String(), "due_at": msOf(c.DueAt)}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// closePause ends the open pause of c at now and returns it.
func closePause(c *Cycle, now time.Time) Pause {
	p := Pause{From: *c.PausedAt, To: now, Reason: c.PauseReason}
	if p.To.Before(p.From) {
		p.To = p.From
	}
	c.Pauses = append(c.Pauses, p)
	c.State, c.PausedAt, c.PauseReason = StateRunning, nil, ""
	return p
}

// Stop stops the clock of a subject's metric because its goal was reached
// (acknowledged, resolved): the cycle is met, or late when the deadline had
// passed. It returns ENotFound ("error.sla.cycle_not_found") when the metric
// has no open cycle.
func (s *Service) Stop(ctx context.Context, subject, metric string) (*Cycle, error) {
	var out *Cycle
	err := s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		ids, err := s.openCycleIDs(ctx, subject, metric)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return errs.NotFound("error.sla.cycle_not_found")
		}
		out, err = s.close(ctx, tx, ids[0], StateMet)
		return err
	})
	return out, err
}

// Cancel closes every open cycle of a subject without an outcome (the
// subject was withdrawn or merged). It returns how many it closed.
func (s *Service) Cancel(ctx context.Context, subject string) (int, error) {
	n := 0
	err := s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		ids, err := s.openCycleIDs(ctx, subject, "")
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := s.close(ctx, tx, id, StateCancelled); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// close ends an open cycle as met (or late) or cancelled.
func (s *Service) close(ctx context.Context, tx *db.Tx, id int64, outcome string) (*Cycle, error) {
	c, err := s.lockCycle(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !c.Open() {
		return c, nil
	}
	now := tx.Now
	if c.State == StatePaused {
		closePause(c, now)
	}
	if err := s.replan(ctx, c); err != nil {
		return nil, err
	}
	detail := map[string]any{"due_at": msOf(c.DueAt)}
	c.State, c.ClosedAt, c.NextEscalAt = outcome, &now, nil
	if outcome == StateMet {
		c.MetAt = &now
		if c.DueAt != nil && now.After(*c.DueAt) {
			c.State = StateLate
			if c.BreachedAt == nil { // stopped before the breach timer fired
				c.BreachedAt = c.DueAt
				if err := s.record(ctx, tx, c, "breach", nil, map[string]any{"due_at": msOf(c.DueAt), "found_at_stop": true}); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := s.saveCycle(ctx, tx, c); err != nil {
		return nil, err
	}
	return c, s.record(ctx, tx, c, c.State, nil, detail)
}

// Reopen starts a new cycle for each metric of a subject (only those named,
// when metrics are given), with the same policy, target and holder as its
// latest cycle. An open latest cycle is cancelled first; closed cycles stay
// as history. It returns the new cycles, or ENotFound when the subject has
// no cycles.
func (s *Service) Reopen(ctx context.Context, subject string, metrics ...string) ([]Cycle, error) {
	var out []Cycle
	err := s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		latest, err := s.latestCycles(ctx, subject)
		if err != nil {
			return err
		}
		set, err := s.policySet(ctx)
		if err != nil {
			return err
		}
		if len(latest) == 0 {
			return errs.NotFound("error.sla.cycle_not_found")
		}
		for _, prev := range latest {
			if len(metrics) > 0 && !slices.Contains(metrics, prev.Metric) {
				continue
			}
			if prev.Open() {
				if _, err := s.close(ctx, tx, prev.ID, StateCancelled); err != nil {
					return err
				}
			}
			in := StartInput{Subject: subject, Metric: prev.Metric, PolicyID: prev.PolicyID, HolderID: prev.HolderID,
				Match: Match{Priority: prev.Priority, Grade: prev.Grade, NodePath: prev.NodePath}}
			c, err := s.startCycle(ctx, tx, set, in, &prev, prev.Seq+1)
			if err != nil {
				return err
			}
			out = append(out, *c)
		}
		return nil
	})
	return out, err
}

// latestCycles returns the cycle with the highest seq of each metric.
func (s *Service) latestCycles(ctx context.Context, subject string) ([]Cycle, error) {
	all, err := s.Cycles(ctx, subject)
	if err != nil {
		return nil, err
	}
	var out []Cycle
	for i, c := range all {
		if i+1 == len(all) || all[i+1].Metric != c.Metric {
			out = append(out, c)
		}
	}
	return out, nil
}

// Assign records who now holds the subject on its open cycles; the next
// warning goes to them. An unknown staff id is EInvalid on "holder_id".
func (s *Service) Assign(ctx context.Context, subject string, holderID *int64) error {
	return s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		open, err := s.openCycles(ctx, subject)
		if err != nil {
			return err
		}
		for _, c := range open {
			if _, err := tx.ExecContext(ctx, `UPDATE sla_cycles SET holder_id = ?, rev = rev + 1, updated_at = ? WHERE id = ?`, idOrNil(holderID), db.Ms(tx.Now), c.ID); err != nil {
				if db.IsForeignKey(err) {
					return errs.Invalid("holder_id", "error.field.unknown_id")
				}
				return fmt.Errorf("sla: assign cycle %d: %w", c.ID, err)
			}
			if err := s.record(ctx, tx, &c, "assigned", nil, map[string]any{"holder_id": holderID}); err != nil {
				return err
			}
		}
		return nil
	})
}

// openCycles reads a subject's open cycles without locking them.
func (s *Service) openCycles(ctx context.Context, subject string) ([]Cycle, error) {
	all, err := s.Cycles(ctx, subject)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c Cycle) bool { return !c.Open() }), nil
}

// SignalInput is an event of a subject, for policies that name the events
// that start and stop their clocks.
type SignalInput struct {
	Subject  string    `json:"subject"`
	Event    string    `json:"event"` // e.g. created, acknowledged, resolved
	Match    Match     `json:"match"`
	HolderID *int64    `json:"holder_id"`
	At       time.Time `json:"at"`
}

// SignalResult says which clocks an event stopped and started.
type SignalResult struct {
	Stopped []Cycle `json:"stopped"`
	Started []Cycle `json:"started"`
}

// Signal applies a subject's event: open cycles whose target stops on it
// are stopped, then each metric whose best target (for Match) starts on it
// gets a cycle. A domain module can drive every clock with Signal alone.
func (s *Service) Signal(ctx context.Context, in SignalInput) (*SignalResult, error) {
	if err := validSubject(in.Subject); err != nil {
		return nil, err
	}
	res := &SignalResult{Stopped: []Cycle{}, Started: []Cycle{}}
	err := s.withTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.metric FROM sla_cycles c JOIN sla_targets t ON t.id = c.target_id
			WHERE c.subject = ? AND c.state IN ('running', 'paused') AND t.stop_event = ? ORDER BY c.id`, in.Subject, in.Event)
		if err != nil {
			return fmt.Errorf("sla: signal %s: %w", in.Event, err)
		}
		var stop []string
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return err
			}
			stop = append(stop, m)
		}
		rows.Close()
		for _, m := range stop {
			c, err := s.Stop(ctx, in.Subject, m)
			if err != nil {
				return err
			}
			res.Stopped = append(res.Stopped, *c)
		}
		set, err := s.policySet(ctx)
		if err != nil {
			return err
		}
		metrics := set.metricsStartedBy(in.Match, in.Event)
		for _, m := range metrics {
			_, t, err := set.resolve(0, in.Match, m)
			if err != nil || t.StartEvent != in.Event {
				continue // another policy or target governs this metric
			}
			c, err := s.startIn(ctx, tx, set, StartInput{Subject: in.Subject, Metric: m, Match: in.Match, HolderID: in.HolderID, At: in.At})
			if err != nil {
				return err
			}
			res.Started = append(res.Started, *c)
		}
		return nil
	})
	return res, err
}

// metricsStartedBy lists the metrics that some target of a policy covering
// m starts on event.
func (set *policySet) metricsStartedBy(m Match, event string) []string {
	var out []string
	for _, p := range set.candidates(m) {
		for _, t := range p.Targets {
			if t.StartEvent == event && !slices.Contains(out, t.Metric) {
				out = append(out, t.Metric)
			}
		}
	}
	return out
}
