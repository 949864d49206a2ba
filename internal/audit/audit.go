// Package audit is the system log: who changed what, when, from where, with
// the before and after state. Rows are written in the transaction of the
// change they describe, so the log never disagrees with the data.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/db"
)

// Actor is who is acting: a staff member, an API token, or the system.
type Actor struct {
	ID   int64 // staff id; 0 for the system
	Name string
	IP   string
}

type actorKey struct{}

// WithActor returns ctx carrying the actor for audit rows.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; the zero Actor means the system.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// Entry is one change to record.
type Entry struct {
	Action   string // create, update, delete, login, login_failed, unmask, ...
	Entity   string // staff, role, org_node, ...
	EntityID any
	NodePath string // org scope of the entity, for subtree filtering
	Summary  string
	Before   any // marshalled to JSON; nil for none
	After    any
}

// Log writes and reads the system log.
type Log struct{ db *db.DB }

// New returns the system log on d.
func New(d *db.DB) *Log { return &Log{db: d} }

// Record writes e in the transaction carried by ctx. It returns an error when
// called outside a transaction: an audit row must commit with its change.
func (l *Log) Record(ctx context.Context, e Entry) error {
	tx := db.TxFrom(ctx)
	if tx == nil {
		return errors.New("audit: Record outside a transaction")
	}
	a := ActorFrom(ctx)
	before, err := marshal(e.Before)
	if err != nil {
		return err
	}
	after, err := marshal(e.After)
	if err != nil {
		return err
	}
	var actor any
	if a.ID != 0 {
		actor = a.ID
	}
	name := a.Name
	if name == "" && a.ID == 0 {
		name = "system"
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor_id, actor_name, ip, action, entity, entity_id, node_path, summary, before_json, after_json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		db.Ms(tx.Now), actor, name, a.IP, e.Action, e.Entity, idString(e.EntityID), e.NodePath, e.Summary, before, after)
	if err != nil {
		return fmt.Errorf("audit: record %s %s: %w", e.Action, e.Entity, err)
	}
	return nil
}

func idString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func marshal(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: marshal: %w", err)
	}
	return string(b), nil
}

// Row is a stored log entry.
type Row struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	ActorID   *int64          `json:"actor_id"`
	ActorName string          `json:"actor_name"`
	IP        string          `json:"ip"`
	Action    string          `json:"action"`
	Entity    string          `json:"entity"`
	EntityID  string          `json:"entity_id"`
	Summary   string          `json:"summary"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
}

// Filter selects log rows. Scope restricts to subtrees (nil: everything the
// caller may see is decided by the caller; an empty non-nil slice: nothing).
type Filter struct {
	ActorID  int64
	Entity   string
	EntityID string
	Action   string
	From, To time.Time
	Scope    []string
	BeforeID int64 // keyset paging: rows with id < BeforeID
	Limit    int
}

// List returns rows newest first, and whether more exist.
func (l *Log) List(ctx context.Context, f Filter) ([]Row, bool, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if f.ActorID != 0 {
		add("actor_id = ?", f.ActorID)
	}
	if f.Entity != "" {
		add("entity = ?", f.Entity)
	}
	if f.EntityID != "" {
		add("entity_id = ?", f.EntityID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.From.IsZero() {
		add("at >= ?", db.Ms(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", db.Ms(f.To))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	if f.Scope != nil {
		if len(f.Scope) == 0 {
			return nil, false, nil
		}
		parts := make([]string, 0, len(f.Scope)+1)
		for _, s := range f.Scope {
			parts = append(parts, "node_path LIKE ?")
			args = append(args, s+"%")
		}
		if hasRoot(f.Scope) {
			parts = append(parts, "node_path = ''")
		}
		where = append(where, "("+strings.Join(parts, " OR ")+")")
	}
	q := `SELECT id, at, actor_id, actor_name, ip, action, entity, entity_id, summary, before_json, after_json FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := l.db.Q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var at int64
		var actor sql.NullInt64
		var before, after string
		if err := rows.Scan(&r.ID, &at, &actor, &r.ActorName, &r.IP, &r.Action, &r.Entity, &r.EntityID, &r.Summary, &before, &after); err != nil {
			return nil, false, fmt.Errorf("audit: scan: %w", err)
		}
		r.At = db.Time(at)
		if actor.Valid {
			r.ActorID = &actor.Int64
		}
		if before != "" {
			r.Before = json.RawMessage(before)
		}
		if after != "" {
			r.After = json.RawMessage(after)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// hasRoot reports whether a scope includes a company root ("/n/"), whose
// holders also see rows with no org scope (logins, system settings).
func hasRoot(scope []string) bool {
	for _, s := range scope {
		if strings.Count(s, "/") == 2 {
			return true
		}
	}
	return false
}
