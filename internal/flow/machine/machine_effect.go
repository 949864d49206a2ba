package machine

import "time"

// Effect is something the runtime must do or record, in the same
// transaction as the new state. Effects are plain structs; switch on type.
type Effect interface{ effect() }

// TaskCreated asks for a human task row. TokenID is the task id.
type TaskCreated struct {
	TokenID         int64
	ElementID       string
	Name            string
	Assignee        string
	CandidateUsers  []string
	CandidateGroups []string
	DueAt           time.Time // zero when none
	FollowUpAt      time.Time // zero when none
	Priority        int       // 0 when not set
	FormKey         string
	MIIndex         int // loopCounter of a multi-instance task; -1 otherwise
}

// TaskCancelled withdraws an open task (boundary event, terminate, cancel).
type TaskCancelled struct {
	TokenID   int64
	ElementID string
}

// TimerScheduled asks the runtime to call FireTimer(ID) at At.
type TimerScheduled struct {
	ID        int64
	ElementID string
	TokenID   int64
	At        time.Time
}

// TimerCancelled withdraws a scheduled timer.
type TimerCancelled struct {
	ID        int64
	ElementID string
	TokenID   int64
}

// SubscriptionOpened registers a wait for a message; the runtime calls
// CorrelateMessage(ID) when a message of that name and key arrives.
type SubscriptionOpened struct {
	ID             int64
	ElementID      string
	TokenID        int64
	MessageName    string
	CorrelationKey string
}

// SubscriptionClosed withdraws a subscription.
type SubscriptionClosed struct {
	ID        int64
	ElementID string
	TokenID   int64
}

// JobRequested asks the runtime to run a handler of Type asynchronously and
// call CompleteJob or FailJob with JobID.
type JobRequested struct {
	JobID     int64
	ElementID string
	Type      string
	Headers   map[string]string // shared with the definition: do not modify
	Retries   int
	MIIndex   int // -1 when not a multi-instance
}

// JobCancelled withdraws a job not yet completed.
type JobCancelled struct {
	JobID     int64
	ElementID string
}

// IncidentRaised records a technical job failure (FailJob without a BPMN
// error code); the job stays open until RetryJob or Cancel.
type IncidentRaised struct {
	JobID     int64
	ElementID string
	Message   string
}

// ElementStarted is history: a flow node instance began.
type ElementStarted struct {
	ID        int64 // the activity instance id; equals the token id of waiting nodes
	ElementID string
	Kind      string
	Scope     int64
}

// ElementCompleted is history: a flow node instance finished normally.
type ElementCompleted struct {
	ID        int64
	ElementID string
}

// ElementCancelled is history: a flow node instance was interrupted.
type ElementCancelled struct {
	ID        int64
	ElementID string
}

// VariableChange is one variable's change; Existed is false when Before
// was unset.
type VariableChange struct {
	Name    string
	Before  any
	After   any
	Existed bool
}

// VariablesChanged is history: process variables were set.
type VariablesChanged struct {
	Changes []VariableChange
}

// InstanceEnded is history: the instance reached a final status.
type InstanceEnded struct {
	Status Status
	Reason string
}

func (TaskCreated) effect()        {}
func (TaskCancelled) effect()      {}
func (TimerScheduled) effect()     {}
func (TimerCancelled) effect()     {}
func (SubscriptionOpened) effect() {}
func (SubscriptionClosed) effect() {}
func (JobRequested) effect()       {}
func (JobCancelled) effect()       {}
func (IncidentRaised) effect()     {}
func (ElementStarted) effect()     {}
func (ElementCompleted) effect()   {}
func (ElementCancelled) effect()   {}
func (VariablesChanged) effect()   {}
func (InstanceEnded) effect()      {}
