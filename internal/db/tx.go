package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Querier is what a store runs its SQL on: the open transaction or a pool.
// Queries are written with ? placeholders; on PostgreSQL they are rebound to
// $1, $2, … before they reach the driver.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is an open write transaction with the one instant that all of its rows
// use, so a change and its audit row agree on the time.
type Tx struct {
	db  *DB
	Sql *sql.Tx
	Now time.Time
	// afterCommit runs once the transaction has committed (notifications to
	// live subscribers, in-process timers). Never for a rollback.
	afterCommit []func()
}

type txKey struct{}

// TxFrom returns the transaction carried by ctx, or nil.
func TxFrom(ctx context.Context) *Tx {
	tx, _ := ctx.Value(txKey{}).(*Tx)
	return tx
}

// WithTx runs fn in a write transaction. A call nested inside another WithTx
// joins the outer transaction. fn's error (or a panic) rolls back; a nil
// return commits. It returns fn's error, or the commit error.
func (d *DB) WithTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) (err error) {
	if tx := TxFrom(ctx); tx != nil {
		return fn(ctx, tx)
	}
	return d.withNewTx(ctx, time.Now().UTC().Truncate(time.Millisecond), fn)
}

// WithTxAt is WithTx with a given transaction instant (tests and the fake clock).
func (d *DB) WithTxAt(ctx context.Context, now time.Time, fn func(ctx context.Context, tx *Tx) error) error {
	if tx := TxFrom(ctx); tx != nil {
		return fn(ctx, tx)
	}
	return d.withNewTx(ctx, now.UTC().Truncate(time.Millisecond), fn)
}

func (d *DB) withNewTx(ctx context.Context, now time.Time, fn func(ctx context.Context, tx *Tx) error) (err error) {
	if d.group != nil {
		return d.group.run(ctx, now, fn)
	}
	stx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	tx := &Tx{db: d, Sql: stx, Now: now}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{}, tx), tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// AfterCommit queues f to run after the transaction commits.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.Sql.ExecContext(ctx, tx.db.Rebind(q), args...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return tx.Sql.QueryContext(ctx, tx.db.Rebind(q), args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.Sql.QueryRowContext(ctx, tx.db.Rebind(q), args...)
}

// pool adapts a *sql.DB to Querier with rebinding.
type pool struct {
	db *DB
	p  *sql.DB
}

func (p pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.p.ExecContext(ctx, p.db.Rebind(q), args...)
}
func (p pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.p.QueryContext(ctx, p.db.Rebind(q), args...)
}
func (p pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.p.QueryRowContext(ctx, p.db.Rebind(q), args...)
}

// Q returns the transaction in ctx, or else the read pool. Reads inside a
// transaction must go through it: on SQLite the one write connection is held
// by the transaction, and the read pool would not see its uncommitted rows.
func (d *DB) Q(ctx context.Context) Querier {
	if tx := TxFrom(ctx); tx != nil {
		return tx
	}
	return pool{d, d.R}
}

// Now returns the transaction's instant when ctx carries one, else the wall clock.
func Now(ctx context.Context) time.Time {
	if tx := TxFrom(ctx); tx != nil {
		return tx.Now
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// TxOrFail returns the transaction in ctx; called outside one it returns a
// querier whose every call fails, so a missing transaction is loud.
func TxOrFail(ctx context.Context) Querier {
	if tx := TxFrom(ctx); tx != nil {
		return tx
	}
	return noTx{}
}

type noTx struct{}

var errNoTx = fmt.Errorf("db: this write needs a transaction")

func (noTx) ExecContext(context.Context, string, ...any) (sql.Result, error) { return nil, errNoTx }
func (noTx) QueryContext(context.Context, string, ...any) (*sql.Rows, error) { return nil, errNoTx }
func (noTx) QueryRowContext(context.Context, string, ...any) *sql.Row {
	panic(errNoTx) // a write path reached without its transaction: a bug
}

// Column runs a query of one column and returns its values in order (an
// empty slice, never nil, when there are no rows).
func Column[T any](ctx context.Context, q Querier, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
