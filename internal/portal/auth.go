package portal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/sms"
)

const purposeLogin, purposeVerify = "portal", "portal_verify"

var phoneRe = regexp.MustCompile(`^\+?[0-9][0-9\- ]{4,19}$`)

// CodeRequest asks for a sign-in code by phone or by account/application
// number.
type CodeRequest struct {
	Phone   string `json:"phone,omitempty"`
	Account string `json:"account,omitempty"`
}

// CodeSent is the answer: 202 whether or not the phone is known; for an
// account, the masked phone the code went to.
type CodeSent struct {
	MaskedPhone string `json:"masked_phone,omitempty"`
	ExpiresIn   int    `json:"expires_in_seconds"`
}

func (in *CodeRequest) validate() error {
	var v errs.Validation
	in.check(&v)
	return v.Err()
}

func (in *CodeRequest) check(v *errs.Validation) {
	in.Phone, in.Account = strings.TrimSpace(in.Phone), strings.TrimSpace(in.Account)
	v.Check((in.Phone == "") != (in.Account == ""), "phone", "error.portal.phone_or_account")
	v.Check(in.Phone == "" || phoneRe.MatchString(in.Phone), "phone", "error.field.bad_phone")
	v.MaxLen("account", in.Account, 64)
}

// RequestCode sends a 6-digit code, valid 5 minutes, to the phone (or the
// phone bound to the account) — only when it belongs to someone the portal
// knows; unknown phones get the same answer and no message. Limits: per
// phone 1 a minute, 5 an hour, 10 a day (rolling), per IP; a locked phone
// gets none. ETooMany with "retry_after" seconds when a limit is reached.
func (s *Service) RequestCode(ctx context.Context, in CodeRequest, ip string) (*CodeSent, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.Now()
	if !s.ips.allow(ip, now, s.cfg.PerIPPerHour) {
		return nil, errs.Newf(errs.ETooMany, "error.portal.too_many_codes", "retry_after", 3600)
	}
	out := &CodeSent{ExpiresIn: int(s.cfg.CodeTTL.Seconds())}
	phone := in.Phone
	if in.Account != "" {
		p, err := s.accountPhone(ctx, in.Account)
		if err != nil {
			return nil, err
		}
		if p == "" {
			return nil, errs.New(errs.ENotFound, "error.portal.unknown_account")
		}
		phone, out.MaskedPhone = p, pii.MaskPhone(p)
	}
	known, err := s.known(ctx, phone)
	if err != nil {
		return nil, err
	}
	if err := s.issue(ctx, phone, purposeLogin, known, now); err != nil {
		return nil, err
	}
	return out, nil
}

// issue checks the phone's limits and lock, stores a keyed hash of a new
// code and, when send is true, texts it.
func (s *Service) issue(ctx context.Context, phone, purpose string, send bool, now time.Time) error {
	idx := s.phoneIndexes(phone)[0]
	if until, err := s.lockedUntil(ctx, idx, now); err != nil {
		return err
	} else if !until.IsZero() {
		return errs.Newf(errs.ETooMany, "error.portal.locked", "retry_after", int(until.Sub(now).Seconds())+1)
	}
	for _, w := range []struct {
		d     time.Duration
		limit int
	}{{time.Minute, s.cfg.PerMinute}, {time.Hour, s.cfg.PerHour}, {24 * time.Hour, s.cfg.PerDay}} {
		var n int
		var oldest sql.NullInt64
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM otp_codes WHERE purpose = ? AND subject = ? AND created_at > ?`,
			purpose, idx, db.Ms(now.Add(-w.d))).Scan(&n, &oldest); err != nil {
			return fmt.Errorf("portal: code count: %w", err)
		}
		if n >= w.limit {
			retry := int(db.Time(oldest.Int64).Add(w.d).Sub(now).Seconds()) + 1
			return errs.Newf(errs.ETooMany, "error.portal.too_many_codes", "retry_after", retry)
		}
	}
	code := newCode()
	return s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO otp_codes (purpose, subject, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			purpose, idx, s.codeHash(idx, code), db.Ms(now), db.Ms(now.Add(s.cfg.CodeTTL))); err != nil {
			return fmt.Errorf("portal: store code: %w", err)
		}
		if !send || s.sms == nil {
			return nil
		}
		_, err := s.sms.Enqueue(ctx, sms.Message{Phone: phone, Purpose: "otp",
			Text: fmt.Sprintf("【管家】您的验证码是 %s，%d 分钟内有效。如非本人操作请忽略。", code, int(s.cfg.CodeTTL.Minutes()))})
		return err
	})
}

// codeHash keys the code's hash with the vault's index key, so a stolen
// table cannot be checked against the million possible codes.
func (s *Service) codeHash(idx, code string) string { return s.vault.Index("otp", idx+":"+code) }

func (s *Service) lockedUntil(ctx context.Context, idx string, now time.Time) (time.Time, error) {
	var until sql.NullInt64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT locked_until FROM portal_locks WHERE phone_idx = ?`, idx).Scan(&until)
	if db.IsNoRows(err) || (err == nil && (!until.Valid || until.Int64 <= db.Ms(now))) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("portal: lock: %w", err)
	}
	return db.Time(until.Int64), nil
}

