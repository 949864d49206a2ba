package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit for SQLite. SQLite has one writer, so write transactions run
// one after another whatever we do; what costs is each commit: every commit
// appends every page it touched to the WAL (a new case touches some forty
// pages of ten tables and their indexes) and now and then checkpoints.
// Writers that queue while a transaction runs are therefore run together
// in the next one, each after the first inside its own savepoint, and
// committed once: a caller whose function fails is rolled back alone (the
// first by rolling back the transaction, which then holds nothing else),
// and no caller returns before the commit that holds its writes has
// succeeded.
//
// Each caller runs its function in its own goroutine (a panic or a test's
// t.Fatal stays where it belongs); the committer hands the transaction
// from one to the next. Statements run on a context without cancellation:
// interrupting a write inside a transaction makes SQLite roll back the
// whole transaction, which would take the other callers' writes with it.
type group struct {
	d      *DB
	mu     sync.Mutex
	queue  []*groupCall
	wake   chan struct{}
	closed bool
	done   chan struct{}
}

type groupCall struct {
	ctx context.Context
	// claim is who decided the call's fate first: the committer taking it
	// (callTaken) or its caller giving up while it waited (callAbandoned).
	claim  atomic.Int32
	turn   chan *sql.Tx // the transaction, when this call's turn comes; closed without one when it is skipped
	yield  chan error   // the function's result (errAborted for a panic or Goexit)
	result chan error   // the commit's outcome, or why the call was skipped
}

// Batch bounds: a batch takes at most groupMax calls, and stops taking
// more once it has run for groupSpan, so that an overload turns into more
// commits rather than ever longer ones.
const (
	groupMax  = 128
	groupSpan = 20 * time.Millisecond
)

const (
	callTaken     = 1
	callAbandoned = 2
)

var (
	errAborted = errors.New("db: the transaction's function did not return")
	errClosed  = errors.New("db: closed")
)

func newGroup(d *DB) *group {
	g := &group{d: d, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go g.loop()
	return g
}

// close stops the committer after the calls already queued.
func (g *group) close() {
	g.mu.Lock()
	already := g.closed
	g.closed = true
	g.mu.Unlock()
	if already {
		return
	}
	select {
	case g.wake <- struct{}{}:
	default:
	}
	<-g.done
}

// run is withNewTx on SQLite.
func (g *group) run(ctx context.Context, now time.Time, fn func(ctx context.Context, tx *Tx) error) (err error) {
	c := &groupCall{ctx: ctx, turn: make(chan *sql.Tx, 1), yield: make(chan error, 1), result: make(chan error, 1)}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	g.queue = append(g.queue, c)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
	// Waiting for a turn ends with the caller's context: a caller that
	// gives up is skipped, so a function that (wrongly) opens a second
	// transaction from inside its own, with a deadline, fails alone
	// instead of holding every writer behind it.
	var stx *sql.Tx
	var ok bool
	select {
	case stx, ok = <-c.turn:
	case <-ctx.Done():
		if c.claim.CompareAndSwap(0, callAbandoned) {
			return ctx.Err()
		}
		stx, ok = <-c.turn // the committer took it first: it is ours to run
	}
	if !ok {
		return <-c.result
	}
	tx := &Tx{db: g.d, Sql: stx, Now: now}
	returned := false
	defer func() {
		if !returned { // fn panicked or called runtime.Goexit: the committer undoes its writes
			c.yield <- errAborted
		}
	}()
	err = fn(context.WithValue(context.WithoutCancel(ctx), txKey{}, tx), tx)
	returned = true
	c.yield <- err
	if err != nil {
		return err
	}
	if err := <-c.result; err != nil {
		return err
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

func (g *group) loop() {
	defer close(g.done)
	for {
		g.mu.Lock()
		batch := g.queue
		g.queue = nil
		closed := g.closed
		g.mu.Unlock()
		if len(batch) == 0 {
			if closed {
				return
			}
			<-g.wake
			continue
		}
		for len(batch) > 0 {
			batch = g.commit(batch)
		}
	}
}

// commit runs calls from the head of batch in one transaction and commits
// it; it returns the calls it had no room for.
func (g *group) commit(batch []*groupCall) []*groupCall {
	stx, err := g.d.W.BeginTx(context.Background(), nil)
	if err != nil {
		for _, c := range batch {
			skip(c, fmt.Errorf("db: begin: %w", err))
		}
		return nil
	}
	ctx := context.Background()
	began := time.Now()
	var ok []*groupCall
	var broken error // the transaction itself failed: nothing in it may commit
	exec := func(q string) {
		if broken == nil {
			if _, err := stx.ExecContext(ctx, q); err != nil {
				broken = err
			}
		}
	}
	// The mark: a row of a temporary table written in the transaction.
	// The first call runs without a savepoint (a savepoint copies every
	// page a call changes aside, the costliest part of a small group); a
	// statement of it that rolled the whole transaction back (a full disk,
	// an I/O error, OR ROLLBACK) takes the mark with it, even when its
	// function carried on as if nothing happened, and then nothing of the
	// group may commit.
	exec(`CREATE TEMP TABLE IF NOT EXISTS group_mark (x INTEGER)`)
	exec(`INSERT INTO temp.group_mark (x) VALUES (1)`)
	first := true
	n := 0
	for _, c := range batch {
		if n == groupMax || (n > 0 && time.Since(began) > groupSpan) {
			break
		}
		n++
		if !c.claim.CompareAndSwap(0, callTaken) {
			continue // its caller gave up waiting
		}
		if err := c.ctx.Err(); err != nil {
			skip(c, err)
			continue
		}
		if broken != nil {
			skip(c, fmt.Errorf("db: transaction lost: %w", broken))
			continue
		}
		if first {
			first = false
			c.turn <- stx
			if err := <-c.yield; err != nil {
				// Its failure is the transaction's alone: roll it back and
				// give the calls after it a new one.
				_ = stx.Rollback()
				return batch[n:]
			}
			var marks int
			if err := stx.QueryRowContext(ctx, `SELECT COUNT(*) FROM temp.group_mark`).Scan(&marks); err != nil {
				broken = err
			} else if marks != 1 {
				broken = errors.New("db: a statement rolled the transaction back and its writer carried on")
			}
			ok = append(ok, c)
			continue
		}
		// The calls after the first run in savepoints: a failure rolls
		// back to its own, and a savepoint lost with the transaction makes
		// RELEASE fail.
		exec(`SAVEPOINT g`)
		if broken != nil {
			skip(c, fmt.Errorf("db: transaction lost: %w", broken))
			continue
		}
		c.turn <- stx
		if err := <-c.yield; err != nil {
			exec(`ROLLBACK TO g`)
		} else {
			ok = append(ok, c)
		}
		exec(`RELEASE g`)
	}
	exec(`DELETE FROM temp.group_mark`)
	switch {
	case broken != nil:
		_ = stx.Rollback()
		for _, c := range ok {
			c.result <- fmt.Errorf("db: transaction lost: %w", broken)
		}
	case len(ok) == 0:
		_ = stx.Rollback()
	default:
		if err := stx.Commit(); err != nil {
			for _, c := range ok {
				c.result <- fmt.Errorf("db: commit: %w", err)
			}
		} else {
			for _, c := range ok {
				c.result <- nil
			}
		}
	}
	return batch[n:]
}

func skip(c *groupCall, err error) {
	c.result <- err
	close(c.turn)
}
