package households

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// dataState is what a person's record holds after a change.
type dataState struct {
	id, birthday, other, child bool
}

// checkConsents returns EInvalid naming each field the person's active
// consents do not cover:
//   - an ID number needs "id_number", a birthday "birthday";
//   - for a child under 14, every personal field beyond name, role and
//     relation needs "minor", given by a guardian (PIPL art. 31), which
//     also covers the ID number and birthday.
func (s *Service) checkConsents(ctx context.Context, personID int64, st dataState) error {
	active, err := s.activeConsents(ctx, personID)
	if err != nil {
		return err
	}
	var v errs.Validation
	if st.child {
		if (st.id || st.birthday || st.other) && !active["minor:guardian"] {
			switch {
			case st.id:
				v.Add("id_number", "error.consent.guardian_required")
			case st.birthday:
				v.Add("birthday", "error.consent.guardian_required")
			default:
				v.Add("consents", "error.consent.guardian_required")
			}
		}
		return v.Err()
	}
	if st.id && !active["id_number"] {
		v.Add("id_number", "error.consent.required")
	}
	if st.birthday && !active["birthday"] {
		v.Add("birthday", "error.consent.required")
	}
	return v.Err()
}

// activeConsents returns the purposes in force for a person, as "purpose"
// and "purpose:given_by".
func (s *Service) activeConsents(ctx context.Context, personID int64) (map[string]bool, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT purpose, given_by FROM person_consents WHERE person_id = ? AND withdrawn_at IS NULL`, personID)
	if err != nil {
		return nil, fmt.Errorf("households: consents of %d: %w", personID, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var purpose, by string
		if err := rows.Scan(&purpose, &by); err != nil {
			return nil, err
		}
		out[purpose], out[purpose+":"+by] = true, true
	}
	return out, rows.Err()
}

// validateGuardians checks that each guardian named by a consent is an
// adult of the same household (and not the person themselves).
func (s *Service) validateGuardians(ctx context.Context, v *errs.Validation, householdID, personID int64, cs []ConsentInput, single bool) {
	for i, c := range cs {
		if c.GuardianPersonID == nil {
			continue
		}
		f := fmt.Sprintf("consents[%d].guardian_person_id", i)
		if single {
			f = "guardian_person_id"
		}
		var hh int64
		var child bool
		var status string
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT household_id, child_under_14, status FROM household_people WHERE id = ?`, *c.GuardianPersonID).Scan(&hh, &child, &status)
		switch {
		case err != nil || hh != householdID || status != "active":
			v.Add(f, "error.field.unknown_id")
		case child || *c.GuardianPersonID == personID:
			v.Add(f, "error.consent.bad_guardian")
		}
	}
}

