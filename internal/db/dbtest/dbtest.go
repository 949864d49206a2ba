// Package dbtest opens fresh, migrated databases for tests: SQLite always,
// and PostgreSQL too when GUANJIA_TEST_POSTGRES holds a server URL. Every
// test gets its own database, dropped when the test ends.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/jobs"
)

// EnvPostgres names the variable with the PostgreSQL server URL for tests.
const EnvPostgres = "GUANJIA_TEST_POSTGRES"

// Each runs fn as a subtest once per database under test ("sqlite", and
// "postgres" when configured).
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, dialect := range Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			fn(t, Open(t, dialect))
		})
	}
}

// Dialects lists the databases under test.
func Dialects() []db.Dialect {
	if os.Getenv(EnvPostgres) != "" {
		return []db.Dialect{db.SQLite, db.Postgres}
	}
	return []db.Dialect{db.SQLite}
}

// Open returns a fresh migrated database of the dialect, closed and removed
// when tb ends.
func Open(tb testing.TB, dialect db.Dialect) *db.DB {
	tb.Helper()
	ctx := context.Background()
	if dialect == db.SQLite {
		d, err := db.Open(ctx, db.Config{Path: filepath.Join(tb.TempDir(), "test.db")})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { d.Close() })
		if err := MigrateAll(ctx, d); err != nil {
			tb.Fatal(err)
		}
		return d
	}
	return openPostgres(tb)
}

// MigrateAll applies our migrations and River's.
func MigrateAll(ctx context.Context, d *db.DB) error {
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

var (
	tplOnce sync.Once
	tplName string
	tplErr  error
)

// Main runs the package's tests and then drops the PostgreSQL template that
// Open made. Use it from TestMain in every package that uses dbtest.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if tplName != "" {
		if admin, err := adminDB(); err == nil {
			_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + tplName)
			admin.Close()
		}
	}
	os.Exit(code)
}

func serverURL() string { return os.Getenv(EnvPostgres) }

func withDB(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func adminDB() (*sql.DB, error) { return sql.Open("pgx", serverURL()) }

func openPostgres(tb testing.TB) *db.DB {
	tb.Helper()
	ctx := context.Background()
	tplOnce.Do(func() { tplName, tplErr = makeTemplate(ctx) })
	if tplErr != nil {
		tb.Fatalf("dbtest: postgres template: %v", tplErr)
	}
	admin, err := adminDB()
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("gj_t_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tplName); err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	d, err := db.Open(ctx, db.Config{URL: withDB(serverURL(), name), MaxConns: 8})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		d.Close()
		a, err := adminDB()
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return d
}

// makeTemplate migrates one database per test process, which every test then
// copies: far faster than migrating for each test.
func makeTemplate(ctx context.Context) (string, error) {
	admin, err := adminDB()
	if err != nil {
		return "", err
	}
	defer admin.Close()
	dropOrphans(ctx, admin)
	name := fmt.Sprintf("gj_tpl_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", err
	}
	d, err := db.Open(ctx, db.Config{URL: withDB(serverURL(), name), MaxConns: 2})
	if err != nil {
		return "", err
	}
	err = MigrateAll(ctx, d)
	d.Close()
	return name, err
}

// dropOrphans removes databases left by test processes that died before
// their cleanup ran.
func dropOrphans(ctx context.Context, admin *sql.DB) {
	rows, err := admin.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'gj\_t%'`)
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		parts := strings.Split(n, "_")
		if len(parts) < 4 {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || processAlive(pid) {
			continue
		}
		_, _ = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+n+` WITH (FORCE)`)
	}
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}
