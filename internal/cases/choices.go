package cases

import (
	"context"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
)

// Choice is a site, a person or a department offered in a select.
type Choice struct {
	ID   int64
	Name string
	Hint string // where they belong, to tell two of the same name apart
	Kind string // a department's kind (engineering, cleaning, …)
}

// Sites returns the sites where the caller holds perm: on the site, above
// it, or on a building within it. There are few sites; the list is capped.
func (s *Service) Sites(ctx context.Context, perm auth.Perm) ([]Choice, error) {
	p := auth.FromContext(ctx)
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, name, path FROM org_nodes WHERE kind = 'site' ORDER BY path LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("cases: sites: %w", err)
	}
	defer rows.Close()
	scope := p.Scope(perm)
	out := []Choice{}
	for rows.Next() {
		var c Choice
		var path string
		if err := rows.Scan(&c.ID, &c.Name, &path); err != nil {
			return nil, err
		}
		if p == nil || reaches(scope, path) {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// reaches reports whether a grant in scope covers the site at path or
// lies within it.
func reaches(scope []string, path string) bool {
	for _, s := range scope {
		if strings.HasPrefix(path, s) || strings.HasPrefix(s, path) {
			return true
		}
	}
	return false
}

// DispatchTargets returns the active staff and the departments a case may
// be dispatched to: those of its site within reach of the case (see
// sameSite), in department and name order.
func (s *Service) DispatchTargets(ctx context.Context, c *Case) (people, teams []Choice, err error) {
	var sitePath string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, c.SiteID).Scan(&sitePath); err != nil {
		return nil, nil, fmt.Errorf("cases: site of %d: %w", c.ID, err)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT s.id, s.name, COALESCE(d.name, ''), COALESCE(d.kind, ''), s.node_path FROM staff s
		LEFT JOIN departments d ON d.id = s.department_id WHERE s.node_path LIKE ? AND s.status = 'active' ORDER BY d.name, s.name, s.id LIMIT 500`, sitePath+"%")
	if err != nil {
		return nil, nil, fmt.Errorf("cases: dispatch people: %w", err)
	}
	for rows.Next() {
		var ch Choice
		var path string
		if err := rows.Scan(&ch.ID, &ch.Name, &ch.Hint, &ch.Kind, &path); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if sameSite(path, c.NodePath) {
			people = append(people, ch)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = s.db.Q(ctx).QueryContext(ctx, `SELECT d.id, d.name, n.name, d.kind, n.path FROM departments d JOIN org_nodes n ON n.id = d.node_id
		WHERE n.path LIKE ? ORDER BY n.path, d.name LIMIT 200`, sitePath+"%")
	if err != nil {
		return nil, nil, fmt.Errorf("cases: dispatch teams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch Choice
		var path string
		if err := rows.Scan(&ch.ID, &ch.Name, &ch.Hint, &ch.Kind, &path); err != nil {
			return nil, nil, err
		}
		if sameSite(path, c.NodePath) {
			teams = append(teams, ch)
		}
	}
	return people, teams, rows.Err()
}

// DepartmentName returns a department's name, or "" when there is none.
func (s *Service) DepartmentName(ctx context.Context, id int64) string {
	var name string
	_ = s.db.Q(ctx).QueryRowContext(ctx, `SELECT name FROM departments WHERE id = ?`, id).Scan(&name)
	return name
}

// DisplayNames maps usernames and staff ids (as they appear in timelines)
// to display names. Unknown ones are left out.
func (s *Service) DisplayNames(ctx context.Context, usernames []string, ids []int64) (byUser map[string]string, byID map[int64]string, err error) {
	byUser, byID = map[string]string{}, map[int64]string{}
	if len(usernames) > 200 {
		usernames = usernames[:200]
	}
	if len(ids) > 200 {
		ids = ids[:200]
	}
	if len(usernames) > 0 {
		args := make([]any, len(usernames))
		for i, u := range usernames {
			args[i] = u
		}
		rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT username, name FROM staff WHERE username IN (`+db.Placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("cases: names: %w", err)
		}
		for rows.Next() {
			var u, n string
			if err := rows.Scan(&u, &n); err != nil {
				rows.Close()
				return nil, nil, err
			}
			byUser[u] = n
		}
		rows.Close()
	}
	if len(ids) > 0 {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, name FROM staff WHERE id IN (`+db.Placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("cases: names: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var n string
			if err := rows.Scan(&id, &n); err != nil {
				return nil, nil, err
			}
			byID[id] = n
		}
	}
	return byUser, byID, nil
}

// Pool returns open cases dispatched to the caller's department that nobody
// holds yet (抢单), most urgent first.
func (s *Service) Pool(ctx context.Context, staffID int64, limit int) ([]Case, error) {
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+caseCols+caseFrom+` WHERE c.state = 'dispatched' AND c.assignee_id IS NULL
		AND c.department_id = (SELECT department_id FROM staff WHERE id = ?) ORDER BY c.due_at, c.id LIMIT ?`, staffID, limit)
	if err != nil {
		return nil, fmt.Errorf("cases: pool: %w", err)
	}
	defer rows.Close()
	out := []Case{}
	now := s.Now()
	for rows.Next() {
		c, err := s.scanCase(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// MayDo returns, of the actions the case's state allows, those the caller
// may take, and whether their technician's steps would be on behalf of
// the holder (强制回单).
func (s *Service) MayDo(ctx context.Context, c *Case) (acts []string, onBehalf bool) {
	p := auth.FromContext(ctx)
	for _, a := range c.Allowed {
		in := ActionInput{}
		if s.mayAct(ctx, p, c, a, &in) == nil {
			acts = append(acts, a)
			if in.OnBehalf {
				onBehalf = true
			}
		}
	}
	return acts, onBehalf
}