// insertConsent records a consent given now.
func (s *Service) insertConsent(ctx context.Context, tx *db.Tx, personID int64, c ConsentInput) (int64, error) {
	var recorder any
	if p := principal(ctx); p != nil {
		recorder = p.StaffID
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO person_consents (person_id, purpose, text_version, channel, given_by, guardian_person_id, guardian_relation,
		given_at, recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		personID, c.Purpose, c.TextVersion, c.Channel, c.GivenBy, nullID(c.GuardianPersonID), c.GuardianRelation, db.Ms(tx.Now), recorder, db.Ms(tx.Now)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("households: insert consent: %w", err)
	}
	return id, nil
}

func scanConsent(row interface{ Scan(...any) error }) (*Consent, error) {
	var c Consent
	var guardian, withdrawn sql.NullInt64
	var given int64
	if err := row.Scan(&c.ID, &c.PersonID, &c.Purpose, &c.TextVersion, &c.Channel, &c.GivenBy, &guardian, &c.GuardianRelation, &given, &withdrawn); err != nil {
		return nil, err
	}
	c.GuardianPersonID, c.GivenAt, c.WithdrawnAt = ptrID(guardian), db.Time(given), db.TimePtr(withdrawn)
	return &c, nil
}

const consentCols = `id, person_id, purpose, text_version, channel, given_by, guardian_person_id, guardian_relation, given_at, withdrawn_at`

func (s *Service) consentsOf(ctx context.Context, in string, ids []any) ([]Consent, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+consentCols+` FROM person_consents WHERE person_id IN (`+in+`) ORDER BY given_at, id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("households: consents: %w", err)
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// AddConsent records a consent of a person. It needs household.manage.
func (s *Service) AddConsent(ctx context.Context, personID int64, in ConsentInput) (*Consent, error) {
	p, err := s.visiblePerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	if in.GivenBy == "" {
		in.GivenBy = "self"
	}
	in.TextVersion, in.GuardianRelation = strings.TrimSpace(in.TextVersion), strings.TrimSpace(in.GuardianRelation)
	var v errs.Validation
	validateConsent(&v, "", in)
	s.validateGuardians(ctx, &v, p.HouseholdID, p.ID, []ConsentInput{in}, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermManage, p.NodePath); err != nil {
		return nil, err
	}
	if p.Status == "erased" {
		return nil, errs.New(errs.EConflict, "error.person.erased")
	}
	var out *Consent
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		id, err := s.insertConsent(ctx, tx, p.ID, in)
		if err != nil {
			return err
		}
		if out, err = scanConsent(tx.QueryRowContext(ctx, `SELECT `+consentCols+` FROM person_consents WHERE id = ?`, id)); err != nil {
			return err
		}
		return s.record(ctx, "consent", "person", p.ID, p.NodePath, in.Purpose,
			map[string]any{"consent_id": id, "purpose": in.Purpose, "text_version": in.TextVersion, "channel": in.Channel, "given_by": in.GivenBy})
	})
	return out, err
}

// WithdrawConsent ends a consent. The data it covered and no other consent
// covers is deleted in the same transaction: withdrawing "id_number"
// deletes the ID number, "birthday" the birthday (and open birthday
// tasks), "minor" every personal field of the child beyond name, role and
// relation. It needs household.manage; EConflict when already withdrawn.
func (s *Service) WithdrawConsent(ctx context.Context, consentID int64) (*Consent, error) {
	c, err := scanConsent(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+consentCols+` FROM person_consents WHERE id = ?`, consentID))
	if db.IsNoRows(err) {
		return nil, errs.NotFound("error.consent.not_found")
	}
	if err != nil {
		return nil, fmt.Errorf("households: load consent %d: %w", consentID, err)
	}
	p, err := s.loadPerson(ctx, c.PersonID)
	if err != nil {
		return nil, err
	}
	if !canSee(ctx, p.NodePath) {
		return nil, errs.NotFound("error.consent.not_found")
	}
	if err := need(ctx, PermManage, p.NodePath); err != nil {
		return nil, err
	}
	if c.WithdrawnAt != nil {
		return nil, errs.New(errs.EConflict, "error.consent.withdrawn")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE person_consents SET withdrawn_at = ? WHERE id = ?`, db.Ms(tx.Now), c.ID); err != nil {
			return err
		}
		active, err := s.activeConsents(ctx, p.ID)
		if err != nil {
			return err
		}
		removed, err := s.dropUncovered(ctx, tx, p, active)
		if err != nil {
			return err
		}
		return s.record(ctx, "consent_withdraw", "person", p.ID, p.NodePath, c.Purpose,
			map[string]any{"consent_id": c.ID, "purpose": c.Purpose, "deleted": removed})
	})
	if err != nil {
		return nil, err
	}
	return scanConsent(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+consentCols+` FROM person_consents WHERE id = ?`, consentID))
}

// dropUncovered deletes the fields of p that active consents no longer
// cover and returns their names.
func (s *Service) dropUncovered(ctx context.Context, tx *db.Tx, p *personRow, active map[string]bool) ([]string, error) {
	var removed []string
	now := db.Ms(tx.Now)
	if p.ChildUnder14 && !active["minor:guardian"] {
		stmts := []string{
			`UPDATE household_people SET id_type = '', id_number_enc = '', id_number_idx = '', birthday_enc = '', birthday_md_idx = '', notes = '', updated_at = ? WHERE id = ?`,
			`DELETE FROM person_phones WHERE person_id = ? AND ? > 0`,
			`DELETE FROM person_vehicles WHERE person_id = ? AND ? > 0`,
			`DELETE FROM person_pets WHERE person_id = ? AND ? > 0`,
			`DELETE FROM household_search WHERE person_id = ? AND token NOT LIKE 'n:%' AND token NOT LIKE 'g:%' AND token NOT LIKE 'i:%' AND ? > 0`,
		}
		for i, q := range stmts {
			args := []any{now, p.ID}
			if i > 0 {
				args = []any{p.ID, 1}
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return nil, fmt.Errorf("households: drop child data: %w", err)
			}
		}
		removed = append(removed, "id_number", "birthday", "notes", "phones", "vehicles", "pets")
	} else {
		if !active["id_number"] && p.idEnc != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE household_people SET id_type = '', id_number_enc = '', id_number_idx = '', updated_at = ? WHERE id = ?`, now, p.ID); err != nil {
				return nil, err
			}
			removed = append(removed, "id_number")
		}
		if !active["birthday"] && p.birthdayEnc != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE household_people SET birthday_enc = '', birthday_md_idx = '', updated_at = ? WHERE id = ?`, now, p.ID); err != nil {
				return nil, err
			}
			removed = append(removed, "birthday")
		}
	}
	for _, f := range removed {
		if f == "birthday" {
			if _, err := tx.ExecContext(ctx, `UPDATE care_tasks SET status = 'cancelled' WHERE person_id = ? AND kind = 'birthday' AND status = 'open'`, p.ID); err != nil {
				return nil, err
			}
		}
	}
	return removed, nil
}
