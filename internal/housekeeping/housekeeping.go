// Package housekeeping is the hotel's 客房部/管家部: rooms by floor and type,
// the room state as independent dimensions with the familiar codes derived
// from them (state.go), every change an event so the board can be shown for
// any past instant, the live board, the day's work and its assignment, the
// attendant's flow on a phone with the supervisor's inspection, DND as a
// timed workflow, damage handed to the process engine, and the clerk's
// ledgers.
package housekeeping

import (
	"context"
	"log/slog"
	"time"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/flow"
	"github.com/guanjia/guanjia/internal/jobs"
	"github.com/guanjia/guanjia/internal/live"
	"github.com/guanjia/guanjia/internal/timers"
)

// Clean types: what a room needs today.
const (
	CleanCheckout = "checkout" // 走客房: after a departure
	CleanStayover = "stayover" // 住客房: a guest stays on
	CleanTurndown = "turndown" // 夜床
	CleanDeep     = "deep"     // 计划卫生
)

// CleanTypes lists the clean types.
var CleanTypes = []string{CleanCheckout, CleanStayover, CleanTurndown, CleanDeep}

// Work states.
const (
	WorkOpen    = "open"
	WorkStarted = "started"
	WorkDone    = "done"
	WorkSkipped = "skipped" // DND or refused: not entered
)

// SiteSettings are a site's housekeeping rules.
type SiteSettings struct {
	SiteID             int64    `json:"site_id"`
	InspectionRequired bool     `json:"inspection_required"`
	DNDCallTimes       []string `json:"dnd_call_times"` // "12:00", "14:00"
	RollTime           string   `json:"roll_time"`      // "03:00"
	RoomsMin           int      `json:"rooms_min"`
	RoomsMax           int      `json:"rooms_max"`
	LostFoundDays      int      `json:"lost_found_days"`
	LastRollOn         string   `json:"last_roll_on"`
}

// DefaultSettings are the settings of a site that has none stored.
func DefaultSettings(siteID int64) SiteSettings {
	return SiteSettings{SiteID: siteID, InspectionRequired: true, DNDCallTimes: []string{"12:00", "14:00"}, RollTime: "03:00",
		RoomsMin: 12, RoomsMax: 16, LostFoundDays: 90}
}

// ChecklistStep is one step of a checklist. A standard step has an ID and no Text
// (its words come from the catalog, hk.step.ID); a hotel's own step has its
// own Text.
type ChecklistStep struct {
	ID   string `json:"id"`
	Text string `json:"text,omitempty"`
}

// RoomType is a kind of room with what cleaning it costs.
type RoomType struct {
	ID       int64  `json:"id"`
	SiteID   int64  `json:"site_id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	BedStyle string `json:"bed_style"` // western, chinese
	// Credits in tenths of a room, per clean type.
	Credits map[string]int `json:"credits"`
	// Minutes expected per clean type.
	Minutes    map[string]int  `json:"minutes"`
	Checklist  []ChecklistStep `json:"checklist"`
	Inspection []ChecklistStep `json:"inspection"`
}

// Room is a room with its state, what the state means and today's work.
type Room struct {
	ID       int64  `json:"id"`
	SiteID   int64  `json:"site_id"`
	FloorID  *int64 `json:"floor_id"`
	NodePath string `json:"-"`
	Floor    int    `json:"floor"`
	Number   string `json:"number"`
	TypeID   int64  `json:"type_id"`
	TypeCode string `json:"type_code"`
	State
	Derived
	DNDSince  *time.Time `json:"dnd_since,omitempty"`
	ServiceAt *time.Time `json:"service_at,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
	// Today's work on the room, when there is some.
	WorkID        int64  `json:"work_id,omitempty"`
	CleanType     string `json:"clean_type,omitempty"`
	WorkState     string `json:"work_state,omitempty"`
	AttendantID   int64  `json:"attendant_id,omitempty"`
	AttendantName string `json:"attendant_name,omitempty"`
}

