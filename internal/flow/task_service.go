package flow

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/machine"
)

// TaskFilter selects tasks for an inbox.
type TaskFilter struct {
	View    string // mine (default), claimable, all, dispatched
	Overdue bool
	// Unassigned keeps the tasks nobody holds (the dispatch screen).
	Unassigned bool
	Key        string // definition key
	BeforeID   int64
	Limit      int
	Now        time.Time // "overdue" is judged against it; zero: the wall clock
}

// TaskPage is a page of tasks.
type TaskPage struct {
	Items []Task `json:"items"`
	More  bool   `json:"more"`
}

// ListTasks returns an inbox view of the caller: tasks assigned to them,
// tasks they may claim through their roles or department within the
// subtrees where they hold those roles, all open tasks in their view, or the
// tasks they dispatched. Each view is one indexed query.
func (e *Engine) ListTasks(ctx context.Context, f TaskFilter) (*TaskPage, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, errs.New(errs.EUnauthorized, "error.unauthorized")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	now := db.Ms(f.Now)
	var q string
	var args []any
	switch f.View {
	case "", "mine":
		q = `SELECT ` + taskCols + taskFrom + ` WHERE t.assignee_id = ? AND t.state = 'open'`
		args = []any{p.StaffID}
	case "claimable":
		cond, cargs, terms, err := e.candidateCond(ctx, p)
		if err != nil {
			return nil, err
		}
		// Candidate rows exist for open, unassigned tasks only and carry
		// their due date, so the page is picked from them before any task
		// row is read: at most a page per matching term (a task matches at
		// most one row per term).
		pick := `SELECT c.task_id, c.due_at FROM flow_task_candidates c WHERE ` + cond
		if f.Key == "" {
			if f.Overdue {
				pick += ` AND c.due_at < ?`
				cargs = append(cargs, now)
			}
			if f.BeforeID > 0 {
				pick += ` AND c.task_id < ?`
				cargs = append(cargs, f.BeforeID)
			}
			order := ` ORDER BY c.due_at, c.task_id DESC`
			if f.Overdue {
				order = ` ORDER BY c.due_at, c.task_id` // the page's order below
			}
			pick += order + ` LIMIT ?`
			cargs = append(cargs, (f.Limit+1)*terms)
		}
		q = `SELECT ` + taskCols + ` FROM (SELECT DISTINCT task_id FROM (` + pick + `) picked) x JOIN flow_tasks t ON t.id = x.task_id
			LEFT JOIN staff s ON s.id = t.assignee_id WHERE t.state = 'open' AND t.assignee_id IS NULL`
		args = cargs
	case "all":
		scope := p.Scope(auth.PermTaskDispatch)
		if len(scope) == 0 {
			scope = p.Scope(auth.PermFlowView)
		}
		cond, sargs := auth.ScopeSQL("t.node_path", scope)
		q = `SELECT ` + taskCols + taskFrom + ` WHERE t.state = 'open' AND ` + cond
		args = sargs
	case "dispatched":
		q = `SELECT ` + taskCols + taskFrom + ` WHERE t.dispatched_by = ?`
		args = []any{p.StaffID}
	default:
		return nil, errs.Invalid("view", "error.field.invalid_choice")
	}
	if f.Overdue {
		q += ` AND t.due_at < ?`
		args = append(args, now)
	}
	if f.Unassigned {
		q += ` AND t.assignee_id IS NULL`
	}
	if f.Key != "" {
		q += ` AND t.definition_key = ?`
		args = append(args, f.Key)
	}
	if f.BeforeID > 0 {
		q += ` AND t.id < ?`
		args = append(args, f.BeforeID)
	}
	order := ` ORDER BY t.due_at, t.id DESC`
	if f.View == "dispatched" {
		order = ` ORDER BY t.id DESC`
	}
	if f.Overdue || f.View == "" || f.View == "mine" {
		order = ` ORDER BY t.due_at, t.id`
	}
	if f.View == "all" && !f.Overdue {
		order = ` ORDER BY t.id DESC`
	}
	rows, err := e.db.Q(ctx).QueryContext(ctx, q+order+` LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("flow: list tasks: %w", err)
	}
	defer rows.Close()
	page := &TaskPage{Items: []Task{}}
	for rows.Next() {
		t, err := scanTask(rows, now)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, *t)
	}
	if len(page.Items) > f.Limit {
		page.Items, page.More = page.Items[:f.Limit], true
	}
	return page, rows.Err()
}

// groups returns the candidate groups the caller belongs to, each with the
// subtree where it applies: role keys from grants, and the department of
// their account (dept:<id> and dept:<kind>) on their home subtree.
func (e *Engine) groups(ctx context.Context, p *auth.Principal) ([][2]string, error) {
	var out [][2]string
	for _, g := range p.Grants {
		out = append(out, [2]string{g.RoleKey, g.NodePath})
	}
	var dep, kind string
	err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT COALESCE(CAST(s.department_id AS TEXT), ''), COALESCE(d.kind, '') FROM staff s LEFT JOIN departments d ON d.id = s.department_id WHERE s.id = ?`, p.StaffID).Scan(&dep, &kind)
	if err != nil && !db.IsNoRows(err) {
		return nil, fmt.Errorf("flow: department of %d: %w", p.StaffID, err)
	}
	if dep != "" {
		var sitePath string
		_ = e.db.Q(ctx).QueryRowContext(ctx, `SELECT n.path FROM departments d JOIN org_nodes n ON n.id = d.node_id WHERE d.id = ?`, dep).Scan(&sitePath)
		out = append(out, [2]string{"dept:" + dep, sitePath}, [2]string{"dept:" + kind, sitePath})
	}
	return out, nil
}

