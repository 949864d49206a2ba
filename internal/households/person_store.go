package households

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/pii"
)

const personCols = `p.id, p.household_id, p.node_path, p.role, p.relation, p.name, p.gender, p.id_type, p.id_number_enc, p.birthday_enc,
	p.notes, p.elderly_alone, p.child_under_14, p.needs_assistance, p.status, p.created_at, p.updated_at`

// personRow is a stored person with its sealed values.
type personRow struct {
	Person
	idEnc, birthdayEnc string
}

func scanPerson(row interface{ Scan(...any) error }) (*personRow, error) {
	var p personRow
	var created, updated int64
	if err := row.Scan(&p.ID, &p.HouseholdID, &p.NodePath, &p.Role, &p.Relation, &p.Name, &p.Gender, &p.IDType, &p.idEnc, &p.birthdayEnc,
		&p.Notes, &p.ElderlyAlone, &p.ChildUnder14, &p.NeedsAssistance, &p.Status, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = db.Time(created), db.Time(updated)
	return &p, nil
}

// loadPerson reads one person without any permission check.
func (s *Service) loadPerson(ctx context.Context, id int64) (*personRow, error) {
	p, err := scanPerson(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+personCols+` FROM household_people p WHERE p.id = ?`, id))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.person.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("households: load person %d: %w", id, err)
	}
	return p, nil
}

// visiblePerson loads a person the caller may view, else ENotFound.
func (s *Service) visiblePerson(ctx context.Context, id int64) (*personRow, error) {
	p, err := s.loadPerson(ctx, id)
	if err != nil {
		return nil, err
	}
	if !canSee(ctx, p.NodePath) {
		return nil, errs.NotFound("error.person.not_found")
	}
	return p, nil
}

// mask fills the masked fields from the sealed ones.
func (s *Service) mask(p *personRow) {
	if id, err := s.vault.Open(fieldIDNumber, p.idEnc); err == nil {
		p.IDNumberMasked = pii.MaskID(id)
	} else {
		p.IDNumberMasked = "??"
	}
	if b, err := s.vault.Open(fieldBirthday, p.birthdayEnc); err == nil {
		p.BirthdayMasked = pii.MaskBirthday(b)
	} else {
		p.BirthdayMasked = "??"
	}
}

// Person returns one person the caller may view, every sealed value masked.
func (s *Service) Person(ctx context.Context, id int64) (*Person, error) {
	p, err := s.visiblePerson(ctx, id)
	if err != nil {
		return nil, err
	}
	people, err := s.fillPeople(ctx, []*personRow{p}, true)
	if err != nil {
		return nil, err
	}
	return &people[0], nil
}

