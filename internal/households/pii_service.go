package households

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// UnmaskInput asks for one clear value and says why.
type UnmaskInput struct {
	Field  string `json:"field"` // phone, id_number, birthday
	Reason string `json:"reason"`
}

// Unmasked is a clear value. For "phone", Values holds every phone of the
// person and Value the first.
type Unmasked struct {
	PersonID int64    `json:"person_id"`
	Field    string   `json:"field"`
	Value    string   `json:"value"`
	Values   []string `json:"values"`
}

// minReason is the shortest reason accepted: "回访" is a reason, "." is not.
const minReason = 2

func validateReason(v *errs.Validation, reason string) string {
	reason = strings.TrimSpace(reason)
	v.Required("reason", reason)
	v.Check(reason == "" || len([]rune(reason)) >= minReason, "reason", "error.pii.reason_short")
	v.MaxLen("reason", reason, 200)
	return reason
}

// Unmask returns one field of a person in clear and logs who asked, for
// whom, which field, why and when (pii_access_log and the system log; the
// value itself is never logged). It needs pii.unmask on the person;
// EInvalid without a field or a reason; EConflict for an erased person.
func (s *Service) Unmask(ctx context.Context, personID int64, in UnmaskInput) (*Unmasked, error) {
	p, err := s.visiblePerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	v.OneOf("field", in.Field, UnmaskFields...)
	in.Reason = validateReason(&v, in.Reason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermUnmask, p.NodePath); err != nil {
		return nil, err
	}
	if p.Status == "erased" {
		return nil, errs.New(errs.EConflict, "error.person.erased")
	}
	out := &Unmasked{PersonID: p.ID, Field: in.Field, Values: []string{}}
	switch in.Field {
	case "phone":
		if out.Values, err = s.clearPhones(ctx, p.ID); err != nil {
			return nil, err
		}
		if len(out.Values) > 0 {
			out.Value = out.Values[0]
		}
	case "id_number":
		if out.Value, err = s.vault.Open(fieldIDNumber, p.idEnc); err != nil {
			return nil, err
		}
	case "birthday":
		if out.Value, err = s.vault.Open(fieldBirthday, p.birthdayEnc); err != nil {
			return nil, err
		}
	}
	if out.Value != "" && len(out.Values) == 0 {
		out.Values = []string{out.Value}
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return s.logAccess(ctx, tx, p.ID, p.HouseholdID, p.NodePath, in.Field, in.Reason)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// logAccess writes one row of the access log and its system-log twin.
func (s *Service) logAccess(ctx context.Context, tx *db.Tx, personID, householdID int64, path, field, reason string) error {
	a := audit.ActorFrom(ctx)
	var staff any
	if a.ID != 0 {
		staff = a.ID
	}
	var pid, hid any
	if personID != 0 {
		pid = personID
	}
	if householdID != 0 {
		hid = householdID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pii_access_log (at, staff_id, staff_name, ip, person_id, household_id, node_path, field, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, db.Ms(tx.Now), staff, a.Name, a.IP, pid, hid, path, field, reason); err != nil {
		return fmt.Errorf("households: access log: %w", err)
	}
	entity, id := "person", any(personID)
	if personID == 0 {
		entity, id = "household", householdID
	}
	// The reason stays in the access log, where an erasure can redact it;
	// the system log keeps only the field.
	return s.record(ctx, "unmask", entity, id, path, field, map[string]any{"field": field})
}

// AccessFilter selects rows of the access log.
type AccessFilter struct {
	PersonID int64
	StaffID  int64
	Field    string
	From, To time.Time
	BeforeID int64
	Limit    int
}

// AccessPage is a page of the access log, newest first.
type AccessPage struct {
	Items  []AccessLogRow `json:"items"`
	More   bool           `json:"more"`
	NextID int64          `json:"next_id"`
}

// AccessLog returns the log of clear values shown or exported, for the
// holders of pii.review on the subtrees the rows belong to.
func (s *Service) AccessLog(ctx context.Context, f AccessFilter) (*AccessPage, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	scope := principal(ctx).Scope(PermReview)
	cond, args := auth.ScopeSQL("l.node_path", scope)
	if hasRootScope(scope) {
		cond = "(" + cond + " OR l.node_path = '')"
	}
	add := func(c string, a ...any) { cond += " AND " + c; args = append(args, a...) }
	if f.PersonID != 0 {
		add("l.person_id = ?", f.PersonID)
	}
	if f.StaffID != 0 {
		add("l.staff_id = ?", f.StaffID)
	}
	if f.Field != "" {
		add("l.field = ?", f.Field)
	}
	if !f.From.IsZero() {
		add("l.at >= ?", db.Ms(f.From))
	}
	if !f.To.IsZero() {
		add("l.at < ?", db.Ms(f.To))
	}
	if f.BeforeID > 0 {
		add("l.id < ?", f.BeforeID)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT l.id, l.at, l.staff_id, l.staff_name, l.ip, l.person_id, l.household_id, COALESCE(u.number, ''), l.field, l.reason
		FROM pii_access_log l LEFT JOIN households h ON h.id = l.household_id LEFT JOIN units u ON u.id = h.unit_id
		WHERE `+cond+` ORDER BY l.id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("households: access log: %w", err)
	}
	defer rows.Close()
	out := &AccessPage{Items: []AccessLogRow{}}
	for rows.Next() {
		var r AccessLogRow
		var at int64
		var staff, person, hh sql.NullInt64
		if err := rows.Scan(&r.ID, &at, &staff, &r.StaffName, &r.IP, &person, &hh, &r.UnitNumber, &r.Field, &r.Reason); err != nil {
			return nil, err
		}
		r.At, r.StaffID, r.PersonID, r.HouseholdID = db.Time(at), ptrID(staff), ptrID(person), ptrID(hh)
		out.Items = append(out.Items, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Items) > f.Limit {
		out.Items, out.More = out.Items[:f.Limit], true
		out.NextID = out.Items[f.Limit-1].ID
	}
	return out, nil
}

func hasRootScope(scope []string) bool {
	for _, s := range scope {
		if strings.Count(s, "/") == 2 {
			return true
		}
	}
	return false
}

// ExportInput asks for everything held about a person.
type ExportInput struct {
	Reason string `json:"reason"`
}

// PersonExport is everything held about one person, in clear: what a
// person who asks (PIPL art. 45) receives.
type PersonExport struct {
	ExportedAt time.Time      `json:"exported_at"`
	Person     ExportedPerson `json:"person"`
	Household  ExportedHome   `json:"household"`
	Consents   []Consent      `json:"consents"`
	Vehicles   []Vehicle      `json:"vehicles"`
	Pets       []Pet          `json:"pets"`
	CareTasks  []CareTask     `json:"care_tasks"`
	Contacts   []Contact      `json:"contacts"`
	Keys       []Key          `json:"keys"`
	Access     []AccessLogRow `json:"access_log"` // who saw this person's clear data
}

// ExportedPerson is a person's own fields, in clear.
type ExportedPerson struct {
	ID              int64         `json:"id"`
	Name            string        `json:"name"`
	Role            string        `json:"role"`
	Relation        string        `json:"relation"`
	Gender          string        `json:"gender"`
	Phones          []ClearPhone  `json:"phones"`
	IDType          string        `json:"id_type"`
	IDNumber        string        `json:"id_number"`
	Birthday        string        `json:"birthday"`
	Notes           string        `json:"notes"`
	ElderlyAlone    bool          `json:"elderly_alone"`
	ChildUnder14    bool          `json:"child_under_14"`
	NeedsAssistance bool          `json:"needs_assistance"`
	Status          string        `json:"status"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
	Extra           []ExportField `json:"extra"`
}

// ClearPhone is a phone in clear.
type ClearPhone struct {
	Label  string `json:"label"`
	Number string `json:"number"`
}

// ExportField is a name and a value, for anything else held.
type ExportField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ExportedHome is the household a person belongs to.
type ExportedHome struct {
	ID         int64  `json:"id"`
	UnitNumber string `json:"unit_number"`
	Status     string `json:"status"`
	Butler     string `json:"butler"`
}

// ExportPerson gathers everything held about a person in clear and logs
// the export with its reason. It needs pii.export; EInvalid without a
// reason; EConflict for an erased person (nothing is left to export).
func (s *Service) ExportPerson(ctx context.Context, personID int64, in ExportInput) (*PersonExport, error) {
	p, err := s.visiblePerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Reason = validateReason(&v, in.Reason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermExport, p.NodePath); err != nil {
		return nil, err
	}
	if p.Status == "erased" {
		return nil, errs.New(errs.EConflict, "error.person.erased")
	}
	var out *PersonExport
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := s.logAccess(ctx, tx, p.ID, p.HouseholdID, p.NodePath, "export", in.Reason); err != nil {
			return err
		}
		var err error
		out, err = s.gatherExport(ctx, p)
		return err
	})
	return out, err
}

func (s *Service) gatherExport(ctx context.Context, p *personRow) (*PersonExport, error) {
	out := &PersonExport{ExportedAt: db.Now(ctx)}
	id, err := s.vault.Open(fieldIDNumber, p.idEnc)
	if err != nil {
		return nil, err
	}
	birthday, err := s.vault.Open(fieldBirthday, p.birthdayEnc)
	if err != nil {
		return nil, err
	}
	labels, err := s.phoneLabels(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	phones, err := s.clearPhones(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	out.Person = ExportedPerson{ID: p.ID, Name: p.Name, Role: p.Role, Relation: p.Relation, Gender: p.Gender, IDType: p.IDType, IDNumber: id,
		Birthday: birthday, Notes: p.Notes, ElderlyAlone: p.ElderlyAlone, ChildUnder14: p.ChildUnder14, NeedsAssistance: p.NeedsAssistance,
		Status: p.Status, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Phones: []ClearPhone{}, Extra: []ExportField{}}
	for i, ph := range phones {
		out.Person.Phones = append(out.Person.Phones, ClearPhone{Label: labels[i], Number: ph})
	}
	h, err := s.loadHousehold(ctx, p.HouseholdID)
	if err != nil {
		return nil, err
	}
	out.Household = ExportedHome{ID: h.ID, UnitNumber: h.UnitNumber, Status: h.Status, Butler: h.ButlerName}
	full, err := s.fillPeople(ctx, []*personRow{p}, true)
	if err != nil {
		return nil, err
	}
	out.Consents, out.Vehicles, out.Pets = full[0].Consents, full[0].Vehicles, full[0].Pets
	if out.CareTasks, err = s.tasksWhere(ctx, "t.person_id = ?", []any{p.ID}, 500); err != nil {
		return nil, err
	}
	if out.Contacts, err = s.contactsWhere(ctx, "c.person_id = ?", []any{p.ID}, 500); err != nil {
		return nil, err
	}
	if out.Keys, err = s.keysWhere(ctx, "k.received_from_person_id = ? OR k.returned_to_person_id = ?", []any{p.ID, p.ID}); err != nil {
		return nil, err
	}
	log, err := s.accessRowsFor(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	out.Access = log
	return out, nil
}

func (s *Service) accessRowsFor(ctx context.Context, personID int64) ([]AccessLogRow, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, at, staff_id, staff_name, field, reason FROM pii_access_log WHERE person_id = ? ORDER BY id`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AccessLogRow{}
	for rows.Next() {
		var r AccessLogRow
		var at int64
		var staff sql.NullInt64
		if err := rows.Scan(&r.ID, &at, &staff, &r.StaffName, &r.Field, &r.Reason); err != nil {
			return nil, err
		}
		r.At, r.StaffID = db.Time(at), ptrID(staff)
		pid := personID
		r.PersonID = &pid
		out = append(out, r)
	}
	return out, rows.Err()
}

// EraseInput confirms an erasure.
type EraseInput struct {
	Reason string `json:"reason"`
	// Confirm must repeat the person's id: an erasure cannot be undone.
	Confirm int64 `json:"confirm"`
}

// ErasePerson deletes a person's personal data for good, on their request
// (PIPL art. 47): name, phones, ID number, birthday, notes, vehicles, pets
// and search tokens are deleted or blanked, and free-text notes elsewhere
// in the household's records that mention the name or a phone number are
// redacted. What the statistics need stays: the person's row (role,
// household, status "erased"), their care tasks and contacts, consents as
// proof of past lawful processing, and every audit row (which never held
// personal data). It needs pii.erase; EInvalid without a reason or a
// matching confirmation; EConflict when already erased.
func (s *Service) ErasePerson(ctx context.Context, personID int64, in EraseInput) error {
	p, err := s.visiblePerson(ctx, personID)
	if err != nil {
		return err
	}
	var v errs.Validation
	in.Reason = validateReason(&v, in.Reason)
	v.Check(in.Confirm == personID, "confirm", "error.pii.confirm_erase")
	if err := v.Err(); err != nil {
		return err
	}
	if err := need(ctx, PermErase, p.NodePath); err != nil {
		return err
	}
	if p.Status == "erased" {
		return errs.New(errs.EConflict, "error.person.erased")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if s.db.Dialect == db.SQLite {
			// Deleted cells are overwritten with zeros, not left in free pages.
			if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
				return err
			}
		}
		mentions, err := s.erase(ctx, tx, p)
		if err != nil {
			return err
		}
		return s.record(ctx, "erase", "person", p.ID, p.NodePath, fmt.Sprintf("#%d", p.ID),
			map[string]any{"household_id": p.HouseholdID, "reason": redact(in.Reason, mentions)})
	})
	if err != nil {
		return err
	}
	s.compact(ctx)
	return nil
}

// erase blanks the person and returns the strings that identified them.
func (s *Service) erase(ctx context.Context, tx *db.Tx, p *personRow) ([]string, error) {
	phones, err := s.clearPhones(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var plates []string
	rows, err := tx.QueryContext(ctx, `SELECT plate FROM person_vehicles WHERE person_id = ?`, p.ID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var pl string
		if err := rows.Scan(&pl); err != nil {
			rows.Close()
			return nil, err
		}
		plates = append(plates, pl)
	}
	rows.Close()
	id, _ := s.vault.Open(fieldIDNumber, p.idEnc)
	now := db.Ms(tx.Now)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE household_people SET name = '', relation = '', gender = '', id_type = '', id_number_enc = '', id_number_idx = '', birthday_enc = '',
			birthday_md_idx = '', notes = '', elderly_alone = FALSE, child_under_14 = FALSE, needs_assistance = FALSE, status = 'erased',
			erased_at = ?, updated_at = ? WHERE id = ?`, []any{now, now, p.ID}},
		{`DELETE FROM person_phones WHERE person_id = ?`, []any{p.ID}},
		{`DELETE FROM person_vehicles WHERE person_id = ?`, []any{p.ID}},
		{`DELETE FROM person_pets WHERE person_id = ?`, []any{p.ID}},
		{`DELETE FROM household_search WHERE person_id = ?`, []any{p.ID}},
		{`UPDATE care_tasks SET status = 'cancelled' WHERE person_id = ? AND status = 'open'`, []any{p.ID}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return nil, fmt.Errorf("households: erase %d: %w", p.ID, err)
		}
	}
	if err := s.refreshFlags(ctx, tx, p.HouseholdID); err != nil {
		return nil, err
	}
	var mentions []string
	if name := strings.TrimSpace(p.Name); len([]rune(name)) >= 2 {
		mentions = append(mentions, name)
	}
	for _, ph := range phones {
		mentions = append(mentions, ph, digits(ph))
	}
	mentions = append(mentions, plates...)
	if id != "" {
		mentions = append(mentions, id)
	}
	mentions = slices.DeleteFunc(mentions, func(m string) bool { return len(m) < 2 })
	if err := s.redactMentions(ctx, tx, p.HouseholdID, mentions); err != nil {
		return nil, err
	}
	e := Erased{PersonID: p.ID, HouseholdID: p.HouseholdID, Mentions: mentions}
	for _, ph := range phones {
		e.PhoneIndexes = append(e.PhoneIndexes, s.vault.Indexes(fieldPhone, digits(ph))...)
	}
	for _, h := range s.eraseHooks {
		if err := h(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	return mentions, nil
}

// redact replaces every mention in text with "***".
func redact(text string, mentions []string) string {
	for _, m := range mentions {
		text = strings.ReplaceAll(text, m, "***")
	}
	return text
}

// freeText lists the free-text columns of a household's records, with the
// query that selects the household's rows of each.
var freeText = []struct{ table, col, where string }{
	{"households", "notes", "id = ?"},
	{"household_people", "notes", "household_id = ?"},
	{"household_events", "notes", "household_id = ?"},
	{"care_tasks", "outcome", "household_id = ?"},
	{"care_contacts", "note", "household_id = ?"},
	{"household_keys", "notes", "household_id = ?"},
	{"household_keys", "return_note", "household_id = ?"},
	{"household_keys", "label", "household_id = ?"},
	{"household_key_uses", "note", "key_id IN (SELECT id FROM household_keys WHERE household_id = ?)"},
	{"household_key_uses", "accompanied_by", "key_id IN (SELECT id FROM household_keys WHERE household_id = ?)"},
	{"person_pets", "notes", "person_id IN (SELECT id FROM household_people WHERE household_id = ?)"},
	{"pii_access_log", "reason", "household_id = ?"},
}

// redactMentions replaces each mention in the household's free text with
// "***".
func (s *Service) redactMentions(ctx context.Context, tx *db.Tx, householdID int64, mentions []string) error {
	if len(mentions) == 0 {
		return nil
	}
	for _, ft := range freeText {
		rows, err := tx.QueryContext(ctx, `SELECT id, `+ft.col+` FROM `+ft.table+` WHERE `+ft.where, householdID)
		if err != nil {
			return fmt.Errorf("households: redact %s.%s: %w", ft.table, ft.col, err)
		}
		type change struct {
			id   int64
			text string
		}
		var changes []change
		for rows.Next() {
			var id int64
			var text string
			if err := rows.Scan(&id, &text); err != nil {
				rows.Close()
				return err
			}
			if red := redact(text, mentions); red != text {
				changes = append(changes, change{id, red})
			}
		}
		rows.Close()
		for _, c := range changes {
			if _, err := tx.ExecContext(ctx, `UPDATE `+ft.table+` SET `+ft.col+` = ? WHERE id = ?`, c.text, c.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// compact pushes erased values out of the database files after the
// transaction: SQLite's write-ahead log is checkpointed and truncated (with
// secure_delete the freed cells are zeros already); on PostgreSQL the
// tables are vacuumed so dead row versions are reclaimed. Failures are
// logged, not returned: the erasure itself has committed.
func (s *Service) compact(ctx context.Context) {
	var stmts []string
	if s.db.Dialect == db.SQLite {
		stmts = []string{`PRAGMA wal_checkpoint(TRUNCATE)`}
	} else {
		stmts = []string{`VACUUM household_people, person_phones, person_vehicles, person_pets, household_search`}
	}
	for _, q := range stmts {
		if _, err := s.db.W.ExecContext(ctx, q); err != nil && s.log != nil {
			s.log.Warn("households: compact after erasure", "err", err)
		}
	}
}
