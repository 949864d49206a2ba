// Package miwgwalk steers the walks that run the BPMN MIWG conformance
// models to completion: which files must run, which waiting thing to move
// next, which error to throw and which branch to take at each gateway so
// that, over all policies and plans, every element is visited. The
// in-memory walk of internal/flow/machine and the database walk of
// internal/flow share it, so the two cannot drift apart and still claim to
// be twins. It is for tests only; being internal keeps it out of the
// reach of production code outside internal/flow.
package miwgwalk

import (
	"sort"
	"testing"

	"github.com/guanjia/guanjia/internal/flow/expr"
	"github.com/guanjia/guanjia/internal/flow/model"
)

// Supported is the MIWG subset that must deploy and run to completion;
// every other file of the suite must be rejected.
var Supported = []string{"A.1.0", "A.2.0", "A.2.1", "A.4.0", "A.4.1", "C.1.1", "C.3.0", "C.7.0", "C.8.0", "C.8.1", "C.9.1"}

// vars makes each conditioned flow of the MIWG models true when the
// walker wants it; flows of gateways that variables cannot steer
// (unconditioned branches: the first always wins) are forced instead.
var vars = map[string]map[string]any{
	// C.1.1
	"invoiceApproved":     {"approved": true},
	"invoiceNotApproved":  {"approved": false},
	"reviewSuccessful":    {"clarified": "yes"},
	"reviewNotSuccessful": {"clarified": "no"},
	// C.8.0 and C.8.1
	"_2a5ee73c-c495-48a0-945b-3dabab28ca91": {"Vacation Approval": "Refused"},
	"_325973e7-0bc8-4136-b6df-be1e681d8608": {"Vacation Approval": "Approved"},
	"_0a1c4f20-509f-4aeb-baf9-acc762f4fdf9": {"Vacation Approval": "Manual Validation Required"},
	"_d3a575d8-cd41-4246-ad7a-7a068de6679f": {"Vacation Approval": "Refused"},
	"_f2b0da63-d841-4457-ad85-7d86c8b5c1d2": {"Vacation Approval": "Approved"},
}

// The walker's orders of preference among waiting things. Each order
// reaches paths the others miss: a timer boundary only fires when the
// walker prefers timers to the work it interrupts, and so on.
const (
	WorkFirst = iota
	TimersFirst
	MessagesFirst
	ErrorsFirst
	Policies // the number of policies, to loop over them
)

// Moves are the walker's ways of advancing an instance by one event. Each
// reports whether it found something to do; how it does it (through the
// machine or through the engine's services) is the walker's business.
type Moves struct {
	Work    func() bool // complete a user task or work a job
	Timer   func() bool // fire the earliest timer
	Message func() bool // correlate the first subscription
	Throw   func() bool // make a job with an error boundary raise a BPMN error
}

// Step performs one event, trying the moves in the policy's order of
// preference; false when nothing waits. Only ErrorsFirst throws, so that
// the other policies see the jobs complete normally.
func Step(policy int, m Moves) bool {
	order := map[int][]func() bool{
		WorkFirst:     {m.Work, m.Message, m.Timer},
		TimersFirst:   {m.Timer, m.Message, m.Work},
		MessagesFirst: {m.Message, m.Work, m.Timer},
		ErrorsFirst:   {m.Throw, m.Work, m.Message, m.Timer},
	}[policy]
	for _, try := range order {
		if try() {
			return true
		}
	}
	return false
}

// ErrorCode returns the code of a BPMN error that an error boundary of el
// catches, and false when el has no error boundary.
func ErrorCode(el *model.Element) (string, bool) {
	for _, b := range el.Boundaries {
		if b.Event == model.EventError {
			if b.ErrorCode == "" {
				return "ANY", true // a boundary without a code catches every error
			}
			return b.ErrorCode, true
		}
	}
	return "", false
}