// peopleOf returns the people of some households, masked; full adds
// vehicles, pets and consents.
func (s *Service) peopleOf(ctx context.Context, householdIDs []int64, full bool) (map[int64][]Person, error) {
	out := map[int64][]Person{}
	if len(householdIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(householdIDs))
	for i, id := range householdIDs {
		args[i] = id
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+personCols+` FROM household_people p WHERE p.household_id IN (`+db.Placeholders(len(args))+`)
		AND p.status <> 'erased' ORDER BY p.household_id, CASE p.role WHEN 'owner' THEN 0 WHEN 'co_resident' THEN 1 WHEN 'family' THEN 2 ELSE 3 END, p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("households: people: %w", err)
	}
	var rs []*personRow
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		rs = append(rs, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	people, err := s.fillPeople(ctx, rs, full)
	if err != nil {
		return nil, err
	}
	for _, p := range people {
		out[p.HouseholdID] = append(out[p.HouseholdID], p)
	}
	return out, nil
}

// fillPeople masks the rows and adds their phones (and, when full, their
// vehicles, pets and consents).
func (s *Service) fillPeople(ctx context.Context, rs []*personRow, full bool) ([]Person, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	ids := make([]any, len(rs))
	byID := map[int64]*personRow{}
	for i, p := range rs {
		s.mask(p)
		p.Phones, p.Vehicles, p.Pets, p.Consents = []Phone{}, []Vehicle{}, []Pet{}, []Consent{}
		ids[i] = p.ID
		byID[p.ID] = p
	}
	in := db.Placeholders(len(ids))
	q := s.db.Q(ctx)
	rows, err := q.QueryContext(ctx, `SELECT id, person_id, label, phone_enc FROM person_phones WHERE person_id IN (`+in+`) ORDER BY person_id, sort, id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("households: phones: %w", err)
	}
	for rows.Next() {
		var ph Phone
		var pid int64
		var enc string
		if err := rows.Scan(&ph.ID, &pid, &ph.Label, &enc); err != nil {
			rows.Close()
			return nil, err
		}
		if clear, err := s.vault.Open(fieldPhone, enc); err == nil {
			ph.Masked = pii.MaskPhone(clear)
		} else {
			ph.Masked = "??"
		}
		byID[pid].Phones = append(byID[pid].Phones, ph)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if full {
		if err := s.fillExtras(ctx, in, ids, byID); err != nil {
			return nil, err
		}
	}
	out := make([]Person, len(rs))
	for i, p := range rs {
		out[i] = p.Person
	}
	return out, nil
}

func (s *Service) fillExtras(ctx context.Context, in string, ids []any, byID map[int64]*personRow) error {
	q := s.db.Q(ctx)
	rows, err := q.QueryContext(ctx, `SELECT id, person_id, plate, model, parking FROM person_vehicles WHERE person_id IN (`+in+`) ORDER BY id`, ids...)
	if err != nil {
		return fmt.Errorf("households: vehicles: %w", err)
	}
	for rows.Next() {
		var v Vehicle
		var pid int64
		if err := rows.Scan(&v.ID, &pid, &v.Plate, &v.Model, &v.Parking); err != nil {
			rows.Close()
			return err
		}
		byID[pid].Vehicles = append(byID[pid].Vehicles, v)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT id, person_id, kind, name, notes FROM person_pets WHERE person_id IN (`+in+`) ORDER BY id`, ids...)
	if err != nil {
		return fmt.Errorf("households: pets: %w", err)
	}
	for rows.Next() {
		var p Pet
		var pid int64
		if err := rows.Scan(&p.ID, &pid, &p.Kind, &p.Name, &p.Notes); err != nil {
			rows.Close()
			return err
		}
		byID[pid].Pets = append(byID[pid].Pets, p)
	}
	rows.Close()
	cs, err := s.consentsOf(ctx, in, ids)
	if err != nil {
		return err
	}
	for _, c := range cs {
		byID[c.PersonID].Consents = append(byID[c.PersonID].Consents, c)
	}
	return nil
}

// clearPhones returns a person's phone numbers in clear (for the suffix
// search, unmasking and export only).
func (s *Service) clearPhones(ctx context.Context, personID int64) ([]string, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT phone_enc FROM person_phones WHERE person_id = ? ORDER BY sort, id`, personID)
	if err != nil {
		return nil, fmt.Errorf("households: phones of %d: %w", personID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var enc string
		if err := rows.Scan(&enc); err != nil {
			return nil, err
		}
		clear, err := s.vault.Open(fieldPhone, enc)
		if err != nil {
			return nil, err
		}
		out = append(out, clear)
	}
	return out, rows.Err()
}

// newUID returns a random public reference for a person.
func newUID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sealed is a person's sealed values and blind indexes, ready to store.
type sealed struct {
	idEnc, idIdx, birthdayEnc, mdIdx string
}

// seal seals an ID number and a birthday (either may be "").
func (s *Service) seal(id, birthday string) (sealed, error) {
	var out sealed
	var err error
	if out.idEnc, err = s.vault.Seal(fieldIDNumber, id); err != nil {
		return out, err
	}
	out.idIdx = s.vault.Index(fieldIDNumber, id)
	if out.birthdayEnc, err = s.vault.Seal(fieldBirthday, birthday); err != nil {
		return out, err
	}
	if birthday != "" {
		out.mdIdx = s.vault.Index(fieldBirthMD, birthday[5:])
	}
	return out, nil
}

// writePhones replaces a person's phones and their search tokens.
func (s *Service) writePhones(ctx context.Context, tx *db.Tx, personID, householdID int64, phones []PhoneInput) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM person_phones WHERE person_id = ?`, personID); err != nil {
		return fmt.Errorf("households: clear phones: %w", err)
	}
	for i, ph := range phones {
		enc, err := s.vault.Seal(fieldPhone, ph.Number)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO person_phones (person_id, label, phone_enc, phone_idx, sort) VALUES (?, ?, ?, ?, ?)`,
			personID, ph.Label, enc, s.vault.Index(fieldPhone, digits(ph.Number)), i); err != nil {
			return fmt.Errorf("households: insert phone: %w", err)
		}
	}
	return nil
}

