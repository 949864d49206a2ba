package cases

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/notify"
	"github.com/guanjia/guanjia/internal/sla"
)

// dispatch sends the job to a person or a department's queue (抢单 pool).
// On a case already dispatched it is a transfer, which needs a reason.
func (s *Service) dispatch(ctx context.Context, tx *db.Tx, c *Case, in ActionInput) error {
	transfer := c.State == StateDispatched || c.State == StateAccepted
	if transfer && in.Reason == "" {
		return errs.Invalid("reason", "error.case.transfer_reason")
	}
	var target string
	var assignee, dep any
	var path string
	if in.AssigneeID != 0 {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT node_path, status FROM staff WHERE id = ?`, in.AssigneeID).Scan(&path, &status)
		if err != nil || status == "left" {
			return errs.Invalid("assignee_id", "error.field.unknown_id")
		}
		assignee, target = in.AssigneeID, strconv.FormatInt(in.AssigneeID, 10)
	} else {
		err := tx.QueryRowContext(ctx, `SELECT n.path FROM departments d JOIN org_nodes n ON n.id = d.node_id WHERE d.id = ?`, in.DepartmentID).Scan(&path)
		if err != nil {
			return errs.Invalid("department_id", "error.field.unknown_id")
		}
		dep, target = in.DepartmentID, "dept:"+strconv.FormatInt(in.DepartmentID, 10)
	}
	// The job goes to someone within reach of the case's site.
	if !sameSite(path, c.NodePath) {
		field := "assignee_id"
		if in.AssigneeID == 0 {
			field = "department_id"
		}
		return errs.Invalid(field, "error.case.target_elsewhere")
	}
	now := db.Ms(tx.Now)
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET state = ?, assignee_id = ?, department_id = ?, dispatched_at = ?, accepted_at = NULL,
		acknowledged_at = COALESCE(acknowledged_at, ?) WHERE id = ?`, StateDispatched, assignee, dep, now, now, c.ID); err != nil {
		return err
	}
	if c.State == StateNew {
		if err := s.completeStep(ctx, tx, c, "acknowledge", nil); err != nil {
			return err
		}
		if err := s.signalCase(ctx, c, "acknowledged"); err != nil {
			return err
		}
		if err := s.signalCase(ctx, c, "responded"); err != nil {
			return err
		}
	}
	handle, err := s.openTask(ctx, tx, c, "handle")
	if err != nil {
		return err
	}
	vars := map[string]any{}
	if in.AssigneeID != 0 {
		vars["technician"] = target
	} else {
		vars["team"] = target
	}
	sys := system(ctx)
	switch {
	case handle != 0 && in.AssigneeID != 0:
		err = s.flow.Assign(sys, handle, flow.AssignInput{AssigneeID: in.AssigneeID, Reason: firstNonEmpty(in.Reason, "dispatch")})
	case handle != 0:
		_, err = s.flow.Dispatch(sys, flow.DispatchInput{TaskIDs: []int64{handle}, TeamID: in.DepartmentID})
	default:
		err = s.completeStep(ctx, tx, c, "dispatch", vars)
	}
	if err != nil {
		return err
	}
	if s.sla != nil {
		var holder *int64
		if in.AssigneeID != 0 {
			holder = &in.AssigneeID
		}
		if err := s.sla.Assign(ctx, subject(c.ID), holder); err != nil {
			return err
		}
	}
	if in.AssigneeID != 0 && s.notify != nil {
		if err := s.notify.Notify(ctx, notify.Note{RecipientID: in.AssigneeID, Kind: "case.dispatched", Subject: subject(c.ID), Link: caseLink(c.ID),
			Params: map[string]any{"number": c.Number, "unit": c.UnitNumber, "description": clip(c.Description, 40)},
			SMS:    true, Urgent: c.Priority == "urgent"}); err != nil {
			return err
		}
	}
	kind := "dispatched"
	if transfer {
		kind = "transferred"
	}
	return s.event(ctx, tx, c.ID, kind, map[string]any{"assignee_id": assignee, "department_id": dep, "reason": in.Reason})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sameSite reports whether two org paths share their first three levels
// (company, region or site): staff are dispatched within the site.
func sameSite(a, b string) bool {
	return prefixN(a, 3) == prefixN(b, 3) || (len(a) <= len(b) && b[:len(a)] == a)
}

func prefixN(path string, n int) string {
	count := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			count++
			if count == n+1 {
				return path[:i+1]
			}
		}
	}
	return path
}

