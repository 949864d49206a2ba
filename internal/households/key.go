package households

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// KeyInput records a key received from an owner (钥匙托管).
type KeyInput struct {
	Label                string   `json:"label"`    // "入户门钥匙 2 把"
	Purposes             []string `json:"purposes"` // airing, cleaning, checks, other
	Storage              string   `json:"storage"`  // key cabinet slot
	ReceivedFromPersonID *int64   `json:"received_from_person_id"`
	Notes                string   `json:"notes"`
}

// KeyUseInput records one time a kept key was taken out.
type KeyUseInput struct {
	Purpose       string     `json:"purpose"` // what for: airing, cleaning, checks, other
	AccompaniedBy string     `json:"accompanied_by"`
	Note          string     `json:"note"` // what was done
	TakenAt       *time.Time `json:"taken_at"`
	BackAt        *time.Time `json:"back_at"`
}

// KeyReturnInput gives a key back to its owner.
type KeyReturnInput struct {
	ReturnedToPersonID *int64 `json:"returned_to_person_id"`
	Note               string `json:"note"`
}

const keyCols = `k.id, k.household_id, k.node_path, k.label, k.purposes, k.storage, k.received_at, k.received_by, k.received_from_person_id, k.notes,
	k.status, k.returned_at, k.returned_to_person_id, k.return_note`

func (s *Service) keysWhere(ctx context.Context, cond string, args []any) ([]Key, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+keyCols+` FROM household_keys k WHERE `+cond+` ORDER BY k.status, k.received_at DESC, k.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("households: keys: %w", err)
	}
	out := []Key{}
	byID := map[int64]int{}
	for rows.Next() {
		var k Key
		var purposes string
		var received int64
		var by, from, returned, to sql.NullInt64
		if err := rows.Scan(&k.ID, &k.HouseholdID, &k.NodePath, &k.Label, &purposes, &k.Storage, &received, &by, &from, &k.Notes,
			&k.Status, &returned, &to, &k.ReturnNote); err != nil {
			rows.Close()
			return nil, err
		}
		k.Purposes = strings.Fields(purposes)
		k.ReceivedAt, k.ReceivedBy, k.ReceivedFromPersonID = db.Time(received), ptrID(by), ptrID(from)
		k.ReturnedAt, k.ReturnedToPersonID = db.TimePtr(returned), ptrID(to)
		k.Uses = []KeyUse{}
		byID[k.ID] = len(out)
		out = append(out, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]any, 0, len(out))
	for _, k := range out {
		ids = append(ids, k.ID)
	}
	urows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT ku.id, ku.key_id, ku.staff_id, COALESCE(st.name, ''), ku.taken_at, ku.back_at, ku.accompanied_by, ku.purpose, ku.note
		FROM household_key_uses ku LEFT JOIN staff st ON st.id = ku.staff_id WHERE ku.key_id IN (`+db.Placeholders(len(ids))+`) ORDER BY ku.taken_at DESC, ku.id DESC`, ids...)
	if err != nil {
		return nil, fmt.Errorf("households: key uses: %w", err)
	}
	defer urows.Close()
	for urows.Next() {
		var u KeyUse
		var staff, back sql.NullInt64
		var taken int64
		if err := urows.Scan(&u.ID, &u.KeyID, &staff, &u.StaffName, &taken, &back, &u.AccompaniedBy, &u.Purpose, &u.Note); err != nil {
			return nil, err
		}
		u.StaffID, u.TakenAt, u.BackAt = ptrID(staff), db.Time(taken), db.TimePtr(back)
		out[byID[u.KeyID]].Uses = append(out[byID[u.KeyID]].Uses, u)
	}
	return out, urows.Err()
}

// visibleKey loads a key the caller may view, else ENotFound.
func (s *Service) visibleKey(ctx context.Context, id int64) (*Key, error) {
	ks, err := s.keysWhere(ctx, "k.id = ?", []any{id})
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 || !canSee(ctx, ks[0].NodePath) {
		return nil, errs.NotFound("error.key.not_found")
	}
	return &ks[0], nil
}

