package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// CyclePage is a page of cycles.
type CyclePage struct {
	Items   []Cycle `json:"items"`
	Total   int     `json:"total"`
	Page    int     `json:"page"`
	PerPage int     `json:"per_page"`
}

const boardCols = cycleCols + `, COALESCE(st.name, ''), p.name, COALESCE(t.name, ''), COALESCE(n.name, '')`

const boardFrom = ` FROM sla_cycles c LEFT JOIN staff st ON st.id = c.holder_id JOIN sla_policies p ON p.id = c.policy_id
	LEFT JOIN sla_targets t ON t.id = c.target_id LEFT JOIN org_nodes n ON n.path = c.node_path AND c.node_path <> ''`

// scopeWhere restricts cycles to org subtrees; a root scope also sees
// cycles without a site.
func scopeWhere(scope []string) (string, []any) {
	cond, args := auth.ScopeSQL("c.node_path", scope)
	for _, s := range scope {
		if len(s) > 0 && countSlash(s) == 2 {
			return "(" + cond + " OR c.node_path = '')", args
		}
	}
	return cond, args
}

func countSlash(s string) int {
	n := 0
	for _, r := range s {
		if r == '/' {
			n++
		}
	}
	return n
}

// Overdue returns running cycles whose deadline has passed, the most overdue
// first: one query on the due_at index. scope limits them to org subtrees
// (auth.Principal.Scope); page counts from 1.
func (s *Service) Overdue(ctx context.Context, scope []string, page, perPage int) (*CyclePage, error) {
	if page < 1 {
		page = 1
	}
	if perPage <= 0 || perPage > 200 {
		perPage = 50
	}
	now := s.Now()
	cond, args := scopeWhere(scope)
	where := ` WHERE c.state = 'running' AND c.due_at <= ? AND ` + cond
	args = append([]any{db.Ms(now)}, args...)
	out := &CyclePage{Items: []Cycle{}, Page: page, PerPage: perPage}
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_cycles c`+where, args...).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("sla: count overdue: %w", err)
	}
	items, err := s.board(ctx, `SELECT `+boardCols+boardFrom+where+` ORDER BY c.due_at, c.id LIMIT ? OFFSET ?`, append(args, perPage, (page-1)*perPage), now)
	if err != nil {
		return nil, err
	}
	out.Items = items
	return out, nil
}

// AtRisk returns up to limit running cycles in scope ordered by their
// deadline — the overdue ones first, then those with the least time left —
// with who holds them and the time left.
func (s *Service) AtRisk(ctx context.Context, scope []string, limit int) ([]Cycle, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	cond, args := scopeWhere(scope)
	return s.board(ctx, `SELECT `+boardCols+boardFrom+` WHERE c.state = 'running' AND c.due_at IS NOT NULL AND `+cond+
		` ORDER BY c.due_at, c.id LIMIT ?`, append(args, limit), s.Now())
}

func (s *Service) board(ctx context.Context, q string, args []any, now time.Time) ([]Cycle, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sla: board: %w", err)
	}
	defer rows.Close()
	out := []Cycle{}
	for rows.Next() {
		var holder, policy, target, site string
		c, err := scanCycle(rows, &holder, &policy, &target, &site)
		if err != nil {
			return nil, err
		}
		c.HolderName, c.PolicyName, c.TargetName, c.SiteName = holder, policy, target, site
		if c.DueAt != nil {
			ck, err := s.clockFor(ctx, c)
			if err != nil {
				return nil, err
			}
			left := int64(ck.between(now, *c.DueAt) / time.Second)
			c.LeftSeconds = &left
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// nodePath reads the path of an org node; ENotFound when there is none.
func (s *Service) nodePath(ctx context.Context, id int64) (string, error) {
	var p string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, id).Scan(&p)
	if db.IsNoRows(err) {
		return "", errs.NotFound("error.org.node_not_found")
	}
	if err != nil {
		return "", fmt.Errorf("sla: node %d: %w", id, err)
	}
	return p, nil
}
