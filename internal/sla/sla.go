// Package sla is the service-level engine: policies say how long a subject
// (a case, a 业扩 application) may take for each metric, counted in working
// time on a business calendar or in elapsed time; a cycle is one run of one
// metric's clock on one subject, with its pauses, its deadline and its
// outcome. Warnings, breaches and the escalation ladder fire through durable
// timers scheduled in the transaction that sets the deadline.
//
// The engine knows nothing of cases: a subject is an opaque string such as
// "case:123", and the domain module calls Start, Pause, Resume, Stop and
// Reopen (or Signal with its own event names) as the subject moves.
//
// Pause arithmetic: a cycle's deadline is the instant at which the counted
// time since started_at, leaving out every paused interval, reaches the
// target. While a cycle is paused it has no deadline; on resume the deadline
// is computed again from the start and the closed pauses, which is the
// resume instant plus the remaining counted time. A pause that begins after
// the deadline does not move it: a breach stays a breach.
package sla

import (
	"encoding/json"
	"time"
)

// Well-known metrics. Policies may name others (业扩 steps).
const (
	MetricFirstResponse = "first_response" // acknowledge
	MetricNextUpdate    = "next_update"    // feedback to the requester
	MetricResolution    = "resolution"
	MetricFollowUp      = "follow_up" // follow-up visit
	MetricOnSite        = "on_site"   // arrival for urgent work
)

// Cycle states. Running and paused cycles are open; the others are closed.
const (
	StateRunning   = "running"
	StatePaused    = "paused"
	StateMet       = "met"  // stopped by the deadline
	StateLate      = "late" // stopped after the deadline
	StateCancelled = "cancelled"
)

// Escalation triggers and the recipients a step may notify.
const (
	OnWarning = "warning"
	OnBreach  = "breach"

	NotifyAssignee   = "assignee"
	NotifySupervisor = "supervisor"
	NotifyManager    = "manager"
)

// TimerKind is the kind of the one timer an open cycle keeps, due at its
// next escalation point.
const TimerKind = "sla.escalate"

