package sla

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/calendars"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/timers"
)

// DefaultBatch is how many cycles one recompute transaction handles.
const DefaultBatch = 500

// Service runs SLA clocks. It is safe for concurrent use; several instances
// on one PostgreSQL database cooperate through row locks and the timers.
type Service struct {
	db     *db.DB
	jobs   *jobs.Queue
	timers *timers.Service
	cals   *calendars.Service
	audit  *audit.Log
	log    *slog.Logger
	// Now is the clock of every change made outside a firing; tests replace it.
	Now func() time.Time
	// Batch is how many cycles a recompute transaction handles.
	Batch int
	// AfterBreach, when set, is called once a breach has committed, with the
	// cycle's deadline: the benchmark measures detection lag with it.
	AfterBreach func(cycleID int64, dueAt time.Time)

	policies policyCache
}

// New returns the SLA service. It registers its timer handler on tm and its
// recompute worker on q, and recomputes open cycles whenever a calendar
// changes; call it before q is built.
func New(d *db.DB, q *jobs.Queue, tm *timers.Service, cals *calendars.Service, log *audit.Log, logger *slog.Logger) *Service {
	s := &Service{db: d, jobs: q, timers: tm, cals: cals, audit: log, log: logger, Batch: DefaultBatch,
		Now: func() time.Time { return time.Now().UTC() }}
	tm.Handle(TimerKind, s.onTimer)
	jobs.Register(q, &recomputeWorker{s: s})
	cals.OnChange(func(ctx context.Context, key string) error {
		tx := db.TxFrom(ctx)
		return s.enqueueRecompute(ctx, tx, key, 0)
	})
	return s
}

// now is the instant of a change: the open transaction's, else the clock.
func (s *Service) now(ctx context.Context) time.Time {
	if tx := db.TxFrom(ctx); tx != nil {
		return tx.Now
	}
	return s.Now().UTC().Truncate(time.Millisecond)
}

// withTx runs fn in a transaction at the service's clock (or joins the
// caller's).
func (s *Service) withTx(ctx context.Context, fn func(ctx context.Context, tx *db.Tx) error) error {
	return s.db.WithTxAt(ctx, s.Now(), fn)
}

// timerSubject names the timer of a cycle.
func timerSubject(cycleID int64) string { return "cycle:" + strconv.FormatInt(cycleID, 10) }

func cycleOfTimer(subject string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimPrefix(subject, "cycle:"), 10, 64)
	return id, err == nil && strings.HasPrefix(subject, "cycle:")
}
