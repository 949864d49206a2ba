package flow

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/flow/machine"
)

// createTask writes a task row for the machine's TaskCreated, resolving the
// assignee and candidate users to staff ids (a username or a numeric id).
// Candidate groups are role keys or dept:<kind> / dept:<id>.
func (e *Engine) createTask(ctx context.Context, tx *db.Tx, l *loaded, x machine.TaskCreated) (*Task, error) {
	t := &Task{InstanceID: l.ID, ElementID: x.ElementID, Name: x.Name, Priority: x.Priority, FormKey: x.FormKey}
	if t.Priority == 0 {
		t.Priority = 50
	}
	if t.Name == "" {
		t.Name = x.ElementID
	}
	var assignee any
	if x.Assignee != "" {
		id, err := e.staffRef(ctx, tx, x.Assignee)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			assignee = id
			t.AssigneeID = &id
		}
	}
	var users []int64
	for _, u := range x.CandidateUsers {
		id, err := e.staffRef(ctx, tx, u)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			users = append(users, id)
		}
	}
	due, follow := optMs(x.DueAt), optMs(x.FollowUpAt)
	var claimed any
	if assignee != nil {
		claimed = db.Ms(tx.Now)
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO flow_tasks (instance_id, token_id, element_id, name, definition_key, business_key, node_path, assignee_id,
		candidate_groups, candidate_users, due_at, follow_up_at, priority, form_key, mi_index, created_at, claimed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		l.ID, x.TokenID, x.ElementID, t.Name, l.DefinitionKey, l.BusinessKey, l.NodePath, assignee,
		strings.Join(x.CandidateGroups, " "), joinIDs(users), due, follow, t.Priority, x.FormKey, x.MIIndex, db.Ms(tx.Now), claimed).Scan(&t.ID)
	if err != nil {
		return nil, fmt.Errorf("flow: create task %s: %w", x.ElementID, err)
	}
	if assignee == nil {
		if err := e.addCandidates(ctx, tx, t.ID, l.NodePath, due, x.CandidateGroups, users); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func optMs(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.Ms(t)
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " ")
}

func (e *Engine) addCandidates(ctx context.Context, tx *db.Tx, taskID int64, path string, due any, groups []string, users []int64) error {
	n := 0
	var args []any
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" {
			args = append(args, taskID, "group", g, path, due)
			n++
		}
	}
	for _, u := range users {
		args = append(args, taskID, "user", strconv.FormatInt(u, 10), path, due)
		n++
	}
	if n == 0 {
		return nil
	}
	q := `INSERT INTO flow_task_candidates (task_id, kind, ref, node_path, due_at) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", ") +
		` ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("flow: task candidates: %w", err)
	}
	return nil
}

// staffRef resolves "42" or a username to a staff id; 0 when unknown (the
// task then waits unassigned, visible to dispatchers).
func (e *Engine) staffRef(ctx context.Context, q db.Querier, ref string) (int64, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return 0, nil
	}
	var id int64
	var err error
	if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		err = q.QueryRowContext(ctx, `SELECT id FROM staff WHERE id = ? AND status <> 'left'`, n).Scan(&id)
	} else {
		err = q.QueryRowContext(ctx, `SELECT id FROM staff WHERE username = ? AND status <> 'left'`, ref).Scan(&id)
	}
	if db.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

// closeTask marks the open task of a token completed or cancelled and drops
// its candidates; it returns the task id, 0 when there was no open task.
func (e *Engine) closeTask(ctx context.Context, tx *db.Tx, instanceID, tokenID int64, state string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `UPDATE flow_tasks SET state = ?, completed_at = ? WHERE instance_id = ? AND token_id = ? AND state = 'open' RETURNING id`,
		state, db.Ms(tx.Now), instanceID, tokenID).Scan(&id)
	if db.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("flow: close task: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM flow_task_candidates WHERE task_id = ?`, id); err != nil {
		return 0, err
	}
	return id, nil
}

const taskCols = `t.id, t.instance_id, t.element_id, t.name, t.definition_key, t.business_key, t.state, t.assignee_id, t.owner_id,
	t.candidate_groups, t.candidate_users, t.due_at, t.follow_up_at, t.priority, t.form_key, t.reminders, t.created_at, t.claimed_at,
	t.completed_at, t.dispatched_by, t.dispatched_at, t.node_path, COALESCE(s.name, '')`

const taskFrom = ` FROM flow_tasks t LEFT JOIN staff s ON s.id = t.assignee_id`

func scanTask(row interface{ Scan(...any) error }, nowMs int64) (*Task, error) {
	var t Task
	var assignee, owner, due, follow, claimed, completed, dispBy, dispAt sql.NullInt64
	var groups, users string
	var created int64
	if err := row.Scan(&t.ID, &t.InstanceID, &t.ElementID, &t.Name, &t.DefinitionKey, &t.BusinessKey, &t.State, &assignee, &owner,
		&groups, &users, &due, &follow, &t.Priority, &t.FormKey, &t.Reminders, &created, &claimed, &completed, &dispBy, &dispAt, &t.NodePath, &t.AssigneeName); err != nil {
		return nil, err
	}
	if assignee.Valid {
		t.AssigneeID = &assignee.Int64
	}
	if owner.Valid {
		t.OwnerID = &owner.Int64
	}
	if dispBy.Valid {
		t.DispatchedBy = &dispBy.Int64
	}
	t.CandidateGroups, t.CandidateUsers = fields(groups), fields(users)
	t.DueAt, t.FollowUpAt, t.ClaimedAt, t.CompletedAt, t.DispatchedAt = db.TimePtr(due), db.TimePtr(follow), db.TimePtr(claimed), db.TimePtr(completed), db.TimePtr(dispAt)
	t.CreatedAt = db.Time(created)
	t.Overdue = t.State == "open" && due.Valid && due.Int64 < nowMs
	return &t, nil
}

func fields(s string) []string {
	f := strings.Fields(s)
	if f == nil {
		return []string{}
	}
	return f
}
