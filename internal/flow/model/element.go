package model

import "github.com/guanjia/guanjia/internal/flow/expr"

// Kind is the BPMN type of a flow node (its XML local name).
type Kind string

// The flow node kinds we execute.
const (
	KindStartEvent             Kind = "startEvent"
	KindEndEvent               Kind = "endEvent"
	KindTask                   Kind = "task" // abstract task: passes through like a manual task
	KindUserTask               Kind = "userTask"
	KindManualTask             Kind = "manualTask"
	KindServiceTask            Kind = "serviceTask"
	KindSendTask               Kind = "sendTask"
	KindReceiveTask            Kind = "receiveTask"
	KindBusinessRuleTask       Kind = "businessRuleTask"
	KindScriptTask             Kind = "scriptTask"
	KindExclusiveGateway       Kind = "exclusiveGateway"
	KindParallelGateway        Kind = "parallelGateway"
	KindSubProcess             Kind = "subProcess"
	KindIntermediateCatchEvent Kind = "intermediateCatchEvent"
	KindIntermediateThrowEvent Kind = "intermediateThrowEvent"
	KindBoundaryEvent          Kind = "boundaryEvent"
)

// EventKind is the event definition of an event.
type EventKind string

// The event definitions we execute.
const (
	EventNone      EventKind = ""
	EventMessage   EventKind = "message"
	EventTimer     EventKind = "timer"
	EventError     EventKind = "error"
	EventTerminate EventKind = "terminate"
)

// Element is a flow node. Only the fields relevant to its Kind are set.
type Element struct {
	ID, Name  string
	Kind      Kind
	Event     EventKind // for events
	ProcessID string
	Parent    *Element   // the enclosing sub-process; nil at process level
	Children  []*Element // a sub-process's flow nodes in document order
	Lane      string     // id of the lane the node is drawn in, if any

	Incoming []*SequenceFlow
	Outgoing []*SequenceFlow // in document order: exclusive gateways test them in this order
	Default  *SequenceFlow
	// DefaultID is the default flow as written; Resolve links it to Default.
	DefaultID string

	Boundaries     []*Element // boundary events attached to this activity
	AttachedTo     *Element   // for boundary events
	AttachedToID   string
	CancelActivity bool // for boundary events: interrupting

	Timer     *TimerSpec   // timer events
	Message   *MessageSpec // message events and receive tasks
	ErrorCode string       // error events; "" on a boundary catches every error
	ErrorName string

	Human *HumanTask // user tasks
	Job   *JobSpec   // service, send, script and business-rule tasks, message throw events

	MultiInstance *MultiInstance
	Documentation string
	// Business marks time values of this element as business time
	// (guanjia:calendar="business").
	Business bool
}

// IsActivity reports whether boundary events can be attached and the node
// can be a multi-instance.
func (e *Element) IsActivity() bool {
	switch e.Kind {
	case KindTask, KindUserTask, KindManualTask, KindServiceTask, KindSendTask,
		KindReceiveTask, KindBusinessRuleTask, KindScriptTask, KindSubProcess:
		return true
	}
	return false
}

// TypeName returns the element's BPMN type with the bpmn: prefix, as used in
// problems and history.
func (e *Element) TypeName() string { return "bpmn:" + string(e.Kind) }

// StartEvent returns the none start event of a sub-process, or nil.
func (e *Element) StartEvent() *Element {
	for _, c := range e.Children {
		if c.Kind == KindStartEvent && c.Event == EventNone {
			return c
		}
	}
	return nil
}

// MessageSpec is the message an event or receive task waits for or sends.
type MessageSpec struct {
	Name           string
	CorrelationKey *expr.Expr // evaluated when the subscription opens; nil = no key
	CorrelationRaw string
}

// JobSpec is work done outside the machine by a handler of Type.
type JobSpec struct {
	Type    string
	Headers map[string]string // vendor task headers and fields, for the handler
	Retries int               // 0 = the runtime's default
}

// MultiInstance describes a multi-instance activity.
type MultiInstance struct {
	Sequential          bool
	Cardinality         *expr.Expr // loopCardinality; nil when Collection is set
	Collection          *expr.Expr // the list to iterate; nil when Cardinality is set
	ElementVariable     string     // local name of the current item
	CompletionCondition *expr.Expr // nil = wait for all instances
}

// HumanTask holds what a user task shows and who may work on it.
type HumanTask struct {
	Assignee        Value
	CandidateUsers  []Value
	CandidateGroups []Value
	Due             *TimerSpec
	FollowUp        *TimerSpec
	Priority        Value // a number literal or an expression; empty = runtime default
	FormKey         string
	NextSteps       string // guanjia:nextSteps: shown to the customer
	Materials       string // guanjia:materials: what the customer should prepare
	FormFields      []FormField
}

// FormField is one field of a simple built-in form (guanjia:formField).
type FormField struct {
	ID       string
	Label    string
	Type     string // string, long, boolean, date or enum
	Required bool
	Values   []string // the choices of an enum
}

// FormFieldTypes are the accepted FormField.Type values.
var FormFieldTypes = map[string]bool{"string": true, "long": true, "boolean": true, "date": true, "enum": true}

// String returns the kind's BPMN local name.
func (k Kind) String() string { return string(k) }
