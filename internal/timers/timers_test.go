package timers_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/timers"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newService(t *testing.T, d *db.DB) *timers.Service {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := jobs.New(d, log)
	cfg := timers.DefaultConfig()
	cfg.Poll = 50 * time.Millisecond
	s := timers.New(d, q, log, cfg)
	if err := q.Build(false); err != nil {
		t.Fatal(err)
	}
	return s
}

func schedule(t *testing.T, d *db.DB, s *timers.Service, kind, subject string, at time.Time) int64 {
	t.Helper()
	var id int64
	err := d.WithTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
		var err error
		id, err = s.Schedule(ctx, kind, subject, at, map[string]string{"note": subject})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func state(t *testing.T, d *db.DB, id int64) string {
	var st string
	if err := d.Q(context.Background()).QueryRowContext(context.Background(), `SELECT state FROM timers WHERE id = ?`, id).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFiresOnTimeOnceAndCommitsWithItsEffects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d)
		var mu sync.Mutex
		firedAt := map[string]time.Time{}
		s.Handle("test", func(ctx context.Context, tm timers.Timer) error {
			// The handler's own writes commit with the firing.
			if _, err := db.TxOrFail(ctx).ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, "fired:"+tm.Subject, string(tm.Payload), 0); err != nil {
				return err
			}
			mu.Lock()
			firedAt[tm.Subject] = time.Now()
			mu.Unlock()
			return nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		start := time.Now()
		soon := schedule(t, d, s, "test", "soon", start.Add(300*time.Millisecond))
		later := schedule(t, d, s, "test", "later", start.Add(5*time.Second)) // beyond the lookahead: found by a poll
		gone := schedule(t, d, s, "test", "gone", start.Add(400*time.Millisecond))
		if err := d.WithTx(context.Background(), func(ctx context.Context, tx *db.Tx) error { return s.Cancel(ctx, gone) }); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if state(t, d, soon) == "fired" && state(t, d, later) == "fired" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if state(t, d, soon) != "fired" || state(t, d, later) != "fired" || state(t, d, gone) != "cancelled" {
			t.Fatalf("states: %s %s %s", state(t, d, soon), state(t, d, later), state(t, d, gone))
		}
		mu.Lock()
		// Instants are stored to the millisecond.
		if firedAt["soon"].Before(start.Add(300*time.Millisecond).Truncate(time.Millisecond)) || firedAt["later"].Before(start.Add(5*time.Second).Truncate(time.Millisecond)) {
			t.Fatalf("fired early: %v", firedAt)
		}
		if _, ok := firedAt["gone"]; ok {
			t.Fatal("cancelled timer fired")
		}
		mu.Unlock()
		// Firing again (another instance, late) finds them fired and does nothing.
		for _, id := range []int64{soon, later, gone} {
			if ok, err := s.Fire(context.Background(), id); ok || err != nil {
				t.Fatalf("second firing of %d: %v %v", id, ok, err)
			}
		}
		var n int
		_ = d.Q(context.Background()).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM settings WHERE key LIKE 'fired:%'`).Scan(&n)
		if n != 2 {
			t.Fatalf("handler effects: %d", n)
		}
	})
}

func TestFailingHandlerRollsBackAndRetries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d)
		var calls atomic.Int32
		s.Handle("flaky", func(ctx context.Context, tm timers.Timer) error {
			if _, err := db.TxOrFail(ctx).ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('half', 'x', 0)`); err != nil {
				return err
			}
			if calls.Add(1) == 1 {
				return errors.New("gateway down")
			}
			return nil
		})
		id := schedule(t, d, s, "flaky", "x", time.Now())
		if ok, err := s.Fire(context.Background(), id); ok || err == nil {
			t.Fatalf("first firing: %v %v", ok, err)
		}
		if state(t, d, id) != "pending" {
			t.Fatal("a failed firing must leave the timer pending")
		}
		var n int
		_ = d.Q(context.Background()).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM settings WHERE key = 'half'`).Scan(&n)
		if n != 0 {
			t.Fatal("a failed handler's writes survived")
		}
		if ok, err := s.Fire(context.Background(), id); !ok || err != nil {
			t.Fatalf("retry: %v %v", ok, err)
		}
	})
}

// Two schedulers on one database (two server instances) fire each timer once.
func TestTwoInstancesFireEachTimerOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a, b := newService(t, d), newService(t, d)
		var count sync.Map
		h := func(ctx context.Context, tm timers.Timer) error {
			v, _ := count.LoadOrStore(tm.ID, new(atomic.Int32))
			v.(*atomic.Int32).Add(1)
			return nil
		}
		a.Handle("race", h)
		b.Handle("race", h)
		const n = 200
		ids := make([]int64, 0, n)
		at := time.Now().Add(500 * time.Millisecond)
		for i := 0; i < n; i++ {
			ids = append(ids, schedule(t, d, a, "race", "r", at))
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, s := range []*timers.Service{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); s.Run(ctx) }()
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && a.FiredCount()+b.FiredCount() < n {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if got := a.FiredCount() + b.FiredCount(); got != n {
			t.Fatalf("fired %d of %d", got, n)
		}
		for _, id := range ids {
			v, ok := count.Load(id)
			if !ok || v.(*atomic.Int32).Load() != 1 {
				t.Fatalf("timer %d fired %v times", id, v)
			}
		}
	})
}

// Timers due together fire together, a batch to a transaction; a failing
// handler rolls its batch back, the others then fire alone and it stays
// pending for its retry.
func TestDueTogetherFireInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d)
		var mu sync.Mutex
		txs := map[*db.Tx]int{} // transaction → timers it fired
		s.Handle("batch", func(ctx context.Context, tm timers.Timer) error {
			if _, err := db.TxOrFail(ctx).ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, '', 0)`, "batch:"+tm.Subject); err != nil {
				return err
			}
			if tm.Subject == "bad" {
				return errors.New("always fails")
			}
			mu.Lock()
			txs[db.TxFrom(ctx)]++
			mu.Unlock()
			return nil
		})
		const n = 150
		at := time.Now().Add(-time.Second) // all overdue: due together
		var bad int64
		for i := 0; i < n; i++ {
			subject := strconv.Itoa(i)
			if i == 70 {
				subject = "bad"
			}
			id := schedule(t, d, s, "batch", subject, at)
			if subject == "bad" {
				bad = id
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) && s.FiredCount() < n-1 {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
		if got := s.FiredCount(); got != n-1 {
			t.Fatalf("fired %d of %d", got, n-1)
		}
		if st := state(t, d, bad); st != "pending" {
			t.Fatalf("the failing timer is %s", st)
		}
		var effects, once int
		_ = d.Q(ctx).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM settings WHERE key LIKE 'batch:%'`).Scan(&effects)
		_ = d.Q(ctx).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM timers WHERE kind = 'batch' AND state = 'fired' AND attempts = 1`).Scan(&once)
		if effects != n-1 || once != n-1 {
			t.Fatalf("%d handler effects and %d timers fired once, want %d", effects, once, n-1)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(txs) >= n-1 {
			t.Fatalf("%d transactions for %d timers due together: no batching", len(txs), n-1)
		}
	})
}

