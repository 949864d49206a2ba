package housekeeping

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// HotelSite is a hotel site as housekeeping sees it.
type HotelSite struct {
	ID   int64          `json:"id"`
	Name string         `json:"name"`
	Path string         `json:"-"`
	Zone *time.Location `json:"-"`
}

// Today is the site's local date of t, YYYY-MM-DD.
func (s *HotelSite) Today(t time.Time) string { return t.In(s.Zone).Format(time.DateOnly) }

// defaultZone is where a site without a time zone is (the users are Chinese).
var defaultZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// loadSite reads a site node and its time zone (its own or the nearest
// ancestor's). ENotFound when it does not exist or is not a site.
func (s *Service) loadSite(ctx context.Context, id int64) (*HotelSite, error) {
	var st HotelSite
	var kind, tz string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT id, name, path, kind, timezone FROM org_nodes WHERE id = ?`, id).Scan(&st.ID, &st.Name, &st.Path, &kind, &tz)
	if db.IsNoRows(err) || (err == nil && kind != "site") {
		return nil, errs.NotFound("error.hk.site_not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("housekeeping: site %d: %w", id, err)
	}
	if tz == "" {
		tz, err = s.ancestorZone(ctx, st.Path)
		if err != nil {
			return nil, err
		}
	}
	st.Zone = defaultZone
	if tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			st.Zone = loc
		}
	}
	return &st, nil
}

// ancestorZone returns the time zone of the nearest ancestor that has one.
func (s *Service) ancestorZone(ctx context.Context, path string) (string, error) {
	var ids []any
	for _, p := range strings.Split(strings.Trim(path, "/"), "/") {
		if n, err := strconv.ParseInt(p, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT timezone FROM org_nodes WHERE id IN (`+db.Placeholders(len(ids))+`) AND timezone <> '' ORDER BY depth DESC LIMIT 1`, ids...)
	if err != nil {
		return "", fmt.Errorf("housekeeping: zone: %w", err)
	}
	defer rows.Close()
	var tz string
	if rows.Next() {
		if err := rows.Scan(&tz); err != nil {
			return "", err
		}
	}
	return tz, rows.Err()
}

// site returns a site the caller holds perm on; ENotFound when it does not
// exist or is outside their scope.
func (s *Service) site(ctx context.Context, id int64, perm auth.Perm) (*HotelSite, error) {
	st, err := s.loadSite(ctx, id)
	if err != nil {
		return nil, err
	}
	if p := auth.FromContext(ctx); p != nil && !p.Can(perm, st.Path) && !canBelow(p, perm, st.Path) {
		return nil, errs.NotFound("error.hk.site_not_found")
	}
	return st, nil
}

// siteInput is site for a site named in a request body: an unknown or
// unreachable one is bad input naming the field.
func (s *Service) siteInput(ctx context.Context, id int64, perm auth.Perm, field string) (*HotelSite, error) {
	if id <= 0 {
		return nil, errs.Invalid(field, "error.field.required")
	}
	st, err := s.site(ctx, id, perm)
	if errs.CodeOf(err) == errs.ENotFound {
		return nil, errs.Invalid(field, "error.field.unknown_id")
	}
	return st, err
}

// canBelow reports whether the caller holds perm somewhere inside the
// subtree at path (an attendant granted on one floor still sees the
// hotel's board for that floor).
func canBelow(p *auth.Principal, perm auth.Perm, path string) bool {
	for _, g := range p.Grants {
		if g.Perms[perm] && strings.HasPrefix(g.NodePath, path) && (p.Scopes == nil || p.Scopes[perm]) {
			return true
		}
	}
	return false
}

