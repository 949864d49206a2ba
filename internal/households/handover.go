package households

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// HandoverInput moves households from one butler to another.
type HandoverInput struct {
	FromButlerID int64 `json:"from_butler_id"`
	ToButlerID   int64 `json:"to_butler_id"`
	// HouseholdIDs are the households to move; empty moves every current
	// household of the first butler that the caller may assign.
	HouseholdIDs []int64 `json:"household_ids"`
	Reason       string  `json:"reason"`
}

// Handover is a recorded handover.
type Handover struct {
	ID           int64     `json:"id"`
	FromButlerID int64     `json:"from_butler_id"`
	FromName     string    `json:"from_name"`
	ToButlerID   int64     `json:"to_butler_id"`
	ToName       string    `json:"to_name"`
	Households   int       `json:"households"`
	TasksMoved   int       `json:"tasks_moved"`
	Reason       string    `json:"reason"`
	CreatedAt    time.Time `json:"created_at"`
}

// HandOver gives households to another butler in one transaction: the
// ownership history of each is closed and reopened, and their open care
// tasks move with them. It needs household.assign on every household;
// EInvalid for unknown butlers or households not owned by the first.
func (s *Service) HandOver(ctx context.Context, in HandoverInput) (*Handover, error) {
	var v errs.Validation
	in.Reason = strings.TrimSpace(in.Reason)
	v.MaxLen("reason", in.Reason, 200)
	var fromStatus string
	if in.FromButlerID == 0 {
		v.Add("from_butler_id", "error.field.required")
	} else if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT status FROM staff WHERE id = ?`, in.FromButlerID).Scan(&fromStatus); err != nil {
		v.Add("from_butler_id", "error.field.unknown_id")
	}
	switch {
	case in.ToButlerID == 0:
		v.Add("to_butler_id", "error.field.required")
	case in.ToButlerID == in.FromButlerID:
		v.Add("to_butler_id", "error.handover.same_butler")
	default:
		if _, err := s.principals.LoadPrincipal(ctx, in.ToButlerID); err != nil {
			v.Add("to_butler_id", "error.field.unknown_id")
		}
	}
	if len(in.HouseholdIDs) > 5000 {
		v.Add("household_ids", "error.person.too_many")
	}
	for _, id := range in.HouseholdIDs {
		h, err := s.loadHousehold(ctx, id)
		if err != nil || !canSee(ctx, h.NodePath) || h.Status != "current" {
			v.Add("household_ids", "error.field.unknown_id")
			break
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hs, err := s.handoverSet(ctx, &v, in)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		if !s.validButler(ctx, in.ToButlerID, h.NodePath) {
			v.Add("to_butler_id", "error.handover.cannot_care")
			break
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	for _, h := range hs {
		if err := need(ctx, PermAssign, h.NodePath); err != nil {
			return nil, err
		}
	}
	if len(hs) == 0 {
		return nil, errs.Invalid("household_ids", "error.handover.nothing")
	}
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now)
		common := commonPath(hs)
		if err := tx.QueryRowContext(ctx, `INSERT INTO butler_handovers (from_butler_id, to_butler_id, node_path, households, tasks_moved, reason, created_by, created_at)
			VALUES (?, ?, ?, ?, 0, ?, ?, ?) RETURNING id`, in.FromButlerID, in.ToButlerID, common, len(hs), in.Reason, principal(ctx).StaffID, now).Scan(&id); err != nil {
			return fmt.Errorf("households: insert handover: %w", err)
		}
		moved := 0
		for start := 0; start < len(hs); start += 400 {
			chunk := hs[start:min(start+400, len(hs))]
			ids := make([]any, len(chunk))
			for i, h := range chunk {
				ids[i] = h.ID
			}
			ph := db.Placeholders(len(ids))
			if _, err := tx.ExecContext(ctx, `UPDATE households SET butler_id = ?, updated_at = ? WHERE id IN (`+ph+`)`, append([]any{in.ToButlerID, now}, ids...)...); err != nil {
				return fmt.Errorf("households: move households: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE household_butlers SET to_at = ? WHERE to_at IS NULL AND household_id IN (`+ph+`)`, append([]any{now}, ids...)...); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE care_tasks SET butler_id = ? WHERE status = 'open' AND household_id IN (`+ph+`)`, append([]any{in.ToButlerID}, ids...)...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			moved += int(n)
			for _, h := range chunk {
				if _, err := tx.ExecContext(ctx, `INSERT INTO household_butlers (household_id, butler_id, from_at, handover_id, reason) VALUES (?, ?, ?, ?, ?)`,
					h.ID, in.ToButlerID, now, id, in.Reason); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE butler_handovers SET tasks_moved = ? WHERE id = ?`, moved, id); err != nil {
			return err
		}
		return s.record(ctx, "handover", "butler", in.FromButlerID, common, fmt.Sprintf("→ %d", in.ToButlerID),
			map[string]any{"handover_id": id, "to_butler_id": in.ToButlerID, "households": len(hs), "tasks_moved": moved})
	})
	if err != nil {
		return nil, err
	}
	return s.handover(ctx, id)
}

