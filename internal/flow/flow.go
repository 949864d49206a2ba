// Package flow is the process engine's runtime: it deploys definitions,
// starts instances and drives them through the pure machine
// (internal/flow/machine), persisting each step — the new state, task rows,
// timers, subscriptions, jobs and history — in one transaction. It knows
// nothing of property management; cases, housekeeping and the portal use it
// through this Go API.
package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/calendar"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/flow/model"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/timers"
)

// Job is a service-like task handed to a Go handler.
type Job struct {
	InstanceID  int64
	JobID       int64
	ElementID   string
	Type        string
	Headers     map[string]string
	Variables   map[string]any
	BusinessKey string
}

// JobHandler runs a service task outside the instance's transaction (it may
// call other systems) and returns variables to set. Return a *BPMNError to
// raise a BPMN error caught by an error boundary; any other error is retried
// by the job queue and finally raised as an incident.
type JobHandler func(ctx context.Context, j Job) (map[string]any, error)

// BPMNError is a business error thrown by a job handler.
type BPMNError struct {
	Code    string
	Message string
}

func (e *BPMNError) Error() string { return "bpmn error " + e.Code + ": " + e.Message }

// CalendarSource returns the business calendar of an org subtree (the
// instance's site). Nil results fall back to the built-in cn-workday.
type CalendarSource func(ctx context.Context, nodePath string) (*calendar.Calendar, error)

// Listener hears about changes after they commit (live inboxes, SSE).
type Listener func(ev ChangeEvent)

// ChangeEvent says what changed.
type ChangeEvent struct {
	Kind       string // task.created, task.updated, task.completed, instance.ended
	InstanceID int64
	TaskID     int64
	AssigneeID int64
	NodePath   string
}

// Engine is the process runtime.
type Engine struct {
	db        *db.DB
	jobs      *jobs.Queue
	timers    *timers.Service
	audit     *audit.Log
	log       *slog.Logger
	calendars CalendarSource

	mu        sync.RWMutex
	handlers  map[string]JobHandler
	listeners []Listener
	defs      map[int64]*Definition // immutable once deployed
}

// New returns an engine and registers its job and timer handlers.
func New(d *db.DB, q *jobs.Queue, t *timers.Service, log *audit.Log, logger *slog.Logger) *Engine {
	e := &Engine{db: d, jobs: q, timers: t, audit: log, log: logger, handlers: map[string]JobHandler{}, defs: map[int64]*Definition{}}
	jobs.Register(q, &jobWorker{e: e})
	t.Handle(timerKind, e.fireTimer)
	return e
}

// SetCalendars sets where business calendars come from.
func (e *Engine) SetCalendars(c CalendarSource) { e.calendars = c }

// HandleJob registers the handler of a service-task type. Deploying a
// definition with a type nobody handles fails.
func (e *Engine) HandleJob(typ string, h JobHandler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.handlers[typ] = h
}

// Listen adds a listener for committed changes.
func (e *Engine) Listen(l Listener) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.listeners = append(e.listeners, l)
}

func (e *Engine) knownJobType(typ string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, ok := e.handlers[typ]
	return ok
}

func (e *Engine) emit(tx *db.Tx, evs []ChangeEvent) {
	if len(evs) == 0 {
		return
	}
	e.mu.RLock()
	ls := e.listeners
	e.mu.RUnlock()
	if len(ls) == 0 {
		return
	}
	tx.AfterCommit(func() {
		for _, ev := range evs {
			for _, l := range ls {
				l(ev)
			}
		}
	})
}

// Definition is a deployed process definition version.
type Definition struct {
	ID         int64     `json:"id"`
	Key        string    `json:"key"`
	Version    int       `json:"version"`
	Name       string    `json:"name"`
	Format     string    `json:"format"`
	NodePath   string    `json:"-"`
	DeployedAt time.Time `json:"deployed_at"`
	DeployedBy *int64    `json:"deployed_by"`
	// Instances counts instances by state (filled by ListDefinitions).
	Instances map[string]int    `json:"instances,omitempty"`
	Source    string            `json:"-"`
	Model     *model.Definition `json:"-"`
}

// Instance is a process instance.
type Instance struct {
	ID            int64          `json:"id"`
	DefinitionID  int64          `json:"definition_id"`
	DefinitionKey string         `json:"definition_key"`
	Version       int            `json:"version"`
	BusinessKey   string         `json:"business_key"`
	SiteID        *int64         `json:"site_id"`
	CustomerRef   string         `json:"customer_ref"`
	State         string         `json:"state"`
	Reason        string         `json:"reason,omitempty"`
	StartedAt     time.Time      `json:"started_at"`
	EndedAt       *time.Time     `json:"ended_at"`
	Variables     map[string]any `json:"variables,omitempty"`
	NodePath      string         `json:"-"`
}

// Task is a human task.
type Task struct {
	ID              int64      `json:"id"`
	InstanceID      int64      `json:"instance_id"`
	ElementID       string     `json:"element_id"`
	Name            string     `json:"name"`
	DefinitionKey   string     `json:"definition_key"`
	BusinessKey     string     `json:"business_key"`
	State           string     `json:"state"`
	AssigneeID      *int64     `json:"assignee_id"`
	AssigneeName    string     `json:"assignee_name,omitempty"`
	OwnerID         *int64     `json:"owner_id"`
	CandidateGroups []string   `json:"candidate_groups"`
	CandidateUsers  []string   `json:"candidate_users"`
	DueAt           *time.Time `json:"due_at"`
	FollowUpAt      *time.Time `json:"follow_up_at"`
	Priority        int        `json:"priority"`
	FormKey         string     `json:"form_key,omitempty"`
	Overdue         bool       `json:"overdue"`
	Reminders       int        `json:"reminders"`
	CreatedAt       time.Time  `json:"created_at"`
	ClaimedAt       *time.Time `json:"claimed_at"`
	CompletedAt     *time.Time `json:"completed_at"`
	DispatchedBy    *int64     `json:"dispatched_by"`
	DispatchedAt    *time.Time `json:"dispatched_at"`
	NodePath        string     `json:"-"`
}

// HistoryEvent is one line of an instance's timeline.
type HistoryEvent struct {
	ID        int64           `json:"id"`
	At        time.Time       `json:"at"`
	Kind      string          `json:"kind"`
	ElementID string          `json:"element_id,omitempty"`
	TaskID    *int64          `json:"task_id,omitempty"`
	ActorID   *int64          `json:"actor_id,omitempty"`
	ActorName string          `json:"actor_name,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("flow: marshal %T: %v", v, err)) // our own plain types always marshal
	}
	return string(b)
}
