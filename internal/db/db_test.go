package db_test

import (
	"context"
	"testing"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestMigrateAndTx(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		pending, err := d.Pending(ctx)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after migrate: %v %v", pending, err)
		}
		// Migrating again is a no-op.
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		// A failing transaction leaves nothing behind.
		err = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, "a", "1", db.Ms(tx.Now)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, "a", "2", db.Ms(tx.Now))
			if !db.IsUnique(err) {
				t.Errorf("want unique violation, got %v", err)
			}
			return err
		})
		if err == nil {
			t.Fatal("want error")
		}
		var n int
		if err := d.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rolled-back rows visible: %d %v", n, err)
		}
		// Nested WithTx joins the outer transaction; reads inside see its rows.
		err = d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			return d.WithTx(ctx, func(ctx context.Context, inner *db.Tx) error {
				if inner != tx {
					t.Error("nested WithTx opened a second transaction")
				}
				if _, err := d.Q(ctx).ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, "b", "x", db.Ms(tx.Now)); err != nil {
					return err
				}
				var v string
				return d.Q(ctx).QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, "b").Scan(&v)
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestRebind(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	got := d.Rebind(`SELECT '?' , x FROM t WHERE a = ? AND b IN (?, ?)`)
	want := `SELECT '?' , x FROM t WHERE a = $1 AND b IN ($2, $3)`
	if got != want {
		t.Fatalf("got %q", got)
	}
}
