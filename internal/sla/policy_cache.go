package sla

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/guanjia/guanjia/internal/db"
)

// policiesSetting names the settings row that changes with every policy
// change: a fresh random token each time, so a token written by a
// transaction that rolled back never comes back.
const policiesSetting = "sla.policies"

// policySet is every policy with its targets as of one generation. Every
// new cycle resolves its policy, which read the policies and targets table
// three times per metric; the set is read once per change instead. Its
// policies are shared and must not be modified.
type policySet struct {
	gen  string
	byID map[int64]*Policy
	all  []*Policy // by id
}

type policyCache struct {
	mu  sync.Mutex
	set *policySet
}

// policySet returns the policies current in ctx's view: one primary-key
// read of the generation, and a reload only when it moved. Reading in the
// caller's transaction keeps a policy change and the cycles started after
// it in order on both databases.
func (s *Service) policySet(ctx context.Context) (*policySet, error) {
	var gen string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, policiesSetting).Scan(&gen)
	if err != nil && !db.IsNoRows(err) {
		return nil, fmt.Errorf("sla: policy generation: %w", err)
	}
	s.policies.mu.Lock()
	set := s.policies.set
	s.policies.mu.Unlock()
	if set != nil && set.gen == gen {
		return set, nil
	}
	list, err := s.listPolicies(ctx)
	if err != nil {
		return nil, err
	}
	set = &policySet{gen: gen, byID: make(map[int64]*Policy, len(list))}
	for i := range list {
		p := &list[i]
		set.byID[p.ID] = p
		set.all = append(set.all, p)
	}
	slices.SortFunc(set.all, func(a, b *Policy) int { return cmp.Compare(a.ID, b.ID) })
	// A set read in a transaction that changed policies carries that
	// transaction's token: should it roll back, the token never matches
	// again and the set is never used.
	s.policies.mu.Lock()
	s.policies.set = set
	s.policies.mu.Unlock()
	return set, nil
}

// touchPolicies moves the generation in tx, with the change.
func (s *Service) touchPolicies(ctx context.Context, tx *db.Tx) error {
	gen := rand.Text()
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, policiesSetting, gen, db.Ms(tx.Now))
	if err != nil {
		return fmt.Errorf("sla: policy generation: %w", err)
	}
	return nil
}

// candidates returns the enabled policies that cover m, the most specific
// first: a deeper site, then a category, then a case type; then by id.
func (ps *policySet) candidates(m Match) []*Policy {
	var out []*Policy
	for _, p := range ps.all {
		if p.Enabled && (p.CaseType == "" || p.CaseType == m.CaseType) && (p.Category == "" || p.Category == m.Category) &&
			(p.NodePath == "" || strings.HasPrefix(m.NodePath, p.NodePath)) {
			out = append(out, p)
		}
	}
	rank := func(p *Policy) (int, int, int) {
		c, t := 0, 0
		if p.Category == "" {
			c = 1
		}
		if p.CaseType == "" {
			t = 1
		}
		return -len(p.NodePath), c, t
	}
	slices.SortStableFunc(out, func(a, b *Policy) int {
		a1, a2, a3 := rank(a)
		b1, b2, b3 := rank(b)
		if a1 != b1 {
			return a1 - b1
		}
		if a2 != b2 {
			return a2 - b2
		}
		return a3 - b3
	})
	return out
}
