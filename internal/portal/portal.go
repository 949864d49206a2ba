// Package portal is the self-service portal for residents and utility
// customers: sign-in with a one-time code sent to the phone, their
// household's cases with a simple progress line, reporting a problem with
// photos, rating completed work, notices, and a kiosk mode for a lobby
// touch screen. A portal session reaches portal routes only, and a resident
// reaches only their own households' data.
package portal

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/notify"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/sms"
)

// Config sets the sign-in rules.
type Config struct {
	CodeTTL      time.Duration // a code is valid this long
	PerMinute    int           // codes per phone in any rolling minute
	PerHour      int           // … hour
	PerDay       int           // … 24 hours
	MaxWrong     int           // wrong codes before the phone locks
	LockFor      time.Duration
	PerIPPerHour int // code requests per IP per hour
	SessionTTL   time.Duration
	KioskTTL     time.Duration // a kiosk session ends this long after its start at most
}

// DefaultConfig is the rule set the issue describes.
func DefaultConfig() Config {
	return Config{CodeTTL: 5 * time.Minute, PerMinute: 1, PerHour: 5, PerDay: 10, MaxWrong: 5, LockFor: 30 * time.Minute,
		PerIPPerHour: 30, SessionTTL: 30 * 24 * time.Hour, KioskTTL: 10 * time.Minute}
}

// Service runs the portal.
type Service struct {
	db     *db.DB
	vault  *pii.Vault
	sms    *sms.Service
	cases  *cases.Service
	flow   *flow.Engine
	notify *notify.Service
	audit  *audit.Log
	log    *slog.Logger
	cfg    Config
	ips    *ipWindow
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// Deps are what the portal works with.
type Deps struct {
	DB     *db.DB
	Vault  *pii.Vault
	SMS    *sms.Service
	Cases  *cases.Service
	Flow   *flow.Engine
	Notify *notify.Service // tells butlers of verification requests; nil tells nobody
	Audit  *audit.Log      // records verification decisions; nil records nothing
	Log    *slog.Logger
}

// New returns the portal service.
func New(d Deps, cfg Config) *Service {
	return &Service{db: d.DB, vault: d.Vault, sms: d.SMS, cases: d.Cases, flow: d.Flow, notify: d.Notify, audit: d.Audit, log: d.Log, cfg: cfg,
		ips: &ipWindow{hits: map[string][]time.Time{}}, Now: func() time.Time { return time.Now().UTC() }}
}

// Config returns the rules in force.
func (s *Service) Config() Config { return s.cfg }

// fieldPhone is the blind-index field of phone digits, the same one the
// households module indexes person_phones with, so a phone finds its
// household member without anyone storing it in clear.
const fieldPhone = "phone"

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SealedColumns are the portal's sealed phones and their indexes, for a
// key rotation (pii.Vault.RekeyColumn).
var SealedColumns = []pii.Column{
	{Table: "portal_accounts", Key: "id", Sealed: "phone_enc", Field: "portal.phone", Index: "phone_idx", IndexField: fieldPhone, IndexOf: digits},
	{Table: "portal_verifications", Key: "id", Sealed: "phone_enc", Field: "portal.phone", Index: "phone_idx", IndexField: fieldPhone, IndexOf: digits},
	{Table: "portal_sessions", Key: "id_hash", Sealed: "phone_enc", Field: "portal.phone", Index: "phone_idx", IndexField: fieldPhone, IndexOf: digits},
}

// phoneIndexes returns the phone's blind indexes under every key of the ring
// (the current first), for lookups during a key rotation.
func (s *Service) phoneIndexes(phone string) []string {
	return s.vault.Indexes(fieldPhone, digits(phone))
}

func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// ipWindow counts requests per IP in a rolling hour (per process).
type ipWindow struct {
	mu   sync.Mutex
	hits map[string][]time.Time
}

func (w *ipWindow) allow(ip string, now time.Time, limit int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	cut := now.Add(-time.Hour)
	h := w.hits[ip][:0]
	for _, t := range w.hits[ip] {
		if t.After(cut) {
			h = append(h, t)
		}
	}
	if len(h) >= limit {
		w.hits[ip] = h
		return false
	}
	w.hits[ip] = append(h, now)
	if len(w.hits) > 100000 {
		for k, v := range w.hits {
			if len(v) == 0 || v[len(v)-1].Before(cut) {
				delete(w.hits, k)
			}
		}
	}
	return true
}