func (s *Service) handoverSet(ctx context.Context, v *errs.Validation, in HandoverInput) ([]Household, error) {
	var out []Household
	if len(in.HouseholdIDs) == 0 {
		scope, args := auth.ScopeSQL("h.node_path", principal(ctx).Scope(PermAssign))
		rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+householdCols+householdFrom+` WHERE h.butler_id = ? AND h.status = 'current' AND `+scope+` ORDER BY h.id`,
			append([]any{in.FromButlerID}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("households: handover set: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			h, err := scanHousehold(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, *h)
		}
		return out, rows.Err()
	}
	seen := map[int64]bool{}
	for _, id := range in.HouseholdIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		h, err := s.loadHousehold(ctx, id)
		if err != nil || !canSee(ctx, h.NodePath) || h.Status != "current" {
			v.Add("household_ids", "error.field.unknown_id")
			return nil, nil
		}
		if h.ButlerID == nil || *h.ButlerID != in.FromButlerID {
			v.Add("household_ids", "error.handover.not_theirs")
			return nil, nil
		}
		out = append(out, *h)
	}
	return out, nil
}

// commonPath is the longest org path shared by the households.
func commonPath(hs []Household) string {
	if len(hs) == 0 {
		return ""
	}
	p := hs[0].NodePath
	for _, h := range hs[1:] {
		for !strings.HasPrefix(h.NodePath, p) {
			p = p[:strings.LastIndex(strings.TrimSuffix(p, "/"), "/")+1]
		}
	}
	return p
}

func (s *Service) handover(ctx context.Context, id int64) (*Handover, error) {
	hs, err := s.handoversWhere(ctx, "b.id = ?", []any{id}, 1)
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, errs.NotFound("error.not_found")
	}
	return &hs[0], nil
}