// writeTokens replaces a person's search tokens.
func (s *Service) writeTokens(ctx context.Context, tx *db.Tx, personID, householdID int64, name string, phones []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM household_search WHERE person_id = ?`, personID); err != nil {
		return fmt.Errorf("households: clear tokens: %w", err)
	}
	toks := nameTokens(name)
	for _, p := range phones {
		toks = append(toks, s.phoneTokens(p)...)
	}
	for _, t := range toks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO household_search (token, household_id, person_id) VALUES (?, ?, ?)`, t, householdID, personID); err != nil {
			return fmt.Errorf("households: insert token: %w", err)
		}
	}
	return nil
}

func (s *Service) writeExtras(ctx context.Context, tx *db.Tx, personID int64, vehicles []VehicleInput, pets []PetInput) error {
	if vehicles != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM person_vehicles WHERE person_id = ?`, personID); err != nil {
			return err
		}
		for _, v := range vehicles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO person_vehicles (person_id, plate, model, parking) VALUES (?, ?, ?, ?)`, personID, v.Plate, v.Model, v.Parking); err != nil {
				return fmt.Errorf("households: insert vehicle: %w", err)
			}
		}
	}
	if pets != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM person_pets WHERE person_id = ?`, personID); err != nil {
			return err
		}
		for _, p := range pets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO person_pets (person_id, kind, name, notes) VALUES (?, ?, ?, ?)`, personID, p.Kind, p.Name, p.Notes); err != nil {
				return fmt.Errorf("households: insert pet: %w", err)
			}
		}
	}
	return nil
}