// candidateCond selects the candidate rows of the caller: themselves, and
// each of their groups within its subtree. It returns the condition, its
// arguments and how many terms it has.
func (e *Engine) candidateCond(ctx context.Context, p *auth.Principal) (string, []any, int, error) {
	gs, err := e.groups(ctx, p)
	if err != nil {
		return "", nil, 0, err
	}
	parts := []string{"(c.kind = 'user' AND c.ref = ?)"}
	args := []any{strconv.FormatInt(p.StaffID, 10)}
	for _, g := range gs {
		parts = append(parts, "(c.kind = 'group' AND c.ref = ? AND c.node_path >= ? AND c.node_path < ?)")
		lo, hi := subtreeRange(g[1])
		args = append(args, g[0], lo, hi)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args, len(parts), nil
}

// subtreeRange returns the bounds of the paths in the subtree at path
// ("/1/4/" → "/1/4/" ≤ p < "/1/40"): the last byte incremented. An
// index serves the range with bound values; LIKE '/1/4/%' only with the
// value known when the statement is planned.
func subtreeRange(path string) (string, string) {
	if path == "" {
		return "", "0" // everything: paths are "" or start with "/", below "0"
	}
	return path, path[:len(path)-1] + string(path[len(path)-1]+1)
}

// isCandidate reports whether the caller may claim the task.
func (e *Engine) isCandidate(ctx context.Context, p *auth.Principal, t *Task) (bool, error) {
	me := strconv.FormatInt(p.StaffID, 10)
	for _, u := range t.CandidateUsers {
		if u == me {
			return true, nil
		}
	}
	gs, err := e.groups(ctx, p)
	if err != nil {
		return false, err
	}
	for _, want := range t.CandidateGroups {
		for _, g := range gs {
			if g[0] == want && strings.HasPrefix(t.NodePath, g[1]) {
				return true, nil
			}
		}
	}
	return false, nil
}

// Task returns one task the caller may see: their own, one they may claim,
// or any in a subtree where they hold flow.view. ENotFound otherwise.
func (e *Engine) Task(ctx context.Context, id int64) (*Task, error) {
	t, err := e.loadTask(ctx, e.db.Q(ctx), id)
	if err != nil {
		return nil, err
	}
	if ok, err := e.canSee(ctx, auth.FromContext(ctx), t); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, errs.NotFound("error.flow.task_not_found")
	}
	return t, nil
}