// complete records the work done, closes the technician's step, texts the
// resident and opens the return visit for the butler.
func (s *Service) complete(ctx context.Context, tx *db.Tx, c *Case, in ActionInput) error {
	if c.CategoryID != nil {
		if cat, err := s.Category(ctx, *c.CategoryID); err == nil && cat.NeedsSignature && in.Signature == "" && !in.OnBehalf && c.Area == "home" {
			return errs.Invalid("signature", "error.case.signature_required")
		}
	}
	files := append([]string{}, in.Photos...)
	if in.Signature != "" {
		files = append(files, in.Signature)
	}
	for i, key := range files {
		kind, field := "completion", "photos"
		if in.Signature != "" && i == len(files)-1 {
			kind, field = "signature", "signature"
		}
		if err := s.attach(ctx, tx, c.ID, key, kind, field); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET state = ?, completed_at = ?, materials = ?, labour_minutes = ?, paused = FALSE WHERE id = ?`,
		StateCompleted, db.Ms(tx.Now), in.Materials, in.LabourMinutes, c.ID); err != nil {
		return err
	}
	if err := s.completeStep(ctx, tx, c, "handle", map[string]any{"note": in.Note, "labour_minutes": in.LabourMinutes}); err != nil {
		return err
	}
	for _, ev := range []string{"feedback_given", "resolved"} {
		if err := s.signalCase(ctx, c, ev); err != nil {
			return err
		}
	}
	if s.notify != nil {
		if phone := s.contactPhone(ctx, c.ID); phone != "" {
			if err := s.notify.TextPhone(ctx, phone, "case.completed", map[string]any{"number": c.Number}); err != nil {
				return err
			}
		}
		if err := s.notifyButler(ctx, c, "case.visit_due", nil); err != nil {
			return err
		}
	}
	for _, h := range s.completed {
		if err := h(ctx, c, in.Note); err != nil {
			return err
		}
	}
	return s.event(ctx, tx, c.ID, "completed", map[string]any{"note": in.Note, "materials": in.Materials, "labour_minutes": in.LabourMinutes,
		"photos": len(in.Photos), "signed": in.Signature != "", "on_behalf": in.OnBehalf})
}

// attach links an uploaded blob (by key) to the case. The upload itself
// went through the files endpoint, which checked type and size.
func (s *Service) attach(ctx context.Context, tx *db.Tx, caseID int64, key, kind, field string) error {
	var ct string
	var size int64
	err := tx.QueryRowContext(ctx, `SELECT content_type, size FROM case_files WHERE blob_key = ? AND case_id = ? LIMIT 1`, key, caseID).Scan(&ct, &size)
	if db.IsNoRows(err) {
		return errs.Invalid(field, "error.field.unknown_id")
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE case_files SET kind = ? WHERE blob_key = ? AND case_id = ?`, kind, key, caseID)
	return err
}

