package housekeeping

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// StartClean is the attendant at the door: the room becomes "cleaning" and
// the work "started". An unassigned room becomes the caller's. A room
// showing DND is not entered (EConflict error.hk.dnd); someone else's room
// needs hk.inspect.
func (s *Service) StartClean(ctx context.Context, workID int64) (*WorkItem, error) {
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		w, r, err := s.loadWork(ctx, workID, true)
		if err != nil {
			return err
		}
		if err := s.mayWork(ctx, w, r); err != nil {
			return err
		}
		if r.Has(FlagDND) {
			return errs.New(errs.EConflict, "error.hk.dnd")
		}
		if w.State == WorkDone {
			return errs.New(errs.EConflict, "error.hk.work_done")
		}
		p := auth.FromContext(ctx)
		if w.AttendantID == nil && p != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE hk_work SET attendant_id = ?, seq = 999 WHERE id = ?`, p.StaffID, w.ID); err != nil {
				return err
			}
		}
		if r.Cleaning == Cleaning {
			return s.setWorkState(ctx, r, []string{WorkOpen, WorkSkipped}, WorkStarted, "")
		}
		return s.apply(ctx, r, Change{Dimension: DimCleaning, To: Cleaning}, "clean_started", w.CleanType, w.ID, true)
	})
	if err != nil {
		return nil, err
	}
	return s.WorkItem(ctx, workID)
}

// mayWork checks that the caller may work on w: theirs, unassigned (with
// hk.clean) or anyone's (with hk.inspect).
func (s *Service) mayWork(ctx context.Context, w *WorkItem, r *Room) error {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil
	}
	switch {
	case p.Can(auth.PermHKInspect, r.NodePath):
		return nil
	case !p.Can(auth.PermHKClean, r.NodePath):
		return errs.Forbidden()
	case w.AttendantID != nil && *w.AttendantID != p.StaffID:
		return errs.New(errs.EConflict, "error.hk.not_your_room")
	}
	return nil
}

// FinishCleanInput is the end of a clean: the checklist steps ticked.
type FinishCleanInput struct {
	Steps []string `json:"steps"`
	Note  string   `json:"note"`
}

// FinishClean is "clean": every step of the room type's checklist must be
// ticked (EInvalid naming steps otherwise); the room becomes clean, the
// work done, and the steps are kept with the work.
func (s *Service) FinishClean(ctx context.Context, workID int64, in FinishCleanInput) (*WorkItem, error) {
	var v errs.Validation
	v.MaxLen("note", in.Note, 500)
	if len(in.Steps) > 100 {
		v.Add("steps", "error.field.too_long")
	}
	for _, st := range in.Steps {
		v.MaxLen("steps", st, 40)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		w, r, err := s.loadWork(ctx, workID, true)
		if err != nil {
			return err
		}
		if err := s.mayWork(ctx, w, r); err != nil {
			return err
		}
		t, err := s.roomType(ctx, r.TypeID)
		if err != nil {
			return err
		}
		var missing []string
		for _, st := range t.Checklist {
			if !slices.Contains(in.Steps, st.ID) {
				missing = append(missing, st.ID)
			}
		}
		for _, st := range in.Steps {
			if !slices.ContainsFunc(t.Checklist, func(x ChecklistStep) bool { return x.ID == st }) {
				return errs.Invalid("steps", "error.field.invalid_choice")
			}
		}
		if len(missing) > 0 {
			e := errs.Invalid("steps", "error.hk.steps_missing")
			e.Args = map[string]any{"missing": missing, "count": len(missing)}
			return e
		}
		if w.State != WorkStarted || r.Cleaning != Cleaning {
			return errs.New(errs.EConflict, "error.hk.not_started")
		}
		steps, _ := json.Marshal(in.Steps)
		if _, err := tx.ExecContext(ctx, `UPDATE hk_work SET steps = ? WHERE id = ?`, string(steps), w.ID); err != nil {
			return err
		}
		return s.apply(ctx, r, Change{Dimension: DimCleaning, To: Clean}, "clean_finished", in.Note, w.ID, true)
	})
	if err != nil {
		return nil, err
	}
	return s.WorkItem(ctx, workID)
}

// SkipCleanInput is why a room is not entered.
type SkipCleanInput struct {
	Reason string `json:"reason"` // dnd, refused
	Note   string `json:"note"`
}

// Skip is the attendant at a door with the DND sign, or a guest who says
// not now (seed article 1): the flag goes on (which starts the DND calls)
// and the work waits as skipped.
func (s *Service) Skip(ctx context.Context, workID int64, in SkipCleanInput) (*WorkItem, error) {
	var v errs.Validation
	v.MaxLen("reason", in.Reason, 20)
	v.MaxLen("note", in.Note, 500)
	if !v.Has("reason") {
		v.OneOf("reason", in.Reason, FlagDND, FlagRefused)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		w, r, err := s.loadWork(ctx, workID, true)
		if err != nil {
			return err
		}
		if err := s.mayWork(ctx, w, r); err != nil {
			return err
		}
		if r.Has(in.Reason) {
			return s.setWorkState(ctx, r, []string{WorkOpen}, WorkSkipped, in.Reason)
		}
		return s.apply(ctx, r, Change{Dimension: FlagDim(in.Reason), To: "on"}, "skipped", in.Note, w.ID, true)
	})
	if err != nil {
		return nil, err
	}
	return s.WorkItem(ctx, workID)
}

// InspectionInput is a supervisor's inspection of a clean room.
type InspectionInput struct {
	Result      string   `json:"result"` // pass, fail
	Score       int      `json:"score"`  // 0–100
	FailedItems []string `json:"failed_items"`
	Reasons     string   `json:"reasons"`
}

// RoomInspection is a recorded inspection.
type RoomInspection struct {
	ID          int64    `json:"id"`
	RoomID      int64    `json:"room_id"`
	WorkID      *int64   `json:"work_id"`
	Passed      bool     `json:"passed"`
	Score       int      `json:"score"`
	FailedItems []string `json:"failed_items"`
	Reasons     string   `json:"reasons"`
}

// Inspect records a supervisor's inspection of a clean room: a pass makes
// it inspected (OK房), a failure sends it back to dirty with the reasons
// and reopens the attendant's work. Needs hk.inspect; EConflict when the
// room is not clean.
func (s *Service) Inspect(ctx context.Context, roomID int64, in InspectionInput) (*RoomInspection, error) {
	var v errs.Validation
	v.MaxLen("result", in.Result, 10)
	v.MaxLen("reasons", in.Reasons, 1000)
	if !v.Has("result") {
		v.OneOf("result", in.Result, "pass", "fail")
	}
	v.Check(in.Score >= 0 && in.Score <= 100, "score", "error.hk.out_of_range")
	if len(in.FailedItems) > 50 {
		v.Add("failed_items", "error.field.too_long")
	}
	for _, f := range in.FailedItems {
		v.MaxLen("failed_items", f, 40)
	}
	if in.Result == "fail" && strings.TrimSpace(in.Reasons) == "" && len(in.FailedItems) == 0 {
		v.Add("reasons", "error.field.required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &RoomInspection{RoomID: roomID, Passed: in.Result == "pass", Score: in.Score, FailedItems: in.FailedItems, Reasons: strings.TrimSpace(in.Reasons)}
	if out.FailedItems == nil {
		out.FailedItems = []string{}
	}
	err := s.tx(ctx, func(ctx context.Context, tx *db.Tx) error {
		r, err := s.visibleRoom(ctx, roomID, true)
		if err != nil {
			return err
		}
		if !can(ctx, auth.PermHKInspect, r.NodePath) {
			return errs.Forbidden()
		}
		t, err := s.roomType(ctx, r.TypeID)
		if err != nil {
			return err
		}
		for _, f := range out.FailedItems {
			if !slices.ContainsFunc(t.Inspection, func(x ChecklistStep) bool { return x.ID == f }) {
				return errs.Invalid("failed_items", "error.field.invalid_choice")
			}
		}
		if r.Cleaning != Clean {
			return transitionError(DimCleaning, r.Cleaning, Inspected, Allowed(r.State, DimCleaning, nil))
		}
		site, err := s.loadSite(ctx, r.SiteID)
		if err != nil {
			return err
		}
		var workID, attendant any
		var wid, aid int64
		err = tx.QueryRowContext(ctx, `SELECT id, COALESCE(attendant_id, 0) FROM hk_work WHERE room_id = ? AND work_date = ? AND clean_type <> 'turndown' ORDER BY id DESC LIMIT 1`,
			r.ID, site.Today(tx.Now)).Scan(&wid, &aid)
		if err != nil && !db.IsNoRows(err) {
			return err
		}
		if wid != 0 {
			workID, out.WorkID = wid, &wid
		}
		if aid != 0 {
			attendant = aid
		}
		var inspector any
		if p := auth.FromContext(ctx); p != nil {
			inspector = p.StaffID
		}
		failed, _ := json.Marshal(out.FailedItems)
		if err := tx.QueryRowContext(ctx, `INSERT INTO hk_inspections (site_id, room_id, work_id, attendant_id, inspector_id, at, passed, score, failed_items, reasons)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, r.SiteID, r.ID, workID, attendant, inspector, db.Ms(tx.Now), out.Passed, in.Score, string(failed), out.Reasons).Scan(&out.ID); err != nil {
			return fmt.Errorf("housekeeping: inspection: %w", err)
		}
		if out.Passed {
			return s.apply(ctx, r, Change{Dimension: DimCleaning, To: Inspected}, "inspected", fmt.Sprint(in.Score), out.ID, true)
		}
		if err := s.apply(ctx, r, Change{Dimension: DimCleaning, To: Dirty}, "inspection_failed", out.Reasons, out.ID, true); err != nil {
			return err
		}
		return s.setWorkState(ctx, r, []string{WorkDone}, WorkOpen, "")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