// refreshFlags keeps a household's flags equal to its people's.
func (s *Service) refreshFlags(ctx context.Context, tx *db.Tx, householdID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE households SET
		elderly_alone = EXISTS (SELECT 1 FROM household_people WHERE household_id = households.id AND status = 'active' AND elderly_alone),
		has_child = EXISTS (SELECT 1 FROM household_people WHERE household_id = households.id AND status = 'active' AND child_under_14),
		needs_assistance = EXISTS (SELECT 1 FROM household_people WHERE household_id = households.id AND status = 'active' AND needs_assistance),
		updated_at = ? WHERE id = ?`, db.Ms(tx.Now), householdID)
	if err != nil {
		return fmt.Errorf("households: refresh flags %d: %w", householdID, err)
	}
	return nil
}

// today is the local date at the node at path, as a UTC midnight.
func (s *Service) today(ctx context.Context, path string) time.Time {
	return localDay(db.Now(ctx), s.location(ctx, path))
}

// localDay returns the local date of t in loc as a UTC midnight (a date
// value without a zone).
func localDay(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// changedFields names the fields an input sets, for the audit row (which
// never holds the values).
func changedFields(in PersonInput) []string {
	out := []string{"name", "role"}
	if in.Phones != nil {
		out = append(out, "phones")
	}
	if in.IDNumber != nil {
		out = append(out, "id_number")
	}
	if in.Birthday != nil {
		out = append(out, "birthday")
	}
	if in.Vehicles != nil {
		out = append(out, "vehicles")
	}
	if in.Pets != nil {
		out = append(out, "pets")
	}
	if len(in.Consents) > 0 {
		out = append(out, "consents")
	}
	return out
}

// CreatePerson adds a person to a household. It needs household.manage;
// it returns EInvalid for bad fields and for sensitive fields without the
// consent they need (see ConsentPurposes), recording nothing.
func (s *Service) CreatePerson(ctx context.Context, householdID int64, in PersonInput) (*Person, error) {
	hh, err := s.visibleHousehold(ctx, householdID)
	if err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, hh.NodePath); err != nil {
		return nil, err
	}
	in.normalise()
	today := s.today(ctx, hh.NodePath)
	var v errs.Validation
	in.validate(&v, today)
	s.validateGuardians(ctx, &v, hh.ID, 0, in.Consents, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		id, err = s.insertPerson(ctx, tx, hh, in, today)
		if err != nil {
			return err
		}
		return s.record(ctx, "create", "person", id, hh.NodePath, fmt.Sprintf("#%d", id),
			map[string]any{"household_id": hh.ID, "role": in.Role, "fields": changedFields(in)})
	})
	if err != nil {
		return nil, err
	}
	return s.Person(ctx, id)
}

// insertPerson writes a new person with consents, phones, extras and
// tokens, checking the consent rules; no permission check.
func (s *Service) insertPerson(ctx context.Context, tx *db.Tx, hh *Household, in PersonInput, today time.Time) (int64, error) {
	id, birthday := deref(in.IDNumber), deref(in.Birthday)
	child := isChild(in.ChildUnder14, birthday, today)
	sv, err := s.seal(id, birthday)
	if err != nil {
		return 0, err
	}
	idType := in.IDType
	if id == "" {
		idType = ""
	}
	var pid int64
	err = tx.QueryRowContext(ctx, `INSERT INTO household_people (uid, household_id, node_path, role, relation, name, gender, id_type, id_number_enc, id_number_idx,
		birthday_enc, birthday_md_idx, notes, elderly_alone, child_under_14, needs_assistance, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?) RETURNING id`,
		newUID(), hh.ID, hh.NodePath, in.Role, in.Relation, in.Name, in.Gender, idType, sv.idEnc, sv.idIdx, sv.birthdayEnc, sv.mdIdx,
		in.Notes, in.ElderlyAlone, child, in.NeedsAssistance, db.Ms(tx.Now), db.Ms(tx.Now)).Scan(&pid)
	if err != nil {
		return 0, fmt.Errorf("households: insert person: %w", err)
	}
	for _, c := range in.Consents {
		if _, err := s.insertConsent(ctx, tx, pid, c); err != nil {
			return 0, err
		}
	}
	st := dataState{id: id != "", birthday: birthday != "", child: child,
		other: len(in.Phones) > 0 || in.Notes != "" || len(in.Vehicles) > 0 || len(in.Pets) > 0}
	if err := s.checkConsents(ctx, pid, st); err != nil {
		return 0, err
	}
	if err := s.writePhones(ctx, tx, pid, hh.ID, in.Phones); err != nil {
		return 0, err
	}
	if err := s.writeExtras(ctx, tx, pid, orEmpty(in.Vehicles), orEmpty(in.Pets)); err != nil {
		return 0, err
	}
	numbers := make([]string, len(in.Phones))
	for i, p := range in.Phones {
		numbers[i] = p.Number
	}
	if err := s.writeTokens(ctx, tx, pid, hh.ID, in.Name, numbers); err != nil {
		return 0, err
	}
	return pid, s.refreshFlags(ctx, tx, hh.ID)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// isChild reports whether a person counts as under 14: by the birthday when
// it is known, else by the flag.
func isChild(flag bool, birthday string, today time.Time) bool {
	if b, ok := parseDay(birthday); ok {
		return ageOn(b, today) < 14
	}
	return flag
}

// UpdatePerson changes a person. Fields left nil keep their stored value
// (see PersonInput). It needs household.manage; EConflict for an erased
// person; EInvalid as CreatePerson.
func (s *Service) UpdatePerson(ctx context.Context, id int64, in PersonInput) (*Person, error) {
	p, err := s.visiblePerson(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, p.NodePath); err != nil {
		return nil, err
	}
	if p.Status == "erased" {
		return nil, errs.New(errs.EConflict, "error.person.erased")
	}
	in.normalise()
	today := s.today(ctx, p.NodePath)
	var v errs.Validation
	in.validate(&v, today)
	s.validateGuardians(ctx, &v, p.HouseholdID, p.ID, in.Consents, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := s.updatePerson(ctx, tx, p, in, today); err != nil {
			return err
		}
		return s.record(ctx, "update", "person", id, p.NodePath, fmt.Sprintf("#%d", id),
			map[string]any{"household_id": p.HouseholdID, "role": in.Role, "fields": changedFields(in)})
	})
	if err != nil {
		return nil, err
	}
	return s.Person(ctx, id)
}

func (s *Service) updatePerson(ctx context.Context, tx *db.Tx, p *personRow, in PersonInput, today time.Time) error {
	id, err := s.vault.Open(fieldIDNumber, p.idEnc)
	if err != nil {
		return err
	}
	birthday, err := s.vault.Open(fieldBirthday, p.birthdayEnc)
	if err != nil {
		return err
	}
	idType := p.IDType
	if in.IDNumber != nil {
		id, idType = *in.IDNumber, in.IDType
	}
	if id == "" {
		idType = ""
	}
	if in.Birthday != nil {
		birthday = *in.Birthday
	}
	phones := in.Phones
	if phones == nil {
		clear, err := s.clearPhones(ctx, p.ID)
		if err != nil {
			return err
		}
		labels, err := s.phoneLabels(ctx, p.ID)
		if err != nil {
			return err
		}
		for i, c := range clear {
			phones = append(phones, PhoneInput{Label: labels[i], Number: c})
		}
	}
	vehicles, pets, err := s.countExtras(ctx, p.ID)
	if err != nil {
		return err
	}
	if in.Vehicles != nil {
		vehicles = len(in.Vehicles)
	}
	if in.Pets != nil {
		pets = len(in.Pets)
	}
	child := isChild(in.ChildUnder14, birthday, today)
	for _, c := range in.Consents {
		if _, err := s.insertConsent(ctx, tx, p.ID, c); err != nil {
			return err
		}
	}
	st := dataState{id: id != "", birthday: birthday != "", child: child, other: len(phones) > 0 || in.Notes != "" || vehicles > 0 || pets > 0}
	if err := s.checkConsents(ctx, p.ID, st); err != nil {
		return err
	}
	sv, err := s.seal(id, birthday)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE household_people SET role = ?, relation = ?, name = ?, gender = ?, id_type = ?, id_number_enc = ?, id_number_idx = ?,
		birthday_enc = ?, birthday_md_idx = ?, notes = ?, elderly_alone = ?, child_under_14 = ?, needs_assistance = ?, updated_at = ? WHERE id = ?`,
		in.Role, in.Relation, in.Name, in.Gender, idType, sv.idEnc, sv.idIdx, sv.birthdayEnc, sv.mdIdx, in.Notes, in.ElderlyAlone, child,
		in.NeedsAssistance, db.Ms(tx.Now), p.ID); err != nil {
		return fmt.Errorf("households: update person %d: %w", p.ID, err)
	}
	if in.Phones != nil {
		if err := s.writePhones(ctx, tx, p.ID, p.HouseholdID, in.Phones); err != nil {
			return err
		}
	}
	if err := s.writeExtras(ctx, tx, p.ID, in.Vehicles, in.Pets); err != nil {
		return err
	}
	numbers := make([]string, len(phones))
	for i, ph := range phones {
		numbers[i] = ph.Number
	}
	if err := s.writeTokens(ctx, tx, p.ID, p.HouseholdID, in.Name, numbers); err != nil {
		return err
	}
	return s.refreshFlags(ctx, tx, p.HouseholdID)
}

func (s *Service) phoneLabels(ctx context.Context, personID int64) ([]string, error) {
	return db.Column[string](ctx, s.db.Q(ctx), `SELECT label FROM person_phones WHERE person_id = ? ORDER BY sort, id`, personID)
}

func (s *Service) countExtras(ctx context.Context, personID int64) (vehicles, pets int, err error) {
	err = s.db.Q(ctx).QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM person_vehicles WHERE person_id = ?), (SELECT COUNT(*) FROM person_pets WHERE person_id = ?)`,
		personID, personID).Scan(&vehicles, &pets)
	return vehicles, pets, err
}

// nullID turns an optional id into a query argument.
func nullID(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func ptrID(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// personName returns a display name ("" when erased).
func personName(name, status string) string {
	if status == "erased" {
		return ""
	}
	return strings.TrimSpace(name)
}
