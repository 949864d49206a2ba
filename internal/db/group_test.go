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