// Policy says which subjects it covers and the targets of each metric.
type Policy struct {
	ID      int64  `json:"id"`
	Key     string `json:"key"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// CaseType and Category select subjects; empty matches any.
	CaseType string `json:"case_type"`
	Category string `json:"category"`
	// NodeID limits the policy to an org subtree (a site); nil everywhere.
	NodeID   *int64 `json:"node_id"`
	NodePath string `json:"node_path"`
	// Calendar is the key of the calendar working time is counted on;
	// empty means the subject's site calendar.
	Calendar string   `json:"calendar"`
	Targets  []Target `json:"targets"`
	Ladder   []Step   `json:"ladder"`
	Builtin  bool     `json:"builtin"`
	Version  int64    `json:"version"`
	// UpdatedAt is when the policy last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// PolicyInput is what a caller sets on a policy; the key is kept on update.
type PolicyInput struct {
	Key      string        `json:"key"`
	Name     string        `json:"name"`
	Enabled  bool          `json:"enabled"`
	CaseType string        `json:"case_type"`
	Category string        `json:"category"`
	NodeID   *int64        `json:"node_id"`
	Calendar string        `json:"calendar"`
	Targets  []TargetInput `json:"targets"`
	Ladder   []Step        `json:"ladder"`
}

// TargetInput is a target as a caller writes it; see Target.
type TargetInput struct {
	Metric      string   `json:"metric"`
	Name        string   `json:"name"`
	Priority    string   `json:"priority"`
	Grade       string   `json:"grade"`
	Minutes     int      `json:"minutes"`
	Business    bool     `json:"business"`
	WarnPct     int      `json:"warn_pct"`
	StartEvent  string   `json:"start_event"`
	StopEvent   string   `json:"stop_event"`
	PauseStates []string `json:"pause_states"`
}

// Input returns the policy as an editable input.
func (p Policy) Input() PolicyInput {
	in := PolicyInput{Key: p.Key, Name: p.Name, Enabled: p.Enabled, CaseType: p.CaseType, Category: p.Category, NodeID: p.NodeID,
		Calendar: p.Calendar, Ladder: p.Ladder, Targets: make([]TargetInput, len(p.Targets))}
	for i, t := range p.Targets {
		in.Targets[i] = TargetInput{Metric: t.Metric, Name: t.Name, Priority: t.Priority, Grade: t.Grade, Minutes: t.Minutes, Business: t.Business,
			WarnPct: t.WarnPct, StartEvent: t.StartEvent, StopEvent: t.StopEvent, PauseStates: t.PauseStates}
	}
	return in
}

// policy turns an input into a policy without ids.
func (in PolicyInput) policy() Policy {
	p := Policy{Key: in.Key, Name: in.Name, Enabled: in.Enabled, CaseType: in.CaseType, Category: in.Category, NodeID: in.NodeID,
		Calendar: in.Calendar, Ladder: in.Ladder, Targets: make([]Target, len(in.Targets))}
	if p.Ladder == nil {
		p.Ladder = []Step{}
	}
	for i, t := range in.Targets {
		p.Targets[i] = Target{Metric: t.Metric, Name: t.Name, Priority: t.Priority, Grade: t.Grade, Minutes: t.Minutes, Business: t.Business,
			WarnPct: t.WarnPct, StartEvent: t.StartEvent, StopEvent: t.StopEvent, PauseStates: t.PauseStates}
	}
	return p
}

// Target is one metric's limit for a priority (and class).
type Target struct {
	ID     int64  `json:"id"`
	Metric string `json:"metric"`
	Name   string `json:"name"`
	// Priority and Grade select subjects; empty matches any. Grade is a
	// further class: a property site's service grade (1, 2, 3), a utility
	// application's supply type (single, dual).
	Priority string `json:"priority"`
	Grade    string `json:"grade"`
	// Minutes is the limit: working minutes on the calendar when Business,
	// else elapsed minutes.
	Minutes  int  `json:"minutes"`
	Business bool `json:"business"`
	// WarnPct warns when this share of the limit has run; 0 never warns.
	WarnPct int `json:"warn_pct"`
	// StartEvent and StopEvent are the subject's events that start and stop
	// the clock when the domain module uses Signal.
	StartEvent string `json:"start_event"`
	StopEvent  string `json:"stop_event"`
	// PauseStates are the subject's states that stop the clock.
	PauseStates []string `json:"pause_states"`
}

// Step is one rung of the escalation ladder: On a warning or a breach,
// AfterMinutes (elapsed) later, notify someone. Metric limits the step to
// one metric; empty applies to all.
type Step struct {
	On           string `json:"on"`
	AfterMinutes int    `json:"after_minutes"`
	Notify       string `json:"notify"` // assignee, supervisor, manager, or role:<key>
	Metric       string `json:"metric,omitempty"`
}

// Match describes a subject for choosing its policy and target.
type Match struct {
	CaseType string `json:"case_type"`
	Category string `json:"category"`
	Priority string `json:"priority"`
	Grade    string `json:"grade"`
	// NodePath is the org path of the subject's site ("/1/4/"); it scopes
	// site policies, picks the site calendar and the people to notify.
	NodePath string `json:"node_path"`
}

// Pause is a closed interval during which a cycle's clock stood still.
type Pause struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

// Cycle is one run of one metric's clock on one subject.
type Cycle struct {
	ID            int64      `json:"id"`
	Subject       string     `json:"subject"`
	Metric        string     `json:"metric"`
	Seq           int        `json:"seq"`
	PolicyID      int64      `json:"policy_id"`
	TargetID      *int64     `json:"target_id"`
	Priority      string     `json:"priority"`
	Grade         string     `json:"grade"`
	Calendar      string     `json:"calendar"`
	Business      bool       `json:"business"`
	TargetMinutes int        `json:"target_minutes"`
	WarnPct       int        `json:"warn_pct"`
	PauseStates   []string   `json:"pause_states"`
	NodePath      string     `json:"node_path"`
	HolderID      *int64     `json:"holder_id"`
	State         string     `json:"state"`
	StartedAt     time.Time  `json:"started_at"`
	Pauses        []Pause    `json:"pauses"`
	PausedAt      *time.Time `json:"paused_at"`
	PauseReason   string     `json:"pause_reason,omitempty"`
	WarnAt        *time.Time `json:"warn_at"`
	DueAt         *time.Time `json:"due_at"`
	NextEscalAt   *time.Time `json:"next_escalation_at"`
	WarnedAt      *time.Time `json:"warned_at"`
	BreachedAt    *time.Time `json:"breached_at"`
	MetAt         *time.Time `json:"met_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	StepsDone     int64      `json:"steps_done"`
	Rev           int64      `json:"rev"`
	// Joined for boards.
	HolderName string `json:"holder_name,omitempty"`
	PolicyName string `json:"policy_name,omitempty"`
	TargetName string `json:"target_name,omitempty"`
	SiteName   string `json:"site_name,omitempty"`
	// LeftSeconds is the working (or elapsed) time until the deadline when
	// the board was read, negative when overdue; set by boards only.
	LeftSeconds *int64 `json:"left_seconds,omitempty"`
}

// Open reports whether the cycle's clock may still run.
func (c *Cycle) Open() bool { return c.State == StateRunning || c.State == StatePaused }

// Event is one entry of a subject's SLA timeline.
type Event struct {
	ID      int64           `json:"id"`
	CycleID int64           `json:"cycle_id"`
	Subject string          `json:"subject"`
	Metric  string          `json:"metric"`
	Kind    string          `json:"kind"`
	Step    *int            `json:"step,omitempty"`
	At      time.Time       `json:"at"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// Notification is one message in the outbox.
type Notification struct {
	ID          int64           `json:"id"`
	RecipientID int64           `json:"recipient_id"`
	Kind        string          `json:"kind"`
	Subject     string          `json:"subject"`
	Payload     json.RawMessage `json:"payload"`
	CreatedAt   time.Time       `json:"created_at"`
	ReadAt      *time.Time      `json:"read_at"`
}
