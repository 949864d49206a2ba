package households

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
)

// Config holds the care rules.
type Config struct {
	// ElderlyVisitDays is how often an elderly person living alone is
	// visited; a visit task appears when the last visit is this old.
	ElderlyVisitDays int
	// AbsentGreetingDays is how often an owner who does not live in the
	// unit is greeted.
	AbsentGreetingDays int
	// GreetHolidays names the public holidays that bring a greeting to
	// every household, as the calendar names them.
	GreetHolidays []string
}

// DefaultConfig is a butler's usual rhythm.
func DefaultConfig() Config {
	return Config{ElderlyVisitDays: 7, AbsentGreetingDays: 30, GreetHolidays: []string{"元旦", "春节", "端午节", "中秋节", "国庆节"}}
}

// HolidaySource returns the public holidays that apply to the org node at
// path (a site's business calendar, or the national one).
type HolidaySource func(ctx context.Context, path string) ([]calendar.NamedDate, error)

// BuiltinHolidays is the HolidaySource of the national calendar shipped
// with guanjia; the app uses a site's own calendar first when it has
// holiday data.
func BuiltinHolidays(context.Context, string) ([]calendar.NamedDate, error) {
	c, err := calendar.Builtin(calendar.KeyCNWorkday)
	if err != nil {
		return nil, err
	}
	var out []calendar.NamedDate
	for _, y := range c.Spec().Years {
		out = append(out, y.Holidays...)
	}
	return out, nil
}

// Service holds the rules of households, care and personal data. Exported
// methods check the caller's permissions on the org subtree of what they
// touch and return errs.ENotFound for things outside the caller's view and
// errs.EForbidden for things seen but not to be changed.
type Service struct {
	db         *db.DB
	principals Principals
	audit      *audit.Log
	vault      *pii.Vault
	cfg        Config
	holidays   HolidaySource
	log        *slog.Logger
	cases      CaseCounter
	caseList   CaseLister
	eraseHooks []EraseHook
}

// Principals loads a staff member's permissions (auth.Service does).
type Principals interface {
	LoadPrincipal(ctx context.Context, staffID int64) (*auth.Principal, error)
}

// NewService returns the households service. holidays may be nil (the
// national calendar is used).
func NewService(d *db.DB, a *audit.Log, v *pii.Vault, principals Principals, cfg Config, holidays HolidaySource, log *slog.Logger) *Service {
	def := DefaultConfig()
	if cfg.ElderlyVisitDays <= 0 {
		cfg.ElderlyVisitDays = def.ElderlyVisitDays
	}
	if cfg.AbsentGreetingDays <= 0 {
		cfg.AbsentGreetingDays = def.AbsentGreetingDays
	}
	if cfg.GreetHolidays == nil {
		cfg.GreetHolidays = def.GreetHolidays
	}
	if holidays == nil {
		holidays = BuiltinHolidays
	}
	return &Service{db: d, principals: principals, audit: a, vault: v, cfg: cfg, holidays: holidays, log: log}
}

// Vault returns the vault that seals this module's personal data.
func (s *Service) Vault() *pii.Vault { return s.vault }

const keyCheckSetting = "pii.key_check."

// ErrWrongKey says the configured key is not the one the data was sealed with.
var ErrWrongKey = errors.New("households: the configured personal-data key (GUANJIA_PII_KEY) is not the one this database was sealed with")

// CheckKey verifies, once per start, that every key of the ring that the
// database has seen before is the same key (same id, same secret), that
// no personal data is sealed under a key missing from the ring, and
// records the keys it has not seen. A wrong or missing key fails here
// instead of sealing new data that the old key cannot open and vice versa.
func (s *Service) CheckKey(ctx context.Context) error {
	inUse, err := s.KeyIDsInUse(ctx)
	if err != nil {
		return err
	}
	for _, id := range inUse {
		if _, ok := s.vault.CheckOf(id); !ok {
			return fmt.Errorf("%w: personal data is sealed with key %q, which the ring lacks", ErrWrongKey, id)
		}
	}
	return s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for _, id := range s.vault.KeyIDs() {
			check, _ := s.vault.CheckOf(id)
			var stored string
			err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, keyCheckSetting+id).Scan(&stored)
			switch {
			case db.IsNoRows(err):
				if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`,
					keyCheckSetting+id, check, db.Ms(tx.Now)); err != nil {
					return fmt.Errorf("households: record key check: %w", err)
				}
			case err != nil:
				return fmt.Errorf("households: read key check: %w", err)
			case stored != check:
				return fmt.Errorf("%w (key id %s)", ErrWrongKey, id)
			}
		}
		return nil
	})
}

// principal returns the caller.
func principal(ctx context.Context) *auth.Principal { return auth.FromContext(ctx) }

// canSee reports whether the caller may view households at path.
func canSee(ctx context.Context, path string) bool {
	return principal(ctx).Can(PermView, path)
}

// need returns EForbidden unless the caller holds perm at path.
func need(ctx context.Context, perm auth.Perm, path string) error {
	if !principal(ctx).Can(perm, path) {
		return errs.Forbidden()
	}
	return nil
}

// defaultZone is where dates are counted when a site names no time zone.
var defaultZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// location returns the time zone of the org node at path: its own or its
// nearest ancestor's, else Asia/Shanghai.
func (s *Service) location(ctx context.Context, path string) *time.Location {
	var tz string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT timezone FROM org_nodes WHERE ? LIKE path || '%' AND timezone <> '' ORDER BY depth DESC LIMIT 1`, path).Scan(&tz)
	if err != nil {
		return defaultZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return defaultZone
	}
	return loc
}

// record writes an audit row in the transaction of ctx. Rows never carry
// personal data: only ids, kinds and the names of the fields that changed.
func (s *Service) record(ctx context.Context, action, entity string, id any, path, summary string, after any) error {
	return s.audit.Record(ctx, audit.Entry{Action: action, Entity: entity, EntityID: id, NodePath: path, Summary: summary, After: after})
}
