package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/cases"
	"github.com/guanjia/guanjia/internal/db"
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

// forgetElsewhere erases, in the erasure's transaction, the copies other
// modules keep of a person erased on request: on the household's service
// cases the contact name and phone when they are the person's, and every
// mention in descriptions, timelines and return-visit comments; in the
// portal the sessions and lock counters of their phones, and the name and
// phone of their verification requests. (Until those modules expose their
// own hooks, the SQL lives here, next to the wiring.) Notifications and
// text messages that quote the person are redacted too.
func (a *App) forgetElsewhere(ctx context.Context, tx *db.Tx, e households.Erased) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, contact_name, contact_phone_enc FROM cases WHERE household_id = ?`, e.HouseholdID)
	if err != nil {
		return fmt.Errorf("app: erase in cases: %w", err)
	}
	type contact struct {
		id          int64
		name, phone string
	}
	var cs []contact
	for rows.Next() {
		var c contact
		var enc string
		if err := rows.Scan(&c.id, &c.name, &enc); err != nil {
			rows.Close()
			return err
		}
		c.phone, _ = a.Vault.Open("case.contact_phone", enc)
		cs = append(cs, c)
	}
	rows.Close()
	mention := func(s string) bool { return s != "" && slices.Contains(e.Mentions, s) }
	for _, c := range cs {
		if mention(c.name) || mention(c.phone) {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET contact_name = '', contact_phone_enc = '' WHERE id = ?`, c.id); err != nil {
				return err
			}
		}
		for _, m := range e.Mentions {
			for _, q := range []string{
				`UPDATE cases SET description = REPLACE(description, ?, '***') WHERE id = ?`,
				`UPDATE case_events SET data = REPLACE(data, ?, '***') WHERE case_id = ?`,
				`UPDATE case_visits SET comment = REPLACE(comment, ?, '***') WHERE case_id = ?`,
			} {
				if _, err := tx.ExecContext(ctx, q, m, c.id); err != nil {
					return fmt.Errorf("app: erase in cases: %w", err)
				}
			}
		}
	}
	// Notifications (the bell) and text messages quote cases and may hold
	// the number they went to.
	for _, m := range e.Mentions {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(m) + "%"
		for _, q := range []string{
			`UPDATE notifications SET subject = REPLACE(subject, ?, '***'), payload = REPLACE(payload, ?, '***') WHERE subject LIKE ? ESCAPE '\' OR payload LIKE ? ESCAPE '\'`,
			`UPDATE sms_messages SET phone = REPLACE(phone, ?, '***'), body = REPLACE(body, ?, '***') WHERE phone LIKE ? ESCAPE '\' OR body LIKE ? ESCAPE '\'`,
		} {
			if _, err := tx.ExecContext(ctx, q, m, m, like, like); err != nil {
				return fmt.Errorf("app: erase in notifications: %w", err)
			}
		}
	}
	if len(e.PhoneIndexes) == 0 {
		return nil
	}
	args := make([]any, len(e.PhoneIndexes))
	for i, x := range e.PhoneIndexes {
		args[i] = x
	}
	in := db.Placeholders(len(args))
	for _, q := range []string{
		`DELETE FROM portal_sessions WHERE phone_idx IN (` + in + `)`,
		`DELETE FROM portal_locks WHERE phone_idx IN (` + in + `)`,
		`UPDATE portal_verifications SET phone_idx = '', phone_enc = '', name = '' WHERE phone_idx IN (` + in + `)`,
	} {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("app: erase in the portal: %w", err)
		}
	}
	return nil
}
