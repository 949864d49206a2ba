package housekeeping

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// Report is housekeeping's numbers over a range of days.
type Report struct {
	SiteID      int64             `json:"site_id"`
	From        string            `json:"from"`
	To          string            `json:"to"`
	Attendants  []AttendantReport `json:"attendants"`
	CleanTypes  []CleanTypeReport `json:"clean_types"`
	Inspections InspectionReport  `json:"inspections"`
	DND         []DNDOutcomeCount `json:"dnd"`
	Minibar     []SalesLine       `json:"minibar"`
	MinibarFen  int64             `json:"minibar_fen"`
	LostFound   LostFoundReport   `json:"lost_found"`
	Days        []DayRoomsCleaned `json:"days"`
}

// MinibarText is the minibar total as money.
func (r Report) MinibarText() string { return Yuan(r.MinibarFen) }

// AttendantReport is one attendant's rooms cleaned and inspections.
type AttendantReport struct {
	StaffID     int64   `json:"staff_id"`
	Name        string  `json:"name"`
	Rooms       int     `json:"rooms"`
	Credits     int     `json:"credits"` // tenths
	Minutes     float64 `json:"minutes"` // average per room
	Inspections int     `json:"inspections"`
	Passed      int     `json:"passed"`
	AvgScore    float64 `json:"avg_score"`
}

// CreditsText shows credits in rooms (tenths).
func (a AttendantReport) CreditsText() string { return fmt.Sprintf("%.1f", float64(a.Credits)/10) }

// CleanTypeReport is the minutes a room took by clean type.
type CleanTypeReport struct {
	CleanType string  `json:"clean_type"`
	Rooms     int     `json:"rooms"`
	Minutes   float64 `json:"minutes"`  // average actual
	Expected  float64 `json:"expected"` // average expected
}

// InspectionReport is the inspections' pass rate and scores.
type InspectionReport struct {
	Total    int     `json:"total"`
	Passed   int     `json:"passed"`
	PassRate float64 `json:"pass_rate"` // 0–1
	AvgScore float64 `json:"avg_score"`
}

// Percent is the pass rate as a percentage, "—" with no inspections.
func (r InspectionReport) Percent() string {
	if r.Total == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", r.PassRate*100)
}

// DNDOutcomeCount counts DND tasks by kind and outcome.
type DNDOutcomeCount struct {
	Kind    string `json:"kind"`
	Outcome string `json:"outcome"` // "" for still open
	Count   int    `json:"count"`
}

// LostFoundReport counts the open lost-and-found items.
type LostFoundReport struct {
	Open       int `json:"open"`
	Disposable int `json:"disposable"` // past the site's days
}

// DayRoomsCleaned is one day's rooms cleaned.
type DayRoomsCleaned struct {
	Date  string `json:"date"`
	Rooms int    `json:"rooms"`
}