// ReceiveKey records a key received from an owner. It needs care.work.
func (s *Service) ReceiveKey(ctx context.Context, householdID int64, in KeyInput) (*Key, error) {
	h, err := s.visibleHousehold(ctx, householdID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Label, in.Storage, in.Notes = strings.TrimSpace(in.Label), strings.TrimSpace(in.Storage), strings.TrimSpace(in.Notes)
	v.Required("label", in.Label)
	v.MaxLen("label", in.Label, maxShortLen)
	v.MaxLen("storage", in.Storage, 50)
	v.MaxLen("notes", in.Notes, maxNoteLen)
	v.Check(len(in.Purposes) > 0, "purposes", "error.field.required")
	for _, p := range in.Purposes {
		v.Check(slices.Contains(KeyPurposes, p), "purposes", "error.field.invalid_choice")
	}
	if in.ReceivedFromPersonID != nil && !s.personOf(ctx, *in.ReceivedFromPersonID, h.ID) {
		v.Add("received_from_person_id", "error.field.unknown_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermCare, h.NodePath); err != nil {
		return nil, err
	}
	if h.Status != "current" {
		return nil, errs.New(errs.EConflict, "error.household.former")
	}
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO household_keys (household_id, node_path, label, purposes, storage, received_at, received_by, received_from_person_id, notes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, h.ID, h.NodePath, in.Label, strings.Join(in.Purposes, " "), in.Storage, db.Ms(tx.Now),
			principal(ctx).StaffID, nullID(in.ReceivedFromPersonID), in.Notes).Scan(&id)
		if err != nil {
			return fmt.Errorf("households: insert key: %w", err)
		}
		return s.record(ctx, "key_receive", "household_key", id, h.NodePath, h.UnitNumber, map[string]any{"household_id": h.ID, "purposes": in.Purposes})
	})
	if err != nil {
		return nil, err
	}
	return s.visibleKey(ctx, id)
}

// LogKeyUse records a use of a kept key. It needs care.work; EConflict for
// a key already returned.
func (s *Service) LogKeyUse(ctx context.Context, keyID int64, in KeyUseInput) (*Key, error) {
	k, err := s.visibleKey(ctx, keyID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.AccompaniedBy, in.Note = strings.TrimSpace(in.AccompaniedBy), strings.TrimSpace(in.Note)
	v.OneOf("purpose", in.Purpose, KeyPurposes...)
	v.MaxLen("accompanied_by", in.AccompaniedBy, maxShortLen)
	v.Required("note", in.Note)
	v.MaxLen("note", in.Note, maxNoteLen)
	now := db.Now(ctx)
	taken := now
	if in.TakenAt != nil {
		taken = in.TakenAt.UTC()
		v.Check(!taken.After(now.Add(5*time.Minute)) && taken.After(now.AddDate(-1, 0, 0)), "taken_at", "error.field.bad_range")
	}
	if in.BackAt != nil {
		v.Check(!in.BackAt.Before(taken) && !in.BackAt.After(now.Add(5*time.Minute)), "back_at", "error.field.bad_range")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermCare, k.NodePath); err != nil {
		return nil, err
	}
	if k.Status != "held" {
		return nil, errs.New(errs.EConflict, "error.key.returned")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO household_key_uses (key_id, staff_id, taken_at, back_at, accompanied_by, purpose, note, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, k.ID, principal(ctx).StaffID, db.Ms(taken), db.MsPtr(in.BackAt), in.AccompaniedBy, in.Purpose,
			in.Note, db.Ms(tx.Now)).Scan(&id); err != nil {
			return fmt.Errorf("households: insert key use: %w", err)
		}
		if _, err := s.insertContact(ctx, tx, k.HouseholdID, nil, nil, "visit", "key_use", ""); err != nil {
			return err
		}
		return s.record(ctx, "key_use", "household_key", k.ID, k.NodePath, in.Purpose, map[string]any{"use_id": id, "purpose": in.Purpose})
	})
	if err != nil {
		return nil, err
	}
	return s.visibleKey(ctx, keyID)
}

// ReturnKey records a key given back, to a person of the household or to
// someone a note names. It needs care.work; EConflict when it was
// returned already.
func (s *Service) ReturnKey(ctx context.Context, keyID int64, in KeyReturnInput) (*Key, error) {
	k, err := s.visibleKey(ctx, keyID)
	if err != nil {
		return nil, err
	}
	var v errs.Validation
	in.Note = strings.TrimSpace(in.Note)
	v.MaxLen("note", in.Note, maxNoteLen)
	switch {
	case in.ReturnedToPersonID != nil && !s.personOf(ctx, *in.ReturnedToPersonID, k.HouseholdID):
		v.Add("returned_to_person_id", "error.field.unknown_id")
	case in.ReturnedToPersonID == nil && in.Note == "":
		// Whom it went to: a person of the household, or a note naming them.
		v.Add("returned_to_person_id", "error.field.required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := need(ctx, PermCare, k.NodePath); err != nil {
		return nil, err
	}
	if k.Status != "held" {
		return nil, errs.New(errs.EConflict, "error.key.returned")
	}
	err = s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE household_keys SET status = 'returned', returned_at = ?, returned_by = ?, returned_to_person_id = ?, return_note = ? WHERE id = ?`,
			db.Ms(tx.Now), principal(ctx).StaffID, nullID(in.ReturnedToPersonID), in.Note, k.ID); err != nil {
			return fmt.Errorf("households: return key: %w", err)
		}
		return s.record(ctx, "key_return", "household_key", k.ID, k.NodePath, "", map[string]any{"household_id": k.HouseholdID})
	})
	if err != nil {
		return nil, err
	}
	return s.visibleKey(ctx, keyID)
}
