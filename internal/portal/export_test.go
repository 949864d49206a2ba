package portal

import (
	"context"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/db"
)

// SeedSignIns gives each phone a utility account (so the portal knows it)
// and an unused sign-in code, with multi-row INSERTs: benchmark setup, so
// that every verification checks a fresh code for a distinct phone without
// paying for the text messages first.
func (s *Service) SeedSignIns(ctx context.Context, phones, codes []string) error {
	now := s.Now()
	const per = 400
	for from := 0; from < len(phones); from += per {
		to := min(from+per, len(phones))
		err := s.db.WithTxAt(ctx, now, func(ctx context.Context, tx *db.Tx) error {
			var acc, otp []any
			for i := from; i < to; i++ {
				idx := s.phoneIndexes(phones[i])[0]
				enc, err := s.vault.Seal("portal.phone", phones[i])
				if err != nil {
					return err
				}
				acc = append(acc, fmt.Sprintf("BENCH%08d", i), enc, idx, db.Ms(now))
				otp = append(otp, purposeLogin, idx, s.codeHash(idx, codes[i]), db.Ms(now), db.Ms(now.Add(s.cfg.CodeTTL)))
			}
			n := to - from
			if _, err := tx.ExecContext(ctx, `INSERT INTO portal_accounts (number, phone_enc, phone_idx, created_at) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", "), acc...); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO otp_codes (purpose, subject, code_hash, created_at, expires_at) VALUES `+
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", "), otp...)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