// Report computes a site's report from one local date to another
// (inclusive, at most 92 days; default the last 7 days). hk.inspect.
func (s *Service) Report(ctx context.Context, siteID int64, from, to string) (*Report, error) {
	site, err := s.siteOrDefault(ctx, siteID, auth.PermHKInspect)
	if err != nil {
		return nil, err
	}
	if site == nil {
		return &Report{Attendants: []AttendantReport{}, CleanTypes: []CleanTypeReport{}, DND: []DNDOutcomeCount{}, Minibar: []SalesLine{}, Days: []DayRoomsCleaned{}}, nil
	}
	now := s.now(ctx)
	if to == "" {
		to = site.Today(now)
	}
	toDay, err := time.ParseInLocation(time.DateOnly, to, site.Zone)
	if err != nil {
		return nil, errs.Invalid("to", "error.field.wrong_type")
	}
	if from == "" {
		from = toDay.AddDate(0, 0, -6).Format(time.DateOnly)
	}
	fromDay, err := time.ParseInLocation(time.DateOnly, from, site.Zone)
	if err != nil {
		return nil, errs.Invalid("from", "error.field.wrong_type")
	}
	if fromDay.After(toDay) || toDay.Sub(fromDay) > 92*24*time.Hour {
		return nil, errs.Invalid("from", "error.hk.out_of_range")
	}
	startMs, endMs := db.Ms(fromDay), db.Ms(toDay.AddDate(0, 0, 1))
	r := &Report{SiteID: site.ID, From: from, To: to, Attendants: []AttendantReport{}, CleanTypes: []CleanTypeReport{}, DND: []DNDOutcomeCount{},
		Days: []DayRoomsCleaned{}}
	q := s.db.Q(ctx)

	// Rooms cleaned: the work done in the range.
	rows, err := q.QueryContext(ctx, `SELECT w.work_date, w.clean_type, w.credits, w.minutes, COALESCE(w.attendant_id, 0), COALESCE(st.name, ''), w.started_at, w.finished_at
		FROM hk_work w LEFT JOIN staff st ON st.id = w.attendant_id WHERE w.site_id = ? AND w.work_date >= ? AND w.work_date <= ? AND w.state = 'done'`, site.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: report work: %w", err)
	}
	att := map[int64]*AttendantReport{}
	type acc struct{ rooms, timed, mins, exp float64 }
	types := map[string]*acc{}
	days := map[string]int{}
	attMin := map[int64]*acc{}
	for rows.Next() {
		var date, ct, name string
		var credits, minutes int
		var aid int64
		var started, finished sql.NullInt64
		if err := rows.Scan(&date, &ct, &credits, &minutes, &aid, &name, &started, &finished); err != nil {
			rows.Close()
			return nil, err
		}
		days[date]++
		t := types[ct]
		if t == nil {
			t = &acc{}
			types[ct] = t
		}
		t.rooms++
		t.exp += float64(minutes)
		took := -1.0
		if started.Valid && finished.Valid && finished.Int64 >= started.Int64 {
			took = float64(finished.Int64-started.Int64) / 60000
			t.timed++
			t.mins += took
		}
		if aid != 0 {
			a := att[aid]
			if a == nil {
				a = &AttendantReport{StaffID: aid, Name: name}
				att[aid] = a
				attMin[aid] = &acc{}
			}
			a.Rooms++
			a.Credits += credits
			if took >= 0 {
				attMin[aid].timed++
				attMin[aid].mins += took
			}
		}
	}
	rows.Close()
	for ct, t := range types {
		c := CleanTypeReport{CleanType: ct, Rooms: int(t.rooms), Expected: round1(t.exp / t.rooms)}
		if t.timed > 0 {
			c.Minutes = round1(t.mins / t.timed)
		}
		r.CleanTypes = append(r.CleanTypes, c)
	}
	sort.Slice(r.CleanTypes, func(i, j int) bool { return r.CleanTypes[i].CleanType < r.CleanTypes[j].CleanType })
	for d := fromDay; !d.After(toDay); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		r.Days = append(r.Days, DayRoomsCleaned{Date: k, Rooms: days[k]})
	}

	// Inspections.
	rows, err = q.QueryContext(ctx, `SELECT COALESCE(attendant_id, 0), passed, score FROM hk_inspections WHERE site_id = ? AND at >= ? AND at < ?`, site.ID, startMs, endMs)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: report inspections: %w", err)
	}
	scores := 0
	attScore := map[int64]int{}
	for rows.Next() {
		var aid int64
		var passed bool
		var score int
		if err := rows.Scan(&aid, &passed, &score); err != nil {
			rows.Close()
			return nil, err
		}
		r.Inspections.Total++
		scores += score
		if passed {
			r.Inspections.Passed++
		}
		if a := att[aid]; a != nil {
			a.Inspections++
			attScore[aid] += score
			if passed {
				a.Passed++
			}
		}
	}
	rows.Close()
	if r.Inspections.Total > 0 {
		r.Inspections.PassRate = round3(float64(r.Inspections.Passed) / float64(r.Inspections.Total))
		r.Inspections.AvgScore = round1(float64(scores) / float64(r.Inspections.Total))
	}
	for id, a := range att {
		if m := attMin[id]; m.timed > 0 {
			a.Minutes = round1(m.mins / m.timed)
		}
		if a.Inspections > 0 {
			a.AvgScore = round1(float64(attScore[id]) / float64(a.Inspections))
		}
		r.Attendants = append(r.Attendants, *a)
	}
	sort.Slice(r.Attendants, func(i, j int) bool {
		if r.Attendants[i].Rooms != r.Attendants[j].Rooms {
			return r.Attendants[i].Rooms > r.Attendants[j].Rooms
		}
		return r.Attendants[i].Name < r.Attendants[j].Name
	})

	// DND outcomes: tasks raised in the range.
	rows, err = q.QueryContext(ctx, `SELECT kind, outcome, COUNT(*) FROM hk_tasks WHERE site_id = ? AND created_at >= ? AND created_at < ? GROUP BY kind, outcome ORDER BY kind, outcome`,
		site.ID, startMs, endMs)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: report DND: %w", err)
	}
	for rows.Next() {
		var c DNDOutcomeCount
		if err := rows.Scan(&c.Kind, &c.Outcome, &c.Count); err != nil {
			rows.Close()
			return nil, err
		}
		r.DND = append(r.DND, c)
	}
	rows.Close()

	// Minibar sales.
	rows, err = q.QueryContext(ctx, `SELECT i.id, i.name, SUM(p.qty), SUM(p.amount_fen) FROM hk_minibar_postings p JOIN hk_minibar_items i ON i.id = p.item_id
		WHERE p.site_id = ? AND p.business_date >= ? AND p.business_date <= ? GROUP BY i.id, i.name ORDER BY SUM(p.amount_fen) DESC`, site.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("housekeeping: report minibar: %w", err)
	}
	r.Minibar = []SalesLine{}
	for rows.Next() {
		var l SalesLine
		if err := rows.Scan(&l.ItemID, &l.Name, &l.Qty, &l.AmountFen); err != nil {
			rows.Close()
			return nil, err
		}
		r.Minibar = append(r.Minibar, l)
		r.MinibarFen += l.AmountFen
	}
	rows.Close()

	// Lost and found still held.
	items, err := s.LostFound(ctx, site.ID, true)
	if err != nil {
		return nil, err
	}
	for _, f := range items {
		r.LostFound.Open++
		if f.Disposable {
			r.LostFound.Disposable++
		}
	}
	return r, nil
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
