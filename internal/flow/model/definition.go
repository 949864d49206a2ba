// Package model is the executable form of a process definition, shared by
// the BPMN and YAML parsers and the execution machine. A Definition is built
// once at deploy, validated, and then only read; it is safe for concurrent
// use by any number of instances.
package model

import (
	"github.com/guanjia/guanjia/internal/flow/expr"
)

// Definition is one deployable unit: a BPMN file or a YAML form.
type Definition struct {
	Key     string // stable identity across versions (the BPMN process id or YAML key)
	Name    string
	Version int // set by the store at deploy; 0 until then

	Processes []*Process
	Elements  map[string]*Element      // every flow node of every process, by id
	Flows     map[string]*SequenceFlow // every sequence flow, by id
	Display   Display
}

// Process is one executable process (a pool) of a definition.
type Process struct {
	ID         string
	Name       string
	Executable bool       // isExecutable as written; informative only
	Elements   []*Element // the top-level flow nodes in document order
}

// Display keeps what we show but never execute.
type Display struct {
	Source []byte // the original XML (collaboration, message flows, data objects, DI ...)
	Lanes  []Lane
}

// Lane is a swimlane and the flow nodes drawn in it.
type Lane struct {
	ID, Name   string
	ProcessID  string
	ElementIDs []string
}

// SequenceFlow connects two flow nodes of the same scope.
type SequenceFlow struct {
	ID, Name         string
	SourceID         string
	TargetID         string
	Source, Target   *Element
	ConditionText    string     // the condition as written; "" when none
	Condition        *expr.Expr // compiled; nil when unconditioned
	IsDefault        bool       // the source's default flow
	ProcessID        string
	documentPosition int
}

// Process returns the process with the given id, or nil when there is none.
func (d *Definition) Process(id string) *Process {
	for _, p := range d.Processes {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// DefaultProcess returns the process an instance starts in when the caller
// names none: the first executable process with a start event, else the
// first process with a start event. It returns nil for an empty definition.
func (d *Definition) DefaultProcess() *Process {
	var fallback *Process
	for _, p := range d.Processes {
		if len(p.StartEvents()) == 0 {
			continue
		}
		if p.Executable {
			return p
		}
		if fallback == nil {
			fallback = p
		}
	}
	return fallback
}

// StartEvents returns the top-level start events of the process in document
// order.
func (p *Process) StartEvents() []*Element {
	return startEvents(p.Elements)
}

// DefaultStart returns the none start event, else the first start event, or
// nil when the process has none.
func (p *Process) DefaultStart() *Element {
	return defaultStart(p.Elements)
}

func startEvents(els []*Element) []*Element {
	var out []*Element
	for _, e := range els {
		if e.Kind == KindStartEvent {
			out = append(out, e)
		}
	}
	return out
}

func defaultStart(els []*Element) *Element {
	starts := startEvents(els)
	for _, s := range starts {
		if s.Event == EventNone {
			return s
		}
	}
	if len(starts) > 0 {
		return starts[0]
	}
	return nil
}