// Steering chooses the branches of one run. Plan's base-3 digits pick the
// branch of each branching exclusive gateway, in the order of their ids;
// looping over plans 0 to 26 tries every combination of the first three.
type Steering struct {
	TB    testing.TB
	Model *model.Definition // the definition the run executes; Steer rewrites it
	Plan  int
	Taken map[string]bool // elements started in this run; the walker fills it

	radixes  map[string]int
	gateways []string
}

// Steer forces the preferred branch of every gateway variables cannot
// steer, by rewriting its conditions in the definition the run executes.
// A walker calls it before every event, since what is preferred changes
// as the run takes branches.
func (s *Steering) Steer() {
	yes, _ := expr.Compile("true")
	no, _ := expr.Compile("false")
	if s.gateways == nil {
		for _, id := range sortedIDs(s.Model) {
			if s.Model.Elements[id].Kind == model.KindExclusiveGateway {
				s.gateways = append(s.gateways, id)
			}
		}
	}
	for _, id := range s.gateways {
		g := s.Model.Elements[id]
		if len(g.Outgoing) < 2 || byVariables(g) {
			continue
		}
		want := s.preferred(g)
		for _, f := range g.Outgoing {
			if f == g.Default {
				continue
			}
			f.Condition = no
			if f == want {
				f.Condition = yes
			}
		}
	}
}

// VarsAfter returns the variables that make the preferred branch true at
// each steerable gateway right after el, to pass when el is started,
// completed or correlated. It fails the test when a preferred flow has no
// variables: a new supported file needs its entries in vars.
func (s *Steering) VarsAfter(el *model.Element) map[string]any {
	out := map[string]any{}
	seen := map[string]bool{}
	var queue []*model.Element
	for _, f := range el.Outgoing {
		queue = append(queue, f.Target)
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if g.Kind != model.KindExclusiveGateway || seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		if len(g.Outgoing) > 1 && byVariables(g) {
			f := s.preferred(g)
			v, ok := vars[f.ID]
			if !ok {
				s.TB.Helper()
				s.TB.Fatalf("no walker variables for flow %s of gateway %s", f.ID, g.ID)
			}
			for k, x := range v {
				out[k] = x
			}
		}
		for _, f := range g.Outgoing {
			queue = append(queue, f.Target)
		}
	}
	return out
}

// preferred is the branch the walker wants at a gateway: the plan's pick
// until it was taken in this run, then one not yet taken (so loops end).
func (s *Steering) preferred(g *model.Element) *model.SequenceFlow {
	pick := g.Outgoing[(s.Plan/s.radix(g))%len(g.Outgoing)]
	if !s.Taken[pick.TargetID] {
		return pick
	}
	for _, f := range g.Outgoing {
		if !s.Taken[f.TargetID] {
			return f
		}
	}
	return pick
}

// radix gives each branching gateway its digit of the plan number (base 3).
func (s *Steering) radix(g *model.Element) int {
	if s.radixes == nil {
		s.radixes = map[string]int{}
		r := 1
		for _, id := range sortedIDs(s.Model) {
			if el := s.Model.Elements[id]; el.Kind == model.KindExclusiveGateway && len(el.Outgoing) > 1 {
				s.radixes[id] = r
				r *= 3
			}
		}
	}
	return s.radixes[g.ID]
}

// byVariables reports whether the walker steers g by variables: all its
// branches carry real conditions (a gateway it rewrote stays forced).
func byVariables(g *model.Element) bool {
	for _, f := range g.Outgoing {
		if f.Condition != nil && f.Condition.Source != "true" && f.Condition.Source != "false" {
			return steerable(g)
		}
	}
	return false
}

// steerable reports whether variables alone can choose every branch.
func steerable(g *model.Element) bool {
	for _, f := range g.Outgoing {
		if f != g.Default && f.Condition == nil {
			return false
		}
	}
	return true
}

// sortedIDs lists the ids of def's elements in order, so that radixes and
// the order of forced gateways do not follow Go's map order.
func sortedIDs(def *model.Definition) []string {
	ids := make([]string, 0, len(def.Elements))
	for id := range def.Elements {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