// A failing handler's timer records each failure and waits, longer each
// time, before its scheduler tries again; the wait is in the row, so every
// instance and a restart keep it.
func TestFailuresAreRecordedAndWaitBeforeTheNextTry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		q := jobs.New(d, log)
		cfg := timers.DefaultConfig()
		cfg.Poll, cfg.Retry = 20*time.Millisecond, 300*time.Millisecond
		s := timers.New(d, q, log, cfg)
		if err := q.Build(false); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var tries []time.Time
		s.Handle("down", func(ctx context.Context, tm timers.Timer) error {
			mu.Lock()
			defer mu.Unlock()
			tries = append(tries, time.Now())
			if len(tries) < 3 {
				return errors.New("gateway down")
			}
			return nil
		})
		id := schedule(t, d, s, "down", "x", time.Now())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.Run(ctx); close(done) }()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) && state(t, d, id) != "fired" {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
		var attempts int
		var lastErr string
		if err := d.Q(ctx).QueryRowContext(context.Background(), `SELECT attempts, last_error FROM timers WHERE id = ?`, id).Scan(&attempts, &lastErr); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if state(t, d, id) != "fired" || len(tries) != 3 || attempts != 3 || lastErr != "timers: down x: gateway down" {
			t.Fatalf("state %s, %d tries, attempts %d, last error %q", state(t, d, id), len(tries), attempts, lastErr)
		}
		// The retry times are stored to the millisecond: 300 ms after the
		// first failure, 600 ms after the second.
		if gap := tries[1].Sub(tries[0]); gap < 299*time.Millisecond {
			t.Errorf("second try %v after the first", gap)
		}
		if gap := tries[2].Sub(tries[1]); gap < 599*time.Millisecond {
			t.Errorf("third try %v after the second", gap)
		}
	})
}
