package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// The statement cache keeps SQLite's statements prepared per connection.
// These are the cases where reusing a statement could go wrong: the same
// text run again while its rows are still open, eviction while rows are
// open, and a schema change under a prepared statement. PostgreSQL has no
// such layer of ours (pgx caches statements itself, and one connection
// cannot run a query inside another's open rows).
func TestStatementReuse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Dialect != db.SQLite {
			t.Skip("the statement cache is SQLite's")
		}
		ctx := context.Background()
		err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE reuse_t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
				return err
			}
			for i := 1; i <= 5; i++ {
				if _, err := tx.ExecContext(ctx, `INSERT INTO reuse_t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
					return err
				}
			}
			const all = `SELECT id, v FROM reuse_t WHERE id >= ? ORDER BY id`
			// The same text nested inside its own open rows, with other
			// arguments: each iteration sees its own results.
			outer, err := tx.QueryContext(ctx, all, 1)
			if err != nil {
				return err
			}
			var seen []string
			for outer.Next() {
				var id int
				var v string
				if err := outer.Scan(&id, &v); err != nil {
					return err
				}
				var n int
				inner, err := tx.QueryContext(ctx, all, id)
				if err != nil {
					return err
				}
				for inner.Next() {
					n++
				}
				if err := inner.Close(); err != nil {
					return err
				}
				seen = append(seen, fmt.Sprintf("%s:%d", v, n))
				// More distinct texts than the cache holds, while the
				// outer rows are open: eviction must not touch them.
				if id == 2 {
					for k := 0; k < 600; k++ {
						var got int
						if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d + ?`, k), 1).Scan(&got); err != nil || got != k+1 {
							return fmt.Errorf("text %d: %d %v", k, got, err)
						}
					}
				}
			}
			if err := outer.Close(); err != nil {
				return err
			}
			if fmt.Sprint(seen) != "[v1:5 v2:4 v3:3 v4:2 v5:1]" {
				t.Errorf("nested reuse: %v", seen)
			}
			// A schema change under a prepared statement: the new column
			// is seen by the same text.
			cols := func() int {
				rows, err := tx.QueryContext(ctx, `SELECT * FROM reuse_t WHERE id = ?`, 1)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				c, _ := rows.Columns()
				return len(c)
			}
			if n := cols(); n != 2 {
				t.Errorf("before: %d columns", n)
			}
			if _, err := tx.ExecContext(ctx, `ALTER TABLE reuse_t ADD COLUMN w TEXT`); err != nil {
				return err
			}
			if n := cols(); n != 3 {
				t.Errorf("after ALTER TABLE: %d columns, want 3", n)
			}
			// A failing statement leaves the cached one usable.
			if _, err := tx.ExecContext(ctx, `INSERT INTO reuse_t (id, v) VALUES (?, ?)`, 1, "dup"); !db.IsUnique(err) {
				t.Errorf("duplicate: %v", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reuse_t (id, v) VALUES (?, ?)`, 6, "v6"); err != nil {
				return err
			}
			return fmt.Errorf("roll back") // leave no table behind
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatal(err)
		}
	})
}