// Sites lists the sites with rooms where the caller holds perm, by path.
func (s *Service) Sites(ctx context.Context, perm auth.Perm) ([]HotelSite, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT n.id, n.name, n.path FROM org_nodes n
		WHERE n.kind = 'site' AND EXISTS (SELECT 1 FROM hk_room_types t WHERE t.site_id = n.id) ORDER BY n.path`)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: sites: %w", err)
	}
	defer rows.Close()
	p := auth.FromContext(ctx)
	var out []HotelSite
	for rows.Next() {
		var st HotelSite
		if err := rows.Scan(&st.ID, &st.Name, &st.Path); err != nil {
			return nil, err
		}
		if p == nil || p.Can(perm, st.Path) || canBelow(p, perm, st.Path) {
			out = append(out, st)
		}
	}
	return out, rows.Err()
}

// siteOrDefault returns the site asked for, or, with id 0, the caller's
// first site with rooms; nil with no error when they have none.
func (s *Service) siteOrDefault(ctx context.Context, id int64, perm auth.Perm) (*HotelSite, error) {
	if id != 0 {
		return s.site(ctx, id, perm)
	}
	sites, err := s.Sites(ctx, perm)
	if err != nil || len(sites) == 0 {
		return nil, err
	}
	return s.loadSite(ctx, sites[0].ID)
}

// Settings returns a site's settings (the defaults when none are stored).
func (s *Service) Settings(ctx context.Context, siteID int64) (SiteSettings, error) {
	st := DefaultSettings(siteID)
	var calls string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT inspection_required, dnd_call_times, roll_time, rooms_min, rooms_max, lost_found_days, last_roll_on
		FROM hk_settings WHERE site_id = ?`, siteID).Scan(&st.InspectionRequired, &calls, &st.RollTime, &st.RoomsMin, &st.RoomsMax, &st.LostFoundDays, &st.LastRollOn)
	if db.IsNoRows(err) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("housekeeping: settings %d: %w", siteID, err)
	}
	st.DNDCallTimes = splitTimes(calls)
	return st, nil
}

func splitTimes(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SiteSettingsInput changes a site's settings.
type SiteSettingsInput struct {
	InspectionRequired bool     `json:"inspection_required"`
	DNDCallTimes       []string `json:"dnd_call_times"`
	RollTime           string   `json:"roll_time"`
	RoomsMin           int      `json:"rooms_min"`
	RoomsMax           int      `json:"rooms_max"`
	LostFoundDays      int      `json:"lost_found_days"`
}

// clockRe-free check of "HH:MM".
func validClock(s string) bool {
	if len(s) != 5 || s[2] != ':' {
		return false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	return err1 == nil && err2 == nil && h >= 0 && h < 24 && m >= 0 && m < 60
}

// SaveSettings stores a site's settings; hk.manage on the site.
func (s *Service) SaveSettings(ctx context.Context, siteID int64, in SiteSettingsInput) (SiteSettings, error) {
	var v errs.Validation
	if len(in.DNDCallTimes) == 0 || len(in.DNDCallTimes) > 6 {
		v.Add("dnd_call_times", "error.field.required")
	}
	for _, t := range in.DNDCallTimes {
		v.Check(validClock(t), "dnd_call_times", "error.hk.bad_clock")
	}
	v.Check(validClock(in.RollTime), "roll_time", "error.hk.bad_clock")
	v.Check(in.RoomsMin >= 1 && in.RoomsMin <= 40, "rooms_min", "error.hk.out_of_range")
	v.Check(in.RoomsMax >= in.RoomsMin && in.RoomsMax <= 40, "rooms_max", "error.hk.out_of_range")
	v.Check(in.LostFoundDays >= 1 && in.LostFoundDays <= 3650, "lost_found_days", "error.hk.out_of_range")
	st, err := s.siteInput(ctx, siteID, auth.PermHKManage, "site_id")
	if err != nil {
		return SiteSettings{}, err
	}
	if err := v.Err(); err != nil {
		return SiteSettings{}, err
	}
	err = s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hk_settings (site_id, inspection_required, dnd_call_times, roll_time, rooms_min, rooms_max, lost_found_days, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id) DO UPDATE SET inspection_required = excluded.inspection_required,
			dnd_call_times = excluded.dnd_call_times, roll_time = excluded.roll_time, rooms_min = excluded.rooms_min, rooms_max = excluded.rooms_max,
			lost_found_days = excluded.lost_found_days, updated_at = excluded.updated_at`,
			st.ID, in.InspectionRequired, strings.Join(in.DNDCallTimes, ","), in.RollTime, in.RoomsMin, in.RoomsMax, in.LostFoundDays, db.Ms(tx.Now))
		if err != nil {
			return fmt.Errorf("housekeeping: save settings: %w", err)
		}
		return s.record(ctx, "update", "hk_settings", st.ID, st.Path, in)
	})
	if err != nil {
		return SiteSettings{}, err
	}
	return s.Settings(ctx, st.ID)
}
