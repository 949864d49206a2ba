// Package machine is the pure, deterministic execution core of the flow
// engine. Given a definition, an instance State and an event, it returns
// the new State and the Effects the runtime must persist and carry out in
// the same transaction. It performs no I/O, never reads the clock (now is
// passed in) and never modifies the State it is given.
//
// Semantics chosen:
//   - Variables are one process-level map of JSON values. Numbers are
//     float64 (what encoding/json gives back), so a state is the same
//     before and after a round-trip; integers beyond 2^53 lose precision,
//     so keep ids in strings. Incoming variables are normalised at entry.
//   - Multi-instance instances see loopCounter, their element variable and
//     nrOfInstances / nrOfCompletedInstances / nrOfActiveInstances as
//     locals; variables set on completion go to the process level.
//   - An exclusive gateway takes the first outgoing flow, in document
//     order, whose condition is true; a flow without a condition counts as
//     true (Camunda 7). The default flow is taken only when no other is.
//     No flow → *IncidentError and the event is refused.
//   - Flows leaving an activity: every unconditioned flow and every flow
//     whose condition holds; the default flow only if none of them.
//   - An error (error end event, or FailJob with a code) is caught by the
//     nearest enclosing activity with a matching error boundary (a boundary
//     without a code catches all); uncaught, the instance fails.
//   - A terminate end event ends its scope: the whole instance at process
//     level, only the enclosing sub-process inside one.
//   - Each event runs at most Options.MaxSteps node entries; beyond that it
//     returns ErrStepLimit (a loop without a wait state).
//
// On any error the returned state is nil: keep the old one.
package machine

import (
	"errors"
	"fmt"
	"time"

	"github.com/guanjia/guanjia/internal/flow/model"
)

// Errors returned by the event functions; test with errors.Is.
var (
	ErrNotFound   = errors.New("machine: no such task, job, timer or subscription")
	ErrNotActive  = errors.New("machine: instance is not active")
	ErrStepLimit  = errors.New("machine: step limit exceeded (loop without a wait state?)")
	ErrNoStart    = errors.New("machine: no start event")
	ErrBadVars    = errors.New("machine: variables are not JSON values")
	ErrDefinition = errors.New("machine: state does not belong to this definition")
)

// IncidentError means the process cannot continue as modelled: no gateway
// branch applies, or an expression failed. The event is refused.
type IncidentError struct {
	ElementID string
	Reason    string
	Err       error
}

func (e *IncidentError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("machine: incident at %s: %s: %v", e.ElementID, e.Reason, e.Err)
	}
	return fmt.Sprintf("machine: incident at %s: %s", e.ElementID, e.Reason)
}

func (e *IncidentError) Unwrap() error { return e.Err }

// DueResolver turns a time value into an instant. The runtime injects one
// that knows business calendars; spec.Business says whether to use it.
type DueResolver interface {
	// Resolve returns the instant a duration, date or the next firing of a
	// cycle falls on, seen from now; an error for a value it cannot read.
	Resolve(now time.Time, spec model.TimerSpec) (time.Time, error)
}

// Options configure a Machine.
type Options struct {
	Resolver DueResolver // nil: CalendarResolver (plain calendar time)
	MaxSteps int         // node entries per event; 0: 10,000
}

// Machine runs events. It holds only configuration and is safe for
// concurrent use.
type Machine struct {
	resolver DueResolver
	maxSteps int
}

// New returns a Machine with the options' defaults filled in.
func New(opts Options) *Machine {
	m := &Machine{resolver: opts.Resolver, maxSteps: opts.MaxSteps}
	if m.resolver == nil {
		m.resolver = CalendarResolver{}
	}
	if m.maxSteps <= 0 {
		m.maxSteps = 10000
	}
	return m
}

// StartOptions choose where an instance starts.
type StartOptions struct {
	ProcessID    string // "" = def.DefaultProcess()
	StartEventID string // "" = the none start event, else the first one
}

// Start starts an instance of the default process at its none start event.
// See StartAt for failures.
func (m *Machine) Start(def *model.Definition, vars map[string]any, now time.Time) (*State, []Effect, error) {
	return m.StartAt(def, StartOptions{}, vars, now)
}

// StartAt starts an instance at a chosen process and start event (message
// and timer start events are triggered by the runtime this way). It returns
// ErrNoStart when there is no such start event, ErrBadVars for variables
// that are not JSON values, and the errors of running the first steps.
func (m *Machine) StartAt(def *model.Definition, opts StartOptions, vars map[string]any, now time.Time) (*State, []Effect, error) {
	p := def.DefaultProcess()
	if opts.ProcessID != "" {
		p = def.Process(opts.ProcessID)
	}
	if p == nil {
		return nil, nil, fmt.Errorf("%w: process %q", ErrNoStart, opts.ProcessID)
	}
	start := p.DefaultStart()
	if opts.StartEventID != "" {
		start = def.Elements[opts.StartEventID]
	}
	if start == nil || start.Kind != model.KindStartEvent || start.ProcessID != p.ID || start.Parent != nil {
		return nil, nil, fmt.Errorf("%w: %q in process %q", ErrNoStart, opts.StartEventID, p.ID)
	}
	st := &State{DefinitionKey: def.Key, DefinitionVersion: def.Version, ProcessID: p.ID, Status: StatusActive, Vars: map[string]any{}}
	r := m.newRun(def, st, now)
	if err := r.setVars(vars); err != nil {
		return nil, nil, err
	}
	r.push(start, 0, nil)
	return r.finish()
}