// RoomEvent is one entry of a room's timeline, with the room's state after it.
type RoomEvent struct {
	ID        int64     `json:"id"`
	RoomID    int64     `json:"room_id"`
	At        time.Time `json:"at"`
	ActorID   *int64    `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	Kind      string    `json:"kind"`
	Dimension string    `json:"dimension,omitempty"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Note      string    `json:"note,omitempty"`
	RefID     *int64    `json:"ref_id,omitempty"`
	State     State     `json:"state"`
}

// Publisher pushes committed changes to open pages.
type Publisher interface {
	PublishAfter(ctx context.Context, evs ...live.Event)
}

// Timers is the part of the durable timer service housekeeping uses.
type Timers interface {
	Schedule(ctx context.Context, kind, subject string, at time.Time, payload any) (int64, error)
	CancelSubject(ctx context.Context, kind, subject string) error
	Handle(kind string, h timers.Handler)
}

// Engine is the part of the process engine that runs maintenance work:
// damage found in a room becomes a process instance. When the service desk
// provides cases, a case replaces the instance here and nothing else in
// this package changes.
type Engine interface {
	StartSystem(ctx context.Context, in flow.StartInput) (*flow.Started, error)
	DeploySystem(ctx context.Context, src []byte) (*flow.Definition, error)
	Latest(ctx context.Context, key string) (*flow.Definition, error)
	HandleJob(typ string, h flow.JobHandler)
}

// Deps are what the service is built on.
type Deps struct {
	DB     *db.DB
	Audit  *audit.Log
	Live   Publisher
	Timers Timers
	Flow   Engine
	Jobs   *jobs.Queue // nil: no periodic nightly roll (tests call Roll)
	Log    *slog.Logger
	// Desk opens repair cases on the service desk for damage found in a
	// room; nil: damage starts the small maintenance process instead.
	Desk Desk
}

// RepairRequest is damage handed to the service desk.
type RepairRequest struct {
	SiteID      int64
	Room        string // the room number
	Description string
}

// Desk is the service desk as housekeeping uses it: it opens a repair case
// in the caller's transaction and returns its id and number. When the case
// is completed, the desk calls CaseCompleted in that transaction.
type Desk interface {
	OpenRepair(ctx context.Context, r RepairRequest) (id int64, number string, err error)
}

// Service holds the rules of housekeeping.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	live   Publisher
	timers Timers
	flow   Engine
	desk   Desk
	log    *slog.Logger
	// Now is the clock; tests replace it. Every write runs at Now.
	Now func() time.Time
}

// New returns the service and registers its timer handlers, its process
// job handler and, with a job queue, the periodic nightly roll. Call it
// before the queue is built; call Setup once the database is migrated.
func New(d Deps) *Service {
	s := &Service{db: d.DB, audit: d.Audit, live: d.Live, timers: d.Timers, flow: d.Flow, desk: d.Desk, log: d.Log,
		Now: func() time.Time { return time.Now().UTC() }}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.timers != nil {
		s.timers.Handle(timerDNDCall, s.fireDNDCall)
		s.timers.Handle(timerDNDWelfare, s.fireDNDWelfare)
	}
	if s.flow != nil {
		s.flow.HandleJob(jobMaintenanceDone, s.maintenanceDone)
	}
	if d.Jobs != nil {
		s.registerJobs(d.Jobs)
	}
	return s
}

// Setup deploys the maintenance process when it is missing.
func (s *Service) Setup(ctx context.Context) error { return s.ensureProcess(ctx) }

// tx runs fn in a write transaction at the service's clock (joining the
// transaction already in ctx).
func (s *Service) tx(ctx context.Context, fn func(ctx context.Context, tx *db.Tx) error) error {
	return s.db.WithTxAt(ctx, s.Now(), fn)
}

// now is the instant of the transaction in ctx, else the service's clock.
func (s *Service) now(ctx context.Context) time.Time {
	if tx := db.TxFrom(ctx); tx != nil {
		return tx.Now
	}
	return s.Now().UTC().Truncate(time.Millisecond)
}
