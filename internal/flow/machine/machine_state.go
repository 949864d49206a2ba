package machine

import "time"

// Status is where an instance stands.
type Status string

// The instance statuses; all but StatusActive are final.
const (
	StatusActive     Status = "active"
	StatusCompleted  Status = "completed"  // every token reached an end
	StatusTerminated Status = "terminated" // a terminate end event at process level
	StatusFailed     Status = "failed"     // an uncaught BPMN error
	StatusCancelled  Status = "cancelled"  // Cancel was called
)

// State is the whole persistent state of one instance. It round-trips
// through encoding/json losslessly: variables hold only JSON types (numbers
// are float64), times are UTC. The machine never modifies a State it is
// given; every event returns a new one sharing unchanged parts.
type State struct {
	DefinitionKey     string         `json:"def"`
	DefinitionVersion int            `json:"ver,omitempty"`
	ProcessID         string         `json:"proc"`
	Status            Status         `json:"status"`
	Reason            string         `json:"reason,omitempty"` // why it failed or was cancelled
	Vars              map[string]any `json:"vars"`
	Tokens            []*Token       `json:"tokens,omitempty"`
	Timers            []Timer        `json:"timers,omitempty"`
	Subs              []Subscription `json:"subs,omitempty"`
	NextID            int64          `json:"next"` // last id handed out; ids are unique per instance
}

// TokenKind says what a waiting token waits for.
type TokenKind string

// The token kinds.
const (
	TokenTask    TokenKind = "task"    // a user task; its id is the task id
	TokenJob     TokenKind = "job"     // a service-like task; its id is the job id
	TokenReceive TokenKind = "receive" // a receive task or message catch event
	TokenTimer   TokenKind = "timer"   // a timer catch event
	TokenScope   TokenKind = "scope"   // a sub-process instance; children point at it
	TokenBody    TokenKind = "body"    // a multi-instance body; instances point at it
	TokenJoin    TokenKind = "join"    // arrived at a parallel join, waiting for siblings
)

// Token is one waiting activity instance. Tokens in flight during an event
// are never persisted: an event runs until every token waits or ends.
type Token struct {
	ID      int64     `json:"id"`
	Element string    `json:"el"`
	Kind    TokenKind `json:"kind"`
	// Scope is the enclosing scope token: a sub-process instance or a
	// multi-instance body; 0 is the process itself.
	Scope int64  `json:"scope,omitempty"`
	Via   string `json:"via,omitempty"` // for joins: the flow it arrived by
	// Instance marks one instance of a multi-instance body; Loop is its
	// loopCounter (0-based).
	Instance bool           `json:"inst,omitempty"`
	Loop     int            `json:"loop,omitempty"`
	Locals   map[string]any `json:"locals,omitempty"` // never modified once set
	MI       *MIBody        `json:"mi,omitempty"`
}

// MIBody counts the instances of a multi-instance activity.
type MIBody struct {
	Total     int   `json:"n"`               // nrOfInstances
	Completed int   `json:"done"`            // nrOfCompletedInstances
	Active    int   `json:"active"`          // nrOfActiveInstances
	Next      int   `json:"next"`            // next loopCounter to start (sequential)
	Items     []any `json:"items,omitempty"` // the collection, snapshot at start
}

// Timer is a scheduled timer owned by a token: the catch event's own token,
// or the activity a boundary event is attached to.
type Timer struct {
	ID        int64     `json:"id"`
	Element   string    `json:"el"`
	Token     int64     `json:"tok"`
	At        time.Time `json:"at"`
	Cycle     string    `json:"cycle,omitempty"`     // the resolved cycle, to reschedule
	Remaining int       `json:"remaining,omitempty"` // firings left after this one; -1 unbounded
	Business  bool      `json:"business,omitempty"`
}

// Subscription is an open wait for a message.
type Subscription struct {
	ID      int64  `json:"id"`
	Element string `json:"el"`
	Token   int64  `json:"tok"`
	Message string `json:"msg"`
	Key     string `json:"key,omitempty"` // evaluated correlation key
}

// clone returns a copy that may be changed without touching s. Variables
// and locals are shared values that are only ever replaced, never mutated.
func (s *State) clone() *State {
	c := *s
	c.Vars = make(map[string]any, len(s.Vars)+4)
	for k, v := range s.Vars {
		c.Vars[k] = v
	}
	c.Tokens = make([]*Token, len(s.Tokens), len(s.Tokens)+4)
	for i, t := range s.Tokens {
		tc := *t
		if t.MI != nil {
			mi := *t.MI
			tc.MI = &mi
		}
		c.Tokens[i] = &tc
	}
	c.Timers = append([]Timer(nil), s.Timers...)
	c.Subs = append([]Subscription(nil), s.Subs...)
	return &c
}

// Token returns the waiting token with the id, or nil.
func (s *State) Token(id int64) *Token {
	for _, t := range s.Tokens {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (s *State) removeToken(id int64) {
	for i, t := range s.Tokens {
		if t.ID == id {
			s.Tokens = append(s.Tokens[:i:i], s.Tokens[i+1:]...)
			return
		}
	}
}

func (s *State) newID() int64 {
	s.NextID++
	return s.NextID
}
