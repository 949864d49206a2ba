package cases

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/notify"
)

// ActionInput carries every action's fields; each action reads its own.
type ActionInput struct {
	AssigneeID    int64    `json:"assignee_id,omitempty"`   // dispatch
	DepartmentID  int64    `json:"department_id,omitempty"` // dispatch to a queue
	Reason        string   `json:"reason,omitempty"`        // pause, return, transfer, reopen, close, remind
	Note          string   `json:"note,omitempty"`          // acknowledge, complete
	Photos        []string `json:"photos,omitempty"`        // complete: blob keys from uploads
	Materials     string   `json:"materials,omitempty"`     // complete
	LabourMinutes int      `json:"labour_minutes,omitempty"`
	Signature     string   `json:"signature,omitempty"` // complete: blob key of the resident's signature
	OnBehalf      bool     `json:"on_behalf,omitempty"` // complete: 强制回单 by a supervisor
	Method        string   `json:"method,omitempty"`    // visit: phone, visit, portal
	Speed         int      `json:"speed,omitempty"`
	Quality       int      `json:"quality,omitempty"`
	Attitude      int      `json:"attitude,omitempty"`
	Comment       string   `json:"comment,omitempty"`
}

// actionPerm is the permission each action needs on the case's subtree;
// some are also open to the people on the case (see mayAct).
var actionPerm = map[string]auth.Perm{
	ActAcknowledge: auth.PermCaseDispatch, ActDispatch: auth.PermCaseDispatch, ActRemind: auth.PermCaseDispatch,
	ActClaim: auth.PermCaseWork, ActReturn: auth.PermCaseWork, ActArrive: auth.PermCaseWork, ActComplete: auth.PermCaseWork,
	ActPause: auth.PermCaseWork, ActResume: auth.PermCaseWork,
	ActVisit: auth.PermCaseVisit, ActReopen: auth.PermCaseVisit, ActClose: auth.PermCaseVisit,
}

