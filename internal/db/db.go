// Package db opens the database (embedded SQLite or PostgreSQL), applies the
// embedded migrations and carries transactions in the context. It is the only
// package that knows which dialect is in use; the helpers below keep the few
// differences tiny so every module writes one set of queries.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"
)

// Dialect names the SQL flavour.
type Dialect string

// The two dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Sync is the SQLite synchronous setting.
type Sync string

// SQLite durability levels. In WAL mode, SyncNormal keeps every committed
// transaction across a crash of the process (SIGKILL, panic, OOM kill): the
// commit is in the WAL file before Commit returns. Only a power loss or an
// operating-system crash can roll back the last transactions since the most
// recent checkpoint. SyncFull fsyncs the WAL on every commit and survives
// power loss too, at about a tenth of the commit rate.
const (
	SyncNormal Sync = "normal"
	SyncFull   Sync = "full"
)

// Config says where the data lives.
type Config struct {
	// URL is a postgres:// URL, or empty for SQLite.
	URL string
	// Path is the SQLite file (ignored for PostgreSQL).
	Path string
	// Sync is the SQLite synchronous level; default SyncNormal.
	Sync Sync
	// MaxConns caps the PostgreSQL pool and the SQLite read pool.
	MaxConns int
}

// DB is an open database. W takes every write transaction; R serves reads
// outside transactions. On PostgreSQL both are the same pool. On SQLite W
// has exactly one connection, so writers queue in Go instead of spinning on
// SQLITE_BUSY, and R has several, which WAL lets read concurrently.
type DB struct {
	Dialect Dialect
	W       *sql.DB
	R       *sql.DB
	// URL is the PostgreSQL URL ("" for SQLite), for the connections that
	// database/sql cannot serve (LISTEN for live updates across instances).
	URL     string
	rebinds sync.Map      // query text -> rebound text (PostgreSQL)
	group   *group        // SQLite: write transactions committed in groups
	ckpt    *checkpointer // SQLite: checkpoints outside the writer's commits
}

// Open opens the database described by cfg. It does not migrate.
// It returns an error when the database cannot be reached.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 8
	}
	if strings.HasPrefix(cfg.URL, "postgres://") || strings.HasPrefix(cfg.URL, "postgresql://") {
		return openPostgres(ctx, cfg)
	}
	if cfg.URL != "" {
		return nil, fmt.Errorf("db: unsupported database URL %q (want postgres://… or empty for SQLite)", redact(cfg.URL))
	}
	return openSQLite(ctx, cfg)
}

func openPostgres(ctx context.Context, cfg Config) (*DB, error) {
	p, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("db: open postgres: %w", err)
	}
	p.SetMaxOpenConns(cfg.MaxConns)
	p.SetMaxIdleConns(cfg.MaxConns)
	p.SetConnMaxIdleTime(5 * time.Minute)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("db: connect postgres %s: %w", redact(cfg.URL), err)
	}
	return &DB{Dialect: Postgres, W: p, R: p, URL: cfg.URL}, nil
}

func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Path == "" {
		return nil, errors.New("db: no SQLite path")
	}
	if cfg.Sync == "" {
		cfg.Sync = SyncNormal
	}
	if cfg.Sync != SyncNormal && cfg.Sync != SyncFull {
		return nil, fmt.Errorf("db: SQLite synchronous must be normal or full, not %q", cfg.Sync)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o750); err != nil {
		return nil, fmt.Errorf("db: %w", err)
	}
	// busy_timeout comes first so the pragmas after it wait instead of failing.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(" + string(cfg.Sync) + ")&_pragma=temp_store(memory)&_pragma=cache_size(-32000)"
	w, err := openSQLitePool("file:" + cfg.Path + "?" + pragmas + "&_txlock=immediate" + fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", writerAutoCheckpoint))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open sqlite %s: %w", cfg.Path, err)
	}
	r, err := openSQLitePool("file:" + cfg.Path + "?" + pragmas + "&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(cfg.MaxConns)
	r.SetMaxIdleConns(cfg.MaxConns)
	// The checkpointer waits briefly for locks: a RESTART checkpoint holds
	// the writer's lock while it waits for readers.
	ck, err := openSQLitePool("file:" + cfg.Path + "?" + strings.Replace(pragmas, "busy_timeout(10000)", "busy_timeout(100)", 1))
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	d := &DB{Dialect: SQLite, W: w, R: r}
	d.group = newGroup(d)
	d.ckpt = startCheckpointer(ck)
	return d, nil
}

// openSQLitePool opens a pool whose connections keep their statements
// prepared (see cachingConnector).
func openSQLitePool(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite: %w", err)
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

// Close stops the group committer and the checkpointer and closes the pools.
func (d *DB) Close() error {
	if d.group != nil {
		d.group.close()
	}
	var err error
	if d.ckpt != nil {
		err = d.ckpt.close()
	}
	err = errors.Join(err, d.W.Close())
	if d.R != d.W {
		err = errors.Join(err, d.R.Close())
	}
	return err
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.R.PingContext(ctx) }

func redact(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
