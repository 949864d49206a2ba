package auth

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

const tokenPrefix = "gjt_"

// APIToken is an integration credential. It acts as a staff member (usually
// a service account), limited to its scopes.
type APIToken struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	StaffID    int64      `json:"staff_id"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// CreateToken makes a token for staffID with scopes. The clear token is
// returned once and never stored. It fails with EInvalid for a blank name,
// unknown scopes or a past expiry.
func (s *Service) CreateToken(ctx context.Context, name string, staffID int64, scopes []string, expires *time.Time) (string, *APIToken, error) {
	var v errs.Validation
	v.Required("name", name)
	v.MaxLen("name", name, 100)
	if len(scopes) == 0 {
		v.Add("scopes", "error.field.required")
	}
	for _, sc := range scopes {
		if !IsPerm(sc) {
			v.Add("scopes", "error.token.unknown_scope")
		}
	}
	if expires != nil && !expires.After(s.Now()) {
		v.Add("expires_at", "error.field.past")
	}
	if err := v.Err(); err != nil {
		return "", nil, err
	}
	prefix := RandomToken(6)
	clear := tokenPrefix + prefix + "_" + RandomToken(24)
	t := &APIToken{Name: strings.TrimSpace(name), Prefix: prefix, StaffID: staffID, Scopes: scopes, ExpiresAt: expires}
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		t.CreatedAt = tx.Now
		err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, token_hash, prefix, staff_id, scopes, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.Name, HashToken(clear), prefix, staffID, strings.Join(scopes, " "), nullID(audit.ActorFrom(ctx).ID), db.Ms(tx.Now), db.MsPtr(expires)).Scan(&t.ID)
		if db.IsForeignKey(err) {
			return errs.Invalid("staff_id", "error.field.unknown_id")
		}
		if err != nil {
			return fmt.Errorf("auth: create token: %w", err)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "create", Entity: "api_token", EntityID: t.ID, Summary: t.Name, After: t})
	})
	if err != nil {
		return "", nil, err
	}
	return clear, t, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ListTokens returns tokens of staff under the given subtree scope.
func (s *Service) ListTokens(ctx context.Context, scope []string) ([]APIToken, error) {
	cond, args := ScopeSQL("s.node_path", scope)
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT t.id, t.name, t.prefix, t.staff_id, t.scopes, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
		FROM api_tokens t JOIN staff s ON s.id = t.staff_id WHERE `+cond+` ORDER BY t.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var scopes string
		var created int64
		var exp, rev, used sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Prefix, &t.StaffID, &scopes, &created, &exp, &rev, &used); err != nil {
			return nil, err
		}
		t.Scopes = strings.Fields(scopes)
		t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt = db.Time(created), db.TimePtr(exp), db.TimePtr(rev), db.TimePtr(used)
		out = append(out, t)
	}
	return out, rows.Err()
}

// TokenOwnerPath returns the org path of the staff member a token acts as;
// ENotFound when there is no such token.
func (s *Service) TokenOwnerPath(ctx context.Context, id int64) (string, error) {
	var path string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT s.node_path FROM api_tokens t JOIN staff s ON s.id = t.staff_id WHERE t.id = ?`, id).Scan(&path)
	if db.IsNoRows(err) {
		return "", errs.NotFound("error.token.not_found")
	}
	return path, err
}

// RevokeToken revokes a token at once. ENotFound when there is no such token.
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, db.Ms(tx.Now), id)
		if err != nil {
			return fmt.Errorf("auth: revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("error.token.not_found")
		}
		return s.audit.Record(ctx, audit.Entry{Action: "revoke", Entity: "api_token", EntityID: id})
	})
}

func (s *Service) authenticateAPIToken(ctx context.Context, token string) (*Principal, error) {
	var id, staffID int64
	var scopes string
	var exp, rev sql.NullInt64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, staff_id, scopes, expires_at, revoked_at FROM api_tokens WHERE token_hash = ?`, HashToken(token)).
		Scan(&id, &staffID, &scopes, &exp, &rev)
	now := s.Now()
	if db.IsNoRows(err) || (err == nil && (rev.Valid || (exp.Valid && exp.Int64 <= db.Ms(now)))) {
		return nil, errs.New(errs.EUnauthorized, "error.token.invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: api token: %w", err)
	}
	p, err := s.LoadPrincipal(ctx, staffID)
	if err != nil {
		return nil, err
	}
	p.TokenID = id
	p.Scopes = map[Perm]bool{}
	for _, sc := range strings.Fields(scopes) {
		p.Scopes[Perm(sc)] = true
	}
	return p, nil
}
