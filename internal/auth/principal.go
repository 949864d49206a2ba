// Package auth holds who is calling and what they may do: permissions and
// roles, passwords, sessions, API tokens and the login rules.
package auth

import (
	"context"
	"strings"
)

// Grant is one role held on one org node; it applies to the node's subtree.
type Grant struct {
	RoleKey  string
	NodeID   int64
	NodePath string // "/1/4/"
	Perms    map[Perm]bool
}

// Principal is the authenticated caller.
type Principal struct {
	StaffID  int64
	Username string
	Name     string
	Locale   string
	NodePath string // the staff member's home node
	Grants   []Grant
	// Scopes limits an API token to some permissions; nil for a session.
	Scopes             map[Perm]bool
	SessionID          string // hash of the session, "" for API tokens
	CSRF               string
	TokenID            int64
	MustChangePassword bool
}

// Can reports whether the caller holds perm on the node at path (a grant on
// the node or any ancestor).
func (p *Principal) Can(perm Perm, path string) bool {
	if p == nil || (p.Scopes != nil && !p.Scopes[perm]) {
		return false
	}
	for _, g := range p.Grants {
		if g.Perms[perm] && strings.HasPrefix(path, g.NodePath) {
			return true
		}
	}
	return false
}

// CanAnywhere reports whether the caller holds perm on some node.
func (p *Principal) CanAnywhere(perm Perm) bool {
	if p == nil || (p.Scopes != nil && !p.Scopes[perm]) {
		return false
	}
	for _, g := range p.Grants {
		if g.Perms[perm] {
			return true
		}
	}
	return false
}

// Scope returns the minimal set of subtree paths where the caller holds
// perm; a query filters on "path LIKE scope || '%'" for each.
func (p *Principal) Scope(perm Perm) []string {
	if p == nil || (p.Scopes != nil && !p.Scopes[perm]) {
		return nil
	}
	var out []string
	for _, g := range p.Grants {
		if !g.Perms[perm] {
			continue
		}
		covered := false
		for i, s := range out {
			if strings.HasPrefix(g.NodePath, s) {
				covered = true
				break
			}
			if strings.HasPrefix(s, g.NodePath) {
				out[i] = g.NodePath
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, g.NodePath)
		}
	}
	return dedupe(out)
}

func dedupe(paths []string) []string {
	var out []string
	for _, s := range paths {
		dup := false
		for _, o := range out {
			if strings.HasPrefix(s, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// HasRole reports whether the caller holds the role anywhere.
func (p *Principal) HasRole(key string) bool {
	for _, g := range p.Grants {
		if g.RoleKey == key {
			return true
		}
	}
	return false
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller, or nil when nobody is signed in.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// ScopeSQL builds "(col LIKE ? OR col LIKE ?)" for the caller's scope of perm
// and its arguments; with no scope it returns "1=0" so nothing leaks.
func ScopeSQL(col string, scope []string) (string, []any) {
	if len(scope) == 0 {
		return "1=0", nil
	}
	parts := make([]string, len(scope))
	args := make([]any, len(scope))
	for i, s := range scope {
		parts[i] = col + " LIKE ?"
		args[i] = s + "%"
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}
