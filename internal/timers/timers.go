// Package timers keeps durable deadlines. A timer is a row written in the
// transaction of the change that sets it; it fires exactly once, in its own
// transaction that also holds whatever the handler does.
//
// Every instance runs a scheduler that reads the pending rows coming due
// within a few seconds, at start and every half second, and fires each at
// its instant (River's scheduler works in 5-second steps, too coarse for a
// 10-minute acknowledgement deadline). Timers that fell due while no
// instance ran are read by the first poll after a start. Several instances
// may race for a timer: the UPDATE that claims it lets exactly one through.
// A failing handler rolls its firing back; the timer records the attempt
// and the error and waits, longer after each failure, before the next try.
//
// Earlier versions also queued a River job per timer as a backstop; the
// row alone is durable, so a timer costs one INSERT. The worker stays
// registered for jobs such versions left queued.
package timers

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/jobs"
)

// Timer is a fired timer as its handler sees it.
type Timer struct {
	ID      int64
	Kind    string
	Subject string
	DueAt   time.Time
	Payload json.RawMessage
}

// Handler runs a fired timer inside the firing transaction (ctx carries it).
// An error rolls the firing back; the timer stays pending and is retried.
type Handler func(ctx context.Context, t Timer) error

// Config tunes the in-process scheduler.
type Config struct {
	Poll      time.Duration // how often the database is read for timers coming due
	Lookahead time.Duration // how far ahead a read looks
	Retry     time.Duration // the wait after a handler's first failure; it doubles with each next one, up to an hour
	Batch     int           // timers read per poll
	Workers   int           // timers fired at once
	// FireBatch caps how many timers that are due together one transaction
	// fires. Timers due one at a time fire one to a transaction; when they
	// come due faster than they fire, a worker takes all that wait, up to
	// this many, and commits them together.
	FireBatch int
}

// DefaultConfig fires within a few milliseconds of the instant while a
// process runs, and at the first poll after a start otherwise.
func DefaultConfig() Config {
	return Config{Poll: 500 * time.Millisecond, Lookahead: 3 * time.Second, Retry: 30 * time.Second, Batch: 5000, Workers: 4, FireBatch: 64}
}

// maxRetry caps the wait between two tries of a failing timer.
const maxRetry = time.Hour

// Service schedules and fires timers.
type Service struct {
	db       *db.DB
	q        *jobs.Queue
	log      *slog.Logger
	cfg      Config
	mu       sync.Mutex
	handlers map[string]Handler
	queue    dueHeap
	queued   map[int64]bool
	wake     chan struct{}
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Fired counts firings by this process (for tests and metrics).
	fired int64
}

// New returns a timer service and registers on q the worker of the backstop
// jobs that earlier versions queued.
func New(d *db.DB, q *jobs.Queue, log *slog.Logger, cfg Config) *Service {
	if cfg.Poll == 0 {
		cfg = DefaultConfig()
	}
	if cfg.FireBatch <= 0 {
		cfg.FireBatch = 1
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultConfig().Retry
	}
	s := &Service{db: d, q: q, log: log, cfg: cfg, handlers: map[string]Handler{}, queued: map[int64]bool{},
		wake: make(chan struct{}, 1), Now: func() time.Time { return time.Now().UTC() }}
	jobs.Register(q, &backstopWorker{s: s})
	return s
}

// Handle registers the handler of a kind. Call before Start.
func (s *Service) Handle(kind string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[kind] = h
}

// FireArgs is the backstop job earlier versions queued with each timer.
type FireArgs struct {
	TimerID int64 `json:"timer_id"`
}

// Kind names the job.
func (FireArgs) Kind() string { return "timers.fire" }

type backstopWorker struct {
	river.WorkerDefaults[FireArgs]
	s *Service
}

func (w *backstopWorker) Work(ctx context.Context, j *river.Job[FireArgs]) error {
	_, err := w.s.Fire(ctx, j.Args.TimerID)
	return err
}

// Schedule sets a timer inside the transaction carried by ctx and returns
// its id. It fails outside a transaction.
func (s *Service) Schedule(ctx context.Context, kind, subject string, at time.Time, payload any) (int64, error) {
	tx := db.TxFrom(ctx)
	if tx == nil {
		return 0, errors.New("timers: Schedule outside a transaction")
	}
	var body string
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return 0, fmt.Errorf("timers: payload: %w", err)
		}
		body = string(b)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO timers (kind, subject, due_at, payload, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		kind, subject, db.Ms(at), body, db.Ms(tx.Now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("timers: schedule %s: %w", kind, err)
	}
	tx.AfterCommit(func() { s.offer(id, at) })
	return id, nil
}

