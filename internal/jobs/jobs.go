// Package jobs wires River, the durable job queue, on either database. Jobs
// are inserted inside the caller's transaction, so a change and the work it
// causes (a timer, a notification) commit or vanish together.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/guanjia/guanjia/internal/db"
)

// Queue is the application's job queue. Modules register workers and
// periodic jobs before Start; they insert jobs with Insert at any time.
type Queue struct {
	db         *db.DB
	log        *slog.Logger
	workers    *river.Workers
	periodic   []*river.PeriodicJob
	client     *river.Client[*sql.Tx]
	insertOnly bool
}

func driver(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.Dialect == db.SQLite {
		return riversqlite.New(d.W)
	}
	return riverdatabasesql.New(d.W)
}

// Migrate applies River's own schema migrations.
func Migrate(ctx context.Context, d *db.DB) error {
	m, err := rivermigrate.New(driver(d), nil)
	if err != nil {
		return fmt.Errorf("jobs: migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// New returns a queue on d. Nothing runs until Start.
func New(d *db.DB, log *slog.Logger) *Queue {
	return &Queue{db: d, log: log, workers: river.NewWorkers()}
}

// Register adds a worker for one job kind. Call before Start.
func Register[T river.JobArgs](q *Queue, w river.Worker[T]) {
	river.AddWorker(q.workers, w)
}

// Every adds a periodic job run on interval by the elected leader.
func (q *Queue) Every(interval time.Duration, args func() river.JobArgs) {
	q.periodic = append(q.periodic, river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	))
}

// Build makes the River client once every module has registered its workers.
// workers=false gives an insert-only client (commands and tests that enqueue
// but do not work jobs). Building twice is an error.
func (q *Queue) Build(workers bool) error {
	if q.client != nil {
		return errors.New("jobs: queue already built")
	}
	cfg := &river.Config{
		Logger:                      q.log,
		Workers:                     q.workers,
		JobTimeout:                  2 * time.Minute,
		CompletedJobRetentionPeriod: time.Hour,
		MaxAttempts:                 10,
	}
	if workers {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 20}}
		cfg.PeriodicJobs = q.periodic
		if q.db.Dialect == db.SQLite {
			cfg.PollOnly = true
			cfg.FetchPollInterval = 200 * time.Millisecond
		}
	}
	c, err := river.NewClient(driver(q.db), cfg)
	if err != nil {
		return fmt.Errorf("jobs: client: %w", err)
	}
	q.client = c
	q.insertOnly = !workers
	return nil
}

func (q *Queue) built() (*river.Client[*sql.Tx], error) {
	if q.client == nil {
		return nil, errors.New("jobs: queue used before Build")
	}
	return q.client, nil
}

// Start begins working jobs. It returns an error when River cannot start.
func (q *Queue) Start(ctx context.Context) error {
	c, err := q.built()
	if err != nil {
		return err
	}
	if q.insertOnly {
		return errors.New("jobs: queue was built insert-only")
	}
	return c.Start(ctx)
}

// Stop finishes running jobs (up to the context's deadline) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	if q.client == nil || q.insertOnly {
		return nil
	}
	return q.client.Stop(ctx)
}

// Insert enqueues a job in the transaction carried by ctx. Calling it outside
// a transaction is a bug: the job could run before, or without, the change
// it belongs to.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	tx := db.TxFrom(ctx)
	if tx == nil {
		return 0, errors.New("jobs: Insert outside a transaction")
	}
	c, err := q.built()
	if err != nil {
		return 0, err
	}
	res, err := c.InsertTx(ctx, tx.Sql, args, opts)
	if err != nil {
		return 0, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// Cancel cancels a job that has not run yet, inside the caller's transaction.
// A job that already ran or is gone is not an error.
func (q *Queue) Cancel(ctx context.Context, id int64) error {
	tx := db.TxFrom(ctx)
	if tx == nil {
		return errors.New("jobs: Cancel outside a transaction")
	}
	c, err := q.built()
	if err != nil {
		return err
	}
	if _, err := c.JobCancelTx(ctx, tx.Sql, id); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("jobs: cancel %d: %w", id, err)
	}
	return nil
}
