package cases

import (
	"context"
	"errors"

	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/errs"
)

// maxBatch bounds a batch dispatch.
const maxBatch = 100

// DispatchManyInput dispatches several cases to one person or one
// department queue.
type DispatchManyInput struct {
	CaseIDs      []int64 `json:"case_ids"`
	AssigneeID   int64   `json:"assignee_id,omitempty"`
	DepartmentID int64   `json:"department_id,omitempty"`
	Reason       string  `json:"reason,omitempty"`
}

// Dispatched answers a batch dispatch.
type Dispatched struct {
	Cases []Case `json:"cases"`
}

// DispatchMany dispatches the cases in one transaction, all or nothing: a
// case that cannot be dispatched (its state, the caller's rights, a target
// outside its site) fails the batch with that case's error code (EInvalid
// on case_ids for a case the caller cannot see) and "error.case.batch_item"
// naming its place and id, and nothing changes.
func (s *Service) DispatchMany(ctx context.Context, in DispatchManyInput) (*Dispatched, error) {
	var v errs.Validation
	v.Check(len(in.CaseIDs) > 0, "case_ids", "error.field.required")
	v.Check(len(in.CaseIDs) <= maxBatch, "case_ids", "error.field.too_long")
	seen := map[int64]bool{}
	for _, id := range in.CaseIDs {
		if id <= 0 || seen[id] {
			v.Add("case_ids", "error.field.unknown_id")
			break
		}
		seen[id] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	act := ActionInput{AssigneeID: in.AssigneeID, DepartmentID: in.DepartmentID, Reason: in.Reason}
	if err := validateAction(ActDispatch, &act); err != nil {
		return nil, err
	}
	out := &Dispatched{Cases: []Case{}}
	err := s.db.WithTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for i, id := range in.CaseIDs {
			c, err := s.Do(ctx, id, ActDispatch, act)
			if err != nil {
				var e *errs.Error
				if !errors.As(err, &e) {
					return err
				}
				out := &errs.Error{Code: e.Code, Key: "error.case.batch_item", Args: map[string]any{"n": i + 1, "id": id}, Fields: e.Fields}
				if e.Code == errs.ENotFound { // an unknown or unseen case is bad input naming the list
					out.Code, out.Fields = errs.EInvalid, map[string]string{"case_ids": "error.field.unknown_id"}
				}
				return out
			}
			out.Cases = append(out.Cases, *c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