// Cancel cancels a pending timer in the caller's transaction. Cancelling a
// timer that fired or was cancelled already is not an error.
func (s *Service) Cancel(ctx context.Context, id int64) error {
	_, err := db.TxOrFail(ctx).ExecContext(ctx, `UPDATE timers SET state = 'cancelled' WHERE id = ? AND state = 'pending'`, id)
	if err != nil {
		return fmt.Errorf("timers: cancel %d: %w", id, err)
	}
	return nil
}

// CancelSubject cancels every pending timer of a kind and subject.
func (s *Service) CancelSubject(ctx context.Context, kind, subject string) error {
	_, err := db.TxOrFail(ctx).ExecContext(ctx, `UPDATE timers SET state = 'cancelled' WHERE kind = ? AND subject = ? AND state = 'pending'`, kind, subject)
	if err != nil {
		return fmt.Errorf("timers: cancel %s %s: %w", kind, subject, err)
	}
	return nil
}

// Fire fires one timer now if it is still pending (whatever its retry
// time), running its handler in the same transaction. It reports whether
// this call fired it. When the handler fails, the timer stays pending and
// records the failure and the time of its next try.
func (s *Service) Fire(ctx context.Context, id int64) (bool, error) {
	fired := false
	err := s.db.WithTxAt(ctx, s.Now(), func(ctx context.Context, tx *db.Tx) error {
		var err error
		fired, err = s.fireIn(ctx, tx, id)
		return err
	})
	if err != nil {
		fired = false
		var he *handlerError
		if errors.As(err, &he) { // not a lost transaction or a claim the database refused
			s.failed(ctx, id, err)
		}
	}
	if fired {
		s.mu.Lock()
		s.fired++
		s.mu.Unlock()
	}
	return fired, err
}

// fireAll fires several due timers in one transaction: one commit for all
// instead of one each, which is what lets the scheduler catch up when
// timers fall due faster than single commits go. Each timer still fires
// with its handler's changes or not at all. When a handler fails, the whole
// transaction rolls back and each timer is fired alone, so the failing one
// neither holds the others back nor loses its retry; the ids that failed
// alone are returned with their errors.
func (s *Service) fireAll(ctx context.Context, ids []int64) map[int64]error {
	if len(ids) > 1 {
		// In id order, so that two schedulers claiming overlapping
		// batches wait for each other instead of deadlocking.
		slices.Sort(ids)
		fired := 0
		err := s.db.WithTxAt(ctx, s.Now(), func(ctx context.Context, tx *db.Tx) error {
			for _, id := range ids {
				ok, err := s.fireIn(ctx, tx, id)
				if err != nil {
					return err
				}
				if ok {
					fired++
				}
			}
			return nil
		})
		if err == nil {
			s.mu.Lock()
			s.fired += int64(fired)
			s.mu.Unlock()
			return nil
		}
	}
	var failed map[int64]error
	for _, id := range ids {
		if _, err := s.Fire(ctx, id); err != nil {
			if failed == nil {
				failed = map[int64]error{}
			}
			failed[id] = err
		}
	}
	return failed
}

// fireIn claims a pending timer and runs its handler in tx; it reports
// whether the timer was still pending.
func (s *Service) fireIn(ctx context.Context, tx *db.Tx, id int64) (bool, error) {
	var t Timer
	var due int64
	var payload string
	err := tx.QueryRowContext(ctx, `UPDATE timers SET state = 'fired', fired_at = ?, attempts = attempts + 1 WHERE id = ? AND state = 'pending'
		RETURNING kind, subject, due_at, payload`, db.Ms(tx.Now), id).Scan(&t.Kind, &t.Subject, &due, &payload)
	if db.IsNoRows(err) {
		return false, nil // fired elsewhere, or cancelled
	}
	if err != nil {
		return false, fmt.Errorf("timers: claim %d: %w", id, err)
	}
	t.ID, t.DueAt = id, db.Time(due)
	if payload != "" {
		t.Payload = json.RawMessage(payload)
	}
	s.mu.Lock()
	h := s.handlers[t.Kind]
	s.mu.Unlock()
	if h == nil {
		return false, &handlerError{fmt.Errorf("timers: no handler for kind %q", t.Kind)}
	}
	if err := h(ctx, t); err != nil {
		return false, &handlerError{fmt.Errorf("timers: %s %s: %w", t.Kind, t.Subject, err)}
	}
	return true, nil
}

