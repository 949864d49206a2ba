package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/flow/machine"
)

// JobArgs is the River job that runs a service task.
type JobArgs struct {
	InstanceID int64  `json:"instance_id"`
	JobID      int64  `json:"job_id"`
	Type       string `json:"type"`
	ElementID  string `json:"element_id"`
}

// Kind names the job.
func (JobArgs) Kind() string { return "flow.job" }

type jobWorker struct {
	river.WorkerDefaults[JobArgs]
	e *Engine
}

// Work runs the handler, then completes or fails the machine's job in a
// transaction of its own. A handler error is retried by River; on the last
// attempt it becomes an incident on the instance.
func (w *jobWorker) Work(ctx context.Context, j *river.Job[JobArgs]) error {
	e := w.e
	in, err := e.jobInput(ctx, j.Args)
	if err != nil {
		if c := errs.CodeOf(err); c == errs.ENotFound || c == errs.EConflict {
			return nil // the instance ended or the job was withdrawn
		}
		return err
	}
	e.mu.RLock()
	h := e.handlers[j.Args.Type]
	e.mu.RUnlock()
	if h == nil {
		return e.failJob(ctx, j.Args, "", fmt.Sprintf("no handler for job type %q", j.Args.Type))
	}
	vars, herr := h(ctx, *in)
	var be *BPMNError
	switch {
	case herr == nil:
		err = e.apply(ctx, j.Args.InstanceID, func(m *machine.Machine, l *loaded, now time.Time) (*machine.State, []machine.Effect, error) {
			return m.CompleteJob(l.def.Model, l.state, j.Args.JobID, vars, now)
		}, nil)
	case errors.As(herr, &be):
		err = e.failJob(ctx, j.Args, be.Code, be.Message)
	case j.Attempt >= j.MaxAttempts:
		err = e.failJob(ctx, j.Args, "", herr.Error())
	default:
		return herr
	}
	if c := errs.CodeOf(err); c == errs.ENotFound || (c == errs.EConflict && !isIncident(err)) {
		return nil
	}
	return err
}

func isIncident(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Key == "error.flow.incident"
}

func (e *Engine) failJob(ctx context.Context, a JobArgs, code, msg string) error {
	return e.apply(ctx, a.InstanceID, func(m *machine.Machine, l *loaded, now time.Time) (*machine.State, []machine.Effect, error) {
		return m.FailJob(l.def.Model, l.state, a.JobID, code, msg, now)
	}, nil)
}

// jobInput reads what a handler sees, checking the job is still waited for.
func (e *Engine) jobInput(ctx context.Context, a JobArgs) (*Job, error) {
	in := &Job{InstanceID: a.InstanceID, JobID: a.JobID, Type: a.Type, ElementID: a.ElementID}
	inst, st, def, err := e.snapshot(ctx, a.InstanceID)
	if err != nil {
		return nil, err
	}
	if inst.State != string(machine.StatusActive) || st.Token(a.JobID) == nil {
		return nil, errs.NotFound("error.flow.not_waiting")
	}
	in.Variables, in.BusinessKey = st.Vars, inst.BusinessKey
	if el := def.Model.Elements[a.ElementID]; el != nil && el.Job != nil {
		in.Headers = el.Job.Headers
	}
	return in, nil
}
