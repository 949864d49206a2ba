package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Config sets the login rules.
type Config struct {
	SessionIdle time.Duration // a session unused this long expires
	SessionMax  time.Duration // no session lives longer
	LockAfter   int           // failed logins before the account locks
	LockFor     time.Duration
	LoginsPerIP int // login attempts per IP per minute
	Argon2      Argon2Params
}

// DefaultConfig is what serve uses unless told otherwise.
func DefaultConfig() Config {
	return Config{SessionIdle: 12 * time.Hour, SessionMax: 7 * 24 * time.Hour, LockAfter: 5, LockFor: 15 * time.Minute,
		LoginsPerIP: 30, Argon2: DefaultArgon2}
}

// Service authenticates staff and API clients.
type Service struct {
	db      *db.DB
	audit   *audit.Log
	cfg     Config
	limiter *limiter
	// dummyHash is checked for unknown usernames so they cost as much as
	// real ones and timing does not reveal which names exist.
	dummyHash string
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewService returns the auth service.
func NewService(d *db.DB, log *audit.Log, cfg Config) *Service {
	dummy, _ := HashPassword(RandomToken(12), cfg.Argon2)
	return &Service{db: d, audit: log, cfg: cfg, limiter: newLimiter(cfg.LoginsPerIP, time.Minute), dummyHash: dummy,
		Now: func() time.Time { return time.Now().UTC() }}
}

// Config returns the rules in force.
func (s *Service) Config() Config { return s.cfg }

// Session is a new signed-in session. Token goes to the cookie (or the
// Authorization header); only its hash is stored.
type Session struct {
	Token     string    `json:"token"`
	CSRF      string    `json:"csrf_token"`
	StaffID   int64     `json:"staff_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// HashToken is how session and API tokens are stored.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// Login checks a username and password. It fails with ETooMany when the IP
// tried too often, EForbidden "error.login.locked" while the account is
// locked, and EUnauthorized "error.login.invalid" for anything else wrong
// (unknown user, wrong password, left the company), saying no more.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (*Session, error) {
	now := s.Now()
	if !s.limiter.allow(ip, now) {
		return nil, errs.New(errs.ETooMany, "error.login.rate_limited")
	}
	username = strings.TrimSpace(username)
	var (
		id         int64
		hash, name string
		status     string
		failed     int
		locked     sql.NullInt64
	)
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, password_hash, name, status, failed_logins, locked_until FROM staff WHERE username = ?`, username).
		Scan(&id, &hash, &name, &status, &failed, &locked)
	if db.IsNoRows(err) {
		_, _ = CheckPassword(s.dummyHash, password)
		return nil, errs.New(errs.EUnauthorized, "error.login.invalid")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	if locked.Valid && locked.Int64 > db.Ms(now) {
		return nil, errs.Newf(errs.EForbidden, "error.login.locked", "minutes", int(time.Until(db.Time(locked.Int64)).Minutes())+1)
	}
	ok, _ := CheckPassword(hash, password)
	ctx = audit.WithActor(ctx, audit.Actor{ID: id, Name: name, IP: ip})
	if !ok || status == "left" || hash == "" {
		return nil, s.recordFailure(ctx, id, failed, now)
	}
	sess := &Session{Token: RandomToken(32), CSRF: RandomToken(24), StaffID: id, ExpiresAt: now.Add(s.cfg.SessionIdle)}
	err = s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?`, db.Ms(now), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, staff_id, csrf, ip, user_agent, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			HashToken(sess.Token), id, sess.CSRF, ip, truncate(userAgent, 300), db.Ms(now), db.Ms(now), db.Ms(sess.ExpiresAt)); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "login", Entity: "staff", EntityID: id, Summary: username})
	})
	if err != nil {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	return sess, nil
}

func (s *Service) recordFailure(ctx context.Context, id int64, failed int, now time.Time) error {
	failed++
	var lockUntil any
	if failed >= s.cfg.LockAfter {
		lockUntil = db.Ms(now.Add(s.cfg.LockFor))
	}
	err := s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET failed_logins = ?, locked_until = ? WHERE id = ?`, failed, lockUntil, id); err != nil {
			return err
		}
		action := "login_failed"
		if lockUntil != nil {
			action = "locked"
		}
		return s.audit.Record(ctx, audit.Entry{Action: action, Entity: "staff", EntityID: id})
	})
	if err != nil {
		return fmt.Errorf("auth: record failed login: %w", err)
	}
	if lockUntil != nil {
		return errs.Newf(errs.EForbidden, "error.login.locked", "minutes", int(s.cfg.LockFor.Minutes()))
	}
	return errs.New(errs.EUnauthorized, "error.login.invalid")
}