func (e *Engine) canSee(ctx context.Context, p *auth.Principal, t *Task) (bool, error) {
	if p == nil {
		return true, nil
	}
	if (t.AssigneeID != nil && *t.AssigneeID == p.StaffID) || (t.OwnerID != nil && *t.OwnerID == p.StaffID) ||
		(t.DispatchedBy != nil && *t.DispatchedBy == p.StaffID) || p.Can(auth.PermFlowView, t.NodePath) || p.Can(auth.PermTaskDispatch, t.NodePath) {
		return true, nil
	}
	return e.isCandidate(ctx, p, t)
}

func (e *Engine) loadTask(ctx context.Context, q db.Querier, id int64) (*Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.id = ?`, id), db.Ms(time.Now()))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.flow.task_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("flow: load task %d: %w", id, err)
	}
	return t, nil
}

// taskAction runs a change on one open task in a transaction: it loads and
// locks the task, checks it is open and visible, and lets check decide
// whether the caller may act.
func (e *Engine) taskAction(ctx context.Context, id int64, check func(p *auth.Principal, t *Task) error, do func(ctx context.Context, tx *db.Tx, t *Task) error) error {
	return e.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE flow_tasks SET reminders = reminders WHERE id = ?`, id); err != nil {
			return err // takes the row lock on PostgreSQL before the read
		}
		t, err := e.loadTask(ctx, tx, id)
		if err != nil {
			return err
		}
		p := auth.FromContext(ctx)
		if ok, err := e.canSee(ctx, p, t); err != nil {
			return err
		} else if !ok {
			return errs.NotFound("error.flow.task_not_found")
		}
		if t.State != "open" {
			return errs.New(errs.EConflict, "error.flow.task_closed")
		}
		if p != nil {
			if err := check(p, t); err != nil {
				return err
			}
		}
		if err := do(ctx, tx, t); err != nil {
			return err
		}
		e.emit(tx, []ChangeEvent{{Kind: "task.updated", InstanceID: t.InstanceID, TaskID: t.ID, NodePath: t.NodePath}})
		return nil
	})
}

func (e *Engine) taskHistory(ctx context.Context, tx *db.Tx, t *Task, kind string, data any) error {
	var h history
	h.add(tx, ctx, t.InstanceID, kind, t.ElementID, t.ID, data)
	return h.flush(ctx, tx)
}

// Claim assigns an open, unassigned task to the caller, who must be a
// candidate (or a dispatcher there). EConflict when someone holds it.
func (e *Engine) Claim(ctx context.Context, id int64) error {
	return e.taskAction(ctx, id, func(p *auth.Principal, t *Task) error {
		if t.AssigneeID != nil {
			if *t.AssigneeID == p.StaffID {
				return nil
			}
			return errs.New(errs.EConflict, "error.flow.task_taken")
		}
		if ok, err := e.isCandidate(ctx, p, t); err != nil || (!ok && !p.Can(auth.PermTaskDispatch, t.NodePath)) {
			if err != nil {
				return err
			}
			return errs.Forbidden()
		}
		return nil
	}, func(ctx context.Context, tx *db.Tx, t *Task) error {
		me := auth.FromContext(ctx).StaffID
		return e.setAssignee(ctx, tx, t, &me, nil, "task_claimed", nil)
	})
}

