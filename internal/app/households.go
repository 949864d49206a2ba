package app

import (
	"context"
	"fmt"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/households"
)

// holidaysFor gives the care job the public holidays of a site: its own
// calendar's when that calendar has holiday data (a 24×7 service calendar
// has none), else the national calendar's.
func (a *App) holidaysFor(ctx context.Context, path string) ([]calendar.NamedDate, error) {
	c, err := a.Calendars.CalendarFor(ctx, path)
	if err == nil {
		var out []calendar.NamedDate
		for _, y := range c.Spec().Years {
			out = append(out, y.Holidays...)
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return households.BuiltinHolidays(ctx, path)
}

// householdCases lists a household's cases for its profile page.
func (a *App) householdCases(ctx context.Context, householdID int64) ([]households.CaseRef, error) {
	p, err := a.Cases.List(ctx, cases.Filter{HouseholdID: householdID, Limit: 20})
	if err != nil {
		return nil, err
	}
	out := make([]households.CaseRef, 0, len(p.Items))
	for _, c := range p.Items {
		title := c.Number
		if c.CategoryName != "" {
			title += " " + c.CategoryName
		}
		out = append(out, households.CaseRef{ID: c.ID, Title: title, Status: c.State, At: c.CreatedAt, URL: fmt.Sprintf("/cases/%d", c.ID)})
	}
	return out, nil
}

// openCasesByButler counts each butler's open cases (up to 200) for the
// coverage page.
func (a *App) openCasesByButler(ctx context.Context, butlerIDs []int64) (map[int64]int, error) {
	out := map[int64]int{}
	for _, id := range butlerIDs {
		p, err := a.Cases.List(ctx, cases.Filter{ButlerID: id, State: "open", Limit: 200})
		if err != nil {
			return nil, err
		}
		out[id] = len(p.Items)
	}
	return out, nil
}
