package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

const policyCols = `id, key, name, enabled, case_type, category, node_id, node_path, calendar, ladder, builtin, version, updated_at`

func scanPolicy(row interface{ Scan(...any) error }) (*Policy, error) {
	var p Policy
	var node sql.NullInt64
	var ladder string
	var updated int64
	if err := row.Scan(&p.ID, &p.Key, &p.Name, &p.Enabled, &p.CaseType, &p.Category, &node, &p.NodePath, &p.Calendar, &ladder, &p.Builtin, &p.Version, &updated); err != nil {
		return nil, err
	}
	if node.Valid {
		p.NodeID = &node.Int64
	}
	if err := json.Unmarshal([]byte(ladder), &p.Ladder); err != nil {
		return nil, fmt.Errorf("sla: ladder of policy %d: %w", p.ID, err)
	}
	p.UpdatedAt = db.Time(updated)
	return &p, nil
}

const targetCols = `id, metric, priority, grade, name, target_minutes, business, warn_pct, start_event, stop_event, pause_states`

func scanTarget(row interface{ Scan(...any) error }) (Target, error) {
	var t Target
	var pause string
	err := row.Scan(&t.ID, &t.Metric, &t.Priority, &t.Grade, &t.Name, &t.Minutes, &t.Business, &t.WarnPct, &t.StartEvent, &t.StopEvent, &pause)
	t.PauseStates = splitList(pause)
	return t, err
}

// splitList reads a comma-separated list; an empty text is an empty list.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadPolicy reads a policy with its targets; ENotFound when there is none.
func (s *Service) loadPolicy(ctx context.Context, id int64) (*Policy, error) {
	p, err := scanPolicy(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+policyCols+` FROM sla_policies WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.sla.policy_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("sla: load policy %d: %w", id, err)
	}
	if p.Targets, err = s.loadTargets(ctx, id); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Service) loadTargets(ctx context.Context, policyID int64) ([]Target, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+targetCols+` FROM sla_targets WHERE policy_id = ? ORDER BY sort, id`, policyID)
	if err != nil {
		return nil, fmt.Errorf("sla: targets of policy %d: %w", policyID, err)
	}
	defer rows.Close()
	out := []Target{}
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// listPolicies reads every policy with its targets. An installation has
// tens of policies, so the list is bounded rather than paged.
func (s *Service) listPolicies(ctx context.Context) ([]Policy, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+policyCols+` FROM sla_policies ORDER BY case_type, key LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("sla: list policies: %w", err)
	}
	var out []Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, *p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Targets, err = s.loadTargets(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writePolicy inserts (id 0) or updates a policy row in the open transaction
// and returns its id. A key in use is EInvalid on "key".
func (s *Service) writePolicy(ctx context.Context, tx *db.Tx, p *Policy) (int64, error) {
	ladder, err := json.Marshal(p.Ladder)
	if err != nil {
		return 0, fmt.Errorf("sla: marshal ladder: %w", err)
	}
	var node any
	if p.NodeID != nil {
		node = *p.NodeID
	}
	if err := s.touchPolicies(ctx, tx); err != nil {
		return 0, err
	}
	if p.ID == 0 {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO sla_policies (key, name, enabled, case_type, category, node_id, node_path, calendar, ladder, builtin, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
			p.Key, p.Name, p.Enabled, p.CaseType, p.Category, node, p.NodePath, p.Calendar, string(ladder), p.Builtin, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&id)
		if db.IsUnique(err) {
			return 0, errs.Invalid("key", "error.sla.key_taken")
		}
		if err != nil {
			return 0, fmt.Errorf("sla: insert policy %s: %w", p.Key, err)
		}
		return id, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE sla_policies SET name = ?, enabled = ?, case_type = ?, category = ?, node_id = ?, node_path = ?, calendar = ?, ladder = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		p.Name, p.Enabled, p.CaseType, p.Category, node, p.NodePath, p.Calendar, string(ladder), db.Ms(tx.Now), p.ID, p.Version)
	if err != nil {
		return 0, fmt.Errorf("sla: update policy %d: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return 0, errs.New(errs.EConflict, "error.sla.changed_meanwhile")
	}
	return p.ID, nil
}

// writeTargets makes the stored targets of a policy equal ts: rows with the
// same metric, priority and grade keep their id (open cycles keep pointing
// at them), new ones are added and the rest removed.
func (s *Service) writeTargets(ctx context.Context, tx *db.Tx, policyID int64, ts []Target) error {
	old, err := s.loadTargets(ctx, policyID)
	if err != nil {
		return err
	}
	key := func(t Target) string { return t.Metric + "\x00" + t.Priority + "\x00" + t.Grade }
	existing := map[string]int64{}
	for _, t := range old {
		existing[key(t)] = t.ID
	}
	for i, t := range ts {
		pause := strings.Join(t.PauseStates, ",")
		if id, ok := existing[key(t)]; ok {
			delete(existing, key(t))
			if _, err := tx.ExecContext(ctx, `UPDATE sla_targets SET name = ?, target_minutes = ?, business = ?, warn_pct = ?, start_event = ?, stop_event = ?, pause_states = ?, sort = ? WHERE id = ?`,
				t.Name, t.Minutes, t.Business, t.WarnPct, t.StartEvent, t.StopEvent, pause, i, id); err != nil {
				return fmt.Errorf("sla: update target %d: %w", id, err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sla_targets (policy_id, metric, priority, grade, name, target_minutes, business, warn_pct, start_event, stop_event, pause_states, sort)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			policyID, t.Metric, t.Priority, t.Grade, t.Name, t.Minutes, t.Business, t.WarnPct, t.StartEvent, t.StopEvent, pause, i); err != nil {
			return fmt.Errorf("sla: insert target %s: %w", t.Metric, err)
		}
	}
	for _, id := range existing {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sla_targets WHERE id = ?`, id); err != nil {
			return fmt.Errorf("sla: delete target %d: %w", id, err)
		}
	}
	return nil
}
