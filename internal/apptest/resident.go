package apptest

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/guanjia/guanjia/internal/db"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writers (an SMS log).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written.
func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Resident creates a household at a new unit of 示例花园 with one owner
// whose phone is given, and returns the household id.
func (e *Env) Resident(unit, name, phone string) int64 {
	e.T.Helper()
	ctx := context.Background()
	site := e.SiteID("示例花园")
	var hh int64
	err := e.DB.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var path string
		if err := tx.QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, site).Scan(&path); err != nil {
			return err
		}
		var u, p int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, node_path, number, building, floor, created_at, updated_at) VALUES (?, ?, ?, '9', 1, 0, 0) RETURNING id`, site, path, unit).Scan(&u); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO households (unit_id, site_id, node_path, butler_id, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0) RETURNING id`,
			u, site, path, e.StaffID("butler")).Scan(&hh); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO household_people (uid, household_id, node_path, role, name, created_at, updated_at) VALUES (?, ?, ?, 'owner', ?, 0, 0) RETURNING id`,
			"t-"+unit, hh, path, name).Scan(&p); err != nil {
			return err
		}
		enc, err := e.App.Vault.Seal("phone", phone)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO person_phones (person_id, phone_enc, phone_idx) VALUES (?, ?, ?)`, p, enc, e.App.Vault.Index("phone", phone))
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return hh
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// PortalToken signs a resident in through the portal's code flow, reading
// the code from the SMS log as a person reads their phone.
func (e *Env) PortalToken(phone string) string {
	e.T.Helper()
	if res := e.Do("POST", "/api/portal/v1/auth/code", "", map[string]string{"phone": phone}, nil); res.StatusCode != http.StatusAccepted {
		e.T.Fatalf("portal code: %d %s", res.StatusCode, res.Body)
	}
	e.DeliverSMS()
	code := ""
	for _, line := range strings.Split(e.SMSLog.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "SMS to "+phone+":"); ok {
			code = sixDigits.FindString(rest)
		}
	}
	var s struct{ Token string }
	if res := e.Do("POST", "/api/portal/v1/auth/verify", "", map[string]string{"phone": phone, "code": code}, &s); res.StatusCode != http.StatusOK {
		e.T.Fatalf("portal verify: %d %s", res.StatusCode, res.Body)
	}
	return s.Token
}