// Authenticate resolves a bearer or cookie token to a principal. API tokens
// start with "gjt_"; anything else is a session. It fails with
// EUnauthorized "error.session.expired" for unknown, expired or revoked tokens.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, errs.New(errs.EUnauthorized, "error.unauthorized")
	}
	if strings.HasPrefix(token, tokenPrefix) {
		return s.authenticateAPIToken(ctx, token)
	}
	now := s.Now()
	h := HashToken(token)
	var staffID, created, seen, expires int64
	var csrf string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT staff_id, csrf, created_at, last_seen_at, expires_at FROM sessions WHERE id_hash = ?`, h).
		Scan(&staffID, &csrf, &created, &seen, &expires)
	if db.IsNoRows(err) || (err == nil && expires <= db.Ms(now)) {
		return nil, errs.New(errs.EUnauthorized, "error.session.expired")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: session: %w", err)
	}
	p, err := s.LoadPrincipal(ctx, staffID)
	if err != nil {
		return nil, err
	}
	p.SessionID, p.CSRF = h, csrf
	// Slide the idle expiry, at most once a minute so reads stay reads.
	if db.Ms(now)-seen > int64(time.Minute/time.Millisecond) {
		exp := now.Add(s.cfg.SessionIdle)
		if max := db.Time(created).Add(s.cfg.SessionMax); exp.After(max) {
			exp = max
		}
		_ = s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`, db.Ms(now), db.Ms(exp), h)
			return err
		})
	}
	return p, nil
}

// LoadPrincipal loads a staff member with their grants. It fails with
// EUnauthorized when the account is gone or has left.
func (s *Service) LoadPrincipal(ctx context.Context, staffID int64) (*Principal, error) {
	p := &Principal{StaffID: staffID}
	var status string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT username, name, locale, node_path, status, must_change_pw FROM staff WHERE id = ?`, staffID).
		Scan(&p.Username, &p.Name, &p.Locale, &p.NodePath, &status, &p.MustChangePassword)
	if db.IsNoRows(err) || status == "left" {
		return nil, errs.New(errs.EUnauthorized, "error.session.expired")
	}
	if err != nil {
		return nil, fmt.Errorf("auth: load staff %d: %w", staffID, err)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT g.node_id, n.path, r.id, r.key, r.builtin FROM role_grants g
		JOIN roles r ON r.id = g.role_id JOIN org_nodes n ON n.id = g.node_id WHERE g.staff_id = ?`, staffID)
	if err != nil {
		return nil, fmt.Errorf("auth: grants of %d: %w", staffID, err)
	}
	var custom []int64
	idx := map[int64][]int{}
	for rows.Next() {
		var g Grant
		var roleID int64
		var builtin bool
		if err := rows.Scan(&g.NodeID, &g.NodePath, &roleID, &g.RoleKey, &builtin); err != nil {
			rows.Close()
			return nil, err
		}
		g.Perms = map[Perm]bool{}
		if builtin {
			for _, pm := range BuiltinPerms(g.RoleKey) {
				g.Perms[pm] = true
			}
		} else {
			custom = append(custom, roleID)
			idx[roleID] = append(idx[roleID], len(p.Grants))
		}
		p.Grants = append(p.Grants, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(custom) > 0 {
		args := make([]any, len(custom))
		for i, id := range custom {
			args[i] = id
		}
		prow, err := s.db.Q(ctx).QueryContext(ctx, `SELECT role_id, perm FROM role_permissions WHERE role_id IN (`+db.Placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("auth: role permissions: %w", err)
		}
		defer prow.Close()
		for prow.Next() {
			var rid int64
			var perm string
			if err := prow.Scan(&rid, &perm); err != nil {
				return nil, err
			}
			for _, i := range idx[rid] {
				p.Grants[i].Perms[Perm(perm)] = true
			}
		}
		if err := prow.Err(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Logout ends the session with the given hash.
func (s *Service) Logout(ctx context.Context, sessionHash string) error {
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, sessionHash)
		if err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
		return s.audit.Record(ctx, audit.Entry{Action: "logout", Entity: "staff", EntityID: audit.ActorFrom(ctx).ID})
	})
}

// ChangePassword sets a new password after checking the old one. It fails
// with EInvalid naming the field at fault. Other sessions of the account end.
func (s *Service) ChangePassword(ctx context.Context, staffID int64, sessionHash, oldPw, newPw string) error {
	var v errs.Validation
	v.Required("old_password", oldPw)
	if k := ValidatePassword(newPw); k != "" {
		v.Add("new_password", k)
	}
	if newPw != "" && newPw == oldPw {
		v.Add("new_password", "error.password.same")
	}
	if err := v.Err(); err != nil {
		return err
	}
	var hash string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT password_hash FROM staff WHERE id = ?`, staffID).Scan(&hash); err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	if ok, _ := CheckPassword(hash, oldPw); !ok {
		return errs.Invalid("old_password", "error.password.wrong")
	}
	newHash, err := HashPassword(newPw, s.cfg.Argon2)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = ?, must_change_pw = FALSE, updated_at = ? WHERE id = ?`, newHash, db.Ms(tx.Now), staffID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_id = ? AND id_hash <> ?`, staffID, sessionHash); err != nil {
			return err
		}
		return s.audit.Record(ctx, audit.Entry{Action: "password_change", Entity: "staff", EntityID: staffID})
	})
}

// CleanupExpired deletes expired sessions and one-time codes; it returns how
// many rows went. It is the body of a periodic job.
func (s *Service) CleanupExpired(ctx context.Context) (int64, error) {
	var total int64
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(s.Now())
		for _, q := range []string{
			`DELETE FROM sessions WHERE expires_at <= ?`,
			`DELETE FROM otp_codes WHERE expires_at <= ?`,
		} {
			res, err := tx.ExecContext(ctx, q, now)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("auth: cleanup: %w", err)
	}
	return total, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