// visit records the return visit. A happy one closes the case; an unhappy
// one sends the work back to the technician (and, for a repair, opens a
// complaint when the attitude scored lowest).
func (s *Service) visit(ctx context.Context, tx *db.Tx, c *Case, in ActionInput) error {
	happy := in.Speed >= 3 && in.Quality >= 3 && in.Attitude >= 3
	p := auth.FromContext(ctx)
	var by any
	if p != nil {
		by = p.StaffID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_visits (case_id, method, speed, quality, attitude, comment, happy, visited_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, in.Method, in.Speed, in.Quality, in.Attitude, in.Comment, happy, by, db.Ms(tx.Now)); err != nil {
		return err
	}
	score := (in.Speed + in.Quality + in.Attitude + 1) / 3
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET satisfaction = ? WHERE id = ?`, score, c.ID); err != nil {
		return err
	}
	if err := s.completeStep(ctx, tx, c, "visit", map[string]any{"happy": happy, "satisfaction": score}); err != nil {
		return err
	}
	if err := s.signalCase(ctx, c, "visited"); err != nil {
		return err
	}
	if err := s.event(ctx, tx, c.ID, "visited", map[string]any{"method": in.Method, "speed": in.Speed, "quality": in.Quality, "attitude": in.Attitude, "comment": in.Comment, "happy": happy}); err != nil {
		return err
	}
	if happy {
		_, err := tx.ExecContext(ctx, `UPDATE cases SET state = ?, closed_at = ? WHERE id = ?`, StateClosed, db.Ms(tx.Now), c.ID)
		if err == nil && s.sla != nil {
			_, err = s.sla.Cancel(ctx, subject(c.ID))
		}
		return err
	}
	return s.back(ctx, tx, c, "unhappy visit")
}

// back returns a completed case to its technician: the process's unhappy
// branch has already opened their step again.
func (s *Service) back(ctx context.Context, tx *db.Tx, c *Case, why string) error {
	state := StateAccepted
	if c.AssigneeID == nil {
		state = StateDispatched
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET state = ?, reopened = reopened + 1, completed_at = NULL, arrived_at = NULL WHERE id = ?`, state, c.ID); err != nil {
		return err
	}
	if s.sla != nil {
		// The work starts again: the resident is owed feedback and a
		// resolution anew; the first response was given once and stays.
		if _, err := s.sla.Reopen(ctx, subject(c.ID), sla.MetricNextUpdate, sla.MetricResolution); err != nil {
			return err
		}
		if err := s.refreshDue(ctx, c.ID); err != nil {
			return err
		}
	}
	if c.AssigneeID != nil && s.notify != nil {
		if err := s.notify.Notify(ctx, notify.Note{RecipientID: *c.AssigneeID, Kind: "case.reopened", Subject: subject(c.ID), Link: caseLink(c.ID),
			Params: map[string]any{"number": c.Number, "reason": why}, SMS: true}); err != nil {
			return err
		}
	}
	return s.event(ctx, tx, c.ID, "back_to_work", map[string]any{"reason": why})
}

// reopen sends a completed case back before its visit (the resident called
// to say it is not fixed).
func (s *Service) reopen(ctx context.Context, tx *db.Tx, c *Case, reason string) error {
	if err := s.completeStep(ctx, tx, c, "visit", map[string]any{"happy": false, "reopened": true}); err != nil {
		return err
	}
	return s.back(ctx, tx, c, reason)
}

// close ends a case without (more) work: an inquiry answered on the phone,
// a completed case whose visit is waived. The process instance is ended.
func (s *Service) close(ctx context.Context, tx *db.Tx, c *Case, reason string) error {
	if reason == "" {
		reason = "closed"
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET state = ?, closed_at = ?, paused = FALSE WHERE id = ?`, StateClosed, db.Ms(tx.Now), c.ID); err != nil {
		return err
	}
	if c.InstanceID != nil {
		var st string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM flow_instances WHERE id = ?`, *c.InstanceID).Scan(&st); err != nil && err != sql.ErrNoRows {
			return err
		}
		if st == "active" {
			if err := s.flow.CancelInstance(system(ctx), *c.InstanceID, "case closed: "+reason); err != nil {
				return err
			}
		}
	}
	if s.sla != nil {
		if _, err := s.sla.Cancel(ctx, subject(c.ID)); err != nil {
			return err
		}
	}
	return nil
}
