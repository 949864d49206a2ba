package households

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"

	"github.com/guanjia/guanjia/internal/db"
)

// Profile returns everything the household page shows: people (masked),
// events, open tasks, care history, contacts, keys, the butlers it had and
// a timeline of all of it. ENotFound outside the caller's view.
func (s *Service) Profile(ctx context.Context, id int64) (*Profile, error) {
	h, err := s.visibleHousehold(ctx, id)
	if err != nil {
		return nil, err
	}
	pr := &Profile{Household: *h}
	u, err := scanUnit(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+unitCols+` FROM units u WHERE u.id = ?`, h.UnitID))
	if err != nil {
		return nil, fmt.Errorf("households: profile unit: %w", err)
	}
	pr.Unit = *u
	people, err := s.peopleOf(ctx, []int64{id}, true)
	if err != nil {
		return nil, err
	}
	pr.People = orEmpty(people[id])
	if pr.Events, err = s.eventsOf(ctx, id); err != nil {
		return nil, err
	}
	if pr.OpenTasks, err = s.tasksWhere(ctx, "t.household_id = ? AND t.status = 'open'", []any{id}, 100); err != nil {
		return nil, err
	}
	if pr.CareDone, err = s.tasksWhere(ctx, "t.household_id = ? AND t.status = 'done'", []any{id}, 100); err != nil {
		return nil, err
	}
	sort.SliceStable(pr.CareDone, func(i, j int) bool { return pr.CareDone[i].DoneAt.After(*pr.CareDone[j].DoneAt) })
	if pr.Contacts, err = s.contactsWhere(ctx, "c.household_id = ?", []any{id}, 50); err != nil {
		return nil, err
	}
	if pr.Keys, err = s.keysWhere(ctx, "k.household_id = ?", []any{id}); err != nil {
		return nil, err
	}
	if pr.Butlers, err = s.butlerSpells(ctx, id); err != nil {
		return nil, err
	}
	if pr.Timeline, err = s.timeline(ctx, pr); err != nil {
		return nil, err
	}
	if s.caseList != nil {
		if pr.Cases, err = s.caseList(ctx, id); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

func (s *Service) butlerSpells(ctx context.Context, id int64) ([]ButlerSpell, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT b.butler_id, st.name, b.from_at, b.to_at, b.reason FROM household_butlers b JOIN staff st ON st.id = b.butler_id
		WHERE b.household_id = ? ORDER BY b.from_at DESC, b.id DESC LIMIT 50`, id)
	if err != nil {
		return nil, fmt.Errorf("households: butler history: %w", err)
	}
	defer rows.Close()
	out := []ButlerSpell{}
	for rows.Next() {
		var b ButlerSpell
		var from int64
		var to sql.NullInt64
		if err := rows.Scan(&b.ButlerID, &b.ButlerName, &from, &to, &b.Reason); err != nil {
			return nil, err
		}
		b.From, b.To = db.Time(from), db.TimePtr(to)
		out = append(out, b)
	}
	return out, rows.Err()
}

// timeline merges the household's history, newest first: the system log
// of the household and its people, contacts, finished tasks, key uses and
// events.
func (s *Service) timeline(ctx context.Context, pr *Profile) ([]TimelineRow, error) {
	var out []TimelineRow
	ids := []any{"household", strconv.FormatInt(pr.Household.ID, 10)}
	personIDs := []any{}
	for _, p := range pr.People {
		personIDs = append(personIDs, strconv.FormatInt(p.ID, 10))
	}
	q := `SELECT at, actor_name, action, entity, summary FROM audit_log WHERE (entity = ? AND entity_id = ?)`
	if len(personIDs) > 0 {
		q += ` OR (entity = 'person' AND entity_id IN (` + db.Placeholders(len(personIDs)) + `))`
		ids = append(ids, personIDs...)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, q+` ORDER BY id DESC LIMIT 100`, ids...)
	if err != nil {
		return nil, fmt.Errorf("households: timeline: %w", err)
	}
	for rows.Next() {
		var r TimelineRow
		var at int64
		var entity, summary string
		if err := rows.Scan(&at, &r.Actor, &r.Action, &entity, &summary); err != nil {
			rows.Close()
			return nil, err
		}
		r.At, r.Kind, r.Detail = db.Time(at), "audit", entity
		out = append(out, r)
	}
	rows.Close()
	for _, c := range pr.Contacts {
		out = append(out, TimelineRow{At: c.At, Kind: "contact", Action: c.Channel, Actor: c.StaffName, Detail: c.Note})
	}
	for _, t := range pr.CareDone {
		out = append(out, TimelineRow{At: *t.DoneAt, Kind: "task", Action: t.Kind, Detail: t.Subject})
	}
	for _, k := range pr.Keys {
		for _, u := range k.Uses {
			out = append(out, TimelineRow{At: u.TakenAt, Kind: "key_use", Action: u.Purpose, Actor: u.StaffName, Detail: u.Note})
		}
	}
	for _, e := range pr.Events {
		out = append(out, TimelineRow{At: e.CreatedAt, Kind: "event", Action: e.Kind, Detail: e.StartsOn})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	if len(out) > 150 {
		out = out[:150]
	}
	return out, nil
}
