package db_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// Committed pages reach the database file without any commit having to
// checkpoint: the background checkpointer copies them while writers go on
// (the writer's own threshold, 64 MiB of log, is never reached here).
func TestBackgroundCheckpoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Dialect != db.SQLite {
			t.Skip("SQLite's write-ahead log")
		}
		ctx := context.Background()
		var seq int
		var name, file string
		if err := d.R.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil || file == "" {
			t.Fatalf("database file: %q %v", file, err)
		}
		size := func(path string) int64 {
			fi, err := os.Stat(path)
			if err != nil {
				return 0
			}
			return fi.Size()
		}
		before := size(file)
		blob := strings.Repeat("x", 4000)
		for i := 0; i < 2000; i++ { // about 8 MB in 200 transactions
			err := d.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
				for k := 0; k < 10; k++ {
					if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0)`, "ck"+time.Now().Format(time.RFC3339Nano)+string(rune('a'+k)), blob); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			i += 9
		}
		deadline := time.Now().Add(10 * time.Second)
		for size(file) < before+6<<20 {
			if time.Now().After(deadline) {
				t.Fatalf("database file %d → %d bytes, log %d bytes: nothing checkpointed", before, size(file), size(file+"-wal"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