// known reports whether a phone belongs to an active household member, an
// approved verification or a utility account.
func (s *Service) known(ctx context.Context, phone string) (bool, error) {
	r, err := s.resident(ctx, s.phoneIndexes(phone))
	if err != nil {
		return false, err
	}
	return len(r.HouseholdIDs) > 0 || len(r.Accounts) > 0, nil
}

// accountPhone returns the phone bound to a utility account, or to the
// account an application number belongs to; "" when unknown.
func (s *Service) accountPhone(ctx context.Context, number string) (string, error) {
	var enc string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT phone_enc FROM portal_accounts WHERE number = ?`, number).Scan(&enc)
	if db.IsNoRows(err) {
		err = s.db.Q(ctx).QueryRowContext(ctx, `SELECT a.phone_enc FROM flow_instances i JOIN portal_accounts a ON a.number = i.customer_ref
			WHERE i.business_key = ? ORDER BY i.id DESC LIMIT 1`, number).Scan(&enc)
	}
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("portal: account: %w", err)
	}
	return s.vault.Open("portal.phone", enc)
}

// VerifyRequest signs in with the code.
type VerifyRequest struct {
	Phone   string `json:"phone,omitempty"`
	Account string `json:"account,omitempty"`
	Code    string `json:"code"`
	Kiosk   bool   `json:"kiosk,omitempty"`
}

// Session is a portal sign-in.
type Session struct {
	Token     string    `json:"token"`
	CSRF      string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Verify checks a code: single use, within its 5 minutes. A wrong code
// counts against the phone (5 lock it for 30 minutes). It returns
// EUnauthorized "error.portal.wrong_code" for a wrong or expired code, and
// ETooMany "error.portal.locked" while locked.
func (s *Service) Verify(ctx context.Context, in VerifyRequest) (*Session, error) {
	var v errs.Validation
	in.Code = strings.TrimSpace(in.Code)
	v.Check(len(in.Code) == 6 && digits(in.Code) == in.Code, "code", "error.portal.bad_code")
	req := CodeRequest{Phone: in.Phone, Account: in.Account}
	req.check(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	phone := req.Phone
	if req.Account != "" {
		p, err := s.accountPhone(ctx, req.Account)
		if err != nil {
			return nil, err
		}
		if p == "" {
			return nil, errs.New(errs.EUnauthorized, "error.portal.wrong_code")
		}
		phone = p
	}
	now := s.Now()
	known, err := s.known(ctx, phone)
	if err != nil {
		return nil, err
	}
	if !known {
		// The code still counts (a wrong one towards the lock), and the
		// answer is the same as for a wrong code.
		if err := s.consume(ctx, phone, purposeLogin, in.Code, now, nil); err != nil {
			return nil, err
		}
		return nil, errs.New(errs.EUnauthorized, "error.portal.wrong_code")
	}
	// The code is used up and the session begins in one transaction (one
	// commit a sign-in); the sealing and the reads happen before it, so the
	// writer holds its lock for three statements.
	sess, insert, err := s.prepareSession(phone, in.Kiosk, now)
	if err != nil {
		return nil, err
	}
	if err := s.consume(ctx, phone, purposeLogin, in.Code, now, insert); err != nil {
		return nil, err
	}
	return sess, nil
}

// consume checks a code and uses it up, counting failures. then, when not
// nil, runs in the same transaction after the code was accepted; its error
// rolls the whole back.
func (s *Service) consume(ctx context.Context, phone, purpose, code string, now time.Time, then func(ctx context.Context) error) error {
	idx := s.phoneIndexes(phone)[0]
	if until, err := s.lockedUntil(ctx, idx, now); err != nil {
		return err
	} else if !until.IsZero() {
		return errs.Newf(errs.ETooMany, "error.portal.locked", "retry_after", int(until.Sub(now).Seconds())+1)
	}
	var failed error
	err := s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE purpose = ? AND subject = ? AND code_hash = ? AND used_at IS NULL AND expires_at > ?`,
			db.Ms(now), purpose, idx, s.codeHash(idx, code), db.Ms(now))
		if err != nil {
			return fmt.Errorf("portal: use code: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM portal_locks WHERE phone_idx = ?`, idx); err != nil {
				return err
			}
			if then != nil {
				return then(ctx)
			}
			return nil
		}
		var failures int
		if err := tx.QueryRowContext(ctx, `INSERT INTO portal_locks (phone_idx, failures, updated_at) VALUES (?, 1, ?)
			ON CONFLICT (phone_idx) DO UPDATE SET failures = portal_locks.failures + 1, updated_at = ? RETURNING failures`, idx, db.Ms(now), db.Ms(now)).Scan(&failures); err != nil {
			return err
		}
		failed = errs.New(errs.EUnauthorized, "error.portal.wrong_code")
		if failures >= s.cfg.MaxWrong {
			until := now.Add(s.cfg.LockFor)
			if _, err := tx.ExecContext(ctx, `UPDATE portal_locks SET failures = 0, locked_until = ? WHERE phone_idx = ?`, db.Ms(until), idx); err != nil {
				return err
			}
			// Outstanding codes die with the lock.
			if _, err := tx.ExecContext(ctx, `UPDATE otp_codes SET used_at = ? WHERE subject = ? AND used_at IS NULL`, db.Ms(now), idx); err != nil {
				return err
			}
			failed = errs.Newf(errs.ETooMany, "error.portal.locked", "retry_after", int(s.cfg.LockFor.Seconds()))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return failed
}

