package calendars

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

const recordCols = `id, key, name, spec, builtin, version, created_at, updated_at`

func scanRecord(row interface{ Scan(...any) error }) (*Record, error) {
	var r Record
	var spec string
	var created, updated int64
	if err := row.Scan(&r.ID, &r.Key, &r.Name, &spec, &r.Builtin, &r.Version, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &r.Spec); err != nil {
		return nil, fmt.Errorf("calendars: stored spec of %s: %w", r.Key, err)
	}
	r.CreatedAt, r.UpdatedAt = db.Time(created), db.Time(updated)
	return &r, nil
}

// loadRecord reads a calendar by numeric id or by key. It returns ENotFound
// when neither matches.
func (s *Service) loadRecord(ctx context.Context, ref string) (*Record, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		r, err := scanRecord(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+recordCols+` FROM calendars WHERE id = ?`, id))
		if !db.IsNoRows(err) {
			return recordOrNotFound(r, err, ref)
		}
	}
	return s.loadByKey(ctx, ref)
}

// loadByKey reads a calendar by key; ENotFound when there is none.
func (s *Service) loadByKey(ctx context.Context, key string) (*Record, error) {
	r, err := scanRecord(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+recordCols+` FROM calendars WHERE key = ?`, key))
	return recordOrNotFound(r, err, key)
}

func recordOrNotFound(r *Record, err error, ref string) (*Record, error) {
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.calendar.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("calendars: load %s: %w", ref, err)
	}
	return r, nil
}

// listRecords reads every stored calendar, ordered built-ins first then by key.
// An installation has a handful of calendars, so the list is not paged.
func (s *Service) listRecords(ctx context.Context) ([]Record, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+recordCols+` FROM calendars ORDER BY builtin DESC, key LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("calendars: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// versions reads key → version of every stored calendar (the cache check).
func (s *Service) versions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT key, version FROM calendars`)
	if err != nil {
		return nil, fmt.Errorf("calendars: versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

func marshalSpec(spec calendar.Spec) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("calendars: marshal spec %s: %w", spec.Key, err)
	}
	return string(b), nil
}

// insertRecord writes a new calendar in the open transaction. A key already
// taken is EInvalid on the field "key".
func (s *Service) insertRecord(ctx context.Context, tx *db.Tx, spec calendar.Spec, builtin bool) (int64, error) {
	js, err := marshalSpec(spec)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO calendars (key, name, spec, builtin, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING id`, spec.Key, spec.Name, js, builtin, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
	if db.IsUnique(err) {
		return 0, errs.Invalid("key", "error.calendar.key_taken")
	}
	if err != nil {
		return 0, fmt.Errorf("calendars: insert %s: %w", spec.Key, err)
	}
	return id, nil
}

// updateSpec replaces the definition of a calendar whose version is still
// version, in the open transaction, and bumps the version. It returns
// EConflict when somebody else changed it first.
func (s *Service) updateSpec(ctx context.Context, tx *db.Tx, id, version int64, spec calendar.Spec) error {
	js, err := marshalSpec(spec)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE calendars SET name = ?, spec = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		spec.Name, js, db.Ms(tx.Now), id, version)
	if err != nil {
		return fmt.Errorf("calendars: update %s: %w", spec.Key, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errs.New(errs.EConflict, "error.calendar.changed_meanwhile")
	}
	return nil
}

// siteChain is one node of a path, top-down, as calendar resolution needs it.
type siteChain struct {
	id       int64
	kind     string
	siteKind string
	calendar string
}

// nodeChain reads the nodes of an org path ("/1/4/9/"), top-down.
func (s *Service) nodeChain(ctx context.Context, path string) ([]siteChain, error) {
	var ids []any
	for _, p := range strings.Split(strings.Trim(path, "/"), "/") {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, errs.NotFound("error.org.node_not_found")
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, kind, site_kind, calendar, depth FROM org_nodes WHERE id IN (`+db.Placeholders(len(ids))+`) ORDER BY depth`, ids...)
	if err != nil {
		return nil, fmt.Errorf("calendars: nodes of %s: %w", path, err)
	}
	defer rows.Close()
	var out []siteChain
	for rows.Next() {
		var n siteChain
		var depth int
		if err := rows.Scan(&n.id, &n.kind, &n.siteKind, &n.calendar, &depth); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errs.NotFound("error.org.node_not_found")
	}
	return out, nil
}

// nodePath reads the path of a node.
func (s *Service) nodePath(ctx context.Context, id int64) (string, error) {
	var p string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, id).Scan(&p)
	if db.IsNoRows(err) {
		return "", errs.NotFound("error.org.node_not_found")
	}
	if err != nil {
		return "", fmt.Errorf("calendars: node %d: %w", id, err)
	}
	return p, nil
}
