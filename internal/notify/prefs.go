package notify

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Prefs are a person's notification preferences: text messages on or off,
// and quiet hours (local time, HH:MM, may run over midnight; equal start
// and end mean none) in which only urgent texts go out. The bell always
// rings.
type Prefs struct {
	SMS        bool   `json:"sms"`
	QuietStart string `json:"quiet_start"`
	QuietEnd   string `json:"quiet_end"`
}

// DefaultPrefs apply to whoever has not chosen: texts on, quiet from
// 22:00 to 07:00.
var DefaultPrefs = Prefs{SMS: true, QuietStart: "22:00", QuietEnd: "07:00"}

// PrefsInput sets preferences; every field is required.
type PrefsInput struct {
	SMS        *bool   `json:"sms"`
	QuietStart *string `json:"quiet_start"`
	QuietEnd   *string `json:"quiet_end"`
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Prefs returns a person's preferences (the defaults when never set).
func (s *Service) Prefs(ctx context.Context, staffID int64) (Prefs, error) {
	p := DefaultPrefs
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT sms, quiet_start, quiet_end FROM notify_prefs WHERE staff_id = ?`, staffID).Scan(&p.SMS, &p.QuietStart, &p.QuietEnd)
	if err != nil && !db.IsNoRows(err) {
		return p, fmt.Errorf("notify: preferences: %w", err)
	}
	return p, nil
}

// SetPrefs sets a person's preferences. Every field is required and times
// must be HH:MM (EInvalid naming the field otherwise, and nothing changes).
func (s *Service) SetPrefs(ctx context.Context, staffID int64, in PrefsInput) (Prefs, error) {
	var v errs.Validation
	v.Check(in.SMS != nil, "sms", "error.field.required")
	for _, f := range []struct {
		name string
		val  *string
	}{{"quiet_start", in.QuietStart}, {"quiet_end", in.QuietEnd}} {
		if f.val == nil {
			v.Add(f.name, "error.field.required")
			continue
		}
		*f.val = strings.TrimSpace(*f.val)
		v.Check(hhmm.MatchString(*f.val), f.name, "error.notify.bad_time")
	}
	if err := v.Err(); err != nil {
		return Prefs{}, err
	}
	p := Prefs{SMS: *in.SMS, QuietStart: *in.QuietStart, QuietEnd: *in.QuietEnd}
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_prefs (staff_id, sms, quiet_start, quiet_end, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (staff_id) DO UPDATE SET sms = excluded.sms, quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = excluded.updated_at`,
			staffID, p.SMS, p.QuietStart, p.QuietEnd, db.Ms(tx.Now))
		return err
	})
	return p, err
}