// setAssignee changes the assignee (nil: back to the pool) and records it.
func (e *Engine) setAssignee(ctx context.Context, tx *db.Tx, t *Task, to *int64, due *time.Time, kind string, data map[string]any) error {
	var assignee, claimed any
	if to != nil {
		assignee, claimed = *to, db.Ms(tx.Now)
	}
	q := `UPDATE flow_tasks SET assignee_id = ?, claimed_at = ?`
	args := []any{assignee, claimed}
	if due != nil {
		q += `, due_at = ?`
		args = append(args, db.Ms(*due))
	}
	if _, err := tx.ExecContext(ctx, q+` WHERE id = ?`, append(args, t.ID)...); err != nil {
		return fmt.Errorf("flow: assign task %d: %w", t.ID, err)
	}
	if to != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM flow_task_candidates WHERE task_id = ?`, t.ID); err != nil {
			return err
		}
	} else {
		var dueMs any
		if t.DueAt != nil {
			dueMs = db.Ms(*t.DueAt)
		}
		ids := make([]int64, 0, len(t.CandidateUsers))
		for _, u := range t.CandidateUsers {
			if n, err := strconv.ParseInt(u, 10, 64); err == nil {
				ids = append(ids, n)
			}
		}
		if err := e.addCandidates(ctx, tx, t.ID, t.NodePath, dueMs, t.CandidateGroups, ids); err != nil {
			return err
		}
	}
	if data == nil {
		data = map[string]any{}
	}
	if to != nil {
		data["assignee_id"] = *to
	}
	if due != nil {
		data["due_at"] = *due
	}
	e.emit(tx, []ChangeEvent{{Kind: "task.updated", InstanceID: t.InstanceID, TaskID: t.ID, AssigneeID: deref(to), NodePath: t.NodePath}})
	return e.taskHistory(ctx, tx, t, kind, data)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Unclaim returns the caller's task to the pool (a dispatcher may do it
// for anyone).
func (e *Engine) Unclaim(ctx context.Context, id int64) error {
	return e.taskAction(ctx, id, func(p *auth.Principal, t *Task) error {
		if t.AssigneeID == nil {
			return errs.New(errs.EConflict, "error.flow.task_not_assigned")
		}
		if *t.AssigneeID != p.StaffID && !p.Can(auth.PermTaskDispatch, t.NodePath) {
			return errs.Forbidden()
		}
		return nil
	}, func(ctx context.Context, tx *db.Tx, t *Task) error {
		return e.setAssignee(ctx, tx, t, nil, nil, "task_unclaimed", nil)
	})
}

// AssignInput assigns a task.
type AssignInput struct {
	AssigneeID int64      `json:"assignee_id"`
	DueAt      *time.Time `json:"due_at"`
	Reason     string     `json:"reason"`
}

// Assign gives a task to a staff member (with an optional new due date); a
// task that was held by someone else is reassigned, which needs a reason.
// The caller needs task.dispatch on the task's subtree.
func (e *Engine) Assign(ctx context.Context, id int64, in AssignInput) error {
	if err := e.checkAssignee(ctx, in.AssigneeID, in.DueAt); err != nil {
		return err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if len([]rune(in.Reason)) > 500 {
		return errs.Invalid("reason", "error.field.too_long")
	}
	return e.taskAction(ctx, id, func(p *auth.Principal, t *Task) error {
		if !p.Can(auth.PermTaskDispatch, t.NodePath) {
			return errs.Forbidden()
		}
		if t.AssigneeID != nil && *t.AssigneeID != in.AssigneeID && in.Reason == "" {
			return errs.Invalid("reason", "error.flow.reassign_reason")
		}
		return nil
	}, func(ctx context.Context, tx *db.Tx, t *Task) error {
		kind := "task_assigned"
		data := map[string]any{}
		if t.AssigneeID != nil && *t.AssigneeID != in.AssigneeID {
			kind = "task_reassigned"
			data["from"], data["reason"] = *t.AssigneeID, in.Reason
		}
		to := in.AssigneeID
		if _, err := tx.ExecContext(ctx, `UPDATE flow_tasks SET dispatched_by = ?, dispatched_at = ? WHERE id = ?`, actorID(ctx), db.Ms(tx.Now), t.ID); err != nil {
			return err
		}
		return e.setAssignee(ctx, tx, t, &to, in.DueAt, kind, data)
	})
}

func actorID(ctx context.Context) any {
	if a := audit.ActorFrom(ctx); a.ID != 0 {
		return a.ID
	}
	return nil
}

func (e *Engine) checkAssignee(ctx context.Context, staffID int64, due *time.Time) error {
	var v errs.Validation
	if staffID == 0 {
		v.Add("assignee_id", "error.field.required")
	} else {
		var status string
		err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT status FROM staff WHERE id = ?`, staffID).Scan(&status)
		v.Check(err == nil, "assignee_id", "error.field.unknown_id")
		v.Check(err != nil || status != "left", "assignee_id", "error.flow.assignee_left")
	}
	v.Check(due == nil || due.After(time.Now().Add(-time.Minute)), "due_at", "error.field.past")
	return v.Err()
}