// handlerError is a firing that failed in its handler (or for want of
// one): what the timer records and backs off for. Other failures (a lost
// transaction, a refused claim) retry at the next poll.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// failed records a failed firing: one more attempt, the error, and a retry
// time that doubles with each failure.
func (s *Service) failed(ctx context.Context, id int64, cause error) {
	err := s.db.WithTxAt(context.WithoutCancel(ctx), s.Now(), func(ctx context.Context, tx *db.Tx) error {
		var attempts int
		err := tx.QueryRowContext(ctx, `UPDATE timers SET attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'pending' RETURNING attempts`,
			truncate(cause.Error(), 2000), id).Scan(&attempts)
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		wait := s.cfg.Retry
		for i := 1; i < attempts && wait < maxRetry; i++ {
			wait *= 2
		}
		_, err = tx.ExecContext(ctx, `UPDATE timers SET retry_at = ? WHERE id = ?`, db.Ms(tx.Now.Add(min(wait, maxRetry))), id)
		return err
	})
	if err != nil {
		s.log.Warn("timers: recording a failure", "timer", id, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// FiredCount returns how many timers this process fired.
func (s *Service) FiredCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired
}

// offer puts a just-scheduled timer on the in-process queue when it is due
// within the lookahead; later ones are read by a later poll.
func (s *Service) offer(id int64, at time.Time) {
	if at.Sub(s.Now()) > s.cfg.Lookahead {
		return
	}
	s.mu.Lock()
	if !s.queued[id] {
		s.queued[id] = true
		heap.Push(&s.queue, dueItem{id: id, at: at})
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run fires timers until ctx ends. Every instance may run it.
func (s *Service) Run(ctx context.Context) {
	work := make(chan []int64)
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ids := range work {
				failed := s.fireAll(context.WithoutCancel(ctx), ids)
				s.mu.Lock()
				for _, id := range ids {
					delete(s.queued, id)
				}
				s.mu.Unlock()
				for id, err := range failed {
					s.log.Warn("timer failed; it will be retried", "timer", id, "err", err)
				}
			}
		}()
	}
	defer func() { close(work); wg.Wait() }()
	poll := time.NewTicker(s.cfg.Poll)
	defer poll.Stop()
	s.poll(ctx)
	for {
		s.mu.Lock()
		var next time.Duration = time.Hour
		var due []int64
		now := s.Now()
		for s.queue.Len() > 0 {
			top := s.queue[0]
			if d := top.at.Sub(now); d > 0 {
				next = d
				break
			}
			heap.Pop(&s.queue)
			due = append(due, top.id)
		}
		s.mu.Unlock()
		if len(due) > 0 {
			for len(due) > 0 {
				n := min(len(due), s.cfg.FireBatch)
				select {
				case work <- due[:n]:
				case <-ctx.Done():
					return
				}
				due = due[n:]
			}
			continue // more may have fallen due meanwhile
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-poll.C:
			s.poll(ctx)
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// poll reads the timers coming due within the lookahead; a timer waiting
// for its retry comes due at its retry time.
func (s *Service) poll(ctx context.Context) {
	horizon := db.Ms(s.Now().Add(s.cfg.Lookahead))
	rows, err := s.db.R.QueryContext(ctx, s.db.Rebind(`SELECT id, CASE WHEN retry_at > due_at THEN retry_at ELSE due_at END FROM timers
		WHERE state = 'pending' AND due_at <= ? AND (retry_at IS NULL OR retry_at <= ?) ORDER BY due_at LIMIT ?`), horizon, horizon, s.cfg.Batch)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("timers: poll", "err", err)
		}
		return
	}
	defer rows.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for rows.Next() {
		var id, due int64
		if err := rows.Scan(&id, &due); err != nil {
			return
		}
		if !s.queued[id] {
			s.queued[id] = true
			heap.Push(&s.queue, dueItem{id: id, at: db.Time(due)})
		}
	}
}

type dueItem struct {
	id int64
	at time.Time
}

type dueHeap []dueItem

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