// CompleteTask completes the user task whose id is taskID, setting vars
// first. It returns ErrNotFound when no such open task exists, ErrNotActive
// for an ended instance, *IncidentError when the process cannot continue.
func (m *Machine) CompleteTask(def *model.Definition, st *State, taskID int64, vars map[string]any, now time.Time) (*State, []Effect, error) {
	return m.complete(def, st, taskID, TokenTask, vars, now)
}

// CompleteJob completes the job jobID with its output variables. Errors as
// for CompleteTask.
func (m *Machine) CompleteJob(def *model.Definition, st *State, jobID int64, vars map[string]any, now time.Time) (*State, []Effect, error) {
	return m.complete(def, st, jobID, TokenJob, vars, now)
}

func (m *Machine) complete(def *model.Definition, st *State, id int64, kind TokenKind, vars map[string]any, now time.Time) (*State, []Effect, error) {
	r, err := m.begin(def, st, now)
	if err != nil {
		return nil, nil, err
	}
	tok := r.st.Token(id)
	if tok == nil || tok.Kind != kind {
		return nil, nil, fmt.Errorf("%w: %s %d", ErrNotFound, kind, id)
	}
	if err := r.setVars(vars); err != nil {
		return nil, nil, err
	}
	r.completeToken(tok)
	return r.finish()
}

// FailJob reports a failed job. With a BPMN errorCode the error is thrown
// from the job's activity (caught by a boundary, else the instance fails).
// Without one it is a technical failure: the job stays open and an
// IncidentRaised effect is returned. Errors as for CompleteTask.
func (m *Machine) FailJob(def *model.Definition, st *State, jobID int64, errorCode, message string, now time.Time) (*State, []Effect, error) {
	r, err := m.begin(def, st, now)
	if err != nil {
		return nil, nil, err
	}
	tok := r.st.Token(jobID)
	if tok == nil || tok.Kind != TokenJob {
		return nil, nil, fmt.Errorf("%w: job %d", ErrNotFound, jobID)
	}
	if errorCode == "" {
		r.emit(IncidentRaised{JobID: jobID, ElementID: tok.Element, Message: message})
		return r.finish()
	}
	r.throwError(tok, errorCode, message)
	return r.finish()
}

// RetryJob requests an open job again after an incident. Errors as for
// CompleteTask.
func (m *Machine) RetryJob(def *model.Definition, st *State, jobID int64, now time.Time) (*State, []Effect, error) {
	r, err := m.begin(def, st, now)
	if err != nil {
		return nil, nil, err
	}
	tok := r.st.Token(jobID)
	if tok == nil || tok.Kind != TokenJob {
		return nil, nil, fmt.Errorf("%w: job %d", ErrNotFound, jobID)
	}
	r.requestJob(tok, r.def.Elements[tok.Element])
	return r.finish()
}

// FireTimer fires the timer timerID. It returns ErrNotFound for a timer
// that is not scheduled (already fired or cancelled: the runtime may drop
// the call), and otherwise errors as for CompleteTask.
func (m *Machine) FireTimer(def *model.Definition, st *State, timerID int64, now time.Time) (*State, []Effect, error) {
	r, err := m.begin(def, st, now)
	if err != nil {
		return nil, nil, err
	}
	if err := r.fireTimer(timerID); err != nil {
		return nil, nil, err
	}
	return r.finish()
}

// CorrelateMessage delivers a message, with its payload vars, to the
// subscription subID. Errors as for FireTimer.
func (m *Machine) CorrelateMessage(def *model.Definition, st *State, subID int64, vars map[string]any, now time.Time) (*State, []Effect, error) {
	r, err := m.begin(def, st, now)
	if err != nil {
		return nil, nil, err
	}
	if err := r.correlate(subID, vars); err != nil {
		return nil, nil, err
	}
	return r.finish()
}

// Cancel ends an active instance: every task, job, timer and subscription
// is withdrawn. It returns ErrNotActive when the instance already ended.
func (m *Machine) Cancel(def *model.Definition, st *State, reason string, now time.Time) (*State, []Effect, error) {
	r, err := m.begin(def, st, now)
	if err != nil {
		return nil, nil, err
	}
	r.end(StatusCancelled, reason)
	return r.finish()
}

func (m *Machine) begin(def *model.Definition, st *State, now time.Time) (*run, error) {
	if st == nil || st.Status != StatusActive {
		return nil, ErrNotActive
	}
	if st.DefinitionKey != def.Key || def.Process(st.ProcessID) == nil {
		return nil, ErrDefinition
	}
	return m.newRun(def, st.clone(), now), nil
}