// Delegate hands the caller's task to someone else for help; they resolve
// it back to the caller, who then completes it.
func (e *Engine) Delegate(ctx context.Context, id, to int64) error {
	if err := e.checkAssignee(ctx, to, nil); err != nil {
		return err
	}
	return e.taskAction(ctx, id, func(p *auth.Principal, t *Task) error {
		if t.AssigneeID == nil || *t.AssigneeID != p.StaffID || t.OwnerID != nil {
			return errs.New(errs.EConflict, "error.flow.not_your_task")
		}
		return nil
	}, func(ctx context.Context, tx *db.Tx, t *Task) error {
		if _, err := tx.ExecContext(ctx, `UPDATE flow_tasks SET owner_id = assignee_id WHERE id = ?`, t.ID); err != nil {
			return err
		}
		return e.setAssignee(ctx, tx, t, &to, nil, "task_delegated", nil)
	})
}

// Resolve returns a delegated task to its owner.
func (e *Engine) Resolve(ctx context.Context, id int64, comment string) error {
	if len([]rune(comment)) > 4000 {
		return errs.Invalid("body", "error.field.too_long")
	}
	return e.taskAction(ctx, id, func(p *auth.Principal, t *Task) error {
		if t.OwnerID == nil || t.AssigneeID == nil || *t.AssigneeID != p.StaffID {
			return errs.New(errs.EConflict, "error.flow.not_delegated_to_you")
		}
		return nil
	}, func(ctx context.Context, tx *db.Tx, t *Task) error {
		owner := *t.OwnerID
		if _, err := tx.ExecContext(ctx, `UPDATE flow_tasks SET owner_id = NULL WHERE id = ?`, t.ID); err != nil {
			return err
		}
		return e.setAssignee(ctx, tx, t, &owner, nil, "task_resolved", map[string]any{"comment": comment})
	})
}