// Do applies an action to a case. It fails with ENotFound when the case is
// not visible to the caller, EConflict "error.case.wrong_state" (with the
// allowed actions) when the case's state does not accept it, EForbidden
// when the caller may not, EInvalid for bad fields; in each case nothing
// changes.
func (s *Service) Do(ctx context.Context, id int64, act string, in ActionInput) (*Case, error) {
	if _, ok := actionPerm[act]; !ok {
		return nil, errs.NotFound("error.not_found")
	}
	if err := validateAction(act, &in); err != nil {
		return nil, err
	}
	var out *Case
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		// Take the row lock first (PostgreSQL); SQLite's write transaction holds it already.
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET updated_at = updated_at WHERE id = ?`, id); err != nil {
			return err
		}
		c, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		p := auth.FromContext(ctx)
		if !s.visible(p, c) {
			return errs.NotFound("error.case.not_found")
		}
		if !isAllowed(c.State, c.Paused, act) {
			return &errs.Error{Code: errs.EConflict, Key: "error.case.wrong_state",
				Args: map[string]any{"state": c.State, "paused": c.Paused, "allowed": Allowed(c.State, c.Paused)}}
		}
		if err := s.mayAct(ctx, p, c, act, &in); err != nil {
			return err
		}
		if err := s.apply(ctx, tx, c, act, in); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, db.Ms(tx.Now), id); err != nil {
			return err
		}
		if out, err = s.load(ctx, tx, id); err != nil {
			return err
		}
		s.publish(ctx, out, "case."+act)
		return nil
	})
	return out, err
}

func validateAction(act string, in *ActionInput) error {
	var v errs.Validation
	in.Reason, in.Note, in.Comment, in.Materials = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Note), strings.TrimSpace(in.Comment), strings.TrimSpace(in.Materials)
	v.MaxLen("reason", in.Reason, 500)
	v.MaxLen("note", in.Note, 2000)
	v.MaxLen("comment", in.Comment, 2000)
	v.MaxLen("materials", in.Materials, 1000)
	switch act {
	case ActDispatch:
		if (in.AssigneeID == 0) == (in.DepartmentID == 0) {
			v.Add("assignee_id", "error.case.dispatch_target")
			if in.DepartmentID != 0 {
				v.Add("department_id", "error.case.dispatch_target")
			}
		}
	case ActPause, ActReturn, ActReopen, ActClose, ActRemind:
		v.Required("reason", in.Reason)
	case ActComplete:
		v.Required("note", in.Note)
		v.Check(in.Signature == "" || len(in.Signature) == 64, "signature", "error.field.unknown_id")
		v.Check(in.LabourMinutes >= 0 && in.LabourMinutes <= 24*60, "labour_minutes", "error.field.invalid_choice")
		v.Check(len(in.Photos) <= 9, "photos", "error.field.too_long")
		for _, k := range in.Photos {
			v.Check(len(k) == 64, "photos", "error.field.unknown_id")
		}
	case ActVisit:
		v.OneOf("method", in.Method, "phone", "visit", "portal")
		for name, n := range map[string]int{"speed": in.Speed, "quality": in.Quality, "attitude": in.Attitude} {
			v.Check(n >= 1 && n <= 5, name, "error.case.score_range")
		}
	}
	return v.Err()
}

// visible: the case's subtree with case.view, or the people on it.
func (s *Service) visible(p *auth.Principal, c *Case) bool {
	if p == nil || p.Can(auth.PermCaseView, c.NodePath) {
		return true
	}
	return (c.AssigneeID != nil && *c.AssigneeID == p.StaffID) || (c.ButlerID != nil && *c.ButlerID == p.StaffID)
}

// MayFollow is the live stream's rule for "case:<id>" topics: the people
// who may see the case may follow its changes.
func (s *Service) MayFollow(ctx context.Context, p *auth.Principal, rest string) bool {
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || p == nil {
		return false
	}
	c, err := s.load(ctx, s.db.Q(ctx), id)
	return err == nil && s.visible(p, c)
}

// mayAct checks the caller's right to an action on this case: the action's
// permission on the subtree, and for a technician's steps being the one who
// holds the job (or a supervisor with case.force, recorded as on behalf).
func (s *Service) mayAct(ctx context.Context, p *auth.Principal, c *Case, act string, in *ActionInput) error {
	if p == nil {
		return nil
	}
	perm := actionPerm[act]
	mine := c.AssigneeID != nil && *c.AssigneeID == p.StaffID
	switch act {
	case ActClaim:
		if c.AssigneeID != nil && !mine {
			return errs.New(errs.EConflict, "error.case.taken")
		}
		if c.AssigneeID == nil && c.DepartmentID != nil && !s.inDepartment(ctx, p.StaffID, *c.DepartmentID) && !p.Can(auth.PermCaseDispatch, c.NodePath) {
			return errs.Forbidden()
		}
		if !p.Can(perm, c.NodePath) && !mine {
			return errs.Forbidden()
		}
		return nil
	case ActArrive, ActComplete, ActReturn:
		if mine && p.CanAnywhere(perm) {
			return nil
		}
		if act != ActReturn && p.Can(auth.PermCaseForce, c.NodePath) {
			in.OnBehalf = true
			return nil
		}
		return errs.New(errs.EForbidden, "error.case.not_your_job")
	case ActPause, ActResume:
		if (mine && p.CanAnywhere(perm)) || p.Can(auth.PermCaseDispatch, c.NodePath) {
			return nil
		}
		return errs.Forbidden()
	}
	if !p.Can(perm, c.NodePath) {
		return errs.Forbidden()
	}
	return nil
}

func (s *Service) inDepartment(ctx context.Context, staffID, dep int64) bool {
	var n int
	_ = s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM staff WHERE id = ? AND department_id = ?`, staffID, dep).Scan(&n)
	return n > 0
}

// system is ctx without the caller: the case has checked the rights, and
// drives its process's tasks itself.
func system(ctx context.Context) context.Context { return auth.WithPrincipal(ctx, nil) }

