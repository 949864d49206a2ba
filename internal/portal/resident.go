package portal

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
)

// Resident is a signed-in portal user: what their phone gives them.
type Resident struct {
	PhoneMasked  string
	HouseholdIDs []int64  // households where the phone is an active member's, or was verified
	Accounts     []string // utility accounts bound to the phone
	Kiosk        bool
	CSRF         string
	session      string
	phoneIdx     string
}

// owns reports whether a household is the resident's.
func (r *Resident) owns(householdID *int64) bool {
	if householdID == nil {
		return false
	}
	for _, id := range r.HouseholdIDs {
		if id == *householdID {
			return true
		}
	}
	return false
}

// Authenticate resolves a portal token (web.PortalAuth). It returns
// EUnauthorized for unknown or expired sessions; a session's resident is
// recomputed on every request, so a phone removed from a household loses
// access at once.
func (s *Service) Authenticate(ctx context.Context, token string) (any, string, error) {
	if !strings.HasPrefix(token, "gjp_") {
		return nil, "", errs.New(errs.EUnauthorized, "error.session.expired")
	}
	var idx, enc, csrf string
	var kiosk bool
	var expires, seen int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT phone_idx, phone_enc, csrf, kiosk, expires_at, last_seen_at FROM portal_sessions WHERE id_hash = ?`, hashToken(token)).
		Scan(&idx, &enc, &csrf, &kiosk, &expires, &seen)
	now := s.Now()
	if db.IsNoRows(err) || (err == nil && expires <= db.Ms(now)) {
		return nil, "", errs.New(errs.EUnauthorized, "error.session.expired")
	}
	if err != nil {
		return nil, "", fmt.Errorf("portal: session: %w", err)
	}
	phone, err := s.vault.Open("portal.phone", enc)
	if err != nil {
		return nil, "", fmt.Errorf("portal: session phone: %w", err)
	}
	r, err := s.resident(ctx, s.phoneIndexes(phone))
	if err != nil {
		return nil, "", err
	}
	r.PhoneMasked, r.Kiosk, r.CSRF, r.session, r.phoneIdx = pii.MaskPhone(phone), kiosk, csrf, hashToken(token), idx
	if !kiosk && db.Ms(now)-seen > int64(time.Minute/time.Millisecond) {
		_ = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE portal_sessions SET last_seen_at = ? WHERE id_hash = ?`, db.Ms(now), r.session)
			return err
		})
	}
	return r, csrf, nil
}

// resident finds the households and accounts of a phone by its blind
// indexes.
func (s *Service) resident(ctx context.Context, idxs []string) (*Resident, error) {
	r := &Resident{}
	if len(idxs) == 0 {
		return r, nil
	}
	args := make([]any, len(idxs))
	for i, x := range idxs {
		args[i] = x
	}
	in := db.Placeholders(len(idxs))
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT DISTINCT h.id FROM person_phones pp JOIN household_people p ON p.id = pp.person_id AND p.status = 'active'
		JOIN households h ON h.id = p.household_id AND h.status = 'current' WHERE pp.phone_idx IN (`+in+`)
		UNION SELECT household_id FROM portal_verifications WHERE state = 'approved' AND household_id IS NOT NULL AND phone_idx IN (`+in+`)`, append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("portal: households of phone: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		r.HouseholdIDs = append(r.HouseholdIDs, id)
	}
	rows.Close()
	rows, err = s.db.Q(ctx).QueryContext(ctx, `SELECT number FROM portal_accounts WHERE phone_idx IN (`+in+`) ORDER BY number`, args...)
	if err != nil {
		return nil, fmt.Errorf("portal: accounts of phone: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		r.Accounts = append(r.Accounts, n)
	}
	return r, rows.Err()
}
