package db

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Rebind turns ? placeholders into $n on PostgreSQL. Question marks inside
// single-quoted literals are left alone. Results are cached per query text.
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	if v, ok := d.rebinds.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n, inStr := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	d.rebinds.Store(q, out)
	return out
}

// ILike is the case-insensitive LIKE operator of the dialect.
func (d *DB) ILike() string {
	if d.Dialect == Postgres {
		return "ILIKE"
	}
	return "LIKE" // SQLite's LIKE ignores ASCII case; CJK has none.
}

// StrPos is the dialect's function for the 1-based position of a substring
// (arguments: string, substring); 0 when absent.
func (d *DB) StrPos() string {
	if d.Dialect == Postgres {
		return "strpos"
	}
	return "instr"
}

// OneWriter reports whether write transactions run one at a time (SQLite):
// then a row every writer updates costs no waiting of its own, and work
// that would take a short transaction of its own elsewhere belongs in the
// caller's.
func (d *DB) OneWriter() bool { return d.Dialect == SQLite }

// Placeholders returns "?, ?, ?" for n values.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// Ms is how an instant is stored: milliseconds since the Unix epoch (UTC) in
// a BIGINT column, the same on both dialects, compact to index and compare.
func Ms(t time.Time) int64 { return t.UnixMilli() }

// MsPtr stores an optional instant; nil stays NULL.
func MsPtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// Time reads a stored instant back, in UTC.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// TimePtr reads an optional stored instant.
func TimePtr(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := Time(ms.Int64)
	return &t
}

// IsUnique reports whether err is a unique-constraint violation.
func IsUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKey reports whether err is a foreign-key violation.
func IsForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// IsNoRows reports whether err says a one-row query found nothing.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// ForUpdate locks the selected rows for the transaction on PostgreSQL. On
// SQLite the write transaction (BEGIN IMMEDIATE) already holds the lock.
func (d *DB) ForUpdate() string {
	if d.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}
