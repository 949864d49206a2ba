package db_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// Many writers at once, some of which fail, panic or give up: every write
// that was acknowledged is there and readable the moment WithTx returns,
// nothing of a failed one is, and one failure takes nobody else's writes
// with it. On SQLite the writers share commits (group commit); the same
// must hold on PostgreSQL, where each has its own transaction.
func TestConcurrentWritersKeepTheirOwnOutcome(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const n = 200
		insert := func(ctx context.Context, tx *db.Tx, key string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, key, "v", db.Ms(tx.Now))
			return err
		}
		exists := func(key string) bool {
			var c int
			if err := d.R.QueryRowContext(ctx, d.Rebind(`SELECT COUNT(*) FROM settings WHERE key = ?`), key).Scan(&c); err != nil {
				t.Error(err)
			}
			return c == 1
		}
		var mu sync.Mutex
		shared := map[any]int{} // transaction → writers in it
		outcome := make([]string, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				key := fmt.Sprintf("w%03d", i)
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				if i%10 == 9 {
					cancel() // gave up before its turn
				}
				var afterCommitSaw bool
				err := func() (err error) {
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("panic: %v", p)
						}
					}()
					return d.WithTx(cctx, func(ctx context.Context, tx *db.Tx) error {
						mu.Lock()
						shared[tx.Sql]++
						mu.Unlock()
						if err := insert(ctx, tx, key); err != nil {
							return err
						}
						tx.AfterCommit(func() { afterCommitSaw = exists(key) })
						time.Sleep(200 * time.Microsecond)
						switch i % 10 {
						case 3:
							return errors.New("refused")
						case 5:
							panic("bug")
						case 7:
							return insert(ctx, tx, key) // a unique violation
						}
						return nil
					})
				}()
				switch {
				case err == nil && afterCommitSaw:
					outcome[i] = "ok"
				case err == nil:
					outcome[i] = "ok, but AfterCommit ran before its row was visible"
				default:
					outcome[i] = err.Error()
				}
			}()
		}
		close(start)
		wg.Wait()
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("w%03d", i)
			want := i%10 != 3 && i%10 != 5 && i%10 != 7 && i%10 != 9
			if got := outcome[i] == "ok"; got != want {
				t.Errorf("writer %d: %s", i, outcome[i])
			}
			if exists(key) != want {
				t.Errorf("writer %d (%s): row there = %v", i, outcome[i], !want)
			}
		}
		if d.Dialect == db.SQLite && len(shared) >= n {
			t.Errorf("%d writers in %d transactions: no group commit", n, len(shared))
		}
		t.Logf("%d writers in %d transactions", n, len(shared))
	})
}

// A writer whose function does not return (t.Fatal in a test, a Goexit)
// is rolled back and the committer goes on.
func TestGoexitInsideATransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('gone', '', 0)`); err != nil {
					return err
				}
				runtime.Goexit()
				return nil
			})
		}()
		<-done
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('kept', '', 0)`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		rows, err := d.R.QueryContext(ctx, `SELECT key FROM settings WHERE key IN ('gone', 'kept') ORDER BY key`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			rows.Scan(&k)
			keys = append(keys, k)
		}
		if fmt.Sprint(keys) != "[kept]" {
			t.Fatalf("rows: %v", keys)
		}
	})
}

// SQLite's group commit against two mistakes a writer's function can make.
// A function that opens a second transaction from inside its own (with a
// context of its own) waits for a turn that cannot come: with a deadline
// it fails alone, and writers behind it go on. A function that swallows
// the error of a statement that rolled the whole transaction back
// (OR ROLLBACK here; a full disk does the same) must not make the writers
// grouped with it believe anything: whoever is told their write committed
// finds it, whoever is told it failed finds nothing.
func TestGroupCommitSurvivesMisbehavingWriters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Dialect != db.SQLite {
			t.Skip("group commit is SQLite's")
		}
		ctx := context.Background()
		put := func(ctx context.Context, tx *db.Tx, key string) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, '', 0)`, key)
			return err
		}
		has := func(key string) bool {
			var n int
			if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key = ?`, key).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		var inner error
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			inner = d.WithTx(short, func(ctx context.Context, tx *db.Tx) error { return put(ctx, tx, "inner") })
			return put(ctx, tx, "outer")
		})
		if err != nil || !errors.Is(inner, context.DeadlineExceeded) || !has("outer") || has("inner") {
			t.Fatalf("nested transaction: outer %v, inner %v", err, inner)
		}
		if err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error { return put(ctx, tx, "after") }); err != nil || !has("after") {
			t.Fatalf("a writer after it: %v", err)
		}

		if err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error { return put(ctx, tx, "taken") }); err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		var wg sync.WaitGroup
		results := map[string]error{}
		var mu sync.Mutex
		run := func(name string, fn func(ctx context.Context, tx *db.Tx) error) {
			defer wg.Done()
			err := d.WithTx(ctx, fn)
			mu.Lock()
			results[name] = err
			mu.Unlock()
		}
		wg.Add(3)
		go run("blocker", func(ctx context.Context, tx *db.Tx) error {
			close(started)
			time.Sleep(150 * time.Millisecond) // the next two queue meanwhile and share a transaction
			return put(ctx, tx, "blocker")
		})
		<-started
		go run("swallow", func(ctx context.Context, tx *db.Tx) error {
			if err := put(ctx, tx, "swallow"); err != nil {
				return err
			}
			_, _ = tx.ExecContext(ctx, `INSERT OR ROLLBACK INTO settings (key, value, updated_at) VALUES ('taken', '', 0)`)
			return nil // the error, and the rollback, ignored
		})
		time.Sleep(20 * time.Millisecond)
		go run("honest", func(ctx context.Context, tx *db.Tx) error { return put(ctx, tx, "honest") })
		wg.Wait()
		for _, name := range []string{"blocker", "swallow", "honest"} {
			if told, found := results[name] == nil, has(name); told != found {
				t.Errorf("%s: told committed %v (%v), row there %v", name, told, results[name], found)
			}
		}
	})
}