// Complete finishes a task with variables, validated against the step's
// form. The assignee completes; an unassigned candidate claims and completes
// in one go; a dispatcher may complete on someone's behalf (recorded).
// A delegated task must be resolved first.
func (e *Engine) Complete(ctx context.Context, id int64, vars map[string]any) error {
	if len(mustJSON(vars)) > 256<<10 {
		return errs.Invalid("variables", "error.body.too_large")
	}
	var instanceID int64
	var tokenID int64
	var onBehalf bool
	err := e.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT instance_id, token_id, state FROM flow_tasks WHERE id = ?`, id).Scan(&instanceID, &tokenID, &state)
		if db.IsNoRows(err) {
			return errs.NotFound("error.flow.task_not_found")
		}
		if err != nil {
			return err
		}
		return e.apply(ctx, instanceID, func(m *machine.Machine, l *loaded, now time.Time) (*machine.State, []machine.Effect, error) {
			return m.CompleteTask(l.def.Model, l.state, tokenID, vars, now)
		}, func(ctx context.Context, tx *db.Tx, l *loaded) error {
			t, err := scanTask(tx.QueryRowContext(ctx, `SELECT `+taskCols+taskFrom+` WHERE t.id = ?`, id), db.Ms(time.Now()))
			if db.IsNoRows(err) {
				return errs.NotFound("error.flow.task_not_found")
			}
			if err != nil {
				return fmt.Errorf("flow: load task %d: %w", id, err)
			}
			p := auth.FromContext(ctx)
			if ok, err := e.canSee(ctx, p, t); err != nil {
				return err
			} else if !ok {
				return errs.NotFound("error.flow.task_not_found")
			}
			if t.State != "open" {
				return errs.New(errs.EConflict, "error.flow.task_closed")
			}
			if p != nil {
				switch {
				case t.OwnerID != nil:
					return errs.New(errs.EConflict, "error.flow.resolve_first")
				case t.AssigneeID != nil && *t.AssigneeID == p.StaffID:
				case t.AssigneeID == nil:
					ok, err := e.isCandidate(ctx, p, t)
					if err != nil {
						return err
					}
					if !ok {
						if !p.Can(auth.PermTaskDispatch, t.NodePath) {
							return errs.Forbidden()
						}
						onBehalf = true
					}
				case p.Can(auth.PermTaskDispatch, t.NodePath):
					onBehalf = true
				default:
					return errs.New(errs.EConflict, "error.flow.not_your_task")
				}
			}
			if el := l.def.Model.Elements[t.ElementID]; el != nil && el.Human != nil {
				if err := validateForm(el.Human.FormFields, vars); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE flow_tasks SET state = 'completed', completed_at = ?, completed_by = ?,
				assignee_id = COALESCE(assignee_id, ?) WHERE id = ?`, db.Ms(tx.Now), actorID(ctx), actorID(ctx), id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM flow_task_candidates WHERE task_id = ?`, id); err != nil {
				return err
			}
			l.hist.add(tx, ctx, instanceID, "task_completed", t.ElementID, id, map[string]any{"variables": vars, "on_behalf": onBehalf})
			e.emit(tx, []ChangeEvent{{Kind: "task.completed", InstanceID: instanceID, TaskID: id, AssigneeID: deref(t.AssigneeID), NodePath: t.NodePath}})
			return nil
		})
	})
	return err
}

// CommentInput is a comment, a reply (回复) or a reminder (催办).
type CommentInput struct {
	Body string `json:"body"`
}

// Comment adds a comment or reply to a task anyone who sees it may read.
func (e *Engine) Comment(ctx context.Context, id int64, kind, body string) error {
	body = strings.TrimSpace(body)
	var v errs.Validation
	v.Required("body", body)
	v.MaxLen("body", body, 4000)
	if err := v.Err(); err != nil {
		return err
	}
	t, err := e.Task(ctx, id)
	if err != nil {
		return err
	}
	if kind == "reminder" {
		p := auth.FromContext(ctx)
		if p != nil && !p.Can(auth.PermTaskDispatch, t.NodePath) {
			return errs.Forbidden()
		}
		if t.State != "open" {
			return errs.New(errs.EConflict, "error.flow.task_closed")
		}
	}
	return e.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		a := audit.ActorFrom(ctx)
		if _, err := tx.ExecContext(ctx, `INSERT INTO flow_task_comments (task_id, instance_id, kind, author_id, author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, t.InstanceID, kind, actorID(ctx), a.Name, body, db.Ms(tx.Now)); err != nil {
			return fmt.Errorf("flow: comment: %w", err)
		}
		if kind == "reminder" {
			if _, err := tx.ExecContext(ctx, `UPDATE flow_tasks SET reminders = reminders + 1 WHERE id = ?`, id); err != nil {
				return err
			}
		}
		e.emit(tx, []ChangeEvent{{Kind: "task." + kind, InstanceID: t.InstanceID, TaskID: id, AssigneeID: deref(t.AssigneeID), NodePath: t.NodePath}})
		return e.taskHistory(ctx, tx, t, kind, map[string]any{"body": body})
	})
}