// prepareSession makes a session's token and sealed phone, and returns
// the statement that stores it, for the caller's transaction.
func (s *Service) prepareSession(phone string, kiosk bool, now time.Time) (*Session, func(ctx context.Context) error, error) {
	enc, err := s.vault.Seal("portal.phone", phone)
	if err != nil {
		return nil, nil, err
	}
	ttl := s.cfg.SessionTTL
	if kiosk {
		ttl = s.cfg.KioskTTL
	}
	sess := &Session{Token: "gjp_" + auth.RandomToken(32), CSRF: auth.RandomToken(24), ExpiresAt: now.Add(ttl)}
	idx := s.phoneIndexes(phone)[0]
	insert := func(ctx context.Context) error {
		return s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (id_hash, phone_idx, phone_enc, csrf, kiosk, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				hashToken(sess.Token), idx, enc, sess.CSRF, kiosk, db.Ms(now), db.Ms(now), db.Ms(sess.ExpiresAt)); err != nil {
				return fmt.Errorf("portal: session: %w", err)
			}
			return nil
		})
	}
	return sess, insert, nil
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Logout ends a portal session.
func (s *Service) Logout(ctx context.Context, r *Resident) error {
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE id_hash = ?`, r.session)
		return err
	})
}

// Cleanup removes expired portal sessions.
func (s *Service) Cleanup(ctx context.Context) error {
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE expires_at <= ?`, db.Ms(s.Now()))
		return err
	})
}
