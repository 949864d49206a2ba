package flow

import (
	"context"
	"database/sql"
	"sync"

	"github.com/guanjia/guanjia/internal/db"
)

// maxPrepared bounds the statements kept prepared: the engine's steps use
// a few dozen texts (history inserts vary with their row count); anything
// beyond runs unprepared as before.
const maxPrepared = 128

// stmtCache keeps the statements of the engine's steps prepared on the
// write pool and binds them into each transaction. Profiling the
// three-task benchmark on SQLite showed a third of the CPU in parsing and
// planning the same dozen statements at every step.
//
// A statement cannot be prepared on the pool inside a transaction: on
// SQLite the transaction holds the only write connection. So the cache
// learns: a statement first seen in a transaction runs unprepared and is
// noted; prepareNoted, called by the entry points before they begin their
// transaction, prepares what was noted. Thereafter database/sql reuses the
// statement on every connection it was prepared on.
type stmtCache struct {
	db       *db.DB
	prepared sync.Map // rebound text → *sql.Stmt

	mu    sync.Mutex
	noted map[string]bool
	count int // prepared or noted
}

func newStmtCache(d *db.DB) *stmtCache { return &stmtCache{db: d, noted: map[string]bool{}} }

// prepareNoted prepares the statements noted since the last call. ctx must
// carry no transaction. A statement that fails to prepare is forgotten and
// keeps running unprepared.
func (c *stmtCache) prepareNoted(ctx context.Context) {
	if db.TxFrom(ctx) != nil {
		return
	}
	c.mu.Lock()
	if len(c.noted) == 0 {
		c.mu.Unlock()
		return
	}
	qs := make([]string, 0, len(c.noted))
	for q := range c.noted {
		qs = append(qs, q)
	}
	c.noted = map[string]bool{}
	c.mu.Unlock()
	for _, q := range qs {
		s, err := c.db.W.PrepareContext(ctx, q)
		if err != nil {
			s = nil // remembered as unpreparable: it keeps running unprepared
		}
		c.prepared.Store(q, s)
	}
}

// stmt returns the prepared statement of q bound to tx, or nil after
// noting q for the next prepareNoted. A nil cache prepares nothing.
func (c *stmtCache) stmt(ctx context.Context, tx *db.Tx, q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	q = c.db.Rebind(q)
	if s, ok := c.prepared.Load(q); ok {
		if s := s.(*sql.Stmt); s != nil {
			return tx.Sql.StmtContext(ctx, s)
		}
		return nil
	}
	c.mu.Lock()
	if !c.noted[q] && c.count < maxPrepared {
		c.noted[q] = true
		c.count++
	}
	c.mu.Unlock()
	return nil
}

// exec runs a statement in tx, prepared when it can be.
func (c *stmtCache) exec(ctx context.Context, tx *db.Tx, q string, args ...any) (sql.Result, error) {
	if s := c.stmt(ctx, tx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// queryRow runs a one-row query in tx, prepared when it can be.
func (c *stmtCache) queryRow(ctx context.Context, tx *db.Tx, q string, args ...any) *sql.Row {
	if s := c.stmt(ctx, tx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}