// openTask returns the open task of the case's process at an element, or 0.
func (s *Service) openTask(ctx context.Context, tx *db.Tx, c *Case, element string) (int64, error) {
	if c.InstanceID == nil {
		return 0, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM flow_tasks WHERE instance_id = ? AND element_id = ? AND state = 'open' ORDER BY id DESC LIMIT 1`, *c.InstanceID, element).Scan(&id)
	if db.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

// completeStep completes the process's task at element, if the process
// (maybe a site's own version) has one there.
func (s *Service) completeStep(ctx context.Context, tx *db.Tx, c *Case, element string, vars map[string]any) error {
	id, err := s.openTask(ctx, tx, c, element)
	if err != nil || id == 0 {
		return err
	}
	return s.flow.Complete(system(ctx), id, vars)
}

func (s *Service) apply(ctx context.Context, tx *db.Tx, c *Case, act string, in ActionInput) error {
	now := db.Ms(tx.Now)
	set := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, `UPDATE cases SET `+q+` WHERE id = ?`, append(args, c.ID)...)
		return err
	}
	sig := func(event string) error { return s.signalCase(ctx, c, event) }
	switch act {
	case ActAcknowledge:
		if err := set(`state = ?, acknowledged_at = ?`, StateAcknowledged, now); err != nil {
			return err
		}
		if err := s.completeStep(ctx, tx, c, "acknowledge", nil); err != nil {
			return err
		}
		if err := sig("acknowledged"); err != nil {
			return err
		}
		if err := sig("responded"); err != nil {
			return err
		}
		return s.event(ctx, tx, c.ID, "acknowledged", map[string]any{"note": in.Note})
	case ActDispatch:
		return s.dispatch(ctx, tx, c, in)
	case ActClaim:
		me := auth.FromContext(ctx)
		var who int64
		if me != nil {
			who = me.StaffID
		} else if c.AssigneeID != nil {
			who = *c.AssigneeID
		}
		if err := set(`state = ?, assignee_id = ?, accepted_at = ?`, StateAccepted, who, now); err != nil {
			return err
		}
		if id, err := s.openTask(ctx, tx, c, "handle"); err != nil {
			return err
		} else if id != 0 {
			if err := s.flow.Assign(system(ctx), id, flow.AssignInput{AssigneeID: who, Reason: "claim"}); err != nil {
				return err
			}
		}
		if s.sla != nil {
			if err := s.sla.Assign(ctx, subject(c.ID), &who); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, c.ID, "accepted", map[string]any{"assignee_id": who})
	case ActReturn:
		if err := set(`state = ?, assignee_id = NULL, department_id = NULL, accepted_at = NULL`, StateAcknowledged); err != nil {
			return err
		}
		if err := s.notifyButler(ctx, c, "case.returned", map[string]any{"reason": in.Reason}); err != nil {
			return err
		}
		return s.event(ctx, tx, c.ID, "returned", map[string]any{"reason": in.Reason})
	case ActArrive:
		if err := set(`state = ?, arrived_at = ?`, StateOnSite, now); err != nil {
			return err
		}
		if err := sig("arrived"); err != nil {
			return err
		}
		return s.event(ctx, tx, c.ID, "arrived", map[string]any{"on_behalf": in.OnBehalf})
	case ActPause:
		if err := set(`paused = TRUE, pause_reason = ?`, in.Reason); err != nil {
			return err
		}
		if s.sla != nil {
			if _, err := s.sla.Pause(ctx, subject(c.ID), pauseState(in.Reason)); err != nil {
				return err
			}
			if err := s.refreshDue(ctx, c.ID); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, c.ID, "paused", map[string]any{"reason": in.Reason})
	case ActResume:
		if err := set(`paused = FALSE, pause_reason = ''`); err != nil {
			return err
		}
		if s.sla != nil {
			if _, err := s.sla.Resume(ctx, subject(c.ID)); err != nil {
				return err
			}
			if err := s.refreshDue(ctx, c.ID); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, c.ID, "resumed", nil)
	case ActComplete:
		return s.complete(ctx, tx, c, in)
	case ActVisit:
		return s.visit(ctx, tx, c, in)
	case ActReopen:
		if err := s.reopen(ctx, tx, c, in.Reason); err != nil {
			return err
		}
		return s.event(ctx, tx, c.ID, "reopened", map[string]any{"reason": in.Reason})
	case ActClose:
		if err := s.close(ctx, tx, c, in.Reason); err != nil {
			return err
		}
		return s.event(ctx, tx, c.ID, "closed", map[string]any{"reason": in.Reason})
	case ActRemind:
		if c.AssigneeID != nil && s.notify != nil {
			if err := s.notify.Notify(ctx, notify.Note{RecipientID: *c.AssigneeID, Kind: "case.remind", Subject: subject(c.ID), Link: caseLink(c.ID),
				Params: map[string]any{"number": c.Number, "reason": in.Reason}, SMS: true}); err != nil {
				return err
			}
		}
		return s.event(ctx, tx, c.ID, "reminded", map[string]any{"reason": in.Reason})
	}
	return fmt.Errorf("cases: unknown action %s", act)
}

func caseLink(id int64) string { return "/cases/" + strconv.FormatInt(id, 10) }

// pauseState maps a pause reason to the SLA pause state it stands for.
func pauseState(reason string) string {
	switch {
	case strings.Contains(reason, "配件") || strings.Contains(strings.ToLower(reason), "part"):
		return "等待配件"
	case strings.Contains(reason, "业主") || strings.Contains(reason, "客户") || strings.Contains(strings.ToLower(reason), "owner"):
		return "等待业主"
	}
	return reason
}

func (s *Service) signalCase(ctx context.Context, c *Case, event string) error {
	// The case's own path (site or building) scopes SLA policies by prefix
	// and finds the calendar by its nearest node.
	l := &location{sitePath: c.NodePath}
	if c.CategoryID != nil {
		if cat, err := s.Category(ctx, *c.CategoryID); err == nil {
			l.category = cat
		}
	}
	return s.signal(ctx, c.ID, event, c.Type, l, c.Priority)
}

func (s *Service) notifyButler(ctx context.Context, c *Case, kind string, params map[string]any) error {
	if c.ButlerID == nil || s.notify == nil {
		return nil
	}
	if params == nil {
		params = map[string]any{}
	}
	params["number"] = c.Number
	return s.notify.Notify(ctx, notify.Note{RecipientID: *c.ButlerID, Kind: kind, Subject: subject(c.ID), Link: caseLink(c.ID), Params: params})
}
