package households

import (
	"context"
	"fmt"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/pii"
)

// RekeyReport counts what a rekey changed.
type RekeyReport struct {
	People int `json:"people"`
	Phones int `json:"phones"`
}

// Rekey re-seals every sealed value and recomputes every blind index of
// this module that is still under a key other than the current one, batch
// people per transaction, until none is left. It is step two of a key
// rotation (see pii.Vault): after it, the old key can leave the ring. It
// is safe to run while the system serves, and to run again.
func (s *Service) Rekey(ctx context.Context, batch int) (RekeyReport, error) {
	var rep RekeyReport
	if batch <= 0 {
		batch = 500
	}
	cur := s.vault.CurrentKeyID() + "."
	n := len(cur)
	for {
		var ids []int64
		rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT p.id FROM household_people p WHERE
			(p.id_number_enc <> '' AND substr(p.id_number_enc, 1, ?) <> ?) OR (p.id_number_idx <> '' AND substr(p.id_number_idx, 1, ?) <> ?)
			OR (p.birthday_enc <> '' AND substr(p.birthday_enc, 1, ?) <> ?) OR (p.birthday_md_idx <> '' AND substr(p.birthday_md_idx, 1, ?) <> ?)
			OR EXISTS (SELECT 1 FROM person_phones ph WHERE ph.person_id = p.id AND (substr(ph.phone_enc, 1, ?) <> ? OR substr(ph.phone_idx, 1, ?) <> ?))
			ORDER BY p.id LIMIT ?`, n, cur, n, cur, n, cur, n, cur, n, cur, n, cur, batch)
		if err != nil {
			return rep, fmt.Errorf("households: rekey: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return rep, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			return rep, nil
		}
		err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for _, id := range ids {
				phones, err := s.rekeyPerson(ctx, tx, id)
				if err != nil {
					return err
				}
				rep.People++
				rep.Phones += phones
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
}

func (s *Service) rekeyPerson(ctx context.Context, tx *db.Tx, id int64) (int, error) {
	p, err := s.loadPerson(ctx, id)
	if err != nil {
		return 0, err
	}
	idn, err := s.vault.Open(fieldIDNumber, p.idEnc)
	if err != nil {
		return 0, fmt.Errorf("households: rekey person %d: %w", id, err)
	}
	birthday, err := s.vault.Open(fieldBirthday, p.birthdayEnc)
	if err != nil {
		return 0, fmt.Errorf("households: rekey person %d: %w", id, err)
	}
	sv, err := s.seal(idn, birthday)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE household_people SET id_number_enc = ?, id_number_idx = ?, birthday_enc = ?, birthday_md_idx = ? WHERE id = ?`,
		sv.idEnc, sv.idIdx, sv.birthdayEnc, sv.mdIdx, id); err != nil {
		return 0, err
	}
	phones, err := s.clearPhones(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("households: rekey phones of %d: %w", id, err)
	}
	labels, err := s.phoneLabels(ctx, id)
	if err != nil {
		return 0, err
	}
	in := make([]PhoneInput, len(phones))
	for i, ph := range phones {
		in[i] = PhoneInput{Label: labels[i], Number: ph}
	}
	if err := s.writePhones(ctx, tx, id, p.HouseholdID, in); err != nil {
		return 0, err
	}
	if p.Status != "active" {
		// Moved out or erased: no search tokens to rebuild.
		_, err := tx.ExecContext(ctx, `DELETE FROM household_search WHERE person_id = ? AND (token LIKE 't:%' OR token LIKE 'p:%')`, id)
		return len(phones), err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM household_search WHERE person_id = ? AND (token LIKE 't:%' OR token LIKE 'p:%')`, id); err != nil {
		return 0, err
	}
	for _, ph := range phones {
		for _, t := range s.phoneTokens(ph) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO household_search (token, household_id, person_id) VALUES (?, ?, ?)`, t, p.HouseholdID, id); err != nil {
				return 0, err
			}
		}
	}
	return len(phones), nil
}

// SealedColumns are the module's sealed values, for the key report.
var SealedColumns = []pii.Column{
	{Table: "person_phones", Key: "id", Sealed: "phone_enc", Field: fieldPhone},
	{Table: "household_people", Key: "id", Sealed: "id_number_enc", Field: fieldIDNumber},
	{Table: "household_people", Key: "id", Sealed: "birthday_enc", Field: fieldBirthday},
}

// KeyIDsInUse lists the key ids that seal this module's data (for the
// rekey command's report).
func (s *Service) KeyIDsInUse(ctx context.Context) ([]string, error) {
	return pii.KeyIDsIn(ctx, s.db, SealedColumns...)
}