func (s *Service) handoversWhere(ctx context.Context, cond string, args []any, limit int) ([]Handover, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT b.id, b.from_butler_id, f.name, b.to_butler_id, t.name, b.households, b.tasks_moved, b.reason, b.created_at
		FROM butler_handovers b JOIN staff f ON f.id = b.from_butler_id JOIN staff t ON t.id = b.to_butler_id WHERE `+cond+` ORDER BY b.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("households: handovers: %w", err)
	}
	defer rows.Close()
	out := []Handover{}
	for rows.Next() {
		var h Handover
		var at int64
		if err := rows.Scan(&h.ID, &h.FromButlerID, &h.FromName, &h.ToButlerID, &h.ToName, &h.Households, &h.TasksMoved, &h.Reason, &at); err != nil {
			return nil, err
		}
		h.CreatedAt = db.Time(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

// CoverageRow is one butler's book.
type CoverageRow struct {
	ButlerID        *int64     `json:"butler_id"` // null: households nobody owns
	ButlerName      string     `json:"butler_name"`
	Households      int        `json:"households"`
	ElderlyAlone    int        `json:"elderly_alone"`
	OpenTasks       int        `json:"open_tasks"`
	OverdueTasks    int        `json:"overdue_tasks"`
	NotContacted90  int        `json:"not_contacted_90d"`
	LastContactAt   *time.Time `json:"last_contact_at"`
	OpenCases       *int       `json:"open_cases"` // null until the service desk counts them
	OverdueCareDays int        `json:"-"`
}

// Coverage is every butler's book on the sites the caller may view, with
// the recent handovers.
type Coverage struct {
	Items     []CoverageRow `json:"items"`
	Handovers []Handover    `json:"handovers"`
}

// CaseCounter counts open service cases per butler; the service desk sets it.
type CaseCounter func(ctx context.Context, butlerIDs []int64) (map[int64]int, error)

// SetCaseCounter lets the service desk report open cases on the coverage page.
func (s *Service) SetCaseCounter(c CaseCounter) { s.cases = c }

// CaseLister lists a household's service cases, newest first.
type CaseLister func(ctx context.Context, householdID int64) ([]CaseRef, error)

// SetCaseLister lets the service desk show its cases on the profile page.
func (s *Service) SetCaseLister(l CaseLister) { s.caseList = l }

// Erased is what a hook learns about an erased person, to erase the
// copies its own module keeps: the strings that identified them and the
// blind indexes of their phones (as package pii computes them for
// "phone" under every key of the ring).
type Erased struct {
	PersonID     int64
	HouseholdID  int64
	Mentions     []string
	PhoneIndexes []string
}

// EraseHook runs inside the erasure's transaction; an error rolls it back.
type EraseHook func(ctx context.Context, tx *db.Tx, e Erased) error

// OnErase adds a hook that other modules (cases, portal) use to erase
// their copies of a person's data in the same transaction.
func (s *Service) OnErase(h EraseHook) { s.eraseHooks = append(s.eraseHooks, h) }

// Coverage returns each butler's households, elderly people living alone,
// open and overdue care tasks, households not contacted for 90 days and
// the last contact. EInvalid for an unknown site.
func (s *Service) Coverage(ctx context.Context, siteID int64) (*Coverage, error) {
	scope, args := auth.ScopeSQL("h.node_path", principal(ctx).Scope(PermView))
	if siteID != 0 {
		if s.nodeKind(ctx, siteID) != "site" {
			return nil, errs.Invalid("site_id", "error.field.unknown_id")
		}
		scope += " AND h.site_id = ?"
		args = append(args, siteID)
	}
	now := db.Now(ctx)
	q := s.db.Q(ctx)
	rows, err := q.QueryContext(ctx, `SELECT h.butler_id, COALESCE(st.name, ''), COUNT(*), SUM(CASE WHEN h.elderly_alone THEN 1 ELSE 0 END),
		SUM(CASE WHEN h.last_contact_at IS NULL OR h.last_contact_at < ? THEN 1 ELSE 0 END), MAX(h.last_contact_at)
		FROM households h LEFT JOIN staff st ON st.id = h.butler_id WHERE h.status = 'current' AND `+scope+`
		GROUP BY h.butler_id, st.name ORDER BY st.name`, append([]any{db.Ms(now.AddDate(0, 0, -90))}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("households: coverage: %w", err)
	}
	out := &Coverage{Items: []CoverageRow{}}
	idx := map[int64]int{}
	for rows.Next() {
		var r CoverageRow
		var butler, last sql.NullInt64
		if err := rows.Scan(&butler, &r.ButlerName, &r.Households, &r.ElderlyAlone, &r.NotContacted90, &last); err != nil {
			rows.Close()
			return nil, err
		}
		r.ButlerID, r.LastContactAt = ptrID(butler), db.TimePtr(last)
		if r.ButlerID != nil {
			idx[*r.ButlerID] = len(out.Items)
		}
		out.Items = append(out.Items, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tscope, targs := auth.ScopeSQL("t.node_path", principal(ctx).Scope(PermView))
	if siteID != 0 {
		tscope += " AND t.household_id IN (SELECT id FROM households WHERE site_id = ?)"
		targs = append(targs, siteID)
	}
	trows, err := q.QueryContext(ctx, `SELECT t.butler_id, COUNT(*), SUM(CASE WHEN t.due_at < ? THEN 1 ELSE 0 END) FROM care_tasks t
		WHERE t.status = 'open' AND t.show_from <= ? AND t.butler_id IS NOT NULL AND `+tscope+` GROUP BY t.butler_id`, append([]any{db.Ms(now), db.Ms(now)}, targs...)...)
	if err != nil {
		return nil, fmt.Errorf("households: coverage tasks: %w", err)
	}
	for trows.Next() {
		var b int64
		var open, overdue int
		if err := trows.Scan(&b, &open, &overdue); err != nil {
			trows.Close()
			return nil, err
		}
		if i, ok := idx[b]; ok {
			out.Items[i].OpenTasks, out.Items[i].OverdueTasks = open, overdue
		}
	}
	trows.Close()
	if s.cases != nil && len(idx) > 0 {
		ids := make([]int64, 0, len(idx))
		for id := range idx {
			ids = append(ids, id)
		}
		counts, err := s.cases(ctx, ids)
		if err != nil {
			return nil, err
		}
		for id, i := range idx {
			n := counts[id]
			out.Items[i].OpenCases = &n
		}
	}
	hscope, hargs := auth.ScopeSQL("b.node_path", principal(ctx).Scope(PermView))
	if out.Handovers, err = s.handoversWhere(ctx, hscope, hargs, 20); err != nil {
		return nil, err
	}
	return out, nil
}

// Butler is a staff member who can own households.
type Butler struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Butlers lists the active staff who may do care work somewhere in the
// caller's view: the choices for a household's butler.
func (s *Service) Butlers(ctx context.Context) ([]Butler, error) {
	scope, args := auth.ScopeSQL("n.path", principal(ctx).Scope(PermView))
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT DISTINCT st.id, st.name, st.node_path FROM staff st JOIN role_grants g ON g.staff_id = st.id
		JOIN org_nodes n ON n.id = g.node_id WHERE st.status <> 'left' AND `+scope+` ORDER BY st.name, st.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("households: butlers: %w", err)
	}
	type cand struct {
		b    Butler
		path string
	}
	var cands []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.b.ID, &c.b.Name, &c.path); err != nil {
			rows.Close()
			return nil, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	out := []Butler{}
	for _, c := range cands {
		p, err := s.principals.LoadPrincipal(ctx, c.b.ID)
		if err == nil && p.CanAnywhere(PermCare) && !p.CanAnywhere(auth.PermRoleManage) {
			out = append(out, c.b)
		}
	}
	return out, nil
}
