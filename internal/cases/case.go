// Package cases is the service desk: 报事报修, 投诉, 咨询, 建议 and 表扬 as
// cases that belong to households and units, run a process on the engine,
// keep SLA clocks, notify the people involved and end with a return visit.
// The butler is the single point of contact; every action is checked
// against the case's state, and a wrong one is refused with the allowed ones.
package cases

import (
	"encoding/json"
	"time"
)

// Case types.
const (
	TypeRepair     = "repair"
	TypeComplaint  = "complaint"
	TypeInquiry    = "inquiry"
	TypeSuggestion = "suggestion"
	TypePraise     = "praise"
)

// Types lists the case types.
var Types = []string{TypeRepair, TypeComplaint, TypeInquiry, TypeSuggestion, TypePraise}

// Priorities lists the priorities.
var Priorities = []string{"normal", "urgent"}

// numberPrefix gives each type its number prefix: BX-20261127-0001.
var numberPrefix = map[string]string{TypeRepair: "BX", TypeComplaint: "TS", TypeInquiry: "ZX", TypeSuggestion: "JY", TypePraise: "BY"}

// processKey is the process each type runs (a site may deploy its own
// version of the key, or "<key>_<site id>" to replace it for one site).
var processKey = map[string]string{TypeRepair: "case_repair", TypeComplaint: "case_complaint", TypeInquiry: "case_simple", TypeSuggestion: "case_simple", TypePraise: "case_simple"}

// States.
const (
	StateNew          = "new"
	StateAcknowledged = "acknowledged"
	StateDispatched   = "dispatched"
	StateAccepted     = "accepted"
	StateOnSite       = "on_site"
	StateCompleted    = "completed"
	StateClosed       = "closed"
)

// States lists the states in their usual order.
var States = []string{StateNew, StateAcknowledged, StateDispatched, StateAccepted, StateOnSite, StateCompleted, StateClosed}

// Actions.
const (
	ActAcknowledge = "acknowledge"
	ActDispatch    = "dispatch"
	ActClaim       = "claim"
	ActReturn      = "return"
	ActArrive      = "arrive"
	ActPause       = "pause"
	ActResume      = "resume"
	ActComplete    = "complete"
	ActVisit       = "visit"
	ActReopen      = "reopen"
	ActClose       = "close"
	ActRemind      = "remind"
)

// Actions lists every action.
var Actions = []string{ActAcknowledge, ActDispatch, ActClaim, ActReturn, ActArrive, ActPause, ActResume, ActComplete, ActVisit, ActReopen, ActClose, ActRemind}

// allowed is THE table of which action may happen in which state. A paused
// case allows only resume (and reminders); see Allowed.
var allowed = map[string][]string{
	StateNew:          {ActAcknowledge, ActDispatch, ActClose, ActRemind},
	StateAcknowledged: {ActDispatch, ActClose, ActRemind},
	StateDispatched:   {ActClaim, ActDispatch, ActReturn, ActPause, ActRemind},
	StateAccepted:     {ActArrive, ActPause, ActComplete, ActDispatch, ActReturn, ActRemind},
	StateOnSite:       {ActPause, ActComplete, ActRemind},
	StateCompleted:    {ActVisit, ActReopen, ActClose},
	StateClosed:       {},
}

// Allowed returns the actions a case in state (paused or not) accepts.
func Allowed(state string, paused bool) []string {
	if paused {
		return []string{ActResume, ActRemind}
	}
	return allowed[state]
}

func isAllowed(state string, paused bool, act string) bool {
	for _, a := range Allowed(state, paused) {
		if a == act {
			return true
		}
	}
	return false
}

// Case is a service request.
type Case struct {
	ID             int64      `json:"id"`
	Number         string     `json:"number"`
	Type           string     `json:"type"`
	CategoryID     *int64     `json:"category_id"`
	CategoryName   string     `json:"category_name,omitempty"`
	SiteID         int64      `json:"site_id"`
	UnitID         *int64     `json:"unit_id"`
	UnitNumber     string     `json:"unit_number,omitempty"`
	HouseholdID    *int64     `json:"household_id"`
	ButlerID       *int64     `json:"butler_id"`
	ButlerName     string     `json:"butler_name,omitempty"`
	Area           string     `json:"area"`
	Priority       string     `json:"priority"`
	Source         string     `json:"source"`
	Description    string     `json:"description"`
	ContactName    string     `json:"contact_name,omitempty"`
	ContactPhone   string     `json:"contact_phone,omitempty"` // masked
	PreferredTime  string     `json:"preferred_time,omitempty"`
	State          string     `json:"state"`
	Paused         bool       `json:"paused"`
	PauseReason    string     `json:"pause_reason,omitempty"`
	AssigneeID     *int64     `json:"assignee_id"`
	AssigneeName   string     `json:"assignee_name,omitempty"`
	DepartmentID   *int64     `json:"department_id"`
	InstanceID     *int64     `json:"instance_id"`
	Reopened       int        `json:"reopened"`
	Materials      string     `json:"materials,omitempty"`
	LabourMinutes  int        `json:"labour_minutes"`
	Satisfaction   *int       `json:"satisfaction"`
	CreatedAt      time.Time  `json:"created_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	DispatchedAt   *time.Time `json:"dispatched_at"`
	AcceptedAt     *time.Time `json:"accepted_at"`
	ArrivedAt      *time.Time `json:"arrived_at"`
	CompletedAt    *time.Time `json:"completed_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	DueAt          *time.Time `json:"due_at"`
	Overdue        bool       `json:"overdue"`
	Allowed        []string   `json:"allowed_actions"`
	NodePath       string     `json:"-"`
}

// Event is one line of a case's timeline.
type Event struct {
	At        time.Time       `json:"at"`
	Source    string          `json:"source"` // case, process, sla
	Kind      string          `json:"kind"`
	ActorName string          `json:"actor_name,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// File is a photo or document attached to a case.
type File struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	BlobKey     string    `json:"blob_key"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

// Visit is a return visit (回访).
type Visit struct {
	Method    string    `json:"method"`
	Speed     int       `json:"speed"`
	Quality   int       `json:"quality"`
	Attitude  int       `json:"attitude"`
	Comment   string    `json:"comment"`
	Happy     bool      `json:"happy"`
	CreatedAt time.Time `json:"created_at"`
}

// Category is a kind of request at a site, routed to a department.
type Category struct {
	ID             int64  `json:"id"`
	SiteID         int64  `json:"site_id"`
	ParentID       *int64 `json:"parent_id"`
	Code           string `json:"code"`
	Name           string `json:"name"`
	DepartmentKind string `json:"department_kind"`
	NeedsSignature bool   `json:"needs_signature"`
}
