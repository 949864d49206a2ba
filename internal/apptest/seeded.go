package apptest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// Seeded describes a large database that benchmarks run on: seeding a
// million rows takes minutes, so on SQLite the result is kept between runs
// and each run starts from a copy of it.
type Seeded struct {
	// Name begins the cached file's name. It must be unique among the
	// benchmarks, because seeding a new file removes the older files that
	// carry the same name.
	Name string
	// Version is part of the cache key. Raise it whenever Seed changes what
	// it writes, or runs would keep measuring the data the old code seeded.
	Version int
	// PIIKeys opens the application both for seeding and for the run, so
	// the personal data sealed while seeding can be read back, as a
	// deployment keeps its key ring across restarts.
	PIIKeys string
	// Seed writes the benchmark's data into an application started on the
	// demo data.
	Seed func(ctx context.Context, e *Env) error
}

// StartSeeded starts the application on the database s describes. SQLite:
// a copy of a file cached under $TMPDIR/guanjia-bench, seeded on the first
// run (300 to 450 MB for a million cases). PostgreSQL: a fresh database
// seeded on every run, since dbtest gives each test its own database and
// keeps none, then analysed, as autovacuum would do soon after a load like
// this (the planner would otherwise plan for empty tables).
func StartSeeded(b *testing.B, dialect db.Dialect, s Seeded) *Env {
	b.Helper()
	ctx := context.Background()
	configure := func(c *app.Config) { c.PIIKeys = s.PIIKeys }
	if dialect == db.Postgres {
		e := StartWith(b, dbtest.Open(b, db.Postgres), configure)
		if err := s.Seed(ctx, e); err != nil {
			b.Fatal(err)
		}
		if _, err := e.DB.W.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
		return e
	}
	dir := filepath.Join(os.TempDir(), "guanjia-bench")
	cached := filepath.Join(dir, s.Name+"-"+seedCacheKey(b, s.Version)+".db")
	if _, err := os.Stat(cached); err != nil {
		seedFile(b, s, dir, cached, configure)
	}
	// Each run works on a copy: the application writes a little when it
	// starts and when someone signs in, and the cached file must stay as
	// seeded.
	path := filepath.Join(b.TempDir(), "seeded.db")
	if err := copyFile(cached, path); err != nil {
		b.Fatal(err)
	}
	d, err := db.Open(ctx, db.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return StartWith(b, d, configure)
}

// seedFile seeds the SQLite file cached. It seeds into a temporary file
// named after this process and renames it when done, so a run that is
// interrupted, or another process seeding at the same time, never leaves
// a half-seeded file under the cached name.
func seedFile(b *testing.B, s Seeded, dir, cached string, configure func(*app.Config)) {
	b.Helper()
	ctx := context.Background()
	began := time.Now()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", cached, os.Getpid())
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(f)
	}
	d, err := db.Open(ctx, db.Config{Path: tmp})
	if err != nil {
		b.Fatal(err)
	}
	e := StartWith(b, d, configure)
	if err := s.Seed(ctx, e); err != nil {
		b.Fatal(err)
	}
	// The checkpoint moves everything into the main file, so that renaming
	// that one file moves all the data.
	if _, err := d.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	e.Server.Close()
	d.Close()
	if err := os.Rename(tmp, cached); err != nil {
		b.Fatal(err)
	}
	// Files of the same name seeded for other migrations or an older
	// Version are never read again, and each takes hundreds of megabytes.
	old, _ := filepath.Glob(filepath.Join(dir, s.Name+"-m*-*.db"))
	for _, f := range old {
		if f != cached {
			os.Remove(f)
			os.Remove(f + "-wal")
			os.Remove(f + "-shm")
		}
	}
	b.Logf("seeded %s in %v", cached, time.Since(began).Round(time.Second))
}

// seedCacheKey names a cached file after the number of migrations and a
// hash of their text and of version, so that a new or edited migration, or
// a change to the seeding, seeds a new file instead of opening one whose
// schema or data no longer match.
func seedCacheKey(tb testing.TB, version int) string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(migrationsDir(tb), "*.sql"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("migrations: %v", err)
	}
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "v%d\n", version)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return fmt.Sprintf("m%d-%s", len(files), hex.EncodeToString(h.Sum(nil))[:10])
}

// migrationsDir finds internal/db/migrations from this file's own place in
// the source tree: a test runs in its own package's folder, so a path
// relative to the working folder would hold only for packages at one
// depth.
func migrationsDir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("apptest: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "db", "migrations")
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Bulk inserts rows into one table with multi-row INSERTs, per rows to a
// statement, so that seeding a million rows pays for a few thousand
// statements rather than a million. It is test setup only: it bypasses the
// application, so nothing it writes gets events, processes or clocks.
type Bulk struct {
	tx    *db.Tx
	table string
	head  string
	cols  int
	per   int
	args  []any
}

// NewBulk starts a bulk insert of cols into table within tx.
func NewBulk(tx *db.Tx, table string, cols []string, per int) *Bulk {
	return &Bulk{tx: tx, table: table, head: `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `, cols: len(cols), per: per}
}

// Add queues one row, its values in the order of the columns, and inserts
// the queued rows once there are per of them.
func (b *Bulk) Add(ctx context.Context, vals ...any) error {
	if len(vals) != b.cols {
		// A short row would shift every later value into the wrong column.
		return fmt.Errorf("bulk %s: %d values for %d columns", b.table, len(vals), b.cols)
	}
	b.args = append(b.args, vals...)
	if len(b.args) == b.cols*b.per {
		return b.Flush(ctx)
	}
	return nil
}

// Flush inserts the rows still queued; call it after the last Add.
func (b *Bulk) Flush(ctx context.Context) error {
	n := len(b.args) / b.cols
	if n == 0 {
		return nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.cols), ", ") + ")"
	q := b.head + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
	if _, err := b.tx.ExecContext(ctx, q, b.args...); err != nil {
		return fmt.Errorf("bulk %s: %w", b.table, err)
	}
	b.args = b.args[:0]
	return nil
}

// Explain returns the plan the database chooses for query, a line for each
// row of the plan (SQLite's EXPLAIN QUERY PLAN details, PostgreSQL's
// EXPLAIN text). Benchmarks on seeded data check it before they measure: a
// query that has lost its index still answers, only slower, and a timing
// alone does not say why.
func (e *Env) Explain(query string, args ...any) ([]string, error) {
	ctx := context.Background()
	explain := `EXPLAIN QUERY PLAN `
	if e.DB.Dialect == db.Postgres {
		explain = `EXPLAIN `
	}
	rows, err := e.DB.Q(ctx).QueryContext(ctx, explain+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		// The last column holds the step's text in both databases; the
		// others are SQLite's ids of the step and its parent.
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	return plan, rows.Err()
}