// TaskComment is a stored comment.
type TaskComment struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// Comments lists a task's comments, oldest first.
func (e *Engine) Comments(ctx context.Context, id int64) ([]TaskComment, error) {
	if _, err := e.Task(ctx, id); err != nil {
		return nil, err
	}
	rows, err := e.db.Q(ctx).QueryContext(ctx, `SELECT id, kind, author_name, body, created_at FROM flow_task_comments WHERE task_id = ? ORDER BY id LIMIT 500`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TaskComment{}
	for rows.Next() {
		var c TaskComment
		var at int64
		if err := rows.Scan(&c.ID, &c.Kind, &c.AuthorName, &c.Body, &at); err != nil {
			return nil, err
		}
		c.CreatedAt = db.Time(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DispatchInput assigns many tasks at once to a person or a team.
type DispatchInput struct {
	TaskIDs    []int64    `json:"task_ids"`
	AssigneeID int64      `json:"assignee_id,omitempty"`
	TeamID     int64      `json:"team_id,omitempty"` // a department: the tasks go to its pool
	DueAt      *time.Time `json:"due_at"`
	Reason     string     `json:"reason,omitempty"`
}

// DispatchResult reports per task what happened.
type DispatchResult struct {
	Dispatched []int64           `json:"dispatched"`
	Failed     map[string]string `json:"failed"` // task id → message key
}

// Dispatch (派工) assigns tasks to one person, or releases them to a
// department's pool, with a deadline, in one transaction: all or nothing.
func (e *Engine) Dispatch(ctx context.Context, in DispatchInput) (*DispatchResult, error) {
	var v errs.Validation
	v.Check(len(in.TaskIDs) > 0, "task_ids", "error.field.required")
	v.Check(len(in.TaskIDs) <= 500, "task_ids", "error.field.too_long")
	v.Check((in.AssigneeID == 0) != (in.TeamID == 0), "assignee_id", "error.flow.dispatch_target")
	v.MaxLen("reason", in.Reason, 500)
	var teamPath string
	if in.TeamID != 0 {
		err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT n.path FROM departments d JOIN org_nodes n ON n.id = d.node_id WHERE d.id = ?`, in.TeamID).Scan(&teamPath)
		v.Check(err == nil, "team_id", "error.field.unknown_id")
	}
	if len(in.TaskIDs) > 0 && len(in.TaskIDs) <= 500 {
		args := make([]any, len(in.TaskIDs))
		for i, id := range in.TaskIDs {
			args[i] = id
		}
		var n int
		if err := e.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(DISTINCT id) FROM flow_tasks WHERE id IN (`+db.Placeholders(len(args))+`)`, args...).Scan(&n); err != nil {
			return nil, err
		}
		v.Check(n == len(uniqueIDs(in.TaskIDs)), "task_ids", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.TeamID == 0 {
		if err := e.checkAssignee(ctx, in.AssigneeID, in.DueAt); err != nil {
			return nil, err
		}
	}
	res := &DispatchResult{Dispatched: []int64{}, Failed: map[string]string{}}
	err := e.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for _, id := range in.TaskIDs {
			var err error
			if in.TeamID != 0 {
				err = e.toTeam(ctx, id, in.TeamID, teamPath, in.DueAt)
			} else {
				err = e.Assign(ctx, id, AssignInput{AssigneeID: in.AssigneeID, DueAt: in.DueAt, Reason: firstNonEmpty(in.Reason, "dispatch")})
			}
			if err != nil {
				if errs.CodeOf(err) == errs.EInternal {
					return err
				}
				var de *errs.Error
				if asErr(err, &de) {
					res.Failed[strconv.FormatInt(id, 10)] = de.Key
				}
				continue
			}
			res.Dispatched = append(res.Dispatched, id)
		}
		if len(res.Failed) > 0 {
			return errs.Newf(errs.EConflict, "error.flow.dispatch_failed", "failed", res.Failed)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// toTeam releases a task to a department's pool.
func (e *Engine) toTeam(ctx context.Context, id, team int64, teamPath string, due *time.Time) error {
	return e.taskAction(ctx, id, func(p *auth.Principal, t *Task) error {
		if !p.Can(auth.PermTaskDispatch, t.NodePath) {
			return errs.Forbidden()
		}
		return nil
	}, func(ctx context.Context, tx *db.Tx, t *Task) error {
		t.CandidateGroups = []string{"dept:" + strconv.FormatInt(team, 10)}
		t.CandidateUsers = nil
		if due != nil {
			t.DueAt = due
		}
		if _, err := tx.ExecContext(ctx, `UPDATE flow_tasks SET candidate_groups = ?, candidate_users = '', dispatched_by = ?, dispatched_at = ? WHERE id = ?`,
			t.CandidateGroups[0], actorID(ctx), db.Ms(tx.Now), t.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM flow_task_candidates WHERE task_id = ?`, t.ID); err != nil {
			return err
		}
		return e.setAssignee(ctx, tx, t, nil, due, "task_dispatched", map[string]any{"team_id": team})
	})
}

func uniqueIDs(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}
