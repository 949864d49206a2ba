package households

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
)

// CareReport counts the care tasks one run created.
type CareReport struct {
	Birthdays int `json:"birthdays"`
	Holidays  int `json:"holidays"`
	Elderly   int `json:"elderly_visits"`
	Absent    int `json:"absent_greetings"`
}

// Total is the number of tasks created.
func (r CareReport) Total() int { return r.Birthdays + r.Holidays + r.Elderly + r.Absent }

// GenerateCare creates the care tasks of the local day that contains at,
// on every site with households: birthday greetings, greetings on the eve
// of the holidays in Config.GreetHolidays, visits to elderly people living
// alone whose last visit is ElderlyVisitDays old, and greetings to absent
// owners not contacted for AbsentGreetingDays. Each task is keyed by what
// it is for and the day, so running it again (every hour, or on several
// instances) creates nothing twice. Each site is one set-based transaction.
func (s *Service) GenerateCare(ctx context.Context, at time.Time) (CareReport, error) {
	var rep CareReport
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT n.id, n.path FROM org_nodes n WHERE n.kind = 'site'
		AND EXISTS (SELECT 1 FROM households h WHERE h.site_id = n.id AND h.status = 'current') ORDER BY n.id`)
	if err != nil {
		return rep, fmt.Errorf("households: care sites: %w", err)
	}
	type site struct {
		id   int64
		path string
	}
	var sites []site
	for rows.Next() {
		var st site
		if err := rows.Scan(&st.id, &st.path); err != nil {
			rows.Close()
			return rep, err
		}
		sites = append(sites, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	for _, st := range sites {
		r, err := s.generateSite(ctx, st.id, st.path, at)
		if err != nil {
			return rep, err
		}
		rep.Birthdays += r.Birthdays
		rep.Holidays += r.Holidays
		rep.Elderly += r.Elderly
		rep.Absent += r.Absent
	}
	return rep, nil
}

func (s *Service) generateSite(ctx context.Context, siteID int64, path string, at time.Time) (CareReport, error) {
	var rep CareReport
	loc := s.location(ctx, path)
	day := localDay(at, loc)
	dayKey := day.Format("2006-01-02")
	show, due := dayBounds(day, loc)
	holiday, holidayDue, err := s.holidayEve(ctx, path, day, loc)
	if err != nil {
		return rep, err
	}
	err = s.db.WithTxAt(ctx, at, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now)
		exec := func(n *int, q string, args ...any) error {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("households: care tasks: %w", err)
			}
			c, _ := res.RowsAffected()
			*n += int(c)
			return nil
		}
		const insert = `INSERT INTO care_tasks (household_id, person_id, butler_id, node_path, kind, subject, dedupe_key, show_from, due_at, status, created_at) `
		// Birthdays: 29 February is greeted on 28 February in other years.
		mds := []string{day.Format("01-02")}
		if day.Month() == time.February && day.Day() == 28 && !isLeap(day.Year()) {
			mds = append(mds, "02-29")
		}
		var idx []any
		for _, md := range mds {
			for _, x := range s.vault.Indexes(fieldBirthMD, md) {
				idx = append(idx, x)
			}
		}
		args := append([]any{fmt.Sprint(day.Year()), db.Ms(show), db.Ms(due), now}, idx...)
		if err := exec(&rep.Birthdays, insert+`SELECT p.household_id, p.id, h.butler_id, h.node_path, 'birthday', '', 'birthday:' || p.id || ':' || ?, ?, ?, 'open', ?
			FROM household_people p JOIN households h ON h.id = p.household_id
			WHERE p.birthday_md_idx IN (`+db.Placeholders(len(idx))+`) AND p.status = 'active' AND h.status = 'current' AND h.site_id = ?
			ON CONFLICT (dedupe_key) DO NOTHING`, append(args, siteID)...); err != nil {
			return err
		}
		if holiday != "" {
			if err := exec(&rep.Holidays, insert+`SELECT h.id, NULL, h.butler_id, h.node_path, 'holiday', ?, 'holiday:' || h.id || ':' || ?, ?, ?, 'open', ?
				FROM households h WHERE h.site_id = ? AND h.status = 'current'
				ON CONFLICT (dedupe_key) DO NOTHING`, holiday, holiday+":"+fmt.Sprint(day.Year()), db.Ms(show), db.Ms(holidayDue), now, siteID); err != nil {
				return err
			}
		}
		lastVisit := db.Ms(show.AddDate(0, 0, -(s.cfg.ElderlyVisitDays - 1)))
		if err := exec(&rep.Elderly, insert+`SELECT h.id, (SELECT MIN(p.id) FROM household_people p WHERE p.household_id = h.id AND p.elderly_alone AND p.status = 'active'),
			h.butler_id, h.node_path, 'elderly_visit', '', 'elderly:' || h.id || ':' || ?, ?, ?, 'open', ?
			FROM households h WHERE h.site_id = ? AND h.status = 'current' AND h.elderly_alone AND (h.last_visit_at IS NULL OR h.last_visit_at < ?)
			AND NOT EXISTS (SELECT 1 FROM care_tasks t WHERE t.household_id = h.id AND t.kind = 'elderly_visit' AND t.status = 'open')
			ON CONFLICT (dedupe_key) DO NOTHING`, dayKey, db.Ms(show), db.Ms(due), now, siteID, lastVisit); err != nil {
			return err
		}
		lastContact := db.Ms(show.AddDate(0, 0, -(s.cfg.AbsentGreetingDays - 1)))
		return exec(&rep.Absent, insert+`SELECT h.id, NULL, h.butler_id, h.node_path, 'absent_greeting', '', 'absent:' || h.id || ':' || ?, ?, ?, 'open', ?
			FROM households h WHERE h.site_id = ? AND h.status = 'current' AND h.residency = 'absent' AND (h.last_contact_at IS NULL OR h.last_contact_at < ?)
			AND NOT EXISTS (SELECT 1 FROM care_tasks t WHERE t.household_id = h.id AND t.kind = 'absent_greeting' AND t.status = 'open')
			ON CONFLICT (dedupe_key) DO NOTHING`, dayKey, db.Ms(show), db.Ms(due), now, siteID, lastContact)
	})
	return rep, err
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// holidayEve returns the greeted holiday whose first day off is the day
// after day, and the end of that first day ("" when none).
func (s *Service) holidayEve(ctx context.Context, path string, day time.Time, loc *time.Location) (string, time.Time, error) {
	days, err := s.holidays(ctx, path)
	if err != nil {
		return "", time.Time{}, err
	}
	tomorrow := day.AddDate(0, 0, 1)
	var name string
	for _, d := range days {
		if !sameDay(d.Date, tomorrow) || !s.greeted(d.Name) {
			continue
		}
		// Only the first day of a run of days off with this name.
		if prev := tomorrow.AddDate(0, 0, -1); containsDay(days, prev, d.Name) {
			continue
		}
		name = d.Name
	}
	if name == "" {
		return "", time.Time{}, nil
	}
	_, end := dayBounds(tomorrow, loc)
	return name, end, nil
}

func sameDay(d calendar.Date, t time.Time) bool {
	return d.Year == t.Year() && d.Month == t.Month() && d.Day == t.Day()
}

func containsDay(days []calendar.NamedDate, t time.Time, name string) bool {
	for _, d := range days {
		if sameDay(d.Date, t) && d.Name == name {
			return true
		}
	}
	return false
}

// greeted reports whether a holiday name ("国庆节、中秋节" names two) is one
// the butler greets on.
func (s *Service) greeted(name string) bool {
	for _, part := range strings.Split(name, "、") {
		for _, g := range s.cfg.GreetHolidays {
			if strings.TrimSpace(part) == g {
				return true
			}
		}
	}
	return false
}

// CareArgs is the periodic job that creates the day's care tasks.
type CareArgs struct{}

// Kind names the job.
func (CareArgs) Kind() string { return "households.care" }

// CareWorker runs GenerateCare.
type CareWorker struct {
	river.WorkerDefaults[CareArgs]
	Svc *Service
}

// Work creates today's care tasks (idempotent).
func (w *CareWorker) Work(ctx context.Context, j *river.Job[CareArgs]) error {
	rep, err := w.Svc.GenerateCare(ctx, time.Now())
	if err == nil && rep.Total() > 0 && w.Svc.log != nil {
		w.Svc.log.Info("care tasks created", "birthdays", rep.Birthdays, "holidays", rep.Holidays, "elderly_visits", rep.Elderly, "absent_greetings", rep.Absent)
	}
	return err
}
